"""A lesson is one row of the table: check_lessons.py names what a lesson
lacks, and a lesson inserted as MAINTAINING.md says passes it.

The insertion runs in a scratch copy of the workspace: a lesson `hello`
(lesson 2's function under another name) goes in after lesson 2, with
every piece MAINTAINING.md lists. Then each piece is taken away in turn,
and the check must fail naming it.
"""

import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, binding_independent, copy_sources, once_per_run

from check_lessons import LESSON_LINK, TEMPLATE, check
from lessons import lessons, number

# The same on every Python version: the main run checks it.
pytestmark = [binding_independent, once_per_run]


def check_lessons(root, *args):
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "check_lessons.py"), *args],
        cwd=str(root),
        capture_output=True,
        text=True,
    )


def test_every_lesson_has_all_its_pieces():
    assert check() == []


def test_list_prints_the_lessons_in_order():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_lessons.py"), "--list"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    rows = [re.split(r"\s{2,}", line.strip(), maxsplit=2) for line in result.stdout.splitlines()]
    assert rows == [[str(each.number), each.folder, each.teaches] for each in lessons()]


def test_maintaining_lists_the_readme_template_in_order():
    """MAINTAINING.md's template is the one check_lessons.py enforces."""
    text = (ROOT / "MAINTAINING.md").read_text(encoding="utf-8")
    section = text.split("### The lesson template\n", 1)[1].split("\n### ", 1)[0]
    shown = re.findall(r"^\d+\. `## ([^`]+?)(?:\.\.\.|…)?`", section, re.M)
    assert shown == [prefix for prefix, _required in TEMPLATE]


