//! Damaged answers never remove a running service: a referral in place of an answer, a list
//! entry that is not a name, a list that names nothing. The real binary against the real
//! engine, with an in-process server answering the way an authoritative-only server or a
//! careless zone edit would.

mod common;

use common::e2e::{IMG, Managed, code, inspect, service, show, tool};
use common::fake_dns::{FakeDns, query_name, referral, reply, txt_reply};
use hickory_proto::op::ResponseCode;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// What the fake server says for a name (lower case, without the trailing dot).
#[derive(Clone)]
enum Says {
    Txt(Vec<String>),
    Referral,
}

/// A zone the test edits between runs; names it does not hold are NXDOMAIN (RA=1).
#[derive(Clone, Default)]
struct Zone(Arc<Mutex<HashMap<String, Says>>>);

impl Zone {
    fn set(&self, name: &str, says: Says) {
        self.0.lock().unwrap().insert(name.to_string(), says);
    }

    fn serve(&self) -> FakeDns {
        let zone = self.clone();
        FakeDns::start(move |q, _| {
            let name = query_name(q).to_ascii().to_lowercase();
            let name = name.trim_end_matches('.').to_string();
            let says = zone.0.lock().unwrap().get(&name).cloned();
            let m = match says {
                Some(Says::Txt(strings)) => {
                    let strings: Vec<&str> = strings.iter().map(String::as_str).collect();
                    txt_reply(q, &[&strings])
                }
                Some(Says::Referral) => referral(q),
                None => reply(q, ResponseCode::NXDomain),
            };
            vec![common::fake_dns::Reply::Message(m)]
        })
    }
}

const HOST: &str = "dmg.test";
const LIST: &str = "containers.docker.dmg.test";

/// `apply` for this test's host against `dns`, with its own lock file.
fn apply(m: &Managed, dns: SocketAddr, extra: &[&str]) -> std::process::Output {
    let lock = std::env::temp_dir().join(format!("ddp-{}-{}.lock", m.prefix, std::process::id()));
    let mut args: Vec<String> = [
        "apply",
        "--hostname",
        HOST,
        "--nameserver",
        &dns.to_string(),
        "--lock-file",
        &lock.display().to_string(),
        "--timeout",
        "5s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = tool(&args);
    let _ = std::fs::remove_file(&lock);
    o
}

fn record(name: &str) -> String {
    format!("{name}.{LIST}")
}

/// Create `names` as running managed services through the tool itself; their IDs.
fn converge(m: &Managed, zone: &Zone, dns: SocketAddr, names: &[String]) -> Vec<String> {
    zone.set(LIST, Says::Txt(vec![names.join(" ")]));
    for n in names {
        zone.set(&record(n), Says::Txt(vec![service(IMG, "dmg")]));
    }
    let o = apply(m, dns, &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    names
        .iter()
        .map(|n| {
            let (id, running, _) = inspect(n).unwrap_or_else(|| panic!("{n} not created"));
            assert!(running, "{n} not running");
            id
        })
        .collect()
}

fn assert_untouched(names: &[String], ids: &[String], after: &str) {
    for (n, id) in names.iter().zip(ids) {
        let (now, running, _) = inspect(n).unwrap_or_else(|| panic!("{n} removed {after}"));
        assert_eq!(&now, id, "{n} replaced {after}");
        assert!(running, "{n} stopped {after}");
    }
}

#[test]
fn a_referral_never_removes_a_container() {
    let m = Managed::new("dmg-ref".into());
    let zone = Zone::default();
    let dns = zone.serve();
    let names = vec![m.name("s1")];
    let ids = converge(&m, &zone, dns.addr, &names);

    // The container's record answered by a referral: before, "absent", and removed (exit 0).
    zone.set(&record(&names[0]), Says::Referral);
    let o = apply(&m, dns.addr, &[]);
    assert_eq!(code(&o), 75, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("referral"),
        "{}",
        show(&o)
    );
    assert_untouched(&names, &ids, "after a referral for its record");

    // The list itself answered by a referral, even with --allow-empty.
    zone.set(LIST, Says::Referral);
    for extra in [&[][..], &["--allow-empty"]] {
        let o = apply(&m, dns.addr, extra);
        assert_eq!(code(&o), 75, "{extra:?}: {}", show(&o));
        assert_untouched(&names, &ids, "after a referral for the list");
    }
}

#[test]
fn a_list_typo_removes_nothing_it_no_longer_names() {
    let m = Managed::new("dmg-typo".into());
    let zone = Zone::default();
    let dns = zone.serve();
    let names = vec![m.name("s1"), m.name("s2")];
    let ids = converge(&m, &zone, dns.addr, &names);
    let (s1, s2) = (&names[0], &names[1]);

    // `s1;s2`: one invalid entry, naming neither. Before: both removed, exit 65.
    zone.set(LIST, Says::Txt(vec![format!("{s1};{s2}")]));
    let o = apply(&m, dns.addr, &[]);
    assert_eq!(code(&o), 65, "{}", show(&o));
    assert_untouched(&names, &ids, "after the list became 's1;s2'");

    // A stray byte glued to s2. Before: s2 removed.
    zone.set(LIST, Says::Txt(vec![format!("{s1} {s2}\0")]));
    let o = apply(&m, dns.addr, &[]);
    assert_eq!(code(&o), 65, "{}", show(&o));
    assert_untouched(&names, &ids, "after a NUL byte in the list");

    // A list that names nothing is no configuration. Before: everything removed, exit 0.
    for empty in ["", " ", ","] {
        zone.set(LIST, Says::Txt(vec![empty.to_string()]));
        let o = apply(&m, dns.addr, &[]);
        assert_eq!(code(&o), 66, "{empty:?}: {}", show(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("names no container"),
            "{}",
            show(&o)
        );
        assert_untouched(&names, &ids, "after the list became empty");
    }

    // Fixed: the list names s1 only, so s2 goes, as an authoritative list says.
    zone.set(LIST, Says::Txt(vec![s1.clone()]));
    let o = apply(&m, dns.addr, &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        inspect(s2).is_none(),
        "s2 should be removed once the list is valid"
    );
}
