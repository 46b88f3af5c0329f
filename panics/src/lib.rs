//! Lesson 7: when Rust gives up. A panic reaches Python as an exception,
//! and a module refuses to load where it would hang.

use cpython::{exc, py_fn, PyErr, PyModule, PyNone, PyResult, Python};
use python3_sys as ffi;

/// The first of `values`. `values[0]` would panic on an empty list (a
/// `SystemError` in Python); the caller's mistake deserves an `IndexError`.
fn first(py: Python, values: Vec<i64>) -> PyResult<i64> {
    values
        .first()
        .copied()
        .ok_or_else(|| PyErr::new::<exc::IndexError, _>(py, "first() of an empty list"))
}

/// Panics with `message`, to show what Python makes of a Rust panic.
fn panic_in_rust(_: Python, message: String) -> PyResult<PyNone> {
    panic!("{}", message)
}

/// What `import panics` runs. `py_module_initializer!` would write this
/// function itself; it is written out here to refuse a sub-interpreter
/// before anything is created (see the lesson).
///
/// # Safety
///
/// Called by CPython's import machinery, with the GIL held.
#[no_mangle]
pub unsafe extern "C" fn PyInit_panics() -> *mut ffi::PyObject {
    // rust-cpython takes the GIL through `PyGILState_Ensure`. Where the
    // thread state it would use is not the running one (a sub-interpreter,
    // up to 3.11), the first object dropped waits for ever for the GIL this
    // thread holds.
    if ffi::PyGILState_GetThisThreadState() != ffi::PyThreadState_Get() {
        let message = c"panics cannot be imported in a sub-interpreter: rust-cpython supports only the main one";
        ffi::PyErr_SetString(ffi::PyExc_ImportError, message.as_ptr());
        return std::ptr::null_mut();
    }
    static mut MODULE: ffi::PyModuleDef = ffi::PyModuleDef_INIT;
    let module = std::ptr::addr_of_mut!(MODULE);
    (*module).m_name = c"panics".as_ptr();
    cpython::py_module_initializer_impl(module, add_members)
}

/// What the macro's closure would do: fill the module.
fn add_members(py: Python, module: &PyModule) -> PyResult<()> {
    module.add(py, "first", py_fn!(py, first(values: Vec<i64>)))?;
    module.add(
        py,
        "panic_in_rust",
        py_fn!(py, panic_in_rust(message: String)),
    )?;
    Ok(())
}
