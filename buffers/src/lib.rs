//! Lesson 15: memory that Python owns, read and written by Rust in place
//! through the buffer protocol; and another extension's C API, reached
//! through a capsule (src/capsule.rs).

use std::cell::RefCell;

use cpython::buffer::{Element, PyBuffer};
use cpython::{
    exc, py_class, py_fn, py_module_initializer, PyBytes, PyClone, PyDrop, PyErr, PyNone, PyObject,
    PyResult, Python,
};

use python3_sys as ffi;

mod capsule;
#[cfg(feature = "dangling")]
mod dangling;

/// The bytes a buffer lends, whatever its format, as `zlib` reads them.
fn bytes_of<'a>(py: Python<'a>, buffer: &'a PyBuffer) -> PyResult<&'a [u8]> {
    if !buffer.is_c_contiguous() {
        return Err(PyErr::new::<exc::BufferError, _>(
            py,
            "the buffer is not C-contiguous",
        ));
    }
    // SAFETY: while `buffer` is held, the exporter keeps these
    // `len_bytes()` bytes where they are (a bytearray refuses to resize),
    // and the slice cannot outlive `buffer`. Nothing else writes them while
    // the slice is used: the callers hold the GIL and run no Python code.
    Ok(unsafe { std::slice::from_raw_parts(buffer.buf_ptr() as *const u8, buffer.len_bytes()) })
}

fn checksum(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(bytes);
    hasher.finalize()
}

/// CRC-32 of any contiguous buffer, read where it lies.
fn crc32(py: Python, data: PyObject) -> PyResult<u32> {
    // A buffer costs an allocation and two calls into CPython, a third of
    // the time at 64 bytes: a `bytes` is read directly. Not a subclass,
    // which may export other memory than its own.
    // SAFETY: a type check on a live object; the GIL is held.
    if unsafe { ffi::PyBytes_CheckExact(data.as_ptr()) } != 0 {
        return Ok(checksum(data.cast_as::<PyBytes>(py)?.data(py)));
    }
    let buffer = PyBuffer::get(py, &data)?;
    let sum = checksum(bytes_of(py, &buffer)?);
    buffer.release_ref(py);
    Ok(sum)
}

/// The same, for `bytes` only: no buffer to ask for.
fn crc32_of_bytes(py: Python, data: PyBytes) -> PyResult<u32> {
    Ok(checksum(data.data(py)))
}

/// The same, from a copy: rust-cpython fills a `Vec<u8>` item by item.
fn crc32_of_copy(_py: Python, data: Vec<u8>) -> PyResult<u32> {
    Ok(checksum(&data))
}

/// The sum of a buffer of 64-bit signed integers (`array('q')`).
fn sum_int64(py: Python, values: PyObject) -> PyResult<i64> {
    let buffer = PyBuffer::get(py, &values)?;
    if buffer.item_size() != 8 || !i64::is_compatible_format(buffer.format()) {
        let format = buffer.format().to_string_lossy();
        let message = format!(
            "sum_int64() needs a buffer of 8-byte signed integers (format 'q'), \
             not format '{format}' with {}-byte items",
            buffer.item_size()
        );
        return Err(PyErr::new::<exc::TypeError, _>(py, message));
    }
    if buffer.item_count() == 0 {
        // An empty array lends a pointer to a one-byte placeholder, not
        // aligned for an i64: `as_slice` would refuse it.
        return Ok(0);
    }
    // `as_slice` checks the format and size again, the alignment, and that
    // the items are contiguous.
    let Some(items) = buffer.as_slice::<i64>(py) else {
        let message = "the buffer is not C-contiguous, or its items are not aligned";
        return Err(PyErr::new::<exc::BufferError, _>(py, message));
    };
    let total = items
        .iter()
        .try_fold(0i64, |total, item| total.checked_add(item.get()));
    total.ok_or_else(|| PyErr::new::<exc::OverflowError, _>(py, "the sum does not fit in 64 bits"))
}

