//! What DNS says this host should run: record names, the inheritance walk, list and command
//! lookups, joining of character-strings. Pure logic over a [`TxtSource`]; never talks to Docker.

use crate::dns::TxtSource;
use crate::spec::ContainerSpec;

/// The host's desired state as DNS states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The host name the records were looked up for.
    pub host: String,
    /// The container list and each container's record.
    pub list: HostList,
}

/// The container list of a whole host.
#[derive(Debug, Clone, PartialEq)]
pub enum HostList {
    /// The list was found: these containers, each with its own state.
    Listed(Vec<Wanted>),
    /// The list is absent at every level: nothing is configured for this host.
    NotConfigured,
    /// Some level could not be read: never act on a partial list.
    Unavailable(String),
}

/// One container DNS names, and what its record says.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    /// The container name as listed.
    pub name: String,
    /// What its record established.
    pub state: WantedState,
}

/// The outcome of reading one container's record.
#[derive(Debug, Clone, PartialEq)]
pub enum WantedState {
    /// A valid record: run this.
    Spec {
        /// The record name that supplied the text.
        record: String,
        /// The parsed spec (it holds the text).
        spec: Box<ContainerSpec>,
    },
    /// The record is absent at every level: launch disabled, remove the container.
    Disabled,
    /// The name or the record is unusable; its container is left untouched.
    Invalid {
        /// The record name, when the error is in a record rather than in the list.
        record: Option<String>,
        /// The offending text, when there is one.
        text: Option<String>,
        /// What is wrong.
        why: String,
    },
    /// Some level could not be read; its container is left untouched.
    Unknown(String),
}

/// Read the desired state of `host` from `source`.
pub fn read(
    _source: &dyn TxtSource,
    host: &str,
    _prefix: &str,
    _inherit: bool,
    _parse: &(dyn Fn(&str) -> Result<ContainerSpec, String> + Sync),
) -> Desired {
    Desired {
        host: host.to_string(),
        list: HostList::Unavailable("not implemented".into()),
    }
}
