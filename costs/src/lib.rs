//! Lesson 11: what a call costs. Lesson 2's `greet`, made faster one step
//! at a time; each step is a function of this module, and each returns what
//! lesson 2's `greet` returns (or raises what it raises).

use std::borrow::Cow;
use std::ffi::CStr;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use cpython::{
    exc, py_fn, py_module_initializer, PyErr, PyModule, PyObject, PyResult, PyString, Python,
    PythonObject,
};
use python3_sys as ffi;

mod text;
use text::{ascii_characters, ascii_greeting, greeting};

/// Step 1, lesson 2's code: the argument is copied into a `String`, and
/// `format!` allocates the result.
fn greet(_: Python, name: String) -> PyResult<String> {
    Ok(format!("Hello, {}!", name))
}

/// Step 2: a `&str` parameter borrows the UTF-8 the `str` keeps, and the
/// result is built in one allocation of the right size.
fn greet_borrowing(_: Python, name: &str) -> PyResult<String> {
    Ok(greeting(name))
}

/// Step 3: a `METH_O` function. CPython passes the one argument as it is:
/// no tuple of arguments, no dictionary of keywords, no parser. What
/// `py_fn!` did besides that is now ours: see `c_result`.
unsafe extern "C" fn greet_meth_o(
    _module: *mut ffi::PyObject,
    string: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a METH_O function with the GIL held, and passes
    // a borrowed reference that is valid for the whole call.
    let (py, string) = unsafe {
        let py = Python::assume_gil_acquired();
        (py, PyObject::from_borrowed_ptr(py, string))
    };
    c_result(py, || {
        // The conversion `py_fn!` makes for `&str`: the same errors.
        let name = string.extract::<Cow<str>>(py)?;
        Ok(PyString::new(py, &greeting(&name)).into_object())
    })
}

/// Step 4: for an ASCII name, the result is written straight into a new
/// `str`: one allocation, and no UTF-8 to decode. Any other argument takes
/// step 3.
unsafe extern "C" fn greet_in_place(
    module: *mut ffi::PyObject,
    string: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: as in `greet_meth_o`: the GIL is held and `string` is valid
    // for the whole call, which is as long as `name` is used.
    unsafe {
        match ascii_characters(string) {
            Some(name) => ascii_greeting(name),
            None => greet_meth_o(module, string),
        }
    }
}

/// What a function called from C returns: a new reference, or NULL with
/// the exception set. A panic must not unwind into CPython (Rust would
/// abort the process), so it becomes the `SystemError` `py_fn!` raises.
fn c_result(py: Python, body: impl FnOnce() -> PyResult<PyObject>) -> *mut ffi::PyObject {
    let error = match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => return value.steal_ptr(),
        Ok(Err(error)) => error,
        Err(payload) => {
            let text = payload.downcast_ref::<&str>().copied();
            let text = text.or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            let message = text.map_or("Rust panic".to_owned(), |text| {
                format!("Rust panic: {text}")
            });
            PyErr::new::<exc::SystemError, _>(py, message)
        }
    };
    error.restore(py);
    ptr::null_mut()
}

/// Adds the `METH_O` functions to `module`, as a C extension adds its
/// functions (`py_fn!` cannot declare `METH_O`). Each `ml_doc` starts with
/// the signature `inspect` shows.
fn add_meth_o_functions(py: Python, module: &PyModule) -> PyResult<()> {
    let meth_o =
        |name: &'static CStr, meth: ffi::PyCFunction, doc: &'static CStr| ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            ml_meth: Some(meth),
            ml_flags: ffi::METH_O,
            ml_doc: doc.as_ptr(),
        };
    // The functions CPython makes keep pointers into this table: it must
    // never be freed.
    let table = Box::leak(Box::new([
        meth_o(
            c"greet_meth_o",
            greet_meth_o,
            c"greet_meth_o($module, string, /)\n--\n\n",
        ),
        meth_o(
            c"greet_in_place",
            greet_in_place,
            c"greet_in_place($module, string, /)\n--\n\n",
        ),
        // The end of the table.
        ffi::PyMethodDef {
            ml_name: ptr::null(),
            ml_meth: None,
            ml_flags: 0,
            ml_doc: ptr::null(),
        },
    ]));
    // SAFETY: the GIL is held; the table ends with an empty entry, and
    // lives as long as the process.
    if unsafe { ffi::PyModule_AddFunctions(module.as_object().as_ptr(), table.as_mut_ptr()) } < 0 {
        return Err(PyErr::fetch(py));
    }
    Ok(())
}

py_module_initializer!(costs, |py, module| {
    module.add(py, "greet", py_fn!(py, greet(string: String)))?;
    module.add(
        py,
        "greet_borrowing",
        py_fn!(py, greet_borrowing(string: &str)),
    )?;
    add_meth_o_functions(py, module)?;
    Ok(())
});
