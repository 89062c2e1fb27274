//! Reading a file an operator names (`--records`, `--resolv-conf`, the docker `config.json`,
//! a record's `--env-file`) without trusting what the path leads to: only a regular file is
//! read, and at most a limit each caller sets for its kind. A FIFO would block the run past
//! `--timeout`, a device such as `/dev/zero` never ends, and a huge file would be read whole
//! into memory before its parser could object. Also bounds what a child writes to a pipe.
//! Owns the checks and the reading; each caller names the file and picks the exit code.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a file was not read. `Display` gives the reason without the path: the caller says
/// which file, and what kind of file it should have been.
#[derive(Debug)]
pub enum Refused {
    /// `open(2)` (or the `stat(2)` before it) failed: missing, permission denied, a loop.
    Open(std::io::Error),
    /// The path leads to something that is not a regular file.
    NotRegular(&'static str),
    /// The file holds more than the limit, in bytes.
    TooLarge(u64),
    /// Reading it failed part way.
    Read(std::io::Error),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Open(e) => write!(f, "cannot open: {e}"),
            Refused::NotRegular(what) => write!(
                f,
                "not a regular file but {what} (a FIFO or a device may never end; only a regular file is read)"
            ),
            Refused::TooLarge(limit) => write!(f, "larger than {}", size(*limit)),
            Refused::Read(e) => write!(f, "cannot read: {e}"),
        }
    }
}

impl Refused {
    /// The error of `open(2)`, when that is what failed: callers treat a missing file (and
    /// the credentials reader a permission denied) as news of its own.
    pub fn open_error(&self) -> Option<&std::io::Error> {
        match self {
            Refused::Open(e) => Some(e),
            _ => None,
        }
    }
}

/// The contents of the regular file at `path`, if it holds at most `limit` bytes.
///
/// What the path leads to is checked with `stat(2)` before it is opened, so that a device is
/// never opened (opening one can have effects of its own), and again with `fstat(2)` on the
/// opened descriptor, so that a file swapped in between is caught. Symbolic links are
/// followed: `/etc/resolv.conf` is one on every host with systemd-resolved, and a link to a
/// device or a FIFO is refused like the device itself. `O_NONBLOCK` keeps the open from
/// waiting for a writer if a FIFO is swapped in anyway; a regular file reads the same with
/// it. The file is read through a `take(limit + 1)`: a file that grows after the size check
/// is still refused rather than read without end.
pub fn regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, Refused> {
    let before = std::fs::metadata(path).map_err(Refused::Open)?;
    check(&before, limit)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(Refused::Open)?;
    let opened = file.metadata().map_err(Refused::Open)?;
    check(&opened, limit)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Refused::Read)?;
    if bytes.len() as u64 > limit {
        return Err(Refused::TooLarge(limit));
    }
    Ok(bytes)
}

/// At most `limit` bytes from `reader` (a child's pipe), or [`Refused::TooLarge`] as soon as
/// more come: the rest is not read, so a writer that never stops costs `limit` bytes.
pub fn at_most(reader: impl Read, limit: u64) -> Result<Vec<u8>, Refused> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Refused::Read)?;
    if bytes.len() as u64 > limit {
        return Err(Refused::TooLarge(limit));
    }
    Ok(bytes)
}

fn check(meta: &std::fs::Metadata, limit: u64) -> Result<(), Refused> {
    let t = meta.file_type();
    if !t.is_file() {
        return Err(Refused::NotRegular(if t.is_dir() {
            "a directory"
        } else if t.is_fifo() {
            "a FIFO"
        } else if t.is_char_device() {
            "a character device"
        } else if t.is_block_device() {
            "a block device"
        } else if t.is_socket() {
            "a socket"
        } else {
            "something else"
        }));
    }
    if meta.len() > limit {
        return Err(Refused::TooLarge(limit));
    }
    Ok(())
}

/// `64 MiB`, `64 KiB`, `100 bytes`: limits are powers of two, said the way they were chosen.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh directory for one test, removed when dropped.
    pub(crate) struct Scratch(pub std::path::PathBuf);

    impl Scratch {
        pub(crate) fn new(tag: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "ddp-{tag}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        pub(crate) fn fifo(&self, name: &str) -> std::path::PathBuf {
            let p = self.0.join(name);
            let made = std::process::Command::new("mkfifo").arg(&p).status();
            assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", p.display());
            p
        }

        pub(crate) fn link(&self, name: &str, to: &str) -> std::path::PathBuf {
            let p = self.0.join(name);
            std::os::unix::fs::symlink(to, &p).unwrap();
            p
        }

        pub(crate) fn sparse(&self, name: &str, len: u64) -> std::path::PathBuf {
            let p = self.0.join(name);
            std::fs::File::create(&p).unwrap().set_len(len).unwrap();
            p
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn only_a_regular_file_within_the_limit_is_read() {
        let s = Scratch::new("bounded");
        let ok = s.0.join("ok");
        std::fs::write(&ok, b"12345").unwrap();
        assert_eq!(regular_file(&ok, 5).unwrap(), b"12345");
        // A link to a regular file is read: /etc/resolv.conf is one under systemd-resolved.
        let link = s.link("link", ok.to_str().unwrap());
        assert_eq!(regular_file(&link, 5).unwrap(), b"12345");
        assert!(matches!(regular_file(&ok, 4), Err(Refused::TooLarge(4))));
        for (path, what) in [
            (s.fifo("fifo"), "a FIFO"),
            (s.link("zero", "/dev/zero"), "a character device"),
            (std::path::PathBuf::from("/dev/zero"), "a character device"),
            (s.0.clone(), "a directory"),
        ] {
            match regular_file(&path, 1 << 20) {
                Err(Refused::NotRegular(w)) => assert_eq!(w, what, "{}", path.display()),
                other => panic!("{}: {other:?}", path.display()),
            }
        }
        // A sparse file over the limit is refused by its size, not read.
        let big = s.sparse("big", (64 << 20) + 1);
        let e = regular_file(&big, 64 << 20).unwrap_err();
        assert_eq!(e.to_string(), "larger than 64 MiB");
        let e = regular_file(&s.0.join("missing"), 1).unwrap_err();
        assert_eq!(
            e.open_error().map(std::io::Error::kind),
            Some(std::io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn a_pipe_is_read_up_to_its_limit_and_no_further() {
        assert_eq!(at_most(&b"abc"[..], 3).unwrap(), b"abc");
        // An endless writer: refused after limit + 1 bytes.
        let e = at_most(std::io::repeat(b'x'), 1 << 10).unwrap_err();
        assert_eq!(e.to_string(), "larger than 1 KiB");
    }

    #[test]
    fn sizes_read_as_they_were_chosen() {
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(64 << 10), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
