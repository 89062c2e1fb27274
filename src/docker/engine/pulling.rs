//! Pulling an image the way a person needs it: with the registry's credentials, once per run
//! per image, progress at info on long pulls, and a failure as one line that names the image
//! and registry and says whether to wait or to fix something. Decides nothing about *whether*
//! to pull: that is the caller's policy (`--pull`).

use super::{Engine, EngineError};
use crate::container::ImageRef;
use crate::docker::credentials::{Auth, Credentials, Origin};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often a running pull logs its progress at info (and how long one runs before it does).
pub const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What kind of failure a pull met, as far as what to do about it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullProblem {
    /// The registry wants credentials and we have none for it.
    NoCredentials,
    /// The registry refused the credentials we sent.
    Rejected,
    /// Access denied: no such repository, or these credentials may not read it.
    Denied,
    /// No such image or tag (or digest) in the registry.
    NotFound,
    /// The registry could not be reached (or answered 5xx): try again later.
    Unreachable,
    /// What arrived does not match its digest: try again later; if it persists, the registry.
    DigestMismatch,
    /// The credentials could not be looked up (config file, credential helper).
    Credentials,
    /// The engine could not be asked, or the pull broke off.
    Engine,
    /// Anything else the engine said.
    Other,
}

impl PullProblem {
    /// Whether waiting and running again may well fix it, without anyone changing anything.
    pub fn temporary(self) -> bool {
        matches!(
            self,
            PullProblem::Unreachable | PullProblem::DigestMismatch | PullProblem::Engine
        )
    }
}

/// A failed pull, for a person: one line naming image and registry and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullError {
    /// The image as it would be pulled.
    pub image: String,
    /// Its registry (`docker.io` for Hub).
    pub registry: String,
    /// The kind of failure.
    pub problem: PullProblem,
    /// What the engine or the credential lookup said.
    pub detail: String,
    /// Whose credentials were sent, e.g. `user "ci" from /etc/x/config.json`; never a secret.
    pub sent: Option<String>,
    /// The docker config file consulted, for messages.
    pub config: String,
    /// The engine itself could not be reached or did not answer in time (not the image or
    /// its registry failing): the run's outcome is then 69, not 73.
    pub engine_lost: bool,
}

impl std::fmt::Display for PullError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (image, registry, detail) = (&self.image, &self.registry, &self.detail);
        let sent = self.sent.as_deref().unwrap_or("no credentials");
        write!(f, "pull of {image} failed: ")?;
        match self.problem {
            PullProblem::NoCredentials => write!(
                f,
                "registry {registry} asks for credentials and {} has none for it ({detail}); fix the credentials: `docker login {registry}` into that config, or name another with --docker-config",
                self.config
            ),
            PullProblem::Rejected => write!(
                f,
                "registry {registry} rejected the credentials ({sent}): {detail}; fix the credentials"
            ),
            PullProblem::Denied => write!(
                f,
                "registry {registry} denied access ({sent}): {detail}; fix the record (repository name) or the credentials"
            ),
            PullProblem::NotFound => write!(
                f,
                "registry {registry} has no such image or tag: {detail}; fix the record"
            ),
            PullProblem::Unreachable => write!(
                f,
                "registry {registry} unreachable: {detail}; temporary, retry later (the next run retries)"
            ),
            PullProblem::DigestMismatch => write!(
                f,
                "content from registry {registry} does not match its digest: {detail}; temporary, retry later (if it persists, check the registry)"
            ),
            PullProblem::Credentials => write!(
                f,
                "credentials for registry {registry}: {detail}; fix the credentials"
            ),
            PullProblem::Engine => {
                write!(f, "(registry {registry}) {detail}; temporary, retry later")
            }
            PullProblem::Other => write!(f, "(registry {registry}) {detail}"),
        }
    }
}

impl std::error::Error for PullError {}

