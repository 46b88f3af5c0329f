"""Lesson 1: a module whose only content is its docstring."""

from target.debug import docstring

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "setattr(docstring, '__doc__', value)",
    "getattr(docstring, value)",
    "docstring.__dict__.get(value)",
]


def test_run_prints_the_docstring(run_lesson):
    assert run_lesson("docstring") == "This module is implemented in Rust.\n"


def test_module_docstring_is_set_by_rust():
    assert docstring.__doc__ == "This module is implemented in Rust."


def test_module_name_matches_the_initializer():
    assert docstring.__name__ == "target.debug.docstring"


def test_module_has_nothing_but_the_standard_attributes():
    assert sorted(name for name in dir(docstring) if not name.startswith("__")) == []
