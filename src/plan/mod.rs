//! Desired × actual → the list of actions that converge to DNS, each with its reason. A
//! pure function: no I/O; it starts from the state crash recovery leaves ([`recover`]), so
//! it never repairs anything itself; only an authoritative absence (a managed name the list
//! lacks, or a record absent at every level) becomes a removal.

pub mod order;

use crate::container::ContainerSpec;
use crate::desired::{Desired, HostList, Wanted, WantedState};
use crate::docker::{Container, Since};
use crate::exit::Code;
use crate::images::{Refresh, Refreshed};
use crate::jobs::{self, JobDone};
use crate::recover::Recovery;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use crate::step::{Action, Existing, Step};

/// The whole plan: steps grouped by name in execution order; names are independent.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// All steps; steps of one name run in order, different names may run concurrently.
    pub steps: Vec<Step>,
    /// The exit code the desired state alone calls for (invalid records, unknown, …).
    pub code: Code,
    /// Start order: a name's steps run once the listed names it waits for are verified.
    pub after: BTreeMap<String, BTreeSet<String>>,
}

/// Planner switches from the command line, and the facts around the engine it needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// With no list for this host, remove every managed container.
    pub allow_empty: bool,
    /// Never take over a container that lacks our label.
    pub no_adopt: bool,
    /// One-shot jobs that finished with status 0, by name ([`crate::jobs`]).
    pub jobs_done: BTreeMap<String, JobDone>,
    /// What the `--pull always` pulls before planning found ([`crate::images::check`]).
    pub refreshed: Refreshed,
}

impl Plan {
    /// Whether nothing would change.
    pub fn is_noop(&self) -> bool {
        self.steps.iter().all(|s| {
            matches!(
                s.action,
                Action::Keep { .. } | Action::Finished { .. } | Action::Leave { .. }
            )
        })
    }
}

/// A container whose record is unchanged: kept (or started), unless `--pull always` found that
/// its tag now names another image ("image updated": replaced); a failed pull leaves it on
/// the image it has and makes the run fail (73), as any failed pull does.
fn up_to_date(
    n: &str,
    cur: Existing,
    spec: &Arc<ContainerSpec>,
    refresh: Option<&Refresh>,
    code: &mut Code,
    done: bool,
) -> Step {
    let (keep, start) = match refresh {
        Some(Refresh::Updated(id)) => {
            return Step::new(
                n,
                Action::Replace {
                    existing: cur,
                    spec: spec.clone(),
                },
                format!(
                    "image updated: {} now names {}",
                    spec.image.familiar(),
                    id.get(..19).unwrap_or(id)
                ),
            );
        }
        Some(Refresh::Failed(why)) => {
            *code = code.worst(Code::ActionsFailed);
            (
                format!("left on the image it has: {why}"),
                format!("not running; started on the image it has: {why}"),
            )
        }
        Some(Refresh::NotChecked | Refresh::Current) | None => (
            "up to date".to_string(),
            "up to date but not running".to_string(),
        ),
    };
    if cur.running {
        return Step::new(n, Action::Keep { existing: cur }, keep);
    }
    if done && jobs::runs_once(spec) && matches!(cur.since, Since::Exited(0, _)) {
        return Step::new(
            n,
            Action::Finished {
                existing: Some(cur),
            },
            "a job that finished by itself with status 0; not run again until its record changes",
        );
    }
    Step::new(n, Action::Start { existing: cur }, start)
}

