//! Lesson 8 in PyO3: let other Python threads run while Rust works.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The CRC-32 of `bytes`, continuing from `value`, as in
/// `zlib.crc32(data, value)`.
fn checksum(bytes: &[u8], value: i64) -> u32 {
    // Like zlib, keep the low 32 bits of whatever int `value` is.
    let mut hasher = crc32fast::Hasher::new_with_initial(value as u32);
    hasher.update(bytes);
    hasher.finalize()
}

#[pyfunction]
#[pyo3(signature = (data, value = 0))]
fn crc32(py: Python<'_>, data: &Bound<'_, PyBytes>, value: i64) -> u32 {
    let bytes: &[u8] = data.as_bytes();
    // `detach` (rust-cpython's `allow_threads`) takes the GIL back even
    // when the closure panics, so no helper is needed around it.
    py.detach(|| checksum(bytes, value))
}

#[pyfunction]
#[pyo3(signature = (data, value = 0))]
fn crc32_holding_gil(data: &Bound<'_, PyBytes>, value: i64) -> u32 {
    checksum(data.as_bytes(), value)
}

#[pymodule]
fn threads(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(crc32, module)?)?;
    module.add_function(wrap_pyfunction!(crc32_holding_gil, module)?)?;
    Ok(())
}