/// The kind of failure an engine message describes, given whether credentials were sent.
pub fn classify(message: &str, status: Option<u16>, sent_credentials: bool) -> PullProblem {
    let m = message.to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if has(&["digest mismatch", "verification failed", "does not match"]) && m.contains("digest")
        || has(&["digest did not match"])
    {
        return PullProblem::DigestMismatch;
    }
    if has(&[
        "no basic auth credentials",
        "authentication required",
        "unauthorized",
        "incorrect username or password",
    ]) || status == Some(401)
    {
        return if sent_credentials {
            PullProblem::Rejected
        } else {
            PullProblem::NoCredentials
        };
    }
    if has(&["denied", "forbidden"]) || status == Some(403) {
        return PullProblem::Denied;
    }
    if has(&[
        "manifest unknown",
        "name unknown",
        "not found",
        "does not exist",
    ]) || status == Some(404)
    {
        return PullProblem::NotFound;
    }
    if has(&[
        "connection refused",
        "no such host",
        "i/o timeout",
        "timeout",
        "timed out",
        "dial tcp",
        "connection reset",
        "network is unreachable",
        "no route to host",
        "server misbehaving",
        "tls handshake",
        "service unavailable",
        "bad gateway",
        "gateway timeout",
        "too many requests",
        "toomanyrequests",
        "unexpected eof",
    ]) {
        return PullProblem::Unreachable;
    }
    PullProblem::Other
}

/// The registry an image comes from, as a person names it.
pub fn registry_of(image: &ImageRef) -> String {
    image.domain.clone()
}

impl Engine {
    /// Pull `image` with the registry's credentials from the docker config, at most once per
    /// run (a second call returns the first one's outcome), logging progress on long pulls.
    pub fn pull_image(
        &self,
        image: &ImageRef,
        platform: Option<&str>,
    ) -> Result<(), Box<PullError>> {
        let key = format!("{}|{}", image.canonical(), platform.unwrap_or(""));
        // Held across the pull: two callers of one image wait for one pull, not two.
        let cell = {
            let mut done = self.pulls().lock().unwrap_or_else(|p| p.into_inner());
            done.entry(key).or_default().clone()
        };
        let mut slot = cell.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(outcome) = &*slot {
            return outcome.clone();
        }
        let outcome = self.pull_once(image, platform);
        *slot = Some(outcome.clone());
        outcome
    }

    fn pull_once(&self, image: &ImageRef, platform: Option<&str>) -> Result<(), Box<PullError>> {
        let registry = registry_of(image);
        let credentials = self.credentials();
        let fail = |problem, detail: String, sent: Option<String>| {
            Box::new(PullError {
                image: image.familiar(),
                registry: registry.clone(),
                problem,
                detail,
                sent,
                config: match credentials {
                    Ok(c) => c.file(),
                    Err(_) => "the docker config".to_string(),
                },
                engine_lost: false,
            })
        };
        let found: Option<(Auth, Origin)> = match credentials {
            Ok(c) => c
                .lookup(&image.domain)
                .map_err(|why| fail(PullProblem::Credentials, why, None))?,
            Err(why) => return Err(fail(PullProblem::Credentials, why.clone(), None)),
        };
        let sent = found.as_ref().map(|(auth, origin)| match origin {
            Origin::File => format!(
                "{} from {}",
                auth.describe(),
                credentials
                    .as_ref()
                    .map(Credentials::file)
                    .unwrap_or_default()
            ),
            Origin::Helper(name) => {
                format!("{} from docker-credential-{name}", auth.describe())
            }
        });
        match &sent {
            Some(s) => log::info!("pulling {} from {registry} with {s}", image.familiar()),
            None => log::info!("pulling {} from {registry} anonymously", image.familiar()),
        }
        let auth = found.as_ref().map(|(a, _)| a);
        self.pull_with(image, platform, auth).map_err(|e| {
            let classified = |status, detail: &str| {
                fail(
                    classify(detail, status, auth.is_some()),
                    detail.to_string(),
                    sent.clone(),
                )
            };
            let mut failure = match &e {
                EngineError::Api {
                    status, message, ..
                } => classified(Some(*status), message),
                EngineError::Protocol { message, .. } | EngineError::Timeout { message, .. } => {
                    classified(None, message)
                }
                EngineError::Unreachable(m) => fail(
                    PullProblem::Engine,
                    format!("Docker engine unreachable: {m}"),
                    sent.clone(),
                ),
            };
            failure.engine_lost = e.is_unavailable();
            failure
        })
    }
}

