//! Lint's view of a host's networks: its network records read as its run reads them, and the
//! container records that name a network no network list of the host declares (offline,
//! lint cannot see whether the host has it already: the run fails that container unless it
//! does).

use super::{Finding, Kind, Severity, first_line};
use crate::desired::{Desired, HostList, WantedState};
use crate::dns::records_file::RecordsFile;
use crate::network::desired::{self, NetList, NetState};
use crate::network::used_by;
use crate::walk::Walk;
use std::collections::BTreeSet;

/// How network records are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// `--network-prefix`.
    pub prefix: String,
    /// `--forbid-privileged`.
    pub forbid_privileged: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            prefix: crate::network::DEFAULT_PREFIX.to_string(),
            forbid_privileged: false,
        }
    }
}

/// The findings of one host's networks: invalid or missing network records, and containers
/// that name an undeclared network.
pub fn findings(
    file: &RecordsFile,
    walk: &Walk,
    d: &Desired,
    rules: &Rules,
    inherit: bool,
    out: &mut Vec<Finding>,
) {
    let nets = desired::read(file, walk, &rules.prefix, inherit, rules.forbid_privileged);
    let mut add = |line: usize, name: &str, kind: Kind, what: String| {
        out.push(Finding {
            line,
            hosts: vec![d.host.clone()],
            name: name.to_string(),
            severity: Severity::Error,
            kind,
            what,
        });
    };
    let list_line = first_line(file, &nets.list_records);
    let mut usable: BTreeSet<&str> = BTreeSet::new();
    if let NetList::Listed(ws) = &nets.list {
        for w in ws {
            match &w.state {
                NetState::Spec { .. } => {
                    usable.insert(&w.name);
                }
                NetState::Disabled => add(
                    list_line,
                    &w.name,
                    Kind::Disabled,
                    "network listed with no record at any level: no network is created, and a managed one of this name is removed".into(),
                ),
                NetState::Invalid { record, why } => {
                    let line = record
                        .as_ref()
                        .and_then(|r| file.lines(r).first().copied())
                        .unwrap_or(list_line);
                    let kind = match record {
                        Some(_) => Kind::InvalidRecord,
                        None => Kind::InvalidName,
                    };
                    add(line, &w.name, kind, format!("network: {why}"));
                }
                NetState::Unknown(why) => {
                    add(list_line, &w.name, Kind::HostFails, format!("network record unavailable: {why}"))
                }
            }
        }
    }
    let HostList::Listed(ws) = &d.list else {
        return;
    };
    for w in ws {
        let WantedState::Spec { record, spec } = &w.state else {
            continue;
        };
        for n in used_by(spec)
            .iter()
            .filter(|n| !usable.contains(n.as_str()))
        {
            add(
                file.lines(record).first().copied().unwrap_or(0),
                &w.name,
                Kind::UndeclaredNetwork,
                format!(
                    "names the network {n}, which no valid network record of this host declares ({}.{}): the container fails (exit 65) unless the host has that network already",
                    rules.prefix, d.host
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{Kind, lint_with_networks};
    use crate::walk::Bound;

    fn parse(text: &str) -> Result<crate::container::ContainerSpec, String> {
        crate::container::parse(text, &crate::container::SystemHost).map_err(|e| e.to_string())
    }

    /// (line, name, kind) of each finding.
    fn found(records: &str, forbid_privileged: bool) -> Vec<(usize, String, &'static str)> {
        let f = crate::dns::records_file::RecordsFile::parse(records.as_bytes()).unwrap();
        let rules = super::Rules {
            prefix: "nets.d".into(),
            forbid_privileged,
        };
        let r = lint_with_networks(
            &f,
            "containers.docker",
            false,
            &Bound::PublicSuffix,
            &parse,
            &rules,
        );
        r.findings
            .iter()
            .map(|f| (f.line, f.name.clone(), f.kind.as_str()))
            .collect()
    }

    #[test]
    fn network_records_and_the_networks_containers_name_are_checked() {
        let records = "txt-record=containers.docker.h.x.test,web db\n\
            txt-record=web.containers.docker.h.x.test,--network appnet img\n\
            txt-record=db.containers.docker.h.x.test,--network elsewhere img\n\
            txt-record=nets.d.h.x.test,appnet broken nothing -x\n\
            txt-record=appnet.nets.d.h.x.test,--subnet 10.8.0.0/24 -o com.docker.network.bridge.name=br0\n\
            txt-record=broken.nets.d.h.x.test,--gateway 10.0.0.1\n";
        assert_eq!(
            found(records, false),
            [
                (3, "db".to_string(), Kind::UndeclaredNetwork.as_str()),
                (4, "-x".to_string(), "invalid-name"),
                (4, "nothing".to_string(), "disabled"),
                (6, "broken".to_string(), "invalid-record"),
            ]
        );
        // Under --forbid-privileged the bridge name is refused, and web's network with it.
        let strict = found(records, true);
        assert!(
            strict.contains(&(5, "appnet".to_string(), "invalid-record")),
            "{strict:?}"
        );
        assert!(
            strict.contains(&(2, "web".to_string(), "undeclared-network")),
            "{strict:?}"
        );
        // A host that declares no network and names none has no network finding.
        let plain = "txt-record=containers.docker.h.x.test,web\n\
            txt-record=web.containers.docker.h.x.test,--network host img\n";
        assert!(found(plain, true).is_empty());
    }
}
