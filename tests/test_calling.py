"""Lesson 9: a cache in Rust that calls a store, a loader and settings from Python."""

import argparse
import dataclasses
import functools
import gc
import importlib.util
import re
import shutil
import subprocess
import sys
import textwrap
import types
from datetime import timedelta

import pytest
from conftest import (
    HYPOTHESIS_EXAMPLES,
    PYO3,
    ROOT,
    UNDER_VALGRIND,
    binding_independent,
    build_changed_lesson,
    build_lesson_alone,
    changed_source,
    describe_exit,
    once_per_run,
    per_binding,
    run_child,
    run_python,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from calling.errors import LimitReached
from rust_tests import embedded_python_environment
from target.debug import calling

STORE = "type('Store', (dict,), {'put': lambda self, key, value, ttl: self.__setitem__(key, value)})()"

# Every entry point of the module, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "calling.Cache(value, value)",
    "calling.Cache(type('S', (dict,), {'put': lambda self, key, value, ttl: self.__setitem__(key, value)})(), value)",
    "calling.Cache({}, __import__('types').SimpleNamespace(prefix=value, ttl=value, limit=value))",
    (
        "calling.Cache({}, __import__('types').SimpleNamespace(prefix='', "
        "ttl=__import__('datetime').timedelta(1), limit=value))"
    ),
    (
        "calling.Cache({}, __import__('types').SimpleNamespace(prefix=value, "
        "ttl=__import__('datetime').timedelta(1), limit=1))"
    ),
    (
        "calling.Cache(value, "
        "__import__('types').SimpleNamespace(prefix='p:', ttl=__import__('datetime').timedelta(1), limit=3))"
        ".fetch(['a'], str.upper)"
    ),
    (
        "calling.Cache(type('S', (dict,), {'put': lambda self, key, value, ttl: self.__setitem__(key, value)})(), "
        "__import__('types').SimpleNamespace(prefix='p:', ttl=__import__('datetime').timedelta(1), limit=3))"
        ".fetch(value, str.upper)"
    ),
    (
        "calling.Cache(type('S', (dict,), {'put': lambda self, key, value, ttl: self.__setitem__(key, value)})(), "
        "__import__('types').SimpleNamespace(prefix='p:', ttl=__import__('datetime').timedelta(1), limit=3))"
        ".fetch([value], str.upper)"
    ),
    (
        "calling.Cache(type('S', (dict,), {'put': lambda self, key, value, ttl: self.__setitem__(key, value)})(), "
        "__import__('types').SimpleNamespace(prefix='p:', ttl=__import__('datetime').timedelta(1), limit=3))"
        ".fetch(['a'], value)"
    ),
    (
        "calling.Cache(type('S', (dict,), {'put': lambda self, key, value, ttl: self.__setitem__(key, value)})(), "
        "__import__('types').SimpleNamespace(prefix='p:', ttl=__import__('datetime').timedelta(1), limit=3))"
        ".fetch(['a'], lambda key: value)"
    ),
    (
        "calling.Cache(type('S', (dict,), {'put': lambda self, key, value, ttl: self.__setitem__(key, value)})(), "
        "__import__('types').SimpleNamespace(prefix='p:', ttl=__import__('datetime').timedelta(1), limit=3))"
        ".fetch(keys=value, load=value)"
    ),
    (
        "calling.Cache(type('S', (dict,), {'put': lambda self, key, value, ttl: self.__setitem__(key, value)})(), "
        "__import__('types').SimpleNamespace(prefix='p:', ttl=__import__('datetime').timedelta(1), limit=3))"
        ".fetch(['a'], str.upper, **{str(type(value)): value})"
    ),
    (
        "calling.Cache(type('S', (dict,), {'put': lambda self, key, value, ttl: self.__setitem__(key, value)})(), "
        "__import__('types').SimpleNamespace(prefix='p:', ttl=__import__('datetime').timedelta(1), limit=3))"
        ".loaded(value)"
    ),
]

# rust-cpython's wording of argument errors, and PyO3's (as CPython's own).
MISSING = "Required argument ('{name}') (pos {position}) not found"
UNEXPECTED = "{function}() got an unexpected keyword argument '{keyword}'"