/// The state of one layer in a pull stream.
#[derive(Debug, Clone, Default)]
struct Layer {
    done: bool,
    downloaded: u64,
    size: Option<u64>,
}

/// Follows a pull stream and says, every [`PROGRESS_EVERY`], how far it got.
#[derive(Debug)]
pub struct Progress {
    image: String,
    started: Instant,
    last: Instant,
    layers: BTreeMap<String, Layer>,
}

impl Progress {
    /// A pull of `image` that starts `now`.
    pub fn new(image: String, now: Instant) -> Progress {
        Progress {
            image,
            started: now,
            last: now,
            layers: BTreeMap::new(),
        }
    }

    /// Take in one status line; returns a line to log when one is due at `now`.
    pub fn line(
        &mut self,
        id: Option<&str>,
        status: &str,
        bytes: Option<(u64, u64)>,
        now: Instant,
    ) -> Option<String> {
        if let Some(id) = id
            && !status.starts_with("Pulling from")
        {
            let layer = self.layers.entry(id.to_string()).or_default();
            match status {
                "Pull complete" | "Already exists" => layer.done = true,
                "Download complete" | "Verifying Checksum" => {
                    if let Some(size) = layer.size {
                        layer.downloaded = size;
                    }
                }
                "Downloading" => {
                    if let Some((current, total)) = bytes {
                        layer.downloaded = current;
                        layer.size = Some(total);
                    }
                }
                _ => {}
            }
        }
        if now.duration_since(self.last) < PROGRESS_EVERY {
            return None;
        }
        self.last = now;
        Some(self.summary(now))
    }

    /// Where the pull is, in words.
    pub fn summary(&self, now: Instant) -> String {
        let total = self.layers.len();
        let done = self.layers.values().filter(|l| l.done).count();
        let got: u64 = self
            .layers
            .values()
            .map(|l| {
                if l.done {
                    l.size.unwrap_or(l.downloaded)
                } else {
                    l.downloaded
                }
            })
            .sum();
        let known: u64 = self.layers.values().filter_map(|l| l.size).sum();
        let mut out = format!("pulling {}: {done}/{total} layers done", self.image);
        if known > 0 {
            out += &format!(", {} of {} downloaded", megabytes(got), megabytes(known));
        }
        out += &format!(" ({:.0} s)", now.duration_since(self.started).as_secs_f64());
        out
    }
}

