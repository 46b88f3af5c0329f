"""Lesson 12: a class that behaves like a Python value, tested against
`fractions.Fraction`, its specification, in both bindings."""

import copy
import fractions
import importlib
import math
import operator
import pickle
import re
import sys

import pytest
from conftest import (
    PYO3,
    UNDER_VALGRIND,
    binding_independent,
    build_changed_lesson,
    extraction_note,
    once_per_run,
    per_binding,
    run_python,
)
from hypothesis import assume, given
from hypothesis import strategies as st
from target.debug.fraction import Fraction, mediant

from lessons import lesson_crates
from target.debug import fraction

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "fraction.Fraction(value)",
    "fraction.Fraction(1, value)",
    "fraction.Fraction(numerator=value)",
    "fraction.Fraction(denominator=value)",
    "fraction.Fraction(value, value, value)",
    "fraction.Fraction(**{str(type(value)): value})",
    "fraction.Fraction.from_float(value)",
    "fraction.Fraction.gcd(value, 1)",
    "fraction.Fraction.gcd(1, value)",
    "fraction.mediant(value, fraction.Fraction())",
    "fraction.mediant(fraction.Fraction(), value)",
    "fraction.Fraction(1, 2) + value",
    "value + fraction.Fraction(1, 2)",
    "fraction.Fraction(1, 2) - value",
    "value * fraction.Fraction(1, 2)",
    "fraction.Fraction(1, 2) / value",
    "value / fraction.Fraction(1, 2)",
    "fraction.Fraction(1, 2) < value",
    "fraction.Fraction(1, 2) == value",
    "value >= fraction.Fraction(1, 2)",
    "fraction.Fraction.__repr__(value)",
    "fraction.Fraction.__hash__(value)",
    "fraction.Fraction.__reduce__(value)",
    "fraction.Fraction.__neg__(value)",
    "fraction.Fraction.numerator.__get__(value)",
    "setattr(fraction.Fraction(), 'numerator', value)",
]

INT64 = st.integers(-(2**63), 2**63 - 1)
NONZERO64 = INT64.filter(bool)
# Small enough that sums and products of two stay within 64 bits.
SMALL = st.integers(-(2**20), 2**20)
OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv]
COMPARISONS = [operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge]
TOO_LARGE = "^Fraction does not fit in 64-bit integers$"


def outcome(call):
    """What a call returns, as (numerator, denominator) for a fraction, or
    the type of exception it raises."""
    try:
        result = call()
    except Exception as error:
        return type(error)
    if isinstance(result, (Fraction, fractions.Fraction)):
        return (type(result) is Fraction, result.numerator, result.denominator)
    return result


def same_as_stdlib(n, d):
    """(ours, the stdlib's) for numerator n and denominator d."""
    return Fraction(n, d), fractions.Fraction(n, d)


@st.composite
def pairs(draw, numbers=INT64):
    n, d = draw(numbers), draw(numbers.filter(bool))
    # Normalising the sign of -2**63 needs 65 bits (tested on its own).
    assume(fits(fractions.Fraction(n, d)))
    return same_as_stdlib(n, d)


def fits(value):
    """Whether a stdlib fraction has 64-bit numerator and denominator."""
    return -(2**63) <= value.numerator < 2**63 and value.denominator < 2**63


def operands(numbers=SMALL):
    """A Fraction or an int, and the stdlib's value for it."""
    ints = numbers.map(lambda n: (n, n))
    return st.one_of(pairs(numbers), ints, st.booleans().map(lambda b: (b, b)))


def test_run_prints_values_operators_and_a_round_trip(run_lesson):
    assert run_lesson("fraction").splitlines() == [
        "Fraction(1, 2) 1/2 1 2",
        "3/2 3/2 1/2 1/6 -1/2",
        "True True True",
        "[-1, Fraction(1, 2), 2, Fraction(7, 3)]",
        "1/4 6 3/5",
        "True",
    ]


