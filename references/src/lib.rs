//! Lesson 14: Rust objects that hold Python objects. A reference the
//! garbage collector cannot see, one it can, a view that keeps another
//! object's Rust data on loan, and dropping a Python object where Rust does
//! not hold the GIL.

use std::cell::{Cell, RefCell};
use std::mem;

use cpython::{
    exc, py_class, py_fn, py_module_initializer, ObjectProtocol, PyClone, PyDict, PyDrop, PyErr,
    PyList, PyNone, PyObject, PyResult, PyTuple, Python, UnsafePyLeaked,
};

py_class!(pub class Holder |py| {
    // A Python object in a Rust field, and nothing else: no `__traverse__`,
    // so a cycle through a Holder is invisible to the garbage collector.
    data held_object: PyObject;

    def __new__(_cls, held: PyObject) -> PyResult<Holder> {
        Holder::create_instance(py, held)
    }

    @property def held(&self) -> PyResult<PyObject> {
        Ok(self.held_object(py).clone_ref(py))
    }
});

py_class!(pub class Signal |py| {
    data callbacks: RefCell<Vec<PyObject>>;

    def __new__(_cls) -> PyResult<Signal> {
        Signal::create_instance(py, RefCell::new(Vec::new()))
    }

    /// Returns the callback, so that `connect` can decorate a function.
    def connect(&self, callback: PyObject) -> PyResult<PyObject> {
        if !callback.is_callable(py) {
            let name = callback.get_type(py).name(py).into_owned();
            return Err(PyErr::new::<exc::TypeError, _>(py, format!("connect() needs a callable, not {name}")));
        }
        self.callbacks(py).borrow_mut().push(callback.clone_ref(py));
        Ok(callback)
    }

    /// Calls every callback with the arguments given; returns their results.
    def emit(&self, *args, **kwargs) -> PyResult<PyList> {
        // The calls run Python code, which may connect more callbacks:
        // call a copy of the list, with no borrow held.
        let callbacks: Vec<PyObject> = self.callbacks(py).borrow().iter().map(|callback| callback.clone_ref(py)).collect();
        let results = PyList::new(py, &[]);
        let outcome = call_each(py, &callbacks, args, kwargs, &results);
        release_all(py, callbacks);
        outcome.map(|()| results)
    }

    def __len__(&self) -> PyResult<usize> {
        Ok(self.callbacks(py).borrow().len())
    }

    // The collector asks what this object refers to. A panic here would
    // abort the process, so a list that is borrowed for writing (which no
    // method of ours leaves so while Python code runs) is skipped, not read.
    def __traverse__(&self, visit) {
        if let Ok(callbacks) = self.callbacks(py).try_borrow() {
            for callback in callbacks.iter() {
                visit.call(callback)?;
            }
        }
        Ok(())
    }

    // The collector breaks a cycle here. Freeing an object can run Python
    // code, which may use this signal: let go of the callbacks only after
    // the borrow has ended.
    def __clear__(&self) {
        let callbacks = match self.callbacks(py).try_borrow_mut() {
            Ok(mut callbacks) => mem::take(&mut *callbacks),
            Err(_) => return,
        };
        release_all(py, callbacks);
    }
});

/// Lets go of each reference with the GIL this code already holds. A
/// plain drop would work too, but rust-cpython's Drop for a `PyObject` takes
/// the GIL again to be safe anywhere; `PyDrop` is not implemented for `Vec`.
fn release_all(py: Python, objects: Vec<PyObject>) {
    for object in objects {
        object.release_ref(py);
    }
}

fn call_each(
    py: Python,
    callbacks: &[PyObject],
    args: &PyTuple,
    kwargs: Option<&PyDict>,
    results: &PyList,
) -> PyResult<()> {
    for callback in callbacks {
        results.append(py, callback.call(py, args, kwargs)?);
    }
    Ok(())
}

py_class!(pub class Log |py| {
    @shared data lines: Vec<String>;

    def __new__(_cls) -> PyResult<Log> {
        Log::create_instance(py, Vec::new())
    }

    def append(&self, line: String) -> PyResult<PyNone> {
        self.lines(py).borrow_mut().push(line);
        Ok(PyNone)
    }

    def __len__(&self) -> PyResult<usize> {
        Ok(self.lines(py).borrow().len())
    }

    /// A reader of the lines as they are now.
    def cursor(&self) -> PyResult<Cursor> {
        let lines = self.lines(py).leak_immutable();
        Cursor::create_instance(py, lines, Cell::new(0))
    }
});

py_class!(pub class Cursor |py| {
    // The loan holds a reference to the Log, so the lines live as long as
    // the cursor; it is refused, not read, once the Log has changed.
    data lines: UnsafePyLeaked<&'static Vec<String>>;
    data next_line: Cell<usize>;

    /// The next line, or None at the end.
    def read(&self) -> PyResult<Option<String>> {
        // SAFETY: the borrow is checked against the Log's changes, and the
        // line is copied out before the guard is dropped at the end of
        // this statement: no reference into the Log outlives it.
        let line = unsafe { self.lines(py).try_borrow(py) }
            .map_err(|_| log_changed(py))?
            .get(self.next_line(py).get())
            .cloned();
        if line.is_some() {
            self.next_line(py).set(self.next_line(py).get() + 1);
        }
        Ok(line)
    }

    @property def position(&self) -> PyResult<usize> {
        Ok(self.next_line(py).get())
    }
});

fn log_changed(py: Python) -> PyErr {
    PyErr::new::<exc::RuntimeError, _>(py, "the log changed after this cursor was made")
}

/// Calls `make()` and drops what it returns on a Rust thread, without the
/// GIL: Rust holds the only reference, so the object dies there.
fn drop_on_thread(py: Python, make: PyObject) -> PyResult<PyNone> {
    let made = make.call(py, PyTuple::empty(py), None)?;
    let thread = std::thread::spawn(move || {
        // rust-cpython's Drop takes the GIL, on this thread, to let go of
        // the reference: it waits until the GIL is free.
        drop(made);
    });
    // The GIL is released while waiting, or the thread could never take it.
    py.allow_threads(|| thread.join())
        .map_err(|_| PyErr::new::<exc::RuntimeError, _>(py, "the dropping thread panicked"))?;
    Ok(PyNone)
}

py_module_initializer!(references, |py, module| {
    module.add_class::<Holder>(py)?;
    module.add_class::<Signal>(py)?;
    module.add_class::<Log>(py)?;
    module.add_class::<Cursor>(py)?;
    module.add(
        py,
        "drop_on_thread",
        py_fn!(py, drop_on_thread(make: PyObject)),
    )?;
    Ok(())
});
