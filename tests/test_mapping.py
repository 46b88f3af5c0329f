"""Lesson 13: a container class, tested against `dict`, its specification,
in both bindings; the context manager; and the `RefCell` fields PyO3
refuses, with its answers, in scratch builds."""

import collections.abc
import pickle
import re
import sys
import threading

import pytest
from conftest import (
    HYPOTHESIS_EXAMPLES,
    UNDER_VALGRIND,
    binding_independent,
    build_changed_lesson,
    build_scratch_module,
    cargo_build_in,
    extraction_note,
    once_per_run,
    per_binding,
    run_python,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from target.debug.mapping import Rollback, StringMap, Transaction

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "mapping.StringMap(value)",
    "mapping.StringMap()[value]",
    "mapping.StringMap().__setitem__(value, 1)",
    "mapping.StringMap().__setitem__('key', value)",
    "mapping.StringMap().__delitem__(value)",
    "value in mapping.StringMap()",
    "mapping.StringMap().get(value)",
    "mapping.StringMap().get('key', value)",
    "mapping.StringMap().get(key=value, default=value)",
    "mapping.StringMap().get(**{str(type(value)): value})",
    "setattr(mapping.StringMap(), 'limit', value)",
    "mapping.StringMap.__len__(value)",
    "mapping.StringMap.__iter__(value)",
    "mapping.StringMap.items(value)",
    "mapping.StringMap.__repr__(value)",
    "mapping.StringMap.transaction(value)",
    "mapping.StringMap().transaction().__exit__(value, value, value)",
    "mapping.StringMap().transaction().__enter__(value)",
    "mapping.Transaction.__enter__(value)",
    "mapping.Transaction(value)",
    "mapping.Transaction(map=value)",
]

# The crate the lesson's container is built on, for scratch copies of it.
INDEXMAP = 'indexmap = "2.7"'
INT64 = st.integers(-(2**63), 2**63 - 1)
# Few keys, so that sequences of operations meet the same ones again; keys
# that cannot be in the map (not a str, a lone surrogate); one unhashable.
STORABLE_KEYS = ["a", "b", "ab", "", "Zoë", "🦀", "a\x00b"]
OTHER_KEYS = ["\udc80", 1, 0.5, None, (1, 2), ("a",), b"a", frozenset()]
KEYS = st.sampled_from(STORABLE_KEYS + OTHER_KEYS + [[]])


def outcome(call):
    """A call's value, or its exception as (type, args)."""
    try:
        return call()
    except Exception as error:
        return (type(error), error.args)


def filled(**entries):
    made = StringMap()
    for key, value in entries.items():
        made[key] = value
    return made


def test_run_prints_the_map_its_errors_and_two_transactions(run_lesson):
    assert run_lesson("mapping").splitlines() == [
        "StringMap({'apples': 4, 'pears': 5}) 2 True ['apples', 'pears']",
        "KeyError: 'plums'",
        "ValueError: the map is full: its limit is 2 keys",
        "StringMap({'apples': 4, 'pears': 5})",
        "StringMap({'pears': 5})",
    ]


