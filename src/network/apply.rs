//! Executes the networks' plan around the containers': creations and recreations before
//! them, removals after. A recreation disconnects what is attached, removes the network,
//! creates it from its new record and connects everything again with the endpoint settings
//! it had, then checks each container is on the new network; if any of that fails it goes
//! back to the old record's network. Every failure is the network's: the run goes on, and
//! the containers that need a network that is not there are left.

use super::NetworkSpec;
use super::plan::{NetAction, NetPlan, NetStep};
use crate::docker::EngineCalls;
use crate::plan::{Action, Plan, Step};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What became of one network step.
#[derive(Debug, Clone, PartialEq)]
pub struct NetOutcome {
    /// The step.
    pub step: NetStep,
    /// `None` when it had nothing to do (keep, leave); else done or why not.
    pub result: Option<Result<(), String>>,
}

impl NetOutcome {
    /// Whether the step was tried and failed.
    pub fn failed(&self) -> bool {
        matches!(self.result, Some(Err(_)))
    }
}

/// The networks' part of the exit status: the plan's own (65, 69), and 73 when a step failed.
pub fn exit_code(plan: &NetPlan, outcomes: &[NetOutcome]) -> crate::exit::Code {
    match outcomes.iter().any(NetOutcome::failed) {
        true => plan.code.worst(crate::exit::Code::ActionsFailed),
        false => plan.code,
    }
}

/// The first phase: create and recreate, before any container is touched.
pub fn before_containers(plan: &NetPlan, engine: &dyn EngineCalls) -> Vec<NetOutcome> {
    plan.steps
        .iter()
        .filter(|s| !matches!(s.action, NetAction::Remove { .. }))
        .map(|s| {
            let result = match &s.action {
                NetAction::Create { spec } => Some(
                    engine
                        .create_network(&spec.create_body(&s.name))
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                ),
                NetAction::Recreate {
                    id,
                    spec,
                    attached,
                    old,
                } => Some(recreate(
                    engine,
                    &s.name,
                    id,
                    spec,
                    attached,
                    old.as_deref(),
                )),
                _ => None,
            };
            NetOutcome {
                step: s.clone(),
                result,
            }
        })
        .collect()
}

/// The last phase: remove what is no longer declared, once its containers are gone.
pub fn after_containers(plan: &NetPlan, engine: &dyn EngineCalls) -> Vec<NetOutcome> {
    plan.steps
        .iter()
        .filter_map(|s| match &s.action {
            NetAction::Remove { id } => Some(NetOutcome {
                step: s.clone(),
                result: Some(engine.remove_network(id).map_err(|e| e.to_string())),
            }),
            _ => None,
        })
        .collect()
}

/// The containers whose record names a network that failed to be made are left as they
/// are, with the network's failure as the reason: never created to fail at their start.
pub fn hold_back(containers: &mut Plan, outcomes: &[NetOutcome]) {
    let failed: BTreeMap<&str, &str> =
        crate::btree::map(outcomes.iter().filter_map(|o| match &o.result {
            Some(Err(why)) => Some((o.step.name.as_str(), why.as_str())),
            _ => None,
        }));
    if failed.is_empty() {
        return;
    }
    for s in containers.steps.iter_mut() {
        let (existing, spec) = match &s.action {
            Action::Create { spec } => (None, spec),
            Action::Replace { existing, spec } => (Some(existing.clone()), spec),
            _ => continue,
        };
        let Some((n, why)) = super::used_by(spec)
            .into_iter()
            .find_map(|n| failed.get(n.as_str()).map(|w| (n.clone(), *w)))
        else {
            continue;
        };
        *s = Step::new(
            &s.name,
            Action::Leave { existing },
            format!(
                "{}, but left as it is: the network {n} could not be made: {why}",
                s.reason
            ),
        );
    }
}

