"""Lesson 6: exceptions that say what went wrong, arguments, membership by
the builtin's rule, MemoryError instead of an abort.

Python's builtin `set` is the specification: where the two can be compared,
the tests run the same operations on both.
"""

import textwrap
from decimal import Decimal
from fractions import Fraction

import pytest
from conftest import describe_exit, needs_address_space_limit, once_per_run, per_binding, run_child
from target.debug.errors import HashSet, OutOfRange

from target.debug import errors

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "errors.HashSet(value)",
    "errors.HashSet([value])",
    "errors.HashSet(iterable=value)",
    "errors.HashSet(capacity=value)",
    "errors.HashSet([1], value)",
    "errors.HashSet([1]).add(value)",
    "errors.HashSet([1]).discard(value)",
    "errors.HashSet([1]).remove(value)",
    "errors.HashSet([1]).update(value)",
    "errors.HashSet([1]).update([1], [value])",
    "errors.HashSet([1]).update(**{'x': value})",
    "value in errors.HashSet([1])",
    "errors.HashSet.add(value, 1)",
    "errors.HashSet.__len__(value)",
    "errors.HashSet.__contains__(value, 1)",
    "errors.HashSet.__iter__(value)",
    "errors.HashSet.__repr__(value)",
    "errors.OutOfRange(value)",
    "mutate_then_iterate(errors.HashSet([1, 2, 3]), lambda s: s.add(value))",
    "mutate_then_iterate(errors.HashSet([1, 2, 3]), lambda s: s.remove(value))",
    "mutate_then_iterate(errors.HashSet([1, 2, 3]), lambda s: s.discard(value))",
    "mutate_then_iterate(errors.HashSet([1, 2, 3]), lambda s: s.update([value]))",
]

U32_MAX = 2**32 - 1
RANGE_NOTE = ": HashSet holds integers from 0 to 4294967295"


def test_run_shows_each_kind_of_error(run_lesson):
    assert run_lesson("errors") == (
        "HashSet({1, 2, 3})\n"
        "Fraction(2) in numbers: True\n"
        "OutOfRange: -1 is negative" + RANGE_NOTE + "\n"
        "TypeError: HashSet values must be int, not str\n"
        "KeyError: 7\n"
        "MemoryError: memory allocation failed because the computed capacity exceeded the collection's maximum\n"
        "HashSet({1, 2, 3})\n"
    )


# Construction: optional arguments, by position or keyword


@pytest.mark.parametrize(
    "make_source",
    [list, tuple, set, iter, lambda values: (value for value in values), lambda values: dict.fromkeys(values)],
)
def test_constructor_takes_any_iterable_like_set(make_source):
    values = [3, 1, 2, 3, 0, U32_MAX]
    assert sorted(HashSet(make_source(values))) == sorted(set(make_source(values)))


def test_constructor_arguments_are_optional_and_may_be_keywords():
    assert len(HashSet()) == 0
    assert sorted(HashSet(iterable=[2, 1])) == [1, 2]
    assert sorted(HashSet([2, 1], capacity=100)) == [1, 2]
    assert sorted(HashSet(capacity=100, iterable=[3])) == [3]


def test_none_means_no_iterable():
    # A difference from the builtin (set(None) is a TypeError): rust-cpython
    # passes an explicit None to an `Option` parameter as `None`.
    assert list(HashSet(None)) == []


def test_capacity_is_not_keyword_only():
    # rust-cpython cannot express keyword-only parameters.
    assert sorted(HashSet([1], 100)) == [1]


def test_constructor_rejects_a_non_iterable():
    with pytest.raises(TypeError, match="^'int' object is not iterable$"):
        HashSet(5)


def test_constructor_rejects_bad_elements_with_the_add_messages():
    with pytest.raises(OutOfRange, match="^-1 is negative" + RANGE_NOTE):
        HashSet([1, -1])
    with pytest.raises(TypeError, match="^HashSet values must be int, not str$"):
        HashSet("abc")


def test_constructor_names_an_unknown_keyword():
    message = per_binding(
        "^'items' is an invalid keyword argument for this function$",
        r"^HashSet\.__new__\(\) got an unexpected keyword argument 'items'$",
    )
    with pytest.raises(TypeError, match=message):
        HashSet(items=[1])


def test_constructor_counts_its_arguments():
    message = per_binding(
        r"^HashSet.__new__\(\)\(\) takes at most 2 arguments \(3 given\)$",
        r"^HashSet\.__new__\(\) takes from 0 to 2 positional arguments but 3 were given$",
    )
    with pytest.raises(TypeError, match=message):
        HashSet([1], 2, 3)


