"""What every script needs to know about this workspace: where it is, which
crates are lessons, where Cargo puts its output, and how to build it for one
particular Python interpreter.

Kept importable on Python 3.7, the oldest interpreter the lessons support.
"""

import argparse
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


class ScriptError(Exception):
    """A failure a script reports as one line before exiting non-zero."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line gets one line, not usage plus error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def lesson_crates(root=ROOT):
    """The lesson crates, in the order of `members` in the workspace
    Cargo.toml (which is the order a reader takes them in)."""
    text = (root / "Cargo.toml").read_text(encoding="utf-8")
    match = re.search(r"^members\s*=\s*\[(.*?)\]", text, re.S | re.M)
    if not match:
        raise ScriptError("Cargo.toml has no workspace `members` list")
    return re.findall(r'"([^"]+)"', match.group(1))


def require_built_module(lesson):
    """Before `python3 -m <lesson>.run` imports `target.debug.<lesson>`: if
    that module is not there for this Python, say how to build it and exit."""
    module = ROOT / "target" / "debug" / (lesson + sysconfig.get_config_var("EXT_SUFFIX"))
    if not module.is_file():
        sys.exit(
            f"{lesson}: target/debug/{module.name} is not built for this Python ({sys.executable}): "
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
    """Build every lesson with python3-sys configured for `python`.

    PYTHON_SYS_EXECUTABLE makes python3-sys read that interpreter's version
    and flags; without it, python3-sys uses whatever `python3` is on PATH,
    which may not be the interpreter that will import the modules.
    """
    warning = support_warning(interpreter_version(python))
    if warning:
        print(warning, file=sys.stderr)
    env = dict(os.environ, PYTHON_SYS_EXECUTABLE=str(python))
    if target_dir is not None:
        env["CARGO_TARGET_DIR"] = str(target_dir)
    command = ["cargo", "build", "--workspace"]
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
