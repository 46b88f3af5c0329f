//! Lesson 15 in PyO3: the same functions and class. PyO3 0.30 deprecates
//! its safe slice accessors for buffers as unsound, so every read and
//! write here goes through a raw pointer, with its reason.

use std::sync::Mutex;

use pyo3::buffer::{Element, PyBuffer, PyUntypedBuffer};
use pyo3::exceptions::{PyBufferError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyDateTime};

/// The bytes a buffer lends, whatever its format, as `zlib` reads them.
fn bytes_of(buffer: &PyUntypedBuffer) -> PyResult<&[u8]> {
    if !buffer.is_c_contiguous() {
        return Err(PyBufferError::new_err("the buffer is not C-contiguous"));
    }
    // SAFETY: while `buffer` is held, the exporter keeps these
    // `len_bytes()` bytes where they are, and the slice cannot outlive
    // `buffer`. Nothing else writes them while the slice is used: the
    // callers are attached, run no Python code, and do not detach.
    Ok(unsafe { std::slice::from_raw_parts(buffer.buf_ptr() as *const u8, buffer.len_bytes()) })
}

fn checksum(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(bytes);
    hasher.finalize()
}

#[pyfunction]
fn crc32(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<u32> {
    // As in the lesson: a `bytes` (not a subclass) without a buffer.
    if let Ok(bytes) = data.cast_exact::<PyBytes>() {
        return Ok(checksum(bytes.as_bytes()));
    }
    let buffer = PyUntypedBuffer::get(data)?;
    let sum = checksum(bytes_of(&buffer)?);
    buffer.release(py);
    Ok(sum)
}

/// `&[u8]` is extracted from `bytes` only, without a copy.
#[pyfunction]
fn crc32_of_bytes(data: &[u8]) -> u32 {
    checksum(data)
}

/// PyO3 copies a `bytes` or `bytearray` into a `Vec<u8>` in one go, and
/// anything else item by item.
#[pyfunction]
fn crc32_of_copy(data: Vec<u8>) -> u32 {
    checksum(&data)
}

#[pyfunction]
fn sum_int64(values: &Bound<'_, PyAny>) -> PyResult<i64> {
    let buffer = PyUntypedBuffer::get(values)?;
    if buffer.item_size() != 8 || !i64::is_compatible_format(buffer.format()) {
        let format = buffer.format().to_string_lossy();
        return Err(PyTypeError::new_err(format!(
            "sum_int64() needs a buffer of 8-byte signed integers (format 'q'), \
             not format '{format}' with {}-byte items",
            buffer.item_size()
        )));
    }
    if buffer.item_count() == 0 {
        // An empty array lends a pointer to a one-byte placeholder, not
        // aligned for an i64: `as_typed` would refuse it.
        return Ok(0);
    }
    let items = buffer
        .as_typed::<i64>()
        .ok()
        .and_then(|typed| typed.as_slice_ptr());
    let Some(items) = items else {
        return Err(PyBufferError::new_err(
            "the buffer is not C-contiguous, or its items are not aligned",
        ));
    };
    // SAFETY: `as_typed` checked the format, size and alignment, and
    // `as_slice_ptr` that the items are contiguous; the slice is used while
    // `buffer` is held, attached, with no Python code run.
    let items = unsafe { items.as_ref() };
    let total = items
        .iter()
        .try_fold(0i64, |total, item| total.checked_add(*item));
    total.ok_or_else(|| PyOverflowError::new_err("the sum does not fit in 64 bits"))
}

#[pyfunction]
fn xor(data: &Bound<'_, PyAny>, key: u8) -> PyResult<()> {
    let buffer = PyUntypedBuffer::get(data)?;
    if buffer.readonly() {
        let kind = data.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "xor() needs a writable buffer, not {kind}"
        )));
    }
    bytes_of(&buffer)?;
    let bytes = buffer
        .as_typed::<u8>()
        .ok()
        .and_then(PyBuffer::as_slice_ptr);
    let Some(mut bytes) = bytes else {
        let format = buffer.format().to_string_lossy();
        return Err(PyTypeError::new_err(format!(
            "xor() needs a buffer of bytes (format 'B'), not format '{format}'"
        )));
    };
    // SAFETY: the buffer is writable, its items are bytes and contiguous;
    // this is the only reference to them while the loop runs, attached,
    // with no Python code run.
    for byte in unsafe { bytes.as_mut() } {
        *byte ^= key;
    }
    Ok(())
}

