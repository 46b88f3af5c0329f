//! `porting.checksums`: CRC-32 of bytes, and of a `porting.sets.HashSet`.

use cpython::{py_fn, PyBytes, PyModule, PyResult, Python};

use crate::digest;
use crate::sets::HashSet;

fn crc32(py: Python, data: PyBytes) -> PyResult<u32> {
    Ok(digest::crc32(data.data(py)))
}

/// An instance of the other submodule's class as a parameter: the type is
/// this library's `HashSet`, checked by rust-cpython before the call.
fn crc32_of_set(py: Python, values: HashSet) -> PyResult<u32> {
    Ok(digest::crc32_of_values(&values.shared_values(py).borrow()))
}

pub fn fill(py: Python, module: &PyModule) -> PyResult<()> {
    module.add(py, "crc32", py_fn!(py, crc32(data: PyBytes)))?;
    module.add(
        py,
        "crc32_of_set",
        py_fn!(py, crc32_of_set(values: HashSet)),
    )
}
