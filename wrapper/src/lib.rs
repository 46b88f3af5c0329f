//! Lesson 4: a Python class that wraps a Rust `HashSet<u32>`.

use std::cell::RefCell;
use std::collections::hash_set;

use cpython::{py_class, py_module_initializer, PyClone, PyNone, PyResult};

type Inner = std::collections::HashSet<u32>;

py_class!(pub class SetIterator |py| {
    data iter: RefCell<hash_set::IntoIter<u32>>;

    // An iterator is its own iterator: `iter(it) is it`.
    def __iter__(&self) -> PyResult<Self> {
        Ok(self.clone_ref(py))
    }

    // `None` ends the iteration: Python sees `StopIteration`.
    def __next__(&self) -> PyResult<Option<u32>> {
        Ok(self.iter(py).borrow_mut().next())
    }
});

py_class!(pub class HashSet |py| {
    // Python hands out shared references only, so a data field is never
    // `&mut`. `RefCell` moves the borrow check to run time, which lets
    // `add` change the set through `&self`.
    data hash_set: RefCell<Inner>;

    def __new__(_cls) -> PyResult<HashSet> {
        HashSet::create_instance(py, RefCell::new(Inner::new()))
    }

    def __len__(&self) -> PyResult<usize> {
        Ok(self.hash_set(py).borrow().len())
    }

    def __contains__(&self, value: u32) -> PyResult<bool> {
        Ok(self.hash_set(py).borrow().contains(&value))
    }

    def __iter__(&self) -> PyResult<SetIterator> {
        // The weak point of this lesson: a data field must be 'static, so
        // it cannot borrow from the set. Cloning the whole set gives the
        // iterator data it owns, at O(n) time and memory per call.
        let snapshot = self.hash_set(py).borrow().clone();
        SetIterator::create_instance(py, RefCell::new(snapshot.into_iter()))
    }

    def add(&self, value: u32) -> PyResult<PyNone> {
        self.hash_set(py).borrow_mut().insert(value);
        Ok(PyNone)
    }
});

py_module_initializer!(wrapper, |py, module| {
    module.add_class::<HashSet>(py)?;
    module.add_class::<SetIterator>(py)?;
    Ok(())
});
