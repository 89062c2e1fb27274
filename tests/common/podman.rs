//! A real Podman (Debian's `podman`, from tests/kit/podman.sh) serving its Docker-compatible
//! API on a private socket, with private storage (vfs) and runtime directories in a scratch
//! directory, and only containers without a network (`--network none`), so the host's Docker
//! engine, its networks and its iptables rules are never touched. Stopped on drop, with every
//! container it ran. Its `CONTAINERS_CONF` lowers the rlimits Podman gives containers by
//! default (nofile and nproc at the hard maximum), which this machine kind refuses.
//!
//! ```ignore
//! let podman = Podman::start();                   // the service, up
//! podman.load(&["ddp-test/busybox:latest"]);      // images from the host engine
//! tool(&["apply", "--docker-host", &podman.host(), …]);
//! ```

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::ports::scratch_dir;

/// The lock that serializes tests using Podman on this machine.
pub const LOCK: &str = "/run/lock/ddp-podman-tests.lock";

/// A running Podman service.
pub struct Podman {
    /// The scratch directory: storage, runtime state, configuration, the socket.
    pub dir: PathBuf,
    /// The service's socket.
    pub socket: PathBuf,
    child: Option<Child>,
}

impl Podman {
    /// Start a service that trusts no plain-HTTP registry.
    pub fn start() -> Podman {
        Podman::start_with_insecure(&[])
    }

    /// Start a service that may pull from these registries (`127.0.0.1:PORT`) over plain
    /// HTTP, as the test registries serve. Panics with the service's output when it does not
    /// answer `/_ping` within 30 s.
    pub fn start_with_insecure(registries: &[&str]) -> Podman {
        ensure_installed();
        let dir = scratch_dir("podman");
        let conf = format!(
            "[containers]\n\
             default_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n\
             [engine]\n\
             cgroup_manager = \"cgroupfs\"\n\
             events_logger = \"file\"\n\
             events_logfile_path = \"{0}/events.log\"\n\
             tmp_dir = \"{0}/tmp\"\n\
             [network]\n\
             network_config_dir = \"{0}/cni\"\n",
            dir.display()
        );
        std::fs::write(dir.join("containers.conf"), conf).expect("containers.conf");
        let mut registries_conf = String::from("unqualified-search-registries = []\n");
        for r in registries {
            registries_conf += &format!("[[registry]]\nlocation = \"{r}\"\ninsecure = true\n");
        }
        std::fs::write(dir.join("registries.conf"), registries_conf).expect("registries.conf");
        let socket = dir.join("podman.sock");
        let log = std::fs::File::create(dir.join("service.log")).expect("service log");
        let mut cmd = Podman::command_in(&dir);
        cmd.args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        let child = cmd.spawn().expect("start podman system service");
        let podman = Podman {
            dir,
            socket,
            child: Some(child),
        };
        podman.wait_up();
        podman
    }

    /// The engine URL for `--docker-host` or `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The podman CLI on this service's storage.
    pub fn cli(&self, args: &[&str]) -> Output {
        Podman::command_in(&self.dir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run podman")
    }

    /// Copy these images from the host's Docker engine (`docker save | podman load`) under
    /// the names the Docker engine has for them (`docker.io/…`, not `localhost/…`).
    pub fn load(&self, images: &[&str]) {
        let tar = self.dir.join("images.tar");
        let o = Command::new("docker")
            .args(["save", "-o"])
            .arg(&tar)
            .args(images)
            .output()
            .expect("docker save");
        assert!(o.status.success(), "docker save: {o:?}");
        must(
            self.cli(&["load", "-q", "-i", &tar.display().to_string()]),
            "podman load",
        );
        let _ = std::fs::remove_file(&tar);
        for image in images {
            must(
                self.cli(&[
                    "tag",
                    &format!("localhost/{image}"),
                    &format!("docker.io/{image}"),
                ]),
                "podman tag",
            );
        }
    }

    /// The service's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("service.log")).unwrap_or_default()
    }

    /// Podman with this scratch directory's storage, runtime state and configuration.
    fn command_in(dir: &Path) -> Command {
        let mut c = Command::new("podman");
        c.arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .args(["--storage-driver", "vfs"])
            .env("CONTAINERS_CONF", dir.join("containers.conf"))
            .env("CONTAINERS_REGISTRIES_CONF", dir.join("registries.conf"))
            .env_remove("CONTAINER_HOST")
            .env_remove("DOCKER_HOST");
        c
    }

    fn wait_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(mut s) = std::os::unix::net::UnixStream::connect(&self.socket) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.write_all(b"GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n");
                let mut reply = String::new();
                let _ = s.read_to_string(&mut reply);
                if reply.starts_with("HTTP/1.") && reply.contains(" 200 ") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("podman service did not come up:\n{}", self.log());
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.cli(&["rm", "-f", "-a", "-t", "0"]);
        if let Some(mut child) = self.child.take() {
            // SIGTERM, so the service shuts down cleanly; SIGKILL if it does not.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // Anything still mounted in the scratch directory (a container's /dev/shm) first.
        let dir = self.dir.display().to_string();
        if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
            let mut under: Vec<&str> = mounts
                .lines()
                .filter_map(|l| l.split(' ').nth(1))
                .filter(|m| m.starts_with(&dir))
                .collect();
            under.sort_by_key(|m| std::cmp::Reverse(m.len()));
            for m in under {
                let _ = Command::new("umount").arg("-l").arg(m).status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn must(o: Output, what: &str) -> Output {
    assert!(
        o.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Install podman through the test kit when it is missing.
fn ensure_installed() {
    let ok = Command::new("podman")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kit/podman.sh");
        let st = Command::new("bash").arg(kit).status().expect("run the kit");
        assert!(st.success(), "tests/kit/podman.sh failed");
    }
}
