//! Lesson 6 in PyO3: what Python sees when things go wrong. The same set,
//! with the same exceptions and arguments as lesson 6.

use std::collections::TryReserveError;
use std::fmt::Write;

use pyo3::create_exception;
use pyo3::exceptions::{PyKeyError, PyMemoryError, PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyDict, PyInt, PyIterator, PyList, PySet, PyString, PyTuple};

type Inner = std::collections::HashSet<u32>;

// `errors.OutOfRange`, a subclass of `OverflowError`.
create_exception!(errors, OutOfRange, PyOverflowError);

#[pyclass(module = "errors")]
struct HashSet {
    hash_set: Inner,
}

#[pymethods]
impl HashSet {
    // PyO3 could make `capacity` keyword-only (`signature = (iterable=None,
    // *, capacity=0)`); it is left positional, as rust-cpython has it.
    #[new]
    #[pyo3(signature = (iterable = None, capacity = 0))]
    fn new(iterable: Option<&Bound<'_, PyAny>>, capacity: usize) -> PyResult<Self> {
        let mut set = Inner::new();
        set.try_reserve(capacity).map_err(no_memory)?;
        if let Some(iterable) = iterable {
            for item in iterable.try_iter()? {
                let value = to_member(&item?)?;
                set.try_reserve(1).map_err(no_memory)?;
                set.insert(value);
            }
        }
        Ok(HashSet { hash_set: set })
    }

    fn __len__(&self) -> usize {
        self.hash_set.len()
    }

    // `slf` instead of `&self`: `==` below may run Python code that uses
    // this set, so the set is borrowed only around each look.
    fn __contains__(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<bool> {
        let candidate = match classify(value)? {
            Value::Member(number) => return Ok(slf.borrow().hash_set.contains(&number)),
            Value::OutOfRange(_) => return Ok(false),
            Value::NotAnInt => {
                if value.is_instance_of::<PySet>() {
                    return Ok(false);
                }
                match u32::try_from(value.hash()?) {
                    Ok(candidate) => candidate,
                    Err(_) => return Ok(false),
                }
            }
        };
        if !slf.borrow().hash_set.contains(&candidate) {
            return Ok(false);
        }
        // Then ask `==`, as the builtin does.
        candidate
            .into_pyobject(slf.py())?
            .rich_compare(value, CompareOp::Eq)?
            .is_truthy()
    }

    // A snapshot of the values, as lesson 4's iterator is.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyList::new(py, sorted_values(&self.hash_set)?)?
            .as_any()
            .try_iter()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<Py<PyString>> {
        let values = sorted_values(&self.hash_set)?;
        if values.is_empty() {
            return text_object(py, "HashSet()");
        }
        let mut text = String::new();
        text.try_reserve_exact(12 * values.len() + 11)
            .map_err(no_memory)?;
        text.push_str("HashSet({");
        for (index, value) in values.iter().enumerate() {
            let separator = if index == 0 { "" } else { ", " };
            write!(text, "{}{}", separator, value).expect("writing to a String cannot fail");
        }
        text.push_str("})");
        text_object(py, &text)
    }

    fn add(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = to_member(value)?;
        self.hash_set.try_reserve(1).map_err(no_memory)?;
        self.hash_set.insert(value);
        Ok(())
    }

    fn discard(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = to_member(value)?;
        self.hash_set.remove(&value);
        Ok(())
    }

    fn remove(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let member = to_member(value)?;
        if !self.hash_set.remove(&member) {
            return Err(PyKeyError::new_err((value.clone().unbind(),)));
        }
        Ok(())
    }

    // The same `(*iterables, **kwargs)` as rust-cpython's, for the same
    // messages; PyO3 could take `*iterables` alone.
    #[pyo3(signature = (*iterables, **kwargs))]
    fn update(
        slf: &Bound<'_, Self>,
        iterables: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        if kwargs.is_some_and(|kwargs| !kwargs.is_empty()) {
            return Err(PyTypeError::new_err(
                "HashSet.update() takes no keyword arguments",
            ));
        }
        let mut values = Vec::new();
        for iterable in iterables.iter() {
            for item in iterable.try_iter()? {
                let value = to_member(&item?)?;
                values.try_reserve(1).map_err(no_memory)?;
                values.push(value);
            }
        }
        let set = &mut slf.borrow_mut().hash_set;
        set.try_reserve(values.len()).map_err(no_memory)?;
        set.extend(values);
        Ok(())
    }
}

enum Value {
    Member(u32),
    OutOfRange(String),
    NotAnInt,
}

fn classify(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if !value.is_instance_of::<PyInt>() {
        return Ok(Value::NotAnInt);
    }
    let mut overflow = 0;
    // SAFETY: `value` is a live `int` (checked above) and the GIL is held.
    // It is read directly: no Python code runs, not even a subclass's.
    let number = unsafe { pyo3::ffi::PyLong_AsLongLongAndOverflow(value.as_ptr(), &mut overflow) };
    if number == -1 {
        if let Some(error) = PyErr::take(value.py()) {
            return Err(error);
        }
    }
    Ok(match (overflow, u32::try_from(number)) {
        (0, Ok(member)) => Value::Member(member),
        (0, Err(_)) if number < 0 => Value::OutOfRange(format!("{} is negative", number)),
        (0, Err(_)) => Value::OutOfRange(format!("{} is too large", number)),
        (sign, _) if sign < 0 => Value::OutOfRange("integer is negative".to_owned()),
        _ => Value::OutOfRange("integer is too large".to_owned()),
    })
}

fn to_member(value: &Bound<'_, PyAny>) -> PyResult<u32> {
    match classify(value)? {
        Value::Member(number) => Ok(number),
        Value::OutOfRange(problem) => Err(OutOfRange::new_err(format!(
            "{}: HashSet holds integers from 0 to {}",
            problem,
            u32::MAX
        ))),
        Value::NotAnInt => {
            let name = value.get_type().name()?;
            Err(PyTypeError::new_err(format!(
                "HashSet values must be int, not {}",
                name
            )))
        }
    }
}

/// The values, sorted, in memory reserved first.
fn sorted_values(set: &Inner) -> PyResult<Vec<u32>> {
    let mut values = Vec::new();
    values.try_reserve_exact(set.len()).map_err(no_memory)?;
    values.extend(set.iter().copied());
    values.sort_unstable();
    Ok(values)
}

/// A Python `str` for `text`: PyO3's `PyString::new` panics when Python
/// cannot allocate it; this raises `MemoryError`.
fn text_object(py: Python<'_>, text: &str) -> PyResult<Py<PyString>> {
    let length = pyo3::ffi::Py_ssize_t::try_from(text.len()).expect("a str fits in Py_ssize_t");
    // SAFETY: the pointer and length describe valid UTF-8 that lives through
    // the call; the result is a new reference or NULL with an exception set.
    // The GIL is held (`py`).
    let object = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyUnicode_FromStringAndSize(text.as_ptr().cast(), length),
        )
    }?;
    Ok(object.cast_into::<PyString>()?.unbind())
}

fn no_memory(error: TryReserveError) -> PyErr {
    PyMemoryError::new_err(error.to_string())
}

#[pymodule]
fn errors(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<HashSet>()?;
    // pickle finds a class by its `__module__`: the name this module was
    // imported as, which `module = "errors"` cannot know (lesson 12).
    module
        .getattr("HashSet")?
        .setattr("__module__", module.name()?)?;
    module.add("OutOfRange", module.py().get_type::<OutOfRange>())?;
    Ok(())
}
