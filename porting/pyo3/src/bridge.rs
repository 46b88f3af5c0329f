//! `porting.bridge`: while both libraries are loaded, PyO3 code that reads
//! the sets the rust-cpython library makes. It goes when the move is done.

use std::collections::hash_set;

use cpython::{ObjectProtocol as _, PythonObject as _, PythonObjectWithTypeObject as _};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::digest;
use crate::legacy_sets;

pub const DOC: &str = "Reading the rust-cpython library's sets from PyO3.";

/// The rust-cpython library's `HashSet` class, once `accept_from` named it.
static ACCEPTED: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// rust-cpython's token for the GIL that PyO3's token says is held.
fn cpython_token<'py>(_attached: Python<'py>) -> cpython::Python<'py> {
    // SAFETY: a `pyo3::Python<'py>` exists only while this thread is
    // attached to the interpreter (holds the GIL), for all of 'py;
    // `cpython::Python<'py>` claims that and nothing more, for as long.
    unsafe { cpython::Python::assume_gil_acquired() }
}

/// A rust-cpython error as a PyO3 error: the same exception object, with
/// its traceback. The interpreter's error indicator is where the two
/// crates meet: one puts the error there, the other takes it.
fn from_cpython_err(py: Python<'_>, error: cpython::PyErr) -> PyErr {
    error.restore(cpython_token(py));
    PyErr::fetch(py)
}

// `__flags__` bit of a class made at run time (by Python code, or by PyO3);
// rust-cpython's classes are static C structures without it.
const HEAP_TYPE: u64 = 1 << 9;

/// From now on, accept the `HashSet` instances of this rust-cpython
/// `sets` module. Everything that can be checked about the class is
/// checked here, since later only its identity is.
#[pyfunction]
fn accept_from(sets: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = sets.py();
    let class = sets.getattr("HashSet")?.cast_into::<PyType>()?;
    let cpy = cpython_token(py);
    // This library's own copy of the class, never given to Python: it
    // says what size an instance of the lesson's class has.
    let size = legacy_sets::HashSet::type_object(cpy)
        .as_object()
        .getattr(cpy, "__basicsize__")
        .and_then(|size| size.extract::<usize>(cpy))
        .map_err(|error| from_cpython_err(py, error))?;
    let flags = class.getattr("__flags__")?.extract::<u64>()?;
    if class.name()? != "HashSet"
        || flags & HEAP_TYPE != 0
        || class.getattr("__basicsize__")?.extract::<usize>()? != size
    {
        return Err(PyTypeError::new_err(format!(
            "{} is not the HashSet of a rust-cpython porting.sets",
            class.fully_qualified_name()?
        )));
    }
    let accepted = ACCEPTED.get_or_init(py, || class.clone().unbind());
    if !accepted.bind(py).is(&class) {
        return Err(PyValueError::new_err(format!(
            "already accepting the HashSet of {}",
            accepted.bind(py).module()?
        )));
    }
    Ok(())
}

/// Calls `read` with the object as the lesson's `HashSet`, if its class is
/// the accepted one; `None` for any other object.
fn with_legacy_set<R>(
    object: &Bound<'_, PyAny>,
    read: impl FnOnce(cpython::Python<'_>, &legacy_sets::HashSet) -> R,
) -> Option<R> {
    let py = object.py();
    if !object.get_type().is(ACCEPTED.get(py)?.bind(py)) {
        return None;
    }
    let pointer = object.as_ptr().cast();
    // SAFETY: `object` holds a reference, so the pointer is valid for this
    // call; the `&PyObject` made from it holds no count of its own (no
    // reference counting, and no `PyGILState_Ensure` to drop it), and lives
    // no longer than `pointer`, a local of this call.
    let borrowed = unsafe { cpython::PyObject::borrow_from_ptr(&pointer) };
    // SAFETY: the object's class is exactly the accepted one (a
    // rust-cpython class cannot be subclassed, so `is` is the whole test),
    // and an instance of it is laid out as a `legacy_sets::HashSet`: the
    // same source, compiled by the same compiler against the same cpython
    // crate (one Cargo.lock), and the size `accept_from` compared.
    let set = unsafe { legacy_sets::HashSet::unchecked_downcast_borrow_from(borrowed) };
    Some(read(cpython_token(py), set))
}

/// `checksums.crc32_of_set` for one of the rust-cpython library's sets;
/// `None` for any other object.
pub fn crc32_of_legacy_set(object: &Bound<'_, PyAny>) -> Option<PyResult<u32>> {
    with_legacy_set(object, |cpy, set| {
        // The borrow rust-cpython's own methods take: shared, refused
        // (never a panic) while a method of the set changes it.
        match set.shared_values(cpy).try_borrow() {
            Ok(values) => Ok(digest::crc32_of_values(&values)),
            Err(_) => Err(PyRuntimeError::new_err("the set is being changed")),
        }
    })
}

/// An iterator over a rust-cpython set that borrows its values instead of
/// copying them, as lesson 5's does: it refuses to go on once the set has
/// changed, and keeps the set alive.
#[pyclass(module = "porting.bridge")]
struct LegacyValues {
    values: cpython::UnsafePyLeaked<hash_set::Iter<'static, u32>>,
}

#[pymethods]
impl LegacyValues {
    #[new]
    fn new(set: &Bound<'_, PyAny>) -> PyResult<Self> {
        // The loan holds a reference to the set of its own.
        let leaked = with_legacy_set(set, |cpy, legacy| {
            let leaked = legacy.shared_values(cpy).leak_immutable();
            // SAFETY: the iterator borrows from the leaked set and stays
            // inside the `UnsafePyLeaked`, which checks before each use
            // that the set has not changed since.
            unsafe { leaked.map(cpy, |values| values.iter()) }
        });
        match leaked {
            Some(values) => Ok(LegacyValues { values }),
            None => Err(PyTypeError::new_err(format!(
                "'{}' object is not an accepted rust-cpython HashSet",
                set.get_type().name()?
            ))),
        }
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<u32>> {
        let cpy = cpython_token(py);
        // SAFETY: the iterator is used here and never leaves this call.
        let mut values = unsafe { self.values.try_borrow_mut(cpy) }
            .map_err(|error| from_cpython_err(py, error))?;
        Ok(values.next().copied())
    }
}

pub fn fill(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(accept_from, module)?)?;
    module.add_class::<LegacyValues>()
}
