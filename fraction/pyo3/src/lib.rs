//! Lesson 12 in PyO3: the same `Fraction`, with `#[getter]`,
//! `#[classmethod]`, `#[staticmethod]`, reflected operators (`__radd__`),
//! and two things rust-cpython cannot do: a class Python may subclass, and
//! an enum.

use std::cmp::Ordering;

use pyo3::exceptions::{PyOverflowError, PyValueError, PyZeroDivisionError};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyInt, PyType};

#[path = "../../src/ratio.rs"]
mod ratio;
use ratio::{Ratio, RatioError};

/// What `Fraction.sign` returns. `eq_int` makes `Sign.NEGATIVE == -1`
/// true, so code written against the lesson's ints keeps working.
#[pyclass(module = "fraction", eq, eq_int, frozen)]
#[derive(Clone, Copy, PartialEq)]
enum Sign {
    #[pyo3(name = "NEGATIVE")]
    Negative = -1,
    #[pyo3(name = "ZERO")]
    Zero = 0,
    #[pyo3(name = "POSITIVE")]
    Positive = 1,
}

/// What `__reduce__` returns: a function to call, and its arguments.
type Reduced<'py> = (Bound<'py, PyAny>, (Bound<'py, PyType>, &'static str));

#[pymethods]
impl Sign {
    // pickle rebuilds a member as `getattr(Sign, "NEGATIVE")`, as it does
    // a member of a Python enum: the class has no constructor to call.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Reduced<'py>> {
        let name = match self {
            Sign::Negative => "NEGATIVE",
            Sign::Zero => "ZERO",
            Sign::Positive => "POSITIVE",
        };
        let getattr = py.import("builtins")?.getattr("getattr")?;
        Ok((getattr, (py.get_type::<Sign>(), name)))
    }
}

// `subclass`: Python classes may derive from this one. `frozen`: nothing
// changes after `__new__`, so PyO3 keeps no borrow flag to check.
#[pyclass(module = "fraction", subclass, frozen)]
struct Fraction {
    value: Ratio,
}

#[pymethods]
impl Fraction {
    #[new]
    #[pyo3(signature = (numerator = 0, denominator = 1))]
    fn new(numerator: i64, denominator: i64) -> PyResult<Self> {
        Ok(Fraction {
            value: Ratio::new(numerator.into(), denominator.into()).map_err(raise)?,
        })
    }

    // A getter with no `#[setter]` is read-only.
    #[getter]
    fn numerator(&self) -> i64 {
        self.value.numerator()
    }

    #[getter]
    fn denominator(&self) -> i64 {
        self.value.denominator()
    }

    #[getter]
    fn sign(&self) -> Sign {
        match self.value.sign() {
            -1 => Sign::Negative,
            0 => Sign::Zero,
            _ => Sign::Positive,
        }
    }

