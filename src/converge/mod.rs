//! One run of `apply`, `plan` or `show`, start to finish: options → records → desired →
//! engine → recovery → plan → apply (repairs first) → report → exit code. The order of the
//! phases is the safety argument: before the list is known the engine is only ever put back
//! to where a crash interrupted it (never converged), and nothing is removed on a partial
//! read.

mod engine;

use crate::cli::{Command, Options, Output};
use crate::context::{self, Records, Rules};
use crate::desired::{self, Desired, HostList, WantedState};
use crate::docker::Engine;
use crate::exit::{Code, Stop};
use crate::jobs::JobDone;
use crate::plan::{Action, Plan};
use crate::state::State;
use crate::{apply, images, jobs, lock, plan, report, walk};
use engine::{EARLY_LIST_FRESH, EarlyEngine, EngineRead, engine_stop, read_and_repair};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a run without a usable list waits for the engine, to repair a crash's leftovers.
const REPAIR_ONLY_ENGINE_WAIT: Duration = Duration::from_secs(10);

/// Run `apply`, `plan` or `show`; prints the report on stdout, logs on stderr.
pub fn run(o: &Options) -> Code {
    let started = Instant::now();
    match converge(o, started) {
        Ok(code) => code,
        Err(stop) => {
            log::error!("{}", stop.why);
            log::info!(
                "{}: stopped with exit status {} in {:.2}s",
                o.command.name(),
                stop.code.status(),
                started.elapsed().as_secs_f64()
            );
            stop.code
        }
    }
}

/// What a run has once its configuration is checked, before it waits for anything.
struct Setup {
    host: String,
    walk: walk::Walk,
    records: Records,
    rules: Rules,
    settings: apply::Settings,
    splay: Duration,
    /// Held to the end of the run; only apply changes anything, so only apply takes it.
    _lock: Option<std::fs::File>,
}

/// Fail on configuration before waiting for anything (78, 66, 65), then take the lock.
fn setup(o: &Options) -> Result<Setup, Stop> {
    let host = context::host(o)?;
    let rules = Rules::new(o).with_proxies(o)?;
    let walk = walk::walk(&host, &rules.limits).map_err(|e| Stop::new(Code::Config, e))?;
    log::debug!("levels: {} ({})", walk.levels.join(", "), walk.stop);
    let splay = crate::retry::random_duration(o.splay);
    let deadline = Instant::now() + splay + o.timeout;
    let records = Records::open(o, deadline)?;
    if o.command != Command::Show {
        // The engine's settings are configuration too (Rules::with_proxies resolved the
        // engine's name): refused before any wait.
        context::pinned_api_version()?;
    }
    let lock = match o.command {
        Command::Apply => Some(lock::acquire(&o.lock_file, deadline).map_err(|e| match e {
            lock::LockError::Busy(m) => Stop::new(Code::TempFail, m),
            lock::LockError::Unusable(m) => Stop::new(Code::Config, m),
        })?),
        _ => None,
    };
    Ok(Setup {
        host,
        walk,
        records,
        rules,
        settings: apply::Settings {
            jobs: o.jobs,
            settle: o.settle,
            deadline,
        },
        splay,
        _lock: lock,
    })
}

fn converge(o: &Options, started: Instant) -> Result<Code, Stop> {
    let s = setup(o)?;
    // The engine's answers do not depend on DNS, and neither does crash repair: both run
    // while DNS is asked (and before the splay), so a service an interrupted replace took
    // down comes back within seconds even while DNS is down.
    let early = (o.command != Command::Show)
        .then(|| context::local_endpoint(o))
        .flatten()
        .map(|endpoint| EarlyEngine::start(endpoint, o, s.settings));
    let desired = read_desired(o, &s);
    if o.command == Command::Show {
        print!("{}", report::show(&desired, o.output == Output::Json));
        return Ok(desired.code());
    }
    // An unreadable list or no list at all: nothing converges, but what a crash left
    // half-done is still repaired, since that needs the engine alone.
    let stop_early = unconverged(o, &desired, &s.host, &s.walk);
    let read = match read_engine(o, &s, early, stop_early.is_some()) {
        Ok(read) => read,
        Err(stop) => {
            let Some(stop_early) = stop_early else {
                return Err(stop);
            };
            // The list's failure is the news; the engine's is why nothing was repaired.
            log::warn!("no crash repair this run: {}", stop.why);
            let nothing = Plan::unordered(Vec::new(), stop_early.code);
            let outcomes = (o.command == Command::Apply).then(Vec::new);
            print_report(
                o,
                &desired,
                &nothing,
                outcomes.as_deref(),
                stop_early.code,
                started,
            );
            return Err(stop_early);
        }
    };
    let code = plan_and_apply(o, &s, &desired, read, stop_early.as_ref(), started);
    match stop_early {
        Some(stop) => Err(Stop { code, ..stop }),
        None => Ok(code),
    }
}

