"""Nothing a caller does may crash the interpreter, leak, or break under threads.

Every check here runs in a child interpreter, so that a segfault or an
abort fails one test, with the signal's name, instead of ending the run.
"""

import os
import sys
import textwrap

import pytest
from conftest import LESSONS, PYO3, ROOT, describe_exit, measures_memory, run_child

from check_lessons import hostile_calls
from lessons import imitating

# Values no entry point expects. Defined inside the child, since some are
# consumed by use (generators) and some are classes with hostile methods.
HOSTILE = textwrap.dedent(
    """
    import sys

    class IndexRaises:
        def __index__(self):
            raise ValueError("no index")

    class EqRaises:
        def __hash__(self):
            return 1

        def __eq__(self, other):
            raise RuntimeError("no eq")

    class HostileInt(int):
        def __index__(self):
            raise ValueError("no index")

        def __lt__(self, other):
            raise ValueError("no lt")

        def __eq__(self, other):
            raise ValueError("no eq")

        __hash__ = int.__hash__

    class HostileStr(str):
        def __str__(self):
            raise ValueError("no str")

    class IterRaises:
        def __iter__(self):
            return self

        def __next__(self):
            raise ValueError("no next")

    def fails_midway():
        yield 1
        yield -1
        raise KeyError("midway")

    def hostile_values():
        return [
            None, True, False, 0, -1, 2**32 - 1, 2**32, 2**63, -(2**63) - 1, 2**64, 10**400, -(10**400),
            1.5, float("nan"), float("inf"), -0.0, 1j,
            "", "Smith", "\\ud800", "\\udfff" * 1000, "x" * 1_000_000, HostileStr("s"),
            b"\\xff", bytearray(b"x"), memoryview(b"x"),
            [], [1, -1], [1, "x"], {}, set(), (1,), frozenset([2**40]),
            object(), IndexRaises(), EqRaises(), HostileInt(5), HostileInt(-(2**70)),
            IterRaises(), fails_midway(), range(10), iter([1, 2]),
            NotImplemented, Ellipsis, type, sys,
        ]
    """
)

CHILD = textwrap.dedent(
    """
    {hostile}
    from target.debug import {module}

    def quietly(action):
        try:
            return action()
        except BaseException:  # PyO3's PanicException is not an Exception
            return None

    def filled(numbers):
        for number in (1, 2, 3):
            numbers.add(number)
        return numbers

    def mutate_then_iterate(numbers, change):
        walk = iter(numbers)
        next(walk)
        quietly(lambda: change(numbers))
        walk.__length_hint__()
        quietly(lambda: list(walk))
        quietly(lambda: next(walk))

    calls = 0
    for value in hostile_values():
        quietly(lambda: {call})
        calls += 1
    print("survived", calls)
    """
)

# The lessons whose class imitates the builtin set.
SET_LESSONS = imitating("set")

# Each lesson's test file lists its module's entry points, HOSTILE_CALLS.
CASES = [(module, call) for module in LESSONS for call in hostile_calls(ROOT / "tests" / f"test_{module}.py")]


@pytest.mark.parametrize(("module", "call"), CASES, ids=[f"{m}:{c}" for m, c in CASES])
def test_hostile_input_never_crashes(module, call):
    code = CHILD.format(hostile=HOSTILE, module=module, call=call)
    result = run_child(code)
    assert result.returncode == 0, f"{call}: {describe_exit(result.returncode)}\n{result.stderr[-2000:]}"
    assert result.stdout.startswith("survived ")


LEAK_CHECK = textwrap.dedent(
    """
    import sys
    from target.debug import {module} as lesson
    from workspace import resident_bytes

    # The iterator's type: lesson 6's iterates a snapshot with a list's.
    HashSet, SetIterator = lesson.HashSet, type(iter(lesson.HashSet()))
    CYCLES = int(sys.argv[1])

    # Ints above 256 are not cached by CPython: their reference counts
    # show whether a call keeps a reference it should have dropped.
    values = [int(str(1000 + n)) for n in range(8)]
    # Made at run time, so that no other code shares these objects.
    bad = [-1, int(str(2**40)), "".join(["ba", "d"]), None]
    watched = values + bad[1:3] + [HashSet, SetIterator]
    numbers = HashSet()

    def cycle(i):
        value = values[i % 8]
        numbers.add(value)
        value in numbers
        for _ in numbers:
            pass
        walk = iter(numbers)
        next(walk)
        try:
            numbers.add(bad[i % 4])
        except (OverflowError, TypeError):
            pass
        # The PyO3 twins of lessons 4 and 5 raise TypeError for a value
        # that is not an int, where rust-cpython answers False.
        try:
            bad[i % 4] in numbers
        except (OverflowError, TypeError):
            pass
        try:
            float(value) in numbers
        except TypeError:
            pass
        if hasattr(numbers, "discard"):
            numbers.update([value], [value + 1])
            numbers.discard(value + 1)
            numbers.discard(value)
            # A loan is stale now; a snapshot may have run out.
            try:
                next(walk, None)
            except RuntimeError:
                pass

    for i in range(10_000):
        cycle(i)
    counts = [sys.getrefcount(thing) for thing in watched]
    before = resident_bytes()
    for i in range(CYCLES):
        cycle(i)
    grown = resident_bytes() - before
    after = [sys.getrefcount(thing) for thing in watched]
    print(grown, counts == after, counts, after)
    """
)


