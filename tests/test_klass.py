"""Lesson 3: a Python class defined in Rust with `py_class!`."""

import pytest
from conftest import extraction_note, per_binding
from target.debug.klass import Class

from target.debug import klass

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "klass.Class(value)",
    "klass.Class(name=value)",
    "klass.Class().greet(value)",
    "klass.Class().greet(name=value, extra=value)",
    "klass.Class.greet(value, 'Smith')",
    "klass.Class.__new__(value)",
    "setattr(klass.Class(), 'name', value)",
]


def test_run_prints_the_greeting(run_lesson):
    assert run_lesson("klass") == "Hello, Smith!\n"


def test_class_greets_by_name():
    assert Class().greet("Smith") == "Hello, Smith!"


def test_method_accepts_its_keyword():
    assert Class().greet(name="Smith") == "Hello, Smith!"


def test_class_is_a_real_type():
    instance = Class()
    assert isinstance(instance, Class)
    assert type(instance) is Class
    assert Class.__name__ == "Class"
    # The module's import name: rust-cpython takes it by itself; the twin
    # sets it at import, over `#[pyclass(module = "klass")]` (lesson 12).
    assert Class.__module__ == "target.debug.klass"
    assert Class.__doc__ == per_binding(None, "")


def test_module_holds_only_the_class():
    assert klass.__doc__ == per_binding(None, "")
    assert [name for name in dir(klass) if not name.startswith("__")] == ["Class"]


def test_instances_are_distinct():
    assert Class() is not Class()


def test_class_takes_no_constructor_arguments():
    message = per_binding(
        r"^Class\.__new__\(\)\(\) takes at most 0 arguments \(1 given\)$",
        r"^Class\.__new__\(\) takes 0 positional arguments but 1 was given$",
    )
    with pytest.raises(TypeError, match=message):
        Class("Smith")


def test_class_rejects_constructor_keywords():
    message = per_binding(
        r"^Class\.__new__\(\)\(\) takes at most 0 arguments \(1 given\)$",
        r"^Class\.__new__\(\) got an unexpected keyword argument 'name'$",
    )
    with pytest.raises(TypeError, match=message):
        Class(name="Smith")


@pytest.mark.parametrize("argument", [None, 5, 1.5, b"Smith"])
def test_greet_rejects_non_str(argument):
    message = per_binding(
        "^Expected type that converts to PyString but received ",
        " is not an instance of 'str'" + extraction_note("name") + "$",
    )
    with pytest.raises(TypeError, match=message):
        Class().greet(argument)


def test_greet_rejects_lone_surrogate():
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        Class().greet("\ud800")


def test_greet_with_wrong_keyword_reports_name_as_missing():
    message = per_binding(
        r"^Required argument \('name'\) \(pos 1\) not found$",
        r"^Class\.greet\(\) got an unexpected keyword argument 'nam'$",
    )
    with pytest.raises(TypeError, match=message):
        Class().greet(nam="Smith")


def test_greet_without_instance_is_a_type_error():
    with pytest.raises(TypeError):
        Class.greet("Smith")


def test_instances_reject_new_attributes():
    # py_class! types have no __dict__: state lives in declared data fields.
    with pytest.raises(AttributeError):
        Class().name = "Smith"
