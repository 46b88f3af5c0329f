"""Lesson 4: a Rust HashSet<u32> behind a Python class, iterated by cloning.

Besides the happy path, these tests pin down what rust-cpython does with
the lesson's plain signatures (`value: u32`), quirks included: they are
what a reader of this lesson will meet. Lesson 5 does better.
"""

import sys

import pytest
from conftest import OUT_OF_RANGE, PYO3, extraction_note, per_binding
from target.debug.wrapper import HashSet, SetIterator

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "wrapper.HashSet(value)",
    "wrapper.HashSet().add(value)",
    "wrapper.HashSet().add(value=value)",
    "value in wrapper.HashSet()",
    "wrapper.HashSet.add(value, 1)",
    "wrapper.HashSet.__len__(value)",
    "wrapper.HashSet.__contains__(value, 1)",
    "wrapper.HashSet.__iter__(value)",
    "wrapper.SetIterator(value)",
    "wrapper.SetIterator.__next__(value)",
    "wrapper.SetIterator.__iter__(value)",
]

TOO_LARGE = "^Python int too large to convert to C long"


def make(*values):
    numbers = HashSet()
    for value in values:
        numbers.add(value)
    return numbers


def test_run_prints_membership_elements_and_length(run_lesson):
    lines = run_lesson("wrapper").splitlines()
    assert lines[:2] == ["has 0: False", "has 1: True"]
    # A Rust HashSet iterates in an unspecified order, so compare as a set.
    assert sorted(lines[2:4]) == ["found 1", "found 2"]
    assert lines[4:] == ["2"]


def test_new_set_is_empty():
    numbers = HashSet()
    assert len(numbers) == 0
    assert list(numbers) == []
    assert 0 not in numbers


def test_add_returns_none_and_stores_the_value():
    numbers = HashSet()
    assert numbers.add(7) is None
    assert 7 in numbers
    assert len(numbers) == 1


def test_add_ignores_duplicates_like_a_set():
    numbers = make(3, 3, 3)
    assert len(numbers) == 1
    assert list(numbers) == [3]


def test_contents_match_the_builtin_set():
    values = [0, 1, 2, 5, 5, 2**31, 2**32 - 1, 123456789]
    numbers = make(*values)
    assert sorted(numbers) == sorted(set(values))
    assert len(numbers) == len(set(values))
    for probe in [0, 1, 3, 2**32 - 1, 2**32 - 2]:
        assert (probe in numbers) == (probe in set(values))


def test_bool_is_stored_as_an_integer():
    # bool is a subclass of int, so True is 1, as in the builtin set.
    numbers = make(True)
    assert 1 in numbers
    assert list(numbers) == [1]


def test_add_accepts_its_keyword():
    numbers = HashSet()
    numbers.add(value=4)
    assert 4 in numbers


@pytest.mark.parametrize("value", [-1, -(2**31), 2**32, 2**40, 2**63 - 1])
def test_add_out_of_u32_range_raises_overflow_error_with_empty_message(value):
    # Quirk: rust-cpython's u32 conversion fails without a message.
    numbers = make(1)
    with pytest.raises(OverflowError) as excinfo:
        numbers.add(value)
    assert str(excinfo.value) == per_binding("", OUT_OF_RANGE)
    assert list(numbers) == [1]


@pytest.mark.parametrize("value", [2**63, 2**64, 2**100, -(2**100)])
def test_add_beyond_c_long_raises_overflow_error_from_python(value):
    numbers = make(1)
    with pytest.raises(
        OverflowError, match="^Python int too large to convert to C long" + extraction_note("value") + "$"
    ):
        numbers.add(value)
    assert list(numbers) == [1]


@pytest.mark.parametrize(
    ("value", "type_name"),
    [(None, "NoneType"), (1.5, "float"), (1.0, "float"), ("1", "str"), (b"1", "bytes"), ([1], "list")],
)
def test_add_non_integer_raises_type_error_naming_the_type(value, type_name):
    numbers = make(1)
    message = f"^'{type_name}' object cannot be interpreted as an integer" + extraction_note("value") + "$"
    with pytest.raises(TypeError, match=message):
        numbers.add(value)
    assert list(numbers) == [1]


