//! The source tree the tests read: its root, its files, and the example records it ships.

use std::path::{Path, PathBuf};

/// The repository's top directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the tree, whole; panics naming it when it cannot be read.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// An example file under `init/examples`.
pub fn example(name: &str) -> PathBuf {
    repo().join("init/examples").join(name)
}
