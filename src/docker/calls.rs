//! The engine calls that change or watch containers and pull images, as one narrow trait:
//! what `apply` (crash repair included), its verification, the pulls and the job check need,
//! and no more. The real [`Engine`] implements it; apply's unit tests use a fake that keeps
//! containers in memory, so the rollback, ordering and verification rules are tested without
//! an engine. Owns no policy: each method is the engine call of the same name.

use crate::container::{ContainerSpec, ImageRef};
use crate::docker::{Container, Engine, EngineError, Event, PullError};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The engine calls a run makes once it has read the container list.
pub trait EngineCalls: Sync {
    /// Create a container under `name` from the spec; returns its ID.
    fn create(&self, name: &str, spec: &ContainerSpec) -> Result<String, EngineError>;
    /// Start (already running is success).
    fn start(&self, id: &str) -> Result<(), EngineError>;
    /// Graceful stop with the container's own signal and timeout (already stopped is success).
    fn stop(&self, id: &str) -> Result<(), EngineError>;
    /// Rename.
    fn rename(&self, id: &str, new_name: &str) -> Result<(), EngineError>;
    /// Remove a stopped container; one already gone, or being removed, counts as removed.
    fn remove(&self, id: &str) -> Result<(), EngineError>;
    /// The raw inspect document.
    fn inspect(&self, id: &str) -> Result<Value, EngineError>;
    /// The last `tail` lines a container wrote.
    fn logs(&self, id: &str, tail: usize) -> Result<String, EngineError>;
    /// The `start`, `kill` and `die` events the engine still has of a container (by ID or
    /// name), oldest first.
    fn container_events(&self, container: &str) -> Result<Vec<Event>, EngineError>;
    /// The ID of the local image the reference names, `None` when there is none.
    fn image_id(&self, image: &ImageRef) -> Result<Option<String>, EngineError>;
    /// Pull `image` with the registry's credentials, at most once per run.
    fn pull_image(&self, image: &ImageRef, platform: Option<&str>) -> Result<(), Box<PullError>>;
    /// Every container, running or not.
    fn list(&self) -> Result<Vec<Container>, EngineError>;
    /// The digest `image`'s tag names in its registry now, asked without pulling.
    fn distribution_digest(&self, image: &ImageRef) -> Result<String, EngineError>;
    /// The registry digests (`repo@sha256:…`) the local image `id` was pulled as.
    fn repo_digests(&self, id: &str) -> Result<Vec<String>, EngineError>;
    /// Remove an image by ID, unforced: one a container uses, or that other tags name, stays
    /// (the engine refuses); one already gone counts as removed.
    fn remove_image(&self, id: &str) -> Result<(), EngineError>;

    /// Create a network from its create body (which names it); returns its ID.
    fn create_network(&self, body: &Value) -> Result<String, EngineError>;
    /// Remove a network; one already gone counts as removed.
    fn remove_network(&self, id: &str) -> Result<(), EngineError>;
    /// Attach a container to a network with these endpoint settings.
    fn connect_network(
        &self,
        id: &str,
        container: &str,
        endpoint: &Value,
    ) -> Result<(), EngineError>;
    /// Detach a container from a network (forced: it may be stopped).
    fn disconnect_network(&self, id: &str, container: &str) -> Result<(), EngineError>;

    /// Whether the image is present locally.
    fn image_present(&self, image: &ImageRef) -> Result<bool, EngineError> {
        Ok(self.image_id(image)?.is_some())
    }

    /// The time the containers live in, for a watch: the real clock. A fake engine keeps a
    /// clock of its own, so that watching its containers takes no real time.
    fn now(&self) -> Instant {
        Instant::now()
    }

    /// Wait between two looks at a watched container.
    fn pause(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

impl EngineCalls for Engine {
    fn create(&self, name: &str, spec: &ContainerSpec) -> Result<String, EngineError> {
        Engine::create(self, name, spec)
    }

    fn start(&self, id: &str) -> Result<(), EngineError> {
        Engine::start(self, id)
    }

    fn stop(&self, id: &str) -> Result<(), EngineError> {
        Engine::stop(self, id)
    }

    fn rename(&self, id: &str, new_name: &str) -> Result<(), EngineError> {
        Engine::rename(self, id, new_name)
    }

    fn remove(&self, id: &str) -> Result<(), EngineError> {
        Engine::remove(self, id)
    }

    fn inspect(&self, id: &str) -> Result<Value, EngineError> {
        Engine::inspect(self, id)
    }

    fn logs(&self, id: &str, tail: usize) -> Result<String, EngineError> {
        Engine::logs(self, id, tail)
    }

    fn container_events(&self, container: &str) -> Result<Vec<Event>, EngineError> {
        Engine::container_events(self, container)
    }

    fn image_id(&self, image: &ImageRef) -> Result<Option<String>, EngineError> {
        Engine::image_id(self, image)
    }

    fn pull_image(&self, image: &ImageRef, platform: Option<&str>) -> Result<(), Box<PullError>> {
        Engine::pull_image(self, image, platform)
    }

    fn list(&self) -> Result<Vec<Container>, EngineError> {
        Engine::list(self)
    }

    fn distribution_digest(&self, image: &ImageRef) -> Result<String, EngineError> {
        Engine::distribution_digest(self, image)
    }

    fn repo_digests(&self, id: &str) -> Result<Vec<String>, EngineError> {
        Engine::repo_digests(self, id)
    }

    fn remove_image(&self, id: &str) -> Result<(), EngineError> {
        Engine::remove_image(self, id)
    }

    fn create_network(&self, body: &Value) -> Result<String, EngineError> {
        Engine::create_network(self, body)
    }

    fn remove_network(&self, id: &str) -> Result<(), EngineError> {
        Engine::remove_network(self, id)
    }

    fn connect_network(
        &self,
        id: &str,
        container: &str,
        endpoint: &Value,
    ) -> Result<(), EngineError> {
        Engine::connect_network(self, id, container, endpoint)
    }

    fn disconnect_network(&self, id: &str, container: &str) -> Result<(), EngineError> {
        Engine::disconnect_network(self, id, container)
    }
}
