"""Which library serves each submodule of `porting` while it moves to PyO3.

During the move, code takes each submodule from `load`, never from a
library by name. $PORTING_PYO3 lists the submodules that PyO3 serves
(`PORTING_PYO3=checksums`); the rest come from the rust-cpython library.
Mercurial's `policy.importrust` does the same for its modules. With the
course's own switch, $LESSONS_BINDING=pyo3, the twin serves everything.
"""

import importlib
import os
import types

from scripts.binding_switch import BINDING_VARIABLE

SUBMODULES = ("sets", "checksums")
# The order of the move: first the module that takes the other's objects,
# so that new code reads old objects (through the bridge) and the old code
# never has to know about the new.
PLAN = ("checksums", "sets")
VARIABLE = "PORTING_PYO3"
LIBRARIES = {"cpython": "target.{profile}.porting", "pyo3": "target.{profile}.pyo3.porting"}


class PolicyError(ValueError):
    """A set of ported submodules that is not a stage of the plan."""


def stages():
    """Every state of the move, in order: nothing ported, then one more
    submodule of PLAN at a time."""
    return [frozenset(PLAN[:count]) for count in range(len(PLAN) + 1)]


def check(ported):
    """`ported` as a stage of the plan, or PolicyError saying why not."""
    ported = frozenset(ported)
    unknown = sorted(ported - set(SUBMODULES))
    if unknown:
        raise PolicyError(f"{VARIABLE}: porting has no submodule {', '.join(unknown)} (it has {', '.join(SUBMODULES)})")
    if ported not in stages():
        raise PolicyError(
            f"{VARIABLE}={','.join(sorted(ported))}: port {' before '.join(PLAN)}, "
            "since rust-cpython's checksums cannot read PyO3's sets"
        )
    return ported


def from_environment(environ=os.environ):
    """The stage $PORTING_PYO3 names (comma-separated submodules)."""
    return check(name for name in environ.get(VARIABLE, "").split(",") if name)


def library(binding, profile="debug"):
    """The import name of the library that `binding` builds."""
    if os.environ.get(BINDING_VARIABLE) == "pyo3":
        # The course's switch already loads the twin as the lesson's name.
        return LIBRARIES["cpython"].format(profile=profile)
    return LIBRARIES[binding].format(profile=profile)


def load(ported=frozenset(), profile="debug"):
    """The submodules, each from the library that serves it at this stage,
    as attributes of a namespace; `served_by` says which binding that is."""
    ported = check(ported)
    if os.environ.get(BINDING_VARIABLE) == "pyo3":
        ported = frozenset(SUBMODULES)
    served_by = {name: "pyo3" if name in ported else "cpython" for name in SUBMODULES}
    modules = {name: importlib.import_module(f"{library(served_by[name], profile)}.{name}") for name in SUBMODULES}
    if served_by == {"sets": "cpython", "checksums": "pyo3"}:
        # PyO3's checksums must know which class is rust-cpython's HashSet.
        bridge = importlib.import_module(f"{library('pyo3', profile)}.bridge")
        bridge.accept_from(modules["sets"])
    return types.SimpleNamespace(served_by=served_by, **modules)
