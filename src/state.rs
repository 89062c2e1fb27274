//! What the tool remembers between runs: one small versioned file under `--state-dir`, read
//! whole or not at all and written atomically (temporary file, fsync, rename). Today it holds
//! the one-shot jobs that finished (a `--rm` one leaves no container to say so). A missing,
//! corrupt, oversized or foreign file is a warning and an empty state, never fatal.

use crate::jobs::JobDone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Default `--state-dir` (systemd's `StateDirectory=docker-dns-provision`).
pub const DEFAULT_DIR: &str = "/var/lib/docker-dns-provision";
/// The file's name in the state directory.
pub const FILE: &str = "state.json";
/// The format this build reads and writes; a file of another version is not used.
const VERSION: u32 = 1;
/// A state file larger than this is not read: ours stays far smaller.
const MAX_BYTES: u64 = 16 << 20;

/// The remembered state, for one host identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The format version.
    pub version: u32,
    /// The host identity the state belongs to (a state of another host is not used).
    pub host: String,
    /// One-shot jobs that finished with status 0, by container name.
    #[serde(default)]
    pub jobs_done: BTreeMap<String, JobDone>,
    /// The networks this tool manages, by name: found without a network list when DNS
    /// declares none, so that they are removed.
    #[serde(default)]
    pub networks: std::collections::BTreeSet<String>,
}

impl State {
    /// An empty state for `host`.
    pub fn new(host: &str) -> State {
        State {
            version: VERSION,
            host: host.to_string(),
            jobs_done: BTreeMap::new(),
            networks: std::collections::BTreeSet::new(),
        }
    }

    /// The state of `host` in `dir`; empty (with a warning saying why) when there is none
    /// that can be trusted whole.
    pub fn load(dir: &Path, host: &str) -> State {
        let path = dir.join(FILE);
        match read(&path, host) {
            Ok(Some(s)) => s,
            Ok(None) => State::new(host),
            Err(why) => {
                log::warn!("state file {}: {why}; not used", path.display());
                State::new(host)
            }
        }
    }

    /// Write the state to `dir` atomically: a crash leaves the old file or the new, whole.
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let body = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(FILE);
        let tmp = temporary_path(dir);
        let written = write_synced(&tmp, &body).and_then(|()| {
            std::fs::rename(&tmp, &path).map_err(|e| format!("cannot rename into place: {e}"))
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("cannot write {}: {e}", path.display()));
        }
        // The rename is durable once the directory is.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// The temporary a save writes first: in the same directory, so the rename is atomic.
fn temporary_path(dir: &Path) -> PathBuf {
    dir.join(format!(".{FILE}.{}.tmp", std::process::id()))
}

/// Create `path` (owner-only, never through a link), write `body`, fsync.
fn write_synced(path: &Path, body: &[u8]) -> Result<(), String> {
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| e.to_string())?;
    f.write_all(body).map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())
}

/// The state in `path`: `None` when there is no file; an error when it cannot be trusted.
fn read(path: &Path, host: &str) -> Result<Option<State>, String> {
    match crate::bounded_read::regular_file(path, MAX_BYTES) {
        Ok(bytes) => parse(&bytes, host).map(Some),
        Err(e) if e.open_error().map(std::io::Error::kind) == Some(ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// A state file's content, whole and for `host`, or why not.
fn parse(bytes: &[u8], host: &str) -> Result<State, String> {
    #[derive(Deserialize)]
    struct Versioned {
        version: u32,
    }
    let v: Versioned = serde_json::from_slice(bytes).map_err(|e| format!("unreadable: {e}"))?;
    if v.version != VERSION {
        return Err(format!(
            "version {} (this build reads version {VERSION})",
            v.version
        ));
    }
    let s: State = serde_json::from_slice(bytes).map_err(|e| format!("unreadable: {e}"))?;
    if s.host != host {
        return Err(format!("it belongs to host {:?}, not {host:?}", s.host));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ddp-state-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn sample() -> State {
        let mut s = State::new("h.example");
        s.jobs_done.insert(
            "migrate".into(),
            JobDone {
                identity: "bWlncmF0ZQ==".into(),
                container: None,
                finished_at: 1_700_000_000,
            },
        );
        s
    }

    #[test]
    fn a_saved_state_loads_back_and_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("roundtrip").join("nested");
        sample().save(&dir).unwrap();
        assert_eq!(State::load(&dir, "h.example"), sample());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join(FILE)), 0o600);
        assert_eq!(mode(&dir), 0o700);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary left: {left:?}");
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    }

    #[test]
    fn what_cannot_be_trusted_whole_is_not_used() {
        let good = serde_json::to_vec(&sample()).unwrap();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("cut", good[..good.len() / 2].to_vec(), "unreadable"),
            ("garbage", b"\x00\xff{".to_vec(), "unreadable"),
            (
                "future",
                br#"{"version":2,"host":"h.example","jobs_done":{}}"#.to_vec(),
                "version 2",
            ),
            (
                "foreign",
                br#"{"version":1,"host":"other","jobs_done":{}}"#.to_vec(),
                "belongs to host \"other\"",
            ),
            (
                "wrong type",
                br#"{"version":1,"host":"h.example","jobs_done":{"x":{"identity":1}}}"#.to_vec(),
                "unreadable",
            ),
        ];
        for (what, bytes, says) in cases {
            let e = parse(&bytes, "h.example").expect_err(what);
            assert!(e.contains(says), "{what}: {e}");
        }
        assert_eq!(parse(&good, "h.example").unwrap(), sample());
    }

    #[test]
    fn a_missing_or_strange_file_is_an_empty_state() {
        let dir = scratch("strange");
        assert_eq!(State::load(&dir, "h"), State::new("h"));
        std::fs::create_dir_all(dir.join(FILE)).unwrap();
        let e = read(&dir.join(FILE), "h").unwrap_err();
        assert!(e.starts_with("not a regular file"), "{e}");
        assert_eq!(State::load(&dir, "h"), State::new("h"));
        let _ = std::fs::remove_dir_all(&dir);
        // A FIFO must not block the run.
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = std::ffi::CString::new(dir.join(FILE).display().to_string()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert_eq!(State::load(&dir, "h"), State::new("h"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_crash_before_the_rename_leaves_the_old_state_whole() {
        let dir = scratch("crash");
        sample().save(&dir).unwrap();
        // A save that died after writing its temporary, before the rename.
        std::fs::write(temporary_path(&dir), b"{\"version\":1,\"ho").unwrap();
        assert_eq!(State::load(&dir, "h.example"), sample());
        // The next save replaces both.
        let mut next = sample();
        next.jobs_done.clear();
        next.save(&dir).unwrap();
        assert_eq!(State::load(&dir, "h.example"), next);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
