//! Crash recovery: the repairs that bring every name
//! back to its state before an interrupted replace. A pure function of the engine's
//! containers alone (no DNS): it runs first, also while DNS is down, and it only ever
//! returns to a pre-replace state; deciding what DNS wants is the planner's business.

use crate::docker::Container;
use crate::step::{
    Action, Existing, FAILED_SUFFIX, NEW_SUFFIX, OLD_SUFFIX, Step, split, temporary,
};
use std::collections::{BTreeMap, BTreeSet};

/// What recovery does: the repairs, the containers as they will be once the repairs are
/// done (what the planner starts from), and the names it could not repair.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    /// Repairs; those of one name run in order, and a failure skips the rest of that name.
    pub steps: Vec<Step>,
    /// The engine's containers as the repairs leave them.
    pub view: Vec<Container>,
    /// Names left as they are because what holds them is not ours; the planner leaves them.
    pub held: BTreeSet<String>,
}

/// The repairs for every name a crash left mid-replace. With `no_adopt`, a temporary
/// without our label is never touched (nor is an unlabelled container under the name).
pub fn recover(actual: Vec<Container>, no_adopt: bool) -> Recovery {
    let by_name: BTreeMap<&str, &Container> =
        crate::btree::map(actual.iter().map(|c| (c.name.as_str(), c)));
    let bases: BTreeSet<&str> = crate::btree::set(
        actual
            .iter()
            .filter_map(|c| split(&c.name).map(|(base, _)| base)),
    );
    let mut steps = Vec::new();
    let mut held = BTreeSet::new();
    // Containers by ID as the repairs leave them; `None` once removed.
    let mut after: BTreeMap<&str, Option<Container>> = BTreeMap::new();
    for base in bases {
        let at = |suffix: &str| by_name.get(temporary(base, suffix).as_str()).copied();
        // An unlabelled `.ddp-old` is ours unless --no-adopt: adopting renames a container
        // without our label aside. A replacement is always created with our label.
        let old = at(OLD_SUFFIX).filter(|c| c.owner().is_some() || !no_adopt);
        let new = at(NEW_SUFFIX).filter(|c| c.owner().is_some());
        let failed = at(FAILED_SUFFIX).filter(|c| c.owner().is_some());
        let current = by_name.get(base).copied();
        let step = |action, reason: &str| Step {
            name: base.to_string(),
            action,
            reason: reason.to_string(),
        };
        if let (Some(old), Some(cur)) = (old, current)
            && cur.owner().is_none()
        {
            // Not a replacement of ours: something else took the name meanwhile.
            held.insert(base.to_string());
            steps.push(step(
                Action::Leave {
                    existing: Some(Existing::from(old)),
                },
                "an interrupted replace left the old container aside, and a container without our label holds the name: both left as they are",
            ));
            continue;
        }
        // First: what starts the service again is the name's last step, the one verified.
        if let Some(new) = new {
            steps.push(step(
                Action::Discard {
                    existing: Existing::from(new),
                },
                "a replacement left over by an interrupted run; it never took the name",
            ));
            after.insert(&new.id, None);
        }
        if let Some(old) = old {
            if let Some(cur) = current {
                steps.push(step(
                    Action::Discard {
                        existing: Existing::from(cur),
                    },
                    "an interrupted replace put this replacement in place before it was verified; the old container goes back",
                ));
                after.insert(&cur.id, None);
            }
            steps.push(step(
                Action::RenameBack {
                    old: Existing::from(old),
                },
                "an interrupted replace renamed it aside; it gets its name back",
            ));
            restart(base, old, &mut steps, &mut after, "an interrupted replace");
        } else if let Some(cur) = current
            && (new.is_some() || failed.is_some())
            && (cur.owner().is_some() || !no_adopt)
        {
            // A replace was under way (or rolled back), and a replace only ever takes down a
            // service it means to run: if the old one is stopped, the replace stopped it.
            let why = if new.is_some() {
                "an interrupted replace"
            } else {
                "a rolled-back replace"
            };
            restart(base, cur, &mut steps, &mut after, why);
        }
    }
    let mut after: BTreeMap<String, Option<Container>> =
        crate::btree::map(after.into_iter().map(|(id, c)| (id.to_string(), c)));
    // The list itself becomes the view: at 200 containers a copy was a tenth of the peak.
    let view = actual
        .into_iter()
        .filter_map(|c| after.remove(&c.id).unwrap_or(Some(c)))
        .collect();
    Recovery { steps, view, held }
}