/// The managed networks once the steps have run: what the state file remembers.
pub fn managed_after(before: &BTreeSet<String>, outcomes: &[NetOutcome]) -> BTreeSet<String> {
    let mut names = before.clone();
    for o in outcomes.iter().filter(|o| matches!(o.result, Some(Ok(())))) {
        match o.step.action {
            NetAction::Create { .. } | NetAction::Recreate { .. } => {
                names.insert(o.step.name.clone());
            }
            NetAction::Remove { .. } => {
                names.remove(&o.step.name);
            }
            _ => {}
        }
    }
    names
}

/// The endpoint settings a container has on network `name` that a connect can give back.
fn endpoint_of(inspect: &Value, name: &str) -> Value {
    let ep = &inspect["NetworkSettings"]["Networks"][name];
    let mut out = Map::new();
    for key in ["Aliases", "Links", "DriverOpts"] {
        if !ep[key].is_null() {
            out.insert(key.into(), ep[key].clone());
        }
    }
    if ep["IPAMConfig"].is_object() {
        out.insert("IPAMConfig".into(), ep["IPAMConfig"].clone());
    }
    Value::Object(out)
}

/// Disconnect, remove, create from `spec`, connect again and check; on failure, back to the
/// old record's network (`old`), everything connected to it again.
fn recreate(
    engine: &dyn EngineCalls,
    name: &str,
    id: &str,
    spec: &NetworkSpec,
    attached: &[String],
    old: Option<&NetworkSpec>,
) -> Result<(), String> {
    let mut endpoints = Vec::new();
    for c in attached {
        let doc = engine.inspect(c).map_err(|e| e.to_string())?;
        endpoints.push((c.as_str(), endpoint_of(&doc, name)));
    }
    for (i, (c, _)) in endpoints.iter().enumerate() {
        if let Err(e) = engine.disconnect_network(id, c) {
            let why = format!("disconnecting {c}: {e}");
            return Err(back_to(why, connect_all(engine, id, name, &endpoints[..i])));
        }
    }
    if let Err(e) = engine.remove_network(id) {
        let why = format!("removing the old network: {e}");
        return Err(back_to(why, connect_all(engine, id, name, &endpoints)));
    }
    let why = match engine.create_network(&spec.create_body(name)) {
        Err(e) => format!("creating it from its new record: {e}"),
        Ok(new) => match connect_all(engine, &new, name, &endpoints) {
            Ok(()) => return Ok(()),
            Err(why) => {
                for (c, _) in &endpoints {
                    let _ = engine.disconnect_network(&new, c);
                }
                if let Err(e) = engine.remove_network(&new) {
                    return Err(format!(
                        "{why}; and going back failed: removing the new network: {e}"
                    ));
                }
                why
            }
        },
    };
    let Some(old) = old else {
        return Err(why);
    };
    let back = engine
        .create_network(&old.create_body(name))
        .map_err(|e| format!("creating the old record's network: {e}"))
        .and_then(|again| connect_all(engine, &again, name, &endpoints));
    Err(back_to(why, back))
}

/// A failure, and how going back went.
fn back_to(why: String, back: Result<(), String>) -> String {
    match back {
        Ok(()) => format!("{why}; went back to the network of the old record"),
        Err(e) => format!("{why}; and going back failed: {e}"),
    }
}

/// Connect every container with its endpoint settings, then check each one is on the
/// network `id`.
fn connect_all(
    engine: &dyn EngineCalls,
    id: &str,
    name: &str,
    endpoints: &[(&str, Value)],
) -> Result<(), String> {
    for (c, ep) in endpoints {
        engine
            .connect_network(id, c, ep)
            .map_err(|e| format!("connecting {c}: {e}"))?;
    }
    for (c, _) in endpoints {
        let doc = engine.inspect(c).map_err(|e| e.to_string())?;
        let on = &doc["NetworkSettings"]["Networks"][name]["NetworkID"];
        if on.is_string() && on != id {
            return Err(format!("{c} is not on the network after connecting it"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
