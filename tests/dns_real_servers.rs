//! Record classification against servers that answer the way real ones do: BIND as an
//! authoritative-only server (referrals below a zone cut, a CNAME into another zone alone,
//! AA=1, RA=0) and unbound as the recursive, validating resolver in front of it. Only a denial
//! from a server that speaks for the data may make a record absent; everything else is
//! unavailable, and unavailable never removes anything.

mod common;

use common::binary::{explain, run as tool};
use common::bind::Bind;
use common::dnsmasq::Dnsmasq;
use common::unbound::{Trust, Unbound};
use serde_json::Value;
use std::process::{Command, Output};

const IMG: &str = "ddp-test/busybox:latest";

/// `show` as JSON for `host`, asking only `server`.
fn show(host: &str, server: &str, extra: &[&str]) -> (Option<i32>, Value, Output) {
    let mut args = vec![
        "show",
        "--hostname",
        host,
        "--nameserver",
        server,
        "--timeout",
        "5s",
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = tool(&args);
    let doc = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o.status.code(), doc, o)
}

/// name → status (and error, for unknown ones) from `show --output json`.
fn statuses(doc: &Value) -> Vec<(String, String)> {
    doc["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or("").to_string(),
                        c["status"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `example.test`: a fleet list at the top, a data centre delegated to a server that does
/// not answer, and a host whose container record is a CNAME into `other.test`.
fn example_zone() -> String {
    format!(
        "$TTL 60\n\
         @ IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60\n\
         @ IN NS ns.example.test.\n\
         ns IN A 127.0.0.1\n\
         containers.docker IN TXT \"base\"\n\
         base.containers.docker IN TXT \"{IMG} sleep 60\"\n\
         dc1 IN NS ns.dc1.example.test.\n\
         ns.dc1 IN A 127.0.0.9\n\
         containers.docker.h IN TXT \"c1 gone1\"\n\
         c1.containers.docker.h IN CNAME c1.records.other.test.\n"
    )
}

/// `other.test`, served by dnsmasq: the target of the CNAME.
fn other_zone() -> Dnsmasq {
    Dnsmasq::start(&format!(
        "local=/other.test/\ntxt-record=c1.records.other.test,\"{IMG} sleep 60\"\n"
    ))
}

#[test]
fn a_referral_below_a_zone_cut_is_unavailable_never_absent() {
    let bind = Bind::start(&[("example.test", example_zone())]);
    let ns = bind.addr.to_string();
    for inherit in [&[][..], &["--inherit"]] {
        let (code, doc, o) = show("web1.dc1.example.test", &ns, inherit);
        // Before: the referral for web1.dc1 and dc1 counted as "no list", so the host took
        // the fleet list from example.test (and, with --allow-empty, lost everything).
        assert_eq!(code, Some(75), "{inherit:?}: {}", explain(&o));
        assert_eq!(doc["list"]["status"], "unavailable", "{inherit:?}");
        let why = doc["list"]["error"].as_str().unwrap_or("");
        assert!(why.contains("referral"), "{inherit:?}: {why}");
        assert!(why.contains("recursive resolver"), "{inherit:?}: {why}");
    }
}

#[test]
fn a_cname_into_another_zone_is_followed_by_a_resolver_and_unavailable_from_bind() {
    let bind = Bind::start(&[("example.test", example_zone())]);
    let other = other_zone();
    // Straight to the authoritative-only server: the CNAME comes alone.
    let (code, doc, o) = show("h.example.test", &bind.addr.to_string(), &[]);
    assert_eq!(code, Some(75), "{}", explain(&o));
    let want = vec![
        ("c1".to_string(), "unknown".to_string()),
        // A real absence, answered with AA=1 and the SOA at both levels, stays an absence.
        ("gone1".to_string(), "disabled".to_string()),
    ];
    assert_eq!(statuses(&doc), want, "{doc:#}");
    let c1 = &doc["containers"][0];
    assert!(
        c1["error"].as_str().unwrap_or("").contains("CNAME chain"),
        "{c1}"
    );

    // Through unbound, which chases the chain into other.test.
    let unbound = Unbound::start(&[
        ("example.test", bind.addr, Trust::Insecure),
        ("other.test", other.addr, Trust::Insecure),
    ]);
    let (code, doc, o) = show("h.example.test", &unbound.addr.to_string(), &[]);
    assert_eq!(code, Some(0), "{}", explain(&o));
    let want = vec![
        ("c1".to_string(), "spec".to_string()),
        ("gone1".to_string(), "disabled".to_string()),
    ];
    assert_eq!(statuses(&doc), want, "{doc:#}");
    assert_eq!(
        doc["containers"][0]["record"],
        "c1.containers.docker.h.example.test"
    );
}

/// A signed `secure.test` with a trust anchor for unbound, and copies of the signed zone with
/// a tampered record and a forged denial.
struct Signed {
    dir: std::path::PathBuf,
    anchor: String,
}

impl Signed {
    fn new() -> Signed {
        common::bind::ensure_installed("/usr/sbin/named");
        let dir = common::ports::scratch_dir("dnssec");
        let zone = dir.join("secure.test.zone");
        std::fs::write(
            &zone,
            format!(
                "$TTL 60\n\
                 @ IN SOA ns.secure.test. hostmaster.secure.test. 1 3600 600 86400 60\n\
                 @ IN NS ns.secure.test.\n\
                 ns IN A 127.0.0.1\n\
                 containers.docker.h IN TXT \"c1 c2 gone1\"\n\
                 c1.containers.docker.h IN TXT \"{IMG} sleep 60\"\n\
                 c2.containers.docker.h IN TXT \"{IMG} sleep 61\"\n"
            ),
        )
        .unwrap();
        let run = |args: &[&str]| {
            let o = Command::new(args[0])
                .args(&args[1..])
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(o.status.success(), "{args:?}: {}", explain(&o));
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        };
        let k = dir.display().to_string();
        let ksk = run(&[
            "dnssec-keygen",
            "-K",
            &k,
            "-a",
            "ECDSAP256SHA256",
            "-f",
            "KSK",
            "-n",
            "ZONE",
            "secure.test",
        ]);
        run(&[
            "dnssec-keygen",
            "-K",
            &k,
            "-a",
            "ECDSAP256SHA256",
            "-n",
            "ZONE",
            "secure.test",
        ]);
        run(&[
            "dnssec-signzone",
            "-S",
            "-K",
            &k,
            "-O",
            "full",
            "-o",
            "secure.test",
            "-f",
            "secure.test.signed",
            "secure.test.zone",
        ]);
        let key = std::fs::read_to_string(dir.join(format!("{ksk}.key"))).unwrap();
        let anchor = key
            .lines()
            .filter(|l| !l.starts_with(';') && l.contains("DNSKEY"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!anchor.is_empty(), "no DNSKEY in {ksk}.key: {key}");
        Signed { dir, anchor }
    }

    fn signed(&self) -> String {
        std::fs::read_to_string(self.dir.join("secure.test.signed")).unwrap()
    }

    /// Write a variant of the signed zone and return it as a `Bind::start` zone text.
    fn variant(&self, name: &str, text: String) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        format!("@file:{}", path.display())
    }
}

impl Drop for Signed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Start BIND with `zone` as secure.test and unbound validating it; `show` with --require-ad.
fn show_signed(signed: &Signed, zone: String) -> (Option<i32>, Value, Output) {
    let bind = Bind::start(&[("secure.test", zone)]);
    let unbound = Unbound::start(&[(
        "secure.test",
        bind.addr,
        Trust::Anchor(signed.anchor.clone()),
    )]);
    show(
        "h.secure.test",
        &unbound.addr.to_string(),
        &["--require-ad"],
    )
}

#[test]
fn require_ad_against_a_signed_zone_and_a_validating_resolver() {
    let signed = Signed::new();
    let zone = signed.signed();

    // Valid answers, positive and negative, pass.
    let (code, doc, o) = show_signed(&signed, signed.variant("valid", zone.clone()));
    assert_eq!(code, Some(0), "{}", explain(&o));
    let want: Vec<(String, String)> = [("c1", "spec"), ("c2", "spec"), ("gone1", "disabled")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(statuses(&doc), want, "{doc:#}");

    // A record changed after signing: its signature fails, the answer is bogus.
    let tampered = zone.replace(
        &format!("\"{IMG} sleep 60\""),
        &format!("\"{IMG} --privileged sh\""),
    );
    assert_ne!(
        tampered, zone,
        "the record to tamper with is not in the signed zone"
    );
    let (code, doc, o) = show_signed(&signed, signed.variant("tampered", tampered));
    assert_eq!(code, Some(75), "{}", explain(&o));
    let st = statuses(&doc);
    assert!(st.contains(&("c1".into(), "unknown".into())), "{doc:#}");
    assert!(st.contains(&("c2".into(), "spec".into())), "{doc:#}");

    // A denial the signatures do not support: c2's TXT and its signature removed, its NSEC
    // (which says a TXT exists) kept.
    let forged: String = zone
        .lines()
        .filter(|l| {
            let mut w = l.split_whitespace();
            let owner = w.next().unwrap_or("");
            let rest: Vec<&str> = w.collect();
            let is_c2 = owner == "c2.containers.docker.h.secure.test.";
            let txt_or_its_sig = rest.windows(2).any(|p| p == ["IN", "TXT"])
                || rest.windows(3).any(|p| p == ["IN", "RRSIG", "TXT"]);
            !(is_c2 && txt_or_its_sig)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        forged.len() < zone.len(),
        "nothing removed for the forged denial"
    );
    let (code, doc, o) = show_signed(&signed, signed.variant("forged", forged));
    assert_eq!(code, Some(75), "{}", explain(&o));
    assert!(
        statuses(&doc).contains(&("c2".into(), "unknown".into())),
        "a forged denial must never disable: {doc:#}"
    );
}

#[test]
fn require_ad_refuses_an_insecure_zone() {
    let bind = Bind::start(&[("example.test", example_zone())]);
    let other = other_zone();
    let unbound = Unbound::start(&[
        ("example.test", bind.addr, Trust::Insecure),
        ("other.test", other.addr, Trust::Insecure),
    ]);
    let (code, doc, o) = show(
        "h.example.test",
        &unbound.addr.to_string(),
        &["--require-ad"],
    );
    assert_eq!(code, Some(75), "{}", explain(&o));
    assert_eq!(doc["list"]["status"], "unavailable", "{doc:#}");
    assert!(
        doc["list"]["error"]
            .as_str()
            .unwrap_or("")
            .contains("AD bit missing"),
        "{doc:#}"
    );
    // The zone answers fine without the requirement.
    let (code, _, o) = show("h.example.test", &unbound.addr.to_string(), &[]);
    assert_eq!(code, Some(0), "{}", explain(&o));
}
