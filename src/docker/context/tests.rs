use super::*;
use std::collections::BTreeMap;

/// A machine: environment, files (path → contents) and existing paths, root or not.
struct Machine {
    env: BTreeMap<&'static str, &'static str>,
    files: BTreeMap<PathBuf, String>,
    paths: Vec<PathBuf>,
    root: bool,
}

impl Machine {
    fn new() -> Machine {
        Machine {
            env: BTreeMap::from([("HOME", "/home/op")]),
            files: BTreeMap::new(),
            paths: Vec::new(),
            root: true,
        }
    }

    fn env(mut self, k: &'static str, v: &'static str) -> Machine {
        self.env.insert(k, v);
        self
    }

    fn file(mut self, path: &str, text: &str) -> Machine {
        self.files.insert(path.into(), text.into());
        self
    }

    /// A context `name` whose docker endpoint is `host`, under `dir`.
    fn context(self, dir: &str, name: &str, host: &str) -> Machine {
        let meta = format!(
            "{dir}/contexts/meta/{}/meta.json",
            crate::sha256::hex(name.as_bytes())
        );
        let text = format!(
            r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
        );
        self.file(&meta, &text)
    }

    fn path(mut self, p: &str) -> Machine {
        self.paths.push(p.into());
        self
    }

    fn resolve(&self, flag: Option<&str>, config_dir: Option<&Path>) -> Result<Named, String> {
        let env = |k: &str| self.env.get(k).map(|v| v.to_string());
        let read = |p: &Path| Ok(self.files.get(p).map(|t| t.as_bytes().to_vec()));
        let exists = |p: &Path| self.paths.iter().any(|q| q == p) || self.files.contains_key(p);
        engine_host(&Lookup {
            flag,
            config_dir,
            env: &env,
            root: self.root,
            read: &read,
            exists: &exists,
        })
    }

    fn host(&self) -> String {
        match self.resolve(None, None) {
            Ok(n) => n.host,
            Err(e) => panic!("{e}"),
        }
    }
}

const CONFIG: &str = "/home/op/.docker/config.json";

