"""Lesson 5: an iterator that borrows the Rust set instead of copying it.

The builtin `set` is the specification: where the two can be compared, the
same operations run on both.
"""

import operator
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import (
    BINDING,
    EXT_SUFFIX,
    OUT_OF_RANGE,
    PYO3,
    extraction_note,
    measures_memory,
    per_binding,
    run_child,
)

from binding_switch import installed, module_path
from target.debug import borrowed

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "borrowed.HashSet(value)",
    "borrowed.HashSet().add(value)",
    "borrowed.HashSet().add(value=value)",
    "value in borrowed.HashSet()",
    "borrowed.HashSet.add(value, 1)",
    "borrowed.HashSet.__len__(value)",
    "borrowed.HashSet.__contains__(value, 1)",
    "borrowed.HashSet.__iter__(value)",
    "borrowed.SetIterator(value)",
    "borrowed.SetIterator.__next__(value)",
    "borrowed.SetIterator.__length_hint__(value)",
    # An iterator, then a hostile change to its set, then the iterator.
    "mutate_then_iterate(filled(borrowed.HashSet()), lambda s: s.add(value))",
]

LOANS = [borrowed]


@pytest.fixture(params=LOANS, ids=lambda module: module.__name__.rsplit(".", 1)[1])
def lesson(request):
    return request.param


def make(kind, values=()):
    """A set of `kind` (a lesson module or the builtin `set`) holding `values`."""
    numbers = kind() if kind is set else kind.HashSet()
    for value in values:
        numbers.add(value)
    return numbers


def test_run_prints_what_lesson_4_prints(run_lesson):
    lines = run_lesson("borrowed").splitlines()
    assert lines[:2] == ["has 0: False", "has 1: True"]
    assert sorted(lines[2:4]) == ["found 1", "found 2"]
    assert lines[4:] == ["2"]


def test_the_module_is_the_one_this_session_imports():
    """From target/ as built, or, when the shipping lesson's tests run these, from the
    package that `pip install` put in site-packages."""
    location = Path(borrowed.__file__)
    if installed():
        assert location.parent == Path(installed()) / "borrowed"
        assert location.name == "borrowed" + EXT_SUFFIX
    else:
        assert location == module_path("borrowed", BINDING)


def test_api_is_lesson_4s_plus_length_hint():
    from target.debug import wrapper

    def public(cls):
        return sorted(name for name in dir(cls) if not name.startswith("__") or name in ("__iter__", "__next__"))

    assert public(borrowed.HashSet) == public(wrapper.HashSet)
    assert public(borrowed.SetIterator) == public(wrapper.SetIterator)
    assert hasattr(borrowed.SetIterator, "__length_hint__")
    assert not hasattr(wrapper.SetIterator, "__length_hint__")


def test_values_convert_as_in_lesson_4():
    numbers = make(borrowed, [1])
    with pytest.raises(OverflowError) as excinfo:
        numbers.add(-1)
    assert str(excinfo.value) == per_binding("", OUT_OF_RANGE)
    with pytest.raises(TypeError, match="^'str' object cannot be interpreted as an integer" + extraction_note("value")):
        numbers.add("1")
    with pytest.raises(OverflowError):
        2**32 in numbers  # noqa: B015
    if PYO3:
        with pytest.raises(TypeError):
            "1" in numbers  # noqa: B015
    else:
        assert ("1" in numbers) is False
    assert list(numbers) == [1]


# The loan


def test_iterator_yields_every_element_once(lesson):
    values = set(range(0, 10_000, 3))
    assert sorted(make(lesson, values)) == sorted(values)


def test_iterator_is_its_own_iterator(lesson):
    it = iter(make(lesson, [1]))
    assert iter(it) is it
    assert isinstance(it, lesson.SetIterator)


def test_iterator_cannot_be_created_from_python(lesson):
    with pytest.raises(TypeError, match="cannot create"):
        lesson.SetIterator()


def test_exhausted_iterator_keeps_raising_stop_iteration(lesson):
    it = iter(make(lesson, [1, 2]))
    assert sorted(it) == [1, 2]
    for _ in range(3):
        with pytest.raises(StopIteration):
            next(it)


def test_exhausted_iterator_ignores_later_changes(lesson):
    numbers = make(lesson, [1])
    it = iter(numbers)
    assert list(it) == [1]
    numbers.add(2)
    with pytest.raises(StopIteration):
        next(it)
    assert operator.length_hint(it) == 0


def test_length_hint_counts_down_like_the_builtin(lesson):
    ours, theirs = iter(make(lesson, range(5))), iter(set(range(5)))
    for _ in range(5):
        assert operator.length_hint(ours) == operator.length_hint(theirs)
        next(ours)
        next(theirs)
    assert operator.length_hint(ours) == operator.length_hint(theirs) == 0


def add_while_iterating(numbers):
    for value in numbers:
        numbers.add(value + 10)


