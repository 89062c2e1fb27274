//! The run lock: one `apply` at a time per host. An exclusive advisory lock on a file; the
//! kernel drops it when the process exits, so a crash never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
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
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| {
            LockError::Unusable(format!("cannot open lock file {}: {e}", path.display()))
        })?;
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
}
