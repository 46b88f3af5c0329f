//! Lesson 16 in PyO3: the same package of submodules, and, while the move
//! lasts, a bridge that reads the rust-cpython library's sets.

use pyo3::prelude::*;

mod bridge;
mod checksums;
#[path = "../../src/digest.rs"]
mod digest;
// The lesson's rust-cpython class, compiled here too: the bridge reads the
// lesson library's sets through it.
#[path = "../../src/sets.rs"]
mod legacy_sets;
mod sets;

#[pymodule]
fn porting(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__doc__", "A package of two submodules in one library.")?;
    add_submodule(
        module,
        "sets",
        "A set of integers from 0 to 2**32 - 1.",
        |sets| sets.add_class::<sets::HashSet>(),
    )?;
    add_submodule(
        module,
        "checksums",
        "CRC-32, as zlib.crc32 computes it.",
        checksums::fill,
    )?;
    add_submodule(module, "bridge", bridge::DOC, bridge::fill)?;
    Ok(())
}

/// As in the lesson: `add_submodule` sets the attribute, and only
/// `sys.modules` makes `import porting.sets` work.
fn add_submodule(
    package: &Bound<'_, PyModule>,
    name: &str,
    doc: &str,
    fill: fn(&Bound<'_, PyModule>) -> PyResult<()>,
) -> PyResult<()> {
    let py = package.py();
    let full_name = format!("{}.{}", package.name()?, name);
    let submodule = PyModule::new(py, &full_name)?;
    submodule.add("__doc__", doc)?;
    fill(&submodule)?;
    // pickle and help() find a class by its `__module__`: the name the
    // submodule was imported as, which `module = "..."` cannot know.
    for class in submodule.dict().values() {
        if class.is_instance_of::<pyo3::types::PyType>() {
            class.setattr("__module__", &full_name)?;
        }
    }
    package.add_submodule(&submodule)?;
    let modules = py.import("sys")?.getattr("modules")?;
    modules.set_item(&full_name, &submodule)?;
    Ok(())
}