@pytest.mark.parametrize("kind", [set, borrowed], ids=["set", "borrowed"])
def test_adding_while_iterating_raises_runtime_error(kind):
    # Mirrors CPython's test_set.TestSet.test_changingSizeWhileIterating.
    numbers = make(kind, [1, 2, 3])
    with pytest.raises(RuntimeError, match="^Set changed size during iteration$"):
        add_while_iterating(numbers)
    # One value was added (which one depends on the hash order).
    assert len(numbers) == 4


@pytest.mark.parametrize("kind", [set, borrowed], ids=["set", "borrowed"])
def test_runtime_error_is_sticky(kind):
    numbers = make(kind, [1, 2, 3])
    it = iter(numbers)
    next(it)
    numbers.add(4)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="^Set changed size during iteration$"):
            next(it)
    assert operator.length_hint(it) == 0


@pytest.mark.parametrize("kind", [set, borrowed], ids=["set", "borrowed"])
def test_change_before_first_next_is_detected(kind):
    numbers = make(kind, [1])
    it = iter(numbers)
    numbers.add(2)
    with pytest.raises(RuntimeError, match="changed size"):
        next(it)


@pytest.mark.parametrize("kind", [set, borrowed], ids=["set", "borrowed"])
def test_change_after_last_value_but_before_stop_is_detected(kind):
    # The check for a change comes before the check for the end.
    numbers = make(kind, [1])
    it = iter(numbers)
    next(it)
    numbers.add(2)
    with pytest.raises(RuntimeError):
        next(it)


@pytest.mark.parametrize(
    "no_op",
    [lambda s: s.add(1), lambda s: len(s), lambda s: 5 in s, lambda s: iter(s)],
    ids=["add-present", "len", "in", "iter"],
)
def test_calls_that_change_nothing_leave_iterators_valid(lesson, no_op):
    numbers = make(lesson, [1, 2, 3])
    it = iter(numbers)
    first = next(it)
    no_op(numbers)
    assert sorted([first, *it]) == [1, 2, 3]


@pytest.mark.parametrize("bad", [-1, "x", 2**40, None], ids=["negative", "str", "too-large", "None"])
def test_failed_adds_leave_iterators_valid(lesson, bad):
    numbers = make(lesson, [1, 2, 3])
    it = iter(numbers)
    first = next(it)
    with pytest.raises((OverflowError, TypeError)):
        numbers.add(bad)
    assert sorted([first, *it]) == [1, 2, 3]


def test_new_iterator_after_a_change_sees_the_new_contents(lesson):
    numbers = make(lesson, [1])
    stale = iter(numbers)
    numbers.add(2)
    assert sorted(numbers) == [1, 2]
    with pytest.raises(RuntimeError):
        next(stale)


def test_iterators_are_independent(lesson):
    numbers = make(lesson, range(10))
    first, second = iter(numbers), iter(numbers)
    next(first)
    assert len(list(second)) == 10
    assert len(list(first)) == 9


def test_iterator_keeps_the_set_alive(lesson):
    it = iter(make(lesson, [1, 2]))
    # Were the set freed with its last name, these would reuse its memory.
    others = [make(lesson, range(100, 110)) for _ in range(50)]
    assert sorted(it) == [1, 2]
    assert len(others) == 50


def test_set_is_released_once_its_iterators_are_done(lesson):
    numbers = make(lesson, [1])
    base = sys.getrefcount(numbers)
    it = iter(numbers)
    assert sys.getrefcount(numbers) > base
    list(it)
    assert sys.getrefcount(numbers) == base


def test_set_is_released_once_an_iterator_is_stale(lesson):
    numbers = make(lesson, [1, 2])
    base = sys.getrefcount(numbers)
    it = iter(numbers)
    numbers.add(3)
    with pytest.raises(RuntimeError):
        next(it)
    assert sys.getrefcount(numbers) == base


# No copy: memory, not time


@measures_memory
def test_iter_copies_nothing_while_the_clone_copies_everything():
    script = textwrap.dedent(
        """
        from target.debug.borrowed import HashSet as Borrowed
        from target.debug.wrapper import HashSet as Cloned
        from workspace import resident_bytes as rss

        borrowed, cloned = Borrowed(), Cloned()
        for value in range(1_000_000):
            borrowed.add(value)
            cloned.add(value)
        before = rss()
        kept = iter(borrowed)
        after_borrowed = rss()
        kept_too = iter(cloned)
        after_cloned = rss()
        print(after_borrowed - before, after_cloned - after_borrowed)
        """
    )
    result = run_child(script)
    assert result.returncode == 0, result.stderr
    borrowed_growth, cloned_growth = map(int, result.stdout.split())
    assert borrowed_growth < 1_000_000, f"iter() on the borrowed set grew RSS by {borrowed_growth} bytes"
    assert cloned_growth > 4_000_000, f"the clone grew RSS by only {cloned_growth} bytes"
