"""The threads section of `scripts/bench.py`: the threads lesson's CRC-32 with the GIL
released and held, against zlib.crc32, on one thread and on several.

Throughput is the best of the rounds for each input size; the speedup of N
threads is N times the time of one thread's calls, divided by the time of N
threads making the same calls each (each on its own input) at once. It is
measured twice: on an input that stays in the processor's cache, where the
work is the checksum's, and on one far larger than the cache, where it is
the memory bus's. zlib.crc32, which releases the GIL too, is the machine's
own limit, measured the same way in the same run.
"""

import functools
import threading
import time
import zlib

from workspace import markdown_table

SIZES = (64, 512, 4 << 10, 32 << 10, 256 << 10, 2 << 20, 16 << 20, 64 << 20)
THREAD_COUNTS = (1, 2, 4)
# Where the threads' inputs come from: (bytes per input, calls per thread).
# 4 MiB stays in cache on the machines measured here; 512 MiB is past any
# of their caches (the largest seen: 260 MiB of L3).
WORKLOADS = {"in cache": (4 << 20, 64), "from memory": (512 << 20, 1)}
START, END = "<!-- bench-threads:start -->", "<!-- bench-threads:end -->"
NAMES = ("zlib.crc32", "crc32", "crc32_holding_gil", "PyO3 crc32")


def functions(threads, twin=None):
    """The checksums, by the names the tables use (the PyO3 twin's `crc32`
    where it is built)."""
    named = dict(zip(NAMES, (zlib.crc32, threads.crc32, threads.crc32_holding_gil)))
    if twin is not None:
        named["PyO3 crc32"] = twin.crc32
    return named


def human_size(size):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size // scale} {unit}"
    return f"{size} B"


class Team:
    """`count` threads kept alive between measurements, each with its own
    input and number of calls, started together by a barrier so thread
    start-up is not timed."""

    def __init__(self, inputs, calls):
        count = len(inputs)
        self.inputs = inputs
        self.calls = calls
        self.start = threading.Barrier(count + 1)
        self.done = threading.Barrier(count + 1)
        self.function = None
        self.workers = [threading.Thread(target=self.work, args=(k,), daemon=True) for k in range(count)]
        for worker in self.workers:
            worker.start()

    def work(self, k):
        while True:
            self.start.wait()
            if self.function is None:
                return
            for _ in range(self.calls):
                self.function(self.inputs[k])
            self.done.wait()

    def seconds(self, function):
        """Wall time for every thread to make its calls, all at once."""
        self.function = function
        began = time.perf_counter()
        self.start.wait()
        self.done.wait()
        return time.perf_counter() - began

    def stop(self):
        self.function = None
        self.start.wait()
        for worker in self.workers:
            worker.join()


