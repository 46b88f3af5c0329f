//! The container, with no binding in it: string keys, integer values, in
//! the order they were first inserted (as a `dict` keeps them), and an
//! optional limit on how many keys there may be. The lesson and its PyO3
//! twin both compile this file.

use indexmap::IndexMap;

#[derive(Clone, Debug, Default)]
pub struct Entries {
    map: IndexMap<String, i64>,
    limit: Option<usize>,
}

/// Why a change was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// A new key, when the map already has `limit` keys.
    Full { limit: usize },
    /// A limit below the number of keys already there.
    LimitBelowLength { limit: i64, length: usize },
}

impl Entries {
    pub fn get(&self, key: &str) -> Option<i64> {
        self.map.get(key).copied()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Sets `key` to `value`. A key already there keeps its place, as in a
    /// `dict`; a new one goes last, if the limit allows.
    pub fn insert(&mut self, key: String, value: i64) -> Result<(), Refused> {
        match self.limit {
            Some(limit) if self.map.len() >= limit && !self.map.contains_key(&key) => {
                Err(Refused::Full { limit })
            }
            _ => {
                self.map.insert(key, value);
                Ok(())
            }
        }
    }

    /// Removes `key`, keeping the others in order (as `del` on a `dict`
    /// does), and says whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        self.map.shift_remove(key).is_some()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    pub fn items(&self) -> impl Iterator<Item = (&str, i64)> {
        self.map.iter().map(|(key, value)| (key.as_str(), *value))
    }

    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    /// A new limit, or none; never below the number of keys already there.
    pub fn set_limit(&mut self, limit: Option<i64>) -> Result<(), Refused> {
        let Some(limit) = limit else {
            self.limit = None;
            return Ok(());
        };
        match usize::try_from(limit) {
            Ok(fits) if fits >= self.map.len() => {
                self.limit = Some(fits);
                Ok(())
            }
            _ => Err(Refused::LimitBelowLength {
                limit,
                length: self.map.len(),
            }),
        }
    }
}

impl Refused {
    /// The message of the `ValueError` both bindings raise.
    pub fn message(self) -> String {
        match self {
            Refused::Full { limit } => format!("the map is full: its limit is {} keys", limit),
            Refused::LimitBelowLength { limit, length } => {
                format!("limit {} is below the {} keys the map has", limit, length)
            }
        }
    }
}
