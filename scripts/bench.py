"""Measure the lessons against the builtins they imitate, side by side.

Sets: iterating the builtin set, the clone iterator of lesson `wrapper` and
the borrowing iterator of lesson `borrowed`, with their PyO3 twins, every
figure a ratio to the builtin set. Threads: lesson `threads`'s CRC-32, with
the GIL released and held, against zlib.crc32, from 64 B to 64 MiB and on 1,
2 and 4 threads. Calls: lesson `function`'s and lesson `klass`'s, against
Python's own, and lesson `costs`'s four steps, against the same function in
C and in Cython (built by floor.py). Calling: lesson `calling`'s calls from Rust into Python, and
its attribute reads, against C code doing the same. Classes: reading a
property of lesson `fraction`'s class, against a `__slots__` attribute, and
a lookup in lesson `mapping`'s, against a dict. Memory: lesson `buffers`'s
zero-copy CRC-32 against a copy and against `bytes` alone, and
`gc.collect()` over lesson `references`'s objects against `__slots__` ones.
Porting: lesson `porting`'s PyO3 function called with a rust-cpython object,
through the bridge, against the same function called with its own.

Usage: python3 scripts/bench.py [--section all|calls|sets|threads|calling|classes|memory|porting] [--rounds N]
       [--sizes 10,1000,...] [--plot PATH] [--readme]

It makes its own release build. Everything compared is measured in one
process, interleaved round by round, keeping the best of the rounds.
"""

import functools
import gc
import importlib
import os
import platform
import subprocess
import sys
import time
import timeit
from collections import deque
from datetime import date
from pathlib import Path

import bench_classes
import bench_memory
import bench_porting
import bench_threads
from copy_libs import copy_lessons
from floor import build_floor, cython_version
from lessons import number
from workspace import ROOT, ArgumentParser, ScriptError, bindings_for, cargo_build, markdown_table, resident_bytes, step

DEFAULT_SIZES = (10, 100, 1_000, 10_000, 100_000, 1_000_000)
LESSON_README = ROOT / "borrowed" / "README.md"
LESSON_PLOT = ROOT / "borrowed" / "iter_cost.png"
THREADS_README = ROOT / "threads" / "README.md"
CALLS_README = ROOT / "function" / "README.md"
CALLS_START, CALLS_END = "<!-- bench-calls:start -->", "<!-- bench-calls:end -->"
THREADS_PLOT = ROOT / "threads" / "throughput.png"
# Every table and the goals; the lesson shows one summary table.
FULL_REPORT = ROOT / "BENCHMARK.md"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
METRICS = (
    ("iter", "iter() ns"),
    ("drain", "drain ns/elt"),
    ("first", "next(iter(s)) ns"),
    ("memory", "bytes/iterator"),
)


def fastest_batch(run):
    """Seconds per call, from `run(number)`, which times `number` calls:
    batches grow until one takes at least 5 ms, and the best of three such
    batches counts."""
    number = 1
    while run(number) < 0.005:
        number *= 2
    return min(run(number) for _ in range(3)) / number


def best_time(action):
    """Seconds per call of `action`, the garbage collector off (as in timeit)."""

    def run(number):
        start = time.perf_counter()
        for _ in range(number):
            action()
        return time.perf_counter() - start

    gc.disable()
    try:
        return fastest_batch(run)
    finally:
        gc.enable()


# Memory is measured in a fresh interpreter per figure, so that memory freed
# by earlier measurements cannot be reused and hide the growth.
MEMORY_PROBE = """
import sys
root = sys.argv[1]
sys.path[:0] = [root, root + "/scripts"]
from workspace import resident_bytes

kind, size = sys.argv[2], int(sys.argv[3])
make = set if kind == "set" else __import__("target.release." + kind, fromlist=["HashSet"]).HashSet
collection = make()
for value in range(size):
    collection.add(value)
# Enough iterators to see past page granularity, but never so many copies
# of a big set (the clone) that the machine runs out of memory.
count = 10_000 if not kind.endswith("wrapper") else max(3, min(10_000, 20_000_000 // (size * 8)))
before = resident_bytes()
alive = [iter(collection) for _ in range(count)]
print(max(resident_bytes() - before, 0) / count)
"""

