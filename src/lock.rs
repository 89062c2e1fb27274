//! The run lock: one `apply` at a time per host. An exclusive advisory lock on a file; the
//! kernel drops it when the process exits, so a crash never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Instant;

/// Why the lock could not be had.
#[derive(Debug)]
pub enum LockError {
    /// Another run held it until the deadline.
    Busy(String),
    /// The lock file cannot be opened (missing directory, permissions).
    Unusable(String),
}

/// Take the lock, waiting with the shared backoff until `deadline`. Held until the file drops.
pub fn acquire(path: &Path, deadline: Instant) -> Result<File, LockError> {
    // O_NOFOLLOW: a root process must not create or lock whatever a planted symbolic link
    // points at; O_NONBLOCK: a FIFO planted there must not hang the open.
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            let why = if e.raw_os_error() == Some(libc::ELOOP) {
                "it is a symbolic link".to_string()
            } else {
                e.to_string()
            };
            LockError::Unusable(format!("cannot open lock file {}: {why}", path.display()))
        })?;
    match file.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(LockError::Unusable(format!(
                "lock file {} is not a regular file",
                path.display()
            )));
        }
        Err(e) => {
            return Err(LockError::Unusable(format!(
                "cannot inspect lock file {}: {e}",
                path.display()
            )));
        }
    }
    let mut backoff = crate::retry::Backoff::until(deadline);
    let mut logged = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) => {
                if !logged {
                    log::info!("another run holds {}; waiting", path.display());
                    logged = true;
                }
                if !backoff.wait() {
                    return Err(LockError::Busy(format!(
                        "another run still holds {} after the timeout",
                        path.display()
                    )));
                }
            }
            Err(TryLockError::Error(e)) => {
                return Err(LockError::Unusable(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn second_holder_waits_then_gives_up() {
        let dir = std::env::temp_dir().join(format!("ddp-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lock");
        let first = acquire(&path, Instant::now()).unwrap();
        let e = acquire(&path, Instant::now() + Duration::from_millis(300)).unwrap_err();
        assert!(matches!(e, LockError::Busy(_)), "{e:?}");
        drop(first);
        assert!(acquire(&path, Instant::now()).is_ok());
        let e = acquire(Path::new("/nonexistent-dir/x.lock"), Instant::now()).unwrap_err();
        assert!(matches!(e, LockError::Unusable(ref m) if m.contains("/nonexistent-dir/x.lock")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_planted_link_fifo_or_directory_is_refused_and_nothing_is_created() {
        let dir = std::env::temp_dir().join(format!("ddp-lock-plant-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target");
        let link = dir.join("link.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = acquire(&link, Instant::now()).unwrap_err();
        assert!(
            matches!(e, LockError::Unusable(ref m) if m.contains("symbolic link")),
            "{e:?}"
        );
        assert!(!target.exists(), "the link's target was created");

        let fifo = dir.join("fifo.lock");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        // Refused at once, never waited on: by the open (ENXIO: no reader) or the type check.
        let sub = dir.join("sub.lock");
        std::fs::create_dir(&sub).unwrap();
        for planted in [&fifo, &sub] {
            let e = acquire(planted, Instant::now()).unwrap_err();
            let name = planted.display().to_string();
            assert!(
                matches!(e, LockError::Unusable(ref m) if m.contains(&name)),
                "{e:?}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
