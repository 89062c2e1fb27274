//! Executes a plan against the engine: pulls, safe replace, verification of what it
//! starts with rollback of a replacement that fails it, removal, bounded concurrency. The
//! only module that changes anything; it never re-decides what the plan says, and every
//! failure is reported per container, never fatal to the run.

use crate::docker::{Engine, EngineError, Health};
use crate::plan::{Action, Existing, Plan, Step};
use crate::recover::{FAILED_SUFFIX, NEW_SUFFIX, OLD_SUFFIX, temporary};
use crate::spec::ContainerSpec;
use crate::verify::{self, Failure};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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

/// How a run applies its plan.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Containers in flight at once.
    pub jobs: usize,
    /// How long what the run starts is watched before it counts as up; zero: not watched.
    pub settle: Duration,
    /// The run's deadline, which bounds every wait for a healthcheck.
    pub deadline: Instant,
}

/// Run the plan with at most `jobs` containers in flight, verifying nothing.
pub fn run(plan: &Plan, engine: &Engine, jobs: usize) -> Vec<Outcome> {
    let settings = Settings {
        jobs,
        settle: Duration::ZERO,
        deadline: Instant::now(),
    };
    run_after(plan, engine, &settings, &[])
}

/// Run the plan after crash recovery's repairs ran (`repairs`, their outcomes): a name whose
/// repair did not succeed is not converged in this run, since it is not in the state the
/// plan assumed; its steps are skipped.
pub fn run_after(
    plan: &Plan,
    engine: &Engine,
    settings: &Settings,
    repairs: &[Outcome],
) -> Vec<Outcome> {
    let jobs = settings.jobs;
    let blocked: BTreeMap<&str, &str> = repairs
        .iter()
        .filter_map(|o| match &o.result {
            Result::Failed(why) | Result::Skipped(why) => {
                Some((o.step.name.as_str(), why.as_str()))
            }
            Result::Done => None,
        })
        .collect();
    let runnable = plan
        .steps
        .iter()
        .filter(|s| !blocked.contains_key(s.name.as_str()));
    let pulls = pull_images(runnable, engine, jobs);
    let mut groups: Vec<(String, Vec<&Step>)> = Vec::new();
    for s in &plan.steps {
        match groups.iter_mut().find(|(n, _)| *n == s.name) {
            Some((_, v)) => v.push(s),
            None => groups.push((s.name.clone(), vec![s])),
        }
    }
    let names: Vec<String> = groups.iter().map(|(n, _)| n.clone()).collect();
    // A name runs once what it waits for is verified up: wave after wave.
    let mut done: BTreeMap<String, Vec<Outcome>> = BTreeMap::new();
    for wave in crate::order::waves(&names, &plan.after) {
        let mut held: BTreeMap<String, String> = BTreeMap::new();
        for n in &wave {
            if let Some(why) = blocked.get(n.as_str()) {
                held.insert(
                    n.clone(),
                    format!("its crash repair did not succeed: {why}"),
                );
                continue;
            }
            let down: Vec<&str> = plan
                .after
                .get(n)
                .into_iter()
                .flatten()
                .filter(|d| {
                    // A held-back version leaves the old one running: that is up.
                    done.get(*d).is_some_and(|o| {
                        o.iter().any(|o| {
                            o.result != Result::Done
                                && !matches!(o.step.action, Action::HeldBack { .. })
                        })
                    })
                })
                .map(String::as_str)
                .collect();
            if !down.is_empty() {
                let removal = groups.iter().any(|(g, steps)| {
                    g == n
                        && steps
                            .iter()
                            .any(|s| matches!(s.action, Action::Remove { .. }))
                });
                let why = if removal {
                    // It goes after what uses it: that did not go, so it still needs this one.
                    format!(
                        "{} uses it and was not removed or replaced",
                        down.join(", ")
                    )
                } else {
                    format!("it waits for {}, which is not up", down.join(", "))
                };
                held.insert(n.clone(), why);
            }
        }
        let members: Vec<(String, Vec<&Step>)> = groups
            .iter()
            .filter(|(n, _)| wave.contains(n))
            .cloned()
            .collect();
        let results = run_wave(&members, engine, settings, &pulls, &held);
        for ((n, _), outcomes) in members.iter().zip(results) {
            done.insert(n.clone(), outcomes);
        }
    }
    names
        .iter()
        .filter_map(|n| done.remove(n))
        .flatten()
        .collect()
}

