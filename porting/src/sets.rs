//! `porting.sets`: a set of small integers. The PyO3 twin compiles this
//! file too, to read the sets this library makes (porting/pyo3/src/bridge.rs).

use std::collections::HashSet as RustSet;

use cpython::{py_class, ObjectProtocol, PyNone, PyObject, PyResult, PySharedRef, Python};

use crate::digest;

py_class!(pub class HashSet |py| {
    @shared data values: RustSet<u32>;

    def __new__(_cls, values: Option<PyObject> = None) -> PyResult<HashSet> {
        let mut set = RustSet::new();
        if let Some(values) = values {
            for value in values.iter(py)? {
                set.insert(value?.extract::<u32>(py)?);
            }
        }
        HashSet::create_instance(py, set)
    }

    def add(&self, value: u32) -> PyResult<PyNone> {
        self.values(py).borrow_mut().insert(value);
        Ok(PyNone)
    }

    def __len__(&self) -> PyResult<usize> {
        Ok(self.values(py).borrow().len())
    }

    def sorted(&self) -> PyResult<Vec<u32>> {
        Ok(digest::sorted(&self.values(py).borrow()))
    }
});

impl HashSet {
    /// The set inside, for the other modules of this library (and the
    /// bridge): the accessor `py_class!` writes is private to this module.
    pub fn shared_values<'a>(&'a self, py: Python<'a>) -> PySharedRef<'a, RustSet<u32>> {
        self.values(py)
    }
}
