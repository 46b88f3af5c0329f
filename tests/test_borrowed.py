"""Lesson 5: a HashSet whose iterator borrows the Rust set instead of copying it.

Python's builtin `set` is the specification: where the two can be compared,
the tests run the same operations on both.
"""

import operator
import sys
import textwrap

import pytest
from conftest import measures_memory, run_child
from target.debug.borrowed import HashSet, SetIterator

U32_MAX = 2**32 - 1
RANGE_NOTE = ": HashSet holds integers from 0 to 4294967295"


def test_run_shows_iteration_and_its_rules(run_lesson):
    assert run_lesson("borrowed") == (
        "HashSet({1, 2, 3})\n"
        "sum: 6\n"
        "first value is in the set: True\n"
        "after adding 1 again, left: 2\n"
        "after adding 4: Set changed size during iteration\n"
        "has -1: False\n"
        "add(-1): -1 is negative" + RANGE_NOTE + "\n"
    )


# Construction and repr


@pytest.mark.parametrize(
    "make_source",
    [list, tuple, set, iter, lambda values: (value for value in values), lambda values: dict.fromkeys(values)],
)
def test_constructor_takes_any_iterable_like_set(make_source):
    values = [3, 1, 2, 3, 0, U32_MAX]
    assert sorted(HashSet(make_source(values))) == sorted(set(make_source(values)))


def test_empty_constructor():
    assert len(HashSet()) == 0
    assert list(HashSet()) == []


def test_repr_is_sorted_and_round_trips():
    assert repr(HashSet()) == "HashSet()"
    assert repr(HashSet([10, 2, 7])) == "HashSet({2, 7, 10})"
    assert str(HashSet([U32_MAX])) == "HashSet({4294967295})"
    for numbers in (HashSet(), HashSet([10, 2, 7])):
        assert sorted(eval(repr(numbers), {"HashSet": HashSet})) == sorted(numbers)


def test_constructor_rejects_a_non_iterable():
    with pytest.raises(TypeError, match="'int' object is not iterable"):
        HashSet(5)
    with pytest.raises(TypeError, match="'NoneType' object is not iterable"):
        HashSet(None)


def test_constructor_rejects_bad_elements_with_the_add_messages():
    with pytest.raises(OverflowError, match="^-1 is negative" + RANGE_NOTE):
        HashSet([1, -1])
    with pytest.raises(TypeError, match="^HashSet values must be int, not str$"):
        HashSet("abc")


def test_constructor_argument_count_and_keywords_match_set():
    with pytest.raises(TypeError, match="^HashSet expected at most 1 argument, got 2$"):
        HashSet([1], [2])
    with pytest.raises(TypeError, match=r"^HashSet\(\) takes no keyword arguments$"):
        HashSet(iterable=[1])


# Mutation, compared with the builtin set


def test_add_discard_remove_match_builtin_set():
    ours, theirs = HashSet(), set()
    for op, value in [("add", 1), ("add", 2), ("add", 1), ("discard", 5), ("discard", 1), ("remove", 2), ("add", 0)]:
        assert getattr(ours, op)(value) is None
        getattr(theirs, op)(value)
        assert sorted(ours) == sorted(theirs)
        assert len(ours) == len(theirs)


def test_remove_missing_raises_key_error_with_the_value():
    with pytest.raises(KeyError) as ours:
        HashSet([1]).remove(7)
    with pytest.raises(KeyError) as theirs:
        {1}.remove(7)
    assert ours.value.args == theirs.value.args == (7,)


def test_remove_tuple_is_a_type_error_not_a_key_error():
    # The builtin would look the tuple up and raise KeyError((1, 2)); here
    # only an int can be a member, so the type is refused first.
    with pytest.raises(TypeError, match="not tuple"):
        HashSet().remove((1, 2))


def test_bool_counts_as_the_int_it_equals():
    numbers = HashSet([True])
    assert list(numbers) == [1]
    assert False not in numbers
    numbers.discard(True)
    assert len(numbers) == 0


def test_int_subclass_is_stored_as_plain_int():
    class Number(int):
        pass

    numbers = HashSet([Number(5)])
    assert type(next(iter(numbers))) is int


@pytest.mark.parametrize("method", ["add", "discard", "remove"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "-1 is negative"),
        (-(2**40), "-1099511627776 is negative"),
        (2**32, "4294967296 is too large"),
        (2**63 - 1, "9223372036854775807 is too large"),
        (2**64, "integer is too large"),
        (10**400, "integer is too large"),
        (-(10**400), "integer is negative"),
    ],
)
def test_out_of_range_ints_raise_overflow_error_naming_the_problem(method, value, message):
    numbers = HashSet([1])
    with pytest.raises(OverflowError) as excinfo:
        getattr(numbers, method)(value)
    assert str(excinfo.value) == message + RANGE_NOTE
    assert list(numbers) == [1]


