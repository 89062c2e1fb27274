//! A fake engine for apply's unit tests: containers in memory that live on a clock of the
//! fake's own (a watch takes no real time), every call recorded in order, and failures
//! injected at the N-th call or at the first call of a kind. It follows the Engine API's
//! rules that apply relies on (names are unique, a running container cannot be removed, a
//! `--rm` container is gone once it stops), and no more.

use crate::container::{ContainerSpec, ImageRef, OWNER_LABEL};
use crate::docker::{
    Container, EngineCalls, EngineError, Event, Health, PullError, PullProblem, Since, Span,
};
use crate::step::Existing;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The fake's clock at its start: a day, so that seeded containers can have been up a while.
const START: Duration = Duration::from_secs(86_400);
/// The fake's clock past which a watch is taken to run forever: no test's deadline is an
/// hour away.
const RUNAWAY: Duration = START.saturating_add(Duration::from_secs(3600));

/// How a container behaves once started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// Runs until stopped.
    Runs,
    /// Exits with `code` this long after each start; its restart policy may restart it.
    Exits { code: i64, after: Duration },
    /// Runs; its healthcheck says `starting` until `after`, then `then`.
    Health { after: Duration, then: Health },
    /// Runs until stopped from outside (an operator's `docker stop`) this long after each
    /// start.
    StoppedAfter(Duration),
}

/// A failure the fake engine injects into one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The engine answers with this HTTP status; the call does nothing.
    Status(u16),
    /// The engine cannot be reached; the call does nothing.
    Unreachable,
    /// The call takes effect, but its reply never comes.
    Timeout,
}

/// Which call a fault hits.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Trigger {
    /// The N-th call (from 1).
    At(usize),
    /// The first call that is this one (`"stop old"`) or of this kind (`"pull"`).
    On(String),
    /// Every call that is this one or of this kind.
    Every(String),
    /// Every call from the N-th on: the tool was killed just before it.
    From(usize),
}

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    /// Created, never started.
    Created,
    /// Started at this time on the fake's clock.
    Running(Duration),
    /// Exited (or stopped) with this status.
    Exited(i64),
}

/// One container the fake engine holds.
#[derive(Debug, Clone)]
struct Fake {
    id: String,
    name: String,
    image: String,
    labels: BTreeMap<String, String>,
    restart_policy: String,
    auto_remove: bool,
    healthcheck: Value,
    life: Life,
    output: String,
    run: Run,
    /// Restarts before the current run's.
    restarts: u64,
    /// The networks it is attached to, by name.
    networks: Vec<String>,
}

/// What an inspect (or the list) would say of a container now.
struct Now {
    status: &'static str,
    exit_code: i64,
    restarts: u64,
    health: Option<Health>,
    /// Up (or exited) for this long.
    since: Duration,
}

impl Fake {
    fn restarted_by_policy(&self, code: i64) -> bool {
        match self.restart_policy.as_str() {
            "always" | "unless-stopped" => true,
            "on-failure" => code != 0,
            _ => false,
        }
    }

    fn now(&self, clock: Duration) -> Now {
        let still = |status, exit_code| Now {
            status,
            exit_code,
            restarts: self.restarts,
            health: None,
            since: Duration::ZERO,
        };
        let Run::Running(started) = self.run else {
            return match self.run {
                Run::Exited(code) => still("exited", code),
                _ => still("created", 0),
            };
        };
        let up = clock.saturating_sub(started);
        let running = |health| Now {
            status: "running",
            exit_code: 0,
            restarts: self.restarts,
            health,
            since: up,
        };
        match self.life {
            Life::Runs => running(None),
            Life::Health { after, then } => {
                running(Some(if up < after { Health::Starting } else { then }))
            }
            Life::Exits { after, .. } | Life::StoppedAfter(after) if up < after => running(None),
            // Stopped, once the fake's time has acted on it.
            Life::StoppedAfter(_) => still("exited", 0),
            // Restarted by its policy: one more restart every second it keeps failing.
            Life::Exits { code, after } => Now {
                status: "restarting",
                exit_code: code,
                restarts: self.restarts + 1 + up.saturating_sub(after).as_secs(),
                health: None,
                since: Duration::ZERO,
            },
        }
    }

