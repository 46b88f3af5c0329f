"""Lesson 17: lesson 5's crate shipped as a wheel, tested as a user installs it.

The `shipped` fixture builds one wheel per run and binding. It copies the
workspace's sources to a scratch folder and there runs the shipping lesson's README
sessions, as a reader would from the workspace root: the blocks under "The
same in PyO3" in the PyO3 session, the others in the rust-cpython session.
So the README's commands are what builds, installs and checks the wheel;
the tests read what they left (the wheel, the environment it is installed
in) and try what a reader would try next. All of it is marked `wheel`:
`-m "not wheel"` skips it.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import BINDING, EXT_SUFFIX, IN_MATRIX, PYO3, ROOT, announced, copy_sources, once_per_run

from lessons import packaged_lessons
from python_matrix import find_interpreters, pyenv_root
from readme_sessions import SHIPPING_VENV, differences, for_this_python, lesson_sessions, run_session, shell_environment
from workspace import BINDING_VARIABLE, INSTALLED_VARIABLE, venv_python

pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(
        sys.version_info < (3, 9),
        reason="absent (packager): setuptools-rust 1.13 and PyO3 0.30 need Python 3.9 or newer",
    ),
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or sysconfig.get_platform() != "linux-x86_64",
        reason="the lesson shows x86-64 Linux wheels and auditwheel",
    ),
]

# The shipping lesson's README ships one crate (scripts/check_lessons.py
# keeps the table so).
(LESSON,) = packaged_lessons()
DISTRIBUTION = "lessons-borrowed"
# Where each binding's project is: its pyproject.toml, its Rust source.
PROJECT = {"cpython": LESSON, "pyo3": f"{LESSON}/pyo3"}[BINDING]
WHEEL_DIR = {"cpython": "dist", "pyo3": "dist/pyo3"}[BINDING]
TAG = "cp{}{}".format(*sys.version_info[:2])
# A cold release build with link-time optimisation, pip's own environments
# and the tools' installs: minutes on a slow machine, never an hour.
BUILD_TIMEOUT = 1200


class Shipped:
    """What the shipping lesson's commands left in the scratch folder."""

    def __init__(self, scratch, env, ran):
        self.scratch = scratch
        self.env = env
        self.ran = ran
        self.python = venv_python(scratch / SHIPPING_VENV)
        (self.wheel,) = (scratch / WHEEL_DIR).glob("*.whl")

    def site_packages(self, python=None):
        return Path(run([python or self.python, "-c", "import site; print(site.getsitepackages()[0])"]).strip())


