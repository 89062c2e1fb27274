//! A container record's text (a `docker run` line or a JSON spec) → the body of
//! `POST /containers/create`, the ownership label and the normalised image reference.
//! Pure: the only outside facts it reads (env files, the tool's environment for `-e KEY`)
//! come through [`Host`], so tests can supply them.

use std::path::Path;

/// The label that marks a container as ours; its value is [`owner_label`] of the record text.
pub const OWNER_LABEL: &str = "docker-dns-provision.command";

/// A parsed, validated container record: everything the planner and applier need.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    /// The record text, byte for byte: the container's identity (same text, same container).
    pub text: String,
    /// The image the container runs, normalised.
    pub image: ImageRef,
    /// The create body (Config fields + `HostConfig` + `NetworkingConfig`), ownership label set.
    pub body: serde_json::Value,
    /// `--platform`, sent as a query parameter on create and pull.
    pub platform: Option<String>,
    /// `--pull`: when to pull the image.
    pub pull: PullPolicy,
}

/// `--pull missing|always|never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    /// Pull only when the image is not present locally (the CLI's default).
    #[default]
    Missing,
    /// Pull before every create.
    Always,
    /// Never pull; a missing image fails that container.
    Never,
}

/// A normalised image reference (distribution/reference rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry domain, e.g. `docker.io`, `quay.io`, `localhost:5000`.
    pub domain: String,
    /// Repository path, e.g. `library/busybox`.
    pub path: String,
    /// Tag, `latest` when neither tag nor digest was given.
    pub tag: Option<String>,
    /// Digest, e.g. `sha256:…`.
    pub digest: Option<String>,
}

/// Where the parser reads what lies outside the record: `--env-file`, `--label-file`, `-e KEY`.
pub trait Host {
    /// The contents of a file named in the record.
    fn read_file(&self, path: &Path) -> std::io::Result<String>;
    /// A variable of the tool's own environment.
    fn env(&self, key: &str) -> Option<String>;
}

/// A record that cannot become a container, with what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(pub String);

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

mod interim;
pub use interim::{Policy, SystemHost, parse};
