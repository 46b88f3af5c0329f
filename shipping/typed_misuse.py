"""mypy rejects this file: the stub says that `add` takes an int."""

from borrowed import HashSet

numbers = HashSet()
numbers.add("3")
