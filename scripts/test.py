"""Run the whole test suite: set up .venv, build, copy, run pytest once
for the lessons' rust-cpython modules and once for their PyO3 twins.

Usage: python3 scripts/test.py [--binding cpython|pyo3|both] [--all-pythons | --valgrind] [-- PYTEST_ARGS...]
"""

import os
import subprocess
import sys

from copy_libs import copy_lessons
from memcheck import run_memcheck
from python_matrix import run_matrix
from workspace import (
    BINDING_VARIABLE,
    BINDINGS,
    ROOT,
    ArgumentParser,
    ScriptError,
    bindings_for,
    cargo_build,
    ensure_gdb,
    ensure_venv,
)


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
    parser.add_argument(
        "--binding",
        choices=(*BINDINGS, "both"),
        default="both",
        help="test the lessons' rust-cpython modules, their PyO3 twins, or both, one pytest run "
        "each (default both; the twins need Python 3.9 or newer)",
    )
    args, unknown = parser.parse_known_args(own_args)
    if unknown:
        parser.error(
            f"unrecognized arguments: {' '.join(unknown)}; pytest's arguments go after `--`, as in "
            f"`python3 scripts/test.py -- {' '.join(unknown)}`"
        )
    if args.all_pythons and args.valgrind:
        parser.error("--all-pythons and --valgrind do not combine")
    wanted = list(BINDINGS) if args.binding == "both" else [args.binding]
    if args.all_pythons:
        return run_matrix(pytest_args, wanted)
    available = bindings_for(tuple(sys.version_info[:2]))
    if not any(binding in available for binding in wanted):
        print(
            f"test: error: the PyO3 twins need Python 3.9 or newer; this is {sys.version.split()[0]}", file=sys.stderr
        )
        return 2
    # Tests that rebuild pass this on as PYTHON_SYS_EXECUTABLE: the same
    # value as here, so Cargo sees nothing changed and rebuilds nothing.
    env = dict(os.environ, LESSONS_BUILD_PYTHON=sys.executable)
    try:
        python = ensure_venv(sys.executable, ROOT / ".venv")
        cargo_build(sys.executable)
        copy_lessons(quiet=True)
        ensure_gdb()
    except ScriptError as error:
        print(f"test: error: {error}", file=sys.stderr)
        return 1
    runs = [binding for binding in wanted if binding in available]
    sessions = {binding: dict(env, **{BINDING_VARIABLE: binding}) for binding in runs}
    command = [str(python), "-m", "pytest", *pytest_args]
    results = {}
    if args.valgrind:
        for binding in runs:
            print(f"\n== tests, lessons imported from the {binding} binding", flush=True)
            results[binding] = run_memcheck(python, pytest_args, sessions[binding])
    else:
        # The sessions are independent: the second runs beside the first,
        # its output kept in a log and shown when the first is done.
        behind = {}
        for binding in runs[1:]:
            log = ROOT / "target" / f"pytest-{binding}.log"
            with open(str(log), "w") as output:
                process = subprocess.Popen(command, cwd=str(ROOT), env=sessions[binding], stdout=output, stderr=output)
            behind[binding] = (process, log)
        print(f"\n== tests, lessons imported from the {runs[0]} binding", flush=True)
        results[runs[0]] = subprocess.run(command, cwd=str(ROOT), env=sessions[runs[0]]).returncode
        for binding, (process, log) in behind.items():
            results[binding] = process.wait()
            print(f"\n== tests, lessons imported from the {binding} binding (run alongside; {log.name})")
            print(log.read_text(encoding="utf-8", errors="replace"), end="", flush=True)
    verdicts = [f"{b}: {'passed' if code == 0 else 'FAILED'}" for b, code in results.items()]
    verdicts += [f"{b}: not run (needs Python 3.9 or newer)" for b in wanted if b not in available]
    print("\n" + "; ".join(verdicts))
    return max(results.values())


if __name__ == "__main__":
    sys.exit(main())
