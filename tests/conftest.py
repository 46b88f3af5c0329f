"""Shared helpers for the test suite.

The lesson modules must already be built and copied for this interpreter;
`python3 scripts/test.py` does both before it starts pytest.

The suite runs once per binding: $LESSONS_BINDING=pyo3 makes every
`target.debug.<lesson>` import load the lesson's PyO3 twin (see
scripts/binding_switch.py), here and in every child process
the tests start. Tests read `BINDING` where the two bindings differ.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from binding_switch import module_path, python_command, select_binding  # noqa: E402
from lessons import lesson_crates, lesson_folders, twin_lessons  # noqa: E402
from readme_sessions import readme_blocks  # noqa: E402
from workspace import pinned_environment, step  # noqa: E402

BINDING = select_binding()
PYO3 = BINDING == "pyo3"

EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")

# Set by `scripts/test.py --valgrind`: resident memory means nothing under
# valgrind, and a million calls would take hours.
UNDER_VALGRIND = os.environ.get("LESSONS_UNDER_VALGRIND") == "1"
measures_memory = pytest.mark.skipif(
    UNDER_VALGRIND or not sys.platform.startswith("linux"),
    reason="measures resident memory (/proc/self/statm on Linux, not under valgrind)",
)
# Lowering RLIMIT_AS makes allocations fail as on a machine out of memory;
# valgrind needs far more address space than the limits the tests set.
needs_address_space_limit = pytest.mark.skipif(
    UNDER_VALGRIND or not sys.platform.startswith("linux"),
    reason="limits the address space (RLIMIT_AS on Linux, not under valgrind)",
)
# How many examples each Hypothesis test draws (scripts/python_matrix.py
# lowers it for the other interpreters); stateful tests run that many
# sequences of STATEFUL_SETTINGS' steps.
HYPOTHESIS_EXAMPLES = int(os.environ.get("LESSONS_HYPOTHESIS_EXAMPLES", "2000"))

# Slow tests whose subject does not change with the Python version (builds
# of crates of their own, running out of memory) run once per
# `scripts/test.py`, not again for every version of `--all-pythons`.
IN_MATRIX = os.environ.get("LESSONS_IN_MATRIX") == "1"
once_per_run = pytest.mark.skipif(IN_MATRIX, reason="slow, and the same on every version: runs in the main run")


def per_binding(cpython, pyo3, binding=None):
    """What a lesson's rust-cpython module does, or what its PyO3 twin does
    instead: where the two differ, both are asserted exactly. `binding` is
    the one serving the code under test where that is not the session's:
    lesson 16 serves each submodule from either."""
    return pyo3 if (binding or BINDING) == "pyo3" else cpython


# PyO3's message where a Python int is out of a Rust integer type's range
# (rust-cpython's has none).
OUT_OF_RANGE = "out of range integral type conversion attempted"


def extraction_note(argument):
    """What pytest's `match` sees after the message of an error raised while
    a PyO3 twin converts `argument`: PyO3 names the argument in a note,
    where exceptions take notes (`add_note`, Python 3.11 and newer)."""
    return f"\nwhile processing '{argument}'" if PYO3 and sys.version_info >= (3, 11) else ""


# Tests whose subject is the same whichever binding the lessons are
# imported from (the scripts, the docs' listings, builds of crates of their
# own) run in the rust-cpython session only.
binding_independent = pytest.mark.binding_independent
MODULE_DIR = ROOT / "target" / "debug"
LESSONS = twin_lessons() if PYO3 else lesson_crates()


def pytest_configure(config):
    global CONFIG
    CONFIG = config
    missing = [lesson for lesson in LESSONS if not module_path(lesson, BINDING).is_file()]
    if missing:
        pytest.exit(
            "no {} module for this Python ({} binding): run `{} scripts/test.py`".format(
                ", ".join(missing), BINDING, python_command()
            ),
            returncode=2,
        )


def pytest_collection_modifyitems(config, items):
    """The PyO3 session leaves out what the rust-cpython session covers for
    both: the binding-independent tests, and the `>>>` examples in the
    lesson READMEs, which show rust-cpython's behaviour (the tests assert
    where the twins differ)."""
    if not PYO3:
        return
    covered = [item for item in items if item.get_closest_marker("binding_independent") or item.path.suffix == ".md"]
    if covered:
        config.hook.pytest_deselected(items=covered)
        items[:] = [item for item in items if item not in covered]


def run_python(*args, cwd=ROOT, env=None, check=False, timeout=None):
    """Run this interpreter in a child process and capture its output, so a
    crash in the child fails one test instead of ending the whole run (and
    a hang, given a timeout, raises subprocess.TimeoutExpired)."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=str(cwd),
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def run_child(code, *args, timeout=None):
    """Run `code` in a child interpreter with the workspace and scripts/ on
    sys.path (so it can import `target.debug.*` and `workspace`), importing
    the lessons from this session's binding."""
    prelude = (
        f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'scripts')!r}]\n"
        "from binding_switch import select_binding; select_binding()\n"
    )
    return run_python("-c", prelude + code, *args, timeout=timeout)