/// The splay, then the records: the list and each listed container's record.
fn read_desired(o: &Options, s: &Setup) -> Desired {
    if !s.splay.is_zero() {
        log::info!(
            "waiting {:.1}s (splay, at most {:.1}s) before the first query",
            s.splay.as_secs_f64(),
            o.splay.as_secs_f64()
        );
        std::thread::sleep(s.splay);
    }
    let parse = s.rules.parser();
    let dns_started = Instant::now();
    let desired = desired::read(s.records.source(), &s.walk, &o.prefix, o.inherit, &parse);
    log::debug!("DNS phase took {:.3}s", dns_started.elapsed().as_secs_f64());
    log_desired(&desired);
    if let HostList::Unavailable(why) = &desired.list {
        log::error!("the container list is unavailable: {why}");
    }
    desired
}

/// The engine's containers as crash recovery leaves them, fresh enough to plan from.
/// Without a list the engine is waited for only to repair: a host that is not configured
/// must not wait all of --timeout for an engine to exit 66.
fn read_engine(
    o: &Options,
    s: &Setup,
    early: Option<EarlyEngine>,
    repair_only: bool,
) -> Result<EngineRead, Stop> {
    let deadline = s.settings.deadline;
    let engine_deadline = match repair_only {
        true => deadline.min(Instant::now() + REPAIR_ONLY_ENGINE_WAIT),
        false => deadline,
    };
    let mut read = match early {
        Some(early) => early.wait(engine_deadline)?,
        None => {
            let endpoint = context::engine_endpoint(o, &s.records, deadline)?;
            let engine = Engine::connect(&endpoint, engine_deadline)
                .map_err(|e| engine_stop(&endpoint, e))?;
            read_and_repair(engine, &endpoint, o, &s.settings)?
        }
    };
    if read.at.elapsed() > EARLY_LIST_FRESH {
        // DNS took long enough for the engine to have changed (by hand, say).
        log::debug!("reading the container list again: the first read is stale");
        read.read_again(o, &s.settings)?;
    }
    Ok(read)
}

/// Pulls before planning, finished jobs, the plan, and (for `apply`) its execution; prints
/// the report and returns the run's exit code. With `stop_early` only the repairs ran.
fn plan_and_apply(
    o: &Options,
    s: &Setup,
    desired: &Desired,
    read: EngineRead,
    stop_early: Option<&Stop>,
    started: Instant,
) -> Code {
    let EngineRead {
        engine,
        recovery,
        mut repairs,
        ..
    } = read;
    let converging = stop_early.is_none();
    // Only a converging apply pulls: plan changes nothing, not even the image store.
    let refreshed = match o.command == Command::Apply && converging {
        true => images::check(&engine, desired, &recovery.view, o.pull, o.jobs),
        false => images::Refreshed::new(),
    };
    let mut state = State::load(&o.state_dir, &s.host);
    let known_jobs = state.jobs_done.clone();
    if converging {
        jobs::check(
            &engine,
            desired,
            &recovery.view,
            &mut state.jobs_done,
            o.jobs,
        );
    }
    let plan = match stop_early {
        Some(stop) => Plan::unordered(Vec::new(), stop.code),
        None => plan::make(
            desired,
            &recovery,
            plan::Settings {
                allow_empty: o.allow_empty,
                no_adopt: o.no_adopt,
                jobs_done: state.jobs_done.clone(),
                refreshed,
            },
        ),
    };
    let (outcomes, code) = match o.command {
        Command::Plan => (None, plan.code),
        _ => {
            repairs.extend(apply::execute(&plan, &engine, &s.settings, &repairs));
            let code = apply::exit_code(plan.code, &repairs);
            if converging {
                remember_jobs(&mut state, &known_jobs, desired, &repairs, o);
            }
            (Some(repairs), code)
        }
    };
    let plan = Plan {
        steps: recovery.steps.into_iter().chain(plan.steps).collect(),
        ..plan
    };
    let took = print_report(o, desired, &plan, outcomes.as_deref(), code, started);
    log::info!(
        "{} (engine calls: {}, exit status {})",
        report::summary(&plan, outcomes.as_deref()).line(o.command.name(), took),
        engine.calls(),
        code.status()
    );
    code
}

