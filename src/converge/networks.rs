//! The networks' part of a run: their records (read after the container list), the engine's
//! networks (listed only when some network concerns the run, so a host that declares none
//! pays no engine call), their plan, and the container records that name a network that
//! will not be there (failed alone, before anything is created).

use crate::btree::IntoTree;
use crate::cli::Options;
use crate::desired::{Desired, HostList};
use crate::dns::TxtSource;
use crate::docker::{Container, Engine};
use crate::exit::Code;
use crate::network::desired::{self, Networks};
use crate::network::plan::{self, NetPlan};
use crate::walk::Walk;
use std::collections::BTreeSet;

/// The records of the host's networks; nothing is asked while the container list cannot
/// be used (nothing converges then).
pub fn read(o: &Options, source: &dyn TxtSource, walk: &Walk, containers: &Desired) -> Networks {
    if let HostList::Unavailable(_) = containers.list {
        return Networks::default();
    }
    let n = desired::read(
        source,
        walk,
        &o.network_prefix,
        o.inherit,
        o.forbid_privileged,
    );
    if let desired::NetList::Unavailable(why) = &n.list {
        log::error!("the network list is unavailable: {why}");
    }
    n
}

/// The networks' side of one run, planned.
pub struct NetRun {
    /// What to do to them.
    pub plan: NetPlan,
    /// The managed networks before the run (the state file's, and the labelled ones listed).
    pub managed: BTreeSet<String>,
}

/// List the engine's networks if any concern this run, plan them, and mark the container
/// records that name a network that will not be there. Returns the run and the desired
/// state the containers are planned from.
pub fn prepare(
    o: &Options,
    engine: &Engine,
    nets: &Networks,
    desired: &Desired,
    containers: &[Container],
    remembered: &BTreeSet<String>,
    converging: bool,
) -> (NetRun, Desired) {
    let mut code = Code::Ok;
    let actual = if converging && plan::needs_list(nets, remembered, desired, containers) {
        match engine.list_networks() {
            Ok(list) => Some(list),
            Err(e) => {
                log::error!("Docker engine: listing the networks: {e}");
                code = Code::Unavailable;
                None
            }
        }
    } else {
        None
    };
    let mut net_plan = match converging {
        true => plan::make(
            nets,
            actual.as_deref(),
            containers,
            plan::Settings {
                no_adopt: o.no_adopt,
                recreate: o.recreate_networks,
            },
        ),
        false => NetPlan::default(),
    };
    net_plan.code = net_plan.code.worst(code);
    let desired = match converging {
        true => plan::check_containers(desired, nets, &net_plan, actual.as_deref(), containers),
        false => desired.clone(),
    };
    let mut managed = remembered.clone();
    if let Some(a) = &actual {
        // The list is the truth: what it lacks is gone, whatever the state remembered.
        managed = a
            .iter()
            .filter(|n| n.owner().is_some())
            .map(|n| n.name.clone())
            .into_set();
    }
    (
        NetRun {
            plan: net_plan,
            managed,
        },
        desired,
    )
}
