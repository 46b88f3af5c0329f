//! Lesson 6: what Python sees when things go wrong. Lesson 5's set, with
//! exceptions that say what happened, arguments Python callers expect, and
//! no abort on a full memory or a panic.

use std::cell::RefCell;
use std::collections::{hash_set, TryReserveError};
use std::fmt::Write;

use cpython::{
    exc, py_class, py_exception, py_fn, CompareOp, ObjectProtocol, PyClone, PyErr, PyLong,
    PyModule, PyNone, PyObject, PyResult, PySet, PyString, PyTuple, Python, PythonObject,
    ToPyObject, UnsafePyLeaked,
};
use python3_sys as ffi;

type Inner = std::collections::HashSet<u32>;

const SIZE_CHANGED: &str = "Set changed size during iteration";
const CONTENTS_CHANGED: &str = "Set changed during iteration";

// `errors.OutOfRange`, a subclass of `OverflowError`: a caller can catch
// this set's range errors apart from any other overflow.
py_exception!(errors, OutOfRange, exc::OverflowError);

py_class!(pub class SetIterator |py| {
    data walk: RefCell<Walk>;

    def __iter__(&self) -> PyResult<Self> {
        Ok(self.clone_ref(py))
    }

    def __next__(&self) -> PyResult<Option<u32>> {
        self.walk(py).borrow_mut().next(py)
    }

    def __length_hint__(&self) -> PyResult<usize> {
        Ok(self.walk(py).borrow().remaining(py))
    }
});

py_class!(pub class HashSet |py| {
    @shared data hash_set: Inner;

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
        HashSet::create_instance(py, set)
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

    def __iter__(&self) -> PyResult<SetIterator> {
        let len_at_start = self.hash_set(py).borrow().len();
        let leaked = self.hash_set(py).leak_immutable();
        // SAFETY: as in lesson 5: the closure only makes an iterator, which
        // stays inside the `UnsafePyLeaked`, and the leak keeps this object
        // (and so the set) alive.
        let leaked = unsafe { leaked.map(py, |set| set.iter()) };
        let walk = Walk::OnLoan { leaked, set: self.clone_ref(py), len_at_start };
        SetIterator::create_instance(py, RefCell::new(walk))
    }

    def __repr__(&self) -> PyResult<PyString> {
        let mut values = Vec::new();
        {
            let set = self.hash_set(py).borrow();
            values.try_reserve_exact(set.len()).map_err(|error| no_memory(py, error))?;
            values.extend(set.iter().copied());
        }
        if values.is_empty() {
            return text_object(py, "HashSet()");
        }
        values.sort_unstable();
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
        if !self.hash_set(py).borrow().contains(&value) {
            let mut set = self.hash_set(py).borrow_mut();
            set.try_reserve(1).map_err(|error| no_memory(py, error))?;
            set.insert(value);
        }
        Ok(PyNone)
    }

    def discard(&self, value: PyObject) -> PyResult<PyNone> {
        let value = to_member(py, &value)?;
        if self.hash_set(py).borrow().contains(&value) {
            self.hash_set(py).borrow_mut().remove(&value);
        }
        Ok(PyNone)
    }

    def remove(&self, value: PyObject) -> PyResult<PyNone> {
        let member = to_member(py, &value)?;
        if !self.hash_set(py).borrow().contains(&member) {
            // The missing value itself, as the builtin's KeyError carries it.
            return Err(PyErr::new::<exc::KeyError, _>(py, PyTuple::new(py, &[value])));
        }
        self.hash_set(py).borrow_mut().remove(&member);
        Ok(PyNone)
    }

    // rust-cpython accepts `*args` only together with `**kwargs`.
    def update(&self, *iterables, **kwargs) -> PyResult<PyNone> {
        if kwargs.is_some_and(|kwargs| kwargs.len(py) > 0) {
            return Err(type_error(py, "HashSet.update() takes no keyword arguments".to_owned()));
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
        values.retain(|value| !self.hash_set(py).borrow().contains(value));
        if !values.is_empty() {
            let mut set = self.hash_set(py).borrow_mut();
            set.try_reserve(values.len()).map_err(|error| no_memory(py, error))?;
            set.extend(values);
        }
        Ok(PyNone)
    }
});

/// Where an iterator stands.
pub enum Walk {
    OnLoan {
        leaked: UnsafePyLeaked<hash_set::Iter<'static, u32>>,
        /// The set, to tell "changed size" from "changed" when it changes.
        set: HashSet,
        len_at_start: usize,
    },
    Finished,
    Stale(&'static str),
}

impl Walk {
    fn next(&mut self, py: Python) -> PyResult<Option<u32>> {
        let (leaked, set, len_at_start) = match self {
            Walk::OnLoan {
                leaked,
                set,
                len_at_start,
            } => (leaked, set, *len_at_start),
            Walk::Finished => return Ok(None),
            Walk::Stale(message) => return Err(PyErr::new::<exc::RuntimeError, _>(py, *message)),
        };
        // SAFETY: as in lesson 5: the `&'static u32` is copied inside the
        // closure, which drops the guard; a changed set refuses the borrow.
        match unsafe { leaked.try_borrow_mut(py) }.map(|mut iter| iter.next().copied()) {
            Ok(Some(value)) => Ok(Some(value)),
            Ok(None) => {
                *self = Walk::Finished;
                Ok(None)
            }
            Err(_) => {
                let size_changed = set.hash_set(py).borrow().len() != len_at_start;
                let message = if size_changed {
                    SIZE_CHANGED
                } else {
                    CONTENTS_CHANGED
                };
                *self = Walk::Stale(message);
                Err(PyErr::new::<exc::RuntimeError, _>(py, message))
            }
        }
    }

    fn remaining(&self, py: Python) -> usize {
        match self {
            Walk::OnLoan { leaked, .. } => {
                // SAFETY: `len()` returns a plain count; no reference leaves
                // the guard, which is dropped within this expression.
                unsafe { leaked.try_borrow(py) }.map_or(0, |iter| iter.len())
            }
            Walk::Finished | Walk::Stale(_) => 0,
        }
    }
}

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
            Err(type_error(
                py,
                format!("HashSet values must be int, not {}", name),
            ))
        }
    }
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