MODULES = {
    "clone": "wrapper",
    "borrowed": "borrowed",
    "set": "set",
    "clone-pyo3": "pyo3.wrapper",
    "borrowed-pyo3": "pyo3.borrowed",
}


def iterator_memory(name, size):
    """Extra resident bytes per live iterator, or None off Linux."""
    if resident_bytes() is None:
        return None
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(ROOT), MODULES[name], str(size)],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return float(result.stdout)


def measure_once(collection, size, metric):
    if metric == "iter":
        return best_time(lambda: iter(collection)) * 1e9
    if metric == "drain":
        return best_time(lambda: deque(iter(collection), maxlen=0)) * 1e9 / size
    return best_time(lambda: next(iter(collection))) * 1e9


def build_sets(kinds, size):
    """One set of `size` integers per kind, filled the same way."""
    built = {}
    for name, make in kinds.items():
        collection = make()
        for value in range(size):
            collection.add(value)
        built[name] = collection
    return built


def measure(kinds, sizes, rounds):
    """{(size, metric, kind): best value}, interleaving kinds and metrics."""
    results = {}
    timed = [metric for metric, _label in METRICS if metric != "memory"]
    for size in sizes:
        sets = build_sets(kinds, size)
        for _ in range(rounds):
            for metric in timed:
                for name, collection in sets.items():
                    value = measure_once(collection, size, metric)
                    key = (size, metric, name)
                    results[key] = min(results.get(key, value), value)
        del sets
        for name in kinds:
            memory = iterator_memory(name, size)
            if memory is not None:
                results[(size, "memory", name)] = memory
    return results


def ratio(value, base):
    if value is None or not base:
        return "n/a"
    return f"{value / base:.2f}x"


def format_tables(results, kinds, sizes):
    """One Markdown table per metric: a row per size, the builtin's figure,
    then each other kind as a ratio to it, and each PyO3 twin as a ratio to
    the rust-cpython lesson it copies."""
    names = list(kinds)
    base, others = names[0], names[1:]
    twins = [(name, name[: -len("-pyo3")]) for name in others if name.endswith("-pyo3")]
    tables = []
    for metric, label in METRICS:
        rows = [
            ["size", f"{base}: {label}"]
            + [f"{name} / {base}" for name in others]
            + [f"{twin} / {lesson}" for twin, lesson in twins]
        ]
        for size in sizes:
            reference = results.get((size, metric, base))
            rows.append(
                [f"{size:,}", "n/a" if reference is None else f"{reference:,.1f}"]
                + [ratio(results.get((size, metric, name)), reference) for name in others]
                + [
                    ratio(results.get((size, metric, twin)), results.get((size, metric, lesson)))
                    for twin, lesson in twins
                ]
            )
        tables.append(markdown_table(rows, right_align=True))
    return "\n\n".join(tables)


def goal_lines(results, sizes):
    """The lesson's performance goals, with what this run measured."""
    small, large = min(sizes), max(sizes)

    iter_large, drain_large = (large, "iter", "borrowed"), (large, "drain", "borrowed")
    # (what, measured figure, figure it is divided by, goal for the ratio)
    checks = [
        (f"iter() at {large:,}: borrowed / builtin", iter_large, (large, "iter", "set"), 2.0),
        (f"iter() at {large:,} / at {small:,}: borrowed", iter_large, (small, "iter", "borrowed"), 1.5),
        (f"drain per element at {large:,}: borrowed / clone", drain_large, (large, "drain", "clone"), 1.0),
        (f"drain per element at {large:,}: borrowed / builtin (stretch)", drain_large, (large, "drain", "set"), 3.0),
    ]
    lines = []
    for label, value_key, base_key, limit in checks:
        value, base = results.get(value_key), results.get(base_key)
        if value is None or not base:
            lines.append(f"{label}: n/a")
            continue
        verdict = "met" if value / base <= limit else "missed"
        lines.append(f"{label}: {value / base:.2f} (goal <= {limit}): {verdict}")
    return lines


