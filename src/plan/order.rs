//! Start order between containers: what a spec depends on (namespaces, volumes and links it
//! takes from another container, and the `docker-dns-provision.after` label), cycles, and
//! the waves a plan runs in. Pure; it decides no action and reads no engine state.

use crate::btree::IntoTree;
use crate::container::{self, ContainerSpec};
use crate::docker::Container;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The label that names containers to start (and verify) before this one: `after=etcd,zk`.
pub const AFTER_LABEL: &str = "docker-dns-provision.after";
/// The label that opts in to restarts: the containers it names are waited for as `after`
/// names are, and when one of them is replaced (or restarted), this one is restarted after
/// it (compose's `depends_on: restart: true`).
pub const RESTART_AFTER_LABEL: &str = "docker-dns-provision.restart-after";

/// What a spec waits for, by container name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deps {
    /// `--network`/`--ipc`/`--pid container:X`: X's namespaces, which die with X.
    pub namespaces: BTreeSet<String>,
    /// `--volumes-from X`, `--link X`: needed at create, unaffected by X's replacement.
    pub others: BTreeSet<String>,
    /// The `after` label's names.
    pub after: BTreeSet<String>,
    /// The `restart-after` label's names: waited for, and restarted after.
    pub restart_after: BTreeSet<String>,
}

impl Deps {
    /// Every name it waits for.
    pub fn all(&self) -> BTreeSet<String> {
        self.namespaces
            .iter()
            .chain(&self.others)
            .chain(&self.after)
            .chain(&self.restart_after)
            .cloned()
            .into_set()
    }
}