@pytest.mark.parametrize(
    ("capacity", "error", "message"),
    [
        (-1, OverflowError, "can't convert negative int to unsigned"),
        (2**64, OverflowError, "int too big to convert"),
        (None, TypeError, "'NoneType' object cannot be interpreted as an integer"),
        ([1], TypeError, "'list' object cannot be interpreted as an integer"),
        (
            2**60,
            MemoryError,
            "memory allocation failed because the computed capacity exceeded the " + "collection's maximum",
        ),
    ],
)
def test_bad_capacity_raises_a_clear_exception(capacity, error, message):
    with pytest.raises(error) as excinfo:
        HashSet(capacity=capacity)
    assert str(excinfo.value) == message


def test_repr_is_sorted_and_round_trips():
    assert repr(HashSet()) == "HashSet()"
    assert repr(HashSet([10, 2, 7])) == "HashSet({2, 7, 10})"
    assert str(HashSet([U32_MAX, 0])) == "HashSet({0, 4294967295})"
    for numbers in (HashSet(), HashSet([10, 2, 7])):
        assert sorted(eval(repr(numbers), {"HashSet": HashSet})) == sorted(numbers)


# Mutation, compared with the builtin set


def test_add_discard_remove_update_match_builtin_set():
    ours, theirs = HashSet(), set()
    steps = [("add", 1), ("add", 2), ("add", 1), ("discard", 5), ("discard", 1), ("remove", 2), ("add", 0)]
    steps += [("update", [4, 5, 0]), ("update", range(3))]
    for op, value in steps:
        assert getattr(ours, op)(value) is None
        getattr(theirs, op)(value)
        assert sorted(ours) == sorted(theirs)
        assert len(ours) == len(theirs)


def test_update_takes_any_number_of_iterables():
    numbers = HashSet([1])
    assert numbers.update() is None
    numbers.update([2], (3,), {4}, iter([5]))
    assert sorted(numbers) == [1, 2, 3, 4, 5]


def test_update_refuses_keywords_like_the_builtin():
    with pytest.raises(TypeError, match=r"^HashSet.update\(\) takes no keyword arguments$"):
        HashSet().update([1], extra=[2])
    with pytest.raises(TypeError, match=r"update\(\) takes no keyword arguments$"):
        set().update([1], extra=[2])


def test_update_with_a_bad_value_adds_nothing():
    # A difference from the builtin, which keeps the values before the bad one.
    numbers = HashSet([1])
    with pytest.raises(OutOfRange):
        numbers.update([2, 3], [4, -1, 5])
    assert sorted(numbers) == [1]


def test_update_may_read_an_iterable_that_uses_the_set():
    # The iterable runs Python code while update() reads it; no borrow of
    # the set is held then, so using the set there is fine.
    numbers = HashSet([1])

    def sneaky():
        yield len(numbers) + 10
        numbers.add(50)
        yield 2

    numbers.update(sneaky())
    assert sorted(numbers) == [1, 2, 11, 50]


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


# Errors: each bad value gets an exception that says what is wrong


def test_out_of_range_is_an_overflow_error_of_this_module():
    assert issubclass(OutOfRange, OverflowError)
    assert OutOfRange.__module__ == "errors"
    assert OutOfRange.__name__ == "OutOfRange"
    assert errors.OutOfRange is OutOfRange


def test_out_of_range_is_caught_apart_from_other_overflows():
    caught = []
    for action in (lambda: HashSet().add(2**40), lambda: 2.0**5000):
        try:
            action()
        except OutOfRange:
            caught.append("range")
        except OverflowError:
            caught.append("other")
    assert caught == ["range", "other"]


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
def test_out_of_range_ints_raise_out_of_range_naming_the_problem(method, value, message):
    numbers = HashSet([1])
    with pytest.raises(OutOfRange) as excinfo:
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


def test_methods_name_a_wrong_keyword_as_missing():
    message = per_binding(
        r"^Required argument \('value'\) \(pos 1\) not found$",
        r"^HashSet\.add\(\) got an unexpected keyword argument 'v'$",
    )
    with pytest.raises(TypeError, match=message):
        HashSet().add(v=1)
    assert HashSet().add(value=1) is None


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

    with pytest.raises(OutOfRange, match="^integer is negative"):
        numbers.add(Sneaky(-(2**100)))
    numbers.add(Sneaky(5))
    assert sorted(numbers) == [1, 5]


# Membership: the builtin's rule, for every kind of number


class Index:
    """An object with __index__ only: the builtin set does not find it."""

    def __index__(self):
        return 1


