"""Turn the libraries Cargo built into modules Python can import.

Cargo names a cdylib `libdocstring.so` (Linux), `libdocstring.dylib` (macOS)
or `docstring.dll` (Windows). Python imports `docstring` only from a file
named `docstring` plus an extension-module suffix. This script copies each
lesson's library to `target/<profile>/<name><EXT_SUFFIX>`, where EXT_SUFFIX is
the running interpreter's, for example `.cpython-311-x86_64-linux-gnu.so`.

Usage: python3 scripts/copy_libs.py [--release]
"""

import os
import re
import shutil
import sys
import sysconfig
import tempfile

from workspace import ROOT, ArgumentParser, ScriptError, cargo_target_dir, dotted, lesson_crates, profile_name


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


def built_for_version(build_dir):
    """(major, minor) of the Python that python3-sys was configured for in
    this Cargo profile directory, or None if no build output says.

    python3-sys's build script prints one `cargo:rustc-cfg=Py_3_N` line per
    minor version up to the interpreter's own; Cargo keeps those lines in
    `build/python3-sys-*/output`. The newest such file is the one in use.
    """
    outputs = sorted(
        (build_dir / "build").glob("python3-sys-*/output"),
        key=lambda path: path.stat().st_mtime,
    )
    if not outputs:
        return None
    text = outputs[-1].read_text(encoding="utf-8", errors="replace")
    minors = [int(m) for m in re.findall(r"^cargo:rustc-cfg=Py_3_(\d+)$", text, re.M)]
    return (3, max(minors)) if minors else None


def copy_libs(
    crates,
    source_dir,
    dest_dir,
    ext_suffix,
    platform=sys.platform,
    python_version=tuple(sys.version_info[:2]),
    build_command="cargo build",
):
    """Copy each crate's library from `source_dir` to `dest_dir` under its
    module name. Returns the (source, destination) pairs copied.

    Checks everything before copying anything, so a failure leaves no
    mixture of fresh and stale modules behind.
    """
    sources = [source_dir / library_filename(crate, platform) for crate in crates]
    missing = [path for path in sources if not path.is_file()]
    if missing:
        what = "nothing is built" if len(missing) == len(sources) else f"no {', '.join(p.name for p in missing)}"
        raise ScriptError(f"{what} in {display(source_dir)}: run `{build_command}` first, to build for this Python")
    built_for = built_for_version(source_dir)
    if built_for is not None and built_for != python_version:
        raise ScriptError(
            f"the libraries in {display(source_dir)} were built for Python {dotted(built_for)}, "
            f"but this is Python {dotted(python_version)}: rebuild with `{build_command}`"
        )
    dest_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for crate, source in zip(crates, sources):
        destination = dest_dir / module_filename(crate, ext_suffix)
        # Write to a temporary name and rename: an interrupted copy never
        # leaves a truncated module under the importable name.
        handle, temporary = tempfile.mkstemp(dir=str(dest_dir), prefix="." + crate, suffix=".tmp")
        os.close(handle)
        try:
            shutil.copy2(str(source), temporary)
            os.replace(temporary, str(destination))
        except BaseException:
            os.unlink(temporary)
            raise
        copied.append((source, destination))
    return copied


def display(path):
    """`path` relative to the workspace when it is inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def copy_lessons(release=False, dest_root=None, quiet=False):
    """Copy every lesson's library for the running interpreter."""
    profile = profile_name(release)
    source_dir = cargo_target_dir() / profile
    # The modules always land in the workspace's own target/, because that
    # is where `from target.debug import ...` looks.
    dest_dir = (dest_root or ROOT / "target") / profile
    build_command = f"PYTHON_SYS_EXECUTABLE={sys.executable} cargo build" + (" --release" if release else "")
    copied = copy_libs(
        lesson_crates(),
        source_dir,
        dest_dir,
        sysconfig.get_config_var("EXT_SUFFIX"),
        build_command=build_command,
    )
    if not quiet:
        for source, destination in copied:
            print(f"copied {display(source)} -> {display(destination)}")
    return copied


def main(argv=None):
    parser = ArgumentParser(
        description="Copy the lesson libraries Cargo built to importable module names "
        "(target/<profile>/<name><EXT_SUFFIX>). Honours CARGO_TARGET_DIR."
    )
    parser.add_argument("--release", action="store_true", help="copy the release build instead of the debug one")
    args = parser.parse_args(argv)
    try:
        copy_lessons(release=args.release)
    except ScriptError as error:
        print(f"copy_libs: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
