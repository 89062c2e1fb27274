//! Desired × actual → the list of actions that converge to DNS, each with its reason. A
//! pure function: no I/O; it starts from the state crash recovery leaves ([`crate::recover`]), so
//! it never repairs anything itself; only an authoritative absence (a managed name the list
//! lacks, or a record absent at every level) becomes a removal.

pub mod order;

use crate::btree::IntoTree;
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
    /// A plan of steps that wait for nothing but their own name's earlier steps: crash
    /// repairs, or no steps at all when a run converges nothing (`code` says why).
    pub fn unordered(steps: Vec<Step>, code: Code) -> Plan {
        Plan {
            steps,
            code,
            after: BTreeMap::new(),
        }
    }

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
        Some(Refresh::Available(digest)) => {
            return Step::new(
                n,
                Action::Replace {
                    existing: cur,
                    spec: spec.clone(),
                },
                format!(
                    "image update available: {} now names {} in its registry (apply pulls it)",
                    spec.image.familiar(),
                    digest.get(..19).unwrap_or(digest)
                ),
            );
        }
        Some(Refresh::Failed(why)) => {
            // An engine lost while pulling is the engine's news (69), not the image's (73).
            *code = code.worst(match why.engine_lost {
                true => Code::Unavailable,
                false => Code::ActionsFailed,
            });
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
    let by_name: BTreeMap<&str, &Container> =
        crate::btree::map(actual.iter().map(|c| (c.name.as_str(), c)));
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
        let here = Here::of(n, &by_name);
        match &w.state {
            WantedState::Spec { record, spec } => {
                spec_steps(here, record, spec, &settings, &mut steps, &mut code);
            }
            WantedState::Disabled => disabled_steps(here, &settings, &mut steps),
            WantedState::Invalid { why, .. } => {
                code = code.worst(Code::DataError);
                steps.push(Step::new(
                    n,
                    Action::Leave {
                        existing: here.current,
                    },
                    format!("invalid record, left as it is: {why}"),
                ));
            }
            WantedState::Unknown(why) => {
                code = code.worst(Code::TempFail);
                steps.push(Step::new(
                    n,
                    Action::Leave {
                        existing: here.current,
                    },
                    format!("record unavailable, left as it is: {why}"),
                ));
            }
        }
    }

    let mut after = order_steps(wanted, &mut steps, &mut code);
    restart_dependents(wanted, &mut steps);
    unlisted_steps(desired, recovery, wanted, &handled, &mut steps);
    foreign_temporary_steps(recovery, &mut steps);
    order_removals(&mut steps, &mut after, actual, wanted);
    Plan { steps, code, after }
}

/// What the engine has under one listed name.
struct Here<'a> {
    name: &'a str,
    current: Option<Existing>,
    /// The current container's ownership label.
    owner: Option<&'a str>,
    /// The current container's digests of the files its record read.
    files: Option<&'a str>,
    /// A version that failed verification, kept aside by a rollback (only ours counts).
    failed: Option<&'a Container>,
}

impl<'a> Here<'a> {
    fn of(name: &'a str, by_name: &BTreeMap<&str, &'a Container>) -> Here<'a> {
        let failed = by_name
            .get(crate::step::temporary(name, crate::step::FAILED_SUFFIX).as_str())
            .copied()
            .filter(|c| c.owner().is_some());
        Here {
            name,
            current: by_name.get(name).map(|c| Existing::from(*c)),
            owner: by_name.get(name).and_then(|c| c.owner()),
            files: by_name
                .get(name)
                .and_then(|c| c.labels.get(crate::container::FILES_LABEL))
                .map(String::as_str),
            failed,
        }
    }

    fn discard_failed(&self, steps: &mut Vec<Step>, why: &str) {
        if let Some(f) = self.failed {
            steps.push(Step::new(
                self.name,
                Action::Discard {
                    existing: Existing::from(f),
                },
                why,
            ));
        }
    }
}

