"""The classes section of `scripts/bench.py`: what Python code pays to use
a Rust class, against the Python class that does the same.

Each figure is one statement timed as `timeit` times it (no wrapper's call
counted, the garbage collector off), the best of the rounds, interleaved:
reading a property of lesson `fraction`'s `Fraction` against reading a
`__slots__` attribute, which CPython serves from a C-level descriptor (and
from 3.11 reads at a fixed offset, with no call), and against `int`'s own
`numerator`, a getter written in C, which is called as the lessons' are;
and `m[key]` on lesson `mapping`'s `StringMap` against the same on a `dict`
of the same keys.
"""

import fractions
import timeit

from workspace import markdown_table

# Lesson fraction shows the property table, lesson mapping the lookup's.
PROPERTY_MARKERS = ("<!-- bench-properties:start -->", "<!-- bench-properties:end -->")
MAPPING_MARKERS = ("<!-- bench-mappings:start -->", "<!-- bench-mappings:end -->")
PROPERTY_GOAL = 2.0
MAPPING_GOAL = 3.0
# Keys in the mappings measured; the one looked up is among them.
MAPPING_SIZE = 1_000


class SlotsFraction:
    """The floor: a Python class whose attribute is a slot."""

    __slots__ = ("numerator", "denominator")

    def __init__(self, numerator, denominator):
        self.numerator, self.denominator = numerator, denominator


STATEMENTS = {"property": "value.numerator", "mapping": "value[key]"}
KEY = "key 500"


def statement_time(fastest_batch, statement, value):
    """Seconds per run of `statement`, with `value` bound to the name
    `value` and the key looked up to `key`."""
    timer = timeit.Timer(statement, globals={"value": value, "key": KEY})
    return fastest_batch(timer.timeit)


def filled(mapping):
    for number in range(MAPPING_SIZE):
        mapping[f"key {number}"] = number
    return mapping


def measure(modules, fastest_batch, rounds):
    """{(what, who): ns}. `modules` maps a binding ("cpython", "pyo3") to
    its release modules, {"fraction": ..., "mapping": ...}."""
    subjects = {
        ("property", "slots"): SlotsFraction(3, 4),
        ("property", "fractions"): fractions.Fraction(3, 4),
        ("property", "C"): 3,
        ("mapping", "dict"): filled({}),
    }
    for binding, lessons in modules.items():
        subjects[("property", binding)] = lessons["fraction"].Fraction(3, 4)
        subjects[("mapping", binding)] = filled(lessons["mapping"].StringMap())
    results = {}
    for _ in range(rounds):
        for (what, who), value in subjects.items():
            nanoseconds = statement_time(fastest_batch, STATEMENTS[what], value) * 1e9
            results[(what, who)] = min(results.get((what, who), nanoseconds), nanoseconds)
    return results


def cell(results, key, floor):
    value = results.get(key)
    return "n/a" if value is None else f"{value:.1f} ns ({value / floor:.2f}x)"


def property_table(results):
    """Each binding's property read, a C getter's and Python's, as ratios
    to a `__slots__` read."""
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


def mapping_table(results):
    """Each binding's `m[key]` as a ratio to a dict's."""
    floor = results[("mapping", "dict")]
    rows = [["`value[key]`", "rust-cpython", "PyO3", "`dict`"]]
    rows.append(
        [
            f"a lookup among {MAPPING_SIZE:,} `str` keys",
            *(cell(results, ("mapping", who), floor) for who in ("cpython", "pyo3")),
            f"{floor:.1f} ns (1.00x)",
        ]
    )
    return markdown_table(rows)


def judged(results, what, floor, goal):
    """(label, ratio to `floor`, "met" or "missed") for each binding measured."""
    for binding, label in (("cpython", "rust-cpython"), ("pyo3", "PyO3")):
        value = results.get((what, binding))
        if value is not None:
            yield label, value / floor, "met" if value <= goal * floor else "missed"


def property_goal_lines(results):
    floor, c_getter = results[("property", "slots")], results[("property", "C")]
    return [
        f"{label}: a property read takes {ratio:.2f}x a `__slots__` read (goal: at most {PROPERTY_GOAL}x):"
        f" {verdict}; {ratio * floor / c_getter:.2f}x a getter written in C"
        for label, ratio, verdict in judged(results, "property", floor, PROPERTY_GOAL)
    ]


def mapping_goal_lines(results):
    floor = results[("mapping", "dict")]
    return [
        f"{label}: `m[key]` takes {ratio:.2f}x a dict's (goal: at most {MAPPING_GOAL}x): {verdict}"
        for label, ratio, verdict in judged(results, "mapping", floor, MAPPING_GOAL)
    ]
