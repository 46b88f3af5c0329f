//! Lesson 13: a container class. `StringMap` maps `str` keys to `int`
//! values and behaves as a `dict` does where Python code looks: `m[k]`,
//! `m[k] = v`, `del m[k]`, `len`, `in`, iteration in insertion order. It has
//! a property with a setter, and a transaction that is a context manager.
//! The container itself is in `entries.rs`.

use std::borrow::Cow;
use std::cell::RefCell;

use cpython::{
    exc, py_class, py_exception, py_module_initializer, ObjectProtocol, PyClone, PyDict, PyErr,
    PyList, PyObject, PyResult, PyString, PyTuple, PyType, Python, PythonObject, ToPyObject,
};

mod entries;
use entries::{Entries, Refused};

// Raised inside a transaction's block: undoes the block, and goes no further.
py_exception!(mapping, Rollback);

py_class!(pub class StringMap |py| {
    // Python only ever lends a method `&self`: what changes is behind a
    // RefCell, borrowed for the length of one method.
    data entries: RefCell<Entries>;

    def __new__(_cls) -> PyResult<StringMap> {
        StringMap::create_instance(py, RefCell::new(Entries::default()))
    }

    def __len__(&self) -> PyResult<usize> {
        Ok(self.entries(py).borrow().len())
    }

    def __getitem__(&self, key: PyObject) -> PyResult<i64> {
        let found = match text_of(py, &key)? {
            Some(text) => self.entries(py).borrow().get(&text),
            None => None,
        };
        found.ok_or_else(|| key_error(py, key))
    }

    def __setitem__(&self, key: String, value: i64) -> PyResult<()> {
        self.entries(py).borrow_mut().insert(key, value).map_err(|refused| value_error(py, refused))
    }

    def __delitem__(&self, key: PyObject) -> PyResult<()> {
        let removed = match text_of(py, &key)? {
            Some(text) => self.entries(py).borrow_mut().remove(&text),
            None => false,
        };
        if removed {
            Ok(())
        } else {
            Err(key_error(py, key))
        }
    }

    def __contains__(&self, key: PyObject) -> PyResult<bool> {
        Ok(match text_of(py, &key)? {
            Some(text) => self.entries(py).borrow().contains(&text),
            None => false,
        })
    }

    // Iterates over a list of the keys as they are now: the loop sees no
    // change made while it runs.
    def __iter__(&self) -> PyResult<PyObject> {
        let keys: Vec<PyObject> =
            self.entries(py).borrow().keys().map(|key| PyString::new(py, key).into_object()).collect();
        Ok(PyList::new(py, &keys).as_object().iter(py)?.into_object())
    }

    def get(&self, key: PyObject, default: Option<PyObject> = None) -> PyResult<PyObject> {
        if let Some(text) = text_of(py, &key)? {
            if let Some(value) = self.entries(py).borrow().get(&text) {
                return Ok(value.to_py_object(py).into_object());
            }
        }
        Ok(default.unwrap_or_else(|| py.None()))
    }

    def items(&self) -> PyResult<Vec<(String, i64)>> {
        Ok(self.entries(py).borrow().items().map(|(key, value)| (key.to_owned(), value)).collect())
    }

    def __repr__(&self) -> PyResult<String> {
        let dict = PyDict::new(py);
        for (key, value) in self.entries(py).borrow().items() {
            dict.set_item(py, key, value)?;
        }
        Ok(format!("StringMap({})", dict.as_object().repr(py)?.to_string_lossy(py)))
    }

    @property def limit(&self) -> PyResult<Option<usize>> {
        Ok(self.entries(py).borrow().limit())
    }

    // The setter gets None for `del m.limit`, and Some(value) for
    // `m.limit = value`, converted to the type inside the Option: Some(None)
    // for `m.limit = None`. Both remove the limit.
    @limit.setter def set_limit(&self, limit: Option<Option<i64>>) -> PyResult<()> {
        self.entries(py).borrow_mut().set_limit(limit.flatten()).map_err(|refused| value_error(py, refused))
    }

    def transaction(&self) -> PyResult<Transaction> {
        Transaction::create_instance(py, self.clone_ref(py), RefCell::new(None))
    }
});

py_class!(pub class Transaction |py| {
    data map: StringMap;
    // The map as it was when the `with` block began; None outside one.
    data saved: RefCell<Option<Entries>>;

    // Another class's instance as a parameter: `Transaction(m)` is
    // `m.transaction()`, and anything but a StringMap is a TypeError.
    def __new__(_cls, map: StringMap) -> PyResult<Transaction> {
        map.transaction(py)
    }

    def __enter__(&self) -> PyResult<StringMap> {
        let mut saved = self.saved(py).borrow_mut();
        if saved.is_some() {
            return Err(PyErr::new::<exc::RuntimeError, _>(py, "the transaction is already open"));
        }
        *saved = Some(self.map(py).entries(py).borrow().clone());
        Ok(self.map(py).clone_ref(py))
    }

    // An exception raised in the block arrives as its type, value and
    // traceback (all None without one); returning true swallows it.
    def __exit__(&self, kind: Option<PyType>, _value: PyObject, _traceback: PyObject) -> PyResult<bool> {
        let saved = self.saved(py).borrow_mut().take();
        let saved = saved.ok_or_else(|| PyErr::new::<exc::RuntimeError, _>(py, "the transaction is not open"))?;
        let Some(kind) = kind else {
            return Ok(false); // the block finished: keep its changes
        };
        *self.map(py).entries(py).borrow_mut() = saved;
        Ok(kind.is_subtype_of(py, &py.get_type::<Rollback>()))
    }
});

/// The text of a key that can be in the map. As with a `dict`, an
/// unhashable key is a TypeError; any other key that is not a `str` (or a
/// `str` with a lone surrogate, which has no UTF-8) is simply not there.
fn text_of<'a>(py: Python, key: &'a PyObject) -> PyResult<Option<Cow<'a, str>>> {
    match key.cast_as::<PyString>(py) {
        Ok(string) => Ok(string.to_string(py).ok()),
        Err(_) => key.hash(py).map(|_| None),
    }
}

/// `KeyError(key)`. The key goes in a tuple of one: given a tuple as the
/// value, Python would make each of its items an argument.
fn key_error(py: Python, key: PyObject) -> PyErr {
    PyErr::new::<exc::KeyError, _>(py, PyTuple::new(py, &[key]))
}

fn value_error(py: Python, refused: Refused) -> PyErr {
    PyErr::new::<exc::ValueError, _>(py, refused.message())
}

py_module_initializer!(mapping, |py, module| {
    module.add_class::<StringMap>(py)?;
    module.add_class::<Transaction>(py)?;
    module.add(py, "Rollback", py.get_type::<Rollback>())?;
    // `isinstance(m, MutableMapping)` is true only for a registered class.
    let abc = py.import("collections.abc")?;
    abc.get(py, "MutableMapping")?.call_method(
        py,
        "register",
        (py.get_type::<StringMap>(),),
        None,
    )?;
    Ok(())
});
