//! The vocabulary of change: one action on one container name, with its reason, and the
//! temporary names a replace works under. Shared by
//! crash recovery and the planner, which decide the steps, and by apply, which runs them;
//! it decides nothing itself.

use crate::container::ContainerSpec;
use crate::docker::{Container, Health, Since};
use std::sync::Arc;

/// A container the engine already has, as the applier needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Existing {
    /// Container ID.
    pub id: String,
    /// Its current name.
    pub name: String,
    /// Whether it was up when the plan was made (to restore it on rollback).
    pub running: bool,
    /// Its healthcheck's status when the plan was made, if it has one.
    pub health: Option<Health>,
    /// Whether the engine was about to restart it (it exited, and its policy restarts it).
    pub restarting: bool,
    /// How long it had been up, or since it exited, when the plan was made.
    pub since: Since,
    /// The record text its ownership label carries (the original tool's label reads the
    /// same), to show what a replace changes; `None` when it has no such label.
    pub record: Option<String>,
    /// The ID of the image it runs (`--prune-images` removes it once nothing uses it).
    pub image_id: String,
}

impl From<&Container> for Existing {
    fn from(c: &Container) -> Self {
        Existing {
            id: c.id.clone(),
            name: c.name.clone(),
            running: c.running(),
            health: c.health,
            restarting: c.state == "restarting",
            since: c.since,
            record: c.owner().and_then(crate::container::record_text),
            image_id: c.image_id.clone(),
        }
    }
}

/// One thing to do (or deliberately not do) to one container name.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing is there: pull if needed, create and start.
    Create { spec: Arc<ContainerSpec> },
    /// Not running but should be: ours and unchanged, or stopped by an interrupted replace.
    Start { existing: Existing },
    /// Safe replace: create the new one aside, stop and rename the old one aside, rename the
    /// new one into place and start it; on failure roll back to the old one.
    Replace {
        existing: Existing,
        spec: Arc<ContainerSpec>,
    },
    /// Unchanged, but what it restarts after (`docker-dns-provision.restart-after`) is
    /// replaced: graceful stop, start, verified like any start.
    Restart { existing: Existing },
    /// Graceful stop (the container's own stop timeout), then remove.
    Remove { existing: Existing },
    /// Ours, unchanged and running (a healthcheck still starting is waited for).
    Keep { existing: Existing },
    /// A one-shot job that finished with status 0 and that nothing restarts: not run again
    /// until its record changes. `None`: a `--rm` job, gone, remembered as done.
    Finished { existing: Option<Existing> },
    /// The record's version failed verification before (`failed`, kept aside under the
    /// same record text): not retried; the old container, if any, keeps running untouched.
    HeldBack {
        existing: Option<Existing>,
        failed: Existing,
    },
    /// Left untouched on purpose (invalid record, unknown record, unlabelled with --no-adopt).
    Leave { existing: Option<Existing> },
    /// A replace was interrupted after the old container was renamed aside: give it its
    /// name back. Later actions for the same name follow.
    RenameBack { old: Existing },
    /// A temporary left by an interrupted replace that is of no further use: remove it.
    Discard { existing: Existing },
}

impl Action {
    /// The verb a person reads for an action.
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::Start { .. } => "start",
            Action::Replace { .. } => "replace",
            Action::Restart { .. } => "restart",
            Action::Remove { .. } => "remove",
            Action::Keep { .. } => "keep",
            Action::Finished { .. } => "finished",
            Action::HeldBack { .. } => "held-back",
            Action::Leave { .. } => "leave",
            Action::RenameBack { .. } => "rename-back",
            Action::Discard { .. } => "discard",
        }
    }
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

impl Step {
    /// A step on `name`.
    pub fn new(name: &str, action: Action, reason: impl Into<String>) -> Step {
        Step {
            name: name.to_string(),
            action,
            reason: reason.into(),
        }
    }
}

/// Suffix of the name a replacement is created under before it takes over.
pub const NEW_SUFFIX: &str = ".ddp-new";
/// Suffix of the name the replaced container is renamed to while the new one starts.
pub const OLD_SUFFIX: &str = ".ddp-old";
/// Suffix of the name a replacement that failed verification is kept under (stopped, for
/// `docker logs`), which also holds its version back from being retried.
pub const FAILED_SUFFIX: &str = ".ddp-failed";

/// Every suffix this tool reserves; no container name DNS lists may end in one.
pub const SUFFIXES: [&str; 3] = [NEW_SUFFIX, OLD_SUFFIX, FAILED_SUFFIX];

/// `name` under a temporary suffix.
pub fn temporary(name: &str, suffix: &str) -> String {
    format!("{name}{suffix}")
}

/// The name a temporary belongs to, and its suffix; `None` for an ordinary name.
pub fn split(name: &str) -> Option<(&str, &'static str)> {
    SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s).map(|base| (base, *s)))
        .filter(|(base, _)| !base.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What apply needs to know of a container it found: which it is, and whether it was
    /// up (to restore on rollback) or about to be restarted by the engine.
    #[test]
    fn an_existing_container_remembers_whether_it_was_up() {
        for (state, running, restarting) in [
            ("running", true, false),
            ("restarting", true, true),
            ("paused", true, false),
            ("exited", false, false),
            ("created", false, false),
        ] {
            let c = Container {
                id: "i1".into(),
                name: "web".into(),
                state: state.into(),
                ..Container::default()
            };
            let e = Existing::from(&c);
            assert_eq!((e.id.as_str(), e.name.as_str()), ("i1", "web"), "{state}");
            assert_eq!((e.running, e.restarting), (running, restarting), "{state}");
        }
    }

    /// The verbs are the report's vocabulary (its JSON `action` field): one per action.
    #[test]
    fn each_action_has_its_own_verb() {
        let e = Existing::default;
        let spec = Arc::new(crate::container::tests::example("t", serde_json::json!({})));
        let verbs: Vec<&str> = [
            Action::Create { spec: spec.clone() },
            Action::Start { existing: e() },
            Action::Replace {
                existing: e(),
                spec,
            },
            Action::Restart { existing: e() },
            Action::Remove { existing: e() },
            Action::Keep { existing: e() },
            Action::Finished { existing: None },
            Action::HeldBack {
                existing: None,
                failed: e(),
            },
            Action::Leave { existing: None },
            Action::RenameBack { old: e() },
            Action::Discard { existing: e() },
        ]
        .iter()
        .map(Action::verb)
        .collect();
        assert_eq!(
            verbs,
            [
                "create",
                "start",
                "replace",
                "restart",
                "remove",
                "keep",
                "finished",
                "held-back",
                "leave",
                "rename-back",
                "discard"
            ]
        );
    }

    #[test]
    fn temporary_names() {
        assert_eq!(split("web.ddp-new"), Some(("web", NEW_SUFFIX)));
        assert_eq!(split("web.ddp-old"), Some(("web", OLD_SUFFIX)));
        assert_eq!(split("a.b.ddp-failed"), Some(("a.b", FAILED_SUFFIX)));
        assert_eq!(split("web"), None);
        assert_eq!(split(".ddp-new"), None);
        assert_eq!(temporary("web", FAILED_SUFFIX), "web.ddp-failed");
    }
}