/// Put `c` under `base` (it may be there already) and running again.
fn restart<'a>(
    base: &str,
    c: &'a Container,
    steps: &mut Vec<Step>,
    after: &mut BTreeMap<&'a str, Option<Container>>,
    why: &str,
) {
    let mut now = Container {
        name: base.to_string(),
        ..c.clone()
    };
    if !c.running() {
        steps.push(Step {
            name: base.to_string(),
            action: Action::Start {
                existing: Existing::from(&now),
            },
            reason: format!("{why} had stopped it; it runs again"),
        });
        now.state = "running".to_string();
    }
    after.insert(&c.id, Some(now));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::OWNER_LABEL;

    /// How one name's container is: absent, or labelled or not, running or not.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Slot {
        Absent,
        Ours(bool),
        Foreign(bool),
    }

    const SLOTS: [Slot; 5] = [
        Slot::Absent,
        Slot::Ours(true),
        Slot::Ours(false),
        Slot::Foreign(true),
        Slot::Foreign(false),
    ];

    fn ctr(name: &str, slot: Slot) -> Option<Container> {
        let (owned, running) = match slot {
            Slot::Absent => return None,
            Slot::Ours(r) => (true, r),
            Slot::Foreign(r) => (false, r),
        };
        let mut labels = BTreeMap::new();
        if owned {
            labels.insert(OWNER_LABEL.to_string(), "L".to_string());
        }
        Some(Container {
            id: format!("id-{name}"),
            name: name.to_string(),
            labels,
            state: if running { "running" } else { "exited" }.to_string(),
            ..Container::default()
        })
    }

    fn world(cur: Slot, new: Slot, old: Slot, failed: Slot) -> Vec<Container> {
        [
            ctr("n", cur),
            ctr("n.ddp-new", new),
            ctr("n.ddp-old", old),
            ctr("n.ddp-failed", failed),
            // Another name, never part of n's repair.
            ctr("m", Slot::Ours(false)),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// A compact rendering: "verb:id".
    fn render(r: &Recovery) -> Vec<String> {
        r.steps
            .iter()
            .map(|s| {
                assert_eq!(s.name, "n");
                let (verb, id) = match &s.action {
                    Action::Start { existing } => ("start", &existing.id),
                    Action::Discard { existing } => ("discard", &existing.id),
                    Action::RenameBack { old } => ("rename-back", &old.id),
                    Action::Leave { existing: Some(e) } => ("leave", &e.id),
                    other => panic!("recovery never plans {other:?}"),
                };
                format!("{verb}:{id}")
            })
            .collect()
    }

    /// What the engine holds after the steps, modelled: name → (id, labelled, running).
    fn simulate(actual: &[Container], steps: &[Step]) -> BTreeMap<String, (String, bool, bool)> {
        let mut m: BTreeMap<String, (String, bool, bool)> =
            crate::btree::map(actual.iter().map(|c| {
                (
                    c.name.clone(),
                    (c.id.clone(), c.owner().is_some(), c.running()),
                )
            }));
        let find = |m: &BTreeMap<String, (String, bool, bool)>, id: &str| {
            m.iter()
                .find(|(_, (i, _, _))| i == id)
                .map(|(n, _)| n.clone())
                .unwrap_or_else(|| panic!("{id} is not there"))
        };
        for s in steps {
            match &s.action {
                Action::Start { existing } => {
                    let n = find(&m, &existing.id);
                    m.get_mut(&n).unwrap().2 = true;
                }
                Action::Discard { existing } => {
                    let n = find(&m, &existing.id);
                    m.remove(&n);
                }
                Action::RenameBack { old } => {
                    let n = find(&m, &old.id);
                    assert!(
                        !m.contains_key(&s.name),
                        "rename onto a taken name: {steps:?}"
                    );
                    let c = m.remove(&n).unwrap();
                    m.insert(s.name.clone(), c);
                }
                Action::Leave { .. } => {}
                other => panic!("{other:?}"),
            }
        }
        m
    }

    fn as_model(view: &[Container]) -> BTreeMap<String, (String, bool, bool)> {
        view.iter()
            .map(|c| {
                (
                    c.name.clone(),
                    (c.id.clone(), c.owner().is_some(), c.running()),
                )
            })
            .collect()
    }

    /// Every combination of `n`, `n.ddp-new`, `n.ddp-old` and `n.ddp-failed` (absent,
    /// labelled or not, running or not), with and without --no-adopt: the rules hold.
    #[test]
    fn every_combination_returns_to_a_state_before_the_replace() {
        let mut cases = 0;
        for no_adopt in [false, true] {
            for cur in SLOTS {
                for new in SLOTS {
                    for old in SLOTS {
                        for failed in SLOTS {
                            cases += 1;
                            check(cur, new, old, failed, no_adopt);
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 2 * 5 * 5 * 5 * 5);
    }

    fn check(cur: Slot, new: Slot, old: Slot, failed: Slot, no_adopt: bool) {
        let actual = world(cur, new, old, failed);
        let r = recover(actual.clone(), no_adopt);
        let case =
            format!("n={cur:?} new={new:?} old={old:?} failed={failed:?} no_adopt={no_adopt}");
        let after = simulate(&actual, &r.steps);
        // The view is what the repairs leave.
        assert_eq!(as_model(&r.view), after, "{case}: {:?}", r.steps);
        // Other names are never touched.
        assert_eq!(
            after.get("m"),
            Some(&("id-m".into(), true, false)),
            "{case}"
        );
        let touched: BTreeSet<&str> = crate::btree::set(
            r.steps
                .iter()
                .filter(|s| !matches!(s.action, Action::Leave { .. }))
                .filter_map(|s| match &s.action {
                    Action::Start { existing } | Action::Discard { existing } => {
                        Some(existing.id.as_str())
                    }
                    Action::RenameBack { old } => Some(old.id.as_str()),
                    _ => None,
                }),
        );
        // A replacement without our label is never ours; with --no-adopt nothing unlabelled is.
        if matches!(new, Slot::Foreign(_)) {
            assert!(!touched.contains("id-n.ddp-new"), "{case}: {:?}", r.steps);
        }
        if matches!(failed, Slot::Foreign(_)) || matches!(failed, Slot::Ours(_)) {
            assert!(
                !touched.contains("id-n.ddp-failed"),
                "{case}: {:?}",
                r.steps
            );
        }
        if no_adopt {
            for (slot, id) in [(cur, "id-n"), (old, "id-n.ddp-old")] {
                if matches!(slot, Slot::Foreign(_)) {
                    assert!(!touched.contains(id), "{case}: {:?}", r.steps);
                }
            }
        }
        let old_ours = match old {
            Slot::Ours(_) => true,
            Slot::Foreign(_) => !no_adopt,
            Slot::Absent => false,
        };
        let held = old_ours && matches!(cur, Slot::Foreign(_));
        assert_eq!(r.held.contains("n"), held, "{case}");
        if held {
            assert_eq!(after, as_model(&actual), "{case}: held means untouched");
            return;
        }
        // No labelled replacement, and no old container of ours, is left aside.
        assert!(
            !after.contains_key("n.ddp-new") || matches!(new, Slot::Foreign(_)),
            "{case}"
        );
        assert!(!after.contains_key("n.ddp-old") || !old_ours, "{case}");
        // The old service is never removed, and it is what holds the name afterwards.
        let service = if old_ours {
            Some("id-n.ddp-old")
        } else if cur != Slot::Absent {
            Some("id-n")
        } else {
            None
        };
        if let Some(id) = service {
            let (at_n, _, running) = after.get("n").unwrap_or_else(|| panic!("{case}: no n"));
            assert_eq!(at_n, id, "{case}");
            // A replace in progress (or rolled back) means the old one ran: it runs again,
            // unless --no-adopt keeps us off an unlabelled one.
            let evidence =
                old_ours || matches!(new, Slot::Ours(_)) || matches!(failed, Slot::Ours(_));
            let adoptable = old_ours || !matches!(cur, Slot::Foreign(_)) || !no_adopt;
            if evidence && adoptable {
                assert!(running, "{case}: the old service is left stopped");
            }
            if !evidence {
                assert!(
                    r.steps.is_empty(),
                    "{case}: nothing to repair: {:?}",
                    r.steps
                );
            }
        }
        // What starts the service again is the name's last repair: the one apply verifies.
        if let Some(i) = r
            .steps
            .iter()
            .position(|s| matches!(s.action, Action::Start { .. }))
        {
            assert_eq!(i + 1, r.steps.len(), "{case}: {:?}", r.steps);
        }
        // Recovery is idempotent: the state it leaves needs no repair.
        assert!(
            recover(r.view.clone(), no_adopt).steps.is_empty(),
            "{case}: {:?} then {:?}",
            r.steps,
            recover(r.view.clone(), no_adopt).steps
        );
    }

    // Exempt from the length limit: a data table of crash points and the repairs each gets, one
    // row each.
    #[allow(clippy::too_many_lines)]
    #[test]
    fn the_repairs_for_each_crash_point_of_a_replace() {
        use Slot::*;
        // (n, .ddp-new, .ddp-old, .ddp-failed, --no-adopt) → repairs.
        type Case = (Slot, Slot, Slot, Slot, bool, &'static [&'static str]);
        let cases: &[Case] = &[
            // Nothing in progress.
            (Ours(true), Absent, Absent, Absent, false, &[]),
            (Ours(false), Absent, Absent, Absent, false, &[]),
            // After the replacement was created: drop it.
            (
                Ours(true),
                Ours(false),
                Absent,
                Absent,
                false,
                &["discard:id-n.ddp-new"],
            ),
            // After the old one was stopped (item 4): it runs again, the replacement goes.
            (
                Ours(false),
                Ours(false),
                Absent,
                Absent,
                false,
                &["discard:id-n.ddp-new", "start:id-n"],
            ),
            // The same with an adopted (unlabelled) old one, unless --no-adopt.
            (
                Foreign(false),
                Ours(false),
                Absent,
                Absent,
                false,
                &["discard:id-n.ddp-new", "start:id-n"],
            ),
            (
                Foreign(false),
                Ours(false),
                Absent,
                Absent,
                true,
                &["discard:id-n.ddp-new"],
            ),
            // After the old one was renamed aside.
            (
                Absent,
                Ours(false),
                Ours(false),
                Absent,
                false,
                &[
                    "discard:id-n.ddp-new",
                    "rename-back:id-n.ddp-old",
                    "start:id-n.ddp-old",
                ],
            ),
            // After the replacement took the name (started or not): back to the old one.
            (
                Ours(true),
                Absent,
                Ours(false),
                Absent,
                false,
                &[
                    "discard:id-n",
                    "rename-back:id-n.ddp-old",
                    "start:id-n.ddp-old",
                ],
            ),
            (
                Ours(false),
                Absent,
                Foreign(false),
                Absent,
                false,
                &[
                    "discard:id-n",
                    "rename-back:id-n.ddp-old",
                    "start:id-n.ddp-old",
                ],
            ),
            // --no-adopt: an unlabelled .ddp-old is not ours (item 6).
            (Absent, Absent, Foreign(false), Absent, true, &[]),
            (Ours(true), Absent, Foreign(false), Absent, true, &[]),
            // An old container already running again keeps running.
            (
                Absent,
                Absent,
                Ours(true),
                Absent,
                false,
                &["rename-back:id-n.ddp-old"],
            ),
            // A rollback interrupted before the old one was started again.
            (
                Ours(false),
                Absent,
                Absent,
                Ours(false),
                false,
                &["start:id-n"],
            ),
            (Ours(true), Absent, Absent, Ours(false), false, &[]),
            (
                Absent,
                Absent,
                Ours(false),
                Ours(false),
                false,
                &["rename-back:id-n.ddp-old", "start:id-n.ddp-old"],
            ),
            // A foreign container holds the name while ours is aside: hands off.
            (
                Foreign(true),
                Absent,
                Ours(false),
                Absent,
                false,
                &["leave:id-n.ddp-old"],
            ),
            // Replacements without our label are not ours.
            (Ours(false), Foreign(false), Absent, Absent, false, &[]),
        ];
        for (cur, new, old, failed, no_adopt, want) in cases {
            let r = recover(world(*cur, *new, *old, *failed), *no_adopt);
            assert_eq!(
                render(&r),
                want.to_vec(),
                "n={cur:?} new={new:?} old={old:?} failed={failed:?} no_adopt={no_adopt}"
            );
        }
    }
}
