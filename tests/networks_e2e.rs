//! Issue 28 on the real engine: two containers on a network DNS declares converge and find
//! each other by name (and by alias, at a fixed address); a no-op costs one engine call
//! more than without networks (the network list) and a host that declares none asks for no
//! network at all; a record naming an undeclared network fails alone before anything is
//! created; and everything goes away cleanly once unlisted. Network names carry a
//! test-unique prefix and are removed at the end; the host's own networks are never touched.

mod common;

use common::binary::stdout;
use common::e2e::{IMG, code, docker, show};
use common::engine_proxy::{EngineProxy, Fault};
use common::world::World;
use std::process::Output;

/// A service that stops promptly on SIGTERM, on whatever network its options say.
fn on(options: &str) -> String {
    format!("{options} {IMG} sh -c 'trap \"exit 0\" TERM; while sleep 1; do :; done'")
}

/// Removes the test's networks (by name prefix) when it ends, whatever happened.
struct Networks(String);

impl Drop for Networks {
    fn drop(&mut self) {
        for n in network_names(&self.0) {
            let _ = docker(&["network", "rm", &n]);
        }
    }
}

fn network_names(prefix: &str) -> Vec<String> {
    let o = docker(&["network", "ls", "--format", "{{.Name}}"]);
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// The records: containers `(name, text)` and networks `(name, text)`, for host e2e.test.
fn write(w: &World, containers: &[(&str, &str)], networks: &[(&str, &str)]) {
    let mut s = String::new();
    let list: Vec<String> = containers.iter().map(|(n, _)| w.name(n)).collect();
    s += &format!(
        "txt-record=containers.docker.e2e.test,\"{}\"\n",
        list.join(" ")
    );
    for (n, text) in containers {
        s += &format!(
            "txt-record={}.containers.docker.e2e.test,\"{}\"\n",
            w.name(n),
            text.replace('"', "\\\"")
        );
    }
    if !networks.is_empty() {
        let names: Vec<&str> = networks.iter().map(|(n, _)| *n).collect();
        s += &format!(
            "txt-record=networks.docker.e2e.test,\"{}\"\n",
            names.join(" ")
        );
    }
    for (n, text) in networks {
        s += &format!("txt-record={n}.networks.docker.e2e.test,\"{text}\"\n");
    }
    std::fs::write(w.records_path(), s).unwrap();
}

/// `apply` through a proxy; the output and the engine requests the run made.
fn apply_counted(w: &World, extra: &[&str]) -> (Output, Vec<String>) {
    let proxy = EngineProxy::start(Fault::None);
    let mut args = w.args("apply");
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend([
        "--docker-host".to_string(),
        format!("unix://{}", proxy.socket.display()),
    ]);
    let o = common::e2e::tool(&args);
    (o, proxy.requests())
}

fn network_calls(requests: &[String]) -> Vec<&String> {
    requests
        .iter()
        .filter(|r| r.contains("/networks"))
        .collect()
}

fn exec(container: &str, cmd: &[&str]) -> Output {
    let mut args = vec!["exec", container];
    args.extend(cmd);
    docker(&args)
}

#[test]
fn two_containers_on_a_declared_network_find_each_other_and_go_away_cleanly() {
    // Dropped after the world, whose containers must be gone before their network can go.
    let _cleanup = Networks("e2e-nets".to_string());
    let w = World::new("nets");
    let net = format!("{}-appnet", w.prefix());
    let (db, web) = (w.name("db"), w.name("web"));
    let containers = [
        (
            "db",
            on(&format!(
                "--network {net} --network-alias database --ip 10.197.3.10 --ip6 fd00:197:3::10"
            )),
        ),
        ("web", on(&format!("--network {net}"))),
    ];
    let records: Vec<(&str, &str)> = containers.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let networks = [(
        net.as_str(),
        "--ipv6 --subnet 10.197.3.0/24 --subnet fd00:197:3::/64 --label purpose=e2e",
    )];
    write(&w, &records, &networks);

    let (o, requests) = apply_counted(&w, &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let created = requests.iter().position(|r| r.contains("/networks/create"));
    let first_container = requests
        .iter()
        .position(|r| r.contains("/containers/create"));
    assert!(
        created.is_some() && created < first_container,
        "the network is created before any container: {requests:?}"
    );
    let labels = docker(&["network", "inspect", "--format", "{{json .Labels}}", &net]);
    let labels = String::from_utf8_lossy(&labels.stdout);
    assert!(labels.contains("docker-dns-provision.command"), "{labels}");
    assert!(labels.contains("\"purpose\":\"e2e\""), "{labels}");

    // They find each other by name, by alias, at the fixed addresses.
    they_find_each_other(&db, &web, &net);

    // A no-op costs one engine call more than without networks: the network list.
    let (o, requests) = apply_counted(&w, &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        stdout(&o).contains("keep           network"),
        "{}",
        show(&o)
    );
    let calls = network_calls(&requests);
    assert!(
        calls.len() == 1 && calls[0].starts_with("GET /v") && calls[0].ends_with("/networks"),
        "{requests:?}"
    );
    let with_networks = requests.len();
    let o = w.run(&w.args("plan"), &["--output".into(), "json".into()]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        doc["network_actions"][0]["network"],
        net.as_str(),
        "{}",
        show(&o)
    );
    assert_eq!(doc["network_actions"][0]["action"], "keep");

    let changed = [(
        net.as_str(),
        "--ipv6 --subnet 10.197.3.0/24 --subnet fd00:197:3::/64 --label purpose=changed",
    )];
    a_changed_network_needs_the_option(&w, &records, &changed, (&db, &web));

    an_undeclared_network_fails_alone(&w, &records, &changed);

    // Unlisted: the containers go, then the network.
    write(&w, &[], &[]);
    let o = w.run(&w.args("apply"), &["--allow-empty".into()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(common::e2e::inspect(&db).is_none() && common::e2e::inspect(&web).is_none());
    assert!(
        network_names(w.prefix()).is_empty(),
        "{:?}",
        network_names(w.prefix())
    );

    // Without networks a no-op asks the engine nothing about networks, and costs one call
    // less than the no-op above.
    let plain = [("solo", on("--network none"))];
    let plain: Vec<(&str, &str)> = plain.iter().map(|(n, t)| (*n, t.as_str())).collect();
    write(&w, &plain, &[]);
    assert_eq!(code(&w.apply()), 0);
    let (o, requests) = apply_counted(&w, &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(network_calls(&requests).is_empty(), "{requests:?}");
    assert_eq!(requests.len() + 1, with_networks, "{requests:?}");
}

/// `web` reaches `db` by name, by its alias and at its fixed address, and `db` reaches
/// `web`; `db` has its fixed IPv6 address on the network.
fn they_find_each_other(db: &str, web: &str, net: &str) {
    for (from, to) in [
        (web, db),
        (web, "database"),
        (web, "10.197.3.10"),
        (db, web),
    ] {
        let p = exec(from, &["ping", "-c1", "-W2", to]);
        assert!(
            p.status.success(),
            "{from} → {to}: {}",
            String::from_utf8_lossy(&p.stderr)
        );
    }
    let format = format!("{{{{(index .NetworkSettings.Networks \"{net}\").GlobalIPv6Address}}}}");
    assert_eq!(
        common::e2e::field(db, &format).as_deref(),
        Some("fd00:197:3::10")
    );
}

/// A record changed while containers are attached: left (65), saying what it would
/// disturb, nothing disconnected; with --recreate-networks it is recreated and both are
/// connected again.
fn a_changed_network_needs_the_option(
    w: &World,
    records: &[(&str, &str)],
    changed: &[(&str, &str)],
    (db, web): (&str, &str),
) {
    write(w, records, changed);
    let o = w.apply();
    assert_eq!(code(&o), 65, "{}", show(&o));
    assert!(stdout(&o).contains("would disconnect"), "{}", show(&o));
    they_find_each_other(db, web, changed[0].0);
    let o = w.run(&w.args("apply"), &["--recreate-networks".into()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        stdout(&o).contains("recreate       network"),
        "{}",
        show(&o)
    );
    let labels = docker(&[
        "network",
        "inspect",
        "--format",
        "{{json .Labels}}",
        changed[0].0,
    ]);
    assert!(String::from_utf8_lossy(&labels.stdout).contains("changed"));
    they_find_each_other(db, web, changed[0].0);
}

/// A record naming a network neither declared nor present fails alone, before anything is
/// created, and the error names the network; the others are kept.
fn an_undeclared_network_fails_alone(
    w: &World,
    records: &[(&str, &str)],
    networks: &[(&str, &str)],
) {
    let missing = format!("{}-nowhere", w.prefix());
    let stray = on(&format!("--network {missing}"));
    let mut with_stray = records.to_vec();
    with_stray.push(("stray", stray.as_str()));
    write(w, &with_stray, networks);
    let o = w.apply();
    assert_eq!(code(&o), 65, "{}", show(&o));
    assert!(
        stdout(&o).contains(&missing),
        "the error names the network: {}",
        show(&o)
    );
    assert!(
        common::e2e::inspect(&w.name("stray")).is_none(),
        "nothing was created"
    );
    assert!(stdout(&o).contains("kept=2"), "{}", show(&o));
}
