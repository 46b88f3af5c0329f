"""Lesson 5's set of u32, whose iterators borrow the Rust set."""

from .borrowed import HashSet, SetIterator

__all__ = ["HashSet", "SetIterator"]
