"""Lesson 4: use a Rust HashSet<u32> through its Python wrapper."""

from target.debug.wrapper import HashSet

numbers = HashSet()
numbers.add(1)
print("has 0:", 0 in numbers)
print("has 1:", 1 in numbers)
numbers.add(2)
for number in numbers:
    print("found", number)
print(len(numbers))
