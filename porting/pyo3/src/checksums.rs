//! `porting.checksums` in PyO3: ported first, so while the move lasts its
//! `crc32_of_set` also reads the sets the lesson's library makes.

use pyo3::prelude::*;

use crate::bridge;
use crate::digest;
use crate::sets::HashSet;

#[pyfunction]
fn crc32(data: &[u8]) -> u32 {
    digest::crc32(data)
}

#[pyfunction]
fn crc32_of_set(values: &Bound<'_, PyAny>) -> PyResult<u32> {
    match values.cast::<HashSet>() {
        Ok(set) => Ok(digest::crc32_of_values(&set.borrow().values)),
        // Not one of ours: perhaps one of the rust-cpython library's.
        Err(not_ours) => {
            bridge::crc32_of_legacy_set(values).unwrap_or_else(|| Err(not_ours.into()))
        }
    }
}

pub fn fill(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(crc32, module)?)?;
    module.add_function(wrap_pyfunction!(crc32_of_set, module)?)
}