    #[classmethod]
    fn from_float<'py>(cls: &Bound<'py, PyType>, value: f64) -> PyResult<Bound<'py, PyAny>> {
        let value = Ratio::from_f64(value).map_err(raise)?;
        cls.call1((value.numerator(), value.denominator()))
    }

    #[staticmethod]
    fn gcd(a: i64, b: i64) -> u64 {
        ratio::gcd(a.unsigned_abs().into(), b.unsigned_abs().into()) as u64
    }

    fn __repr__(&self) -> String {
        format!(
            "Fraction({}, {})",
            self.value.numerator(),
            self.value.denominator()
        )
    }

    fn __str__(&self) -> String {
        self.value.to_string()
    }

    fn __bool__(&self) -> bool {
        self.value.sign() != 0
    }

    // Without this, defining `__richcmp__` would set `__hash__` to None:
    // the class would be unhashable, as a Python class defining `__eq__` is.
    fn __hash__(&self) -> isize {
        self.value.python_hash() as isize
    }

    fn __richcmp__<'py>(
        &self,
        other: &Bound<'py, PyAny>,
        op: CompareOp,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = other.py();
        let ordering = match operand(other)? {
            Operand::Exact(other) => self.value.cmp(&other),
            Operand::HugeInt(sign) => sign.reverse(),
            Operand::Other => return Ok(py.NotImplemented().into_bound(py)),
        };
        Ok(op
            .matches(ordering)
            .into_pyobject(py)?
            .to_owned()
            .into_any())
    }

    // PyO3 calls `__add__(self, other)` for `f + x` and `__radd__(self,
    // other)` for `x + f`: `self` is always the Fraction.
    fn __add__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        arithmetic(other, |other| self.value.add(other))
    }

    fn __radd__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        arithmetic(other, |other| other.add(self.value))
    }

    fn __sub__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        arithmetic(other, |other| self.value.sub(other))
    }

    fn __rsub__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        arithmetic(other, |other| other.sub(self.value))
    }

    fn __mul__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        arithmetic(other, |other| self.value.mul(other))
    }

    fn __rmul__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        arithmetic(other, |other| other.mul(self.value))
    }

    fn __truediv__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        arithmetic(other, |other| self.value.div(other))
    }

    fn __rtruediv__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        arithmetic(other, |other| other.div(self.value))
    }

    fn __neg__(&self) -> PyResult<Fraction> {
        Ok(Fraction {
            value: self.value.neg().map_err(raise)?,
        })
    }

    fn __abs__(&self) -> PyResult<Fraction> {
        Ok(Fraction {
            value: self.value.abs().map_err(raise)?,
        })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, (i64, i64)) {
        let value = slf.get().value;
        (slf.get_type(), (value.numerator(), value.denominator()))
    }
}

enum Operand {
    Exact(Ratio),
    HugeInt(Ordering),
    Other,
}

fn operand(object: &Bound<'_, PyAny>) -> PyResult<Operand> {
    if let Ok(fraction) = object.cast::<Fraction>() {
        return Ok(Operand::Exact(fraction.get().value));
    }
    if !object.is_instance_of::<PyInt>() {
        return Ok(Operand::Other);
    }
    Ok(match object.extract::<i64>() {
        Ok(integer) => Operand::Exact(Ratio::from(integer)),
        Err(_) if object.gt(0)? => Operand::HugeInt(Ordering::Greater),
        Err(_) => Operand::HugeInt(Ordering::Less),
    })
}

fn arithmetic<'py>(
    other: &Bound<'py, PyAny>,
    operation: impl FnOnce(Ratio) -> Result<Ratio, RatioError>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = other.py();
    match operand(other)? {
        Operand::Exact(other) => {
            let value = operation(other).map_err(raise)?;
            Ok(Bound::new(py, Fraction { value })?.into_any())
        }
        Operand::HugeInt(_) => Err(raise(RatioError::TooLarge)),
        Operand::Other => Ok(py.NotImplemented().into_bound(py)),
    }
}

fn raise(error: RatioError) -> PyErr {
    match error {
        RatioError::ZeroDenominator(numerator) => {
            PyZeroDivisionError::new_err(format!("Fraction({}, 0)", numerator))
        }
        RatioError::TooLarge => {
            PyOverflowError::new_err("Fraction does not fit in 64-bit integers")
        }
        RatioError::NotANumber => PyValueError::new_err("cannot convert NaN to integer ratio"),
        RatioError::Infinite => {
            PyOverflowError::new_err("cannot convert Infinity to integer ratio")
        }
    }
}

/// `PyRef` borrows the Rust value (on a frozen class, `&Bound` and `get()`
/// do the same without a borrow flag).
#[pyfunction]
fn mediant(a: PyRef<'_, Fraction>, b: &Bound<'_, Fraction>) -> PyResult<Fraction> {
    Ok(Fraction {
        value: a.value.mediant(b.get().value).map_err(raise)?,
    })
}

#[pymodule]
fn fraction(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Fraction>()?;
    module.add_class::<Sign>()?;
    module.add_function(wrap_pyfunction!(mediant, module)?)?;
    // pickle finds a class by `__module__`, which `module = "fraction"`
    // fixes at compile time. This module is imported as
    // `target.debug.fraction` (or `target.release.fraction`): say so, as
    // rust-cpython does by itself.
    let name = module.name()?;
    for class in ["Fraction", "Sign"] {
        module.getattr(class)?.setattr("__module__", &name)?;
    }
    Ok(())
}