@given(INT64, NONZERO64)
def test_a_fraction_is_kept_in_lowest_terms_like_the_stdlib_s(n, d):
    expected = fractions.Fraction(n, d)
    if not fits(expected):
        # -2**63 over a negative number: the sign moves to 2**63, 65 bits.
        with pytest.raises(OverflowError, match=TOO_LARGE):
            Fraction(n, d)
        return
    ours = Fraction(n, d)
    assert (ours.numerator, ours.denominator) == (expected.numerator, expected.denominator)
    assert repr(ours) == repr(expected)
    assert str(ours) == str(expected)
    assert bool(ours) == bool(expected)
    assert ours.sign == (expected > 0) - (expected < 0)


def test_fractions_of_64_bit_integers_that_do_not_fit_in_64_bits():
    for n, d in [(-(2**63), -1), (1, -(2**63)), (-(2**63), -3)]:
        with pytest.raises(OverflowError, match=TOO_LARGE):
            Fraction(n, d)
    assert Fraction(-(2**63), 2).numerator == -(2**62)


def test_defaults_and_keywords_are_the_stdlib_s():
    assert repr(Fraction()) == repr(fractions.Fraction()) == "Fraction(0, 1)"
    assert repr(Fraction(5)) == "Fraction(5, 1)"
    assert Fraction(numerator=3, denominator=6) == Fraction(1, 2)
    assert Fraction(True, True) == 1


@pytest.mark.parametrize("numerator", [1, -7, 0])
def test_a_zero_denominator_raises_the_stdlib_s_error(numerator):
    with pytest.raises(ZeroDivisionError) as expected:
        fractions.Fraction(numerator, 0)
    with pytest.raises(ZeroDivisionError, match=rf"^{re.escape(str(expected.value))}$"):
        Fraction(numerator, 0)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((2**63,), OverflowError, "^Python int too large to convert to C long"),
        ((1, -(2**63) - 1), OverflowError, "^Python int too large to convert to C long"),
        ((10**100,), OverflowError, "^Python int too large to convert to C long"),
        (("1",), TypeError, "^'str' object cannot be interpreted as an integer"),
        ((1.5,), TypeError, "^'float' object cannot be interpreted as an integer"),
        ((None,), TypeError, "^'NoneType' object cannot be interpreted as an integer"),
        (("\udc80",), TypeError, "^'str' object cannot be interpreted as an integer"),
        ((fractions.Fraction(1, 2),), TypeError, "^'Fraction' object cannot be interpreted as an integer"),
    ],
)
def test_a_constructor_argument_that_is_not_a_64_bit_int_is_refused(arguments, error, message):
    # Deliberately narrower than the stdlib, which takes strings, floats
    # and any rational number.
    with pytest.raises(error, match=message + extraction_note("numerator" if len(arguments) == 1 else "denominator")):
        Fraction(*arguments)


def test_wrong_keywords_and_too_many_arguments_are_type_errors():
    with pytest.raises(
        TypeError, match=per_binding("'bad' is an invalid keyword", "unexpected keyword argument 'bad'")
    ):
        Fraction(1, bad=2)
    with pytest.raises(TypeError):
        Fraction(1, 2, 3)
    with pytest.raises(TypeError):
        Fraction(1, numerator=1)


def test_properties_are_read_only():
    half = Fraction(1, 2)
    for name in ["numerator", "denominator", "sign"]:
        with pytest.raises(AttributeError, match="not writable"):
            setattr(half, name, 3)
        with pytest.raises(AttributeError, match="not writable"):
            delattr(half, name)
    assert (half.numerator, half.denominator) == (1, 2)
    # No instance dictionary to put other attributes in either.
    with pytest.raises(AttributeError):
        half.other = 1


@given(pairs())
def test_hash_is_the_stdlib_s_and_equal_values_hash_alike(pair):
    ours, expected = pair
    assert hash(ours) == hash(expected)
    if expected.denominator == 1:
        assert hash(ours) == hash(expected.numerator)
        assert ours == expected.numerator


