//! Lesson 1: the smallest extension module — a module with only a docstring.

use cpython::py_module_initializer;

// The first argument is the module's name. Python imports a file called
// `docstring.<suffix>` and then calls the function `PyInit_docstring` inside
// it, so this name and the file name must agree.
py_module_initializer!(docstring, |py, module| {
    module.add(py, "__doc__", "This module is implemented in Rust.")?;
    Ok(())
});
