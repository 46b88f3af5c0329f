"""Lesson 10: lines counted on Rust threads that take the GIL to call Python."""

import re
import subprocess
import sys
import textwrap
import threading

import pytest
from conftest import (
    HYPOTHESIS_EXAMPLES,
    UNDER_VALGRIND,
    binding_independent,
    build_changed_lesson,
    describe_exit,
    extraction_note,
    once_per_run,
    per_binding,
    run_child,
    run_python,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from target.debug import workers

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "workers.Counter(value)",
    "workers.Counter().count_lines(value, max)",
    "workers.Counter().count_lines([value], max)",
    "workers.Counter().count_lines([b'a\\n', value], max)",
    "workers.Counter().count_lines([b'a\\n'], value)",
    "workers.Counter().count_lines([b'a\\n'], lambda done, total: value)",
    "workers.Counter().count_lines([b'a\\n'] * 8, lambda done, total: value(), threads=4)",
    "workers.Counter().count_lines([b'a\\n'], max, value)",
    "workers.Counter().count_lines([b'a\\n'], max, threads=value)",
    "workers.Counter().count_lines(chunks=value, progress=value, threads=value)",
    "workers.Counter().count_lines([b'a\\n'], max, **{str(type(value)): value})",
    "workers.Counter().done(value)",
]

EXAMPLES = HYPOTHESIS_EXAMPLES


def ignore(done, total):
    pass


def test_run_counts_what_bytes_count_counts_and_stops_at_the_interrupt(run_lesson):
    lines = run_lesson("workers").splitlines()
    assert lines[0].split(":")[1].strip() == lines[1].split(":")[1].strip()
    assert lines[2:] == [
        "progress:    4000 calls, the last (4000, 4000)",
        "called on:   ['_DummyThread']",
        "done():      4000",
        "KeyboardInterrupt: stopped at 2000 of 4000",
        "stopped early: True",
    ]


