//! Lesson 13 in PyO3: the same `StringMap` and `Transaction`, with plain
//! fields and PyO3's borrow flag where the lesson has a `RefCell`, and a
//! `Mutex` in a `frozen` class, which PyO3 never lends `&mut self`.

use std::borrow::Cow;
use std::sync::Mutex;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList, PyString, PyType};

#[path = "../../src/entries.rs"]
mod entries;
use entries::{Entries, Refused};

create_exception!(mapping, Rollback, PyException);

// Plain fields: PyO3 keeps a borrow flag in the object, and lends each
// method `&self` or `&mut self` as its signature asks, checked at run time,
// for the whole call: arguments are converted after the borrow is taken.
// A method whose arguments may run Python code (a key's `__hash__`, a
// value's `__index__`) takes `slf` instead, and borrows after.
// `mapping` tells Python this is a mapping, not a sequence (`match`
// statements, and `len` and `[]` of the right protocol).
#[pyclass(module = "mapping", mapping)]
struct StringMap {
    entries: Entries,
}

#[pymethods]
impl StringMap {
    #[new]
    fn new() -> Self {
        StringMap {
            entries: Entries::default(),
        }
    }

    fn __len__(&self) -> usize {
        self.entries.len()
    }

    fn __getitem__(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>) -> PyResult<i64> {
        let found = match text_of(key)? {
            Some(text) => slf.borrow().entries.get(&text),
            None => None,
        };
        found.ok_or_else(|| PyKeyError::new_err((key.clone().unbind(),)))
    }

    fn __setitem__(slf: &Bound<'_, Self>, key: String, value: i64) -> PyResult<()> {
        slf.borrow_mut()
            .entries
            .insert(key, value)
            .map_err(value_error)
    }

    fn __delitem__(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let removed = match text_of(key)? {
            Some(text) => slf.borrow_mut().entries.remove(&text),
            None => false,
        };
        if removed {
            Ok(())
        } else {
            Err(PyKeyError::new_err((key.clone().unbind(),)))
        }
    }

    fn __contains__(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(match text_of(key)? {
            Some(text) => slf.borrow().entries.contains(&text),
            None => false,
        })
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyList::new(py, self.entries.keys())?.try_iter()
    }

    #[pyo3(signature = (key, default = None))]
    fn get<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = key.py();
        if let Some(text) = text_of(key)? {
            if let Some(value) = slf.borrow().entries.get(&text) {
                return Ok(value.into_pyobject(py)?.into_any());
            }
        }
        Ok(default.unwrap_or_else(|| py.None().into_bound(py)))
    }

    fn items(&self) -> Vec<(String, i64)> {
        self.entries
            .items()
            .map(|(key, value)| (key.to_owned(), value))
            .collect()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let dict = PyDict::new(py);
        for (key, value) in self.entries.items() {
            dict.set_item(key, value)?;
        }
        Ok(format!("StringMap({})", dict.repr()?))
    }

    #[getter]
    fn limit(&self) -> Option<usize> {
        self.entries.limit()
    }

    // `m.limit = None` comes here as None; `del m.limit` goes to the
    // deleter. Without one, `del` would raise AttributeError.
    #[setter]
    fn set_limit(slf: &Bound<'_, Self>, limit: Option<i64>) -> PyResult<()> {
        slf.borrow_mut()
            .entries
            .set_limit(limit)
            .map_err(value_error)
    }

    #[deleter]
    fn delete_limit(&mut self) -> PyResult<()> {
        self.entries.set_limit(None).map_err(value_error)
    }

    fn transaction(slf: &Bound<'_, Self>) -> Transaction {
        Transaction {
            map: slf.clone().unbind(),
            saved: Mutex::new(None),
        }
    }
}

// `frozen`: PyO3 lends this class `&self` only, with no borrow flag, so
// the field that changes is a Mutex. (A RefCell would not compile: a
// `#[pyclass]` must be `Sync`.)
#[pyclass(module = "mapping", frozen)]
struct Transaction {
    map: Py<StringMap>,
    saved: Mutex<Option<Entries>>,
}

#[pymethods]
impl Transaction {
    #[new]
    fn new(map: &Bound<'_, StringMap>) -> Self {
        StringMap::transaction(map)
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<Py<StringMap>> {
        let mut saved = self
            .saved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if saved.is_some() {
            return Err(PyRuntimeError::new_err("the transaction is already open"));
        }
        *saved = Some(self.map.bind(py).borrow().entries.clone());
        Ok(self.map.clone_ref(py))
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        kind: Option<&Bound<'_, PyType>>,
        _value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let saved = self
            .saved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let saved = saved.ok_or_else(|| PyRuntimeError::new_err("the transaction is not open"))?;
        let Some(kind) = kind else {
            return Ok(false);
        };
        self.map.bind(py).borrow_mut().entries = saved;
        kind.is_subclass_of::<Rollback>()
    }
}

fn text_of<'a>(key: &'a Bound<'_, PyAny>) -> PyResult<Option<Cow<'a, str>>> {
    match key.cast::<PyString>() {
        Ok(string) => Ok(string.to_str().ok().map(Cow::Borrowed)),
        Err(_) => key.hash().map(|_| None),
    }
}

fn value_error(refused: Refused) -> PyErr {
    PyValueError::new_err(refused.message())
}

#[pymodule]
fn mapping(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add_class::<StringMap>()?;
    module.add_class::<Transaction>()?;
    module.add("Rollback", py.get_type::<Rollback>())?;
    let abc = py.import("collections.abc")?;
    abc.getattr("MutableMapping")?
        .call_method1("register", (py.get_type::<StringMap>(),))?;
    // pickle finds a class by its `__module__`: the name this module was
    // imported as, which `module = "mapping"` cannot know (lesson 12).
    for class in ["StringMap", "Transaction"] {
        module
            .getattr(class)?
            .setattr("__module__", module.name()?)?;
    }
    Ok(())
}
