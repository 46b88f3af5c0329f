//! Lesson 2: a Rust function exposed to Python with `py_fn!`.

use cpython::{py_fn, py_module_initializer, PyResult, Python};

/// An ordinary Rust function. `Python` proves the GIL is held; `PyResult`
/// lets the function fail with a Python exception.
fn greet(_py: Python, name: &str) -> PyResult<String> {
    Ok(format!("Hello, {}!", name))
}

py_module_initializer!(function, |py, module| {
    module.add(py, "__doc__", "Lesson 2: one function.")?;
    // `name: &str` here, not in `fn greet`, is what Python sees: it names
    // the keyword argument and decides how the argument is converted.
    module.add(py, "greet", py_fn!(py, greet(name: &str)))?;
    Ok(())
});
