"""Lesson 10: lines counted on Rust threads, which call a Python callback."""

import threading

from target.debug import workers

chunks = [b"one\ntwo\nthree\n", b"", b"no newline", b"a\nb\n"] * 1000
calls, callers = [], set()


def progress(done, total):
    calls.append((done, total))
    callers.add(threading.current_thread())


counter = workers.Counter()
counts = counter.count_lines(chunks, progress, threads=2)
print("counts:     ", counts[:4], "...")
print("bytes.count:", [chunk.count(b"\n") for chunk in chunks][:4], "...")
print(f"progress:    {len(calls)} calls, the last {max(calls)}")
print("called on:  ", sorted({type(thread).__name__ for thread in callers}))
print("done():     ", counter.done())


def stop_at_half(done, total):
    if done == total // 2:
        raise KeyboardInterrupt(f"stopped at {done} of {total}")


counter = workers.Counter()
try:
    counter.count_lines(chunks, stop_at_half)
except KeyboardInterrupt as error:
    print("KeyboardInterrupt:", error)
# The other thread may count a few chunks more before it sees the stop.
print("stopped early:", counter.done() < len(chunks))