def rewrite(path, old, new, count=1):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} lacks {old!r}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def insert_hello(root):
    """MAINTAINING.md's 'Add a lesson', step by step, for a lesson `hello`
    after lesson 2 (`function`): lesson 3, and klass... become 4..."""
    # 1. The row, after function's, and the crates in `members`.
    rewrite(
        root / "Cargo.toml",
        '[[workspace.metadata.lessons]]\nfolder = "klass"',
        '[[workspace.metadata.lessons]]\nfolder = "hello"\npart = 1\nteaches = "a greeting, again"\n\n'
        '[[workspace.metadata.lessons]]\nfolder = "klass"',
    )
    rewrite(root / "Cargo.toml", "members = [\n", 'members = [\n    "hello", "hello/pyo3",\n')
    # 2-3. The crate and its twin: lesson 2's, renamed.
    shutil.copytree(str(root / "function"), str(root / "hello"), ignore=shutil.ignore_patterns("__pycache__"))
    rewrite(root / "hello" / "Cargo.toml", 'name = "function"', 'name = "hello"')
    rewrite(root / "hello" / "src" / "lib.rs", "//! Lesson 2:", "//! Lesson 3:")
    rewrite(root / "hello" / "src" / "lib.rs", "py_module_initializer!(function", "py_module_initializer!(hello")
    rewrite(root / "hello" / "pyo3" / "Cargo.toml", 'name = "function-pyo3"', 'name = "hello-pyo3"')
    rewrite(root / "hello" / "pyo3" / "Cargo.toml", 'name = "function_pyo3"', 'name = "hello_pyo3"')
    rewrite(root / "hello" / "pyo3" / "src" / "lib.rs", "//! Lesson 2", "//! Lesson 3")
    rewrite(root / "hello" / "run.py", '"""Lesson 2:', '"""Lesson 3:')
    # 4. Its README, titled with its number, linking its neighbours.
    readme = root / "hello" / "README.md"
    text = readme.read_text(encoding="utf-8")
    text = re.sub(r"^# Lesson 2 — .*", "# Lesson 3 — Hello again", text, count=1, flags=re.M)
    text = re.sub(
        r"^Previous: .*",
        "Previous: [Lesson 2](../function/README.md). Next: [Lesson 4](../klass/README.md).\n",
        text,
        flags=re.M | re.S,
    )
    readme.write_text(text, encoding="utf-8")
    # 5. Its test file, with its hostile-input entry points.
    (root / "tests" / "test_hello.py").write_text(
        '"""Lesson 3: hello."""\n\nHOSTILE_CALLS = [\n    "hello.greet(value)",\n]\n', encoding="utf-8"
    )
    # 6. Its rows in MIGRATING.md.
    rewrite(
        root / "MIGRATING.md",
        "| `py_class!(pub class Class",
        "| `py_fn!` once more | `#[pyfunction]` | [lesson 3](hello/README.md#the-same-in-pyo3) |\n"
        "| `py_class!(pub class Class",
    )
    # 7. Its neighbours link to it.
    function = root / "function" / "README.md"
    text = function.read_text(encoding="utf-8")
    function.write_text(
        re.sub(r"Next: \[.*?\]\(\.\./klass/README\.md\)", "Next: [Lesson 3](../hello/README.md)", text, flags=re.S),
        encoding="utf-8",
    )
    klass = root / "klass" / "README.md"
    text = klass.read_text(encoding="utf-8")
    klass.write_text(
        text.replace("Previous: [Lesson 2](../function/README.md)", "Previous: [Lesson 3](../hello/README.md)"),
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def inserted(tmp_path_factory):
    """A scratch workspace with lesson `hello` inserted and renumbered."""
    root = copy_sources(tmp_path_factory.mktemp("insert") / "lessons", also=("tests", "README.md", "MIGRATING.md"))
    before = check_lessons(root)
    insert_hello(root)
    unnumbered = check_lessons(root)
    renumbered = check_lessons(root, "--renumber")
    return root, before, unnumbered, renumbered


def test_the_scratch_copy_passes_before_the_insertion(inserted):
    _root, before, _unnumbered, _renumbered = inserted
    assert before.returncode == 0, before.stdout + before.stderr


def test_an_inserted_lesson_shows_what_to_renumber(inserted):
    _root, _before, unnumbered, _renumbered = inserted
    assert unnumbered.returncode == 1
    # Every lesson after `function` has moved up one.
    klass, threads, shipping = (number(folder) for folder in ("klass", "threads", "shipping"))
    for problem in (
        f"lesson {klass + 1} `klass`: README.md is titled lesson {klass}",
        f"lesson {threads + 1} `threads`: src/lib.rs says lesson {threads} on its first line",
        f"lesson {klass + 1} `klass`: run.py says lesson {klass} on its first line",
        f"lesson {klass + 1} `klass`: tests/test_klass.py says lesson {klass} on its first line",
        f"lesson {shipping + 1} `shipping`: has no row in MIGRATING.md linking "
        f"[lesson {shipping + 1}](shipping/README.md...)",
        "README.md's lesson table is not the table's",
        "borrowed/README.md:",
    ):
        assert problem in unnumbered.stdout, unnumbered.stdout


def test_an_inserted_lesson_passes_once_renumbered(inserted):
    root, _before, _unnumbered, renumbered = inserted
    assert renumbered.returncode == 0, renumbered.stdout + renumbered.stderr
    assert "renumbered klass/README.md" in renumbered.stdout
    threads = number("threads") + 1
    assert (root / "threads" / "README.md").read_text(encoding="utf-8").startswith(f"# Lesson {threads} — ")
    assert "| 3 | [`hello/`](hello/README.md) | a greeting, again |" in (root / "README.md").read_text(encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(root / "scripts" / "run_lessons.py"), "--list"], capture_output=True, text=True
    )
    assert result.stdout.splitlines()[2].split()[:2] == ["3", "hello"]


def remove(path):
    if path.is_dir():
        shutil.rmtree(str(path))
    else:
        path.unlink()


