//! Lesson 12: a class that behaves like a Python value. `Fraction`
//! imitates `fractions.Fraction` over 64-bit integers: read-only
//! properties, a class method and a static method, `repr`/`str`/`bool`,
//! comparisons with a hash to match, operators that work from either side,
//! and pickling. The arithmetic itself is in `ratio.rs`.

use std::cmp::Ordering;

use cpython::{
    exc, py_class, py_fn, py_module_initializer, CompareOp, ObjectProtocol, PyErr, PyLong,
    PyObject, PyResult, PyType, Python, PythonObject, ToPyObject,
};

mod ratio;
use ratio::{Ratio, RatioError};

py_class!(pub class Fraction |py| {
    data value: Ratio;

    def __new__(_cls, numerator: i64 = 0, denominator: i64 = 1) -> PyResult<Fraction> {
        let value = Ratio::new(numerator.into(), denominator.into()).map_err(|error| raise(py, error))?;
        Fraction::create_instance(py, value)
    }

    // A property with no setter is read-only: assigning to it, or `del`,
    // raises AttributeError.
    @property def numerator(&self) -> PyResult<i64> {
        Ok(self.value(py).numerator())
    }

    @property def denominator(&self) -> PyResult<i64> {
        Ok(self.value(py).denominator())
    }

    // rust-cpython has no enums: -1, 0 or 1, as Python code would write it.
    @property def sign(&self) -> PyResult<i64> {
        Ok(self.value(py).sign())
    }

    // An alternative constructor: it calls the class it was called on,
    // which is what makes it a class method and not a static one.
    @classmethod def from_float(cls, value: f64) -> PyResult<PyObject> {
        let value = Ratio::from_f64(value).map_err(|error| raise(py, error))?;
        cls.call(py, (value.numerator(), value.denominator()), None)
    }

    // Needs neither an instance nor the class: a function kept in the
    // class's namespace.
    @staticmethod def gcd(a: i64, b: i64) -> PyResult<u64> {
        Ok(ratio::gcd(a.unsigned_abs().into(), b.unsigned_abs().into()) as u64)
    }

    def __repr__(&self) -> PyResult<String> {
        let value = self.value(py);
        Ok(format!("Fraction({}, {})", value.numerator(), value.denominator()))
    }

    def __str__(&self) -> PyResult<String> {
        Ok(self.value(py).to_string())
    }

    def __bool__(&self) -> PyResult<bool> {
        Ok(self.value(py).sign() != 0)
    }

    // Equal values hash alike, whatever their type: Fraction(2, 1) == 2,
    // so hash(Fraction(2, 1)) == hash(2).
    def __hash__(&self) -> PyResult<i64> {
        Ok(self.value(py).python_hash())
    }

    // `other: PyObject`, not `other: Fraction`: a typed parameter would
    // make every comparison with an int return NotImplemented.
    def __richcmp__(&self, other: PyObject, op: CompareOp) -> PyResult<PyObject> {
        let ordering = match operand(py, &other) {
            Operand::Exact(other) => self.value(py).cmp(&other),
            Operand::HugeInt(sign) => sign.reverse(),
            Operand::Other => return Ok(py.NotImplemented()),
        };
        let result = match op {
            CompareOp::Lt => ordering == Ordering::Less,
            CompareOp::Le => ordering != Ordering::Greater,
            CompareOp::Eq => ordering == Ordering::Equal,
            CompareOp::Ne => ordering != Ordering::Equal,
            CompareOp::Gt => ordering == Ordering::Greater,
            CompareOp::Ge => ordering != Ordering::Less,
        };
        Ok(result.to_py_object(py).into_object())
    }

    // No `__radd__`: for `1 + f`, int's `__add__` gives up and Python calls
    // this same method as `__add__(1, f)`. Either side may be the Fraction.
    def __add__(lhs, rhs) -> PyResult<PyObject> {
        arithmetic(py, lhs, rhs, Ratio::add)
    }

    def __sub__(lhs, rhs) -> PyResult<PyObject> {
        arithmetic(py, lhs, rhs, Ratio::sub)
    }

    def __mul__(lhs, rhs) -> PyResult<PyObject> {
        arithmetic(py, lhs, rhs, Ratio::mul)
    }

    def __truediv__(lhs, rhs) -> PyResult<PyObject> {
        arithmetic(py, lhs, rhs, Ratio::div)
    }

    def __neg__(&self) -> PyResult<Fraction> {
        fraction(py, self.value(py).neg())
    }

    def __abs__(&self) -> PyResult<Fraction> {
        fraction(py, self.value(py).abs())
    }

    // pickle and copy rebuild the object as `type(self)(numerator,
    // denominator)`: they find the class by its `__module__` and name.
    def __reduce__(&self) -> PyResult<(PyType, (i64, i64))> {
        let value = self.value(py);
        Ok((self.as_object().get_type(py), (value.numerator(), value.denominator())))
    }
});