/// One wave: act on every name, then watch everything started in one window, then settle
/// each (a failed replacement is rolled back, and the old one watched in turn). Names in
/// `held` are skipped with the reason given.
fn run_wave(
    groups: &[(String, Vec<&Step>)],
    engine: &Engine,
    settings: &Settings,
    pulls: &BTreeMap<String, String>,
    held: &BTreeMap<String, String>,
) -> Vec<Vec<Outcome>> {
    // Keep, leave and held back call no engine: a wave of only those (a no-op run) needs no
    // worker threads.
    let engine_work = groups.iter().any(|(_, steps)| {
        steps.iter().any(|s| {
            !matches!(
                s.action,
                Action::Keep { .. } | Action::Leave { .. } | Action::HeldBack { .. }
            )
        })
    });
    let jobs = if engine_work { settings.jobs } else { 1 };
    let acted: Vec<(Vec<Outcome>, Option<Pending>)> =
        crate::pool::map(groups, jobs, |(name, steps)| match held.get(name) {
            Some(why) => (
                steps
                    .iter()
                    .map(|s| Outcome {
                        step: (*s).clone(),
                        result: Result::Skipped(why.clone()),
                    })
                    .collect(),
                None,
            ),
            None => run_group(steps, engine, pulls),
        });
    let watched: Vec<(usize, String)> = acted
        .iter()
        .enumerate()
        .filter_map(|(i, (_, p))| p.as_ref().map(|p| (i, p.id().to_string())))
        .collect();
    let ids: Vec<String> = watched.iter().map(|(_, id)| id.clone()).collect();
    let verdicts = verify::watch(engine, &ids, settings.settle, settings.deadline);
    let mut verdict_of: BTreeMap<usize, std::result::Result<(), Failure>> =
        watched.iter().map(|(i, _)| *i).zip(verdicts).collect();
    let (mut outcomes, pending): (Vec<Vec<Outcome>>, Vec<Option<Pending>>) =
        acted.into_iter().unzip();
    // Only what started something is settled; the rest is already decided.
    let to_settle: Vec<(usize, String, Pending, std::result::Result<(), Failure>)> = pending
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let name = outcomes[i].last()?.step.name.clone();
            Some((i, name, p?, verdict_of.remove(&i)?))
        })
        .collect();
    let settled = crate::pool::map(&to_settle, jobs, |(i, name, p, v)| {
        (*i, settle(engine, name, p, v.clone()))
    });
    // An old container a rollback started again is verified too.
    let mut restored: Vec<(usize, String)> = Vec::new();
    for (i, (result, old)) in settled {
        if let Some(last) = outcomes[i].last_mut() {
            last.result = result;
        }
        if let Some(old) = old {
            restored.push((i, old.id));
        }
    }
    let ids: Vec<String> = restored.iter().map(|(_, id)| id.clone()).collect();
    let verdicts = verify::watch(engine, &ids, settings.settle, settings.deadline);
    for ((i, _), verdict) in restored.into_iter().zip(verdicts) {
        if let (Err(f), Some(last)) = (verdict, outcomes[i].last_mut())
            && let Result::Failed(why) = &mut last.result
        {
            why.push_str(&format!("; the old container failed verification too: {f}"));
        }
    }
    outcomes
}

/// Something a step started (or found still starting) that must be watched before the step
/// counts as done.
#[derive(Debug, Clone)]
enum Pending {
    /// A container created, started, or kept while its healthcheck starts.
    Check { id: String },
    /// A replacement in place and started; the old one stopped aside (`None`: it removed
    /// itself when stopped, so there is nothing to roll back to).
    Replace {
        new_id: String,
        old: Option<Existing>,
    },
}

impl Pending {
    fn id(&self) -> &str {
        match self {
            Pending::Check { id } => id,
            Pending::Replace { new_id, .. } => new_id,
        }
    }
}