def plot(results, kinds, sizes, path):
    """A log-log plot of iter() cost against set size, one line per kind
    (skipped, with a note, when matplotlib is not installed)."""
    plt = bench_threads.pyplot()
    if plt is None:
        return
    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    for name in kinds:
        points = [(size, results.get((size, "iter", name))) for size in sizes]
        points = [(size, value) for size, value in points if value is not None]
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("elements in the set")
    axes.set_ylabel("iter() cost (ns)")
    axes.set_title(f"Cost of iter(s): builtin set, lessons {number('wrapper')} and {number('borrowed')}, PyO3 twins")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    bench_threads.save_plot(plt, figure, path)


def summary_table(results, size):
    """The lesson's one table: each cost at `size` elements, the builtin's in
    its own unit and the Rust iterators (the PyO3 twin's too) as ratios to it."""
    columns = [
        ("set", "builtin set"),
        ("clone", f"clone (lesson {number('wrapper')})"),
        ("borrowed", f"loan (lesson {number('borrowed')})"),
        ("borrowed-pyo3", "loan, PyO3 twin"),
    ]
    rows_named = {
        "iter": ("iter()", "ns"),
        "drain": ("drain, per element", "ns"),
        "first": ("next(iter(s))", "ns"),
        "memory": ("memory per iterator", "B"),
    }
    rows = [[f"at {size:,} elements"] + [label for _name, label in columns]]
    for metric, _label in METRICS:
        name, unit = rows_named[metric]
        reference = results.get((size, metric, "set"))
        base = "n/a" if reference is None else f"{reference:,.1f} {unit}"
        rows.append([name, base] + [ratio(results.get((size, metric, kind)), reference) for kind, _ in columns[1:]])
    return markdown_table(rows)


def replace_between_markers(text, body, markers=(README_START, README_END)):
    """`text` with everything between the markers replaced by `body`."""
    opening, closing = markers
    start, end = text.find(opening), text.find(closing)
    if start < 0 or end < start:
        raise ScriptError(f"no {opening} ... {closing} block to write the results into")
    return text[: start + len(opening)] + "\n" + body + "\n" + text[end:]


def machine_description():
    """The processor model and core count, as far as this platform says."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def parse_sizes(text):
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--sizes takes whole numbers separated by commas, not {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise ValueError("--sizes must all be at least 1")
    return sizes


def release_build():
    """Build and copy the release modules."""
    cargo_build(sys.executable, release=True, quiet=True)
    copy_lessons(release=True, quiet=True)


def release_kinds():
    """The builtin set, the cloning and the borrowing Rust sets, and their
    PyO3 twins where PyO3 builds, from the release build."""
    from target.release.borrowed import HashSet as Borrowed
    from target.release.wrapper import HashSet as Cloned

    kinds = {"set": set, "clone": Cloned, "borrowed": Borrowed}
    if "pyo3" in bindings_for(tuple(sys.version_info[:2])):
        from target.release.pyo3.borrowed import HashSet as BorrowedTwin
        from target.release.pyo3.wrapper import HashSet as ClonedTwin

        kinds.update({"clone-pyo3": ClonedTwin, "borrowed-pyo3": BorrowedTwin})
    return kinds


def greeting(string):
    """Lesson 2's `greet`, in Python."""
    return f"Hello, {string}!"


class Greeter:
    """Lesson 3's `Class`, in Python."""

    def greet(self, name):
        return f"Hello, {name}!"


