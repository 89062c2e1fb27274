//! The files an operator names, given as what is not a small regular file (a FIFO, a link to
//! `/dev/zero`, a directory, a huge file): the real binary ends promptly with the documented
//! exit status and names the file and why. No engine and no DNS server is needed: each run
//! stops before either would be asked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ddp-opfiles-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Scratch(dir)
    }

    /// Every kind of path refused, by name: a FIFO, a link to /dev/zero, a directory, and a
    /// sparse file of `too_big` bytes.
    fn refused(&self, too_big: u64) -> Vec<(PathBuf, &'static str)> {
        let fifo = self.0.join("fifo");
        let made = Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let zero = self.0.join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        let dir = self.0.join("dir");
        std::fs::create_dir(&dir).expect("dir");
        let big = self.0.join("big");
        std::fs::File::create(&big)
            .and_then(|f| f.set_len(too_big))
            .expect("sparse file");
        vec![
            (fifo, "not a regular file but a FIFO"),
            (zero, "not a regular file but a character device"),
            (dir, "not a regular file but a directory"),
            (big, "larger than"),
        ]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run the tool, killing it if it outlives `limit`: a blocked read must fail the test, not
/// hang the suite.
fn run_within(args: &[&str], limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"))
        .args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the binary");
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{args:?} still running after {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (out, started.elapsed())
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// `--resolv-conf` as anything but a regular file of at most 64 KiB: 78, before any query,
/// within `--timeout` (the README's bound is `--timeout` + 30 s; a FIFO used to block forever).
#[test]
fn a_resolv_conf_that_is_not_a_small_regular_file_exits_78_promptly() {
    let s = Scratch::new("resolv");
    for (file, why) in s.refused((64 << 10) + 1) {
        let (out, _) = run_within(
            &[
                "show",
                "--hostname",
                "h.test",
                "--timeout",
                "2s",
                "--resolv-conf",
                path(&file),
            ],
            Duration::from_secs(32),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{}: {stderr}", file.display());
        assert!(
            stderr.contains(&format!("resolver configuration {}", file.display()))
                && stderr.contains(why),
            "{stderr}"
        );
    }
}

/// A record's `--env-file` or `--label-file` that is not a small regular file makes that
/// record invalid (65), with the file and why in the log.
#[test]
fn a_record_naming_a_file_that_is_not_a_small_regular_file_is_invalid() {
    let s = Scratch::new("record");
    for (file, why) in s.refused((1 << 20) + 1) {
        for flag in ["--env-file", "--label-file"] {
            let records = s.0.join("records.conf");
            std::fs::write(
                &records,
                format!(
                    "txt-record=containers.docker.h.test,svc\ntxt-record=svc.containers.docker.h.test,\"{flag} {} busybox\"\n",
                    file.display()
                ),
            )
            .expect("records file");
            let (out, _) = run_within(
                &[
                    "show",
                    "--hostname",
                    "h.test",
                    "--timeout",
                    "2s",
                    "--records",
                    path(&records),
                ],
                Duration::from_secs(32),
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(65),
                "{flag} {}: {stderr}",
                file.display()
            );
            assert!(
                stderr.contains(&file.display().to_string()) && stderr.contains(why),
                "{stderr}"
            );
        }
    }
}
