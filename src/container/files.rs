//! The files a record reads on the host (`--env-file`, `--label-file`, a seccomp profile) as
//! part of its container's identity: each file's digest goes into a label beside the
//! ownership label, so a changed file replaces the container though its record text is the
//! same. Pure: the digests are taken of what [`Host`] returned while the record was parsed.

use super::Host;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

/// The label that holds the digests of the files a record read: a JSON object, path →
/// digest. A container without it (made before this label existed) has unknown files,
/// which count as unchanged: an upgrade does not replace every container that reads one.
pub const FILES_LABEL: &str = "docker-dns-provision.files";

/// A [`Host`] that remembers the digest of every file read through it.
pub struct Recording<'a> {
    host: &'a dyn Host,
    read: RefCell<BTreeMap<String, String>>,
}

impl<'a> Recording<'a> {
    /// Read through `host`.
    pub fn new(host: &'a dyn Host) -> Recording<'a> {
        Recording {
            host,
            read: RefCell::new(BTreeMap::new()),
        }
    }

    /// The label's value for the files read so far; `None` when none was.
    pub fn label(&self) -> Option<String> {
        let read = self.read.borrow();
        (!read.is_empty()).then(|| serde_json::json!(*read).to_string())
    }
}

impl Host for Recording<'_> {
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        let text = self.host.read_file(path)?;
        self.read
            .borrow_mut()
            .insert(path.display().to_string(), digest(text.as_bytes()));
        Ok(text)
    }

    fn env(&self, key: &str) -> Option<String> {
        self.host.env(key)
    }
}

/// A file's digest for change detection (64-bit FNV-1a; the file is the host's own, so
/// there is no adversary to collide with), with its algorithm named.
pub fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// The files whose digest differs between a container's label (`old`) and its record's
/// (`new`). A container without the label, or with one this build cannot read, has unknown
/// files: nothing counts as changed.
pub fn changed(old: Option<&str>, new: Option<&str>) -> Vec<String> {
    let parse =
        |l: Option<&str>| -> Option<BTreeMap<String, String>> { serde_json::from_str(l?).ok() };
    let Some(old) = parse(old) else {
        return Vec::new();
    };
    let new = parse(new).unwrap_or_default();
    new.iter()
        .filter(|(path, d)| old.get(*path).is_some_and(|o| o != *d))
        .map(|(path, _)| path.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_differ_with_content_and_name_their_algorithm() {
        assert_eq!(digest(b""), "fnv1a64:cbf29ce484222325");
        assert_eq!(digest(b"a"), "fnv1a64:af63dc4c8601ec8c");
        assert_ne!(digest(b"A=1\n"), digest(b"A=2\n"));
    }

    #[test]
    fn only_a_known_file_with_another_digest_changed() {
        let label = |pairs: &[(&str, &str)]| {
            let m: BTreeMap<&str, &str> = crate::btree::map(pairs.iter().copied());
            serde_json::json!(m).to_string()
        };
        let old = label(&[("/a", "x"), ("/b", "y")]);
        let new = label(&[("/a", "x"), ("/b", "z"), ("/c", "w")]);
        assert_eq!(changed(Some(&old), Some(&new)), ["/b"]);
        assert!(changed(Some(&old), Some(&old)).is_empty());
        // Created before the label existed, or a label this build cannot read: unknown.
        assert!(changed(None, Some(&new)).is_empty());
        assert!(changed(Some("not json"), Some(&new)).is_empty());
    }
}
