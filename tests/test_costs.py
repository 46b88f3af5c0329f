"""Lesson 11: lesson 2's `greet` step by step; every step returns what lesson 2 returns."""

import inspect
import sys

import pytest
from conftest import (
    PYO3,
    UNDER_VALGRIND,
    binding_independent,
    build_changed_lesson,
    describe_exit,
    once_per_run,
    run_python,
)
from hypothesis import given
from hypothesis import strategies as st

from floor import build_floor, cython_version
from target.debug import costs, function

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "costs.greet(value)",
    "costs.greet(string=value)",
    "costs.greet_borrowing(value)",
    "costs.greet_borrowing(string=value)",
    "costs.greet_borrowing(nam=value)",
    "costs.greet_borrowing(value, value)",
    "costs.greet_meth_o(value)",
    "costs.greet_meth_o(string=value)",
    "costs.greet_meth_o(value, value)",
    "costs.greet_in_place(value)",
    "costs.greet_in_place(string=value)",
    "costs.greet_in_place(*[value] * 3)",
    "costs.greet_in_place(**{str(type(value)): value})",
]

STEP_NAMES = ["greet", "greet_borrowing", "greet_meth_o", "greet_in_place"]
STEPS = [getattr(costs, name) for name in STEP_NAMES]
METH_O_STEPS = STEPS[2:]


class Name(str):
    """A str subclass: every step must return a plain str for it."""


# Text of every kind: ASCII (step 4's own path), Latin-1, the BMP and
# beyond, NUL, lone surrogates (which lesson 2 refuses) and big strings.
NAMES = [
    "",
    "Smith",
    "Zoë",
    "世界",
    "🦀",
    "a\x00b",
    "\x7f\x80",
    "\U0010ffff",
    "\ud800",
    "x\udfffy",
    "🦀\ud800",
    "x" * 1_000_000,
    "é" * 1_000_000,
    "🦀" * 100_000 + "\udc00",
    Name("Smith"),
    Name("Zoë"),
]

# Not a str: each step raises what lesson 2 raises.
NOT_NAMES = [None, 1, -1, 2**100, 1.5, b"Smith", bytearray(b"Smith"), ["Smith"], object(), str]

# Any text, lone surrogates included (Hypothesis leaves them out by default).
TEXT = st.lists(st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr))).map("".join)


def short_id(value):
    """A test id that stays readable for a million-character name."""
    text = f"Name({str.__repr__(value)})" if isinstance(value, Name) else repr(value)
    return text if len(text) <= 24 else f"{text[:12]}...({len(text)} long)"


def outcome(call, *args, **kwargs):
    """What a call returns (its type too), or what it raises, with message
    and notes: two calls agree exactly when their outcomes are equal."""
    try:
        result = call(*args, **kwargs)
    except Exception as error:
        return ("raises", type(error), str(error), getattr(error, "__notes__", None))
    return ("returns", type(result), result)


def meth_o_name(step):
    """How CPython names a `METH_O` step in its messages: with its
    module's name from Python 3.9 on, as for a C extension's functions."""
    return (f"{costs.__name__}." if sys.version_info >= (3, 9) else "") + step.__name__ + "()"


def test_run_shows_every_step_and_which_take_a_keyword(run_lesson):
    assert run_lesson("costs") == (
        "greet(...)             Hello, Smith! Hello, Zoë!\n"
        "greet_borrowing(...)   Hello, Smith! Hello, Zoë!\n"
        "greet_meth_o(...)      Hello, Smith! Hello, Zoë!\n"
        "greet_in_place(...)    Hello, Smith! Hello, Zoë!\n"
        "greet(string=...)             Hello, Smith!\n"
        "greet_borrowing(string=...)   Hello, Smith!\n"
        "greet_meth_o(string=...)      raises TypeError\n"
        "greet_in_place(string=...)    raises TypeError\n"
    )


