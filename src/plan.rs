//! Desired × actual → the list of actions, each with its reason. A pure function: no I/O.

use crate::docker::Container;
use crate::spec::ContainerSpec;

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
    /// Ours and unchanged, but not running: start it.
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
    pub code: crate::exit::Code,
}
