"""Lesson 16: one library imported as a package of submodules, and the move
to PyO3 one submodule at a time. The set and the checksums are compared
with `set` and `zlib.crc32`; every behaviour test runs at every stage of
the move (`porting.policy`), each submodule from the library that serves
it; the bridge that lets PyO3's checksums read rust-cpython's sets is
given wrong objects, a class of the right name from another library, and
a set that changed under a loan."""

import doctest
import importlib.util
import os
import shlex
import shutil
import struct
import sys
import textwrap
import types
import zlib

import pytest
import target.debug.porting
from conftest import (
    EXT_SUFFIX,
    HYPOTHESIS_EXAMPLES,
    OUT_OF_RANGE,
    PYO3,
    ROOT,
    binding_independent,
    build_changed_lesson,
    module_path,
    once_per_run,
    per_binding,
    run_child,
    run_python,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from test_robustness import HOSTILE

import readme_sessions
from porting.policy import LIBRARIES, PLAN, PolicyError, check, from_environment, load, stages

# Every entry point of the package, called with one hostile value (`value`)
# in each position a caller can put it: test_robustness.py runs each one
# in a child interpreter, which must survive every value.
HOSTILE_CALLS = [
    "porting.sets.HashSet(value)",
    "porting.sets.HashSet([value])",
    "porting.sets.HashSet(values=value)",
    "porting.sets.HashSet(**{str(type(value)): value})",
    "porting.sets.HashSet().add(value)",
    "porting.sets.HashSet.add(value, 1)",
    "porting.sets.HashSet.__len__(value)",
    "porting.sets.HashSet.sorted(value)",
    "porting.checksums.crc32(value)",
    "porting.checksums.crc32(data=value)",
    "porting.checksums.crc32_of_set(value)",
    "porting.checksums.crc32_of_set(values=value)",
]

# The twin is PyO3's, which builds for 3.9 and newer only.
needs_the_twin = pytest.mark.skipif(sys.version_info < (3, 9), reason="the PyO3 twin needs Python 3.9 or newer")
# The stages at which PyO3 serves something; in the PyO3 session the
# course's switch serves everything from the twin, one stage.
STAGES = [frozenset(PLAN)] if PYO3 else stages()


def with_both_libraries(test):
    """A test that loads the rust-cpython library and the twin in one
    process: in the rust-cpython session only, where the twin builds."""
    return binding_independent(needs_the_twin(test))


def stage_name(stage):
    return "+".join(name for name in PLAN if name in stage) or "rust-cpython"


@pytest.fixture(
    scope="module",
    params=[pytest.param(stage, marks=[needs_the_twin] if stage else []) for stage in STAGES],
    ids=stage_name,
)
def porting(request):
    """The package's submodules at one stage of the move."""
    return load(request.param)


def packed(values):
    """What `crc32_of_set` checksums: the sorted values as little-endian u32."""
    ordered = sorted(set(values))
    return struct.pack(f"<{len(ordered)}I", *ordered)


# The package, imported by the course's switch.


def test_each_form_of_import_reaches_the_same_submodule():
    result = run_child(
        textwrap.dedent(
            """
            import target.debug.porting.sets
            from target.debug.porting import sets
            from target.debug.porting.sets import HashSet
            from target.debug.porting.checksums import crc32_of_set
            print(target.debug.porting.sets is sets, sets.HashSet is HashSet, crc32_of_set(HashSet([1])))
            """
        )
    )
    assert result.stdout == f"True True {zlib.crc32(packed([1]))}\n", result.stderr


@pytest.mark.parametrize("name", ["sets", "checksums"])
def test_a_submodule_is_named_and_registered_under_the_package(name):
    submodule = getattr(target.debug.porting, name)
    assert submodule.__name__ == f"target.debug.porting.{name}"
    assert sys.modules[submodule.__name__] is submodule
    assert (
        submodule.__doc__
        == {
            "sets": "A set of integers from 0 to 2**32 - 1.",
            "checksums": "CRC-32, as zlib.crc32 computes it.",
        }[name]
    )


def test_a_class_belongs_to_its_submodule():
    import inspect

    sets = target.debug.porting.sets
    assert sets.HashSet.__module__ == "target.debug.porting.sets"
    assert inspect.getmodule(sets.HashSet) is sets


def test_the_package_has_no_path_for_the_import_system_to_search():
    # Why `sys.modules` is needed at all: any other name under the package
    # is looked for in its `__path__`, which an extension module lacks.
    with pytest.raises(ModuleNotFoundError, match=r"^No module named 'target.debug.porting.nothing'; "):
        importlib.import_module("target.debug.porting.nothing")
    assert not hasattr(target.debug.porting, "__path__")


def test_a_submodule_has_no_spec():
    # A limit of registering by hand, in both bindings (and in Mercurial's
    # and Sapling's libraries): what asks for a spec raises.
    with pytest.raises(ValueError, match=r"^target.debug.porting.sets.__spec__ is None$"):
        importlib.util.find_spec("target.debug.porting.sets")


# The package's behaviour, at every stage of the move.


@settings(max_examples=HYPOTHESIS_EXAMPLES // 4, deadline=None)
@given(values=st.lists(st.integers(0, 2**32 - 1), max_size=50), more=st.integers(0, 2**32 - 1))
def test_a_hash_set_holds_what_a_set_holds(porting, values, more):
    numbers = porting.sets.HashSet(values)
    assert numbers.sorted() == sorted(set(values))
    numbers.add(more)
    assert len(numbers) == len(set(values) | {more})
    assert porting.checksums.crc32_of_set(numbers) == zlib.crc32(packed(values + [more]))


@settings(max_examples=HYPOTHESIS_EXAMPLES // 4, deadline=None)
@given(st.binary(max_size=2048))
def test_crc32_is_zlibs(porting, data):
    assert porting.checksums.crc32(data) == zlib.crc32(data)


def test_an_empty_set_has_the_checksum_of_no_bytes(porting):
    assert porting.checksums.crc32_of_set(porting.sets.HashSet()) == zlib.crc32(b"") == 0
    assert porting.sets.HashSet(values=None).sorted() == []


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ([-1], OverflowError, None),
        ([2**32], OverflowError, None),
        ([2**100], OverflowError, "Python int too large to convert to C long"),
        (["a"], TypeError, "'str' object cannot be interpreted as an integer"),
        ("ab", TypeError, "'str' object cannot be interpreted as an integer"),
        (["\udc80"], TypeError, "'str' object cannot be interpreted as an integer"),
        ([None], TypeError, "'NoneType' object cannot be interpreted as an integer"),
        ([1.5], TypeError, "'float' object cannot be interpreted as an integer"),
        (5, TypeError, "'int' object is not iterable"),
    ],
)
def test_a_value_out_of_range_or_of_another_type_is_refused(porting, values, error, message):
    expected = message or per_binding("", OUT_OF_RANGE, porting.served_by["sets"])
    with pytest.raises(error) as raised:
        porting.sets.HashSet(values)
    assert str(raised.value) == expected
    if isinstance(values, list):
        numbers = porting.sets.HashSet([7])
        with pytest.raises(error):
            numbers.add(values[0])
        assert numbers.sorted() == [7]


def test_wrong_arguments_are_refused(porting):
    sets_by, checksums_by = porting.served_by["sets"], porting.served_by["checksums"]
    with pytest.raises(TypeError) as raised:
        porting.sets.HashSet(value=[1])
    assert str(raised.value) == per_binding(
        "'value' is an invalid keyword argument for this function",
        "HashSet.__new__() got an unexpected keyword argument 'value'",
        sets_by,
    )
    with pytest.raises(TypeError) as raised:
        porting.checksums.crc32_of_set(set=porting.sets.HashSet())
    assert str(raised.value) == per_binding(
        "Required argument ('values') (pos 1) not found",
        "crc32_of_set() got an unexpected keyword argument 'set'",
        checksums_by,
    )
    assert porting.checksums.crc32_of_set(values=porting.sets.HashSet([1])) == zlib.crc32(packed([1]))
    assert porting.checksums.crc32(data=b"abc") == zlib.crc32(b"abc")
    with pytest.raises(TypeError) as raised:
        porting.checksums.crc32(bytearray(b"abc"))
    assert str(raised.value) == per_binding(
        "Expected type that converts to PyBytes but received bytearray",
        "'bytearray' object is not an instance of 'bytes'",
        checksums_by,
    )


@pytest.mark.parametrize("wrong", [None, set(), frozenset([1]), 5, "\udc80", [1, 2]])
def test_crc32_of_set_takes_a_hash_set_only(porting, wrong):
    kind = "None" if wrong is None else type(wrong).__name__
    with pytest.raises(TypeError) as raised:
        porting.checksums.crc32_of_set(wrong)
    assert str(raised.value) == per_binding(
        f"Expected type that converts to HashSet but received {type(wrong).__name__}",
        f"'{kind}' is not an instance of 'HashSet'"
        if wrong is None
        else f"'{kind}' object is not an instance of 'HashSet'",
        porting.served_by["checksums"],
    )


def test_an_exception_from_the_values_reaches_the_caller_whole(porting):
    failure = KeyError("midway")

    def values():
        yield 1
        raise failure

    with pytest.raises(KeyError) as raised:
        porting.sets.HashSet(values())
    assert raised.value is failure


def test_a_checksum_keeps_no_reference(porting):
    numbers = porting.sets.HashSet([1, 2, 3])
    before = sys.getrefcount(numbers)
    for _ in range(1000):
        porting.checksums.crc32_of_set(numbers)
    assert sys.getrefcount(numbers) == before


# The bridge: PyO3's checksums reading rust-cpython's sets.

TWIN_NOTE = "\nwhile processing 'sets'" if sys.version_info >= (3, 11) else ""
TWIN = LIBRARIES["pyo3"].format(profile="debug")
LEGACY = LIBRARIES["cpython"].format(profile="debug")


@pytest.fixture(scope="module")
def mixed():
    """The stage where PyO3 serves checksums and rust-cpython sets."""
    return load({"checksums"})


def bridge():
    return importlib.import_module(f"{TWIN}.bridge")


@with_both_libraries
def test_the_mixed_stage_takes_sets_from_one_library_and_checksums_from_the_other(mixed):
    assert mixed.sets.__name__ == f"{LEGACY}.sets"
    assert mixed.checksums.__name__ == f"{TWIN}.checksums"
    legacy = mixed.sets.HashSet([5, 3])
    assert mixed.checksums.crc32_of_set(legacy) == target.debug.porting.checksums.crc32_of_set(legacy)


@with_both_libraries
def test_a_rust_cpython_class_cannot_be_subclassed():
    # What makes the bridge's identity test the whole test.
    with pytest.raises(TypeError, match=r"is not an acceptable base type$"):
        type("Derived", (target.debug.porting.sets.HashSet,), {})


BEFORE_ACCEPTING = """
import importlib
import target.debug.porting as legacy
twin = importlib.import_module("target.debug.pyo3.porting")
numbers = legacy.sets.HashSet([1])
for call in (twin.checksums.crc32_of_set, twin.bridge.LegacyValues):
    try:
        call(numbers)
    except TypeError as error:
        print(error)
"""


@with_both_libraries
def test_before_accept_from_a_rust_cpython_set_is_refused():
    result = run_child(BEFORE_ACCEPTING)
    assert result.stdout.splitlines() == [
        "'HashSet' object is not an instance of 'HashSet'",
        "'HashSet' object is not an accepted rust-cpython HashSet",
    ], result.stderr


def fake_sets_module(hash_set):
    module = types.ModuleType("fake.sets")
    if hash_set is not None:
        module.HashSet = hash_set
    return module


@with_both_libraries
@pytest.mark.parametrize(
    ("sets", "error", "message"),
    [
        ("twin", TypeError, rf"^{TWIN}.sets.HashSet is not the HashSet of a rust-cpython porting.sets$"),
        ("python class", TypeError, r"^fake.sets.HashSet is not the HashSet of a rust-cpython porting.sets$"),
        ("static class of another name", TypeError, r"^int is not the HashSet of a rust-cpython porting.sets$"),
        ("no class", AttributeError, r"has no attribute 'HashSet'"),
        # PyO3 converts the argument, and names it in a note from 3.11 on.
        ("not a module", TypeError, "^'int' object is not an instance of 'module'" + TWIN_NOTE + "$"),
    ],
)
def test_accept_from_refuses_what_is_not_the_rust_cpython_set(sets, error, message):
    given = {
        "twin": lambda: importlib.import_module(f"{TWIN}.sets"),
        "python class": lambda: fake_sets_module(type("HashSet", (), {"__module__": "fake.sets"})),
        "static class of another name": lambda: fake_sets_module(int),
        "no class": lambda: fake_sets_module(None),
        "not a module": lambda: 5,
    }[sets]()
    with pytest.raises(error, match=message):
        bridge().accept_from(given)


ANOTHER_LIBRARY = """
import importlib, importlib.util, sys
from porting.policy import load

# The same library file, copied: loaded from another path, it is another
# library, with a HashSet class of its own, of the same name and layout.
spec = importlib.util.spec_from_file_location("elsewhere.porting", sys.argv[1])
copy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(copy)
mixed = load({{"checksums"}})
print(copy.sets.HashSet.__name__, copy.sets.HashSet is mixed.sets.HashSet)
for attempt in (
    lambda: mixed.checksums.crc32_of_set(copy.sets.HashSet([1])),
    lambda: {twin}.bridge.accept_from(copy.sets),
):
    try:
        attempt()
    except (TypeError, ValueError) as error:
        print(type(error).__name__, error)
{twin}.bridge.accept_from(mixed.sets)
print(mixed.checksums.crc32_of_set(mixed.sets.HashSet([1])))
"""


@with_both_libraries
def test_a_class_of_the_right_name_from_another_library_is_refused(tmp_path):
    copied = tmp_path / ("porting" + EXT_SUFFIX)
    shutil.copy(str(module_path("porting", "cpython")), str(copied))
    code = f"import importlib\ntwin = importlib.import_module({TWIN!r})\n" + ANOTHER_LIBRARY.format(twin="twin")
    result = run_child(code, str(copied))
    assert result.stdout.splitlines() == [
        "HashSet False",
        "TypeError 'HashSet' object is not an instance of 'HashSet'",
        f"ValueError already accepting the HashSet of {LEGACY}.sets",
        str(zlib.crc32(packed([1]))),
    ], result.stderr


@with_both_libraries
def test_a_loan_of_a_rust_cpython_set_refuses_once_the_set_changed(mixed):
    numbers = mixed.sets.HashSet([1, 2, 3])
    held = sys.getrefcount(numbers)
    walk = bridge().LegacyValues(numbers)
    assert sys.getrefcount(numbers) == held + 1
    assert next(walk) in {1, 2, 3}
    numbers.add(4)
    with pytest.raises(RuntimeError, match=r"^Cannot access to leaked reference after mutation$"):
        next(walk)
    assert sorted(bridge().LegacyValues(numbers)) == [1, 2, 3, 4]
    del walk
    assert sys.getrefcount(numbers) == held


@with_both_libraries
def test_a_loan_keeps_its_set_alive(mixed):
    walk = bridge().LegacyValues(mixed.sets.HashSet([9, 8]))
    assert sorted(walk) == [8, 9]
    assert list(walk) == []


@with_both_libraries
def test_errors_cross_between_the_two_libraries_both_ways(mixed):
    numbers = mixed.sets.HashSet([1, 2])
    stale = bridge().LegacyValues(numbers)
    numbers.add(3)
    # rust-cpython's error, raised inside PyO3's `__next__`, reaches PyO3's
    # caller; that caller is rust-cpython's constructor, whose caller gets it.
    with pytest.raises(RuntimeError, match=r"^Cannot access to leaked reference after mutation$") as raised:
        mixed.sets.HashSet(stale)
    assert raised.type is RuntimeError


@with_both_libraries
def test_the_rust_cpython_checksums_refuse_pyo3_sets():
    # Why the plan ports checksums first: the old code cannot read the new
    # objects, and its message names the same class twice.
    twin_sets = importlib.import_module(f"{TWIN}.sets")
    with pytest.raises(TypeError, match=r"^Expected type that converts to HashSet but received porting.sets.HashSet$"):
        target.debug.porting.checksums.crc32_of_set(twin_sets.HashSet([1]))


HOSTILE_TO_THE_BRIDGE = """
{hostile}
import importlib
from porting.policy import load

mixed = load({{"checksums"}})
bridge = importlib.import_module({twin!r} + ".bridge")
numbers = mixed.sets.HashSet([1, 2])
raised = set()
for value in hostile_values():
    for call in (
        lambda: bridge.accept_from(value),
        lambda: bridge.LegacyValues(value),
        lambda: mixed.checksums.crc32_of_set(value),
        lambda: list(bridge.LegacyValues(mixed.sets.HashSet(value))),
    ):
        try:
            call()
        except Exception as error:
            raised.add(type(error).__name__)
print(sorted(raised), mixed.checksums.crc32_of_set(numbers), sorted(bridge.LegacyValues(numbers)))
"""


@with_both_libraries
def test_hostile_input_to_the_bridge_raises_only_the_expected_errors():
    result = run_child(HOSTILE_TO_THE_BRIDGE.format(hostile=HOSTILE, twin=TWIN))
    expected = ["AttributeError", "OverflowError", "TypeError", "ValueError"]
    assert result.stdout == f"{expected} {zlib.crc32(packed([1, 2]))} [1, 2]\n", result.stderr


LAST_STAGE = """
import sys
from porting.policy import load

done = load({"checksums", "sets"})
print(done.served_by, "target.debug.porting" in sys.modules)
print(any("/target/debug/porting." in line for line in open("/proc/self/maps")))
"""


@with_both_libraries
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_the_last_stage_loads_nothing_of_the_rust_cpython_library():
    result = run_child(LAST_STAGE)
    assert result.stdout.splitlines() == [
        "{'sets': 'pyo3', 'checksums': 'pyo3'} False",
        "False",
    ], result.stderr


# The policy: the stages of the plan, and nothing else.


@binding_independent
def test_the_stages_are_the_plan_in_order():
    assert stages() == [frozenset(), frozenset({"checksums"}), frozenset({"checksums", "sets"})]
    assert from_environment({"PORTING_PYO3": "checksums,sets"}) == frozenset(PLAN)
    assert from_environment({}) == frozenset()


@binding_independent
@pytest.mark.parametrize(
    ("ported", "message"),
    [
        (
            {"sets"},
            "PORTING_PYO3=sets: port checksums before sets, since rust-cpython's checksums cannot read PyO3's sets",
        ),
        ({"hashes"}, "PORTING_PYO3: porting has no submodule hashes (it has sets, checksums)"),
    ],
)
def test_the_policy_refuses_a_state_outside_the_plan(ported, message):
    with pytest.raises(PolicyError) as raised:
        check(ported)
    assert str(raised.value) == message


@binding_independent
@pytest.mark.parametrize("stage", ["sets", "sets,hashes", "checksums,,x"])
def test_run_py_refuses_a_state_outside_the_plan_in_one_line(stage):
    result = run_python("-m", "porting.run", env={**os.environ, "PORTING_PYO3": stage})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("porting: PORTING_PYO3")
    assert result.stderr.count("\n") == 1


@with_both_libraries
def test_run_py_prints_the_same_at_every_stage():
    outputs = {
        stage_name(stage): run_python(
            "-m", "porting.run", env={**os.environ, "PORTING_PYO3": ",".join(sorted(stage))}
        ).stdout
        for stage in stages()
    }
    assert len(set(outputs.values())) == 1, outputs
    assert outputs["rust-cpython"].count("\n") == 3


# The pitfall: a submodule that is only an attribute of the package.

# The registration each binding's `add_submodule` makes, deleted.
WITHOUT_SYS_MODULES = {
    "cpython": (
        '    let modules = py.import("sys")?.get(py, "modules")?;\n    modules.set_item(py, full_name, submodule)?;\n',
        "",
    ),
    "pyo3": (
        '    let modules = py.import("sys")?.getattr("modules")?;\n    modules.set_item(&full_name, &submodule)?;\n',
        "",
    ),
}
SCRATCH_EXTRA = {
    "cpython": ['crc32fast = "1.5"'],
    "pyo3": ['crc32fast = "1.5"', 'cpython = { version = "0.7.2", features = ["python3-sys", "extension-module"] }'],
}


def pitfall_session():
    """(code, output) of the README's pitfall: a `python3 -c '...'` command
    and what it prints."""
    text = (ROOT / "porting" / "README.md").read_text(encoding="utf-8")
    pitfall = text.split("## Pitfall: ", 1)[1]
    (block,) = readme_sessions.blocks(pitfall.split("\n## ", 1)[0], "text")
    command, output = block.split("\n", 1)
    code = shlex.split(command)
    assert code[:3] == ["$", "python3", "-c"], command
    return code[3], output


@binding_independent
@once_per_run
@pytest.mark.parametrize("binding", ["cpython", pytest.param("pyo3", marks=needs_the_twin)])
def test_without_sys_modules_a_submodule_is_an_attribute_only(tmp_path, build_python, binding):
    build_changed_lesson(
        tmp_path, build_python, "porting", binding, [WITHOUT_SYS_MODULES[binding]], extra=SCRATCH_EXTRA[binding]
    )
    code, shown = pitfall_session()
    result = run_python("-c", code, cwd=tmp_path)
    # The traceback's lines differ between versions: the README shows `...`.
    checker = doctest.OutputChecker()
    assert checker.check_output(shown, result.stdout + result.stderr, doctest.ELLIPSIS), result.stdout + result.stderr


@binding_independent
def test_the_python_listings_are_excerpts_of_the_lessons_scripts():
    text = (ROOT / "porting" / "README.md").read_text(encoding="utf-8")
    listings = [body for body in readme_sessions.blocks(text, "python") if not body.startswith(">>>")]
    scripts = [path.read_text(encoding="utf-8") for path in (ROOT / "porting").glob("*.py")]
    assert listings
    for listing in listings:
        assert any(listing in script for script in scripts), listing