@settings(max_examples=EXAMPLES // 10, deadline=None)
@given(chunks=st.lists(st.binary(max_size=300), max_size=40), threads=st.integers(1, 8))
def test_counts_are_what_bytes_count_gives(chunks, threads):
    counter = workers.Counter()
    assert counter.count_lines(chunks, ignore, threads) == [chunk.count(b"\n") for chunk in chunks]
    assert counter.done() == len(chunks)


def test_progress_hears_of_each_chunk_once_on_threads_python_did_not_start():
    calls, callers, kinds = [], set(), set()

    def progress(done, total):
        calls.append((done, total))
        # By thread id: from 3.13, each call from a thread Python did not
        # start may see a new stand-in object, as each gets a new thread state.
        callers.add(threading.get_ident())
        kinds.add(type(threading.current_thread()))

    chunks = [b"\n" * n for n in range(500)]
    workers.Counter().count_lines(chunks, progress, threads=4)
    assert sorted(calls) == [(done, 500) for done in range(1, 501)]
    assert threading.main_thread().ident not in callers
    assert 1 <= len(callers) <= 4
    assert kinds == {threading._DummyThread}


def test_a_bytes_subclass_is_bytes_and_nothing_else_is():
    class Payload(bytes):
        pass

    assert workers.Counter().count_lines([Payload(b"\n\n")], ignore) == [2]
    for chunk, name in ((bytearray(b"\n"), "bytearray"), (memoryview(b"\n"), "memoryview"), ("\n", "str")):
        expected = per_binding(
            f"Expected type that converts to PyBytes but received {name}",
            f"'{name}' object is not an instance of 'bytes'",
        )
        with pytest.raises(TypeError, match=re.escape(expected)):
            workers.Counter().count_lines([chunk], ignore)


def test_no_chunks_start_no_threads_and_call_nothing():
    assert workers.Counter().count_lines([], None) == []


@pytest.mark.parametrize("threads", [0, 65, 1000])
def test_threads_out_of_range_are_refused(threads):
    with pytest.raises(ValueError, match=f"^threads must be from 1 to 64, not {threads}$"):
        workers.Counter().count_lines([b"\n"], ignore, threads)


@pytest.mark.parametrize(
    ("threads", "message"), [(-1, "can't convert negative int to unsigned"), (2**64, "int too big to convert")]
)
def test_threads_beyond_a_usize_are_an_overflow(threads, message):
    with pytest.raises(OverflowError) as caught:
        workers.Counter().count_lines([b"\n"], ignore, threads)
    assert str(caught.value) == message
    assert "\n".join(["", *getattr(caught.value, "__notes__", [])]) == extraction_note("threads")


def test_more_threads_than_chunks_start_one_per_chunk():
    callers = set()
    workers.Counter().count_lines([b"\n"] * 3, lambda done, total: callers.add(threading.get_ident()), threads=64)
    assert 1 <= len(callers) <= 3


class Custom(BaseException):
    pass


@pytest.mark.parametrize(
    "raised",
    [ValueError("bad"), KeyboardInterrupt("stop"), SystemExit(2), Custom("mine")],
    ids=lambda error: type(error).__name__,
)
def test_an_exception_in_progress_stops_the_threads_and_reaches_the_caller_unchanged(raised):
    counter = workers.Counter()

    def failing_progress(done, total):
        if done == 10:
            raise raised

    chunks = [b"\n"] * 100_000
    with pytest.raises(type(raised)) as caught:
        counter.count_lines(chunks, failing_progress, threads=4)
    assert caught.value is raised
    assert any(entry.name == "failing_progress" for entry in caught.traceback)
    # The other threads stop soon after, each at its next chunk (how soon
    # depends on how soon the failing thread runs again).
    assert 10 <= counter.done() < len(chunks)


def test_when_several_threads_fail_one_of_their_errors_is_raised():
    raised = []

    def progress(done, total):
        error = ValueError(done)
        raised.append(error)
        raise error

    with pytest.raises(ValueError, match=r"^\d+$") as caught:
        workers.Counter().count_lines([b""] * 100, progress, threads=4)
    assert any(caught.value is error for error in raised)
    assert 1 <= len(raised) <= 4


def test_a_progress_that_is_not_callable_raises_from_the_thread_that_called_it():
    with pytest.raises(TypeError, match="'NoneType' object is not callable"):
        workers.Counter().count_lines([b"\n"], None)


def test_argument_errors():
    counter = workers.Counter()
    missing = per_binding(
        "Required argument ('progress') (pos 2) not found",
        "Counter.count_lines() missing 1 required positional argument: 'progress'",
    )
    with pytest.raises(TypeError, match=re.escape(missing)):
        counter.count_lines([b""])
    assert counter.count_lines(chunks=[b"\n"], progress=ignore, threads=1) == [1]


@pytest.mark.skipif(UNDER_VALGRIND, reason="many thread starts are slow under valgrind")
def test_no_reference_is_kept_or_lost():
    chunk, progress = b"a\nb\n", ignore
    before = (sys.getrefcount(chunk), sys.getrefcount(progress))
    counter = workers.Counter()
    for _ in range(200):
        counter.count_lines([chunk] * 50, progress, threads=2)
    assert (sys.getrefcount(chunk), sys.getrefcount(progress)) == before


# Python threads that count on one counter while another polls `done()`,
# and a progress callback that calls back into the counter: each in a
# child, with a timeout, since the failure this guards against is a hang.
TOGETHER = textwrap.dedent(
    """
    import threading
    {import_line}

    counter = workers.Counter()
    polls, stop = [], threading.Event()

    def poll():
        while not stop.is_set():
            polls.append(counter.done())

    def progress(done, total):
        assert counter.done() >= done

    def count():
        counter.count_lines([b"x\\n"] * 5_000, progress, threads=4)

    poller = threading.Thread(target=poll)
    poller.start()
    counting = [threading.Thread(target=count) for _ in range(4)]
    for thread in counting:
        thread.start()
    for thread in counting:
        thread.join()
    stop.set()
    poller.join()
    print(counter.done(), polls == sorted(polls), len(polls) > 0)
    """
)


def together(import_line="from target.debug import workers", cwd=None, timeout=120):
    code = TOGETHER.format(import_line=import_line)
    if cwd is None:
        return run_child(code, timeout=timeout)
    return run_python("-c", code, cwd=cwd, timeout=timeout)


def test_python_threads_count_and_poll_one_counter_at_once_without_deadlock():
    result = together()
    assert result.returncode == 0, f"{describe_exit(result.returncode)}: {result.stderr}"
    assert result.stdout == "20000 True True\n"


def test_progress_may_count_again_on_the_counter_it_reports_for():
    code = textwrap.dedent(
        """
        from target.debug import workers
        counter = workers.Counter()
        inner = []

        def progress(done, total):
            if done == 1:
                inner.append(counter.count_lines([b"\\n"] * 10, lambda done, total: None, threads=2))

        print(counter.count_lines([b""] * 5, progress, threads=2), inner, counter.done())
        """
    )
    result = run_child(code, timeout=60)
    assert result.returncode == 0, f"{describe_exit(result.returncode)}: {result.stderr}"
    assert result.stdout == f"[0, 0, 0, 0, 0] [{[1] * 10}] 15\n"


# The pitfall: the lock taken before the GIL on the counting threads,
# while `done()` takes it after.
LOCK_THEN_GIL = {
    "workers/src/lib.rs": [
        (
            """        let gil = Python::acquire_gil();
        let py = gil.python();
        let done = {
            let mut done = self.done.lock().unwrap();
            *done += 1;
            *done
        };
        self.callback.call(py, (done, total), None)?;""",
            """        let mut done = self.done.lock().unwrap();
        *done += 1;
        let gil = Python::acquire_gil();
        let py = gil.python();
        self.callback.call(py, (*done, total), None)?;""",
        )
    ],
    "workers/pyo3/src/lib.rs": [
        (
            """        Python::attach(|py| {
            let done = {
                let mut done = self.done.lock_py_attached(py).unwrap();
                *done += 1;
                *done
            };
            self.callback.call1(py, (done, total))?;
            Ok(())
        })""",
            """        let mut done = self.done.lock().unwrap();
        *done += 1;
        Python::attach(|py| {
            self.callback.call1(py, (*done, total))?;
            Ok(())
        })""",
        ),
        (
            "*self.chunks_done.lock_py_attached(py).unwrap()",
            "{\n        let _ = py;\n        *self.chunks_done.lock().unwrap()\n    }",
        ),
    ],
}
BINDINGS_OF = {"workers/src/lib.rs": "cpython", "workers/pyo3/src/lib.rs": "pyo3"}


@binding_independent
@once_per_run
@pytest.mark.parametrize("path", sorted(LOCK_THEN_GIL), ids=["rust-cpython", "pyo3"])
def test_the_lock_before_the_gil_deadlocks_with_a_poller(tmp_path, build_python, path):
    build_changed_lesson(tmp_path, build_python, "workers", BINDINGS_OF[path], LOCK_THEN_GIL[path])
    with pytest.raises(subprocess.TimeoutExpired):
        together("import workers", cwd=tmp_path, timeout=20)


@binding_independent
@once_per_run
def test_lock_py_attached_saves_a_poller_but_not_a_lock_held_across_python(tmp_path, build_python):
    """The twin's `done()` waits detached, so the pitfall's order no longer
    deadlocks with a thread that polls; a `progress` that calls `done()`
    while its own thread holds the lock still hangs."""
    worker_order_only = LOCK_THEN_GIL["workers/pyo3/src/lib.rs"][:1]
    build_changed_lesson(tmp_path, build_python, "workers", "pyo3", worker_order_only)
    polling_only = TOGETHER.format(import_line="import workers").replace("assert counter.done() >= done", "pass")
    result = run_python("-c", polling_only, cwd=tmp_path, timeout=60)
    assert (result.returncode, result.stdout) == (0, "20000 True True\n"), result.stderr
    with pytest.raises(subprocess.TimeoutExpired):
        together("import workers", cwd=tmp_path, timeout=20)
