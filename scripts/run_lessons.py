"""Build the lessons for this Python, copy their modules, run each lesson.

Usage: python3 scripts/run_lessons.py [--binding cpython|pyo3|both] [--list] [LESSON ...]

Named lessons build alone (`cargo build -p`), with their twins; with none
named, every lesson runs, in order. With `--binding pyo3`, each lesson's
unchanged run.py imports the lesson's PyO3 twin instead (through
$LESSONS_BINDING: see binding_switch.py); `--binding both` runs each lesson
with both and says whether the two printed the same. A lesson without a
crate of its own (`shipping`) has no run.py: its README's commands are what
runs, and each command's output is compared with what the README shows.
"""

import os
import shutil
import subprocess
import sys

from copy_libs import copy_lessons
from lessons import lesson_crates, lesson_folders, lesson_title, listing, twin_lessons
from readme_sessions import (
    SHIPPING_VENV,
    comparable,
    differences,
    for_this_python,
    lesson_sessions,
    run_session,
    shell_environment,
)
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
    step,
)

# What the shipping lesson's commands make in the workspace root; removed before they
# run, so that every run starts as the README's does.
SHIPPING_OUTPUTS = (SHIPPING_VENV, SHIPPING_VENV.parent / "manylinux", "dist")
# pip builds, installs and checks a wheel: minutes, never an hour.
SESSION_TIMEOUT = 1200


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


def run_commands(lesson, binding):
    """Run a lesson's README commands for one binding in the workspace
    root, printing each with its output. Returns the commands whose output
    is not what the README shows."""
    ran = []
    for index, block in enumerate(lesson_sessions(lesson, binding), start=1):
        with step(f"{lesson} ({binding}): running the README's command block {index}"):
            ran += run_session(for_this_python(block), ROOT, shell_environment(ROOT, binding), timeout=SESSION_TIMEOUT)
    for command, _shown, output in ran:
        print(f"$ {command}\n{output}", end="", flush=True)
    return differences(ran, f"{lesson}/README.md")


def run_without_crate(lesson, bindings):
    """A lesson without a crate: its README's commands, per binding.
    Returns what failed."""
    if sys.version_info < PYO3_OLDEST:
        print(f"-> {lesson}: skipped: setuptools-rust and maturin need Python {dotted(PYO3_OLDEST)} or newer")
        return []
    for output in SHIPPING_OUTPUTS:
        shutil.rmtree(str(ROOT / output), ignore_errors=True)
    failed = []
    for binding in bindings:
        problems = run_commands(lesson, binding)
        for problem in problems:
            print(problem, file=sys.stderr)
        verdict = "every command printed what the README shows" if not problems else "output DIFFERS from the README"
        print(f"-> {lesson} ({binding}): {verdict}")
        if problems:
            failed.append(f"{lesson} ({binding})")
    return failed


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
    parser.add_argument("--list", action="store_true", help="list the lessons, in order, and exit")
    parser.add_argument(
        "lessons",
        nargs="*",
        metavar="LESSON",
        help="the lessons to build and run, by folder name (default: all, in order; `shipping` "
        "builds a release wheel: about half a minute the first time)",
    )
    args = parser.parse_args(argv)
    try:
        folders = lesson_folders()
    except ScriptError as error:
        print(f"run_lessons: error: {error}", file=sys.stderr)
        return 1
    if args.list:
        print(listing())
        return 0
    unknown = [lesson for lesson in args.lessons if lesson not in folders]
    if unknown:
        parser.error(f"no lesson {unknown[0]!r}; the lessons are {', '.join(folders)}")
    lessons = [lesson for lesson in folders if lesson in args.lessons or not args.lessons]
    crates = [lesson for lesson in lessons if lesson in lesson_crates()]
    wanted = list(BINDINGS) if args.binding == "both" else [args.binding]
    version = tuple(sys.version_info[:2])
    if "pyo3" in wanted and "pyo3" not in bindings_for(version):
        print(
            f"run_lessons: error: the PyO3 twins need Python {dotted(PYO3_OLDEST)} or newer; this is {dotted(version)}",
            file=sys.stderr,
        )
        return 2
    try:
        if crates:
            only = None if not args.lessons else crates
            cargo_build(sys.executable, lessons=only)
            copy_lessons(quiet=True, lessons=only)
    except ScriptError as error:
        print(f"run_lessons: error: {error}", file=sys.stderr)
        return 1
    failed, differ = [], []
    twins = twin_lessons()
    for crate in crates:
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
    for lesson in lessons:
        if lesson not in crates:
            print()
            print(lesson_title(lesson))
            failed += run_without_crate(lesson, wanted)
    if failed:
        print("run_lessons: error: these lessons failed: {}".format(", ".join(failed)), file=sys.stderr)
        return 1
    if differ:
        print("run_lessons: error: the bindings differ in: {}".format(", ".join(differ)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