# A million by default; `scripts/test.py --all-pythons` runs fewer per version.
LEAK_CYCLES = int(os.environ.get("LESSONS_LEAK_CYCLES", "1000000"))


@measures_memory
@pytest.mark.parametrize("module", SET_LESSONS)
def test_a_million_cycles_leak_neither_memory_nor_references(module):
    result = run_child(LEAK_CHECK.format(module=module), str(LEAK_CYCLES))
    assert result.returncode == 0, describe_exit(result.returncode) + "\n" + result.stderr[-2000:]
    grown, same_counts, before, after = result.stdout.split(" ", 3)
    assert int(grown) < 2_000_000, f"resident memory grew by {grown} bytes over a million cycles"
    assert same_counts == "True", f"reference counts changed: {before} -> {after}"


THREADS = textwrap.dedent(
    """
    import sys, threading
    from target.debug import {module} as lesson

    sys.setswitchinterval(1e-6)
    numbers = lesson.HashSet()
    THREADS, VALUES, WALKS = 8, 400, 40
    allowed_errors = {{"Set changed size during iteration", "Set changed during iteration"}}
    completed, interrupted, problems = [], [], []

    def work(k):
        mine = range(k * 10_000, k * 10_000 + VALUES)
        try:
            for n, value in enumerate(mine):
                numbers.add(value)
                assert value in numbers
                if n % (VALUES // WALKS) == 0:
                    seen = []
                    try:
                        for item in numbers:
                            seen.append(item)
                    except RuntimeError as error:
                        if str(error) not in allowed_errors:
                            raise
                        interrupted.append(len(seen))
                    else:
                        completed.append(len(seen))
                    assert len(seen) == len(set(seen)), "an iterator repeated a value"
        except BaseException as error:
            problems.append(repr(error))

    workers = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    expected = set(v for k in range(THREADS) for v in range(k * 10_000, k * 10_000 + VALUES))
    print(sorted(numbers) == sorted(expected), len(completed), len(interrupted), problems)
    """
)


@pytest.mark.parametrize("module", SET_LESSONS)
def test_eight_threads_sharing_one_set(module):
    result = run_child(THREADS.format(module=module))
    assert result.returncode == 0, describe_exit(result.returncode) + "\n" + result.stderr[-2000:]
    union_matches, completed, interrupted, problems = result.stdout.strip().split(" ", 3)
    assert problems == "[]"
    assert union_matches == "True"
    assert int(completed) + int(interrupted) == 8 * 40
    if module != "borrowed":
        assert int(interrupted) == 0, "only lesson 5's iterator borrows the set; a snapshot never sees changes"


REFERENCE_COUNTS = textwrap.dedent(
    """
    import sys
    from target.debug.errors import HashSet

    small_int, type_object = sys.getrefcount(5), sys.getrefcount(HashSet)
    for _ in range(1000):
        HashSet(range(257))
    print(small_int - sys.getrefcount(5), sys.getrefcount(HashSet) - type_object)
    """
)


def test_reference_counts_behave_as_the_readme_says_for_this_python():
    """Pins the known limits of rust-cpython 0.7 on 3.12 and 3.13, so that a
    change (for better or worse) shows up here and in the README."""
    result = run_child(REFERENCE_COUNTS)
    assert result.returncode == 0, result.stderr
    small_int_lowered, type_references_left = map(int, result.stdout.split())
    if sys.version_info < (3, 12) or PYO3:
        # PyO3 knows immortal objects and gives back what it takes.
        assert (small_int_lowered, type_references_left) == (0, 0)
    else:
        # 3.12 made small ints immortal: CPython no longer counts the
        # references it hands out, but rust-cpython still gives each back.
        assert 990 <= small_int_lowered <= 1000
        # 3.13: every instance leaves one reference on its type.
        assert type_references_left == (1000 if sys.version_info >= (3, 13) else 0)