@pytest.mark.parametrize("method", ["add", "discard", "remove"])
@pytest.mark.parametrize(
    ("value", "type_name"),
    [(None, "NoneType"), (1.0, "float"), (1.5, "float"), ("1", "str"), (b"1", "bytes"), ([1], "list"), (1j, "complex")],
)
def test_non_ints_raise_type_error_naming_the_type(method, value, type_name):
    numbers = HashSet([1])
    with pytest.raises(TypeError) as excinfo:
        getattr(numbers, method)(value)
    assert str(excinfo.value) == "HashSet values must be int, not " + type_name
    assert list(numbers) == [1]


def test_methods_reject_wrong_keywords():
    with pytest.raises(TypeError, match=r"^Required argument \('value'\) \(pos 1\) not found$"):
        HashSet().add(v=1)
    assert HashSet().add(value=1) is None


# Membership: never raises, like the builtin


@pytest.mark.parametrize(
    "value", [0, 1, U32_MAX, 2**32, -1, 2**100, -(2**100), 1.0, 1.5, -0.0, float("nan"), float("inf"), True, False]
)
def test_contains_agrees_with_builtin_set(value):
    contents = [0, 1, 7, U32_MAX]
    assert (value in HashSet(contents)) == (value in set(contents))


@pytest.mark.parametrize("value", ["1", None, b"\x01", (1,), [1], {1}, object()])
def test_contains_is_false_for_values_that_cannot_be_members(value):
    # The builtin raises TypeError for unhashable values such as lists;
    # nothing but a u32 can be inside this set, so the answer is False.
    assert (value in HashSet([1])) is False


def test_contains_with_lone_surrogate_string_is_false():
    assert ("\ud800" in HashSet([1])) is False


# Iteration: the builtin set's behaviour, mirrored from CPython's own tests


def test_iterator_yields_every_element_once():
    values = set(range(0, 10_000, 3))
    assert sorted(HashSet(values)) == sorted(values)


def test_iterator_is_its_own_iterator():
    it = iter(HashSet([1]))
    assert iter(it) is it
    assert isinstance(it, SetIterator)


def test_iterator_cannot_be_created_from_python():
    with pytest.raises(TypeError, match="cannot create"):
        SetIterator()


def test_exhausted_iterator_keeps_raising_stop_iteration():
    numbers = HashSet([1, 2])
    it = iter(numbers)
    assert sorted(it) == [1, 2]
    for _ in range(3):
        with pytest.raises(StopIteration):
            next(it)


def test_exhausted_iterator_ignores_later_changes():
    numbers = HashSet([1])
    it = iter(numbers)
    assert list(it) == [1]
    numbers.add(2)
    numbers.discard(1)
    with pytest.raises(StopIteration):
        next(it)
    assert operator.length_hint(it) == 0


def test_length_hint_counts_down_like_the_builtin():
    ours, theirs = iter(HashSet(range(5))), iter(set(range(5)))
    for _ in range(5):
        assert operator.length_hint(ours) == operator.length_hint(theirs)
        next(ours)
        next(theirs)
    assert operator.length_hint(ours) == operator.length_hint(theirs) == 0


def add_while_iterating(numbers):
    for value in numbers:
        numbers.add(value + 10)


def remove_while_iterating(numbers):
    for value in numbers:
        numbers.remove(value)


@pytest.mark.parametrize("kind", [set, HashSet])
def test_changing_size_while_iterating_raises_runtime_error(kind):
    # Mirrors CPython's test_set.TestSet.test_changingSizeWhileIterating.
    with pytest.raises(RuntimeError, match="^Set changed size during iteration$"):
        add_while_iterating(kind([1, 2, 3]))


@pytest.mark.parametrize("kind", [set, HashSet])
def test_removing_while_iterating_raises_runtime_error(kind):
    with pytest.raises(RuntimeError, match="^Set changed size during iteration$"):
        remove_while_iterating(kind([1, 2, 3]))


def test_runtime_error_is_sticky_even_if_size_is_restored():
    for kind in (set, HashSet):
        numbers = kind([1, 2, 3])
        it = iter(numbers)
        next(it)
        numbers.add(4)
        with pytest.raises(RuntimeError, match="changed size"):
            next(it)
        numbers.discard(4)
        with pytest.raises(RuntimeError, match="changed size"):
            next(it)
        assert operator.length_hint(it) == 0


