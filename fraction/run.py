"""Lesson 12: a Rust class that Python treats as a number."""

import pickle

from target.debug.fraction import Fraction, mediant

half = Fraction(2, 4)
print(repr(half), str(half), half.numerator, half.denominator)
print(half + 1, 1 + half, 1 - half, half / 3, -half)
print(half == Fraction(1, 2), half < 1, hash(Fraction(4, 2)) == hash(2))
print(sorted([2, Fraction(7, 3), half, -1]))
print(Fraction.from_float(0.25), Fraction.gcd(12, 18), mediant(half, Fraction(2, 3)))
print(pickle.loads(pickle.dumps(half)) == half)
