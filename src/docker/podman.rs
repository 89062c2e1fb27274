//! Podman's Docker-compatible API, where it differs from Docker's in what a run reads: its
//! compat container list reports neither health (no `(healthy)` in `Status`) nor the network
//! mode (no `HostConfig`). So on Podman the list is read from Podman's own list call, whose
//! `Status` is the health and whose times are numbers, and the network mode of the few
//! containers that share a network namespace is read by inspecting them. Pure decoding; the
//! engine client chooses the list by the ping's `Libpod-Api-Version` header.

use super::reply::{TOOL_LABELS, primary_name};
use super::{Container, Health, Since, Span};
use crate::btree::IntoTree;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Podman's own list of every container, with each one's namespaces (their inode numbers).
pub const LIST_PATH: &str = "/libpod/containers/json?all=true&namespace=true";

/// The header with which a Podman service answers every call, `/_ping` included.
pub const HEADER: &str = "libpod-api-version";

/// One entry of Podman's list: the container, and the inode of its network namespace (known
/// while it runs) to find the containers that share one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The container as the planner sees it (`network_mode` still empty).
    pub container: Container,
    /// The network namespace's inode number, while it runs.
    pub net_namespace: Option<String>,
}

/// `GET /libpod/containers/json` → every container, at `now` (seconds since the epoch).
pub fn containers_from(body: impl std::io::Read, now: i64) -> Result<Vec<Listed>, String> {
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "Id")]
        id: String,
        #[serde(rename = "Names", default)]
        names: Option<Vec<String>>,
        #[serde(rename = "Labels", default)]
        labels: Option<BTreeMap<String, String>>,
        #[serde(rename = "State", default)]
        state: String,
        #[serde(rename = "ImageID", default)]
        image_id: String,
        /// The healthcheck's status (empty without one), not Docker's `Up 3 seconds`.
        #[serde(rename = "Status", default)]
        status: String,
        #[serde(rename = "StartedAt", default)]
        started_at: i64,
        #[serde(rename = "ExitedAt", default)]
        exited_at: i64,
        #[serde(rename = "ExitCode", default)]
        exit_code: i64,
        #[serde(rename = "Namespaces", default)]
        namespaces: Option<BTreeMap<String, String>>,
        /// The networks it is attached to, by name (libpod lists them as names).
        #[serde(rename = "Networks", default)]
        networks: Option<Vec<String>>,
    }
    let list: Vec<Entry> = serde_json::from_reader(std::io::BufReader::new(body))
        .map_err(|e| format!("unparsable Podman container list: {e}"))?;
    Ok(list
        .into_iter()
        .map(|e| {
            let since = match e.state.as_str() {
                "running" | "paused" => up_for(now, e.started_at).map(Since::Up),
                "exited" | "stopped" => {
                    up_for(now, e.exited_at).map(|ago| Since::Exited(e.exit_code, ago))
                }
                _ => None,
            };
            Listed {
                net_namespace: e
                    .namespaces
                    .and_then(|mut n| n.remove("Net"))
                    .filter(|n| !n.is_empty()),
                container: Container {
                    name: primary_name(e.names.as_deref().unwrap_or_default()),
                    id: e.id,
                    labels: e
                        .labels
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|(k, _)| k.starts_with(TOOL_LABELS))
                        .into_map(),
                    // Podman's words for Docker's `exited` and `created`.
                    state: match e.state.as_str() {
                        "stopped" => "exited".to_string(),
                        "configured" | "initialized" => "created".to_string(),
                        _ => e.state,
                    },
                    // Docker's list and image inspect name image IDs with their digest
                    // algorithm; Podman's own list leaves it out.
                    image_id: match e.image_id.contains(':') || e.image_id.is_empty() {
                        true => e.image_id,
                        false => format!("sha256:{}", e.image_id),
                    },
                    health: Health::parse(&e.status),
                    network_mode: String::new(),
                    networks: e.networks.unwrap_or_default(),
                    since: since.unwrap_or_default(),
                },
            }
        })
        .collect())
}

/// How long since `at` (seconds since the epoch; Go's zero time, far before 1970, when it
/// never happened), to the second.
fn up_for(now: i64, at: i64) -> Option<Span> {
    if at <= 0 {
        return None;
    }
    let secs = u64::try_from(now.saturating_sub(at)).unwrap_or(0);
    Some(Span {
        min: Duration::from_secs(secs),
        max: Duration::from_secs(secs + 1),
    })
}