def describe_exit(returncode):
    """A child's exit, named: a crash shows up as its signal."""
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


CONFIG = None


def announced(what):
    """A step of a test that may take a while: one line on the terminal
    when it starts and one, with its time, when it ends (pytest shows
    nothing else while a test runs)."""
    return step(what, say=say)


def say(line):
    """A line on the terminal now, past pytest's capture of the test's output."""
    reporter = CONFIG and CONFIG.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    with CONFIG.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        reporter.ensure_newline()
        reporter.write_line(line)


def cargo_build_in(folder, python, target_dir, *args):
    """`cargo build` of the crate or workspace in `folder` (outside this
    workspace) for `python`, into `target_dir`, with this workspace's
    Cargo.lock, so that it needs no crate versions the workspace lacks."""
    shutil.copy(str(ROOT / "Cargo.lock"), str(Path(folder) / "Cargo.lock"))
    env = pinned_environment(python, target_dir)
    with announced(f"cargo build of a scratch crate ({Path(folder).name})"):
        return subprocess.run(
            ["cargo", "build", "--quiet", *args], cwd=str(folder), env=env, capture_output=True, text=True
        )


def build_lesson_alone(crate, folder, python, source=None, check=True):
    """Build a lesson as a reader who lifts it out would: the Cargo.toml its
    README shows, and its src/lib.rs (or `source`), in a crate folder of
    their own. Returns the module, copied to its importable name in `folder`
    (or, with check=False, Cargo's result, whatever it was)."""
    from copy_libs import library_filename

    (manifest,) = readme_blocks(crate, "toml")
    assert "workspace" not in manifest
    package = Path(folder) / crate
    # The whole of src/: a lesson may keep part of its code in other files.
    shutil.copytree(str(ROOT / crate / "src"), str(package / "src"))
    (package / "Cargo.toml").write_text(manifest, encoding="utf-8")
    if source is not None:
        (package / "src" / "lib.rs").write_text(source, encoding="utf-8")
    # A target dir kept between runs, so that only the first one compiles
    # the dependencies.
    target = ROOT / "target" / "standalone" / "py{}{}".format(*sys.version_info[:2])
    build = cargo_build_in(package, python, target)
    if not check:
        return build
    assert build.returncode == 0, build.stderr
    module = Path(folder) / (crate + EXT_SUFFIX)
    shutil.copy(str(target / "debug" / library_filename(crate)), str(module))
    return module


# What a scratch crate depends on, per binding, as a line of its Cargo.toml.
SCRATCH_DEPENDENCIES = {
    "cpython": 'cpython = { version = "0.7.2", features = ["extension-module"] }',
    "pyo3": 'pyo3 = { version = "0.30.1", features = ["extension-module"] }',
}


def changed_source(path, changes):
    """The source file at `path` (from the workspace root) with each
    (old, new) of `changes` made; each `old` must be there exactly once."""
    source = (ROOT / path).read_text(encoding="utf-8")
    for old, new in changes:
        assert source.count(old) == 1, f"{path} no longer has the code a test changes:\n{old}"
        source = source.replace(old, new)
    return source