@pytest.mark.parametrize("step", STEPS, ids=STEP_NAMES)
@pytest.mark.parametrize("name", NAMES + NOT_NAMES, ids=short_id)
def test_every_step_returns_or_raises_what_lesson_2_does(step, name):
    assert outcome(step, name) == outcome(function.greet, name)


@pytest.mark.parametrize("step", STEPS, ids=STEP_NAMES)
@given(name=TEXT)
def test_every_step_agrees_with_lesson_2_on_any_text(step, name):
    assert outcome(step, name) == outcome(function.greet, name)


def test_a_lone_surrogate_is_refused_by_every_step_as_lesson_2_refuses_it():
    for step in STEPS:
        with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
            step("x\ud800")


@pytest.mark.parametrize("step", STEPS, ids=STEP_NAMES)
def test_a_str_subclass_gets_a_plain_str_back(step):
    result = step(Name("Zoë"))
    assert (type(result), result) == (str, "Hello, Zoë!")


def as_lesson_2_says_it(step, call_outcome):
    """`call_outcome` with lesson 2's function name where `step`'s is."""
    name = f"{step.__name__}()"
    return tuple(part.replace(name, "greet()") if isinstance(part, str) else part for part in call_outcome)


@pytest.mark.parametrize("step", STEPS[:2], ids=STEP_NAMES[:2])
def test_the_py_fn_steps_take_the_keyword_string(step):
    assert step(string="Smith") == "Hello, Smith!"
    for wrong in ({"name": "Smith"}, {"string": "Smith", "name": "Jones"}):
        assert as_lesson_2_says_it(step, outcome(step, **wrong)) == outcome(function.greet, **wrong)


@pytest.mark.parametrize("step", METH_O_STEPS, ids=STEP_NAMES[2:])
def test_a_meth_o_step_takes_no_keyword_at_all(step):
    for keywords in ({"string": "Smith"}, {"name": "Smith"}):
        message = f"{meth_o_name(step)} takes no keyword arguments"
        assert outcome(step, **keywords) == ("raises", TypeError, message, None)


@pytest.mark.parametrize("step", STEPS, ids=STEP_NAMES)
@pytest.mark.parametrize("args", [(), ("Smith", "Jones")], ids=["none", "two"])
def test_every_step_wants_exactly_one_argument(step, args):
    lesson_2 = outcome(function.greet, *args)
    if step in METH_O_STEPS:
        # CPython's own check, worded as for any METH_O function.
        message = f"{meth_o_name(step)} takes exactly one argument ({len(args)} given)"
        assert (outcome(step, *args), lesson_2[:2]) == (("raises", TypeError, message, None), ("raises", TypeError))
    else:
        assert as_lesson_2_says_it(step, outcome(step, *args)) == lesson_2


def test_each_step_is_a_builtin_function_with_its_name():
    for name, step in zip(STEP_NAMES, STEPS):
        assert (step.__name__, type(step).__name__) == (name, "builtin_function_or_method")
        assert step.__doc__ is None


def test_the_meth_o_steps_show_a_positional_only_signature():
    """Their `ml_doc` starts with a text signature: `inspect` and `help()`
    show that the one parameter is positional only."""
    for step in METH_O_STEPS:
        assert str(inspect.signature(step)) == "(string, /)"
    for step in STEPS[:2]:
        if PYO3:
            assert str(inspect.signature(step)) == "(string)"
        else:
            with pytest.raises(ValueError, match="^no signature found for builtin"):
                inspect.signature(step)


def test_the_meth_o_functions_belong_to_the_module_as_a_c_extension_s_do():
    for step in METH_O_STEPS:
        assert step.__self__ is costs
        assert step.__module__ == costs.__name__


# A million calls take seconds; under valgrind, hours.
CALLS = 1_000 if UNDER_VALGRIND else 1_000_000