/// The steps of one name run in order; after a failure the rest are skipped. A step that
/// started something ends the group's actions: it is settled once watched.
fn run_group(
    steps: &[&Step],
    engine: &Engine,
    pulls: &BTreeMap<String, String>,
) -> (Vec<Outcome>, Option<Pending>) {
    let mut out = Vec::new();
    let mut failed: Option<String> = None;
    let mut pending = None;
    for step in steps {
        let result = match (&failed, &pending) {
            (Some(why), _) => Result::Skipped(format!("an earlier step failed: {why}")),
            (None, Some(_)) => Result::Skipped("an earlier step is not verified yet".into()),
            (None, None) => match execute(step, engine, pulls) {
                Ok(p) => {
                    pending = p;
                    Result::Done
                }
                Err(e) => {
                    log::error!("{}: {}: {e}", step.name, verb(&step.action));
                    failed = Some(e.clone());
                    Result::Failed(e)
                }
            },
        };
        if result == Result::Done
            && pending.is_none()
            && !matches!(
                step.action,
                Action::Keep { .. } | Action::Leave { .. } | Action::HeldBack { .. }
            )
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
    (out, pending)
}

/// What a watched step comes to: done, failed, or (a replacement that failed) rolled back,
/// with the old container to verify in turn.
fn settle(
    engine: &Engine,
    name: &str,
    pending: &Pending,
    verdict: std::result::Result<(), Failure>,
) -> (Result, Option<Existing>) {
    match (pending, verdict) {
        (Pending::Check { .. }, Ok(())) => {
            log::info!("{name}: verified up");
            (Result::Done, None)
        }
        (Pending::Check { .. }, Err(f)) => {
            log::error!("{name}: failed verification: {f}");
            (Result::Failed(format!("failed verification: {f}")), None)
        }
        (Pending::Replace { old: None, .. }, Ok(())) => (Result::Done, None),
        (Pending::Replace { old: None, .. }, Err(f)) => {
            let why = format!(
                "the replacement failed verification, and the old container removed itself when stopped (--rm?), so there is nothing to roll back to: {f}"
            );
            log::error!("{name}: {why}");
            (Result::Failed(why), None)
        }
        (Pending::Replace { old: Some(old), .. }, Ok(())) => {
            log::info!("{name}: replacement verified up");
            match engine.remove(&old.id) {
                Ok(()) => (Result::Done, None),
                Err(e) => (
                    Result::Failed(format!(
                        "replaced and verified, but removing the old container {} failed (the next run's recovery puts it back and the replace is tried again): {e}",
                        temporary(name, OLD_SUFFIX)
                    )),
                    None,
                ),
            }
        }
        (
            Pending::Replace {
                new_id,
                old: Some(old),
            },
            Err(f),
        ) if !f.judged => {
            // The engine could not be asked: no evidence against this version, so it is
            // not held back; the old one returns and the next run tries again.
            let why = rollback(
                engine,
                name,
                new_id,
                old,
                format!("the replacement could not be verified: {f}"),
            );
            log::error!("{name}: {why}");
            (Result::Failed(why), old.running.then(|| old.clone()))
        }
        (
            Pending::Replace {
                new_id,
                old: Some(old),
            },
            Err(f),
        ) => {
            let why = hold_failed(
                engine,
                name,
                new_id,
                old,
                format!("the replacement failed verification: {f}"),
            );
            log::error!("{name}: {why}");
            let restored = old.running.then(|| old.clone());
            (Result::Failed(why), restored)
        }
    }
}

/// Roll back a replacement that failed verification: stop it and keep it aside as
/// `<name>.ddp-failed` (for `docker logs`, and to hold its version back), and put the old
/// container back under its name, running again if it ran.
fn hold_failed(engine: &Engine, name: &str, new_id: &str, old: &Existing, why: String) -> String {
    let failed_name = temporary(name, FAILED_SUFFIX);
    let kept = engine
        .stop(new_id)
        .and_then(|()| engine.rename(new_id, &failed_name));
    let why = match kept {
        Ok(()) => format!(
            "{why}; kept stopped as {failed_name} (its record is not retried while it exists)"
        ),
        Err(e) => {
            // The name may be taken by a container that is not ours: the failed one goes.
            let also = match engine.stop(new_id).and_then(|()| engine.remove(new_id)) {
                Ok(()) => "removed it".to_string(),
                Err(e2) => format!("removing it failed too: {e2}"),
            };
            format!("{why}; keeping it as {failed_name} failed ({e}), {also}")
        }
    };
    if let Err(e) = engine.rename(&old.id, name) {
        return format!(
            "{why}; renaming the old container back failed (the next run retries): {e}"
        );
    }
    restart_old(engine, old, why)
}

/// The verb a person reads for an action.
pub fn verb(a: &Action) -> &'static str {
    match a {
        Action::Create { .. } => "create",
        Action::Start { .. } => "start",
        Action::Replace { .. } => "replace",
        Action::Remove { .. } => "remove",
        Action::Keep { .. } => "keep",
        Action::HeldBack { .. } => "held-back",
        Action::Leave { .. } => "leave",
        Action::RenameBack { .. } => "rename-back",
        Action::Discard { .. } => "discard",
    }
}

