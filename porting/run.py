"""Lesson 16: one library that Python imports as a package of submodules;
the same calls whichever library serves each submodule."""

import struct
import sys
import zlib

import target.debug.porting.sets
from target.debug.porting import checksums
from target.debug.porting.sets import HashSet

from porting.policy import PolicyError, from_environment, load

# Each submodule from the library $PORTING_PYO3 says (see policy.py).
try:
    porting = load(from_environment())
except PolicyError as error:
    sys.exit(f"porting: {error}")

print(target.debug.porting.sets.__name__, HashSet.__module__)
values = HashSet([3, 1, 2])
print(values.sorted(), checksums.crc32_of_set(values) == zlib.crc32(struct.pack("<3I", 1, 2, 3)))

# The same calls, whichever library serves each submodule.
values = porting.sets.HashSet([3, 1, 2])
values.add(4)
print(porting.checksums.crc32_of_set(values), porting.checksums.crc32(b"abc") == zlib.crc32(b"abc"))
