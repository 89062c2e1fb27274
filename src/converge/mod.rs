//! One run of `apply`, `plan` or `show`, start to finish: options → records → desired →
//! engine → recovery → plan → apply (repairs first) → report → exit code. The order of the
//! phases is the safety argument: before the list is known the engine is only ever put back
//! to where a crash interrupted it (never converged), and nothing is removed on a partial
//! read.

mod engine;
mod networks;
mod waiting;

use crate::btree::IntoTree;
use crate::cli::{Command, Options, Output};
use crate::context::{self, Records, Rules};
use crate::desired::{Desired, HostList, WantedState};
use crate::docker::Engine;
use crate::exit::{Code, Stop};
use crate::network::apply::NetOutcome;
use crate::network::desired::{NetList, Networks};
use crate::network::plan::NetPlan;
use crate::plan::{Action, Plan};
use crate::state::{Converged, Ran, State};
use crate::{apply, images, jobs, lock, metrics, network, notify, plan, report, walk};
use engine::{EARLY_LIST_FRESH, EarlyEngine, EngineRead, engine_stop, read_and_repair};
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};
use waiting::{EngineSoFar, Offline};

/// How long a run without a usable list waits for the engine, to repair a crash's leftovers.
const REPAIR_ONLY_ENGINE_WAIT: Duration = Duration::from_secs(10);

/// Run `apply`, `plan` or `show`; prints the report on stdout, logs on stderr, and writes
/// the metrics file when asked.
pub fn run(o: &Options) -> Code {
    let started = Instant::now();
    let mut seen = metrics::Run::default();
    let code = outcome(o, started, &mut seen);
    if let Some(path) = &o.metrics_file {
        seen.command = o.command.name().to_string();
        seen.exit_status = code.status();
        seen.success = matches!(code, Code::Ok | Code::ChangesPending);
        seen.finished = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        seen.took = started.elapsed();
        if let Err(e) = metrics::write(path, &seen) {
            log::warn!("{e}");
        }
    }
    code
}

/// The run's exit code; what it did goes into `seen`.
fn outcome(o: &Options, started: Instant, seen: &mut metrics::Run) -> Code {
    match converge(o, started, seen) {
        Ok(code) => code,
        Err(stop) => {
            // 79 is the outage weathered, not a failure of the run.
            match stop.code {
                Code::Offline => log::warn!("{}", stop.why),
                _ => log::error!("{}", stop.why),
            }
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
    /// What earlier runs left (an unusable file is an empty state, with a warning).
    state: State,
    /// Held to the end of the run; only apply changes anything, so only apply takes it.
    _lock: Option<std::fs::File>,
}

/// Fail on configuration before waiting for anything (78, 66, 65; the walk's 78 once the
/// host has a name), then take the lock.
fn setup(o: &Options) -> Result<Setup, Stop> {
    let splay = crate::retry::random_duration(o.splay);
    let deadline = Instant::now() + splay + o.timeout;
    let records = Records::open(o, deadline)?;
    let rules = Rules::new(o).with_proxies(o)?;
    if o.command != Command::Show {
        // The engine's settings are configuration too (Rules::with_proxies resolved the
        // engine's name): refused before any wait.
        context::pinned_api_version()?;
    }
    // A placeholder kernel name is waited out (75 at the deadline), after the checks that
    // need no name and before those that do.
    let host = waiting::host(o, deadline)?;
    let walk = walk::walk(&host, &rules.limits).map_err(|e| Stop::new(Code::Config, e))?;
    log::debug!("levels: {} ({})", walk.levels.join(", "), walk.stop);
    let lock = match o.command {
        Command::Apply => Some(lock::acquire(&o.lock_file, deadline).map_err(|e| match e {
            lock::LockError::Busy(m) => Stop::new(Code::TempFail, m),
            lock::LockError::Unusable(m) => Stop::new(Code::Config, m),
        })?),
        _ => None,
    };
    // Read under the lock, so that what this run writes back builds on the last run's
    // state; `show` reads none (it may run as any user, and uses nothing of it).
    let state = match o.command {
        Command::Apply | Command::Plan => State::load(&o.state_dir, &host),
        _ => State::new(&host),
    };
    if let Records::Dns(r) = &records {
        r.restore_rests(&state.servers);
    }
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
        state,
        _lock: lock,
    })
}

