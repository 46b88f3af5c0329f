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

import json
import os
import re
import subprocess
import sys
from pathlib import Path

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

from lessons import lesson_crates, lesson_folders, number, packaged_lessons, twin_lessons
from readme_sessions import (
    FENCE,
    ONCE_PER_RUN,
    TWIN_SECTION,
    comparable,
    differences,
    python3_on_path,
    run_session,
)
from workspace import cargo_target_dir


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


def session_param(crate, index, block):
    """A console block as a test case; one marked ONCE_PER_RUN (it needs
    what only the main run has, such as a PyO3 twin) is left to it."""
    marked = f"{ONCE_PER_RUN}\n```console\n{block}```" in readme(crate)
    return pytest.param(crate, index, block, id=f"{crate}-{index}", marks=[once_per_run] if marked else [])


SESSIONS = [
    session_param(crate, index, block)
    for crate in lesson_crates()
    for index, block in enumerate(readme_blocks(crate, "console"))
    if not is_run_block(crate, block)
]


@binding_independent
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sessions show Linux file names")
@pytest.mark.parametrize(("crate", "index", "block"), SESSIONS)
def test_shell_sessions_show_their_real_output(tmp_path, crate, index, block):
    # The sessions start in the repository root and read Cargo's output from
    # target/; here they start in a folder whose target/ is wherever this
    # run's build went (the matrix builds each version into its own), with
    # the lesson's folder and scripts/ beside it for `python3 -m <lesson>.x`.
    (tmp_path / "target").symlink_to(cargo_target_dir(), target_is_directory=True)
    for folder in (crate, "scripts"):
        (tmp_path / folder).symlink_to(ROOT / folder, target_is_directory=True)
    ran = run_session(block, tmp_path, dict(os.environ, PATH=python3_on_path()), timeout=120)
    assert not differences(ran, f"{crate}/README.md"), differences(ran, f"{crate}/README.md")[0]


def listings(crate):
    """(source folder, listing) for each ```rust block of a lesson's README:
    those under "The same in PyO3" come from the twin's source."""
    text = readme(crate)
    own, _, twin = text.partition(TWIN_SECTION)
    twin = twin.split("\n## ", 1)[0]
    for part, source in ((own, ROOT / crate / "src"), (twin, ROOT / crate / "pyo3" / "src")):
        for lang, body in FENCE.findall(part):
            if lang == "rust":
                yield source, body


@binding_independent
@pytest.mark.parametrize("crate", lesson_crates())
def test_rust_listings_are_excerpts_of_the_source(crate):
    """Each listing is a verbatim piece of one of the files in src/ (of
    the lesson, or of the twin)."""
    for folder, listing in listings(crate):
        excerpt = "\n".join(normalized_lines(listing))
        sources = ["\n".join(normalized_lines(path.read_text(encoding="utf-8"))) for path in folder.glob("*.rs")]
        assert any("\n" + excerpt + "\n" in "\n" + source + "\n" for source in sources), (
            f"{crate}/README.md shows Rust code found in no file of {folder.relative_to(ROOT)}:\n{listing}"
        )


@binding_independent
@pytest.mark.parametrize("crate", twin_lessons())
def test_every_twin_is_shown_in_its_lesson(crate):
    text = readme(crate)
    assert TWIN_SECTION in text, f"{crate}/README.md has no '{TWIN_SECTION.strip()}' section"
    assert any(folder.parent.name == "pyo3" for folder, _listing in listings(crate))


@binding_independent
@pytest.mark.parametrize("lesson", lesson_folders())
def test_readme_is_titled_as_a_numbered_lesson(lesson):
    assert readme(lesson).startswith(f"# Lesson {number(lesson)} — ")