/// Desired × the state recovery leaves → plan.
pub fn make(desired: &Desired, recovery: &Recovery, settings: Settings) -> Plan {
    let actual = &recovery.view;
    let by_name: BTreeMap<&str, &Container> = actual.iter().map(|c| (c.name.as_str(), c)).collect();
    let wanted = match &desired.list {
        HostList::Unavailable(_) => {
            // Never act on a partial list: not even a removal of something unrelated.
            return Plan {
                steps: Vec::new(),
                code: Code::TempFail,
                after: BTreeMap::new(),
            };
        }
        HostList::NotConfigured if !settings.allow_empty => {
            return Plan {
                steps: Vec::new(),
                code: Code::NotConfigured,
                after: BTreeMap::new(),
            };
        }
        HostList::NotConfigured => &[][..],
        HostList::Listed(w) => &w[..],
    };
    let mut steps = Vec::new();
    let mut code = Code::Ok;
    // Names the list accounts for, temporaries of listed names included.
    let mut handled: BTreeSet<String> = BTreeSet::new();

    for w in wanted {
        let n = w.name.as_str();
        handled.insert(n.to_string());
        for suffix in crate::step::SUFFIXES {
            handled.insert(crate::step::temporary(n, suffix));
        }
        if recovery.held.contains(n) {
            // Recovery reported why; converging now would fight over the name.
            code = code.worst(Code::DataError);
            continue;
        }
        let current: Option<Existing> = by_name.get(n).map(|c| Existing::from(*c));
        let current_owner: Option<&str> = by_name.get(n).and_then(|c| c.owner());
        // A version that failed verification, kept aside by a rollback (only ours counts).
        let failed = by_name
            .get(crate::step::temporary(n, crate::step::FAILED_SUFFIX).as_str())
            .filter(|c| c.owner().is_some());
        let discard_failed = |steps: &mut Vec<Step>, why: &str| {
            if let Some(f) = failed {
                steps.push(Step::new(
                    n,
                    Action::Discard {
                        existing: Existing::from(*f),
                    },
                    why,
                ));
            }
        };
        match &w.state {
            WantedState::Spec { record, spec } => {
                let wanted = spec.owner_label();
                if let Some(f) = failed
                    && f.owner() == wanted
                    && (current.is_none() || current_owner != wanted)
                {
                    // Retrying would bounce the healthy old service on every run; with none,
                    // it would only fail again.
                    steps.push(Step::new(
                        n,
                        Action::HeldBack {
                            existing: current.clone(),
                            failed: Existing::from(*f),
                        },
                        format!("record {record} is the version that failed verification"),
                    ));
                    continue;
                }
                discard_failed(
                    &mut steps,
                    "a version that failed verification; the record is no longer it",
                );
                let Some(cur) = current else {
                    if let Some(identity) = wanted
                        && spec.auto_remove()
                        && jobs::is_done(&settings.jobs_done, n, identity, None)
                    {
                        steps.push(Step::new(
                            n,
                            Action::Finished { existing: None },
                            "a --rm job that finished with status 0 (remembered in the state directory); not run again until its record changes",
                        ));
                        continue;
                    }
                    steps.push(Step::new(
                        n,
                        Action::Create { spec: spec.clone() },
                        format!("listed, not present; record {record}"),
                    ));
                    continue;
                };
                match current_owner {
                    Some(label) if Some(label) == spec.owner_label() => {
                        // What a `--pull always` pull before planning found (crate::images).
                        let refresh = settings.refreshed.get(&cur.id);
                        let done =
                            jobs::is_done(&settings.jobs_done, n, label, Some(cur.id.as_str()));
                        steps.push(up_to_date(n, cur, spec, refresh, &mut code, done));
                    }
                    None if settings.no_adopt => {
                        code = code.worst(Code::DataError);
                        steps.push(Step::new(
                            n,
                            Action::Leave { existing: Some(cur) },
                            "conflict: a container of this name exists without our label and --no-adopt is set",
                        ));
                    }
                    None => steps.push(Step::new(
                        n,
                        Action::Replace {
                            existing: cur,
                            spec: spec.clone(),
                        },
                        format!("adopting a container without our label; record {record}"),
                    )),
                    Some(_) => steps.push(Step::new(
                        n,
                        Action::Replace {
                            existing: cur,
                            spec: spec.clone(),
                        },
                        format!("record {record} changed"),
                    )),
                }
            }
            WantedState::Disabled => match current {
                _ if failed.is_some() && !(current_owner.is_none() && settings.no_adopt) => {
                    discard_failed(&mut steps, "launch disabled: no record at any level");
                    if let Some(cur) = current {
                        steps.push(Step::new(
                            n,
                            Action::Remove { existing: cur },
                            "launch disabled: no record at any level",
                        ));
                    }
                }
                Some(cur) if current_owner.is_none() && settings.no_adopt => {
                    steps.push(Step::new(
                        n,
                        Action::Leave { existing: Some(cur) },
                        "launch disabled (no record), but the container lacks our label and --no-adopt is set",
                    ));
                }
                Some(cur) => steps.push(Step::new(
                    n,
                    Action::Remove { existing: cur },
                    "launch disabled: no record at any level",
                )),
                None => steps.push(Step::new(
                    n,
                    Action::Leave { existing: None },
                    "launch disabled: no record at any level, no container",
                )),
            },
            WantedState::Invalid { why, .. } => {
                code = code.worst(Code::DataError);
                steps.push(Step::new(
                    n,
                    Action::Leave { existing: current },
                    format!("invalid record, left as it is: {why}"),
                ));
            }
            WantedState::Unknown(why) => {
                code = code.worst(Code::TempFail);
                steps.push(Step::new(
                    n,
                    Action::Leave { existing: current },
                    format!("record unavailable, left as it is: {why}"),
                ));
            }
        }
    }

    let mut after = order_steps(wanted, &mut steps, &mut code);

    // A list entry that is not a name (`s1;s2`, a stray byte) may be a typo of a name the
    // list meant to keep: while one is there, what the list does not name is left alone.
    let typo = wanted
        .iter()
        .find(|w| matches!(w.state, WantedState::Invalid { record: None, .. }));
    // Ours, and DNS (authoritatively) no longer lists it; what recovery holds stays.
    for c in actual {
        let base = crate::step::split(&c.name).map_or(c.name.as_str(), |(b, _)| b);
        if c.owner().is_some() && !handled.contains(&c.name) && !recovery.held.contains(base) {
            if let Some(typo) = typo {
                steps.push(Step::new(
                    &c.name,
                    Action::Leave {
                        existing: Some(Existing::from(c)),
                    },
                    format!(
                        "not listed, but left as it is while the list has an invalid entry ('{}'); fix the list",
                        typo.name.escape_debug()
                    ),
                ));
                continue;
            }
            steps.push(Step::new(
                &c.name,
                Action::Remove {
                    existing: Existing::from(c),
                },
                if matches!(desired.list, HostList::NotConfigured) {
                    "no configuration for this host and --allow-empty is set"
                } else {
                    "managed by us and no longer listed"
                },
            ));
        }
    }
    // Named like a temporary of ours but not ours: never touched, and the report says so.
    for c in actual {
        if c.owner().is_none()
            && let Some((base, suffix)) = crate::step::split(&c.name)
            && !recovery.held.contains(base)
        {
            steps.push(Step::new(
                &c.name,
                Action::Leave {
                    existing: Some(Existing::from(c)),
                },
                format!(
                    "named like this tool's {suffix} temporary of {base}, but without its label: not ours, left as it is"
                ),
            ));
        }
    }
    order_removals(&mut steps, &mut after, actual, wanted);
    Plan { steps, code, after }
}

