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

/// Names DNS cannot carry and a `--top-domain` that is a registry's are configuration errors
/// (78) found before anything is asked, not "DNS unavailable" (75, which the boot unit retries
/// for ever): a host name of 236 characters is valid, but `containers.docker.<host>` is then
/// over 253; a long `--prefix` does the same; `--top-domain com` would ask
/// `containers.docker.com`. `lint` refuses the same `--top-domain`.
#[test]
fn names_too_long_for_dns_and_a_registry_top_domain_are_configuration_errors() {
    let zone = Zone::start("toolong");
    let ns = zone.ns();
    let label = "a".repeat(63);
    let long_host = format!("{label}.{label}.{label}.{}.example.com", "x".repeat(32));
    assert_eq!(long_host.len(), 236);
    let long_prefix = format!("{label}.{label}.{label}.{}", "p".repeat(48));
    let cases: [(&[&str], &str); 4] = [
        (&["--hostname", &long_host], "characters long"),
        (
            &[
                "--hostname",
                "web1.fleet.example.com",
                "--prefix",
                &long_prefix,
            ],
            "characters long",
        ),
        (
            &["--hostname", "web1.example.com", "--top-domain", "com"],
            "--top-domain com is a public suffix",
        ),
        (
            &["--hostname", "web1.example.co.uk", "--top-domain", "co.uk"],
            "--top-domain co.uk is a public suffix",
        ),
    ];
    for (args, why) in cases {
        for command in ["show", "plan", "apply"] {
            let mut all = vec![command, "--nameserver", &ns, "--timeout", "5s"];
            all.extend_from_slice(args);
            let o = tool(&all);
            assert_eq!(o.status.code(), Some(78), "{all:?}: {}", explain(&o));
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains(why), "{all:?}: {err}");
        }
    }
    assert_eq!(zone.asked(), Vec::<String>::new());

    let records = zone.dir.join("fleet.conf");
    std::fs::write(
        &records,
        "txt-record=containers.docker.web1.example.com,web\n\
         txt-record=web.containers.docker.web1.example.com,busybox\n",
    )
    .unwrap();
    let records = records.to_str().unwrap();
    let o = tool(&["lint", "--records", records, "--top-domain", "com"]);
    assert_eq!(o.status.code(), Some(78), "{}", explain(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--top-domain com is a public suffix"),
        "{}",
        explain(&o)
    );
    // The fleet's own domain is a valid bound.
    let o = tool(&["lint", "--records", records, "--top-domain", "example.com"]);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
}

/// A container whose own record name would be too long makes that record invalid (65),
/// while the host's list (a shorter name) is read: one container, not the run, is refused.
#[test]
fn a_container_record_name_too_long_is_that_containers_invalid_record() {
    let dir = std::env::temp_dir().join(format!("ddp-walk-longrecord-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let label = "a".repeat(63);
    let host = format!("{label}.{label}.{}.example.com", "h".repeat(50));
    let name = "n".repeat(60);
    let records = dir.join("records.conf");
    std::fs::write(
        &records,
        format!(
            "txt-record=containers.docker.{host},{name} ok\n\
             txt-record=ok.containers.docker.{host},busybox\n"
        ),
    )
    .unwrap();
    let o = tool(&[
        "show",
        "--records",
        records.to_str().unwrap(),
        "--hostname",
        &host,
        "--output",
        "json",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(65), "{}", explain(&o));
    let text = json(&o).to_string();
    assert!(text.contains("DNS allows at most 253"), "{text}");
}