/// Print the run's report on stdout; returns how long the run took.
fn print_report(
    o: &Options,
    desired: &Desired,
    plan: &Plan,
    outcomes: Option<&[apply::Outcome]>,
    code: Code,
    started: Instant,
) -> Duration {
    let took = started.elapsed();
    let json = o.output == Output::Json;
    print!(
        "{}",
        report::actions(desired, plan, outcomes, json, code.status(), took)
    );
    took
}

/// Keep what this run learnt about finished jobs; written only when that changes what was
/// known before the run (`before`).
fn remember_jobs(
    state: &mut State,
    before: &BTreeMap<String, JobDone>,
    desired: &Desired,
    outcomes: &[apply::Outcome],
    o: &Options,
) {
    let finished = outcomes
        .iter()
        .filter_map(|x| match (&x.finished, &x.step.action) {
            (Some(id), Action::Create { spec } | Action::Replace { spec, .. }) => {
                Some((x.step.name.as_str(), id.as_str(), &**spec))
            }
            _ => None,
        });
    jobs::remember(&mut state.jobs_done, finished, desired);
    if state.jobs_done != *before
        && let Err(e) = state.save(&o.state_dir)
    {
        log::warn!("{e}: a job that finished may run again on the next run");
    }
}

/// Why nothing converges this run, when the list says so: unavailable (75), or not
/// configured (66) without `--allow-empty`.
fn unconverged(o: &Options, desired: &Desired, host: &str, walk: &walk::Walk) -> Option<Stop> {
    match &desired.list {
        HostList::Unavailable(_) => Some(Stop::new(
            Code::TempFail,
            "nothing is converged while the list cannot be read",
        )),
        HostList::NotConfigured if !o.allow_empty && !desired.list_records.is_empty() => {
            Some(Stop::new(
                Code::NotConfigured,
                format!(
                    "the container list at {} names no container; nothing is converged (use --allow-empty to remove every managed container)",
                    desired.list_records.join(", ")
                ),
            ))
        }
        HostList::NotConfigured if !o.allow_empty => Some(Stop::new(
            Code::NotConfigured,
            format!(
                "no container list for {host} at any level asked ({}; {}); nothing is converged (use --allow-empty to remove every managed container)",
                walk.levels
                    .iter()
                    .map(|l| format!("{}.{l}", o.prefix))
                    .collect::<Vec<_>>()
                    .join(", "),
                walk.stop
            ),
        )),
        _ => None,
    }
}

fn log_desired(d: &Desired) {
    let HostList::Listed(ws) = &d.list else {
        return;
    };
    for w in ws {
        match &w.state {
            WantedState::Disabled => {
                log::warn!("{}: no record at any level: launch disabled", w.name)
            }
            WantedState::Invalid { record, text, why } => log::error!(
                "{}: invalid{}{}: {why}",
                w.name,
                record
                    .as_ref()
                    .map(|r| format!(" record {r}"))
                    .unwrap_or_default(),
                text.as_ref().map(|t| format!(" {t:?}")).unwrap_or_default()
            ),
            WantedState::Unknown(why) => log::warn!("{}: record unavailable: {why}", w.name),
            WantedState::Spec { .. } => {}
        }
    }
}