/// Pull what is missing before anything is touched. Returns the images that could not be
/// made available, with why; the containers that need them fail without being touched.
fn pull_images<'a>(
    steps: impl Iterator<Item = &'a Step>,
    engine: &Engine,
    jobs: usize,
) -> BTreeMap<String, String> {
    let mut wanted: BTreeMap<String, &ContainerSpec> = BTreeMap::new();
    for step in steps {
        if let Action::Create { spec } | Action::Replace { spec, .. } = &step.action {
            wanted.entry(pull_key(spec)).or_insert(spec);
        }
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
    match spec.pull.unwrap_or_default() {
        // An image pinned by digest cannot change: once present, it is not pulled again.
        PullPolicy::Always => {
            if spec.image.digest.is_some() && present()? {
                return Ok(());
            }
        }
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
    // With the registry's credentials; at most once per run (a `--pull always` image was
    // pulled before planning already, see crate::refresh).
    engine
        .pull_image(&spec.image, spec.platform.as_deref())
        .map_err(|e| e.to_string())
}

fn execute(
    step: &Step,
    engine: &Engine,
    pulls: &BTreeMap<String, String>,
) -> std::result::Result<Option<Pending>, String> {
    let name = step.name.as_str();
    let image_ok = |spec: &ContainerSpec| match pulls.get(&pull_key(spec)) {
        Some(why) => Err(why.clone()),
        None => Ok(()),
    };
    let check = |id: &str| Some(Pending::Check { id: id.to_string() });
    match &step.action {
        Action::Leave { .. } => Ok(None),
        // The boot gate: a kept container counts once it is up, and it is never touched.
        Action::Keep { existing } => match existing.health {
            Some(Health::Starting) => Ok(check(&existing.id)),
            Some(Health::Unhealthy) => Err(
                "unhealthy: not up, left as it is (the engine's healthcheck decides its fate)"
                    .to_string(),
            ),
            _ => Ok(None),
        },
        Action::HeldBack { failed, .. } => Err(format!(
            "held back: this record's version failed verification before and is kept as {}; the old container keeps running untouched (change the record, or `docker rm {}` to retry)",
            failed.name, failed.name
        )),
        Action::Create { spec } => {
            image_ok(spec)?;
            let id = engine.create(name, spec).map_err(|e| e.to_string())?;
            // A created-but-failed container stays for `docker logs`; the next run starts it.
            engine
                .start(&id)
                .map_err(|e| format!("created {}, but start failed: {e}", short(&id)))?;
            Ok(check(&id))
        }
        Action::Start { existing } => {
            engine.start(&existing.id).map_err(|e| e.to_string())?;
            Ok(check(&existing.id))
        }
        Action::Replace { existing, spec } => {
            image_ok(spec)?;
            replace(engine, name, existing, spec).map(Some)
        }
        Action::Remove { existing } | Action::Discard { existing } => {
            stop_and_remove(engine, existing).map(|()| None)
        }
        Action::RenameBack { old } => engine
            .rename(&old.id, name)
            .map(|()| None)
            .map_err(|e| e.to_string()),
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
/// and renamed aside, never removed, until the new one has started and been verified (the
/// caller watches and settles the returned [`Pending`]). Every failure here puts the old one
/// back as it was, except a `--rm` one: the engine deletes it as it stops, so there is
/// nothing to put back. A crash at any point leaves temporaries that recovery repairs.
fn replace(
    engine: &Engine,
    name: &str,
    old: &Existing,
    spec: &ContainerSpec,
) -> std::result::Result<Pending, String> {
    let new_name = temporary(name, NEW_SUFFIX);
    let old_name = temporary(name, OLD_SUFFIX);
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
            engine.start(&new_id).map_err(|e| {
                format!("{gone}, and the replacement failed to start (left for `docker logs`; the next run retries): {e}")
            })?;
            return Ok(Pending::Replace { new_id, old: None });
        }
        Err(e) => {
            let why = undo_new(format!("renaming the old container aside failed: {e}"));
            // The rename may have happened even though its reply was lost: name it back, and
            // ignore the error the engine gives when the name is already right.
            let _ = engine.rename(&old.id, name);
            return Err(restart_old(engine, old, why));
        }
    }
    if let Err(e) = engine.rename(&new_id, name) {
        let why = format!("renaming the replacement into place failed: {e}");
        return Err(rollback(engine, name, &new_id, old, why));
    }
    match engine.start(&new_id) {
        Ok(()) => Ok(Pending::Replace {
            new_id,
            old: Some(old.clone()),
        }),
        // The engine judged the container itself (no such entrypoint, a bad mount): that
        // version fails like one that dies at once, and is held back the same way.
        Err(e @ EngineError::Api { status: 400, .. }) => {
            let why = format!("the replacement failed to start: {e}");
            Err(hold_failed(engine, name, &new_id, old, why))
        }
        Err(e) => {
            let why = format!("the replacement failed to start: {e}");
            Err(rollback(engine, name, &new_id, old, why))
        }
    }
}

/// Put the old container back in place after a failed replace.
fn rollback(engine: &Engine, name: &str, new_id: &str, old: &Existing, why: String) -> String {
    let mut why = why;
    if let Err(e) = engine.stop(new_id).and_then(|()| engine.remove(new_id)) {
        why = format!("{why}; removing the replacement failed: {e}");
        // It may hold the name, which would keep the old container out of it: move it to
        // the replacement's name, which the next run discards. If even that fails, the
        // rename below fails too and says so.
        let _ = engine.rename(new_id, &temporary(name, NEW_SUFFIX));
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
