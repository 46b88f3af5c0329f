"""Lesson 2: a Rust function made callable with `py_fn!`."""

import pytest
from target.debug.function import greet

from target.debug import function


def test_run_prints_the_greeting(run_lesson):
    assert run_lesson("function") == "Hello, Smith!\n"


def test_greet_formats_the_name():
    assert greet("Smith") == "Hello, Smith!"


def test_greet_accepts_the_keyword_named_in_py_fn():
    assert greet(string="Smith") == "Hello, Smith!"


def test_the_rust_parameter_name_is_not_a_keyword():
    # `fn greet(_: Python, name: String)`: Python never sees `name`.
    with pytest.raises(TypeError, match=r"^Required argument \('string'\) \(pos 1\) not found$"):
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


def test_module_has_no_docstring_like_the_article():
    assert function.__doc__ is None


@pytest.mark.parametrize(
    ("argument", "type_name"),
    [(None, "NoneType"), (5, "int"), (1.5, "float"), (b"Smith", "bytes"), (["Smith"], "list")],
)
def test_greet_rejects_non_str_with_type_error(argument, type_name):
    with pytest.raises(TypeError) as excinfo:
        greet(argument)
    assert str(excinfo.value) == "Expected type that converts to PyString but received " + type_name


@pytest.mark.parametrize("text", ["\ud800", "Smith\udfff", "\udc80abc"])
def test_greet_rejects_lone_surrogates_with_unicode_error(text):
    # A Rust `String` is valid UTF-8; a lone surrogate cannot be encoded.
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        greet(text)


def test_greet_without_arguments_names_the_missing_one():
    with pytest.raises(TypeError, match=r"^Required argument \('string'\) \(pos 1\) not found$"):
        greet()


def test_greet_with_a_wrong_keyword_reports_string_as_missing():
    # A quirk of rust-cpython's argument parser: the unknown keyword is not
    # named; the message only says that `string` was not given.
    with pytest.raises(TypeError, match=r"^Required argument \('string'\) \(pos 1\) not found$"):
        greet(strng="Smith")


def test_greet_with_an_extra_keyword_counts_arguments():
    with pytest.raises(TypeError, match=r"^greet\(\) takes at most 1 argument \(2 given\)$"):
        greet("Smith", bogus=1)


def test_greet_with_two_positionals_is_a_type_error():
    with pytest.raises(TypeError, match=r"^greet\(\) takes at most 1 argument \(2 given\)$"):
        greet("Smith", "Jones")
