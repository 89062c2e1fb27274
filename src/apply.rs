//! Executes a plan against the engine: pulls, safe replace with rollback, removal,
//! bounded concurrency. The only module that changes anything; it never re-decides what
//! the plan says, and every failure is reported per container, never fatal to the run.

use crate::docker::{Engine, EngineError};
use crate::plan::{Action, Existing, Plan, Step};
use crate::recover::{NEW_SUFFIX, OLD_SUFFIX};
use crate::spec::ContainerSpec;
use std::collections::BTreeMap;

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Result {
    /// Done (or nothing needed doing).
    Done,
    /// Not attempted: an earlier step of the same container failed.
    Skipped(String),
    /// Tried and failed; the container was rolled back where that applies.
    Failed(String),
}

/// One executed step.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The step as planned.
    pub step: Step,
    /// What happened.
    pub result: Result,
}

/// Run the plan with at most `jobs` containers in flight.
pub fn run(plan: &Plan, engine: &Engine, jobs: usize) -> Vec<Outcome> {
    run_after(plan, engine, jobs, &[])
}

/// Run the plan after crash recovery's repairs ran (`repairs`, their outcomes): a name whose
/// repair did not succeed is not converged in this run, since it is not in the state the
/// plan assumed; its steps are skipped.
pub fn run_after(plan: &Plan, engine: &Engine, jobs: usize, repairs: &[Outcome]) -> Vec<Outcome> {
    let blocked: BTreeMap<&str, &str> = repairs
        .iter()
        .filter_map(|o| match &o.result {
            Result::Failed(why) | Result::Skipped(why) => {
                Some((o.step.name.as_str(), why.as_str()))
            }
            Result::Done => None,
        })
        .collect();
    let runnable = Plan {
        steps: plan
            .steps
            .iter()
            .filter(|s| !blocked.contains_key(s.name.as_str()))
            .cloned()
            .collect(),
        code: plan.code,
    };
    let pulls = pull_images(&runnable, engine, jobs);
    let mut groups: Vec<(String, Vec<&Step>)> = Vec::new();
    for s in &plan.steps {
        match groups.iter_mut().find(|(n, _)| *n == s.name) {
            Some((_, v)) => v.push(s),
            None => groups.push((s.name.clone(), vec![s])),
        }
    }
    crate::pool::map(&groups, jobs, |(name, steps)| {
        match blocked.get(name.as_str()) {
            Some(why) => steps
                .iter()
                .map(|s| Outcome {
                    step: (*s).clone(),
                    result: Result::Skipped(format!("its crash repair did not succeed: {why}")),
                })
                .collect(),
            None => run_group(steps, engine, &pulls),
        }
    })
    .into_iter()
    .flatten()
    .collect()
}

/// The steps of one name run in order; after a failure the rest are skipped.
fn run_group(steps: &[&Step], engine: &Engine, pulls: &BTreeMap<String, String>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut failed: Option<String> = None;
    for step in steps {
        let result = match &failed {
            Some(why) => Result::Skipped(format!("an earlier step failed: {why}")),
            None => match execute(step, engine, pulls) {
                Ok(()) => Result::Done,
                Err(e) => {
                    log::error!("{}: {}: {e}", step.name, verb(&step.action));
                    failed = Some(e.clone());
                    Result::Failed(e)
                }
            },
        };
        if result == Result::Done
            && !matches!(step.action, Action::Keep { .. } | Action::Leave { .. })
        {
            log::info!(
                "{}: {} done ({})",
                step.name,
                verb(&step.action),
                step.reason
            );
        }
        out.push(Outcome {
            step: (*step).clone(),
            result,
        });
    }
    out
}

/// The verb a person reads for an action.
pub fn verb(a: &Action) -> &'static str {
    match a {
        Action::Create { .. } => "create",
        Action::Start { .. } => "start",
        Action::Replace { .. } => "replace",
        Action::Remove { .. } => "remove",
        Action::Keep { .. } => "keep",
        Action::Leave { .. } => "leave",
        Action::RenameBack { .. } => "rename-back",
        Action::Discard { .. } => "discard",
    }
}

