"""Lesson 9's exception, defined in Python as a code base's own exceptions are.

Python callers catch it as `calling.errors.LimitReached`; the Rust module
imports this file to raise it.
"""


class LimitReached(RuntimeError):
    """A fetch would have loaded more values than `settings.limit` allows.

    What it loaded before it stopped is in the store, and in the cache's
    `loaded()`."""

    def __init__(self, message, limit):
        super().__init__(message)
        self.limit = limit