class EqualsOne:
    """Hashes and compares like 1, as any number equal to 1 must."""

    def __hash__(self):
        return 1

    def __eq__(self, other):
        return other == 1


MEMBERSHIP_PROBES = [
    0, 1, 7, U32_MAX, 2**32, -1, 2**100, -(2**100), True, False,
    1.0, 1.5, -0.0, 7.0, float(U32_MAX), float("nan"), float("inf"),
    Fraction(1), Fraction(7, 1), Fraction(1, 2), Decimal(1), Decimal("7.0"), Decimal("0.5"), Decimal("NaN"),
    1 + 0j, 7 + 0j, 1 + 1j, Index(), EqualsOne(),
    "1", None, b"\x01", (1,), frozenset([1]), object(),
]  # fmt: skip


@pytest.mark.parametrize("value", MEMBERSHIP_PROBES, ids=repr)
def test_membership_agrees_with_builtin_set(value):
    contents = [0, 1, 7, U32_MAX]
    assert (value in HashSet(contents)) == (value in set(contents))


@pytest.mark.parametrize("value", [[1], {}, bytearray(b"1")], ids=repr)
def test_membership_of_an_unhashable_value_is_a_type_error_like_the_builtin(value):
    with pytest.raises(TypeError, match="unhashable type"):
        value in HashSet([1])  # noqa: B015
    with pytest.raises(TypeError, match="unhashable type"):
        value in {1}  # noqa: B015


def test_a_set_is_looked_up_as_a_frozenset_like_the_builtin():
    # Neither raises "unhashable type: 'set'"; a set of ints holds no sets.
    assert ({1} in HashSet([1])) is ({1} in {1}) is False


def test_membership_passes_on_an_error_from_eq_like_the_builtin():
    class Broken:
        def __hash__(self):
            return 1

        def __eq__(self, other):
            raise ValueError("no eq")

    with pytest.raises(ValueError, match="no eq"):
        Broken() in HashSet([1])  # noqa: B015
    with pytest.raises(ValueError, match="no eq"):
        Broken() in {1}  # noqa: B015
    assert (Broken() in HashSet([2])) is False


def test_contains_with_lone_surrogate_string_is_false():
    assert ("\ud800" in HashSet([1])) is False


# Iteration: a snapshot, as in lesson 4


def remove_while_iterating(numbers):
    for value in numbers:
        numbers.remove(value)


def test_an_iterator_walks_a_snapshot_of_the_values():
    numbers = HashSet([1, 2, 3])
    walk = iter(numbers)
    first = next(walk)
    numbers.remove(first)
    numbers.add(99)
    assert sorted([first, *walk]) == [1, 2, 3]
    assert sorted(numbers) == sorted({1, 2, 3, 99} - {first})


def test_removing_while_iterating_goes_on_unlike_the_builtin():
    numbers, builtin = HashSet([1, 2, 3]), {1, 2, 3}
    remove_while_iterating(numbers)
    assert len(numbers) == 0
    with pytest.raises(RuntimeError, match="^Set changed size during iteration$"):
        remove_while_iterating(builtin)


# Running out of memory: MemoryError, and the interpreter goes on

OUT_OF_MEMORY = textwrap.dedent(
    """
    import resource, sys
    from target.debug.errors import HashSet

    def limit_memory(headroom):
        # Address space in use now, plus `headroom` bytes: allocations past
        # that fail, as on a machine that is out of memory.
        with open("/proc/self/status") as status:
            in_use = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (in_use + headroom, resource.RLIM_INFINITY))

    case = sys.argv[1]
    numbers = HashSet(range(2_000_000)) if case == "repr" else HashSet()
    limit_memory(16 << 20)
    try:
        if case == "constructor":
            HashSet(range(100_000_000))
        elif case == "add":
            for value in range(100_000_000):
                numbers.add(value)
        elif case == "update":
            numbers.update(range(100_000_000))
        elif case == "repr":
            repr(numbers)
        print("no MemoryError")
    except MemoryError:
        print("MemoryError")
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    print("alive:", sorted(HashSet([2, 1])), len(numbers) < 100_000_000)
    """
)


@once_per_run
@needs_address_space_limit
@pytest.mark.parametrize("case", ["constructor", "add", "update", "repr"])
def test_running_out_of_memory_raises_memory_error_not_an_abort(case):
    result = run_child(OUT_OF_MEMORY, case)
    assert result.returncode == 0, describe_exit(result.returncode) + "\n" + result.stderr[-2000:]
    assert result.stdout == "MemoryError\nalive: [1, 2] True\n"