/// The dependencies a spec names.
pub fn of(spec: &ContainerSpec) -> Deps {
    let hc = &spec.body["HostConfig"];
    let mut deps = Deps::default();
    for key in ["NetworkMode", "IpcMode", "PidMode"] {
        if let Some(x) = hc[key].as_str().and_then(|m| m.strip_prefix("container:")) {
            deps.namespaces.insert(x.to_string());
        }
    }
    let names = |key: &str| -> Vec<String> {
        hc[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .filter_map(|v| v.split(':').next())
                    .map(|v| v.trim_start_matches('/').to_string())
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    deps.others.extend(names("VolumesFrom"));
    deps.others.extend(names("Links"));
    if let Some(after) = spec.body["Labels"][AFTER_LABEL].as_str() {
        deps.after.extend(after_names(after));
    }
    if let Some(after) = spec.body["Labels"][RESTART_AFTER_LABEL].as_str() {
        deps.restart_after.extend(after_names(after));
    }
    deps
}

/// The names in an `after` label's value: comma-separated, blanks ignored.
fn after_names(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(String::from)
}

/// What a container the engine has depends on, from the engine's facts: its network
/// namespace's owner (the list's `NetworkMode`, by ID), its `after` label, and what the
/// record text in its ownership label names (IPC and PID namespaces, volumes, links). A
/// container whose record is gone has nothing else to say it.
pub fn of_container(c: &Container, actual: &[Container]) -> Deps {
    let mut deps = c
        .owner()
        .and_then(container::record_text)
        .and_then(|text| container::parse(&text, &FactsOnly).ok())
        .map(|s| of(&s))
        .unwrap_or_default();
    if let Some(x) = c.network_mode.strip_prefix("container:")
        && let Some(owner) = actual.iter().find(|o| o.id == x || o.name == x)
    {
        deps.namespaces.insert(owner.name.clone());
    }
    for label in [AFTER_LABEL, RESTART_AFTER_LABEL] {
        if let Some(after) = c.labels.get(label) {
            deps.after.extend(after_names(after));
        }
    }
    deps
}

/// Parses a record for the containers it names only: no environment and no file of this
/// host, since neither names a container. Every file reads as `{}`: the one text that is
/// both a JSON document (a seccomp profile must parse) and, as an env or label file, a
/// line that names nothing.
struct FactsOnly;

impl container::Host for FactsOnly {
    fn read_file(&self, _: &Path) -> std::io::Result<String> {
        Ok("{}".to_string())
    }
    fn env(&self, _: &str) -> Option<String> {
        None
    }
}

/// The names that lie on a cycle of `graph` (name → names it waits for).
pub fn on_cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    // A name is on a cycle when it can reach itself.
    graph
        .keys()
        .filter(|start| {
            let mut seen = BTreeSet::new();
            let mut todo: Vec<&String> = graph[*start].iter().collect();
            while let Some(n) = todo.pop() {
                if n == *start {
                    return true;
                }
                if seen.insert(n) {
                    todo.extend(graph.get(n).into_iter().flatten());
                }
            }
            false
        })
        .cloned()
        .into_set()
}

/// `names` in waves: each name after every name it waits for that is also in `names`.
/// Names on a cycle (the planner has already refused them) come last.
pub fn waves(names: &[String], after: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let present: BTreeSet<&String> = crate::btree::set(names.iter());
    let mut done: BTreeSet<&String> = BTreeSet::new();
    let mut waves = Vec::new();
    while done.len() < present.len() {
        let ready: Vec<String> = names
            .iter()
            .filter(|n| !done.contains(n))
            .filter(|n| {
                after
                    .get(*n)
                    .into_iter()
                    .flatten()
                    .all(|d| !present.contains(d) || done.contains(d))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            waves.push(
                names
                    .iter()
                    .filter(|n| !done.contains(n))
                    .cloned()
                    .collect(),
            );
            break;
        }
        for n in &ready {
            if let Some(n) = present.get(n) {
                done.insert(n);
            }
        }
        waves.push(ready);
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(body: serde_json::Value) -> ContainerSpec {
        crate::container::tests::example("t", body)
    }

    #[test]
    fn dependencies_come_from_the_spec() {
        let d = of(&spec(json!({
            "HostConfig": {
                "NetworkMode": "container:a", "IpcMode": "container:b", "PidMode": "host",
                "VolumesFrom": ["c:ro", "d"], "Links": ["/e:alias"],
            },
            "Labels": {AFTER_LABEL: "f, g,,"},
        })));
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(d.namespaces, set(&["a", "b"]));
        assert_eq!(d.others, set(&["c", "d", "e"]));
        assert_eq!(d.after, set(&["f", "g"]));
        assert_eq!(
            of(&spec(json!({"HostConfig": {"NetworkMode": "none"}}))),
            Deps::default()
        );
    }

    /// A container the engine lists, with the record its ownership label carries.
    fn engine_ctr(name: &str, record: Option<&str>, network_mode: &str) -> Container {
        let mut labels = BTreeMap::new();
        if let Some(text) = record {
            labels.insert(
                crate::container::OWNER_LABEL.to_string(),
                crate::container::owner_label(text),
            );
        }
        Container {
            id: format!("id-{name}"),
            name: name.to_string(),
            labels,
            network_mode: network_mode.into(),
            ..Container::default()
        }
    }

    /// What a container uses comes from the engine's facts: the network namespace's owner
    /// (named by ID or by name), the `after` label, and what its record names; the files
    /// and variables a record names do not exist here, and change nothing of it.
    #[test]
    fn dependencies_come_from_the_engine_facts() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let record = "--env-file /nonexistent/env -e HOME --label-file /nonexistent/labels \
                      --security-opt seccomp=/nonexistent/profile.json \
                      --ipc container:q --volumes-from v busybox sleep 9";
        let mut c = engine_ctr("c", Some(record), "container:id-a");
        c.labels.insert(AFTER_LABEL.into(), "z".into());
        let actual = [
            engine_ctr("a", None, "none"),
            engine_ctr("b", None, "none"),
            c.clone(),
        ];
        let d = of_container(&c, &actual);
        assert_eq!(d.namespaces, set(&["a", "q"]));
        assert_eq!(d.others, set(&["v"]));
        assert_eq!(d.after, set(&["z"]));
        // By name, as `docker run --network container:b` leaves it.
        let by_name = engine_ctr("u", None, "container:b");
        let d = of_container(&by_name, &actual);
        assert_eq!(d.namespaces, set(&["b"]));
        // A record we did not write (or none) says nothing; an owner that is gone neither.
        let foreign = engine_ctr("f", None, "container:id-gone");
        assert_eq!(of_container(&foreign, &actual), Deps::default());
    }

    /// Facts are read from a record alone: every file it names reads the same and every
    /// variable as unset, whatever this host has.
    #[test]
    fn facts_are_read_without_the_host() {
        use container::Host;
        assert_eq!(
            FactsOnly.read_file(Path::new("/etc/hostname")).ok(),
            Some("{}".to_string())
        );
        assert_eq!(FactsOnly.env("PATH"), None);
    }

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges
            .iter()
            .map(|(n, ds)| (n.to_string(), ds.iter().map(|d| d.to_string()).collect()))
            .collect()
    }

    #[test]
    fn cycles_and_waves() {
        let g = graph(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["b", "x"]),
            ("p", &["q"]),
            ("q", &["p"]),
        ]);
        let on: Vec<String> = on_cycles(&g).into_iter().collect();
        assert_eq!(on, ["p", "q"]);
        let names: Vec<String> = ["c", "b", "a", "z"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            waves(&names, &g),
            vec![
                vec!["a".to_string(), "z".into()],
                vec!["b".into()],
                vec!["c".into()]
            ]
        );
        let names: Vec<String> = ["p", "q", "a"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            waves(&names, &g),
            vec![vec!["a".to_string()], vec!["p".into(), "q".into()]]
        );
    }
}