@pytest.mark.parametrize(
    ("n", "d"),
    [(-1, 1), (1, 1), (0, 1), (2**61 - 1, 1), (1, 2**61 - 1), (5, 2**62 - 2), (-(2**63), 1), (2**63 - 1, 2**61 - 1)],
)
def test_hash_of_the_edge_cases_is_the_stdlib_s(n, d):
    # -1 is never a hash; 2**61 - 1 is the modulus, and a denominator it
    # divides hashes as infinity does.
    ours, expected = same_as_stdlib(n, d)
    assert hash(ours) == hash(expected)


def test_fractions_work_as_dictionary_keys_and_set_members():
    table = {Fraction(1, 2): "half", 2: "two"}
    assert table[Fraction(2, 4)] == "half"
    assert table[Fraction(4, 2)] == "two"
    assert {Fraction(2, 1), 2} == {2}
    # Not equal to floats (a deliberate difference): the stdlib's set has one.
    assert len({Fraction(2, 1), 2.0}) == 2
    assert len({fractions.Fraction(2, 1), 2.0}) == 1


@given(operands(), operands(), st.sampled_from(COMPARISONS))
def test_comparisons_are_the_stdlib_s(left, right, compare):
    (ours_left, expected_left), (ours_right, expected_right) = left, right
    assert outcome(lambda: compare(ours_left, ours_right)) == outcome(lambda: compare(expected_left, expected_right))


@pytest.mark.parametrize("huge", [2**63, -(2**63) - 1, 10**40, -(10**40)])
def test_an_int_beyond_64_bits_compares_by_its_sign(huge):
    for n, d in [(2**63 - 1, 1), (-(2**63), 1), (1, 3)]:
        ours, expected = same_as_stdlib(n, d)
        for compare in COMPARISONS:
            assert compare(ours, huge) == compare(expected, huge)
            assert compare(huge, ours) == compare(huge, expected)


@given(st.lists(operands(), max_size=12))
def test_a_mixed_list_sorts_as_the_stdlib_s(values):
    ours = sorted(v[0] for v in values)
    expected = sorted(v[1] for v in values)
    assert [fractions.Fraction(v.numerator, v.denominator) for v in ours] == expected


@pytest.mark.parametrize("other", [0.5, 1.5 + 0j, fractions.Fraction(1, 2), "1/2", None, [1]])
def test_other_types_are_not_equal_and_cannot_be_ordered(other):
    # Deliberately narrower than the stdlib, which compares with floats,
    # complex numbers and other rationals exactly: `NotImplemented` lets
    # Python try the other side, then fall back to identity.
    half = Fraction(1, 2)
    assert half != other
    assert other != half
    assert not half == other
    with pytest.raises(TypeError, match="'<' not supported between instances of '.*Fraction' and"):
        half < other  # noqa: B015


@given(operands(), operands(), st.sampled_from(OPERATORS))
def test_arithmetic_from_either_side_is_the_stdlib_s(left, right, apply):
    (ours_left, expected_left), (ours_right, expected_right) = left, right
    got = outcome(lambda: apply(ours_left, ours_right))
    expected = outcome(lambda: apply(expected_left, expected_right))
    if isinstance(ours_left, int) and isinstance(ours_right, int):
        return  # int with int: no Fraction involved
    if isinstance(expected, tuple):
        expected = (True,) + expected[1:]
    assert got == expected


@given(pairs(INT64), pairs(INT64), st.sampled_from(OPERATORS))
def test_a_result_beyond_64_bits_is_an_overflow_error_and_nothing_else(left, right, apply):
    (ours_left, expected_left), (ours_right, expected_right) = left, right
    try:
        expected = apply(expected_left, expected_right)
    except ZeroDivisionError:
        with pytest.raises(ZeroDivisionError):
            apply(ours_left, ours_right)
        return
    if fits(expected):
        got = apply(ours_left, ours_right)
        assert (got.numerator, got.denominator) == (expected.numerator, expected.denominator)
    else:
        with pytest.raises(OverflowError, match=TOO_LARGE):
            apply(ours_left, ours_right)


