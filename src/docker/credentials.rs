//! Registry credentials the way the docker CLI keeps them: `config.json` found as the CLI finds
//! it (or in `--docker-config DIR`), its `auths`, `credHelpers` and `credsStore`, and the
//! `X-Registry-Auth` value a pull sends. Owns reading and encoding only (the engine client
//! sends); never logs a secret: user names and registries may be logged, passwords and tokens
//! never, and `Debug` withholds them.

use crate::bounded_read;
use crate::btree::IntoTree;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The key the CLI files Docker Hub credentials under.
pub const HUB_KEY: &str = "https://index.docker.io/v1/";
/// Host names that all mean Docker Hub in a config key.
const HUB_HOSTS: &[&str] = &["index.docker.io", "docker.io", "registry-1.docker.io"];
/// Longest a credential helper may take to answer.
const HELPER_TIMEOUT: Duration = Duration::from_secs(20);
/// How much of a helper's stderr goes into a message.
const HELPER_STDERR_LIMIT: usize = 300;
/// The largest `config.json` read. `docker login` adds a few hundred bytes per registry; a
/// file holding thousands of registries is still under a MiB. 4 MiB leaves room for what
/// other tools keep there (proxies, plugins) and refuses a link to a device or a runaway file.
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;
/// The most a credential helper may write on stdout: one JSON object with a user name and a
/// secret (cloud registries' tokens are a few KiB). A helper that writes more is refused as
/// soon as it passes this, and its pipe closed, rather than read into memory without end.
const MAX_HELPER_ANSWER: u64 = 1 << 20;
/// How much of a helper's stderr is kept to quote from; the rest is read and dropped, so that
/// a helper that logs a lot does not block on a full pipe.
const MAX_HELPER_STDERR: u64 = 64 << 10;

/// Credentials for one registry. `Debug` shows no secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Auth {
    /// The registry as the engine's `serveraddress` wants it (`HUB_KEY` for Docker Hub).
    pub server: String,
    /// User name (empty with an identity token).
    pub username: String,
    secret: Secret,
}

#[derive(Clone, PartialEq, Eq)]
enum Secret {
    Password(String),
    IdentityToken(String),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Secret::Password(_) => "Password(withheld)",
            Secret::IdentityToken(_) => "IdentityToken(withheld)",
        })
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.secret {
            Secret::Password(_) => "password",
            Secret::IdentityToken(_) => "identity token",
        };
        write!(
            f,
            "Auth({} as {:?}, {kind} withheld)",
            self.server, self.username
        )
    }
}

impl Auth {
    /// The `X-Registry-Auth` header value: base64url of the engine's AuthConfig JSON.
    pub fn header(&self) -> String {
        let doc = match &self.secret {
            Secret::Password(p) => serde_json::json!({
                "username": self.username, "password": p, "serveraddress": self.server,
            }),
            Secret::IdentityToken(t) => serde_json::json!({
                "identitytoken": t, "serveraddress": self.server,
            }),
        };
        crate::base64::encode(doc.to_string().as_bytes(), crate::base64::URL_SAFE)
    }

    /// Who these credentials are, for messages: never the secret.
    pub fn describe(&self) -> String {
        match &self.secret {
            Secret::Password(_) => format!("user {:?}", self.username),
            Secret::IdentityToken(_) => "an identity token".to_string(),
        }
    }
}

/// Where credentials for a registry come from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An `auths` entry of the config file.
    File,
    /// `docker-credential-<name>`.
    Helper(String),
}

/// The CLI's config file as far as credentials go. `Debug` shows no secret.
#[derive(Clone, Default)]
pub struct Credentials {
    /// The file read, or looked for (for messages).
    pub path: Option<PathBuf>,
    /// Whether that file exists.
    present: bool,
    auths: BTreeMap<String, Value>,
    helpers: BTreeMap<String, String>,
    store: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The `auths` values hold the secrets: only their keys are shown.
        f.debug_struct("Credentials")
            .field("path", &self.path)
            .field("present", &self.present)
            .field("auths", &self.auths.keys().collect::<Vec<_>>())
            .field("helpers", &self.helpers)
            .field("store", &self.store)
            .finish()
    }
}

