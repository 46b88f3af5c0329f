"""Lesson 6: what Python sees when a Rust extension meets bad input."""

from fractions import Fraction

from target.debug.errors import HashSet, OutOfRange

numbers = HashSet([3, 1, 2])
print(numbers)
print("Fraction(2) in numbers:", Fraction(2) in numbers)

for bad_call in (lambda: numbers.add(-1), lambda: numbers.add("1"), lambda: numbers.remove(7)):
    try:
        bad_call()
    except (OutOfRange, TypeError, KeyError) as error:
        print(f"{type(error).__name__}: {error}")

try:
    HashSet(capacity=2**60)
except MemoryError as error:
    print("MemoryError:", error)
print(numbers)
