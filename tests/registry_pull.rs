//! Pulls from a real registry (Debian's docker-registry on loopback, with and without htpasswd
//! authentication) by the real binary through the real engine: credentials from `auths`, from a
//! credential helper, none or wrong ones; `--pull always` on a moved tag; a digest-pinned image;
//! a registry that is down; and no secret in the logs at trace level.
//!
//! Every image the tool runs here was pushed to the registry and its local name removed, so
//! each pull is a real one. The tool never sees the host's ~/.docker: HOME is a scratch dir.

mod common;

use common::binary::text;
use common::e2e::{IMG, IMG2, Managed, code, docker, inspect_image_id, service, show};
use common::registry::{PASSWORD, Registry, USER, login_auth};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// One test's world: its managed containers, a scratch dir (HOME, records, lock, configs).
struct World {
    dir: PathBuf,
    managed: Managed,
}

impl World {
    fn new(tag: &str) -> World {
        let managed = Managed::new(format!("reg-{tag}"));
        let dir = std::env::temp_dir().join(format!("ddp-reg-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("home")).unwrap();
        World { dir, managed }
    }

    fn name(&self, n: &str) -> String {
        self.managed.name(n)
    }

    /// Records listing one container `n` run by `text`.
    fn records(&self, n: &str, text: &str) {
        let s = format!(
            "txt-record=containers.docker.reg.test,{0}\n\
             txt-record={0}.containers.docker.reg.test,\"{1}\"\n",
            self.name(n),
            text.replace('"', "\\\"")
        );
        std::fs::write(self.dir.join("records.conf"), s).unwrap();
    }

    /// A docker config directory `name` with this config.json.
    fn config(&self, name: &str, json: &serde_json::Value) -> PathBuf {
        let d = self.dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("config.json"), json.to_string()).unwrap();
        d
    }

    /// `apply` with these extra arguments and environment variables.
    fn apply(&self, extra: &[&str], env: &[(&str, String)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"));
        c.arg("apply")
            .args(["--hostname", "reg.test", "--timeout", "60s"])
            .arg("--records")
            .arg(self.dir.join("records.conf"))
            .arg("--lock-file")
            .arg(self.dir.join("lock"))
            .args(extra)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONFIG")
            .env("HOME", self.dir.join("home"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `config.json` with an `auths` entry for the registry.
fn auths(reg: &Registry, user: &str, password: &str) -> serde_json::Value {
    let auth = login_auth(user, password);
    serde_json::json!({"auths": {reg.host.clone(): {"auth": auth}}})
}

fn image_id(image: &str) -> String {
    let o = docker(&["image", "inspect", "--format", "{{.Id}}", image]);
    assert!(o.status.success(), "no image {image}");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn anonymous_pull_from_an_open_registry() {
    let reg = Registry::start(false);
    let w = World::new("anon");
    let image = reg.push(IMG, "ddp/busybox:anon");
    assert!(!docker(&["image", "inspect", &image]).status.success());
    w.records("a", &service(&image, "anon"));
    let o = w.apply(&[], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(text(&o).contains("anonymously"), "{}", show(&o));
    let (_, running, img) = inspect_image_id(&w.name("a")).expect("created");
    assert!(running);
    assert_eq!(img, image_id(&image));
}

#[test]
fn pull_with_auths_and_no_secret_in_trace_logs() {
    let reg = Registry::start(true);
    let w = World::new("auths");
    let image = reg.push(IMG, "ddp/busybox:auths");
    w.records("a", &service(&image, "auths"));
    let dir = w.config("docker", &auths(&reg, USER, PASSWORD));
    let o = w.apply(
        &[
            "--docker-config",
            dir.to_str().unwrap(),
            "--log-level",
            "trace",
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", show(&o));
    let all = text(&o);
    assert!(all.contains(&format!("user \"{USER}\"")), "{}", show(&o));
    assert!(
        all.contains("docker: pull"),
        "trace logging did not run: {}",
        show(&o)
    );
    let encoded = login_auth(USER, PASSWORD);
    for secret in [
        PASSWORD,
        encoded.as_str(),
        "x-registry-auth",
        "X-Registry-Auth",
    ] {
        assert!(
            !all.contains(secret),
            "{secret} in the output: {}",
            show(&o)
        );
    }
    assert!(inspect_image_id(&w.name("a")).expect("created").1);
}

#[test]
fn pull_with_a_credential_helper_on_path() {
    let reg = Registry::start(true);
    let w = World::new("helper");
    let image = reg.push(IMG, "ddp/busybox:helper");
    w.records("a", &service(&image, "helper"));
    let bin = w.dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let asked = w.dir.join("asked");
    let helper = bin.join("docker-credential-ddptest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\ncat >{asked}\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$(cat {asked})\"\n",
            asked = asked.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Found through $DOCKER_CONFIG, as the CLI finds it.
    let dir = w.config(
        "docker",
        &serde_json::json!({"credHelpers": {reg.host.clone(): "ddptest"}}),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = w.apply(
        &["--log-level", "trace"],
        &[("PATH", path), ("DOCKER_CONFIG", dir.display().to_string())],
    );
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(std::fs::read_to_string(&asked).unwrap(), reg.host);
    assert!(
        text(&o).contains("docker-credential-ddptest"),
        "{}",
        show(&o)
    );
    assert!(!text(&o).contains(PASSWORD), "{}", show(&o));
    assert!(inspect_image_id(&w.name("a")).expect("created").1);

    // A helper named but missing: that container fails, clearly.
    let image2 = reg.push(IMG2, "ddp/busybox:helper2");
    w.records("a", &service(&image2, "helper2"));
    let dir = w.config(
        "missing",
        &serde_json::json!({"credHelpers": {reg.host.clone(): "ddp-no-such-helper"}}),
    );
    let o = w.apply(&["--docker-config", dir.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert!(
        text(&o).contains("docker-credential-ddp-no-such-helper not found"),
        "{}",
        show(&o)
    );
}

#[test]
fn wrong_or_no_credentials_fail_73_and_keep_the_old_container() {
    let reg = Registry::start(true);
    let w = World::new("denied");
    let v1 = reg.push(IMG, "ddp/busybox:one");
    let good = w.config("good", &auths(&reg, USER, PASSWORD));
    w.records("a", &service(&v1, "one"));
    let o = w.apply(&["--docker-config", good.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (old_id, running, _) = inspect_image_id(&w.name("a")).unwrap();
    assert!(running);

    // The record moves to an image not present locally: the replace needs a pull.
    let v2 = reg.push(IMG2, "ddp/busybox:two");
    w.records("a", &service(&v2, "two"));
    let wrong = w.config("wrong", &auths(&reg, USER, "not-the-password"));
    let none = w.config("none", &serde_json::json!({}));
    for (dir, says) in [
        (&wrong, "rejected the credentials"),
        (&none, "asks for credentials"),
    ] {
        let o = w.apply(&["--docker-config", dir.to_str().unwrap()], &[]);
        assert_eq!(code(&o), 73, "{}", show(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains(says), "{says}: {}", show(&o));
        assert!(
            stdout.contains(&format!("registry {}", reg.host)) && stdout.contains(&v2),
            "{}",
            show(&o)
        );
        assert!(stdout.contains("fix the credentials"), "{}", show(&o));
        assert!(!text(&o).contains("not-the-password"), "{}", show(&o));
        let (id, running, _) = inspect_image_id(&w.name("a")).expect("old container gone");
        assert_eq!(
            (id.as_str(), running),
            (old_id.as_str(), true),
            "{}",
            show(&o)
        );
    }
    // The CLI's login into a config directory of our own is as good.
    let o = w.apply(&["--docker-config", good.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
}

#[test]
fn a_moved_tag_replaces_with_pull_always_not_with_missing() {
    let reg = Registry::start(true);
    let w = World::new("moved");
    let cfg = w.config("docker", &auths(&reg, USER, PASSWORD));
    let cfg = cfg.to_str().unwrap();
    let image = reg.push(IMG, "ddp/busybox:app");
    w.records("a", &service(&image, "app"));
    let o = w.apply(&["--docker-config", cfg], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (first, _, img) = inspect_image_id(&w.name("a")).unwrap();
    assert_eq!(img, image_id(IMG));

    // The tag now names the second image.
    reg.push(IMG2, "ddp/busybox:app");
    let o = w.apply(&["--docker-config", cfg, "--pull", "missing"], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(
        inspect_image_id(&w.name("a")).unwrap().0,
        first,
        "missing: {}",
        show(&o)
    );

    let o = w.apply(&["--docker-config", cfg, "--pull", "always"], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("image updated"),
        "{}",
        show(&o)
    );
    let (fourth, running, img) = inspect_image_id(&w.name("a")).unwrap();
    assert!(running && fourth != first, "{}", show(&o));
    assert_eq!(img, image_id(IMG2), "{}", show(&o));

    // Nothing moved since: always pulls, finds the same image, keeps the container.
    let o = w.apply(&["--docker-config", cfg, "--pull", "always"], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(
        inspect_image_id(&w.name("a")).unwrap().0,
        fourth,
        "{}",
        show(&o)
    );

    // The record's own --pull wins over the tool-wide one.
    reg.push(IMG, "ddp/busybox:app");
    w.records("a", &format!("--pull missing {}", service(&image, "app")));
    let o = w.apply(&["--docker-config", cfg], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (fifth, _, img) = inspect_image_id(&w.name("a")).unwrap();
    assert_eq!(img, image_id(IMG), "{}", show(&o));
    reg.push(IMG2, "ddp/busybox:app");
    let o = w.apply(&["--docker-config", cfg, "--pull", "always"], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (sixth, _, img) = inspect_image_id(&w.name("a")).unwrap();
    assert_eq!((sixth, img), (fifth, image_id(IMG)), "{}", show(&o));
}

#[test]
fn a_digest_pinned_image_is_not_pulled_again_once_present() {
    let mut reg = Registry::start(false);
    let w = World::new("pinned");
    let tagged = reg.image("ddp/busybox:pin");
    docker(&["tag", IMG, &tagged]);
    assert!(reg.cli(&["push", &tagged]).status.success());
    let pinned = reg.pinned("ddp/busybox:pin");
    reg.forget(&tagged);
    reg.forget(&pinned);
    w.records("a", &format!("--pull always {}", service(&pinned, "pin")));
    let o = w.apply(&[], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (id, running, _) = inspect_image_id(&w.name("a")).unwrap();
    assert!(running);
    // With the registry gone, a pull would fail: there is none.
    reg.stop();
    let o = w.apply(&[], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(inspect_image_id(&w.name("a")).unwrap().0, id);
    assert!(!text(&o).contains("pulling"), "{}", show(&o));
}

#[test]
fn a_registry_that_is_down_is_temporary_and_the_old_container_keeps_running() {
    let mut reg = Registry::start(true);
    let w = World::new("down");
    let cfg = w.config("docker", &auths(&reg, USER, PASSWORD));
    let cfg = cfg.to_str().unwrap();
    let image = reg.push(IMG, "ddp/busybox:down");
    w.records("a", &service(&image, "down"));
    let o = w.apply(&["--docker-config", cfg, "--pull", "always"], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (id, _, _) = inspect_image_id(&w.name("a")).unwrap();
    reg.stop();
    let o = w.apply(&["--docker-config", cfg, "--pull", "always"], &[]);
    assert_eq!(code(&o), 73, "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(&format!("registry {} unreachable", reg.host))
            && stdout.contains("temporary"),
        "{}",
        show(&o)
    );
    let (now, running, _) = inspect_image_id(&w.name("a")).unwrap();
    assert_eq!((now, running), (id, true), "{}", show(&o));
}

/// Relays tcp connections to `target`, sending the replies on at most `rate` bytes a second:
/// a slow registry, for a pull long enough to report progress. Runs until the process ends.
fn throttled_relay(target: u16, rate: usize) -> u16 {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
                let _ = s_out.shutdown(std::net::Shutdown::Write);
            });
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                let mut buf = vec![0u8; rate / 10];
                loop {
                    match s_in.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if c_out.write_all(&buf[..n]).is_err() {
                                break;
                            }
                            std::thread::sleep(std::time::Duration::from_millis(100));
                        }
                    }
                }
                let _ = c_out.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

/// Removes a local image name when the test ends, however it ends.
struct LocalImage(String);

impl Drop for LocalImage {
    fn drop(&mut self) {
        let _ = docker(&["image", "rm", "-f", &self.0]);
    }
}

#[test]
fn a_long_pull_logs_progress_at_info() {
    let reg = Registry::start(false);
    let w = World::new("progress");
    // An image with a layer of its own (random bytes do not compress), so the engine has to
    // download it: busybox for the service's shell, and 1.5 MB of noise.
    let root = w.dir.join("rootfs");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in ["sh", "sleep", "true"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    let mut noise = vec![0u8; 1_500_000];
    let mut urandom = std::fs::File::open("/dev/urandom").unwrap();
    std::io::Read::read_exact(&mut urandom, &mut noise).unwrap();
    std::fs::write(root.join("noise"), noise).unwrap();
    let local = LocalImage(format!("ddp-test/progress:{}", std::process::id()));
    let import = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "tar -C {} -c . | docker import -c 'ENV PATH=/bin' - {}",
            root.display(),
            local.0
        ))
        .output()
        .unwrap();
    assert!(import.status.success(), "{import:?}");
    reg.push(&local.0, "ddp/progress:1");
    // Gone with its last name, layers and all: the pull has to download them.
    drop(local);
    let port = reg.host.rsplit(':').next().unwrap().parse().unwrap();
    // About 2 MB at 150 kB/s: over 10 s, two progress lines at least.
    let relay = throttled_relay(port, 150_000);
    let slow = LocalImage(format!("127.0.0.1:{relay}/ddp/progress:1"));
    w.records("a", &service(&slow.0, "progress"));
    let o = w.apply(&[], &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("INFO") && l.contains(&format!("pulling {}: ", slow.0)))
        .collect();
    assert!(!progress.is_empty(), "no progress at info: {}", show(&o));
    assert!(
        progress
            .iter()
            .any(|l| l.contains("layers done") && l.contains("MB of")),
        "{progress:?}"
    );
    let _ = docker(&["rm", "-f", &w.name("a")]);
}