class MapAgainstDict(RuleBasedStateMachine):
    """Random sequences of what Python code does to a dict, done to a
    StringMap and to a dict side by side: every answer must be the same."""

    def __init__(self):
        super().__init__()
        self.map, self.model = StringMap(), {}

    @rule(key=KEYS, value=INT64)
    def set(self, key, value):
        if key in STORABLE_KEYS:
            self.map[key] = value
            self.model[key] = value
            return
        # Deliberately narrower than dict: keys are str with UTF-8.
        error = UnicodeEncodeError if isinstance(key, str) else TypeError
        with pytest.raises(error):
            self.map[key] = value

    @rule(key=KEYS)
    def get(self, key):
        assert outcome(lambda: self.map[key]) == outcome(lambda: self.model[key])

    @rule(key=KEYS, default=st.sampled_from([None, 0, "default"]))
    def get_with_a_default(self, key, default):
        assert outcome(lambda: self.map.get(key, default)) == outcome(lambda: self.model.get(key, default))
        assert outcome(lambda: self.map.get(key)) == outcome(lambda: self.model.get(key))

    @rule(key=KEYS)
    def delete(self, key):
        def delete_from(container):
            del container[key]

        assert outcome(lambda: delete_from(self.map)) == outcome(lambda: delete_from(self.model))

    @rule(key=KEYS)
    def contains(self, key):
        assert outcome(lambda: key in self.map) == outcome(lambda: key in self.model)

    @rule(
        keys=st.lists(st.sampled_from(STORABLE_KEYS), max_size=4),
        finish=st.sampled_from(["commit", "rollback", "error"]),
    )
    def transaction(self, keys, finish):
        before = dict(self.model)
        try:
            with self.map.transaction() as inside:
                assert inside is self.map
                for number, key in enumerate(keys):
                    inside[key] = number
                    self.model[key] = number
                if finish == "rollback":
                    raise Rollback
                if finish == "error":
                    raise LookupError("the block failed")
        except LookupError:
            assert finish == "error"
        if finish != "commit":
            self.model = before

    @invariant()
    def same_contents_in_the_same_order(self):
        assert len(self.map) == len(self.model)
        assert bool(self.map) == bool(self.model)
        assert list(self.map) == list(self.model)
        assert self.map.items() == list(self.model.items())
        assert repr(self.map) == f"StringMap({self.model!r})"


TestMapAgainstDict = MapAgainstDict.TestCase
TestMapAgainstDict.settings = settings(
    max_examples=HYPOTHESIS_EXAMPLES // 4,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("key", ["missing", 1, None, (1, 2), ("a",), frozenset(), "\udc80"])
def test_a_missing_key_raises_key_error_carrying_that_key_as_dict_does(key):
    with pytest.raises(KeyError) as expected:
        {}[key]
    for call in [lambda: StringMap()[key], lambda: StringMap().__delitem__(key)]:
        with pytest.raises(KeyError) as got:
            call()
        # A tuple key stays one argument: KeyError((1, 2)), not KeyError(1, 2).
        assert got.value.args == expected.value.args == (key,)
        assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("key", [[], {}, set()])
def test_an_unhashable_key_is_the_type_error_dict_raises(key):
    with pytest.raises(TypeError) as expected:
        {}[key]
    for call in [lambda: StringMap()[key], lambda: key in StringMap(), lambda: StringMap().get(key)]:
        with pytest.raises(TypeError, match=f"^{expected.value}$"):
            call()


def test_a_key_that_is_not_a_str_cannot_be_stored():
    message = per_binding(
        "^Expected type that converts to PyString but received int$", "^'int' object is not an instance of 'str'"
    )
    with pytest.raises(TypeError, match=message + extraction_note("key")):
        StringMap()[1] = 1
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        StringMap()["\udc80"] = 1


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (2**63, OverflowError, "^Python int too large to convert to C long"),
        (-(2**63) - 1, OverflowError, "^Python int too large to convert to C long"),
        (10**100, OverflowError, "^Python int too large to convert to C long"),
        ("1", TypeError, "^'str' object cannot be interpreted as an integer"),
        (1.5, TypeError, "^'float' object cannot be interpreted as an integer"),
        (None, TypeError, "^'NoneType' object cannot be interpreted as an integer"),
    ],
)
def test_a_value_that_is_not_a_64_bit_int_is_refused_and_nothing_changes(value, error, message):
    stored = filled(a=1)
    with pytest.raises(error, match=message + extraction_note("value")):
        stored["a"] = value
    with pytest.raises(error):
        stored["b"] = value
    assert stored.items() == [("a", 1)]


def test_setting_a_key_again_keeps_its_place_and_deleting_keeps_the_others_in_order():
    stored = filled(a=1, b=2, c=3)
    stored["a"] = 10
    del stored["b"]
    stored["b"] = 20
    assert list(stored) == ["a", "c", "b"]
    assert stored.items() == [("a", 10), ("c", 3), ("b", 20)]