    fn inspect(&self, clock: Duration) -> Value {
        let now = self.now(clock);
        let mut doc = json!({
            "Id": self.id,
            "Name": format!("/{}", self.name),
            "State": {"Status": now.status, "ExitCode": now.exit_code},
            "RestartCount": now.restarts,
            "HostConfig": {"RestartPolicy": {"Name": self.restart_policy}},
            "Config": {"Image": self.image, "Labels": self.labels},
        });
        if let Some(h) = now.health {
            doc["State"]["Health"] =
                json!({"Status": h.as_str(), "Log": [{"Output": self.output}]});
            doc["Config"]["Healthcheck"] = self.healthcheck.clone();
        }
        doc
    }

    fn listed(&self, clock: Duration) -> Container {
        let now = self.now(clock);
        let span = Span {
            min: now.since,
            max: now.since + Duration::from_secs(1),
        };
        Container {
            id: self.id.clone(),
            name: self.name.clone(),
            labels: self.labels.clone(),
            state: now.status.to_string(),
            image_id: format!("sha256:{}", self.image),
            health: now.health,
            network_mode: String::new(),
            networks: self.networks.clone(),
            since: match now.status {
                "running" => Since::Up(span),
                "exited" => Since::Exited(now.exit_code, span),
                _ => Since::Unknown,
            },
        }
    }
}

/// Everything the fake engine holds.
#[derive(Debug, Default)]
struct World {
    /// The fake's clock, from [`START`]; only a watch's pause moves it.
    clock: Duration,
    containers: Vec<Fake>,
    /// Images present, by familiar name.
    images: BTreeSet<String>,
    /// Images the registry has.
    registry: BTreeSet<String>,
    /// How containers of an image behave, and what they write.
    lives: BTreeMap<String, (Life, String)>,
    /// Every container event, oldest first, with the container's ID and name at the time.
    events: Vec<(String, String, Event)>,
    calls: Vec<String>,
    faults: Vec<(Trigger, Fault)>,
    created: usize,
    /// Networks: (ID, name, labels).
    networks: Vec<(String, String, BTreeMap<String, String>)>,
}

impl World {
    fn find(&self, key: &str) -> Option<usize> {
        self.containers
            .iter()
            .position(|c| c.id == key || c.name == key)
    }

    fn event(&mut self, i: usize, action: &str, exit_code: Option<i64>, at: Duration) {
        let c = &self.containers[i];
        let event = Event {
            action: action.to_string(),
            exit_code,
            owner: c.labels.get(OWNER_LABEL).cloned(),
            time_nanos: u64::try_from(at.as_nanos()).unwrap_or(u64::MAX),
        };
        self.events.push((c.id.clone(), c.name.clone(), event));
    }

    /// Let time act: a container whose life ended and that no policy restarts exits (and,
    /// `--rm`, is gone).
    fn settle(&mut self) {
        let mut i = 0;
        while i < self.containers.len() {
            let c = &self.containers[i];
            let ended = match (c.run, c.life) {
                (Run::Running(started), Life::Exits { code, after })
                    if self.clock >= started + after && !c.restarted_by_policy(code) =>
                {
                    Some((code, started + after))
                }
                _ => None,
            };
            let stopped = match (c.run, c.life) {
                (Run::Running(started), Life::StoppedAfter(after))
                    if self.clock >= started + after =>
                {
                    Some(started + after)
                }
                _ => None,
            };
            if let Some(at) = stopped {
                self.event(i, "kill", None, at);
            }
            let ended = ended.or(stopped.map(|at| (0, at)));
            if let Some((code, at)) = ended {
                self.event(i, "die", Some(code), at);
                self.containers[i].run = Run::Exited(code);
                if self.containers[i].auto_remove {
                    self.containers.remove(i);
                    continue;
                }
            }
            i += 1;
        }
    }

