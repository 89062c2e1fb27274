//! Issue 25 §3–§6 through the real binary, with no engine: which engine the docker CLI's
//! settings name (contexts and their precedence, the rootless socket), the settings refused
//! with 78 (TLS in every form, content trust, a bad `DOCKER_API_VERSION`), and config.json's
//! proxies in what `show` prints. An engine named by a setting is a socket nobody serves, so
//! the run's 69 names which one it tried.

mod common;

use common::binary::explain;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A scratch directory with a records file (one listed container) and a docker config dir.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ddp-settings-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docker")).unwrap();
        std::fs::write(
            dir.join("records.conf"),
            "txt-record=containers.docker.e2e.test,web\n\
             txt-record=web.containers.docker.e2e.test,\"-e A=b ddp-test/busybox\"\n",
        )
        .unwrap();
        Scratch { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.join("docker")
    }

    /// A context `name` whose docker endpoint is `host`, as `docker context create` stores it.
    fn context(&self, name: &str, host: &str) {
        let digest = docker_dns_provision::sha256::hex(name.as_bytes());
        let meta = self.config().join("contexts/meta").join(digest);
        std::fs::create_dir_all(&meta).unwrap();
        let doc = serde_json::json!({
            "Name": name, "Metadata": {},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}},
        });
        std::fs::write(meta.join("meta.json"), doc.to_string()).unwrap();
    }

    /// A socket path in the scratch directory that nothing serves.
    fn socket(&self, n: &str) -> String {
        format!("unix://{}", self.dir.join(format!("{n}.sock")).display())
    }

    /// The tool's `cmd` against the records, with `env` (and DOCKER_CONFIG = the config dir).
    fn run(&self, cmd: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(
            Command::new(env!("CARGO_BIN_EXE_docker-dns-provision")),
            cmd,
            extra,
            env,
        )
    }

    /// [`Scratch::run`] as the user `nobody` (`setpriv`, util-linux).
    fn run_as_nobody(&self, cmd: &str, env: &[(&str, &str)]) -> Output {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_docker-dns-provision"));
        self.command(c, cmd, &[], env)
    }

    fn command(&self, mut c: Command, cmd: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        c.args([
            cmd,
            "--hostname",
            "e2e.test",
            "--records",
            &self.dir.join("records.conf").display().to_string(),
            "--lock-file",
            &self.dir.join("lock").display().to_string(),
            "--state-dir",
            &self.dir.join("state").display().to_string(),
            "--timeout",
            "1s",
        ])
        .args(extra)
        .env("DOCKER_CONFIG", self.config())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
        for var in [
            "DOCKER_HOST",
            "DOCKER_CONTEXT",
            "DOCKER_TLS_VERIFY",
            "DOCKER_TLS",
            "DOCKER_CERT_PATH",
            "DOCKER_API_VERSION",
            "DOCKER_CONTENT_TRUST",
            "DOCKER_DEFAULT_PLATFORM",
        ] {
            c.env_remove(var);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// That a `plan` went to the engine at `socket` (and found nothing there: 69).
fn tried(o: &Output, socket: &str) {
    assert_eq!(o.status.code(), Some(69), "{}", explain(o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(socket), "wanted {socket}: {}", explain(o));
}

#[test]
fn contexts_are_honoured_with_the_clis_precedence() {
    let s = Scratch::new("ctx");
    let (flag, env, ctx, current) = (
        s.socket("flag"),
        s.socket("env"),
        s.socket("ctx"),
        s.socket("current"),
    );
    s.context("ctx", &ctx);
    s.context("current", &current);
    std::fs::write(
        s.config().join("config.json"),
        r#"{"auths":{},"currentContext":"current"}"#,
    )
    .unwrap();
    let all = [("DOCKER_HOST", env.as_str()), ("DOCKER_CONTEXT", "ctx")];
    tried(&s.run("plan", &["--docker-host", &flag], &all), &flag);
    tried(&s.run("plan", &[], &all), &env);
    tried(&s.run("plan", &[], &all[1..]), &ctx);
    tried(&s.run("plan", &[], &[]), &current);
    // (`default` meaning the default endpoint is unit-tested: here it would reach the host's
    // engine, which this binary leaves alone.)
    // A context that does not exist is a configuration error, found before any wait.
    let o = s.run("plan", &[], &[("DOCKER_CONTEXT", "gone")]);
    assert_eq!(o.status.code(), Some(78), "{}", explain(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("context \"gone\""));
}

/// Settings (environment, options) and the word the refusal must hold.
type Refused<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);

#[test]
fn tls_and_what_cannot_be_honoured_are_refused_with_78() {
    let s = Scratch::new("tls");
    s.context("remote", "tcp://127.0.0.1:2375");
    let digest = docker_dns_provision::sha256::hex(b"remote");
    let tls = s.config().join("contexts/tls").join(digest).join("docker");
    let cases: [Refused; 8] = [
        (&[("DOCKER_TLS_VERIFY", "1")], &[], "TLS"),
        (&[("DOCKER_CERT_PATH", "/etc/docker/certs")], &[], "TLS"),
        (&[("DOCKER_TLS", "1")], &[], "TLS"),
        (&[("DOCKER_HOST", "tcp://127.0.0.1:2376")], &[], "TLS"),
        (&[], &["--docker-host", "https://127.0.0.1:2376"], "TLS"),
        (&[("DOCKER_CONTEXT", "remote")], &[], "TLS"),
        (&[("DOCKER_API_VERSION", "1.12")], &[], "DOCKER_API_VERSION"),
        (&[("DOCKER_CONTENT_TRUST", "1")], &[], "signatures"),
    ];
    std::fs::create_dir_all(&tls).unwrap();
    for (env, extra, why) in cases {
        for cmd in ["plan", "apply"] {
            let o = s.run(cmd, extra, env);
            assert_eq!(
                o.status.code(),
                Some(78),
                "{env:?} {extra:?}: {}",
                explain(&o)
            );
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert!(stderr.contains(why), "{env:?} {extra:?}: {}", explain(&o));
        }
    }
    // Without its TLS material the same context is used.
    std::fs::remove_dir_all(&tls).unwrap();
    let o = s.run("plan", &[], &[("DOCKER_CONTEXT", "remote")]);
    assert_eq!(o.status.code(), Some(69), "{}", explain(&o));
}

#[test]
fn the_rootless_socket_is_tried_when_not_root() {
    let s = Scratch::new("rootless");
    let run = s.dir.join("run-user");
    std::fs::create_dir_all(&run).unwrap();
    // A socket file nobody serves: the run says it tried it.
    drop(std::os::unix::net::UnixListener::bind(run.join("docker.sock")).unwrap());
    let xdg = run.display().to_string();
    let env = [("XDG_RUNTIME_DIR", xdg.as_str())];
    // As a user other than root (the tests run as root, whose engine is the system one, as
    // the unit tests show): the rootless engine's socket.
    use std::os::unix::fs::PermissionsExt;
    for p in [&s.dir, &run, &s.config()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    std::fs::set_permissions(
        s.dir.join("records.conf"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let o = s.run_as_nobody("plan", &env);
    tried(&o, &format!("unix://{xdg}/docker.sock"));
}

#[test]
fn show_prints_config_proxies_in_the_create_body() {
    let s = Scratch::new("proxies");
    let config = serde_json::json!({"proxies": {
        "default": {"httpProxy": "http://default-proxy:3128"},
        "unix:///run/podman/podman.sock": {"httpProxy": "http://podman-proxy:3128",
                                           "noProxy": "localhost"},
    }});
    std::fs::write(s.config().join("config.json"), config.to_string()).unwrap();
    let env = |o: &Output| -> Vec<String> {
        let doc: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", explain(o)));
        doc["containers"][0]["create_body"]["Env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let o = s.run("show", &["--output", "json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    assert_eq!(
        env(&o),
        [
            "A=b",
            "HTTP_PROXY=http://default-proxy:3128",
            "http_proxy=http://default-proxy:3128"
        ]
    );
    let podman = [("DOCKER_HOST", "unix:///run/podman/podman.sock")];
    let o = s.run("show", &["--output", "json"], &podman);
    assert_eq!(
        env(&o),
        [
            "A=b",
            "HTTP_PROXY=http://podman-proxy:3128",
            "http_proxy=http://podman-proxy:3128",
            "NO_PROXY=localhost",
            "no_proxy=localhost"
        ]
    );
    let o = s.run("show", &[], &podman);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("http_proxy=http://podman-proxy:3128"),
        "{}",
        explain(&o)
    );
}
