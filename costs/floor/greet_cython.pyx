# Lesson 11's floor in Cython: lesson 2's `greet` as a Cython user writes it.
# scripts/floor.py builds it. (`not None`: Cython lets None through a `str`
# parameter otherwise.)


def greet(str string not None):
    return f"Hello, {string}!"
