//! Typed Engine API calls over one negotiated API version.

use super::Container;
use crate::spec::{ContainerSpec, ImageRef};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

/// Where the engine listens (host names are resolved before this, by our own resolver).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:///var/run/docker.sock`
    Unix(PathBuf),
    /// `tcp://IP:PORT`
    Tcp(SocketAddr),
}

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
    /// The exchange broke (timeout, cut connection, unparsable reply, error in a pull stream).
    Protocol {
        /// The call.
        call: String,
        /// What went wrong.
        message: String,
    },
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
            EngineError::Protocol { call, message } => write!(f, "{call}: {message}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// A connection to one engine at one negotiated API version.
#[derive(Debug)]
pub struct Engine {
    _private: (),
}

impl Engine {
    /// Ping (retrying with the shared backoff while the engine is unreachable, until
    /// `deadline`) and negotiate the API version.
    pub fn connect(_endpoint: &Endpoint, _deadline: Instant) -> Result<Engine, EngineError> {
        Err(EngineError::Unreachable("not implemented".into()))
    }

    /// The negotiated API version, e.g. `1.41`.
    pub fn api_version(&self) -> &str {
        ""
    }

    /// How many API calls this client has made (a no-op run makes two).
    pub fn calls(&self) -> usize {
        0
    }

    /// Every container, running or not (`GET /containers/json?all=1`).
    pub fn list(&self) -> Result<Vec<Container>, EngineError> {
        Ok(Vec::new())
    }

    /// Whether the image is present locally.
    pub fn image_present(&self, _image: &ImageRef) -> Result<bool, EngineError> {
        Ok(false)
    }

    /// Pull the image, reading the progress stream to the end; an error line fails the pull.
    pub fn pull(&self, _image: &ImageRef, _platform: Option<&str>) -> Result<(), EngineError> {
        Ok(())
    }

    /// Create a container under `name` from the spec; returns its ID.
    pub fn create(&self, _name: &str, _spec: &ContainerSpec) -> Result<String, EngineError> {
        Ok(String::new())
    }

    /// Start (already running is success).
    pub fn start(&self, _id: &str) -> Result<(), EngineError> {
        Ok(())
    }

    /// Graceful stop with the container's own stop signal and timeout (already stopped is success).
    pub fn stop(&self, _id: &str) -> Result<(), EngineError> {
        Ok(())
    }

    /// Rename.
    pub fn rename(&self, _id: &str, _new_name: &str) -> Result<(), EngineError> {
        Ok(())
    }

    /// Remove a stopped container (anonymous volumes are kept, as `docker rm` does).
    pub fn remove(&self, _id: &str) -> Result<(), EngineError> {
        Ok(())
    }

    /// The raw inspect document.
    pub fn inspect(&self, _id: &str) -> Result<serde_json::Value, EngineError> {
        Ok(serde_json::Value::Null)
    }
}
