"""The lesson table: which lessons there are, in reading order, and what
each one is. It lives in the workspace Cargo.toml, under
`[[workspace.metadata.lessons]]` (the comment there lists the fields), and
Cargo reads it for us: `cargo metadata` hands the table over as JSON, which
every Python the lessons support can parse.

A lesson's number is its place in the table. Nothing else lists lessons:
scripts and tests ask this module.

Kept importable on Python 3.7, the oldest interpreter the lessons support.
"""

import json
import subprocess
from pathlib import Path

from workspace import ROOT, ScriptError

FIELDS = ("folder", "part", "teaches", "crate", "twin", "packaged", "imitates")


class Lesson:
    """One row of the table, with its number (its place, from 1). A crate
    lesson's package and module are named as its folder: the import paths
    (`target.debug.<folder>`, `python3 -m <folder>.run`) rely on it."""

    def __init__(self, number, row):
        unknown = sorted(set(row) - set(FIELDS))
        if unknown:
            raise ScriptError(f"lesson table row {number} has unknown field {unknown[0]!r}; the fields are {FIELDS}")
        missing = [name for name in ("folder", "part", "teaches") if name not in row]
        if missing:
            raise ScriptError(f"lesson table row {number} has no {missing[0]!r}")
        self.number = number
        self.folder = row["folder"]
        self.part = row["part"]
        self.teaches = row["teaches"]
        self.crate = row.get("crate", True)
        self.twin = row.get("twin", self.crate)
        self.packaged = row.get("packaged", False)
        self.imitates = row.get("imitates")

    @property
    def twin_package(self):
        """The Cargo package of the lesson's twin; its library is `<folder>_pyo3`."""
        return f"{self.folder}-pyo3"

    def __repr__(self):
        return f"<lesson {self.number} {self.folder}>"


_TABLES = {}


def metadata(root=ROOT):
    """The workspace's `[workspace.metadata]`, read once per process."""
    root = Path(root)
    if root not in _TABLES:
        try:
            result = subprocess.run(
                ["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1"],
                cwd=str(root),
                capture_output=True,
                text=True,
            )
        except FileNotFoundError:
            raise ScriptError("cargo is not on PATH: install Rust with rustup") from None
        if result.returncode != 0:
            errors = [line for line in result.stderr.splitlines() if line.strip()]
            raise ScriptError(f"cargo cannot read the workspace: {errors[0] if errors else 'no message'}")
        workspace = json.loads(result.stdout)
        _TABLES[root] = (workspace.get("metadata") or {}, workspace["packages"])
    return _TABLES[root][0]


def workspace_packages(root=ROOT):
    """The workspace members as Cargo sees them: {package name: folder}."""
    metadata(root)
    return {package["name"]: Path(package["manifest_path"]).parent for package in _TABLES[Path(root)][1]}


def lessons(root=ROOT):
    """Every lesson, in reading order."""
    rows = metadata(root).get("lessons")
    if not rows:
        raise ScriptError("Cargo.toml has no [[workspace.metadata.lessons]] table")
    return [Lesson(number, row) for number, row in enumerate(rows, start=1)]


def part_titles(root=ROOT):
    return metadata(root).get("lesson-parts", [])


def lesson(folder, root=ROOT):
    """The lesson in `folder`."""
    for each in lessons(root):
        if each.folder == folder:
            return each
    raise ScriptError(f"no lesson {folder!r}; the lessons are {', '.join(lesson_folders(root))}")


def number(folder, root=ROOT):
    return lesson(folder, root).number


def lesson_folders(root=ROOT):
    return [each.folder for each in lessons(root)]


def lesson_crates(root=ROOT):
    """The lessons that are crates of their own, in reading order."""
    return [each.folder for each in lessons(root) if each.crate]


def twin_lessons(root=ROOT):
    """The lessons that have a PyO3 twin (`<folder>/pyo3`)."""
    return [each.folder for each in lessons(root) if each.twin]


def packaged_lessons(root=ROOT):
    """The lesson crates that lesson "shipping" makes wheels of."""
    return [each.folder for each in lessons(root) if each.packaged]


def imitating(builtin, root=ROOT):
    """The lessons whose class imitates `builtin` (tested side by side)."""
    return [each.folder for each in lessons(root) if each.imitates == builtin]


def rust_tested_packages(root=ROOT, folders=None):
    """The lesson packages (crates and twins) that have Rust tests, in
    reading order: those whose default features include `extension-module`,
    which `cargo test` turns off (see the calling lesson). With `folders`, only those
    lessons'."""
    metadata(root)
    features = {package["name"]: package["features"] for package in _TABLES[Path(root)][1]}
    chosen = [each for each in lessons(root) if each.crate and (folders is None or each.folder in folders)]
    names = [name for each in chosen for name in (each.folder, each.twin_package if each.twin else None) if name]
    return [name for name in names if "extension-module" in features.get(name, {}).get("default", [])]


def lesson_title(folder, root=ROOT):
    """The lesson's heading: the first line of its README without the '#'."""
    readme = Path(root) / folder / "README.md"
    first = readme.read_text(encoding="utf-8").splitlines()[0]
    return first.lstrip("#").strip()


def listing(root=ROOT):
    """`run_lessons.py --list`: one lesson a line, `N  folder  what it teaches`."""
    rows = lessons(root)
    width = max(len(each.folder) for each in rows)
    return "\n".join(f"{each.number:>2}  {each.folder.ljust(width)}  {each.teaches}" for each in rows)


def readme_table(root=ROOT):
    """The root README's lesson section, made from the table: each part a
    heading and a table of its lessons."""
    rows = lessons(root)
    sections = []
    for index, title in enumerate(part_titles(root), start=1):
        heading = f"### Part {index}: {title}" if index < len(part_titles(root)) else f"### {title}"
        members = [each for each in rows if each.part == index]
        if not members:
            sections.append(f"{heading}\n\nNo lessons yet.")
            continue
        lines = ["| # | folder | what it teaches |", "|---|--------|-----------------|"]
        lines += [
            f"| {each.number} | [`{each.folder}/`]({each.folder}/README.md) | {each.teaches} |" for each in members
        ]
        sections.append(heading + "\n\n" + "\n".join(lines))
    return "\n\n".join(sections) + "\n"