def test_same_size_change_invalidates_unlike_the_builtin():
    # Stricter than the builtin, which checks only the size: a Rust
    # iterator must never walk memory that a change may have moved.
    numbers = HashSet([1, 2, 3])
    it = iter(numbers)
    numbers.discard(1)
    numbers.add(4)
    with pytest.raises(RuntimeError, match="^Set changed during iteration$"):
        next(it)
    assert operator.length_hint(it) == 0


def test_change_before_first_next_is_detected():
    numbers = HashSet([1])
    it = iter(numbers)
    numbers.add(2)
    with pytest.raises(RuntimeError, match="changed size"):
        next(it)


def test_change_after_last_value_but_before_stop_is_detected():
    # Like the builtin: the check comes before the end-of-set check.
    for kind in (set, HashSet):
        numbers = kind([1])
        it = iter(numbers)
        next(it)
        numbers.add(2)
        with pytest.raises(RuntimeError):
            next(it)


@pytest.mark.parametrize(
    "no_op",
    [lambda s: s.add(1), lambda s: s.discard(99), lambda s: len(s), lambda s: 5 in s, lambda s: repr(s)],
    ids=["add-present", "discard-absent", "len", "in", "repr"],
)
def test_calls_that_change_nothing_leave_iterators_valid(no_op):
    numbers = HashSet([1, 2, 3])
    it = iter(numbers)
    first = next(it)
    no_op(numbers)
    assert sorted([first, *it]) == [1, 2, 3]


@pytest.mark.parametrize(
    "failing",
    [lambda s: s.add(-1), lambda s: s.add("x"), lambda s: s.remove(99), lambda s: s.discard(2**40)],
    ids=["add-negative", "add-str", "remove-absent", "discard-too-large"],
)
def test_failed_calls_leave_iterators_valid(failing):
    numbers = HashSet([1, 2, 3])
    it = iter(numbers)
    first = next(it)
    with pytest.raises((OverflowError, TypeError, KeyError)):
        failing(numbers)
    assert sorted([first, *it]) == [1, 2, 3]


def test_new_iterator_after_a_change_sees_the_new_contents():
    numbers = HashSet([1])
    stale = iter(numbers)
    numbers.add(2)
    assert sorted(numbers) == [1, 2]
    with pytest.raises(RuntimeError):
        next(stale)


def test_iterators_are_independent():
    numbers = HashSet(range(10))
    first, second = iter(numbers), iter(numbers)
    next(first)
    assert len(list(second)) == 10
    assert len(list(first)) == 9


def test_iterator_keeps_the_set_alive():
    it = iter(HashSet([1, 2]))
    # Were the set freed with its last name, these would reuse its memory.
    others = [HashSet(range(100, 110)) for _ in range(50)]
    assert sorted(it) == [1, 2]
    assert len(others) == 50


def test_set_is_released_once_its_iterators_are_done():
    numbers = HashSet([1])
    base = sys.getrefcount(numbers)
    it = iter(numbers)
    assert sys.getrefcount(numbers) > base
    list(it)
    assert sys.getrefcount(numbers) == base


def test_set_is_released_once_an_iterator_is_invalidated():
    numbers = HashSet([1, 2])
    base = sys.getrefcount(numbers)
    it = iter(numbers)
    numbers.add(3)
    with pytest.raises(RuntimeError):
        next(it)
    assert sys.getrefcount(numbers) == base


def test_int_subclass_methods_do_not_run_during_conversion():
    # The value is read straight from the int object, so a subclass that
    # overrides comparisons or __index__ cannot run code in the middle of
    # a call (where it could, say, change the set).
    numbers = HashSet([1])

    class Sneaky(int):
        def __index__(self):
            numbers.add(98)
            return 3

        def __lt__(self, other):
            numbers.add(99)
            return False

    with pytest.raises(OverflowError, match="^integer is negative"):
        numbers.add(Sneaky(-(2**100)))
    numbers.add(Sneaky(5))
    assert sorted(numbers) == [1, 5]


# No copy: memory, not time


@measures_memory
def test_iter_copies_nothing_while_the_clone_copies_everything():
    script = textwrap.dedent(
        """
        from target.debug.borrowed import HashSet as Borrowed
        from target.debug.wrapper import HashSet as Cloned
        from workspace import resident_bytes as rss

        borrowed = Borrowed(range(1_000_000))
        cloned = Cloned()
        for value in range(1_000_000):
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
