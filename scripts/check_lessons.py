"""Check that every lesson in the table has all its pieces, numbered as
the table numbers it; print one line per thing missing or misnumbered.

Usage: python3 scripts/check_lessons.py [--renumber]

A lesson's number is its place in the table (Cargo.toml,
`[[workspace.metadata.lessons]]`). After a lesson is inserted, the lessons
after it carry old numbers in their titles, their first lines and the
links to them: `--renumber` rewrites each of those to the table's number
(the only edits it makes), then checks again. MAINTAINING.md says what each
piece is for.

Needs no build: tests/test_structure.py runs it, on the workspace and on
scratch copies with a lesson inserted or a piece of one taken away.
"""

import ast
import re
import sys
from collections import Counter
from pathlib import Path

from lessons import lessons, part_titles, readme_table, workspace_packages
from readme_sessions import FENCE, TWIN_SECTION
from workspace import ROOT, ArgumentParser, ScriptError

# The `## ` sections of a lesson README, in order: (heading prefix, required).
# MAINTAINING.md explains each one; a test keeps its list equal to this.
TEMPLATE = (
    ("Run it", True),
    ("The problem", False),
    ("How it works", True),
    ("What it costs", False),
    ("Pitfall", True),
    ("Try this", True),
    ("Where this comes from", True),
    (TWIN_SECTION[3:].strip(), True),
    ("On its own", False),
)
# A lesson's first lines say its number: the README's title, and the first
# line of its run.py, of each lib.rs and of its test file.
TITLE = re.compile(r"^# Lesson (\d+) — ")
FIRST_LINE = re.compile(r"^((?://! |\"\"\")Lesson )(\d+)\b")
# A Markdown link whose text says "lesson N" (any case). Its text never
# runs into a fenced block, where a `[` is code, not the start of a link.
LINK_TEXT = r"(?:(?!```)[^\]])"
LESSON_LINK = re.compile(rf"\[({LINK_TEXT}*?\blesson (\d+)\b{LINK_TEXT}*)\]\(([^)\s#]*)(#[^)\s]*)?\)", re.I | re.S)
NAVIGATION = re.compile(r"^(Previous|Next): ", re.M)
HOSTILE_NAME = "HOSTILE_CALLS"


def headings(text):
    """The `## ` headings of a README, outside its fenced blocks."""
    return re.findall(r"^## (.+)$", FENCE.sub("", text), re.M)


def template_problems(text):
    """What is out of order or missing in a README's sections."""
    problems, reached, seen = [], -1, set()
    for heading in headings(text):
        slot = next((i for i, (prefix, _) in enumerate(TEMPLATE) if heading.startswith(prefix)), None)
        if slot is None:
            problems.append(f"has a section the lesson template lacks: '## {heading}'")
        elif slot < reached:
            problems.append(f"'## {heading}' comes after '## {TEMPLATE[reached][0]}...'; see the template")
        else:
            reached = slot
            seen.add(slot)
    problems += [
        f"has no '## {prefix}' section" for i, (prefix, required) in enumerate(TEMPLATE) if required and i not in seen
    ]
    return problems


def lesson_of_link(markdown_file, target, folders, root):
    """The lesson folder a relative link from `markdown_file` points into."""
    if not target or "://" in target:
        return None
    try:
        relative = (markdown_file.parent / target).resolve().relative_to(root.resolve())
    except ValueError:
        return None
    return relative.parts[0] if relative.parts and relative.parts[0] in folders else None


def markdown_files(root, folders):
    found = sorted(root.glob("*.md"))
    for folder in folders:
        found += sorted(path for path in (root / folder).rglob("*.md") if "build" not in path.parts)
    return found


def link_problems(root, numbers):
    """Links that say "lesson N" but point into another lesson's folder."""
    problems = []
    for path in markdown_files(root, numbers):
        text = path.read_text(encoding="utf-8")
        for match in LESSON_LINK.finditer(text):
            folder = lesson_of_link(path, match.group(3), numbers, root)
            if folder and int(match.group(2)) != numbers[folder]:
                line = text.count("\n", 0, match.start()) + 1
                problems.append(
                    f"{path.relative_to(root)}:{line}: a link says lesson {match.group(2)} "
                    f"but points to lesson {numbers[folder]}, `{folder}/`"
                )
    return problems


def navigation_problems(text, previous, following, numbers):
    """The README's last paragraph: links to the lessons before and after."""
    found = NAVIGATION.search(text)
    if not found:
        return ["has no 'Previous: ... Next: ...' line at its end"]
    paragraph = text[found.start() :]
    links = {kind: target for kind, target in re.findall(r"(Previous|Next): \[[^\]]*\]\(([^)]*)\)", paragraph)}
    problems = []
    for kind, neighbour in (("Previous", previous), ("Next", following)):
        wanted = f"../{neighbour}/README.md" if neighbour else None
        if links.get(kind) != wanted:
            says = f"links {links[kind]}" if kind in links else "has no link"
            should = f"should link {wanted} (lesson {numbers[neighbour]})" if wanted else "should have none"
            problems.append(f"its '{kind}:' {says}; it {should}")
    return problems