fn megabytes(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_messages_are_classified() {
        let cases = [
            (
                r#"Head "http://127.0.0.1:5/v2/a/manifests/b": no basic auth credentials"#,
                None,
                false,
                PullProblem::NoCredentials,
            ),
            (
                "unauthorized: authentication required",
                None,
                true,
                PullProblem::Rejected,
            ),
            (
                "unauthorized: authentication required",
                None,
                false,
                PullProblem::NoCredentials,
            ),
            (
                "pull access denied for x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
                Some(404),
                false,
                PullProblem::Denied,
            ),
            (
                "manifest for 127.0.0.1:5/a:nope not found: manifest unknown: manifest unknown",
                Some(404),
                true,
                PullProblem::NotFound,
            ),
            (
                r#"Get "http://127.0.0.1:9/v2/": dial tcp 127.0.0.1:9: connect: connection refused"#,
                Some(500),
                false,
                PullProblem::Unreachable,
            ),
            (
                "Get \"https://r.example/v2/\": net/http: TLS handshake timeout",
                None,
                false,
                PullProblem::Unreachable,
            ),
            (
                "filesystem layer verification failed for digest sha256:ab",
                None,
                false,
                PullProblem::DigestMismatch,
            ),
            (
                "something else entirely",
                Some(500),
                false,
                PullProblem::Other,
            ),
        ];
        for (message, status, sent, want) in cases {
            assert_eq!(classify(message, status, sent), want, "{message}");
        }
        assert!(PullProblem::Unreachable.temporary());
        assert!(!PullProblem::Rejected.temporary() && !PullProblem::NotFound.temporary());
    }

    #[test]
    fn failures_read_as_one_line_that_says_what_to_do() {
        let e = |problem| PullError {
            image: "127.0.0.1:5/a:b".into(),
            registry: "127.0.0.1:5".into(),
            problem,
            detail: "the engine's words".into(),
            sent: Some("user \"u\" from /c/config.json".into()),
            config: "/c/config.json".into(),
            engine_lost: false,
        };
        let cases = [
            (PullProblem::NoCredentials, "fix the credentials"),
            (PullProblem::Rejected, "fix the credentials"),
            (PullProblem::Denied, "fix the record"),
            (PullProblem::NotFound, "fix the record"),
            (PullProblem::Unreachable, "temporary"),
            (PullProblem::DigestMismatch, "temporary"),
            (PullProblem::Credentials, "fix the credentials"),
            (PullProblem::Engine, "temporary"),
        ];
        for (problem, advice) in cases {
            let text = e(problem).to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(
                text.contains("127.0.0.1:5/a:b") && text.contains("registry 127.0.0.1:5"),
                "{text}"
            );
            assert!(text.contains(advice), "{problem:?}: {text}");
            assert_eq!(text.contains("temporary"), problem.temporary(), "{text}");
        }
        assert!(
            e(PullProblem::NoCredentials)
                .to_string()
                .contains("/c/config.json")
        );
    }

    #[test]
    fn progress_counts_layers_and_bytes_every_few_seconds() {
        let t0 = Instant::now();
        let mut p = Progress::new("r/x:1".into(), t0);
        let s = |secs: u64| t0 + Duration::from_secs(secs);
        assert_eq!(p.line(Some("1"), "Pulling from x", None, s(0)), None);
        for id in ["a", "b", "c"] {
            assert_eq!(p.line(Some(id), "Pulling fs layer", None, s(1)), None);
        }
        assert_eq!(p.line(Some("a"), "Already exists", None, s(1)), None);
        assert_eq!(
            p.line(
                Some("b"),
                "Downloading",
                Some((2_000_000, 10_000_000)),
                s(2)
            ),
            None
        );
        assert_eq!(
            p.line(Some("c"), "Downloading", Some((500_000, 5_000_000)), s(3)),
            None
        );
        assert_eq!(
            p.line(
                Some("b"),
                "Downloading",
                Some((4_000_000, 10_000_000)),
                s(5)
            )
            .as_deref(),
            Some("pulling r/x:1: 1/3 layers done, 4.5 MB of 15.0 MB downloaded (5 s)")
        );
        assert_eq!(p.line(Some("b"), "Download complete", None, s(6)), None);
        assert_eq!(p.line(Some("b"), "Pull complete", None, s(7)), None);
        assert_eq!(
            p.line(Some("c"), "Extracting", Some((1, 2)), s(10))
                .as_deref(),
            Some("pulling r/x:1: 2/3 layers done, 10.5 MB of 15.0 MB downloaded (10 s)")
        );
        let quiet = Progress::new("r/y:1".into(), t0);
        assert_eq!(quiet.summary(s(6)), "pulling r/y:1: 0/0 layers done (6 s)");
    }
}
