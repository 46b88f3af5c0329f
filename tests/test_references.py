"""Lesson 14: Python objects held by Rust objects. Cycles through them,
collected or not; the garbage collector run at random points; a cursor
over another object's data; where an object that only Rust held dies; and
PyO3's `py-clone` feature, in a scratch build."""

import gc
import sys
import textwrap
import threading
import tracemalloc
import weakref

import pytest
from conftest import (
    HYPOTHESIS_EXAMPLES,
    ROOT,
    SCRATCH_DEPENDENCIES,
    UNDER_VALGRIND,
    binding_independent,
    build_changed_lesson,
    cargo_build_in,
    once_per_run,
    per_binding,
    run_child,
    run_python,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from target.debug.references import Cursor, Holder, Log, Signal, drop_on_thread

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "references.Holder(value)",
    "references.Holder(held=value).held",
    "references.Holder.held.__get__(value)",
    "references.Signal(value)",
    "references.Signal().connect(value)",
    "references.Signal().connect(callback=value)",
    "references.Signal.emit(value)",
    "references.Signal.__len__(value)",
    "references.Signal().emit(value, key=value)",
    "references.Signal().emit(**{str(type(value)): value})",
    "references.Log(value)",
    "references.Log().append(value)",
    "references.Log().append(line=value)",
    "references.Log.cursor(value)",
    "references.Cursor.read(value)",
    "references.Log().cursor().read(value)",
    "references.drop_on_thread(value)",
    "references.drop_on_thread(make=value)",
    "references.drop_on_thread(lambda: value)",
]


class Window:
    """A Python object that lesson objects hold, and that holds them."""

    def on_close(self, *args, **kwargs):
        return ("closed", args, kwargs)


def collected_without_help(make_cycle):
    """Whether a cycle made by `make_cycle(window)` is freed by the
    garbage collector once nothing outside refers to it."""
    window = Window()
    make_cycle(window)
    alive = weakref.ref(window)
    del window
    gc.collect()
    return alive() is None


# What each reader of the lesson tries first: the cycle through a Holder
# stays, the one through a Signal goes.


def test_a_cycle_through_a_holder_is_never_freed():
    def through_a_holder(window):
        window.holder = Holder(window)

    assert not collected_without_help(through_a_holder)


def test_a_holder_is_invisible_to_the_collector():
    window = Window()
    holder = Holder(window)
    # rust-cpython makes a class without __traverse__ a type the collector
    # never sees; PyO3 tracks every #[pyclass] but its traverse names
    # nothing it was not told about.
    assert gc.is_tracked(holder) is per_binding(cpython=False, pyo3=True)
    assert holder not in gc.get_referrers(window)
    assert holder.held is window


def test_a_cycle_through_a_signal_is_freed():
    def through_a_signal(window):
        window.closed = Signal()
        window.closed.connect(window.on_close)

    assert collected_without_help(through_a_signal)


def test_the_collector_sees_what_a_signal_holds():
    window, signal = Window(), Signal()
    signal.connect(window.on_close)
    assert gc.is_tracked(signal)
    # PyO3 also visits the class, a heap type, as Python's own classes do.
    referents = [each for each in gc.get_referents(signal) if each is not type(signal)]
    assert referents == [window.on_close]


def test_a_longer_cycle_through_several_signals_is_freed():
    def through_signals(window):
        signals = [Signal() for _ in range(5)]
        for signal, following in zip(signals, signals[1:]):
            signal.connect(following.emit)
        signals[-1].connect(window.on_close)
        window.first = signals[0]

    assert collected_without_help(through_signals)


def test_a_finalizer_may_use_the_signal_being_collected(monkeypatch):
    """The collector runs every `__del__` of a cycle before it clears any
    of it (PEP 442): a callback's `__del__` finds the signal whole, and may
    call it, without a panic or an exception."""
    seen, unraisable = [], []

    class Callback:
        def __init__(self, signal):
            self.signal = signal

        def __call__(self):
            return "called"

        def __del__(self):
            seen.append(len(self.signal))
            self.signal.connect(print)

    # Python 3.7 has no unraisablehook (and there, nothing sees such an error).
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append, raising=False)
    signal = Signal()
    signal.connect(Callback(signal))
    del signal
    gc.collect()
    assert seen == [1]
    assert unraisable == []


