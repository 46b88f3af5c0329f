"""The copy script's rename rules, its refusals, and the runner scripts."""

import importlib.machinery
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    EXT_SUFFIX,
    MODULE_DIR,
    ROOT,
    binding_independent,
    cargo_build_in,
    copy_sources,
    once_per_run,
    run_python,
)

import bench
import bench_classes
import bench_memory
import bench_threads
import copy_libs
import floor
import memcheck
from copy_libs import built_for_version, library_filename, module_filename
from copy_libs import copy_libs as copy_libraries
from lessons import lesson_crates, lesson_title, twin_lessons
from readme_sessions import ONCE_PER_RUN, lesson_sessions
from workspace import BINDINGS, ScriptError, bindings_for, cargo_target_dir, step

# The scripts and the version matrix are the same whichever binding is imported.
pytestmark = binding_independent

PLATFORMS = [
    ("linux", "libdocstring.so", ".cpython-311-x86_64-linux-gnu.so"),
    ("darwin", "libdocstring.dylib", ".cpython-311-darwin.so"),
    ("win32", "docstring.dll", ".cp311-win_amd64.pyd"),
]


def fake_build(directory, platform, crates=("docstring", "function"), python_minor=None):
    """A Cargo profile directory holding fake libraries (and, if asked, the
    build output python3-sys leaves behind, older than the libraries, as
    after a complete build)."""
    directory.mkdir(parents=True, exist_ok=True)
    if python_minor is not None:
        output = directory / "build" / "python3-sys-0123abcd" / "output"
        output.parent.mkdir(parents=True)
        lines = [f"cargo:rustc-cfg=Py_3_{m}" for m in range(4, python_minor + 1)]
        output.write_text("\n".join(lines + ["cargo:python_interpreter=/usr/bin/python3"]) + "\n")
        os.utime(str(output), (1_000_000, 1_000_000))
    for crate in crates:
        library = directory / library_filename(crate, platform)
        library.write_bytes(b"library " + crate.encode())
        os.utime(str(library), (2_000_000, 2_000_000))
    return directory


@pytest.mark.parametrize(("platform", "library", "suffix"), PLATFORMS)
def test_library_filename_follows_cargo_naming(platform, library, suffix):
    assert library_filename("docstring", platform) == library


@pytest.mark.parametrize(("platform", "library", "suffix"), PLATFORMS)
def test_copy_renames_each_library_to_its_module_name(tmp_path, platform, library, suffix):
    source = fake_build(tmp_path / "cargo" / "debug", platform)
    dest = tmp_path / "target" / "debug"
    copied = copy_libraries(["docstring", "function"], source, dest, suffix, platform=platform)
    assert [(s.name, d.name) for s, d in copied] == [
        (library, "docstring" + suffix),
        (library_filename("function", platform), "function" + suffix),
    ]
    assert (dest / ("docstring" + suffix)).read_bytes() == b"library docstring"
    assert (dest / ("function" + suffix)).read_bytes() == b"library function"
    # Nothing else is left behind (no temporary files).
    assert sorted(p.name for p in dest.iterdir()) == ["docstring" + suffix, "function" + suffix]


def test_copy_replaces_an_older_module(tmp_path):
    source = fake_build(tmp_path / "src", "linux")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "docstring.so").write_bytes(b"stale")
    copy_libraries(["docstring"], source, dest, ".so", platform="linux")
    assert (dest / "docstring.so").read_bytes() == b"library docstring"


def test_missing_library_copies_nothing_and_names_the_build_command(tmp_path):
    source = fake_build(tmp_path / "src", "linux", crates=["docstring"])
    dest = tmp_path / "dest"
    with pytest.raises(ScriptError) as excinfo:
        copy_libraries(["docstring", "function"], source, dest, ".so", platform="linux")
    assert "libfunction.so" in str(excinfo.value)
    assert "cargo build" in str(excinfo.value)
    assert not dest.exists() or list(dest.iterdir()) == []


def test_built_for_version_reads_python3_sys_build_output(tmp_path):
    assert built_for_version(fake_build(tmp_path / "a", "linux", python_minor=8)) == (3, 8)
    assert built_for_version(fake_build(tmp_path / "b", "linux", python_minor=12)) == (3, 12)
    assert built_for_version(fake_build(tmp_path / "c", "linux")) is None


def test_copy_refuses_libraries_built_for_another_python(tmp_path):
    source = fake_build(tmp_path / "src", "linux", python_minor=8)
    dest = tmp_path / "dest"
    with pytest.raises(ScriptError, match=r"built for Python 3\.8, but this is Python 3\.11"):
        copy_libraries(["docstring"], source, dest, ".so", platform="linux", python_version=(3, 11))
    assert not dest.exists()


def test_copy_refuses_libraries_older_than_the_last_switch_of_python(tmp_path):
    # `cargo build -p docstring` after switching Python rebuilt only that one.
    source = fake_build(tmp_path / "src", "linux", crates=["docstring", "function", "klass"], python_minor=11)
    output = source / "build" / "python3-sys-0123abcd" / "output"
    os.utime(str(output), (3_000_000, 3_000_000))
    os.utime(str(source / "libdocstring.so"), (4_000_000, 4_000_000))
    dest = tmp_path / "dest"
    with pytest.raises(ScriptError) as excinfo:
        copy_libraries(
            ["docstring", "function", "klass"], source, dest, ".so", platform="linux", python_version=(3, 11)
        )
    assert str(excinfo.value).startswith("function, klass in ")
    assert "predate the last switch of Python" in str(excinfo.value)
    assert not dest.exists()


