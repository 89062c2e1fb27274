//! What the tool remembers between runs: one small versioned file under `--state-dir`, read
//! whole or not at all and written atomically (temporary file, fsync, rename). It holds the
//! one-shot jobs that finished (a `--rm` one leaves no container to say so), the last
//! converged state (what an offline start may start again while DNS is silent) and what runs
//! learnt about the nameservers. A missing, corrupt, oversized or foreign file is a warning
//! and an empty state, never fatal. Fields added since version 1 default to empty, so an
//! older file keeps its finished jobs.

use crate::dns::ServerRest;
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
/// At most this many containers are remembered as converged: a host runs far fewer, and
/// the bound keeps the file (and what an offline start may do) small whatever DNS said.
pub const MAX_CONVERGED: usize = 1000;
/// A record text longer than this is not remembered (DNS carries far less in practice).
pub const MAX_TEXT: usize = 64 << 10;
/// At most this many nameservers' rests are remembered (resolv.conf names at most 3).
pub const MAX_SERVERS: usize = 16;

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
    /// What the last run that read the whole list verified as running; `None` before one.
    #[serde(default)]
    pub converged: Option<Converged>,
    /// Nameservers that failed in the last run and the rest they were given.
    #[serde(default)]
    pub servers: Vec<ServerRest>,
    /// The networks this tool manages, by name: found without a network list when DNS
    /// declares none, so that they are removed.
    #[serde(default)]
    pub networks: std::collections::BTreeSet<String>,
}

/// The last converged state: the containers a run verified up, and when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Converged {
    /// When the run verified them (seconds since the Unix epoch).
    pub at: u64,
    /// The containers, by name.
    pub containers: Vec<Ran>,
}

/// One container a run verified as running.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ran {
    /// The container's name.
    pub name: String,
    /// Its ownership label's value (its identity: the record text, encoded).
    pub identity: String,
    /// The record name the text came from.
    pub record: String,
    /// The record text, so that the policy of the run that reads it is applied again.
    pub text: String,
}

impl Converged {
    /// The converged state of `ran` at `at`, within the bounds: an entry with an oversized
    /// text is dropped (with a warning), and at most [`MAX_CONVERGED`] are kept.
    pub fn new(at: u64, ran: impl IntoIterator<Item = Ran>) -> Converged {
        let mut containers: Vec<Ran> = Vec::new();
        for r in ran {
            if r.text.len() > MAX_TEXT || r.identity.len() > 2 * MAX_TEXT {
                log::warn!(
                    "{}: record too long to remember for an offline start",
                    r.name
                );
            } else if containers.len() == MAX_CONVERGED {
                log::warn!(
                    "{}: more than {MAX_CONVERGED} containers; not remembered for an offline start",
                    r.name
                );
            } else {
                containers.push(r);
            }
        }
        Converged { at, containers }
    }
}