def test_add_with_wrong_keyword_reports_value_as_missing():
    message = per_binding(
        r"^Required argument \('value'\) \(pos 1\) not found$",
        r"^HashSet\.add\(\) got an unexpected keyword argument 'v'$",
    )
    with pytest.raises(TypeError, match=message):
        HashSet().add(v=1)


def test_add_without_argument_is_a_type_error():
    message = per_binding(
        r"^Required argument \('value'\) \(pos 1\) not found$",
        r"^HashSet\.add\(\) missing 1 required positional argument: 'value'$",
    )
    with pytest.raises(TypeError, match=message):
        HashSet().add()


def test_constructor_takes_no_arguments():
    message = per_binding(
        r"^HashSet\.__new__\(\)\(\) takes at most 0 arguments \(1 given\)$",
        r"^HashSet\.__new__\(\) takes 0 positional arguments but 1 was given$",
    )
    with pytest.raises(TypeError, match=message):
        HashSet([1, 2])


@pytest.mark.parametrize("value", [-1, 2**32])
def test_in_with_out_of_range_int_raises_overflow_error(value):
    # Quirk: the builtin set answers False here.
    assert value not in {1}
    with pytest.raises(OverflowError) as excinfo:
        value in make(1)  # noqa: B015
    assert str(excinfo.value) == per_binding("", OUT_OF_RANGE)


def test_in_with_huge_int_raises_overflow_error():
    with pytest.raises(
        OverflowError, match="^Python int too large to convert to C long" + extraction_note("value") + "$"
    ):
        2**100 in make(1)  # noqa: B015


@pytest.mark.parametrize("value", ["x", None, 1.0, 1.5, b"1", (1,)])
def test_in_with_non_integer_is_false(value):
    # rust-cpython turns a TypeError from the argument conversion in
    # __contains__ into False, which happens to match the builtin set here
    # (except for 1.0, which the builtin finds because 1.0 == 1). PyO3 lets
    # the TypeError through.
    if PYO3:
        with pytest.raises(TypeError, match=" cannot be interpreted as an integer" + extraction_note("value") + "$"):
            value in make(1)  # noqa: B015
    else:
        assert (value in make(1)) is False


def test_iterator_yields_every_element_once():
    values = set(range(0, 1000, 7))
    numbers = make(*values)
    seen = list(numbers)
    assert len(seen) == len(values)
    assert set(seen) == values


def test_iterator_is_its_own_iterator():
    it = iter(make(1, 2))
    assert iter(it) is it
    assert isinstance(it, SetIterator)


def test_iterator_exhausts_and_stays_exhausted():
    it = iter(make(1, 2))
    assert sorted([next(it), next(it)]) == [1, 2]
    for _ in range(3):
        with pytest.raises(StopIteration):
            next(it)


def test_iterators_are_independent():
    numbers = make(1, 2, 3)
    first, second = iter(numbers), iter(numbers)
    next(first)
    assert len(list(second)) == 3
    assert len(list(first)) == 2


def test_cloned_iterator_ignores_later_additions():
    # The clone's one virtue: the iterator owns a snapshot, so changing the
    # set afterwards is harmless (and invisible to it).
    numbers = make(1)
    it = iter(numbers)
    numbers.add(2)
    numbers.add(3)
    assert list(it) == [1]
    assert len(numbers) == 3


def test_adding_while_iterating_is_allowed():
    numbers = make(1, 2, 3)
    for value in numbers:
        numbers.add(value + 100)
    assert sorted(numbers) == [1, 2, 3, 101, 102, 103]


def test_iterator_has_no_length_hint():
    assert not hasattr(iter(make(1)), "__length_hint__")


def test_iterator_cannot_be_created_from_python():
    # The interpreter's message names `tp_name`, "wrapper.SetIterator" in the
    # twin; before 3.10, PyO3 raises it itself, from `__module__`.
    module = "wrapper" if PYO3 and sys.version_info >= (3, 10) else "target.debug.wrapper"
    with pytest.raises(TypeError, match=f"^cannot create '{module}.SetIterator' instances$"):
        SetIterator()
