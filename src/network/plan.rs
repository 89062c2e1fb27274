//! Declared networks × the engine's networks → what to create, keep, recreate, remove or
//! leave, each with its reason; and which container records name a network that will not
//! be there. Pure. Networks are created before the containers (apply's first phase) and
//! removed after them (its last), and never while anything, managed or not, is attached.

use super::desired::{NetList, NetState, Networks};
use super::{NetworkSpec, used_by};
use crate::btree::IntoTree;
use crate::desired::{Desired, HostList, WantedState};
use crate::docker::{Container, Network};
use crate::exit::Code;
use crate::plan::{Action, Plan};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One thing to do (or not do) to one network.
#[derive(Debug, Clone, PartialEq)]
pub enum NetAction {
    /// Not there: create it.
    Create { spec: Arc<NetworkSpec> },
    /// Ours and unchanged.
    Keep { id: String },
    /// Changed (or adopted): remove and create it again; what is attached (`attached`,
    /// container names) is disconnected first and connected again after.
    Recreate {
        id: String,
        spec: Arc<NetworkSpec>,
        attached: Vec<String>,
        /// The old record's network, to go back to if the new one fails (`None` when
        /// nothing is attached: there is nothing to go back for).
        old: Option<Arc<NetworkSpec>>,
    },
    /// Ours and no longer wanted.
    Remove { id: String },
    /// Left as it is on purpose.
    Leave { id: Option<String> },
}

impl NetAction {
    /// The verb a person reads.
    pub fn verb(&self) -> &'static str {
        match self {
            NetAction::Create { .. } => "create",
            NetAction::Keep { .. } => "keep",
            NetAction::Recreate { .. } => "recreate",
            NetAction::Remove { .. } => "remove",
            NetAction::Leave { .. } => "leave",
        }
    }
}

/// An action on a named network, with its reason.
#[derive(Debug, Clone, PartialEq)]
pub struct NetStep {
    /// The network's name.
    pub name: String,
    /// What to do.
    pub action: NetAction,
    /// Why, in words.
    pub reason: String,
}

/// The networks' plan.
#[derive(Debug, Clone, PartialEq)]
pub struct NetPlan {
    /// One step per network concerned, by name.
    pub steps: Vec<NetStep>,
    /// The exit code the networks' records and conflicts call for.
    pub code: Code,
}

impl Default for NetPlan {
    fn default() -> Self {
        NetPlan {
            steps: Vec::new(),
            code: Code::Ok,
        }
    }
}

/// Planner switches from the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    /// Never take over a network that lacks our label.
    pub no_adopt: bool,
    /// `--recreate-networks`: a changed network that containers are attached to is
    /// recreated (they are disconnected and connected again) instead of left.
    pub recreate: bool,
}

fn step(name: &str, action: NetAction, reason: impl Into<String>) -> NetStep {
    NetStep {
        name: name.to_string(),
        action,
        reason: reason.into(),
    }
}

/// Whether a run must list the engine's networks: DNS declares some, the state remembers
/// managed ones (they may have to go), or a listed container names a network that no
/// container is attached to (whether it exists is known only from the list). Otherwise a
/// run costs no network call.
pub fn needs_list(
    nets: &Networks,
    remembered: &BTreeSet<String>,
    desired: &Desired,
    containers: &[Container],
) -> bool {
    if nets.declared() || !remembered.is_empty() {
        return true;
    }
    let seen: BTreeSet<&str> = crate::btree::set(
        containers
            .iter()
            .flat_map(|c| c.networks.iter().map(String::as_str)),
    );
    named(desired)
        .values()
        .flatten()
        .any(|n| !seen.contains(n.as_str()))
}

/// Each listed container's record → the user-defined networks it names.
fn named(desired: &Desired) -> BTreeMap<String, Vec<String>> {
    let HostList::Listed(ws) = &desired.list else {
        return BTreeMap::new();
    };
    ws.iter()
        .filter_map(|w| match &w.state {
            WantedState::Spec { spec, .. } => Some((w.name.clone(), used_by(spec))),
            _ => None,
        })
        .filter(|(_, n)| !n.is_empty())
        .into_map()
}

