"""The classes section of `scripts/bench.py`: what Python code pays to use
a Rust class, against the Python class that does the same.

Each figure is one statement timed as `timeit` times it (no wrapper's call
counted, the garbage collector off), the best of the rounds, interleaved:
reading a property of lesson `fraction`'s `Fraction` against reading a
`__slots__` attribute, which CPython serves from a C-level descriptor (and
from 3.11 reads at a fixed offset, with no call), and against `int`'s own
`numerator`, a getter written in C, which is called as the lessons' are.
"""

import fractions
import timeit

from workspace import markdown_table

START, END = "<!-- bench-classes:start -->", "<!-- bench-classes:end -->"
PROPERTY_GOAL = 2.0


class SlotsFraction:
    """The floor: a Python class whose attribute is a slot."""

    __slots__ = ("numerator", "denominator")

    def __init__(self, numerator, denominator):
        self.numerator, self.denominator = numerator, denominator


def statement_time(fastest_batch, statement, value):
    """Seconds per run of `statement`, with `value` bound to the name `value`."""
    timer = timeit.Timer(statement, globals={"value": value})
    return fastest_batch(timer.timeit)


def measure(modules, fastest_batch, rounds):
    """{(what, who): ns}. `modules` maps a binding ("cpython", "pyo3") to
    its release `fraction` module."""
    subjects = {
        ("property", "slots"): SlotsFraction(3, 4),
        ("property", "fractions"): fractions.Fraction(3, 4),
        ("property", "C"): 3,
    }
    for binding, module in modules.items():
        subjects[("property", binding)] = module.Fraction(3, 4)
    statements = {"property": "value.numerator"}
    results = {}
    for _ in range(rounds):
        for (what, who), value in subjects.items():
            seconds = statement_time(fastest_batch, statements[what], value)
            results[(what, who)] = min(results.get((what, who), seconds * 1e9), seconds * 1e9)
    return results


def cell(results, key, floor):
    value = results.get(key)
    return "n/a" if value is None else f"{value:.1f} ns ({value / floor:.2f}x)"


def report(results):
    """The table: each binding's figure, Python's, and their ratio to the floor."""
    floor = results[("property", "slots")]
    rows = [["`value.numerator`", "rust-cpython", "PyO3", "C getter: `int`", "`fractions.Fraction`", "`__slots__`"]]
    rows.append(
        [
            "a property read",
            *(cell(results, ("property", who), floor) for who in ("cpython", "pyo3", "C", "fractions")),
            f"{floor:.1f} ns (1.00x)",
        ]
    )
    return markdown_table(rows)


def goal_lines(results):
    floor, c_getter = results[("property", "slots")], results[("property", "C")]
    lines = []
    for binding, label in (("cpython", "rust-cpython"), ("pyo3", "PyO3")):
        value = results.get(("property", binding))
        if value is None:
            continue
        verdict = "met" if value <= PROPERTY_GOAL * floor else "missed"
        lines.append(
            f"{label}: a property read takes {value / floor:.2f}x a `__slots__` read"
            f" (goal: at most {PROPERTY_GOAL}x): {verdict}; {value / c_getter:.2f}x a getter written in C"
        )
    return lines
