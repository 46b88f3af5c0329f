//! Lesson 2 in PyO3: a Rust function exposed with `#[pyfunction]`.

use pyo3::prelude::*;

// In PyO3 the Rust parameter's name is the Python keyword: `string`.
#[pyfunction]
fn greet(string: String) -> String {
    format!("Hello, {}!", string)
}

#[pymodule]
fn function(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(greet, module)?)?;
    Ok(())
}