/// Declared × actual → the networks' steps. `actual` is `None` when the run did not list
/// the engine's networks ([`needs_list`] said none concern it).
pub fn make(
    nets: &Networks,
    actual: Option<&[Network]>,
    containers: &[Container],
    settings: Settings,
) -> NetPlan {
    let mut plan = NetPlan::default();
    let Some(actual) = actual else {
        return plan;
    };
    let wanted = match &nets.list {
        NetList::Unavailable(_) => {
            plan.code = Code::TempFail;
            return plan;
        }
        NetList::None => &[][..],
        NetList::Listed(ws) => &ws[..],
    };
    let by_name: BTreeMap<&str, &Network> =
        crate::btree::map(actual.iter().map(|n| (n.name.as_str(), n)));
    let attached = |name: &str| -> Vec<String> {
        containers
            .iter()
            .filter(|c| c.networks.iter().any(|n| n == name))
            .map(|c| c.name.clone())
            .collect()
    };
    for w in wanted {
        let n = w.name.as_str();
        let here = by_name.get(n).copied();
        let s = match &w.state {
            NetState::Spec { record, spec } => {
                spec_step(n, record, spec, here, attached(n), settings, &mut plan.code)
            }
            NetState::Disabled => match here {
                Some(x) if x.owner().is_none() && settings.no_adopt => step(
                    n,
                    NetAction::Leave {
                        id: Some(x.id.clone()),
                    },
                    "no record at any level, but the network lacks our label and --no-adopt is set",
                ),
                Some(x) => step(
                    n,
                    NetAction::Remove { id: x.id.clone() },
                    "no record at any level",
                ),
                None => step(
                    n,
                    NetAction::Leave { id: None },
                    "no record at any level, no network",
                ),
            },
            NetState::Invalid { why, .. } => {
                plan.code = plan.code.worst(Code::DataError);
                step(
                    n,
                    NetAction::Leave {
                        id: here.map(|x| x.id.clone()),
                    },
                    format!("invalid record, left as it is: {why}"),
                )
            }
            NetState::Unknown(why) => {
                plan.code = plan.code.worst(Code::TempFail);
                step(
                    n,
                    NetAction::Leave {
                        id: here.map(|x| x.id.clone()),
                    },
                    format!("record unavailable, left as it is: {why}"),
                )
            }
        };
        plan.steps.push(s);
    }
    unlisted_steps(nets, actual, &mut plan);
    plan
}

/// A declared network with a valid record: created, kept, or (changed, or unlabelled and
/// adopted) recreated when nothing is attached or `--recreate-networks` is set; else left.
fn spec_step(
    n: &str,
    record: &str,
    spec: &Arc<NetworkSpec>,
    here: Option<&Network>,
    attached: Vec<String>,
    settings: Settings,
    code: &mut Code,
) -> NetStep {
    let Some(x) = here else {
        return step(
            n,
            NetAction::Create { spec: spec.clone() },
            format!("declared, not present; record {record}"),
        );
    };
    let id = x.id.clone();
    let why = match x.owner() {
        owner if owner == spec.owner_label() => {
            return step(n, NetAction::Keep { id }, "up to date");
        }
        None if settings.no_adopt => {
            *code = code.worst(Code::DataError);
            return step(
                n,
                NetAction::Leave { id: Some(id) },
                "conflict: a network of this name exists without our label and --no-adopt is set",
            );
        }
        None => format!("adopting a network without our label; record {record}"),
        Some(_) => format!("record {record} changed"),
    };
    if attached.is_empty() {
        return step(
            n,
            NetAction::Recreate {
                id,
                spec: spec.clone(),
                attached,
                old: None,
            },
            format!("{why}; nothing is attached"),
        );
    }
    let who = attached.join(", ");
    // The way back, should the replacement fail: the old record's network, or for one
    // without the label, the network as the engine describes it (what `export` writes);
    // with neither, a network with anything attached is never taken over.
    let old = match x.owner() {
        Some(owner) => crate::container::record_text(owner),
        None => x.described.clone(),
    }
    .and_then(|text| super::parse(&text, false).ok());
    if let Some(old) = old.filter(|_| settings.recreate) {
        return step(
            n,
            NetAction::Recreate {
                id,
                spec: spec.clone(),
                attached,
                old: Some(Arc::new(old)),
            },
            format!("{why}; --recreate-networks: disconnects {who} and connects them again"),
        );
    }
    *code = code.worst(Code::DataError);
    step(
        n,
        NetAction::Leave { id: Some(id) },
        format!(
            "{why}, but left as it is: recreating it would disconnect {who} (it is recreated once nothing is attached, or with --recreate-networks)"
        ),
    )
}

