"""Run the whole test suite on every CPython 3.7-3.13 this machine has.

Used by `python3 scripts/test.py --all-pythons`. For each interpreter it
builds the workspace into its own Cargo target directory (`target/py3X/`),
so that switching versions never rebuilds the others and python3-sys never
keeps a stale configuration. It copies the modules into `target/debug/`
under that interpreter's extension suffix, so that every version's modules
sit side by side, and it runs pytest from a per-version venv
(`.venvs/py3X/`), once per binding that builds for that version, and from
3.9 on once more for the shipping lesson's wheel tests: three runs at a time, across
versions (each one's output in `target/py3X/pytest-<run>.log`).
"""

import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from workspace import (
    BINDING_VARIABLE,
    BINDINGS,
    PYO3_OLDEST,
    ROOT,
    SUPPORTED,
    ScriptError,
    bindings_for,
    cargo_build,
    dotted,
    ensure_venv,
    markdown_table,
)

# The versions the matrix looks for: the supported range and one past it,
# which is built and tested as a smoke test but never fails the run.
MATRIX = [(3, minor) for minor in range(SUPPORTED[0][1], SUPPORTED[1][1] + 2)]

MATRIX_HYPOTHESIS_EXAMPLES = 300
MATRIX_LEAK_CYCLES = 100_000

PROBE = "import sys; print(sys.version_info[0], sys.version_info[1], sys.executable)"


