"""Build the floor that lesson `costs` is measured against: its `greet` as a
C extension (costs/floor/greet_c.c) and in Cython (costs/floor/greet_cython.pyx),
for the running interpreter, compiled as setuptools would compile them (the
compiler and flags this Python was built with).

`build_floor(folder)` returns {"C": module name or None, "Cython": ...} and
the reason for each one it could not build; `bench.py` measures the ones
there are, and the tests check that they return what lesson 2 returns.
"""

import importlib.util
import shlex
import shutil
import subprocess
import sys
import sysconfig

from workspace import ROOT, ScriptError

SOURCES = ROOT / "costs" / "floor"
C_SOURCE = SOURCES / "greet_c.c"
CYTHON_SOURCE = SOURCES / "greet_cython.pyx"


class FloorMissing(ScriptError):
    """One floor cannot be built here; the message says why, in one line."""


def config_words(name):
    return shlex.split(sysconfig.get_config_var(name) or "")


def compile_extension(c_source, module, folder):
    """`c_source` compiled and linked as the extension module `module` in
    `folder`, with this interpreter's compiler, flags and EXT_SUFFIX."""
    compiler = config_words("CC") or ["cc"]
    if shutil.which(compiler[0]) is None:
        raise FloorMissing(f"no C compiler: {compiler[0]!r} (this Python's CC) is not installed")
    include = sysconfig.get_paths()["include"]
    objects = folder / f"{module}.o"
    library = folder / (module + sysconfig.get_config_var("EXT_SUFFIX"))
    commands = [
        [*compiler, *config_words("CFLAGS"), *config_words("CCSHARED"), f"-I{include}", "-c", str(c_source)]
        + ["-o", str(objects)],
        [*(config_words("LDSHARED") or [*compiler, "-shared"]), str(objects), "-o", str(library)],
    ]
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise ScriptError(f"{' '.join(command)} failed:\n{result.stderr}")
    return module


def cython_version():
    """The installed Cython's version, or None."""
    if importlib.util.find_spec("Cython") is None:
        return None
    from Cython import __version__

    return __version__


def build_c(folder):
    return compile_extension(C_SOURCE, "greet_c", folder)


def build_cython(folder):
    """The Cython floor; its generated C is kept as greet_cython.c in `folder`."""
    if cython_version() is None:
        raise FloorMissing("Cython is not installed (pip install -r bench-requirements.txt)")
    generated = folder / "greet_cython.c"
    command = [sys.executable, "-m", "cython", "-3", str(CYTHON_SOURCE), "-o", str(generated)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise ScriptError(f"{' '.join(command)} failed:\n{result.stderr}")
    return compile_extension(generated, "greet_cython", folder)


def build_floor(folder):
    """({"C": module, "Cython": module}, {name: reason}) for the floors built
    into `folder` (importable once `folder` is on sys.path) and the ones
    that could not be built here."""
    folder.mkdir(parents=True, exist_ok=True)
    built, missing = {}, {}
    for name, build in (("C", build_c), ("Cython", build_cython)):
        try:
            built[name] = build(folder)
        except FloorMissing as reason:
            missing[name] = str(reason)
    return built, missing