/// The config file to read: `dir` (the `--docker-config` option) when given, else
/// `$DOCKER_CONFIG`, else `$HOME/.docker`, else `/root/.docker` (units run without `HOME`).
/// The second value says whether the location was asked for explicitly (the option), so that
/// a missing file there is an error rather than "no credentials".
pub fn locate(dir: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> (PathBuf, bool) {
    let nonempty = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(d) = dir {
        return (d.join("config.json"), true);
    }
    // As for the CLI, a `$DOCKER_CONFIG` without a config.json means no credentials: the
    // units name a directory that exists only once an operator logs in there.
    if let Some(d) = nonempty("DOCKER_CONFIG") {
        return (PathBuf::from(d).join("config.json"), false);
    }
    let home = nonempty("HOME").unwrap_or_else(|| "/root".to_string());
    (PathBuf::from(home).join(".docker/config.json"), false)
}

impl Credentials {
    /// Read the config file `locate` names. A missing file means no credentials, unless its
    /// location was asked for explicitly; one that is not a regular file of at most
    /// [`MAX_CONFIG_BYTES`], cannot be read or is malformed is an error naming it.
    pub fn load(dir: Option<&Path>) -> Result<Credentials, String> {
        let (path, explicit) = locate(dir, &|k| std::env::var(k).ok());
        match bounded_read::regular_file(&path, MAX_CONFIG_BYTES) {
            Ok(bytes) => Credentials::parse(&path, &bytes),
            Err(e) => match e.open_error() {
                Some(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                    log::debug!(
                        "credentials: no {}; images are pulled anonymously",
                        path.display()
                    );
                    Ok(Credentials {
                        path: Some(path),
                        ..Credentials::default()
                    })
                }
                Some(e) => Err(unreadable(&path, e)),
                None => Err(format!(
                    "cannot read the docker config {}: {e}",
                    path.display()
                )),
            },
        }
    }

    /// Parse a config file's contents; `path` names it in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Credentials, String> {
        let bad = |why: String| format!("malformed docker config {}: {why}", path.display());
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let Value::Object(top) = doc else {
            return Err(bad("not a JSON object".into()));
        };
        let auths = match top.get("auths") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).into_map(),
            Some(_) => return Err(bad("\"auths\" is not an object".into())),
        };
        let helpers = match top.get("credHelpers") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v.as_str() {
                    Some(s) => Ok((k.clone(), s.to_string())),
                    None => Err(bad(format!("credHelpers[{k:?}] is not a string"))),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("\"credHelpers\" is not an object".into())),
        };
        let store = match top.get("credsStore") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("\"credsStore\" is not a string".into())),
        };
        Ok(Credentials {
            path: Some(path.to_path_buf()),
            present: true,
            auths,
            helpers,
            store,
        })
    }

    /// The config file's name for messages.
    pub fn file(&self) -> String {
        match &self.path {
            Some(p) if self.present => p.display().to_string(),
            Some(p) => format!("{} (absent)", p.display()),
            None => "(no docker config)".to_string(),
        }
    }

    /// Credentials for the registry `domain` (an image reference's domain, `docker.io` for
    /// Hub), looked up as the CLI does: its `credHelpers` entry, else `credsStore`, else
    /// `auths`. `Ok(None)`: none configured, pull anonymously.
    pub fn lookup(&self, domain: &str) -> Result<Option<(Auth, Origin)>, String> {
        let server = server_address(domain);
        let helper = self
            .helpers
            .get(&server)
            .or_else(|| self.helpers.get(domain))
            .or(self.store.as_ref());
        if let Some(name) = helper {
            return run_helper(name, &server, HELPER_TIMEOUT)
                .map(|a| a.map(|a| (a, Origin::Helper(name.clone()))));
        }
        let Some((key, entry)) = self.auth_entry(&server) else {
            return Ok(None);
        };
        decode_entry(entry, &server)
            .map(|a| a.map(|a| (a, Origin::File)))
            .map_err(|why| format!("docker config {}: auths[{key:?}]: {why}", self.file()))
    }

    /// The `auths` entry for `server`: an exact key, else the first key whose host part
    /// (scheme and path stripped) is the server's, the CLI's normalisation.
    fn auth_entry(&self, server: &str) -> Option<(&String, &Value)> {
        if let Some(e) = self.auths.get_key_value(server) {
            return Some(e);
        }
        let want = hostname(server);
        let hub = HUB_HOSTS.contains(&want);
        self.auths.iter().find(|(k, _)| {
            let h = hostname(k);
            h == want || (hub && HUB_HOSTS.contains(&h))
        })
    }
}

