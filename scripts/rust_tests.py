"""Run the lessons' Rust tests, in an interpreter the test program starts.

Usage: python3 scripts/rust_tests.py [LESSON ...]

A lesson crate whose default features include `extension-module` has Rust
tests (the calling lesson shows why the feature must go for them to link):
`cargo test -p <package> --no-default-features`, for the lesson and its
twin. With no lesson named, every such package is tested.

The test program links the libpython of the Python running this script
and, where that library is shared, loads it from that Python's LIBDIR:
without this, the loader may find another installation's libpython of the
same version (a distribution's), and the tests would run in an
interpreter other than the one they were built for.

Cargo builds them in `rust-tests/` inside its target folder, apart from the
lessons: with other features, python3-sys and PyO3 configure themselves
anew, and in the lessons' folder that newer configuration would make
copy_libs.py take every module built before it for a stale one.
"""

import os
import subprocess
import sys
import sysconfig

from lessons import lesson, rust_tested_packages
from workspace import (
    PYO3_OLDEST,
    ROOT,
    ArgumentParser,
    ScriptError,
    bindings_for,
    cargo_target_dir,
    dotted,
    pinned_environment,
    step,
)


def rust_tests_target_dir():
    """Where the Rust tests are built: apart from the lessons' modules."""
    return cargo_target_dir() / "rust-tests"


def embedded_python_environment(python=sys.executable):
    """The environment for `cargo test` against this Python: both bindings
    pinned to it, its shared libpython first on the loader's path, and a
    target folder of its own."""
    env = pinned_environment(python, rust_tests_target_dir())
    libdir = sysconfig.get_config_var("LIBDIR")
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and libdir:
        variable = "DYLD_LIBRARY_PATH" if sys.platform == "darwin" else "LD_LIBRARY_PATH"
        env[variable] = os.pathsep.join(filter(None, [libdir, os.environ.get(variable)]))
    return env


def run_rust_tests(packages):
    """`cargo test` for each package, its output shown; stops at the first
    that fails."""
    for package in packages:
        command = ["cargo", "test", "-p", package, "--no-default-features", "--", "--show-output"]
        with step(f"cargo test -p {package} --no-default-features"):
            result = subprocess.run(command, cwd=str(ROOT), env=embedded_python_environment())
            if result.returncode != 0:
                raise ScriptError(f"the Rust tests of {package} failed (exit code {result.returncode})")


def main(argv=None):
    parser = ArgumentParser(description="Run the lessons' Rust tests (cargo test) against this Python.")
    parser.add_argument("lessons", nargs="*", metavar="LESSON", help="only these lessons (default: every one)")
    args = parser.parse_args(argv)
    try:
        for folder in args.lessons:
            lesson(folder)
        packages = rust_tested_packages(folders=args.lessons or None)
        if not packages:
            raise ScriptError(f"{', '.join(args.lessons)}: no Rust tests (no default `extension-module` feature)")
        if "pyo3" not in bindings_for(sys.version_info[:2]):
            print(f"note: PyO3 0.30 needs Python {dotted(PYO3_OLDEST)} or newer: testing without the twins")
            packages = [package for package in packages if not package.endswith("-pyo3")]
        run_rust_tests(packages)
    except ScriptError as error:
        sys.exit(f"rust_tests.py: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
