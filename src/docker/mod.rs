//! The Docker Engine API client: unix/tcp transport under ureq, API version negotiation,
//! typed calls, and pulls with the docker CLI's registry credentials. Reports what the engine
//! says; never decides policy (when to pull is the caller's).

use std::collections::BTreeMap;

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
    /// What a `--pull always` pull before planning found for its image (not a list fact).
    pub refresh: Refresh,
    /// Its healthcheck's verdict, when it has one and runs (the list's `Status` says it).
    pub health: Option<Health>,
    /// `HostConfig.NetworkMode`: `container:<ID>` when it runs in another's namespace.
    pub network_mode: String,
}

/// Whether a container still runs the image its record's tag names, as a pull just before
/// planning found (only records pulled `always` are checked).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Refresh {
    /// Not pulled before planning.
    #[default]
    NotChecked,
    /// Pulled: the tag still names the image the container runs.
    Current,
    /// Pulled: the tag now names this other image ID.
    Updated(String),
    /// The pull failed; the message says what to do.
    Failed(String),
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
            .get(crate::spec::OWNER_LABEL)
            .map(String::as_str)
    }

    /// Whether the service is up (running or about to restart).
    pub fn running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "restarting" | "paused")
    }
}

pub mod credentials;
mod endpoint;
mod engine;
mod pull;
mod reply;
mod transport;
pub mod version;

pub use credentials::Credentials;
pub use endpoint::{DEFAULT_HOST, DEFAULT_TCP_PORT, DockerHost, Endpoint, parse_docker_host};
pub use engine::{DEADLINE_GRACE, Engine, EngineError};
pub use pull::{PullError, PullProblem};
pub use version::ApiVersion;
