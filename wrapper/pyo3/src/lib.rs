//! Lesson 4 in PyO3: a class that wraps a Rust `HashSet<u32>`.

use std::collections::hash_set;

use pyo3::prelude::*;

type Inner = std::collections::HashSet<u32>;

#[pyclass(module = "wrapper")]
struct SetIterator {
    iter: hash_set::IntoIter<u32>,
}

#[pymethods]
impl SetIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self) -> Option<u32> {
        self.iter.next()
    }
}

// PyO3 keeps the borrow flag that lesson 4 puts in a `RefCell`: a method
// that takes `&mut self` borrows the object mutably, checked at run time.
#[pyclass(module = "wrapper")]
struct HashSet {
    hash_set: Inner,
}

#[pymethods]
impl HashSet {
    #[new]
    fn new() -> Self {
        HashSet {
            hash_set: Inner::new(),
        }
    }

    fn __len__(&self) -> usize {
        self.hash_set.len()
    }

    fn __contains__(&self, value: u32) -> bool {
        self.hash_set.contains(&value)
    }

    fn __iter__(&self) -> SetIterator {
        // The same O(n) clone as lesson 4: the iterator owns its data.
        SetIterator {
            iter: self.hash_set.clone().into_iter(),
        }
    }

    fn add(&mut self, value: u32) {
        self.hash_set.insert(value);
    }
}

#[pymodule]
fn wrapper(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<HashSet>()?;
    module.add_class::<SetIterator>()?;
    // pickle finds a class by its `__module__`: the name this module was
    // imported as, which `module = "wrapper"` cannot know (lesson 12).
    for class in ["HashSet", "SetIterator"] {
        module
            .getattr(class)?
            .setattr("__module__", module.name()?)?;
    }
    Ok(())
}
