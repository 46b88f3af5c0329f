//! Lesson 1 in PyO3: a module with only a docstring.

use pyo3::prelude::*;

/// This module is implemented in Rust.
// `#[pymodule]` exports `PyInit_docstring`: the function's name is the
// module's, and the doc comment above becomes its `__doc__`.
#[pymodule]
fn docstring(_module: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
