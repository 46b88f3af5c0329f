"""Lesson 3: create an instance of a Rust class and call its method."""

from target.debug.klass import Class

print(Class().greet("Smith"))