def test_arithmetic_with_an_int_beyond_64_bits_is_an_overflow_error():
    # A deliberate difference: the stdlib's integers have no size limit.
    for call in [lambda: Fraction(1, 2) + 2**64, lambda: 2**64 * Fraction(0), lambda: Fraction(1) / -(10**30)]:
        with pytest.raises(OverflowError, match=TOO_LARGE):
            call()


@pytest.mark.parametrize("zero", [0, False, Fraction(0)])
@pytest.mark.parametrize("n", [0, 5, -6])
def test_division_by_zero_raises_the_stdlib_s_error(n, zero):
    with pytest.raises(ZeroDivisionError) as expected:
        fractions.Fraction(n, 3) / (fractions.Fraction(0) if isinstance(zero, Fraction) else zero)
    with pytest.raises(ZeroDivisionError) as got:
        Fraction(n, 3) / zero
    assert str(got.value) == "Fraction(1, 0)"
    if sys.version_info >= (3, 12):
        # What the stdlib says from 3.12; before, it showed the numerator
        # (3.7 to 3.9) or its sign (3.10 and 3.11).
        assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("other", [0.5, 1j, fractions.Fraction(1, 3), "x", None, [1]])
@pytest.mark.parametrize("apply", OPERATORS)
def test_other_types_give_the_other_side_its_turn_then_type_error(apply, other):
    half = Fraction(1, 2)
    for call in [lambda: apply(half, other), lambda: apply(other, half)]:
        with pytest.raises(TypeError, match="unsupported operand type|can't multiply sequence|can only concatenate"):
            call()


def test_the_other_operand_s_own_method_runs_when_fraction_gives_up():
    class Anything:
        def __radd__(self, other):
            return ("radd", other)

        def __add__(self, other):
            return ("add", other)

    half = Fraction(1, 2)
    assert half + Anything() == ("radd", half)
    assert Anything() + half == ("add", half)