# Each piece of the inserted lesson, taken away: what the check must say.
PIECES = {
    "table row": (
        lambda root: rewrite(
            root / "Cargo.toml",
            'folder = "hello"\npart = 1\nteaches = "a greeting, again"\n\n[[workspace.metadata.lessons]]\n',
            "",
        ),
        "workspace member `hello` is no lesson in the table",
    ),
    "members": (
        lambda root: rewrite(root / "Cargo.toml", '"hello", "hello/pyo3",', ""),
        "lesson 3 `hello`: is no workspace member",
    ),
    "README": (lambda root: remove(root / "hello" / "README.md"), "lesson 3 `hello`: has no README.md"),
    "README title": (
        lambda root: rewrite(root / "hello" / "README.md", "# Lesson 3 — ", "# Hello — "),
        "lesson 3 `hello`: README.md is not titled",
    ),
    "README section": (
        lambda root: rewrite(root / "hello" / "README.md", "## Try this", "## Things to try"),
        "lesson 3 `hello`: README.md has a section the lesson template lacks: '## Things to try'",
    ),
    "run.py": (lambda root: remove(root / "hello" / "run.py"), "lesson 3 `hello`: has no run.py"),
    "import stub": (lambda root: remove(root / "hello" / "__init__.py"), "lesson 3 `hello`: has no __init__.py"),
    "import stub's text": (
        lambda root: rewrite(root / "hello" / "__init__.py", "# `python3 -m <lesson>.run`", "# `python3 -m hello.run`"),
        "hello/__init__.py differs from the other lessons'",
    ),
    "twin": (lambda root: remove(root / "hello" / "pyo3"), "failed to load manifest for workspace member"),
    "test file": (
        lambda root: remove(root / "tests" / "test_hello.py"),
        "lesson 3 `hello`: has no test file tests/test_hello.py",
    ),
    "hostile calls": (
        lambda root: rewrite(root / "tests" / "test_hello.py", "HOSTILE_CALLS", "CALLS"),
        "lesson 3 `hello`: tests/test_hello.py defines no HOSTILE_CALLS",
    ),
    "MIGRATING row": (
        lambda root: rewrite(root / "MIGRATING.md", "[lesson 3](hello/README.md#the-same-in-pyo3)", "lesson 3"),
        "lesson 3 `hello`: has no row in MIGRATING.md",
    ),
    "neighbour's link": (
        lambda root: rewrite(
            root / "klass" / "README.md",
            "Previous: [Lesson 3](../hello/README.md)",
            "Previous: [Lesson 2](../function/README.md)",
        ),
        "lesson 4 `klass`: README.md its 'Previous:' links ../function/README.md; "
        "it should link ../hello/README.md (lesson 3)",
    ),
    "root README row": (
        lambda root: rewrite(root / "README.md", "| 3 | [`hello/`](hello/README.md) | a greeting, again |\n", ""),
        "README.md's lesson table is not the table's",
    ),
}


@pytest.mark.parametrize("piece", sorted(PIECES))
def test_a_missing_piece_is_named(inserted, tmp_path, piece):
    root, _before, _unnumbered, _renumbered = inserted
    scratch = tmp_path / "lessons"
    shutil.copytree(str(root), str(scratch), symlinks=True)
    take_away, message = PIECES[piece]
    take_away(scratch)
    result = check_lessons(scratch)
    assert result.returncode == 1
    assert message in result.stdout + result.stderr


def test_a_bracket_in_a_code_listing_does_not_start_a_lesson_link():
    text = "```rust\nlet table = [\n```\nas in lesson 2, and [lesson 11](costs/README.md).\n"
    assert [match.group(1) for match in LESSON_LINK.finditer(text)] == ["lesson 11"]


# A Markdown link to a file of the repository, with an optional #anchor.
LOCAL_LINK = re.compile(r"\]\((?!https?:|mailto:)([^)\s]*?)(?:#([^)\s]+))?\)")


def heading_anchors(text):
    """The anchors GitHub gives a Markdown file's headings: lower case,
    punctuation dropped, spaces as hyphens, `-1`, `-2` on repeats."""
    anchors, seen = set(), {}
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if in_fence or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def markdown_files():
    listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / name for name in listed.stdout.split()]


@binding_independent
def test_every_link_between_the_markdown_files_reaches_its_file_and_heading():
    broken = []
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        # Links shown as code, in listings or in `spans`, are examples.
        prose = re.sub(r"`[^`]*`", "", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))
        for target, anchor in LOCAL_LINK.findall(prose):
            linked = (path.parent / target).resolve() if target else path
            if not linked.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target} does not exist")
            elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked.read_text("utf-8")):
                broken.append(f"{path.relative_to(ROOT)}: {target}#{anchor} names no heading")
    assert not broken, "\n".join(broken)


def test_heading_anchors_are_github_s():
    text = "# Lesson 1 — Title\n## Pitfall: a `str`, and more\n```\n# not a heading\n```\n## Run it\n## Run it\n"
    assert heading_anchors(text) == {"lesson-1--title", "pitfall-a-str-and-more", "run-it", "run-it-1"}