#[test]
fn precedence_is_the_clis() {
    let m = Machine::new()
        .env("DOCKER_HOST", "unix:///from/env.sock")
        .env("DOCKER_CONTEXT", "ctx")
        .context("/home/op/.docker", "ctx", "unix:///from/ctx.sock")
        .context("/home/op/.docker", "cur", "unix:///from/cur.sock")
        .file(CONFIG, r#"{"currentContext":"cur"}"#);
    let named = m.resolve(Some("unix:///from/flag.sock"), None).unwrap();
    assert_eq!(named.host, "unix:///from/flag.sock");
    assert_eq!(named.by, "--docker-host");
    assert_eq!(m.host(), "unix:///from/env.sock");
    let m = Machine {
        env: m
            .env
            .into_iter()
            .filter(|(k, _)| *k != "DOCKER_HOST")
            .collect(),
        ..m
    };
    assert_eq!(m.host(), "unix:///from/ctx.sock");
    let m = Machine {
        env: m
            .env
            .into_iter()
            .filter(|(k, _)| *k != "DOCKER_CONTEXT")
            .collect(),
        ..m
    };
    let named = m.resolve(None, None).unwrap();
    assert_eq!(named.host, "unix:///from/cur.sock");
    assert!(named.by.contains("currentContext"), "{named:?}");
    assert_eq!(Machine::new().host(), DEFAULT_HOST);
}

#[test]
fn the_default_context_is_the_default_endpoint() {
    let m = Machine::new().env("DOCKER_CONTEXT", "default").context(
        "/home/op/.docker",
        "default",
        "unix:///never.sock",
    );
    assert_eq!(m.host(), DEFAULT_HOST);
    let m = Machine::new().file(CONFIG, r#"{"currentContext":"default","auths":{}}"#);
    assert_eq!(m.host(), DEFAULT_HOST);
    let m = Machine::new().file(CONFIG, r#"{"currentContext":""}"#);
    assert_eq!(m.host(), DEFAULT_HOST);
}

#[test]
fn the_config_directory_is_the_clis() {
    let m = Machine::new()
        .env("DOCKER_CONFIG", "/etc/ddp/docker")
        .file(
            "/etc/ddp/docker/config.json",
            r#"{"currentContext":"podman"}"#,
        )
        .context(
            "/etc/ddp/docker",
            "podman",
            "unix:///run/podman/podman.sock",
        );
    assert_eq!(m.host(), "unix:///run/podman/podman.sock");
    let m =
        Machine::new()
            .env("DOCKER_CONTEXT", "x")
            .context("/opt/cfg", "x", "tcp://10.0.0.1:2375");
    let named = m.resolve(None, Some(Path::new("/opt/cfg"))).unwrap();
    assert_eq!(named.host, "tcp://10.0.0.1:2375");
}

#[test]
fn the_rootless_socket_is_tried_when_not_root() {
    let m = Machine::new()
        .env("XDG_RUNTIME_DIR", "/run/user/1000")
        .path("/run/user/1000/docker.sock");
    assert_eq!(m.host(), DEFAULT_HOST, "root uses the system engine");
    let m = Machine { root: false, ..m };
    assert_eq!(m.host(), "unix:///run/user/1000/docker.sock");
    let m = Machine::new().env("XDG_RUNTIME_DIR", "/run/user/1000");
    let m = Machine { root: false, ..m };
    assert_eq!(m.host(), DEFAULT_HOST, "no rootless socket there");
}

#[test]
fn what_cannot_be_honoured_is_refused() {
    let cases: [(Machine, &str); 13] = [
        (
            Machine::new().env("DOCKER_CONTENT_TRUST", "yes"),
            "signatures",
        ),
        (
            Machine::new().env("DOCKER_AUTH_CONFIG", "{}"),
            "DOCKER_AUTH_CONFIG",
        ),
        (
            Machine::new().env("DOCKER_CUSTOM_HEADERS", "X-A=b"),
            "DOCKER_CUSTOM_HEADERS",
        ),
        (
            Machine::new().env("DOCKER_TLS_VERIFY", "1"),
            "DOCKER_TLS_VERIFY",
        ),
        (Machine::new().env("DOCKER_TLS_VERIFY", "0"), "TLS"),
        (Machine::new().env("DOCKER_TLS", "1"), "DOCKER_TLS is set"),
        (
            Machine::new().env("DOCKER_CERT_PATH", "/c"),
            "DOCKER_CERT_PATH",
        ),
        (
            Machine::new().env("DOCKER_HOST", "tcp://10.0.0.1:2376"),
            "TLS port",
        ),
        (
            Machine::new().env("DOCKER_HOST", "tcp://[::1]:2376/"),
            "TLS port",
        ),
        (
            Machine::new().env("DOCKER_CONTENT_TRUST", "1"),
            "signatures",
        ),
        (
            Machine::new().env("DOCKER_DEFAULT_PLATFORM", "linux/arm64"),
            "--platform",
        ),
        (
            Machine::new().env("DOCKER_CONTEXT", "nope"),
            "does not exist",
        ),
        (Machine::new().file(CONFIG, "{"), "malformed docker config"),
    ];
    for (m, why) in cases {
        match m.resolve(None, None) {
            Err(e) => assert!(e.contains(why), "{why}: {e}"),
            Ok(n) => panic!("{why}: resolved {n:?}"),
        }
    }
    // Empty is unset, as for the CLI; and a trust variable that says no is no.
    let m = Machine::new()
        .env("DOCKER_TLS_VERIFY", "")
        .env("DOCKER_CONTENT_TRUST", "false");
    assert_eq!(m.host(), DEFAULT_HOST);
    for host in ["tcp://10.0.0.1:2375", "tcp://h2376:2375", "unix:///x:2376"] {
        assert!(!tls_port(host), "{host}");
    }
}

#[test]
fn a_context_with_tls_is_refused() {
    let dir = "/home/op/.docker";
    let digest = crate::sha256::hex(b"remote");
    let m = Machine::new()
        .env("DOCKER_CONTEXT", "remote")
        .context(dir, "remote", "tcp://10.0.0.9:2375")
        .path(&format!("{dir}/contexts/tls/{digest}/docker"));
    let e = m.resolve(None, None).unwrap_err();
    assert!(e.contains("TLS") && e.contains("remote"), "{e}");
    let meta = format!("{dir}/contexts/meta/{digest}/meta.json");
    let m = Machine::new().env("DOCKER_CONTEXT", "remote").file(
        &meta,
        r#"{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.0.0.9:2375","SkipTLSVerify":true}}}"#,
    );
    let e = m.resolve(None, None).unwrap_err();
    assert!(e.contains("SkipTLSVerify"), "{e}");
    let m = Machine::new()
        .env("DOCKER_CONTEXT", "remote")
        .file(&meta, r#"{"Name":"remote","Endpoints":{}}"#);
    let e = m.resolve(None, None).unwrap_err();
    assert!(e.contains("names no docker endpoint"), "{e}");
}