def probe(candidate):
    """(version, real executable path) of an interpreter, or None if it does
    not run (a pyenv shim for a version that is not selected, say)."""
    try:
        result = subprocess.run(
            [str(candidate), "-c", PROBE],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = result.stdout.split(maxsplit=2)
    if result.returncode != 0 or len(parts) != 3:
        return None
    return (int(parts[0]), int(parts[1])), Path(parts[2].strip())


def pyenv_root():
    """Where pyenv keeps its Pythons: $PYENV_ROOT, `pyenv root`, or ~/.pyenv;
    None where there is no pyenv."""
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    pyenv = shutil.which("pyenv")
    if pyenv:
        result = subprocess.run([pyenv, "root"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if result.returncode == 0 and result.stdout.strip():
            return Path(result.stdout.strip())
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def candidates(version, path_dirs=None, pyenv=None):
    """Places an interpreter for `version` may be: each pyenv installation's
    `bin/python3.X`, then `python3.X` on PATH unless it is a pyenv shim (a
    script that only runs one of those installations, when it is selected)."""
    name = f"python{dotted(version)}"
    found = []
    if pyenv is not None:
        found.extend(sorted((pyenv / "versions").glob("*/bin/" + name)))
    on_path = shutil.which(name, path=path_dirs)
    if on_path and not (pyenv is not None and Path(on_path).parent == pyenv / "shims"):
        found.append(Path(on_path))
    return found


def find_interpreters(versions=MATRIX, path_dirs=None, pyenv=None, probe=probe):
    """{version: interpreter} for each version that has one that runs."""
    found = {}
    for version in versions:
        for candidate in candidates(version, path_dirs, pyenv):
            probed = probe(candidate)
            if probed is not None and probed[0] == version:
                found[version] = probed[1]
                break
    return found


def tag(version):
    return "py{}{}".format(*version)


# The shipping lesson's tests (marked `wheel`) build and test the lesson's wheel, with
# setuptools-rust, which needs 3.9 or newer. They are a pytest run of their
# own beside the two bindings' (mostly pip, and a single-threaded link).
WHEEL = "wheel"
WHEEL_OLDEST = (3, 9)
# How many pytest runs go on at once, across versions: every version's
# build is done first, so the runs are independent, and three keep two
# cores busy while one run waits on a child process.
SIDE_BY_SIDE = 3


class Run:
    """One pytest run: one version, one binding."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.tests_ran = False
        self.problem = ""

    @property
    def ok(self):
        return self.tests_ran and self.failed == 0 and not self.problem

    def cell(self):
        if not self.tests_ran:
            return self.problem or "-"
        text = f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"
        return text + (f" ({self.problem})" if self.problem else "")


class Outcome:
    """What happened to one version, for the summary table."""

    def __init__(self, version, interpreter=None, bindings=BINDINGS):
        self.version = version
        self.interpreter = interpreter
        self.built = None
        self.runs = {binding: Run() for binding in bindings if binding in bindings_for(version)}
        if "cpython" in self.runs and version >= WHEEL_OLDEST:
            self.runs[WHEEL] = Run()
        self.seconds = 0.0
        self.run_seconds = 0.0
        self.problem = ""

    def supported(self, binding="cpython"):
        """rust-cpython (and its wheel) supports 3.7-3.12 (3.13 is a smoke
        test); PyO3 0.30 every version it builds for."""
        return SUPPORTED[0] <= self.version <= SUPPORTED[1] if binding in ("cpython", WHEEL) else True

    def ok(self, binding=None):
        """Built, and every run (or the one named) passed."""
        runs = [self.runs[binding]] if binding else list(self.runs.values())
        return bool(self.built and not self.problem and runs and all(run.ok for run in runs))

    def status(self):
        if self.interpreter is None:
            return "absent"
        if not self.built or self.problem:
            verdict = "FAILED"
        else:
            failed = [b for b in self.runs if not self.ok(b) and self.supported(b)]
            verdict = "FAILED" if failed else "passed"
        smoke = [b for b in self.runs if not self.supported(b)]
        if smoke:
            smoke_verdicts = ", ".join(f"{b} {'passed' if self.ok(b) else 'failed'}" for b in smoke)
            verdict += f"; unsupported (smoke): {smoke_verdicts}"
        return verdict

    def failed(self):
        """Did a supported binding fail on this version?"""
        if self.interpreter is None:
            return False
        return bool(not self.built or self.problem or any(not self.ok(b) for b in self.runs if self.supported(b)))


def build_and_copy(outcome):
    """Build for one interpreter in its own target dir; copy its modules."""
    target_dir = ROOT / "target" / tag(outcome.version)
    cargo_build(outcome.interpreter, target_dir=target_dir, quiet=True)
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
    copy = subprocess.run([str(outcome.interpreter), str(ROOT / "scripts" / "copy_libs.py")], env=env)
    if copy.returncode != 0:
        raise ScriptError(f"copying the modules for Python {dotted(outcome.version)} failed")


def junit_counts(path):
    """(passed, failed, skipped) from a pytest JUnit XML report."""
    root = ElementTree.parse(str(path)).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = failures = skipped = 0
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failures += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return tests - failures - skipped, failures, skipped


def start_suite(outcome, name, python, pytest_args):
    """Start pytest for one version and one binding (or the wheel's tests);
    its output goes to a log beside the report. Returns the running process."""
    target_dir = ROOT / "target" / tag(outcome.version)
    report, log = suite_files(outcome, name)
    binding, selection = ("cpython", WHEEL) if name == WHEEL else (name, f"not {WHEEL}")
    for stale in (report, log):
        if stale.exists():
            stale.unlink()
    env = dict(
        os.environ,
        LESSONS_BUILD_PYTHON=str(outcome.interpreter),
        CARGO_TARGET_DIR=str(target_dir),
        **{BINDING_VARIABLE: binding},
    )
    # The differential and leak tests run their full budget in the main
    # test run; here, unless told otherwise, a smaller one checks each version.
    env.setdefault("LESSONS_HYPOTHESIS_EXAMPLES", str(MATRIX_HYPOTHESIS_EXAMPLES))
    env.setdefault("LESSONS_LEAK_CYCLES", str(MATRIX_LEAK_CYCLES))
    # Slow tests that are the same on every version run in the main run only.
    env["LESSONS_IN_MATRIX"] = "1"
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", str(report)]
    command += ["-m", selection, *pytest_args]
    with open(str(log), "w") as output:
        return subprocess.Popen(command, cwd=str(ROOT), env=env, stdout=output, stderr=subprocess.STDOUT)


def suite_files(outcome, binding):
    """The JUnit report and the output log of one version's run of one binding."""
    target_dir = ROOT / "target" / tag(outcome.version)
    return target_dir / f"junit-{binding}.xml", target_dir / f"pytest-{binding}.log"


def finish_suite(outcome, binding, returncode):
    """Read one finished run's report; print its summary (and, if it failed,
    the end of its output)."""
    run = outcome.runs[binding]
    report, log = suite_files(outcome, binding)
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    print(f"\n== Python {dotted(outcome.version)}, {binding}: {lines[-1] if lines else 'no output'}")
    if returncode != 0:
        print("\n".join(lines[-60:]))
        print(f"(the whole output: {log.relative_to(ROOT)})", flush=True)
    if not report.exists():
        run.problem = f"pytest exited with {returncode} and wrote no report"
        return
    run.tests_ran = True
    run.passed, run.failed, run.skipped = junit_counts(report)
    if returncode != 0 and run.failed == 0:
        run.problem = f"pytest exited with {returncode}"


def summary_table(outcomes, bindings=BINDINGS):
    header = ["Python", "interpreter", "built", *bindings, WHEEL, "time", "result"]
    rows = [header]
    for o in outcomes:
        found = o.interpreter is not None
        cells = []
        for name in (*bindings, WHEEL):
            if name in BINDINGS and name not in bindings_for(o.version):
                cells.append(f"- (needs {dotted(PYO3_OLDEST)}+)")
            elif name == WHEEL and o.version < WHEEL_OLDEST:
                cells.append("absent (packager)")
            elif not found or name not in o.runs:
                cells.append("-")
            else:
                cells.append(o.runs[name].cell())
        rows.append(
            [
                dotted(o.version),
                str(o.interpreter) if found else "-",
                ("yes" if o.built else "no") if found else "-",
                *cells,
                f"{o.seconds + o.run_seconds:.0f} s" if found else "-",
                o.status() + (f" ({o.problem})" if o.problem else ""),
            ]
        )
    return markdown_table(rows)


def run_side_by_side(queue, pytest_args, slots=SIDE_BY_SIDE, poll=0.5):
    """Run the queued pytest runs, `slots` at a time, in order; each
    version's time grows by its slowest run."""
    queue = list(queue)
    running = {}
    while queue or running:
        while queue and len(running) < slots:
            outcome, name, python = queue.pop(0)
            print(f"\n== Python {dotted(outcome.version)}: pytest, {name} (started)", flush=True)
            running[(outcome, name)] = (start_suite(outcome, name, python, pytest_args), time.monotonic())
        time.sleep(poll)
        for (outcome, name), (process, began) in list(running.items()):
            if process.poll() is not None:
                del running[(outcome, name)]
                finish_suite(outcome, name, process.returncode)
                outcome.run_seconds = max(outcome.run_seconds, time.monotonic() - began)


def run_matrix(pytest_args=(), bindings=BINDINGS):
    """Build, copy and test every version found; print the summary table.
    Returns the exit code: non-zero if a supported version failed."""
    started = time.monotonic()
    interpreters = find_interpreters(pyenv=pyenv_root())
    # The interpreter running the matrix is always part of it.
    interpreters.setdefault(tuple(sys.version_info[:2]), Path(sys.executable))
    outcomes = [Outcome(version, interpreters.get(version), bindings) for version in MATRIX]
    present = [o for o in outcomes if o.interpreter is not None]
    # Build and copy every version first, so that each test run sees all
    # versions' modules side by side in target/debug/.
    for outcome in present:
        print(f"\n== Python {dotted(outcome.version)}: build ({outcome.interpreter})", flush=True)
        began = time.monotonic()
        try:
            build_and_copy(outcome)
            outcome.built = True
        except ScriptError as error:
            outcome.built = False
            outcome.problem = str(error)
        outcome.seconds += time.monotonic() - began
    queue = []
    for outcome in present:
        if not outcome.built:
            continue
        began = time.monotonic()
        try:
            python = ensure_venv(outcome.interpreter, ROOT / ".venvs" / tag(outcome.version))
        except ScriptError as error:
            outcome.problem = str(error)
            continue
        outcome.seconds += time.monotonic() - began
        # The wheel's run is the longest: it starts first.
        queue += [(outcome, name, python) for name in sorted(outcome.runs, key=lambda name: name != WHEEL)]
    run_side_by_side(queue, list(pytest_args))
    print("\n" + summary_table(outcomes, bindings))
    print(f"total: {time.monotonic() - started:.0f} s")
    failed = [dotted(o.version) for o in present if o.failed()]
    if failed:
        print("test: error: supported Python versions failed: {}".format(", ".join(failed)), file=sys.stderr)
        return 1
    return 0
