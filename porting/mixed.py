"""Lesson 16's two libraries in one process: PyO3's checksums reading
rust-cpython's sets through the bridge. `python3 -m porting.mixed`."""

import importlib
import os
import sys

from scripts.binding_switch import BINDING_VARIABLE

if os.environ.get(BINDING_VARIABLE, "cpython") != "cpython":
    sys.exit(f"porting.mixed: needs the rust-cpython library too: run it without {BINDING_VARIABLE}")

import target.debug.porting as legacy  # noqa: E402 (after the check)

twin = importlib.import_module("target.debug.pyo3.porting")

numbers = legacy.sets.HashSet([3, 1, 2])
try:
    twin.checksums.crc32_of_set(numbers)
except TypeError as error:
    print("TypeError:", error)

twin.bridge.accept_from(legacy.sets)
print(twin.checksums.crc32_of_set(numbers) == legacy.checksums.crc32_of_set(numbers))
try:
    twin.bridge.accept_from(twin.sets)
except TypeError as error:
    print("TypeError:", error)

print(sorted(twin.bridge.LegacyValues(numbers)))
walk = twin.bridge.LegacyValues(numbers)
numbers.add(4)
try:
    next(walk)
except RuntimeError as error:
    print("RuntimeError:", error)