fn type_error(py: Python, message: String) -> PyErr {
    PyErr::new::<exc::TypeError, _>(py, message)
}

/// Panics with `message`, to show what Python makes of a Rust panic.
fn panic_in_rust(_: Python, message: String) -> PyResult<PyNone> {
    panic!("{}", message)
}

/// What `import errors` runs. `py_module_initializer!` would write this
/// function itself; it is written out here to refuse a sub-interpreter
/// before anything is created (see the lesson).
///
/// # Safety
///
/// Called by CPython's import machinery, with the GIL held.
#[no_mangle]
pub unsafe extern "C" fn PyInit_errors() -> *mut ffi::PyObject {
    // rust-cpython takes the GIL through `PyGILState_Ensure`. Where the
    // thread state it would use is not the running one (a sub-interpreter,
    // up to 3.11), the first object dropped waits for ever for the GIL this
    // thread holds.
    if ffi::PyGILState_GetThisThreadState() != ffi::PyThreadState_Get() {
        let message = c"errors cannot be imported in a sub-interpreter: rust-cpython supports only the main one";
        ffi::PyErr_SetString(ffi::PyExc_ImportError, message.as_ptr());
        return std::ptr::null_mut();
    }
    static mut MODULE: ffi::PyModuleDef = ffi::PyModuleDef_INIT;
    let module = std::ptr::addr_of_mut!(MODULE);
    (*module).m_name = c"errors".as_ptr();
    cpython::py_module_initializer_impl(module, add_members)
}

fn add_members(py: Python, module: &PyModule) -> PyResult<()> {
    module.add_class::<HashSet>(py)?;
    module.add_class::<SetIterator>(py)?;
    module.add(py, "OutOfRange", py.get_type::<OutOfRange>())?;
    module.add(
        py,
        "panic_in_rust",
        py_fn!(py, panic_in_rust(message: String)),
    )?;
    Ok(())
}