#[pyclass(module = "buffers", frozen)]
struct Reader {
    // Held from the constructor to `release()`, or until the Reader is
    // freed: all that time the exporter keeps its memory where it is.
    buffer: Mutex<Option<PyUntypedBuffer>>,
}

#[pymethods]
impl Reader {
    #[new]
    fn new(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let buffer = PyUntypedBuffer::get(data)?;
        bytes_of(&buffer)?;
        Ok(Reader {
            buffer: Mutex::new(Some(buffer)),
        })
    }

    fn __len__(&self) -> PyResult<usize> {
        self.read(|bytes| bytes.len())
    }

    fn crc32(&self) -> PyResult<u32> {
        self.read(checksum)
    }

    fn count(&self, byte: u8) -> PyResult<usize> {
        self.read(|bytes| bytes.iter().filter(|&&each| each == byte).count())
    }

    fn release(&self, py: Python<'_>) {
        let taken = self.buffer.lock().unwrap().take();
        if let Some(buffer) = taken {
            buffer.release(py);
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _kind: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> bool {
        self.release(py);
        false
    }
}

impl Reader {
    fn read<T>(&self, use_bytes: impl FnOnce(&[u8]) -> T) -> PyResult<T> {
        match &*self.buffer.lock().unwrap() {
            Some(buffer) => Ok(use_bytes(bytes_of(buffer)?)),
            None => Err(PyValueError::new_err(
                "operation forbidden on released Reader object",
            )),
        }
    }
}

#[pyfunction]
#[pyo3(signature = (year, month, day, hour=0, minute=0, second=0, microsecond=0))]
#[allow(clippy::too_many_arguments)]
fn make_datetime(
    py: Python<'_>,
    year: i32,
    month: i32,
    day: i32,
    hour: i32,
    minute: i32,
    second: i32,
    microsecond: i32,
) -> PyResult<Py<PyAny>> {
    // SAFETY: CPython stores a `PyDateTime_CAPI` under this name, which
    // PyO3 declares in full, and nothing changes it.
    let api: &ffi::PyDateTime_CAPI = unsafe { PyCapsule::import(py, c"datetime.datetime_CAPI")? };
    // SAFETY: the function checks its arguments and returns a new
    // reference, or NULL with an exception set; `Py_None` is a valid
    // tzinfo for it, and the type is the one it expects. Attached (`py`).
    unsafe {
        let made = (api.DateTime_FromDateAndTime)(
            year,
            month,
            day,
            hour,
            minute,
            second,
            microsecond,
            ffi::Py_None(),
            api.DateTimeType,
        );
        Bound::from_owned_ptr_or_err(py, made).map(Bound::unbind)
    }
}

/// PyO3's own datetime types read the same capsule: `PyDateTime` is the
/// type `datetime.datetime`, and `cast` checks it as `PyDateTime_Check`.
#[pyfunction]
fn is_datetime(value: &Bound<'_, PyAny>) -> bool {
    value.cast::<PyDateTime>().is_ok()
}

#[pymodule]
fn buffers(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(crc32, module)?)?;
    module.add_function(wrap_pyfunction!(crc32_of_bytes, module)?)?;
    module.add_function(wrap_pyfunction!(crc32_of_copy, module)?)?;
    module.add_function(wrap_pyfunction!(sum_int64, module)?)?;
    module.add_function(wrap_pyfunction!(xor, module)?)?;
    module.add_function(wrap_pyfunction!(make_datetime, module)?)?;
    module.add_function(wrap_pyfunction!(is_datetime, module)?)?;
    module.add_class::<Reader>()?;
    // pickle finds a class by its `__module__`: the name this module was
    // imported as, which `module = "buffers"` cannot know (lesson 12).
    module
        .getattr("Reader")?
        .setattr("__module__", module.name()?)?;
    Ok(())
}
