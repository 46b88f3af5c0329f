"""The ```console blocks of the lesson READMEs, run as shell sessions.

A block is a session: each `$ ` line is a command, the lines after it are
what the command prints. The commands of a block run in one bash, in
order; each command's real output is compared with what the block shows,
as a doctest would (a line `...` stands for any lines, `...` within a line
for any text).
"""

import doctest
import re
import subprocess

MARKER = "----- next command -----"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def console_blocks(text):
    """The bodies of the ```console blocks of a README's text, in order."""
    return [body for lang, body in FENCE.findall(text) if lang == "console"]


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


def differences(ran, where, expected=lambda text: text):
    """One message for each command whose output is not what the README
    shows (after `expected` has adapted what it shows to this run)."""
    checker = doctest.OutputChecker()
    return [
        f"{where}: `$ {command}` printed:\n{output}\nbut the README shows:\n{shown}"
        for command, shown, output in ran
        if not checker.check_output(expected(shown), output, doctest.ELLIPSIS)
    ]
