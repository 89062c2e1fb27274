//! Issue 25 §1: Podman as a supported engine. The real binary against Debian's podman serving
//! its Docker-compatible API on a private socket (tests/common/podman.rs): create and the
//! two-call no-op (once through a docker context naming it), replace with verification and
//! rollback, removal and its order (an unmanaged container in a managed one's network
//! namespace included, which only an inspect shows on Podman), crash repair, a pull from the
//! authenticated test registry, and a container whose healthcheck never passes, which is
//! never "up" (Podman runs no healthchecks without systemd as PID 1: it stays `starting`).
//!
//! One Podman service for the whole binary, one scenario after another: every run of the
//! tool removes the managed containers it is not told about. Tests on this machine that use
//! Podman take [`LOCK`]; tests/run also holds the Docker engine lock (images are copied
//! from the host engine, read-only).

mod common;

use common::e2e::{IMG, IMG2, code, ensure_v2, show};
use common::images::ensure_busybox;
use common::podman::{LOCK, Podman};
use common::registry::{PASSWORD, Registry, USER, login_auth};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A service that stops promptly on SIGTERM, varied by `tag`.
fn service(img: &str, tag: &str) -> String {
    common::e2e::service(img, tag)
}

const SLEEPER: &str = "sh -c 'trap \"exit 0\" TERM; while sleep 1; do :; done'";

/// The world of the scenarios: the Podman service, the registry it may pull from, and a
/// scratch directory with the records, lock, state and docker config.
struct World {
    podman: Podman,
    registry: Registry,
    dir: PathBuf,
}

impl World {
    fn new() -> World {
        ensure_busybox();
        ensure_v2();
        let registry = Registry::start(true);
        let podman = Podman::start_with_insecure(&[&registry.host]);
        podman.load(&[IMG, IMG2]);
        let dir = std::env::temp_dir().join(format!("ddp-podman-e2e-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docker")).unwrap();
        World {
            podman,
            registry,
            dir,
        }
    }

    /// Records listing `(name, text)`.
    fn records(&self, containers: &[(&str, &str)]) {
        let mut s = String::new();
        for (n, _) in containers {
            s += &format!("txt-record=containers.docker.pm.test,{n}\n");
        }
        for (n, t) in containers {
            s += &format!(
                "txt-record={n}.containers.docker.pm.test,\"{}\"\n",
                t.replace('"', "\\\"")
            );
        }
        std::fs::write(self.dir.join("records.conf"), s).unwrap();
    }