/// The positions of the containers that share their network namespace with another: the
/// only ones whose `container:<ID>` network mode a run needs (to order removals), read by
/// inspecting them. Empty when no namespace is shared, so a no-op stays two calls.
pub fn sharing_a_network(listed: &[Listed]) -> Vec<usize> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for ns in listed.iter().filter_map(|l| l.net_namespace.as_deref()) {
        *count.entry(ns).or_default() += 1;
    }
    listed
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            l.net_namespace
                .as_deref()
                .is_some_and(|ns| count.get(ns).is_some_and(|n| *n > 1))
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_209_800;

    #[test]
    fn podman_list() {
        let body = br#"[
          {"Id":"aaa","Names":["web"],"State":"running","Status":"","ImageID":"7dba",
           "Labels":{"docker-dns-provision.command":"ZG9ja2Vy","ddp-test.content":"x"},
           "StartedAt":1796209706,"ExitedAt":-62135596800,"ExitCode":0,
           "Namespaces":{"Net":"4026532188","Pidns":"1"}},
          {"Id":"bbb","Names":["side"],"State":"running","Status":"starting",
           "StartedAt":1796209790,"ExitedAt":-62135596800,"Namespaces":{"Net":"4026532188"}},
          {"Id":"ccc","Names":["h"],"State":"running","Status":"unhealthy",
           "StartedAt":1796209000,"Namespaces":{"Net":"4026532187"}},
          {"Id":"ddd","Names":["job"],"State":"exited","Status":"","ExitCode":3,
           "StartedAt":1796209703,"ExitedAt":1796209703,"Namespaces":{}},
          {"Id":"eee","Names":["new"],"State":"created","Status":"","ImageID":"sha256:ab",
           "StartedAt":-62135596800,"ExitedAt":-62135596800,"Namespaces":{}},
          {"Id":"fff","Names":null,"State":"stopped","Labels":null,"ExitCode":0,"ExitedAt":1796209799},
          {"Id":"ggg","Names":["init"],"State":"initialized"}
        ]"#;
        let got = containers_from(&body[..], NOW).unwrap();
        let span = |s: u64| Span {
            min: Duration::from_secs(s),
            max: Duration::from_secs(s + 1),
        };
        let brief: Vec<_> = got
            .iter()
            .map(|l| {
                let c = &l.container;
                (
                    c.id.as_str(),
                    c.name.as_str(),
                    c.state.as_str(),
                    c.health,
                    c.since,
                )
            })
            .collect();
        assert_eq!(
            brief,
            [
                ("aaa", "web", "running", None, Since::Up(span(94))),
                (
                    "bbb",
                    "side",
                    "running",
                    Some(Health::Starting),
                    Since::Up(span(10))
                ),
                (
                    "ccc",
                    "h",
                    "running",
                    Some(Health::Unhealthy),
                    Since::Up(span(800))
                ),
                ("ddd", "job", "exited", None, Since::Exited(3, span(97))),
                ("eee", "new", "created", None, Since::Unknown),
                ("fff", "", "exited", None, Since::Exited(0, span(1))),
                ("ggg", "init", "created", None, Since::Unknown),
            ]
        );
        assert_eq!(got[0].container.owner(), Some("ZG9ja2Vy"));
        assert_eq!(got[0].container.labels.len(), 1, "only the tool's labels");
        assert_eq!(got[0].container.image_id, "sha256:7dba");
        assert_eq!(got[4].container.image_id, "sha256:ab");
        assert_eq!(got[0].net_namespace.as_deref(), Some("4026532188"));
        assert_eq!(got[3].net_namespace, None);
        assert_eq!(sharing_a_network(&got), [0, 1]);
        assert!(containers_from(&b"{"[..], NOW).is_err());
    }

    #[test]
    fn no_shared_namespace_no_inspect() {
        let listed = |ns: &[Option<&str>]| -> Vec<Listed> {
            ns.iter()
                .map(|n| Listed {
                    container: Container::default(),
                    net_namespace: n.map(str::to_string),
                })
                .collect()
        };
        assert!(sharing_a_network(&listed(&[Some("1"), Some("2"), None, None])).is_empty());
        assert_eq!(
            sharing_a_network(&listed(&[
                Some("1"),
                Some("2"),
                Some("1"),
                Some("2"),
                Some("3")
            ])),
            [0, 1, 2, 3]
        );
    }
}
