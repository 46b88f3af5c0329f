//! Lesson 11 in PyO3: lesson 2's `greet`, made faster one step at a
//! time, with the same four functions and the same results.

use std::ffi::CStr;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use pyo3::ffi;
use pyo3::intern;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::PyString;

#[path = "../../src/text.rs"]
mod text;
use text::{ascii_characters, ascii_greeting, greeting};

// Step 1, lesson 2's twin: the argument is copied into a `String`.
#[pyfunction]
fn greet(string: String) -> String {
    format!("Hello, {}!", string)
}

// Step 2: `&str` borrows the UTF-8 the `str` keeps; one allocation.
#[pyfunction]
fn greet_borrowing(string: &str) -> String {
    greeting(string)
}

/// Step 3: a `METH_O` function, written by hand against `pyo3::ffi`.
unsafe extern "C" fn greet_meth_o(
    _module: *mut ffi::PyObject,
    string: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a METH_O function with the GIL held (the thread
    // is attached), and passes a borrowed reference valid for the call.
    let (py, string) = unsafe {
        let py = Python::assume_attached();
        (py, Bound::from_borrowed_ptr(py, string))
    };
    // PyO3 does not know this thread is attached: a `Py` or `PyErr` dropped
    // in here would be released only at its next call (see the lesson).
    // `Bound`s are released at once; nothing else is dropped.
    c_result(py, || {
        let name = string.extract::<&str>().inspect_err(|error: &PyErr| {
            // What `#[pyfunction]` adds to an argument's error, where
            // exceptions take notes (3.11 and newer).
            if py.version_info() >= (3, 11) {
                let _ = error
                    .value(py)
                    .call_method1(intern!(py, "add_note"), ("while processing 'string'",));
            }
        })?;
        Ok(PyString::new(py, &greeting(name)).into_any().unbind())
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
/// abort the process), so it becomes the `PanicException` PyO3 raises.
fn c_result(py: Python<'_>, body: impl FnOnce() -> PyResult<Py<PyAny>>) -> *mut ffi::PyObject {
    let error = match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => return value.into_ptr(),
        Ok(Err(error)) => error,
        Err(payload) => {
            let text = payload.downcast_ref::<&str>().copied();
            let text = text.or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            let message = text.unwrap_or("panic from Rust code").to_owned();
            PanicException::new_err(message)
        }
    };
    error.restore(py);
    ptr::null_mut()
}

/// Adds the `METH_O` functions to `module`, as a C extension adds its
/// functions (`#[pyfunction]` does not offer `METH_O`). Each `ml_doc`
/// starts with the signature `inspect` shows.
fn add_meth_o_functions(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let meth_o =
        |name: &'static CStr, meth: ffi::PyCFunction, doc: &'static CStr| ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            ml_meth: ffi::PyMethodDefPointer { PyCFunction: meth },
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
        ffi::PyMethodDef::zeroed(),
    ]));
    // SAFETY: the GIL is held; the table ends with an empty entry, and
    // lives as long as the process.
    if unsafe { ffi::PyModule_AddFunctions(module.as_ptr(), table.as_mut_ptr()) } < 0 {
        return Err(PyErr::fetch(module.py()));
    }
    Ok(())
}

#[pymodule]
fn costs(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(greet, module)?)?;
    module.add_function(wrap_pyfunction!(greet_borrowing, module)?)?;
    add_meth_o_functions(module)?;
    Ok(())
}
