//! Lesson 5 in PyO3: an iterator that borrows the Rust set instead of
//! copying it. PyO3 has no `@shared data` or `UnsafePyLeaked`, so the loan
//! is built here by hand: the set counts its changes, and each iterator
//! holds a borrow checked against that count before every use.

use std::collections::hash_set;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

type Inner = std::collections::HashSet<u32>;

#[pyclass(module = "borrowed")]
struct HashSet {
    hash_set: Inner,
    /// How many times the set has been lent out mutably: a loan made at an
    /// older generation must not be read.
    generation: u64,
}

impl HashSet {
    /// The only way to the set for writing, so no change goes uncounted
    /// (what `@shared data` does in `borrow_mut`).
    fn change(&mut self) -> &mut Inner {
        self.generation += 1;
        &mut self.hash_set
    }
}

#[pymethods]
impl HashSet {
    #[new]
    fn new() -> Self {
        HashSet {
            hash_set: Inner::new(),
            generation: 0,
        }
    }

    fn __len__(&self) -> usize {
        self.hash_set.len()
    }

    fn __contains__(&self, value: u32) -> bool {
        self.hash_set.contains(&value)
    }

    fn __iter__(slf: &Bound<'_, Self>) -> SetIterator {
        let set = slf.borrow();
        // SAFETY: the iterator's lifetime is made up. What it points into is
        // kept valid by the `Loan`: it owns a reference to this object, so
        // the set is not freed while the loan exists, and the set's table
        // changes only through `change`, which bumps `generation`. The loan
        // is read only while the generation is still the one it was made
        // at, and a shared borrow of the set is held (`Loan::next`).
        let iter = unsafe {
            std::mem::transmute::<hash_set::Iter<'_, u32>, hash_set::Iter<'static, u32>>(
                set.hash_set.iter(),
            )
        };
        let loan = Loan {
            iter,
            generation: set.generation,
            set: slf.clone().unbind(),
        };
        SetIterator {
            walk: Walk::OnLoan(loan),
        }
    }

    fn add(&mut self, value: u32) {
        // As in lesson 5: only a real change counts as one.
        if !self.hash_set.contains(&value) {
            self.change().insert(value);
        }
    }
}

/// A borrow of a set's contents, valid while the set is at `generation`.
struct Loan {
    // Declared first, so dropped first: it is never read once stale, and
    // dropping it reads nothing.
    iter: hash_set::Iter<'static, u32>,
    generation: u64,
    set: Py<HashSet>,
}

impl Loan {
    /// The next value, or `Err` if the set has changed since the loan.
    fn next(&mut self, py: Python<'_>) -> Result<Option<u32>, ()> {
        let set = self.set.bind(py).try_borrow().map_err(|_| ())?;
        if set.generation != self.generation {
            return Err(());
        }
        // While `set` is borrowed, nothing can call `change`.
        Ok(self.iter.next().copied())
    }

    fn remaining(&self, py: Python<'_>) -> usize {
        match self.set.bind(py).try_borrow() {
            Ok(set) if set.generation == self.generation => self.iter.len(),
            _ => 0,
        }
    }
}

/// Where an iterator stands.
enum Walk {
    OnLoan(Loan),
    Finished,
    Stale,
}

#[pyclass(module = "borrowed")]
struct SetIterator {
    walk: Walk,
}

#[pymethods]
impl SetIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<u32>> {
        let loan = match &mut self.walk {
            Walk::OnLoan(loan) => loan,
            Walk::Finished => return Ok(None),
            Walk::Stale => return Err(changed_size()),
        };
        match loan.next(py) {
            Ok(Some(value)) => Ok(Some(value)),
            Ok(None) => {
                // Giving the loan back releases the set.
                self.walk = Walk::Finished;
                Ok(None)
            }
            Err(()) => {
                self.walk = Walk::Stale;
                Err(changed_size())
            }
        }
    }

    fn __length_hint__(&self, py: Python<'_>) -> usize {
        match &self.walk {
            Walk::OnLoan(loan) => loan.remaining(py),
            Walk::Finished | Walk::Stale => 0,
        }
    }
}

/// Only `add` changes this set, so every change is a change of size.
fn changed_size() -> PyErr {
    PyRuntimeError::new_err("Set changed size during iteration")
}

#[pymodule]
fn borrowed(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<HashSet>()?;
    module.add_class::<SetIterator>()?;
    // pickle finds a class by its `__module__`: the name this module was
    // imported as, which `module = "borrowed"` cannot know (lesson 12).
    for class in ["HashSet", "SetIterator"] {
        module
            .getattr(class)?
            .setattr("__module__", module.name()?)?;
    }
    Ok(())
}
