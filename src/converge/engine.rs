//! The engine side of a run: connect, read the container list, and (for `apply`) repair
//! what an interrupted replace left, on a thread of its own while DNS is asked. Needs no
//! DNS, so a service a crash took down comes back within seconds even while DNS is down.

use crate::apply;
use crate::cli::{Command, Options};
use crate::docker::{Endpoint, Engine, EngineError};
use crate::exit::{Code, Stop};
use crate::recover::{self, Recovery};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How old a container list read during the DNS phase may be and still be planned from.
pub const EARLY_LIST_FRESH: Duration = Duration::from_secs(1);

/// The engine, its containers as crash recovery leaves them, and the repairs made.
pub struct EngineRead {
    /// The connected engine.
    pub engine: Engine,
    endpoint: Endpoint,
    /// The containers as recovery leaves them, and its repairs.
    pub recovery: Recovery,
    /// The repairs' outcomes (none for `plan`, which only shows them).
    pub repairs: Vec<apply::Outcome>,
    /// When the list was read (after the repairs).
    pub at: Instant,
}

impl EngineRead {
    /// Read the list again and repair what that shows (normally nothing).
    pub fn read_again(&mut self, o: &Options, settings: &apply::Settings) -> Result<(), Stop> {
        let (recovery, repairs) = recover_and_repair(&self.engine, &self.endpoint, o, settings)?;
        self.repairs.extend(repairs);
        self.recovery.view = recovery.view;
        self.recovery.held = recovery.held;
        self.recovery.steps.extend(recovery.steps);
        self.at = Instant::now();
        Ok(())
    }
}

/// Read the list, and (for `apply`) repair what an interrupted replace left.
pub fn read_and_repair(
    mut engine: Engine,
    endpoint: &Endpoint,
    o: &Options,
    settings: &apply::Settings,
) -> Result<EngineRead, Stop> {
    engine.set_docker_config(o.docker_config.clone());
    if let Some(v) = crate::context::pinned_api_version()? {
        engine.pin_version(v);
    }
    log::debug!("engine at {endpoint}, API {}", engine.api_version());
    let (recovery, repairs) = recover_and_repair(&engine, endpoint, o, settings)?;
    Ok(EngineRead {
        engine,
        endpoint: endpoint.clone(),
        recovery,
        repairs,
        at: Instant::now(),
    })
}

/// The containers as crash recovery sees them and, for `apply`, the outcomes of its repairs
/// (`plan` only shows them).
fn recover_and_repair(
    engine: &Engine,
    endpoint: &Endpoint,
    o: &Options,
    settings: &apply::Settings,
) -> Result<(Recovery, Vec<apply::Outcome>), Stop> {
    let list = engine.list().map_err(|e| engine_stop(endpoint, e))?;
    let recovery = recover::recover(list, o.no_adopt);
    let repairs = if o.command == Command::Apply && !recovery.steps.is_empty() {
        apply::repairs(&recovery.steps, engine, settings)
    } else {
        Vec::new()
    };
    Ok((recovery, repairs))
}

/// The engine read (and crash repair) running on a thread of its own while DNS is asked.
pub struct EarlyEngine {
    events: mpsc::Receiver<Early>,
    endpoint: Endpoint,
    /// Whether the thread said it reached the engine (a [`EarlyEngine::poll`] may have
    /// taken the news).
    connected: bool,
}

/// The hint when the engine does not answer: the service to look at, whichever engine it is.
const RUNNING: &str =
    "is the engine running (systemctl status docker; for Podman, systemctl status podman.socket)";

/// How long past its deadline a run waits for the engine thread's own reason for failing.
const VERDICT_GRACE: Duration = Duration::from_millis(250);

/// What the early engine thread reports.
enum Early {
    /// It reached the engine: what follows comes, however long repairs take.
    Connected,
    /// Done.
    Read(Box<Result<EngineRead, Stop>>),
}

impl EarlyEngine {
    /// Connect (retrying until the run's deadline), read and repair, on a thread.
    pub fn start(endpoint: Endpoint, o: &Options, settings: apply::Settings) -> EarlyEngine {
        let (tx, events) = mpsc::channel();
        let o = o.clone();
        let at = endpoint.clone();
        std::thread::spawn(move || {
            let read = Engine::connect(&endpoint, settings.deadline)
                .map_err(|e| engine_stop(&endpoint, e))
                .and_then(|engine| {
                    let _ = tx.send(Early::Connected);
                    read_and_repair(engine, &endpoint, &o, &settings)
                });
            let _ = tx.send(Early::Read(Box::new(read)));
        });
        EarlyEngine {
            events,
            endpoint: at,
            connected: false,
        }
    }

    /// The read if it is done, without waiting (`None`: not yet).
    pub fn poll(&mut self) -> Option<Result<EngineRead, Stop>> {
        loop {
            match self.events.try_recv() {
                Ok(Early::Connected) => self.connected = true,
                Ok(Early::Read(read)) => return Some(*read),
                Err(mpsc::TryRecvError::Empty) => return None,
                Err(mpsc::TryRecvError::Disconnected) => {
                    return Some(Err(Stop::new(
                        Code::Software,
                        "the engine thread ended without a word",
                    )));
                }
            }
        }
    }

    /// The read, waiting for the engine until `until`; once connected, until the repairs
    /// are done (they are bounded by the run's deadline like any engine call).
    pub fn wait(self, until: Instant) -> Result<EngineRead, Stop> {
        let mut connected = self.connected;
        loop {
            let next = if connected {
                self.events.recv().map_err(|_| ())
            } else {
                // The thread gives up at the same deadline: a moment more lets its own
                // verdict, which says why the engine did not answer, arrive first.
                let left = until.saturating_duration_since(Instant::now());
                self.events
                    .recv_timeout(left)
                    .or_else(|_| self.events.recv_timeout(VERDICT_GRACE))
                    .map_err(|_| ())
            };
            match next {
                Ok(Early::Connected) => connected = true,
                Ok(Early::Read(read)) => return *read,
                Err(()) => {
                    return Err(Stop::new(
                        Code::Unavailable,
                        format!(
                            "Docker engine at {} not reachable in the time this run gives it; {RUNNING}?",
                            self.endpoint
                        ),
                    ));
                }
            }
        }
    }
}

/// The engine cannot be worked with: 69, saying where it was asked and what to check.
pub fn engine_stop(endpoint: &Endpoint, e: EngineError) -> Stop {
    // Whether it never answered or answered the list call with an error, the engine cannot
    // be worked with now; 69 tells an init system to look at docker.service.
    let why = match e {
        // Its message names the endpoint already.
        EngineError::Unreachable(_) => format!("{e}; {RUNNING}? --timeout bounds the wait"),
        _ => format!("Docker engine at {endpoint}: {e}"),
    };
    Stop::new(Code::Unavailable, why)
}
