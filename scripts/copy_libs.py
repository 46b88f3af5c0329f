"""Turn the libraries Cargo built into modules Python can import.

Cargo names a cdylib `libdocstring.so` (Linux), `libdocstring.dylib` (macOS)
or `docstring.dll` (Windows). Python imports `docstring` only from a file
named `docstring` plus an extension-module suffix. This script copies each
lesson's library to `target/<profile>/<name><EXT_SUFFIX>`, where EXT_SUFFIX is
the running interpreter's, for example `.cpython-311-x86_64-linux-gnu.so`,
and each PyO3 twin's (`libdocstring_pyo3.so`) to
`target/<profile>/pyo3/<name><EXT_SUFFIX>`: the same module name, in a
folder of its own.

Usage: python3 scripts/copy_libs.py [--release] [LESSON ...]
"""

import os
import re
import shutil
import sys
import sysconfig
import tempfile

from lessons import lesson_crates, twin_lessons
from workspace import (
    ROOT,
    ArgumentParser,
    ScriptError,
    bindings_for,
    cargo_target_dir,
    dotted,
    profile_name,
)

# The build script whose output says which Python a binding was built for:
# both print one `cargo:rustc-cfg=Py_3_N` line per minor version up to it.
CONFIGURING_CRATE = {"cpython": "python3-sys", "pyo3": "pyo3-ffi"}


def library_filename(crate, platform=sys.platform):
    """The file Cargo writes for a cdylib crate on `platform`."""
    if platform == "win32":
        return crate + ".dll"
    if platform == "darwin":
        return "lib" + crate + ".dylib"
    return "lib" + crate + ".so"


def module_filename(crate, ext_suffix):
    """The file Python imports as module `crate`."""
    return crate + ext_suffix


def configuration_outputs(build_dir, binding="cpython"):
    """The build-script outputs of python3-sys (or, for PyO3, pyo3-ffi) in
    a Cargo profile directory."""
    return list((build_dir / "build").glob(CONFIGURING_CRATE[binding] + "-*/output"))


def built_for_version(build_dir, binding="cpython"):
    """(major, minor) of the Python that python3-sys (or pyo3-ffi) was last
    configured for in this Cargo profile directory, or None if no build
    output says.

    The build script prints one `cargo:rustc-cfg=Py_3_N` line per minor
    version up to the interpreter's own; Cargo keeps those lines in
    `build/<crate>-*/output`. The newest such file is the one in use.
    """
    outputs = sorted(configuration_outputs(build_dir, binding), key=lambda path: path.stat().st_mtime)
    if not outputs:
        return None
    text = outputs[-1].read_text(encoding="utf-8", errors="replace")
    minors = [int(m) for m in re.findall(r"^cargo:rustc-cfg=Py_3_(\d+)$", text, re.M)]
    return (3, max(minors)) if minors else None


def built_before_configured(build_dir, libraries, binding="cpython"):
    """The libraries older than python3-sys's (or pyo3-ffi's) last
    configuration.

    Cargo reruns python3-sys's build script whenever PYTHON_SYS_EXECUTABLE
    changes, and rebuilds every library it builds after that. A library
    older than that run was left from before, perhaps for another Python:
    `cargo build -p one_lesson`, or a build that failed halfway, leaves such
    libraries behind.
    """
    outputs = configuration_outputs(build_dir, binding)
    if not outputs:
        return []
    configured = max(path.stat().st_mtime for path in outputs)
    return [path for path in libraries if path.stat().st_mtime < configured]


