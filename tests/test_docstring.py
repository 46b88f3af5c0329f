"""Lesson 1: a module whose only content is its docstring."""

from target.debug import docstring


def test_run_prints_the_docstring(run_lesson):
    assert run_lesson("docstring") == "This module is implemented in Rust.\n"


def test_module_docstring_is_set_by_rust():
    assert docstring.__doc__ == "This module is implemented in Rust."


def test_module_name_matches_the_initializer():
    assert docstring.__name__ == "target.debug.docstring"


def test_module_has_nothing_but_the_standard_attributes():
    assert sorted(name for name in dir(docstring) if not name.startswith("__")) == []
