//! Desired × actual → the list of actions, each with its reason, including the repair of
//! replaces a crash interrupted. A pure function: no I/O; only an authoritative absence
//! (a managed name the list lacks, or a record absent at every level) becomes a removal.

use crate::desired::{Desired, HostList, WantedState};
use crate::docker::{Container, Refresh};
use crate::exit::Code;
use crate::spec::ContainerSpec;
use std::collections::{BTreeMap, BTreeSet};

/// Suffix of the name a replacement is created under before it takes over.
pub const NEW_SUFFIX: &str = ".ddp-new";
/// Suffix of the name the replaced container is renamed to while the new one starts.
pub const OLD_SUFFIX: &str = ".ddp-old";

/// A container the engine already has, as the applier needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// Container ID.
    pub id: String,
    /// Its current name.
    pub name: String,
    /// Whether it was up when the plan was made (to restore it on rollback).
    pub running: bool,
}

impl From<&Container> for Existing {
    fn from(c: &Container) -> Self {
        Existing {
            id: c.id.clone(),
            name: c.name.clone(),
            running: c.running(),
        }
    }
}

/// One thing to do (or deliberately not do) to one container name.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing is there: pull if needed, create and start.
    Create { spec: Box<ContainerSpec> },
    /// Not running but should be: ours and unchanged, or put back by an interrupted replace.
    Start { existing: Existing },
    /// Safe replace: create the new one aside, stop and rename the old one aside, rename the
    /// new one into place and start it; on failure roll back to the old one.
    Replace {
        existing: Existing,
        spec: Box<ContainerSpec>,
    },
    /// Graceful stop (the container's own stop timeout), then remove.
    Remove { existing: Existing },
    /// Ours, unchanged and running.
    Keep { existing: Existing },
    /// Left untouched on purpose (invalid record, unknown record, unlabelled with --no-adopt).
    Leave { existing: Option<Existing> },
    /// A replace was interrupted after the new container took the name: start it if needed,
    /// then remove the old one (or roll back to the old one if the new one fails to start).
    Finish { current: Existing, old: Existing },
    /// A replace was interrupted before the new container took the name: give the old one
    /// its name back. Later actions for the same name follow.
    RenameBack { old: Existing },
    /// A temporary left by an interrupted replace that is of no further use: remove it.
    Discard { existing: Existing },
}

/// An action on a named container, with the reason a person reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The container name DNS uses (for temporaries, the name they belong to).
    pub name: String,
    /// What to do.
    pub action: Action,
    /// Why, in words.
    pub reason: String,
}

/// The whole plan: steps grouped by name in execution order; names are independent.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// All steps; steps of one name run in order, different names may run concurrently.
    pub steps: Vec<Step>,
    /// The exit code the desired state alone calls for (invalid records, unknown, …).
    pub code: Code,
}

/// Planner switches from the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    /// With no list for this host, remove every managed container.
    pub allow_empty: bool,
    /// Never take over a container that lacks our label.
    pub no_adopt: bool,
}

impl Step {
    fn new(name: &str, action: Action, reason: impl Into<String>) -> Step {
        Step {
            name: name.to_string(),
            action,
            reason: reason.into(),
        }
    }
}

impl Plan {
    /// Whether nothing would change.
    pub fn is_noop(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s.action, Action::Keep { .. } | Action::Leave { .. }))
    }
}

/// The ownership label a spec's container carries.
fn wanted_label(spec: &ContainerSpec) -> Option<&str> {
    spec.body
        .get("Labels")
        .and_then(|l| l.get(crate::spec::OWNER_LABEL))
        .and_then(|v| v.as_str())
}

/// Leave a container as it is, unless an interrupted replace stopped it (`restore`): then
/// start it, which puts back the state from before that replace rather than deciding anew.
fn leave(n: &str, existing: Option<Existing>, restore: bool, reason: impl Into<String>) -> Step {
    match existing {
        Some(e) if restore => Step::new(
            n,
            Action::Start { existing: e },
            format!(
                "{}; an interrupted replace had stopped it, so it runs again",
                reason.into()
            ),
        ),
        existing => Step::new(n, Action::Leave { existing }, reason),
    }
}

