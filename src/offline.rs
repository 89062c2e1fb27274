//! The offline start's rules: while DNS is silent, which containers of the last converged
//! state may be started again. Only a container that exists, is stopped, carries our label
//! with the very identity the state remembers, and whose record this run's policy still
//! allows is started; nothing is ever created, replaced or removed, since without DNS the
//! tool does not know what the host should run now, only what it last verified. Pure: the
//! state and the engine's list in, steps out; `apply` runs them like any start.

use crate::desired::Parser;
use crate::docker::Container;
use crate::state::Converged;
use crate::step::{Action, Existing, Step};

/// What the offline start does with the last converged state. Its only action is a start:
/// the type holds the stopped containers, and [`OfflinePlan::steps`] makes starts of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfflinePlan {
    /// The stopped containers of the state to start, by name.
    pub starts: Vec<(String, Existing)>,
    /// Containers of the state that already run, as they are.
    pub up: Vec<String>,
    /// Containers of the state that are not started, and why.
    pub refused: Vec<(String, String)>,
}

impl OfflinePlan {
    /// The steps `apply` runs: one [`Action::Start`] per stopped container.
    pub fn steps(&self) -> Vec<Step> {
        self.starts
            .iter()
            .map(|(name, existing)| {
                Step::new(
                    name,
                    Action::Start {
                        existing: existing.clone(),
                    },
                    "DNS unavailable: started as the last converged state ran it",
                )
            })
            .collect()
    }

    /// Whether every container of the state will be up once the starts are verified.
    pub fn complete(&self) -> bool {
        self.refused.is_empty()
    }
}

/// The offline start for `converged`, given the engine's containers (as crash recovery
/// leaves them) and the parser that holds this run's policy.
pub fn plan(converged: &Converged, view: &[Container], parse: Parser<'_>) -> OfflinePlan {
    let mut p = OfflinePlan::default();
    for ran in &converged.containers {
        let container = view.iter().find(|c| c.name == ran.name);
        match decide(ran, container, parse) {
            Ok(None) => p.up.push(ran.name.clone()),
            Ok(Some(c)) => p.starts.push((ran.name.clone(), Existing::from(c))),
            Err(why) => p.refused.push((ran.name.clone(), why)),
        }
    }
    p
}

