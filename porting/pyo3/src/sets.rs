//! `porting.sets` in PyO3.

use std::collections::HashSet as RustSet;

use pyo3::prelude::*;

use crate::digest;

#[pyclass(module = "porting.sets")]
pub struct HashSet {
    pub values: RustSet<u32>,
}

#[pymethods]
impl HashSet {
    #[new]
    #[pyo3(signature = (values = None))]
    fn new(values: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let mut set = RustSet::new();
        if let Some(values) = values {
            for value in values.try_iter()? {
                set.insert(value?.extract::<u32>()?);
            }
        }
        Ok(HashSet { values: set })
    }

    fn add(&mut self, value: u32) {
        self.values.insert(value);
    }

    fn __len__(&self) -> usize {
        self.values.len()
    }

    fn sorted(&self) -> Vec<u32> {
        digest::sorted(&self.values)
    }
}