/// Where `ProtectHome=yes` hides files: an inaccessible directory over each, so that even root
/// (without CAP_DAC_OVERRIDE, which the units drop) gets EACCES for what is there.
const PROTECTED_HOMES: &[&str] = &["/root", "/home", "/run/user"];

/// Why the config file `path` could not be read. EACCES under a home directory is what the
/// shipped units' `ProtectHome=yes` gives for `/root/.docker`, where `docker login` writes:
/// the message says so, and where the units read instead.
fn unreadable(path: &Path, e: &std::io::Error) -> String {
    let mut why = format!("cannot read the docker config {}: {e}", path.display());
    if e.kind() == std::io::ErrorKind::PermissionDenied
        && PROTECTED_HOMES.iter().any(|h| path.starts_with(h))
    {
        why += " (systemd units with ProtectHome=, the shipped ones included, cannot see \
                home directories: keep the config in a directory under /etc and name it with \
                DOCKER_CONFIG=, as /etc/default/docker-dns-provision does)";
    }
    why
}

/// The registry name the CLI and engine use for a domain: Hub's legacy URL, else the domain.
pub fn server_address(domain: &str) -> String {
    if HUB_HOSTS.contains(&domain) {
        HUB_KEY.to_string()
    } else {
        domain.to_string()
    }
}

