//! One run of the tool, start to finish: options → records → desired → engine → recovery →
//! plan → apply (repairs first) → report → exit code. The order of the steps is the safety
//! argument: before the list is known the engine is only ever put back to where a crash
//! interrupted it (never converged), and nothing is removed on a partial read.

use crate::cli::{Command, Options, Output};
use crate::container::{self, ContainerSpec, Policy};
use crate::desired::{self, Desired, HostList, WantedState};
use crate::dns::records_file::{RecordsError, RecordsFile};
use crate::dns::{self, Resolver, ResolverConfig, TxtSource};
use crate::docker::{self, DockerHost, Endpoint, Engine, EngineError};
use crate::exit::Code;
use crate::jobs::{self, JobDone};
use crate::plan::Action;
use crate::recover::Recovery;
use crate::state::State;
use crate::walk::{self, Bound};
use crate::{apply, lock, plan, recover, report};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a run without a usable list waits for the engine, to repair a crash's leftovers.
const REPAIR_ONLY_ENGINE_WAIT: Duration = Duration::from_secs(10);

/// A reason to stop early, with the exit code it calls for.
struct Stop(Code, String);

/// Run the command the options name; prints the report on stdout, logs on stderr.
pub fn run(o: &Options) -> Code {
    if o.command == Command::Lint {
        return crate::lint::run(o);
    }
    let started = Instant::now();
    match run_inner(o, started) {
        Ok(code) => code,
        Err(Stop(code, why)) => {
            log::error!("{why}");
            log::info!(
                "{}: stopped with exit status {} in {:.2}s",
                command_name(o.command),
                code.status(),
                started.elapsed().as_secs_f64()
            );
            code
        }
    }
}

fn command_name(c: Command) -> &'static str {
    match c {
        Command::Apply => "apply",
        Command::Plan => "plan",
        Command::Show => "show",
        Command::Lint => "lint",
    }
}

