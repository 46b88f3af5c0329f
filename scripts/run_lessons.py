"""Build every lesson for this Python, copy the modules, run each lesson.

Usage: python3 scripts/run_lessons.py
"""

import subprocess
import sys

from copy_libs import copy_lessons
from workspace import ROOT, ArgumentParser, ScriptError, cargo_build, lesson_crates, lesson_title


def main(argv=None):
    ArgumentParser(
        description="Build the workspace for the Python running this script, copy the "
        "modules into target/debug/, and run each lesson's run.py in order."
    ).parse_args(argv)
    try:
        cargo_build(sys.executable)
        copy_lessons(quiet=True)
    except ScriptError as error:
        print(f"run_lessons: error: {error}", file=sys.stderr)
        return 1
    failed = []
    for crate in lesson_crates():
        print()
        print(lesson_title(crate))
        print(f"$ python3 -m {crate}.run", flush=True)
        if subprocess.run([sys.executable, "-m", crate + ".run"], cwd=str(ROOT)).returncode != 0:
            failed.append(crate)
    if failed:
        print("run_lessons: error: these lessons failed: {}".format(", ".join(failed)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