/// Images the plan will create containers from.
fn specs(plan: &Plan) -> impl Iterator<Item = &ContainerSpec> {
    plan.steps.iter().filter_map(|s| match &s.action {
        Action::Create { spec } | Action::Replace { spec, .. } => Some(&**spec),
        _ => None,
    })
}

/// Pull what is missing before anything is touched. Returns the images that could not be
/// made available, with why; the containers that need them fail without being touched.
fn pull_images(plan: &Plan, engine: &Engine, jobs: usize) -> BTreeMap<String, String> {
    let mut wanted: BTreeMap<String, &ContainerSpec> = BTreeMap::new();
    for spec in specs(plan) {
        wanted.entry(pull_key(spec)).or_insert(spec);
    }
    let wanted: Vec<(String, &ContainerSpec)> = wanted.into_iter().collect();
    crate::pool::map(&wanted, jobs, |(key, spec)| {
        ensure_image(engine, spec).err().map(|e| {
            log::error!("image {}: {e}", spec.image);
            (key.clone(), e)
        })
    })
    .into_iter()
    .flatten()
    .collect()
}

fn pull_key(spec: &ContainerSpec) -> String {
    format!("{}|{}", spec.image, spec.platform.as_deref().unwrap_or(""))
}

fn ensure_image(engine: &Engine, spec: &ContainerSpec) -> std::result::Result<(), String> {
    use crate::spec::PullPolicy;
    let present = || engine.image_present(&spec.image).map_err(|e| e.to_string());
    match spec.pull {
        PullPolicy::Always => {}
        PullPolicy::Missing => {
            if present()? {
                return Ok(());
            }
        }
        PullPolicy::Never => {
            return if present()? {
                Ok(())
            } else {
                Err(format!(
                    "image {} is not present and --pull=never",
                    spec.image
                ))
            };
        }
    }
    if spec.image.is_id() {
        return Err(format!(
            "image {} is not present, and an image ID cannot be pulled",
            spec.image
        ));
    }
    log::info!("pulling {}", spec.image);
    engine
        .pull(&spec.image, spec.platform.as_deref())
        .map_err(|e| format!("pull of {} failed: {e}", spec.image))
}