/// A container whose record is unchanged: kept (or started), unless `--pull always` found that
/// its tag now names another image ("image updated": replaced); a failed pull leaves it on
/// the image it has and makes the run fail (73), as any failed pull does.
fn up_to_date(
    n: &str,
    cur: Existing,
    up: bool,
    spec: &ContainerSpec,
    refresh: Option<&Refresh>,
    code: &mut Code,
) -> Step {
    let (keep, start) = match refresh {
        Some(Refresh::Updated(id)) => {
            return Step::new(
                n,
                Action::Replace {
                    existing: cur,
                    spec: Box::new(spec.clone()),
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
    if up {
        Step::new(n, Action::Keep { existing: cur }, keep)
    } else {
        Step::new(n, Action::Start { existing: cur }, start)
    }
}

/// Desired × actual → plan. `actual` is every container on the engine.
pub fn make(desired: &Desired, actual: &[Container], settings: Settings) -> Plan {
    let by_name: BTreeMap<&str, &Container> = actual.iter().map(|c| (c.name.as_str(), c)).collect();
    let wanted = match &desired.list {
        HostList::Unavailable(_) => {
            // Never act on a partial list: not even a removal of something unrelated.
            return Plan {
                steps: Vec::new(),
                code: Code::TempFail,
            };
        }
        HostList::NotConfigured if !settings.allow_empty => {
            return Plan {
                steps: Vec::new(),
                code: Code::NotConfigured,
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
        let new_name = format!("{n}{NEW_SUFFIX}");
        let old_name = format!("{n}{OLD_SUFFIX}");
        handled.insert(n.to_string());
        let mut current: Option<Existing> = by_name.get(n).map(|c| Existing::from(*c));
        // Whether it is up when this name's own action runs (recovery steps can change it).
        let mut up = current.as_ref().is_some_and(|c| c.running);
        let mut current_owner: Option<&str> = by_name.get(n).and_then(|c| c.owner());
        // Set when an interrupted replace left the old container stopped: whatever the
        // record now says, "leave it as it is" must not mean "leave the service down".
        let mut restore = false;

        if let Some(old) = by_name.get(old_name.as_str()) {
            let old_e = Existing::from(*old);
            match current.take() {
                None => {
                    steps.push(Step::new(
                        n,
                        Action::RenameBack { old: old_e.clone() },
                        "an interrupted replace renamed it aside; it gets its name back",
                    ));
                    // We stopped it ourselves; count it as running so a failed retry of
                    // the replace brings the service back rather than leaving it down.
                    up = old.running();
                    restore = !up;
                    current = Some(Existing {
                        name: n.to_string(),
                        running: true,
                        ..old_e
                    });
                    current_owner = old.owner();
                }
                Some(cur) => {
                    steps.push(Step::new(
                        n,
                        Action::Finish {
                            current: cur.clone(),
                            old: old_e,
                        },
                        "an interrupted replace left the old container aside: finish it",
                    ));
                    // Finish starts it (or rolls back to the old one).
                    up = true;
                    current = Some(Existing {
                        running: true,
                        ..cur
                    });
                }
            }
        }
        // After the old container's repair, so that a failure to discard the leftover (which
        // skips the steps after it) cannot keep the old one from its name. Only a replacement
        // we created (it carries our label) is ours to discard; a foreign container that
        // merely has such a name is left alone.
        if let Some(c) = by_name.get(new_name.as_str())
            && c.owner().is_some()
        {
            steps.push(Step::new(
                n,
                Action::Discard {
                    existing: Existing::from(*c),
                },
                "a replacement left over by an interrupted run; it never took the name",
            ));
        }
        handled.insert(new_name);
        handled.insert(old_name);

        match &w.state {
            WantedState::Spec { record, spec } => {
                let Some(cur) = current else {
                    steps.push(Step::new(
                        n,
                        Action::Create { spec: spec.clone() },
                        format!("listed, not present; record {record}"),
                    ));
                    continue;
                };
                match current_owner {
                    Some(label) if Some(label) == wanted_label(spec) => {
                        // What a `--pull always` pull before planning found (crate::refresh).
                        let refresh = by_name
                            .get(n)
                            .filter(|c| c.id == cur.id)
                            .map(|c| &c.refresh);
                        steps.push(up_to_date(n, cur, up, spec, refresh, &mut code));
                    }
                    None if settings.no_adopt => {
                        code = code.worst(Code::DataError);
                        steps.push(leave(
                            n,
                            Some(cur),
                            restore,
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
                Some(cur) if current_owner.is_none() && settings.no_adopt => {
                    steps.push(leave(
                        n,
                        Some(cur),
                        restore,
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
                steps.push(leave(
                    n,
                    current,
                    restore,
                    format!("invalid record, left as it is: {why}"),
                ));
            }
            WantedState::Unknown(why) => {
                code = code.worst(Code::TempFail);
                steps.push(leave(
                    n,
                    current,
                    restore,
                    format!("record unavailable, left as it is: {why}"),
                ));
            }
        }
    }

    // A list entry that is not a name (`s1;s2`, a stray byte) may be a typo of a name the
    // list meant to keep: while one is there, what the list does not name is left alone.
    let typo = wanted
        .iter()
        .find(|w| matches!(w.state, WantedState::Invalid { record: None, .. }));
    // Ours, and DNS (authoritatively) no longer lists it.
    for c in actual {
        if c.owner().is_some() && !handled.contains(&c.name) {
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
    Plan { steps, code }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Wanted;
    use crate::spec::OWNER_LABEL;

    fn spec(text: &str) -> Box<ContainerSpec> {
        Box::new(crate::spec::tests::example(
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
                    Action::Leave { existing } => ("leave", existing.as_ref().map(|e| &e.id)),
                    Action::Finish { old, .. } => ("finish", Some(&old.id)),
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
        make(d, actual, Settings::default())
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
        let p = make(
            &d,
            &actual,
            Settings {
                allow_empty: true,
                no_adopt: false,
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
        let p = make(&d, &actual, s);
        assert_eq!(
            render(&p),
            vec!["n1:leave:id-n1", "n2:leave:id-n2", "n3:replace:id-n3"]
        );
        assert_eq!(p.code, Code::DataError);
    }

    #[test]
    fn recovery_after_an_interrupted_replace() {
        let d = listed(vec![("n1", want("a"))]);
        // Crash after create of the new one: discard it, then the replace happens again.
        let p = plan(
            &d,
            &[
                ctr("n1", Some("old"), "running"),
                ctr("n1.ddp-new", Some("a"), "created"),
            ],
        );
        assert_eq!(
            render(&p),
            vec!["n1:discard:id-n1.ddp-new", "n1:replace:id-n1"]
        );

        // Crash after the old one was renamed aside: it gets its name back and is replaced
        // again, remembered as running so a failure restores the service.
        let p = plan(
            &d,
            &[
                ctr("n1.ddp-old", None, "exited"),
                ctr("n1.ddp-new", Some("a"), "created"),
            ],
        );
        assert_eq!(
            render(&p),
            vec![
                "n1:rename-back:id-n1.ddp-old",
                "n1:discard:id-n1.ddp-new",
                "n1:replace:id-n1.ddp-old"
            ]
        );
        let Action::Replace { existing, .. } = &p.steps[2].action else {
            panic!()
        };
        assert!(existing.running);
        assert_eq!(existing.name, "n1");

        // Same, but the aside one is already what DNS wants: rename back and start.
        let p = plan(&d, &[ctr("n1.ddp-old", Some("a"), "exited")]);
        assert_eq!(
            render(&p),
            vec!["n1:rename-back:id-n1.ddp-old", "n1:start:id-n1.ddp-old"]
        );

        // Crash after the new one took the name: finish (start it, drop the old one).
        let p = plan(
            &d,
            &[
                ctr("n1", Some("a"), "created"),
                ctr("n1.ddp-old", None, "exited"),
            ],
        );
        assert_eq!(render(&p), vec!["n1:finish:id-n1.ddp-old", "n1:keep:id-n1"]);

        // Temporaries of a listed name are never swept as "unlisted".
        assert!(!render(&p).iter().any(|s| s.contains("remove")));

        // A record that is now invalid or unavailable leaves the container as it was before
        // the interrupted replace: named back and running, not stopped aside.
        for state in [invalid(), WantedState::Unknown("t".into())] {
            let d = listed(vec![("n1", state)]);
            let aside = [ctr("n1.ddp-old", Some("x"), "exited")];
            assert_eq!(
                render(&plan(&d, &aside)),
                vec!["n1:rename-back:id-n1.ddp-old", "n1:start:id-n1.ddp-old"]
            );
            let running = [ctr("n1.ddp-old", Some("x"), "running")];
            assert_eq!(
                render(&plan(&d, &running)),
                vec!["n1:rename-back:id-n1.ddp-old", "n1:leave:id-n1.ddp-old"]
            );
        }

        // A container that merely has a replacement's name but not our label is not ours:
        // it is neither discarded nor swept.
        let p = plan(
            &d,
            &[
                ctr("n1", Some("a"), "running"),
                ctr("n1.ddp-new", None, "running"),
            ],
        );
        assert_eq!(render(&p), vec!["n1:keep:id-n1"]);

        // Temporaries of a name DNS no longer lists are ours and removed.
        let p = plan(&listed(vec![]), &[ctr("x1.ddp-new", Some("a"), "created")]);
        assert_eq!(render(&p), vec!["x1.ddp-new:remove:id-x1.ddp-new"]);
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
        let with = |state: &str, refresh: Refresh| Container {
            refresh,
            ..ctr("n1", Some("a"), state)
        };
        let updated = Refresh::Updated("sha256:0123456789abcdef0123".into());
        let p = plan(&d, &[with("running", updated.clone())]);
        assert_eq!(render(&p), vec!["n1:replace:id-n1"]);
        assert!(
            p.steps[0].reason.starts_with("image updated"),
            "{:?}",
            p.steps[0]
        );
        assert_eq!(p.code, Code::Ok);
        // A changed record is the reason, whatever the image.
        let changed = Container {
            refresh: updated,
            ..ctr("n1", Some("b"), "running")
        };
        assert!(plan(&d, &[changed]).steps[0].reason.contains("changed"));
        let p = plan(&d, &[with("running", Refresh::Current)]);
        assert_eq!(
            (render(&p), p.code),
            (vec!["n1:keep:id-n1".to_string()], Code::Ok)
        );
        let failed = || Refresh::Failed("pull of x failed: registry r unreachable".into());
        let p = plan(&d, &[with("running", failed())]);
        assert_eq!(render(&p), vec!["n1:keep:id-n1"]);
        assert!(
            p.steps[0].reason.contains("unreachable"),
            "{:?}",
            p.steps[0]
        );
        assert_eq!(p.code, Code::ActionsFailed);
        let p = plan(&d, &[with("exited", failed())]);
        assert_eq!(
            (render(&p), p.code),
            (vec!["n1:start:id-n1".to_string()], Code::ActionsFailed)
        );
    }
}
