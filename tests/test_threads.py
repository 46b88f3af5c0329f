"""Lesson 8: CRC-32 in Rust with the GIL released, against zlib.crc32."""

import os
import sys
import textwrap
import threading
import zlib

import pytest
from conftest import (
    HYPOTHESIS_EXAMPLES,
    ROOT,
    UNDER_VALGRIND,
    binding_independent,
    build_lesson_alone,
    build_scratch_module,
    changed_source,
    describe_exit,
    extraction_note,
    measures_memory,
    once_per_run,
    per_binding,
    run_child,
    run_python,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from target.debug import threads

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "threads.crc32(value)",
    "threads.crc32(b'abc', value)",
    "threads.crc32(data=value)",
    "threads.crc32(b'abc', value=value)",
    "threads.crc32(value, value)",
    "threads.crc32(b'abc', **{str(type(value)): value})",
    "threads.crc32_holding_gil(value)",
    "threads.crc32_holding_gil(b'abc', value)",
]

CHECKSUMS = [threads.crc32, threads.crc32_holding_gil]
INVALID = "'{}' is an invalid keyword argument for this function"
# PyO3's argument errors, for a function called `{name}`.
MISSING = "{name}() missing 1 required positional argument: 'data'"
UNEXPECTED = "{{name}}() got an unexpected keyword argument '{}'"
TOO_MANY = "{name}() takes from 1 to 2 positional arguments but 3 were given"
TWICE = "{name}() got multiple values for argument 'data'"
both = pytest.mark.parametrize("checksum", CHECKSUMS, ids=lambda f: f.__name__)
EXAMPLES = HYPOTHESIS_EXAMPLES
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def test_run_prints_the_same_checksum_as_zlib(run_lesson):
    first, second = run_lesson("threads").splitlines()[:2]
    assert first.split(":")[1].strip() == second.split(":")[1].strip() == str(zlib.crc32(b"Hello, Smith!"))


# Empty and tiny inputs, and sizes around the blocks a SIMD implementation
# works in (16, 64 and 128 bytes at a time), where a tail is handled apart.
SIZES = sorted(
    {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33}
    | {b * k + d for b in (64, 128) for k in (1, 2, 3, 16) for d in (-1, 0, 1)}
)


@both
@pytest.mark.parametrize("size", SIZES)
def test_matches_zlib_at_block_boundaries(checksum, size):
    data = bytes((7 * i + 3) % 256 for i in range(size))
    assert checksum(data) == zlib.crc32(data)


@both
def test_matches_zlib_on_a_large_input(checksum):
    data = os.urandom(5 * 2**20 + 13)
    assert checksum(data) == zlib.crc32(data)


@both
@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.binary(max_size=4096), value=INT64)
def test_matches_zlib_on_random_input_and_starting_value(checksum, data, value):
    assert checksum(data, value) == zlib.crc32(data, value)


@both
@settings(max_examples=EXAMPLES // 10, deadline=None)
@given(parts=st.lists(st.binary(max_size=512), max_size=8))
def test_value_continues_a_checksum_like_zlib(checksum, parts):
    running = 0
    for part in parts:
        running = checksum(part, running)
    assert running == zlib.crc32(b"".join(parts))


@both
def test_keywords_are_accepted_where_zlib_takes_positions_only(checksum):
    assert checksum(data=b"abc", value=5) == zlib.crc32(b"abc", 5)
    with pytest.raises(TypeError, match="takes no keyword arguments"):
        zlib.crc32(data=b"abc")


@both
def test_a_bytes_subclass_is_bytes(checksum):
    class Payload(bytes):
        pass

    assert checksum(Payload(b"abc")) == zlib.crc32(b"abc")


MUTABLE_OR_NOT_BYTES = [
    (bytearray(b"abc"), "bytearray"),
    (memoryview(b"abc"), "memoryview"),
    ("abc", "str"),
    ("\ud800", "str"),
    (None, "NoneType"),
    (5, "int"),
    (2**100, "int"),
    ([97, 98, 99], "list"),
]


@both
@pytest.mark.parametrize(("data", "type_name"), MUTABLE_OR_NOT_BYTES, ids=lambda v: repr(v)[:20])
def test_anything_but_bytes_is_refused_naming_its_type(checksum, data, type_name):
    with pytest.raises(TypeError) as raised:
        checksum(data)
    assert str(raised.value) == per_binding(
        f"Expected type that converts to PyBytes but received {type_name}",
        ("'None'" if data is None else f"'{type_name}' object") + " is not an instance of 'bytes'",
    )


def test_zlib_accepts_the_buffers_the_lesson_refuses():
    """The deliberate difference: zlib reads any buffer, copying nothing."""
    assert zlib.crc32(bytearray(b"abc")) == zlib.crc32(memoryview(b"abc")) == zlib.crc32(b"abc")


@both
@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64, 10**400])
def test_a_value_beyond_64_bits_is_refused_where_zlib_masks_it(checksum, value):
    with pytest.raises(OverflowError, match="^Python int too large to convert to C long" + extraction_note("value")):
        checksum(b"abc", value)
    assert zlib.crc32(b"abc", value) == zlib.crc32(b"abc", value % 2**32)


