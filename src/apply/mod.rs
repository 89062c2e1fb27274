//! Executes a plan against the engine: pulls, safe replace, verification of what it
//! starts with rollback of a replacement that fails it, removal, bounded concurrency. The
//! only module that changes anything; it never re-decides what the plan says, and every
//! failure is reported per container, never fatal to the run.

pub mod prune;
pub mod verify;

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod fake_tests;

use crate::container::ContainerSpec;
use crate::docker::{EngineCalls, EngineError, Health, Since, short_id};
use crate::exit::Code;
use crate::images::ImageError;
use crate::plan::{Action, Existing, Plan, Step};
use crate::step::{FAILED_SUFFIX, NEW_SUFFIX, OLD_SUFFIX, temporary};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use verify::{Failure, Up, Watched};

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// Done (or nothing needed doing).
    Done,
    /// Not attempted: an earlier step of the same container failed.
    Skipped(String),
    /// Tried and failed; the container was rolled back where that applies.
    Failed(StepFailure),
}

/// Why a step failed, and whether the engine itself stopped answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    /// What failed, for a person.
    pub why: String,
    /// The engine could not be reached or did not answer in time: the engine is unavailable
    /// (69), not a container failing (73).
    pub engine_lost: bool,
}

impl StepFailure {
    /// A failure that is the container's (or the record's), not the engine's.
    pub fn of(why: impl Into<String>) -> StepFailure {
        StepFailure {
            why: why.into(),
            engine_lost: false,
        }
    }

    /// A failed engine call, described by `why`.
    fn engine(e: &EngineError, why: String) -> StepFailure {
        StepFailure {
            why,
            engine_lost: e.is_unavailable(),
        }
    }
}

impl From<ImageError> for StepFailure {
    fn from(e: ImageError) -> StepFailure {
        StepFailure {
            why: e.why,
            engine_lost: e.engine_lost,
        }
    }
}

impl From<EngineError> for StepFailure {
    fn from(e: EngineError) -> StepFailure {
        StepFailure::engine(&e, e.to_string())
    }
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

/// One executed step.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The step as planned.
    pub step: Step,
    /// What happened.
    pub result: StepResult,
    /// The container verified as a one-shot job that finished with status 0.
    pub finished: Option<String>,
}