/// The container to start for one entry, `None` when it runs already, or why not.
fn decide<'a>(
    ran: &crate::state::Ran,
    container: Option<&'a Container>,
    parse: Parser<'_>,
) -> Result<Option<&'a Container>, String> {
    let c = container.ok_or("no such container: nothing is created while DNS is unavailable")?;
    match c.owner() {
        None => return Err("it has no ownership label: not ours to start".into()),
        Some(label) if label != ran.identity => {
            return Err("its identity changed since the last converged state".into());
        }
        Some(_) => {}
    }
    let spec = parse(&ran.text).map_err(|why| format!("refused by this run's rules: {why}"))?;
    if spec.owner_label() != Some(ran.identity.as_str()) {
        return Err("the state's record text does not match its identity".into());
    }
    if c.running() {
        return Ok(None);
    }
    Ok(Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{self, OWNER_LABEL, Policy, SystemHost};
    use crate::state::Ran;

    const TEXT: &str = "--network none busybox sleep 60";

    fn parser(policy: Policy) -> impl Fn(&str) -> Result<container::ContainerSpec, String> + Sync {
        move |text: &str| {
            let s = container::parse(text, &SystemHost).map_err(|e| e.to_string())?;
            policy.check(&s).map_err(|e| e.to_string())?;
            Ok(s)
        }
    }

    fn ran(name: &str, text: &str) -> Ran {
        Ran {
            name: name.into(),
            identity: container::owner_label(text),
            record: format!("{name}.containers.docker.h.example"),
            text: text.into(),
        }
    }

    fn engine_has(name: &str, state: &str, label: Option<&str>) -> Container {
        Container {
            id: format!("id-{name}"),
            name: name.into(),
            state: state.into(),
            labels: label
                .map(|l| [(OWNER_LABEL.to_string(), l.to_string())].into())
                .unwrap_or_default(),
            ..Container::default()
        }
    }

    fn names(starts: &[(String, Existing)]) -> Vec<&str> {
        starts.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Only a stopped container of ours with the remembered identity is started; the only
    /// action is a start, whatever the engine and the state hold.
    #[test]
    fn only_what_exists_stopped_and_unchanged_is_started() {
        let id = container::owner_label(TEXT);
        let other = container::owner_label("busybox true");
        let state = Converged::new(
            1,
            [
                "stopped",
                "exited",
                "running",
                "gone",
                "changed",
                "unlabelled",
            ]
            .map(|n| ran(n, TEXT)),
        );
        let view = [
            engine_has("stopped", "created", Some(&id)),
            engine_has("exited", "exited", Some(&id)),
            engine_has("running", "running", Some(&id)),
            engine_has("changed", "exited", Some(&other)),
            engine_has("unlabelled", "exited", None),
            // Not in the state: never touched, however it looks.
            engine_has("stranger", "exited", Some(&id)),
        ];
        let p = plan(&state, &view, &parser(Policy::default()));
        assert_eq!(names(&p.starts), ["stopped", "exited"]);
        let steps = p.steps();
        assert_eq!(steps.len(), 2);
        for s in &steps {
            let Action::Start { existing } = &s.action else {
                panic!("not a start: {s:?}");
            };
            assert_eq!(existing.id, format!("id-{}", s.name));
        }
        assert_eq!(p.up, ["running"]);
        let refused: Vec<&str> = p.refused.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(refused, ["gone", "changed", "unlabelled"]);
        assert!(p.refused[0].1.contains("nothing is created"), "{p:?}");
        assert!(p.refused[1].1.contains("identity changed"), "{p:?}");
        assert!(!p.complete());
    }

    /// This run's policy still applies: a record it refuses is not started, even though
    /// the state lists it.
    #[test]
    fn the_policy_of_this_run_still_applies() {
        let privileged = "--privileged --network none busybox sleep 60";
        let state = Converged::new(1, [ran("web", TEXT), ran("root", privileged)]);
        let view = [
            engine_has("web", "exited", Some(&container::owner_label(TEXT))),
            engine_has("root", "exited", Some(&container::owner_label(privileged))),
        ];
        let open = plan(&state, &view, &parser(Policy::default()));
        assert_eq!(names(&open.starts), ["web", "root"]);
        assert!(open.complete());
        let strict = Policy {
            allow_images: vec!["docker.io/library/alpine".into()],
            forbid_privileged: true,
        };
        let p = plan(&state, &view, &parser(strict));
        assert!(p.starts.is_empty(), "{p:?}");
        assert_eq!(p.refused.len(), 2);
        assert!(
            p.refused
                .iter()
                .all(|(_, why)| why.contains("refused by this run's rules"))
        );
    }

    /// A state whose text and identity disagree (a hand-edited file) starts nothing.
    #[test]
    fn a_text_that_does_not_match_its_identity_is_refused() {
        let mut forged = ran("web", "--network none busybox sh -c 'evil'");
        forged.identity = container::owner_label(TEXT);
        let state = Converged::new(1, [forged]);
        let view = [engine_has(
            "web",
            "exited",
            Some(&container::owner_label(TEXT)),
        )];
        let p = plan(&state, &view, &parser(Policy::default()));
        assert!(p.starts.is_empty());
        assert!(p.refused[0].1.contains("does not match"), "{p:?}");
    }

    /// An empty state, or one whose containers all run, starts nothing and is complete.
    #[test]
    fn nothing_to_start_is_complete() {
        let p = plan(&Converged::default(), &[], &parser(Policy::default()));
        assert_eq!(p, OfflinePlan::default());
        assert!(p.complete());
    }
}
