//! Lesson 6: what Python sees when things go wrong. A set of `u32` whose
//! every failure is the exception a Python caller expects, with arguments
//! as Python's own `set` takes them.

use std::cell::RefCell;
use std::collections::TryReserveError;
use std::fmt::Write;

use cpython::{
    exc, py_class, py_exception, py_module_initializer, CompareOp, ObjectProtocol, PyErr, PyLong,
    PyNone, PyObject, PyResult, PySet, PyString, PyTuple, Python, PythonObject, ToPyObject,
};
use python3_sys as ffi;

type Inner = std::collections::HashSet<u32>;

// `errors.OutOfRange`, a subclass of `OverflowError`: a caller can catch
// this set's range errors apart from any other overflow.
py_exception!(errors, OutOfRange, exc::OverflowError);

py_class!(pub class HashSet |py| {
    data hash_set: RefCell<Inner>;

    // Both parameters are optional, by position or by keyword. rust-cpython
    // cannot make `capacity` keyword-only (see the lesson).
    def __new__(_cls, iterable: Option<PyObject> = None, capacity: usize = 0) -> PyResult<HashSet> {
        let mut set = Inner::new();
        set.try_reserve(capacity).map_err(|error| no_memory(py, error))?;
        if let Some(iterable) = iterable {
            for item in iterable.iter(py)? {
                let value = to_member(py, &item?)?;
                set.try_reserve(1).map_err(|error| no_memory(py, error))?;
                set.insert(value);
            }
        }
        HashSet::create_instance(py, RefCell::new(set))
    }

    def __len__(&self) -> PyResult<usize> {
        Ok(self.hash_set(py).borrow().len())
    }

    def __contains__(&self, value: PyObject) -> PyResult<bool> {
        let candidate = match classify(py, &value)? {
            Value::Member(number) => return Ok(self.hash_set(py).borrow().contains(&number)),
            Value::OutOfRange(_) => return Ok(false),
            // A number equal to an integer n hashes like n, and for n from 0
            // to u32::MAX that hash is n itself: the hash names the only
            // member `value` could be equal to.
            Value::NotAnInt => {
                // The builtin looks a `set` up as the equal `frozenset`,
                // instead of failing to hash it; no set is a member here.
                if value.cast_as::<PySet>(py).is_ok() {
                    return Ok(false);
                }
                match u32::try_from(value.hash(py)?) {
                    Ok(candidate) => candidate,
                    Err(_) => return Ok(false),
                }
            }
        };
        if !self.hash_set(py).borrow().contains(&candidate) {
            return Ok(false);
        }
        // Then ask `==`, as the builtin does. It may run Python code (a
        // `Fraction`'s `__eq__`), so no borrow of the set is held here.
        candidate.to_py_object(py).into_object().rich_compare(py, value, CompareOp::Eq)?.is_true(py)
    }

    // A snapshot, as lesson 4's iterator is (the loan is lesson 5's subject).
    def __iter__(&self) -> PyResult<PyObject> {
        let values = sorted_values(py, &self.hash_set(py).borrow())?;
        Ok(values.to_py_object(py).into_object().iter(py)?.into_object())
    }

    def __repr__(&self) -> PyResult<PyString> {
        let values = sorted_values(py, &self.hash_set(py).borrow())?;
        if values.is_empty() {
            return text_object(py, "HashSet()");
        }
        // Ten digits and ", " at most per value: with the room reserved
        // first, writing the text cannot need more memory.
        let mut text = String::new();
        text.try_reserve_exact(12 * values.len() + 11).map_err(|error| no_memory(py, error))?;
        text.push_str("HashSet({");
        for (index, value) in values.iter().enumerate() {
            let separator = if index == 0 { "" } else { ", " };
            write!(text, "{}{}", separator, value).expect("writing to a String cannot fail");
        }
        text.push_str("})");
        text_object(py, &text)
    }

    def add(&self, value: PyObject) -> PyResult<PyNone> {
        let value = to_member(py, &value)?;
        let mut set = self.hash_set(py).borrow_mut();
        set.try_reserve(1).map_err(|error| no_memory(py, error))?;
        set.insert(value);
        Ok(PyNone)
    }

    def discard(&self, value: PyObject) -> PyResult<PyNone> {
        let value = to_member(py, &value)?;
        self.hash_set(py).borrow_mut().remove(&value);
        Ok(PyNone)
    }

    def remove(&self, value: PyObject) -> PyResult<PyNone> {
        let member = to_member(py, &value)?;
        if !self.hash_set(py).borrow_mut().remove(&member) {
            // The missing value itself, as the builtin's KeyError carries it.
            return Err(PyErr::new::<exc::KeyError, _>(py, PyTuple::new(py, &[value])));
        }
        Ok(PyNone)
    }

    // rust-cpython accepts `*args` only together with `**kwargs`.
    def update(&self, *iterables, **kwargs) -> PyResult<PyNone> {
        if kwargs.is_some_and(|kwargs| kwargs.len(py) > 0) {
            let message = "HashSet.update() takes no keyword arguments";
            return Err(PyErr::new::<exc::TypeError, _>(py, message));
        }
        // Read everything before borrowing the set: an iterable runs Python
        // code, which may use this very set.
        let mut values = Vec::new();
        for iterable in iterables.iter(py) {
            for item in iterable.iter(py)? {
                let value = to_member(py, &item?)?;
                values.try_reserve(1).map_err(|error| no_memory(py, error))?;
                values.push(value);
            }
        }
        let mut set = self.hash_set(py).borrow_mut();
        set.try_reserve(values.len()).map_err(|error| no_memory(py, error))?;
        set.extend(values);
        Ok(PyNone)
    }
});

