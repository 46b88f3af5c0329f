//! Lesson 7 in PyO3: when Rust gives up. A panic reaches Python as
//! `pyo3_runtime.PanicException`; sub-interpreters are refused by PyO3.

use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;

/// The first of `values`, or `IndexError` for an empty list.
#[pyfunction]
fn first(values: Vec<i64>) -> PyResult<i64> {
    values
        .first()
        .copied()
        .ok_or_else(|| PyIndexError::new_err("first() of an empty list"))
}

/// Panics with `message`: PyO3 raises `pyo3_runtime.PanicException`.
#[pyfunction]
fn panic_in_rust(message: String) {
    panic!("{}", message)
}

// PyO3 refuses the sub-interpreters it cannot serve by itself: no
// hand-written `PyInit_panics`.
#[pymodule]
fn panics(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(first, module)?)?;
    module.add_function(wrap_pyfunction!(panic_in_rust, module)?)?;
    Ok(())
}
