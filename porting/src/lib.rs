//! Lesson 16: one library that Python imports as a package of submodules,
//! `porting.sets` and `porting.checksums`.

use cpython::{py_module_initializer, ObjectProtocol, PyModule, PyResult, Python};

mod checksums;
mod digest;
mod sets;

py_module_initializer!(porting, |py, module| {
    module.add(py, "__doc__", "A package of two submodules in one library.")?;
    add_submodule(
        py,
        module,
        "sets",
        "A set of integers from 0 to 2**32 - 1.",
        |py, sets| sets.add_class::<sets::HashSet>(py),
    )?;
    add_submodule(
        py,
        module,
        "checksums",
        "CRC-32, as zlib.crc32 computes it.",
        checksums::fill,
    )?;
    Ok(())
});

/// Makes `<package>.<name>`, lets `fill` add its contents, and makes it
/// importable: an attribute of the package (`from porting import sets`)
/// and an entry in `sys.modules` (`import porting.sets`), since a module
/// made by an extension has no `__path__` for the import system to search.
fn add_submodule(
    py: Python,
    package: &PyModule,
    name: &str,
    doc: &str,
    fill: fn(Python, &PyModule) -> PyResult<()>,
) -> PyResult<()> {
    // The package's own name is the dotted name it was imported as, such as
    // `target.debug.porting`: its submodules' names, and their classes'
    // `__module__`, start with it.
    let full_name = format!("{}.{}", package.name(py)?, name);
    let submodule = PyModule::new(py, &full_name)?;
    submodule.add(py, "__doc__", doc)?;
    fill(py, &submodule)?;
    package.add(py, name, &submodule)?;
    let modules = py.import("sys")?.get(py, "modules")?;
    modules.set_item(py, full_name, submodule)?;
    Ok(())
}