@both
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "'NoneType' object cannot be interpreted as an integer"),
        (1.5, "'float' object cannot be interpreted as an integer"),
        ("\ud800", "'str' object cannot be interpreted as an integer"),
    ],
)
def test_a_value_that_is_not_an_int_is_a_type_error_as_in_zlib(checksum, value, message):
    with pytest.raises(TypeError) as raised:
        checksum(b"abc", value)
    assert str(raised.value) == message
    # zlib's own message changed over the versions ("an integer is required" before 3.10).
    with pytest.raises(TypeError):
        zlib.crc32(b"abc", value)


@both
@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, per_binding("Required argument ('data') (pos 1) not found", MISSING)),
        ((), {"dat": b"abc"}, per_binding("Required argument ('data') (pos 1) not found", UNEXPECTED.format("dat"))),
        (
            (b"abc",),
            {"valu": 1},
            per_binding("'valu' is an invalid keyword argument for this function", UNEXPECTED.format("valu")),
        ),
        ((b"abc", 1, 2), {}, per_binding("{name}() takes at most 2 arguments (3 given)", TOO_MANY)),
        ((b"abc",), {"data": b"abc"}, per_binding("Argument given by name ('data') and position (1)", TWICE)),
    ],
)
def test_wrong_arguments_are_named(checksum, args, kwargs, message):
    with pytest.raises(TypeError) as raised:
        checksum(*args, **kwargs)
    assert str(raised.value) == message.format(name=checksum.__name__)


@both
def test_many_threads_at_once_on_distinct_and_shared_bytes(checksum):
    shared = os.urandom(2**20)
    own = [os.urandom(2**16 + k) for k in range(8)]
    expected_shared, expected_own = zlib.crc32(shared), [zlib.crc32(data) for data in own]
    wrong = []

    def work(k):
        for _ in range(50):
            if checksum(shared) != expected_shared or checksum(own[k]) != expected_own[k]:
                wrong.append(k)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert wrong == []


LEAK_CHECK = textwrap.dedent(
    """
    import sys
    from target.debug import threads
    from workspace import resident_bytes

    data, value, wrong = bytes(range(256)) * 4, int(str(2**40)), bytearray(b"x")
    watched = [data, value, wrong]

    def cycle():
        threads.crc32(data, value)
        threads.crc32_holding_gil(data, value)
        for bad in ((wrong,), (data, wrong), (data, 2**70)):
            try:
                threads.crc32(*bad)
            except (TypeError, OverflowError):
                pass

    for _ in range(10_000):
        cycle()
    counts, before = [sys.getrefcount(thing) for thing in watched], resident_bytes()
    for _ in range(int(sys.argv[1])):
        cycle()
    print(resident_bytes() - before, counts == [sys.getrefcount(thing) for thing in watched])
    """
)


@measures_memory
def test_calls_leak_neither_memory_nor_references():
    cycles = int(os.environ.get("LESSONS_LEAK_CYCLES", "1000000")) // 4
    result = run_child(LEAK_CHECK, str(cycles))
    assert result.returncode == 0, describe_exit(result.returncode) + "\n" + result.stderr[-2000:]
    grown, same_counts = result.stdout.split()
    assert int(grown) < 2_000_000, f"resident memory grew by {grown} bytes over {cycles} cycles"
    assert same_counts == "True", "a call kept or dropped a reference to its argument"


# A second Python thread counts while the main thread makes each call. The
# switch interval is longer than the whole run, so the main thread gives up
# the GIL only when it waits or when Rust releases it; the counter sleeps(0)
# after each step, so it hands the GIL back as soon as it is asked for.
PROGRESS = textwrap.dedent(
    """
    import sys, threading, time
    from target.debug import threads

    sys.setswitchinterval(100)
    data = bytes(1 << 29)  # long enough calls for the counter to be scheduled
    count, stop = 0, False

    def counter():
        global count
        while not stop:
            count += 1
            time.sleep(0)

    helper = threading.Thread(target=counter)
    helper.start()
    steps = {"crc32": [], "crc32_holding_gil": []}
    for name in ["crc32_holding_gil", "crc32"] * 3:
        before = count
        getattr(threads, name)(data)
        steps[name].append(count - before)
    stop = True
    helper.join()
    print(steps)
    """
)


