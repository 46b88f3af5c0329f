"""Differential tests: random sequences of operations on a lesson's HashSet
and on a builtin `set`, side by side, compared after every step.

Hypothesis generates the sequences (adds, removals, membership tests,
iterators created, advanced and drained while the set changes) and shrinks
any failure to a minimal one. Where a lesson knowingly differs from the
builtin, the difference is modelled here, so it is checked, not skipped.

Each machine runs LESSONS_HYPOTHESIS_EXAMPLES sequences (default 2,000).
"""

import ctypes
from decimal import Decimal
from fractions import Fraction

from conftest import HYPOTHESIS_EXAMPLES, OUT_OF_RANGE, PYO3, per_binding
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from lessons import imitating
from target.debug import borrowed, errors, wrapper

EXAMPLES = HYPOTHESIS_EXAMPLES
SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

U32_END = 2**32
C_LONG_BITS = 8 * ctypes.sizeof(ctypes.c_long)
C_LONG_MIN, C_LONG_MAX = -(2 ** (C_LONG_BITS - 1)), 2 ** (C_LONG_BITS - 1) - 1
RANGE_NOTE = ": HashSet holds integers from 0 to 4294967295"
SIZE_CHANGED = "Set changed size during iteration"
CONTENTS_CHANGED = "Set changed during iteration"

# The whole interesting range: small values (so that operations collide),
# the edges of u32 and of C long, huge integers, bools, floats (1.0 equals
# 1), strings (a lone surrogate included), bytes and None.
VALUES = st.one_of(
    st.integers(min_value=0, max_value=12),
    st.sampled_from(
        [0, 1, U32_END - 1, U32_END, -1, 2**31, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**30, -(10**30)]
    ),
    st.integers(),
    st.booleans(),
    st.floats(),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, float(U32_END - 1), float(U32_END)]),
    st.text(max_size=2),
    st.just("\ud800"),
    st.binary(max_size=2),
    st.none(),
)

# Numbers of other types, some equal to an int: lesson 6 finds them by the
# builtin's rule (equal hash, then ==).
OTHER_NUMBERS = st.one_of(
    st.fractions(max_denominator=3),
    st.decimals(places=1, max_value=20, min_value=-2),
    st.complex_numbers(max_magnitude=20),
    st.sampled_from([Fraction(U32_END - 1), Decimal(U32_END - 1), complex(1, 0), Decimal("NaN")]),
)

WALKS = Bundle("walks")


def storable(value):
    return isinstance(value, int) and 0 <= value < U32_END


def errors_error(value):
    """What lesson 6's add/discard/remove raise for `value`, or None."""
    if storable(value):
        return None
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            problem = f"{value} is negative" if value < 0 else f"{value} is too large"
        else:
            problem = "integer is negative" if value < 0 else "integer is too large"
        return errors.OutOfRange, problem + RANGE_NOTE
    return TypeError, "HashSet values must be int, not " + type(value).__name__


def plain_u32_error(value):
    """What lessons 4 and 5 raise for `value` in add (and `in`), or None:
    the binding's plain `u32` conversion, quirks included."""
    if storable(value):
        return None
    if isinstance(value, int):
        if C_LONG_MIN <= value <= C_LONG_MAX:
            return OverflowError, per_binding("", OUT_OF_RANGE)
        return OverflowError, "Python int too large to convert to C long"
    return TypeError, f"'{type(value).__name__}' object cannot be interpreted as an integer"


def outcome(action):
    """("ok", result) or ("raised", type, message) of calling `action`."""
    try:
        return ("ok", action())
    except StopIteration:
        return ("stop",)
    except Exception as error:  # noqa: BLE001 - any exception is an outcome to compare
        return ("raised", type(error), str(error))


