"""Several Python versions on one machine: discovery, the matrix report, and
the point of extension-suffix naming (each interpreter loads its own build)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXT_SUFFIX, MODULE_DIR, ROOT, binding_independent

import python_matrix
from python_matrix import (
    Outcome,
    candidates,
    find_interpreters,
    junit_counts,
    summary_table,
)
from workspace import support_warning

# The scripts and the version matrix are the same whichever binding is imported.
pytestmark = binding_independent

IMPORT_DOCSTRING = (
    "import sys; sys.path.insert(0, sys.argv[1]); from target.debug import docstring; print(docstring.__file__)"
)


def fake_python(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    path.chmod(0o755)
    return path


def test_candidates_come_from_pyenv_then_path(tmp_path):
    on_path = fake_python(tmp_path / "bin" / "python3.8")
    pyenv = tmp_path / "pyenv"
    in_pyenv = fake_python(pyenv / "versions" / "3.8.18" / "bin" / "python3.8")
    fake_python(pyenv / "versions" / "3.9.18" / "bin" / "python3.9")
    assert candidates((3, 8), path_dirs=str(tmp_path / "bin"), pyenv=pyenv) == [in_pyenv, on_path]


def test_pyenv_shims_on_path_are_not_candidates(tmp_path):
    pyenv = tmp_path / "pyenv"
    shim = fake_python(pyenv / "shims" / "python3.8")
    assert candidates((3, 8), path_dirs=str(shim.parent), pyenv=pyenv) == []
    assert candidates((3, 8), path_dirs=str(shim.parent), pyenv=None) == [shim]


def test_find_interpreters_skips_candidates_that_do_not_run(tmp_path):
    pyenv = tmp_path / "pyenv"
    broken = fake_python(pyenv / "versions" / "3.8.18" / "bin" / "python3.8")
    working = fake_python(tmp_path / "bin" / "python3.8")
    liar = fake_python(pyenv / "versions" / "3.9.1" / "bin" / "python3.9")
    answers = {broken: None, working: ((3, 8), Path("/real/python3.8")), liar: ((3, 10), Path("/real/python3.10"))}
    found = find_interpreters(
        versions=[(3, 8), (3, 9), (3, 10)], path_dirs=str(tmp_path / "bin"), pyenv=pyenv, probe=answers.get
    )
    assert found == {(3, 8): Path("/real/python3.8")}


def test_find_interpreters_runs_each_candidate_to_learn_its_version(tmp_path):
    version = tuple(sys.version_info[:2])
    link = tmp_path / "bin" / "python{}.{}".format(*version)
    link.parent.mkdir()
    link.symlink_to(sys.executable)
    found = find_interpreters(versions=[version], path_dirs=str(link.parent), pyenv=None)
    assert list(found) == [version]
    reported = subprocess.run(
        [str(found[version]), "-c", "import sys; print(sys.version_info[:2])"], stdout=subprocess.PIPE, text=True
    )
    assert reported.stdout.strip() == str(version)


def test_matrix_covers_the_supported_range_and_one_newer_version():
    assert python_matrix.MATRIX == [(3, 7), (3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13)]


@pytest.mark.parametrize(
    ("version", "warned"), [((2, 7), True), ((3, 6), True), ((3, 7), False), ((3, 12), False), ((3, 13), True)]
)
def test_builds_outside_the_supported_range_get_one_warning_line(version, warned):
    warning = support_warning(version)
    if warned:
        assert warning.startswith(
            "warning: Python {}.{} is not supported by rust-cpython 0.7 upstream".format(*version)
        )
        assert "\n" not in warning
    else:
        assert warning is None


def test_junit_counts_reads_passed_failed_and_skipped(tmp_path):
    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest" tests="10" failures="1" errors="1" skipped="3"/></testsuites>'
    )
    assert junit_counts(report) == (5, 2, 3)


def ran(outcome, name, passed, failed=0, skipped=0):
    run = outcome.runs[name]
    run.tests_ran, run.passed, run.failed, run.skipped = True, passed, failed, skipped


def test_summary_table_has_a_column_per_binding_and_judges_each_by_its_support():
    absent = Outcome((3, 7))
    old = Outcome((3, 8), Path("/py/3.8"))  # no PyO3 twins before 3.9
    old.built, old.seconds = True, 31.4
    ran(old, "cpython", 240, skipped=2)
    failed = Outcome((3, 9), Path("/py/3.9"))
    failed.built = True
    ran(failed, "cpython", 240)
    ran(failed, "pyo3", 200, failed=3)
    ran(failed, "wheel", 9)
    smoke = Outcome((3, 13), Path("/py/3.13"))  # rust-cpython: smoke; PyO3: supported
    smoke.built = True
    ran(smoke, "cpython", 238, failed=2)
    ran(smoke, "pyo3", 240)
    ran(smoke, "wheel", 9)
    broken = Outcome((3, 12), Path("/py/3.12"))
    broken.built, broken.problem = False, "build failed"
    table = summary_table([absent, old, failed, smoke, broken])
    lines = table.splitlines()
    assert [cell.strip() for cell in lines[0].split("|")[1:-1]] == [
        "Python",
        "interpreter",
        "built",
        "cpython",
        "pyo3",
        "wheel",
        "time",
        "result",
    ]
    assert lines[2].startswith("| 3.7 ")
    assert "absent" in lines[2]
    assert "| 240 passed, 0 failed, 2 skipped " in lines[3]
    assert "| - (needs 3.9+) " in lines[3]
    assert "| 31 s " in lines[3]
    assert "| absent (packager) " in lines[3]
    assert "| 9 passed, 0 failed, 0 skipped " in lines[4]
    assert "wheel" not in old.runs
    assert list(failed.runs) == ["cpython", "pyo3", "wheel"]
    assert lines[3].split("|")[-2].strip() == "passed"
    assert lines[4].split("|")[-2].strip() == "FAILED"
    assert lines[5].split("|")[-2].strip() == "passed; unsupported (smoke): cpython failed, wheel passed"
    assert "FAILED (build failed)" in lines[6]
    assert [o.failed() for o in (absent, old, failed, smoke, broken)] == [False, False, True, False, True]


def test_runs_go_side_by_side_but_never_more_than_the_slots(monkeypatch):
    """run_side_by_side starts the queued runs in order, `slots` at a time,
    and counts each version's slowest run in its time."""
    started, finished = [], []

    def start(outcome, name, python, pytest_args):
        started.append((outcome.version, name, len(started) - len(finished)))
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])

    monkeypatch.setattr(python_matrix, "start_suite", start)
    monkeypatch.setattr(python_matrix, "finish_suite", lambda o, name, code: finished.append((o.version, name, code)))
    outcomes = [Outcome((3, minor), Path(f"/py/3.{minor}")) for minor in (9, 10)]
    queue = [(o, name, None) for o in outcomes for name in o.runs]
    python_matrix.run_side_by_side(queue, [], slots=2, poll=0.05)
    assert [(version, name) for version, name, _ in started] == [(o.version, name) for o, name, _ in queue]
    assert max(running for _, _, running in started) == 1  # runs already going when one starts
    assert sorted(finished) == sorted((o.version, name, 0) for o, name, _ in queue)
    assert all(0.3 <= o.run_seconds < 5 for o in outcomes)