/// What a Python value means to a set that holds only `u32`s.
enum Value {
    Member(u32),
    OutOfRange(String),
    NotAnInt,
}

fn classify(py: Python, value: &PyObject) -> PyResult<Value> {
    if value.cast_as::<PyLong>(py).is_err() {
        return Ok(Value::NotAnInt);
    }
    let mut overflow = 0;
    // SAFETY: `value` is a live `int` (checked above) and the GIL is held.
    // This reads the number directly, so no Python code runs, not even an
    // `int` subclass's methods. A value beyond 64 bits is reported through
    // `overflow` (-1 or +1) instead of an error.
    let number = unsafe { ffi::PyLong_AsLongLongAndOverflow(value.as_ptr(), &mut overflow) };
    if number == -1 && PyErr::occurred(py) {
        return Err(PyErr::fetch(py));
    }
    Ok(match (overflow, u32::try_from(number)) {
        (0, Ok(member)) => Value::Member(member),
        (0, Err(_)) if number < 0 => Value::OutOfRange(format!("{} is negative", number)),
        (0, Err(_)) => Value::OutOfRange(format!("{} is too large", number)),
        // Beyond 64 bits: too many digits to be worth printing.
        (sign, _) if sign < 0 => Value::OutOfRange("integer is negative".to_owned()),
        _ => Value::OutOfRange("integer is too large".to_owned()),
    })
}

/// The `u32` a value stands for, or the exception `add`, `discard`,
/// `remove` and the constructor raise for it.
fn to_member(py: Python, value: &PyObject) -> PyResult<u32> {
    match classify(py, value)? {
        Value::Member(number) => Ok(number),
        Value::OutOfRange(problem) => Err(OutOfRange::new(
            py,
            format!("{}: HashSet holds integers from 0 to {}", problem, u32::MAX),
        )),
        Value::NotAnInt => {
            let name = value.get_type(py).name(py).into_owned();
            let message = format!("HashSet values must be int, not {}", name);
            Err(PyErr::new::<exc::TypeError, _>(py, message))
        }
    }
}

/// The values, sorted, in memory reserved first (or `MemoryError`).
fn sorted_values(py: Python, set: &Inner) -> PyResult<Vec<u32>> {
    let mut values = Vec::new();
    values
        .try_reserve_exact(set.len())
        .map_err(|error| no_memory(py, error))?;
    values.extend(set.iter().copied());
    values.sort_unstable();
    Ok(values)
}

/// A Python `str` for `text`. Returning a `String` would let rust-cpython
/// convert it, and that conversion panics (so Python sees `SystemError`)
/// when Python cannot allocate the `str`; this raises `MemoryError`.
fn text_object(py: Python, text: &str) -> PyResult<PyString> {
    // A `&str` is never longer than `isize::MAX` bytes.
    let length = ffi::Py_ssize_t::try_from(text.len()).expect("a str fits in Py_ssize_t");
    // SAFETY: the pointer and length describe valid UTF-8 that lives through
    // the call; the result is a new reference or NULL with an exception set,
    // which `from_owned_ptr_opt` takes over. The GIL is held (`py`).
    let object = unsafe { ffi::PyUnicode_FromStringAndSize(text.as_ptr().cast(), length) };
    // SAFETY: as above.
    let object =
        unsafe { PyObject::from_owned_ptr_opt(py, object) }.ok_or_else(|| PyErr::fetch(py))?;
    Ok(object.cast_into::<PyString>(py)?)
}

/// Rust aborts the process when an allocation fails; `try_reserve` reports
/// it instead, and Python's name for it is `MemoryError`.
fn no_memory(py: Python, error: TryReserveError) -> PyErr {
    PyErr::new::<exc::MemoryError, _>(py, error.to_string())
}

py_module_initializer!(errors, |py, module| {
    module.add_class::<HashSet>(py)?;
    module.add(py, "OutOfRange", py.get_type::<OutOfRange>())?;
    Ok(())
});