def test_iterating_sees_the_keys_as_they_were_when_the_loop_began():
    # A deliberate difference: a dict raises RuntimeError when its size
    # changes during iteration; this iterates a list of the keys.
    stored = filled(a=1, b=2)
    seen = []
    for key in stored:
        seen.append(key)
        stored["c" + key] = 0
    assert seen == ["a", "b"]
    assert list(stored) == ["a", "b", "ca", "cb"]


def test_it_is_a_mutable_mapping_to_python():
    stored = filled(a=1)
    assert isinstance(stored, collections.abc.MutableMapping)
    assert issubclass(StringMap, collections.abc.Mapping)
    # Registered, not derived: the ABC's mixin methods are not inherited.
    assert not hasattr(stored, "keys")
    assert dict(stored.items()) == {"a": 1}


@pytest.mark.skipif(sys.version_info < (3, 10), reason="match statements are new in Python 3.10")
def test_a_match_statement_takes_only_the_twin_for_a_mapping():
    source = """
def kind(subject):
    match subject:
        case [*_]:
            return "sequence"
        case {"a": value}:
            return f"mapping with a={value}"
        case _:
            return "other"
"""
    namespace = {}
    exec(source, namespace)
    # `match` reads a flag of the type, which `register` sets on a class
    # Python made but not on a static type, as rust-cpython's are; the
    # twin's `#[pyclass(mapping)]` sets it.
    assert namespace["kind"](filled(a=1)) == per_binding("other", "mapping with a=1")
    assert namespace["kind"](filled(b=1)) == "other"
    assert namespace["kind"]({"a": 1}) == "mapping with a=1"


def test_the_limit_is_a_property_with_a_setter_that_validates():
    stored = filled(a=1, b=2)
    assert stored.limit is None
    stored.limit = 3
    assert stored.limit == 3
    stored["c"] = 3
    stored["a"] = 10  # a key already there takes no room
    with pytest.raises(ValueError, match="^the map is full: its limit is 3 keys$"):
        stored["d"] = 4
    assert list(stored) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="^limit 2 is below the 3 keys the map has$"):
        stored.limit = 2
    with pytest.raises(ValueError, match="^limit -1 is below the 3 keys the map has$"):
        stored.limit = -1
    assert stored.limit == 3


@pytest.mark.parametrize(
    ("value", "error"), [("3", TypeError), (3.0, TypeError), (2**64, OverflowError), (-(2**64), OverflowError)]
)
def test_a_limit_that_is_not_an_int_is_refused(value, error):
    stored = filled(a=1)
    stored.limit = 5
    with pytest.raises(error):
        stored.limit = value
    assert stored.limit == 5


def test_none_and_del_both_remove_the_limit():
    stored = filled(a=1)
    stored.limit = 1
    stored.limit = None
    stored["b"] = 2
    stored.limit = 2
    del stored.limit
    stored["c"] = 3
    assert stored.limit is None
    del stored.limit  # no limit to remove: still none, as with `= None`
    assert stored.limit is None


def test_the_map_has_no_other_attributes():
    stored = StringMap()
    with pytest.raises(AttributeError):
        stored.other = 1


def test_a_transaction_keeps_the_changes_of_a_block_that_finishes():
    stored = filled(a=1)
    with stored.transaction() as inside:
        inside["b"] = 2
        del inside["a"]
    assert stored.items() == [("b", 2)]


def change_then_raise(stored, error):
    with stored.transaction():
        stored["b"] = 2
        stored.limit = 2
        del stored["a"]
        raise error


def test_an_exception_undoes_the_block_and_goes_on():
    stored = filled(a=1)
    stored.limit = 5
    with pytest.raises(ZeroDivisionError):
        change_then_raise(stored, ZeroDivisionError)
    assert stored.items() == [("a", 1)]
    assert stored.limit == 5


def test_rollback_undoes_the_block_and_stops_there():
    class Abandon(Rollback):
        pass

    stored = filled(a=1)
    for raised in [Rollback, Rollback("why"), Abandon]:
        with stored.transaction():
            stored["b"] = 2
            raise raised
    assert stored.items() == [("a", 1)]
    assert issubclass(Rollback, Exception)