def hostile_calls(test_file):
    """The list a lesson's test file assigns to HOSTILE_CALLS (its module's
    entry points, each a call with `value` where a caller can put one), read
    without importing the file; [] when there is none."""
    tree = ast.parse(test_file.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == HOSTILE_NAME for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def numbered_files(root, each):
    """{how the lesson's problems name it: path} of the files whose first
    line says the lesson's number."""
    files = {name: root / each.folder / name for name in ("run.py", "src/lib.rs", "pyo3/src/lib.rs")}
    files[f"tests/test_{each.folder}.py"] = root / "tests" / f"test_{each.folder}.py"
    return {name: path for name, path in files.items() if path.is_file()}


def lessons_section(text):
    """The span of the root README's lesson tables (after the section's
    opening paragraph), or None."""
    match = re.search(r"^## Lessons\n\n(?:.*?\n\n)?(### .*?)(?=^## )", text, re.S | re.M)
    return match.span(1) if match else None


def first_line_number(path):
    match = FIRST_LINE.match(path.read_text(encoding="utf-8"))
    return int(match.group(2)) if match else None


def lesson_problems(each, table, root, packages, migrating):
    """What one lesson lacks, each as a short phrase."""
    folder = root / each.folder
    numbers = {other.folder: other.number for other in table}
    if not folder.is_dir():
        return [f"has no folder {each.folder}/"]
    problems = []
    readme = folder / "README.md"
    if not readme.is_file():
        problems.append("has no README.md")
    else:
        text = readme.read_text(encoding="utf-8")
        title = TITLE.match(text)
        if not title:
            problems.append(f"README.md is not titled '# Lesson {each.number} — ...'")
        elif int(title.group(1)) != each.number:
            problems.append(f"README.md is titled lesson {title.group(1)}")
        problems += ["README.md " + problem for problem in template_problems(text)]
        index = each.number - 1
        previous = table[index - 1].folder if index > 0 else None
        following = table[index + 1].folder if index + 1 < len(table) else None
        problems += ["README.md " + p for p in navigation_problems(text, previous, following, numbers)]
    if not re.search(rf"\[lesson {each.number}\]\({re.escape(each.folder)}/README\.md[#)]", migrating, re.I):
        problems.append(f"has no row in MIGRATING.md linking [lesson {each.number}]({each.folder}/README.md...)")
    test_file = root / "tests" / f"test_{each.folder}.py"
    if not test_file.is_file():
        problems.append(f"has no test file tests/{test_file.name}")
    elif each.crate and not hostile_calls(test_file):
        problems.append(f"tests/{test_file.name} defines no {HOSTILE_NAME} (its hostile-input entry points)")
    for name, path in numbered_files(root, each).items():
        if first_line_number(path) not in (None, each.number):
            problems.append(f"{name} says lesson {first_line_number(path)} on its first line")
    if each.crate:
        problems += crate_problems(each, root, packages)
    elif (folder / "Cargo.toml").exists():
        problems.append("has a Cargo.toml, but the table says it is no crate (crate = false)")
    return problems


def crate_problems(each, root, packages):
    folder = root / each.folder
    problems = []
    if packages.get(each.folder) != folder.resolve():
        problems.append(f'is no workspace member: add "{each.folder}" to `members` in Cargo.toml')
    for name in ("run.py", "__init__.py", "src/lib.rs"):
        if not (folder / name).is_file():
            problems.append(f"has no {name}")
    has_twin = (folder / "pyo3" / "Cargo.toml").is_file()
    if each.twin and not has_twin:
        problems.append(f"has no PyO3 twin {each.folder}/pyo3/ (or the table should say twin = false)")
    if each.twin and packages.get(each.twin_package) != (folder / "pyo3").resolve():
        problems.append(f'its twin is no workspace member: add "{each.folder}/pyo3" to `members` in Cargo.toml')
    if has_twin and not each.twin:
        problems.append("has a PyO3 twin, but the table says twin = false")
    readme = folder / "README.md"
    if each.twin and readme.is_file() and TWIN_SECTION not in readme.read_text(encoding="utf-8"):
        problems.append(f"README.md has no '{TWIN_SECTION.strip()}' section for its twin")
    if each.packaged != (folder / "pyproject.toml").is_file():
        problems.append("has a pyproject.toml but is not packaged in the table, or the other way round")
    return problems


def import_stub_problems(table, root):
    """Every lesson's __init__.py is the same file."""
    stubs = {each.folder: root / each.folder / "__init__.py" for each in table if each.crate}
    texts = {folder: path.read_text(encoding="utf-8") for folder, path in stubs.items() if path.is_file()}
    if not texts:
        return []
    usual, _count = Counter(texts.values()).most_common(1)[0]
    return [
        f"{folder}/__init__.py differs from the other lessons' (they are all one file)"
        for folder, text in texts.items()
        if text != usual
    ]


def table_problems(table, root, packages):
    problems = []
    parts = part_titles(root)
    if [each.part for each in table] != sorted(each.part for each in table):
        problems.append("the table's parts are out of order: a part's lessons stand together, part 1 first")
    for each in table:
        if not (isinstance(each.part, int) and 1 <= each.part <= len(parts)):
            problems.append(f"lesson {each.number} `{each.folder}`: part {each.part!r} is not one of 1-{len(parts)}")
    if table[-1].part != len(parts) or table[-1].crate:
        problems.append(
            f"the last lesson is `{table[-1].folder}`: the shipping lesson (last part, no crate) stays last"
        )
    packaged = [each.folder for each in table if each.packaged]
    if len(packaged) != 1:
        problems.append(f"exactly one lesson is packaged (the shipping lesson ships one crate), not {len(packaged)}")
    folders = [each.folder for each in table]
    twice = sorted(folder for folder, count in Counter(folders).items() if count > 1)
    problems += [f"`{folder}` is in the table twice" for folder in twice]
    wanted = {each.folder for each in table if each.crate} | {each.twin_package for each in table if each.twin}
    problems += [
        f"workspace member `{name}` is no lesson in the table, nor a lesson's twin"
        for name in sorted(set(packages) - wanted)
    ]
    return problems


def root_readme_problems(root):
    text = (root / "README.md").read_text(encoding="utf-8")
    span = lessons_section(text)
    if span is None:
        return ["README.md has no '## Lessons' section with a '### ' table for each part"]
    if text[span[0] : span[1]].strip() != readme_table(root).strip():
        return ["README.md's lesson table is not the table's: run `python3 scripts/check_lessons.py --renumber`"]
    return []


def check(root=ROOT):
    """Every problem with the lessons, one line each."""
    root = Path(root)
    table = lessons(root)
    packages = workspace_packages(root)
    migrating_file = root / "MIGRATING.md"
    migrating = migrating_file.read_text(encoding="utf-8") if migrating_file.is_file() else ""
    problems = table_problems(table, root, packages)
    for each in table:
        problems += [
            f"lesson {each.number} `{each.folder}`: {p}"
            for p in lesson_problems(each, table, root, packages, migrating)
        ]
    problems += import_stub_problems(table, root)
    problems += root_readme_problems(root)
    problems += link_problems(root, {each.folder: each.number for each in table})
    return problems


def renumber(root=ROOT):
    """Rewrite each lesson's number where it is written and can be told
    for sure (titles, first lines, links into a lesson's folder, the root
    README's table) to its place in the table. Returns the files changed."""
    root = Path(root)
    table = lessons(root)
    numbers = {each.folder: each.number for each in table}
    changed = []

    def rewrite(path, new):
        if path.read_text(encoding="utf-8") != new:
            path.write_text(new, encoding="utf-8")
            if path not in changed:
                changed.append(path)

    for each in table:
        readme = root / each.folder / "README.md"
        if readme.is_file():
            rewrite(readme, TITLE.sub(f"# Lesson {each.number} — ", readme.read_text(encoding="utf-8"), count=1))
        for path in numbered_files(root, each).values():
            rewrite(path, FIRST_LINE.sub(rf"\g<1>{each.number}", path.read_text(encoding="utf-8"), count=1))
    for path in markdown_files(root, numbers):

        def fix(match, path=path):
            folder = lesson_of_link(path, match.group(3), numbers, root)
            if not folder:
                return match.group(0)
            start = match.start(2) - match.start()
            return match.group(0)[:start] + str(numbers[folder]) + match.group(0)[start + len(match.group(2)) :]

        rewrite(path, LESSON_LINK.sub(fix, path.read_text(encoding="utf-8")))
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    span = lessons_section(text)
    if span:
        rewrite(readme, text[: span[0]] + readme_table(root) + "\n" + text[span[1] :])
    return changed


def main(argv=None):
    parser = ArgumentParser(
        description="Check that every lesson in the table has all its pieces, numbered as the table numbers it."
    )
    parser.add_argument(
        "--renumber",
        action="store_true",
        help="first rewrite the lesson numbers in titles, first lines and links to the table's",
    )
    args = parser.parse_args(argv)
    try:
        if args.renumber:
            for path in renumber():
                print(f"renumbered {path.relative_to(ROOT)}")
        problems = check()
    except ScriptError as error:
        print(f"check_lessons: error: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_lessons: {len(problems)} problem(s) with the lessons", file=sys.stderr)
        return 1
    print(f"check_lessons: {len(lessons())} lessons, each with all its pieces")
    return 0


if __name__ == "__main__":
    sys.exit(main())
