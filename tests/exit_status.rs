//! Exit statuses that need the real binary: a panic must end with the documented 70
//! (internal error), not with the abort signal of the release profile.

use std::process::{Command, Stdio};

#[test]
fn a_panic_exits_70() {
    // Printing the help to a pipe nobody reads makes `print!` panic (SIGPIPE is ignored by
    // the Rust runtime, so the write fails with EPIPE): the one panic reachable from outside.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let status = Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"))
        .arg("--help")
        .stdout(writer)
        .stderr(Stdio::null())
        .status()
        .expect("run the binary");
    assert_eq!(status.code(), Some(70), "{status:?}");
}
