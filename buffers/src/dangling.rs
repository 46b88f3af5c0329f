//! The bug this lesson exists to prevent, compiled only with
//! `--features dangling`: a slice kept after its buffer was given back.

use cpython::buffer::PyBuffer;
use cpython::{py_class, py_fn, PyModule, PyObject, PyResult, Python};

use crate::{bytes_of, checksum};

py_class!(pub class StaleView |py| {
    data bytes: &'static [u8];

    def crc32(&self) -> PyResult<u32> {
        Ok(checksum(self.bytes(py)))
    }
});

/// WRONG: a view of `data`'s bytes that outlives the buffer it came from.
fn stale_view(py: Python, data: PyObject) -> PyResult<StaleView> {
    let buffer = PyBuffer::get(py, &data)?;
    let bytes = bytes_of(py, &buffer)?;
    // SAFETY: none; this is the bug. The lifetime is made up, and the
    // buffer is given back on the next line: from then on the exporter
    // may resize, move or free the memory the slice points into.
    let bytes = unsafe { std::mem::transmute::<&[u8], &'static [u8]>(bytes) };
    drop(buffer);
    StaleView::create_instance(py, bytes)
}

pub fn add_to(py: Python, module: &PyModule) -> PyResult<()> {
    module.add(py, "stale_view", py_fn!(py, stale_view(data: PyObject)))
}
