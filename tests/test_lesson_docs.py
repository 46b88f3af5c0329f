"""The lesson READMEs cannot drift from the code.

* A ```console block that starts with `$ python3 -m <lesson>.run` shows that
  lesson's real output (wall times may differ).
* Every other ```console block is a shell session: its `$` commands run in
  one shell, and each shows its real output (a line `...` stands for any
  lines, as in a doctest).
* Every ```rust block is a verbatim excerpt of that lesson's src/lib.rs.
* A ```toml block is a Cargo.toml that builds the lesson on its own.

(The `>>>` examples run as doctests: see `addopts` in pyproject.toml.)
"""

import os
import re
import sys

import pytest
from conftest import (
    LESSONS,
    ROOT,
    binding_independent,
    build_lesson_alone,
    once_per_run,
    readme_blocks,
    run_python,
)

from readme_sessions import differences, python3_on_path, run_session
from run_lessons import comparable
from workspace import cargo_target_dir, lesson_crates, lesson_folders, packaged_lessons, twin_lessons

FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def readme(crate):
    return (ROOT / crate / "README.md").read_text(encoding="utf-8")


def normalized_lines(text):
    """Lines stripped of indentation, blank lines dropped: a listing may be
    shown at a different indentation than in the source."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def is_run_block(crate, block):
    return block.startswith(f"$ python3 -m {crate}.run\n")


@pytest.mark.parametrize("crate", LESSONS)
def test_readme_shows_the_real_output_of_run(crate):
    """In the PyO3 session, the twin's output must be what the README shows."""
    blocks = [block for block in readme_blocks(crate, "console") if is_run_block(crate, block)]
    assert blocks, f"{crate}/README.md has no ```console block starting with `$ python3 -m {crate}.run`"
    for block in blocks:
        shown = block.splitlines()[1:]
        result = run_python("-m", crate + ".run")
        assert result.returncode == 0, result.stderr
        assert comparable("\n".join(shown)) == comparable(result.stdout)


SESSIONS = [
    (crate, index, block)
    for crate in lesson_crates()
    for index, block in enumerate(readme_blocks(crate, "console"))
    if not is_run_block(crate, block)
]


@binding_independent
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sessions show Linux file names")
@pytest.mark.parametrize(("crate", "index", "block"), SESSIONS, ids=[f"{c}-{i}" for c, i, _ in SESSIONS])
def test_shell_sessions_show_their_real_output(tmp_path, crate, index, block):
    # The sessions start in the repository root and read Cargo's output from
    # target/; here they start in a folder whose target/ is wherever this
    # run's build went (the matrix builds each version into its own).
    (tmp_path / "target").symlink_to(cargo_target_dir(), target_is_directory=True)
    ran = run_session(block, tmp_path, dict(os.environ, PATH=python3_on_path()), timeout=120)
    assert not differences(ran, f"{crate}/README.md"), differences(ran, f"{crate}/README.md")[0]


PYO3_SECTION = "## The same in PyO3\n"


def listings(crate):
    """(source file, listing) for each ```rust block of a lesson's README:
    those under "The same in PyO3" come from the twin's source."""
    text = readme(crate)
    own, _, twin = text.partition(PYO3_SECTION)
    twin = twin.split("\n## ", 1)[0]
    for part, source in ((own, ROOT / crate / "src" / "lib.rs"), (twin, ROOT / crate / "pyo3" / "src" / "lib.rs")):
        for lang, body in FENCE.findall(part):
            if lang == "rust":
                yield source, body


@binding_independent
@pytest.mark.parametrize("crate", lesson_crates())
def test_rust_listings_are_excerpts_of_the_source(crate):
    for path, listing in listings(crate):
        source = "\n".join(normalized_lines(path.read_text(encoding="utf-8")))
        excerpt = "\n".join(normalized_lines(listing))
        assert "\n" + excerpt + "\n" in "\n" + source + "\n", (
            f"{crate}/README.md shows Rust code not found in {path.relative_to(ROOT)}:\n{listing}"
        )


@binding_independent
@pytest.mark.parametrize("crate", twin_lessons())
def test_every_twin_is_shown_in_its_lesson(crate):
    text = readme(crate)
    assert PYO3_SECTION in text, f"{crate}/README.md has no '{PYO3_SECTION.strip()}' section"
    assert any(path.parent.parent.name == "pyo3" for path, _listing in listings(crate))


@binding_independent
@pytest.mark.parametrize("lesson", lesson_folders())
def test_readme_is_titled_as_a_numbered_lesson(lesson):
    number = lesson_folders().index(lesson) + 1
    assert readme(lesson).startswith(f"# Lesson {number} — ")


