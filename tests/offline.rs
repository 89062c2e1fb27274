//! A run while DNS is silent, outside systemd: the real binary, the real engine, DNS a port
//! where nothing answers (or a silent socket next to a real dnsmasq). What the offline start
//! starts and what it leaves alone, its exit status and report, what it tells `$NOTIFY_SOCKET`,
//! and what the next run knows of a silent nameserver. Boot itself is tests/boot.rs.

mod common;

use common::binary::json;
use common::dnsmasq::Dnsmasq;
use common::e2e::{IMG, LABEL, code, docker, inspect, show};
use common::ports::free_port;
use common::world::World;
use std::net::UdpSocket;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// A container that runs until stopped.
fn sleeper(secs: u32) -> String {
    format!("--network none {IMG} sleep {secs}")
}

/// The world's `apply` arguments with DNS at `servers` instead of its records file.
fn over_dns(w: &World, servers: &[String], extra: &[&str]) -> Vec<String> {
    let mut args = w.args("apply");
    let at = args
        .iter()
        .position(|a| a == "--records")
        .expect("--records");
    args.drain(at..at + 2);
    for s in servers {
        args.extend(["--nameserver".to_string(), s.clone()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// A loopback port where nothing answers.
fn silent_dns() -> String {
    format!("127.0.0.1:{}", free_port())
}

fn stop(name: &str) {
    let o = docker(&["stop", "-t", "1", name]);
    assert!(o.status.success(), "docker stop {name}: {o:?}");
}

fn running(name: &str) -> bool {
    inspect(name).is_some_and(|(_, up, _)| up)
}

/// Only what the last converged state lists, still exists and still has its identity is
/// started; nothing is created or removed; an incomplete offline start is still 75.
#[test]
fn the_offline_start_starts_only_what_is_unchanged_and_creates_nothing() {
    let w = World::new("offline-rules");
    let (web, db, gone) = (w.name("web"), w.name("db"), w.name("gone"));
    w.records(&[
        ("web", Some(&sleeper(3600))),
        ("db", Some(&sleeper(3601))),
        ("gone", Some(&sleeper(3602))),
    ]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    // The outage: web stopped; db replaced by hand with another identity; gone removed.
    stop(&web);
    let o = docker(&["rm", "-f", &db, &gone]);
    assert!(o.status.success(), "{o:?}");
    let label = format!("{LABEL}=c29tZXRoaW5nIGVsc2U=");
    let o = docker(&[
        "create", "--name", &db, "--label", &label, IMG, "sleep", "60",
    ]);
    assert!(o.status.success(), "{o:?}");
    let impostor = inspect(&db).expect("db").0;

    let dead = silent_dns();
    let args = over_dns(
        &w,
        &[dead],
        &[
            "--timeout",
            "6s",
            "--offline-after",
            "1s",
            "--output",
            "json",
        ],
    );
    let o = w.run(&args, &[]);
    assert_eq!(
        code(&o),
        75,
        "incomplete, so still temporary:\n{}",
        show(&o)
    );
    assert!(running(&web), "{web} was not started:\n{}", show(&o));
    let db_now = inspect(&db).expect("db is still there");
    assert_eq!(db_now.0, impostor, "db was replaced");
    assert!(!db_now.1, "db (identity changed) was started");
    assert!(inspect(&gone).is_none(), "{gone} was created");
    let doc = json(&o);
    let off = &doc["offline"];
    assert_eq!(off["started"], 1, "{doc:#}");
    assert_eq!(off["not_up"], 2, "{doc:#}");
    assert_eq!(off["complete"], false, "{doc:#}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("identity changed"), "{err}");
    assert!(err.contains("nothing is created"), "{err}");

    // --offline-after 0s: nothing starts.
    stop(&web);
    let args = over_dns(
        &w,
        &[silent_dns()],
        &["--timeout", "3s", "--offline-after", "0s"],
    );
    let o = w.run(&args, &[]);
    assert_eq!(code(&o), 75, "{}", show(&o));
    assert!(!running(&web), "{web} started with --offline-after 0s");
}

/// A complete offline start through a whole outage is 79, tells systemd READY=1 (waiting for
/// its barrier) and what it waits for, and the host keeps the container.
#[test]
fn a_complete_offline_start_is_79_and_tells_systemd_it_is_ready() {
    let w = World::new("offline-ready");
    let web = w.name("web");
    w.records(&[("web", Some(&sleeper(3600)))]);
    let metrics = w.dir.join("ddp.prom");
    let metrics_arg = metrics.to_str().expect("a UTF-8 scratch path");
    let mut converged = w.args("apply");
    converged.extend(["--metrics-file".to_string(), metrics_arg.to_string()]);
    let o = w.run(&converged, &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let scraped = std::fs::read_to_string(&metrics).expect("the metrics file");
    assert!(
        scraped.contains("\ndocker_dns_provision_offline 0\n"),
        "{scraped}"
    );
    assert!(!scraped.contains("offline_since"), "{scraped}");
    stop(&web);

    let socket = w.dir.join("notify");
    let systemd = UnixDatagram::bind(&socket).expect("bind the notify socket");
    systemd
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let args = over_dns(
        &w,
        &[silent_dns()],
        &[
            "--timeout",
            "6s",
            "--offline-after",
            "1s",
            "--metrics-file",
            metrics_arg,
        ],
    );
    let mut cmd = common::e2e::tool_command(&args);
    cmd.env("NOTIFY_SOCKET", &socket);
    let child = cmd.spawn().expect("spawn the tool");
    // systemd's side: read every datagram (a passed descriptor is closed with its message,
    // which ends the tool's barrier wait), until READY=1 and the barrier came.
    let mut messages = Vec::new();
    let mut buf = [0u8; 4096];
    while !messages.iter().any(|m: &String| m == "BARRIER=1") {
        let Ok(n) = systemd.recv(&mut buf) else {
            break;
        };
        messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 79, "{}", show(&o));
    assert!(running(&web), "{web} is not running");
    let waiting = messages
        .iter()
        .find(|m| m.starts_with("STATUS=waiting") && m.contains("offline start in"))
        .unwrap_or_else(|| panic!("no status while waiting: {messages:#?}"));
    assert!(waiting.contains("127.0.0.1:"), "no server named: {waiting}");
    let ready = messages
        .iter()
        .position(|m| m.starts_with("READY=1\nSTATUS=") && m.contains("last converged state"))
        .unwrap_or_else(|| panic!("no READY=1: {messages:#?}"));
    assert_eq!(
        messages.get(ready + 1).map(String::as_str),
        Some("BARRIER=1"),
        "{messages:#?}"
    );
    let summary = String::from_utf8_lossy(&o.stderr);
    assert!(
        summary.contains("started=1") && summary.contains("running the last converged state"),
        "{summary}"
    );
    // A fleet's monitoring sees the host running its last converged state, and since when.
    let scraped = std::fs::read_to_string(&metrics).expect("the metrics file");
    assert!(
        scraped.contains("\ndocker_dns_provision_offline 1\n"),
        "{scraped}"
    );
    assert!(
        scraped.contains("\ndocker_dns_provision_offline_since_timestamp_seconds "),
        "{scraped}"
    );
    assert!(
        scraped.contains("docker_dns_provision_exit_status{command=\"apply\"} 79"),
        "{scraped}"
    );
}

/// A silent first nameserver costs the run that finds it a try, and the next run none: what
/// the first learnt is in the state directory.
#[test]
fn the_next_run_does_not_ask_a_server_that_just_failed() {
    let w = World::new("offline-rests");
    let web = w.name("web");
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    silent.set_nonblocking(true).unwrap();
    let dns = Dnsmasq::start(&format!(
        "local=/test/\ntxt-record=containers.docker.e2e.test,{web}\ntxt-record={web}.containers.docker.e2e.test,\"{}\"\n",
        sleeper(3600)
    ));
    let servers = [
        silent.local_addr().unwrap().to_string(),
        dns.addr.to_string(),
    ];
    let queries = || {
        let mut n = 0;
        let mut buf = [0u8; 512];
        while silent.recv(&mut buf).is_ok() {
            n += 1;
        }
        n
    };
    let args = over_dns(&w, &servers, &[]);
    let o = w.run(&args, &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(queries() > 0, "the first run never asked the silent server");
    let state = std::fs::read_to_string(w.dir.join("state/state.json")).unwrap();
    assert!(state.contains(&servers[0]), "not remembered:\n{state}");

    let o = w.run(&args, &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(queries(), 0, "the second run asked the silent server again");
}