    /// `apply` against Podman (`--docker-host`), with `extra` arguments and `env`.
    fn apply_with(&self, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"));
        c.args(["apply", "--hostname", "pm.test", "--settle", "1s"])
            .arg("--records")
            .arg(self.dir.join("records.conf"))
            .arg("--lock-file")
            .arg(self.dir.join("lock"))
            .arg("--state-dir")
            .arg(self.dir.join("state"))
            .args(extra)
            .env("DOCKER_CONFIG", self.dir.join("docker"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null());
        for var in ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_API_VERSION"] {
            c.env_remove(var);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn apply(&self) -> Output {
        self.apply_with(
            &["--docker-host", &self.podman.host(), "--timeout", "20s"],
            &[],
        )
    }

    /// A container's (ID, running) on Podman.
    fn inspect(&self, name: &str) -> Option<(String, bool)> {
        let o = self.podman.cli(&[
            "inspect",
            "--type",
            "container",
            "--format",
            "{{.Id}} {{.State.Running}}",
            name,
        ]);
        if !o.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&o.stdout);
        let (id, running) = text.trim().split_once(' ')?;
        Some((id.to_string(), running == "true"))
    }

    /// The names of all containers on Podman, sorted.
    fn names(&self) -> Vec<String> {
        let o = self.podman.cli(&["ps", "-a", "--format", "{{.Names}}"]);
        let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    }

    fn podman(&self, args: &[&str]) {
        let o = self.podman.cli(args);
        assert!(o.status.success(), "podman {args:?}: {o:?}");
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The run's engine-call count, from its summary line.
fn calls(o: &Output) -> usize {
    let stderr = String::from_utf8_lossy(&o.stderr);
    stderr
        .split("engine calls: ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no engine call count: {}", show(o)))
}

/// One scenario against the shared world.
type Scenario = fn(&World);

#[test]
fn podman_is_a_supported_engine() {
    let lock = std::fs::File::create(LOCK).expect("podman test lock");
    // SAFETY: flock on a descriptor this function owns; waits for other Podman tests.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    let w = World::new();
    let scenarios: [(&str, Scenario); 6] = [
        ("create and the no-op", create_and_noop),
        (
            "replace and rollback",
            replace_with_verification_and_rollback,
        ),
        ("removal order", removals_go_after_what_uses_them),
        ("crash repair", an_interrupted_replace_is_repaired),
        ("authenticated pull", pull_from_the_authenticated_registry),
        ("never healthy", a_never_healthy_container_is_never_up),
    ];
    for (name, scenario) in scenarios {
        eprintln!("podman scenario: {name}");
        scenario(&w);
        // Each scenario starts from an engine without containers.
        w.podman(&["rm", "-f", "-a", "-t", "0"]);
    }
}

/// Create, then a no-op of two engine calls; the no-op once more through a docker context
/// (`DOCKER_CONTEXT`) naming the Podman socket.
fn create_and_noop(w: &World) {
    w.records(&[("pa", &service(IMG, "a")), ("pb", &service(IMG, "b"))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let a = w.inspect("pa").expect("pa created");
    let b = w.inspect("pb").expect("pb created");
    assert!(a.1 && b.1, "both run: {}", show(&o));

    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(calls(&o), 2, "{}", show(&o));
    assert_eq!(w.inspect("pa"), Some(a.clone()));
    assert_eq!(w.inspect("pb"), Some(b.clone()));

    let digest = docker_dns_provision::sha256::hex(b"podman-test");
    let meta = w.dir.join("docker/contexts/meta").join(digest);
    std::fs::create_dir_all(&meta).unwrap();
    let doc = serde_json::json!({"Name": "podman-test", "Metadata": {},
        "Endpoints": {"docker": {"Host": w.podman.host(), "SkipTLSVerify": false}}});
    std::fs::write(meta.join("meta.json"), doc.to_string()).unwrap();
    let o = w.apply_with(&["--timeout", "20s"], &[("DOCKER_CONTEXT", "podman-test")]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(calls(&o), 2, "{}", show(&o));
    assert_eq!(w.inspect("pa"), Some(a));
    std::fs::remove_dir_all(w.dir.join("docker/contexts")).unwrap();
}

/// A changed record replaces its container once the new one is verified up; a replacement
/// that exits is rolled back (the old one runs again, the failed one kept aside) and then
/// held back.
fn replace_with_verification_and_rollback(w: &World) {
    w.records(&[("svc", &service(IMG, "v1"))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (v1, _) = w.inspect("svc").unwrap();

    w.records(&[("svc", &service(IMG2, "v2"))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (v2, running) = w.inspect("svc").unwrap();
    assert!(running && v2 != v1, "replaced: {}", show(&o));
    assert_eq!(w.names(), ["svc"], "no temporaries: {}", show(&o));

    w.records(&[(
        "svc",
        &format!("--network none {IMG} sh -c 'echo broken-output; exit 3'"),
    )]);
    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert_eq!(w.inspect("svc"), Some((v2.clone(), true)), "{}", show(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("exited with status 3"), "{}", show(&o));
    assert!(report.contains("broken-output"), "{}", show(&o));
    let (_, failed_running) = w.inspect("svc.ddp-failed").expect("kept aside");
    assert!(!failed_running);

    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("held-back"),
        "{}",
        show(&o)
    );
    assert_eq!(w.inspect("svc"), Some((v2, true)), "{}", show(&o));
}

/// Removals run in reverse order (what uses a container goes first), and a container that an
/// unmanaged one runs in (its network namespace: no list of Podman's says so) stays.
fn removals_go_after_what_uses_them(w: &World) {
    let b_text = format!("--network container:ra {IMG} {SLEEPER}");
    let c_text = format!("--network none --label docker-dns-provision.after=rb {IMG} {SLEEPER}");
    w.records(&[
        ("ra", &service(IMG, "a")),
        ("rb", &b_text),
        ("rc", &c_text),
        ("rd", &service(IMG, "d")),
    ]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    // Not ours: it runs in rd's network namespace.
    w.podman(&[
        "run",
        "-d",
        "--name",
        "ru",
        "--network",
        "container:rd",
        IMG,
        "sleep",
        "3600",
    ]);

    w.records(&[("re", &service(IMG, "e"))]);
    let o = w.apply_with(
        &[
            "--docker-host",
            &w.podman.host(),
            "--timeout",
            "20s",
            "--jobs",
            "4",
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", show(&o));
    let events = w.podman.cli(&[
        "events",
        "--stream=false",
        "--filter",
        "event=remove",
        "--format",
        "{{.Name}}",
    ]);
    let removed: Vec<String> = String::from_utf8_lossy(&events.stdout)
        .lines()
        .map(str::to_string)
        .filter(|n| ["ra", "rb", "rc"].contains(&n.as_str()))
        .collect();
    assert_eq!(removed, ["rc", "rb", "ra"], "{events:?}\n{}", show(&o));
    assert!(
        w.inspect("rd").unwrap().1,
        "rd is still used by ru: {}",
        show(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("ru uses it"),
        "{}",
        show(&o)
    );

    // Once nothing uses it, it goes.
    w.podman(&["rm", "-f", "-t", "0", "ru"]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(w.inspect("rd").is_none(), "{}", show(&o));
    assert!(w.inspect("re").unwrap().1, "{}", show(&o));
}

/// A replace interrupted after the old container was stopped and renamed aside: the next
/// run puts it back, with DNS unavailable (no list: 66) as with it.
fn an_interrupted_replace_is_repaired(w: &World) {
    w.records(&[("crashed", &service(IMG, "v1"))]);
    let crash = || {
        let o = w.apply();
        assert_eq!(code(&o), 0, "{}", show(&o));
        let (id, _) = w.inspect("crashed").unwrap();
        w.podman(&["stop", "-t", "5", "crashed"]);
        w.podman(&["rename", "crashed", "crashed.ddp-old"]);
        id
    };
    let id = crash();
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(w.inspect("crashed"), Some((id, true)), "{}", show(&o));
    assert!(w.inspect("crashed.ddp-old").is_none(), "{}", show(&o));

    let id = crash();
    std::fs::write(w.dir.join("records.conf"), "txt-record=other.example,x\n").unwrap();
    let o = w.apply();
    assert_eq!(code(&o), 66, "{}", show(&o));
    assert_eq!(w.inspect("crashed"), Some((id, true)), "{}", show(&o));
    assert!(w.inspect("crashed.ddp-old").is_none(), "{}", show(&o));
}

/// An image pushed to the authenticated test registry is pulled by Podman with the
/// credentials of config.json's `auths`; without them the pull fails and nothing is created.
fn pull_from_the_authenticated_registry(w: &World) {
    let image = w.registry.image("ddp/busybox:podman");
    w.podman(&["tag", &format!("docker.io/{IMG}"), &image]);
    w.podman(&[
        "push",
        "--tls-verify=false",
        "--creds",
        &format!("{USER}:{PASSWORD}"),
        &image,
    ]);
    w.podman(&["rmi", &image]);
    w.records(&[("pulled", &service(&image, "pulled"))]);

    let o = w.apply();
    assert_eq!(code(&o), 73, "no credentials: {}", show(&o));
    assert!(w.inspect("pulled").is_none(), "{}", show(&o));

    let config = serde_json::json!({"auths": {w.registry.host.clone(): {
        "auth": login_auth(USER, PASSWORD)}}});
    let config_path = w.dir.join("docker/config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let o = w.apply();
    std::fs::remove_file(&config_path).unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("user \"{USER}\"")),
        "{}",
        show(&o)
    );
    assert!(w.inspect("pulled").expect("created").1, "{}", show(&o));
    let o = w.podman.cli(&["image", "exists", &image]);
    assert!(o.status.success(), "the image was pulled into Podman");
}

/// A container whose healthcheck never passes fails verification when created, and is not
/// kept as up on the next run either: Podman's list reports its health (`starting`).
fn a_never_healthy_container_is_never_up(w: &World) {
    let text = format!("--network none --health-cmd false --health-interval 1s {IMG} {SLEEPER}");
    w.records(&[("sick", &text), ("fine", &service(IMG, "fine"))]);
    let run = || w.apply_with(&["--docker-host", &w.podman.host(), "--timeout", "5s"], &[]);
    let o = run();
    assert_eq!(code(&o), 73, "{}", show(&o));
    for _ in 0..2 {
        let o = run();
        assert_eq!(code(&o), 73, "never up: {}", show(&o));
        let report = String::from_utf8_lossy(&o.stdout);
        assert!(
            report
                .lines()
                .any(|l| l.contains("sick") && l.contains("FAILED")),
            "{}",
            show(&o)
        );
        assert!(w.inspect("fine").unwrap().1);
    }
}
