"""Lesson 15: memory Python owns. Every result over a buffer is compared
with what the standard library computes over the same data (zlib, bytes,
sum, memoryview's errors); a datetime made through the capsule with
datetime.datetime(...); and the dangling slice, built on purpose, is
caught by valgrind and by gdb."""

import array
import datetime
import doctest
import mmap
import re
import shutil
import sys
import zlib
from pathlib import Path

import pytest
from conftest import (
    HYPOTHESIS_EXAMPLES,
    OUT_OF_RANGE,
    ROOT,
    UNDER_VALGRIND,
    binding_independent,
    once_per_run,
    per_binding,
    run_python,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from target.debug.buffers import (
    Reader,
    crc32,
    crc32_of_bytes,
    crc32_of_copy,
    is_datetime,
    make_datetime,
    sum_int64,
    xor,
)

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "buffers.crc32(value)",
    "buffers.crc32(data=value)",
    "buffers.crc32_of_bytes(value)",
    "buffers.crc32_of_copy(value)",
    "buffers.sum_int64(value)",
    "buffers.xor(value, 1)",
    "buffers.xor(bytearray(b'abc'), value)",
    "buffers.xor(data=value, key=value)",
    "buffers.Reader(value)",
    "buffers.Reader(b'abc').count(value)",
    "buffers.Reader.crc32(value)",
    "buffers.Reader.__len__(value)",
    "buffers.Reader.release(value)",
    "buffers.Reader(b'abc').__exit__(value, value, value)",
    "buffers.make_datetime(value, 1, 1)",
    "buffers.make_datetime(2026, value, 1)",
    "buffers.make_datetime(2026, 1, 1, microsecond=value)",
    "buffers.make_datetime(**{str(type(value)): value})",
    "buffers.is_datetime(value)",
]

DATA = b"the quick brown fox jumps over the lazy dog" * 3


def outcome(function, *args):
    """A call's value, or its exception as (type, message)."""
    try:
        return function(*args)
    except Exception as error:
        return (type(error), str(error))


def anonymous_map(data):
    mapped = mmap.mmap(-1, len(data))
    mapped.write(data)
    return mapped