class Store(dict):
    """A store as the cache expects one, that records each `put`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.puts = []

    def put(self, key, value, ttl):
        self.puts.append((key, value, ttl))
        self[key] = value


def make_settings(prefix="p:", ttl=timedelta(minutes=5), limit=10):
    return types.SimpleNamespace(prefix=prefix, ttl=ttl, limit=limit)


def new_cache(store=None, **settings):
    return calling.Cache(Store() if store is None else store, make_settings(**settings))


def reference_fetch(store, settings, keys, load, loaded):
    """What `Cache.fetch` does, in Python: the tests' specification."""
    if isinstance(keys, str):
        raise TypeError("Can't extract `str` to `Vec`")
    keys = list(keys)
    values, loads = [], 0
    for key in keys:
        stored_key = settings.prefix + key
        try:
            value = store[stored_key]
        except KeyError:
            if loads == settings.limit:
                message = f"fetch would load more than settings.limit ({settings.limit}) values"
                raise LimitReached(message, loads) from None
            loads += 1
            value = load(key)
            store.put(stored_key, value, ttl=settings.ttl)
            loaded.append(key)
        values.append(value)
    return dict(zip(keys, values))


def test_run_loads_what_is_missing_and_stops_at_the_limit(run_lesson):
    output = run_lesson("calling")
    assert "  {'b': 'B', 'c': 'C'}\n" in output
    assert output.count("  load(") == 5
    assert "calling.errors.LimitReached: fetch would load more than settings.limit (2) values\n" in output
    assert output.endswith("loaded: ['a', 'b', 'c', 'd', 'e']\n")


def test_a_fetch_loads_and_stores_only_what_the_store_lacks():
    store = Store({"p:here": 1})
    cache = new_cache(store)
    calls = []

    def load(key):
        calls.append(key)
        return len(key)

    assert cache.fetch(["here", "gone", "here"], load) == {"here": 1, "gone": 4}
    assert calls == ["gone"]
    assert store.puts == [("p:gone", 4, timedelta(minutes=5))]
    assert cache.fetch(["gone"], load) == {"gone": 4}
    assert calls == ["gone"]
    assert cache.loaded() == ["gone"]


KEYS = st.lists(st.sampled_from(["a", "b", "c", "", "é", "🐍", "a b"]), max_size=8)