impl State {
    /// An empty state for `host`.
    pub fn new(host: &str) -> State {
        State {
            version: VERSION,
            host: host.to_string(),
            jobs_done: BTreeMap::new(),
            converged: None,
            servers: Vec::new(),
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
        self.save_until(dir, &mut |_| false)
    }

    /// [`State::save`], stopping dead (as a crash would, leaving what is on disk as it is)
    /// where `crash` says so: the tests' way to cut a save at each of its points.
    fn save_until(&self, dir: &Path, crash: &mut dyn FnMut(Point) -> bool) -> Result<(), String> {
        let body = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(FILE);
        let tmp = temporary_path(dir);
        let written = write_synced(&tmp, &body, crash).and_then(|()| {
            if crash(Point::BeforeRename) {
                return Err(CRASHED.to_string());
            }
            std::fs::rename(&tmp, &path).map_err(|e| format!("cannot rename into place: {e}"))
        });
        if let Err(e) = written {
            if e != CRASHED {
                let _ = std::fs::remove_file(&tmp);
            }
            return Err(format!("cannot write {}: {e}", path.display()));
        }
        if crash(Point::BeforeDirSync) {
            return Err(CRASHED.to_string());
        }
        // The rename is durable once the directory is.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// The points a save can be cut at (a crash, a full disk, a power cut).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    /// The temporary exists, empty.
    Created,
    /// Half the body is written.
    HalfWritten,
    /// The body is written, not yet synced.
    BeforeSync,
    /// The temporary is whole and synced.
    BeforeRename,
    /// Renamed into place, the directory not yet synced.
    BeforeDirSync,
}

/// What a save cut by the tests returns: nothing is cleaned up, as after a real crash.
const CRASHED: &str = "crashed";

/// The temporary a save writes first: in the same directory, so the rename is atomic.
fn temporary_path(dir: &Path) -> PathBuf {
    dir.join(format!(".{FILE}.{}.tmp", std::process::id()))
}

/// Create `path` (owner-only, never through a link), write `body`, fsync.
fn write_synced(
    path: &Path,
    body: &[u8],
    crash: &mut dyn FnMut(Point) -> bool,
) -> Result<(), String> {
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| e.to_string())?;
    let (first, rest) = body.split_at(body.len() / 2);
    for (point, part) in [(Point::Created, first), (Point::HalfWritten, rest)] {
        if crash(point) {
            return Err(CRASHED.to_string());
        }
        f.write_all(part).map_err(|e| e.to_string())?;
    }
    if crash(Point::BeforeSync) {
        return Err(CRASHED.to_string());
    }
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

    fn with_converged() -> State {
        let mut s = sample();
        s.converged = Some(Converged::new(
            1_700_000_100,
            [Ran {
                name: "web".into(),
                identity: "d2Vi".into(),
                record: "web.containers.docker.h.example".into(),
                text: "web".into(),
            }],
        ));
        s
    }

    /// A save cut at any of its points leaves the old state or the new one, whole; never a
    /// mix, never nothing.
    #[test]
    fn a_save_cut_at_any_point_leaves_the_old_state_or_the_new() {
        let points = [
            Point::Created,
            Point::HalfWritten,
            Point::BeforeSync,
            Point::BeforeRename,
            Point::BeforeDirSync,
        ];
        let old = sample();
        let new = with_converged();
        for (i, at) in points.iter().enumerate() {
            let dir = scratch(&format!("cut{i}"));
            old.save(&dir).unwrap();
            let mut seen = Vec::new();
            let e = new
                .save_until(&dir, &mut |p| {
                    seen.push(p);
                    p == *at
                })
                .unwrap_err();
            assert!(e.contains(CRASHED), "{at:?}: {e}");
            assert_eq!(seen.last(), Some(at), "{at:?} never reached: {seen:?}");
            let loaded = State::load(&dir, "h.example");
            let want = if *at == Point::BeforeDirSync {
                &new
            } else {
                &old
            };
            assert_eq!(&loaded, want, "cut at {at:?}");
            // The next save, uncut, replaces whatever the cut left.
            new.save(&dir).unwrap();
            assert_eq!(State::load(&dir, "h.example"), new, "after {at:?}");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    /// A version 1 file written before the converged state and the servers existed keeps its
    /// finished jobs on upgrade.
    #[test]
    fn an_older_file_keeps_its_finished_jobs() {
        let old = br#"{"version":1,"host":"h.example","jobs_done":{"migrate":{"identity":"bWlncmF0ZQ==","container":null,"finished_at":1700000000}}}"#;
        let s = parse(old, "h.example").unwrap();
        assert_eq!(s, sample());
        assert_eq!((s.converged, s.servers.len()), (None, 0));
        let back = serde_json::to_vec(&with_converged()).unwrap();
        assert_eq!(parse(&back, "h.example").unwrap(), with_converged());
    }

    /// Whatever DNS listed, the converged state stays within its bounds.
    #[test]
    fn the_converged_state_is_bounded() {
        let ran = |i: usize, len: usize| Ran {
            name: format!("c{i}"),
            identity: "x".into(),
            record: "r".into(),
            text: "t".repeat(len),
        };
        let c = Converged::new(1, (0..MAX_CONVERGED + 5).map(|i| ran(i, 1)));
        assert_eq!(c.containers.len(), MAX_CONVERGED);
        let c = Converged::new(1, [ran(0, MAX_TEXT + 1), ran(1, MAX_TEXT)]);
        let names: Vec<&str> = c.containers.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["c1"]);
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
