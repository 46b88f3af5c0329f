"""Lesson 15: the dangling slice, built on purpose, and how to find it.

`python3 -m buffers.stale [run|valgrind|gdb]` builds the lesson with its
`dangling` feature (a second build, in target/dangling), then runs a script
that reads a bytearray through a view kept after the bytearray was freed:
as it is, under valgrind's memcheck, or under gdb with CPython's `py-bt`.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from copy_libs import library_filename  # noqa: E402
from memcheck import read_errors  # noqa: E402
from workspace import ArgumentParser, pinned_environment  # noqa: E402

TARGET = ROOT / "target" / "dangling"
# The script the tools watch: `size` bytes read through a view whose
# bytearray is gone. Small blocks go back to the allocator and are reused;
# blocks of a megabyte are given back to the system, so reading one faults.
CHILD = """\
import sys
import zlib

from buffers import stale_view

size = int(sys.argv[1])
data = bytearray(b"x" * size)
view = stale_view(data)
print("before:", view.crc32() == zlib.crc32(data), flush=True)
del data  # frees the bytearray's memory; the view still points into it
others = [bytes([n]) * size for n in range(4)]
print("after:", view.crc32() == zlib.crc32(b"x" * size), flush=True)
"""
SMALL, LARGE = 100, 1_000_000


class StaleError(Exception):
    """Something this script needs is missing: one line says what."""


def interpreter():
    """The interpreter's own executable (a venv's python is a link to it):
    the file valgrind and gdb must run, and beside which CPython's gdb
    extension is installed."""
    return Path(sys.executable).resolve()


def build(python=sys.executable):
    """The lesson with `--features dangling`, for `python`, copied to its
    import name in a folder of its own; returns the folder."""
    command = ["cargo", "build", "--quiet", "-p", "buffers", "--features", "dangling"]
    result = subprocess.run(command, cwd=str(ROOT), env=pinned_environment(python, TARGET))
    if result.returncode != 0:
        raise StaleError(f"`{' '.join(command)}` failed (exit code {result.returncode})")
    folder = TARGET / "module"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    shutil.copy(str(TARGET / "debug" / library_filename("buffers")), str(folder / ("buffers" + suffix)))
    (folder / "stale_child.py").write_text(CHILD, encoding="utf-8")
    return folder


def run_child(folder, size, prefix=(), env=None):
    """Run the script on `size` bytes, after the tool's command `prefix`."""
    command = [*prefix, str(interpreter()), str(folder / "stale_child.py"), str(size)]
    env = dict(os.environ if env is None else env, PYTHONPATH=str(folder))
    return subprocess.run(command, cwd=str(folder), env=env, capture_output=True, text=True, timeout=300)


def exit_description(returncode):
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def plain(folder):
    """What a test suite would see: the small read passes with wrong bytes,
    the large one kills the process."""
    lines = []
    for size in (SMALL, LARGE):
        result = run_child(folder, size)
        shown = " ".join(result.stdout.split("\n")).strip()
        lines.append(f"{size:>9,} bytes: {shown} ({exit_description(result.returncode)})")
    return lines


def memcheck(folder):
    """The small read under memcheck: each invalid read, and the lesson's
    functions on its stack."""
    valgrind = shutil.which("valgrind")
    if not valgrind:
        raise StaleError("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "memcheck.xml"
        prefix = [valgrind, "--tool=memcheck", "--xml=yes", f"--xml-file={report}", "--num-callers=40"]
        run_child(folder, SMALL, prefix, env=dict(os.environ, PYTHONMALLOC="malloc"))
        errors = read_errors(report)
    stacks = {}
    for kind, frames in errors:
        ours = [function for obj, function, _location in frames if obj.startswith(str(folder))]
        # The lesson's own functions; the binding's wrappers around them say nothing here.
        named = tuple(
            function for function in ours if function.startswith("buffers::") and "create_instance" not in function
        )
        if kind.startswith("Invalid") and named:
            stacks[(kind, named)] = stacks.get((kind, named), 0) + 1
    lines = []
    for (kind, named), count in stacks.items():
        lines.append(f"{kind} ({count} times), in the lesson's code:")
        lines.extend(f"    {function}" for function in named)
    return lines


def debugger(folder):
    """The large read under gdb: the signal, the Rust frame it stopped in,
    and the Python stack, from CPython's `py-bt`."""
    gdb = shutil.which("gdb")
    if not gdb:
        raise StaleError("gdb is not installed (Debian: apt-get install gdb; scripts/test.py installs it)")
    extension = Path(str(interpreter()) + "-gdb.py")
    if not extension.is_file():
        raise StaleError(f"no {extension.name} beside {interpreter()}: py-bt needs CPython's gdb extension")
    prefix = [gdb, "-batch", "-nx", "-iex", "set auto-load python-scripts off"]
    prefix += ["-ex", f"source {extension}", "-ex", "run", "-ex", "bt 8", "-ex", "py-bt", "--args"]
    output = run_child(folder, LARGE, prefix).stdout.splitlines()
    lines = [line for line in output if line.startswith("Program received signal")]
    # A frame without its address, which changes from run to run.
    lines += [re.sub(r" 0x[0-9a-f]+ in", "", line) for line in output if line.startswith("#") and "buffers::" in line]
    if "Traceback (most recent call first):" in output:
        lines += output[output.index("Traceback (most recent call first):") :]
    return lines


def main(argv=None):
    parser = ArgumentParser(prog="python3 -m buffers.stale", description=__doc__.split("\n\n")[0])
    parser.add_argument("tool", nargs="?", default="run", choices=("run", "valgrind", "gdb"))
    args = parser.parse_args(argv)
    try:
        folder = build()
        lines = {"run": plain, "valgrind": memcheck, "gdb": debugger}[args.tool](folder)
    except StaleError as error:
        print(f"stale: error: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