# Lesson `costs`: its steps, in order, with what each one takes away.
COSTS_README = ROOT / "costs" / "README.md"
COSTS_START, COSTS_END = "<!-- bench-costs:start -->", "<!-- bench-costs:end -->"
STEPS = (
    ("greet", "nothing: lesson 2's code"),
    ("greet_borrowing", "a copy of the argument, `format!`"),
    ("greet_meth_o", "the argument tuple and the argument parser"),
    ("greet_in_place", "decoding UTF-8, a Rust buffer"),
)
# The lesson's goal: its fastest step within this factor of the floor, the
# faster of the C and the Cython `greet`.
FLOOR_GOAL = 1.15
FLOOR_LABELS = {
    "python": 'Python: `def greet(string): return f"Hello, {string}!"`',
    "C": "C: `METH_O`, one allocation",
    "Cython": "Cython {version}: `def greet(str string not None)`",
}


def call_time(function, argument):
    """Seconds per `function(argument)`, timed as timeit times a statement
    (no wrapper's call counted, the garbage collector off)."""
    timer = timeit.Timer("function(argument)", globals={"function": function, "argument": argument})
    return fastest_batch(timer.timeit)


def call_costs(rounds, floor=None):
    """ns per call of lesson 2's function, lesson 3's method and lesson
    `costs`'s steps, in Python, in each binding and in the `floor`
    modules ({"C": module, "Cython": module}): {(what, who): ns}."""
    from target.release import costs, function, klass

    modules = {"cpython": (function, klass, costs)}
    if "pyo3" in bindings_for(tuple(sys.version_info[:2])):
        from target.release.pyo3 import costs as costs_twin
        from target.release.pyo3 import function as function_twin
        from target.release.pyo3 import klass as klass_twin

        modules["pyo3"] = (function_twin, klass_twin, costs_twin)
    calls = {("function", "python"): greeting, ("method", "python"): Greeter().greet}
    for binding, (function_module, klass_module, costs_module) in modules.items():
        calls[("function", binding)] = function_module.greet
        calls[("method", binding)] = klass_module.Class().greet
        for name, _removed in STEPS:
            calls[(name, binding)] = getattr(costs_module, name)
    for name, module in (floor or {}).items():
        calls[("floor", name)] = module.greet
    results = {}
    for _ in range(rounds):
        for key, call in calls.items():
            value = call_time(call, "Smith") * 1e9
            results[key] = min(results.get(key, value), value)
    return results


def calls_table(results):
    """One row per call: Python's cost, then each binding's as a ratio to it
    and PyO3's as a ratio to rust-cpython's."""
    rows = [["call", "Python", "rust-cpython", "PyO3", "PyO3 / rust-cpython"]]
    for call, label in (("function", 'greet("Smith")'), ("method", 'Class().greet("Smith")')):
        python, cpython, pyo3 = (results.get((call, binding)) for binding in ("python", "cpython", "pyo3"))
        rows.append(
            [
                label,
                f"{python:.0f} ns",
                f"{cpython:.0f} ns ({cpython / python:.2f}x)",
                "n/a" if pyo3 is None else f"{pyo3:.0f} ns ({pyo3 / python:.2f}x)",
                ratio(pyo3, cpython),
            ]
        )
    return markdown_table(rows)


def costs_table(results, cython=None):
    """Lesson `costs`'s steps in each binding, then Python and the floors,
    each in ns and as a ratio to the floor (the faster of C and Cython);
    `cython` is the Cython version measured."""
    floors = [results[("floor", name)] for name in ("C", "Cython") if ("floor", name) in results]
    floor = min(floors) if floors else None

    def cell(value):
        if value is None:
            return "n/a"
        return f"{value:.0f} ns" + ("" if floor is None else f" ({value / floor:.2f}x)")

    rows = [["step", "rust-cpython", "PyO3", "what it takes away"]]
    for place, (name, removed) in enumerate(STEPS, 1):
        times = (cell(results.get((name, binding))) for binding in ("cpython", "pyo3"))
        rows.append([f"{place}. `{name}`", *times, removed])
    steps = markdown_table(rows)
    rows = [["for comparison", "ns per call"]]
    for who, key in (("python", ("function", "python")), ("C", ("floor", "C")), ("Cython", ("floor", "Cython"))):
        if key in results:
            rows.append([FLOOR_LABELS[who].replace("{version}", str(cython)), cell(results[key])])
    return steps + "\n\n" + markdown_table(rows)


