"""Lesson 2: a Rust function made callable with `py_fn!`."""

import inspect

import pytest
from conftest import PYO3, extraction_note, per_binding
from target.debug.function import greet

from target.debug import function

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "function.greet(value)",
    "function.greet(name=value)",
    "function.greet(value, value)",
    "function.greet(nam=value)",
    "function.greet(**{str(type(value)): value})",
    "function.greet(*[value] * 3)",
]


def test_run_prints_the_greeting(run_lesson):
    assert run_lesson("function") == "Hello, Smith!\n"


def test_greet_formats_the_name():
    assert greet("Smith") == "Hello, Smith!"


def test_greet_accepts_the_keyword_named_in_py_fn():
    assert greet(string="Smith") == "Hello, Smith!"


def test_the_rust_parameter_name_is_not_a_keyword():
    # `fn greet(_: Python, name: String)`: Python never sees `name`. (In the
    # PyO3 twin the Rust parameter is called `string`.)
    message = per_binding(
        r"^Required argument \('string'\) \(pos 1\) not found$",
        r"^greet\(\) got an unexpected keyword argument 'name'$",
    )
    with pytest.raises(TypeError, match=message):
        greet(name="Smith")


def test_greet_keeps_non_ascii_text():
    assert greet("Zoë 世界 🦀") == "Hello, Zoë 世界 🦀!"


def test_greet_accepts_an_empty_name():
    assert greet("") == "Hello, !"


def test_greet_returns_a_new_str():
    assert type(greet("x")) is str


def test_module_exposes_greet_as_builtin_function():
    assert function.greet.__name__ == "greet"
    assert type(function.greet).__name__ == "builtin_function_or_method"


def test_greet_has_a_signature_only_in_pyo3():
    """PyO3 gives its functions a `__text_signature__`, so `inspect` (and
    `help()`) can show the parameters; rust-cpython's have none."""
    assert greet.__doc__ is None
    if PYO3:
        assert str(inspect.signature(greet)) == "(string)"
    else:
        with pytest.raises(ValueError, match="^no signature found for builtin"):
            inspect.signature(greet)


def test_module_has_no_docstring_like_the_article():
    assert function.__doc__ == per_binding(None, "")


@pytest.mark.parametrize(
    ("argument", "type_name"),
    [(None, "NoneType"), (5, "int"), (1.5, "float"), (b"Smith", "bytes"), (["Smith"], "list")],
)
def test_greet_rejects_non_str_with_type_error(argument, type_name):
    with pytest.raises(TypeError) as excinfo:
        greet(argument)
    assert str(excinfo.value) == per_binding(
        "Expected type that converts to PyString but received " + type_name,
        ("'None'" if argument is None else f"'{type_name}' object") + " is not an instance of 'str'",
    )
    # PyO3 says which argument it was converting, in a note.
    notes = getattr(excinfo.value, "__notes__", None)
    assert notes == (["while processing 'string'"] if extraction_note("string") else None)


@pytest.mark.parametrize("text", ["\ud800", "Smith\udfff", "\udc80abc"])
def test_greet_rejects_lone_surrogates_with_unicode_error(text):
    # A Rust `String` is valid UTF-8; a lone surrogate cannot be encoded.
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        greet(text)


def test_greet_without_arguments_names_the_missing_one():
    message = per_binding(
        r"^Required argument \('string'\) \(pos 1\) not found$",
        r"^greet\(\) missing 1 required positional argument: 'string'$",
    )
    with pytest.raises(TypeError, match=message):
        greet()


def test_greet_with_a_wrong_keyword_reports_string_as_missing():
    # A quirk of rust-cpython's argument parser: the unknown keyword is not
    # named; the message only says that `string` was not given. PyO3 names it.
    message = per_binding(
        r"^Required argument \('string'\) \(pos 1\) not found$",
        r"^greet\(\) got an unexpected keyword argument 'strng'$",
    )
    with pytest.raises(TypeError, match=message):
        greet(strng="Smith")


def test_greet_with_an_extra_keyword_counts_arguments():
    message = per_binding(
        r"^greet\(\) takes at most 1 argument \(2 given\)$", r"^greet\(\) got an unexpected keyword argument 'bogus'$"
    )
    with pytest.raises(TypeError, match=message):
        greet("Smith", bogus=1)


def test_greet_with_two_positionals_is_a_type_error():
    message = per_binding(
        r"^greet\(\) takes at most 1 argument \(2 given\)$",
        r"^greet\(\) takes 1 positional arguments but 2 were given$",
    )
    with pytest.raises(TypeError, match=message):
        greet("Smith", "Jones")
