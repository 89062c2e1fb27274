//! Typed Engine API calls over one negotiated API version. Each method is one HTTP request
//! (counted and logged at debug); only `connect` retries, and only while the engine is not up:
//! a change (create, stop, …) is never sent twice behind the caller's back.

mod distribution;
mod networks;
pub mod pulling;

use crate::container::{ContainerSpec, ImageRef};
use crate::docker::credentials::{Auth, Credentials};
use crate::docker::reply::{self, PullLine};
use crate::docker::transport::{self, BASE};
use crate::docker::version::{self, ApiVersion};
use crate::docker::{Container, Endpoint, Event, podman};
use crate::retry::Backoff;
use pulling::{Progress, PullError};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use ureq::http::Response;
use ureq::{Agent, Body};

/// Longest silence on one read for ordinary calls (create may copy image data into volumes).
const CALL_READ_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest wait for one `/_ping` reply: an engine that accepts but does not answer is still
/// starting, and the next ping may find it ready. Never past the connect deadline, though.
const PING_TIMEOUT: Duration = Duration::from_secs(10);
/// Shortest wait for one `/_ping` reply, so the last try before the deadline is a real one.
const PING_TIMEOUT_FLOOR: Duration = Duration::from_millis(500);
/// Longest silence on one read of a stop: the engine answers only once the container has
/// exited, after up to its own `StopTimeout` (often 60–300 s for databases) plus the kill.
const STOP_READ_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long past the run's deadline (`--timeout`) an engine call may still run: a stop or a
/// pull that began in time may finish, while an engine that accepts and never answers is
/// given up on. The boot unit's `TimeoutStartSec=` leaves room for it.
pub const DEADLINE_GRACE: Duration = Duration::from_secs(30);
/// Shortest budget of one call made after that: the rollback of a step that ran out of time
/// still gets a real try, so that the old service is not left down.
const LATE_CALL: Duration = Duration::from_secs(5);
/// Largest reply body read into memory (a list of thousands of containers fits easily).
const MAX_BODY: u64 = 64 << 20;
/// `?platform=` on create needs this version.
const CREATE_PLATFORM: ApiVersion = ApiVersion::new(1, 41);

/// Why an engine call failed; the caller decides what it means for the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// Could not connect at all (socket missing, connection refused): the engine is not up.
    Unreachable(String),
    /// The engine answered with an error status.
    Api {
        /// The call, e.g. `POST /containers/create`.
        call: String,
        /// HTTP status.
        status: u16,
        /// The engine's `message`.
        message: String,
    },
    /// The exchange broke (cut connection, unparsable reply, error in a pull stream, an
    /// engine too old for us).
    Protocol {
        /// The call.
        call: String,
        /// What went wrong.
        message: String,
    },
    /// The engine accepted the call but did not answer it in time: it is hung or overloaded.
    Timeout {
        /// The call.
        call: String,
        /// How long it was given.
        message: String,
    },
}

impl EngineError {
    /// Whether the engine itself is unavailable (unreachable, or not answering in time), as
    /// opposed to refusing or garbling one call: the run's outcome is then 69, not 73.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            EngineError::Unreachable(_) | EngineError::Timeout { .. }
        )
    }
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Unreachable(m) => write!(f, "Docker engine unreachable: {m}"),
            EngineError::Api {
                call,
                status,
                message,
            } => write!(f, "{call}: HTTP {status}: {message}"),
            EngineError::Protocol { call, message } | EngineError::Timeout { call, message } => {
                write!(f, "{call}: {message}")
            }
        }
    }
}

impl std::error::Error for EngineError {}

