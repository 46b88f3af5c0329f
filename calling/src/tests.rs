//! Lesson 9's Rust tests: `cargo test` starts an interpreter of its own.

use std::collections::HashMap;

use super::*;

/// A store in plain Rust: the library needs no Python to be tested.
#[derive(Default)]
struct MemoryStore(RefCell<HashMap<String, u32>>);

impl Store for MemoryStore {
    type Value = u32;
    type Error = String;

    fn get(&self, key: &str) -> Result<Lookup<u32>, String> {
        Ok(self
            .0
            .borrow()
            .get(key)
            .map_or(Lookup::Missing, |value| Lookup::Found(*value)))
    }

    fn put(&self, key: &str, value: &u32, _ttl: Duration) -> Result<(), String> {
        self.0.borrow_mut().insert(key.to_owned(), *value);
        Ok(())
    }
}

fn settings(limit: usize) -> Settings {
    Settings {
        prefix: "n:".into(),
        ttl: Duration::from_secs(60),
        limit,
    }
}

fn keys(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

#[test]
fn the_library_loads_what_the_store_lacks_and_stores_it() {
    let store = MemoryStore::default();
    store.0.borrow_mut().insert("n:one".into(), 1);
    let mut loaded = Vec::new();
    let values = fetch(
        &store,
        &settings(5),
        &keys(&["one", "three"]),
        |key| Ok(key.len() as u32),
        &mut loaded,
    );
    assert!(matches!(values, Ok(ref v) if v == &[1, 5]));
    assert_eq!(loaded, ["three"]);
    assert_eq!(store.0.borrow().get("n:three"), Some(&5));
}

#[test]
fn the_library_stops_at_the_limit_and_keeps_what_it_loaded() {
    let store = MemoryStore::default();
    let mut loaded = Vec::new();
    let result = fetch(
        &store,
        &settings(1),
        &keys(&["a", "b"]),
        |_| Ok(0),
        &mut loaded,
    );
    assert!(matches!(result, Err(FetchError::LimitReached { limit: 1 })));
    assert_eq!(loaded, ["a"]);
}

/// The GIL, with the interpreter started if this is the first test to run.
fn with_python<T>(test: impl FnOnce(Python) -> T) -> T {
    let gil = Python::acquire_gil();
    test(gil.python())
}

fn namespace(py: Python, attributes: &str) -> PyObject {
    py.eval(
        &format!("__import__('types').SimpleNamespace({attributes})"),
        None,
        None,
    )
    .unwrap()
}

fn message(py: Python, mut error: PyErr) -> String {
    format!(
        "{}: {}",
        error.get_type(py).name(py),
        error.instance(py).str(py).unwrap().to_string_lossy(py)
    )
}

#[test]
fn settings_are_read_from_any_objects_attributes() {
    with_python(|py| {
        let object = namespace(
            py,
            "prefix='u:', limit=3, ttl=__import__('datetime').timedelta(days=1, microseconds=5)",
        );
        let settings =
            Settings::read(py, &object).unwrap_or_else(|error| panic!("{}", message(py, error)));
        assert_eq!((settings.prefix.as_str(), settings.limit), ("u:", 3));
        assert_eq!(settings.ttl, Duration::new(86_400, 5_000));
    });
}

#[test]
fn a_bad_setting_is_named_in_the_error() {
    with_python(|py| {
        let ttl = "ttl=__import__('datetime').timedelta(1)";
        for (attributes, expected) in [
            (
                format!("prefix='', {ttl}"),
                "AttributeError: 'types.SimpleNamespace' object has no attribute 'limit'",
            ),
            (
                format!("prefix=1, limit=3, {ttl}"),
                "TypeError: settings.prefix: ",
            ),
            (
                format!("prefix='', limit=-1, {ttl}"),
                "OverflowError: settings.limit: ",
            ),
            (
                "prefix='', limit=3, ttl=5".to_owned(),
                "TypeError: settings.ttl: expected a datetime.timedelta, not int",
            ),
            (
                "prefix='', limit=3, ttl=__import__('datetime').timedelta(0)".to_owned(),
                "ValueError: settings.ttl: a time to live must be positive",
            ),
        ] {
            let error = Settings::read(py, &namespace(py, &attributes))
                .err()
                .expect(&attributes);
            let shown = message(py, error);
            assert!(shown.starts_with(expected), "{attributes}: {shown}");
        }
    });
}

#[test]
fn a_python_store_reports_a_key_error_as_missing_and_other_errors_as_they_are() {
    with_python(|py| {
        let store = PyStore(py.eval("{'here': 1}", None, None).unwrap());
        assert!(matches!(store.get("here"), Ok(Lookup::Found(_))));
        assert!(matches!(store.get("gone"), Ok(Lookup::Missing)));
        let broken = PyStore(py.eval("[]", None, None).unwrap());
        let error = broken.get("key").err().unwrap();
        assert!(message(py, error).starts_with("TypeError: list indices must be integers"));
    });
}

#[test]
fn the_interpreter_is_the_one_cargo_built_for() {
    with_python(|py| {
        let version: String = py
            .eval("__import__('sys').version", None, None)
            .unwrap()
            .extract(py)
            .unwrap();
        // Shown with `--show-output`: the tests that run `cargo test`
        // compare it with the Python they pinned it to.
        println!("embedded Python {version}");
    });
}