@given(pairs())
def test_negation_and_absolute_value_are_the_stdlib_s(pair):
    ours, expected = pair
    for apply in [operator.neg, abs]:
        want = apply(expected)
        if fits(want):
            got = apply(ours)
            assert (type(got), got.numerator, got.denominator) == (Fraction, want.numerator, want.denominator)
        else:  # -(-2**63) is 2**63
            with pytest.raises(OverflowError, match=TOO_LARGE):
                apply(ours)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_from_float_is_exact_like_the_stdlib_s(value):
    expected = fractions.Fraction.from_float(value)
    if fits(expected):
        ours = Fraction.from_float(value)
        assert (ours.numerator, ours.denominator) == (expected.numerator, expected.denominator)
    else:
        with pytest.raises(OverflowError, match=TOO_LARGE):
            Fraction.from_float(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_from_float_refuses_nan_and_infinity_as_the_stdlib_does(value):
    with pytest.raises((ValueError, OverflowError)) as expected:
        fractions.Fraction.from_float(value)
    with pytest.raises(expected.type, match=f"^{re.escape(str(expected.value))}$"):
        Fraction.from_float(value)


def test_from_float_takes_ints_and_refuses_what_is_not_a_number():
    assert Fraction.from_float(3) == 3
    assert Fraction.from_float(-0.0) == 0
    with pytest.raises(TypeError, match="must be real number, not str" + extraction_note("value")):
        Fraction.from_float("0.5")
    with pytest.raises(TypeError, match="must be real number, not NoneType" + extraction_note("value")):
        Fraction.from_float(None)


@given(INT64, INT64)
def test_gcd_is_math_gcd(a, b):
    assert Fraction.gcd(a, b) == math.gcd(a, b)
    assert Fraction(1, 2).gcd(a, b) == math.gcd(a, b)


@given(pairs(SMALL), pairs(SMALL))
def test_mediant_takes_two_fractions(left, right):
    (ours_left, expected_left), (ours_right, expected_right) = left, right
    got = mediant(ours_left, ours_right)
    numerator = expected_left.numerator + expected_right.numerator
    denominator = expected_left.denominator + expected_right.denominator
    assert type(got) is Fraction
    divisor = math.gcd(numerator, denominator)
    assert (got.numerator, got.denominator) == (numerator // divisor, denominator // divisor)


@pytest.mark.parametrize("other", [1, 0.5, fractions.Fraction(1, 2), None, "1/2"])
def test_mediant_refuses_anything_but_a_fraction(other):
    message = per_binding(
        f"^Expected type that converts to Fraction but received {type(other).__name__}$",
        ("'None' is" if other is None else f"'{type(other).__name__}' object is") + " not an instance of 'Fraction'",
    )
    with pytest.raises(TypeError, match=message):
        mediant(other, Fraction())
    with pytest.raises(TypeError, match=message.rstrip("$") + extraction_note("b")):
        mediant(Fraction(), other)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize(("n", "d"), [(1, 2), (-(2**63), 1), (2**63 - 1, 3), (0, 1)])
def test_pickle_round_trips_on_every_protocol(protocol, n, d):
    original = Fraction(n, d)
    copied = pickle.loads(pickle.dumps(original, protocol))
    assert type(copied) is Fraction
    assert (copied.numerator, copied.denominator) == (original.numerator, original.denominator)


def test_pickle_names_the_class_by_the_module_it_was_imported_as():
    assert Fraction.__module__ == fraction.__name__ == "target.debug.fraction"
    assert pickle.loads(pickle.dumps(Fraction)) is Fraction
    assert b"target.debug.fraction" in pickle.dumps(Fraction(1, 2), 0)


def test_copy_and_deepcopy_make_equal_fractions():
    half = Fraction(1, 2)
    for made in [copy.copy(half), copy.deepcopy(half), copy.deepcopy([half])[0]]:
        assert made == half
        assert type(made) is Fraction


def lesson_classes(module):
    """The classes a lesson module defines, exceptions left out: those keep
    the name their binding gives them."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type) and not issubclass(value, BaseException) and value.__module__ != "builtins"
    ]


@pytest.mark.parametrize("lesson", lesson_crates())
def test_pickle_finds_every_lesson_s_classes(lesson):
    # The twins once declared `module = "<lesson>"` alone: pickle then
    # imported the lesson's folder, a package of that name, and failed
    # with "attribute lookup ... failed".
    module = importlib.import_module(f"target.debug.{lesson}")
    classes = lesson_classes(module)
    for each in classes:
        assert each.__module__ == module.__name__
        assert pickle.loads(pickle.dumps(each)) is each


def test_every_lesson_with_classes_is_checked():
    assert {"klass", "wrapper", "borrowed", "fraction"} <= {
        lesson for lesson in lesson_crates() if lesson_classes(importlib.import_module(f"target.debug.{lesson}"))
    }


if PYO3:

    class Percent(Fraction):
        """A subclass, which only the twin allows."""

        def __str__(self):
            return f"{self.numerator / self.denominator:.0%}"


def test_a_subclass_is_refused_by_rust_cpython_and_allowed_by_pyo3():
    if not PYO3:
        with pytest.raises(TypeError, match="^type 'target.debug.fraction.Fraction' is not an acceptable base type$"):
            type("Percent", (Fraction,), {})
        return
    # `#[pyclass(subclass)]`: the class method makes the subclass, and
    # operators make the base class, as the stdlib's do.
    quarter = Percent.from_float(0.25)
    assert type(quarter) is Percent
    assert str(quarter) == "25%"
    assert type(quarter + 1) is Fraction
    # `__reduce__` names `type(self)`: a subclass pickles as itself.
    assert type(pickle.loads(pickle.dumps(quarter))) is Percent


def test_sign_is_an_int_in_rust_cpython_and_an_enum_in_pyo3_that_equals_one():
    values = [Fraction(-3, 4).sign, Fraction(0).sign, Fraction(5).sign]
    assert values == [-1, 0, 1]
    if PYO3:
        assert [repr(value) for value in values] == ["Sign.NEGATIVE", "Sign.ZERO", "Sign.POSITIVE"]
        assert values[0] is fraction.Sign.NEGATIVE
        assert pickle.loads(pickle.dumps(values[0])) == fraction.Sign.NEGATIVE
    else:
        assert all(type(value) is int for value in values)
        assert not hasattr(fraction, "Sign")


def test_methods_called_on_the_wrong_object_raise_type_error():
    for call in [
        lambda: Fraction.__repr__(1),
        lambda: Fraction.__reduce__(None),
        lambda: Fraction.numerator.__get__(0.5),
        lambda: Fraction.__neg__("x"),
    ]:
        with pytest.raises(TypeError):
            call()


# A copy of the class without `__hash__`, per binding.
WITHOUT_HASH = {
    "cpython": (
        "    def __hash__(&self) -> PyResult<i64> {\n        Ok(self.value(py).python_hash())\n    }\n",
        "",
    ),
    "pyo3": ("    fn __hash__(&self) -> isize {\n        self.value.python_hash() as isize\n    }\n", ""),
}

HASHES = """
from fraction import Fraction
print(Fraction.__hash__)
try:
    hash(Fraction(1, 2))
except TypeError as error:
    print(error)
"""


@binding_independent
@once_per_run
@pytest.mark.parametrize("binding", ["cpython", "pyo3"], ids=["rust-cpython", "pyo3"])
def test_equality_without_a_hash_makes_the_class_unhashable(tmp_path, build_python, binding):
    build_changed_lesson(tmp_path, build_python, "fraction", binding, [WITHOUT_HASH[binding]])
    result = run_python("-c", HASHES, cwd=tmp_path)
    assert result.stdout == "None\nunhashable type: 'fraction.Fraction'\n", result.stderr


# The twin's fix for pickle, taken out.
SETS_THE_IMPORT_NAME = (
    '    let name = module.name()?;\n    for class in ["Fraction", "Sign"] {\n'
    '        module.getattr(class)?.setattr("__module__", &name)?;\n    }\n',
    "",
)

PICKLES = """
import pickle
from package.fraction import Fraction
print(Fraction.__module__)
try:
    pickle.dumps(Fraction(1, 2))
except pickle.PicklingError as error:
    print(error)
"""


@binding_independent
@once_per_run
def test_a_twin_without_its_import_name_cannot_be_pickled(tmp_path, build_python):
    # Imported as `package.fraction`, beside a package called `fraction`,
    # as this course's twins are imported beside the lesson's folder.
    package = tmp_path / "package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (tmp_path / "fraction").mkdir()
    (tmp_path / "fraction" / "__init__.py").write_text("")
    built = build_changed_lesson(package, build_python, "fraction", "pyo3", [SETS_THE_IMPORT_NAME])
    assert built.parent == package
    result = run_python("-c", PICKLES, cwd=tmp_path)
    assert result.stdout.splitlines() == [
        "fraction",
        "Can't pickle <class 'fraction.Fraction'>: attribute lookup Fraction on fraction failed",
    ], result.stderr


CALLS = 1_000 if UNDER_VALGRIND else 100_000


def test_many_operations_leave_reference_counts_and_memory_as_they_were():
    # Ints beyond 256 and a float, made at run time: not cached, not immortal.
    big, other, wrong = int("1000"), int(str(2**40)), float("0.5")
    half = Fraction(1, 2)

    def operations():
        assert half + big == big - half + 1
        assert half < big
        assert half != wrong
        assert hash(half) == hash(mediant(half, half))
        assert pickle.loads(pickle.dumps(half)) == half
        for failing in (lambda: half + other**2, lambda: half < wrong, lambda: mediant(half, wrong)):
            with pytest.raises((OverflowError, TypeError)):
                failing()

    for _ in range(1_000):  # what the first calls cache is not a leak
        operations()
    watched = [big, other, wrong, half, Fraction]
    references, blocks = [sys.getrefcount(each) for each in watched], sys.getallocatedblocks()
    for _ in range(CALLS):
        operations()
    assert [sys.getrefcount(each) for each in watched] == references
    assert sys.getallocatedblocks() - blocks < 100, "each operation left an object behind"
