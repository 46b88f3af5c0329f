"""Lesson 3: create an instance of a Rust class and call its method."""

from target.debug.klass import Class

klass = Class()

print(klass.greet("Smith"))
