//! What DNS says about a host's networks: `<network-prefix>.<level>` lists them (with the
//! container list's levels, inheritance and walk bound) and `<name>.<network-prefix>.<level>`
//! holds each one's `docker network create` options. Pure logic over a [`TxtSource`].

use super::{NetworkSpec, valid_network_name};
use crate::desired::{ListOutcome, RecordState, read_list, read_records};
use crate::dns::TxtSource;
use crate::walk::Walk;
use std::sync::Arc;

/// The host's networks as DNS states them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Networks {
    /// The list record names that were present.
    pub list_records: Vec<String>,
    /// The networks listed, or why there are none.
    pub list: NetList,
}

/// The network list of a whole host.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum NetList {
    /// These networks, each with its record's outcome.
    Listed(Vec<WantedNetwork>),
    /// No list at any level, or one that names nothing: no network is declared, and the
    /// managed ones go.
    #[default]
    None,
    /// Some level could not be read: no network is created or removed.
    Unavailable(String),
}

/// One network the list names.
#[derive(Debug, Clone, PartialEq)]
pub struct WantedNetwork {
    /// Its name.
    pub name: String,
    /// What its record established.
    pub state: NetState,
}

/// The outcome of reading one network's record.
#[derive(Debug, Clone, PartialEq)]
pub enum NetState {
    /// A valid record.
    Spec {
        /// The record name that supplied the text.
        record: String,
        /// The parsed record.
        spec: Arc<NetworkSpec>,
    },
    /// No record at any level: the network is not wanted (a managed one is removed).
    Disabled,
    /// The name or the record is unusable; the network is left as it is.
    Invalid {
        /// The record name, when the error is in a record.
        record: Option<String>,
        /// What is wrong.
        why: String,
    },
    /// Some level could not be read; the network is left as it is.
    Unknown(String),
}

impl Networks {
    /// The names DNS declares (whatever their record's outcome).
    pub fn names(&self) -> Vec<&str> {
        match &self.list {
            NetList::Listed(ws) => ws.iter().map(|w| w.name.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether any level has a network list at all.
    pub fn declared(&self) -> bool {
        !self.list_records.is_empty()
    }

    /// The exit code the records alone call for.
    pub fn code(&self) -> crate::exit::Code {
        use crate::exit::Code;
        match &self.list {
            NetList::Unavailable(_) => Code::TempFail,
            NetList::None => Code::Ok,
            NetList::Listed(ws) => ws.iter().fold(Code::Ok, |c, w| match w.state {
                NetState::Invalid { .. } => c.worst(Code::DataError),
                NetState::Unknown(_) => c.worst(Code::TempFail),
                _ => c,
            }),
        }
    }
}

/// Read the walk's host's networks from `source`, asking only the walk's levels.
pub fn read(
    source: &dyn TxtSource,
    walk: &Walk,
    prefix: &str,
    inherit: bool,
    forbid_privileged: bool,
) -> Networks {
    let levels = &walk.levels;
    let list_names: Vec<String> = levels.iter().map(|l| format!("{prefix}.{l}")).collect();
    let (list_records, outcome) = read_list(source, &list_names, inherit);
    let list = match outcome {
        ListOutcome::Names(names) => {
            let states = read_records(
                source,
                &names,
                (prefix, levels),
                valid_network_name,
                |record, rrs| from_record(record, rrs, forbid_privileged),
            );
            NetList::Listed(
                names
                    .into_iter()
                    .zip(states)
                    .map(|(name, state)| WantedNetwork { name, state })
                    .collect(),
            )
        }
        ListOutcome::NotConfigured => NetList::None,
        ListOutcome::Unavailable(why) => NetList::Unavailable(why),
    };
    Networks { list_records, list }
}

impl RecordState for NetState {
    const KIND: &'static str = "network";
    fn invalid(record: Option<String>, why: String) -> Self {
        NetState::Invalid { record, why }
    }
    fn disabled() -> Self {
        NetState::Disabled
    }
    fn unknown(why: String) -> Self {
        NetState::Unknown(why)
    }
}

fn from_record(record: String, rrs: Vec<Vec<Vec<u8>>>, forbid_privileged: bool) -> NetState {
    if rrs.len() > 1 {
        return NetState::Invalid {
            why: format!(
                "ambiguous: {} TXT records at {record} (an RRset has no order, so they cannot be joined)",
                rrs.len()
            ),
            record: Some(record),
        };
    }
    let joined: Vec<u8> = rrs.into_iter().flatten().flatten().collect();
    let parsed = String::from_utf8(joined)
        .map_err(|e| {
            format!(
                "the text is not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            )
        })
        .and_then(|text| super::parse(&text, forbid_privileged));
    match parsed {
        Ok(spec) => NetState::Spec {
            record,
            spec: Arc::new(spec),
        },
        Err(why) => NetState::Invalid {
            record: Some(record),
            why,
        },
    }
}