class Walk:
    """One iterator on the lesson's set, the builtin's iterator made at the
    same moment, and what the model says the pair should do."""

    def __init__(self, ours, theirs, snapshot, changes):
        self.ours = ours
        self.theirs = theirs
        self.snapshot = frozenset(snapshot)
        self.size_at_start = len(snapshot)
        self.changes_at_start = changes
        self.seen = set()
        self.finished = False
        self.error = None
        # The builtin checks only sizes: after a change that keeps the size,
        # what its iterator does is not specified, so it is no longer compared.
        self.builtin_comparable = True


class DifferentialMachine(RuleBasedStateMachine):
    """Operations every HashSet lesson has, checked against `set`."""

    make = None

    def __init__(self):
        super().__init__()
        self.ours = type(self).make()
        self.model = set()
        self.changes = 0

    def expected_add_error(self, value):
        raise NotImplementedError

    def change_model(self, edit, value):
        before = set(self.model)
        edit(value)
        if self.model != before:
            self.changes += 1

    def mutate(self, method, value, expected_error):
        """Call `method` on both sets; compare what happens."""
        got = outcome(lambda: getattr(self.ours, method)(value))
        if expected_error is None:
            assert got == ("ok", None)
            self.change_model(getattr(self.model, method), value)
        else:
            assert got == ("raised", *expected_error)

    @rule(value=VALUES)
    def add(self, value):
        self.mutate("add", value, self.expected_add_error(value))

    @rule(value=VALUES)
    def contains(self, value):
        assert outcome(lambda: value in self.ours) == self.expected_contains(value)

    @rule()
    def length(self):
        assert len(self.ours) == len(self.model)

    @rule(target=WALKS)
    def new_iterator(self):
        return Walk(iter(self.ours), iter(self.model), self.model, self.changes)

    @rule(walk=WALKS)
    def advance(self, walk):
        self.step(walk)

    @rule(walk=WALKS)
    def drain(self, walk):
        for _ in range(len(walk.snapshot) + 2):
            if self.step(walk) != "value":
                break

    @invariant()
    def contents_match(self):
        assert sorted(self.ours) == sorted(self.model)
        assert len(self.ours) == len(self.model)

    def step(self, walk):
        raise NotImplementedError


class LoanMachine(DifferentialMachine):
    """The loan of lesson 5: the builtin's iterator behaviour, stricter
    in one place (a change that keeps the size stops iterators too)."""

    def pending_change(self, walk):
        """The error the next `next()` will raise, if the set has changed
        since `walk` began and the walk has not ended yet."""
        if walk.finished or walk.error or self.changes == walk.changes_at_start:
            return walk.error
        size_changed = len(self.model) != walk.size_at_start
        if not size_changed:
            # From here on the builtin would carry on; these classes raise.
            walk.builtin_comparable = False
        return SIZE_CHANGED if size_changed else CONTENTS_CHANGED

    @rule(walk=WALKS)
    def length_hint(self, walk):
        if walk.finished or self.pending_change(walk):
            expected = 0
        else:
            expected = len(walk.snapshot) - len(walk.seen)
        assert walk.ours.__length_hint__() == expected
        if walk.builtin_comparable:
            assert walk.theirs.__length_hint__() == expected

    def step(self, walk):
        got = outcome(lambda: next(walk.ours))
        walk.error = self.pending_change(walk)
        unseen = walk.snapshot - walk.seen
        if walk.error:
            assert got == ("raised", RuntimeError, walk.error)
            kind = "raised"
        elif walk.finished or not unseen:
            walk.finished = True
            assert got == ("stop",)
            kind = "stop"
        else:
            assert got[0] == "ok"
            assert got[1] in unseen
            assert type(got[1]) is int
            walk.seen.add(got[1])
            kind = "value"
        if walk.builtin_comparable:
            theirs = outcome(lambda: next(walk.theirs))
            if kind == "value":
                assert theirs[0] == "ok"
                assert theirs[1] in walk.snapshot
            else:
                assert theirs == got
        return kind


