//! Lesson 14 in PyO3: the same four classes and function. PyO3 has no
//! `UnsafePyLeaked`: the cursor holds the Log itself and reads it by
//! position, checked against a count of the Log's changes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

#[pyclass(module = "references", frozen)]
struct Holder {
    // Every #[pyclass] takes part in garbage collection, but PyO3 visits
    // only what `__traverse__` names: without one, this reference is
    // invisible to the collector.
    held: Py<PyAny>,
}

#[pymethods]
impl Holder {
    #[new]
    fn new(held: Py<PyAny>) -> Self {
        Holder { held }
    }

    // `Py<T>` is `Clone` only with PyO3's `py-clone` feature: `clone_ref`
    // takes the token that proves the thread is attached.
    #[getter]
    fn held(&self, py: Python<'_>) -> Py<PyAny> {
        self.held.clone_ref(py)
    }
}

// `frozen`, with a Mutex: `emit` runs Python code that may call `connect`
// on the same object, which a `&mut self` method would find borrowed.
#[pyclass(module = "references", frozen)]
struct Signal {
    callbacks: Mutex<Vec<Py<PyAny>>>,
}

#[pymethods]
impl Signal {
    #[new]
    fn new() -> Self {
        Signal {
            callbacks: Mutex::new(Vec::new()),
        }
    }

    fn connect<'py>(&self, callback: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        if !callback.is_callable() {
            let name = callback.get_type().name()?;
            return Err(PyTypeError::new_err(format!(
                "connect() needs a callable, not {name}"
            )));
        }
        self.callbacks
            .lock()
            .unwrap()
            .push(callback.clone().unbind());
        Ok(callback)
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn emit<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let callbacks: Vec<Py<PyAny>> = self
            .callbacks
            .lock()
            .unwrap()
            .iter()
            .map(|callback| callback.clone_ref(py))
            .collect();
        let results = PyList::empty(py);
        for callback in callbacks {
            results.append(callback.bind(py).call(args, kwargs)?)?;
        }
        Ok(results)
    }

    fn __len__(&self) -> usize {
        self.callbacks.lock().unwrap().len()
    }

    // PyO3's rules: visit every Python object held, call no Python code,
    // and do not block: a list locked elsewhere is skipped.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Ok(callbacks) = self.callbacks.try_lock() {
            for callback in callbacks.iter() {
                visit.call(callback)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        let callbacks = match self.callbacks.try_lock() {
            Ok(mut callbacks) => std::mem::take(&mut *callbacks),
            Err(_) => return,
        };
        // Dropped here, after the lock: freeing them can run Python code.
        drop(callbacks);
    }
}

#[pyclass(module = "references")]
struct Log {
    lines: Vec<String>,
    /// How many times the lines have changed: a cursor made at an older
    /// count must not read them.
    generation: u64,
}

#[pymethods]
impl Log {
    #[new]
    fn new() -> Self {
        Log {
            lines: Vec::new(),
            generation: 0,
        }
    }

    fn append(&mut self, line: String) {
        self.lines.push(line);
        self.generation += 1;
    }

    fn __len__(&self) -> usize {
        self.lines.len()
    }

    fn cursor(slf: &Bound<'_, Self>) -> Cursor {
        Cursor {
            generation: slf.borrow().generation,
            log: slf.clone().unbind(),
            next_line: AtomicUsize::new(0),
        }
    }
}

#[pyclass(module = "references", frozen)]
struct Cursor {
    log: Py<Log>,
    generation: u64,
    next_line: AtomicUsize,
}

#[pymethods]
impl Cursor {
    fn read(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let log = self.log.bind(py).borrow();
        if log.generation != self.generation {
            return Err(PyRuntimeError::new_err(
                "the log changed after this cursor was made",
            ));
        }
        let line = log
            .lines
            .get(self.next_line.load(Ordering::Relaxed))
            .cloned();
        if line.is_some() {
            self.next_line.fetch_add(1, Ordering::Relaxed);
        }
        Ok(line)
    }

    #[getter]
    fn position(&self) -> usize {
        self.next_line.load(Ordering::Relaxed)
    }
}

/// Calls `make()` and drops what it returns on a Rust thread, detached:
/// Rust holds the only reference.
#[pyfunction]
fn drop_on_thread(py: Python<'_>, make: &Bound<'_, PyAny>) -> PyResult<()> {
    let made = make.call0()?.unbind();
    // PyO3's Drop cannot let go of the reference on a detached thread: it
    // queues it, and the queue is emptied when this thread attaches again,
    // at the end of `detach`.
    let thread = std::thread::spawn(move || drop(made));
    py.detach(|| thread.join())
        .map_err(|_| PyRuntimeError::new_err("the dropping thread panicked"))
}

#[pymodule]
fn references(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Holder>()?;
    module.add_class::<Signal>()?;
    module.add_class::<Log>()?;
    module.add_class::<Cursor>()?;
    module.add_function(wrap_pyfunction!(drop_on_thread, module)?)?;
    // pickle finds a class by its `__module__`: the name this module was
    // imported as, which `module = "references"` cannot know (lesson 12).
    for class in ["Holder", "Signal", "Log", "Cursor"] {
        module
            .getattr(class)?
            .setattr("__module__", module.name()?)?;
    }
    Ok(())
}