# Every kind of exporter the lesson reads, each holding DATA (or a part).
EXPORTERS = {
    "bytes": lambda data: data,
    "bytearray": bytearray,
    "memoryview of bytes, a slice": lambda data: memoryview(data)[3:-3],
    "memoryview of a bytearray": lambda data: memoryview(bytearray(data)),
    "mmap": anonymous_map,
    "array of bytes": lambda data: array.array("B", data),
    "array of ints": lambda data: array.array("i", data[: len(data) // 4 * 4]),
    "two-dimensional memoryview": lambda data: memoryview(data[:120]).cast("B", [10, 12]),
    "empty bytes": lambda data: b"",
}


@pytest.mark.parametrize("kind", EXPORTERS)
def test_crc32_reads_every_kind_of_buffer_as_zlib_does(kind):
    exporter = EXPORTERS[kind](DATA)
    assert crc32(exporter) == zlib.crc32(exporter)
    assert crc32(data=exporter) == zlib.crc32(exporter)


# The exporters that can hold any data (an mmap cannot be empty; the
# two-dimensional view needs 120 bytes).
FOR_ANY_DATA = sorted(set(EXPORTERS) - {"mmap", "two-dimensional memoryview", "empty bytes"})


@settings(max_examples=HYPOTHESIS_EXAMPLES // 4, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from(FOR_ANY_DATA))
def test_crc32_equals_zlib_on_any_data(data, kind):
    exporter = EXPORTERS[kind](data)
    assert crc32(exporter) == zlib.crc32(exporter)
    assert crc32_of_copy(bytes(exporter)) == zlib.crc32(exporter)
    assert crc32_of_bytes(bytes(memoryview(exporter).cast("B"))) == zlib.crc32(exporter)


def test_a_buffer_that_is_not_contiguous_is_a_buffer_error_as_in_zlib():
    strided = memoryview(DATA)[::2]
    with pytest.raises(BufferError):
        zlib.crc32(strided)
    with pytest.raises(BufferError, match="^the buffer is not C-contiguous$"):
        crc32(strided)
    with pytest.raises(BufferError):
        Reader(strided)


@pytest.mark.parametrize("value", ["text", "\udc80", 5, None, [1, 2], 2**100])
def test_what_is_not_a_buffer_is_refused_with_zlibs_message(value):
    assert outcome(crc32, value) == outcome(zlib.crc32, value)
    assert outcome(Reader, value) == outcome(zlib.crc32, value)
    assert outcome(sum_int64, value) == outcome(zlib.crc32, value)


def test_crc32_of_bytes_takes_bytes_only():
    assert crc32_of_bytes(DATA) == zlib.crc32(DATA)
    message = per_binding(
        cpython="Expected type that converts to PyBytes but received bytearray",
        pyo3="'bytearray' object is not an instance of 'bytes'",
    )
    assert outcome(crc32_of_bytes, bytearray(DATA)) == (TypeError, message)


def test_crc32_of_copy_takes_any_sequence_of_small_ints():
    for data in (DATA, bytearray(DATA), memoryview(DATA), list(DATA), tuple(DATA)):
        assert crc32_of_copy(data) == zlib.crc32(DATA)
    assert outcome(crc32_of_copy, [1, 256])[0] is OverflowError
    assert outcome(crc32_of_copy, [1, -1])[0] is OverflowError
    assert outcome(crc32_of_copy, "text")[0] is TypeError


# sum_int64: a typed buffer, its format and item size checked.


@settings(max_examples=HYPOTHESIS_EXAMPLES // 4, deadline=None)
@given(st.lists(st.integers(-(2**40), 2**40), max_size=200))
def test_sum_int64_equals_sum(values):
    numbers = array.array("q", values)
    assert sum_int64(numbers) == sum(values)
    assert sum_int64(memoryview(numbers)) == sum(values)
    assert sum_int64(memoryview(numbers.tobytes()).cast("q")) == sum(values)


def test_sum_int64_takes_the_native_long_where_it_is_8_bytes():
    if array.array("l").itemsize != 8:
        pytest.skip("a C long is not 8 bytes here")
    assert sum_int64(array.array("l", [1, 2, 3])) == 6


@pytest.mark.parametrize(
    ("numbers", "format", "size"),
    [
        (array.array("i", [1]), "i", 4),
        (array.array("d", [1.0]), "d", 8),
        (array.array("Q", [1]), "Q", 8),
        (b"12345678", "B", 1),
    ],
)
def test_sum_int64_refuses_items_of_another_kind(numbers, format, size):
    expected = (
        f"sum_int64() needs a buffer of 8-byte signed integers (format 'q'), "
        f"not format '{format}' with {size}-byte items"
    )
    assert outcome(sum_int64, numbers) == (TypeError, expected)


def test_sum_int64_refuses_items_that_are_not_contiguous():
    strided = memoryview(array.array("q", range(10)))[::2]
    expected = (BufferError, "the buffer is not C-contiguous, or its items are not aligned")
    assert outcome(sum_int64, strided) == expected


def test_an_empty_buffer_sums_to_zero_but_is_still_checked():
    assert sum_int64(array.array("q")) == 0
    assert outcome(sum_int64, b"")[0] is TypeError
    assert outcome(sum_int64, array.array("i"))[0] is TypeError


def test_a_sum_beyond_64_bits_is_an_overflow_error_where_sum_would_go_on():
    values = [2**62, 2**62]
    assert outcome(sum_int64, array.array("q", values)) == (OverflowError, "the sum does not fit in 64 bits")
    assert sum(values) == 2**63  # the deliberate difference: Python's ints do not overflow
    assert sum_int64(array.array("q", [-(2**63), 2**63 - 1])) == -1


# xor: writing in place.


@settings(max_examples=HYPOTHESIS_EXAMPLES // 4, deadline=None)
@given(st.binary(max_size=1024), st.integers(0, 255))
def test_xor_changes_the_bytes_in_place_as_a_comprehension_says(data, key):
    target = bytearray(data)
    xor(target, key)
    assert target == bytes(byte ^ key for byte in data)
    xor(target, key)
    assert target == data


def test_xor_writes_through_every_writable_exporter():
    expected = bytes(byte ^ 7 for byte in DATA)
    for target in (bytearray(DATA), array.array("B", DATA), anonymous_map(DATA)):
        xor(target, 7)
        assert bytes(target) == expected
    whole = bytearray(DATA)
    xor(memoryview(whole)[4:8], 7)
    assert whole == DATA[:4] + expected[4:8] + DATA[8:]


@pytest.mark.parametrize("target", [DATA, memoryview(DATA)], ids=["bytes", "memoryview of bytes"])
def test_xor_refuses_memory_that_is_read_only(target):
    kind = type(target).__name__
    assert outcome(xor, target, 1) == (TypeError, f"xor() needs a writable buffer, not {kind}")


def test_xor_refuses_items_that_are_not_bytes_and_memory_that_is_not_contiguous():
    numbers = array.array("i", [1, 2])
    assert outcome(xor, numbers, 1) == (TypeError, "xor() needs a buffer of bytes (format 'B'), not format 'i'")
    assert numbers == array.array("i", [1, 2])
    whole = bytearray(DATA)
    assert outcome(xor, memoryview(whole)[::2], 1) == (BufferError, "the buffer is not C-contiguous")
    assert whole == DATA


TOO_LARGE = "Python int too large to convert to C long"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (256, per_binding(cpython="", pyo3=OUT_OF_RANGE)),
        (-1, per_binding(cpython="", pyo3=OUT_OF_RANGE)),
        (2**64, TOO_LARGE),
    ],
)
def test_xor_refuses_a_key_that_is_not_a_byte(key, message):
    target = bytearray(b"abc")
    assert outcome(xor, target, key) == (OverflowError, message)
    assert target == b"abc"
    assert outcome(xor, target, None)[0] is TypeError


# A buffer kept in a field: the export lock, and giving it back.


@pytest.mark.parametrize("kind", EXPORTERS)
def test_a_reader_answers_as_memoryview_and_bytes_do(kind):
    exporter = EXPORTERS[kind](DATA)
    reader, view = Reader(exporter), memoryview(exporter)
    assert len(reader) == view.nbytes
    assert reader.crc32() == zlib.crc32(view)
    for byte in (ord("o"), 0, 255):
        assert reader.count(byte) == view.tobytes().count(byte)
    reader.release()
    view.release()


def resize_refusal(target):
    """What resizing `target` raises, as (type, message)."""
    return outcome(target.extend, b"more")


def test_resizing_a_bytearray_a_reader_holds_is_refused_as_with_a_memoryview():
    data = bytearray(DATA)
    with memoryview(data):
        expected = resize_refusal(data)
    assert expected[0] is BufferError
    reader = Reader(data)
    assert resize_refusal(data) == expected
    reader.release()
    data.extend(b"more")
    assert data == DATA + b"more"


def test_a_reader_freed_gives_its_buffer_back():
    data = bytearray(DATA)
    reader = Reader(data)
    del reader
    data.extend(b"more")
    assert len(data) == len(DATA) + 4


def test_a_reader_as_a_context_manager_gives_its_buffer_back_as_memoryview_does():
    data = bytearray(DATA)
    with Reader(data) as reader:
        assert resize_refusal(data)[0] is BufferError
        assert reader.crc32() == zlib.crc32(DATA)
    data.extend(b"more")
    with memoryview(b"x") as view:
        pass
    expected = outcome(len, view)
    assert outcome(len, reader) == (expected[0], expected[1].replace("memoryview", "Reader"))
    for method in (reader.crc32, lambda: reader.count(1)):
        assert outcome(method) == (ValueError, "operation forbidden on released Reader object")
    reader.release()  # a second release does nothing, as memoryview's does


def test_closing_an_mmap_a_reader_holds_is_refused_as_with_a_memoryview():
    mapped = anonymous_map(DATA)
    with memoryview(mapped):
        expected = outcome(mapped.close)
    reader = Reader(mapped)
    assert outcome(mapped.close) == expected
    assert reader.crc32() == zlib.crc32(DATA)
    reader.release()
    mapped.close()
    assert mapped.closed


def test_a_reader_keeps_what_it_reads_alive():
    reader = Reader(bytearray(DATA))
    assert reader.crc32() == zlib.crc32(DATA)
    assert len(reader) == len(DATA)


def test_a_reader_raises_on_exit_nothing_of_its_own():
    data = bytearray(DATA)
    with pytest.raises(KeyError):
        with Reader(data):
            raise KeyError("inside")
    data.extend(b"!")


# The capsule: the datetime module's C API.


@settings(max_examples=HYPOTHESIS_EXAMPLES // 4, deadline=None)
@given(st.datetimes())
def test_a_datetime_made_through_the_capsule_equals_datetimes_own(moment):
    parts = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond)
    made = make_datetime(*parts)
    assert type(made) is datetime.datetime
    assert made == datetime.datetime(*parts)


def test_make_datetime_takes_the_same_keywords_and_defaults():
    assert make_datetime(2026, 12, 1) == datetime.datetime(2026, 12, 1)
    made = make_datetime(year=2026, month=12, day=1, hour=21, minute=14, second=5, microsecond=9)
    assert made == datetime.datetime(year=2026, month=12, day=1, hour=21, minute=14, second=5, microsecond=9)
    assert made.tzinfo is None
    assert outcome(make_datetime, 2026)[0] is TypeError
    assert outcome(lambda: make_datetime(2026, 1, 1, tzinfo=None))[0] is TypeError


@pytest.mark.parametrize(
    "parts",
    [
        (2026, 13, 1),
        (2026, 0, 1),
        (2026, 2, 29),
        (2024, 2, 30),
        (0, 1, 1),
        (10000, 1, 1),
        (2026, 1, 1, 24),
        (2026, 1, 1, 0, 60),
        (2026, 1, 1, 0, 0, 60),
        (2026, 1, 1, 0, 0, 0, 10**6),
        (2026, 1, 1, -1),
    ],
)
def test_an_impossible_datetime_is_refused_with_datetimes_own_message(parts):
    assert outcome(make_datetime, *parts) == outcome(datetime.datetime, *parts)


@pytest.mark.parametrize("year", [2**31, -(2**31) - 1, 2**100])
def test_a_year_beyond_a_c_int_is_an_overflow_error_as_in_datetime(year):
    assert outcome(datetime.datetime, year, 1, 1)[0] is OverflowError
    assert outcome(make_datetime, year, 1, 1)[0] is OverflowError


@pytest.mark.parametrize("value", [None, "2026", 2026.0, [2026]])
def test_make_datetime_refuses_what_is_not_an_int(value):
    assert outcome(make_datetime, value, 1, 1)[0] is TypeError


class Moment(datetime.datetime):
    pass


@pytest.mark.parametrize(
    "value",
    [
        datetime.datetime(2026, 12, 1),
        Moment(2026, 12, 1),
        datetime.date(2026, 12, 1),
        datetime.time(),
        "2026-12-01",
        None,
        datetime.datetime,
    ],
)
def test_is_datetime_answers_as_isinstance(value):
    assert is_datetime(value) is isinstance(value, datetime.datetime)


# The dangling slice, built on purpose (`--features dangling`, rust-cpython).

sys.path.insert(0, str(ROOT))
from buffers import stale  # noqa: E402

# Each runs the demonstration's own tools, under valgrind not again.
demonstration = pytest.mark.skipif(UNDER_VALGRIND, reason="runs its own valgrind and gdb")


@pytest.fixture(scope="module")
def dangling(build_python):
    return stale.build(build_python)


def shown_after(command):
    """The output the lesson's README shows for `command`, in the ```text
    block that starts with it."""
    text = (ROOT / "buffers" / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"^```text\n(.*?)^```$", text, re.S | re.M):
        if block.startswith(f"$ {command}\n"):
            return block.split("\n", 1)[1]
    raise AssertionError(f"buffers/README.md shows no output of `{command}`")


def assert_shown(command, lines):
    expected, actual = shown_after(command), "".join(line + "\n" for line in lines)
    assert doctest.OutputChecker().check_output(expected, actual, doctest.ELLIPSIS), (
        f"`{command}` printed:\n{actual}\nbut buffers/README.md shows:\n{expected}"
    )


@binding_independent
@once_per_run
@demonstration
def test_the_stale_view_may_pass_or_crash(dangling):
    """The small read returns wrong bytes and no error; the large one
    kills the process. Neither says where the bug is."""
    lines = stale.plain(dangling)
    assert_shown("python3 -m buffers.stale run", lines)
    small, large = lines
    assert "before: True after: False (exit code 0)" in small
    assert "(killed by SIGSEGV)" in large


@binding_independent
@once_per_run
@demonstration
@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind is not installed")
def test_valgrind_finds_the_read_of_freed_memory(dangling):
    lines = stale.memcheck(dangling)
    assert_shown("python3 -m buffers.stale valgrind", lines)
    assert lines[0].startswith("InvalidRead")
    assert "    buffers::dangling::StaleView::crc32" in lines


@binding_independent
@once_per_run
@demonstration
@pytest.mark.skipif(
    not shutil.which("gdb"), reason="gdb is not installed (scripts/test.py installs it with apt-get as root)"
)
@pytest.mark.skipif(
    not Path(str(stale.interpreter()) + "-gdb.py").is_file(),
    reason="this CPython has no python-gdb.py beside it, which py-bt needs",
)
def test_gdb_and_py_bt_show_the_python_line_that_crashed(dangling):
    lines = stale.debugger(dangling)
    assert_shown("python3 -m buffers.stale gdb", lines)
    assert lines[0].startswith("Program received signal SIGSEGV")
    assert any(line.lstrip().startswith('print("after:", view.crc32()') for line in lines)


class Exporting(bytes):
    """A subclass of bytes: read through the buffer protocol, as zlib reads it."""


def test_a_subclass_of_bytes_is_read_as_zlib_reads_it():
    data = Exporting(DATA)
    assert crc32(data) == zlib.crc32(data)


@binding_independent
def test_the_demonstration_refuses_a_bad_tool_in_one_line():
    result = run_python("-m", "buffers.stale", "bogus")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("python3 -m buffers.stale: error: argument tool: invalid choice: 'bogus'")


@binding_independent
@pytest.mark.parametrize(("tool", "missing"), [(stale.memcheck, "valgrind"), (stale.debugger, "gdb")])
def test_the_demonstration_says_which_tool_is_missing(monkeypatch, tmp_path, tool, missing):
    monkeypatch.setattr(stale.shutil, "which", lambda name: None)
    with pytest.raises(stale.StaleError, match=f"^{missing} is not installed"):
        tool(tmp_path)
