"""mypy accepts this file: it uses `borrowed` as its stub describes it."""

from collections.abc import Iterator

from borrowed import HashSet


def total(numbers: HashSet) -> int:
    return sum(numbers)


numbers = HashSet()
numbers.add(3)
walk: Iterator[int] = iter(numbers)
print(total(numbers), 3 in numbers, len(numbers), next(walk))