    /// Record the call; the fault it meets, if any.
    fn call(&mut self, what: String) -> Option<Fault> {
        self.settle();
        self.calls.push(what);
        let n = self.calls.len();
        let last = &self.calls[n - 1];
        let hit = self.faults.iter().position(|(t, _)| match t {
            Trigger::At(k) => *k == n,
            Trigger::From(k) => *k <= n,
            Trigger::On(call) | Trigger::Every(call) => {
                last == call || last.starts_with(&format!("{call} "))
            }
        })?;
        match &self.faults[hit] {
            (Trigger::Every(_) | Trigger::From(_), fault) => Some(*fault),
            _ => Some(self.faults.remove(hit).1),
        }
    }

    fn stop(&mut self, i: usize) {
        let c = &self.containers[i];
        if !matches!(c.run, Run::Running(_)) {
            return;
        }
        let clock = self.clock;
        self.event(i, "kill", None, clock);
        self.event(i, "die", Some(0), clock);
        self.containers[i].run = Run::Exited(0);
        if self.containers[i].auto_remove {
            self.containers.remove(i);
        }
    }
}

/// The fake engine.
#[derive(Debug)]
pub struct FakeEngine {
    world: Mutex<World>,
    /// The `Instant` its clock counts from: [`EngineCalls::now`] is `base + clock`.
    base: Instant,
}

/// Where a seeded container is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// Running for this long.
    Up(Duration),
    /// Exited with this status.
    Exited(i64),
}

fn api(call: &str, status: u16, message: &str) -> EngineError {
    EngineError::Api {
        call: call.to_string(),
        status,
        message: message.to_string(),
    }
}

fn missing(call: &str, key: &str) -> EngineError {
    api(call, 404, &format!("No such container: {key}"))
}

/// The error a fault makes of a call.
fn injected(call: &str, fault: Fault) -> EngineError {
    match fault {
        Fault::Status(status) => api(call, status, "injected"),
        Fault::Unreachable => EngineError::Unreachable(format!("{call}: injected")),
        Fault::Timeout => EngineError::Timeout {
            call: call.to_string(),
            message: "injected: no reply".to_string(),
        },
    }
}