fn run_inner(o: &Options, started: Instant) -> Result<Code, Stop> {
    let host = match &o.hostname {
        Some(h) => h.clone(),
        None => crate::cli::kernel_hostname().map_err(|e| Stop(Code::Config, e))?,
    };
    let bound = bound(o);
    let walk = walk::walk(&host, &bound).map_err(|e| Stop(Code::Config, e))?;
    log::debug!("levels: {} ({})", walk.levels.join(", "), walk.stop);
    let splay = crate::retry::random_duration(o.splay);
    let deadline = Instant::now() + splay + o.timeout;
    // Fail on configuration before waiting for anything.
    let records = Records::open(o, deadline)?;
    // Held to the end of the run; only apply changes anything, so only apply takes it.
    let _lock = match o.command {
        Command::Apply => Some(lock::acquire(&o.lock_file, deadline).map_err(|e| match e {
            lock::LockError::Busy(m) => Stop(Code::TempFail, m),
            lock::LockError::Unusable(m) => Stop(Code::Config, m),
        })?),
        _ => None,
    };
    let settings = apply::Settings {
        jobs: o.jobs,
        settle: o.settle,
        deadline,
    };
    // The engine's answers do not depend on DNS, and neither does crash repair: both run
    // while DNS is asked (and before the splay), so a service an interrupted replace took
    // down comes back within seconds even while DNS is down.
    let early = (o.command != Command::Show)
        .then(|| local_endpoint(o))
        .flatten()
        .map(|endpoint| EarlyEngine::start(endpoint, o, settings));
    if !o.splay.is_zero() {
        log::info!(
            "waiting {:.1}s (splay, at most {:.1}s) before the first query",
            splay.as_secs_f64(),
            o.splay.as_secs_f64()
        );
        std::thread::sleep(splay);
    }
    let policy = policy(o);
    let parse = record_parser(&policy, o.pull);
    let dns_started = Instant::now();
    let desired = desired::read(records.source(), &walk, &o.prefix, o.inherit, &parse);
    log::debug!("DNS phase took {:.3}s", dns_started.elapsed().as_secs_f64());
    log_desired(&desired);
    let json = o.output == Output::Json;

    if let HostList::Unavailable(why) = &desired.list {
        log::error!("the container list is unavailable: {why}");
    }
    if o.command == Command::Show {
        print!("{}", report::show(&desired, json));
        return Ok(desired.code());
    }
    // An unreadable list or no list at all: nothing converges, but what a crash left
    // half-done is still repaired, since that needs the engine alone.
    let stop_early = unconverged(o, &desired, &host, &walk);
    // Without a list the engine is waited for only to repair: a host that is not
    // configured must not wait all of --timeout for an engine to exit 66.
    let engine_deadline = match stop_early {
        Some(_) => deadline.min(Instant::now() + REPAIR_ONLY_ENGINE_WAIT),
        None => deadline,
    };
    let read = match early {
        Some(early) => early.wait(engine_deadline),
        None => engine_endpoint(o, &records, deadline).and_then(|endpoint| {
            let engine = Engine::connect(&endpoint, engine_deadline)
                .map_err(|e| engine_stop(&endpoint, e))?;
            read_and_repair(engine, &endpoint, o, &settings)
        }),
    };
    let (mut read, stop_early) = match (read, stop_early) {
        (Ok(read), stop_early) => (read, stop_early),
        (Err(stop), None) => return Err(stop),
        (Err(Stop(_, why)), Some(stop_early)) => {
            // The list's failure is the news; the engine's is why nothing was repaired.
            log::warn!("no crash repair this run: {why}");
            report_nothing(o, &desired, stop_early.0, started);
            return Err(stop_early);
        }
    };
    if read.at.elapsed() > EARLY_LIST_FRESH {
        // DNS took long enough for the engine to have changed (by hand, say).
        log::debug!("reading the container list again: the first read is stale");
        read.read_again(o, &settings)?;
    }
    let EngineRead {
        engine,
        mut recovery,
        mut repairs,
        ..
    } = read;
    // Only a converging apply pulls: plan changes nothing, not even the image store.
    if o.command == Command::Apply && stop_early.is_none() {
        crate::images::check(&engine, &desired, &mut recovery.view, o.pull, o.jobs);
    }
    let mut state = State::load(&o.state_dir, &host);
    let known_jobs = state.jobs_done.clone();
    if stop_early.is_none() {
        jobs::check(
            &engine,
            &desired,
            &recovery.view,
            &mut state.jobs_done,
            o.jobs,
        );
    }
    let plan = match &stop_early {
        Some(Stop(code, _)) => plan::Plan {
            steps: Vec::new(),
            code: *code,
            after: Default::default(),
        },
        None => plan::make(
            &desired,
            &recovery,
            plan::Settings {
                allow_empty: o.allow_empty,
                no_adopt: o.no_adopt,
                jobs_done: state.jobs_done.clone(),
            },
        ),
    };
    let (outcomes, code) = match o.command {
        Command::Plan => (None, plan.code),
        _ => {
            let outcomes = apply::run_after(&plan, &engine, &settings, &repairs);
            repairs.extend(outcomes);
            let code = outcome_code(plan.code, &repairs);
            if stop_early.is_none() {
                remember_jobs(&mut state, &known_jobs, &desired, &repairs, &o.state_dir);
            }
            (Some(repairs), code)
        }
    };
    let plan = plan::Plan {
        steps: recovery.steps.into_iter().chain(plan.steps).collect(),
        ..plan
    };
    let took = started.elapsed();
    print!(
        "{}",
        report::actions(
            &desired,
            &plan,
            outcomes.as_deref(),
            json,
            code.status(),
            took
        )
    );
    log::info!(
        "{} (engine calls: {}, exit status {})",
        report::summary(&plan, outcomes.as_deref()).line(command_name(o.command), took),
        engine.calls(),
        code.status()
    );
    match stop_early {
        Some(Stop(_, why)) => Err(Stop(code, why)),
        None => Ok(code),
    }
}

