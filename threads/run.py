"""Lesson 7: a checksum in Rust, with the GIL released and held."""

import time
import zlib
from concurrent.futures import ThreadPoolExecutor

from target.debug import threads

greeting = b"Hello, Smith!"
print("crc32:", threads.crc32(greeting))
print("zlib: ", zlib.crc32(greeting))

data = bytes(range(256)) * (1 << 18)  # 64 MiB
expected = [zlib.crc32(data)] * 4


def four_calls(function, workers):
    """Seconds for four calls shared out among `workers` threads (the best
    of three tries, as one try is at the mercy of the machine)."""
    with ThreadPoolExecutor(workers) as pool:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            results = list(pool.map(function, [data] * 4))
            best = min(best, time.perf_counter() - start)
            assert results == expected
    return best


print(f"four calls on {len(data) >> 20} MiB:")
for name in ("crc32_holding_gil", "crc32"):
    for workers in (1, 2):
        seconds = four_calls(getattr(threads, name), workers)
        print(f"  {name:17} from {workers} thread{'s' if workers > 1 else ' '}: {seconds:.3f} s")