impl FakeEngine {
    /// An engine with no containers and no images, its clock at [`START`].
    pub fn new() -> FakeEngine {
        let world = World {
            clock: START,
            ..World::default()
        };
        FakeEngine {
            world: Mutex::new(world),
            base: Instant::now(),
        }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The image is present locally.
    pub fn image(&self, image: &str) -> &Self {
        self.world().images.insert(image.to_string());
        self
    }

    /// The registry has the image (a pull gets it).
    pub fn registry(&self, image: &str) -> &Self {
        self.world().registry.insert(image.to_string());
        self
    }

    /// Containers of the image behave so and write `output`.
    pub fn behave(&self, image: &str, life: Life, output: &str) -> &Self {
        self.world()
            .lives
            .insert(image.to_string(), (life, output.to_string()));
        self
    }

    /// Fail the N-th call from now on (counting from 1 over every call made).
    pub fn fail_at(&self, n: usize, fault: Fault) {
        self.world().faults.push((Trigger::At(n), fault));
    }

    /// Fail the first call that is `call` (`"stop old"`) or of its kind (`"pull"`).
    pub fn fail_on(&self, call: &str, fault: Fault) {
        self.world()
            .faults
            .push((Trigger::On(call.to_string()), fault));
    }

    /// Fail every call that is `call` or of its kind, from now on.
    pub fn fail_every(&self, call: &str, fault: Fault) {
        self.world()
            .faults
            .push((Trigger::Every(call.to_string()), fault));
    }

    /// The tool is killed just before its N-th call: that call and every later one never
    /// reach the engine (until [`FakeEngine::heal`]).
    pub fn kill_at(&self, n: usize) {
        self.world()
            .faults
            .push((Trigger::From(n), Fault::Unreachable));
    }

    /// No more faults: the next run finds the engine as the last one left it.
    pub fn heal(&self) {
        self.world().faults.clear();
    }

    /// The engine has restarted the container `restarts` times before.
    pub fn restarted(&self, id: &str, restarts: u64) {
        let mut w = self.world();
        if let Some(i) = w.find(id) {
            w.containers[i].restarts = restarts;
        }
    }

    /// A container of the spec under `name` with ID `id`, as if created and started (or
    /// exited) earlier; returns it as the planner sees it.
    pub fn seed(&self, name: &str, id: &str, spec: &ContainerSpec, seed: Seed) -> Existing {
        let mut w = self.world();
        let mut c = new_container(&w, id, name, spec);
        c.run = match seed {
            Seed::Up(up) => Run::Running(w.clock.saturating_sub(up)),
            Seed::Exited(code) => Run::Exited(code),
        };
        w.images.insert(c.image.clone());
        w.containers.push(c);
        let listed = w.containers[w.containers.len() - 1].listed(w.clock);
        Existing::from(&listed)
    }

    /// Every call so far, in order: `"create web.ddp-new"`, `"stop old"`, …
    pub fn calls(&self) -> Vec<String> {
        self.world().calls.clone()
    }

    /// The calls that change something (no inspect, logs, events or image lookups).
    pub fn changes(&self) -> Vec<String> {
        let reads = ["inspect ", "logs ", "events ", "image "];
        self.calls()
            .into_iter()
            .filter(|c| !reads.iter().any(|r| c.starts_with(r)))
            .collect()
    }

    /// The container list as the engine would give it now.
    pub fn list(&self) -> Vec<Container> {
        let mut w = self.world();
        w.settle();
        w.containers.iter().map(|c| c.listed(w.clock)).collect()
    }

    /// Each container's name, ID and status, by name.
    pub fn state(&self) -> BTreeMap<String, (String, String)> {
        self.list()
            .into_iter()
            .map(|c| (c.name, (c.id, c.state)))
            .collect()
    }

    /// The engine's networks as its list would give them.
    pub fn networks(&self) -> Vec<crate::docker::Network> {
        self.world()
            .networks
            .iter()
            .map(|(id, name, labels)| crate::docker::Network {
                id: id.clone(),
                name: name.clone(),
                driver: "bridge".into(),
                labels: labels.clone(),
                described: None,
            })
            .collect()
    }

    /// A network the engine has, with these labels; returns its ID.
    pub fn seed_network(&self, name: &str, labels: &[(&str, &str)]) -> String {
        let mut w = self.world();
        w.created += 1;
        let id = format!("net{}", w.created);
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        w.networks.push((id.clone(), name.to_string(), labels));
        id
    }

    /// How long the fake's clock has run since `since` (a reading of [`EngineCalls::now`]).
    pub fn since(&self, since: Instant) -> Duration {
        self.now().saturating_duration_since(since)
    }
}

fn new_container(w: &World, id: &str, name: &str, spec: &ContainerSpec) -> Fake {
    let image = spec.image.familiar();
    let (life, output) = w
        .lives
        .get(&image)
        .cloned()
        .unwrap_or((Life::Runs, String::new()));
    let labels = spec.body["Labels"]
        .as_object()
        .map(|l| {
            l.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let healthcheck = match &spec.body["Healthcheck"] {
        Value::Null => json!({"Test": ["CMD", "true"], "Interval": 1_000_000_000u64,
            "Timeout": 1_000_000_000u64, "Retries": 1}),
        h => h.clone(),
    };
    Fake {
        id: id.to_string(),
        name: name.to_string(),
        image,
        labels,
        restart_policy: spec.restart_policy().to_string(),
        auto_remove: spec.auto_remove(),
        healthcheck,
        life,
        output,
        run: Run::Created,
        restarts: 0,
        networks: crate::network::used_by(spec),
    }
}

impl EngineCalls for FakeEngine {
    fn create_network(&self, body: &Value) -> Result<String, EngineError> {
        let name = body["Name"].as_str().unwrap_or_default().to_string();
        let call = format!("create network {name}");
        let mut w = self.world();
        if let Some(f) = w.call(call.clone()) {
            return Err(injected(&call, f));
        }
        if w.networks.iter().any(|n| n.1 == name) {
            return Err(api(
                &call,
                409,
                &format!("network with name {name} already exists"),
            ));
        }
        w.created += 1;
        let id = format!("net{}", w.created);
        let labels = body["Labels"]
            .as_object()
            .map(|l| {
                l.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        w.networks.push((id.clone(), name, labels));
        Ok(id)
    }

    fn remove_network(&self, id: &str) -> Result<(), EngineError> {
        let call = format!("remove network {id}");
        let mut w = self.world();
        if let Some(f) = w.call(call.clone()) {
            return Err(injected(&call, f));
        }
        let Some(i) = w.networks.iter().position(|n| n.0 == id) else {
            return Ok(());
        };
        let name = w.networks[i].1.clone();
        if w.containers.iter().any(|c| c.networks.contains(&name)) {
            return Err(api(
                &call,
                403,
                &format!(
                    "error while removing network: network {name} id {id} has active endpoints"
                ),
            ));
        }
        w.networks.remove(i);
        Ok(())
    }

    fn connect_network(
        &self,
        id: &str,
        container: &str,
        _endpoint: &Value,
    ) -> Result<(), EngineError> {
        let call = format!("connect {id} {container}");
        let mut w = self.world();
        if let Some(f) = w.call(call.clone()) {
            return Err(injected(&call, f));
        }
        let name = w.networks.iter().find(|n| n.0 == id).map(|n| n.1.clone());
        let name = name.ok_or_else(|| api(&call, 404, &format!("network {id} not found")))?;
        let i = w.find(container).ok_or_else(|| missing(&call, container))?;
        w.containers[i].networks.push(name);
        Ok(())
    }

    fn disconnect_network(&self, id: &str, container: &str) -> Result<(), EngineError> {
        let call = format!("disconnect {id} {container}");
        let mut w = self.world();
        if let Some(f) = w.call(call.clone()) {
            return Err(injected(&call, f));
        }
        let name = w.networks.iter().find(|n| n.0 == id).map(|n| n.1.clone());
        let name = name.ok_or_else(|| api(&call, 404, &format!("network {id} not found")))?;
        let i = w.find(container).ok_or_else(|| missing(&call, container))?;
        w.containers[i].networks.retain(|n| *n != name);
        Ok(())
    }

    fn create(&self, name: &str, spec: &ContainerSpec) -> Result<String, EngineError> {
        let call = format!("create {name}");
        let mut w = self.world();
        let fault = w.call(call.clone());
        if let Some(f @ (Fault::Status(_) | Fault::Unreachable)) = fault {
            return Err(injected(&call, f));
        }
        if w.find(name).is_some() {
            return Err(api(
                &call,
                409,
                "Conflict. The container name is already in use",
            ));
        }
        if !w.images.contains(&spec.image.familiar()) {
            return Err(api(&call, 404, "No such image"));
        }
        w.created += 1;
        let id = format!("id{}", w.created);
        let c = new_container(&w, &id, name, spec);
        w.containers.push(c);
        match fault {
            Some(f) => Err(injected(&call, f)),
            None => Ok(id),
        }
    }

    fn start(&self, id: &str) -> Result<(), EngineError> {
        let call = format!("start {id}");
        let mut w = self.world();
        let fault = w.call(call.clone());
        if let Some(f @ (Fault::Status(_) | Fault::Unreachable)) = fault {
            return Err(injected(&call, f));
        }
        let i = w.find(id).ok_or_else(|| missing(&call, id))?;
        if !matches!(w.containers[i].run, Run::Running(_)) {
            let clock = w.clock;
            // Each run lives as its image now does: a test can break the old version of a
            // replace between its first run and the rollback's restart.
            if let Some((life, output)) = w.lives.get(&w.containers[i].image).cloned() {
                w.containers[i].life = life;
                w.containers[i].output = output;
            }
            w.containers[i].run = Run::Running(clock);
            w.event(i, "start", None, clock);
        }
        fault.map_or(Ok(()), |f| Err(injected(&call, f)))
    }

    fn stop(&self, id: &str) -> Result<(), EngineError> {
        let call = format!("stop {id}");
        let mut w = self.world();
        let fault = w.call(call.clone());
        if let Some(f @ (Fault::Status(_) | Fault::Unreachable)) = fault {
            return Err(injected(&call, f));
        }
        let i = w.find(id).ok_or_else(|| missing(&call, id))?;
        w.stop(i);
        fault.map_or(Ok(()), |f| Err(injected(&call, f)))
    }

    fn rename(&self, id: &str, new_name: &str) -> Result<(), EngineError> {
        let call = format!("rename {id} {new_name}");
        let mut w = self.world();
        let fault = w.call(call.clone());
        if let Some(f @ (Fault::Status(_) | Fault::Unreachable)) = fault {
            return Err(injected(&call, f));
        }
        let i = w.find(id).ok_or_else(|| missing(&call, id))?;
        if w.find(new_name).is_some() {
            return Err(api(
                &call,
                409,
                "Conflict. The container name is already in use",
            ));
        }
        w.containers[i].name = new_name.to_string();
        fault.map_or(Ok(()), |f| Err(injected(&call, f)))
    }

    fn remove(&self, id: &str) -> Result<(), EngineError> {
        let call = format!("remove {id}");
        let mut w = self.world();
        let fault = w.call(call.clone());
        if let Some(f @ (Fault::Status(_) | Fault::Unreachable)) = fault {
            return Err(injected(&call, f));
        }
        // Gone already counts as removed, as the real engine's remove says.
        if let Some(i) = w.find(id) {
            if matches!(w.containers[i].run, Run::Running(_)) {
                return Err(api(&call, 409, "You cannot remove a running container"));
            }
            w.containers.remove(i);
        }
        fault.map_or(Ok(()), |f| Err(injected(&call, f)))
    }

    fn inspect(&self, id: &str) -> Result<Value, EngineError> {
        let call = format!("inspect {id}");
        let mut w = self.world();
        if let Some(f) = w.call(call.clone()) {
            return Err(injected(&call, f));
        }
        let i = w.find(id).ok_or_else(|| missing(&call, id))?;
        Ok(w.containers[i].inspect(w.clock))
    }

    fn logs(&self, id: &str, _tail: usize) -> Result<String, EngineError> {
        let call = format!("logs {id}");
        let mut w = self.world();
        if let Some(f) = w.call(call.clone()) {
            return Err(injected(&call, f));
        }
        let i = w.find(id).ok_or_else(|| missing(&call, id))?;
        let c = &w.containers[i];
        Ok(match c.run {
            Run::Created => String::new(),
            _ => c.output.clone(),
        })
    }

    fn container_events(&self, container: &str) -> Result<Vec<Event>, EngineError> {
        let call = format!("events {container}");
        let mut w = self.world();
        if let Some(f) = w.call(call.clone()) {
            return Err(injected(&call, f));
        }
        Ok(w.events
            .iter()
            .filter(|(id, name, _)| id == container || name == container)
            .map(|(_, _, e)| e.clone())
            .collect())
    }

    fn image_id(&self, image: &ImageRef) -> Result<Option<String>, EngineError> {
        let name = image.familiar();
        let call = format!("image {name}");
        let mut w = self.world();
        if let Some(f) = w.call(call.clone()) {
            return Err(injected(&call, f));
        }
        Ok(w.images.contains(&name).then(|| format!("sha256:{name}")))
    }

    fn pull_image(&self, image: &ImageRef, _platform: Option<&str>) -> Result<(), Box<PullError>> {
        let name = image.familiar();
        let mut w = self.world();
        let fault = w.call(format!("pull {name}"));
        let failure = |problem, detail: &str, engine_lost| {
            Box::new(PullError {
                image: name.clone(),
                registry: image.domain.clone(),
                problem,
                detail: detail.to_string(),
                sent: None,
                config: "the docker config".to_string(),
                engine_lost,
            })
        };
        match fault {
            Some(Fault::Status(status)) => {
                return Err(failure(
                    PullProblem::Other,
                    &format!("HTTP {status}: injected"),
                    false,
                ));
            }
            Some(Fault::Unreachable) => {
                return Err(failure(PullProblem::Engine, "injected", true));
            }
            _ => {}
        }
        if !w.registry.contains(&name) {
            return Err(failure(PullProblem::NotFound, "manifest unknown", false));
        }
        w.images.insert(name.clone());
        match fault {
            Some(_) => Err(failure(
                PullProblem::Unreachable,
                "injected: no reply",
                true,
            )),
            None => Ok(()),
        }
    }

    fn list(&self) -> Result<Vec<Container>, EngineError> {
        let call = "list".to_string();
        if let Some(f) = self.world().call(call.clone()) {
            return Err(injected(&call, f));
        }
        Ok(FakeEngine::list(self))
    }

    fn distribution_digest(&self, image: &ImageRef) -> Result<String, EngineError> {
        let name = image.familiar();
        let call = format!("distribution {name}");
        let mut w = self.world();
        if let Some(f) = w.call(call.clone()) {
            return Err(injected(&call, f));
        }
        match w.registry.contains(&name) {
            true => Ok(format!("sha256:{name}")),
            false => Err(api(&call, 404, "manifest unknown")),
        }
    }

    fn repo_digests(&self, id: &str) -> Result<Vec<String>, EngineError> {
        // The fake's registry digest of an image is its image ID.
        Ok(vec![format!("repo@{id}")])
    }

    fn remove_image(&self, id: &str) -> Result<(), EngineError> {
        let call = format!("remove-image {id}");
        let mut w = self.world();
        if let Some(f) = w.call(call.clone()) {
            return Err(injected(&call, f));
        }
        let Some(name) = id.strip_prefix("sha256:") else {
            return Ok(());
        };
        if w.containers.iter().any(|c| c.image == name) {
            return Err(api(&call, 409, "image is being used by a container"));
        }
        w.images.remove(name);
        Ok(())
    }

    fn now(&self) -> Instant {
        self.base + self.world().clock
    }

    fn pause(&self, d: Duration) {
        let mut w = self.world();
        w.clock += d;
        // A watch past every deadline never ends: the test must fail, not hang.
        assert!(
            w.clock < RUNAWAY,
            "a watch that never ends: {:?}",
            w.calls.last()
        );
    }
}

thread_local! {
    /// The lines logged on this thread while [`logged`] runs.
    static LINES: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Keeps what is logged on a thread that asks for it; drops everything else.
struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        LINES.with(|lines| {
            if let Some(lines) = lines.borrow_mut().as_mut() {
                lines.push(format!("{} {}", record.level(), record.args()));
            }
        });
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture;

/// Run `f` (on this thread: one job) and return what it logged at info and above, as
/// `LEVEL message` lines. The lib's tests install no other logger.
pub fn logged<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    if log::set_logger(&CAPTURE).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
    LINES.with(|lines| *lines.borrow_mut() = Some(Vec::new()));
    let result = f();
    let lines = LINES.with(|lines| lines.borrow_mut().take());
    (result, lines.unwrap_or_default())
}
