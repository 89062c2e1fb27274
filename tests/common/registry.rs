//! A real registry (Debian's docker-registry, distribution v2) on a free loopback port, with
//! htpasswd authentication or none, killed on drop together with the image tags pushed to it.
//! Pushing uses the docker CLI with a config directory of its own, never the host's ~/.docker.
//! It logs at info, so [`Registry::log`] shows each request it authorized (with credentials).
//! The binaries come from tests/kit/registry.sh, which this runs when they are missing.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::e2e::docker;
use super::ports::{free_port, scratch_dir};

/// The user every authenticated test registry knows.
pub const USER: &str = "ddp-user";
/// That user's password: tests look for it in logs, so it is unlike any other text.
pub const PASSWORD: &str = "s3cret-Pa55word-7c1d";

/// A running registry.
pub struct Registry {
    /// `127.0.0.1:PORT`, the registry part of image names.
    pub host: String,
    /// Whether it asks for [`USER`] and [`PASSWORD`].
    pub auth: bool,
    child: Option<Child>,
    dir: PathBuf,
    config: PathBuf,
    port: u16,
}

impl Registry {
    /// Start a registry, with htpasswd authentication when `auth`. Panics with its output when
    /// it does not come up.
    pub fn start(auth: bool) -> Registry {
        ensure_installed();
        let dir = scratch_dir("registry");
        let data = dir.join("data");
        std::fs::create_dir_all(&data).expect("registry data dir");
        let mut auth_section = String::new();
        if auth {
            let htpasswd = dir.join("htpasswd");
            let out = Command::new("htpasswd")
                .args(["-Bbn", USER, PASSWORD])
                .output()
                .expect("run htpasswd");
            assert!(out.status.success(), "htpasswd failed: {out:?}");
            std::fs::write(&htpasswd, &out.stdout).expect("write htpasswd");
            auth_section = format!(
                "auth:\n  htpasswd:\n    realm: ddp-test\n    path: {}\n",
                htpasswd.display()
            );
        }
        let mut last_log = String::new();
        // A port free when picked may be taken before the registry binds it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let config = dir.join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\n\
                     storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                     http:\n  addr: 127.0.0.1:{port}\n{auth_section}",
                    data.display()
                ),
            )
            .expect("write config.yml");
            let log = dir.join("registry.log");
            let child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("registry log"))
                .spawn()
                .expect("spawn docker-registry");
            let mut r = Registry {
                host: format!("127.0.0.1:{port}"),
                auth,
                child: Some(child),
                config: dir.join("docker-cli"),
                dir: dir.clone(),
                port,
            };
            if r.wait_until_answering() {
                r.login();
                return r;
            }
            r.kill();
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("docker-registry did not start; its output:\n{last_log}");
    }

    fn wait_until_answering(&mut self) -> bool {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let until = Instant::now() + Duration::from_secs(15);
        while Instant::now() < until {
            if let Some(c) = &mut self.child
                && matches!(c.try_wait(), Ok(Some(_)))
            {
                return false;
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Log the pushing CLI in, in a config directory of its own.
    fn login(&self) {
        std::fs::create_dir_all(&self.config).expect("docker cli config dir");
        if !self.auth {
            return;
        }
        let mut child = Command::new("docker")
            .arg("--config")
            .arg(&self.config)
            .args(["login", &self.host, "-u", USER, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn docker login");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(PASSWORD.as_bytes())
            .expect("write password");
        let out = child.wait_with_output().expect("docker login");
        assert!(out.status.success(), "docker login failed: {out:?}");
    }

    /// What the registry logged so far: at info, an `authorized request` line for every request
    /// that carried valid credentials (method, URI, repository), a warning for every refusal.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default()
    }

    /// The `auth` value `docker login` writes into config.json for [`USER`].
    pub fn login_auth(&self) -> String {
        login_auth(USER, PASSWORD)
    }

    /// The full name of `repo_tag` (e.g. `ddp/busybox:app`) in this registry.
    pub fn image(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.host)
    }

    /// Push the local image `local` as `repo_tag` here, then drop the local copy of that
    /// name, so the next use of it is a real pull. Returns the full name.
    pub fn push(&self, local: &str, repo_tag: &str) -> String {
        let name = self.image(repo_tag);
        must(docker(&["tag", local, &name]), "docker tag");
        must(self.cli(&["push", &name]), "docker push");
        self.forget(&name);
        name
    }

    /// The digest the registry gives `repo_tag` (after a push), as `repo@sha256:…`.
    pub fn pinned(&self, repo_tag: &str) -> String {
        let name = self.image(repo_tag);
        let out = must(
            docker(&[
                "image",
                "inspect",
                "--format",
                "{{json .RepoDigests}}",
                &name,
            ]),
            "docker image inspect",
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let repo = name.rsplit_once(':').map_or(name.as_str(), |(r, _)| r);
        let digests: Vec<String> = serde_json::from_str(text.trim()).expect("RepoDigests");
        digests
            .into_iter()
            .find(|d| d.starts_with(&format!("{repo}@")))
            .unwrap_or_else(|| panic!("no digest of {repo} in {text}"))
    }

    /// Remove the local tag `name` (never the image other tags still name).
    pub fn forget(&self, name: &str) {
        let _ = docker(&["image", "rm", name]);
    }

    /// The docker CLI with this registry's own config directory.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .expect("run docker")
    }

    /// Stop the registry (to test an unreachable one); the port stays ours to name.
    pub fn stop(&mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every local image tag in this registry's name space.
    fn local_tags(&self) -> Vec<String> {
        let out = docker(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with(&format!("{}/", self.host)))
            .map(String::from)
            .collect()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
        for tag in self.local_tags() {
            self.forget(&tag);
        }
        // Digest-only references (pulled by digest) have no tag to remove by.
        let out = docker(&[
            "image",
            "ls",
            "--digests",
            "--format",
            "{{.Repository}}@{{.Digest}}",
        ]);
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if line.starts_with(&format!("{}/", self.host)) && !line.ends_with("@<none>") {
                self.forget(line);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `auth` value `docker login` writes into config.json: base64 of `user:password`,
/// standard alphabet, padded. The tests' own codec, not the tool's, so that a config the tool
/// misreads cannot pass for a right one.
pub fn login_auth(user: &str, password: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = format!("{user}:{password}");
    let mut out = String::new();
    for chunk in data.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                A[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

fn must(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Install the registry and htpasswd through the kit when either is missing.
fn ensure_installed() {
    let have = |p: &str| Path::new(p).is_file();
    if have("/usr/bin/docker-registry") && have("/usr/bin/htpasswd") {
        return;
    }
    let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kit/registry.sh");
    let status = Command::new("bash").arg(kit).status().expect("run bash");
    assert!(status.success(), "tests/kit/registry.sh failed");
}
