"""Lesson 2: call a Rust function from Python."""

from target.debug.function import greet

print(greet("Smith"))