fn converge(o: &Options, started: Instant, seen: &mut metrics::Run) -> Result<Code, Stop> {
    let s = setup(o)?;
    // The engine's answers do not depend on DNS, and neither does crash repair: both run
    // while DNS is asked (and before the splay), so a service an interrupted replace took
    // down comes back within seconds even while DNS is down.
    let early = (o.command != Command::Show)
        .then(|| context::local_endpoint(o))
        .flatten()
        .map(|endpoint| EarlyEngine::start(endpoint, o, s.settings));
    let (desired, engine, offline) = waiting::read_desired(o, &s, early);
    let nets = networks::read(o, s.records.source(), &s.walk, &desired);
    if o.command == Command::Show {
        print!("{}", show_report(&desired, &nets, o.output == Output::Json));
        return Ok(desired.code().worst(nets.code()));
    }
    // An unreadable list or no list at all: nothing converges, but what a crash left
    // half-done is still repaired, since that needs the engine alone.
    let mut stop_early = unconverged(o, &desired, &s.host, &s.walk);
    if let (Some(stop), Some(off)) = (&mut stop_early, &offline)
        && off.report.ready
        && matches!(desired.list, HostList::Unavailable(_))
    {
        *stop = Stop::new(
            Code::Offline,
            format!(
                "nothing is converged while the list cannot be read; the host is {}",
                off.report.line()
            ),
        );
    }
    let read = match read_engine(o, &s, engine, stop_early.is_some()) {
        Ok(read) => read,
        Err(stop) => {
            let Some(stop_early) = stop_early else {
                return Err(stop);
            };
            // The list's failure is the news; the engine's is why nothing was repaired.
            log::warn!("no crash repair this run: {}", stop.why);
            let nothing = Plan::unordered(Vec::new(), stop_early.code);
            let outcomes = (o.command == Command::Apply).then(Vec::new);
            let report = Report {
                desired: &desired,
                plan: &nothing,
                outcomes: outcomes.as_deref(),
                pruned: &[],
                networks: (&NetPlan::default(), None),
                offline: offline.as_ref().map(|off| &off.report),
            };
            print_report(o, &report, stop_early.code, started);
            return Err(stop_early);
        }
    };
    let code = plan_and_apply(
        o,
        &s,
        (&desired, &nets),
        read,
        stop_early.as_ref(),
        offline,
        (started, seen),
    );
    match stop_early {
        Some(stop) => Err(Stop { code, ..stop }),
        None => Ok(code),
    }
}

