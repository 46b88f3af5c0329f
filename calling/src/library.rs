//! Lesson 9's library: a read-through cache in plain Rust, which knows
//! nothing of Python. The lesson and its PyO3 twin both compile this file.

use std::time::Duration;

/// What a store has under a key.
pub enum Lookup<V> {
    Found(V),
    Missing,
}

/// What the library needs from a store.
pub trait Store {
    type Value;
    type Error;
    fn get(&self, key: &str) -> Result<Lookup<Self::Value>, Self::Error>;
    fn put(&self, key: &str, value: &Self::Value, ttl: Duration) -> Result<(), Self::Error>;
}

pub struct Settings {
    pub prefix: String,
    pub ttl: Duration,
    pub limit: usize,
}

pub enum FetchError<E> {
    /// The store or the loader failed: their error, as it is.
    Failed(E),
    /// One more value to load than `settings.limit` allows.
    LimitReached { limit: usize },
}

/// The value of each key: from the store where it has one, else loaded and
/// stored. Each key loaded goes into `loaded` at once, so that an error
/// later on loses none of them.
pub fn fetch<S: Store>(
    store: &S,
    settings: &Settings,
    keys: &[String],
    mut load: impl FnMut(&str) -> Result<S::Value, S::Error>,
    loaded: &mut Vec<String>,
) -> Result<Vec<S::Value>, FetchError<S::Error>> {
    let mut values = Vec::with_capacity(keys.len());
    let mut loads = 0;
    for key in keys {
        let stored_key = format!("{}{}", settings.prefix, key);
        let value = match store.get(&stored_key).map_err(FetchError::Failed)? {
            Lookup::Found(value) => value,
            Lookup::Missing if loads == settings.limit => {
                return Err(FetchError::LimitReached {
                    limit: settings.limit,
                })
            }
            Lookup::Missing => {
                loads += 1;
                let value = load(key).map_err(FetchError::Failed)?;
                store
                    .put(&stored_key, &value, settings.ttl)
                    .map_err(FetchError::Failed)?;
                loaded.push(key.clone());
                value
            }
        };
        values.push(value);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
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
}
