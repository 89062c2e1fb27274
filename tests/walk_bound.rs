//! The level walk never leaves the fleet's own domain, checked against a real dnsmasq that
//! serves hostile records at `containers.docker.com` and `containers.docker.co.uk` and logs
//! every query it receives: nothing from those levels is listed or planned, and their names
//! are never asked. `--top-domain` stops the walk where it says.

mod common;

use common::binary::{explain, json, run as tool};
use common::dnsmasq::Dnsmasq;
use std::path::PathBuf;

/// dnsmasq with the fleet's records, records in zones the fleet does not own, and a query log.
struct Zone {
    dns: Dnsmasq,
    log: PathBuf,
    dir: PathBuf,
}

impl Zone {
    fn start(name: &str) -> Zone {
        let dir = std::env::temp_dir().join(format!("ddp-walk-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("queries.log");
        let dns = Dnsmasq::start(&format!(
            "log-queries\nlog-facility={}\n\
             local=/com/\nlocal=/uk/\n\
             txt-record=containers.docker.com,evil\n\
             txt-record=evil.containers.docker.com,\"ddp-test/busybox --privileged sh\"\n\
             txt-record=base.containers.docker.com,\"ddp-test/busybox --privileged sh\"\n\
             txt-record=containers.docker.co.uk,evil\n\
             txt-record=evil.containers.docker.co.uk,\"ddp-test/busybox --privileged sh\"\n\
             txt-record=containers.docker.fleet.example.com,base\n\
             txt-record=base.containers.docker.fleet.example.com,\"ddp-test/busybox sleep 60\"\n",
            log.display()
        ));
        Zone { dns, log, dir }
    }

    fn ns(&self) -> String {
        self.dns.addr.to_string()
    }

    /// Every name the tool asked dnsmasq, from dnsmasq's own log (less the kit's `probe.`).
    fn asked(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                l.split_once("query[")?
                    .1
                    .split_once("] ")?
                    .1
                    .split(' ')
                    .next()
            })
            .filter(|n| *n != "probe")
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Zone {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn names_outside(asked: &[String], domain: &str) -> Vec<String> {
    asked
        .iter()
        .filter(|n| !n.ends_with(&format!(".{domain}")) && *n != domain)
        .cloned()
        .collect()
}

#[test]
fn a_host_without_a_list_never_takes_one_from_a_public_suffix_level() {
    let zone = Zone::start("nolist");
    let ns = zone.ns();
    for (host, own) in [
        ("web1.example.com", "example.com"),
        ("web1.example.co.uk", "example.co.uk"),
    ] {
        for inherit in [false, true] {
            let mut args = vec![
                "show",
                "--hostname",
                host,
                "--nameserver",
                &ns,
                "--output",
                "json",
            ];
            if inherit {
                args.push("--inherit");
            }
            let o = tool(&args);
            // Before the bound, both took the list "evil" from the public suffix's level.
            assert_eq!(o.status.code(), Some(66), "{host}: {}", explain(&o));
            let doc = json(&o);
            assert_eq!(doc["list"]["status"], "not-configured", "{host}");
            assert_eq!(
                doc["walk"]["levels"],
                serde_json::json!([host, own]),
                "{host}"
            );
            let stop = doc["walk"]["stop"].as_str().unwrap();
            assert!(stop.contains("is a public suffix"), "{host}: {stop}");
        }
    }
    let asked = zone.asked();
    assert!(
        !asked.is_empty(),
        "the query log is empty: is log-queries on?"
    );
    for forbidden in ["containers.docker.com", "containers.docker.co.uk"] {
        assert!(
            !asked.iter().any(|n| n == forbidden),
            "{forbidden} was asked: {asked:?}"
        );
    }
    let outside: Vec<String> = asked
        .iter()
        .filter(|n| !n.ends_with(".example.com") && !n.ends_with(".example.co.uk"))
        .cloned()
        .collect();
    assert!(outside.is_empty(), "asked outside the fleet: {outside:?}");
}

#[test]
fn inherit_merges_the_fleet_list_and_nothing_from_above_it() {
    let zone = Zone::start("inherit");
    let ns = zone.ns();
    let o = tool(&[
        "show",
        "--hostname",
        "web1.fleet.example.com",
        "--nameserver",
        &ns,
        "--inherit",
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    let doc = json(&o);
    let containers = doc["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "{doc:#}");
    assert_eq!(containers[0]["name"], "base");
    // The fleet's own record wins; the one at containers.docker.com is never read.
    assert_eq!(
        containers[0]["record"],
        "base.containers.docker.fleet.example.com"
    );

    // The engine's view agrees: plan creates the fleet's container and nothing else.
    let o = tool(&[
        "plan",
        "--hostname",
        "web1.fleet.example.com",
        "--nameserver",
        &ns,
        "--inherit",
        "--output",
        "json",
    ]);
    let doc = json(&o);
    let planned: Vec<&str> = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["container"].as_str().unwrap())
        .collect();
    assert!(!planned.contains(&"evil"), "{doc:#}");
    assert!(planned.contains(&"base"), "{doc:#}");
    assert_eq!(
        doc["walk"]["levels"],
        serde_json::json!(["web1.fleet.example.com", "fleet.example.com", "example.com"])
    );

    let outside = names_outside(&zone.asked(), "example.com");
    assert!(outside.is_empty(), "asked outside example.com: {outside:?}");
}

#[test]
fn top_domain_stops_the_walk_where_it_says() {
    let zone = Zone::start("top");
    let ns = zone.ns();
    // The list sits at fleet.example.com; a bound below it hides it.
    let o = tool(&[
        "show",
        "--hostname",
        "web1.dc1.fleet.example.com",
        "--top-domain",
        "dc1.fleet.example.com",
        "--nameserver",
        &ns,
        "--inherit",
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(66), "{}", explain(&o));
    assert_eq!(
        json(&o)["walk"]["levels"],
        serde_json::json!(["web1.dc1.fleet.example.com", "dc1.fleet.example.com"])
    );
    let outside = names_outside(&zone.asked(), "dc1.fleet.example.com");
    assert!(outside.is_empty(), "asked above --top-domain: {outside:?}");

    // The bound at the fleet's domain reaches the list.
    let o = tool(&[
        "show",
        "--hostname",
        "web1.dc1.fleet.example.com",
        "--top-domain",
        "fleet.example.com",
        "--nameserver",
        &ns,
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    assert_eq!(json(&o)["containers"][0]["name"], "base");
    assert_eq!(
        json(&o)["walk"]["stop"],
        "the walk stops at fleet.example.com: --top-domain"
    );

    // A text report says the same, for people.
    let o = tool(&[
        "show",
        "--hostname",
        "web1.dc1.fleet.example.com",
        "--top-domain",
        "fleet.example.com",
        "--nameserver",
        &ns,
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with(
            "levels asked: web1.dc1.fleet.example.com, dc1.fleet.example.com, fleet.example.com (the walk stops at fleet.example.com: --top-domain)\n"
        ),
        "{text}"
    );
}

#[test]
fn a_host_outside_the_top_domain_or_on_a_public_suffix_is_a_configuration_error() {
    let zone = Zone::start("outside");
    let ns = zone.ns();
    for args in [
        &[
            "--hostname",
            "web1.example.org",
            "--top-domain",
            "example.com",
        ][..],
        &[
            "--hostname",
            "web1.badexample.com",
            "--top-domain",
            "example.com",
        ],
        &["--hostname", "co.uk"],
        &["--hostname", "github.io"],
    ] {
        for command in ["show", "plan", "apply"] {
            let mut all = vec![command, "--nameserver", &ns, "--timeout", "5s"];
            all.extend_from_slice(args);
            let o = tool(&all);
            assert_eq!(o.status.code(), Some(78), "{all:?}: {}", explain(&o));
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains(args[1]), "{all:?}: {err}");
        }
    }
    // Configuration is checked before anything is asked.
    assert_eq!(zone.asked(), Vec::<String>::new());
}
