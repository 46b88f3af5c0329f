//! Lesson 9: Rust code that calls Python. A read-through cache whose
//! library code is plain Rust; Python supplies the store, the loader and
//! the settings.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Duration;

use cpython::{
    exc, py_class, py_module_initializer, FromPyObject, ObjectProtocol, PyClone, PyDict, PyErr,
    PyList, PyObject, PyResult, PyString, PyType, Python, PythonObject, ToPyObject,
};

// The library, plain Rust: `Store`, `Lookup`, `Settings`, `fetch`.
mod library;
use library::{fetch, FetchError, Lookup, Settings, Store};

#[cfg(test)]
mod tests;

// The binding: Python's pieces in the library's terms.

/// Any Python object as a store: `store[key]`, and
/// `store.put(key, value, ttl=timedelta)`.
struct PyStore(PyObject);

impl Store for PyStore {
    type Value = PyObject;
    type Error = PyErr;

    // The trait's methods get no `Python` token, so each takes the GIL
    // itself. Called from Python, the thread holds it already, and
    // `acquire_gil` only counts one more holder.
    fn get(&self, key: &str) -> PyResult<Lookup<PyObject>> {
        let gil = Python::acquire_gil();
        let py = gil.python();
        match self.0.get_item(py, key) {
            Ok(value) => Ok(Lookup::Found(value)),
            Err(error) if error.matches(py, py.get_type::<exc::KeyError>()) => Ok(Lookup::Missing),
            Err(error) => Err(error),
        }
    }

    fn put(&self, key: &str, value: &PyObject, ttl: Duration) -> PyResult<()> {
        let gil = Python::acquire_gil();
        let py = gil.python();
        let keywords = PyDict::new(py);
        keywords.set_item(py, "ttl", Ttl(ttl))?;
        self.0
            .call_method(py, "put", (key, value), Some(&keywords))?;
        Ok(())
    }
}

/// The one place where the library's errors become Python exceptions.
impl From<FetchError<PyErr>> for PyErr {
    fn from(error: FetchError<PyErr>) -> PyErr {
        match error {
            FetchError::Failed(error) => error,
            FetchError::LimitReached { limit } => {
                // `From` gets no token either.
                let gil = Python::acquire_gil();
                limit_reached(gil.python(), limit).unwrap_or_else(|error| error)
            }
        }
    }
}

/// `calling.errors.LimitReached`, a class Python defines. Imported each
/// time, not kept: a class is an interpreter's own (see the lesson).
fn limit_reached(py: Python, limit: usize) -> PyResult<PyErr> {
    let class = py
        .import("calling.errors")?
        .get(py, "LimitReached")?
        .cast_into::<PyType>(py)?;
    let message = format!("fetch would load more than settings.limit ({limit}) values");
    Ok(PyErr::new_lazy_init(
        class,
        Some((message, limit).to_py_object(py).into_object()),
    ))
}

static TIMEDELTA: OnceLock<PyType> = OnceLock::new();

/// `datetime.timedelta`, imported once and kept.
fn timedelta(py: Python) -> PyResult<&'static PyType> {
    if let Some(class) = TIMEDELTA.get() {
        return Ok(class);
    }
    // Import before `get_or_init`, not inside it: an import runs Python
    // code, which may let another thread take the GIL and then wait for
    // this cell, while this thread waits for the GIL.
    let class = py
        .import("datetime")?
        .get(py, "timedelta")?
        .cast_into::<PyType>(py)?;
    Ok(TIMEDELTA.get_or_init(|| class))
}

/// A time to live: a positive `datetime.timedelta` in Python, a `Duration`
/// in Rust.
struct Ttl(Duration);

/// `timedelta.max`. A subclass may report any fields; a longer `Ttl` would
/// not convert back.
const LONGEST: Duration = Duration::new(999_999_999 * 86_400 + 86_399, 999_999_000);