def costs_goal_lines(results, missing=None):
    """One line per binding: its fastest step against the floor and the
    goal, met or missed; and why any floor is missing."""
    lines = [f"{name} not measured: {reason}" for name, reason in (missing or {}).items()]
    floors = [results[("floor", name)] for name in ("C", "Cython") if ("floor", name) in results]
    if not floors:
        return lines + ["no floor measured: the goal cannot be checked"]
    floor = min(floors)
    for binding, label in (("cpython", "rust-cpython"), ("pyo3", "PyO3")):
        timed = [(results[(name, binding)], name) for name, _removed in STEPS if (name, binding) in results]
        if not timed:
            continue
        best, name = min(timed)
        verdict = "met" if best <= FLOOR_GOAL * floor else "missed"
        lines.append(f"{label}: the fastest step, `{name}`, takes {best / floor:.2f}x the floor's time")
        lines[-1] += f" (goal: at most {FLOOR_GOAL}x): {verdict}"
    return lines


CALLING_README = ROOT / "calling" / "README.md"
CALLING_START, CALLING_END = "<!-- bench-calling:start -->", "<!-- bench-calling:end -->"
# Keys per fetch: enough that the per-key cost, not the call of `fetch`
# itself, is what is measured.
CALLING_KEYS = 1_000


class TrivialStore(dict):
    """A store whose `__getitem__` is a Python function doing nothing."""

    def __getitem__(self, key):
        return key

    def put(self, key, value, ttl):
        pass


def calling_costs(rounds):
    """What lesson `calling` pays per call into Python, against C code doing
    the same calls: {(what, who): ns}.

    "call": `fetch` of keys the store has, so each key is one call of the
    store's Python `__getitem__` from Rust; the floor is map() calling the
    same function on the same stored keys, into the same dict.
    "settings": `Cache(store, settings)` reads six attributes (three
    settings, and the three fields of the timedelta) and converts them;
    the floor is `operator.attrgetter` reading the same six."""
    import operator
    from datetime import timedelta
    from types import SimpleNamespace

    from target.release import calling

    modules = {"cpython": calling}
    if "pyo3" in bindings_for(tuple(sys.version_info[:2])):
        from target.release.pyo3 import calling as calling_twin

        modules["pyo3"] = calling_twin
    settings = SimpleNamespace(prefix="p:", ttl=timedelta(minutes=5), limit=10)
    store = TrivialStore()
    keys = [str(i) for i in range(CALLING_KEYS)]
    stored = ["p:" + key for key in keys]
    get = store.__getitem__
    six = operator.attrgetter("prefix", "ttl", "limit", "ttl.days", "ttl.seconds", "ttl.microseconds")
    actions = {
        ("call", "C"): lambda: dict(zip(keys, map(get, stored))),
        ("settings", "C"): lambda: six(settings),
    }
    for binding, module in modules.items():
        cache = module.Cache(store, settings)
        actions[("call", binding)] = functools.partial(cache.fetch, keys, str)
        actions[("settings", binding)] = functools.partial(module.Cache, store, settings)
    per = {"call": CALLING_KEYS, "settings": 6}
    results = {}
    for _ in range(rounds):
        for (what, who), action in actions.items():
            value = best_time(action) * 1e9 / per[what]
            results[(what, who)] = min(results.get((what, who), value), value)
    return results