/// A connection to one engine at one negotiated API version. `Sync`: apply calls it from
/// several threads (the agent pools one connection per concurrent call).
#[derive(Debug)]
pub struct Engine {
    agent: Agent,
    endpoint: Endpoint,
    /// Every call ends by then: the run's deadline plus [`DEADLINE_GRACE`].
    end: Instant,
    version: ApiVersion,
    version_text: String,
    /// Whether the engine is Podman (its ping carries `Libpod-Api-Version`).
    podman: bool,
    calls: AtomicUsize,
    /// `--docker-config`: where the registry credentials are read, on the first pull.
    docker_config: Option<PathBuf>,
    credentials: OnceLock<Result<Credentials, String>>,
    /// This run's pulls by image and platform, so each is pulled at most once.
    pulls: Mutex<BTreeMap<String, PullSlot>>,
}

/// One image's pull outcome, filled by the first caller; later callers wait on its lock.
pub(super) type PullSlot = Arc<Mutex<Option<Result<(), Box<PullError>>>>>;

/// An HTTP method with what it sends.
enum Method<'a> {
    Get,
    /// A GET with an `X-Registry-Auth` header (a registry lookup with credentials).
    GetAuth(&'a str),
    Post(Option<&'a [u8]>),
    /// A body-less POST with an `X-Registry-Auth` header (a pull with credentials).
    PostAuth(&'a str),
    Delete,
}

impl Method<'_> {
    fn name(&self) -> &'static str {
        match self {
            Method::Get | Method::GetAuth(_) => "GET",
            Method::Post(_) | Method::PostAuth(_) => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// How long a request may take, beyond the connect timeout.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// The agent's per-read timeout.
    Usual,
    /// This per-read timeout instead (a stop, which answers only once the container exited).
    PerRead(Duration),
    /// This bound on the whole exchange (a ping, which must not outlast the connect deadline).
    Total(Duration),
}

/// Why one ping did not give a version.
enum PingFailure {
    /// Worth another try: the engine is not (yet) answering.
    NotReady(String),
    /// It answered, but not in a way a retry would change.
    Fatal(EngineError),
}

impl Engine {
    /// Ping (retrying with the shared backoff while the engine is unreachable, until
    /// `deadline`) and negotiate the API version.
    pub fn connect(endpoint: &Endpoint, deadline: Instant) -> Result<Engine, EngineError> {
        Engine::connect_with(endpoint, deadline, Backoff::until(deadline))
    }

    /// One ping, no retry: for a read made while other work (DNS) goes on; later calls are
    /// still bounded by `deadline` as [`Engine::connect`]'s are.
    pub fn connect_once(endpoint: &Endpoint, deadline: Instant) -> Result<Engine, EngineError> {
        Engine::connect_with(endpoint, deadline, Backoff::until(Instant::now()))
    }

    fn connect_with(
        endpoint: &Endpoint,
        deadline: Instant,
        mut backoff: Backoff,
    ) -> Result<Engine, EngineError> {
        let mut engine = Engine {
            agent: transport::agent(endpoint, CALL_READ_TIMEOUT),
            endpoint: endpoint.clone(),
            end: deadline + DEADLINE_GRACE,
            // Pings are unversioned; no other call is made before negotiation sets this.
            version: version::OLDEST,
            version_text: String::new(),
            podman: false,
            calls: AtomicUsize::new(0),
            docker_config: None,
            credentials: OnceLock::new(),
            pulls: Mutex::new(BTreeMap::new()),
        };
        loop {
            match engine.ping(deadline) {
                Ok((max, podman)) => {
                    let negotiated =
                        version::negotiate(max).map_err(|message| EngineError::Protocol {
                            call: "GET /_ping".into(),
                            message,
                        })?;
                    log::debug!(
                        "docker: engine at {endpoint} speaks API {max}; using {negotiated}"
                    );
                    engine.version = negotiated;
                    engine.version_text = negotiated.to_string();
                    engine.podman = podman;
                    return Ok(engine);
                }
                Err(PingFailure::Fatal(e)) => return Err(e),
                Err(PingFailure::NotReady(reason)) => match backoff.next_delay() {
                    Some(delay) => {
                        log::info!(
                            "Docker engine at {endpoint} not ready ({reason}); retrying in {:.1} s",
                            delay.as_secs_f64()
                        );
                        std::thread::sleep(delay);
                    }
                    None => {
                        let pings = backoff.attempts() + 1;
                        let plural = if pings == 1 { "" } else { "s" };
                        return Err(EngineError::Unreachable(format!(
                            "{endpoint}: {reason} (still so at the deadline, after {pings} ping{plural})"
                        )));
                    }
                },
            }
        }
    }

    /// Speak `version` from now on instead of the negotiated one (`DOCKER_API_VERSION`, as
    /// the CLI does): an engine that does not speak it refuses the next call in its words.
    pub fn pin_version(&mut self, version: ApiVersion) {
        log::debug!("docker: API version pinned to {version} (DOCKER_API_VERSION)");
        self.version = version;
        self.version_text = version.to_string();
    }

    /// The negotiated API version, e.g. `1.41`.
    pub fn api_version(&self) -> &str {
        &self.version_text
    }

    /// The negotiated API version, for comparisons (e.g. whether a field is supported).
    pub fn version(&self) -> ApiVersion {
        self.version
    }

    /// How many API calls this client has made (a no-op run makes two).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// Whether the engine is Podman, whose compat list lacks health and network mode.
    pub fn is_podman(&self) -> bool {
        self.podman
    }

    /// Every container, running or not (`GET /containers/json?all=1`; on Podman its own
    /// list, which reports health, see [`podman`](crate::docker::podman)).
    pub fn list(&self) -> Result<Vec<Container>, EngineError> {
        if self.podman {
            return self.podman_list();
        }
        let path = "/containers/json?all=1";
        let (call, response) = self.send(Method::Get, path, Wait::Usual)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(api_error(call, status, response));
        }
        let mut body = response.into_body().into_reader().take(MAX_BODY + 1);
        let list = reply::containers_from(&mut body);
        if body.limit() == 0 {
            return Err(protocol(
                &call,
                format!("reply larger than {MAX_BODY} bytes"),
            ));
        }
        list.map_err(|message| EngineError::Protocol { call, message })
    }

    /// Podman's list, plus an inspect of each container that shares a network namespace
    /// (for its `container:<ID>` network mode, which Podman's lists leave out).
    fn podman_list(&self) -> Result<Vec<Container>, EngineError> {
        let (call, response) = self.send(Method::Get, podman::LIST_PATH, Wait::Usual)?;
        let body = expect_body(&call, response, &[200])?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let mut listed = podman::containers_from(&body[..], now)
            .map_err(|message| EngineError::Protocol { call, message })?;
        for i in podman::sharing_a_network(&listed) {
            let c = &mut listed[i].container;
            match self.inspect(&c.id) {
                Ok(doc) => {
                    c.network_mode = doc["HostConfig"]["NetworkMode"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                }
                // Gone since the list: it no longer uses anything.
                Err(EngineError::Api { status: 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(listed.into_iter().map(|l| l.container).collect())
    }

    /// Read registry credentials from `DIR/config.json` (`--docker-config`) rather than where
    /// the docker CLI looks by default. Read on the first pull, not before.
    pub fn set_docker_config(&mut self, dir: Option<PathBuf>) {
        self.docker_config = dir;
    }

    /// The credentials, read on first use.
    pub(super) fn credentials(&self) -> &Result<Credentials, String> {
        self.credentials
            .get_or_init(|| Credentials::load(self.docker_config.as_deref()))
    }

    pub(super) fn pulls(&self) -> &Mutex<BTreeMap<String, PullSlot>> {
        &self.pulls
    }

    /// Whether the image is present locally.
    pub fn image_present(&self, image: &ImageRef) -> Result<bool, EngineError> {
        Ok(self.image_id(image)?.is_some())
    }

    /// The ID of the local image the reference names, `None` when there is none.
    pub fn image_id(&self, image: &ImageRef) -> Result<Option<String>, EngineError> {
        let path = format!("/images/{}/json", encode(&image.canonical(), IMAGE_PATH));
        let (call, response) = self.send(Method::Get, &path, Wait::Usual)?;
        match response.status().as_u16() {
            200 => {
                let body = read_body(&call, response)?;
                reply::image_id(&body)
                    .map(Some)
                    .map_err(|message| EngineError::Protocol { call, message })
            }
            404 => {
                drain(response);
                Ok(None)
            }
            status => Err(api_error(call, status, response)),
        }
    }

    /// Pull the image anonymously, reading the progress stream to the end; an error line
    /// fails the pull.
    pub fn pull(&self, image: &ImageRef, platform: Option<&str>) -> Result<(), EngineError> {
        self.pull_with(image, platform, None)
    }

    /// Pull the image, with `auth` sent as `X-Registry-Auth` when given; progress at info
    /// every few seconds.
    pub(super) fn pull_with(
        &self,
        image: &ImageRef,
        platform: Option<&str>,
        auth: Option<&Auth>,
    ) -> Result<(), EngineError> {
        let (repository, tag) = (image.from_image(), image.pull_tag());
        let mut path = format!(
            "/images/create?fromImage={}&tag={}",
            encode(&repository, QUERY),
            encode(&tag, QUERY)
        );
        if let Some(p) = platform {
            path.push_str(&format!("&platform={}", encode(p, QUERY)));
        }
        let header = auth.map(Auth::header);
        let method = match &header {
            Some(h) => Method::PostAuth(h),
            None => Method::Post(None),
        };
        let (call, response) = self.send(method, &path, Wait::Usual)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(api_error(call, status, response));
        }
        let mut progress = Progress::new(image.familiar(), Instant::now());
        // Read to EOF even past an error: the pull runs in the request's context, and a
        // connection closed early would cancel it rather than let it finish or fail cleanly.
        let mut failure = None;
        for line in BufReader::new(response.into_body().into_reader()).lines() {
            let line =
                line.map_err(|e| protocol(&call, format!("reading the pull stream: {e}")))?;
            match reply::pull_line(&line) {
                Ok(PullLine::Blank) => {}
                Ok(PullLine::Status { id, status, bytes }) => {
                    match &id {
                        Some(id) => log::trace!("docker: pull {id}: {status}"),
                        None => log::debug!("docker: pull: {status}"),
                    }
                    if let Some(line) = progress.line(id.as_deref(), &status, bytes, Instant::now())
                    {
                        log::info!("{line}");
                    }
                }
                Ok(PullLine::Error(message)) => {
                    failure.get_or_insert(message);
                }
                Err(message) => {
                    failure.get_or_insert(message);
                }
            }
        }
        match failure {
            Some(message) => Err(protocol(&call, message)),
            None => Ok(()),
        }
    }

    /// Create a container under `name` from the spec; returns its ID.
    pub fn create(&self, name: &str, spec: &ContainerSpec) -> Result<String, EngineError> {
        let mut path = format!("/containers/create?name={}", encode(name, QUERY));
        if let Some(p) = &spec.platform {
            if self.version < CREATE_PLATFORM {
                return Err(protocol(
                    "POST /containers/create",
                    format!(
                        "--platform on create needs API {CREATE_PLATFORM}; the engine speaks {}",
                        self.version
                    ),
                ));
            }
            path.push_str(&format!("&platform={}", encode(p, QUERY)));
        }
        let body = serde_json::to_vec(&spec.body)
            .map_err(|e| protocol("POST /containers/create", format!("encoding the body: {e}")))?;
        let (call, response) = self.send(Method::Post(Some(&body)), &path, Wait::Usual)?;
        let reply = expect_body(&call, response, &[200, 201])?;
        let (id, warnings) = reply::created(&reply).map_err(|m| protocol(&call, m))?;
        for w in warnings {
            log::warn!("Docker engine, creating {name}: {w}");
        }
        Ok(id)
    }

    /// Start (already running is success).
    pub fn start(&self, id: &str) -> Result<(), EngineError> {
        let path = format!("/containers/{}/start", encode(id, QUERY));
        self.expect_done(Method::Post(None), &path, Wait::Usual, &[204, 304])
    }

    /// Graceful stop with the container's own stop signal and timeout (already stopped is success).
    pub fn stop(&self, id: &str) -> Result<(), EngineError> {
        // No `t`: the container's StopTimeout (or the engine's default) applies.
        let path = format!("/containers/{}/stop", encode(id, QUERY));
        self.expect_done(
            Method::Post(None),
            &path,
            Wait::PerRead(STOP_READ_TIMEOUT),
            &[204, 304],
        )
    }

    /// Rename.
    pub fn rename(&self, id: &str, new_name: &str) -> Result<(), EngineError> {
        let path = format!(
            "/containers/{}/rename?name={}",
            encode(id, QUERY),
            encode(new_name, QUERY)
        );
        self.expect_done(Method::Post(None), &path, Wait::Usual, &[200, 204])
    }

    /// Remove a stopped container (anonymous volumes are kept, as `docker rm` does). A
    /// container that is already gone, or already being removed, counts as removed: that is
    /// the state the caller asked for, and `--rm` containers or an operator may well have got
    /// there first.
    pub fn remove(&self, id: &str) -> Result<(), EngineError> {
        let path = format!("/containers/{}", encode(id, QUERY));
        match self.expect_done(Method::Delete, &path, Wait::Usual, &[200, 204, 404]) {
            // The engine is removing it already (a `--rm` container that just stopped, a
            // concurrent `docker rm`): the same outcome, not a failed action.
            Err(EngineError::Api {
                status: 409,
                message,
                ..
            }) if message.contains("already in progress") => Ok(()),
            other => other,
        }
    }

    /// Remove an image by ID (`DELETE /images/{id}`, unforced: the engine refuses one a
    /// container uses or other tags name, 409). One already gone counts as removed.
    pub fn remove_image(&self, id: &str) -> Result<(), EngineError> {
        let path = format!("/images/{}", encode(id, QUERY));
        self.expect_done(Method::Delete, &path, Wait::Usual, &[200, 404])
    }

    /// The last `tail` lines a container wrote (stdout and stderr interleaved), decoded
    /// from the multiplexed stream the engine sends for a container without a TTY.
    pub fn logs(&self, id: &str, tail: usize) -> Result<String, EngineError> {
        let path = format!(
            "/containers/{}/logs?stdout=1&stderr=1&tail={tail}",
            encode(id, QUERY)
        );
        let (call, response) = self.send(Method::Get, &path, Wait::Usual)?;
        let body = expect_body(&call, response, &[200])?;
        Ok(reply::log_text(&body))
    }

    /// The `start`, `kill` and `die` events the engine still has of a container (by ID or
    /// name), oldest first: how it ended, even once it is gone (`--rm`). The engine keeps a
    /// few hundred events and none across its own restart, so an empty answer says nothing.
    pub fn container_events(&self, container: &str) -> Result<Vec<Event>, EngineError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let filters = serde_json::json!({
            "container": [container],
            "event": ["start", "kill", "die"],
            "type": ["container"],
        });
        // `until` makes the engine answer with what it has and close, rather than stream.
        let path = format!(
            "/events?since=1&until={}.{:09}&filters={}",
            now.as_secs(),
            now.subsec_nanos(),
            encode(&filters.to_string(), QUERY)
        );
        let (call, response) = self.send(Method::Get, &path, Wait::Usual)?;
        let body = expect_body(&call, response, &[200])?;
        Ok(reply::events(&body))
    }

    /// The raw inspect document.
    pub fn inspect(&self, id: &str) -> Result<serde_json::Value, EngineError> {
        let path = format!("/containers/{}/json", encode(id, QUERY));
        let (call, response) = self.send(Method::Get, &path, Wait::Usual)?;
        let body = expect_body(&call, response, &[200])?;
        serde_json::from_slice(&body)
            .map_err(|e| protocol(&call, format!("unparsable inspect reply: {e}")))
    }

    /// The engine's own facts (`GET /info`): its host name, default logging driver and
    /// runtime, cgroup version. Read by `export`, to leave the engine's defaults out.
    pub fn info(&self) -> Result<serde_json::Value, EngineError> {
        let (call, response) = self.send(Method::Get, "/info", Wait::Usual)?;
        let body = expect_body(&call, response, &[200])?;
        serde_json::from_slice(&body)
            .map_err(|e| protocol(&call, format!("unparsable info reply: {e}")))
    }

    /// An image's inspect, by ID or name; `None` when the engine no longer has it.
    pub fn inspect_image(&self, image: &str) -> Result<Option<serde_json::Value>, EngineError> {
        let path = format!("/images/{}/json", encode(image, IMAGE_PATH));
        let (call, response) = self.send(Method::Get, &path, Wait::Usual)?;
        if response.status().as_u16() == 404 {
            drain(response);
            return Ok(None);
        }
        let body = expect_body(&call, response, &[200])?;
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| protocol(&call, format!("unparsable image inspect reply: {e}")))
    }

    /// One ping, unversioned (the version is what it finds out): the engine's maximum API,
    /// and whether the engine is Podman.
    fn ping(&self, deadline: Instant) -> Result<(ApiVersion, bool), PingFailure> {
        let left = deadline.saturating_duration_since(Instant::now());
        let limit = left.clamp(PING_TIMEOUT_FLOOR, PING_TIMEOUT);
        let response = match self.request(Method::Get, "/_ping", false, Wait::Total(limit)) {
            Ok(r) => r,
            Err(ureq::Error::Timeout(ureq::Timeout::Global)) => {
                return Err(PingFailure::NotReady(format!(
                    "no reply to /_ping within {:.1} s",
                    limit.as_secs_f64()
                )));
            }
            // Whatever broke the exchange (no socket yet, refused, reset, a hang), a starting
            // engine is the likely cause, and a ping changes nothing: try again.
            Err(e) => return Err(PingFailure::NotReady(transport_message(&e))),
        };
        let status = response.status().as_u16();
        let header = response
            .headers()
            .get("api-version")
            .map(|v| v.to_str().map(str::to_string));
        let podman = response.headers().contains_key(podman::HEADER);
        let body = read_body("GET /_ping", response);
        if status != 200 {
            let message = body
                .map(|b| reply::error_message(&b))
                .unwrap_or_else(|e| e.to_string());
            return Err(PingFailure::NotReady(format!(
                "/_ping answered HTTP {status}: {message}"
            )));
        }
        if let Err(e) = body {
            return Err(PingFailure::NotReady(e.to_string()));
        }
        let fatal = |message: String| {
            PingFailure::Fatal(EngineError::Protocol {
                call: "GET /_ping".into(),
                message,
            })
        };
        match header {
            None => Err(fatal(
                "the reply has no Api-Version header: is this a Docker engine?".into(),
            )),
            Some(Err(_)) => Err(fatal("the Api-Version header is not text".into())),
            Some(Ok(text)) => ApiVersion::parse(&text)
                .map(|v| (v, podman))
                .map_err(|m| fatal(format!("Api-Version header: {m}"))),
        }
    }

    /// Send a versioned call; returns the call's name (for errors) and the response.
    fn send(
        &self,
        method: Method,
        path: &str,
        wait: Wait,
    ) -> Result<(String, Response<Body>), EngineError> {
        let call = format!("{} {path}", method.name());
        match self.request(method, path, true, wait) {
            Ok(response) => Ok((call, response)),
            Err(e) => Err(self.transport_error(call, e)),
        }
    }

    /// Send one request and count and log it.
    fn request(
        &self,
        method: Method,
        path: &str,
        versioned: bool,
        wait: Wait,
    ) -> Result<Response<Body>, ureq::Error> {
        let url = if versioned {
            format!("{BASE}/v{}{path}", self.version_text)
        } else {
            format!("{BASE}{path}")
        };
        let name = method.name();
        self.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let budget = self.end.saturating_duration_since(started).max(LATE_CALL);
        let result = match method {
            Method::Get => with_wait(self.agent.get(&url), wait, budget).call(),
            // The header value is a secret: it is sent, never logged.
            Method::GetAuth(auth) => with_wait(self.agent.get(&url), wait, budget)
                .header("x-registry-auth", auth)
                .call(),
            Method::Delete => with_wait(self.agent.delete(&url), wait, budget).call(),
            Method::Post(None) => with_wait(self.agent.post(&url), wait, budget).send_empty(),
            // The header value is a secret: it is sent, never logged.
            Method::PostAuth(auth) => with_wait(self.agent.post(&url), wait, budget)
                .header("x-registry-auth", auth)
                .send_empty(),
            Method::Post(Some(body)) => with_wait(self.agent.post(&url), wait, budget)
                .header("content-type", "application/json")
                .send(body),
        };
        let took = started.elapsed().as_millis();
        let shown = url.strip_prefix(BASE).unwrap_or(&url);
        match &result {
            Ok(r) => log::debug!(
                "docker: {name} {shown} → {} ({took} ms)",
                r.status().as_u16()
            ),
            Err(e) => log::debug!("docker: {name} {shown} → failed: {e} ({took} ms)"),
        }
        result
    }

    /// Send a call whose success has no body worth reading.
    fn expect_done(
        &self,
        method: Method,
        path: &str,
        wait: Wait,
        ok: &[u16],
    ) -> Result<(), EngineError> {
        let (call, response) = self.send(method, path, wait)?;
        let status = response.status().as_u16();
        if !ok.contains(&status) {
            return Err(api_error(call, status, response));
        }
        drain(response);
        Ok(())
    }

    /// Connection-level failures mean the engine is gone; anything later broke mid-exchange.
    fn transport_error(&self, call: String, e: ureq::Error) -> EngineError {
        let unreachable = match &e {
            ureq::Error::Io(io) => matches!(
                io.kind(),
                ErrorKind::NotFound
                    | ErrorKind::ConnectionRefused
                    | ErrorKind::PermissionDenied
                    | ErrorKind::AddrNotAvailable
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
            ),
            ureq::Error::Timeout(ureq::Timeout::Connect) | ureq::Error::ConnectionFailed => true,
            _ => false,
        };
        if unreachable {
            EngineError::Unreachable(format!(
                "{}: {call}: {}",
                self.endpoint,
                transport_message(&e)
            ))
        } else if matches!(e, ureq::Error::Timeout(_)) {
            EngineError::Timeout {
                call,
                message: transport_message(&e),
            }
        } else {
            protocol(&call, transport_message(&e))
        }
    }
}

/// The request with its timeouts: `wait`'s, and never more than `budget` in all (the body of
/// a pull or a stop's wait for the container included).
fn with_wait<B>(
    request: ureq::RequestBuilder<B>,
    wait: Wait,
    budget: Duration,
) -> ureq::RequestBuilder<B> {
    let config = request.config();
    match wait {
        Wait::Usual => config.timeout_global(Some(budget)),
        Wait::PerRead(t) => config
            .timeout_per_read(Some(t))
            .timeout_global(Some(budget)),
        Wait::Total(t) => config.timeout_global(Some(t.min(budget))),
    }
    .build()
}

/// A ureq error as a sentence (its own Display is terse for timeouts).
fn transport_message(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(ureq::Timeout::Global) => format!(
            "no complete reply by the end of the run (--timeout plus {} s; the engine accepted the request but did not finish answering)",
            DEADLINE_GRACE.as_secs()
        ),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

fn protocol(call: &str, message: String) -> EngineError {
    EngineError::Protocol {
        call: call.to_string(),
        message,
    }
}

/// The body of a reply whose status is one of `ok`, else the engine's error.
fn expect_body(call: &str, response: Response<Body>, ok: &[u16]) -> Result<Vec<u8>, EngineError> {
    let status = response.status().as_u16();
    if !ok.contains(&status) {
        return Err(api_error(call.to_string(), status, response));
    }
    read_body(call, response)
}

/// The engine's error for a reply with an unexpected status.
fn api_error(call: String, status: u16, response: Response<Body>) -> EngineError {
    let message = match read_body(&call, response) {
        Ok(body) => reply::error_message(&body),
        Err(e) => format!("(body unreadable: {e})"),
    };
    EngineError::Api {
        call,
        status,
        message,
    }
}

/// The whole body, up to [`MAX_BODY`] (ureq's own helpers stop at 10 MiB).
fn read_body(call: &str, response: Response<Body>) -> Result<Vec<u8>, EngineError> {
    let mut body = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| protocol(call, format!("reading the reply: {e}")))?;
    if body.len() as u64 > MAX_BODY {
        return Err(protocol(
            call,
            format!("reply larger than {MAX_BODY} bytes"),
        ));
    }
    Ok(body)
}

/// Read and drop a body we do not need, so the connection can serve the next call.
fn drain(response: Response<Body>) {
    let _ = std::io::copy(
        &mut response.into_body().into_reader(),
        &mut std::io::sink(),
    );
}

/// Bytes kept as they are in a query value or path segment: RFC 3986 unreserved.
const QUERY: &[u8] = b"-._~";
/// In an image path, `/`, `:` and `@` separate the reference's parts and stay as they are.
const IMAGE_PATH: &[u8] = b"-._~/:@";

/// Percent-encode everything but ASCII letters, digits and `keep`.
fn encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding() {
        let cases = [
            ("web", QUERY, "web"),
            ("web.ddp-new", QUERY, "web.ddp-new"),
            ("a b&c=d?e#f", QUERY, "a%20b%26c%3Dd%3Fe%23f"),
            ("localhost:1/none", QUERY, "localhost%3A1%2Fnone"),
            ("linux/arm64/v8", QUERY, "linux%2Farm64%2Fv8"),
            ("100%", QUERY, "100%25"),
            ("é", QUERY, "%C3%A9"),
            ("../x", QUERY, "..%2Fx"),
            (
                "quay.io/a/b:1@sha256:ab",
                IMAGE_PATH,
                "quay.io/a/b:1@sha256:ab",
            ),
            ("a b?c", IMAGE_PATH, "a%20b%3Fc"),
        ];
        for (text, keep, want) in cases {
            assert_eq!(encode(text, keep), want, "{text}");
        }
    }

    #[test]
    fn errors_read_well() {
        let cases = [
            (
                EngineError::Unreachable("unix:///x: gone".into()),
                "Docker engine unreachable: unix:///x: gone",
            ),
            (
                EngineError::Api {
                    call: "POST /containers/create?name=web".into(),
                    status: 409,
                    message: "Conflict.".into(),
                },
                "POST /containers/create?name=web: HTTP 409: Conflict.",
            ),
            (
                protocol("GET /_ping", "timed out (per read)".into()),
                "GET /_ping: timed out (per read)",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want);
        }
    }

    #[test]
    fn engine_is_shareable_between_threads() {
        fn sync_and_send<T: Sync + Send>() {}
        sync_and_send::<Engine>();
    }
}