def test_keyboard_interrupt_undoes_the_block_too():
    stored = filled(a=1)
    with pytest.raises(KeyboardInterrupt):
        change_then_raise(stored, KeyboardInterrupt)
    assert stored.items() == [("a", 1)]
    assert stored.limit is None


def test_transactions_nest():
    stored = filled(a=1)
    with stored.transaction():
        stored["b"] = 2
        with stored.transaction():
            stored["c"] = 3
            raise Rollback
        assert list(stored) == ["a", "b"]
    assert list(stored) == ["a", "b"]


def test_a_transaction_is_entered_once_at_a_time_and_can_be_used_again():
    stored = filled(a=1)
    transaction = stored.transaction()
    with transaction:
        with pytest.raises(RuntimeError, match="^the transaction is already open$"):
            transaction.__enter__()
        stored["b"] = 2
    with pytest.raises(RuntimeError, match="^the transaction is not open$"):
        transaction.__exit__(None, None, None)
    with transaction:
        stored["c"] = 3
        raise Rollback
    assert list(stored) == ["a", "b"]


def test_exit_returns_whether_it_swallows_the_exception():
    stored = StringMap()
    transaction = stored.transaction()
    transaction.__enter__()
    assert transaction.__exit__(None, None, None) is False
    transaction.__enter__()
    assert transaction.__exit__(ValueError, ValueError(), None) is False
    transaction.__enter__()
    assert transaction.__exit__(Rollback, Rollback(), None) is True


def test_exit_with_a_kind_that_is_not_a_type_is_a_type_error():
    transaction = StringMap().transaction()
    transaction.__enter__()
    with pytest.raises(TypeError):
        transaction.__exit__("ValueError", None, None)


def test_a_transaction_is_made_from_a_map_and_nothing_else():
    stored = filled(a=1)
    with Transaction(stored) as inside:
        assert inside is stored
        stored["b"] = 2
        raise Rollback
    assert list(stored) == ["a"]
    assert type(Transaction(map=stored)) is Transaction
    for wrong in [1, {}, None, stored.transaction()]:
        # rust-cpython names the type as CPython does: its own in full.
        kind = type(wrong)
        full_name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        message = per_binding(
            f"^Expected type that converts to StringMap but received {re.escape(full_name)}$",
            ("'None' is" if wrong is None else f"'{type(wrong).__name__}' object is")
            + " not an instance of 'StringMap'",
        )
        with pytest.raises(TypeError, match=message + extraction_note("map")):
            Transaction(wrong)
    with pytest.raises(TypeError):
        Transaction()


def test_instances_of_the_map_do_not_pickle():
    # Lesson 12 shows how (`__reduce__`); this lesson does not, and says so.
    with pytest.raises(TypeError, match="can't pickle|cannot pickle"):
        pickle.dumps(StringMap())
    assert pickle.loads(pickle.dumps(StringMap)) is StringMap


def test_keys_and_values_are_converted_when_stored():
    class Text(str):
        pass

    stored = StringMap()
    stored[Text("a")] = True
    ((key, value),) = stored.items()
    assert (type(key), type(value)) == (str, int)
    assert stored[Text("a")] == 1


