"""Run the test suite under valgrind's memcheck.

Used by `python3 scripts/test.py --valgrind`. Every Python process the tests
start is checked too (`--trace-children`), so the hostile-input tests run
under memcheck as well. PYTHONMALLOC=malloc makes CPython use the system
allocator, which memcheck understands. CPython itself reports a few
harmless errors under valgrind, so a run fails only on errors with a frame
inside the project's own libraries (anything loaded from `target/`).
The Hypothesis tests are left out: thousands of random sequences under a
50-times slowdown would take hours and add little to what the rest covers.
"""

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

from workspace import BINDING_VARIABLE, ROOT, ScriptError

# Memcheck's names for invalid accesses and uses of uninitialised memory.
# Leaks are left to the leak tests, which measure them directly.
MEMORY_ERRORS = {
    "InvalidRead",
    "InvalidWrite",
    "InvalidFree",
    "MismatchedFree",
    "InvalidJump",
    "InvalidMemPool",
    "UninitCondition",
    "UninitValue",
    "SyscallParam",
    "Overlap",
    "FishyValue",
}


def read_errors(report):
    """[(kind, [(object, function, file:line), ...]), ...] from one XML report.

    A process that replaces itself with a program valgrind does not trace
    (cargo, say) leaves its report unfinished; the complete `<error>`
    elements in it are still read.
    """
    text = report.read_text(encoding="utf-8", errors="replace")
    errors = []
    for match in re.finditer(r"<error>.*?</error>", text, re.S):
        error = ElementTree.fromstring(match.group(0))
        frames = []
        for frame in error.iter("frame"):
            location = ""
            if frame.findtext("file"):
                location = "{}:{}".format(frame.findtext("file"), frame.findtext("line", ""))
            frames.append((frame.findtext("obj", ""), frame.findtext("fn", ""), location))
        errors.append((error.findtext("kind", ""), frames))
    return errors


def in_project(frames, project_dir):
    return any(obj.startswith(str(project_dir)) for obj, _fn, _location in frames)


def project_errors(errors, project_dir):
    """The memory errors with a frame in the project's own libraries."""
    return [(kind, frames) for kind, frames in errors if kind in MEMORY_ERRORS and in_project(frames, project_dir)]


def run_memcheck(python, pytest_args, env):
    """Run pytest under memcheck in `env` (plus the allocator setting); return
    an exit code: non-zero on a memory error in the project's code or a failing test."""
    valgrind = shutil.which("valgrind")
    if not valgrind:
        raise ScriptError("valgrind is not installed (Debian: apt-get install valgrind)")
    # One folder per binding: each run starts from an empty one.
    reports = ROOT / "target" / "valgrind" / env.get(BINDING_VARIABLE, "cpython")
    shutil.rmtree(str(reports), ignore_errors=True)
    reports.mkdir(parents=True)
    env = dict(env, PYTHONMALLOC="malloc", LESSONS_UNDER_VALGRIND="1")
    command = [
        valgrind,
        "--tool=memcheck",
        "--leak-check=no",
        "--trace-children=yes",
        "--trace-children-skip=*/cargo,*/rustc,*/cc,*/ld,*/git,*/valgrind,*/bash,*/sh,*/pyenv*",
        "--num-callers=30",
        "--xml=yes",
        "--xml-file={}".format(reports / "memcheck.%p.xml"),
        str(python),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--ignore=tests/test_differential.py",
        # The shipping lesson's tests are pip and cargo at work; the module they install
        # is lesson 5's code, which the run checks as built in target/.
        "-m",
        "not wheel",
        *pytest_args,
    ]
    tests = subprocess.run(command, cwd=str(ROOT), env=env).returncode
    every_error = []
    files = sorted(reports.glob("memcheck.*.xml"))
    for report in files:
        every_error.extend(read_errors(report))
    ours = project_errors(every_error, ROOT / "target")
    memory_errors = [kind for kind, _frames in every_error if kind in MEMORY_ERRORS]
    print(
        f"memcheck: {len(files)} processes checked, {len(memory_errors)} memory errors reported "
        f"(leak records ignored), {len(ours)} in the project's code"
    )
    for kind, frames in ours[:10]:
        print("  " + kind)
        for obj, function, location in frames[:12]:
            print("    {} {} ({})".format(function or "?", location, os.path.basename(obj)))
    if ours:
        print(f"memcheck: error: memory errors in the project's code; reports in {reports}")
        return 1
    return tests
