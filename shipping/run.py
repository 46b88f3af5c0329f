"""Lesson 17: lesson 5's set, imported from where pip installed it.

Run it as a file, with the Python of the environment it is installed in,
so that `borrowed` is found in site-packages and not as the lesson 5
folder of the workspace root.
"""

import sys
from pathlib import Path

import borrowed
from borrowed import HashSet

print("borrowed is", Path(borrowed.__file__).relative_to(sys.prefix))
print("its Rust module is", Path(borrowed.borrowed.__file__).name)
numbers = HashSet()
numbers.add(1)
numbers.add(2)
print("has 1:", 1 in numbers)
print("sorted:", sorted(numbers))
