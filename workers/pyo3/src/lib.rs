//! Lesson 10 in PyO3: Rust threads that call Python. The library is the
//! lesson's own file; only the binding changes.

use std::sync::Mutex;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::PyBytes;

// The lesson's library, the same file: a port changes only the binding.
#[path = "../../src/library.rs"]
mod library;
use library::{count_lines, Progress};

/// A Python callable told `callback(done, total)` after each chunk, with
/// `done` counted in the counter's `Mutex`.
struct PyProgress<'a> {
    callback: &'a Py<PyAny>,
    done: &'a Mutex<usize>,
}

impl Progress for PyProgress<'_> {
    type Error = PyErr;

    // Called on the library's threads, which are not attached until they
    // ask. `lock_py_attached` detaches while it waits for the lock, so a
    // thread waiting for it never holds the GIL; the lock is let go before
    // Python runs, as Python may call `done()`.
    fn chunk_done(&self, total: usize) -> PyResult<()> {
        Python::attach(|py| {
            let done = {
                let mut done = self.done.lock_py_attached(py).unwrap();
                *done += 1;
                *done
            };
            self.callback.call1(py, (done, total))?;
            Ok(())
        })
    }
}

/// The most threads one call may start.
const MOST_THREADS: usize = 64;

#[pyclass(module = "workers", frozen)]
struct Counter {
    chunks_done: Mutex<usize>,
}

#[pymethods]
impl Counter {
    #[new]
    fn new() -> Self {
        Counter {
            chunks_done: Mutex::new(0),
        }
    }

    /// `[chunk.count(b"\n") for chunk in chunks]`, counted on `threads`
    /// threads while other Python threads run; `progress(done, total)` is
    /// called after each chunk, on the thread that counted it.
    #[pyo3(signature = (chunks, progress, threads = 2))]
    fn count_lines(
        &self,
        py: Python<'_>,
        chunks: Vec<Bound<'_, PyBytes>>,
        progress: Py<PyAny>,
        threads: usize,
    ) -> PyResult<Vec<usize>> {
        if !(1..=MOST_THREADS).contains(&threads) {
            let message = format!("threads must be from 1 to {MOST_THREADS}, not {threads}");
            return Err(PyValueError::new_err(message));
        }
        let slices: Vec<&[u8]> = chunks.iter().map(|chunk| chunk.as_bytes()).collect();
        let progress = PyProgress {
            callback: &progress,
            done: &self.chunks_done,
        };
        py.detach(|| count_lines(&slices, threads, &progress))
    }

    /// How many chunks this counter has counted, in all its calls.
    fn done(&self, py: Python<'_>) -> usize {
        *self.chunks_done.lock_py_attached(py).unwrap()
    }
}

/// Lines counted on Rust threads that call back into Python.
#[pymodule]
fn workers(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Counter>()?;
    // pickle finds a class by its `__module__`: the name this module was
    // imported as, which `module = "workers"` cannot know (lesson 12).
    module
        .getattr("Counter")?
        .setattr("__module__", module.name()?)?;
    Ok(())
}