def run(command, cwd=None, env=None, check=True):
    """Run a command; return its output (errors included). pip's own
    commands, which may build a wheel, say when they start and end."""
    words = [str(part) for part in command]
    slow = words[1:3] == ["-m", "pip"] or Path(words[0]).name == "pip"
    with announced(f"`{' '.join(words[2:5])} ...`") if slow else contextlib.nullcontext():
        result = subprocess.run(
            words,
            cwd=str(cwd) if cwd else None,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
    if check:
        assert result.returncode == 0, f"`{' '.join(map(str, command))}` failed:\n{result.stdout}"
        return result.stdout
    return result


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    scratch = copy_sources(tmp_path_factory.mktemp("shipping") / "lessons")
    env = shell_environment(scratch, BINDING)
    ran = []
    for index, block in enumerate(lesson_sessions("shipping", BINDING, every_block=not IN_MATRIX), start=1):
        with announced(f"shipping ({BINDING}): the README's command block {index}"):
            ran += run_session(for_this_python(block), scratch, env, timeout=BUILD_TIMEOUT)
    return Shipped(scratch, env, ran)


def test_readme_commands_print_what_the_readme_shows(shipped):
    problems = differences(shipped.ran, "shipping/README.md")
    assert not problems, problems[0]


def test_the_wheel_is_tagged_for_this_python_and_platform_only(shipped):
    version = re.search(r'^version = "(.*)"', (ROOT / "Cargo.toml").read_text(encoding="utf-8"), re.M).group(1)
    assert shipped.wheel.name == f"lessons_borrowed-{version}-{TAG}-{TAG}-linux_x86_64.whl"
    with zipfile.ZipFile(str(shipped.wheel)) as wheel:
        info = wheel.read(f"lessons_borrowed-{version}.dist-info/WHEEL").decode()
        metadata = wheel.read(f"lessons_borrowed-{version}.dist-info/METADATA").decode()
    assert f"Tag: {TAG}-{TAG}-linux_x86_64\n" in info
    assert "Root-Is-Purelib: false\n" in info
    assert "abi3" not in info
    assert f"\nVersion: {version}\n" in metadata
    assert "\nRequires-Python: >=3.9\n" in metadata


def test_the_wheel_holds_the_package_its_stub_and_the_marker(shipped):
    package = ROOT / LESSON / "python" / LESSON
    with zipfile.ZipFile(str(shipped.wheel)) as wheel:
        files = {name for name in wheel.namelist() if ".dist-info/" not in name and not name.endswith("/")}
        assert files == {
            f"{LESSON}/__init__.py",
            f"{LESSON}/{LESSON}{EXT_SUFFIX}",
            f"{LESSON}/{LESSON}.pyi",
            f"{LESSON}/py.typed",
        }
        for name in ("__init__.py", f"{LESSON}.pyi", "py.typed"):
            assert wheel.read(f"{LESSON}/{name}") == (package / name).read_bytes()
        # maturin adds a software bill of materials; setuptools-rust does not.
        boms = [name for name in wheel.namelist() if ".dist-info/sboms/" in name]
        assert bool(boms) == PYO3


def test_the_installed_module_imports_from_any_directory(shipped):
    site_packages = shipped.site_packages()
    out = run([shipped.python, "-c", "import borrowed; print(borrowed.__file__, borrowed.HashSet.__module__)"], cwd="/")
    assert out == f"{site_packages / LESSON / '__init__.py'} borrowed.borrowed\n"


def test_lesson_5s_tests_pass_against_the_installed_module(shipped):
    """Lesson 5's own tests, importing `target.debug.borrowed` from the
    environment's site-packages (see InstalledFinder in workspace.py)."""
    env = dict(os.environ, **{INSTALLED_VARIABLE: str(shipped.site_packages()), BINDING_VARIABLE: BINDING})
    command = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests/test_borrowed.py"]
    result = run(command, cwd=ROOT, env=env, check=False)
    assert result.returncode == 0, result.stdout
    assert "::test_the_module_is_the_one_this_session_imports PASSED" in result.stdout, result.stdout


def test_stubtest_catches_a_stub_that_promises_too_much(shipped, tmp_path):
    """The README's "Try this": a method the module lacks, in a copy of the stub."""
    stubs = tmp_path / "stubs" / LESSON
    shutil.copytree(str(ROOT / LESSON / "python" / LESSON), str(stubs))
    stub = stubs / f"{LESSON}.pyi"
    text = stub.read_text(encoding="utf-8")
    promise = "    def add(self, value: int) -> None: ...\n"
    stub.write_text(text.replace(promise, promise + "    def discard(self, value: int) -> None: ...\n"), "utf-8")
    env = dict(shipped.env, MYPYPATH=str(tmp_path / "stubs"))
    result = run([shipped.python, "-m", "mypy.stubtest", LESSON], cwd=tmp_path, env=env, check=False)
    assert result.returncode == 1, result.stdout
    assert f"error: {LESSON}.{LESSON}.HashSet.discard is not present at runtime" in result.stdout


def output_of(shipped, command_start):
    """What the README's command starting so printed in this run."""
    (output,) = [output for command, _shown, output in shipped.ran if command.startswith(command_start)]
    return output


def test_auditwheel_names_a_manylinux_policy_and_repair_applies_it(shipped):
    """The README's commands ran `auditwheel show` and (for the lesson's
    wheel) `repair`, installed the repaired wheel in a new environment and
    ran run.py there; here, the policies they printed agree."""
    shown = output_of(shipped, ".venvs/shipping/bin/auditwheel show")
    policy = re.search(r'the following platform tag: "(manylinux_2_\d+_x86_64)"', shown).group(1)
    if PYO3:
        return
    (repaired,) = (shipped.scratch / "dist" / "manylinux").glob("*.whl")
    assert repaired.name == shipped.wheel.name.replace("linux_x86_64", policy)
    assert (shipped.scratch / ".venvs" / "manylinux" / "bin" / "python").exists()


def site_listing(site_packages):
    """Every file under site-packages, relative to it, without the Python
    caches of pip's own modules (written when pip runs)."""
    return {
        path.relative_to(site_packages)
        for path in site_packages.rglob("*")
        if path.is_file() and path.parts[len(site_packages.parts)] not in ("pip", "_distutils_hack")
    }


@once_per_run
def test_reinstalling_replaces_the_files_and_uninstalling_leaves_nothing(shipped, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    python = venv_python(venv)
    site_packages = shipped.site_packages(python)
    before = site_listing(site_packages)
    run([python, "-m", "pip", "install", "--quiet", shipped.wheel], env=shipped.env)
    installed = site_listing(site_packages)
    added = {path.parts[0] for path in installed - before}
    assert added == {LESSON, "lessons_borrowed-0.1.0.dist-info"}
    # Again, from the source folder, as after an edit: pip builds and replaces.
    out = run([python, "-m", "pip", "install", f"./{PROJECT}"], cwd=shipped.scratch, env=shipped.env)
    assert f"Found existing installation: {DISTRIBUTION} 0.1.0" in out
    assert f"Successfully uninstalled {DISTRIBUTION}-0.1.0" in out
    assert site_listing(site_packages) == installed
    out = run([python, "-m", "pip", "uninstall", "--yes", DISTRIBUTION], env=shipped.env)
    assert f"Successfully uninstalled {DISTRIBUTION}-0.1.0" in out
    assert site_listing(site_packages) == before
    result = run([python, "-c", "import borrowed"], cwd="/", check=False)
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'borrowed'" in result.stdout


@once_per_run
def test_a_build_without_cargo_fails_with_the_packagers_message(shipped, tmp_path):
    # Everything but the Rust toolchain (rustup's folder is ~/.cargo/bin).
    path = os.pathsep.join(
        folder for folder in shipped.env["PATH"].split(os.pathsep) if not (Path(folder) / "cargo").exists()
    )
    # maturin would download a toolchain of its own instead of failing; this
    # variable asks it not to (the lesson says so).
    env = dict(shipped.env, PATH=path, MATURIN_NO_INSTALL_RUST="1")
    command = [shipped.python, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", tmp_path, f"./{PROJECT}"]
    result = run(command, cwd=shipped.scratch, env=env, check=False)
    assert result.returncode != 0
    expected = "Cargo, the Rust package manager, is not installed" if PYO3 else "error: can't find Rust compiler"
    assert expected in result.stdout
    assert list(tmp_path.glob("*.whl")) == []


@once_per_run
def test_a_compile_error_reaches_pips_output(shipped, tmp_path):
    scratch = copy_sources(tmp_path / "lessons")
    source = scratch / PROJECT / "src" / "lib.rs"
    source.write_text(source.read_text(encoding="utf-8") + 'fn broken() -> u32 {\n    "not a number"\n}\n', "utf-8")
    command = [shipped.python, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", tmp_path / "out", f"./{PROJECT}"]
    result = run(command, cwd=scratch, env=shipped.env, check=False)
    assert result.returncode != 0
    assert "error[E0308]: mismatched types" in result.stdout
    assert "src/lib.rs" in result.stdout
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").glob("*.whl")) == []


@once_per_run
def test_a_module_name_the_library_lacks_builds_but_cannot_import(shipped, tmp_path):
    """The README's pitfall: the packager does not refuse a `target` (or
    maturin `module-name`) whose last part the library does not define."""
    scratch = copy_sources(tmp_path / "lessons")
    # First the wheel as it should be, as a reader has built it before the rename.
    run(
        [shipped.python, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", tmp_path / "before", f"./{PROJECT}"],
        cwd=scratch,
        env=shipped.env,
    )
    pyproject = scratch / PROJECT / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    named = re.compile(r'^(target|module-name) = "borrowed\.borrowed"$', re.M)
    assert named.search(text)
    pyproject.write_text(named.sub(r'\1 = "borrowed.sets"', text), "utf-8")
    init = scratch / LESSON / "python" / LESSON / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8").replace("from .borrowed import", "from .sets import"), "utf-8")
    out = tmp_path / "out"
    command = [shipped.python, "-m", "pip", "wheel", "-v", "--no-deps", "--wheel-dir", out, f"./{PROJECT}"]
    build = run(command, cwd=scratch, env=shipped.env)
    warning = "Couldn't find the symbol `PyInit_sets`"
    assert (warning in build) == PYO3
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(str(wheel)) as archive:
        modules = {name for name in archive.namelist() if name.endswith(EXT_SUFFIX)}
        archive.extractall(str(tmp_path / "unpacked"))
    # The pitfall "setuptools builds in the source tree": its build/ folder
    # still holds the module from before the rename, and the wheel gets it.
    stale = {f"{LESSON}/{LESSON}{EXT_SUFFIX}"}
    assert modules == {f"{LESSON}/sets{EXT_SUFFIX}"} | (set() if PYO3 else stale)
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "unpacked"))
    result = run([sys.executable, "-c", "import borrowed"], cwd="/", env=env, check=False)
    assert result.returncode == 1
    assert "ImportError: dynamic module does not define module export function (PyInit_sets)" in result.stdout


@once_per_run
@pytest.mark.skipif(PYO3, reason="the warning is about setuptools-rust's py_limited_api, for the lesson's wheel")
@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the README's example is a module built for 3.11")
def test_a_module_labelled_abi3_breaks_in_other_versions(shipped, tmp_path):
    """The README's warning against `py_limited_api`: the module built for
    3.11, named as setuptools names an abi3 one, in 3.12 and in 3.10."""
    others = find_interpreters([(3, 10), (3, 12)], pyenv=pyenv_root())
    if len(others) < 2:
        pytest.skip("needs Python 3.10 and 3.12 on this machine")
    package = tmp_path / LESSON
    package.mkdir()
    with zipfile.ZipFile(str(shipped.wheel)) as wheel:
        (package / f"{LESSON}.abi3.so").write_bytes(wheel.read(f"{LESSON}/{LESSON}{EXT_SUFFIX}"))
        (package / "__init__.py").write_bytes(wheel.read(f"{LESSON}/__init__.py"))
    code = "import borrowed; s = borrowed.HashSet(); s.add(7); print(list(s))"
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    newer = run([others[(3, 12)], "-c", code], cwd="/", env=env, check=False)
    assert newer.returncode == 1
    assert "undefined symbol: _PyUnicode_Ready" in newer.stdout
    older = run([others[(3, 10)], "-c", code], cwd="/", env=env)
    assert older == "[7]\n"