/// A listed name with a valid record: created, kept, started, replaced or adopted; or held
/// back while its record is the version that failed verification.
fn spec_steps(
    here: Here<'_>,
    record: &str,
    spec: &Arc<ContainerSpec>,
    settings: &Settings,
    steps: &mut Vec<Step>,
    code: &mut Code,
) {
    let n = here.name;
    let wanted = spec.owner_label();
    if let Some(f) = here.failed
        && f.owner() == wanted
        && (here.current.is_none() || here.owner != wanted)
    {
        // Retrying would bounce the healthy old service on every run; with none,
        // it would only fail again.
        steps.push(Step::new(
            n,
            Action::HeldBack {
                existing: here.current,
                failed: Existing::from(f),
            },
            format!("record {record} is the version that failed verification"),
        ));
        return;
    }
    here.discard_failed(
        steps,
        "a version that failed verification; the record is no longer it",
    );
    let Some(cur) = here.current else {
        steps.push(absent_step(n, record, spec, settings));
        return;
    };
    let changed_files = crate::container::changed_files(here.files, spec.files_label());
    let step = match here.owner {
        Some(label) if Some(label) == wanted && !changed_files.is_empty() => Step::new(
            n,
            Action::Replace {
                existing: cur,
                spec: spec.clone(),
            },
            format!(
                "record {record} unchanged, but the file it reads changed: {}",
                changed_files.join(", ")
            ),
        ),
        Some(label) if Some(label) == wanted => {
            // What a `--pull always` pull before planning found (crate::images).
            let refresh = settings.refreshed.get(&cur.id);
            let done = jobs::is_done(&settings.jobs_done, n, label, Some(cur.id.as_str()));
            up_to_date(n, cur, spec, refresh, code, done)
        }
        None if settings.no_adopt => {
            *code = code.worst(Code::DataError);
            Step::new(
                n,
                Action::Leave {
                    existing: Some(cur),
                },
                "conflict: a container of this name exists without our label and --no-adopt is set",
            )
        }
        None => Step::new(
            n,
            Action::Replace {
                existing: cur,
                spec: spec.clone(),
            },
            format!("adopting a container without our label; record {record}"),
        ),
        Some(_) => Step::new(
            n,
            Action::Replace {
                existing: cur,
                spec: spec.clone(),
            },
            format!("record {record} changed"),
        ),
    };
    steps.push(step);
}

/// A listed name with a record and no container: created, unless it is a `--rm` job
/// remembered as finished.
fn absent_step(n: &str, record: &str, spec: &Arc<ContainerSpec>, settings: &Settings) -> Step {
    if let Some(identity) = spec.owner_label()
        && spec.auto_remove()
        && jobs::is_done(&settings.jobs_done, n, identity, None)
    {
        return Step::new(
            n,
            Action::Finished { existing: None },
            "a --rm job that finished with status 0 (remembered in the state directory); not run again until its record changes",
        );
    }
    Step::new(
        n,
        Action::Create { spec: spec.clone() },
        format!("listed, not present; record {record}"),
    )
}

/// A listed name with no record at any level: launch disabled, so its container goes,
/// unless it lacks our label and `--no-adopt` is set.
fn disabled_steps(here: Here<'_>, settings: &Settings, steps: &mut Vec<Step>) {
    let n = here.name;
    let not_ours_to_take = here.owner.is_none() && settings.no_adopt;
    if here.failed.is_some() && !not_ours_to_take {
        here.discard_failed(steps, "launch disabled: no record at any level");
        if let Some(cur) = here.current {
            steps.push(Step::new(
                n,
                Action::Remove { existing: cur },
                "launch disabled: no record at any level",
            ));
        }
        return;
    }
    steps.push(match here.current {
        Some(cur) if not_ours_to_take => Step::new(
            n,
            Action::Leave {
                existing: Some(cur),
            },
            "launch disabled (no record), but the container lacks our label and --no-adopt is set",
        ),
        Some(cur) => Step::new(
            n,
            Action::Remove { existing: cur },
            "launch disabled: no record at any level",
        ),
        None => Step::new(
            n,
            Action::Leave { existing: None },
            "launch disabled: no record at any level, no container",
        ),
    });
}

