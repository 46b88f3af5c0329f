"""Build every lesson for this Python, copy the modules, run each lesson.

Usage: python3 scripts/run_lessons.py [--binding cpython|pyo3|both]

With `--binding pyo3`, each lesson's unchanged run.py imports the lesson's
PyO3 twin instead (through $LESSONS_BINDING: see `select_binding` in
workspace.py); `--binding both` runs each lesson with both and says whether
the two printed the same.
"""

import os
import re
import subprocess
import sys

from copy_libs import copy_lessons
from workspace import (
    BINDING_VARIABLE,
    BINDINGS,
    PYO3_OLDEST,
    ROOT,
    ArgumentParser,
    ScriptError,
    bindings_for,
    cargo_build,
    dotted,
    lesson_crates,
    lesson_title,
    twin_lessons,
)


def run_lesson(crate, binding, capture):
    """Run `python3 -m <crate>.run` with `binding` selected."""
    env = dict(os.environ, **{BINDING_VARIABLE: binding})
    return subprocess.run(
        [sys.executable, "-m", crate + ".run"],
        cwd=str(ROOT),
        env=env,
        stdout=subprocess.PIPE if capture else None,
        text=True,
    )


def comparable(output):
    """Output with what may differ between two runs of the same lesson made
    uniform: wall times, and the order of values read from a hash set."""
    lines = [re.sub(r"\b\d+\.\d+ s\b", "<time> s", line) for line in output.splitlines()]
    return [line for line in lines if not line.startswith("found ")], sorted(
        line for line in lines if line.startswith("found ")
    )


def main(argv=None):
    parser = ArgumentParser(
        description="Build the workspace for the Python running this script, copy the "
        "modules into target/debug/, and run each lesson's run.py in order."
    )
    parser.add_argument(
        "--binding",
        choices=(*BINDINGS, "both"),
        default="cpython",
        help="run the lessons' rust-cpython modules (default), their PyO3 twins, or both, comparing the output",
    )
    args = parser.parse_args(argv)
    wanted = list(BINDINGS) if args.binding == "both" else [args.binding]
    version = tuple(sys.version_info[:2])
    if "pyo3" in wanted and "pyo3" not in bindings_for(version):
        print(
            f"run_lessons: error: the PyO3 twins need Python {dotted(PYO3_OLDEST)} or newer; this is {dotted(version)}",
            file=sys.stderr,
        )
        return 2
    try:
        cargo_build(sys.executable)
        copy_lessons(quiet=True)
    except ScriptError as error:
        print(f"run_lessons: error: {error}", file=sys.stderr)
        return 1
    failed, differ = [], []
    twins = twin_lessons()
    for crate in lesson_crates():
        print()
        print(lesson_title(crate))
        bindings = [b for b in wanted if b == "cpython" or crate in twins]
        outputs = {}
        for binding in bindings:
            prefix = f"{BINDING_VARIABLE}={binding} " if binding != "cpython" else ""
            print(f"$ {prefix}python3 -m {crate}.run", flush=True)
            result = run_lesson(crate, binding, capture=len(bindings) > 1)
            if result.stdout is not None:
                print(result.stdout, end="", flush=True)
                outputs[binding] = result.stdout
            if result.returncode != 0:
                failed.append(f"{crate} ({binding})")
        if len(outputs) > 1:
            same = comparable(outputs["cpython"]) == comparable(outputs["pyo3"])
            print(f"-> {crate}: the two bindings printed {'the same' if same else 'DIFFERENT output'}")
            if not same:
                differ.append(crate)
        elif args.binding == "both":
            print(f"-> {crate}: no PyO3 twin")
            differ.append(crate)
    if failed:
        print("run_lessons: error: these lessons failed: {}".format(", ".join(failed)), file=sys.stderr)
        return 1
    if differ:
        print("run_lessons: error: the bindings differ in: {}".format(", ".join(differ)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
