//! Lesson 8: let other Python threads run while Rust works.

use std::panic::{self, UnwindSafe};

use cpython::{py_fn, py_module_initializer, PyBytes, PyResult, Python};

/// The CRC-32 of `bytes`, continuing from `value`: the checksum of what came
/// before, as in `zlib.crc32(data, value)`.
fn checksum(bytes: &[u8], value: i64) -> u32 {
    // Like zlib, keep the low 32 bits of whatever int `value` is.
    let mut hasher = crc32fast::Hasher::new_with_initial(value as u32);
    hasher.update(bytes);
    hasher.finalize()
}

/// `py.allow_threads(work)`, safe to panic in. rust-cpython takes the GIL
/// back only when `work` returns: a panic unwinding out of it would reach
/// Python without the GIL and crash the interpreter. So the panic is caught
/// while the GIL is released and resumed once it is back, where `py_fn!`
/// turns it into a `SystemError`.
fn allow_threads_catching_panics<T, F>(py: Python, work: F) -> T
where
    T: Send,
    F: Send + UnwindSafe + FnOnce() -> T,
{
    match py.allow_threads(|| panic::catch_unwind(work)) {
        Ok(result) => result,
        Err(panic) => panic::resume_unwind(panic),
    }
}

fn crc32(py: Python, data: PyBytes, value: i64) -> PyResult<u32> {
    // A `bytes` object never changes, and the caller holds a reference to
    // it for the whole call: its buffer stays valid, and the same, while
    // other threads run Python code.
    let bytes: &[u8] = data.data(py);
    // The closure must be `Send`. `py` is not, so nothing in it can touch
    // a Python object: it only sees the plain slice.
    Ok(allow_threads_catching_panics(py, || checksum(bytes, value)))
}

fn crc32_holding_gil(py: Python, data: PyBytes, value: i64) -> PyResult<u32> {
    Ok(checksum(data.data(py), value))
}

py_module_initializer!(threads, |py, module| {
    module.add(
        py,
        "crc32",
        py_fn!(py, crc32(data: PyBytes, value: i64 = 0)),
    )?;
    module.add(
        py,
        "crc32_holding_gil",
        py_fn!(py, crc32_holding_gil(data: PyBytes, value: i64 = 0)),
    )?;
    Ok(())
});
