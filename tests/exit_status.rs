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

#[test]
fn an_unreachable_engine_exits_69_naming_it_once_and_what_to_check() {
    let dir = std::env::temp_dir().join(format!("ddp-exit-status-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let records = dir.join("records.conf");
    std::fs::write(
        &records,
        "txt-record=containers.docker.h.test,svc\ntxt-record=svc.containers.docker.h.test,busybox\n",
    )
    .expect("records file");
    let socket = dir.join("no-engine.sock");
    let out = Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"))
        .args([
            "plan",
            "--hostname",
            "h.test",
            "--timeout",
            "1ms",
            "--records",
        ])
        .arg(&records)
        .arg("--docker-host")
        .arg(format!("unix://{}", socket.display()))
        .output()
        .expect("run the binary");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.contains("ERROR"))
        .unwrap_or_default();
    assert_eq!(
        error.matches(&*socket.display().to_string()).count(),
        2, // the endpoint in the message, and the path in the connect error
        "{stderr}"
    );
    assert!(stderr.contains("is the engine running"), "{stderr}");
}

/// Without a list the engine is asked only to repair a crash's leftovers: a host that is
/// not configured and has no engine exits 66 after a short wait for it, not after all of
/// `--timeout`, and says why nothing was repaired.
#[test]
fn not_configured_without_an_engine_exits_66_without_waiting_out_the_timeout() {
    let dir = std::env::temp_dir().join(format!("ddp-exit-66-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let records = dir.join("records.conf");
    std::fs::write(&records, "txt-record=other.example,x\n").expect("records file");
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"))
        .args([
            "apply",
            "--hostname",
            "h.test",
            "--timeout",
            "5m",
            "--records",
        ])
        .arg(&records)
        .arg("--lock-file")
        .arg(dir.join("lock"))
        .arg("--docker-host")
        .arg(format!("unix://{}", dir.join("no-engine.sock").display()))
        .output()
        .expect("run the binary");
    let took = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(66), "{stderr}");
    // A bound on the logic (10 s engine wait plus one backoff step), not a speed test.
    assert!(
        took < std::time::Duration::from_secs(60),
        "took {took:?}: {stderr}"
    );
    assert!(stderr.contains("no crash repair this run"), "{stderr}");
}

/// Issue 25 §5: `DOCKER_API_VERSION` pins the version as the docker CLI does. The real engine
/// refusing it is 69 in the engine's own words; a version it speaks is used as it is (a
/// read-only `plan`).
#[test]
fn a_pinned_api_version_is_used_and_a_refused_one_exits_69_in_the_engines_words() {
    let dir = std::env::temp_dir().join(format!("ddp-api-pin-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("docker")).expect("temp dir");
    let records = dir.join("records.conf");
    std::fs::write(
        &records,
        "txt-record=containers.docker.h.test,ddp-pin-svc\n\
         txt-record=ddp-pin-svc.containers.docker.h.test,ddp-test/busybox:latest\n",
    )
    .expect("records file");
    let plan = |version: &str| {
        Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"))
            .args([
                "plan",
                "--hostname",
                "h.test",
                "--timeout",
                "10s",
                "--records",
            ])
            .arg(&records)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env("DOCKER_CONFIG", dir.join("docker"))
            .env("DOCKER_API_VERSION", version)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .output()
            .expect("run the binary")
    };
    let out = plan("1.99");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    // Docker's words: "client version 1.99 is too new. Maximum supported API version is …".
    assert!(stderr.contains("1.99 is too new"), "{stderr}");
    let out = plan("1.40");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("GET /v1.40/containers/json"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
