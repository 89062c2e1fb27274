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
    /// `--pull`: when to pull the image; `None` when the record does not say (the tool-wide
    /// `--pull` then applies).
    pub pull: Option<PullPolicy>,
}

impl ContainerSpec {
    /// The ownership label its container carries: its identity.
    pub fn owner_label(&self) -> Option<&str> {
        self.body["Labels"][OWNER_LABEL].as_str()
    }

    /// Whether the engine removes its container when it exits (`--rm`).
    pub fn auto_remove(&self) -> bool {
        self.body["HostConfig"]["AutoRemove"] == true
    }

    /// Its restart policy's name (`no`, `always`, `unless-stopped`, `on-failure`; empty
    /// when the body does not say).
    pub fn restart_policy(&self) -> &str {
        self.body["HostConfig"]["RestartPolicy"]["Name"]
            .as_str()
            .unwrap_or("")
    }
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

impl SpecError {
    /// A flag's value is bad: the CLI's wording, naming the flag and the value.
    fn invalid(flag: &str, value: &str, why: impl std::fmt::Display) -> SpecError {
        SpecError(format!(
            "invalid argument {value:?} for \"--{flag}\" flag: {why}"
        ))
    }
}

mod flags;
mod image;
mod json;
mod kv_file;
mod label;
mod network;
mod policy;
pub mod proxy_env;
mod run_line;
mod storage;
mod values;
mod words;

pub use label::{owner_label, record_text};
pub use policy::{GuardedHost, Policy};

/// The real [`Host`]: the filesystem and the tool's own environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemHost;

/// The largest file a record may name (`--env-file`, `--label-file`, a seccomp profile).
/// Each becomes part of one create request; the CLI's own env-file reader stops at 64 KiB
/// per line, and the engine's default seccomp profile is about 25 KiB: 1 MiB is far above
/// any real one, and keeps a FIFO or a link to a device from blocking or filling the run.
pub const MAX_HOST_FILE_BYTES: u64 = 1 << 20;

impl Host for SystemHost {
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        use crate::bounded_read::{Refused, regular_file};
        let bytes = regular_file(path, MAX_HOST_FILE_BYTES).map_err(|why| match why {
            // The OS's own words ("No such file or directory") say it best.
            Refused::Open(e) | Refused::Read(e) => e,
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
        })?;
        String::from_utf8(bytes).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        })
    }

    fn env(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

/// Docker's rule for a container or volume name (`RestrictedNamePattern`):
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn valid_docker_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
}

/// Parse a record's text: JSON when its first non-space character is `{`, else a
/// `docker run` line (options, image, command). The result carries the ownership label.
pub fn parse(text: &str, host: &dyn Host) -> Result<ContainerSpec, SpecError> {
    let (mut body, platform, pull) = if text.trim_start().starts_with('{') {
        (json::build(text)?, None, None)
    } else {
        let words = words::split(text)?;
        let line = flags::parse(&words)?;
        let built = run_line::build(&line, host)?;
        (built.body, built.platform, built.pull)
    };
    let typed = body
        .get("Image")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let image = ImageRef::parse(typed)?;
    set_owner_label(&mut body, text)?;
    // Without a HostConfig object some engines (20.10) skip filling their defaults
    // (`Runtime`), so a container would inspect differently from one the CLI made.
    if let Some(map) = body.as_object_mut() {
        let hc = map
            .entry("HostConfig")
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if hc.is_null() {
            *hc = serde_json::Value::Object(serde_json::Map::new());
        }
    }
    Ok(ContainerSpec {
        text: text.to_string(),
        image,
        body,
        platform,
        pull,
    })
}

/// Set the ownership label. A record that sets it itself is refused: it could only be a
/// mistake or an attempt to pass one container off as another record's.
fn set_owner_label(body: &mut serde_json::Value, text: &str) -> Result<(), SpecError> {
    let Some(map) = body.as_object_mut() else {
        return Err(SpecError("the create body is not an object".into()));
    };
    let labels = map
        .entry("Labels")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if labels.is_null() {
        *labels = serde_json::Value::Object(serde_json::Map::new());
    }
    let Some(labels) = labels.as_object_mut() else {
        return Err(SpecError("Labels must be an object".into()));
    };
    if labels.contains_key(OWNER_LABEL) {
        return Err(SpecError(format!(
            "the record sets the label {OWNER_LABEL} itself: that label is reserved for the tool's ownership mark"
        )));
    }
    labels.insert(
        OWNER_LABEL.to_string(),
        serde_json::Value::String(owner_label(text)),
    );
    Ok(())
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
pub(crate) mod tests;