fn execute(
    step: &Step,
    engine: &Engine,
    pulls: &BTreeMap<String, String>,
) -> std::result::Result<(), String> {
    let name = step.name.as_str();
    let image_ok = |spec: &ContainerSpec| match pulls.get(&pull_key(spec)) {
        Some(why) => Err(why.clone()),
        None => Ok(()),
    };
    match &step.action {
        Action::Keep { .. } | Action::Leave { .. } => Ok(()),
        Action::Create { spec } => {
            image_ok(spec)?;
            let id = engine.create(name, spec).map_err(|e| e.to_string())?;
            // A created-but-failed container stays for `docker logs`; the next run starts it.
            engine
                .start(&id)
                .map_err(|e| format!("created {}, but start failed: {e}", short(&id)))
        }
        Action::Start { existing } => engine.start(&existing.id).map_err(|e| e.to_string()),
        Action::Replace { existing, spec } => {
            image_ok(spec)?;
            replace(engine, name, existing, spec)
        }
        Action::Remove { existing } | Action::Discard { existing } => {
            stop_and_remove(engine, existing)
        }
        Action::RenameBack { old } => engine.rename(&old.id, name).map_err(|e| e.to_string()),
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Remove = graceful stop (the container's own signal and timeout), then remove.
fn stop_and_remove(engine: &Engine, c: &Existing) -> std::result::Result<(), String> {
    match engine.stop(&c.id) {
        // Already gone (an operator, or `--rm`, got there first): that is the goal.
        Err(EngineError::Api { status: 404, .. }) => return Ok(()),
        Err(e) => return Err(e.to_string()),
        Ok(()) => {}
    }
    engine.remove(&c.id).map_err(|e| e.to_string())
}

/// Safe replace: the old container keeps running until the new one exists; it is stopped
/// and renamed aside, never removed, until the new one has started. Every failure puts the
/// old one back as it was, except a `--rm` one: the engine deletes it as it stops, so there
/// is nothing to put back. A crash at any point leaves `.ddp-new`/`.ddp-old` names that the
/// next plan recognises and repairs.
fn replace(
    engine: &Engine,
    name: &str,
    old: &Existing,
    spec: &ContainerSpec,
) -> std::result::Result<(), String> {
    let new_name = format!("{name}{NEW_SUFFIX}");
    let old_name = format!("{name}{OLD_SUFFIX}");
    let new_id = engine
        .create(&new_name, spec)
        .map_err(|e| format!("create of the replacement failed (old container untouched): {e}"))?;
    let undo_new = |why: String| -> String {
        match engine.remove(&new_id) {
            Ok(()) => why,
            Err(e) => format!("{why}; removing the replacement {new_name} also failed: {e}"),
        }
    };
    if let Err(e) = engine.stop(&old.id) {
        let why = undo_new(format!("stop of the old container failed: {e}"));
        return Err(restart_old(engine, old, why));
    }
    match engine.rename(&old.id, &old_name) {
        Ok(()) => {}
        // Gone once stopped: a `--rm` container removes itself on exit (or an operator got
        // there first). Nothing is left to roll back to, and the name is free: the
        // replacement takes it now rather than the service staying down until the next run.
        Err(EngineError::Api { status: 404, .. }) => {
            let gone = "the old container was removed when it stopped (--rm?)";
            engine
                .rename(&new_id, name)
                .map_err(|e| format!("{gone}, and renaming the replacement into place failed (the next run creates it anew): {e}"))?;
            return engine.start(&new_id).map_err(|e| {
                format!("{gone}, and the replacement failed to start (left for `docker logs`; the next run retries): {e}")
            });
        }
        Err(e) => {
            let why = undo_new(format!("renaming the old container aside failed: {e}"));
            // The rename may have happened even though its reply was lost: name it back, and
            // ignore the error the engine gives when the name is already right.
            let _ = engine.rename(&old.id, name);
            return Err(restart_old(engine, old, why));
        }
    }
    let started = engine
        .rename(&new_id, name)
        .map_err(|e| format!("renaming the replacement into place failed: {e}"))
        .and_then(|()| {
            engine
                .start(&new_id)
                .map_err(|e| format!("the replacement failed to start: {e}"))
        });
    if let Err(why) = started {
        return Err(rollback(engine, name, &new_id, old, why));
    }
    engine.remove(&old.id).map_err(|e| {
        format!(
            "replaced, but removing the old container {old_name} failed (the next run retries): {e}"
        )
    })
}

/// Put the old container back in place after a failed replace.
fn rollback(engine: &Engine, name: &str, new_id: &str, old: &Existing, why: String) -> String {
    let mut why = why;
    if let Err(e) = engine.stop(new_id).and_then(|()| engine.remove(new_id)) {
        why = format!("{why}; removing the replacement failed: {e}");
        // It may hold the name, which would keep the old container out of it: move it to
        // the replacement's name, which the next run discards. If even that fails, the
        // rename below fails too and says so.
        let _ = engine.rename(new_id, &format!("{name}{NEW_SUFFIX}"));
    }
    if let Err(e) = engine.rename(&old.id, name) {
        return format!(
            "{why}; renaming the old container back failed (the next run retries): {e}"
        );
    }
    restart_old(engine, old, why)
}

fn restart_old(engine: &Engine, old: &Existing, why: String) -> String {
    if !old.running {
        return format!("{why}; rolled back");
    }
    match engine.start(&old.id) {
        Ok(()) => format!("{why}; rolled back, the old container runs again"),
        Err(e) => format!("{why}; restarting the old container failed: {e}"),
    }
}
