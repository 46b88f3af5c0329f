//! Lesson 9's Rust tests: `cargo test` starts an interpreter of its own.

use super::*;

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
