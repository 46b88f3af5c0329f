//! Lesson 9 in PyO3: Rust code that calls Python. The library is the
//! lesson's own file; only the binding changes.

use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::{PyKeyError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

// The lesson's library, the same file: a port changes only the binding.
#[path = "../../src/library.rs"]
mod library;
use library::{fetch, FetchError, Lookup, Settings, Store};

#[cfg(test)]
mod tests;

// The binding: Python's pieces in the library's terms.

/// Any Python object as a store: `store[key]`, and
/// `store.put(key, value, ttl=timedelta)`.
struct PyStore(Py<PyAny>);

impl Store for PyStore {
    type Value = Py<PyAny>;
    type Error = PyErr;

    // The trait's methods get no `Python` token, so each attaches to the
    // interpreter itself; called from Python, the thread is attached
    // already and `attach` only counts.
    fn get(&self, key: &str) -> PyResult<Lookup<Py<PyAny>>> {
        Python::attach(|py| match self.0.bind(py).get_item(key) {
            Ok(value) => Ok(Lookup::Found(value.unbind())),
            Err(error) if error.is_instance_of::<PyKeyError>(py) => Ok(Lookup::Missing),
            Err(error) => Err(error),
        })
    }

    fn put(&self, key: &str, value: &Py<PyAny>, ttl: Duration) -> PyResult<()> {
        Python::attach(|py| {
            let keywords = PyDict::new(py);
            keywords.set_item("ttl", Ttl(ttl))?;
            self.0
                .bind(py)
                .call_method("put", (key, value), Some(&keywords))?;
            Ok(())
        })
    }
}

/// The one place where the library's errors become Python exceptions.
impl From<FetchError<PyErr>> for PyErr {
    fn from(error: FetchError<PyErr>) -> PyErr {
        match error {
            FetchError::Failed(error) => error,
            // `From` gets no token, so it attaches.
            FetchError::LimitReached { limit } => {
                Python::attach(|py| limit_reached(py, limit).unwrap_or_else(|error| error))
            }
        }
    }
}

/// `calling.errors.LimitReached`, a class Python defines. Imported each
/// time, not kept: a class is an interpreter's own (see the lesson). Not
/// `import_exception!` either: it panics when the import fails, at a point
/// where the panic aborts the process.
fn limit_reached(py: Python<'_>, limit: usize) -> PyResult<PyErr> {
    let class = py
        .import("calling.errors")?
        .getattr("LimitReached")?
        .cast_into::<PyType>()?;
    let message = format!("fetch would load more than settings.limit ({limit}) values");
    Ok(PyErr::from_type(class, (message, limit)))
}

static TIMEDELTA: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `datetime.timedelta`, imported once and kept. `PyOnceLock` lets other
/// threads run while it imports, so it may import inside the cell.
fn timedelta(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    TIMEDELTA.import(py, "datetime", "timedelta")
}

/// A time to live: a positive `datetime.timedelta` in Python, a `Duration`
/// in Rust.
struct Ttl(Duration);

/// `timedelta.max`. A subclass may report any fields; a longer `Ttl` would
/// not convert back.
const LONGEST: Duration = Duration::new(999_999_999 * 86_400 + 86_399, 999_999_000);

impl<'py> FromPyObject<'_, 'py> for Ttl {
    type Error = PyErr;

    fn extract(object: Borrowed<'_, 'py, PyAny>) -> PyResult<Ttl> {
        if !object.is_instance(timedelta(object.py())?)? {
            let found = object.get_type().name()?;
            return Err(PyTypeError::new_err(format!(
                "expected a datetime.timedelta, not {found}"
            )));
        }
        let days: i32 = object.getattr("days")?.extract()?;
        let seconds: u32 = object.getattr("seconds")?.extract()?;
        let microseconds: u32 = object.getattr("microseconds")?.extract()?;
        let ttl = Duration::from_secs(
            u64::from(days.max(0).unsigned_abs()) * 86_400 + u64::from(seconds),
        ) + Duration::from_micros(u64::from(microseconds));
        if days < 0 || ttl.is_zero() || ttl > LONGEST {
            return Err(PyValueError::new_err("a time to live must be positive"));
        }
        Ok(Ttl(ttl))
    }
}

