//! Operating a fleet, end to end with the real binary and the real engine: `plan
//! --detailed-exitcode` as a drift check, the metrics file as node_exporter reads it, what
//! `plan` shows of a change, files a record reads in its identity, image pruning and
//! dependents that restart after what they depend on is replaced.

mod common;

use common::binary::pairs;
use common::e2e::{IMG, code, service, show};
use common::world::World;

fn args(w: &World, cmd: &str, extra: &[&str]) -> Vec<String> {
    let mut a = w.args(cmd);
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(o)))
}

/// 2 while `apply` would change something, 0 once it would not, and any other status as
/// it would be without the option (an invalid record says 65, not 2).
#[test]
fn plan_detailed_exitcode_drives_a_drift_check() {
    let w = World::new("drift");
    w.records(&[("a", Some(&service(IMG, "a")))]);
    let plan = |extra: &[&str]| w.run(&args(&w, "plan", extra), &[]);
    let o = plan(&["--detailed-exitcode"]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let o = plan(&[]);
    assert_eq!(code(&o), 0, "without the option: {}", show(&o));
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let o = plan(&["--detailed-exitcode"]);
    assert_eq!(code(&o), 0, "nothing pending: {}", show(&o));
    // A pending replace beside an invalid record: the invalid record's 65 wins.
    w.records(&[
        ("a", Some(&service(IMG, "a2"))),
        ("b", Some("--network none --bogus-flag x")),
    ]);
    let o = plan(&["--detailed-exitcode", "--output", "json"]);
    assert_eq!(code(&o), 65, "{}", show(&o));
    let doc = json(&o);
    assert_eq!(doc["exit_code"], 65);
    assert!(pairs(&doc["actions"], "container", "action").contains(&(w.name("b"), "leave".into())));
}
