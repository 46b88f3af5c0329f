"""What every script needs to know about this workspace: where it is, which
crates are lessons, where Cargo puts its output, and how to build it for one
particular Python interpreter.

Kept importable on Python 3.7, the oldest interpreter the lessons support.
"""

import argparse
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# rust-cpython 0.7.2 supports these CPython versions; others may build but
# are not supported upstream.
SUPPORTED = ((3, 7), (3, 12))

# Each lesson is written twice: with rust-cpython (the lesson) and with PyO3
# (its twin, `<lesson>/pyo3/`). PyO3 0.30 builds for Python 3.9 and newer.
BINDINGS = ("cpython", "pyo3")
PYO3_OLDEST = (3, 9)
BINDING_VARIABLE = "LESSONS_BINDING"
# A site-packages folder to import the lessons that ship as a wheel from
# (see InstalledFinder): lesson 8's tests run lesson 5's tests so.
INSTALLED_VARIABLE = "LESSONS_INSTALLED"


class ScriptError(Exception):
    """A failure a script reports as one line before exiting non-zero."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line gets one line, not usage plus error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def workspace_members(root=ROOT):
    """The `members` of the workspace Cargo.toml: lessons and their twins."""
    text = (root / "Cargo.toml").read_text(encoding="utf-8")
    match = re.search(r"^members\s*=\s*\[(.*?)\]", text, re.S | re.M)
    if not match:
        raise ScriptError("Cargo.toml has no workspace `members` list")
    return re.findall(r'"([^"]+)"', match.group(1))


def lesson_crates(root=ROOT):
    """The lesson crates, in the order of `members` in the workspace
    Cargo.toml (which is the order a reader takes them in)."""
    return [member for member in workspace_members(root) if "/" not in member]


def lesson_folders(root=ROOT):
    """Every lesson, in reading order: the lesson crates, then the lessons
    that are not crates of their own (a folder whose README is titled
    "Lesson N", such as lesson 8, which packages lesson 5's crate)."""
    crates = lesson_crates(root)
    others = [
        folder.name
        for folder in root.iterdir()
        if folder.name not in crates
        and not (folder / "Cargo.toml").exists()
        and (folder / "README.md").is_file()
        and (folder / "README.md").read_text(encoding="utf-8").startswith("# Lesson ")
    ]
    return crates + sorted(others, key=lambda name: lesson_title(name, root))


def packaged_lessons(root=ROOT):
    """The lesson crates that ship as a wheel: those with a pyproject.toml."""
    return [lesson for lesson in lesson_crates(root) if (root / lesson / "pyproject.toml").is_file()]


def twin_lessons(root=ROOT):
    """The lessons that have a PyO3 twin (a `<lesson>/pyo3` member)."""
    members = workspace_members(root)
    return [lesson for lesson in lesson_crates(root) if f"{lesson}/pyo3" in members]


def twin_package(lesson):
    """The Cargo package of a lesson's twin; its library is `<lesson>_pyo3`."""
    return f"{lesson}-pyo3"


def bindings_for(version):
    """The bindings that build for a Python version."""
    return BINDINGS if version >= PYO3_OLDEST else BINDINGS[:1]


def module_path(lesson, binding, profile="debug", root=ROOT):
    """Where the importable module of a lesson, in one binding, is copied."""
    folder = root / "target" / profile
    if binding == "pyo3":
        folder = folder / "pyo3"
    return folder / (lesson + sysconfig.get_config_var("EXT_SUFFIX"))


class TwinFinder:
    """Imports `target.<profile>.<lesson>` from the PyO3 twin's file,
    `target/<profile>/pyo3/<lesson><EXT_SUFFIX>`, instead of the lesson's.

    The twin's module has the lesson's name (its `PyInit_<lesson>`), so it
    loads under the lesson's import name and every `run.py` and test runs
    unchanged against it. Nothing else is redirected: only the names of
    lessons that have a twin folder, `<lesson>/pyo3/`.
    """

    def find_spec(self, fullname, path=None, target=None):
        parts = fullname.split(".")
        if len(parts) != 3 or parts[0] != "target" or not (ROOT / parts[2] / "pyo3").is_dir():
            return None
        location = module_path(parts[2], "pyo3", parts[1])
        if not location.is_file():
            raise ImportError(
                f"{fullname}: the PyO3 twin {location.relative_to(ROOT)} is not built for this Python "
                f"({sys.executable}); run `python3 scripts/run_lessons.py --binding pyo3`"
            )
        return importlib.util.spec_from_file_location(fullname, str(location))


class InstalledFinder:
    """Imports `target.<profile>.<lesson>`, for the lessons that ship as a
    wheel, from the package that `pip install` put in a site-packages
    folder: the Rust module `<lesson>.<lesson>` in it.

    The file is found, not imported by name: from the workspace root,
    `import borrowed` finds the lesson's folder before site-packages. So
    every test and `run.py` of the lesson runs unchanged against the
    installed module (its `__file__` says where it came from).
    """

    def __init__(self, site_packages):
        self.site_packages = site_packages

    def find_spec(self, fullname, path=None, target=None):
        parts = fullname.split(".")
        if len(parts) != 3 or parts[0] != "target" or parts[2] not in packaged_lessons():
            return None
        lesson = parts[2]
        package = importlib.machinery.PathFinder.find_spec(lesson, [self.site_packages])
        module = package and importlib.machinery.PathFinder.find_spec(lesson, package.submodule_search_locations)
        if module is None or not module.origin.endswith(sysconfig.get_config_var("EXT_SUFFIX")):
            raise ImportError(
                f"{fullname}: ${INSTALLED_VARIABLE} names {self.site_packages}, where no {lesson}.{lesson} "
                "module is installed for this Python: see lesson 8, shipping/README.md"
            )
        return importlib.util.spec_from_file_location(fullname, module.origin)


def select_binding(binding=None):
    """Make the lessons' import names load the given binding's modules, by
    default the one named in $LESSONS_BINDING (else rust-cpython's).

    The one switch between the two bindings: `LESSONS_BINDING=pyo3 python3
    -m wrapper.run` runs lesson 4's unchanged run.py against its twin.
    Returns the binding chosen.
    """
    binding = binding or os.environ.get(BINDING_VARIABLE) or "cpython"
    if binding not in BINDINGS:
        raise ScriptError(f"{BINDING_VARIABLE}={binding}: the bindings are {', '.join(BINDINGS)}")
    if binding == "pyo3" and not any(isinstance(finder, TwinFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, TwinFinder())
    if installed() and not any(isinstance(finder, InstalledFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, InstalledFinder(installed()))
    return binding


def installed():
    """The site-packages folder that $LESSONS_INSTALLED names, to import the
    lessons that ship as a wheel from (whichever binding built them), or
    None: import them from target/."""
    return os.environ.get(INSTALLED_VARIABLE) or None


def require_built_module(lesson):
    """Before `python3 -m <lesson>.run` imports `target.debug.<lesson>`:
    select the binding $LESSONS_BINDING names; if its module is not there
    for this Python, say how to build it and exit."""
    try:
        binding = select_binding()
    except ScriptError as error:
        sys.exit(f"{lesson}: {error}")
    version = tuple(sys.version_info[:2])
    if binding not in bindings_for(version):
        sys.exit(f"{lesson}: the PyO3 twins need Python {dotted(PYO3_OLDEST)} or newer, not {dotted(version)}")
    module = module_path(lesson, binding)
    if installed() and lesson in packaged_lessons():
        return
    if not module.is_file():
        sys.exit(
            f"{lesson}: {module.relative_to(ROOT)} is not built for this Python ({sys.executable}): "
            "run `python3 scripts/run_lessons.py`, or see 'Doing it by hand' in README.md"
        )


def lesson_title(crate, root=ROOT):
    """The lesson's heading: the first line of its README without the '#'."""
    readme = root / crate / "README.md"
    first = readme.read_text(encoding="utf-8").splitlines()[0]
    return first.lstrip("#").strip()


def cargo_target_dir(root=ROOT, environ=None):
    """Where Cargo writes its output: $CARGO_TARGET_DIR (relative to the
    current directory, as Cargo reads it) or `target/` in the workspace."""
    environ = os.environ if environ is None else environ
    configured = environ.get("CARGO_TARGET_DIR")
    return Path(configured).resolve() if configured else root / "target"


def profile_name(release):
    return "release" if release else "debug"


def interpreter_version(python):
    """(major, minor) of the interpreter at `python`."""
    out = subprocess.run(
        [str(python), "-c", "import sys; print(*sys.version_info[:2])"],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), int(out[1])


def dotted(version):
    """(3, 11) -> "3.11"."""
    return ".".join(str(part) for part in version)


def support_warning(version):
    """One line for an interpreter outside the supported range, else None."""
    low, high = SUPPORTED
    if low <= version <= high:
        return None
    return (
        f"warning: Python {dotted(version)} is not supported by rust-cpython 0.7 upstream "
        f"({dotted(low)}-{dotted(high)}); building anyway"
    )


def cargo_build(python=sys.executable, release=False, target_dir=None, quiet=False):
    """Build every lesson and its PyO3 twin for `python`.

    PYTHON_SYS_EXECUTABLE makes python3-sys read that interpreter's version
    and flags, and PYO3_PYTHON does the same for PyO3; without them, each
    uses whatever `python3` is on PATH, which may not be the interpreter
    that will import the modules.
    """
    version = interpreter_version(python)
    warning = support_warning(version)
    if warning:
        print(warning, file=sys.stderr)
    # Both bindings' build scripts read their interpreter from the
    # environment; both are pinned to the same one.
    env = dict(os.environ, PYTHON_SYS_EXECUTABLE=str(python), PYO3_PYTHON=str(python))
    if target_dir is not None:
        env["CARGO_TARGET_DIR"] = str(target_dir)
    command = ["cargo", "build", "--workspace"]
    if "pyo3" not in bindings_for(version):
        print(
            f"note: PyO3 0.30 needs Python {dotted(PYO3_OLDEST)} or newer: building the lessons without their twins",
            file=sys.stderr,
        )
        for lesson in twin_lessons():
            command += ["--exclude", twin_package(lesson)]
    if release:
        command.append("--release")
    if quiet:
        command.append("--quiet")
    try:
        result = subprocess.run(command, cwd=str(ROOT), env=env)
    except FileNotFoundError:
        raise ScriptError("cargo is not on PATH: install Rust with rustup") from None
    if result.returncode != 0:
        raise ScriptError("`{}` failed (exit code {})".format(" ".join(command), result.returncode))


def resident_bytes():
    """This process's resident memory in bytes, or None off Linux."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


def markdown_table(rows, right_align=False):
    """`rows` (the first one the header) as an aligned Markdown table."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    justify = str.rjust if right_align else str.ljust
    lines = ["| " + " | ".join(justify(cell, width) for cell, width in zip(row, widths)) + " |" for row in rows]
    rule = ("-" * (width + 1) + ":" if right_align else "-" * (width + 2) for width in widths)
    lines.insert(1, "|" + "|".join(rule) + "|")
    return "\n".join(lines)


def venv_python(venv_dir):
    """The interpreter inside a virtual environment."""
    if os.name == "nt":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def ensure_venv(python, venv_dir, requirements=ROOT / "dev-requirements.txt"):
    """Create (or reuse) a venv for `python` with the pinned requirements.

    A stamp file inside the venv records the interpreter and the
    requirements it was made from, so an edit to either rebuilds the venv
    and an unchanged one costs nothing.
    """
    wanted = "{}\n{}".format(
        subprocess.run(
            [str(python), "-c", "import sys; print(sys.version)"],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        ).stdout.strip(),
        requirements.read_text(encoding="utf-8"),
    )
    stamp = venv_dir / "requirements.stamp"
    interpreter = venv_python(venv_dir)
    if interpreter.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return interpreter
    print(f"setting up {venv_dir.name} with {requirements.name}", file=sys.stderr)
    steps = [
        [str(python), "-m", "venv", "--clear", str(venv_dir)],
        [str(interpreter), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(requirements)],
    ]
    for step in steps:
        if subprocess.run(step).returncode != 0:
            raise ScriptError("could not set up {}: `{}` failed".format(venv_dir, " ".join(step)))
    stamp.write_text(wanted, encoding="utf-8")
    return interpreter
