//! Lesson 5: iterate a Rust set in place — no copy, no unsoundness — with
//! the semantics of Python's builtin `set`.

use std::cell::RefCell;
use std::collections::hash_set;

use cpython::{
    exc, py_class, py_module_initializer, ObjectProtocol, PyClone, PyErr, PyFloat, PyLong, PyNone,
    PyObject, PyResult, PyTuple, Python, UnsafePyLeaked,
};
use python3_sys as ffi;

type Set = std::collections::HashSet<u32>;

const SIZE_CHANGED: &str = "Set changed size during iteration";
const CONTENTS_CHANGED: &str = "Set changed during iteration";

py_class!(class HashSet |py| {
    // `@shared` wraps the field in a `PySharedRefCell`: a `RefCell` that can
    // also lend its contents to other Python objects (our iterators), and
    // that counts every mutable borrow so those loans notice changes.
    @shared data data: Set;

    // rust-cpython accepts `*args` only together with `**kwargs`.
    def __new__(_cls, *args, **kwargs) -> PyResult<HashSet> {
        if kwargs.is_some_and(|kwargs| kwargs.len(py) > 0) {
            return Err(type_error(py, "HashSet() takes no keyword arguments"));
        }
        let mut set = Set::new();
        match args.len(py) {
            0 => {}
            1 => {
                for item in args.get_item(py, 0).iter(py)? {
                    set.insert(to_member(py, &item?)?);
                }
            }
            given => {
                let message = format!("HashSet expected at most 1 argument, got {}", given);
                return Err(type_error(py, &message));
            }
        }
        HashSet::create_instance(py, set)
    }

    def add(&self, value: PyObject) -> PyResult<PyNone> {
        let value = to_member(py, &value)?;
        // Every `borrow_mut()` counts as a change and stops running
        // iterators. Adding a value that is already there changes nothing,
        // so look first and borrow mutably only when needed.
        if !self.data(py).borrow().contains(&value) {
            self.data(py).borrow_mut().insert(value);
        }
        Ok(PyNone)
    }

    def discard(&self, value: PyObject) -> PyResult<PyNone> {
        let value = to_member(py, &value)?;
        if self.data(py).borrow().contains(&value) {
            self.data(py).borrow_mut().remove(&value);
        }
        Ok(PyNone)
    }

    def remove(&self, value: PyObject) -> PyResult<PyNone> {
        let member = to_member(py, &value)?;
        if !self.data(py).borrow().contains(&member) {
            return Err(PyErr::new::<exc::KeyError, _>(py, PyTuple::new(py, &[value])));
        }
        self.data(py).borrow_mut().remove(&member);
        Ok(PyNone)
    }

    def __len__(&self) -> PyResult<usize> {
        Ok(self.data(py).borrow().len())
    }

    def __contains__(&self, value: PyObject) -> PyResult<bool> {
        // Like the builtin set, membership never fails for a value that
        // simply cannot be inside: it is just not there.
        Ok(match classify(py, &value)? {
            Value::Member(number) => self.data(py).borrow().contains(&number),
            Value::IntegralFloat(number) => number.is_some_and(|n| self.data(py).borrow().contains(&n)),
            Value::OutOfRange(_) | Value::WrongType => false,
        })
    }

    def __iter__(&self) -> PyResult<SetIterator> {
        let len_at_start = self.data(py).borrow().len();
        let leaked = self.data(py).leak_immutable();
        // SAFETY: `map` hands the closure a `&'static Set` whose lifetime is
        // made up. The closure only turns it into an iterator, which stays
        // inside the `UnsafePyLeaked`; the reference does not escape. The
        // leak owns a reference to this Python object, so the set it points
        // into is alive for as long as the iterator exists.
        let iter = unsafe { leaked.map(py, |set| set.iter()) };
        let walk = Walk {
            set: self.clone_ref(py),
            len_at_start,
            iter,
        };
        SetIterator::create_instance(py, RefCell::new(IterState::Live(walk)))
    }

    def __repr__(&self) -> PyResult<String> {
        let mut values: Vec<u32> = self.data(py).borrow().iter().copied().collect();
        if values.is_empty() {
            return Ok("HashSet()".to_owned());
        }
        // Sorted, so that the same contents always print the same way.
        values.sort_unstable();
        let shown: Vec<String> = values.iter().map(u32::to_string).collect();
        Ok(format!("HashSet({{{}}})", shown.join(", ")))
    }
});

py_class!(class SetIterator |py| {
    data state: RefCell<IterState>;

    def __iter__(&self) -> PyResult<SetIterator> {
        Ok(self.clone_ref(py))
    }

    def __next__(&self) -> PyResult<Option<PyObject>> {
        match self.state(py).borrow_mut().next(py)? {
            Some(value) => int_object(py, value).map(Some),
            None => Ok(None),
        }
    }

    def __length_hint__(&self) -> PyResult<usize> {
        Ok(self.state(py).borrow().remaining(py))
    }
});

/// Where an iterator stands.
enum IterState {
    Live(Walk),
    /// Ran to the end; the borrow of the set is already released.
    Exhausted,
    /// Saw the set change; keeps raising this message, like the builtin.
    Invalidated(&'static str),
}

/// A running iteration over a set that it borrows, not copies.
struct Walk {
    /// The set, to tell "changed size" from "changed" when it changes.
    set: HashSet,
    len_at_start: usize,
    iter: UnsafePyLeaked<hash_set::Iter<'static, u32>>,
}

impl IterState {
    /// The next value. The common case is kept small so that it inlines
    /// into `__next__`; everything else is in `finish`.
    #[inline(always)]
    fn next(&mut self, py: Python) -> PyResult<Option<u32>> {
        if let IterState::Live(walk) = self {
            // SAFETY: `next()` yields a `&'static u32` into the set; it is
            // copied at once and never kept, so no reference outlives the
            // borrow guard, which ends with this `if let`. We hold the GIL
            // (`py`), and `try_borrow_mut` refuses (instead of reading) if
            // the set has been mutated since the leak was made.
            if let Ok(mut iter) = unsafe { walk.iter.try_borrow_mut(py) } {
                if let Some(&value) = iter.next() {
                    return Ok(Some(value));
                }
            }
        }
        self.finish(py)
    }

