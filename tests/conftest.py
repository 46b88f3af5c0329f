"""Shared helpers for the test suite.

The lesson modules must already be built and copied for this interpreter;
`python3 scripts/test.py` does both before it starts pytest.
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

from workspace import lesson_crates  # noqa: E402

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
# Slow tests whose subject does not change with the Python version (builds
# of crates of their own, running out of memory) run once per
# `scripts/test.py`, not again for every version of `--all-pythons`.
once_per_run = pytest.mark.skipif(
    os.environ.get("LESSONS_IN_MATRIX") == "1", reason="slow, and the same on every version: runs in the main run"
)
MODULE_DIR = ROOT / "target" / "debug"


def pytest_configure(config):
    missing = [c for c in lesson_crates() if not (MODULE_DIR / (c + EXT_SUFFIX)).is_file()]
    if missing:
        pytest.exit(
            "no {} module for this Python in target/debug: run `python3 scripts/test.py`".format(", ".join(missing)),
            returncode=2,
        )


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
    sys.path (so it can import `target.debug.*` and `workspace`)."""
    prelude = f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'scripts')!r}]\n"
    return run_python("-c", prelude + code, *args, timeout=timeout)


def describe_exit(returncode):
    """A child's exit, named: a crash shows up as its signal."""
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def cargo_build_in(folder, python, target_dir, *args):
    """`cargo build` of the crate or workspace in `folder` (outside this
    workspace) for `python`, into `target_dir`, with this workspace's
    Cargo.lock, so that it needs no crate versions the workspace lacks."""
    shutil.copy(str(ROOT / "Cargo.lock"), str(Path(folder) / "Cargo.lock"))
    env = dict(os.environ, PYTHON_SYS_EXECUTABLE=str(python), CARGO_TARGET_DIR=str(target_dir))
    return subprocess.run(
        ["cargo", "build", "--quiet", *args], cwd=str(folder), env=env, capture_output=True, text=True
    )


def readme_blocks(crate, language):
    """The bodies of the ```<language> blocks in a lesson's README."""
    text = (ROOT / crate / "README.md").read_text(encoding="utf-8")
    return [body for lang, body in re.findall(r"^```(\w+)\n(.*?)^```$", text, re.S | re.M) if lang == language]


def build_lesson_alone(crate, folder, python, source=None, check=True):
    """Build a lesson as a reader who lifts it out would: the Cargo.toml its
    README shows, and its src/lib.rs (or `source`), in a crate folder of
    their own. Returns the module, copied to its importable name in `folder`
    (or, with check=False, Cargo's result, whatever it was)."""
    from copy_libs import library_filename

    (manifest,) = readme_blocks(crate, "toml")
    assert "workspace" not in manifest
    package = Path(folder) / crate
    (package / "src").mkdir(parents=True)
    (package / "Cargo.toml").write_text(manifest, encoding="utf-8")
    if source is None:
        source = (ROOT / crate / "src" / "lib.rs").read_text(encoding="utf-8")
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


@pytest.fixture
def run_lesson():
    """Run `python -m <crate>.run` from the workspace root; return stdout."""

    def run(crate):
        result = run_python("-m", crate + ".run")
        assert result.returncode == 0, f"{crate}/run.py failed:\n{result.stderr}"
        assert result.stderr == ""
        return result.stdout

    return run


@pytest.fixture
def build_python():
    """The interpreter `scripts/test.py` built the modules with, so that a
    test which runs a build script does not make Cargo rebuild everything."""
    return os.environ.get("LESSONS_BUILD_PYTHON", sys.executable)