@settings(max_examples=HYPOTHESIS_EXAMPLES // 10, deadline=None)
@given(keys=KEYS, stored=st.sets(st.sampled_from(["a", "b", "c", "é"])), limit=st.integers(0, 4))
def test_a_fetch_does_what_the_python_reference_does(keys, stored, limit):
    def run(fetch):
        store = Store({"p:" + key: key * 2 for key in stored})
        loads, loaded = [], []

        def load(key):
            loads.append(key)
            return key.upper()

        try:
            outcome = fetch(store, make_settings(limit=limit), keys, load, loaded)
        except LimitReached as error:
            outcome = ("LimitReached", str(error), error.limit)
        return outcome, loads, loaded, store.puts, dict(store)

    def through_the_cache(store, settings, keys, load, loaded):
        cache = calling.Cache(store, settings)
        try:
            return cache.fetch(keys, load)
        finally:
            loaded.extend(cache.loaded())

    assert run(through_the_cache) == run(reference_fetch)


def function(key):
    return key * 2


class Callable:
    def __call__(self, key):
        return key * 2

    def method(self, key):
        return key * 2


CALLABLES = {
    "function": function,
    "lambda": lambda key: key * 2,
    "bound method": Callable().method,
    "callable instance": Callable(),
    "builtin": str.upper,
    "class": str,
    "partial": functools.partial(str.replace, "ab", "a"),
    "method of a builtin": "<{}>".format,
}


@pytest.mark.parametrize("kind", CALLABLES)
def test_any_callable_loads(kind):
    load = CALLABLES[kind]
    assert new_cache().fetch(["a", "b"], load) == {"a": load("a"), "b": load("b")}


def test_a_loader_of_the_wrong_arity_raises_its_own_type_error():
    with pytest.raises(TypeError, match=r"takes 0 positional arguments but 1 was given"):
        new_cache().fetch(["a"], lambda: 1)


def test_the_loader_is_called_with_the_key_without_the_prefix():
    seen = []
    new_cache(prefix="user:").fetch(["7"], lambda key: seen.append(key))
    assert seen == ["7"]


class Custom(BaseException):
    pass


@pytest.mark.parametrize(
    "raised",
    [ValueError("bad value"), KeyError("a"), KeyboardInterrupt(), SystemExit(3), StopIteration(), Custom("mine")],
    ids=lambda error: type(error).__name__,
)
def test_an_exception_in_the_loader_reaches_the_caller_unchanged(raised):
    cause = RuntimeError("underneath")

    def failing_load(key):
        raise raised from cause

    store = Store()
    cache = new_cache(store)
    with pytest.raises(type(raised)) as caught:
        cache.fetch(["a"], failing_load)
    assert caught.value is raised
    assert caught.value.__cause__ is cause
    # The traceback still reaches into the loader.
    assert any(entry.name == "failing_load" for entry in caught.traceback)
    assert store == {}
    assert cache.loaded() == []


def test_a_key_error_from_the_loader_is_not_taken_for_a_missing_key():
    """Only the store's KeyError means "missing"."""
    with pytest.raises(KeyError, match="from the loader"):
        new_cache().fetch(["a"], lambda key: {}["from the loader"])


def test_what_was_loaded_before_an_error_is_kept():
    store = Store()
    cache = new_cache(store)

    def load(key):
        if key == "bad":
            raise ValueError(key)
        return key

    with pytest.raises(ValueError, match="^bad$"):
        cache.fetch(["a", "bad", "c"], load)
    assert store == {"p:a": "a"}
    assert cache.loaded() == ["a"]


def test_the_limit_raises_the_exception_python_defines_and_keeps_what_was_loaded():
    store = Store()
    cache = new_cache(store, limit=2)
    with pytest.raises(LimitReached) as caught:
        cache.fetch(["a", "b", "c"], str.upper)
    assert type(caught.value) is LimitReached
    assert isinstance(caught.value, RuntimeError)
    assert caught.value.args == ("fetch would load more than settings.limit (2) values",)
    assert caught.value.limit == 2
    assert store == {"p:a": "A", "p:b": "B"}
    assert cache.loaded() == ["a", "b"]
    # A key the store has does not count.
    assert new_cache(Store({"p:a": 1}), limit=0).fetch(["a"], str.upper) == {"a": 1}


UNIMPORTABLE = f"""
import sys
from datetime import timedelta
from types import SimpleNamespace
from target.debug import calling

sys.modules["calling.errors"] = None
cache = calling.Cache({STORE}, SimpleNamespace(prefix="", ttl=timedelta(1), limit=0))
try:
    cache.fetch(["a"], str)
except BaseException as error:
    print(type(error).__name__, error, sep=": ")
"""


def test_an_exception_class_that_cannot_be_imported_is_an_import_error():
    result = run_child(UNIMPORTABLE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ModuleNotFoundError: import of calling.errors halted; None in sys.modules\n"


class Recorder(dict):
    """A store whose `put` takes anything, and records how it was called."""

    def put(self, *args, **kwargs):
        self.call = (args, kwargs)
        self[args[0]] = args[1]


@pytest.mark.parametrize(
    "ttl",
    [timedelta(microseconds=1), timedelta(days=1, seconds=3, microseconds=7), timedelta.max, timedelta(days=-1) * -1],
)
def test_put_gets_the_ttl_back_as_an_equal_timedelta_by_keyword(ttl):
    store = Recorder()
    calling.Cache(store, make_settings(ttl=ttl)).fetch(["k"], str.upper)
    args, kwargs = store.call
    assert args == ("p:k", "K")
    assert list(kwargs) == ["ttl"]
    assert type(kwargs["ttl"]) is timedelta
    assert kwargs["ttl"] == ttl


class Hours(timedelta):
    pass


def test_a_timedelta_subclass_is_a_ttl():
    store = Recorder()
    calling.Cache(store, make_settings(ttl=Hours(hours=2))).fetch(["k"], str.upper)
    assert store.call[1]["ttl"] == timedelta(hours=2)


@pytest.mark.parametrize(
    ("store", "error", "message"),
    [
        ([], TypeError, "list indices must be integers or slices, not str"),
        ({}, AttributeError, "'dict' object has no attribute 'put'"),
        (None, TypeError, "'NoneType' object is not subscriptable"),
    ],
    ids=["no str keys", "no put", "None"],
)
def test_a_store_that_does_not_fit_raises_its_own_error(store, error, message):
    with pytest.raises(error, match=message):
        calling.Cache(store, make_settings()).fetch(["a"], str.upper)


def test_an_error_in_the_stores_methods_reaches_the_caller_unchanged():
    raised = OSError("disk full")

    class Full(Store):
        def put(self, key, value, ttl):
            raise raised

    cache = new_cache(Full())
    with pytest.raises(OSError, match="disk full") as caught:
        cache.fetch(["a"], str.upper)
    assert caught.value is raised
    # Loaded, but not stored: not recorded as loaded.
    assert cache.loaded() == []


def test_a_key_error_subclass_from_the_store_means_missing():
    class Lookup(dict):
        def __getitem__(self, key):
            raise type("Expired", (KeyError,), {})(key)

        def put(self, key, value, ttl):
            pass

    assert calling.Cache(Lookup(), make_settings()).fetch(["a"], str.upper) == {"a": "A"}


@dataclasses.dataclass
class DataclassSettings:
    prefix: str = "d:"
    ttl: timedelta = timedelta(seconds=1)
    limit: int = 1


class SlotSettings:
    __slots__ = ("prefix", "ttl", "limit")

    def __init__(self):
        self.prefix, self.ttl, self.limit = "s:", timedelta(seconds=1), 1


class PropertySettings:
    @property
    def prefix(self):
        return "q:"

    ttl = timedelta(seconds=1)
    limit = 1


class DynamicSettings:
    def __getattr__(self, name):
        return {"prefix": "g:", "ttl": timedelta(seconds=1), "limit": 1}[name]


def module_settings():
    module = types.ModuleType("config")
    module.prefix, module.ttl, module.limit = "m:", timedelta(seconds=1), 1
    return module


SETTINGS_OBJECTS = {
    "SimpleNamespace": lambda: make_settings(prefix="n:", limit=1),
    "argparse.Namespace": lambda: argparse.Namespace(prefix="a:", ttl=timedelta(seconds=1), limit=1),
    "dataclass": DataclassSettings,
    "slots": SlotSettings,
    "property": PropertySettings,
    "__getattr__": DynamicSettings,
    "module": module_settings,
}


@pytest.mark.parametrize("kind", SETTINGS_OBJECTS)
def test_settings_come_from_any_objects_attributes(kind):
    settings_object = SETTINGS_OBJECTS[kind]()
    store = Store()
    calling.Cache(store, settings_object).fetch(["k"], str.upper)
    assert store.puts == [(settings_object.prefix + "k", "K", settings_object.ttl)]


def test_settings_are_read_once_when_the_cache_is_made():
    settings_object = make_settings(prefix="before:")
    store = Store()
    cache = calling.Cache(store, settings_object)
    settings_object.prefix = "after:"
    cache.fetch(["k"], str.upper)
    assert list(store) == ["before:k"]


def test_a_missing_setting_is_pythons_attribute_error():
    with pytest.raises(AttributeError, match="^'types.SimpleNamespace' object has no attribute 'limit'$"):
        calling.Cache({}, types.SimpleNamespace(prefix="", ttl=timedelta(1)))
    with pytest.raises(AttributeError, match="^'NoneType' object has no attribute 'prefix'$"):
        calling.Cache({}, None)


@pytest.mark.parametrize(
    ("name", "value", "error", "cpython", "pyo3"),
    [
        (
            "prefix",
            1,
            TypeError,
            "Expected type that converts to PyString but received int",
            "'int' object is not an instance of 'str'",
        ),
        (
            "prefix",
            None,
            TypeError,
            "Expected type that converts to PyString but received NoneType",
            "'None' is not an instance of 'str'",
        ),
        ("limit", "3", TypeError, "'str' object cannot be interpreted as an integer", None),
        ("limit", 2.0, TypeError, "'float' object cannot be interpreted as an integer", None),
        ("limit", -1, OverflowError, "can't convert negative int to unsigned", None),
        ("limit", 2**64, OverflowError, "int too big to convert", None),
        ("limit", 10**400, OverflowError, "int too big to convert", None),
        ("ttl", 5, TypeError, "expected a datetime.timedelta, not int", None),
        ("ttl", "5s", TypeError, "expected a datetime.timedelta, not str", None),
        ("ttl", timedelta(0), ValueError, "a time to live must be positive", None),
        ("ttl", timedelta(microseconds=-1), ValueError, "a time to live must be positive", None),
        ("ttl", timedelta.min, ValueError, "a time to live must be positive", None),
    ],
)
def test_a_setting_of_the_wrong_type_or_range_is_named_in_the_error(name, value, error, cpython, pyo3):
    message = per_binding(cpython, pyo3 or cpython)
    with pytest.raises(error) as caught:
        calling.Cache({}, make_settings(**{name: value}))
    assert type(caught.value) is error
    assert str(caught.value) == f"settings.{name}: {message}"


def test_a_prefix_that_utf8_cannot_encode_raises_unicode_encode_error_as_it_is():
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        calling.Cache({}, make_settings(prefix="\ud800"))


def test_a_property_that_raises_reaches_the_caller_unchanged():
    raised = RuntimeError("no config server")

    class Remote:
        prefix, ttl = "", timedelta(1)

        @property
        def limit(self):
            raise raised

    with pytest.raises(RuntimeError) as caught:
        calling.Cache({}, Remote())
    assert caught.value is raised


def test_a_bool_limit_is_an_int():
    assert new_cache(limit=True).fetch(["a"], str.upper) == {"a": "A"}


@pytest.mark.parametrize("keys", [("a", "b"), ["a", "b"], range(0)], ids=["tuple", "list", "empty range"])
def test_keys_are_any_sequence_of_str(keys):
    if isinstance(keys, range):
        assert new_cache().fetch(keys, str.upper) == {}
    else:
        assert new_cache().fetch(keys, str.upper) == {"a": "A", "b": "B"}


@pytest.mark.parametrize(
    ("keys", "error", "cpython", "pyo3"),
    [
        ("ab", TypeError, "Can't extract `str` to `Vec`", "Can't extract `str` to `Vec`"),
        (
            [1],
            TypeError,
            "Expected type that converts to PyString but received int",
            "'int' object is not an instance of 'str'",
        ),
        (
            iter(["a"]),
            TypeError,
            "Expected type that converts to PySequence but received list_iterator",
            "'list_iterator' object is not an instance of 'Sequence'",
        ),
        (
            {"a"},
            TypeError,
            "Expected type that converts to PySequence but received set",
            "'set' object is not an instance of 'Sequence'",
        ),
        (
            None,
            TypeError,
            "Expected type that converts to PySequence but received NoneType",
            "'None' is not an instance of 'Sequence'",
        ),
        (["\ud800"], UnicodeEncodeError, "surrogates not allowed", "surrogates not allowed"),
    ],
    ids=["str", "int", "iterator", "set", "None", "lone surrogate"],
)
def test_keys_that_are_not_a_sequence_of_str_are_refused_before_anything_runs(keys, error, cpython, pyo3):
    store = Store()
    cache = new_cache(store)
    with pytest.raises(error, match=per_binding(cpython, pyo3)):
        cache.fetch(keys, str.upper)
    assert store.puts == []
    assert cache.loaded() == []


def test_argument_errors():
    cache = new_cache()
    missing = per_binding(MISSING.format(name="keys", position=1), "Cache.fetch() missing 2 required positional")
    with pytest.raises(TypeError, match=re.escape(missing)):
        cache.fetch()
    wrong = per_binding(
        MISSING.format(name="load", position=2), UNEXPECTED.format(function="Cache.fetch", keyword="lood")
    )
    with pytest.raises(TypeError, match=re.escape(wrong)):
        cache.fetch(["a"], lood=str.upper)
    assert cache.fetch(keys=["a"], load=str.upper) == {"a": "A"}
    assert calling.Cache(store=Store(), settings=make_settings()).fetch(["b"], str.upper) == {"b": "B"}


def test_a_loader_that_changes_the_keys_changes_nothing_the_fetch_sees():
    """The keys are copied into a `Vec` before the first call into Python."""
    keys = ["a", "b"]

    def load(key):
        keys.append(key + "!")
        return key

    assert new_cache().fetch(keys, load) == {"a": "a", "b": "b"}
    assert keys == ["a", "b", "a!", "b!"]


def test_a_loader_may_call_back_into_the_cache():
    cache = new_cache()
    seen = []

    def load(key):
        # The keys loaded by earlier fetches; this one's come at its end.
        seen.append(cache.loaded())
        if key == "outer":
            assert cache.fetch(["inner"], str.upper) == {"inner": "INNER"}
        return key

    cache.fetch(["first"], load)
    assert cache.fetch(["outer"], load) == {"outer": "outer"}
    assert seen == [[], ["first"]]
    assert cache.loaded() == ["first", "inner", "outer"]


@pytest.mark.skipif(UNDER_VALGRIND, reason="100,000 calls take too long under valgrind")
def test_no_reference_is_kept_or_lost_over_many_calls():
    value, load_calls = object(), []

    def load(key):
        load_calls.append(None)
        return value

    class Forgetful(dict):
        def put(self, key, value, ttl):
            pass

    store = Forgetful()
    before = (sys.getrefcount(value), sys.getrefcount(load), sys.getrefcount(store))
    cache = calling.Cache(store, make_settings(limit=100_000))
    keys = [str(i) for i in range(100_000)]
    found = cache.fetch(keys, load)
    assert len(found) == len(load_calls) == 100_000
    del found, cache
    gc.collect()
    assert (sys.getrefcount(value), sys.getrefcount(load), sys.getrefcount(store)) == before


THREADS = textwrap.dedent(
    """
    import threading, time
    from datetime import timedelta
    from types import SimpleNamespace
    from target.debug import calling

    class Store(dict):
        def put(self, key, value, ttl):
            time.sleep(0)  # let the other threads in
            self[key] = value

    store = Store()
    cache = calling.Cache(store, SimpleNamespace(prefix="", ttl=timedelta(1), limit=1000))
    errors = []

    def work(n):
        try:
            for round in range(50):
                keys = [f"{n}-{round}-{i}" for i in range(4)] + ["shared"]
                found = cache.fetch(keys, lambda key: (time.sleep(0), key.upper())[1])
                assert found == {key: key.upper() for key in keys}, found
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    own = [key for key in cache.loaded() if key != "shared"]
    print(errors, len(store), len(own), len(set(own)), 1 <= cache.loaded().count("shared") <= 8)
    """
)


def test_eight_python_threads_share_one_cache():
    """Each thread's keys are loaded once; `shared` by one to eight of them,
    as all may miss it before one stores it (the store takes no lock)."""
    result = run_child(THREADS, timeout=120)
    assert result.returncode == 0, f"{describe_exit(result.returncode)}: {result.stderr}"
    assert result.stdout == "[] 1601 1600 1600 True\n"


# The pitfall, built both ways: the borrow (rust-cpython) or the lock
# (the twin) of the loaded keys held while `load` runs.
HOLDING_THE_BORROW = [
    ("let mut loaded = Vec::new();", "let mut loaded = self.loaded_keys(py).borrow_mut();"),
    ("self.loaded_keys(py).borrow_mut().extend(loaded);", "drop(loaded);"),
]
HOLDING_THE_LOCK = [
    ("let mut loaded = Vec::new();", "let mut loaded = self.loaded_keys.lock().unwrap();"),
    ("self.loaded_keys.lock().unwrap().extend(loaded);", "drop(loaded);"),
]
REENTER = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    from types import SimpleNamespace
    import calling

    class Store(dict):
        def put(self, key, value, ttl):
            self[key] = value

    cache = calling.Cache(Store(), SimpleNamespace(prefix="", ttl=timedelta(1), limit=9))
    print("plain load:", cache.fetch(["a"], str.upper), flush=True)
    try:
        cache.fetch(["b"], lambda key: cache.loaded())
    except BaseException as error:
        print(f"{type(error).__name__}: {error}")
    print("after:", cache.loaded())
    """
)


@binding_independent
@once_per_run
def test_holding_the_borrow_while_python_runs_panics_in_rust_cpython(tmp_path, build_python):
    build_lesson_alone("calling", tmp_path, build_python, changed_source("calling/src/lib.rs", HOLDING_THE_BORROW))
    result = run_python("-c", REENTER, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "plain load: {'a': 'A'}\nSystemError: Rust panic: RefCell already mutably borrowed\nafter: ['a']\n"
    )


def build_changed_twin(tmp_path, build_python, changes):
    """A scratch copy of the twin with `changes` made, in `tmp_path` as the
    module `calling`."""
    return build_changed_lesson(tmp_path, build_python, "calling", "pyo3", changes)


@binding_independent
@once_per_run
def test_holding_the_lock_while_python_runs_hangs_the_twin(tmp_path, build_python):
    """The twin's `Mutex` stands where the lesson's `RefCell` is: the same
    mistake, a lock not released while `load` runs, is a deadlock there."""
    build_changed_twin(tmp_path, build_python, HOLDING_THE_LOCK)
    with pytest.raises(subprocess.TimeoutExpired) as caught:
        run_python("-c", REENTER, cwd=tmp_path, timeout=10)
    assert caught.value.stdout.decode() == "plain load: {'a': 'A'}\n"


IMPORT_EXCEPTION = [
    (
        "static TIMEDELTA: PyOnceLock<Py<PyType>> = PyOnceLock::new();",
        "pyo3::import_exception!(calling.errors, LimitReached);\n"
        "static TIMEDELTA: PyOnceLock<Py<PyType>> = PyOnceLock::new();",
    ),
    (
        "Python::attach(|py| limit_reached(py, limit).unwrap_or_else(|error| error))",
        'LimitReached::new_err((format!("limit {limit}"), limit))',
    ),
]
# The class kept in a static, as `timedelta` is.
CACHED_CLASS = [
    (
        "static TIMEDELTA: PyOnceLock<Py<PyType>> = PyOnceLock::new();",
        "static TIMEDELTA: PyOnceLock<Py<PyType>> = PyOnceLock::new();\n"
        "static LIMIT_REACHED: PyOnceLock<Py<PyType>> = PyOnceLock::new();",
    ),
    (
        """    let class = py
        .import("calling.errors")?
        .getattr("LimitReached")?
        .cast_into::<PyType>()?;""",
        '    let class = LIMIT_REACHED.import(py, "calling.errors", "LimitReached")?.clone();',
    ),
]


@binding_independent
@once_per_run
def test_import_exception_aborts_the_process_when_the_import_fails(tmp_path, build_python):
    """Why the twin imports the class itself: `import_exception!` panics
    when its import fails, while PyO3 raises the error, where the panic
    cannot unwind."""
    built = build_changed_twin(tmp_path, build_python, IMPORT_EXCEPTION)
    (tmp_path / "target" / "debug").mkdir(parents=True)
    shutil.move(str(built), str(tmp_path / "target" / "debug"))
    result = run_python("-c", UNIMPORTABLE, cwd=tmp_path, timeout=60)
    assert describe_exit(result.returncode) == "killed by SIGABRT", result.stdout
    assert "failed to import exception calling.errors.LimitReached" in result.stderr
    assert "panic in a destructor during cleanup" in result.stderr


# The limit reached in the main interpreter, then in a sub-interpreter that
# shares its GIL (the kind PyO3 loads a module in): does the
# sub-interpreter's `except LimitReached` catch its own?
TRY_THE_LIMIT = """
import sys
sys.path[:0] = {path!r}
{select}
from datetime import timedelta
from types import SimpleNamespace
from target.debug import calling
from calling.errors import LimitReached
class Store(dict):
    def put(self, key, value, ttl):
        self[key] = value
cache = calling.Cache(Store(), SimpleNamespace(prefix="", ttl=timedelta(1), limit=0))
try:
    cache.fetch(["a"], str)
except LimitReached:
    print("{where}: caught its own LimitReached")
except BaseException as error:
    print("{where}: not caught:", type(error).__module__, type(error).__name__)
"""
IN_A_SUB_INTERPRETER = f"""
import sys
import _xxsubinterpreters as interpreters
TRY = {TRY_THE_LIMIT!r}
exec(TRY.format(path=sys.path[:3], select=sys.argv[1], where="main"))
if sys.version_info >= (3, 12):
    interpreter = interpreters.create(isolated=False)
else:
    interpreter = interpreters.create()
interpreters.run_string(interpreter, TRY.format(path=sys.path[:3], select=sys.argv[1], where="sub"))
interpreters.destroy(interpreter)
"""
needs_sub_interpreters = pytest.mark.skipif(
    importlib.util.find_spec("_xxsubinterpreters") is None, reason="no _xxsubinterpreters in this Python"
)
SELECT = "from binding_switch import select_binding; select_binding()"


@needs_sub_interpreters
@pytest.mark.skipif(not PYO3, reason="rust-cpython modules hang in sub-interpreters (lesson 7)")
def test_a_sub_interpreter_catches_its_own_limit_reached():
    result = run_child(IN_A_SUB_INTERPRETER, SELECT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "main: caught its own LimitReached\nsub: caught its own LimitReached\n"


@binding_independent
@once_per_run
@needs_sub_interpreters
def test_a_class_kept_in_a_static_is_the_wrong_one_in_a_sub_interpreter(tmp_path, build_python):
    """Why lesson 9 imports `LimitReached` each time: the twin's statics are
    shared by every interpreter that loads it, and a class is one
    interpreter's own."""
    built = build_changed_twin(tmp_path, build_python, CACHED_CLASS)
    (tmp_path / "target" / "debug").mkdir(parents=True)
    shutil.move(str(built), str(tmp_path / "target" / "debug"))
    code = f"import sys; sys.path[:0] = [{str(tmp_path)!r}, {str(ROOT)!r}]\n" + IN_A_SUB_INTERPRETER
    result = run_python("-c", code, "pass", cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "main: caught its own LimitReached\nsub: not caught: calling.errors LimitReached\n"


@binding_independent
@once_per_run
def test_the_rust_tests_run_in_the_interpreter_they_were_built_for():
    result = run_python(str(ROOT / "scripts" / "rust_tests.py"), "calling", timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = [line for line in result.stdout.splitlines() if line.startswith("embedded Python ")]
    assert shown == [f"embedded Python {sys.version}"] * 2, shown
    assert result.stdout.count("test result: ok.") == 2


@binding_independent
@once_per_run
def test_the_rust_tests_need_extension_module_off():
    """What the lesson says: with the default features, the test program
    does not link, as libpython's symbols are left to an importer."""
    result = subprocess.run(
        ["cargo", "test", "-p", "calling", "--no-run"],
        cwd=str(ROOT),
        env=embedded_python_environment(),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "undefined symbol: Py" in result.stderr


class Lying(timedelta):
    """A timedelta whose fields say something else."""

    def __new__(cls, days, seconds, microseconds):
        made = super().__new__(cls, 1)
        made.fields = (days, seconds, microseconds)
        return made

    days = property(lambda self: self.fields[0])
    seconds = property(lambda self: self.fields[1])
    microseconds = property(lambda self: self.fields[2])


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ((999_999_999, 86_399, 10**6), ValueError),
        ((2**31, 0, 0), OverflowError),
        ((0, -1, 0), OverflowError),
        ((0, 0, "x"), TypeError),
    ],
    ids=["past timedelta.max", "days past i32", "negative seconds", "not an int"],
)
def test_a_timedelta_subclass_with_fields_out_of_range_is_refused(fields, error):
    with pytest.raises(error, match="^settings.ttl: "):
        calling.Cache({}, make_settings(ttl=Lying(*fields)))


def test_a_timedelta_subclass_is_read_through_its_fields():
    store = Recorder()
    calling.Cache(store, make_settings(ttl=Lying(0, 2**32 - 1, 2**32 - 1))).fetch(["k"], str.upper)
    assert store.call[1]["ttl"] == timedelta(seconds=2**32 - 1, microseconds=2**32 - 1)