# How a twin includes a source file of its lesson's (the library of lessons
# 9 and 10, lesson 11's C API helpers, lesson 16's class).
SHARED_SOURCE = re.compile(r'^#\[path = "\.\./\.\./src/(\w+\.rs)"\]$', re.M)


def build_changed_lesson(folder, python, lesson, binding, changes, extra=()):
    """A scratch copy of `lesson`'s crate (binding "cpython") or twin
    ("pyo3") with `changes` made, built as the module `lesson` in `folder`
    (with `extra` dependency lines). The crate's other source files go
    beside lib.rs; a twin's copy of the lesson's src/ goes in src/lesson/,
    where its `#[path]` lines then point."""
    crate = ROOT / lesson if binding == "cpython" else ROOT / lesson / "pyo3"
    source = changed_source(str((crate / "src" / "lib.rs").relative_to(ROOT)), changes)
    files = [(path, path.name) for path in sorted((crate / "src").glob("*.rs")) if path.name != "lib.rs"]
    if binding == "pyo3":
        source = SHARED_SOURCE.sub(r'#[path = "lesson/\1"]', source)
        files += [(path, f"lesson/{path.name}") for path in sorted((ROOT / lesson / "src").glob("*.rs"))]
    return build_scratch_module(folder, python, lesson, source, binding, extra=extra, files=files)


def build_scratch_module(folder, python, module, source, binding, extra=(), files=()):
    """Build `source` as the lib.rs of a crate of its own for `binding`
    (with `extra` dependency lines, and `files`, (path, name under src/)
    pairs, copied in), outside the workspace; copy the module into
    `folder` as `module` and return its path."""
    from copy_libs import library_filename

    crate = Path(folder) / "crate"
    (crate / "src" / "lesson").mkdir(parents=True)
    for path, name in files:
        shutil.copy(str(path), str(crate / "src" / name))
    dependencies = "\n".join([SCRATCH_DEPENDENCIES[binding], *extra])
    manifest = f'[package]\nname = "{module}"\nversion = "0.1.0"\nedition = "2021"\n\n'
    manifest += f'[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\n{dependencies}\n'
    (crate / "Cargo.toml").write_text(manifest, encoding="utf-8")
    (crate / "src" / "lib.rs").write_text(source, encoding="utf-8")
    target = ROOT / "target" / "standalone" / "py{}{}".format(*sys.version_info[:2])
    build = cargo_build_in(crate, python, target)
    assert build.returncode == 0, build.stderr
    built = Path(folder) / (module + EXT_SUFFIX)
    shutil.copy(str(target / "debug" / library_filename(module)), str(built))
    return built


def copy_sources(destination, also=()):
    """The workspace as a fresh clone has it, as far as the lessons need:
    the Cargo files, every lesson's folder and scripts/, and the files or
    folders named in `also` (nothing built, no Python caches)."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("Cargo.toml", "Cargo.lock"):
        shutil.copy(str(ROOT / name), str(destination / name))
    for name in sorted({*lesson_folders(), "scripts", *also}):
        if (ROOT / name).is_file():
            shutil.copy(str(ROOT / name), str(destination / name))
            continue
        shutil.copytree(
            str(ROOT / name),
            str(destination / name),
            symlinks=True,
            ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".mypy_cache", ".pytest_cache"),
        )
    return destination


@pytest.fixture
def run_lesson():
    """Run `python -m <crate>.run` from the workspace root; return stdout."""

    def run(crate):
        result = run_python("-m", crate + ".run")
        assert result.returncode == 0, f"{crate}/run.py failed:\n{result.stderr}"
        assert result.stderr == ""
        return result.stdout

    return run


@pytest.fixture(scope="session")
def build_python():
    """The interpreter `scripts/test.py` built the modules with, so that a
    test which runs a build script does not make Cargo rebuild everything."""
    return os.environ.get("LESSONS_BUILD_PYTHON", sys.executable)
