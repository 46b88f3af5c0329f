//! The work the steps share, with no binding in it: the greeting built in
//! Rust (steps 2 and 3), and step 4's two helpers, which call the C API
//! alone. The lesson compiles this file with `ffi` standing for
//! `python3_sys`, its PyO3 twin with `ffi` standing for `pyo3::ffi`: raw C
//! API calls port unchanged.

use std::{ptr, slice};

use super::ffi;

const PREFIX: &str = "Hello, ";
const SUFFIX: &str = "!";

/// "Hello, {name}!", built in one allocation of the right size.
pub fn greeting(name: &str) -> String {
    let mut greeting = String::with_capacity(PREFIX.len() + name.len() + SUFFIX.len());
    greeting.push_str(PREFIX);
    greeting.push_str(name);
    greeting.push_str(SUFFIX);
    greeting
}

/// The characters of `string` if it is a `str` whose characters are all
/// ASCII, borrowed from it.
///
/// # Safety
/// The GIL is held, and `string` is valid for as long as the slice is used.
pub unsafe fn ascii_characters<'a>(string: *mut ffi::PyObject) -> Option<&'a [u8]> {
    // SAFETY: the caller's promise; every call below is made on a `str`.
    unsafe {
        if ffi::PyUnicode_Check(string) == 0 {
            return None;
        }
        let mut size = 0;
        // A `str` keeps the UTF-8 it makes here for as long as it lives.
        let utf8 = ffi::PyUnicode_AsUTF8AndSize(string, &mut size);
        if utf8.is_null() {
            // A lone surrogate: step 3 raises lesson 2's error for it.
            ffi::PyErr_Clear();
            return None;
        }
        // As many UTF-8 bytes as characters: every one of them is ASCII.
        let all_ascii = ffi::PyUnicode_GET_LENGTH(string) == size;
        all_ascii.then(|| slice::from_raw_parts(utf8.cast(), size as usize))
    }
}

/// A new `str` "Hello, {name}!", or NULL with MemoryError set.
///
/// # Safety
/// The GIL is held, and `name` is ASCII.
pub unsafe fn ascii_greeting(name: &[u8]) -> *mut ffi::PyObject {
    let length = PREFIX.len() + name.len() + SUFFIX.len();
    // SAFETY: the GIL is held. With 127 as its largest character, the new
    // `str` keeps one byte per character: `length` bytes, uninitialised
    // until they are all written below.
    unsafe {
        let result = ffi::PyUnicode_New(length as ffi::Py_ssize_t, 127);
        if result.is_null() {
            return result;
        }
        let data = ffi::PyUnicode_DATA(result).cast::<u8>();
        ptr::copy_nonoverlapping(PREFIX.as_ptr(), data, PREFIX.len());
        ptr::copy_nonoverlapping(name.as_ptr(), data.add(PREFIX.len()), name.len());
        ptr::copy_nonoverlapping(
            SUFFIX.as_ptr(),
            data.add(PREFIX.len() + name.len()),
            SUFFIX.len(),
        );
        result
    }
}
