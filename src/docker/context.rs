//! Which engine the docker CLI's settings name, resolved as the CLI resolves them:
//! `--docker-host`, else `DOCKER_HOST`, else a context (`DOCKER_CONTEXT`, else `currentContext`
//! in config.json; `contexts/meta/<sha256 of the name>/meta.json` under the config directory),
//! else the default socket (a rootless engine's when not root and it exists). What the tool
//! cannot honour (TLS, content trust, credentials or headers from the environment, a default
//! platform) is refused, never ignored. Reads the
//! CLI's files through the caller's [`Lookup`]; parses no URL and touches no network.

use crate::docker::DEFAULT_HOST;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The context name that means the default endpoint (`DOCKER_HOST` or the default socket).
pub const DEFAULT_CONTEXT: &str = "default";

/// The port the engine serves TLS on by convention: plain HTTP there would be mis-spoken.
pub const TLS_PORT: &str = "2376";

/// Largest config.json or meta.json read.
const MAX_FILE: u64 = 1 << 20;

/// How a CLI file is read: its contents, `Ok(None)` when it does not exist.
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> Result<Option<Vec<u8>>, String>;

/// What the resolution reads: the options, the environment and the CLI's files.
pub struct Lookup<'a> {
    /// `--docker-host`.
    pub flag: Option<&'a str>,
    /// `--docker-config`: the CLI's config directory, when given.
    pub config_dir: Option<&'a Path>,
    /// An environment variable (empty counts as unset, as for the CLI).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Whether the tool runs as root (the rootless socket is tried only when not).
    pub root: bool,
    /// A file's contents; `Ok(None)` when it does not exist.
    pub read: ReadFile<'a>,
    /// Whether a path exists (a socket, a TLS directory).
    pub exists: &'a dyn Fn(&Path) -> bool,
}

/// The engine URL the settings name, and which setting named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The URL as written (`unix:///var/run/docker.sock`): also the key of config.json's
    /// `proxies`.
    pub host: String,
    /// Where it came from, for messages: `--docker-host`, `DOCKER_HOST`, `context "x"`, …
    pub by: String,
}

/// The engine the settings name, or why they cannot be honoured (a configuration error).
pub fn engine_host(l: &Lookup) -> Result<Named, String> {
    let env = |k: &str| (l.env)(k).filter(|v| !v.is_empty());
    refuse_unsupported(&env)?;
    let named = if let Some(flag) = l.flag {
        Named {
            host: flag.to_string(),
            by: "--docker-host".into(),
        }
    } else if let Some(host) = env("DOCKER_HOST") {
        Named {
            host,
            by: "DOCKER_HOST".into(),
        }
    } else {
        match context_name(l, &env)? {
            Some((name, by)) if name != DEFAULT_CONTEXT => from_context(l, &env, &name, &by)?,
            _ => default_host(l, &env),
        }
    };
    if tls_port(&named.host) {
        return Err(format!(
            "engine {} (from {}): port {TLS_PORT} is the engine's TLS port, and TLS to the \
             engine is not supported; use its unix socket or a plain tcp:// port",
            named.host, named.by
        ));
    }
    Ok(named)
}

/// The CLI's settings this tool has no way to honour, refused rather than ignored.
fn refuse_unsupported(env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    for var in ["DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH"] {
        if env(var).is_some() {
            return Err(format!(
                "{var} is set: TLS to the engine is not supported (unset it and use the \
                 engine's unix socket, or a plain tcp:// port on a trusted network)"
            ));
        }
    }
    // The CLI's strconv.ParseBool: anything but a false value (or unparsable) enables it.
    if let Some(v) = env("DOCKER_CONTENT_TRUST")
        && !matches!(v.as_str(), "0" | "f" | "F" | "false" | "FALSE" | "False")
    {
        return Err(
            "DOCKER_CONTENT_TRUST is set: image signatures are not verified by this tool; \
             unset it, or pin images by digest (image@sha256:…) in the records"
                .into(),
        );
    }
    if env("DOCKER_AUTH_CONFIG").is_some() {
        return Err(
            "DOCKER_AUTH_CONFIG is set: registry credentials are read from config.json only \
             (--docker-config, DOCKER_CONFIG); unset it"
                .into(),
        );
    }
    if env("DOCKER_CUSTOM_HEADERS").is_some() {
        return Err(
            "DOCKER_CUSTOM_HEADERS is set: extra headers to the engine are not supported; \
             unset it"
                .into(),
        );
    }
    if env("DOCKER_DEFAULT_PLATFORM").is_some() {
        return Err(
            "DOCKER_DEFAULT_PLATFORM is set: not supported; unset it and give the platform \
             in the records (--platform)"
                .into(),
        );
    }
    Ok(())
}