def measure(threads, best_time, rounds, twin=None):
    """{("throughput", name, size): GB/s, ("speedup", where, name, n): ratio}."""
    named = functions(threads, twin)
    results = {}
    for size in SIZES:
        data = bytes(range(256)) * (size // 256) + bytes(size % 256)
        for _ in range(rounds):
            for name, function in named.items():
                rate = size / best_time(functools.partial(function, data)) / 1e9
                key = ("throughput", name, size)
                results[key] = max(results.get(key, 0.0), rate)
    for where, (size, calls) in WORKLOADS.items():
        inputs = [bytes([k]) * size for k in range(max(THREAD_COUNTS))]
        teams = {count: Team(inputs[:count], calls) for count in THREAD_COUNTS}
        try:
            best = {}
            for _ in range(rounds):
                for count, team in teams.items():
                    for name, function in named.items():
                        best[name, count] = min(best.get((name, count), float("inf")), team.seconds(function))
        finally:
            for team in teams.values():
                team.stop()
        for (name, count), seconds in best.items():
            results["speedup", where, name, count] = count * best[name, 1] / seconds
    return results


def measured_names(results):
    """The checksums this run measured, in table order."""
    return [name for name in NAMES if ("throughput", name, SIZES[0]) in results]


def throughput_table(results):
    names = measured_names(results)
    twin = "PyO3 crc32" in names
    rows = [
        ["input", *(f"{name} GB/s" for name in names), "crc32 / zlib", "crc32 / holding"]
        + (["PyO3 / crc32"] if twin else [])
    ]
    for size in SIZES:
        rate = {name: results["throughput", name, size] for name in names}
        rows.append(
            [
                human_size(size),
                *(f"{rate[name]:.2f}" for name in names),
                f"{rate['crc32'] / rate['zlib.crc32']:.2f}x",
                f"{rate['crc32'] / rate['crc32_holding_gil']:.2f}x",
            ]
            + ([f"{rate['PyO3 crc32'] / rate['crc32']:.2f}x"] if twin else [])
        )
    return markdown_table(rows, right_align=True)


def workload(where):
    size, calls = WORKLOADS[where]
    return f"{calls} x {human_size(size)}" if calls > 1 else human_size(size)


def speedup_table(results):
    names = measured_names(results)
    rows = [["threads, each with its own input", *(f"{name} speedup" for name in names)]]
    for where in WORKLOADS:
        for count in THREAD_COUNTS:
            label = f"{count}, {workload(where)} ({where})"
            rows.append([label, *(f"{results['speedup', where, name, count]:.2f}x" for name in names)])
    return markdown_table(rows, right_align=True)


def summary_table(results):
    """The lesson's one table: a call on a tiny input, throughput on a small
    and a large one, and the speedup with threads."""
    tiny, small, large = SIZES[0], 4 << 10, SIZES[-1]
    names = measured_names(results)
    rows = [["", *names]]
    rows.append([f"one call, {human_size(tiny)}", *(f"{tiny / results['throughput', n, tiny]:.0f} ns" for n in names)])
    for size in (small, large):
        rows.append([f"{human_size(size)}, one thread", *(f"{results['throughput', n, size]:.2f} GB/s" for n in names)])
    for where in WORKLOADS:
        label = f"2 threads, {where}"
        rows.append([label, *(f"{results['speedup', where, n, 2]:.2f}x faster" for n in names)])
    return markdown_table(rows)


def report(results):
    return "\n\n".join([throughput_table(results), speedup_table(results)])


def crossover(results):
    """The smallest input at which releasing the GIL costs no throughput
    (crc32 at least 95% of crc32_holding_gil), or None."""
    for size in SIZES:
        if results["throughput", "crc32", size] >= 0.95 * results["throughput", "crc32_holding_gil", size]:
            return size
    return None


def goal_lines(results):
    """The threads lesson's goals, with what this run measured."""
    released = results["speedup", "in cache", "crc32", 2]
    limit = results["speedup", "in cache", "zlib.crc32", 2]
    held = results["speedup", "in cache", "crc32_holding_gil", 2]
    ours, theirs = results["throughput", "crc32", SIZES[-1]], results["throughput", "zlib.crc32", SIZES[-1]]
    checks = [
        (
            f"2 threads in cache: crc32 {released:.2f}x, zlib.crc32 {limit:.2f}x "
            f"(goal: crc32 >= 0.9 x zlib.crc32's speedup)",
            released >= 0.9 * limit,
        ),
        (f"2 threads in cache, crc32_holding_gil: speedup {held:.2f}x (goal <= 1.1x)", held <= 1.1),
        (f"1 thread: crc32 {ours:.2f} GB/s, zlib.crc32 {theirs:.2f} GB/s (goal: crc32 >= zlib)", ours >= theirs),
    ]
    lines = [f"{label}: {'met' if ok else 'missed'}" for label, ok in checks]
    smallest = SIZES[0]
    per_call = (
        smallest / results["throughput", "crc32", smallest]
        - smallest / results["throughput", "crc32_holding_gil", smallest]
    )
    lines.append(f"releasing and taking back the GIL: about {per_call:.0f} ns per call ({human_size(smallest)} input)")
    size = crossover(results)
    lines.append(
        "releasing the GIL costs nothing measurable from "
        + (human_size(size) if size else "no size measured")
        + " up (crc32 within 5% of crc32_holding_gil)"
    )
    return lines


def plot(results, path):
    """Throughput against input size, and the speedup with threads."""
    plt = pyplot()
    if plt is None:
        return
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    names = measured_names(results)
    for name in names:
        left.plot(SIZES, [results["throughput", name, size] for size in SIZES], marker="o", label=name)
    left.set_xscale("log", base=2)
    left.set_xlabel("input size (bytes)")
    left.set_ylabel("GB/s, one thread")
    left.set_title("Throughput")
    left.grid(True, which="both", alpha=0.3)
    left.legend()
    width = 0.8 / len(names)
    for offset, name in enumerate(names):
        xs = [index + (offset - (len(names) - 1) / 2) * width for index in range(len(THREAD_COUNTS))]
        right.bar(xs, [results["speedup", "in cache", name, count] for count in THREAD_COUNTS], width, label=name)
    right.set_xticks(range(len(THREAD_COUNTS)), [str(count) for count in THREAD_COUNTS])
    right.set_xlabel(f"threads, each hashing its own {human_size(WORKLOADS['in cache'][0])} (in cache)")
    right.set_ylabel("speedup over one thread")
    right.set_title("Scaling")
    right.grid(True, axis="y", alpha=0.3)
    right.legend()
    save_plot(plt, figure, path)


def pyplot():
    """matplotlib's pyplot, drawing to files; None (with a note) when
    matplotlib is not installed. Also used by bench.py."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot skipped: matplotlib is not installed (pip install -r bench-requirements.txt)")
        return None
    return plt


def save_plot(plt, figure, path):
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(str(path), dpi=100)
    plt.close(figure)
    print(f"plot written to {path}")
