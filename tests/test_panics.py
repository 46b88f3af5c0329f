"""Lesson 7: a panic becomes an exception; a caller's mistake gets the
exception Python would raise; and the module refuses a sub-interpreter
where rust-cpython would hang."""

import importlib.util
import subprocess
import sys
import textwrap

import pytest
from conftest import PYO3, per_binding, run_child, run_python

from target.debug import panics

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "panics.first(value)",
    "panics.first([value])",
    "panics.first([1, value])",
    "panics.first(values=value)",
    "panics.first(value, value)",
    "panics.panic_in_rust(value)",
    "panics.panic_in_rust(message=value)",
]


def test_run_shows_an_index_error_and_a_panic_that_python_survives():
    result = run_python("-m", "panics.run")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "first([3, 1]): 3\n"
        "IndexError: first() of an empty list\n"
        "panic_in_rust: the panic came back as an exception\n"
        "and the interpreter goes on\n"
    )
    # Rust's panic hook reports the panic on standard error.
    assert "panicked at" in result.stderr
    assert "something broke" in result.stderr


@pytest.mark.parametrize("values", [[5], [5, 1], (7, 8), range(3, 9)], ids=repr)
def test_first_is_the_first_item_like_indexing(values):
    assert panics.first(values) == values[0]


def test_first_of_nothing_is_an_index_error_not_a_panic():
    with pytest.raises(IndexError, match=r"^first\(\) of an empty list$"):
        panics.first([])
    with pytest.raises(IndexError):
        [][0]


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ([1, "x"], TypeError, "'str' object cannot be interpreted as an integer"),
        ([2**70], OverflowError, "Python int too large to convert to C long"),
        (
            None,
            TypeError,
            per_binding(
                "Expected type that converts to PySequence but received NoneType",
                "'None' is not an instance of 'Sequence'",
            ),
        ),
        (
            "ab",
            TypeError,
            per_binding("'str' object cannot be interpreted as an integer", "Can't extract `str` to `Vec`"),
        ),
    ],
    ids=["str-item", "huge-int", "None", "str"],
)
def test_first_refuses_what_is_not_a_list_of_ints(values, error, message):
    with pytest.raises(error) as raised:
        panics.first(values)
    assert str(raised.value).split("\n")[0] == message


def test_a_rust_panic_becomes_system_error():
    """PyO3 raises its own `PanicException` instead, which derives from
    `BaseException`: `except Exception` does not catch it."""
    with pytest.raises(BaseException, match="something broke") as excinfo:
        panics.panic_in_rust("something broke")
    caught = excinfo.value
    if PYO3:
        assert (type(caught).__module__, type(caught).__name__) == ("pyo3_runtime", "PanicException")
        assert type(caught).__bases__ == (BaseException,)
        assert str(caught) == "something broke"
    else:
        assert type(caught) is SystemError
        assert str(caught) == "Rust panic: something broke"
    # The interpreter goes on, and so does the module.
    assert panics.first([2, 1]) == 2


def test_a_panic_in_a_child_leaves_the_interpreter_running():
    result = run_child(
        "from target.debug import panics\n"
        "try:\n    panics.panic_in_rust('x')\nexcept BaseException as error:\n"
        "    print('caught:', type(error).__name__, error)\n"
        "print('still here')\n"
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout
        == per_binding("caught: SystemError Rust panic: x\n", "caught: PanicException x\n") + "still here\n"
    )


# Sub-interpreters (mod_wsgi runs applications in them by default)

IN_A_SUB_INTERPRETER = textwrap.dedent(
    """
    import sys
    import textwrap
    import _xxsubinterpreters as interpreters

    module, kind = sys.argv[1], sys.argv[2]
    if kind == "isolated":
        interpreter = interpreters.create(isolated=True)
    elif sys.version_info >= (3, 12):
        interpreter = interpreters.create(isolated=False)
    else:
        interpreter = interpreters.create()  # shares the GIL, as mod_wsgi's do
    code = f'''
    import sys
    sys.path[:0] = {sys.path[:2]!r}
    from binding_switch import select_binding
    select_binding()
    try:
        from target.debug import {module} as lesson
    except ImportError as error:
        print("ImportError:", error)
    else:
        if hasattr(lesson, "HashSet"):
            numbers = lesson.HashSet()
            numbers.add(2)
            print("works:", list(numbers))
        else:
            print("works:", [lesson.first([2])])
    '''
    interpreters.run_string(interpreter, textwrap.dedent(code))
    print("the main interpreter goes on")
    """
)

needs_sub_interpreters = pytest.mark.skipif(
    importlib.util.find_spec("_xxsubinterpreters") is None, reason="no _xxsubinterpreters in this Python"
)


def in_a_sub_interpreter(module, kind="shared"):
    """What importing and using `module` in a sub-interpreter prints, or
    "hangs" if it has not finished after ten seconds."""
    try:
        result = run_child(IN_A_SUB_INTERPRETER, module, kind, timeout=10)
    except subprocess.TimeoutExpired:
        return "hangs"
    assert result.returncode == 0, result.stderr
    return result.stdout


REFUSED = "ImportError: panics cannot be imported in a sub-interpreter: rust-cpython supports only the main one\n"
GOES_ON = "the main interpreter goes on\n"


@needs_sub_interpreters
def test_panics_refuses_a_sub_interpreter_where_rust_cpython_would_hang():
    # The PyO3 twin works there.
    expected = "works: [2]\n" if sys.version_info >= (3, 12) or PYO3 else REFUSED
    assert in_a_sub_interpreter("panics") == expected + GOES_ON


@needs_sub_interpreters
def test_a_lesson_in_a_sub_interpreter_behaves_as_the_readme_says():
    # Pinned so that a change shows: the known limit in the root README.
    # Up to 3.11 the thread waits for the GIL it holds; 3.12 binds each
    # thread's GIL state to the interpreter it runs, and rust-cpython works.
    # PyO3 keeps its own count of the GIL per thread, and works.
    expected = "works: [2]\n" + GOES_ON if sys.version_info >= (3, 12) or PYO3 else "hangs"
    assert in_a_sub_interpreter("borrowed") == expected


@needs_sub_interpreters
@pytest.mark.skipif(sys.version_info < (3, 12), reason="isolated sub-interpreters came with 3.12")
@pytest.mark.parametrize("module", ["borrowed", "panics"])
def test_an_isolated_sub_interpreter_refuses_every_lesson_module(module):
    # rust-cpython modules use single-phase initialisation, which 3.12 does
    # not allow in a sub-interpreter with a GIL of its own. The PyO3 twins
    # say they do not support it, and CPython names them by import name.
    name = per_binding(module, f"target.debug.{module}")
    expected = f"ImportError: module {name} does not support loading in subinterpreters\n"
    assert in_a_sub_interpreter(module, "isolated") == expected + GOES_ON