impl<'py> IntoPyObject<'py> for Ttl {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    // Unlike rust-cpython's `to_py_object`, a conversion may fail.
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let seconds = self.0.as_secs();
        let fields = (seconds / 86_400, seconds % 86_400, self.0.subsec_micros());
        timedelta(py)?.call1(fields)
    }
}

impl Settings {
    /// Reads the settings from the attributes of any object: a module, an
    /// `argparse.Namespace`, a dataclass.
    fn read(settings: &Bound<'_, PyAny>) -> PyResult<Settings> {
        Ok(Settings {
            prefix: setting(settings, "prefix")?,
            ttl: setting::<Ttl>(settings, "ttl")?.0,
            limit: setting(settings, "limit")?,
        })
    }
}

/// `settings.<name>` as a `T`. A value that does not convert raises the
/// conversion's exception, its message saying which setting it was.
fn setting<T>(settings: &Bound<'_, PyAny>, name: &str) -> PyResult<T>
where
    T: for<'a, 'py> FromPyObject<'a, 'py, Error = PyErr>,
{
    let py = settings.py();
    let error = match settings.getattr(name)?.extract() {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    let kind = error.get_type(py);
    let plain = [
        py.get_type::<PyTypeError>(),
        py.get_type::<PyValueError>(),
        py.get_type::<PyOverflowError>(),
    ];
    if !plain.iter().any(|plain| plain.is(&kind)) {
        return Err(error); // a UnicodeEncodeError, say, takes more than a message
    }
    Err(PyErr::from_type(
        kind,
        format!("settings.{name}: {}", error.value(py)),
    ))
}

// `frozen`: PyO3 shares a class's instances between threads, so its
// fields must be `Sync`; a `Mutex` stands where the lesson has a `RefCell`.
#[pyclass(module = "calling", frozen)]
struct Cache {
    store: Py<PyAny>,
    settings: Settings,
    loaded_keys: Mutex<Vec<String>>,
}

#[pymethods]
impl Cache {
    #[new]
    fn new(store: Py<PyAny>, settings: &Bound<'_, PyAny>) -> PyResult<Self> {
        let settings = Settings::read(settings)?;
        Ok(Cache {
            store,
            settings,
            loaded_keys: Mutex::new(Vec::new()),
        })
    }

    /// `{key: value}` for each of `keys`; `load(key)` makes a missing one.
    fn fetch<'py>(
        &self,
        keys: Vec<String>,
        load: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let py = load.py();
        let store = PyStore(self.store.clone_ref(py));
        let mut loaded = Vec::new();
        let values = fetch(
            &store,
            &self.settings,
            &keys,
            |key| Ok(load.call1((key,))?.unbind()),
            &mut loaded,
        );
        // Only now lock the keys: `load` may call `self.loaded()`.
        self.loaded_keys.lock().unwrap().extend(loaded);
        let found = PyDict::new(py);
        for (key, value) in keys.iter().zip(values?) {
            found.set_item(key, value)?;
        }
        Ok(found)
    }

    /// The keys this cache has loaded, oldest first.
    fn loaded(&self) -> Vec<String> {
        self.loaded_keys.lock().unwrap().clone()
    }
}

/// A read-through cache in Rust over a store that Python supplies.
#[pymodule]
fn calling(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Cache>()?;
    // pickle finds a class by its `__module__`: the name this module was
    // imported as, which `module = "calling"` cannot know (lesson 12).
    module
        .getattr("Cache")?
        .setattr("__module__", module.name()?)?;
    Ok(())
}
