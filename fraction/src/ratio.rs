//! The arithmetic, with no binding in it: a fraction of two 64-bit
//! integers kept in lowest terms. The lesson and its PyO3 twin both compile
//! this file, so the two differ only in how they show it to Python.

use std::cmp::Ordering;
use std::fmt;

/// `numerator / denominator` in lowest terms with `denominator > 0`, the
/// form `fractions.Fraction` keeps: equal values have equal fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    numerator: i64,
    denominator: i64,
}

/// Why a fraction could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatioError {
    /// A zero denominator; carries the numerator, which Python's message shows.
    ZeroDenominator(i128),
    /// The result in lowest terms needs more than 64 bits.
    TooLarge,
    /// A float that is not a number (NaN).
    NotANumber,
    /// An infinite float.
    Infinite,
}

impl Ratio {
    /// `numerator / denominator`, reduced. Products of two `i64`s fit in an
    /// `i128`, so every operation below is exact until this last step.
    pub fn new(numerator: i128, denominator: i128) -> Result<Ratio, RatioError> {
        if denominator == 0 {
            return Err(RatioError::ZeroDenominator(numerator));
        }
        let divisor = gcd(numerator.unsigned_abs(), denominator.unsigned_abs()) as i128;
        let sign = denominator.signum();
        let fits = |value: i128| i64::try_from(value).map_err(|_| RatioError::TooLarge);
        Ok(Ratio {
            numerator: fits(sign * numerator / divisor)?,
            denominator: fits(sign * denominator / divisor)?,
        })
    }

    pub fn numerator(self) -> i64 {
        self.numerator
    }

    pub fn denominator(self) -> i64 {
        self.denominator
    }

    fn parts(self) -> (i128, i128) {
        (self.numerator.into(), self.denominator.into())
    }

    pub fn add(self, other: Ratio) -> Result<Ratio, RatioError> {
        let ((a, b), (c, d)) = (self.parts(), other.parts());
        Ratio::new(a * d + c * b, b * d)
    }

    pub fn sub(self, other: Ratio) -> Result<Ratio, RatioError> {
        let ((a, b), (c, d)) = (self.parts(), other.parts());
        Ratio::new(a * d - c * b, b * d)
    }

    pub fn mul(self, other: Ratio) -> Result<Ratio, RatioError> {
        let ((a, b), (c, d)) = (self.parts(), other.parts());
        Ratio::new(a * c, b * d)
    }

    pub fn div(self, other: Ratio) -> Result<Ratio, RatioError> {
        let ((a, b), (c, d)) = (self.parts(), other.parts());
        if c == 0 {
            // What Python 3.12 and newer say, whatever the dividend.
            return Err(RatioError::ZeroDenominator(1));
        }
        Ratio::new(a * d, b * c)
    }

    pub fn neg(self) -> Result<Ratio, RatioError> {
        let (a, b) = self.parts();
        Ratio::new(-a, b)
    }

    pub fn abs(self) -> Result<Ratio, RatioError> {
        let (a, b) = self.parts();
        Ratio::new(a.abs(), b)
    }

    /// `(a.numerator + b.numerator) / (a.denominator + b.denominator)`:
    /// the fraction between two others with the smallest denominator.
    pub fn mediant(self, other: Ratio) -> Result<Ratio, RatioError> {
        let ((a, b), (c, d)) = (self.parts(), other.parts());
        Ratio::new(a + c, b + d)
    }

    /// -1, 0 or 1.
    pub fn sign(self) -> i64 {
        self.numerator.signum()
    }

    /// The exact value of a float, as `float.as_integer_ratio()` gives it.
    pub fn from_f64(value: f64) -> Result<Ratio, RatioError> {
        if value.is_nan() {
            return Err(RatioError::NotANumber);
        }
        if value.is_infinite() {
            return Err(RatioError::Infinite);
        }
        // A finite float is mantissa * 2**exponent, both integers.
        let bits = value.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1 << 52) - 1);
        let (mut mantissa, mut exponent) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | 1 << 52, biased - 1075)
        };
        if mantissa == 0 {
            return Ok(Ratio::from(0));
        }
        let zeros = mantissa.trailing_zeros();
        mantissa >>= zeros;
        exponent += zeros as i32;
        let sign = if value < 0.0 { -1 } else { 1 };
        let power = |shift: i32| {
            1i128
                .checked_shl(shift as u32)
                .filter(|_| shift < 64)
                .ok_or(RatioError::TooLarge)
        };
        if exponent >= 0 {
            Ratio::new(sign * i128::from(mantissa) * power(exponent)?, 1)
        } else {
            Ratio::new(sign * i128::from(mantissa), power(-exponent)?)
        }
    }

    /// The hash Python gives a number of this value (`hash(Fraction(n, d))`,
    /// and `hash(n)` when `d` is 1): equal numbers must hash alike, whatever
    /// their type. It is the value modulo the prime 2**61 - 1.
    pub fn python_hash(self) -> i64 {
        const MODULUS: u128 = (1 << 61) - 1;
        const INFINITY: u128 = 314_159; // sys.hash_info.inf
        let denominator = self.denominator as u128 % MODULUS;
        let magnitude = if denominator == 0 {
            INFINITY
        } else {
            // Dividing by d modulo a prime is multiplying by d**(p-2).
            u128::from(self.numerator.unsigned_abs()) % MODULUS
                * power_modulo(denominator, MODULUS - 2, MODULUS)
                % MODULUS
        };
        let hash = if self.numerator < 0 {
            -(magnitude as i64)
        } else {
            magnitude as i64
        };
        // -1 means "error" to CPython's hash slot, so Python never uses it.
        if hash == -1 {
            -2
        } else {
            hash
        }
    }
}

impl From<i64> for Ratio {
    fn from(value: i64) -> Ratio {
        Ratio {
            numerator: value,
            denominator: 1,
        }
    }
}

impl Ord for Ratio {
    fn cmp(&self, other: &Ratio) -> Ordering {
        let ((a, b), (c, d)) = (self.parts(), other.parts());
        (a * d).cmp(&(c * b))
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Ratio) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `str()` of a `fractions.Fraction`: `3/4`, or `3` for a whole number.
impl fmt::Display for Ratio {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.denominator == 1 {
            write!(formatter, "{}", self.numerator)
        } else {
            write!(formatter, "{}/{}", self.numerator, self.denominator)
        }
    }
}

/// Euclid's algorithm; `gcd(0, 0)` is 0, as `math.gcd` says.
pub fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn power_modulo(mut base: u128, mut exponent: u128, modulus: u128) -> u128 {
    let mut result = 1;
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = result * base % modulus;
        }
        base = base * base % modulus;
        exponent >>= 1;
    }
    result
}