@pytest.mark.skipif(UNDER_VALGRIND, reason="valgrind runs one thread at a time, whoever holds the GIL")
def test_another_thread_runs_only_while_crc32_has_released_the_gil():
    result = run_child(PROGRESS, timeout=120)
    assert result.returncode == 0, describe_exit(result.returncode) + "\n" + result.stderr[-2000:]
    steps = eval(result.stdout)
    assert steps["crc32_holding_gil"] == [0, 0, 0], "the counter moved while the GIL was held"
    assert all(count > 0 for count in steps["crc32"]), f"the counter never moved during crc32: {steps}"


# A scratch copy of the lesson with two more functions that panic while the
# GIL is released: one in a bare `allow_threads`, one in the lesson's helper.
PANICS = """
fn panic_in_bare_allow_threads(py: Python) -> PyResult<u32> {
    Ok(py.allow_threads(|| -> u32 { panic!("checksum failed") }))
}

fn panic_in_lesson_helper(py: Python) -> PyResult<u32> {
    Ok(allow_threads_catching_panics(py, || -> u32 { panic!("checksum failed") }))
}
"""
CALL = """
import threads
try:
    threads.{function}()
except BaseException as error:
    print(f"{{type(error).__name__}}: {{error}}")
"""
REGISTER = """
    module.add(py, "panic_in_bare_allow_threads", py_fn!(py, panic_in_bare_allow_threads()))?;
    module.add(py, "panic_in_lesson_helper", py_fn!(py, panic_in_lesson_helper()))?;
"""


def build_changed_lesson(tmp_path, build_python, old, new, check=True):
    """Build a scratch copy of the lesson with `old` in its source made `new`."""
    source = (ROOT / "threads" / "src" / "lib.rs").read_text(encoding="utf-8")
    assert old in source
    return build_lesson_alone("threads", tmp_path, build_python, source.replace(old, new), check=check)


@binding_independent
@once_per_run
def test_a_panic_while_released_crashes_unless_the_helper_catches_it(tmp_path, build_python):
    opening = "py_module_initializer!(threads, |py, module| {\n"
    build_changed_lesson(tmp_path, build_python, opening, PANICS + opening + REGISTER)

    caught = run_python("-c", CALL.format(function="panic_in_lesson_helper"), cwd=tmp_path)
    assert (caught.returncode, caught.stdout) == (0, "SystemError: Rust panic: checksum failed\n"), caught.stderr

    crashed = run_python("-c", CALL.format(function="panic_in_bare_allow_threads"), cwd=tmp_path)
    assert crashed.returncode < 0, f"expected a crash, got {describe_exit(crashed.returncode)}: {crashed.stdout}"


@binding_independent
@once_per_run
def test_a_closure_that_uses_py_does_not_compile(tmp_path, build_python):
    """The lesson's "Try this": the `Send` bound keeps `py` out of the closure."""
    released = "allow_threads_catching_panics(py, || checksum(bytes, value))"
    broken = "allow_threads_catching_panics(py, || checksum(data.data(py), value))"
    build = build_changed_lesson(tmp_path, build_python, released, broken, check=False)
    assert build.returncode != 0
    assert "error[E0277]: `Rc<()>` cannot be shared between threads safely" in build.stderr
    assert "required for `&Python<'_>` to implement `Send`" in build.stderr


TWIN_PANIC = """
#[pyfunction]
fn panic_in_detach(py: Python<'_>) -> u32 {
    py.detach(|| -> u32 { panic!("checksum failed") })
}
"""


@binding_independent
@once_per_run
@pytest.mark.skipif(sys.version_info < (3, 9), reason="the PyO3 twins need Python 3.9 or newer")
def test_a_panic_in_pyo3s_detach_comes_back_with_the_gil(tmp_path, build_python):
    """What MIGRATING.md says: PyO3 takes the GIL back while the panic
    unwinds, so the same panic that crashes rust-cpython is an exception."""
    opening = "fn threads(module: &Bound<'_, PyModule>) -> PyResult<()> {\n"
    register = "    module.add_function(wrap_pyfunction!(panic_in_detach, module)?)?;\n"
    changes = [("#[pymodule]\n" + opening, TWIN_PANIC + "\n#[pymodule]\n" + opening + register)]
    source = changed_source("threads/pyo3/src/lib.rs", changes)
    build_scratch_module(tmp_path, build_python, "threads", source, "pyo3", extra=['crc32fast = "1.5"'])
    result = run_python("-c", CALL.format(function="panic_in_detach"), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "PanicException: checksum failed\n"), result.stderr
