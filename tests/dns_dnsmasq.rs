//! The resolver against a real dnsmasq serving the seed README's example records (under the
//! local `test` domain), plus the shapes real data takes: split long strings, several RRs,
//! truncation, NXDOMAIN, NODATA, REFUSED.

mod common;

use common::dnsmasq::Dnsmasq;
use docker_dns_provision::dns::{Answer, Resolver, ResolverConfig, TxtSource};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const HOST: &str = "will-desktop.test";

fn config() -> String {
    let big: String = (0..3)
        .map(|i| format!("txt-record=big.{HOST},\"{}\"\n", format!("{i}").repeat(900)))
        .collect();
    format!(
        "local=/test/
txt-record=containers.docker.{HOST},etcd
txt-record=containers.docker.{HOST},bash-sleeper
txt-record=containers.docker.{HOST},bash-echoer
txt-record=etcd.containers.docker.{HOST},\"quay.io/coreos/etcd\"
txt-record=bash-sleeper.containers.docker.{HOST},\"ubuntu:wily sleep 60\"
txt-record=bash-echoerr.containers.docker.{HOST},\"ubuntu:wily echo HelloDNS!\"
txt-record=long.{HOST},\"{long}\"
txt-record=pairs.{HOST},\"k1=v1\",\"k2=v2\"
txt-record=empty.{HOST}
host-record=docker.{HOST},192.0.2.20
{big}",
        long = "a".repeat(300),
    )
}

/// A dnsmasq per test: a static one would never be dropped, so never killed.
fn server() -> Dnsmasq {
    Dnsmasq::start(&config())
}

fn resolver(server: &Dnsmasq, deadline: Duration) -> Resolver {
    Resolver::new(
        ResolverConfig::with_servers(vec![server.addr]),
        Instant::now() + deadline,
    )
}

fn lookup(server: &Dnsmasq, name: &str) -> Answer {
    resolver(server, Duration::from_secs(5)).lookup(&format!("{name}.{HOST}"))
}

/// The RRs of a Present answer as text, unordered (an RRset has no order).
fn rrset(answer: Answer) -> BTreeSet<Vec<String>> {
    match answer {
        Answer::Present(rrs) => rrs
            .into_iter()
            .map(|rr| {
                rr.into_iter()
                    .map(|s| String::from_utf8(s).expect("utf-8"))
                    .collect()
            })
            .collect(),
        other => panic!("expected Present, got {other:?}"),
    }
}

fn set(rrs: &[&[&str]]) -> BTreeSet<Vec<String>> {
    rrs.iter()
        .map(|rr| rr.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[test]
fn the_seed_example_records() {
    let dns = server();
    assert_eq!(
        rrset(lookup(&dns, "containers.docker")),
        set(&[&["etcd"], &["bash-sleeper"], &["bash-echoer"]])
    );
    assert_eq!(
        rrset(lookup(&dns, "etcd.containers.docker")),
        set(&[&["quay.io/coreos/etcd"]])
    );
    assert_eq!(
        rrset(lookup(&dns, "bash-sleeper.containers.docker")),
        set(&[&["ubuntu:wily sleep 60"]])
    );
    // The seed's own typo: the record is published as bash-echoerr, so bash-echoer is absent.
    assert_eq!(
        lookup(&dns, "bash-echoer.containers.docker"),
        Answer::Absent
    );
    assert_eq!(
        rrset(lookup(&dns, "bash-echoerr.containers.docker")),
        set(&[&["ubuntu:wily echo HelloDNS!"]])
    );
}

#[test]
fn a_long_value_arrives_as_255_and_45_byte_strings() {
    let dns = server();
    let a255 = "a".repeat(255);
    let a45 = "a".repeat(45);
    assert_eq!(rrset(lookup(&dns, "long")), set(&[&[&a255, &a45]]));
}

#[test]
fn strings_and_rrs_keep_their_shape() {
    let dns = server();
    assert_eq!(rrset(lookup(&dns, "pairs")), set(&[&["k1=v1", "k2=v2"]]));
    assert_eq!(rrset(lookup(&dns, "empty")), set(&[&[""]]));
}

#[test]
fn a_large_rrset_comes_over_tcp_after_truncation() {
    let dns = server();
    // 3 × 900 bytes cannot fit the 1232-byte EDNS payload we advertise: only TCP gets it all.
    let want: BTreeSet<Vec<String>> = (0..3)
        .map(|i| {
            let digit = format!("{i}");
            [255, 255, 255, 135]
                .iter()
                .map(|n| digit.repeat(*n))
                .collect()
        })
        .collect();
    assert_eq!(rrset(lookup(&dns, "big")), want);
}

#[test]
fn absent_names_and_types() {
    let dns = server();
    // NXDOMAIN: the name does not exist in the local zone.
    assert_eq!(lookup(&dns, "nothere"), Answer::Absent);
    assert_eq!(lookup(&dns, "nothere.containers.docker"), Answer::Absent);
    // NODATA: the name exists, with an A record only.
    assert_eq!(lookup(&dns, "docker"), Answer::Absent);
}

#[test]
fn names_dnsmasq_will_not_answer_are_unavailable() {
    let dns = server();
    // Outside the local zone with no upstream: REFUSED, which is not an answer.
    let answer = resolver(&dns, Duration::from_millis(800)).lookup("elsewhere.example");
    assert!(
        matches!(&answer, Answer::Unavailable(why) if why.contains("REFUSED")),
        "{answer:?}"
    );
}

#[test]
fn require_ad_rejects_a_non_validating_server() {
    let dns = server();
    // dnsmasq without --dnssec never sets AD: neither its data nor its NXDOMAIN may count.
    for name in ["containers.docker", "nothere"] {
        let answer = resolver(&dns, Duration::from_millis(800))
            .require_ad(true)
            .lookup(&format!("{name}.{HOST}"));
        assert!(
            matches!(&answer, Answer::Unavailable(why) if why.contains("AD bit missing")),
            "{name}: {answer:?}"
        );
    }
}

#[test]
fn lookup_ip_resolves_a_docker_host_name() {
    let dns = server();
    let r = resolver(&dns, Duration::from_secs(5));
    assert_eq!(
        r.lookup_ip(&format!("docker.{HOST}")),
        Ok(vec!["192.0.2.20".parse().expect("ip")])
    );
    let err = r
        .lookup_ip(&format!("nothere.{HOST}"))
        .expect_err("no address");
    assert!(err.contains("no A or AAAA record"), "{err}");
}