/// The context to use and what named it: `DOCKER_CONTEXT`, else config.json's
/// `currentContext`; `None` for the default.
fn context_name(
    l: &Lookup,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(String, String)>, String> {
    if let Some(name) = env("DOCKER_CONTEXT") {
        return Ok(Some((name, "DOCKER_CONTEXT".into())));
    }
    let path = config_dir(l, env).join("config.json");
    let Some(bytes) = (l.read)(&path)? else {
        return Ok(None);
    };
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("malformed docker config {}: {e}", path.display()))?;
    match &doc["currentContext"] {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some((
            s.clone(),
            format!("currentContext in {}", path.display()),
        ))),
        _ => Err(format!(
            "malformed docker config {}: currentContext is not a string",
            path.display()
        )),
    }
}

/// The CLI's config directory: `--docker-config`, else `$DOCKER_CONFIG`, else `~/.docker`
/// (`/root/.docker` without `HOME`), as for the registry credentials.
pub fn config_dir(l: &Lookup, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let (file, _) = crate::docker::credentials::locate(l.config_dir, env);
    file.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A named context's docker endpoint, from its meta.json; TLS material refused.
fn from_context(
    l: &Lookup,
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    by: &str,
) -> Result<Named, String> {
    let dir = config_dir(l, env).join("contexts");
    let digest = crate::sha256::hex(name.as_bytes());
    let meta = dir.join("meta").join(&digest).join("meta.json");
    let what = format!("context {name:?} (from {by})");
    let bytes = (l.read)(&meta)?.ok_or_else(|| {
        format!(
            "{what} does not exist: no {} (`docker context ls` lists them)",
            meta.display()
        )
    })?;
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{what}: malformed {}: {e}", meta.display()))?;
    let endpoint = &doc["Endpoints"]["docker"];
    let tls = dir.join("tls").join(&digest).join("docker");
    if endpoint["SkipTLSVerify"].as_bool() == Some(true) || (l.exists)(&tls) {
        return Err(format!(
            "{what} uses TLS (SkipTLSVerify, or material in {}): TLS to the engine is not \
             supported",
            tls.display()
        ));
    }
    match endpoint["Host"].as_str() {
        Some(host) if !host.is_empty() => Ok(Named {
            host: host.to_string(),
            by: what,
        }),
        _ => Err(format!(
            "{what}: {} names no docker endpoint (Endpoints.docker.Host)",
            meta.display()
        )),
    }
}

/// No host named: a rootless engine's socket (`$XDG_RUNTIME_DIR/docker.sock`) when not root
/// and it exists, else the default socket.
fn default_host(l: &Lookup, env: &dyn Fn(&str) -> Option<String>) -> Named {
    if !l.root
        && let Some(run) = env("XDG_RUNTIME_DIR")
    {
        let socket = Path::new(&run).join("docker.sock");
        if run.starts_with('/') && (l.exists)(&socket) {
            return Named {
                host: format!("unix://{}", socket.display()),
                by: "the rootless engine's socket ($XDG_RUNTIME_DIR/docker.sock)".into(),
            };
        }
    }
    Named {
        host: DEFAULT_HOST.to_string(),
        by: "the default".into(),
    }
}

/// Whether a `tcp://` URL names the TLS port.
fn tls_port(host: &str) -> bool {
    host.strip_prefix("tcp://").is_some_and(|rest| {
        let authority = rest.split('/').next().unwrap_or(rest);
        authority
            .rsplit_once(':')
            .is_some_and(|(h, port)| port == TLS_PORT && !h.ends_with(':'))
    })
}

/// The lookup of this process: its environment, its files, and whether it runs as root.
pub fn system_lookup<'a>(
    flag: Option<&'a str>,
    config_dir: Option<&'a Path>,
    env: &'a dyn Fn(&str) -> Option<String>,
) -> Lookup<'a> {
    use std::os::unix::fs::MetadataExt;
    Lookup {
        flag,
        config_dir,
        env,
        // /proc/self belongs to the effective user; unknown counts as root (the default socket).
        root: std::fs::metadata("/proc/self").map_or(true, |m| m.uid() == 0),
        read: &read_file,
        exists: &|p: &Path| p.exists(),
    }
}

/// A CLI file, bounded; missing is `None`.
fn read_file(path: &Path) -> Result<Option<Vec<u8>>, String> {
    use std::io::ErrorKind;
    match crate::bounded_read::regular_file(path, MAX_FILE) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) => match e.open_error().map(std::io::Error::kind) {
            Some(ErrorKind::NotFound) => Ok(None),
            // As for the CLI, which warns and goes on without it: another user's config (a
            // `show` by someone else with HOME=/root), or one that ProtectHome= hides.
            Some(ErrorKind::PermissionDenied) => {
                log::warn!("cannot read {}: {e}; going on without it", path.display());
                Ok(None)
            }
            _ => Err(format!("cannot read {}: {e}", path.display())),
        },
    }
}

#[cfg(test)]
mod tests;