def test_a_directory_in_the_way_stops_the_copy_before_any_module_changes(tmp_path):
    source = fake_build(tmp_path / "src", "linux")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "docstring.so").write_bytes(b"stale")
    (dest / "function.so").mkdir()
    with pytest.raises(ScriptError, match=r"function\.so is a directory: remove it, then copy again$"):
        copy_libraries(["docstring", "function"], source, dest, ".so", platform="linux")
    assert (dest / "docstring.so").read_bytes() == b"stale"
    assert sorted(path.name for path in dest.iterdir()) == ["docstring.so", "function.so"]


def test_an_unwritable_destination_is_one_clear_error(tmp_path):
    source = fake_build(tmp_path / "src", "linux")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(ScriptError, match="^cannot write the modules into "):
        copy_libraries(["docstring"], source, blocker / "debug", ".so", platform="linux")


def test_copy_accepts_libraries_built_for_this_python(tmp_path):
    source = fake_build(tmp_path / "src", "linux", python_minor=11)
    copied = copy_libraries(["docstring"], source, tmp_path / "dest", ".so", platform="linux", python_version=(3, 11))
    assert len(copied) == 1


def test_copy_lessons_honours_cargo_target_dir(tmp_path, monkeypatch):
    twins = twin_lessons() if "pyo3" in bindings_for(tuple(sys.version_info[:2])) else []
    libraries = lesson_crates() + [lesson + "_pyo3" for lesson in twins]
    built = fake_build(tmp_path / "elsewhere" / "release", sys.platform, crates=libraries)
    monkeypatch.setenv("CARGO_TARGET_DIR", str(built.parent))
    copied = copy_libs.copy_lessons(release=True, dest_root=tmp_path / "target", quiet=True)
    release = tmp_path / "target" / "release"
    assert [d for _, d in copied] == [release / (c + EXT_SUFFIX) for c in lesson_crates()] + [
        release / "pyo3" / (c + EXT_SUFFIX) for c in twins
    ]


