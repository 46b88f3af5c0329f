"""What every script needs to know about this workspace: where it is, where
Cargo puts its output, how to build it for one particular Python
interpreter, and how long each long step took. The lesson table is read by
lessons.py; the switch between the bindings is binding_switch.py.

Kept importable on Python 3.7, the oldest interpreter the lessons support.
"""

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from binding_switch import (  # noqa: F401 (re-exported: the scripts' one place for these)
    BINDING_VARIABLE,
    BINDINGS,
    INSTALLED_VARIABLE,
    PYO3_OLDEST,
    ROOT,
    bindings_for,
    dotted,
)

# rust-cpython 0.7.2 supports these CPython versions; others may build but
# are not supported upstream.
SUPPORTED = ((3, 7), (3, 12))


class ScriptError(Exception):
    """A failure a script reports as one line before exiting non-zero."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line gets one line, not usage plus error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


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


def support_warning(version):
    """One line for an interpreter outside the supported range, else None."""
    low, high = SUPPORTED
    if low <= version <= high:
        return None
    return (
        f"warning: Python {dotted(version)} is not supported by rust-cpython 0.7 upstream "
        f"({dotted(low)}-{dotted(high)}); building anyway"
    )


def to_stderr(line):
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def step(what, say=to_stderr):
    """Say when a step that may take a while starts, and when it ends with
    its time: one line each, by default on stderr (no spinner, so CI logs
    stay readable, and a lesson's own output stays apart)."""
    say(f"{what} ...")
    start = time.monotonic()
    try:
        yield
    except BaseException:
        say(f"{what}: failed after {time.monotonic() - start:.1f} s")
        raise
    say(f"{what}: done in {time.monotonic() - start:.1f} s")


def pinned_environment(python, target_dir=None):
    """This process's environment with both bindings' build scripts pinned
    to `python` (and Cargo's output in `target_dir`, if given)."""
    env = dict(os.environ, PYTHON_SYS_EXECUTABLE=str(python), PYO3_PYTHON=str(python))
    if target_dir is not None:
        env["CARGO_TARGET_DIR"] = str(target_dir)
    return env


def cargo_build(python=sys.executable, release=False, target_dir=None, quiet=False, lessons=None):
    """Build the lessons (by default every one) and their PyO3 twins for
    `python`.

    PYTHON_SYS_EXECUTABLE makes python3-sys read that interpreter's version
    and flags, and PYO3_PYTHON does the same for PyO3; without them, each
    uses whatever `python3` is on PATH, which may not be the interpreter
    that will import the modules.
    """
    # lessons.py reads the table with this module's helpers.
    from lessons import lessons as lesson_table

    version = interpreter_version(python)
    warning = support_warning(version)
    if warning:
        print(warning, file=sys.stderr)
    # Both bindings' build scripts read their interpreter from the
    # environment; both are pinned to the same one.
    env = pinned_environment(python, target_dir)
    with_twins = "pyo3" in bindings_for(version)
    if not with_twins:
        print(
            f"note: PyO3 0.30 needs Python {dotted(PYO3_OLDEST)} or newer: building the lessons without their twins",
            file=sys.stderr,
        )
    chosen = [each for each in lesson_table() if each.crate and (lessons is None or each.folder in lessons)]
    packages = [each.folder for each in chosen] + [each.twin_package for each in chosen if each.twin and with_twins]
    command = ["cargo", "build"] + [argument for package in packages for argument in ("-p", package)]
    if release:
        command.append("--release")
    if quiet:
        command.append("--quiet")
    what = "building {} for Python {} ({})".format(
        "every lesson" if lessons is None else " ".join(packages), dotted(version), profile_name(release)
    )
    with step(what):
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


def ensure_gdb():
    """gdb, for lesson 15's look at a crash: installed with apt-get where
    this runs as root on Debian or Ubuntu; elsewhere left to the reader
    (the tests that need it skip, and say so)."""
    if shutil.which("gdb") or not sys.platform.startswith("linux"):
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        print(
            "note: gdb is not installed, and only root can apt-get it: lesson 15's gdb test will skip", file=sys.stderr
        )
        return
    with step("installing gdb with apt-get, for lesson 15"):
        install = ["apt-get", "install", "--yes", "--quiet", "--no-install-recommends", "gdb"]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(install, **quiet).returncode != 0:
            # A fresh machine may have no package lists yet.
            subprocess.run(["apt-get", "update", "--quiet"], **quiet)
            subprocess.run(install, **quiet)
    if not shutil.which("gdb"):
        print("note: apt-get could not install gdb: lesson 15's gdb test will skip", file=sys.stderr)
