"""The memory section of `scripts/bench.py`: Python objects held by Rust
objects, and Python's memory read by Rust.

Buffers (lesson `buffers`): `crc32(data)`, which reads any buffer where it
lies, against `crc32_of_copy(data)`, which takes a `Vec<u8>` (a copy), on
a `bytearray`; and against `crc32_of_bytes(data)`, which borrows a `bytes`
without asking for a buffer, on `bytes`. The garbage collector (lesson
`references`): a full `gc.collect()` with 100,000 of the lesson's Signals
alive, each holding one callback, against 100,000 Python objects with
`__slots__`, each holding one. Every figure is the best of the rounds,
measured interleaved in one process.
"""

import gc
import time

from workspace import markdown_table

BUFFER_MARKERS = ("<!-- bench-buffers:start -->", "<!-- bench-buffers:end -->")
GC_MARKERS = ("<!-- bench-references:start -->", "<!-- bench-references:end -->")
SIZES = (64, 4096, 1 << 20, 64 << 20)
# Goals: at the largest size the zero-copy path at least this much faster
# than the copy; at the smallest, within this of the `bytes` path.
LARGE_SPEEDUP, SMALL_OVERHEAD = 1.5, 1.2
OBJECTS, GC_GOAL = 100_000, 2.0
BINDINGS = (("cpython", "rust-cpython"), ("pyo3", "PyO3"))


class Slot:
    """The floor for the collector: a Python object holding one object."""

    __slots__ = ("held",)

    def __init__(self, held):
        self.held = held


def size_name(size):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size // scale} {unit}"
    return f"{size} B"


def collect_time(objects):
    """Seconds for one full collection with `objects` alive (best of 3)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        gc.collect()
        best = min(best, time.perf_counter() - start)
    return best


def measure(modules, fastest_batch, rounds):
    """{(what, who, size): seconds}. `modules` maps a binding to its release
    modules, {"buffers": ..., "references": ...}."""
    results = {}

    def keep(key, seconds):
        results[key] = min(results.get(key, seconds), seconds)

    for _ in range(rounds):
        for size in SIZES:
            data = bytes(range(256)) * (size // 256) or bytes(range(size))
            mutable = bytearray(data)
            for binding, lessons in modules.items():
                buffers = lessons["buffers"]
                calls = {
                    "buffer, bytearray": (buffers.crc32, mutable),
                    "copy, bytearray": (buffers.crc32_of_copy, mutable),
                    "buffer, bytes": (buffers.crc32, data),
                    "bytes": (buffers.crc32_of_bytes, data),
                }
                for what, (function, argument) in calls.items():

                    def run(number, function=function, argument=argument):
                        start = time.perf_counter()
                        for _ in range(number):
                            function(argument)
                        return time.perf_counter() - start

                    keep((what, binding, size), fastest_batch(run))
        objects = [Slot(print) for _ in range(OBJECTS)]
        keep(("gc", "slots", OBJECTS), collect_time(objects))
        del objects
        for binding, lessons in modules.items():
            signals = [lessons["references"].Signal() for _ in range(OBJECTS)]
            for signal in signals:
                signal.connect(print)
            keep(("gc", binding, OBJECTS), collect_time(signals))
            del signals
    return results


def per_call(seconds):
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e9:.0f} ns"


def buffer_table(results):
    """Per binding and size: each path's time, with the zero-copy path's
    speed-up over the copy and its cost over the `bytes` path."""
    rows = [
        [
            "binding",
            "size",
            "`crc32(bytearray)`",
            "`crc32_of_copy(bytearray)`",
            "copy / buffer",
            "`crc32(bytes)`",
            "`crc32_of_bytes(bytes)`",
            "ratio",
        ]
    ]
    for binding, label in BINDINGS:
        for size in SIZES:
            if ("buffer, bytearray", binding, size) not in results:
                continue
            buffer, copy = results[("buffer, bytearray", binding, size)], results[("copy, bytearray", binding, size)]
            on_bytes, bytes_only = results[("buffer, bytes", binding, size)], results[("bytes", binding, size)]
            rows.append(
                [
                    label,
                    size_name(size),
                    per_call(buffer),
                    per_call(copy),
                    f"{copy / buffer:.2f}x",
                    per_call(on_bytes),
                    per_call(bytes_only),
                    f"{on_bytes / bytes_only:.2f}x",
                ]
            )
    return markdown_table(rows)


def buffer_goal_lines(results):
    small, large = SIZES[0], SIZES[-1]
    lines = []
    for binding, label in BINDINGS:
        if ("buffer, bytearray", binding, large) not in results:
            continue
        speedup = results[("copy, bytearray", binding, large)] / results[("buffer, bytearray", binding, large)]
        overhead = results[("buffer, bytes", binding, small)] / results[("bytes", binding, small)]
        lines.append(
            f"{label}: at {size_name(large)} the zero-copy path is {speedup:.2f}x faster than the copy "
            f"(goal: at least {LARGE_SPEEDUP}x): {'met' if speedup >= LARGE_SPEEDUP else 'missed'}; "
            f"at {size_name(small)} it takes {overhead:.2f}x the `bytes` path "
            f"(goal: at most {SMALL_OVERHEAD}x): {'met' if overhead <= SMALL_OVERHEAD else 'missed'}"
        )
    return lines


def gc_table(results):
    floor = results[("gc", "slots", OBJECTS)]
    rows = [[f"`gc.collect()`, {OBJECTS:,} objects alive", "rust-cpython", "PyO3", "`__slots__`"]]
    cells = []
    for binding, _label in BINDINGS:
        value = results.get(("gc", binding, OBJECTS))
        cells.append("n/a" if value is None else f"{per_call(value)} ({value / floor:.2f}x)")
    rows.append(["each holding one object", *cells, f"{per_call(floor)} (1.00x)"])
    return markdown_table(rows)


def gc_goal_lines(results):
    floor = results[("gc", "slots", OBJECTS)]
    lines = []
    for binding, label in BINDINGS:
        value = results.get(("gc", binding, OBJECTS))
        if value is not None:
            ratio = value / floor
            verdict = "met" if ratio <= GC_GOAL else "missed"
            lines.append(
                f"{label}: a collection takes {ratio:.2f}x the `__slots__` objects' "
                f"(goal: at most {GC_GOAL}x): {verdict}"
            )
    return lines
