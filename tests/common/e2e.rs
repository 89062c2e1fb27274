//! Helpers for end-to-end tests that run the real binary against the real engine: running
//! the tool, inspecting and cleaning up containers, the second test image, and the record
//! text of a service that stops promptly. The tool removes every managed container it is
//! not told about, so tests that create managed containers take [`serial`] and clean up.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};

/// The owner label the tool puts on the containers it manages.
pub const LABEL: &str = "docker-dns-provision.command";
/// The first test image.
pub const IMG: &str = "ddp-test/busybox:latest";
/// A second local image, for "image changed" cases.
pub const IMG2: &str = "ddp-test/busybox:v2";

/// One test at a time in this process touches managed containers.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Run the tool with these arguments (no `DOCKER_HOST`, info logging, no stdin).
pub fn tool(args: &[String]) -> Output {
    tool_command(args).output().unwrap()
}

/// The tool as [`tool`] runs it, to spawn (output captured).
pub fn tool_command(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"));
    c.args(args)
        .env_remove("DOCKER_HOST")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// The exit status, or -1 when killed by a signal.
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Everything about a run, for assertion messages.
pub fn show(o: &Output) -> String {
    super::binary::explain(o)
}

/// The docker CLI (fine in tests, never in src/).
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().unwrap()
}

/// Make sure [`IMG2`] exists; the kit builds it.
pub fn ensure_v2() {
    let ok = docker(&["image", "inspect", IMG2]).status.success();
    if !ok {
        let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kit/images.sh");
        let st = Command::new("bash").arg(kit).status().unwrap();
        assert!(st.success(), "tests/kit/images.sh failed");
    }
}

/// A field of a container by exact name, as `docker inspect --format` renders it.
pub fn field(name: &str, format: &str) -> Option<String> {
    let o = docker(&["inspect", "--type", "container", "--format", format, name]);
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// A container's (id, running, image as configured) by exact name.
pub fn inspect(name: &str) -> Option<(String, bool, String)> {
    id_running_and(name, "{{.Config.Image}}")
}

/// A container's (id, running, ID of the image it runs) by exact name.
pub fn inspect_image_id(name: &str) -> Option<(String, bool, String)> {
    id_running_and(name, "{{.Image}}")
}

fn id_running_and(name: &str, third: &str) -> Option<(String, bool, String)> {
    let s = field(name, &format!("{{{{.Id}}}} {{{{.State.Running}}}} {third}"))?;
    let mut it = s.split(' ');
    Some((
        it.next()?.to_string(),
        it.next()? == "true",
        it.next()?.to_string(),
    ))
}

/// Names of all containers starting with `prefix`, sorted.
pub fn names_with(prefix: &str) -> Vec<String> {
    let o = docker(&["ps", "-a", "--format", "{{.Names}}"]);
    let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|n| n.starts_with(prefix))
        .map(String::from)
        .collect();
    v.sort();
    v
}

/// Remove every container whose name starts with `prefix`.
pub fn remove_prefixed(prefix: &str) {
    for n in names_with(prefix) {
        let _ = docker(&["rm", "-f", &n]);
    }
}

/// Remove every container the tool manages.
pub fn remove_managed() {
    let o = docker(&["ps", "-aq", "--filter", &format!("label={LABEL}")]);
    for id in String::from_utf8_lossy(&o.stdout).split_whitespace() {
        let _ = docker(&["rm", "-f", id]);
    }
}

/// A record text for a service that stops promptly on SIGTERM (a shell as PID 1 ignores
/// signals it has no trap for). `tag` varies the text, and so the container's identity.
/// `--network none`: this engine has no bridge.
pub fn service(img: &str, tag: &str) -> String {
    format!(
        "--network none --label t={tag} {img} sh -c 'trap \"exit 0\" TERM; while sleep 1; do :; done'"
    )
}

/// A test that creates managed containers: it runs alone in its process (the tool removes
/// every managed container it is not told about), starts from an engine without managed
/// containers, names its containers `<prefix>-<name>`, and removes all of them when it ends.
pub struct Managed {
    /// The prefix of every container name this test uses.
    pub prefix: String,
    _serial: MutexGuard<'static, ()>,
}

impl Managed {
    /// Take the lock, make sure the test images exist, and clear managed containers.
    pub fn new(prefix: String) -> Managed {
        let serial = serial();
        crate::common::images::ensure_busybox();
        ensure_v2();
        remove_managed();
        Managed {
            prefix,
            _serial: serial,
        }
    }

    /// The container name for `n` in this test.
    pub fn name(&self, n: &str) -> String {
        format!("{}-{n}", self.prefix)
    }
}

impl Drop for Managed {
    fn drop(&mut self) {
        remove_managed();
        remove_prefixed(&self.prefix);
    }
}
