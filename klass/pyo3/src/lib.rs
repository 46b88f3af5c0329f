//! Lesson 3 in PyO3: a class defined with `#[pyclass]` and `#[pymethods]`.

use pyo3::prelude::*;

#[pyclass(module = "klass")]
struct Class;

#[pymethods]
impl Class {
    #[new]
    fn new() -> Self {
        Class
    }

    fn greet(&self, name: String) -> String {
        format!("Hello, {}!", name)
    }
}

#[pymodule]
fn klass(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Class>()?;
    // pickle finds a class by its `__module__`: the name this module was
    // imported as, which `module = "klass"` cannot know (lesson 12).
    module
        .getattr("Class")?
        .setattr("__module__", module.name()?)?;
    Ok(())
}
