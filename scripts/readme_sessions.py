"""What the tests and scripts read in the lesson READMEs: the fenced blocks,
the PyO3 section, a lesson's output made comparable between runs, and the
```console blocks run as shell sessions.

A block is a session: each `$ ` line is a command, the lines after it are
what the command prints. The commands of a block run in one bash, in
order; each command's real output is compared with what the block shows,
as a doctest would (a line `...` stands for any lines, `...` within a line
for any text).
"""

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

from workspace import BINDING_VARIABLE, INSTALLED_VARIABLE, ROOT, cargo_target_dir, venv_python

# The heading of the section on a lesson's PyO3 twin.
TWIN_SECTION = "## The same in PyO3\n"
# The shipping lesson's commands make and use this environment, relative to where
# they run (the workspace root, or a copy of it).
SHIPPING_VENV = Path(".venvs") / "shipping"

MARKER = "----- next command -----"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
# Written on the line before a console block whose commands show the same
# on every Python version: the version matrix leaves it to the main run.
ONCE_PER_RUN = "<!-- once per run: the same on every Python version -->"


def blocks(text, language):
    """The bodies of the ```<language> blocks of a README's text, in order."""
    return [body for lang, body in FENCE.findall(text) if lang == language]


def readme_blocks(lesson, language, root=ROOT):
    """The bodies of the ```<language> blocks in a lesson's README."""
    return blocks((root / lesson / "README.md").read_text(encoding="utf-8"), language)


def console_blocks(text):
    """The bodies of the ```console blocks of a README's text, in order."""
    return blocks(text, "console")


def comparable(output):
    """A lesson's output with what may differ between two runs made
    uniform: wall times, and the order of values read from a hash set."""
    lines = [re.sub(r"\b\d+\.\d+ s\b", "<time> s", line) for line in output.splitlines()]
    return [line for line in lines if not line.startswith("found ")], sorted(
        line for line in lines if line.startswith("found ")
    )


def session(block):
    """[(command, expected output)] of a console block."""
    steps = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append([line[2:], []])
        else:
            steps[-1][1].append(line)
    return [(command, "".join(line + "\n" for line in shown)) for command, shown in steps]


def run_session(block, cwd, env, timeout):
    """Run a block's commands in one bash in `cwd`. Returns [(command,
    expected, actual)], one per command (output and errors together)."""
    steps = session(block)
    script = "".join(f"echo '{MARKER}'\n{command}\n" for command, _shown in steps)
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=str(cwd),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    outputs = result.stdout.split(MARKER + "\n")[1:]
    if len(outputs) != len(steps):
        raise AssertionError(f"the session stopped after {len(outputs)} of {len(steps)} commands:\n{result.stdout}")
    return [(command, shown, output) for (command, shown), output in zip(steps, outputs)]


def differences(ran, where):
    """One message for each command whose output is not what the README shows."""
    checker = doctest.OutputChecker()
    return [
        f"{where}: `$ {command}` printed:\n{output}\nbut the README shows:\n{shown}"
        for command, shown, output in ran
        if not checker.check_output(shown, output, doctest.ELLIPSIS)
    ]


def lesson_sessions(lesson, binding, root=ROOT, every_block=True):
    """A lesson's console blocks for one binding, in order: those under
    "The same in PyO3" for the twin, the others for the lesson. Without
    `every_block`, those marked ONCE_PER_RUN are left out."""
    text = (root / lesson / "README.md").read_text(encoding="utf-8")
    own, _, twin = text.partition(TWIN_SECTION)
    part = twin if binding == "pyo3" else own
    if not every_block:
        part = re.sub(re.escape(ONCE_PER_RUN) + r"\n```console\n.*?^```$", "", part, flags=re.S | re.M)
    return console_blocks(part)


def python3_on_path():
    """PATH with this interpreter's `python3` first, as a reader's shell has it."""
    folder = Path(sys.executable).parent
    if not (folder / "python3").exists():
        raise FileNotFoundError(f"no python3 beside {sys.executable}")
    return str(folder) + os.pathsep + os.environ["PATH"]


def shell_environment(folder, binding):
    """A reader's shell in `folder` (the workspace root or a copy), for
    the shipping lesson's commands: this Python's `python3` first on PATH, and both
    bindings' build scripts pinned to the environment those commands make
    (setuptools-rust would pin them so, unless they were set for another
    Python, as the scripts set them). Cargo's release build goes to a
    target folder of the wheel's, per binding, kept between runs."""
    python = venv_python(Path(folder) / SHIPPING_VENV)
    env = dict(
        os.environ,
        PATH=python3_on_path(),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PYTHON_SYS_EXECUTABLE=str(python),
        PYO3_PYTHON=str(python),
        CARGO_TARGET_DIR=str(cargo_target_dir() / "wheel" / binding),
    )
    for name in (BINDING_VARIABLE, INSTALLED_VARIABLE, "VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)
    return env


def for_this_python(shown):
    """The READMEs show Python 3.11's names (of wheels, folders, modules);
    another version's session runs and prints its own."""
    minor = sys.version_info[1]
    names = {"cp311": f"cp3{minor}", "python3.11": f"python3.{minor}", "cpython-311": f"cpython-3{minor}"}
    for shown_name, this_name in names.items():
        shown = shown.replace(shown_name, this_name)
    return shown