/// Why nothing converges this run, when the list says so: unavailable (75), or not
/// configured (66) without `--allow-empty`.
fn unconverged(o: &Options, desired: &Desired, host: &str, walk: &walk::Walk) -> Option<Stop> {
    match &desired.list {
        HostList::Unavailable(_) => Some(Stop(
            Code::TempFail,
            "nothing is converged while the list cannot be read".to_string(),
        )),
        HostList::NotConfigured if !o.allow_empty && !desired.list_records.is_empty() => {
            Some(Stop(
                Code::NotConfigured,
                format!(
                    "the container list at {} names no container; nothing is converged (use --allow-empty to remove every managed container)",
                    desired.list_records.join(", ")
                ),
            ))
        }
        HostList::NotConfigured if !o.allow_empty => Some(Stop(
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

/// The exit code of an applied run: the plan's, worsened by what failed. An engine that
/// stopped answering is 69 (look at the engine), any other failure 73.
fn outcome_code(planned: Code, outcomes: &[apply::Outcome]) -> Code {
    outcomes
        .iter()
        .filter_map(|x| match &x.result {
            apply::StepResult::Failed(f) if f.engine_lost => Some(Code::Unavailable),
            apply::StepResult::Failed(_) => Some(Code::ActionsFailed),
            _ => None,
        })
        .fold(planned, Code::worst)
}

/// Remember the jobs this run found finished, and forget those whose record is gone or
/// changed; written only when that changes what was known (`before`).
fn remember_jobs(
    state: &mut State,
    before: &BTreeMap<String, JobDone>,
    desired: &Desired,
    outcomes: &[apply::Outcome],
    dir: &Path,
) {
    for o in outcomes {
        if let (Some(id), Action::Create { spec } | Action::Replace { spec, .. }) =
            (&o.finished, &o.step.action)
            && let Some(identity) = spec.owner_label()
        {
            let container = (!spec.auto_remove()).then(|| id.clone());
            state.jobs_done.insert(
                o.step.name.clone(),
                JobDone {
                    identity: identity.to_string(),
                    container,
                    finished_at: jobs::now(),
                },
            );
        }
    }
    if let HostList::Listed(wanted) = &desired.list {
        state.jobs_done.retain(|name, job| {
            wanted.iter().any(|w| {
                w.name == *name
                    && match &w.state {
                        WantedState::Spec { spec, .. } => {
                            spec.owner_label() == Some(job.identity.as_str())
                        }
                        // Unreadable now: not a reason to run it again later.
                        WantedState::Invalid { .. } | WantedState::Unknown(_) => true,
                        WantedState::Disabled => false,
                    }
            })
        });
    }
    if state.jobs_done != *before
        && let Err(e) = state.save(dir)
    {
        log::warn!("{e}: a job that finished may run again on the next run");
    }
}

/// How old a container list read during the DNS phase may be and still be planned from.
const EARLY_LIST_FRESH: Duration = Duration::from_secs(1);

/// The engine, its containers as crash recovery leaves them, and the repairs made.
struct EngineRead {
    engine: Engine,
    endpoint: Endpoint,
    recovery: Recovery,
    /// The repairs' outcomes (none for `plan`, which only shows them).
    repairs: Vec<apply::Outcome>,
    /// When the list was read (after the repairs).
    at: Instant,
}

impl EngineRead {
    /// Read the list again and repair what that shows (normally nothing).
    fn read_again(&mut self, o: &Options, settings: &apply::Settings) -> Result<(), Stop> {
        let list = self
            .engine
            .list()
            .map_err(|e| engine_stop(&self.endpoint, e))?;
        let recovery = recover::recover(list, o.no_adopt);
        if o.command == Command::Apply && !recovery.steps.is_empty() {
            self.repairs.extend(apply::repairs(
                &repair_plan(&recovery),
                &self.engine,
                settings,
            ));
        }
        self.recovery.view = recovery.view;
        self.recovery.held = recovery.held;
        self.recovery.steps.extend(recovery.steps);
        self.at = Instant::now();
        Ok(())
    }
}

/// Read the list, and (for `apply`) repair what an interrupted replace left.
fn read_and_repair(
    mut engine: Engine,
    endpoint: &Endpoint,
    o: &Options,
    settings: &apply::Settings,
) -> Result<EngineRead, Stop> {
    engine.set_docker_config(o.docker_config.clone());
    log::debug!("engine at {endpoint}, API {}", engine.api_version());
    let list = engine.list().map_err(|e| engine_stop(endpoint, e))?;
    let recovery = recover::recover(list, o.no_adopt);
    let repairs = if o.command == Command::Apply && !recovery.steps.is_empty() {
        apply::repairs(&repair_plan(&recovery), &engine, settings)
    } else {
        Vec::new()
    };
    Ok(EngineRead {
        engine,
        endpoint: endpoint.clone(),
        recovery,
        repairs,
        at: Instant::now(),
    })
}

/// Recovery's repairs as a plan of their own: they run first and alone.
fn repair_plan(recovery: &Recovery) -> plan::Plan {
    plan::Plan {
        steps: recovery.steps.clone(),
        code: Code::Ok,
        after: Default::default(),
    }
}

/// The engine read (and crash repair) running on a thread of its own while DNS is asked.
struct EarlyEngine {
    events: mpsc::Receiver<Early>,
}

/// What the early engine thread reports.
enum Early {
    /// It reached the engine: what follows comes, however long repairs take.
    Connected,
    /// Done.
    Read(Box<Result<EngineRead, Stop>>),
}

impl EarlyEngine {
    /// Connect (retrying until the run's deadline), read and repair, on a thread.
    fn start(endpoint: Endpoint, o: &Options, settings: apply::Settings) -> EarlyEngine {
        let (tx, events) = mpsc::channel();
        let o = o.clone();
        std::thread::spawn(move || {
            let read = Engine::connect(&endpoint, settings.deadline)
                .map_err(|e| engine_stop(&endpoint, e))
                .and_then(|engine| {
                    let _ = tx.send(Early::Connected);
                    read_and_repair(engine, &endpoint, &o, &settings)
                });
            let _ = tx.send(Early::Read(Box::new(read)));
        });
        EarlyEngine { events }
    }

    /// The read, waiting for the engine until `until`; once connected, until the repairs
    /// are done (they are bounded by the run's deadline like any engine call).
    fn wait(self, until: Instant) -> Result<EngineRead, Stop> {
        let mut connected = false;
        loop {
            let next = if connected {
                self.events.recv().map_err(|_| ())
            } else {
                let left = until.saturating_duration_since(Instant::now());
                self.events.recv_timeout(left).map_err(|_| ())
            };
            match next {
                Ok(Early::Connected) => connected = true,
                Ok(Early::Read(read)) => return *read,
                Err(()) => {
                    return Err(Stop(
                        Code::Unavailable,
                        "Docker engine not reachable in the time this run gives it".to_string(),
                    ));
                }
            }
        }
    }
}

/// The engine's endpoint when naming it needs no DNS (a socket or an address).
fn local_endpoint(o: &Options) -> Option<Endpoint> {
    docker::parse_docker_host(&docker_host(o))
        .ok()
        .and_then(|host| literal_endpoint(host).ok())
}

/// The endpoint a docker host names, or the tcp host name and port to resolve first.
fn literal_endpoint(host: DockerHost) -> Result<Endpoint, (String, u16)> {
    match host {
        DockerHost::Unix(path) => Ok(Endpoint::Unix(path)),
        DockerHost::Tcp { host, port } => match host.parse() {
            Ok(ip) => Ok(Endpoint::Tcp(SocketAddr::new(ip, port))),
            Err(_) => Err((host, port)),
        },
    }
}

/// The report of a run that converged nothing and could not reach the engine to repair.
fn report_nothing(o: &Options, desired: &Desired, code: Code, started: Instant) {
    let empty = plan::Plan {
        steps: Vec::new(),
        code,
        after: Default::default(),
    };
    let outcomes = (o.command == Command::Apply).then(Vec::new);
    print!(
        "{}",
        report::actions(
            desired,
            &empty,
            outcomes.as_deref(),
            o.output == Output::Json,
            code.status(),
            started.elapsed()
        )
    );
}

/// How far the walk may go, as the options say, and the prefix its levels are asked under:
/// `walk::walk` refuses a `--top-domain` that is an ICANN public suffix and a host whose
/// list record name DNS cannot carry (78, before anything is asked). `lint` bounds its
/// hosts' walks with the same.
pub(crate) fn bound(o: &Options) -> walk::Limits {
    walk::Limits {
        bound: match &o.top_domain {
            Some(top) => Bound::TopDomain(top.clone()),
            None => Bound::PublicSuffix,
        },
        prefix: o.prefix.clone(),
    }
}

/// The security policy the options set.
pub(crate) fn policy(o: &Options) -> Policy {
    Policy {
        allow_images: o.allow_images.clone(),
        forbid_privileged: o.forbid_privileged,
    }
}

/// A record's text → its spec under `policy`: what every command parses with, so that
/// `lint` and the hosts never disagree.
pub(crate) fn record_parser(
    policy: &Policy,
    pull: container::PullPolicy,
) -> impl Fn(&str) -> Result<ContainerSpec, String> + Sync + '_ {
    move |text: &str| {
        // With --forbid-privileged the guard also keeps records from reading host files
        // and the tool's environment (--env-file /etc/shadow, -e SECRET).
        let s = container::parse(text, &policy.guard(&container::SystemHost))
            .map_err(|e| e.to_string())?;
        policy.check(&s).map_err(|e| e.to_string())?;
        // The record's own --pull wins over the tool-wide one.
        Ok(ContainerSpec {
            pull: Some(crate::images::policy(&s, pull)),
            ..s
        })
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

fn engine_stop(endpoint: &Endpoint, e: EngineError) -> Stop {
    // Whether it never answered or answered the list call with an error, the engine cannot
    // be worked with now; 69 tells an init system to look at docker.service.
    let why = match e {
        // Its message names the endpoint already.
        EngineError::Unreachable(_) => format!(
            "{e}; is the engine running (systemctl status docker)? --timeout bounds the wait"
        ),
        _ => format!("Docker engine at {endpoint}: {e}"),
    };
    Stop(Code::Unavailable, why)
}

/// Where records come from: a file, or DNS through our own resolver.
enum Records {
    File(RecordsFile),
    Dns(Resolver),
}

impl Records {
    /// Everything that can be wrong with the configuration is found here, before any wait.
    fn open(o: &Options, deadline: Instant) -> Result<Records, Stop> {
        if let Some(path) = &o.records {
            return match RecordsFile::load(path) {
                Ok(f) => Ok(Records::File(f)),
                Err(RecordsError::Unreadable(m)) => Err(Stop(Code::NotConfigured, m)),
                Err(RecordsError::Malformed(m)) => Err(Stop(Code::DataError, m)),
            };
        }
        let config = resolver_config(o)?;
        if o.require_ad {
            dns::check_ad_trust(&config)
                .map_err(|e| Stop(Code::Config, format!("--require-ad: {e}")))?;
        }
        Ok(Records::Dns(
            Resolver::new(config, deadline).require_ad(o.require_ad),
        ))
    }

    fn source(&self) -> &dyn TxtSource {
        match self {
            Records::File(f) => f,
            Records::Dns(r) => r,
        }
    }
}

fn resolver_config(o: &Options) -> Result<ResolverConfig, Stop> {
    let mut config = if o.nameservers.is_empty() {
        ResolverConfig::load(&o.resolv_conf).map_err(|e| Stop(Code::Config, e))?
    } else {
        ResolverConfig::with_servers(o.nameservers.clone())
    };
    config.trust_ad |= o.trust_ad;
    Ok(config)
}

/// `--docker-host`, else `$DOCKER_HOST`, else the default socket; a tcp host name is
/// resolved by our resolver (never libc: a static binary has no NSS).
fn engine_endpoint(o: &Options, records: &Records, deadline: Instant) -> Result<Endpoint, Stop> {
    let host = docker::parse_docker_host(&docker_host(o)).map_err(|e| Stop(Code::Config, e))?;
    let (host, port) = match literal_endpoint(host) {
        Ok(endpoint) => return Ok(endpoint),
        Err(named) => named,
    };
    let own;
    let resolver = match records {
        Records::Dns(r) => r,
        Records::File(_) => {
            own = Resolver::new(resolver_config(o)?, deadline);
            &own
        }
    };
    let ips = resolver
        .lookup_ip(&host)
        .map_err(|e| Stop(Code::Unavailable, format!("engine host {host}: {e}")))?;
    ips.first()
        .map(|ip| Endpoint::Tcp(SocketAddr::new(*ip, port)))
        .ok_or_else(|| {
            Stop(
                Code::Unavailable,
                format!("engine host {host} has no address"),
            )
        })
}

/// `--docker-host`, else `$DOCKER_HOST`, else the default socket.
fn docker_host(o: &Options) -> String {
    o.docker_host
        .clone()
        .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| docker::DEFAULT_HOST.to_string())
}