/// Ours, and DNS (authoritatively) no longer declares it: removed, unless the list has an
/// entry that is not a name (it may be a typo of this one).
fn unlisted_steps(nets: &Networks, actual: &[Network], plan: &mut NetPlan) {
    let listed: BTreeSet<&str> = crate::btree::set(nets.names());
    let typo = match &nets.list {
        NetList::Listed(ws) => ws
            .iter()
            .find(|w| matches!(w.state, NetState::Invalid { record: None, .. })),
        _ => None,
    };
    for x in actual {
        if x.owner().is_none() || listed.contains(x.name.as_str()) {
            continue;
        }
        plan.steps.push(match typo {
            Some(t) => step(
                &x.name,
                NetAction::Leave { id: Some(x.id.clone()) },
                format!(
                    "not declared, but left as it is while the list has an invalid entry ('{}'); fix the list",
                    t.name.escape_debug()
                ),
            ),
            None => step(
                &x.name,
                NetAction::Remove { id: x.id.clone() },
                "managed by us and no longer declared",
            ),
        });
    }
}

/// The networks that will be there for the containers: present and not removed, or created.
fn available(
    plan: &NetPlan,
    actual: Option<&[Network]>,
    containers: &[Container],
) -> BTreeSet<String> {
    let mut there: BTreeSet<String> = match actual {
        Some(a) => a.iter().map(|n| n.name.clone()).into_set(),
        None => containers
            .iter()
            .flat_map(|c| c.networks.iter().cloned())
            .into_set(),
    };
    for s in &plan.steps {
        match s.action {
            NetAction::Create { .. } => {
                there.insert(s.name.clone());
            }
            NetAction::Remove { .. } => {
                there.remove(&s.name);
            }
            _ => {}
        }
    }
    there
}

/// A container record that names a network neither declared nor present fails alone,
/// before anything is created: invalid (or unknown, while the network's record or list
/// cannot be read), naming the network. Returns the desired state with those marked.
pub fn check_containers(
    desired: &Desired,
    nets: &Networks,
    plan: &NetPlan,
    actual: Option<&[Network]>,
    containers: &[Container],
) -> Desired {
    let mut out = desired.clone();
    let HostList::Listed(ws) = &mut out.list else {
        return out;
    };
    // Removals are settled after the container plan: a network a record names stays.
    let mut there = available(plan, actual, containers);
    there.extend(
        plan.steps
            .iter()
            .filter(|s| matches!(s.action, NetAction::Remove { .. }))
            .map(|s| s.name.clone()),
    );
    let unreadable = |n: &str| match &nets.list {
        NetList::Unavailable(why) => Some(why.clone()),
        NetList::Listed(l) => l.iter().find(|w| w.name == n).and_then(|w| match &w.state {
            NetState::Unknown(why) => Some(why.clone()),
            _ => None,
        }),
        NetList::None => None,
    };
    for w in ws.iter_mut() {
        let WantedState::Spec { record, spec } = &w.state else {
            continue;
        };
        let Some(missing) = used_by(spec).into_iter().find(|n| !there.contains(n)) else {
            continue;
        };
        w.state = match unreadable(&missing) {
            Some(why) => WantedState::Unknown(format!(
                "network {missing}: its record could not be read: {why}"
            )),
            None => WantedState::Invalid {
                record: Some(record.clone()),
                text: Some(spec.text.clone()),
                why: format!(
                    "names the network {missing}, which is neither declared in DNS nor present on the engine"
                ),
            },
        };
    }
    out
}

/// Once the containers' plan is known: a network to be removed stays while anything would
/// still be attached after the containers' steps (a container that stays, or one a record
/// creates on it), with the reason.
pub fn settle(plan: &mut NetPlan, containers_plan: &Plan, containers: &[Container]) {
    let going: BTreeSet<&str> =
        crate::btree::set(
            containers_plan
                .steps
                .iter()
                .filter_map(|s| match &s.action {
                    Action::Remove { existing }
                    | Action::Discard { existing }
                    | Action::Replace { existing, .. } => Some(existing.id.as_str()),
                    _ => None,
                }),
        );
    let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in containers.iter().filter(|c| !going.contains(c.id.as_str())) {
        for n in &c.networks {
            users
                .entry(n.clone())
                .or_default()
                .insert(format!("{} is attached", c.name));
        }
    }
    for s in &containers_plan.steps {
        if let Action::Create { spec } | Action::Replace { spec, .. } = &s.action {
            for n in used_by(spec) {
                users
                    .entry(n)
                    .or_default()
                    .insert(format!("the record of {} names it", s.name));
            }
        }
    }
    for s in plan.steps.iter_mut() {
        let NetAction::Remove { id } = &s.action else {
            continue;
        };
        if let Some(why) = users.get(&s.name) {
            let why: Vec<&str> = why.iter().map(String::as_str).collect();
            *s = step(
                &s.name,
                NetAction::Leave {
                    id: Some(id.clone()),
                },
                format!("{}, but left as it is: {}", s.reason, why.join(", ")),
            );
        }
    }
}

#[cfg(test)]
mod tests;