/// Removals in reverse start order. A container another one uses (its namespaces, volumes,
/// links, or an `after` label, as the engine's facts say) is removed only once that one is
/// removed or replaced; while one that keeps running still uses its namespaces, volumes or
/// links, or a listed record names it, it is left: removing it would take that service down.
fn order_removals(
    steps: &mut [Step],
    after: &mut BTreeMap<String, BTreeSet<String>>,
    actual: &[Container],
    wanted: &[Wanted],
) {
    let is_removal = |s: &Step| matches!(s.action, Action::Remove { .. });
    if !steps.iter().any(is_removal) {
        return;
    }
    let uses: Vec<(&Container, order::Deps)> = actual
        .iter()
        .map(|c| (c, order::of_container(c, actual)))
        .collect();
    let named: Vec<(&str, order::Deps)> = wanted
        .iter()
        .filter_map(|w| match &w.state {
            WantedState::Spec { spec, .. } => Some((w.name.as_str(), order::of(spec))),
            _ => None,
        })
        .collect();
    let holds = |d: &order::Deps, x: &str| d.namespaces.contains(x) || d.others.contains(x);
    // Container ID → the name of the step that takes it away.
    let gone = |steps: &[Step]| -> BTreeMap<String, String> {
        steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::Remove { existing }
                | Action::Discard { existing }
                | Action::Replace { existing, .. } => Some((existing.id.clone(), s.name.clone())),
                _ => None,
            })
            .collect()
    };
    // What is left stays, so what it uses stays too: to a fixed point.
    loop {
        let going = gone(steps);
        let mut changed = false;
        for step in steps.iter_mut() {
            let Action::Remove { existing } = &step.action else {
                continue;
            };
            let x = existing.name.as_str();
            let mut why: Vec<String> = uses
                .iter()
                .filter(|(c, d)| c.id != existing.id && holds(d, x))
                .filter(|(c, _)| !going.contains_key(&c.id))
                .map(|(c, _)| format!("{} uses it", c.name))
                .collect();
            why.extend(
                named
                    .iter()
                    .filter(|(n, d)| *n != x && holds(d, x))
                    .map(|(n, _)| format!("the record of {n} names it")),
            );
            if !why.is_empty() {
                *step = Step::new(
                    &step.name,
                    Action::Leave {
                        existing: Some(existing.clone()),
                    },
                    format!("{}, but left as it is: {}", step.reason, why.join(", ")),
                );
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let going = gone(steps);
    for step in steps.iter_mut() {
        let Action::Remove { existing } = &step.action else {
            continue;
        };
        let x = existing.name.as_str();
        let waits: BTreeSet<String> = uses
            .iter()
            .filter(|(c, d)| c.id != existing.id && (holds(d, x) || d.after.contains(x)))
            .filter_map(|(c, _)| going.get(&c.id))
            .filter(|n| **n != step.name)
            .cloned()
            .collect();
        if !waits.is_empty() {
            let names: Vec<&str> = waits.iter().map(String::as_str).collect();
            step.reason = format!(
                "{}; after {} (which uses it) is gone",
                step.reason,
                names.join(", ")
            );
            after.entry(step.name.clone()).or_default().extend(waits);
        }
    }
}

/// Start order among the listed containers: refuses an `after` label naming an unlisted
/// container and every container on a cycle (invalid records, left as they are), recreates
/// what shares the namespaces of a container being replaced, and notes each wait in its
/// step's reason. Returns what each name waits for.
fn order_steps(
    wanted: &[Wanted],
    steps: &mut [Step],
    code: &mut Code,
) -> BTreeMap<String, BTreeSet<String>> {
    let listed: BTreeSet<&str> = wanted.iter().map(|w| w.name.as_str()).collect();
    let specs: BTreeMap<&str, &Arc<ContainerSpec>> = wanted
        .iter()
        .filter_map(|w| match &w.state {
            WantedState::Spec { spec, .. } => Some((w.name.as_str(), spec)),
            _ => None,
        })
        .collect();
    let mut after: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut namespaces: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut invalid: BTreeMap<String, String> = BTreeMap::new();
    for (n, spec) in &specs {
        let deps = order::of(spec);
        if let Some(missing) = deps.after.iter().find(|a| !listed.contains(a.as_str())) {
            invalid.insert(
                n.to_string(),
                format!(
                    "{} names {missing}, which is not listed",
                    order::AFTER_LABEL
                ),
            );
        }
        let waits: BTreeSet<String> = deps
            .all()
            .into_iter()
            .filter(|d| listed.contains(d.as_str()))
            .collect();
        if !waits.is_empty() {
            after.insert(n.to_string(), waits);
        }
        namespaces.insert(n, deps.namespaces);
    }
    for n in order::on_cycles(&after) {
        let why = format!(
            "start order: it waits for itself through {}",
            after[&n].iter().cloned().collect::<Vec<_>>().join(", ")
        );
        invalid.entry(n).or_insert(why);
    }
    let last = |steps: &[Step], n: &str| steps.iter().rposition(|s| s.name == n);
    for (n, why) in &invalid {
        *code = code.worst(Code::DataError);
        if let Some(i) = last(steps, n) {
            let existing = match &steps[i].action {
                Action::Keep { existing }
                | Action::Start { existing }
                | Action::Replace { existing, .. } => Some(existing.clone()),
                Action::HeldBack { existing, .. } | Action::Finished { existing } => {
                    existing.clone()
                }
                _ => None,
            };
            steps[i] = Step::new(
                n,
                Action::Leave { existing },
                format!("invalid record, left as it is: {why}"),
            );
        }
    }
    // A container in another's namespaces loses them when that one is replaced.
    loop {
        let replaced: BTreeSet<String> = steps
            .iter()
            .filter(|s| matches!(s.action, Action::Replace { .. } | Action::Create { .. }))
            .map(|s| s.name.clone())
            .collect();
        let mut changed = false;
        for (n, ns) in &namespaces {
            let Some(x) = ns.iter().find(|x| replaced.contains(*x)) else {
                continue;
            };
            let Some(i) = last(steps, n) else { continue };
            if let Action::Keep { existing } | Action::Start { existing } = &steps[i].action {
                steps[i] = Step::new(
                    n,
                    Action::Replace {
                        existing: existing.clone(),
                        spec: Arc::clone(specs[n]),
                    },
                    format!("it shares the namespaces of {x} (container:{x}), which is recreated"),
                );
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for (n, waits) in &after {
        if let Some(i) = last(steps, n)
            && !matches!(steps[i].action, Action::Leave { .. })
        {
            let names: Vec<&str> = waits.iter().map(String::as_str).collect();
            steps[i].reason = format!("{}; after {} is up", steps[i].reason, names.join(", "));
        }
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::OWNER_LABEL;

    fn spec(text: &str) -> Arc<ContainerSpec> {
        Arc::new(crate::container::tests::example(
            text,
            serde_json::json!({"Image": "x", "Labels": {OWNER_LABEL: format!("L({text})")}}),
        ))
    }

    fn ctr(name: &str, owner_text: Option<&str>, state: &str) -> Container {
        let mut labels = std::collections::BTreeMap::new();
        if let Some(t) = owner_text {
            labels.insert(OWNER_LABEL.to_string(), format!("L({t})"));
        }
        labels.insert("other".into(), "x".into());
        Container {
            id: format!("id-{name}"),
            name: name.to_string(),
            labels,
            state: state.to_string(),
            ..Container::default()
        }
    }

    fn listed(ws: Vec<(&str, WantedState)>) -> Desired {
        Desired {
            host: "h".into(),
            walk: crate::walk::walk("h", &crate::walk::Bound::PublicSuffix).unwrap(),
            list_records: vec!["containers.docker.h".into()],
            list: HostList::Listed(
                ws.into_iter()
                    .map(|(n, state)| Wanted {
                        name: n.into(),
                        state,
                    })
                    .collect(),
            ),
        }
    }

    fn want(text: &str) -> WantedState {
        WantedState::Spec {
            record: "r".into(),
            spec: spec(text),
        }
    }

    fn invalid() -> WantedState {
        WantedState::Invalid {
            record: None,
            text: None,
            why: "bad".into(),
        }
    }

    /// A compact rendering: "name:verb[:id]".
    fn render(p: &Plan) -> Vec<String> {
        p.steps
            .iter()
            .map(|s| {
                let (verb, id) = match &s.action {
                    Action::Create { .. } => ("create", None),
                    Action::Start { existing } => ("start", Some(&existing.id)),
                    Action::Replace { existing, .. } => ("replace", Some(&existing.id)),
                    Action::Remove { existing } => ("remove", Some(&existing.id)),
                    Action::Keep { existing } => ("keep", Some(&existing.id)),
                    Action::Finished { existing } => ("finished", existing.as_ref().map(|e| &e.id)),
                    Action::HeldBack { failed, .. } => ("held-back", Some(&failed.id)),
                    Action::Leave { existing } => ("leave", existing.as_ref().map(|e| &e.id)),
                    Action::RenameBack { old } => ("rename-back", Some(&old.id)),
                    Action::Discard { existing } => ("discard", Some(&existing.id)),
                };
                match id {
                    Some(id) => format!("{}:{verb}:{id}", s.name),
                    None => format!("{}:{verb}", s.name),
                }
            })
            .collect()
    }

    fn plan(d: &Desired, actual: &[Container]) -> Plan {
        plan_with(d, actual, Settings::default())
    }

    /// Recovery, then the plan, as a run does them.
    fn plan_with(d: &Desired, actual: &[Container], s: Settings) -> Plan {
        let recovery = crate::recover::recover(actual.to_vec(), s.no_adopt);
        make(d, &recovery, s)
    }

    #[test]
    fn the_table() {
        // desired \ actual: none | same label | other label | no label
        type Case = (WantedState, Option<Container>, &'static str, Code);
        let cases: Vec<Case> = vec![
            (want("a"), None, "n1:create", Code::Ok),
            (
                want("a"),
                Some(ctr("n1", Some("a"), "running")),
                "n1:keep:id-n1",
                Code::Ok,
            ),
            (
                want("a"),
                Some(ctr("n1", Some("a"), "exited")),
                "n1:start:id-n1",
                Code::Ok,
            ),
            (
                want("a"),
                Some(ctr("n1", Some("a"), "created")),
                "n1:start:id-n1",
                Code::Ok,
            ),
            (
                want("a"),
                Some(ctr("n1", Some("b"), "running")),
                "n1:replace:id-n1",
                Code::Ok,
            ),
            (
                want("a"),
                Some(ctr("n1", None, "running")),
                "n1:replace:id-n1",
                Code::Ok,
            ),
            (WantedState::Disabled, None, "n1:leave", Code::Ok),
            (
                WantedState::Disabled,
                Some(ctr("n1", Some("a"), "running")),
                "n1:remove:id-n1",
                Code::Ok,
            ),
            (
                WantedState::Disabled,
                Some(ctr("n1", None, "running")),
                "n1:remove:id-n1",
                Code::Ok,
            ),
            (invalid(), None, "n1:leave", Code::DataError),
            (
                invalid(),
                Some(ctr("n1", Some("a"), "running")),
                "n1:leave:id-n1",
                Code::DataError,
            ),
            (
                invalid(),
                Some(ctr("n1", None, "exited")),
                "n1:leave:id-n1",
                Code::DataError,
            ),
            (
                WantedState::Unknown("t".into()),
                None,
                "n1:leave",
                Code::TempFail,
            ),
            (
                WantedState::Unknown("t".into()),
                Some(ctr("n1", Some("a"), "running")),
                "n1:leave:id-n1",
                Code::TempFail,
            ),
        ];
        for (state, actual, expect, code) in cases {
            let d = listed(vec![("n1", state.clone())]);
            let actual: Vec<Container> = actual.into_iter().collect();
            let p = plan(&d, &actual);
            assert_eq!(
                render(&p),
                vec![expect.to_string()],
                "{state:?} × {actual:?}"
            );
            assert_eq!(p.code, code, "{state:?} × {actual:?}");
        }
    }

    #[test]
    fn unlisted_managed_containers_are_removed_unmanaged_never_touched() {
        let d = listed(vec![("keep1", want("k"))]);
        let actual = vec![
            ctr("keep1", Some("k"), "running"),
            ctr("gone1", Some("old"), "running"),
            ctr("gone2", Some("old"), "exited"),
            ctr("theirs", None, "running"),
        ];
        let p = plan(&d, &actual);
        assert_eq!(
            render(&p),
            vec![
                "keep1:keep:id-keep1",
                "gone1:remove:id-gone1",
                "gone2:remove:id-gone2"
            ]
        );
        assert!(!p.is_noop());
    }

    #[test]
    fn an_unavailable_list_touches_nothing() {
        let d = Desired {
            host: "h".into(),
            walk: crate::walk::walk("h", &crate::walk::Bound::PublicSuffix).unwrap(),
            list_records: vec![],
            list: HostList::Unavailable("timeout".into()),
        };
        let p = plan(&d, &[ctr("gone1", Some("x"), "running")]);
        assert!(p.steps.is_empty());
        assert_eq!(p.code, Code::TempFail);
    }

    #[test]
    fn an_invalid_list_entry_keeps_every_unlisted_container() {
        // `"s1;s2"`: the list meant s1 and s2, and names neither.
        let d = listed(vec![("s1;s2", invalid())]);
        let actual = [
            ctr("s1", Some("a"), "running"),
            ctr("s2", Some("b"), "exited"),
        ];
        let p = plan(&d, &actual);
        assert_eq!(
            render(&p),
            vec!["s1;s2:leave", "s1:leave:id-s1", "s2:leave:id-s2"]
        );
        assert!(p.steps[1].reason.contains("invalid entry ('s1;s2')"));
        assert_eq!(p.code, Code::DataError);
        // An invalid record (not an invalid name) is no such doubt: the list is clear.
        let bad_record = WantedState::Invalid {
            record: Some("s1.containers.docker.h".into()),
            text: Some("x".into()),
            why: "bad".into(),
        };
        let d = listed(vec![("s1", bad_record)]);
        let p = plan(&d, &actual);
        assert_eq!(render(&p), vec!["s1:leave:id-s1", "s2:remove:id-s2"]);
    }

    #[test]
    fn not_configured_removes_only_with_allow_empty() {
        let d = Desired {
            host: "h".into(),
            walk: crate::walk::walk("h", &crate::walk::Bound::PublicSuffix).unwrap(),
            list_records: vec![],
            list: HostList::NotConfigured,
        };
        let actual = [
            ctr("m1", Some("x"), "running"),
            ctr("theirs", None, "running"),
        ];
        let p = plan(&d, &actual);
        assert!(p.steps.is_empty());
        assert_eq!(p.code, Code::NotConfigured);
        let p = plan_with(
            &d,
            &actual,
            Settings {
                allow_empty: true,
                no_adopt: false,
                ..Settings::default()
            },
        );
        assert_eq!(render(&p), vec!["m1:remove:id-m1"]);
        assert_eq!(p.code, Code::Ok);
    }

    #[test]
    fn no_adopt_leaves_unlabelled_containers_and_reports_a_conflict() {
        let s = Settings {
            allow_empty: false,
            no_adopt: true,
            ..Settings::default()
        };
        let d = listed(vec![
            ("n1", want("a")),
            ("n2", WantedState::Disabled),
            ("n3", want("c")),
        ]);
        let actual = [
            ctr("n1", None, "running"),
            ctr("n2", None, "running"),
            ctr("n3", Some("old"), "running"),
        ];
        let p = plan_with(&d, &actual, s);
        assert_eq!(
            render(&p),
            vec!["n1:leave:id-n1", "n2:leave:id-n2", "n3:replace:id-n3"]
        );
        assert_eq!(p.code, Code::DataError);
    }

    #[test]
    fn the_planner_starts_from_what_recovery_leaves() {
        let d = listed(vec![("n1", want("a"))]);
        // A crash stopped the old one before renaming it aside (issue 12, item 4): recovery
        // starts it again, so the retried replace knows there is a running service to restore.
        let actual = [
            ctr("n1", Some("old"), "exited"),
            ctr("n1.ddp-new", Some("a"), "created"),
        ];
        let p = plan(&d, &actual);
        assert_eq!(render(&p), vec!["n1:replace:id-n1"]);
        let Action::Replace { existing, .. } = &p.steps[0].action else {
            panic!()
        };
        assert!(existing.running);

        // Renamed back and already what DNS wants: nothing left to do.
        let actual = [ctr("n1.ddp-old", Some("a"), "exited")];
        assert_eq!(render(&plan(&d, &actual)), vec!["n1:keep:id-n1.ddp-old"]);

        // Temporaries of a listed name are never swept as "unlisted", even when recovery
        // leaves them (an unlabelled one under --no-adopt).
        let s = Settings {
            allow_empty: false,
            no_adopt: true,
            ..Settings::default()
        };
        let actual = [
            ctr("n1", Some("a"), "running"),
            ctr("n1.ddp-old", None, "exited"),
        ];
        assert_eq!(
            render(&plan_with(&d, &actual, s)),
            vec!["n1:keep:id-n1", "n1.ddp-old:leave:id-n1.ddp-old"],
            "left, and the report says so"
        );

        // A foreign container holding the name while ours is aside: recovery holds the
        // name, and the planner neither converges it nor sweeps what is aside.
        let actual = [
            ctr("n1", None, "running"),
            ctr("n1.ddp-old", Some("x"), "exited"),
        ];
        let p = plan(&d, &actual);
        assert!(p.steps.is_empty(), "{:?}", render(&p));
        assert_eq!(p.code, Code::DataError);
        let p = plan(&listed(vec![]), &actual);
        assert!(p.steps.is_empty(), "{:?}", render(&p));

        // Temporaries of a name DNS no longer lists: recovery repairs, the sweep removes.
        let p = plan(&listed(vec![]), &[ctr("x1.ddp-new", Some("a"), "created")]);
        assert!(
            render(&p).is_empty(),
            "recovery discards it: {:?}",
            render(&p)
        );
        let p = plan(
            &listed(vec![]),
            &[ctr("x1.ddp-failed", Some("a"), "exited")],
        );
        assert_eq!(render(&p), vec!["x1.ddp-failed:remove:id-x1.ddp-failed"]);
    }

    #[test]
    fn a_version_that_failed_verification_is_held_back_until_the_record_changes() {
        let d = listed(vec![("n1", want("bad"))]);
        let failed = ctr("n1.ddp-failed", Some("bad"), "exited");
        // Same record text as the failed one: not retried, the old one is left running.
        let actual = [ctr("n1", Some("good"), "running"), failed.clone()];
        let p = plan(&d, &actual);
        assert_eq!(render(&p), vec!["n1:held-back:id-n1.ddp-failed"]);
        // A new record text: the failed one goes, and the replace is tried again.
        let d2 = listed(vec![("n1", want("fixed"))]);
        assert_eq!(
            render(&plan(&d2, &actual)),
            vec!["n1:discard:id-n1.ddp-failed", "n1:replace:id-n1"]
        );
        // Back to what runs: the failed one goes, the old one is kept.
        let d3 = listed(vec![("n1", want("good"))]);
        assert_eq!(
            render(&plan(&d3, &actual)),
            vec!["n1:discard:id-n1.ddp-failed", "n1:keep:id-n1"]
        );
        // Disabled, or no longer listed: gone with the rest.
        let d4 = listed(vec![("n1", WantedState::Disabled)]);
        assert_eq!(
            render(&plan(&d4, &actual)),
            vec!["n1:discard:id-n1.ddp-failed", "n1:remove:id-n1"]
        );
        assert_eq!(
            render(&plan(&listed(vec![]), &actual)),
            vec!["n1:remove:id-n1", "n1.ddp-failed:remove:id-n1.ddp-failed"]
        );
        // One without our label is not ours: never a reason to hold back, never removed.
        let foreign = [
            ctr("n1", Some("good"), "running"),
            ctr("n1.ddp-failed", None, "exited"),
        ];
        assert_eq!(
            render(&plan(&d, &foreign)),
            vec!["n1:replace:id-n1", "n1.ddp-failed:leave:id-n1.ddp-failed"],
            "and the report says why it is left"
        );
        // Nothing under the name: the version that failed is not created there either.
        let alone = [failed.clone()];
        let p = plan(&d, &alone);
        assert_eq!(render(&p), vec!["n1:held-back:id-n1.ddp-failed"]);
        assert_eq!(
            p.steps[0].action,
            Action::HeldBack {
                existing: None,
                failed: Existing::from(&failed),
            }
        );
        // Invalid or unavailable records leave it as it is.
        let d5 = listed(vec![("n1", invalid())]);
        assert_eq!(render(&plan(&d5, &actual)), vec!["n1:leave:id-n1"]);
    }

    fn done(identity: &str, container: Option<&str>) -> Settings {
        Settings {
            jobs_done: [(
                "j".to_string(),
                JobDone {
                    identity: format!("L({identity})"),
                    container: container.map(str::to_string),
                    finished_at: 1,
                },
            )]
            .into(),
            ..Settings::default()
        }
    }

    /// Issue 21, item 2: a job that finished by itself with status 0 (as crate::jobs found)
    /// and that nothing restarts is done, not run again until its record changes; one that
    /// failed, was stopped, or is not known to have finished is started again.
    #[test]
    fn a_finished_job_is_done_until_its_record_changes() {
        use crate::docker::Span;
        let job = |policy: &str| {
            spec_with(
                "job",
                serde_json::json!({"HostConfig": {"RestartPolicy": {"Name": policy}}}),
            )
        };
        let exited = |code: i64| Container {
            since: Since::Exited(
                code,
                Span {
                    min: std::time::Duration::from_secs(5),
                    max: std::time::Duration::from_secs(6),
                },
            ),
            ..ctr("j", Some("job"), "exited")
        };
        type Case = (&'static str, Container, Settings, &'static str);
        let cases: Vec<Case> = vec![
            (
                "no",
                exited(0),
                done("job", Some("id-j")),
                "j:finished:id-j",
            ),
            ("", exited(0), done("job", Some("id-j")), "j:finished:id-j"),
            (
                "on-failure",
                exited(0),
                done("job", Some("id-j")),
                "j:finished:id-j",
            ),
            // Not known to have finished by itself (stopped, or no evidence): started.
            ("no", exited(0), Settings::default(), "j:start:id-j"),
            // Known for another container, or another record.
            ("no", exited(0), done("job", Some("other")), "j:start:id-j"),
            ("no", exited(0), done("old", Some("id-j")), "j:start:id-j"),
            // Failed since (started again by hand): retried.
            ("no", exited(1), done("job", Some("id-j")), "j:start:id-j"),
            // Its policy restarts it: someone stopped it, it runs again.
            (
                "always",
                exited(0),
                done("job", Some("id-j")),
                "j:start:id-j",
            ),
            (
                "unless-stopped",
                exited(0),
                done("job", Some("id-j")),
                "j:start:id-j",
            ),
            // Created and never started.
            (
                "no",
                ctr("j", Some("job"), "created"),
                done("job", Some("id-j")),
                "j:start:id-j",
            ),
        ];
        for (policy, c, settings, want) in cases {
            let d = listed(vec![("j", job(policy))]);
            let p = plan_with(&d, std::slice::from_ref(&c), settings);
            assert_eq!(render(&p), vec![want], "{policy:?} {:?}", c.since);
            assert_eq!(p.is_noop(), want.ends_with("finished:id-j"));
        }
        // A changed record runs it again.
        let d = listed(vec![("j", spec_with("job2", serde_json::json!({})))]);
        let p = plan_with(&d, &[exited(0)], done("job", Some("id-j")));
        assert_eq!(render(&p), vec!["j:replace:id-j"]);
    }

    /// A `--rm` job leaves nothing behind: the state remembers it finished, for its record.
    #[test]
    fn a_finished_rm_job_is_remembered_for_its_record_only() {
        let rm = |text: &str| {
            spec_with(
                text,
                serde_json::json!({"HostConfig": {"AutoRemove": true}}),
            )
        };
        let d = listed(vec![("j", rm("job"))]);
        assert_eq!(
            render(&plan_with(&d, &[], done("job", None))),
            vec!["j:finished"]
        );
        assert_eq!(
            render(&plan_with(&d, &[], done("old", None))),
            vec!["j:create"]
        );
        assert_eq!(
            render(&plan_with(&d, &[], Settings::default())),
            vec!["j:create"]
        );
        // Not a --rm record (any more): its container says what it did, not the state.
        let plain = listed(vec![("j", spec_with("job", serde_json::json!({})))]);
        assert_eq!(
            render(&plan_with(&plain, &[], done("job", None))),
            vec!["j:create"]
        );
        // Still running: kept as any container.
        let running = ctr("j", Some("job"), "running");
        assert_eq!(
            render(&plan_with(&d, &[running], done("job", None))),
            vec!["j:keep:id-j"]
        );
    }

    fn spec_with(text: &str, body: serde_json::Value) -> WantedState {
        let mut body = body;
        body["Labels"][OWNER_LABEL] = serde_json::json!(format!("L({text})"));
        WantedState::Spec {
            record: "r".into(),
            spec: Arc::new(crate::container::tests::example(text, body)),
        }
    }

    #[test]
    fn start_order_waits_refuses_cycles_and_recreates_shared_namespaces() {
        let after = |x: &str| serde_json::json!({"Labels": {crate::plan::order::AFTER_LABEL: x}});
        let d = listed(vec![
            ("a", want("a2")),
            (
                "b",
                spec_with(
                    "b",
                    serde_json::json!({"HostConfig": {"NetworkMode": "container:a"}}),
                ),
            ),
            ("c", spec_with("c", after("b"))),
            ("p", spec_with("p", after("q"))),
            ("q", spec_with("q", after("p"))),
            ("r", spec_with("r", after("nowhere"))),
        ]);
        let actual = [
            ctr("a", Some("a1"), "running"),
            ctr("b", Some("b"), "running"),
            ctr("c", Some("c"), "running"),
        ];
        let p = plan(&d, &actual);
        assert_eq!(
            render(&p),
            vec![
                "a:replace:id-a",
                "b:replace:id-b",
                "c:keep:id-c",
                "p:leave",
                "q:leave",
                "r:leave"
            ]
        );
        assert_eq!(p.code, Code::DataError);
        assert!(
            p.steps[1].reason.contains("container:a"),
            "{:?}",
            p.steps[1]
        );
        assert!(
            p.steps[2].reason.ends_with("after b is up"),
            "{:?}",
            p.steps[2]
        );
        assert!(
            p.steps[3].reason.contains("waits for itself"),
            "{:?}",
            p.steps[3]
        );
        assert!(
            p.steps[5].reason.contains("nowhere, which is not listed"),
            "{:?}",
            p.steps[5]
        );
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(p.after.get("b"), Some(&names(&["a"])));
        assert_eq!(p.after.get("c"), Some(&names(&["b"])));
        assert_eq!(p.after.get("a"), None);
    }

    /// A running container as the engine lists it: its ownership label holds a real record.
    fn engine_ctr(name: &str, record: Option<&str>, network_mode: &str) -> Container {
        let mut labels = std::collections::BTreeMap::new();
        if let Some(text) = record {
            labels.insert(OWNER_LABEL.to_string(), crate::container::owner_label(text));
        }
        Container {
            id: format!("id-{name}"),
            name: name.to_string(),
            labels,
            state: "running".into(),
            network_mode: network_mode.into(),
            ..Container::default()
        }
    }

    #[test]
    fn removals_go_after_what_uses_them() {
        let d = listed(vec![("r", want("r2"))]);
        let mut c = engine_ctr("c", Some("busybox sleep 9"), "none");
        c.labels.insert(
            crate::plan::order::AFTER_LABEL.into(),
            "b, elsewhere".into(),
        );
        let actual = [
            engine_ctr("a", Some("busybox sleep 9"), "none"),
            // The engine names the namespace's owner by ID; the record by name.
            engine_ctr("b", Some("busybox sleep 9"), "container:id-a"),
            c,
            engine_ctr("v", Some("busybox sleep 9"), "none"),
            engine_ctr("w", Some("--volumes-from v:ro busybox sleep 9"), "none"),
            engine_ctr("q", Some("busybox sleep 9"), "none"),
            // Its record changes to one that no longer uses q: q goes once it is replaced.
            engine_ctr("r", Some("--ipc container:q busybox sleep 9"), "none"),
        ];
        let p = plan(&d, &actual);
        assert_eq!(
            render(&p),
            vec![
                "r:replace:id-r",
                "a:remove:id-a",
                "b:remove:id-b",
                "c:remove:id-c",
                "v:remove:id-v",
                "w:remove:id-w",
                "q:remove:id-q",
            ]
        );
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(p.after.get("a"), Some(&names(&["b"])));
        assert_eq!(p.after.get("b"), Some(&names(&["c"])));
        assert_eq!(p.after.get("v"), Some(&names(&["w"])));
        assert_eq!(p.after.get("q"), Some(&names(&["r"])));
        assert_eq!(p.after.get("c"), None);
        let step = |n: &str| p.steps.iter().find(|s| s.name == n).unwrap();
        assert!(
            step("a")
                .reason
                .ends_with("after b (which uses it) is gone")
        );
        let all: Vec<String> = p.steps.iter().map(|s| s.name.clone()).collect();
        assert_eq!(
            crate::plan::order::waves(&all, &p.after),
            vec![
                vec!["r".to_string(), "c".into(), "w".into()],
                vec!["b".to_string(), "v".into(), "q".into()],
                vec!["a".to_string()],
            ]
        );
    }

    #[test]
    fn what_a_running_service_still_uses_is_not_removed() {
        let d = listed(vec![(
            "m",
            spec_with(
                "m",
                serde_json::json!({"HostConfig": {"VolumesFrom": ["z:ro"]}}),
            ),
        )]);
        let actual = [
            ctr("m", Some("m"), "running"),
            // Not ours, and it runs in x's network namespace: x stays, and so does what x
            // uses in turn.
            engine_ctr("u", None, "container:id-x"),
            engine_ctr("x", Some("--pid container:y busybox sleep 9"), "none"),
            engine_ctr("y", Some("busybox sleep 9"), "none"),
            // Only an after label: an order, not a use; an unlisted one is removed.
            engine_ctr("z", Some("busybox sleep 9"), "none"),
            engine_ctr("gone", Some("busybox sleep 9"), "none"),
        ];
        let mut with_after = engine_ctr("k", None, "none");
        with_after
            .labels
            .insert(crate::plan::order::AFTER_LABEL.into(), "gone".into());
        let actual: Vec<Container> = actual.into_iter().chain([with_after]).collect();
        let p = plan(&d, &actual);
        assert_eq!(
            render(&p),
            vec![
                "m:keep:id-m",
                "x:leave:id-x",
                "y:leave:id-y",
                "z:leave:id-z",
                "gone:remove:id-gone",
            ]
        );
        let step = |n: &str| p.steps.iter().find(|s| s.name == n).unwrap();
        assert!(
            step("x").reason.ends_with("left as it is: u uses it"),
            "{:?}",
            step("x")
        );
        assert!(
            step("y").reason.ends_with("left as it is: x uses it"),
            "{:?}",
            step("y")
        );
        assert!(
            step("z")
                .reason
                .ends_with("left as it is: the record of m names it"),
            "{:?}",
            step("z")
        );
        assert_eq!(p.code, Code::Ok);
        assert!(p.after.is_empty(), "{:?}", p.after);
    }

    #[test]
    fn noop_detection() {
        let d = listed(vec![("n1", want("a")), ("n2", WantedState::Disabled)]);
        assert!(plan(&d, &[ctr("n1", Some("a"), "running")]).is_noop());
        assert!(!plan(&d, &[ctr("n1", Some("a"), "exited")]).is_noop());
    }

    #[test]
    fn a_refreshed_image_replaces_a_failed_pull_leaves_alone() {
        let d = listed(vec![("n1", want("a"))]);
        // What the pulls before planning found, for the container "id-n1".
        let found = |refresh: Refresh| Settings {
            refreshed: [("id-n1".to_string(), refresh)].into(),
            ..Settings::default()
        };
        let with = |state: &str, refresh: Refresh| {
            plan_with(&d, &[ctr("n1", Some("a"), state)], found(refresh))
        };
        let updated = Refresh::Updated("sha256:0123456789abcdef0123".into());
        let p = with("running", updated.clone());
        assert_eq!(render(&p), vec!["n1:replace:id-n1"]);
        assert!(
            p.steps[0].reason.starts_with("image updated"),
            "{:?}",
            p.steps[0]
        );
        assert_eq!(p.code, Code::Ok);
        // A changed record is the reason, whatever the image.
        let changed = plan_with(
            &d,
            &[ctr("n1", Some("b"), "running")],
            found(updated.clone()),
        );
        assert!(changed.steps[0].reason.contains("changed"));
        // Found for another container of that name (replaced since): not this one's news.
        let other = Settings {
            refreshed: [("id-other".to_string(), updated)].into(),
            ..Settings::default()
        };
        let p = plan_with(&d, &[ctr("n1", Some("a"), "running")], other);
        assert_eq!(render(&p), vec!["n1:keep:id-n1"]);
        let p = with("running", Refresh::Current);
        assert_eq!(
            (render(&p), p.code),
            (vec!["n1:keep:id-n1".to_string()], Code::Ok)
        );
        let failed = || Refresh::Failed("pull of x failed: registry r unreachable".into());
        let p = with("running", failed());
        assert_eq!(render(&p), vec!["n1:keep:id-n1"]);
        assert!(
            p.steps[0].reason.contains("unreachable"),
            "{:?}",
            p.steps[0]
        );
        assert_eq!(p.code, Code::ActionsFailed);
        let p = with("exited", failed());
        assert_eq!(
            (render(&p), p.code),
            (vec!["n1:start:id-n1".to_string()], Code::ActionsFailed)
        );
    }
}
