"""Lesson 5: the same as lesson 4, with an iterator that borrows the set."""

from target.debug.borrowed import HashSet

numbers = HashSet()
numbers.add(1)
print("has 0:", 0 in numbers)
print("has 1:", 1 in numbers)
numbers.add(2)
for number in numbers:
    print("found", number)
print(len(numbers))
