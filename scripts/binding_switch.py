"""The one switch between the two bindings, and the first-run message.

Every lesson's `run.py` and test imports `target.debug.<lesson>`: the
rust-cpython module that scripts/copy_libs.py copied there. With
$LESSONS_BINDING=pyo3, `select_binding` puts an import hook in front of
Python's own (`TwinFinder`) that loads the same name from the lesson's PyO3
twin instead, `target/debug/pyo3/<lesson><EXT_SUFFIX>`. With
$LESSONS_INSTALLED naming a site-packages folder, another hook
(`InstalledFinder`) loads the lessons that ship as a wheel from there.

This module is what runs when a lesson runs (each lesson's `__init__.py`
imports it as `scripts.binding_switch`), so it imports nothing from the
other scripts. Kept importable on Python 3.7, the oldest interpreter the
lessons support.
"""

import sys

# Every script imports this module before it does anything: on a Python
# too old for the lessons, one line says which ones work.
OLDEST = (3, 7)
if sys.version_info < OLDEST:
    sys.exit(
        "Python {}.{} is too old for these lessons: run them with CPython 3.7 to 3.13 "
        "(rust-cpython 0.7 supports 3.7-3.12; the PyO3 twins need 3.9 or newer)".format(*sys.version_info[:2])
    )

import importlib.machinery  # noqa: E402 (after the version check)
import importlib.util  # noqa: E402
import os  # noqa: E402
import sysconfig  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# Each lesson is written twice: with rust-cpython (the lesson) and with PyO3
# (its twin, `<lesson>/pyo3/`). PyO3 0.30 builds for Python 3.9 and newer.
BINDINGS = ("cpython", "pyo3")
PYO3_OLDEST = (3, 9)
BINDING_VARIABLE = "LESSONS_BINDING"
# A site-packages folder to import the lessons that ship as a wheel from
# (see InstalledFinder): lesson "shipping"'s tests run the packaged lesson's
# tests so.
INSTALLED_VARIABLE = "LESSONS_INSTALLED"


class BindingError(Exception):
    """$LESSONS_BINDING names no binding."""


def module_path(lesson, binding, profile="debug", root=ROOT):
    """Where the importable module of a lesson, in one binding, is copied."""
    folder = root / "target" / profile
    if binding == "pyo3":
        folder = folder / "pyo3"
    return folder / (lesson + sysconfig.get_config_var("EXT_SUFFIX"))


def is_packaged(lesson):
    """Whether a lesson crate ships as a wheel (it has a pyproject.toml)."""
    return (ROOT / lesson / "pyproject.toml").is_file()


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
                f"({sys.executable}); run `{python_command()} scripts/run_lessons.py --binding pyo3 {parts[2]}`"
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
        if len(parts) != 3 or parts[0] != "target" or not is_packaged(parts[2]):
            return None
        lesson = parts[2]
        package = importlib.machinery.PathFinder.find_spec(lesson, [self.site_packages])
        module = package and importlib.machinery.PathFinder.find_spec(lesson, package.submodule_search_locations)
        if module is None or not module.origin.endswith(sysconfig.get_config_var("EXT_SUFFIX")):
            raise ImportError(
                f"{fullname}: ${INSTALLED_VARIABLE} names {self.site_packages}, where no {lesson}.{lesson} "
                "module is installed for this Python: see shipping/README.md"
            )
        return importlib.util.spec_from_file_location(fullname, module.origin)


def select_binding(binding=None):
    """Make the lessons' import names load the given binding's modules, by
    default the one named in $LESSONS_BINDING (else rust-cpython's).

    `LESSONS_BINDING=pyo3 python3 -m wrapper.run` runs lesson 4's unchanged
    run.py against its twin. Returns the binding chosen.
    """
    binding = binding or os.environ.get(BINDING_VARIABLE) or "cpython"
    if binding not in BINDINGS:
        raise BindingError(f"{BINDING_VARIABLE}={binding}: the bindings are {', '.join(BINDINGS)}")
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


def bindings_for(version):
    """The bindings that build for a Python version."""
    return BINDINGS if version >= PYO3_OLDEST else BINDINGS[:1]


def dotted(version):
    """(3, 11) -> "3.11"."""
    return ".".join(str(part) for part in version)


def python_command():
    """The command that runs this Python's version, for hints: `python3.12`
    builds for 3.12 where a bare `python3` may be another version."""
    return "python{}.{}".format(*sys.version_info[:2])


def require_built_module(lesson):
    """Before `python3 -m <lesson>.run` imports `target.debug.<lesson>`:
    select the binding $LESSONS_BINDING names; if its module is not there
    for this Python, say how to build it and exit."""
    try:
        binding = select_binding()
    except BindingError as error:
        sys.exit(f"{lesson}: {error}")
    version = tuple(sys.version_info[:2])
    if binding not in bindings_for(version):
        sys.exit(f"{lesson}: the PyO3 twins need Python {dotted(PYO3_OLDEST)} or newer, not {dotted(version)}")
    module = module_path(lesson, binding)
    if installed() and is_packaged(lesson):
        return
    if not module.is_file():
        binding_flag = " --binding pyo3" if binding == "pyo3" else ""
        sys.exit(
            f"{lesson}: {module.relative_to(ROOT)} is not built for this Python ({sys.executable}): "
            f"run `{python_command()} scripts/run_lessons.py{binding_flag} {lesson}`, "
            "or see 'Doing it by hand' in README.md"
        )
