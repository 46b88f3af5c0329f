"""The lesson READMEs cannot drift from the code.

* Every ```console block that runs a lesson shows that lesson's real output.
* Every ```rust block is a verbatim excerpt of that lesson's src/lib.rs.

(The `>>>` examples run as doctests: see `addopts` in pyproject.toml.)
"""

import re

import pytest
from conftest import ROOT, run_python

from workspace import lesson_crates

FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def fenced_blocks(text, language):
    return [body for lang, body in FENCE.findall(text) if lang == language]


def readme(crate):
    return (ROOT / crate / "README.md").read_text(encoding="utf-8")


def normalized_lines(text):
    """Lines stripped of indentation, blank lines dropped: a listing may be
    shown at a different indentation than in the source."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def order_insensitive(lines):
    """`found N` lines come out in hash order; compare them as a multiset."""
    return [line for line in lines if not line.startswith("found ")], sorted(
        line for line in lines if line.startswith("found ")
    )


@pytest.mark.parametrize("crate", lesson_crates())
def test_readme_shows_the_real_output_of_run(crate):
    command = f"$ python3 -m {crate}.run"
    blocks = [b for b in fenced_blocks(readme(crate), "console") if b.startswith(command + "\n")]
    assert blocks, f"{crate}/README.md has no ```console block starting with `{command}`"
    for block in blocks:
        shown = block.splitlines()[1:]
        result = run_python("-m", crate + ".run")
        assert result.returncode == 0, result.stderr
        assert order_insensitive(shown) == order_insensitive(result.stdout.splitlines())


@pytest.mark.parametrize("crate", lesson_crates())
def test_rust_listings_are_excerpts_of_the_source(crate):
    source = "\n".join(normalized_lines((ROOT / crate / "src" / "lib.rs").read_text(encoding="utf-8")))
    for listing in fenced_blocks(readme(crate), "rust"):
        excerpt = "\n".join(normalized_lines(listing))
        assert "\n" + excerpt + "\n" in "\n" + source + "\n", (
            f"{crate}/README.md shows Rust code not found in src/lib.rs:\n{listing}"
        )


@pytest.mark.parametrize("crate", lesson_crates())
def test_readme_is_titled_as_a_numbered_lesson(crate):
    number = lesson_crates().index(crate) + 1
    assert readme(crate).startswith(f"# Lesson {number} — ")
