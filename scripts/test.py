"""Run the whole test suite: set up .venv, build, copy, run pytest.

Usage: python3 scripts/test.py [--all-pythons | --valgrind] [-- PYTEST_ARGS...]
"""

import os
import subprocess
import sys

from copy_libs import copy_lessons
from memcheck import run_memcheck
from python_matrix import run_matrix
from workspace import ROOT, ArgumentParser, ScriptError, cargo_build, ensure_venv


def split_pytest_args(argv):
    """Everything after `--` goes to pytest untouched."""
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    own_args, pytest_args = split_pytest_args(argv)
    parser = ArgumentParser(
        description="Create or reuse .venv with the pinned dev requirements, build the "
        "lessons for the Python running this script, copy the modules, and run pytest. "
        "Arguments after `--` are passed to pytest."
    )
    parser.add_argument(
        "--all-pythons",
        action="store_true",
        help="run the suite on every CPython 3.7-3.13 found on PATH or under pyenv, "
        "each with its own build and venv, and print a summary table",
    )
    parser.add_argument(
        "--valgrind",
        action="store_true",
        help="run the suite (all but the Hypothesis tests) under valgrind's memcheck, "
        "failing on memory errors in the project's code; takes several minutes",
    )
    args = parser.parse_args(own_args)
    if args.all_pythons and args.valgrind:
        parser.error("--all-pythons and --valgrind do not combine")
    if args.all_pythons:
        return run_matrix(pytest_args)
    # Tests that rebuild pass this on as PYTHON_SYS_EXECUTABLE: the same
    # value as here, so Cargo sees nothing changed and rebuilds nothing.
    env = dict(os.environ, LESSONS_BUILD_PYTHON=sys.executable)
    try:
        python = ensure_venv(sys.executable, ROOT / ".venv")
        cargo_build(sys.executable)
        copy_lessons(quiet=True)
        if args.valgrind:
            return run_memcheck(python, pytest_args, env)
    except ScriptError as error:
        print(f"test: error: {error}", file=sys.stderr)
        return 1
    return subprocess.run([str(python), "-m", "pytest", *pytest_args], cwd=str(ROOT), env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
