//! Lesson 3: a Python class defined in Rust with `py_class!`.

use cpython::{py_class, py_module_initializer, PyResult};

py_class!(pub class Class |py| {
    // `__new__` builds the instance. This class holds no data, so
    // `create_instance` takes nothing but `py`.
    def __new__(_cls) -> PyResult<Class> {
        Class::create_instance(py)
    }

    def greet(&self, name: String) -> PyResult<String> {
        Ok(format!("Hello, {}!", name))
    }
});

// The module is `klass` because `class` is a Python keyword:
// `from target.debug.class import Class` would be a syntax error.
py_module_initializer!(klass, |py, module| {
    module.add_class::<Class>(py)?;
    Ok(())
});
