//! Lesson 5: lesson 4's set, with an iterator that borrows the Rust set
//! instead of copying it.

use std::cell::RefCell;
use std::collections::hash_set;

use cpython::{
    exc, py_class, py_module_initializer, PyClone, PyErr, PyNone, PyObject, PyResult, Python,
    UnsafePyLeaked,
};
use python3_sys as ffi;

type Inner = std::collections::HashSet<u32>;

py_class!(pub class SetIterator |py| {
    data walk: RefCell<Walk>;

    def __iter__(&self) -> PyResult<Self> {
        Ok(self.clone_ref(py))
    }

    def __next__(&self) -> PyResult<Option<PyObject>> {
        match self.walk(py).borrow_mut().next(py)? {
            Some(value) => int_object(py, value).map(Some),
            None => Ok(None),
        }
    }

    def __length_hint__(&self) -> PyResult<usize> {
        Ok(self.walk(py).borrow().remaining(py))
    }
});

py_class!(pub class HashSet |py| {
    // `@shared` wraps the field in a `PySharedRefCell`: a `RefCell` that can
    // also lend its contents to other Python objects (our iterators), and
    // that counts every mutable borrow so those loans notice changes.
    @shared data hash_set: Inner;

    def __new__(_cls) -> PyResult<HashSet> {
        HashSet::create_instance(py, Inner::new())
    }

    def __len__(&self) -> PyResult<usize> {
        Ok(self.hash_set(py).borrow().len())
    }

    def __contains__(&self, value: u32) -> PyResult<bool> {
        Ok(self.hash_set(py).borrow().contains(&value))
    }

    def __iter__(&self) -> PyResult<SetIterator> {
        let leaked = self.hash_set(py).leak_immutable();
        // SAFETY: `map` hands the closure a `&'static Inner` whose lifetime
        // is made up. The closure only turns it into an iterator, which
        // stays inside the `UnsafePyLeaked`; the reference does not escape.
        // The leak owns a reference to this Python object, so the set it
        // points into is alive for as long as the iterator exists.
        let iter = unsafe { leaked.map(py, |set| set.iter()) };
        SetIterator::create_instance(py, RefCell::new(Walk::OnLoan(iter)))
    }

    def add(&self, value: u32) -> PyResult<PyNone> {
        // Every `borrow_mut()` counts as a change and stops the iterators
        // on loan. Adding a value that is already there changes nothing,
        // so look first and borrow mutably only when needed.
        if !self.hash_set(py).borrow().contains(&value) {
            self.hash_set(py).borrow_mut().insert(value);
        }
        Ok(PyNone)
    }
});

/// Where an iterator stands.
pub enum Walk {
    /// Reading the set through a loan, checked on every step.
    OnLoan(UnsafePyLeaked<hash_set::Iter<'static, u32>>),
    /// Reached the end; the loan has been given back.
    Finished,
    /// Found the set changed; keeps saying so, like the builtin's iterator.
    Stale,
}

impl Walk {
    fn next(&mut self, py: Python) -> PyResult<Option<u32>> {
        let leaked = match self {
            Walk::OnLoan(leaked) => leaked,
            Walk::Finished => return Ok(None),
            Walk::Stale => return Err(changed_size(py)),
        };
        // SAFETY: `next()` yields a `&'static u32` into the set; it is copied
        // at once, so no reference outlives the guard, which the closure
        // drops. `try_borrow_mut` refuses, instead of reading, if the set
        // has been mutated since the loan was made.
        match unsafe { leaked.try_borrow_mut(py) }.map(|mut iter| iter.next().copied()) {
            Ok(Some(value)) => Ok(Some(value)),
            Ok(None) => {
                // Dropping the loan releases the set: later changes to it
                // no longer concern this iterator.
                *self = Walk::Finished;
                Ok(None)
            }
            Err(_) => {
                *self = Walk::Stale;
                Err(changed_size(py))
            }
        }
    }

    fn remaining(&self, py: Python) -> usize {
        match self {
            // SAFETY: `len()` returns a plain count; no reference leaves the
            // guard, which is dropped within this expression.
            Walk::OnLoan(leaked) => unsafe { leaked.try_borrow(py) }.map_or(0, |iter| iter.len()),
            Walk::Finished | Walk::Stale => 0,
        }
    }
}

/// Only `add` changes this set, so every change is a change of size.
fn changed_size(py: Python) -> PyErr {
    PyErr::new::<exc::RuntimeError, _>(py, "Set changed size during iteration")
}

/// A new Python `int` for `value`, made by the C API directly: the one
/// speed trick of this lesson (see "What it costs" in its README).
fn int_object(py: Python, value: u32) -> PyResult<PyObject> {
    // SAFETY: `PyLong_FromLongLong` returns a new reference, or NULL with a
    // Python exception set; `from_owned_ptr_opt` takes ownership of the
    // first and maps the second to `None`. The GIL is held (`py`).
    unsafe { PyObject::from_owned_ptr_opt(py, ffi::PyLong_FromLongLong(i64::from(value))) }
        .ok_or_else(|| PyErr::fetch(py))
}

py_module_initializer!(borrowed, |py, module| {
    module.add_class::<HashSet>(py)?;
    module.add_class::<SetIterator>(py)?;
    Ok(())
});
