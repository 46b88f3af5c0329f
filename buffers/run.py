"""Lesson 15: Python's memory read and written by Rust in place, and the
datetime module's C API through its capsule."""

import array
import datetime
import mmap
import zlib

from target.debug.buffers import Reader, crc32, make_datetime, sum_int64, xor

data = bytearray(b"memory that Python owns")
print(crc32(data) == zlib.crc32(data), crc32(memoryview(data)[7:11]) == zlib.crc32(b"that"))

# Written in place: the bytearray itself changes.
xor(data, 32)
print(data)

# A typed buffer: the format is checked before a single item is read.
print(sum_int64(array.array("q", [2, 3, 5, 7])))
try:
    sum_int64(array.array("d", [2.0]))
except TypeError as error:
    print("TypeError:", error)

# While a Reader holds the bytearray's buffer, the bytearray cannot resize.
reader = Reader(data)
try:
    data.extend(b"!")
except BufferError as error:
    print("BufferError:", error)
reader.release()
data.extend(b"!")

with mmap.mmap(-1, 4096) as mapped, Reader(mapped) as pages:
    print(len(pages), pages.count(0))

print(make_datetime(2022, 3, 9, 12) == datetime.datetime(2022, 3, 9, 12))