/// Ours, and DNS (authoritatively) no longer lists it: removed; what recovery holds stays.
fn unlisted_steps(
    desired: &Desired,
    recovery: &Recovery,
    wanted: &[Wanted],
    handled: &BTreeSet<String>,
    steps: &mut Vec<Step>,
) {
    // A list entry that is not a name (`s1;s2`, a stray byte) may be a typo of a name the
    // list meant to keep: while one is there, what the list does not name is left alone.
    let typo = wanted
        .iter()
        .find(|w| matches!(w.state, WantedState::Invalid { record: None, .. }));
    for c in &recovery.view {
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
}

/// Named like a temporary of ours but not ours: never touched, and the report says so.
fn foreign_temporary_steps(recovery: &Recovery, steps: &mut Vec<Step>) {
    for c in &recovery.view {
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
            .into_map()
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
        let waits: BTreeSet<String> = crate::btree::set(
            uses.iter()
                .filter(|(c, d)| c.id != existing.id && (holds(d, x) || d.after.contains(x)))
                .filter_map(|(c, _)| going.get(&c.id))
                .filter(|n| **n != step.name)
                .cloned(),
        );
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

/// Containers that opt in (`docker-dns-provision.restart-after=X`) and would be kept are
/// restarted when X is replaced or restarted, transitively; they already wait for X, so the
/// restart comes after X is verified up. Nothing else changes: without the label, a kept
/// container stays untouched.
fn restart_dependents(wanted: &[Wanted], steps: &mut [Step]) {
    let restarts: Vec<(&str, BTreeSet<String>)> = wanted
        .iter()
        .filter_map(|w| match &w.state {
            WantedState::Spec { spec, .. } => {
                Some((w.name.as_str(), order::of(spec).restart_after))
            }
            _ => None,
        })
        .filter(|(_, r)| !r.is_empty())
        .collect();
    loop {
        let changing: BTreeMap<String, &'static str> =
            crate::btree::map(steps.iter().filter_map(|s| match s.action {
                Action::Replace { .. } => Some((s.name.clone(), "replaced")),
                Action::Restart { .. } => Some((s.name.clone(), "restarted")),
                _ => None,
            }));
        let mut changed = false;
        for (n, r) in &restarts {
            let Some((x, how)) = r.iter().find_map(|x| changing.get(x).map(|h| (x, h))) else {
                continue;
            };
            let Some(step) = steps.iter_mut().rev().find(|s| s.name == *n) else {
                continue;
            };
            if let Action::Keep { existing } = &step.action {
                *step = Step::new(
                    n,
                    Action::Restart {
                        existing: existing.clone(),
                    },
                    format!(
                        "{x}, which it restarts after ({}), is {how}; after {x} is up",
                        order::RESTART_AFTER_LABEL
                    ),
                );
                changed = true;
            }
        }
        if !changed {
            break;
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
    let listed: BTreeSet<&str> = crate::btree::set(wanted.iter().map(|w| w.name.as_str()));
    let specs: BTreeMap<&str, &Arc<ContainerSpec>> =
        crate::btree::map(wanted.iter().filter_map(|w| match &w.state {
            WantedState::Spec { spec, .. } => Some((w.name.as_str(), spec)),
            _ => None,
        }));
    let mut after: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut namespaces: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut invalid: BTreeMap<String, String> = BTreeMap::new();
    for (n, spec) in &specs {
        let deps = order::of(spec);
        let labels = [
            (order::AFTER_LABEL, &deps.after),
            (order::RESTART_AFTER_LABEL, &deps.restart_after),
        ];
        for (label, names) in labels {
            if let Some(missing) = names.iter().find(|a| !listed.contains(a.as_str())) {
                invalid.insert(
                    n.to_string(),
                    format!("{label} names {missing}, which is not listed"),
                );
            }
        }
        let waits: BTreeSet<String> = crate::btree::set(
            deps.all()
                .into_iter()
                .filter(|d| listed.contains(d.as_str())),
        );
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
        let replaced: BTreeSet<String> = crate::btree::set(
            steps
                .iter()
                .filter(|s| matches!(s.action, Action::Replace { .. } | Action::Create { .. }))
                .map(|s| s.name.clone()),
        );
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
mod tests;