impl Outcome {
    /// Whether the step failed.
    pub fn failed(&self) -> bool {
        matches!(self.result, StepResult::Failed(_))
    }
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

/// Run crash recovery's repairs: each name in order, what they start verified like any start.
pub fn repairs(steps: &[Step], engine: &dyn EngineCalls, settings: &Settings) -> Vec<Outcome> {
    execute(
        &Plan::unordered(steps.to_vec(), Code::Ok),
        engine,
        settings,
        &[],
    )
}

/// The exit code of an applied run: the plan's, worsened by what failed. An engine that
/// stopped answering is 69 (look at the engine), any other failure 73.
pub fn exit_code(planned: Code, outcomes: &[Outcome]) -> Code {
    outcomes
        .iter()
        .filter_map(|x| match &x.result {
            StepResult::Failed(f) if f.engine_lost => Some(Code::Unavailable),
            StepResult::Failed(_) => Some(Code::ActionsFailed),
            _ => None,
        })
        .fold(planned, Code::worst)
}

/// Run the plan after crash recovery's repairs ran (`repairs`, their outcomes): a name whose
/// repair did not succeed is not converged in this run, since it is not in the state the
/// plan assumed; its steps are skipped.
pub fn execute(
    plan: &Plan,
    engine: &dyn EngineCalls,
    settings: &Settings,
    repairs: &[Outcome],
) -> Vec<Outcome> {
    let blocked: BTreeMap<&str, String> =
        crate::btree::map(repairs.iter().filter_map(|o| match &o.result {
            StepResult::Failed(f) => Some((o.step.name.as_str(), f.why.clone())),
            StepResult::Skipped(why) => Some((o.step.name.as_str(), why.clone())),
            StepResult::Done => None,
        }));
    let runnable = plan
        .steps
        .iter()
        .filter(|s| !blocked.contains_key(s.name.as_str()));
    let pulls = crate::images::pull_missing(runnable, engine, settings.jobs);
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
    for wave in crate::plan::order::waves(&names, &plan.after) {
        let mut held: BTreeMap<String, String> = BTreeMap::new();
        for n in &wave {
            if let Some(why) = blocked.get(n.as_str()) {
                held.insert(
                    n.clone(),
                    format!("its crash repair did not succeed: {why}"),
                );
                continue;
            }
            let steps = groups.iter().find(|(g, _)| g == n).map(|(_, s)| &s[..]);
            if let Some(why) = waiting(n, steps.unwrap_or_default(), &plan.after, &done) {
                held.insert(n.clone(), why);
            }
        }
        let members: Vec<(String, Vec<&Step>)> = groups
            .iter()
            .filter(|(n, _)| wave.contains(n))
            .cloned()
            .collect();
        let results = execute_wave(&members, engine, settings, &pulls, &held);
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

/// Why `name` (whose steps are `steps`) must not run yet, given what ran before it: a
/// removal waits until what uses it is gone; anything else waits until what it needs is up.
fn waiting(
    name: &str,
    steps: &[&Step],
    after: &BTreeMap<String, BTreeSet<String>>,
    done: &BTreeMap<String, Vec<Outcome>>,
) -> Option<String> {
    let removal = steps
        .iter()
        .any(|s| matches!(s.action, Action::Remove { .. }));
    let waits = after.get(name).into_iter().flatten();
    let outcomes = |d: &str| done.get(d).map(Vec::as_slice);
    if removal {
        // It goes after what uses it: if that did not go, it still needs this one.
        let users: Vec<&str> = waits
            .filter(|d| outcomes(d).is_some_and(|o| !went(o)))
            .map(String::as_str)
            .collect();
        return (!users.is_empty()).then(|| {
            format!(
                "{} uses it and was not removed or replaced",
                users.join(", ")
            )
        });
    }
    let down: Vec<&str> = waits
        .filter(|d| !outcomes(d).is_some_and(is_up))
        .map(String::as_str)
        .collect();
    (!down.is_empty()).then(|| format!("it waits for {}, which is not up", down.join(", ")))
}

/// Whether a name's steps leave it up: verified up in this run or kept up (a finished job
/// counts), or held back with the old one running. A name left as it is (an invalid or
/// unavailable record), removed, or failed is not up.
fn is_up(outcomes: &[Outcome]) -> bool {
    let Some(last) = outcomes.last() else {
        return false;
    };
    if let Action::HeldBack { existing, .. } = &last.step.action {
        return existing
            .as_ref()
            .is_some_and(|e| e.running && !e.restarting && e.health != Some(Health::Unhealthy));
    }
    outcomes.iter().all(|o| o.result == StepResult::Done)
        && matches!(
            last.step.action,
            Action::Keep { .. }
                | Action::Finished { .. }
                | Action::Create { .. }
                | Action::Start { .. }
                | Action::Restart { .. }
                | Action::Replace { .. }
        )
}

/// Whether a name's steps all went through (for a user of a removed container: it is gone
/// or replaced, so it no longer needs it).
fn went(outcomes: &[Outcome]) -> bool {
    outcomes
        .iter()
        .all(|o| o.result == StepResult::Done || matches!(o.step.action, Action::HeldBack { .. }))
}

/// How many threads a wave's names are acted on with. Keep, leave, held back and finished
/// call no engine unless something is suspect: a wave of only those (a no-op run) needs no
/// worker threads.
fn workers(groups: &[(String, Vec<&Step>)], settings: &Settings) -> usize {
    let engine_work = groups.iter().any(|(_, steps)| {
        steps.iter().any(|s| match &s.action {
            Action::Keep { existing } => !matches!(keep(existing, settings.settle), Ok(None)),
            Action::Finished { .. } => false,
            Action::Leave { .. } | Action::HeldBack { .. } => false,
            _ => true,
        })
    });
    if engine_work { settings.jobs } else { 1 }
}

/// One wave: act on every name, then watch everything started in one window, then settle
/// each (a failed replacement is rolled back, and the old one watched in turn). Names in
/// `held` are skipped with the reason given.
fn execute_wave(
    groups: &[(String, Vec<&Step>)],
    engine: &dyn EngineCalls,
    settings: &Settings,
    pulls: &BTreeMap<String, ImageError>,
    held: &BTreeMap<String, String>,
) -> Vec<Vec<Outcome>> {
    let jobs = workers(groups, settings);
    let acted: Vec<(Vec<Outcome>, ToWatch)> =
        crate::pool::map(groups, jobs, |(name, steps)| match held.get(name) {
            Some(why) => (
                steps
                    .iter()
                    .map(|s| Outcome {
                        step: (*s).clone(),
                        result: StepResult::Skipped(why.clone()),
                        finished: None,
                    })
                    .collect(),
                None,
            ),
            None => execute_group(steps, engine, pulls, settings.settle),
        });
    let (mut outcomes, pending): (Vec<Vec<Outcome>>, Vec<ToWatch>) = acted.into_iter().unzip();
    // Each group's pending step, by group index.
    let pending: Vec<(usize, usize, Pending)> = pending
        .into_iter()
        .enumerate()
        .filter_map(|(g, p)| p.map(|(step, p)| (g, step, p)))
        .collect();
    let targets: Vec<Watched> = pending.iter().map(|(_, _, p)| p.target()).collect();
    let verdicts = verify::watch(engine, &targets, settings.settle, settings.deadline);
    let to_settle: Vec<(usize, usize, Pending, Result<Up, Failure>)> = pending
        .into_iter()
        .zip(verdicts)
        .map(|((g, step, p), v)| (g, step, p, v))
        .collect();
    let settled = crate::pool::map(&to_settle, jobs, |(g, step, p, v)| {
        let name = outcomes[*g][*step].step.name.clone();
        let finished = (*v == Ok(Up::Finished)).then(|| p.target().id);
        (*g, *step, finished, settle(engine, &name, p, v.clone()))
    });
    // An old container a rollback started again is verified too.
    let mut restored: Vec<(usize, usize, Watched)> = Vec::new();
    for (g, step, finished, (result, old)) in settled {
        let outcome = &mut outcomes[g][step];
        outcome.finished = finished.filter(|_| result == StepResult::Done);
        outcome.result = result;
        if let Some(old) = old {
            restored.push((g, step, Watched::existing(&old.id, Duration::ZERO)));
        }
    }
    let targets: Vec<Watched> = restored.iter().map(|(_, _, t)| t.clone()).collect();
    let verdicts = verify::watch(engine, &targets, settings.settle, settings.deadline);
    for ((g, step, _), verdict) in restored.into_iter().zip(verdicts) {
        if let (Err(f), StepResult::Failed(failure)) = (verdict, &mut outcomes[g][step].result) {
            failure
                .why
                .push_str(&format!("; the old container failed verification too: {f}"));
        }
    }
    outcomes
}

/// The step of a name that started something to watch, and what.
type ToWatch = Option<(usize, Pending)>;

/// Something a step started (or found suspect) that must be watched before the step counts
/// as done.
#[derive(Debug, Clone)]
enum Pending {
    /// A container created, started, or kept while it may not be up yet.
    Check(Watched),
    /// A replacement in place and started; the old one stopped aside (`None`: it removed
    /// itself when stopped, so there is nothing to roll back to).
    Replace {
        new_id: String,
        old: Option<Existing>,
    },
}

impl Pending {
    fn target(&self) -> Watched {
        match self {
            Pending::Check(w) => w.clone(),
            Pending::Replace { new_id, .. } => Watched::created(new_id),
        }
    }
}

/// The steps of one name run in order; after a failure the rest are skipped. A step that
/// started something ends the group's actions: it is settled once watched. Returns the
/// outcomes and, when something is to be watched, the index of the step that started it.
fn execute_group(
    steps: &[&Step],
    engine: &dyn EngineCalls,
    pulls: &BTreeMap<String, ImageError>,
    settle: Duration,
) -> (Vec<Outcome>, ToWatch) {
    let mut out = Vec::new();
    let mut failed: Option<String> = None;
    let mut pending = None;
    for (i, step) in steps.iter().enumerate() {
        let result = match (&failed, &pending) {
            (Some(why), _) => StepResult::Skipped(format!("an earlier step failed: {why}")),
            (None, Some(_)) => StepResult::Skipped("an earlier step is not verified yet".into()),
            (None, None) => match execute_step(step, engine, pulls, settle) {
                Ok(p) => {
                    pending = p.map(|p| (i, p));
                    StepResult::Done
                }
                Err(e) => {
                    log::error!("{}: {}: {e}", step.name, step.action.verb());
                    failed = Some(e.why.clone());
                    StepResult::Failed(e)
                }
            },
        };
        if result == StepResult::Done
            && pending.is_none()
            && !matches!(
                step.action,
                Action::Keep { .. }
                    | Action::Finished { .. }
                    | Action::Leave { .. }
                    | Action::HeldBack { .. }
            )
        {
            log::info!(
                "{}: {} done ({})",
                step.name,
                step.action.verb(),
                step.reason
            );
        }
        out.push(Outcome {
            step: (*step).clone(),
            result,
            finished: None,
        });
    }
    (out, pending)
}

/// What a watched step comes to: done, failed, or (a replacement that failed) rolled back,
/// with the old container to verify in turn.
fn settle(
    engine: &dyn EngineCalls,
    name: &str,
    pending: &Pending,
    verdict: Result<Up, Failure>,
) -> (StepResult, Option<Existing>) {
    // The engine lost while watching is the engine's failure (69), not the container's.
    let failed = |why: String, f: &Failure| {
        StepResult::Failed(StepFailure {
            why,
            engine_lost: f.engine_lost,
        })
    };
    match (pending, verdict) {
        (Pending::Check(_), Ok(up)) => {
            log::info!("{name}: {}", verified(up));
            (StepResult::Done, None)
        }
        (Pending::Check(_), Err(f)) => {
            log::error!("{name}: failed verification: {f}");
            (failed(format!("failed verification: {f}"), &f), None)
        }
        (Pending::Replace { old: None, .. }, Ok(_)) => (StepResult::Done, None),
        (Pending::Replace { old: None, .. }, Err(f)) => {
            let why = format!(
                "the replacement failed verification, and the old container removed itself when stopped (--rm?), so there is nothing to roll back to: {f}"
            );
            log::error!("{name}: {why}");
            (failed(why, &f), None)
        }
        (Pending::Replace { old: Some(old), .. }, Ok(up)) => {
            log::info!("{name}: replacement {}", verified(up));
            match engine.remove(&old.id) {
                Ok(()) => (StepResult::Done, None),
                Err(e) => (
                    StepResult::Failed(StepFailure::engine(
                        &e,
                        format!(
                            "replaced and verified, but removing the old container {} failed (the next run's recovery puts it back and the replace is tried again): {e}",
                            temporary(name, OLD_SUFFIX)
                        ),
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
            (failed(why, &f), old.running.then(|| old.clone()))
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
            (failed(why, &f), restored)
        }
    }
}

/// How a verified container passed, for the log.
fn verified(up: Up) -> &'static str {
    match up {
        Up::Running => "verified up",
        Up::Finished => "verified: a job that finished with status 0",
        Up::Vanished => "verified up (it removed itself; its exit status is unknown)",
    }
}

/// Roll back a replacement that failed verification: stop it and keep it aside as
/// `<name>.ddp-failed` (for `docker logs`, and to hold its version back), and put the old
/// container back under its name, running again if it ran.
fn hold_failed(
    engine: &dyn EngineCalls,
    name: &str,
    new_id: &str,
    old: &Existing,
    why: String,
) -> String {
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

/// One step's engine calls; what it started, to be watched.
fn execute_step(
    step: &Step,
    engine: &dyn EngineCalls,
    pulls: &BTreeMap<String, ImageError>,
    settle: Duration,
) -> Result<Option<Pending>, StepFailure> {
    let name = step.name.as_str();
    let image_ok = |spec: &ContainerSpec| match pulls.get(&crate::images::key(spec)) {
        Some(e) => Err(StepFailure::from(e.clone())),
        None => Ok(()),
    };
    let started = |id: &str| Some(Pending::Check(Watched::existing(id, Duration::ZERO)));
    match &step.action {
        Action::Leave { .. } | Action::Finished { .. } => Ok(None),
        // The boot gate: a kept container counts once it is up, and it is never touched.
        Action::Keep { existing } => keep(existing, settle).map_err(|why| {
            // A crash loop's own words say why better than its state.
            let output = engine
                .logs(&existing.id, verify::LOG_LINES)
                .unwrap_or_default();
            StepFailure::of(
                verify::Failure {
                    reason: why,
                    output,
                    judged: true,
                    engine_lost: false,
                }
                .to_string(),
            )
        }),
        Action::HeldBack { failed, existing } => Err(StepFailure::of(format!(
            "held back: this record's version failed verification before and is kept as {}; {} (change the record, or `docker rm {}` to retry)",
            failed.name,
            if existing.is_some() {
                "the old container keeps running untouched"
            } else {
                "nothing else runs under the name"
            },
            failed.name
        ))),
        Action::Create { spec } => {
            image_ok(spec)?;
            let id = engine.create(name, spec)?;
            // A created-but-failed container stays for `docker logs`; the next run starts it.
            engine.start(&id).map_err(|e| {
                StepFailure::engine(
                    &e,
                    format!("created {}, but start failed: {e}", short_id(&id)),
                )
            })?;
            Ok(Some(Pending::Check(Watched::created(&id))))
        }
        Action::Start { existing } => {
            engine.start(&existing.id)?;
            Ok(started(&existing.id))
        }
        Action::Restart { existing } => {
            engine.stop(&existing.id)?;
            engine.start(&existing.id)?;
            Ok(started(&existing.id))
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
            .map_err(Into::into),
    }
}

/// What keeping a container takes: nothing when the list shows it up for longer than the
/// settle window (or done, a finished job); a watch when it may not be up (a healthcheck
/// starting, up for less than the window: just restarted, maybe in a crash loop); a failure
/// when the list already says it is not (unhealthy, restarting).
fn keep(e: &Existing, settle: Duration) -> Result<Option<Pending>, String> {
    if e.restarting {
        return Err(
            "restarting: it exited and its restart policy starts it again (a crash loop?); left as it is".to_string(),
        );
    }
    if !e.running {
        // The planner keeps a stopped container only when it is a job that finished.
        return Ok(None);
    }
    let watch = |up_before| Ok(Some(Pending::Check(Watched::existing(&e.id, up_before))));
    match (e.health, e.since) {
        (Some(Health::Unhealthy), _) => Err(
            "unhealthy: not up, left as it is (the engine's healthcheck decides its fate)"
                .to_string(),
        ),
        (Some(Health::Starting), _) => watch(Duration::ZERO),
        (_, Since::Up(up)) if up.min >= settle => Ok(None),
        (_, Since::Up(up)) => watch(up.min),
        // The list did not say how long: a watch finds out.
        _ if settle.is_zero() => Ok(None),
        _ => watch(Duration::ZERO),
    }
}

/// Remove = graceful stop (the container's own signal and timeout), then remove.
fn stop_and_remove(engine: &dyn EngineCalls, c: &Existing) -> Result<(), StepFailure> {
    match engine.stop(&c.id) {
        // Already gone (an operator, or `--rm`, got there first): that is the goal.
        Err(EngineError::Api { status: 404, .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
        Ok(()) => {}
    }
    Ok(engine.remove(&c.id)?)
}

/// Safe replace: the old container keeps running until the new one exists; it is stopped
/// and renamed aside, never removed, until the new one has started and been verified (the
/// caller watches and settles the returned [`Pending`]). Every failure here puts the old one
/// back as it was, except a `--rm` one: the engine deletes it as it stops, so there is
/// nothing to put back. A crash at any point leaves temporaries that recovery repairs.
fn replace(
    engine: &dyn EngineCalls,
    name: &str,
    old: &Existing,
    spec: &ContainerSpec,
) -> Result<Pending, StepFailure> {
    let new_name = temporary(name, NEW_SUFFIX);
    let old_name = temporary(name, OLD_SUFFIX);
    let new_id = engine.create(&new_name, spec).map_err(|e| {
        StepFailure::engine(
            &e,
            format!("create of the replacement failed (old container untouched): {e}"),
        )
    })?;
    let undo_new = |why: String| -> String {
        match engine.remove(&new_id) {
            Ok(()) => why,
            Err(e) => format!("{why}; removing the replacement {new_name} also failed: {e}"),
        }
    };
    if let Err(e) = engine.stop(&old.id) {
        let why = undo_new(format!("stop of the old container failed: {e}"));
        return Err(StepFailure::engine(&e, restart_old(engine, old, why)));
    }
    match engine.rename(&old.id, &old_name) {
        Ok(()) => {}
        // Gone once stopped: a `--rm` container removes itself on exit (or an operator got
        // there first). Nothing is left to roll back to, and the name is free: the
        // replacement takes it now rather than the service staying down until the next run.
        Err(EngineError::Api { status: 404, .. }) => {
            let gone = "the old container was removed when it stopped (--rm?)";
            engine.rename(&new_id, name).map_err(|e| {
                StepFailure::engine(&e, format!("{gone}, and renaming the replacement into place failed (the next run creates it anew): {e}"))
            })?;
            engine.start(&new_id).map_err(|e| {
                StepFailure::engine(&e, format!("{gone}, and the replacement failed to start (left for `docker logs`; the next run retries): {e}"))
            })?;
            return Ok(Pending::Replace { new_id, old: None });
        }
        Err(e) => {
            let why = undo_new(format!("renaming the old container aside failed: {e}"));
            // The rename may have happened even though its reply was lost: name it back, and
            // ignore the error the engine gives when the name is already right.
            let _ = engine.rename(&old.id, name);
            return Err(StepFailure::engine(&e, restart_old(engine, old, why)));
        }
    }
    if let Err(e) = engine.rename(&new_id, name) {
        let why = format!("renaming the replacement into place failed: {e}");
        return Err(StepFailure::engine(
            &e,
            rollback(engine, name, &new_id, old, why),
        ));
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
            Err(StepFailure::of(hold_failed(
                engine, name, &new_id, old, why,
            )))
        }
        Err(e) => {
            let why = format!("the replacement failed to start: {e}");
            Err(StepFailure::engine(
                &e,
                rollback(engine, name, &new_id, old, why),
            ))
        }
    }
}

/// Put the old container back in place after a failed replace.
fn rollback(
    engine: &dyn EngineCalls,
    name: &str,
    new_id: &str,
    old: &Existing,
    why: String,
) -> String {
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

fn restart_old(engine: &dyn EngineCalls, old: &Existing, why: String) -> String {
    if !old.running {
        return format!("{why}; rolled back");
    }
    match engine.start(&old.id) {
        Ok(()) => format!("{why}; rolled back, the old container runs again"),
        Err(e) => format!("{why}; restarting the old container failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::Span;
    use std::sync::Arc;

    fn up_for(secs: u64) -> Since {
        Since::Up(Span {
            min: Duration::from_secs(secs),
            max: Duration::from_secs(secs + 1),
        })
    }

    fn existing(running: bool, since: Since) -> Existing {
        Existing {
            id: "id".into(),
            name: "n".into(),
            running,
            since,
            ..Existing::default()
        }
    }

    fn watched(up_before: u64) -> Result<Option<Pending>, String> {
        Ok(Some(Pending::Check(Watched::existing(
            "id",
            Duration::from_secs(up_before),
        ))))
    }

    /// Issue 21, item 1: a kept container is up only when the list shows it up for longer
    /// than the settle window; anything suspect is watched, what the list says is down fails.
    #[test]
    fn what_keeping_a_container_takes() {
        let settle = Duration::from_secs(3);
        let restarting = Existing {
            restarting: true,
            ..existing(true, Since::Unknown)
        };
        let with_health = |h| Existing {
            health: Some(h),
            ..existing(true, up_for(3600))
        };
        let cases: Vec<(Existing, Duration, Result<Option<Pending>, String>)> = vec![
            (existing(true, up_for(3600)), settle, Ok(None)),
            (existing(true, up_for(3)), settle, Ok(None)),
            // Just (re)started: watched for what is left of its window.
            (existing(true, up_for(2)), settle, watched(2)),
            (existing(true, up_for(0)), settle, watched(0)),
            // The list did not say: a watch finds out, unless nothing is verified.
            (existing(true, Since::Unknown), settle, watched(0)),
            (existing(true, Since::Unknown), Duration::ZERO, Ok(None)),
            (existing(true, up_for(0)), Duration::ZERO, Ok(None)),
            // A finished job the planner kept.
            (existing(false, Since::Unknown), settle, Ok(None)),
            (with_health(Health::Healthy), settle, Ok(None)),
            (with_health(Health::Starting), settle, watched(0)),
        ];
        for (e, settle, want) in cases {
            let got = keep(&e, settle);
            assert_eq!(
                format!("{got:?}"),
                format!("{want:?}"),
                "{e:?} settle {settle:?}"
            );
        }
        assert!(
            keep(&restarting, settle)
                .unwrap_err()
                .contains("restarting")
        );
        assert!(
            keep(&restarting, Duration::ZERO).is_err(),
            "not a watch: a fact"
        );
        assert!(
            keep(&with_health(Health::Unhealthy), settle)
                .unwrap_err()
                .contains("unhealthy")
        );
    }

    fn step(name: &str, action: Action) -> Step {
        Step::new(name, action, "r")
    }

    fn outcome(name: &str, action: Action, result: StepResult) -> Outcome {
        Outcome {
            step: step(name, action),
            result,
            finished: None,
        }
    }

    fn failed() -> StepResult {
        StepResult::Failed(StepFailure::of("x"))
    }

    /// Issue 21, item 4: a dependency counts as up only when verified up in this run or kept
    /// up; a record left as it is (invalid, unavailable) is not up.
    #[test]
    fn what_counts_as_up_for_those_that_wait() {
        let e = || existing(true, up_for(3600));
        let spec = || Arc::new(crate::container::tests::example("t", serde_json::json!({})));
        let up = |o: Vec<Outcome>| is_up(&o);
        let done = StepResult::Done;
        assert!(up(vec![outcome(
            "d",
            Action::Keep { existing: e() },
            done.clone()
        )]));
        assert!(up(vec![outcome(
            "d",
            Action::Create { spec: spec() },
            done.clone()
        )]));
        assert!(up(vec![outcome(
            "d",
            Action::Start { existing: e() },
            done.clone()
        )]));
        assert!(up(vec![outcome(
            "d",
            Action::Replace {
                existing: e(),
                spec: spec()
            },
            done.clone()
        )]));
        assert!(up(vec![outcome(
            "d",
            Action::Finished { existing: None },
            done.clone()
        )]));
        assert!(up(vec![
            outcome("d", Action::Discard { existing: e() }, done.clone()),
            outcome("d", Action::Create { spec: spec() }, done.clone()),
        ]));
        // Held back: the old one runs untouched; with none, nothing is up.
        let held = |existing| Action::HeldBack {
            existing,
            failed: e(),
        };
        assert!(up(vec![outcome("d", held(Some(e())), failed())]));
        assert!(!up(vec![outcome("d", held(None), failed())]));
        let crashing = Existing {
            restarting: true,
            ..e()
        };
        assert!(!up(vec![outcome("d", held(Some(crashing)), failed())]));
        // Not up.
        assert!(!up(vec![]));
        assert!(!up(vec![outcome(
            "d",
            Action::Leave { existing: None },
            done.clone()
        )]));
        assert!(!up(vec![outcome(
            "d",
            Action::Leave {
                existing: Some(e())
            },
            done.clone()
        )]));
        assert!(!up(vec![outcome(
            "d",
            Action::Create { spec: spec() },
            failed()
        )]));
        assert!(!up(vec![outcome(
            "d",
            Action::Remove { existing: e() },
            done.clone()
        )]));
        assert!(!up(vec![
            outcome("d", Action::Discard { existing: e() }, failed()),
            outcome(
                "d",
                Action::Create { spec: spec() },
                StepResult::Skipped("x".into())
            ),
        ]));
    }

    /// A no-op wave runs on the caller's thread; one with engine work on `jobs` threads.
    #[test]
    fn only_a_wave_with_engine_work_gets_worker_threads() {
        let settings = Settings {
            jobs: 4,
            settle: Duration::from_secs(3),
            deadline: Instant::now(),
        };
        let up = existing(true, up_for(3600));
        let spec = Arc::new(crate::container::tests::example("t", serde_json::json!({})));
        let quiet = vec![
            Action::Keep {
                existing: up.clone(),
            },
            Action::Finished { existing: None },
            Action::Leave { existing: None },
            Action::HeldBack {
                existing: None,
                failed: up.clone(),
            },
        ];
        let busy = vec![
            Action::Keep {
                existing: existing(true, up_for(1)),
            },
            Action::Create { spec: spec.clone() },
            Action::Start {
                existing: up.clone(),
            },
            Action::Replace {
                existing: up.clone(),
                spec,
            },
            Action::Remove {
                existing: up.clone(),
            },
            Action::RenameBack { old: up.clone() },
            Action::Discard { existing: up },
        ];
        let wave = |actions: &[Action]| -> usize {
            let steps: Vec<Step> = actions.iter().map(|a| step("n", a.clone())).collect();
            let groups = vec![("n".to_string(), steps.iter().collect::<Vec<_>>())];
            workers(&groups, &settings)
        };
        assert_eq!(wave(&quiet), 1);
        for a in busy {
            let mut actions = quiet.clone();
            actions.push(a.clone());
            assert_eq!(wave(&actions), 4, "{a:?}");
        }
    }

    #[test]
    fn a_removal_waits_for_its_users_to_go_anything_else_for_its_needs_to_be_up() {
        let e = || existing(true, up_for(3600));
        let after: BTreeMap<String, BTreeSet<String>> = [
            ("app".to_string(), ["db".to_string()].into()),
            ("old".to_string(), ["user".to_string()].into()),
        ]
        .into();
        let mut done: BTreeMap<String, Vec<Outcome>> = BTreeMap::new();
        done.insert(
            "db".into(),
            vec![outcome(
                "db",
                Action::Leave { existing: None },
                StepResult::Done,
            )],
        );
        done.insert(
            "user".into(),
            vec![outcome(
                "user",
                Action::Remove { existing: e() },
                StepResult::Done,
            )],
        );
        let create = step(
            "app",
            Action::Create {
                spec: Arc::new(crate::container::tests::example("t", serde_json::json!({}))),
            },
        );
        assert_eq!(
            waiting("app", &[&create], &after, &done).as_deref(),
            Some("it waits for db, which is not up")
        );
        let remove = step("old", Action::Remove { existing: e() });
        assert_eq!(
            waiting("old", &[&remove], &after, &done),
            None,
            "its user went"
        );
        done.insert(
            "user".into(),
            vec![outcome("user", Action::Remove { existing: e() }, failed())],
        );
        assert_eq!(
            waiting("old", &[&remove], &after, &done).as_deref(),
            Some("user uses it and was not removed or replaced")
        );
        done.insert(
            "db".into(),
            vec![outcome(
                "db",
                Action::Keep { existing: e() },
                StepResult::Done,
            )],
        );
        assert_eq!(waiting("app", &[&create], &after, &done), None);
        assert_eq!(waiting("free", &[&create], &after, &done), None);
    }
}