def packaging_files(lesson):
    """The files that lesson 8 shows, for the lesson crate it packages: its
    pyproject.toml and Python package, and the twin's pyproject.toml."""
    package = ROOT / lesson / "python" / lesson
    return [ROOT / lesson / "pyproject.toml", ROOT / lesson / "pyo3" / "pyproject.toml", *sorted(package.glob("*.py*"))]


@binding_independent
@pytest.mark.parametrize("lesson", packaged_lessons())
def test_packaging_listings_are_excerpts_of_the_files(lesson):
    text = readme("shipping")
    sources = ["\n".join(normalized_lines(path.read_text(encoding="utf-8"))) for path in packaging_files(lesson)]
    shown = [body for lang, body in FENCE.findall(text) if lang in ("toml", "python") and not body.startswith(">>>")]
    assert len(shown) >= 5
    for listing in shown:
        excerpt = "\n".join(normalized_lines(listing))
        assert any("\n" + excerpt + "\n" in "\n" + source + "\n" for source in sources), (
            f"shipping/README.md shows a listing found in none of {lesson}'s packaging files:\n{listing}"
        )


@binding_independent
@pytest.mark.parametrize("lesson", packaged_lessons())
def test_the_twin_ships_the_lessons_python_files_through_links(lesson):
    """maturin skips a python-source outside the twin's folder, so the
    twin's package holds links, one to each of the lesson's files."""
    package = ROOT / lesson / "python" / lesson
    linked = ROOT / lesson / "pyo3" / "python" / lesson

    def files(folder):
        return sorted(path for path in folder.iterdir() if path.name != "__pycache__")

    assert [path.name for path in files(linked)] == [path.name for path in files(package)]
    for path in files(linked):
        assert path.is_symlink(), path
        assert path.resolve() == (package / path.name).resolve()


@binding_independent
@pytest.mark.parametrize("lesson", packaged_lessons())
def test_the_wheel_has_the_crates_version(lesson):
    """setuptools-rust reads the version from pyproject.toml, not Cargo.toml."""
    pattern = re.compile(r'^version = "(.*)"$', re.M)
    (crate_version,) = pattern.findall((ROOT / "Cargo.toml").read_text(encoding="utf-8"))
    (wheel_version,) = pattern.findall((ROOT / lesson / "pyproject.toml").read_text(encoding="utf-8"))
    assert wheel_version == crate_version


STANDALONE_CHECKS = {
    "docstring": ("import docstring; print(docstring.__doc__)", "This module is implemented in Rust.\n"),
    "borrowed": ("import borrowed; s = borrowed.HashSet(); s.add(7); print(list(iter(s)))", "[7]\n"),
    "errors": ("import errors; print(sorted(errors.HashSet([2, 1])))", "[1, 2]\n"),
    "threads": ("import threads, zlib; print(threads.crc32(b'abc') == zlib.crc32(b'abc'))", "True\n"),
}


@binding_independent
@pytest.mark.parametrize("crate", lesson_crates())
def test_a_lesson_that_needs_more_than_cpython_shows_its_manifest(crate):
    """Lesson 1 shows the Cargo.toml that serves every lesson needing only
    `cpython`; a lesson that needs more crates shows its own, naming them."""
    manifest = (ROOT / crate / "Cargo.toml").read_text(encoding="utf-8")
    needs = set(re.findall(r"^([\w-]+)\.workspace = true$", manifest.split("[dependencies]")[1], re.M))
    if needs == {"cpython"} and crate != "docstring":
        return
    assert crate in STANDALONE_CHECKS, f"{crate}/README.md must show a Cargo.toml with {sorted(needs)}"
    (shown,) = readme_blocks(crate, "toml")
    for name in needs:
        assert re.search(rf'^{name} = "', shown, re.M), f"{crate}/README.md's Cargo.toml lacks {name}"


@binding_independent
@once_per_run
@pytest.mark.parametrize("crate", sorted(STANDALONE_CHECKS))
def test_a_lesson_builds_outside_the_workspace(tmp_path, build_python, crate):
    """A reader who copies a lesson's src/lib.rs and the Cargo.toml its
    README shows into a folder of their own gets a working module."""
    build_lesson_alone(crate, tmp_path, build_python)
    code, expected = STANDALONE_CHECKS[crate]
    result = run_python("-c", code, cwd=tmp_path)
    assert result.stdout == expected, result.stderr
