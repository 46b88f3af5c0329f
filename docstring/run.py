"""Lesson 1: import the Rust module and print its docstring."""

from target.debug import docstring

print(docstring.__doc__)