/// The engine's containers as crash recovery leaves them, fresh enough to plan from.
/// Without a list the engine is waited for only to repair: a host that is not configured
/// must not wait all of --timeout for an engine to exit 66.
fn read_engine(
    o: &Options,
    s: &Setup,
    engine: EngineSoFar,
    repair_only: bool,
) -> Result<EngineRead, Stop> {
    let deadline = s.settings.deadline;
    let engine_deadline = match repair_only {
        true => deadline.min(Instant::now() + REPAIR_ONLY_ENGINE_WAIT),
        false => deadline,
    };
    let mut read = match engine {
        EngineSoFar::Read(read) => (*read)?,
        EngineSoFar::Early(Some(early)) => early.wait(engine_deadline)?,
        EngineSoFar::Early(None) => {
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
    (desired, nets): (&Desired, &Networks),
    read: EngineRead,
    stop_early: Option<&Stop>,
    offline: Option<Offline>,
    (started, seen): (Instant, &mut metrics::Run),
) -> Code {
    let EngineRead {
        engine,
        recovery,
        mut repairs,
        ..
    } = read;
    let converging = stop_early.is_none();
    let refreshed = refresh(o, &engine, desired, &recovery.view, converging);
    let mut state = s.state.clone();
    if converging {
        jobs::check(
            &engine,
            desired,
            &recovery.view,
            &mut state.jobs_done,
            o.jobs,
        );
    }
    let (mut net, desired) = networks::prepare(
        o,
        &engine,
        nets,
        desired,
        &recovery.view,
        &state.networks,
        converging,
    );
    let desired = &desired;
    let mut plan = match stop_early {
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
    network::plan::settle(&mut net.plan, &plan, &recovery.view);
    let mut pruned = Vec::new();
    let (outcomes, net_outcomes, code) = match o.command {
        Command::Plan => (None, None, plan.code.worst(net.plan.code)),
        _ => {
            let mut net_outcomes = network::apply::before_containers(&net.plan, &engine);
            network::apply::hold_back(&mut plan, &net_outcomes);
            repairs.extend(apply::execute(&plan, &engine, &s.settings, &repairs));
            net_outcomes.extend(network::apply::after_containers(&net.plan, &engine));
            if o.prune_images && converging {
                pruned = prune_images(&engine, &repairs, desired, seen);
            }
            let code = apply::exit_code(plan.code, &repairs)
                .worst(network::apply::exit_code(&net.plan, &net_outcomes));
            if converging {
                state.networks = network::apply::managed_after(&net.managed, &net_outcomes);
            }
            remember(&mut state, s, desired, &repairs, converging, o);
            (Some(repairs), Some(net_outcomes), code)
        }
    };
    let plan = Plan {
        steps: recovery.steps.into_iter().chain(plan.steps).collect(),
        ..plan
    };
    let code = match o.command == Command::Plan && o.detailed_exitcode {
        true => crate::exit::detailed(code, !plan.is_noop()),
        false => code,
    };
    let (offline, outcomes) = lead_with_offline(offline, outcomes);
    let report = Report {
        desired,
        plan: &plan,
        outcomes: outcomes.as_deref(),
        pruned: &pruned,
        networks: (&net.plan, net_outcomes.as_deref()),
        offline: offline.as_ref(),
    };
    let took = print_report(o, &report, code, started);
    seen.tally = metrics::Tally::of(&plan, outcomes.as_deref());
    offline_gauges(seen, offline.as_ref().filter(|_| !converging));
    let mut line = report::summary(&plan, outcomes.as_deref()).line(o.command.name(), took);
    if let Some(off) = &offline {
        line += &offline_summary(off, converging);
    }
    log::info!(
        "{line} (engine calls: {}, exit status {})",
        engine.calls(),
        code.status()
    );
    match o.command == Command::Apply && code == Code::Ok {
        true => notify::ready(&format!("converged to DNS: {line}")),
        false => notify::status(&format!("exit status {}: {line}", code.status())),
    }
    code
}

/// The offline start ran first: its starts lead the report.
fn lead_with_offline(
    offline: Option<Offline>,
    outcomes: Option<Vec<apply::Outcome>>,
) -> (Option<report::Offline>, Option<Vec<apply::Outcome>>) {
    match offline {
        Some(off) => (
            Some(off.report),
            outcomes.map(|x| off.outcomes.into_iter().chain(x).collect()),
        ),
        None => (None, outcomes),
    }
}

/// The pulls before planning: only a converging apply pulls; plan changes nothing, not even
/// the image store, and asks the registries instead.
fn refresh(
    o: &Options,
    engine: &Engine,
    desired: &Desired,
    view: &[crate::docker::Container],
    converging: bool,
) -> images::Refreshed {
    match (o.command, converging) {
        (Command::Apply, true) => images::check(engine, desired, view, o.pull, o.jobs),
        (Command::Plan, true) => images::check_remote(engine, desired, view, o.pull, o.jobs),
        _ => images::Refreshed::new(),
    }
}

/// `--prune-images` after a converging apply, counted in the metrics.
fn prune_images(
    engine: &Engine,
    repairs: &[apply::Outcome],
    desired: &Desired,
    seen: &mut metrics::Run,
) -> Vec<apply::prune::Pruned> {
    let pruned = apply::prune::prune(engine, repairs, || wanted_images(engine, desired));
    seen.images_pruned = pruned.iter().filter(|p| p.result.is_ok()).count();
    pruned
}

/// The metrics of a run that ended on the last converged state (`weathering`), and the 0 of
/// every other: a fleet alerts on hosts that run their last converged state, not DNS's.
fn offline_gauges(seen: &mut metrics::Run, weathering: Option<&report::Offline>) {
    seen.gauges.push((
        "offline",
        "1 while DNS is silent and the host runs its last converged state.",
        f64::from(u8::from(weathering.is_some())),
    ));
    if let Some(off) = weathering {
        seen.gauges.push((
            "offline_since_timestamp_seconds",
            "When the host started running its last converged state.",
            off.since as f64,
        ));
        seen.gauges.push((
            "last_converged_timestamp_seconds",
            "When the last converged state it runs was verified.",
            off.converged_at as f64,
        ));
    }
}

/// What the summary line adds after an offline start: still on the state, or converged since.
fn offline_summary(off: &report::Offline, converging: bool) -> String {
    match converging {
        false => format!("; {}", off.line()),
        true => format!(
            "; DNS answered: converged, after running the last converged state since {}",
            crate::logging::format_utc(off.since, 0)
        ),
    }
}

/// What a report is made of.
struct Report<'a> {
    desired: &'a Desired,
    plan: &'a Plan,
    outcomes: Option<&'a [apply::Outcome]>,
    pruned: &'a [apply::prune::Pruned],
    /// The networks' plan and, for `apply`, what their steps did.
    networks: (&'a NetPlan, Option<&'a [NetOutcome]>),
    offline: Option<&'a report::Offline>,
}

/// Print the run's report on stdout; returns how long the run took.
fn print_report(o: &Options, r: &Report<'_>, code: Code, started: Instant) -> Duration {
    let took = started.elapsed();
    let json = o.output == Output::Json;
    let mut text = report::actions(
        r.desired,
        r.plan,
        (r.outcomes, r.pruned),
        json,
        code.status(),
        took,
    );
    if let Some(off) = r.offline {
        text = report::with_offline(text, json, off);
    }
    let (net_plan, net_outcomes) = r.networks;
    print!("{}", with_networks(text, json, net_plan, net_outcomes));
    took
}

/// The containers' report with the networks' steps in it: a JSON document gains
/// `network_actions`; text gains a line per network before the summary line.
fn with_networks(
    text: String,
    json: bool,
    plan: &NetPlan,
    outcomes: Option<&[NetOutcome]>,
) -> String {
    if plan.steps.is_empty() {
        return text;
    }
    if json {
        return match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(mut doc) => {
                doc["network_actions"] = network::report::actions_json(plan, outcomes);
                format!("{doc:#}\n")
            }
            Err(_) => text,
        };
    }
    // The report is the header (the walk and the list: two lines), a line per step, and
    // the summary line; networks made first come after the header, removals before the
    // summary, in the order they run.
    let body = text.strip_suffix('\n').unwrap_or(&text);
    let (rest, summary) = body.rsplit_once('\n').unwrap_or(("", body));
    let mut parts = rest.splitn(3, '\n');
    let (walk, list, steps) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().map(|s| format!("{s}\n")).unwrap_or_default(),
    );
    format!(
        "{walk}\n{list}\n{}{steps}{}{summary}\n",
        network::report::actions_text(plan, outcomes, false),
        network::report::actions_text(plan, outcomes, true)
    )
}

