"""Lesson 5: iterate a Rust set in place, and see what happens when it changes."""

from target.debug.borrowed import HashSet

numbers = HashSet([3, 1, 2])
print(numbers)
print("sum:", sum(numbers))

walk = iter(numbers)
print("first value is in the set:", next(walk) in numbers)
numbers.add(1)
print("after adding 1 again, left:", walk.__length_hint__())
numbers.add(4)
try:
    next(walk)
except RuntimeError as error:
    print("after adding 4:", error)

print("has -1:", -1 in numbers)
try:
    numbers.add(-1)
except OverflowError as error:
    print("add(-1):", error)
