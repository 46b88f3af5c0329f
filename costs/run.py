"""Lesson 11: four ways to write lesson 2's `greet`, and what they accept."""

from target.debug import costs

steps = [costs.greet, costs.greet_borrowing, costs.greet_meth_o, costs.greet_in_place]
for step in steps:
    print(f"{step.__name__ + '(...)':22}", step("Smith"), step("Zoë"))

# The exception's message names the module from Python 3.9 on: the lesson
# shows it; here, the type is enough.
for step in steps:
    try:
        result = step(string="Smith")
    except TypeError:
        result = "raises TypeError"
    print(f"{step.__name__ + '(string=...)':29}", result)
