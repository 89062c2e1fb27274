//! `show` and the command line, through the real binary: the seed's records served by a real
//! dnsmasq and read from the example files, usage errors, and DNS outages at the binary level.

mod common;

use common::binary::{explain, run as tool, statuses};
use common::dnsmasq::Dnsmasq;
use common::fake_dns::{FakeDns, Reply, dead_addr, query_name, reply, txt_reply};
use common::tree::example;
use hickory_proto::op::ResponseCode;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn seed_statuses() -> Vec<(String, String)> {
    vec![
        ("bash-echoer".into(), "disabled".into()),
        ("bash-sleeper".into(), "spec".into()),
        ("etcd".into(), "spec".into()),
    ]
}

#[test]
fn seed_records_served_by_dnsmasq() {
    let conf = std::fs::read_to_string(example("seed.dnsmasq.conf")).unwrap();
    // Everything under will-desktop is local: absent names are NXDOMAIN, not REFUSED.
    let dns = Dnsmasq::start(&format!("local=/will-desktop/\n{conf}"));
    let ns = dns.addr.to_string();
    let o = tool(&[
        "show",
        "--hostname",
        "will-desktop",
        "--nameserver",
        &ns,
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    assert_eq!(statuses(&o), seed_statuses());
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let etcd = &doc["containers"][2];
    assert_eq!(etcd["record"], "etcd.containers.docker.will-desktop");
    assert_eq!(etcd["text"], "quay.io/coreos/etcd");
    assert_eq!(etcd["image"], "quay.io/coreos/etcd:latest");
    assert_eq!(
        etcd["create_body"]["Labels"]["docker-dns-provision.command"],
        "cXVheS5pby9jb3Jlb3MvZXRjZA=="
    );

    // The text report says the same for people.
    let o = tool(&["show", "--hostname", "will-desktop", "--nameserver", &ns]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("bash-echoer  disabled"), "{text}");
    assert!(
        text.contains("bash-sleeper  spec  bash-sleeper.containers.docker.will-desktop"),
        "{text}"
    );
}

#[test]
fn seed_records_from_both_example_files() {
    for file in ["seed.dnsmasq.conf", "seed.zone"] {
        let path = example(file).display().to_string();
        let o = tool(&[
            "show",
            "--hostname",
            "will-desktop",
            "--records",
            &path,
            "--output",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{file}: {}", explain(&o));
        assert_eq!(statuses(&o), seed_statuses(), "{file}");
    }
}

#[test]
fn records_file_errors() {
    let dir = std::env::temp_dir().join(format!("ddp-show-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.conf");
    std::fs::write(
        &bad,
        "txt-record=containers.docker.h,a1\ntxt-record=a1.containers.docker.h,\"open\n",
    )
    .unwrap();
    let o = tool(&[
        "show",
        "--hostname",
        "h",
        "--records",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(65), "{}", explain(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.conf:2"), "names file and line: {err}");

    let o = tool(&[
        "show",
        "--hostname",
        "h",
        "--records",
        "/nonexistent/records",
    ]);
    assert_eq!(o.status.code(), Some(66), "{}", explain(&o));

    // An invalid record is exit 65, naming the record and the offending text.
    let inv = dir.join("invalid.conf");
    std::fs::write(
        &inv,
        "txt-record=containers.docker.h,a1,b1\n\
         txt-record=a1.containers.docker.h,\"--bogus-flag img\"\n\
         txt-record=b1.containers.docker.h,\"busybox\"\n",
    )
    .unwrap();
    let o = tool(&[
        "show",
        "--hostname",
        "h",
        "--records",
        inv.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(65), "{}", explain(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["containers"][0]["status"], "invalid");
    assert_eq!(doc["containers"][0]["record"], "a1.containers.docker.h");
    assert!(
        doc["containers"][0]["error"]
            .as_str()
            .unwrap()
            .contains("--bogus-flag")
    );
    assert_eq!(doc["containers"][1]["status"], "spec");

    // No list at any level: 66.
    let none = dir.join("none.conf");
    std::fs::write(&none, "txt-record=other.example,x\n").unwrap();
    let o = tool(&[
        "show",
        "--hostname",
        "h",
        "--records",
        none.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(66), "{}", explain(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_records_file_that_never_ends_or_includes_another_is_refused() {
    let dir = std::env::temp_dir().join(format!("ddp-show-records-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for path in ["/dev/zero", "/dev/urandom", fifo.to_str().unwrap()] {
        // Before: read forever.
        let o = tool(&["show", "--hostname", "h", "--records", path]);
        assert_eq!(o.status.code(), Some(66), "{path}: {}", explain(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("not a regular file"), "{path}: {err}");
    }
    // Before: the included records were silently missing.
    let zone = dir.join("zone");
    std::fs::write(
        &zone,
        "$INCLUDE containers.zone
x TXT a
",
    )
    .unwrap();
    let o = tool(&[
        "show",
        "--hostname",
        "h",
        "--records",
        zone.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(65), "{}", explain(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("zone:1: $INCLUDE"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_command_lines_exit_64_with_one_line() {
    for args in [
        &["--bogus"][..],
        &["frobnicate"],
        &["show", "--timeout", "soon"],
        &["--nameserver", "dns.example.com"],
        &["--output", "xml"],
        &["plan", "--jobs", "0"],
        &["show", "--timeout", "0"],
        &["show", "--nameserver", "fe80::1"],
    ] {
        let o = tool(args);
        assert_eq!(o.status.code(), Some(64), "{args:?}: {}", explain(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn help_and_version() {
    let o = tool(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "--hostname",
        "--prefix",
        "--inherit",
        "--nameserver",
        "--resolv-conf",
        "--records",
        "--timeout",
        "--splay",
        "--docker-host",
        "--lock-file",
        "--allow-empty",
        "--no-adopt",
        "--require-ad",
        "--allow-image",
        "--forbid-privileged",
        "--output",
        "--log-level",
        "EXIT STATUS",
        "75",
    ] {
        assert!(help.contains(needle), "help lacks {needle}");
    }
    let o = tool(&["-V"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("docker-dns-provision 0."));
}

#[test]
fn total_outage_exits_75_within_the_timeout_plus_one_step() {
    let started = Instant::now();
    let o = tool(&[
        "show",
        "--hostname",
        "h.test",
        "--nameserver",
        &dead_addr().to_string(),
        "--timeout",
        "2s",
    ]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(75), "{}", explain(&o));
    // An upper bound on the deadline logic, not a speed test: 2 s plus one 10 s step at most.
    assert!(took < Duration::from_secs(12), "took {took:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("retrying"), "each retry is logged: {err}");
}

#[test]
fn a_server_that_fails_then_recovers_is_waited_for() {
    // SERVFAIL for the first 3 queries, then real answers: the backoff converges.
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let dns = FakeDns::start(move |q, _| {
        let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n < 3 {
            return vec![Reply::Message(reply(q, ResponseCode::ServFail))];
        }
        let name = query_name(q).to_ascii().to_lowercase();
        if name == "containers.docker.h.test." {
            vec![Reply::Message(txt_reply(q, &[&["svc1"]]))]
        } else if name == "svc1.containers.docker.h.test." {
            vec![Reply::Message(txt_reply(q, &[&["busybox sleep 1"]]))]
        } else {
            vec![Reply::Message(reply(q, ResponseCode::NXDomain))]
        }
    });
    let o = tool(&[
        "show",
        "--hostname",
        "h.test",
        "--nameserver",
        &dns.addr.to_string(),
        "--timeout",
        "30s",
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    assert_eq!(statuses(&o), vec![("svc1".to_string(), "spec".to_string())]);
}

/// Run the tool with stderr in a file; `journal` sets `JOURNAL_STREAM` to that file's
/// device and inode, as systemd does for the stream it connects.
fn stderr_as(journal: bool, args: &[&str]) -> String {
    use std::os::unix::fs::MetadataExt;
    let path =
        std::env::temp_dir().join(format!("ddp-stderr-{}-{journal}.log", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    let meta = file.metadata().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"));
    cmd.args(args)
        .env_remove("RUST_LOG")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file);
    if journal {
        cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
    }
    cmd.status().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    text
}

#[test]
fn logs_carry_syslog_priorities_under_journald_and_timestamps_elsewhere() {
    let seed = example("seed.dnsmasq.conf").display().to_string();
    let args = [
        "show",
        "--hostname",
        "will-desktop",
        "--records",
        seed.as_str(),
    ];
    // bash-echoer has no record: a warning.
    let journal = stderr_as(true, &args);
    assert!(
        journal
            .lines()
            .any(|l| l.starts_with("<4>") && l.contains("bash-echoer")),
        "{journal}"
    );
    assert!(journal.lines().all(|l| l.starts_with('<')), "{journal}");
    let plain = stderr_as(false, &args);
    let line = plain.lines().find(|l| l.contains("bash-echoer")).unwrap();
    assert!(line.starts_with("20") && line.contains("Z WARN"), "{plain}");

    // An error is priority 3.
    let journal = stderr_as(
        true,
        &[
            "show",
            "--hostname",
            "h",
            "--records",
            "/nonexistent/records",
        ],
    );
    assert!(journal.starts_with("<3>"), "{journal}");
}

#[test]
fn splay_waits_before_the_first_query_and_says_so() {
    let seed = example("seed.dnsmasq.conf").display().to_string();
    let base = [
        "show",
        "--hostname",
        "will-desktop",
        "--records",
        seed.as_str(),
    ];
    let with = stderr_as(false, &[&base[..], &["--splay", "200ms"]].concat());
    assert!(with.contains("(splay, at most 0.2s)"), "{with}");
    let without = stderr_as(false, &base);
    assert!(!without.contains("splay"), "{without}");
}

/// `show` knows networks: each declared network's record and create body, as text and
/// JSON, under `--network-prefix`; an invalid network record makes `show` exit 65.
#[test]
fn show_prints_the_declared_networks() {
    let dir = std::env::temp_dir().join(format!("ddp-show-networks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let records = dir.join("records.conf");
    std::fs::write(
        &records,
        "txt-record=containers.docker.h,web\n\
         txt-record=web.containers.docker.h,\"--network appnet img\"\n\
         txt-record=nets.h,appnet\n\
         txt-record=appnet.nets.h,\"--subnet 10.30.0.0/24 --internal\"\n",
    )
    .unwrap();
    let path = records.to_str().unwrap();
    let base = [
        "show",
        "--hostname",
        "h",
        "--records",
        path,
        "--network-prefix",
        "nets",
    ];
    let o = tool(&base);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("networks: 1 declared by nets.h"), "{text}");
    assert!(
        text.contains("network appnet  spec  appnet.nets.h"),
        "{text}"
    );
    let o = tool(&[&base[..], &["--output", "json"]].concat());
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let net = &doc["networks"]["networks"][0];
    assert_eq!(net["name"], "appnet");
    assert_eq!(net["create_body"]["Name"], "appnet");
    assert_eq!(net["create_body"]["Internal"], true);
    assert_eq!(
        net["create_body"]["IPAM"]["Config"][0]["Subnet"],
        "10.30.0.0/24"
    );
    // Without the prefix the records are not networks: nothing is declared.
    let o = tool(&["show", "--hostname", "h", "--records", path]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("network appnet  spec"));
    std::fs::write(
        &records,
        "txt-record=containers.docker.h,web\n\
         txt-record=web.containers.docker.h,img\n\
         txt-record=nets.h,appnet\n\
         txt-record=appnet.nets.h,\"--gateway 10.0.0.1\"\n",
    )
    .unwrap();
    let o = tool(&base);
    assert_eq!(o.status.code(), Some(65), "{}", explain(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("corresponding subnet"));
    std::fs::remove_dir_all(&dir).unwrap();
}