def has_utf8(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False  # a lone surrogate
    return True


@given(st.dictionaries(st.text(), INT64, max_size=20))
def test_every_text_key_a_dict_holds_the_map_holds_unless_it_has_no_utf8(entries):
    stored = StringMap()
    for key, value in entries.items():
        if has_utf8(key):
            stored[key] = value
        else:
            with pytest.raises(UnicodeEncodeError):
                stored[key] = value
    expected = {key: value for key, value in entries.items() if has_utf8(key)}
    assert stored.items() == list(expected.items())
    for key in entries:
        assert stored.get(key, "absent") == expected.get(key, "absent")


CALLS = 1_000 if UNDER_VALGRIND else 100_000


def test_many_operations_leave_reference_counts_and_memory_as_they_were():
    key, missing, value = "".join(["ke", "y"]), "".join(["mis", "sing"]), int("1000")
    stored = StringMap()

    def operations():
        stored[key] = value
        assert stored[key] == value
        assert key in stored
        assert list(stored) == [key]
        with pytest.raises(KeyError):
            stored[missing]
        with stored.transaction():
            del stored[key]
            raise Rollback

    for _ in range(1_000):  # what the first calls cache is not a leak
        operations()
    watched = [key, missing, value, stored]
    references, blocks = [sys.getrefcount(each) for each in watched], sys.getallocatedblocks()
    for _ in range(CALLS):
        operations()
    assert [sys.getrefcount(each) for each in watched] == references
    assert sys.getallocatedblocks() - blocks < 100, "each operation left an object behind"


def test_threads_that_share_the_map_see_every_change():
    # The GIL orders the calls: the RefCell (or PyO3's borrow flag) is
    # never borrowed by two threads at once, since no method releases it.
    stored = StringMap()

    def fill(prefix):
        for number in range(2_000):
            stored[f"{prefix}{number}"] = number
            del stored[f"{prefix}{number}"]
            stored[f"{prefix}{number}"] = number

    threads = [threading.Thread(target=fill, args=(prefix,)) for prefix in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stored) == 8_000
    assert sorted(stored.items()) == sorted((f"{prefix}{n}", n) for prefix in "abcd" for n in range(2_000))


def test_a_rollback_undoes_what_other_threads_wrote_during_the_block():
    # A transaction restores the map as it was when the block began: it is
    # for one thread at a time, as the lesson says.
    stored = filled(a=1)
    writer = threading.Thread(target=stored.__setitem__, args=("written", 2))
    with stored.transaction():
        writer.start()
        writer.join()
        assert "written" in stored
        raise Rollback
    assert stored.items() == [("a", 1)]


class ReadsTheMap:
    """A value whose conversion to an int runs Python code that reads the map."""

    def __init__(self, stored):
        self.stored = stored

    def __index__(self):
        return len(self.stored) + self.stored.get("a", 0)


class WritesTheMap:
    """A key whose hash runs Python code that changes the map."""

    def __init__(self, stored):
        self.stored = stored

    def __hash__(self):
        self.stored["written"] = len(self.stored)
        return 1


def test_python_code_run_by_an_argument_may_use_the_map():
    stored = filled(a=10)
    stored["b"] = ReadsTheMap(stored)
    stored.limit = ReadsTheMap(stored)
    assert stored.items() == [("a", 10), ("b", 11)]
    assert stored.limit == 12
    key = WritesTheMap(stored)
    assert stored.get(key) is None
    assert key not in stored
    with pytest.raises(KeyError):
        stored[key]
    with pytest.raises(KeyError):
        del stored[key]
    # Each of the four hashes stored the length it found: 2, then 3.
    assert stored.items() == [("a", 10), ("b", 11), ("written", 3)]


# The twin's `__setitem__` as answer 1 alone would write it: `&mut self`.
BORROWS_FIRST = (
    "    fn __setitem__(slf: &Bound<'_, Self>, key: String, value: i64) -> PyResult<()> {\n"
    "        slf.borrow_mut()\n"
    "            .entries\n"
    "            .insert(key, value)\n"
    "            .map_err(value_error)\n",
    "    fn __setitem__(&mut self, key: String, value: i64) -> PyResult<()> {\n"
    "        self.entries.insert(key, value).map_err(value_error)\n",
)

SETS_A_VALUE_THAT_READS = """
from mapping import StringMap

class ReadsTheMap:
    def __index__(self):
        return len(stored)

stored = StringMap()
try:
    stored["a"] = ReadsTheMap()
except RuntimeError as error:
    print(type(error).__name__, str(error).splitlines()[0])
print(stored)
"""


@binding_independent
@once_per_run
def test_pyo3_borrows_self_before_it_converts_the_arguments(tmp_path, build_python):
    build_changed_lesson(tmp_path, build_python, "mapping", "pyo3", [BORROWS_FIRST], extra=[INDEXMAP])
    result = run_python("-c", SETS_A_VALUE_THAT_READS, cwd=tmp_path)
    assert result.stdout == "RuntimeError Already mutably borrowed\nStringMap({})\n", result.stderr


# The twin's deleter, taken out.
WITHOUT_DELETER = (
    "    #[deleter]\n    fn delete_limit(&mut self) -> PyResult<()> {\n"
    "        self.entries.set_limit(None).map_err(value_error)\n    }\n\n",
    "",
)

DELETES_THE_LIMIT = """
from mapping import StringMap

stored = StringMap()
stored.limit = 3
try:
    del stored.limit
except AttributeError as error:
    print(type(error).__name__, error)
stored.limit = None
print(stored.limit)
"""


@binding_independent
@once_per_run
def test_without_a_deleter_del_is_an_attribute_error_in_pyo3(tmp_path, build_python):
    build_changed_lesson(tmp_path, build_python, "mapping", "pyo3", [WITHOUT_DELETER], extra=[INDEXMAP])
    result = run_python("-c", DELETES_THE_LIMIT, cwd=tmp_path)
    assert result.stdout == "AttributeError property has no deleter\nNone\n", result.stderr


# The first wall of a port: a `#[pyclass]` must be `Sync`, which a
# `RefCell` or `Cell` field is not.
REFUSED = """
use std::cell::{{Cell, RefCell}};
use pyo3::prelude::*;

#[pyclass]
struct Counter {{
    count: {field},
}}

#[pymodule]
fn refused(module: &Bound<'_, PyModule>) -> PyResult<()> {{
    module.add_class::<Counter>()
}}
"""


@binding_independent
@once_per_run
@pytest.mark.parametrize("field", ["RefCell<u64>", "Cell<u64>"])
def test_pyo3_refuses_a_class_with_a_refcell_or_cell_field(tmp_path, build_python, field):
    crate = tmp_path / "crate"
    (crate / "src").mkdir(parents=True)
    manifest = '[package]\nname = "refused"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\n'
    manifest += '\n[dependencies]\npyo3 = { version = "0.30.1", features = ["extension-module"] }\n'
    (crate / "Cargo.toml").write_text(manifest)
    (crate / "src" / "lib.rs").write_text(REFUSED.format(field=field))
    target = tmp_path.parent / "refused-target"
    build = cargo_build_in(crate, build_python, target)
    assert build.returncode != 0
    assert "error[E0277]" in build.stderr
    assert f"`{field}` cannot be shared between threads safely" in build.stderr


# The second answer: `unsendable` accepts the RefCell, and PyO3 then
# checks, on every use, that the object stays on the thread that made it:
# used from another, it panics (PyO3's PanicException).
UNSENDABLE = """
use std::cell::RefCell;
use pyo3::prelude::*;

#[pyclass(unsendable)]
struct Counter {
    count: RefCell<u64>,
}

#[pymethods]
impl Counter {
    #[new]
    fn new() -> Self {
        Counter { count: RefCell::new(0) }
    }

    fn add(&self) -> u64 {
        *self.count.borrow_mut() += 1;
        *self.count.borrow()
    }
}

#[pymodule]
fn unsendable(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Counter>()
}
"""

FROM_ANOTHER_THREAD = """
import threading
from unsendable import Counter

counter = Counter()
print(counter.add())

def other():
    try:
        counter.add()
    except BaseException as error:
        print(type(error).__name__, error)

thread = threading.Thread(target=other)
thread.start()
thread.join()
print(counter.add())
"""


@binding_independent
@once_per_run
def test_an_unsendable_class_may_hold_a_refcell_and_panics_on_other_threads(tmp_path, build_python):
    build_scratch_module(tmp_path, build_python, "unsendable", UNSENDABLE, "pyo3")
    result = run_python("-c", FROM_ANOTHER_THREAD, cwd=tmp_path)
    # The panic's message spans lines: the assertion, then the thread ids.
    first, *message, last = result.stdout.splitlines()
    assert (first, last) == ("1", "2"), result.stderr
    assert message[0].startswith("PanicException assertion `left == right` failed: ")
    assert message[0].endswith("unsendable::Counter is unsendable, but sent to another thread")