/// The `show` report with the networks DNS declares.
fn show_report(desired: &Desired, nets: &Networks, json: bool) -> String {
    let text = report::show(desired, json);
    if !nets.declared() && !matches!(nets.list, NetList::Unavailable(_)) {
        return text;
    }
    if json {
        return match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(mut doc) => {
                doc["networks"] = network::report::show_json(nets);
                format!("{doc:#}\n")
            }
            Err(_) => text,
        };
    }
    text + &network::report::show_text(nets)
}

/// The IDs of the images the listed records name, as the engine resolves them now: an image
/// a record names is never pruned, even while no container runs it.
fn wanted_images(engine: &dyn crate::docker::EngineCalls, desired: &Desired) -> BTreeSet<String> {
    let HostList::Listed(wanted) = &desired.list else {
        return BTreeSet::new();
    };
    wanted
        .iter()
        .filter_map(|w| match &w.state {
            WantedState::Spec { spec, .. } => engine.image_id(&spec.image).ok().flatten(),
            _ => None,
        })
        .into_set()
}

/// Keep what this run learnt: the jobs that finished and (when it converged) what it
/// verified up, and the nameservers that rest. Written only when that changes the state.
fn remember(
    state: &mut State,
    s: &Setup,
    desired: &Desired,
    outcomes: &[apply::Outcome],
    converging: bool,
    o: &Options,
) {
    if converging {
        let finished = outcomes
            .iter()
            .filter_map(|x| match (&x.finished, &x.step.action) {
                (Some(id), Action::Create { spec } | Action::Replace { spec, .. }) => {
                    Some((x.step.name.as_str(), id.as_str(), &**spec))
                }
                _ => None,
            });
        jobs::remember(&mut state.jobs_done, finished, desired);
        let now = waiting::unix_secs(SystemTime::now());
        state.converged = Some(Converged::new(now, verified_up(desired, outcomes)));
    }
    if let Records::Dns(r) = &s.records {
        state.servers = r.rests();
    }
    state.servers.truncate(crate::state::MAX_SERVERS);
    if *state != s.state
        && let Err(e) = state.save(&o.state_dir)
    {
        log::warn!(
            "{e}: the next run does not know what this one learnt (a job that finished may run again; an offline start has only an older converged state)"
        );
    }
}

/// The containers this run verified up, with the records they came from: the last converged
/// state. A one-shot job that finished is not one of them, nor a `--rm` container (stopped,
/// it is gone: there would be nothing to start).
fn verified_up(desired: &Desired, outcomes: &[apply::Outcome]) -> Vec<Ran> {
    let HostList::Listed(wanted) = &desired.list else {
        return Vec::new();
    };
    wanted
        .iter()
        .filter_map(|w| {
            let WantedState::Spec { record, spec } = &w.state else {
                return None;
            };
            let last = outcomes.iter().rev().find(|x| x.step.name == w.name)?;
            let up = last.result == apply::StepResult::Done
                && last.finished.is_none()
                && !spec.auto_remove()
                && matches!(
                    last.step.action,
                    Action::Create { .. }
                        | Action::Replace { .. }
                        | Action::Start { .. }
                        | Action::Keep { .. }
                );
            up.then_some(())?;
            Some(Ran {
                name: w.name.clone(),
                identity: spec.owner_label()?.to_string(),
                record: record.clone(),
                text: spec.text.clone(),
            })
        })
        .collect()
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