impl<'s> FromPyObject<'s> for Ttl {
    fn extract(py: Python, object: &'s PyObject) -> PyResult<Ttl> {
        if !timedelta(py)?.is_instance(py, object) {
            let found = object.get_type(py).name(py).into_owned();
            return Err(PyErr::new::<exc::TypeError, _>(
                py,
                format!("expected a datetime.timedelta, not {found}"),
            ));
        }
        let days: i32 = object.getattr(py, "days")?.extract(py)?;
        let seconds: u32 = object.getattr(py, "seconds")?.extract(py)?;
        let microseconds: u32 = object.getattr(py, "microseconds")?.extract(py)?;
        let ttl = Duration::from_secs(
            u64::from(days.max(0).unsigned_abs()) * 86_400 + u64::from(seconds),
        ) + Duration::from_micros(u64::from(microseconds));
        if days < 0 || ttl.is_zero() || ttl > LONGEST {
            return Err(PyErr::new::<exc::ValueError, _>(
                py,
                "a time to live must be positive",
            ));
        }
        Ok(Ttl(ttl))
    }
}

impl ToPyObject for Ttl {
    type ObjectType = PyObject;

    // `to_py_object` cannot fail. A `Ttl` exists only once `timedelta` has
    // been imported, and is at most `LONGEST`, so this call fails only when
    // memory runs out (a panic: `SystemError`).
    fn to_py_object(&self, py: Python) -> PyObject {
        let seconds = self.0.as_secs();
        let fields = (seconds / 86_400, seconds % 86_400, self.0.subsec_micros());
        let timedelta = timedelta(py).expect("imported by extract");
        timedelta
            .call(py, fields, None)
            .expect("a timedelta's fields make a timedelta")
    }
}

impl Settings {
    /// Reads the settings from the attributes of any object: a module, an
    /// `argparse.Namespace`, a dataclass.
    fn read(py: Python, settings: &PyObject) -> PyResult<Settings> {
        Ok(Settings {
            prefix: setting(py, settings, "prefix")?,
            ttl: setting::<Ttl>(py, settings, "ttl")?.0,
            limit: setting(py, settings, "limit")?,
        })
    }
}

/// `settings.<name>` as a `T`. A value that does not convert raises the
/// conversion's exception, its message saying which setting it was.
fn setting<T: for<'s> FromPyObject<'s>>(
    py: Python,
    settings: &PyObject,
    name: &str,
) -> PyResult<T> {
    let mut error = match settings.getattr(py, name)?.extract(py) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    let kind = error.get_type(py);
    let plain = [
        py.get_type::<exc::TypeError>(),
        py.get_type::<exc::ValueError>(),
        py.get_type::<exc::OverflowError>(),
    ];
    if !plain.contains(&kind) {
        return Err(error); // a UnicodeEncodeError, say, takes more than a message
    }
    let message = format!(
        "settings.{name}: {}",
        error.instance(py).str(py)?.to_string_lossy(py)
    );
    Err(PyErr::new_lazy_init(
        kind,
        Some(message.to_py_object(py).into_object()),
    ))
}

py_class!(pub class Cache |py| {
    data store: PyObject;
    data settings: Settings;
    data loaded_keys: RefCell<Vec<String>>;

    def __new__(_cls, store: PyObject, settings: PyObject) -> PyResult<Cache> {
        let settings = Settings::read(py, &settings)?;
        Cache::create_instance(py, store, settings, RefCell::new(Vec::new()))
    }

    /// `{key: value}` for each of `keys`; `load(key)` makes a missing one.
    def fetch(&self, keys: PyObject, load: PyObject) -> PyResult<PyDict> {
        // rust-cpython would read a `str` as a sequence of one-letter keys.
        if keys.cast_as::<PyString>(py).is_ok() {
            return Err(PyErr::new::<exc::TypeError, _>(py, "Can't extract `str` to `Vec`"));
        }
        let keys: Vec<String> = keys.extract(py)?;
        let store = PyStore(self.store(py).clone_ref(py));
        let mut loaded = Vec::new();
        let values = fetch(&store, self.settings(py), &keys, |key| load.call(py, (key,), None), &mut loaded);
        // Only now borrow the keys: `load` may call `self.loaded()`.
        self.loaded_keys(py).borrow_mut().extend(loaded);
        let found = PyDict::new(py);
        for (key, value) in keys.iter().zip(values?) {
            found.set_item(py, key, value)?;
        }
        Ok(found)
    }

    /// The keys this cache has loaded, oldest first.
    def loaded(&self) -> PyResult<PyList> {
        Ok(self.loaded_keys(py).borrow().to_py_object(py))
    }
});

py_module_initializer!(calling, |py, module| {
    module.add(
        py,
        "__doc__",
        "A read-through cache in Rust over a store that Python supplies.",
    )?;
    module.add_class::<Cache>(py)?;
    Ok(())
});