# The point of EXT_SUFFIX naming, on real builds. `scripts/test.py
# --all-pythons` builds every version's modules into target/debug/ before it
# runs this suite with each of them.


def other_interpreters_with_modules(module_dir, module="docstring"):
    """Interpreters (other than this one) whose modules are in `module_dir`:
    {version: (interpreter, EXT_SUFFIX)}."""
    found = {}
    for version, interpreter in find_interpreters(pyenv=python_matrix.pyenv_root()).items():
        if version == tuple(sys.version_info[:2]):
            continue
        result = subprocess.run(
            [str(interpreter), "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
            stdout=subprocess.PIPE,
            text=True,
        )
        suffix = result.stdout.strip()
        if result.returncode == 0 and (module_dir / (module + suffix)).is_file():
            found[version] = (interpreter, suffix)
    return found


OTHERS = other_interpreters_with_modules(MODULE_DIR)


def test_this_interpreter_imports_its_own_build():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_DOCSTRING, str(ROOT)], stdout=subprocess.PIPE, text=True, check=True
    )
    assert result.stdout.strip() == str(MODULE_DIR / ("docstring" + EXT_SUFFIX))


@pytest.mark.skipif(not OTHERS, reason="no other Python's modules in target/debug (run scripts/test.py --all-pythons)")
@pytest.mark.parametrize("version", sorted(OTHERS), ids=["{}.{}".format(*v) for v in sorted(OTHERS)])
def test_each_interpreter_imports_its_own_build_side_by_side(version):
    interpreter, suffix = OTHERS[version]
    assert suffix != EXT_SUFFIX
    result = subprocess.run(
        [str(interpreter), "-c", IMPORT_DOCSTRING, str(ROOT)], stdout=subprocess.PIPE, text=True, check=True
    )
    assert result.stdout.strip() == str(MODULE_DIR / ("docstring" + suffix))


@pytest.mark.skipif(not OTHERS, reason="no other Python's modules in target/debug (run scripts/test.py --all-pythons)")
@pytest.mark.parametrize("version", sorted(OTHERS), ids=["{}.{}".format(*v) for v in sorted(OTHERS)])
def test_another_versions_build_is_never_loaded(tmp_path, version):
    # Alone in a folder, the other version's module is invisible to this
    # interpreter: the import fails cleanly, it is never loaded.
    _interpreter, suffix = OTHERS[version]
    shutil.copy(str(MODULE_DIR / ("docstring" + suffix)), str(tmp_path / ("docstring" + suffix)))
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import docstring", str(tmp_path)],
        cwd=str(tmp_path),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'docstring'" in result.stderr