def test_a_hundred_thousand_cycles_leave_no_memory_behind():
    cycles = 10_000 if UNDER_VALGRIND else 100_000

    def make(count):
        for _ in range(count):
            window = Window()
            window.closed = Signal()
            window.closed.connect(window.on_close)
            window.log = Log()
            window.cursor = window.log.cursor()

    make(1000)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(cycles // 1000):
            make(1000)
            gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # A cycle that stayed would be several hundred bytes each.
    assert grown < 64 * 1024, f"{grown} bytes more after {cycles} cycles"


def test_cycles_through_holders_are_what_leaking_looks_like():
    """The same measurement finds the leak that the test above rules out."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            window = Window()
            window.holder = Holder(window)
        del window
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown > 1000 * 100


COLLECTING_EVERYWHERE = textwrap.dedent(
    """
    import gc, random, sys
    from target.debug.references import Holder, Log, Signal

    class Window:
        def on_close(self, *args):
            return len(args)

    random.seed(int(sys.argv[1]))
    # Signals as (when made, signal): one calls another's emit only if it is
    # newer, so that emitting never recurses without end.
    made = iter(range(10**9))
    signals, logs, cursors, windows = [(next(made), Signal())], [Log()], [], [Window()]

    def step():
        try:
            act(random.randrange(9))
        except IndexError:
            pass  # a step run by the collector emptied the pool this one chose from

    def act(action):
        if action == 0:
            signals.append((next(made), Signal()))
        elif action == 1:
            random.choice(signals)[1].connect(random.choice(windows).on_close)
        elif action == 2:
            (one, first), (other, second) = random.choice(signals), random.choice(signals)
            if one > other:
                first.connect(second.emit)
        elif action == 3:
            random.choice(signals)[1].emit(1, 2)
        elif action == 4:
            window = Window()
            window.signal = random.choice(signals)[1]
            window.signal.connect(window.on_close)
            window.holder = Holder(window.signal)
            windows.append(window)
        elif action == 5:
            random.choice(logs).append(str(random.random()))
        elif action == 6:
            cursors.append(random.choice(logs).cursor())
        elif action == 7 and cursors:
            try:
                random.choice(cursors).read()
            except RuntimeError:
                pass
        else:
            for pool in (signals, logs, cursors, windows):
                if len(pool) > 1:
                    pool.pop(random.randrange(len(pool)))

    def during_collection(phase, info):
        # Python code run by the collector itself, in the middle of a
        # collection that may be tearing down lesson objects.
        if phase == "start" and random.random() < 0.3:
            step()

    gc.callbacks.append(during_collection)
    gc.set_threshold(1)
    for _ in range(int(sys.argv[2])):
        step()
    print("survived")
    """
)


@pytest.mark.parametrize("seed", range(3))
def test_collecting_at_random_points_never_crashes(seed):
    steps = 500 if UNDER_VALGRIND else 5000
    result = run_child(COLLECTING_EVERYWHERE, str(seed), str(steps), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout == "survived\n"


# The signal itself, against the plain list of callbacks it stands for.


def test_emit_calls_each_callback_in_order_and_returns_their_results():
    signal, calls = Signal(), []
    for name in "abc":
        signal.connect(lambda *args, name=name, **kwargs: calls.append(name) or (name, args, kwargs))
    assert signal.emit(1, x=2) == [(name, (1,), {"x": 2}) for name in "abc"]
    assert calls == ["a", "b", "c"]
    assert len(signal) == 3


def test_connect_returns_the_callback_so_it_can_decorate():
    signal = Signal()

    @signal.connect
    def handler():
        return "handled"

    assert handler() == "handled"
    assert signal.emit() == ["handled"]


def test_a_callback_connected_during_emit_is_called_next_time():
    signal = Signal()
    signal.connect(lambda: signal.connect(lambda: "late") and "first")
    assert signal.emit() == ["first"]
    assert signal.emit() == ["first", "late"]


def test_an_exception_in_a_callback_stops_emit_and_reaches_the_caller():
    signal, calls = Signal(), []
    signal.connect(lambda: calls.append(1))
    signal.connect(lambda: 1 / 0)
    signal.connect(lambda: calls.append(3))
    with pytest.raises(ZeroDivisionError):
        signal.emit()
    assert calls == [1]
    assert len(signal) == 3


def test_emit_holds_no_references_after_it_returns():
    window, signal = Window(), Signal()
    signal.connect(window.on_close)
    before = sys.getrefcount(window)
    for _ in range(1000):
        signal.emit()
    failing = Signal()
    failing.connect(window.on_close)
    failing.connect(lambda: 1 / 0)
    for _ in range(1000):
        with pytest.raises(ZeroDivisionError):
            failing.emit()
    assert sys.getrefcount(window) == before + 1  # `failing` holds one more


@pytest.mark.parametrize("value", [None, 5, "text", b"bytes", Window()])
def test_connect_refuses_what_cannot_be_called(value):
    with pytest.raises(TypeError, match=f"^connect\\(\\) needs a callable, not {type(value).__name__}$"):
        Signal().connect(value)


def test_wrong_keyword_names_are_refused():
    with pytest.raises(TypeError):
        Signal().connect(function=print)
    with pytest.raises(TypeError):
        Holder(value=1)
    with pytest.raises(TypeError):
        Log().append(text="x")


# The cursor: a view of another object's Rust data that refuses, never
# misreads, once that data changed.


def test_a_cursor_reads_the_lines_then_none():
    log = Log()
    for line in ["one", "two", "Zoë 🦀"]:
        log.append(line)
    cursor = log.cursor()
    assert [cursor.read() for _ in range(4)] == ["one", "two", "Zoë 🦀", None]
    assert cursor.position == 3
    assert len(log) == 3


def test_a_cursor_refuses_to_read_a_log_that_changed():
    log = Log()
    log.append("one")
    cursor = log.cursor()
    assert cursor.read() == "one"
    log.append("two")
    for _ in range(2):
        with pytest.raises(RuntimeError, match="^the log changed after this cursor was made$"):
            cursor.read()
    assert cursor.position == 1
    assert log.cursor().read() == "one"


def test_a_cursor_keeps_the_log_alive():
    log = Log()
    log.append("kept")
    cursor = log.cursor()
    del log
    gc.collect()
    assert cursor.read() == "kept"


def test_a_finished_cursor_still_notices_a_change():
    log = Log()
    cursor = log.cursor()
    assert cursor.read() is None
    log.append("new")
    with pytest.raises(RuntimeError):
        cursor.read()


@pytest.mark.parametrize("line", [None, 5, b"bytes", ["x"]])
def test_append_takes_only_str(line):
    log = Log()
    with pytest.raises(TypeError):
        log.append(line)
    assert len(log) == 0


def test_a_lone_surrogate_is_refused_and_changes_nothing():
    log = Log()
    cursor = log.cursor()
    with pytest.raises(UnicodeEncodeError):
        log.append("\udc80")
    assert len(log) == 0
    assert cursor.read() is None


OPERATIONS = st.lists(
    st.one_of(st.tuples(st.just("append"), st.text(max_size=5)), st.just(("read",)), st.just(("cursor",))),
    max_size=30,
)


@settings(max_examples=HYPOTHESIS_EXAMPLES // 4, deadline=None)
@given(OPERATIONS)
def test_cursors_read_what_a_list_of_lines_says(operations):
    """Every read gives the line a plain list would, or the error once any
    line was appended after the cursor was made."""
    log, lines = Log(), []
    cursors = [(log.cursor(), 0, 0)]  # (cursor, len(lines) when made, lines read)
    for operation in operations:
        if operation[0] == "append":
            log.append(operation[1])
            lines.append(operation[1])
        elif operation[0] == "cursor":
            cursors.append((log.cursor(), len(lines), 0))
        else:
            cursor, made_at, read = cursors[-1]
            if made_at != len(lines):
                with pytest.raises(RuntimeError):
                    cursor.read()
                continue
            expected = lines[read] if read < len(lines) else None
            assert cursor.read() == expected
            cursors[-1] = (cursor, made_at, read + (expected is not None))
    assert len(log) == len(lines)


def test_a_cursor_is_made_only_by_a_log():
    with pytest.raises(TypeError):
        Cursor()


# Dropping a Python object on a thread that does not hold the GIL.


def test_an_object_only_rust_held_dies_on_the_thread_that_drops_it():
    """rust-cpython's Drop takes the GIL on the Rust thread and frees the
    object there; PyO3's queues the reference, and this thread frees it
    when it attaches again at the end of `detach`. Either way it is gone
    when the call returns."""
    died_on = []

    class Made:
        def __del__(self):
            died_on.append(threading.current_thread())

    drop_on_thread(Made)
    (thread,) = died_on
    assert (thread is threading.main_thread()) is per_binding(cpython=False, pyo3=True)


def test_drop_on_thread_passes_on_what_make_raises():
    with pytest.raises(ZeroDivisionError):
        drop_on_thread(lambda: 1 / 0)
    with pytest.raises(TypeError):
        drop_on_thread(None)


def test_drop_on_thread_lets_other_python_threads_run():
    """The GIL is released while the Rust thread drops the object: a
    `__del__` that waits for another Python thread still finishes."""
    other_ran = threading.Event()

    class Made:
        def __del__(self):
            worker = threading.Thread(target=other_ran.set)
            worker.start()
            worker.join()

    drop_on_thread(Made)
    assert other_ran.is_set()


# PyO3's `Py<T>` is Clone only with the `py-clone` feature.

CLONING = textwrap.dedent(
    """
    use pyo3::prelude::*;

    #[pyfunction]
    fn twice(held: Py<PyAny>) -> (Py<PyAny>, Py<PyAny>) {
        (held.clone(), held)
    }

    #[pymodule]
    fn cloning(module: &Bound<'_, PyModule>) -> PyResult<()> {
        module.add_function(wrap_pyfunction!(twice, module)?)
    }
    """
)


@binding_independent
@once_per_run
@pytest.mark.parametrize("feature", [False, True], ids=["default", "py-clone"])
def test_py_is_clone_only_with_the_py_clone_feature(tmp_path, build_python, feature):
    crate = tmp_path / "cloning"
    (crate / "src").mkdir(parents=True)
    dependency = SCRATCH_DEPENDENCIES["pyo3"]
    if feature:
        dependency = dependency.replace('["extension-module"]', '["extension-module", "py-clone"]')
    manifest = '[package]\nname = "cloning"\nversion = "0.1.0"\nedition = "2021"\n\n'
    manifest += f'[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\n{dependency}\n'
    (crate / "Cargo.toml").write_text(manifest, encoding="utf-8")
    (crate / "src" / "lib.rs").write_text(CLONING, encoding="utf-8")
    build = cargo_build_in(crate, build_python, tmp_path / "target")
    if feature:
        assert build.returncode == 0, build.stderr
    else:
        assert build.returncode != 0
        assert "no method named `clone` found for struct `pyo3::Py<T>`" in build.stderr


# Without `__clear__`: the collector breaks a cycle at any object in it that
# has a `tp_clear`, and the callables CPython makes (functions, bound
# methods, builtin methods) all do.


def without_method(path, first_line):
    """The change that deletes the method starting with `first_line` from
    the source at `path`, up to its closing brace."""
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(index for index, line in enumerate(lines) if line.startswith(first_line))
    end = next(index for index in range(start, len(lines)) if lines[index] == "    }\n")
    return ("".join(lines[start : end + 1]), "")


SOURCES = {"cpython": "references/src/lib.rs", "pyo3": "references/pyo3/src/lib.rs"}
METHODS = {
    ("__clear__", "cpython"): "    def __clear__(",
    ("__traverse__", "cpython"): "    def __traverse__(",
    ("__clear__", "pyo3"): "    fn __clear__(",
    ("__traverse__", "pyo3"): "    fn __traverse__(",
}

# Two signals, each connected to the other's emit, and a window that only
# they reach; then a window's own cycle through a signal.
CYCLES_OF_SIGNALS = """
import gc, weakref
from {module} import Signal

class Window:
    def on_close(self):
        return "closed"

first, second, window = Signal(), Signal(), Window()
first.connect(second.emit)
second.connect(first.emit)
first.connect(window.on_close)
alive = weakref.ref(window)
del first, second, window
gc.collect()
print("signals alone:", "kept" if alive() else "freed")

window = Window()
window.closed = Signal()
window.closed.connect(window.on_close)
alive = weakref.ref(window)
del window
gc.collect()
print("through a window:", "kept" if alive() else "freed")
"""


def test_both_cycles_are_freed_with_clear():
    result = run_child(CYCLES_OF_SIGNALS.format(module="target.debug.references"))
    assert result.stdout == "signals alone: freed\nthrough a window: freed\n", result.stderr


@binding_independent
@once_per_run
@pytest.mark.parametrize("binding", ["cpython", "pyo3"])
@pytest.mark.parametrize(
    ("removed", "expected"),
    [
        (("__clear__",), "signals alone: freed\nthrough a window: freed\n"),
        (("__clear__", "__traverse__"), "signals alone: kept\nthrough a window: kept\n"),
    ],
    ids=["without clear", "without either"],
)
def test_without_clear_these_cycles_are_still_freed(tmp_path, build_python, binding, removed, expected):
    """The lesson's "Try this": without `__clear__`, even two signals
    connected to each other's `emit` are freed, through the builtin methods
    between them; without `__traverse__` as well, neither cycle is."""
    changes = [without_method(SOURCES[binding], METHODS[(name, binding)]) for name in removed]
    build_changed_lesson(tmp_path, build_python, "references", binding, changes)
    result = run_python("-c", CYCLES_OF_SIGNALS.format(module="references"), cwd=tmp_path)
    assert result.stdout == expected, result.stderr
