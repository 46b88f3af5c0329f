"""MIGRATING.md is complete: every row of its table links the lesson that
tests it, and every construct the lessons' Rust sources use, rust-cpython's
and PyO3's, is named in a row.

A construct here is what a maintainer would look up: a name imported from
`cpython`, `python3_sys` or `pyo3`; a `py_*!` macro; a special method or
decorator of `py_class!`; a C API function called through `ffi::`; a
`#[py*]` attribute and each option of `#[pyclass(...)]`.
"""

import re

import pytest
from conftest import ROOT, binding_independent

from lessons import lesson_crates, lesson_folders, number, twin_lessons

pytestmark = binding_independent

TEXT = (ROOT / "MIGRATING.md").read_text(encoding="utf-8")
TABLE = TEXT.split("\n## Constructs\n", 1)[1].split("\n## ", 1)[0]
ROWS = [
    [cell.strip() for cell in line.strip().strip("|").split(" | ")]
    for line in TABLE.splitlines()
    if line.startswith("| ") and not line.startswith("| rust-cpython 0.7 ")
]
RUST_CPYTHON_COLUMN = "\n".join(row[0] for row in ROWS)
PYO3_COLUMN = "\n".join(row[1] for row in ROWS)
LINK = re.compile(r"^\[(lesson (\d+)|root README)\]\(([\w-]+/README\.md|README\.md)(#[\w-]+)?\)$")

# Words of a `use` list that are paths, not constructs.
PATH_WORDS = {"self", "prelude", "types", "exceptions", "ffi", "sync", "buffer", "pyclass", "boolean_struct", "as"}
PYCLASS_DECORATORS = ("property", "classmethod", "staticmethod", "shared")
# A C API function or type, through `python3_sys as ffi` or `pyo3::ffi`
# (not the standard library's `std::ffi`).
C_API = re.compile(r"(?<!std::)\bffi::(\w+)")


def imported(source, crate):
    """The names a Rust source imports from `crate` (`use crate::{...};`)."""
    names = set()
    for body in re.findall(rf"\buse {crate}::([^;]*);", source):
        names.update(word for word in re.findall(r"\b[A-Za-z_]\w*\b", body) if word not in PATH_WORDS)
    return names


def rust_cpython_constructs(source):
    found = imported(source, "cpython") | imported(source, "python3_sys")
    found |= {f"{macro}!" for macro in re.findall(r"\b(py_\w+)!", source)}
    found |= set(re.findall(r"^\s*def (__\w+__)\(", source, re.M))
    found |= {f"@{name}" for name in re.findall(r"^\s*@(\w+)\b", source, re.M) if name in PYCLASS_DECORATORS}
    found |= {".setter" for _ in re.findall(r"^\s*@\w+\.setter\b", source, re.M)}
    found |= set(re.findall(C_API, source))
    return found


def pyo3_constructs(source):
    found = imported(source, "pyo3")
    found |= {f"#[{name}" for name in re.findall(r"#\[(py\w+)\b", source)}
    for options in re.findall(r"#\[pyclass\(([^)]*)\)\]", source):
        found |= {option.split("=")[0].strip() for option in options.split(",")}
    found |= set(re.findall(C_API, source))
    return found


def named_in(construct, column):
    """Whether the column names the construct as a word of its own."""
    before = "" if construct.startswith(".") else r"(?<![\w])"
    return re.search(before + re.escape(construct) + r"(?![\w])", column) is not None


def sources(folder):
    return {path: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.rs"))}


def unnamed(find, column, crates, subfolder):
    missing = {}
    for crate in crates:
        for path, source in sources(ROOT / crate / subfolder).items():
            for construct in find(source):
                if not named_in(construct, column):
                    missing.setdefault(construct, set()).add(str(path.relative_to(ROOT)))
    return {construct: sorted(paths) for construct, paths in sorted(missing.items())}


def test_the_table_has_a_row_for_every_construct_the_lessons_use():
    missing = unnamed(rust_cpython_constructs, RUST_CPYTHON_COLUMN, lesson_crates(), "src")
    assert not missing, f"MIGRATING.md's rust-cpython column names none of: {missing}"


def test_the_table_has_a_row_for_every_construct_the_twins_use():
    missing = unnamed(pyo3_constructs, PYO3_COLUMN, twin_lessons(), "pyo3/src")
    assert not missing, f"MIGRATING.md's PyO3 column names none of: {missing}"


@pytest.mark.parametrize("row", ROWS, ids=[row[0][:60] for row in ROWS])
def test_every_row_links_the_lesson_that_tests_it(row):
    assert len(row) == 3, f"a row has three columns: {row}"
    match = LINK.match(row[2])
    assert match, f"the third column links one lesson, as [lesson N](folder/README.md#anchor): {row[2]}"
    label, lesson_number, path, _anchor = match.groups()
    if label == "root README":
        assert path == "README.md"
        return
    folder = path.split("/")[0]
    assert folder in lesson_folders(), f"{path}: no such lesson"
    assert int(lesson_number) == number(folder), f"{row[2]}: {folder} is lesson {number(folder)}"


def test_every_lesson_with_a_crate_has_rows():
    linked = {match.split("/")[0] for match in re.findall(r"\]\(([\w-]+)/README\.md", TABLE)}
    assert not set(lesson_crates()) - linked


def test_what_the_course_leaves_out_says_why():
    left_out = TEXT.split("\n## What the course leaves out\n", 1)[1]
    items = re.findall(r"^- \*\*(.+?)\*\*", left_out, re.M)
    assert items == [
        "Python 2.7 builds",
        "The `serde-convert` feature",
        "Async Rust behind synchronous methods",
        "`py_capsule_fn!`",
    ]