def plain_u32_contains(model, value):
    """Lessons 4 and 5 answer `in` through the same `u32` conversion."""
    if storable(value):
        return ("ok", value in model)
    if isinstance(value, int):
        # Quirk: an int outside u32 raises instead of answering False.
        return ("raised", *plain_u32_error(value))
    # Quirk: rust-cpython turns the TypeError of the conversion into False,
    # even for a float such as 1.0 that the builtin set would find. PyO3
    # raises it.
    if PYO3:
        return ("raised", *plain_u32_error(value))
    return ("ok", False)


class BorrowedAgainstSet(LoanMachine):
    """Lesson 5: lesson 4's conversions, and the loan."""

    make = borrowed.HashSet

    def expected_add_error(self, value):
        return plain_u32_error(value)

    def expected_contains(self, value):
        return plain_u32_contains(self.model, value)


class SnapshotMachine(DifferentialMachine):
    """An iterator that walks a snapshot whatever happens to the set
    (lessons 4 and 6)."""

    def step(self, walk):
        got = outcome(lambda: next(walk.ours))
        unseen = walk.snapshot - walk.seen
        if walk.finished or not unseen:
            walk.finished = True
            assert got == ("stop",)
            return "stop"
        assert got[0] == "ok"
        assert got[1] in unseen
        assert type(got[1]) is int
        walk.seen.add(got[1])
        return "value"


class ErrorsAgainstSet(SnapshotMachine):
    """Lesson 6: its own exceptions, and the builtin's membership."""

    make = errors.HashSet

    def expected_add_error(self, value):
        return errors_error(value)

    def expected_contains(self, value):
        return outcome(lambda: value in self.model)

    @rule(value=OTHER_NUMBERS)
    def contains_other_number(self, value):
        assert outcome(lambda: value in self.ours) == outcome(lambda: value in self.model)

    @rule(value=VALUES)
    def discard(self, value):
        self.mutate("discard", value, errors_error(value))

    @rule(value=VALUES)
    def remove(self, value):
        expected_error = errors_error(value)
        got = outcome(lambda: self.ours.remove(value))
        if expected_error is not None:
            assert got == ("raised", *expected_error)
        elif value in self.model:
            assert got == ("ok", None)
            self.change_model(self.model.remove, value)
        else:
            builtin = outcome(lambda: set(self.model).remove(value))
            assert got == builtin == ("raised", KeyError, str(KeyError(value)))

    @rule(values=st.lists(VALUES, max_size=4))
    def update(self, values):
        """All or nothing: the first bad value's error, and nothing added."""
        got = outcome(lambda: self.ours.update(values))
        first_error = next((error for error in map(errors_error, values) if error), None)
        if first_error is not None:
            assert got == ("raised", *first_error)
        else:
            assert got == ("ok", None)
            self.change_model(self.model.update, values)


class WrapperAgainstSet(SnapshotMachine):
    """Lesson 4: the builtin's contents, its own conversion quirks, and an
    iterator that walks a snapshot."""

    make = wrapper.HashSet

    def expected_add_error(self, value):
        return plain_u32_error(value)

    def expected_contains(self, value):
        return plain_u32_contains(self.model, value)


# The lessons whose table row says `imitates = "set"`, each with its machine.
MACHINES = {"wrapper": WrapperAgainstSet, "borrowed": BorrowedAgainstSet, "errors": ErrorsAgainstSet}


def test_every_lesson_that_imitates_set_is_run_against_it():
    assert sorted(MACHINES) == sorted(imitating("set"))


TestBorrowedAgainstSet = BorrowedAgainstSet.TestCase
TestBorrowedAgainstSet.settings = SETTINGS
TestErrorsAgainstSet = ErrorsAgainstSet.TestCase
TestErrorsAgainstSet.settings = SETTINGS
TestWrapperAgainstSet = WrapperAgainstSet.TestCase
TestWrapperAgainstSet.settings = SETTINGS
