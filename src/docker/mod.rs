//! The Docker Engine API client: unix/tcp transport under ureq, API version negotiation,
//! typed calls, and pulls with the docker CLI's registry credentials. Reports what the engine
//! says; never decides policy (when to pull is the caller's).

use std::collections::BTreeMap;
use std::time::Duration;

/// One container as the list call reports it: the planner's view of the actual state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Container {
    /// Full container ID.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`, `exited`, `paused`, `restarting`, `removing` or `dead`.
    pub state: String,
    /// The ID of the image it runs.
    pub image_id: String,
    /// Its healthcheck's verdict, when it has one and runs (Docker's list says it in `Status`
    /// or `Health`, Podman's own list in `Status`).
    pub health: Option<Health>,
    /// `HostConfig.NetworkMode`: `container:<ID>` when it runs in another's namespace.
    pub network_mode: String,
    /// How long it has been up, or since it exited and with what status (the list's `Status`).
    pub since: Since,
    /// The networks it is attached to, by name (the list's `NetworkSettings.Networks`).
    pub networks: Vec<String>,
}

/// One network as the network list reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Network {
    /// Full network ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its driver (`bridge`, `host`, `null`, `macvlan`, …).
    pub driver: String,
    /// The tool's labels (`docker-dns-provision.*`) only.
    pub labels: BTreeMap<String, String>,
    /// The record text that makes it again, as the list describes it
    /// ([`crate::network::line::from_body`]); `None` when not described. The way back when
    /// a network without the label is taken over with containers attached.
    pub described: Option<String>,
}

impl Network {
    /// The ownership label's value, when the network carries it.
    pub fn owner(&self) -> Option<&str> {
        self.labels
            .get(crate::container::OWNER_LABEL)
            .map(String::as_str)
    }
}

/// What a list entry's `Status` text (`Up 3 seconds`, `Exited (0) 2 hours ago`) says about a
/// container's time: the list's only clue to a crash loop or a finished job, read without an
/// inspect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Since {
    /// The text says neither (created, dead, restarting, or a form this tool does not know).
    #[default]
    Unknown,
    /// Running (or paused) for this long.
    Up(Span),
    /// Exited with this status this long ago.
    Exited(i64, Span),
}

/// A duration as the engine rounds it for people (`About an hour`): somewhere in
/// `[min, max)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// At least this long.
    pub min: Duration,
    /// Less than this long.
    pub max: Duration,
}

impl Since {
    /// Read a list entry's `Status`.
    pub fn parse(status: &str) -> Since {
        if let Some(up) = status.strip_prefix("Up ") {
            // A suffix in parentheses says health or `(Paused)`, not time.
            let up = up.split(" (").next().unwrap_or(up);
            return Span::parse(up).map_or(Since::Unknown, Since::Up);
        }
        let exited = status.strip_prefix("Exited (").and_then(|rest| {
            let (code, ago) = rest.split_once(") ")?;
            let span = Span::parse(ago.strip_suffix(" ago")?)?;
            Some(Since::Exited(code.parse().ok()?, span))
        });
        exited.unwrap_or_default()
    }
}

impl Span {
    /// The engine's human duration (docker/go-units `HumanDuration`) as a range.
    fn parse(text: &str) -> Option<Span> {
        const S: u64 = 1;
        const MIN: u64 = 60 * S;
        const H: u64 = 60 * MIN;
        const DAY: u64 = 24 * H;
        let span = |min: u64, max: u64| {
            Some(Span {
                min: Duration::from_secs(min),
                max: Duration::from_secs(max),
            })
        };
        match text {
            "Less than a second" => return span(0, 1),
            "About a minute" => return span(MIN, 2 * MIN),
            // Hours are rounded: `About an hour` is from 60 to 90 minutes.
            "About an hour" => return span(H, H + H / 2),
            _ => {}
        }
        let (n, unit) = text.split_once(' ')?;
        let n: u64 = n.parse().ok()?;
        let unit = unit.strip_suffix('s').unwrap_or(unit);
        // Above minutes the engine rounds to the hour before it divides: half an hour of
        // slack on each side covers it.
        let (size, slack) = match unit {
            "second" => (S, 0),
            "minute" => (MIN, 0),
            "hour" => (H, H / 2),
            "day" => (DAY, H / 2),
            "week" => (7 * DAY, H / 2),
            "month" => (30 * DAY, H / 2),
            "year" => (365 * DAY, DAY),
            _ => return None,
        };
        let min = n.checked_mul(size)?.saturating_sub(slack);
        let max = n.checked_add(1)?.checked_mul(size)?.checked_add(slack)?;
        span(min, max)
    }
}

/// One event of a container, as `GET /events` reports it: the engine's only record of how a
/// container that is gone (`--rm`) exited, and of whether something stopped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `start`, `kill`, `die`, …
    pub action: String,
    /// A `die` event's exit status.
    pub exit_code: Option<i64>,
    /// The container's ownership label, when it has one.
    pub owner: Option<String>,
    /// When, in nanoseconds since the epoch.
    pub time_nanos: u64,
}

/// A running container's healthcheck status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Within its start period, or not yet checked often enough.
    Starting,
    /// The last check passed.
    Healthy,
    /// Failed `retries` checks in a row.
    Unhealthy,
}

impl Health {
    /// The engine's word for it (`State.Health.Status` in an inspect).
    pub fn parse(word: &str) -> Option<Health> {
        match word {
            "starting" => Some(Health::Starting),
            "healthy" => Some(Health::Healthy),
            "unhealthy" => Some(Health::Unhealthy),
            _ => None,
        }
    }

    /// The engine's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

impl Container {
    /// The ownership label's value, when the container carries it.
    pub fn owner(&self) -> Option<&str> {
        self.labels
            .get(crate::container::OWNER_LABEL)
            .map(String::as_str)
    }

    /// Whether the service is up (running or about to restart).
    pub fn running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "restarting" | "paused")
    }
}

/// An ID as the docker CLI prints it: its first 12 hex digits, without the `sha256:` of an
/// image ID (a container ID has none, so both kinds read alike).
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.get(..12).unwrap_or(hex)
}

mod calls;
pub mod context;
pub mod credentials;
mod endpoint;
mod engine;
pub mod podman;
pub mod proxies;
mod reply;
mod transport;
pub mod version;

pub use calls::EngineCalls;
pub use credentials::Credentials;
pub use endpoint::{DEFAULT_HOST, DEFAULT_TCP_PORT, DockerHost, Endpoint, parse_docker_host};
pub use engine::pulling::{PullError, PullProblem};
pub use engine::{DEADLINE_GRACE, Engine, EngineError};
pub use version::ApiVersion;

#[cfg(test)]
mod tests {
    use super::short_id;

    #[test]
    fn short_ids_are_twelve_hex_digits() {
        let hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(short_id(hex), "0123456789ab");
        assert_eq!(short_id(&format!("sha256:{hex}")), "0123456789ab");
        assert_eq!(short_id("sha256:abc"), "abc");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(short_id(""), "");
    }
}