def packaging_files(lesson):
    """The files that lesson "shipping" shows, for the lesson crate it packages: its
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
    "panics": ("import panics; print(panics.first([4, 2]))", "4\n"),
    "threads": ("import threads, zlib; print(threads.crc32(b'abc') == zlib.crc32(b'abc'))", "True\n"),
    "calling": (
        "import calling, datetime, types;"
        " settings = types.SimpleNamespace(prefix='', ttl=datetime.timedelta(1), limit=1);"
        " store = type('S', (dict,), {'put': lambda self, k, v, ttl: self.__setitem__(k, v)})();"
        " print(calling.Cache(store, settings).fetch(['a'], str.upper))",
        "{'a': 'A'}\n",
    ),
    "costs": (
        "import costs; print(costs.greet_in_place('Smith'), costs.greet_meth_o('Zoë'))",
        "Hello, Smith! Hello, Zoë!\n",
    ),
    "mapping": ("import mapping; m = mapping.StringMap(); m['a'] = 1; print(m)", "StringMap({'a': 1})\n"),
    "buffers": (
        "import buffers, datetime, zlib; print(buffers.crc32(bytearray(b'abc')) == zlib.crc32(b'abc'),"
        " buffers.make_datetime(2022, 3, 9) == datetime.datetime(2022, 3, 9))",
        "True True\n",
    ),
    "porting": (
        "import porting.sets, porting.checksums as c; print(c.crc32_of_set(porting.sets.HashSet([1])))",
        "2583214201\n",
    ),
}


@binding_independent
@pytest.mark.parametrize("crate", lesson_crates())
def test_a_lesson_that_needs_more_than_cpython_shows_its_manifest(crate):
    """Lesson 1 shows the Cargo.toml that serves every lesson needing only
    `cpython`; a lesson that needs more crates shows its own, naming them."""
    manifest = (ROOT / crate / "Cargo.toml").read_text(encoding="utf-8")
    needs = set(
        re.findall(
            r"^([\w-]+)(?:\.workspace = true| = \{ workspace = true\b)", manifest.split("[dependencies]")[1], re.M
        )
    )
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


def locked_version(package):
    """The version of a package in Cargo.lock."""
    lock = (ROOT / "Cargo.lock").read_text(encoding="utf-8")
    (version,) = re.findall(rf'^name = "{package}"\nversion = "([^"]+)"$', lock, re.M)
    return version


def prose_versions(pattern):
    """(file, version) for each version the Markdown files name after `pattern`."""
    files = sorted(ROOT.glob("*.md")) + sorted(ROOT.glob("*/README.md"))
    return [
        (path.relative_to(ROOT), version)
        for path in files
        for version in re.findall(pattern + r" (\d+\.\d+(?:\.\d+)?)\b", path.read_text(encoding="utf-8"))
    ]


@binding_independent
@pytest.mark.parametrize(("name", "package"), [("PyO3", "pyo3"), ("rust-cpython", "cpython")])
def test_the_binding_versions_in_prose_are_the_locked_ones(name, package):
    """ "PyO3 0.30" or "rust-cpython 0.7.2" in the docs is what Cargo.lock
    builds: a version shown with fewer parts must be a prefix of it."""
    locked = locked_version(package)
    named = prose_versions(re.escape(name))
    assert named, f"no Markdown file names a {name} version"
    for path, version in named:
        assert (locked + ".").startswith(version + "."), f"{path} names {name} {version}; Cargo.lock has {locked}"


@binding_independent
def test_the_rust_version_in_the_readme_is_pyo3s_minimum():
    (rust_version,) = re.findall(r'^rust-version = "([^"]+)"$', pyo3_manifest(), re.M)
    assert prose_versions("Rust") == [(Path("README.md"), rust_version)]


def pyo3_manifest():
    """PyO3's own Cargo.toml, from Cargo's copy of the crate. Only this
    machine's platform: the crates of others are not downloaded by a build."""
    host = re.search(r"^host: (\S+)$", subprocess.run(["rustc", "-vV"], capture_output=True, text=True).stdout, re.M)
    result = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--offline", "--filter-platform", host.group(1)],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
    )
    (package,) = [p for p in json.loads(result.stdout)["packages"] if p["name"] == "pyo3"]
    return Path(package["manifest_path"]).read_text(encoding="utf-8")