@pytest.mark.parametrize("step", STEPS, ids=STEP_NAMES)
@pytest.mark.parametrize("text", ["Smith", "Zoë"], ids=["ascii", "latin-1"])
def test_a_million_calls_leave_reference_counts_and_memory_as_they_were(step, text):
    # Built at run time, so neither interned nor immortal: its count moves.
    name = "".join(list(text))
    step(name)  # the UTF-8 a str caches on first use is not a leak
    references, blocks = sys.getrefcount(name), sys.getallocatedblocks()
    for _ in range(CALLS):
        step(name)
    assert sys.getrefcount(name) == references
    assert sys.getallocatedblocks() - blocks < 100, "each call left an object behind"


@pytest.mark.parametrize("step", STEPS, ids=STEP_NAMES)
def test_failing_calls_leave_reference_counts_as_they_were(step):
    wrong, surrogate = object(), "".join(["x", "\ud800"])
    before = sys.getrefcount(wrong), sys.getrefcount(surrogate)
    for _ in range(CALLS // 10):
        for argument in (wrong, surrogate):
            # No pytest.raises: the last error it kept would hold the str.
            try:
                step(argument)
            except (TypeError, UnicodeEncodeError):
                pass
    del argument
    assert (sys.getrefcount(wrong), sys.getrefcount(surrogate)) == before


# The pitfall: a panic in a hand-written `extern "C"` function. Two changed
# copies of each binding's lesson: one that panics, for a name starting
# "panic", in its `py_fn!` step and its `METH_O` step, and one that also
# calls the body without catching the panic.
def panic_before(line, variable="name"):
    """A change that makes the code panic, just before `line`, for a name
    starting "panic"."""
    return (line, f'if {variable}.starts_with("panic") {{ panic!("no greeting for {{{variable}}}"); }}\n' + line)


# In each binding: its `py_fn!` (`#[pyfunction]`) step 2, and its step 3.
PANICS = {
    "cpython": [
        panic_before("    Ok(greeting(name))\n"),
        panic_before("        Ok(PyString::new(py, &greeting(&name))"),
    ],
    "pyo3": [
        panic_before("    greeting(string)\n", "string"),
        panic_before("        Ok(PyString::new(py, &greeting(name))"),
    ],
}
UNCAUGHT = ("panic::catch_unwind(AssertUnwindSafe(body))", "Ok::<_, Box<dyn std::any::Any + Send>>(body())")
PANIC_EXCEPTION = {"cpython": ("SystemError", "Rust panic: "), "pyo3": ("PanicException", "")}


def build_panicking_lesson(folder, python, binding, catch):
    changes = PANICS[binding] + ([] if catch else [UNCAUGHT])
    extra = ['python3-sys = "0.7.2"'] if binding == "cpython" else []
    build_changed_lesson(folder, python, "costs", binding, changes, extra)


RAISES_THE_PANIC = """
import costs
calls = [("greet_borrowing", "panic"), ("greet_meth_o", "panic")]
for name, argument in calls + [("greet_in_place", "panic\\xe9"), ("greet_in_place", "panic")]:
    try:
        print(name, ascii(getattr(costs, name)(argument)))
    except BaseException as error:
        print(name, type(error).__name__, ascii(str(error)))
"""


@binding_independent
@once_per_run
@pytest.mark.parametrize("binding", ["cpython", "pyo3"], ids=["rust-cpython", "pyo3"])
def test_a_panic_in_a_meth_o_step_raises_what_the_binding_raises(tmp_path, build_python, binding):
    build_panicking_lesson(tmp_path, build_python, binding, catch=True)
    result = run_python("-c", RAISES_THE_PANIC, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    name, prefix = PANIC_EXCEPTION[binding]
    assert result.stdout.splitlines() == [
        f"greet_borrowing {name} '{prefix}no greeting for panic'",
        f"greet_meth_o {name} '{prefix}no greeting for panic'",
        # Not ASCII: step 4 hands it to step 3.
        f"greet_in_place {name} '{prefix}no greeting for panic\\xe9'",
        # ASCII: step 4 never calls `greeting`.
        "greet_in_place 'Hello, panic!'",
    ]


@binding_independent
@once_per_run
@pytest.mark.parametrize("binding", ["cpython", "pyo3"], ids=["rust-cpython", "pyo3"])
def test_a_panic_that_reaches_c_aborts_the_interpreter(tmp_path, build_python, binding):
    build_panicking_lesson(tmp_path, build_python, binding, catch=False)
    result = run_python("-c", "import costs; costs.greet_meth_o('panic')", cwd=tmp_path)
    assert describe_exit(result.returncode) == "killed by SIGABRT", result.stderr
    assert "no greeting for panic" in result.stderr
    assert "fatal runtime error:" in result.stderr
    assert result.stderr.rstrip().endswith("aborting")
    # The `py_fn!` step still catches it.
    result = run_python("-c", "import costs; costs.greet_borrowing('panic')", cwd=tmp_path)
    assert PANIC_EXCEPTION[binding][0] in result.stderr.splitlines()[-1]


# In the twin's METH_O step, PyO3 does not know the thread is attached
# (`assume_attached`): a `Py` dropped there is released at its next call.
DROPS_A_PY = ("    c_result(py, || {\n", "    c_result(py, || {\n        drop(string.clone().unbind());\n")
DEFERRED = """
import sys, costs
name = "".join(["Sm", "ith"])
before = sys.getrefcount(name)
for _ in range(1000):
    costs.greet_meth_o(name)
during = sys.getrefcount(name) - before
costs.greet("x")
print(during, sys.getrefcount(name) - before)
"""


@binding_independent
@once_per_run
def test_a_py_dropped_under_assume_attached_waits_for_pyo3_s_next_call(tmp_path, build_python):
    build_changed_lesson(tmp_path, build_python, "costs", "pyo3", [DROPS_A_PY])
    result = run_python("-c", DEFERRED, cwd=tmp_path)
    assert result.stdout == "1000 0\n", result.stderr


# The floor scripts/bench.py measures the steps against: the same function
# in C and in Cython, which must return what lesson 2 returns.
@pytest.fixture(scope="module")
def floor(tmp_path_factory):
    folder = tmp_path_factory.mktemp("floor")
    built, missing = build_floor(folder)
    sys.path.insert(0, str(folder))
    try:
        yield {name: __import__(module) for name, module in built.items()}, missing, folder
    finally:
        sys.path.remove(str(folder))


def floor_module(floor, name):
    modules, missing, _folder = floor
    if name not in modules:
        pytest.skip(missing[name])
    return modules[name]


@binding_independent
@once_per_run
@given(name=TEXT)
def test_the_c_floor_returns_what_lesson_2_returns(floor, name):
    greet = floor_module(floor, "C").greet
    assert outcome(greet, name)[:3] == outcome(function.greet, name)[:3]


@binding_independent
@once_per_run
@given(name=TEXT)
def test_the_cython_floor_agrees_except_that_it_keeps_lone_surrogates(floor, name):
    greet = floor_module(floor, "Cython").greet
    if any(0xD800 <= ord(character) <= 0xDFFF for character in name):
        with pytest.raises(UnicodeEncodeError):
            function.greet(name)
        assert greet(name) == f"Hello, {name}!"
    else:
        assert greet(name) == function.greet(name)


@binding_independent
@once_per_run
def test_the_floors_refuse_what_is_not_a_str(floor):
    for name in ("C", "Cython"):
        greet = floor_module(floor, name).greet
        for wrong in (None, b"Smith", 1):
            with pytest.raises(TypeError):
                greet(wrong)


@binding_independent
@once_per_run
def test_cython_calls_its_greet_with_fastcall_and_joins_in_one_allocation(floor):
    """What the lesson says about the C that Cython generates."""
    greet = floor_module(floor, "Cython").greet
    assert type(greet).__name__ == "cython_function_or_method"
    generated = (floor[2] / "greet_cython.c").read_text(encoding="utf-8")
    assert "__Pyx_METH_FASTCALL|METH_KEYWORDS" in generated
    assert "__Pyx_PyUnicode_Join(" in generated
    assert cython_version() == "3.3.1"