def calling_table(results):
    rows = [["per", "C", "rust-cpython", "PyO3"]]
    labels = (("call", "call of a Python function"), ("settings", "attribute read and converted"))
    for what, label in labels:
        floor = results[(what, "C")]
        cells = [label, f"{floor:.0f} ns"]
        for binding in ("cpython", "pyo3"):
            value = results.get((what, binding))
            cells.append("n/a" if value is None else f"{value:.0f} ns ({value / floor:.2f}x)")
        rows.append(cells)
    return markdown_table(rows)


def release_modules(*lessons):
    """{binding: {lesson: its release module}}, for each binding this
    Python builds."""
    prefixes = {"cpython": "target.release."}
    if "pyo3" in bindings_for(tuple(sys.version_info[:2])):
        prefixes["pyo3"] = "target.release.pyo3."
    return {
        binding: {lesson: importlib.import_module(prefix + lesson) for lesson in lessons}
        for binding, prefix in prefixes.items()
    }


def lesson_reports(parts, results, measured, writes):
    """Print each (table, goal lines, markers, lesson) report of `results`,
    and queue it for BENCHMARK.md and the lesson's README."""
    for table, goal_lines_of, markers, lesson in parts:
        goals = (f"- {line}" for line in goal_lines_of(results))
        report = "\n".join([measured, "", table(results), "", *goals])
        print("\n" + report)
        for path in (FULL_REPORT, ROOT / lesson / "README.md"):
            writes.setdefault(path, []).append((markers, report))