def test_copy_script_reports_a_missing_build_in_one_line(tmp_path):
    env = dict(os.environ, CARGO_TARGET_DIR=str(tmp_path))
    result = run_python(str(ROOT / "scripts" / "copy_libs.py"), env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("copy_libs: error: nothing is built in ")
    build = f"PYTHON_SYS_EXECUTABLE={sys.executable} PYO3_PYTHON={sys.executable} cargo build"
    assert f"run `{build}` first, to build for this Python" in result.stderr


@pytest.mark.parametrize("script", ["copy_libs.py", "run_lessons.py", "test.py"])
def test_scripts_reject_unknown_flags_in_one_line(script):
    result = run_python(str(ROOT / "scripts" / script), "--no-such-flag")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "unrecognized arguments: --no-such-flag" in result.stderr


@pytest.mark.parametrize("script", ["copy_libs.py", "run_lessons.py", "test.py"])
def test_scripts_have_help(script):
    result = run_python(str(ROOT / "scripts" / script), "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: ")


def test_run_lessons_runs_every_lesson_crate_in_order(build_python):
    # The shipping lesson (no crate) builds a wheel: see test_shipping.py.
    result = subprocess.run(
        [build_python, str(ROOT / "scripts" / "run_lessons.py"), *lesson_crates()],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    expected_headings = []
    for crate in lesson_crates():
        expected_headings += [lesson_title(crate), f"$ python3 -m {crate}.run"]
    headings = [line for line in result.stdout.splitlines() if line.startswith(("Lesson ", "$ "))]
    assert headings == expected_headings
    assert "This module is implemented in Rust.\n" in result.stdout
    assert result.stdout.splitlines().count("Hello, Smith!") == 2


@pytest.mark.skipif(sys.version_info < (3, 9), reason="the PyO3 twins need Python 3.9 or newer")
def test_run_lessons_with_both_bindings_finds_every_output_the_same(build_python):
    result = subprocess.run(
        [build_python, str(ROOT / "scripts" / "run_lessons.py"), "--binding", "both", *lesson_crates()],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    verdicts = [line for line in result.stdout.splitlines() if line.startswith("-> ")]
    assert verdicts == [f"-> {crate}: the two bindings printed the same" for crate in lesson_crates()]
    assert result.stdout.count("$ LESSONS_BINDING=pyo3 python3 -m ") == len(lesson_crates())


FAKE_SHIPPING = """# Lesson 1 — Commands instead of a run.py

```console
$ mkdir -p dist && ls dist
$ echo built > dist/wheel && cat dist/wheel
built
```

## The same in PyO3

```console
$ echo twin
{twin}
```
"""


# A workspace whose one lesson is the shipping lesson.
FAKE_WORKSPACE = """[workspace]
members = []

[[workspace.metadata.lessons]]
folder = "shipping"
part = 1
teaches = "commands"
crate = false
"""


@pytest.mark.skipif(sys.version_info < (3, 9), reason="the shipping lesson's packagers need Python 3.9 or newer")
@pytest.mark.parametrize("twin_prints", ["twin", "something else"])
def test_run_lessons_runs_a_lesson_without_a_crate_by_its_readme(tmp_path, twin_prints):
    """The shipping lesson has no run.py: run_lessons.py runs its README's
    commands in the workspace root, once per binding, starting from a root
    without what they made before, and compares their output with the
    README. Here with a README of quick commands (test_shipping.py runs
    the real ones)."""
    shutil.copytree(str(ROOT / "scripts"), str(tmp_path / "scripts"), ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "Cargo.toml").write_text(FAKE_WORKSPACE, encoding="utf-8")
    (tmp_path / "shipping").mkdir()
    (tmp_path / "shipping" / "README.md").write_text(FAKE_SHIPPING.format(twin=twin_prints), encoding="utf-8")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "left-from-before").write_text("", encoding="utf-8")
    result = run_python(str(tmp_path / "scripts" / "run_lessons.py"), "--binding", "both", "shipping", cwd=tmp_path)
    verdicts = [line for line in result.stdout.splitlines() if line.startswith("-> ")]
    if twin_prints == "twin":
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("\nLesson 1 — Commands instead of a run.py\n$ mkdir -p dist && ls dist\n$ echo")
        assert verdicts == [f"-> shipping ({b}): every command printed what the README shows" for b in BINDINGS]
    else:
        assert result.returncode == 1
        assert verdicts[1] == "-> shipping (pyo3): output DIFFERS from the README"
        assert "shipping/README.md: `$ echo twin` printed:\ntwin\n" in result.stderr
        assert result.stderr.endswith("run_lessons: error: these lessons failed: shipping (pyo3)\n")


def test_the_matrix_leaves_out_the_blocks_marked_once_per_run(tmp_path):
    (tmp_path / "lesson").mkdir()
    text = f"```console\n$ echo a\n```\n\n{ONCE_PER_RUN}\n```console\n$ echo b\n```\n\n```console\n$ echo c\n```\n"
    (tmp_path / "lesson" / "README.md").write_text(text, encoding="utf-8")
    every = lesson_sessions("lesson", "cpython", root=tmp_path)
    assert every == ["$ echo a\n", "$ echo b\n", "$ echo c\n"]
    assert lesson_sessions("lesson", "cpython", root=tmp_path, every_block=False) == ["$ echo a\n", "$ echo c\n"]


@once_per_run
def test_one_lesson_builds_alone_without_network_or_venv(tmp_path, build_python):
    """`run_lessons.py docstring` in a copy of the workspace builds lesson
    1's two libraries and nothing else, with Cargo told to stay offline,
    and needs no venv. Its target folder is kept between runs (cold in a
    fresh clone), and it never builds another lesson."""
    scratch = copy_sources(tmp_path / "lessons")
    target = ROOT / "target" / "alone" / "py{}{}".format(*sys.version_info[:2])
    env = dict(os.environ, CARGO_NET_OFFLINE="true", CARGO_TARGET_DIR=str(target))
    result = subprocess.run(
        [build_python, str(scratch / "scripts" / "run_lessons.py"), "docstring"],
        cwd=str(scratch),
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout
        == "\nLesson 1 — A module with a docstring\n$ python3 -m docstring.run\nThis module is implemented in Rust.\n"
    )
    assert "building docstring docstring-pyo3 for Python" in result.stderr
    assert re.search(r"for Python 3\.\d+ \(debug\): done in \d+\.\d s\n", result.stderr)
    built = sorted(path.name for path in (target / "debug").iterdir() if path.suffix == ".so")
    twins = ["libdocstring_pyo3.so"] if "pyo3" in bindings_for(tuple(sys.version_info[:2])) else []
    assert built == ["libdocstring.so", *twins]
    assert sorted(path.name for path in (scratch / "target" / "debug").iterdir() if path.is_file()) == [
        "docstring" + EXT_SUFFIX
    ]
    assert not (scratch / ".venv").exists()


def test_test_py_says_where_pytests_arguments_go():
    result = run_python(str(ROOT / "scripts" / "test.py"), "-k", "wrapper")
    assert result.returncode == 2
    assert result.stderr == (
        "test.py: error: unrecognized arguments: -k wrapper; pytest's arguments go after `--`, "
        "as in `python3 scripts/test.py -- -k wrapper` (see --help)\n"
    )


def test_a_python_older_than_3_7_gets_one_line():
    from python_matrix import find_interpreters, pyenv_root

    old = find_interpreters([(3, 6)], pyenv=pyenv_root())
    if not old:
        pytest.skip("no Python 3.6 on this machine")
    for script in ("run_lessons.py", "test.py"):
        result = subprocess.run([str(old[(3, 6)]), str(ROOT / "scripts" / script)], capture_output=True, text=True)
        assert result.returncode == 1
        assert result.stderr == (
            "Python 3.6 is too old for these lessons: run them with CPython 3.7 to 3.13 "
            "(rust-cpython 0.7 supports 3.7-3.12; the PyO3 twins need 3.9 or newer)\n"
        )


def test_run_lessons_refuses_an_unknown_lesson_in_one_line():
    result = run_python(str(ROOT / "scripts" / "run_lessons.py"), "docstring", "shiping")
    assert result.returncode == 2
    assert result.stderr.startswith("run_lessons.py: error: no lesson 'shiping'; the lessons are docstring, ")
    assert result.stderr.count("\n") == 1


def test_an_unknown_binding_is_refused_in_one_line():
    result = run_python("-m", "docstring.run", env=dict(os.environ, LESSONS_BINDING="pyo4"))
    assert result.returncode == 1
    assert result.stderr == "docstring: LESSONS_BINDING=pyo4: the bindings are cpython, pyo3\n"


# The pitfalls of naming, shown on real modules in a scratch directory.


def import_in_child(directory, module):
    code = f"import sys; sys.path.insert(0, sys.argv[1]); import {module}; print({module}.__doc__)"
    # Run inside `directory`: from the workspace root, `docstring` would
    # also name the lesson's source folder.
    return run_python("-c", code, str(directory), cwd=directory)


def test_plain_so_name_also_imports(tmp_path):
    # The suffix-less `docstring.so` of older tutorials works on POSIX,
    # but every Python version would try to load it.
    if ".so" not in importlib.machinery.EXTENSION_SUFFIXES:
        pytest.skip("this platform has no plain .so extension suffix")
    shutil.copy(str(MODULE_DIR / ("docstring" + EXT_SUFFIX)), str(tmp_path / "docstring.so"))
    result = import_in_child(tmp_path, "docstring")
    assert result.stdout == "This module is implemented in Rust.\n", result.stderr


def test_module_renamed_differently_from_its_initializer_fails_to_import(tmp_path):
    shutil.copy(str(MODULE_DIR / ("function" + EXT_SUFFIX)), str(tmp_path / ("greeting" + EXT_SUFFIX)))
    result = import_in_child(tmp_path, "greeting")
    assert result.returncode == 1
    assert "ImportError: dynamic module does not define module export function (PyInit_greeting)" in result.stderr


def test_unrenamed_cargo_library_fails_to_import():
    # Cargo's own output, wherever this run's build put it (the matrix builds
    # each version into a target directory of its own).
    library = cargo_target_dir() / "debug" / library_filename("docstring")
    if library.suffix not in importlib.machinery.EXTENSION_SUFFIXES:
        pytest.skip(f"{library.suffix} is not an extension-module suffix here")
    result = import_in_child(library.parent, library.stem)
    assert result.returncode == 1
    assert "dynamic module does not define module export function (PyInit_libdocstring)" in result.stderr


def test_module_tagged_for_another_python_is_skipped_not_loaded(tmp_path):
    # Under another version's EXT_SUFFIX the file is invisible to this
    # interpreter: the import fails cleanly instead of loading a module
    # built against a different C API.
    other = EXT_SUFFIX.replace("-{}{}".format(*sys.version_info[:2]), f"-{3}{99}")
    assert other != EXT_SUFFIX
    shutil.copy(str(MODULE_DIR / ("docstring" + EXT_SUFFIX)), str(tmp_path / ("docstring" + other)))
    result = import_in_child(tmp_path, "docstring")
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'docstring'" in result.stderr


def test_module_name_helper_appends_the_suffix():
    assert module_filename("klass", ".cpython-38-x86_64-linux-gnu.so") == "klass.cpython-38-x86_64-linux-gnu.so"


# The benchmark's reporting (its timings are not tested: they are a report).


def fake_results(sizes, kinds):
    metrics = [metric for metric, _label in bench.METRICS]
    return {
        (size, metric, kind): (index + 1) * 10.0
        for size in sizes
        for metric in metrics
        for index, kind in enumerate(kinds)
    }


def test_bench_tables_show_the_builtin_and_ratios_for_every_size():
    kinds = {"set": set, "clone": None, "borrowed": None}
    tables = bench.format_tables(fake_results([10, 1000], kinds), kinds, [10, 1000])
    assert tables.count("| 1,000 |") == len(bench.METRICS)
    assert "|    10 |" in tables
    assert "2.00x" in tables
    assert "3.00x" in tables


def test_bench_marks_missing_figures_as_not_available():
    kinds = {"set": set, "clone": None}
    tables = bench.format_tables({}, kinds, [10])
    assert "n/a" in tables


def test_bench_goal_lines_say_met_or_missed():
    results = fake_results([10, 1000], ["set", "clone", "borrowed"])
    lines = bench.goal_lines(results, [10, 1000])
    assert lines[0] == "iter() at 1,000: borrowed / builtin: 3.00 (goal <= 2.0): missed"
    assert lines[1] == "iter() at 1,000 / at 10: borrowed: 1.00 (goal <= 1.5): met"


def test_bench_replaces_only_the_marked_block():
    text = "intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\noutro\n"
    assert bench.replace_between_markers(text, "new") == "intro\n<!-- bench:start -->\nnew\n<!-- bench:end -->\noutro\n"
    with pytest.raises(ScriptError):
        bench.replace_between_markers("no markers", "new")


def test_bench_rejects_bad_sizes_in_one_line():
    result = run_python(str(ROOT / "scripts" / "bench.py"), "--sizes", "10,ten")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "--sizes takes whole numbers" in result.stderr


def bench_block(path):
    text = path.read_text(encoding="utf-8")
    return text[text.index("<!-- bench:start -->") : text.index("<!-- bench:end -->")]


def test_benchmark_page_holds_a_full_run_and_lesson_5_its_summary():
    full = bench_block(ROOT / "BENCHMARK.md")
    assert full.count("| 1,000,000 |") == len(bench.METRICS)
    assert full.count("(goal <= ") == 4
    summary = bench_block(ROOT / "borrowed" / "README.md")
    table_lines = [line for line in summary.splitlines() if line.startswith("|")]
    assert len(table_lines) == 2 + len(bench.METRICS), "a header, its rule, and a row per metric"
    for block in (full, summary):
        assert "Measured " in block
        assert "Python " in block
    assert full.split("\n")[1] == summary.split("\n")[1], "the lesson's figures come from the same run"
    assert (ROOT / "borrowed" / "iter_cost.png").stat().st_size > 10_000


def test_bench_summary_has_a_row_per_metric_and_a_column_per_set():
    results = fake_results([1000], ["set", "clone", "borrowed", "borrowed-pyo3"])
    lines = bench.summary_table(results, 1000).splitlines()
    assert lines[0].split("|")[1].strip() == "at 1,000 elements"
    assert [line.split("|")[1].strip() for line in lines[2:]] == [
        "iter()",
        "drain, per element",
        "next(iter(s))",
        "memory per iterator",
    ]
    assert [cell.strip() for cell in lines[2].split("|")[2:-1]] == ["10.0 ns", "2.00x", "3.00x", "4.00x"]


def test_bench_tables_compare_each_twin_with_its_lesson():
    kinds = {"set": set, "clone": None, "borrowed": None, "clone-pyo3": None, "borrowed-pyo3": None}
    header = bench.format_tables(fake_results([10], kinds), kinds, [10]).splitlines()[0]
    assert [cell.strip() for cell in header.split("|")[-3:-1]] == ["clone-pyo3 / clone", "borrowed-pyo3 / borrowed"]


def test_bench_calls_table_gives_each_binding_in_ns_and_as_ratios():
    results = {("function", "python"): 100.0, ("function", "cpython"): 200.0, ("function", "pyo3"): 150.0}
    results.update({("method", "python"): 120.0, ("method", "cpython"): 240.0})
    lines = bench.calls_table(results).splitlines()
    assert [cell.strip() for cell in lines[2].split("|")[1:-1]] == [
        'greet("Smith")',
        "100 ns",
        "200 ns (2.00x)",
        "150 ns (1.50x)",
        "0.75x",
    ]
    assert [cell.strip() for cell in lines[3].split("|")[-3:-1]] == ["n/a", "n/a"]


def fake_costs_results(floor_c=40.0, floor_cython=50.0):
    results = {("function", "python"): 80.0}
    if floor_c:
        results[("floor", "C")] = floor_c
    if floor_cython:
        results[("floor", "Cython")] = floor_cython
    for place, (name, _removed) in enumerate(bench.STEPS):
        results[(name, "cpython")] = 200.0 - 50 * place
        results[(name, "pyo3")] = 100.0 - 20 * place
    return results


def test_bench_costs_table_gives_each_step_as_a_ratio_to_the_faster_floor():
    steps, references = bench.costs_table(fake_costs_results(), cython="3.3.1").split("\n\n")
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in steps.splitlines()[2:]]
    assert [row[0] for row in rows] == [f"{place}. `{name}`" for place, (name, _) in enumerate(bench.STEPS, 1)]
    assert rows[0][1:3] == ["200 ns (5.00x)", "100 ns (2.50x)"]
    assert rows[3][1:3] == ["50 ns (1.25x)", "40 ns (1.00x)"]
    assert [line.split("|")[2].strip() for line in references.splitlines()[2:]] == [
        "80 ns (2.00x)",
        "40 ns (1.00x)",
        "50 ns (1.25x)",
    ]
    assert "Cython 3.3.1" in references


def test_bench_costs_goal_lines_judge_the_fastest_step_of_each_binding():
    lines = bench.costs_goal_lines(fake_costs_results())
    assert lines == [
        "rust-cpython: the fastest step, `greet_in_place`, takes 1.25x the floor's time (goal: at most 1.15x): missed",
        "PyO3: the fastest step, `greet_in_place`, takes 1.00x the floor's time (goal: at most 1.15x): met",
    ]


def test_bench_costs_say_which_floor_is_missing_and_why():
    lines = bench.costs_goal_lines(fake_costs_results(floor_cython=None), {"Cython": "Cython is not installed"})
    assert lines[0] == "Cython not measured: Cython is not installed"
    assert lines[1].endswith("1.25x the floor's time (goal: at most 1.15x): missed")
    no_floor = bench.costs_goal_lines(fake_costs_results(None, None), {"C": "no C compiler"})
    assert no_floor == ["C not measured: no C compiler", "no floor measured: the goal cannot be checked"]
    assert "n/a" not in bench.costs_table(fake_costs_results(None, None)).split("\n\n")[0]


def test_a_floor_without_a_c_compiler_is_left_out_with_the_reason(tmp_path, monkeypatch):
    real = floor.config_words
    monkeypatch.setattr(floor, "config_words", lambda name: ["no-such-cc"] if name == "CC" else real(name))
    built, missing = floor.build_floor(tmp_path)
    assert built == {}
    assert missing["C"] == "no C compiler: 'no-such-cc' (this Python's CC) is not installed"
    assert missing["Cython"] in (missing["C"], "Cython is not installed (pip install -r bench-requirements.txt)")


def test_bench_calling_table_gives_each_binding_in_ns_and_as_a_ratio_to_c():
    results = {("call", "C"): 40.0, ("call", "cpython"): 100.0, ("call", "pyo3"): 60.0}
    results.update({("settings", "C"): 20.0, ("settings", "cpython"): 50.0})
    lines = bench.calling_table(results).splitlines()
    assert [cell.strip() for cell in lines[2].split("|")[1:-1]] == [
        "call of a Python function",
        "40 ns",
        "100 ns (2.50x)",
        "60 ns (1.50x)",
    ]
    assert [cell.strip() for cell in lines[3].split("|")[-2:-1]] == ["n/a"]


def test_lesson_calling_shows_the_benchmarks_last_run_of_its_section():
    def block(path):
        text = path.read_text(encoding="utf-8")
        return text[text.index(bench.CALLING_START) : text.index(bench.CALLING_END)]

    shown = block(ROOT / "calling" / "README.md")
    assert shown == block(ROOT / "BENCHMARK.md")
    assert "Measured " in shown
    assert "call of a Python function" in shown


def fake_classes_results(pyo3=True):
    results = {("property", "slots"): 10.0, ("property", "C"): 20.0, ("property", "fractions"): 50.0}
    results.update({("property", "cpython"): 25.0, ("mapping", "dict"): 20.0, ("mapping", "cpython"): 70.0})
    if pyo3:
        results.update({("property", "pyo3"): 15.0, ("mapping", "pyo3"): 50.0})
    return results


def test_bench_classes_tables_give_each_figure_as_a_ratio_to_python_s_own():
    lines = bench_classes.property_table(fake_classes_results()).splitlines()
    assert [cell.strip() for cell in lines[2].split("|")[1:-1]] == [
        "a property read",
        "25.0 ns (2.50x)",
        "15.0 ns (1.50x)",
        "20.0 ns (2.00x)",
        "50.0 ns (5.00x)",
        "10.0 ns (1.00x)",
    ]
    lines = bench_classes.mapping_table(fake_classes_results(pyo3=False)).splitlines()
    assert [cell.strip() for cell in lines[2].split("|")[2:-1]] == ["70.0 ns (3.50x)", "n/a", "20.0 ns (1.00x)"]


def test_bench_classes_goal_lines_say_met_or_missed_for_each_binding():
    results = fake_classes_results()
    assert bench_classes.property_goal_lines(results) == [
        "rust-cpython: a property read takes 2.50x a `__slots__` read (goal: at most 2.0x): missed;"
        " 1.25x a getter written in C",
        "PyO3: a property read takes 1.50x a `__slots__` read (goal: at most 2.0x): met; 0.75x a getter written in C",
    ]
    assert bench_classes.mapping_goal_lines(results) == [
        "rust-cpython: `m[key]` takes 3.50x a dict's (goal: at most 3.0x): missed",
        "PyO3: `m[key]` takes 2.50x a dict's (goal: at most 3.0x): met",
    ]
    assert len(bench_classes.mapping_goal_lines(fake_classes_results(pyo3=False))) == 1


@pytest.mark.parametrize(
    ("lesson", "markers"),
    [
        ("fraction", bench_classes.PROPERTY_MARKERS),
        ("mapping", bench_classes.MAPPING_MARKERS),
        ("references", bench_memory.GC_MARKERS),
        ("buffers", bench_memory.BUFFER_MARKERS),
    ],
)
def test_lessons_show_the_benchmarks_last_run_of_their_table(lesson, markers):
    def block(path):
        text = path.read_text(encoding="utf-8")
        return text[text.index(markers[0]) : text.index(markers[1])]

    shown = block(ROOT / lesson / "README.md")
    assert shown == block(ROOT / "BENCHMARK.md")
    assert "Measured " in shown
    assert "(goal: at most" in shown


def test_bench_classes_measures_every_subject_it_reports(monkeypatch):
    class Lesson:
        Fraction = staticmethod(lambda n, d: type("F", (), {"numerator": n})())
        StringMap = dict

    modules = {"cpython": {"fraction": Lesson, "mapping": Lesson}}
    results = bench_classes.measure(modules, lambda run: run(10) / 10, rounds=1)
    assert sorted(results) == sorted(
        [("property", who) for who in ("slots", "fractions", "C", "cpython")]
        + [("mapping", who) for who in ("dict", "cpython")]
    )
    assert all(value > 0 for value in results.values())


def fake_memory_results(pyo3=True):
    results = {("gc", "slots", bench_memory.OBJECTS): 4e-3, ("gc", "cpython", bench_memory.OBJECTS): 10e-3}
    bindings = ("cpython", "pyo3") if pyo3 else ("cpython",)
    for binding in bindings:
        for size in bench_memory.SIZES:
            results[("buffer, bytearray", binding, size)] = size * 1e-10 + 1e-7
            results[("copy, bytearray", binding, size)] = size * 1e-9 + 1e-7
            results[("buffer, bytes", binding, size)] = size * 1e-10 + 1.3e-7
            results[("bytes", binding, size)] = size * 1e-10 + 1e-7
    if pyo3:
        results[("gc", "pyo3", bench_memory.OBJECTS)] = 6e-3
    return results


def test_bench_memory_tables_give_times_and_ratios():
    lines = bench_memory.buffer_table(fake_memory_results()).splitlines()
    assert len(lines) == 2 + 2 * len(bench_memory.SIZES)
    assert [cell.strip() for cell in lines[2].split("|")[1:-1]] == [
        "rust-cpython",
        "64 B",
        "106 ns",
        "164 ns",
        "1.54x",
        "136 ns",
        "106 ns",
        "1.28x",
    ]
    assert lines[-1].split("|")[2].strip() == "64 MiB"
    lines = bench_memory.gc_table(fake_memory_results(pyo3=False)).splitlines()
    assert [cell.strip() for cell in lines[2].split("|")[2:-1]] == ["10.00 ms (2.50x)", "n/a", "4.00 ms (1.00x)"]


def test_bench_memory_goal_lines_say_met_or_missed_for_each_binding():
    results = fake_memory_results()
    (cpython, pyo3) = bench_memory.buffer_goal_lines(results)
    assert cpython.startswith("rust-cpython: at 64 MiB the zero-copy path is ")
    assert "(goal: at least 1.5x): met;" in cpython
    assert cpython.endswith("at 64 B it takes 1.28x the `bytes` path (goal: at most 1.2x): missed")
    assert pyo3.startswith("PyO3: ")
    assert bench_memory.gc_goal_lines(results) == [
        "rust-cpython: a collection takes 2.50x the `__slots__` objects' (goal: at most 2.0x): missed",
        "PyO3: a collection takes 1.50x the `__slots__` objects' (goal: at most 2.0x): met",
    ]
    assert len(bench_memory.buffer_goal_lines(fake_memory_results(pyo3=False))) == 1


def test_bench_memory_measures_every_subject_it_reports(monkeypatch):
    monkeypatch.setattr(bench_memory, "SIZES", (64, 4096))
    monkeypatch.setattr(bench_memory, "OBJECTS", 100)

    class Buffers:
        crc32 = crc32_of_copy = crc32_of_bytes = staticmethod(len)

    class References:
        class Signal:
            def connect(self, callback):
                self.callback = callback

    modules = {"cpython": {"buffers": Buffers, "references": References}}
    results = bench_memory.measure(modules, lambda run: run(10) / 10, rounds=1)
    paths = ("buffer, bytearray", "copy, bytearray", "buffer, bytes", "bytes")
    assert sorted(results) == sorted(
        [(what, "cpython", size) for what in paths for size in (64, 4096)]
        + [("gc", "slots", 100), ("gc", "cpython", 100)]
    )
    assert all(value > 0 for value in results.values())


# valgrind reports: which errors fail `scripts/test.py --valgrind`.

VALGRIND_ERROR = """<error><kind>{kind}</kind><stack>
<frame><obj>{obj}</obj><fn>{fn}</fn><file>lib.rs</file><line>7</line></frame>
<frame><obj>/usr/lib/libpython3.so</obj><fn>PyObject_Call</fn></frame>
</stack></error>"""


def test_memcheck_fails_only_on_memory_errors_in_project_code(tmp_path):
    project = tmp_path / "target"
    report = tmp_path / "memcheck.1.xml"
    report.write_text(
        "<valgrindoutput>"
        + VALGRIND_ERROR.format(kind="InvalidRead", obj=project / "debug" / "borrowed.so", fn="next")
        + VALGRIND_ERROR.format(kind="UninitValue", obj="/usr/lib/libpython3.so", fn="int_from_bytes")
        + VALGRIND_ERROR.format(kind="Leak_PossiblyLost", obj=project / "debug" / "klass.so", fn="init")
        + "</valgrindoutput>"
    )
    errors = memcheck.read_errors(report)
    assert [kind for kind, _frames in errors] == ["InvalidRead", "UninitValue", "Leak_PossiblyLost"]
    ours = memcheck.project_errors(errors, project)
    assert [(kind, frames[0][1], frames[0][2]) for kind, frames in ours] == [("InvalidRead", "next", "lib.rs:7")]


def test_memcheck_reads_the_complete_errors_of_an_unfinished_report(tmp_path):
    report = tmp_path / "memcheck.2.xml"
    report.write_text(
        "<valgrindoutput>"
        + VALGRIND_ERROR.format(kind="InvalidWrite", obj=tmp_path / "lib.so", fn="f")
        + "<error><kind>InvalidRead</kind><stack><fr"
    )
    assert [kind for kind, _frames in memcheck.read_errors(report)] == ["InvalidWrite"]


# First contact: what a reader sees before and while doing it by hand.


@pytest.mark.parametrize("crate", lesson_crates())
def test_a_lesson_run_before_any_build_says_how_to_build(tmp_path, crate):
    # The lesson and the scripts, in a folder where nothing is built.
    for folder in (crate, "scripts"):
        shutil.copytree(str(ROOT / folder), str(tmp_path / folder), ignore=shutil.ignore_patterns("__pycache__"))
    result = run_python("-m", crate + ".run", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"{crate}: target/debug/{crate}{EXT_SUFFIX} is not built for this Python")
    assert f"run `python3.{sys.version_info[1]} scripts/run_lessons.py {crate}`" in result.stderr
    # The same for the PyO3 twin, which no build makes before Python 3.9.
    result = run_python("-m", crate + ".run", cwd=tmp_path, env=dict(os.environ, LESSONS_BINDING="pyo3"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    if sys.version_info >= (3, 9):
        assert result.stderr.startswith(f"{crate}: target/debug/pyo3/{crate}{EXT_SUFFIX} is not built for this Python")
    else:
        assert result.stderr == f"{crate}: the PyO3 twins need Python 3.9 or newer, not 3.{sys.version_info[1]}\n"


def test_the_by_hand_build_rebuilds_nothing_after_the_scripts(build_python):
    """The README's `cargo build` line names the interpreter the way the
    scripts do, so running it after them finds nothing to rebuild."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    by_hand = text[text.index("## Doing it by hand") :]
    block = by_hand.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    command = "\n".join(block[: block.index("cargo build") + 1])
    assert command.startswith("export PYTHON_SYS_EXECUTABLE=")
    env = dict(os.environ, PATH=str(Path(build_python).parent) + os.pathsep + os.environ["PATH"])
    named = subprocess.run(
        ["bash", "-c", 'echo "{}"'.format(command.split('"')[1])],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout.strip()
    if named != build_python:
        pytest.skip(f"python3 beside {build_python} calls itself {named}; the scripts ran as {build_python}")
    result = subprocess.run(["bash", "-c", command], cwd=str(ROOT), env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Compiling" not in result.stderr, result.stderr


# Switching Python between builds: the copy step must notice every library
# left from before, on real Cargo builds.


def another_python():
    """An interpreter of another version than this one, or None."""
    import python_matrix

    found = python_matrix.find_interpreters(pyenv=python_matrix.pyenv_root())
    others = [path for version, path in sorted(found.items()) if version != tuple(sys.version_info[:2])]
    return others[0] if others else None


@once_per_run
def test_copy_refuses_libraries_left_from_another_python(tmp_path, build_python):
    other = another_python()
    if other is None:
        pytest.skip("needs a second Python version on this machine")
    workspace = tmp_path / "switch"
    for crate in ("docstring", "klass"):
        shutil.copytree(str(ROOT / crate), str(workspace / crate), ignore=shutil.ignore_patterns("__pycache__"))
    # This workspace's own settings, with two of its lessons as members.
    manifest = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    manifest = re.sub(r"^members = \[.*?\]", 'members = ["docstring", "klass"]', manifest, flags=re.S | re.M)
    (workspace / "Cargo.toml").write_text(manifest, encoding="utf-8")
    debug = workspace / "target" / "debug"

    def cargo(python, *args):
        return cargo_build_in(workspace, python, workspace / "target", *args)

    def copy():
        return copy_libraries(["docstring", "klass"], debug, tmp_path / "modules", EXT_SUFFIX)

    # Everything for another Python, then one lesson for this one.
    assert cargo(other).returncode == 0
    assert cargo(build_python, "-p", "docstring").returncode == 0
    with pytest.raises(ScriptError, match=r"^klass in .* predate the last switch of Python"):
        copy()
    assert not (tmp_path / "modules").exists()

    # A rebuild for this Python that fails halfway: klass does not compile.
    klass_source = workspace / "klass" / "src" / "lib.rs"
    good_source = klass_source.read_text()
    klass_source.write_text("this is not Rust\n")
    assert cargo(build_python).returncode != 0
    with pytest.raises(ScriptError, match=r"^klass in .* predate the last switch of Python"):
        copy()

    # Fixed and rebuilt: every library is this Python's, and the copy goes through.
    klass_source.write_text(good_source)
    assert cargo(build_python).returncode == 0
    assert [destination.name for _source, destination in copy()] == ["docstring" + EXT_SUFFIX, "klass" + EXT_SUFFIX]
    result = run_python("-c", "import klass; print(klass.Class().greet('y'))", cwd=tmp_path / "modules")
    assert result.stdout == "Hello, y!\n", result.stderr


def fake_threads_results(released_speedup=1.9, held_speedup=1.0):
    """The threads lesson's figures: crc32 at 10 GB/s but 2 GB/s at the smallest size,
    crc32_holding_gil at 10 GB/s, zlib at 3; zlib's speedup 2x in cache,
    1.2x from memory."""
    results = {}
    for size in bench_threads.SIZES:
        results["throughput", "zlib.crc32", size] = 3.0
        results["throughput", "crc32", size] = 2.0 if size == bench_threads.SIZES[0] else 10.0
        results["throughput", "crc32_holding_gil", size] = 10.0
    for where, limit in (("in cache", 2.0), ("from memory", 1.2)):
        for count in bench_threads.THREAD_COUNTS:
            results["speedup", where, "zlib.crc32", count] = 1.0 if count == 1 else limit
            results["speedup", where, "crc32", count] = 1.0 if count == 1 else released_speedup
            results["speedup", where, "crc32_holding_gil", count] = 1.0 if count == 1 else held_speedup
    return results


def test_bench_threads_goal_lines_report_speedups_throughput_and_the_cost_of_releasing():
    lines = bench_threads.goal_lines(fake_threads_results())
    assert lines[0] == (
        "2 threads in cache: crc32 1.90x, zlib.crc32 2.00x (goal: crc32 >= 0.9 x zlib.crc32's speedup): met"
    )
    assert lines[1] == "2 threads in cache, crc32_holding_gil: speedup 1.00x (goal <= 1.1x): met"
    assert lines[2] == "1 thread: crc32 10.00 GB/s, zlib.crc32 3.00 GB/s (goal: crc32 >= zlib): met"
    # 64 B at 2 GB/s is 32 ns; at 10 GB/s, 6.4 ns.
    assert lines[3] == "releasing and taking back the GIL: about 26 ns per call (64 B input)"
    assert lines[4].startswith("releasing the GIL costs nothing measurable from 512 B up")
    missed = bench_threads.goal_lines(fake_threads_results(released_speedup=1.7, held_speedup=1.5))
    assert [line.rsplit(": ", 1)[1] for line in missed[:2]] == ["missed", "missed"]


def test_bench_threads_tables_have_a_row_per_size_and_per_thread_count():
    tables = bench_threads.report(fake_threads_results())
    assert [line.split("|")[1].strip() for line in tables.splitlines()[2:10]] == [
        bench_threads.human_size(size) for size in bench_threads.SIZES
    ]
    assert tables.count("GB/s") == 3
    assert " 2, 64 x 4 MiB (in cache) |" in tables
    assert " 2, 512 MiB (from memory) |" in tables
    summary = bench_threads.summary_table(fake_threads_results()).splitlines()
    assert [line.split("|")[1].strip() for line in summary[2:]] == [
        "one call, 64 B",
        "4 KiB, one thread",
        "64 MiB, one thread",
        "2 threads, in cache",
        "2 threads, from memory",
    ]


@pytest.mark.parametrize(
    ("markers", "lesson", "figure"),
    [
        ((bench_threads.START, bench_threads.END), "threads", "throughput.png"),
        ((bench.CALLS_START, bench.CALLS_END), "function", None),
        ((bench.COSTS_START, bench.COSTS_END), "costs", None),
    ],
)
def test_lessons_show_benchmark_figures_from_the_same_run_as_the_benchmark_page(markers, lesson, figure):
    def block(path):
        text = path.read_text(encoding="utf-8")
        return text[text.index(markers[0]) : text.index(markers[1])]

    full, summary = block(ROOT / "BENCHMARK.md"), block(ROOT / lesson / "README.md")
    assert full.split("\n")[1].startswith("Measured "), "the benchmark page's block is empty"
    assert full.split("\n")[1] == summary.split("\n")[1], "the lesson's figures come from the same run"
    assert "PyO3" in summary, "the PyO3 twin is measured beside the lesson"
    if figure:
        assert (ROOT / lesson / figure).stat().st_size > 10_000


def test_bench_rejects_an_unknown_section_in_one_line():
    result = run_python(str(ROOT / "scripts" / "bench.py"), "--section", "everything")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


def test_a_long_step_says_when_it_starts_and_ends(capsys):
    with step("building x"):
        pass
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "building x ..."
    assert re.fullmatch(r"building x: done in \d+\.\d s", lines[1])
    with pytest.raises(ScriptError), step("building y"):
        raise ScriptError("cargo failed")
    assert re.fullmatch(r"building y: failed after \d+\.\d s", capsys.readouterr().err.splitlines()[1])
