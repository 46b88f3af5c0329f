//! Lesson 4: a Python class that wraps a Rust `HashSet<u32>`.

use std::cell::RefCell;
use std::collections::hash_set;

use cpython::{py_class, py_module_initializer, PyClone, PyNone, PyResult};

py_class!(class HashSet |py| {
    // Python hands out shared references only, so a `data` field is never
    // `&mut`. `RefCell` moves the borrow check to run time, which lets
    // `add` change the set through `&self`.
    data data: RefCell<std::collections::HashSet<u32>>;

    def __new__(_cls) -> PyResult<HashSet> {
        HashSet::create_instance(py, RefCell::new(std::collections::HashSet::new()))
    }

    def add(&self, value: u32) -> PyResult<PyNone> {
        self.data(py).borrow_mut().insert(value);
        Ok(PyNone)
    }

    def __len__(&self) -> PyResult<usize> {
        Ok(self.data(py).borrow().len())
    }

    def __contains__(&self, value: u32) -> PyResult<bool> {
        Ok(self.data(py).borrow().contains(&value))
    }

    def __iter__(&self) -> PyResult<SetIterator> {
        // The weak point of this lesson: a `py_class!` field must be
        // 'static, so it cannot borrow from the set. Cloning the whole set
        // gives the iterator data it owns, at O(n) time and memory per call.
        let snapshot = self.data(py).borrow().clone();
        SetIterator::create_instance(py, RefCell::new(snapshot.into_iter()))
    }
});

py_class!(class SetIterator |py| {
    data iter: RefCell<hash_set::IntoIter<u32>>;

    // An iterator is its own iterator: `iter(it) is it`.
    def __iter__(&self) -> PyResult<SetIterator> {
        Ok(self.clone_ref(py))
    }

    // `None` ends the iteration: Python sees `StopIteration`.
    def __next__(&self) -> PyResult<Option<u32>> {
        Ok(self.iter(py).borrow_mut().next())
    }
});

py_module_initializer!(wrapper, |py, module| {
    module.add(py, "__doc__", "Lesson 4: a wrapped HashSet.")?;
    module.add_class::<HashSet>(py)?;
    module.add_class::<SetIterator>(py)?;
    Ok(())
});
