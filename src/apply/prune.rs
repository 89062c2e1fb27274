//! `--prune-images`: after a run, remove the images that managed containers ran before this
//! run replaced or removed them, once no container uses them. Which images qualify is a pure
//! rule ([`unused`]); the removal is unforced, so the engine itself refuses an image that a
//! container uses or other tags name. A failure is reported, never fatal to the run.

use super::{Outcome, StepResult};
use crate::btree::IntoTree;
use crate::docker::{EngineCalls, short_id};
use crate::plan::Action;
use std::collections::{BTreeMap, BTreeSet};

/// One image `--prune-images` tried to remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// The image ID.
    pub image: String,
    /// The managed container that ran it before this run.
    pub container: String,
    /// `Ok` when removed; else why it stayed.
    pub result: Result<(), String>,
}

/// The images managed containers ran before this run's replaces and removals (crash
/// repairs' discards included), by ID, with the name of one such container. Only a container
/// with the tool's label counts: an image the tool never ran is never a candidate.
pub fn candidates(outcomes: &[Outcome]) -> BTreeMap<String, String> {
    outcomes
        .iter()
        .filter(|o| o.result == StepResult::Done)
        .filter_map(|o| match &o.step.action {
            Action::Replace { existing, .. }
            | Action::Remove { existing }
            | Action::Discard { existing } => Some((existing, &o.step.name)),
            _ => None,
        })
        .filter(|(e, _)| e.record.is_some() && !e.image_id.is_empty())
        .map(|(e, name)| (e.image_id.clone(), name.clone()))
        .into_map()
}

/// The candidates that nothing needs now: no container uses them (`in_use`, every container
/// the engine has, ours or not, `.ddp-failed` ones included) and no listed record names them
/// (`wanted`, the IDs its images resolve to).
pub fn unused(
    candidates: BTreeMap<String, String>,
    in_use: &BTreeSet<String>,
    wanted: &BTreeSet<String>,
) -> Vec<(String, String)> {
    candidates
        .into_iter()
        .filter(|(id, _)| !in_use.contains(id) && !wanted.contains(id))
        .collect()
}

/// Remove what [`unused`] allows, after a run whose outcomes are `outcomes`; `wanted`
/// resolves the listed records' images to IDs. No engine call without a candidate.
pub fn prune(
    engine: &dyn EngineCalls,
    outcomes: &[Outcome],
    wanted: impl FnOnce() -> BTreeSet<String>,
) -> Vec<Pruned> {
    let candidates = candidates(outcomes);
    if candidates.is_empty() {
        return Vec::new();
    }
    let in_use: BTreeSet<String> = match engine.list() {
        Ok(list) => list.into_iter().map(|c| c.image_id).into_set(),
        Err(e) => {
            log::warn!("no image pruned: the container list failed: {e}");
            return Vec::new();
        }
    };
    unused(candidates, &in_use, &wanted())
        .into_iter()
        .map(|(image, container)| {
            let result = engine.remove_image(&image).map_err(|e| e.to_string());
            match &result {
                Ok(()) => log::info!(
                    "pruned image {} (run by {container} before this run)",
                    short_id(&image)
                ),
                Err(e) => log::warn!("image {} not pruned: {e}", short_id(&image)),
            }
            Pruned {
                image,
                container,
                result,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::StepFailure;
    use crate::apply::fake::{FakeEngine, Seed};
    use crate::plan::{Existing, Step};

    fn existing(id: &str, image: &str, managed: bool) -> Existing {
        Existing {
            id: id.into(),
            name: id.into(),
            record: managed.then(|| "text".to_string()),
            image_id: format!("sha256:{image}"),
            ..Existing::default()
        }
    }

    fn done(name: &str, action: Action, result: StepResult) -> Outcome {
        Outcome {
            step: Step::new(name, action, "r"),
            result,
            finished: None,
        }
    }

    #[test]
    fn only_images_managed_containers_left_behind_are_candidates() {
        let spec =
            std::sync::Arc::new(crate::container::tests::example("t", serde_json::json!({})));
        let o = vec![
            done(
                "a",
                Action::Replace {
                    existing: existing("a", "old-a", true),
                    spec: spec.clone(),
                },
                StepResult::Done,
            ),
            done(
                "b",
                Action::Remove {
                    existing: existing("b", "old-b", true),
                },
                StepResult::Done,
            ),
            // Adopted: the tool never ran its image.
            done(
                "c",
                Action::Replace {
                    existing: existing("c", "theirs", false),
                    spec,
                },
                StepResult::Done,
            ),
            // Failed: the old one still runs it.
            done(
                "d",
                Action::Remove {
                    existing: existing("d", "old-d", true),
                },
                StepResult::Failed(StepFailure::of("x")),
            ),
            done(
                "e",
                Action::Keep {
                    existing: existing("e", "kept", true),
                },
                StepResult::Done,
            ),
        ];
        let c = candidates(&o);
        assert_eq!(
            c.keys().collect::<Vec<_>>(),
            ["sha256:old-a", "sha256:old-b"]
        );
        let in_use: BTreeSet<String> = ["sha256:old-a".to_string()].into();
        let wanted: BTreeSet<String> = ["sha256:old-b".to_string()].into();
        assert!(unused(c.clone(), &in_use, &wanted).is_empty());
        assert_eq!(
            unused(c, &in_use, &BTreeSet::new()),
            [("sha256:old-b".to_string(), "b".to_string())]
        );
    }

    #[test]
    fn an_image_a_container_still_uses_is_never_removed() {
        let fake = FakeEngine::new();
        let spec = crate::container::tests::example("t", serde_json::json!({}));
        fake.seed(
            "other",
            "o1",
            &spec,
            Seed::Up(std::time::Duration::from_secs(60)),
        );
        let image = fake.list()[0].image_id.clone();
        let gone = Existing {
            record: Some("t".into()),
            image_id: image.clone(),
            ..Existing::default()
        };
        let o = vec![done(
            "x",
            Action::Remove { existing: gone },
            StepResult::Done,
        )];
        assert!(
            prune(&fake, &o, BTreeSet::new).is_empty(),
            "in use: not tried"
        );
        assert!(!fake.calls().iter().any(|c| c.starts_with("remove-image")));
        assert!(
            prune(&fake, &[], || unreachable!()).is_empty(),
            "no candidate: no call"
        );
    }
}