    /// Called once an iteration ends: at the end of the set, or on the
    /// first `next()` after the set changed, and on every call after that.
    #[cold]
    fn finish(&mut self, py: Python) -> PyResult<Option<u32>> {
        let message = match self {
            IterState::Exhausted => return Ok(None),
            IterState::Invalidated(message) => *message,
            IterState::Live(walk) => {
                // SAFETY: only asks whether the borrow is still valid; the
                // guard is dropped at once and no reference is taken.
                let changed = unsafe { walk.iter.try_borrow(py) }.is_err();
                if !changed {
                    // Dropping the walk releases the leaked borrow and the
                    // set, so later changes to the set cannot affect us.
                    *self = IterState::Exhausted;
                    return Ok(None);
                }
                let message = if walk.set.data(py).borrow().len() != walk.len_at_start {
                    SIZE_CHANGED
                } else {
                    CONTENTS_CHANGED
                };
                *self = IterState::Invalidated(message);
                message
            }
        };
        Err(PyErr::new::<exc::RuntimeError, _>(py, message))
    }

    fn remaining(&self, py: Python) -> usize {
        match self {
            IterState::Live(walk) => {
                // SAFETY: `len()` returns a plain count; no reference leaves
                // the guard, which is dropped within this expression.
                unsafe { walk.iter.try_borrow(py) }.map_or(0, |iter| iter.len())
            }
            IterState::Exhausted | IterState::Invalidated(_) => 0,
        }
    }
}

/// A new Python `int` for `value`.
///
/// rust-cpython's own conversion (`value.to_py_object(py)`) checks the type
/// of the object it has just created; on a path taken once per element that
/// check is measurable, so this calls the C API directly. The signed
/// `PyLong_FromLongLong` has CPython's fast path for small values, which
/// `PyLong_FromUnsignedLong` lacks.
fn int_object(py: Python, value: u32) -> PyResult<PyObject> {
    // SAFETY: `PyLong_FromLongLong` returns a new reference, or NULL
    // with a Python exception set; `from_owned_ptr_opt` takes ownership of
    // the first and maps the second to `None`. The GIL is held (`py`).
    unsafe { PyObject::from_owned_ptr_opt(py, ffi::PyLong_FromLongLong(i64::from(value))) }
        .ok_or_else(|| PyErr::fetch(py))
}

/// What a Python value means to a set that holds only `u32`s.
enum Value {
    Member(u32),
    /// A float such as `2.0`; `Some` if it equals a storable integer.
    IntegralFloat(Option<u32>),
    OutOfRange(String),
    WrongType,
}

fn classify(py: Python, value: &PyObject) -> PyResult<Value> {
    if value.cast_as::<PyLong>(py).is_ok() {
        let mut overflow = 0;
        // SAFETY: `value` is a live `int` (checked above) and the GIL is
        // held. For an `int` this reads the number directly: no Python
        // code runs, not even an `int` subclass's methods. A value beyond
        // 64 bits is reported through `overflow` (-1 or +1), not an error.
        let number = unsafe { ffi::PyLong_AsLongLongAndOverflow(value.as_ptr(), &mut overflow) };
        if number == -1 && PyErr::occurred(py) {
            return Err(PyErr::fetch(py));
        }
        return Ok(match (overflow, u32::try_from(number)) {
            (0, Ok(member)) => Value::Member(member),
            (0, Err(_)) if number < 0 => Value::OutOfRange(format!("{} is negative", number)),
            (0, Err(_)) => Value::OutOfRange(format!("{} is too large", number)),
            // Beyond 64 bits: too many digits to be worth printing.
            (sign, _) if sign < 0 => Value::OutOfRange("integer is negative".to_owned()),
            _ => Value::OutOfRange("integer is too large".to_owned()),
        });
    }
    if let Ok(float) = value.cast_as::<PyFloat>(py) {
        let number = float.value(py);
        let integral = number.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&number);
        // The range check above makes this cast exact.
        return Ok(Value::IntegralFloat(integral.then_some(number as u32)));
    }
    Ok(Value::WrongType)
}

/// The `u32` a value stands for, or the exception `add`, `remove` and
/// `discard` raise for it.
fn to_member(py: Python, value: &PyObject) -> PyResult<u32> {
    match classify(py, value)? {
        Value::Member(number) => Ok(number),
        Value::OutOfRange(problem) => Err(PyErr::new::<exc::OverflowError, _>(
            py,
            format!("{}: HashSet holds integers from 0 to {}", problem, u32::MAX),
        )),
        Value::IntegralFloat(_) | Value::WrongType => {
            let name = value.get_type(py).name(py).into_owned();
            Err(type_error(
                py,
                &format!("HashSet values must be int, not {}", name),
            ))
        }
    }
}

fn type_error(py: Python, message: &str) -> PyErr {
    PyErr::new::<exc::TypeError, _>(py, message)
}

py_module_initializer!(borrowed, |py, module| {
    module.add(py, "__doc__", "Lesson 5: a HashSet iterated in place.")?;
    module.add_class::<HashSet>(py)?;
    module.add_class::<SetIterator>(py)?;
    Ok(())
});
