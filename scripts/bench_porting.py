"""The porting section of `scripts/bench.py`: what the bridge costs.

PyO3's `checksums.crc32_of_set` (lesson `porting`'s twin) called with a
rust-cpython set, which it reads through the bridge, against the same
function called with its own PyO3 set of the same values; and the
rust-cpython library's own `crc32_of_set` on its set, for scale. Each
figure is one call timed as `timeit` times it, the best of the rounds,
measured interleaved in one process.
"""

import importlib
import timeit

from workspace import markdown_table

MARKERS = ("<!-- bench-porting:start -->", "<!-- bench-porting:end -->")
# Values in the sets: a small one, where the call is most of the cost,
# and a large one, where the checksum is.
SIZES = (4, 1_000)
GOAL = 1.2
CALLERS = (
    ("own", "PyO3's function, its own set"),
    ("bridge", "PyO3's function, rust-cpython's set (the bridge)"),
    ("cpython", "rust-cpython's function, its own set"),
)


def measure(fastest_batch, rounds, profile="release"):
    """{(who, size): seconds per call}, or {} where this Python builds no
    PyO3 twin."""
    legacy = importlib.import_module(f"target.{profile}.porting")
    try:
        twin = importlib.import_module(f"target.{profile}.pyo3.porting")
    except ImportError:
        return {}
    twin.bridge.accept_from(legacy.sets)
    calls = {}
    for size in SIZES:
        values = range(size)
        calls[("own", size)] = (twin.checksums.crc32_of_set, twin.sets.HashSet(values))
        calls[("bridge", size)] = (twin.checksums.crc32_of_set, legacy.sets.HashSet(values))
        calls[("cpython", size)] = (legacy.checksums.crc32_of_set, legacy.sets.HashSet(values))
    results = {}
    for _ in range(rounds):
        for key, (function, argument) in calls.items():
            timer = timeit.Timer("function(argument)", globals={"function": function, "argument": argument})
            seconds = fastest_batch(timer.timeit)
            results[key] = min(results.get(key, seconds), seconds)
    return results


def table(results):
    if not results:
        return "(no PyO3 twin for this Python)"
    rows = [["`crc32_of_set(values)`", *(f"{size:,} values" for size in SIZES)]]
    for who, label in CALLERS:
        cells = [label]
        for size in SIZES:
            value, floor = results[(who, size)], results[("own", size)]
            cells.append(f"{value * 1e9:,.0f} ns ({value / floor:.2f}x)")
        rows.append(cells)
    return markdown_table(rows)


def goal_lines(results):
    return [
        f"at {size:,} values a call through the bridge takes {ratio:.2f}x a call with PyO3's own set "
        f"(goal: at most {GOAL}x): {'met' if ratio <= GOAL else 'missed'}"
        for size in SIZES
        for ratio in [results[("bridge", size)] / results[("own", size)]]
        if results
    ]