/// XORs every byte of a writable buffer with `key`, in place.
fn xor(py: Python, data: PyObject, key: u8) -> PyResult<PyNone> {
    let buffer = PyBuffer::get(py, &data)?;
    if buffer.readonly() {
        let kind = data.get_type(py).name(py).into_owned();
        return Err(PyErr::new::<exc::TypeError, _>(
            py,
            format!("xor() needs a writable buffer, not {kind}"),
        ));
    }
    bytes_of(py, &buffer)?;
    // A slice of `Cell`s: safe to write, because while the GIL is held no
    // other thread reads or writes them. None unless the items are bytes.
    let Some(bytes) = buffer.as_mut_slice::<u8>(py) else {
        let format = buffer.format().to_string_lossy();
        let message = format!("xor() needs a buffer of bytes (format 'B'), not format '{format}'");
        return Err(PyErr::new::<exc::TypeError, _>(py, message));
    };
    for byte in bytes {
        byte.set(byte.get() ^ key);
    }
    Ok(PyNone)
}

py_class!(pub class Reader |py| {
    // Held from the constructor to `release()`, or until the Reader is
    // freed: all that time the exporter keeps its memory where it is.
    data buffer: RefCell<Option<PyBuffer>>;

    def __new__(_cls, data: PyObject) -> PyResult<Reader> {
        let buffer = PyBuffer::get(py, &data)?;
        bytes_of(py, &buffer)?;
        Reader::create_instance(py, RefCell::new(Some(buffer)))
    }

    def __len__(&self) -> PyResult<usize> {
        self.read(py, |bytes| bytes.len())
    }

    def crc32(&self) -> PyResult<u32> {
        self.read(py, checksum)
    }

    /// How many times `byte` occurs, as `bytes.count` counts it.
    def count(&self, byte: u8) -> PyResult<usize> {
        self.read(py, |bytes| bytes.iter().filter(|&&each| each == byte).count())
    }

    /// Gives the buffer back, as `memoryview.release()` does.
    def release(&self) -> PyResult<PyNone> {
        // Releasing may free the exporter, and so run Python code that
        // uses this Reader: take the buffer out first, release it after.
        let taken = self.buffer(py).borrow_mut().take();
        taken.release_ref(py);
        Ok(PyNone)
    }

    def __enter__(&self) -> PyResult<Reader> {
        Ok(self.clone_ref(py))
    }

    def __exit__(&self, _kind: PyObject, _value: PyObject, _traceback: PyObject) -> PyResult<bool> {
        self.release(py)?;
        Ok(false)
    }
});

impl Reader {
    fn read<T>(&self, py: Python, use_bytes: impl FnOnce(&[u8]) -> T) -> PyResult<T> {
        match &*self.buffer(py).borrow() {
            Some(buffer) => Ok(use_bytes(bytes_of(py, buffer)?)),
            None => Err(PyErr::new::<exc::ValueError, _>(
                py,
                "operation forbidden on released Reader object",
            )),
        }
    }
}

py_module_initializer!(buffers, |py, module| {
    module.add(py, "crc32", py_fn!(py, crc32(data: PyObject)))?;
    module.add(
        py,
        "crc32_of_bytes",
        py_fn!(py, crc32_of_bytes(data: PyBytes)),
    )?;
    module.add(
        py,
        "crc32_of_copy",
        py_fn!(py, crc32_of_copy(data: Vec<u8>)),
    )?;
    module.add(py, "sum_int64", py_fn!(py, sum_int64(values: PyObject)))?;
    module.add(py, "xor", py_fn!(py, xor(data: PyObject, key: u8)))?;
    module.add_class::<Reader>(py)?;
    capsule::add_to(py, module)?;
    #[cfg(feature = "dangling")]
    dangling::add_to(py, module)?;
    Ok(())
});