/// The CLI's `ConvertToHostname`: drop `http://`/`https://` and everything from the first `/`.
fn hostname(key: &str) -> &str {
    let rest = key
        .strip_prefix("http://")
        .or_else(|| key.strip_prefix("https://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

/// One `auths` entry: `identitytoken`, else `auth` (base64 `user:password`), else
/// `username`/`password`. An entry with none of them (what a `credsStore` leaves) is `None`.
fn decode_entry(entry: &Value, server: &str) -> Result<Option<Auth>, String> {
    let field = |k: &str| {
        entry
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if !entry.is_object() {
        return Err("not an object".into());
    }
    if let Some(token) = field("identitytoken") {
        return Ok(Some(Auth {
            server: server.to_string(),
            username: field("username").unwrap_or_default().to_string(),
            secret: Secret::IdentityToken(token.to_string()),
        }));
    }
    if let Some(auth) = field("auth") {
        // Never echo the value: it is the secret.
        let bytes = crate::base64::decode(auth).ok_or("\"auth\" is not valid base64")?;
        let text = String::from_utf8(bytes).map_err(|_| "\"auth\" is not UTF-8 text")?;
        let (user, password) = text
            .split_once(':')
            .ok_or("\"auth\" does not decode to user:password")?;
        return Ok(Some(Auth {
            server: server.to_string(),
            username: user.to_string(),
            secret: Secret::Password(password.to_string()),
        }));
    }
    match (field("username"), field("password")) {
        (Some(u), Some(p)) => Ok(Some(Auth {
            server: server.to_string(),
            username: u.to_string(),
            secret: Secret::Password(p.to_string()),
        })),
        _ => Ok(None),
    }
}

/// Ask `docker-credential-<name> get` for `server`'s credentials, within `timeout`.
/// "Not found" (the helpers' own wording) means none; anything else is an error with the
/// helper's stderr, never its stdout (which holds the secret).
fn run_helper(name: &str, server: &str, timeout: Duration) -> Result<Option<Auth>, String> {
    ask_helper(&format!("docker-credential-{name}"), server, timeout)
}

/// [`run_helper`] with the program named in full (tests run a script by its path).
fn ask_helper(program: &str, server: &str, timeout: Duration) -> Result<Option<Auth>, String> {
    let mut child = start_helper(program, server)?;
    let pipes = Pipes::read(&mut child);
    let deadline = Instant::now() + timeout;
    let status = wait_for_exit(&mut child, &pipes, program, deadline, timeout)?;
    let (stdout, stderr) = pipes.collect(program, deadline, timeout)?;
    if !status.success() {
        return failed(program, status, &stdout, &stderr);
    }
    answer(program, server, &stdout)
}

/// The helper, running, with the server it is asked about on its stdin.
fn start_helper(program: &str, server: &str) -> Result<std::process::Child, String> {
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "credential helper {program} not found on PATH (named for {server} in the docker config)"
            ),
            _ => format!("cannot run credential helper {program}: {e}"),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    Ok(child)
}

/// A helper's stdout and stderr, each read on its own thread so a chatty helper cannot block
/// on a full pipe. Stdout is read up to its limit and then closed (a helper writing on gets
/// SIGPIPE, and is killed); stderr past what is quoted is read and dropped.
struct Pipes {
    out: std::thread::JoinHandle<Result<Vec<u8>, bounded_read::Refused>>,
    err: std::thread::JoinHandle<Vec<u8>>,
    /// Set once stdout passed its limit.
    over: Arc<AtomicBool>,
}

impl Pipes {
    fn read(child: &mut std::process::Child) -> Pipes {
        let over = Arc::new(AtomicBool::new(false));
        let out = {
            let (pipe, over) = (child.stdout.take(), over.clone());
            std::thread::spawn(move || match pipe {
                Some(p) => {
                    let answer = bounded_read::at_most(p, MAX_HELPER_ANSWER);
                    over.store(answer.is_err(), Ordering::Relaxed);
                    answer
                }
                None => Ok(Vec::new()),
            })
        };
        let err = {
            let pipe = child.stderr.take();
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = (&mut p).take(MAX_HELPER_STDERR).read_to_end(&mut kept);
                    let _ = std::io::copy(&mut p, &mut std::io::sink());
                }
                kept
            })
        };
        Pipes { out, err, over }
    }

    /// (stdout, stderr), once both pipes closed. A process the helper started may hold them
    /// open after it exited: they are waited for only until the deadline.
    fn collect(
        self,
        program: &str,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(Vec<u8>, Vec<u8>), String> {
        while !(self.out.is_finished() && self.err.is_finished()) {
            if Instant::now() >= deadline {
                return Err(format!(
                    "credential helper {program} exited but left its output open for {} s (a process it started holds it)",
                    timeout.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let stdout = match self.out.join() {
            Ok(Ok(answer)) => answer,
            Ok(Err(why @ bounded_read::Refused::TooLarge(_))) => {
                return Err(format!(
                    "credential helper {program} wrote on stdout {why}, more than any credentials: refused unread"
                ));
            }
            Ok(Err(why)) => {
                return Err(format!(
                    "credential helper {program}: its answer on stdout: {why}"
                ));
            }
            Err(_) => Vec::new(),
        };
        Ok((stdout, self.err.join().unwrap_or_default()))
    }
}

/// The helper's exit status; it is killed when it writes too much or outlives the deadline.
fn wait_for_exit(
    child: &mut std::process::Child,
    pipes: &Pipes,
    program: &str,
    deadline: Instant,
    timeout: Duration,
) -> Result<std::process::ExitStatus, String> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if pipes.over.load(Ordering::Relaxed) => {
                let _ = child.kill();
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "credential helper {program} did not answer within {} s",
                    timeout.as_secs()
                ));
            }
            Err(e) => return Err(format!("waiting for credential helper {program}: {e}")),
        }
    }
}

/// A helper that exited non-zero: "not found" means no credentials, anything else is an
/// error quoting one line of what it said.
fn failed(
    program: &str,
    status: std::process::ExitStatus,
    stdout: &[u8],
    stderr: &[u8],
) -> Result<Option<Auth>, String> {
    // Helpers print "credentials not found in native keychain" on stdout; it is no secret.
    let said = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
    let (o, e) = (said(stdout), said(stderr));
    if o.to_lowercase().contains("not found") || e.to_lowercase().contains("not found") {
        return Ok(None);
    }
    let said = if e.is_empty() { o } else { e };
    // Its first line, cut to a length a log line can carry.
    let why: String = said
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(HELPER_STDERR_LIMIT)
        .collect();
    Err(format!(
        "credential helper {program} failed ({status}): {why}"
    ))
}