def main(argv=None):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--section",
        choices=("all", "calls", "sets", "threads", "calling", "classes", "memory", "porting"),
        default="all",
        help="what to measure: the cost of a call (lessons 2, 3 and costs), the set iterators, "
        "the threads lesson's checksums, Rust calling Python (lesson calling), "
        "Rust classes used from Python (lessons fraction and mapping), "
        "buffers and the garbage collector (lessons buffers and references), "
        "the bridge between the bindings (lesson porting), or all of them (default)",
    )
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds; the best is kept (default 7)")
    parser.add_argument(
        "--sizes",
        default=",".join(str(size) for size in DEFAULT_SIZES),
        help="set sizes, comma separated (default %(default)s)",
    )
    parser.add_argument(
        "--plot",
        default=str(ROOT / "target" / "bench" / "iter_cost.png"),
        help="where to write the sets plot (default %(default)s; the threads plot goes beside it)",
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="also write the tables into BENCHMARK.md, summaries into borrowed/README.md and "
        "threads/README.md, and the plots beside them",
    )
    args = parser.parse_args(argv)
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as error:
        parser.error(str(error))
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    sys.path.insert(0, str(ROOT))
    try:
        release_build()
    except ScriptError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    measured = f"Measured {date.today()} on {machine_description()}, Python {platform.python_version()}."
    writes = {}  # path -> [(markers, body)]
    plots = []
    if args.section in ("all", "calls"):
        floor_dir = ROOT / "target" / "floor" / "py{}{}".format(*sys.version_info[:2])
        try:
            with step("building the C and Cython floor"):
                built, missing = build_floor(floor_dir)
        except ScriptError as error:
            print(f"bench: error: {error}", file=sys.stderr)
            return 1
        sys.path.insert(0, str(floor_dir))
        floor = {name: __import__(module) for name, module in built.items()}
        with step("measuring the calls"):
            results = call_costs(args.rounds, floor)
        report = "\n".join([measured, "", calls_table(results)])
        print(report + "\n")
        for path in (FULL_REPORT, CALLS_README):
            writes.setdefault(path, []).append(((CALLS_START, CALLS_END), report))
        goals = (f"- {line}" for line in costs_goal_lines(results, missing))
        report = "\n".join([measured, "", costs_table(results, cython_version()), "", *goals])
        print(report + "\n")
        for path in (FULL_REPORT, COSTS_README):
            writes.setdefault(path, []).append(((COSTS_START, COSTS_END), report))
    if args.section in ("all", "sets"):
        kinds = release_kinds()
        with step("measuring the set iterators"):
            results = measure(kinds, sizes, args.rounds)
        goals = (f"- {line}" for line in goal_lines(results, sizes))
        report = "\n".join([measured, "", format_tables(results, kinds, sizes), "", *goals])
        print(report)
        summary = "\n".join([measured, "", summary_table(results, max(sizes))])
        writes.setdefault(FULL_REPORT, []).append(((README_START, README_END), report))
        writes.setdefault(LESSON_README, []).append(((README_START, README_END), summary))
        plots.append((lambda path, r=results: plot(r, kinds, sizes, path), Path(args.plot), LESSON_PLOT))
    if args.section in ("all", "threads"):
        from target.release import threads

        twin = None
        if "pyo3" in bindings_for(tuple(sys.version_info[:2])):
            from target.release.pyo3 import threads as twin
        with step("measuring the threads"):
            results = bench_threads.measure(threads, best_time, args.rounds, twin)
        goals = (f"- {line}" for line in bench_threads.goal_lines(results))
        report = "\n".join([measured, "", bench_threads.report(results), "", *goals])
        print(("\n" if args.section == "all" else "") + report)
        markers = (bench_threads.START, bench_threads.END)
        writes.setdefault(FULL_REPORT, []).append((markers, report))
        summary = "\n".join([measured, "", bench_threads.summary_table(results)])
        writes.setdefault(THREADS_README, []).append((markers, summary))
        threads_plot = Path(args.plot).with_name("threads.png")
        plots.append((lambda path, r=results: bench_threads.plot(r, path), threads_plot, THREADS_PLOT))
    if args.section in ("all", "calling"):
        with step("measuring the calls from Rust into Python"):
            table = calling_table(calling_costs(args.rounds))
        report = "\n".join([measured, "", table])
        print(("\n" if args.section == "all" else "") + report)
        for path in (FULL_REPORT, CALLING_README):
            writes.setdefault(path, []).append(((CALLING_START, CALLING_END), report))
    if args.section in ("all", "classes"):
        with step("measuring the classes"):
            results = bench_classes.measure(release_modules("fraction", "mapping"), fastest_batch, args.rounds)
        parts = [
            (
                bench_classes.property_table,
                bench_classes.property_goal_lines,
                bench_classes.PROPERTY_MARKERS,
                "fraction",
            ),
            (bench_classes.mapping_table, bench_classes.mapping_goal_lines, bench_classes.MAPPING_MARKERS, "mapping"),
        ]
        lesson_reports(parts, results, measured, writes)
    if args.section in ("all", "memory"):
        with step("measuring buffers and the garbage collector"):
            results = bench_memory.measure(release_modules("buffers", "references"), fastest_batch, args.rounds)
        parts = [
            (bench_memory.buffer_table, bench_memory.buffer_goal_lines, bench_memory.BUFFER_MARKERS, "buffers"),
            (bench_memory.gc_table, bench_memory.gc_goal_lines, bench_memory.GC_MARKERS, "references"),
        ]
        lesson_reports(parts, results, measured, writes)
    if args.section in ("all", "porting"):
        with step("measuring the bridge between the bindings"):
            results = bench_porting.measure(fastest_batch, args.rounds)
        parts = [(bench_porting.table, bench_porting.goal_lines, bench_porting.MARKERS, "porting")]
        lesson_reports(parts, results, measured, writes)
    if not args.readme:
        for draw, path, _lesson_path in plots:
            draw(path)
        return 0
    try:
        updated = {}
        for path, blocks in writes.items():
            text = path.read_text(encoding="utf-8")
            for markers, body in blocks:
                text = replace_between_markers(text, body, markers)
            updated[path] = text
    except ScriptError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    for draw, _path, lesson_path in plots:
        draw(lesson_path)
    for path, text in updated.items():
        path.write_text(text, encoding="utf-8")
        print(f"results written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
