//! Lesson 10: Rust threads that call Python. Lines are counted on threads
//! that Rust starts, and each takes the GIL itself to report progress.

use std::sync::Mutex;

use cpython::{
    exc, py_class, py_module_initializer, ObjectProtocol, PyBytes, PyErr, PyObject, PyResult,
    Python,
};

// The library, plain Rust: `Progress` and `count_lines`.
mod library;
use library::{count_lines, Progress};

/// A Python callable told `callback(done, total)` after each chunk, with
/// `done` counted in the counter's `Mutex`.
struct PyProgress<'a> {
    callback: &'a PyObject,
    done: &'a Mutex<usize>,
}

impl Progress for PyProgress<'_> {
    type Error = PyErr;

    // Called on the library's threads, which hold no GIL until they ask.
    // The order is the GIL, then the lock, as in `Counter.done()`; and the
    // lock is let go before Python runs, as Python may call `done()`.
    fn chunk_done(&self, total: usize) -> PyResult<()> {
        let gil = Python::acquire_gil();
        let py = gil.python();
        let done = {
            let mut done = self.done.lock().unwrap();
            *done += 1;
            *done
        };
        self.callback.call(py, (done, total), None)?;
        Ok(())
    }
}

/// The most threads one call may start.
const MOST_THREADS: usize = 64;

py_class!(pub class Counter |py| {
    data chunks_done: Mutex<usize>;

    def __new__(_cls) -> PyResult<Counter> {
        Counter::create_instance(py, Mutex::new(0))
    }

    /// `[chunk.count(b"\n") for chunk in chunks]`, counted on `threads`
    /// threads while other Python threads run; `progress(done, total)` is
    /// called after each chunk, on the thread that counted it.
    def count_lines(&self, chunks: Vec<PyBytes>, progress: PyObject, threads: usize = 2) -> PyResult<Vec<usize>> {
        if !(1..=MOST_THREADS).contains(&threads) {
            let message = format!("threads must be from 1 to {MOST_THREADS}, not {threads}");
            return Err(PyErr::new::<exc::ValueError, _>(py, message));
        }
        // `bytes` never change, and `chunks` keeps them alive: their
        // buffers can be read while the GIL is released (lesson 8).
        let slices: Vec<&[u8]> = chunks.iter().map(|chunk| chunk.data(py)).collect();
        let progress = PyProgress { callback: &progress, done: self.chunks_done(py) };
        py.allow_threads(|| count_lines(&slices, threads, &progress))
    }

    /// How many chunks this counter has counted, in all its calls.
    def done(&self) -> PyResult<usize> {
        Ok(*self.chunks_done(py).lock().unwrap())
    }
});

py_module_initializer!(workers, |py, module| {
    module.add(
        py,
        "__doc__",
        "Lines counted on Rust threads that call back into Python.",
    )?;
    module.add_class::<Counter>(py)?;
    Ok(())
});
