//! Lesson 2: a Rust function exposed to Python with `py_fn!`.

use cpython::{py_fn, py_module_initializer, PyResult, Python};

/// An ordinary Rust function. `Python` proves the GIL is held; `PyResult`
/// lets the function fail with a Python exception.
fn greet(_: Python, name: String) -> PyResult<String> {
    Ok(format!("Hello, {}!", name))
}

py_module_initializer!(function, |py, module| {
    // The parameter list inside `py_fn!` is what Python sees: its keyword is
    // `string`, whatever `fn greet` calls the parameter.
    module.add(py, "greet", py_fn!(py, greet(string: String)))?;
    Ok(())
});