/// What an operator was given on its other side.
enum Operand {
    Exact(Ratio),
    /// An int beyond 64 bits: only its sign matters in a comparison.
    HugeInt(Ordering),
    /// Anything else, floats and `fractions.Fraction` included.
    Other,
}

fn operand(py: Python, object: &PyObject) -> Operand {
    if let Ok(fraction) = object.cast_as::<Fraction>(py) {
        return Operand::Exact(*fraction.value(py));
    }
    if object.cast_as::<PyLong>(py).is_err() {
        return Operand::Other;
    }
    match object.extract::<i64>(py) {
        Ok(integer) => Operand::Exact(Ratio::from(integer)),
        Err(_) => Operand::HugeInt(object.compare(py, 0).unwrap_or(Ordering::Equal)),
    }
}

fn arithmetic(
    py: Python,
    lhs: &PyObject,
    rhs: &PyObject,
    operation: fn(Ratio, Ratio) -> Result<Ratio, RatioError>,
) -> PyResult<PyObject> {
    match (operand(py, lhs), operand(py, rhs)) {
        (Operand::Exact(lhs), Operand::Exact(rhs)) => {
            Ok(fraction(py, operation(lhs, rhs))?.into_object())
        }
        (Operand::HugeInt(_), _) | (_, Operand::HugeInt(_)) => Err(raise(py, RatioError::TooLarge)),
        _ => Ok(py.NotImplemented()),
    }
}

fn fraction(py: Python, value: Result<Ratio, RatioError>) -> PyResult<Fraction> {
    Fraction::create_instance(py, value.map_err(|error| raise(py, error))?)
}

/// The exception `fractions.Fraction` raises for the same mistake.
fn raise(py: Python, error: RatioError) -> PyErr {
    match error {
        RatioError::ZeroDenominator(numerator) => {
            PyErr::new::<exc::ZeroDivisionError, _>(py, format!("Fraction({}, 0)", numerator))
        }
        RatioError::TooLarge => {
            PyErr::new::<exc::OverflowError, _>(py, "Fraction does not fit in 64-bit integers")
        }
        RatioError::NotANumber => {
            PyErr::new::<exc::ValueError, _>(py, "cannot convert NaN to integer ratio")
        }
        RatioError::Infinite => {
            PyErr::new::<exc::OverflowError, _>(py, "cannot convert Infinity to integer ratio")
        }
    }
}

py_module_initializer!(fraction, |py, module| {
    module.add_class::<Fraction>(py)?;
    // An instance of the class as a parameter: anything else is a TypeError
    // before the body runs.
    module.add(
        py,
        "mediant",
        py_fn!(py, mediant(a: Fraction, b: Fraction) -> PyResult<Fraction> {
            fraction(py, a.value(py).mediant(*b.value(py)))
        }),
    )?;
    Ok(())
});
