//! The `datetime` module's C API, reached through the capsule it publishes
//! as `datetime.datetime_CAPI`: the way one extension calls another's C
//! functions without linking to it.

use std::os::raw::c_int;

use cpython::{py_capsule, py_fn, PyErr, PyModule, PyObject, PyResult, Python};
use python3_sys as ffi;

/// The first fields of CPython's `PyDateTime_CAPI` (`Include/datetime.h`),
/// in its order, as far as this lesson reads. The capsule points at the
/// whole struct, so reading a prefix of it is sound; the fields have been
/// in this order since Python 3.7.
#[repr(C)]
pub struct DateTimeApi {
    date_type: *mut ffi::PyTypeObject,
    datetime_type: *mut ffi::PyTypeObject,
    time_type: *mut ffi::PyTypeObject,
    delta_type: *mut ffi::PyTypeObject,
    tzinfo_type: *mut ffi::PyTypeObject,
    utc: *mut ffi::PyObject,
    date_from_date:
        unsafe extern "C" fn(c_int, c_int, c_int, *mut ffi::PyTypeObject) -> *mut ffi::PyObject,
    #[allow(clippy::type_complexity)]
    datetime_from_date_and_time: unsafe extern "C" fn(
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        *mut ffi::PyObject,
        *mut ffi::PyTypeObject,
    ) -> *mut ffi::PyObject,
}

// Imports `datetime` and reads the capsule once; `retrieve` is unsafe
// because only we can promise that the capsule holds a `DateTimeApi`.
py_capsule!(from datetime import datetime_CAPI as datetime_capsule for DateTimeApi);

fn api(py: Python) -> PyResult<&'static DateTimeApi> {
    // SAFETY: CPython stores a `PyDateTime_CAPI` under this name, whose
    // first fields `DateTimeApi` repeats; the struct is static in the
    // `datetime` module, which is never unloaded, so it outlives us.
    unsafe { datetime_capsule::retrieve(py) }
}

/// A naive `datetime.datetime`, made by the C function `datetime` uses.
#[allow(clippy::too_many_arguments)]
fn make_datetime(
    py: Python,
    year: i32,
    month: i32,
    day: i32,
    hour: i32,
    minute: i32,
    second: i32,
    microsecond: i32,
) -> PyResult<PyObject> {
    let api = api(py)?;
    // SAFETY: the function checks its arguments and returns a new
    // reference, or NULL with an exception set (a month of 13, say);
    // `Py_None` is a valid tzinfo for it, and the type is the one it
    // expects. The GIL is held (`py`).
    unsafe {
        let made = (api.datetime_from_date_and_time)(
            year,
            month,
            day,
            hour,
            minute,
            second,
            microsecond,
            ffi::Py_None(),
            api.datetime_type,
        );
        PyObject::from_owned_ptr_opt(py, made).ok_or_else(|| PyErr::fetch(py))
    }
}

/// Whether `value` is a `datetime.datetime` (or a subclass), by the type
/// in the capsule: what the C macro `PyDateTime_Check` does.
fn is_datetime(py: Python, value: PyObject) -> PyResult<bool> {
    let api = api(py)?;
    // SAFETY: both pointers are valid objects while the GIL is held.
    Ok(unsafe { ffi::PyObject_TypeCheck(value.as_ptr(), api.datetime_type) } != 0)
}

pub fn add_to(py: Python, module: &PyModule) -> PyResult<()> {
    let made = py_fn!(
        py,
        make_datetime(
            year: i32,
            month: i32,
            day: i32,
            hour: i32 = 0,
            minute: i32 = 0,
            second: i32 = 0,
            microsecond: i32 = 0
        )
    );
    module.add(py, "make_datetime", made)?;
    module.add(py, "is_datetime", py_fn!(py, is_datetime(value: PyObject)))?;
    Ok(())
}