def copy_libs(
    crates,
    source_dir,
    dest_dir,
    ext_suffix,
    platform=sys.platform,
    python_version=tuple(sys.version_info[:2]),
    build_command="cargo build",
    binding="cpython",
    module_names=None,
):
    """Copy each crate's library from `source_dir` to `dest_dir` under its
    module name (the crate's, unless `module_names` says otherwise).
    Returns the (source, destination) pairs copied.

    All or nothing: every check comes before the first copy, and each
    module is written under a temporary name, all of them renamed at the
    end, so a failure leaves no mixture of fresh and stale modules behind.
    """
    sources = [source_dir / library_filename(crate, platform) for crate in crates]
    missing = [path for path in sources if not path.is_file()]
    if missing:
        what = "nothing is built" if len(missing) == len(sources) else f"no {', '.join(p.name for p in missing)}"
        raise ScriptError(f"{what} in {display(source_dir)}: run `{build_command}` first, to build for this Python")
    built_for = built_for_version(source_dir, binding)
    if built_for is not None and built_for != python_version:
        raise ScriptError(
            f"the libraries in {display(source_dir)} were built for Python {dotted(built_for)}, "
            f"but this is Python {dotted(python_version)}: rebuild with `{build_command}`"
        )
    stale = built_before_configured(source_dir, sources, binding)
    if stale:
        names = ", ".join(crate for crate, source in zip(crates, sources) if source in stale)
        raise ScriptError(
            f"{names} in {display(source_dir)} predate the last switch of Python and may be built for another one: "
            f"rebuild with `{build_command}`"
        )
    destinations = [dest_dir / module_filename(name, ext_suffix) for name in (module_names or crates)]
    in_the_way = [path for path in destinations if path.is_dir()]
    if in_the_way:
        raise ScriptError(f"{display(in_the_way[0])} is a directory: remove it, then copy again")
    temporaries = []
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        for crate, source in zip(crates, sources):
            handle, temporary = tempfile.mkstemp(dir=str(dest_dir), prefix="." + crate, suffix=".tmp")
            os.close(handle)
            temporaries.append(temporary)
            shutil.copy2(str(source), temporary)
        for temporary, destination in zip(temporaries, destinations):
            os.replace(temporary, str(destination))
    except OSError as error:
        raise ScriptError(f"cannot write the modules into {display(dest_dir)}: {error.strerror}") from None
    finally:
        for temporary in temporaries:
            if os.path.exists(temporary):
                os.unlink(temporary)
    return list(zip(sources, destinations))


def display(path):
    """`path` relative to the workspace when it is inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def copy_lessons(release=False, dest_root=None, quiet=False, lessons=None):
    """Copy the libraries of the lessons named (by default every lesson
    crate), and their PyO3 twins' where PyO3 builds for the running
    interpreter. Each binding's copy is all or nothing."""
    profile = profile_name(release)
    source_dir = cargo_target_dir() / profile
    # The modules always land in the workspace's own target/, because that
    # is where `from target.debug import ...` looks.
    dest_dir = (dest_root or ROOT / "target") / profile
    build_command = f"PYTHON_SYS_EXECUTABLE={sys.executable} PYO3_PYTHON={sys.executable} cargo build" + (
        " --release" if release else ""
    )
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    crates = [crate for crate in lesson_crates() if lessons is None or crate in lessons]
    copied = copy_libs(crates, source_dir, dest_dir, suffix, build_command=build_command)
    if "pyo3" in bindings_for(tuple(sys.version_info[:2])):
        twins = [twin for twin in twin_lessons() if twin in crates]
        copied += copy_libs(
            [lesson + "_pyo3" for lesson in twins],
            source_dir,
            dest_dir / "pyo3",
            suffix,
            build_command=build_command,
            binding="pyo3",
            module_names=twins,
        )
    if not quiet:
        for source, destination in copied:
            print(f"copied {display(source)} -> {display(destination)}")
    return copied


def main(argv=None):
    parser = ArgumentParser(
        description="Copy the lesson libraries Cargo built to importable module names "
        "(target/<profile>/<name><EXT_SUFFIX>, and target/<profile>/pyo3/<name><EXT_SUFFIX> for "
        "the PyO3 twins). Honours CARGO_TARGET_DIR."
    )
    parser.add_argument("--release", action="store_true", help="copy the release build instead of the debug one")
    parser.add_argument(
        "lessons", nargs="*", metavar="LESSON", help="copy only these lessons' modules, by folder (default: all)"
    )
    args = parser.parse_args(argv)
    try:
        crates = lesson_crates()
        unknown = [lesson for lesson in args.lessons if lesson not in crates]
        if unknown:
            parser.error(f"no lesson crate {unknown[0]!r}; they are {', '.join(crates)}")
        copy_lessons(release=args.release, lessons=args.lessons or None)
    except ScriptError as error:
        print(f"copy_libs: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
