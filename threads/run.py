"""Lesson 8: a checksum in Rust, with the GIL released and held."""

import time
import zlib
from concurrent.futures import ThreadPoolExecutor

from target.debug import threads

greeting = b"Hello, Smith!"
print("crc32:", threads.crc32(greeting))
print("zlib: ", zlib.crc32(greeting))

# 4 MiB stays in the processor's cache, so the work is the checksum's, not
# the memory bus's; 64 calls of it make one task.
block = bytes(range(256)) * (1 << 14)
expected = zlib.crc32(block)


def task(function):
    for _ in range(64):
        assert function(block) == expected


def four_tasks(function, workers):
    """Seconds for four tasks shared out among `workers` threads (the best
    of five tries, as one try is at the mercy of the machine)."""
    with ThreadPoolExecutor(workers) as pool:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            list(pool.map(task, [function] * 4))
            best = min(best, time.perf_counter() - start)
    return best


print(f"four tasks of 64 calls on {len(block) >> 20} MiB:")
for name in ("crc32_holding_gil", "crc32", "zlib.crc32"):
    function = zlib.crc32 if name == "zlib.crc32" else getattr(threads, name)
    for workers in (1, 2):
        seconds = four_tasks(function, workers)
        print(f"  {name:17} from {workers} thread{'s' if workers > 1 else ' '}: {seconds:.3f} s")