/// A helper's JSON answer; an empty secret means none.
fn answer(program: &str, server: &str, stdout: &[u8]) -> Result<Option<Auth>, String> {
    let doc: Value = serde_json::from_slice(stdout)
        .map_err(|_| format!("credential helper {program} gave no JSON answer"))?;
    let get = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (user, secret) = (get("Username"), get("Secret"));
    if secret.is_empty() {
        return Ok(None);
    }
    // The helpers' convention for an identity token.
    let secret = if user == "<token>" {
        Secret::IdentityToken(secret)
    } else {
        Secret::Password(secret)
    };
    Ok(Some(Auth {
        server: server.to_string(),
        username: if user == "<token>" {
            String::new()
        } else {
            user
        },
        secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(json: &str) -> Credentials {
        Credentials::parse(Path::new("/x/config.json"), json.as_bytes()).unwrap()
    }

    fn password(a: &Auth) -> Option<&str> {
        match &a.secret {
            Secret::Password(p) => Some(p),
            Secret::IdentityToken(_) => None,
        }
    }

    #[test]
    fn config_is_found_as_the_cli_finds_it() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let dir = Path::new("/etc/ddp/docker");
        assert_eq!(
            locate(Some(dir), &env(&[("DOCKER_CONFIG", "/a"), ("HOME", "/h")])),
            (PathBuf::from("/etc/ddp/docker/config.json"), true)
        );
        assert_eq!(
            locate(None, &env(&[("DOCKER_CONFIG", "/a"), ("HOME", "/h")])),
            (PathBuf::from("/a/config.json"), false)
        );
        assert_eq!(
            locate(None, &env(&[("DOCKER_CONFIG", ""), ("HOME", "/h")])),
            (PathBuf::from("/h/.docker/config.json"), false)
        );
        assert_eq!(
            locate(None, &env(&[])),
            (PathBuf::from("/root/.docker/config.json"), false)
        );
    }

    #[test]
    fn an_unreadable_home_config_points_to_protecthome_and_docker_config() {
        use std::io::{Error, ErrorKind};
        let denied = Error::from(ErrorKind::PermissionDenied);
        for home in [
            "/root/.docker/config.json",
            "/home/ops/.docker/config.json",
            "/run/user/0/docker/config.json",
        ] {
            let why = unreadable(Path::new(home), &denied);
            assert!(why.contains(home), "{why}");
            assert!(
                why.contains("ProtectHome=") && why.contains("DOCKER_CONFIG="),
                "{why}"
            );
        }
        // Elsewhere, or another error: the error alone, no guess about the sandbox.
        let why = unreadable(Path::new("/etc/ddp/docker/config.json"), &denied);
        assert!(!why.contains("ProtectHome"), "{why}");
        let why = unreadable(Path::new("/rootfs/config.json"), &denied);
        assert!(!why.contains("ProtectHome"), "{why}");
        let busy = Error::from(ErrorKind::IsADirectory);
        let why = unreadable(Path::new("/root/.docker/config.json"), &busy);
        assert!(!why.contains("ProtectHome"), "{why}");
    }

    #[test]
    fn auths_entries_in_every_form() {
        let c = creds(
            r#"{"auths": {
                "127.0.0.1:5000": {"auth": "dXNlcjpwYTpzcw=="},
                "https://quay.io/v2/": {"username": "q", "password": "qp"},
                "https://index.docker.io/v1/": {"identitytoken": "tok"},
                "empty.example": {},
                "bad.example": {"auth": "%%%"}
            }}"#,
        );
        let (a, origin) = c.lookup("127.0.0.1:5000").unwrap().unwrap();
        assert_eq!((a.username.as_str(), password(&a)), ("user", Some("pa:ss")));
        assert_eq!(origin, Origin::File);
        let (a, _) = c.lookup("quay.io").unwrap().unwrap();
        assert_eq!((a.username.as_str(), password(&a)), ("q", Some("qp")));
        assert_eq!(a.server, "quay.io");
        let (a, _) = c.lookup("docker.io").unwrap().unwrap();
        assert_eq!(a.secret, Secret::IdentityToken("tok".into()));
        assert_eq!(a.server, HUB_KEY);
        assert_eq!(c.lookup("empty.example").unwrap(), None);
        assert_eq!(c.lookup("elsewhere.example").unwrap(), None);
        let e = c.lookup("bad.example").unwrap_err();
        assert!(e.contains("/x/config.json") && e.contains("base64"), "{e}");
        assert!(!e.contains("%%%"), "the secret is echoed: {e}");
    }

    #[test]
    fn key_normalisation() {
        for key in [
            "127.0.0.1:5000",
            "http://127.0.0.1:5000",
            "https://127.0.0.1:5000/v2/",
            "127.0.0.1:5000/v1/",
        ] {
            let c = creds(&format!(r#"{{"auths": {{"{key}": {{"auth": "dTpw"}}}}}}"#));
            assert!(c.lookup("127.0.0.1:5000").unwrap().is_some(), "{key}");
            assert!(c.lookup("127.0.0.1:5001").unwrap().is_none(), "{key}");
        }
        for key in [
            "https://index.docker.io/v1/",
            "docker.io",
            "index.docker.io",
        ] {
            let c = creds(&format!(r#"{{"auths": {{"{key}": {{"auth": "dTpw"}}}}}}"#));
            let (a, _) = c.lookup("docker.io").unwrap().unwrap();
            assert_eq!(a.server, HUB_KEY, "{key}");
        }
    }

    #[test]
    fn malformed_configs_name_the_file() {
        for text in [
            "{",
            "[]",
            r#"{"auths": []}"#,
            r#"{"credHelpers": {"x": 1}}"#,
            r#"{"credsStore": 5}"#,
        ] {
            let e = Credentials::parse(Path::new("/etc/d/config.json"), text.as_bytes())
                .expect_err(text);
            assert!(e.contains("/etc/d/config.json"), "{text}: {e}");
        }
    }

    #[test]
    fn a_missing_helper_is_a_clear_error() {
        let c = creds(r#"{"credHelpers": {"r.example": "ddp-test-no-such-helper"}}"#);
        let e = c.lookup("r.example").unwrap_err();
        assert!(
            e.contains("docker-credential-ddp-test-no-such-helper") && e.contains("PATH"),
            "{e}"
        );
        // credHelpers wins over credsStore, which covers every other registry.
        let c = creds(
            r#"{"credsStore": "ddp-test-no-such-store", "auths": {"a.example": {"auth": "dTpw"}}}"#,
        );
        assert!(
            c.lookup("a.example")
                .unwrap_err()
                .contains("ddp-test-no-such-store")
        );
    }

    /// A config.json that is a FIFO, a link to /dev/zero, a directory or a huge file is an
    /// error naming it and why, found before anything is read (the FIFO does not block).
    #[test]
    fn a_config_that_is_not_a_small_regular_file_is_refused_unread() {
        use crate::bounded_read::tests::Scratch;
        let cases = [
            ("big", "larger than 4 MiB"),
            ("fifo", "not a regular file but a FIFO"),
            ("zero", "not a regular file but a character device"),
            ("dir", "not a regular file but a directory"),
        ];
        for (kind, why) in cases {
            let s = Scratch::new(&format!("config-{kind}"));
            let config = s.0.join("config.json");
            match kind {
                "big" => drop(s.sparse("config.json", MAX_CONFIG_BYTES + 1)),
                "fifo" => drop(s.fifo("config.json")),
                "zero" => drop(s.link("config.json", "/dev/zero")),
                _ => std::fs::create_dir(&config).unwrap(),
            }
            let e = Credentials::load(Some(&s.0)).unwrap_err();
            assert!(
                e.contains(&format!("docker config {}", config.display())) && e.contains(why),
                "{kind}: {e}"
            );
        }
    }

    /// A helper program in `s` that runs `body` under /bin/sh; its path.
    fn helper(s: &crate::bounded_read::tests::Scratch, name: &str, body: &str) -> String {
        let helper = s.0.join(name);
        std::fs::write(&helper, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        helper.to_string_lossy().into_owned()
    }

    /// What a helper says, read as the docker CLI reads it: the server on its stdin, JSON on
    /// its stdout, "not found" (on either stream) meaning none, and any other failure quoted
    /// by its first line, at most 300 characters, never from stdout when stderr says why.
    #[test]
    fn helper_answers_are_read_as_the_cli_reads_them() {
        use crate::bounded_read::tests::Scratch;
        let s = Scratch::new("helper-answers");
        let answer = |body: &str| {
            let program = helper(&s, "h", body);
            ask_helper(&program, "r.example", Duration::from_secs(10))
        };
        let ok =
            answer(r#"[ "$(cat)" = r.example ] || exit 3; echo '{"Username":"u","Secret":"s"}'"#);
        let auth = ok.unwrap().unwrap();
        assert_eq!(
            (auth.server.as_str(), auth.username.as_str()),
            ("r.example", "u")
        );
        assert_eq!(password(&auth), Some("s"));
        let token = answer(r#"echo '{"Username":"<token>","Secret":"t"}'"#);
        let auth = token.unwrap().unwrap();
        assert_eq!(auth.username, "");
        assert!(matches!(&auth.secret, Secret::IdentityToken(t) if t == "t"));
        assert_eq!(answer(r#"echo '{"Username":"u","Secret":""}'"#), Ok(None));
        for none in [
            "echo 'credentials not found in native keychain'; exit 1",
            "echo 'Not Found' >&2; exit 1",
        ] {
            assert_eq!(answer(none), Ok(None), "{none}");
        }
        let long = "x".repeat(400);
        for (body, says) in [
            (
                "printf 'first\\nsecond\\n' >&2; echo secret; exit 2",
                "failed (exit status: 2): first",
            ),
            ("echo oops; exit 1", "failed (exit status: 1): oops"),
            (
                &format!("echo {long} >&2; exit 1"),
                &format!("failed (exit status: 1): {}", &long[..300]),
            ),
            ("echo hello", "gave no JSON answer"),
        ] {
            let e = answer(body).unwrap_err();
            assert!(e.ends_with(says), "{body}: {e}");
        }
    }

    /// A helper that outlives the timeout is killed; one that exits but leaves a process
    /// holding its output is not waited for past it.
    #[test]
    fn a_helper_is_waited_for_only_until_the_timeout() {
        use crate::bounded_read::tests::Scratch;
        let s = Scratch::new("helper-slow");
        let timeout = Duration::from_millis(300);
        for (name, body, says) in [
            ("slow", "sleep 2", "did not answer within"),
            (
                "fork",
                "sleep 2 >/dev/null & exit 0",
                "left its output open",
            ),
        ] {
            let program = helper(&s, name, body);
            let e = ask_helper(&program, "r.example", timeout).unwrap_err();
            assert!(e.contains(says), "{name}: {e}");
        }
    }

    /// A helper that writes more than any credentials is refused once it passes the limit,
    /// not read into memory to the end (or, for one that never stops, until the timeout),
    /// and killed if it lives on.
    #[test]
    fn a_helper_answer_is_read_up_to_its_limit() {
        use crate::bounded_read::tests::Scratch;
        let s = Scratch::new("helper");
        for (name, body, timeout) in [
            ("big", "head -c 2000000 /dev/zero", 10),
            ("endless", "exec yes", 10),
            (
                "lingering",
                "trap '' PIPE; head -c 2000000 /dev/zero; exec sleep 3",
                2,
            ),
        ] {
            let program = helper(&s, name, body);
            let e = ask_helper(&program, "r.example", Duration::from_secs(timeout)).unwrap_err();
            assert!(
                e.contains(&format!("{program} wrote on stdout larger than 1 MiB")),
                "{name}: {e}"
            );
        }
    }

    #[test]
    fn header_is_base64url_json_and_debug_hides_the_secret() {
        let a = Auth {
            server: "r.example".into(),
            username: "u".into(),
            secret: Secret::Password("p?>>".into()),
        };
        let h = a.header();
        assert!(!h.contains('+') && !h.contains('/'), "{h}");
        let doc: Value = serde_json::from_slice(&crate::base64::decode(&h).unwrap()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"username": "u", "password": "p?>>", "serveraddress": "r.example"})
        );
        let shown = format!("{a:?} {}", a.describe());
        assert!(!shown.contains("p?>>"), "{shown}");
        let c = creds(r#"{"auths": {"r.example": {"auth": "dTpwYXNzd29yZA=="}}}"#);
        let shown = format!("{c:?}");
        assert!(
            shown.contains("r.example") && !shown.contains("dTpw"),
            "{shown}"
        );
        let t = Auth {
            server: HUB_KEY.into(),
            username: String::new(),
            secret: Secret::IdentityToken("tok-123".into()),
        };
        let doc: Value =
            serde_json::from_slice(&crate::base64::decode(&t.header()).unwrap()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"identitytoken": "tok-123", "serveraddress": HUB_KEY})
        );
        assert!(!format!("{t:?}").contains("tok-123"));
    }
}
