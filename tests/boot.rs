//! Boot for real: the Debian package built from the tree (init/deb/build.sh) is installed
//! with `dpkg -i` into a Debian root that boots systemd as PID 1 (tests/kit/systemd-root.sh
//! builds and caches it), next to a stand-in docker.service (the host engine's socket is
//! mounted in) and a stand-in orchestrator gated by the shipped drop-in; DNS is a dnsmasq on
//! the host's loopback. Every scenario is asserted from systemd's own state.
//! The booted tool manages containers on the host engine: the binary holds the machine-wide
//! engine lock, boots one root at a time and removes every container it made.

mod common;

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::binary::{stdout, text};
use common::dnsmasq::Dnsmasq;
use common::e2e::{IMG, docker, inspect, remove_prefixed};
use common::ports::{free_port, scratch_dir};
use common::registry::{PASSWORD, Registry, USER};
use common::tree::repo;

const BIN: &str = env!("CARGO_BIN_EXE_docker-dns-provision");
const PKG: &str = "docker-dns-provision";
const ENGINE_LOCK: &str = "/run/lock/ddp-engine-tests.lock";
/// The root with the package installed and the units enabled (rebuilt by every run).
const BOOTED: &str = "ddp-test/systemd-booted:latest";
/// Where an operator's files and the package's go: compared before install and after purge.
const SNAPSHOT: &str = "find /etc /usr /lib -xdev | sort";

// ---------------------------------------------------------------------------------------------
// fixtures: the engine lock, the root image, the package, the booted image

/// Holds the machine-wide engine lock until the process ends. A wrapper that already holds it
/// (`flock ENGINE_LOCK cargo test`, as the team runs engine tests) passed its descriptor down:
/// taking the lock again on a new descriptor would wait for ourselves forever.
fn engine_lock() {
    static LOCK: OnceLock<Option<File>> = OnceLock::new();
    LOCK.get_or_init(|| {
        fs::create_dir_all("/run/lock").expect("create /run/lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(ENGINE_LOCK)
            .expect("open the engine lock");
        if inherited_lock_held(&file) {
            return None;
        }
        file.lock().expect("take the engine lock");
        Some(file)
    });
}

/// True when a descriptor we inherited refers to the lock file and holds its lock (flock on
/// the same open file description succeeds at once).
fn inherited_lock_held(ours: &File) -> bool {
    let want = ours.metadata().expect("stat the engine lock");
    let Ok(dir) = fs::read_dir("/proc/self/fd") else {
        return false;
    };
    for entry in dir.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(m) = fs::metadata(entry.path()) else {
            continue;
        };
        if m.dev() != want.dev() || m.ino() != want.ino() {
            continue;
        }
        // Our own descriptor is unlocked: LOCK_NB fails on it while the wrapper holds the
        // lock, and succeeding on it would be a lock we then keep (the file lives on).
        // SAFETY: flock on a descriptor number of this process; no memory is involved.
        if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return true;
        }
    }
    false
}

/// One boot at a time: every booted tool removes the managed containers it is not told about.
fn boot_serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    engine_lock();
    guard
}

/// The cached Debian root with systemd, built by the kit (a no-op when cached).
fn root_image() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let o = Command::new("bash")
            .arg(repo().join("tests/kit/systemd-root.sh"))
            .output()
            .expect("run tests/kit/systemd-root.sh");
        assert!(o.status.success(), "systemd-root.sh failed:\n{}", text(&o));
        stdout(&o)
            .lines()
            .last()
            .expect("systemd-root.sh prints the tag")
            .to_string()
    })
}

/// The .deb built from this tree around the test build of the binary.
fn package() -> &'static Path {
    static DEB: OnceLock<PathBuf> = OnceLock::new();
    DEB.get_or_init(|| {
        root_image(); // the kit installs dpkg-deb's helpers and lintian
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("deb");
        let _ = fs::remove_dir_all(&out);
        let o = Command::new(repo().join("init/deb/build.sh"))
            .arg(BIN)
            .arg(&out)
            .output()
            .expect("run init/deb/build.sh");
        assert!(
            o.status.success(),
            "init/deb/build.sh failed:\n{}",
            text(&o)
        );
        PathBuf::from(stdout(&o).trim())
    })
}

/// The package's files, unpacked on the host.
fn unpacked() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("deb-unpacked");
        let _ = fs::remove_dir_all(&dir);
        let o = Command::new("dpkg-deb")
            .arg("-x")
            .arg(package())
            .arg(&dir)
            .output()
            .expect("dpkg-deb -x");
        assert!(o.status.success(), "dpkg-deb -x: {}", text(&o));
        dir
    })
}

/// The stand-ins an operator's host would have: the engine (here the host's, through its
/// socket) and an orchestrator gated by the shipped drop-in. Test drop-ins shorten the retry
/// pause of the boot unit and the timer's period; they change no other setting.
const STAND_INS: &str = r#"
set -e
cat >/etc/systemd/system/docker.service <<EOF
[Unit]
Description=Stand-in for the Docker engine: the host engine's socket is mounted in
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/test -S /run/docker.sock
[Install]
WantedBy=multi-user.target
EOF
cat >/etc/systemd/system/mesos-agent.service <<EOF
[Unit]
Description=Stand-in orchestrator agent
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
[Install]
WantedBy=multi-user.target
EOF
mkdir -p /etc/systemd/system/docker-dns-provision.service.d \
    /etc/systemd/system/docker-dns-provision-resync.timer.d
printf '[Service]\nEnvironment=DOCKER_DNS_PROVISION_RETRY_SEC=2\n' \
    >/etc/systemd/system/docker-dns-provision.service.d/50-test.conf
printf '[Timer]\nOnCalendar=\nOnCalendar=*:*:0/10\nRandomizedDelaySec=0\n' \
    >/etc/systemd/system/docker-dns-provision-resync.timer.d/50-test.conf
systemctl daemon-reload
systemctl enable --quiet docker.service mesos-agent.service
"#;

/// What the booted image was made from.
struct Fixture {
    /// [`SNAPSHOT`] of the root with the stand-ins, before `dpkg -i`.
    before_install: String,
}

/// Boot the root, add the stand-ins, `dpkg -i` the package (checking that it enables
/// nothing), enable the units as the man page says, and commit the result as [`BOOTED`].
fn booted_image() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let deb = package();
        let prefix = format!("ddp-boot-{}-install", std::process::id());
        let root = Root::new(&prefix, root_image()).with_deb(deb).boot();
        root.ok(STAND_INS);
        let before_install = root.ok(SNAPSHOT);
        let file = deb.file_name().expect("deb name").to_string_lossy();
        root.ok(&format!("dpkg -i /mnt/deb/{file}"));
        // postinst reloaded systemd (the units are known) and enabled nothing.
        let state = root.ok(
            "systemctl show -p Id -p LoadState -p UnitFileState -p ActiveState \
             docker-dns-provision.service docker-dns-provision-resync.timer",
        );
        for unit in [
            "docker-dns-provision.service",
            "docker-dns-provision-resync.timer",
        ] {
            let block = state
                .split("\n\n")
                .find(|b| b.contains(&format!("Id={unit}")))
                .unwrap_or_else(|| panic!("{unit} missing from:\n{state}"));
            for want in [
                "LoadState=loaded",
                "UnitFileState=disabled",
                "ActiveState=inactive",
            ] {
                assert!(
                    block.contains(want),
                    "after dpkg -i, {unit}: no {want}:\n{block}"
                );
            }
        }
        let conffiles = root.ok(&format!("dpkg-query -W -f='${{Conffiles}}' {PKG}"));
        assert!(
            conffiles.contains("/etc/default/docker-dns-provision"),
            "not a conffile: {conffiles}"
        );
        root.ok(
            "cp -r /usr/share/doc/docker-dns-provision/examples/mesos-agent.service.d \
                 /etc/systemd/system/ && \
             systemctl daemon-reload && \
             systemctl enable --quiet docker-dns-provision.service \
                 docker-dns-provision-resync.timer",
        );
        let old = docker(&["image", "inspect", "-f", "{{.Id}}", BOOTED]);
        let o = docker(&["commit", &root.name, BOOTED]);
        assert!(o.status.success(), "docker commit: {}", text(&o));
        let new = stdout(&o);
        let old = stdout(&old);
        if !old.trim().is_empty() && !new.contains(old.trim()) {
            let _ = docker(&["rmi", old.trim()]);
        }
        Fixture { before_install }
    })
}

// ---------------------------------------------------------------------------------------------
// a booted root

/// A root container about to boot: files put in place before systemd starts.
struct Root {
    prefix: String,
    image: String,
    mount_deb: Option<PathBuf>,
    scratch: PathBuf,
    files: Vec<(PathBuf, String)>,
    hostname: Option<String>,
}

/// A root booted with systemd as PID 1, named `<prefix>-root`. Dropping it removes every
/// container whose name starts with the prefix: the root and the tool's containers.
struct Booted {
    name: String,
    prefix: String,
}

impl Root {
    fn new(prefix: &str, image: &str) -> Root {
        remove_prefixed(prefix);
        Root {
            prefix: prefix.to_string(),
            image: image.to_string(),
            mount_deb: None,
            scratch: scratch_dir("boot-files"),
            files: Vec::new(),
            hostname: None,
        }
    }

    /// Boot with this kernel host name (docker's --hostname).
    fn hostname(mut self, name: &str) -> Root {
        self.hostname = Some(name.to_string());
        self
    }

    /// Put a file with this content at `path` in the root.
    fn file(mut self, path: &str, content: &str) -> Root {
        let local = self.scratch.join(self.files.len().to_string());
        fs::write(&local, content).expect("write a file for the root");
        self.files.push((local, path.to_string()));
        self
    }

    /// Put a directory at `path` (its parent must exist; docker cp makes it, root-owned)
    /// holding these files; the directory gets `dir_mode`, the files `file_mode`.
    fn dir(mut self, path: &str, dir_mode: u32, files: &[(&str, &str)], file_mode: u32) -> Root {
        use std::os::unix::fs::PermissionsExt;
        let local = self.scratch.join(self.files.len().to_string());
        fs::create_dir(&local).expect("a directory for the root");
        for (name, content) in files {
            let f = local.join(name);
            fs::write(&f, content).expect("write a file for the root");
            fs::set_permissions(&f, fs::Permissions::from_mode(file_mode)).expect("chmod");
        }
        fs::set_permissions(&local, fs::Permissions::from_mode(dir_mode)).expect("chmod");
        self.files.push((local, path.to_string()));
        self
    }

    /// Mask a unit (a link to /dev/null in /etc/systemd/system).
    fn masked(mut self, unit: &str) -> Root {
        let local = self.scratch.join(self.files.len().to_string());
        std::os::unix::fs::symlink("/dev/null", &local).expect("symlink");
        self.files
            .push((local, format!("/etc/systemd/system/{unit}")));
        self
    }

    /// Mount the package's directory at /mnt/deb.
    fn with_deb(mut self, deb: &Path) -> Root {
        self.mount_deb = Some(deb.parent().expect("the package's directory").to_path_buf());
        self
    }

    /// Create the container, copy the files in, start it and wait until systemd answers.
    fn boot(self) -> Booted {
        let name = format!("{}-root", self.prefix);
        let mut args: Vec<String> = [
            "create",
            "--name",
            &name,
            "--tmpfs",
            "/run",
            "--tmpfs",
            "/run/lock",
            "-v",
            "/sys/fs/cgroup:/sys/fs/cgroup",
            "-e",
            "container=docker",
            "--network",
            "host",
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock",
            // Without it systemd cannot make a unit's mount namespace and, "assuming
            // containerized execution", silently drops ProtectHome=, ProtectSystem=,
            // PrivateTmp= and the other mount sandboxing: the units would run unhardened.
            "--cap-add",
            "SYS_ADMIN",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some(dir) = &self.mount_deb {
            args.push("-v".into());
            args.push(format!("{}:/mnt/deb:ro", dir.display()));
        }
        if let Some(name) = &self.hostname {
            args.push(format!("--hostname={name}"));
        }
        args.push(self.image.clone());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // From here on the drop removes whatever was made.
        let booted = Booted {
            name: name.clone(),
            prefix: self.prefix.clone(),
        };
        let o = docker(&args);
        assert!(o.status.success(), "docker create: {}", text(&o));
        for (local, path) in &self.files {
            let o = docker(&["cp", &local.to_string_lossy(), &format!("{name}:{path}")]);
            assert!(o.status.success(), "docker cp {path}: {}", text(&o));
        }
        let _ = fs::remove_dir_all(&self.scratch);
        let o = docker(&["start", &name]);
        assert!(o.status.success(), "docker start: {}", text(&o));
        booted.wait_for_systemd();
        booted
    }
}

impl Booted {
    /// Wait until systemd in the root answers.
    fn wait_for_systemd(&self) {
        self.wait("systemd answers", 60, |b| {
            b.sh("systemctl show -p SystemState --value")
                .status
                .success()
        });
    }

    /// Power-cycle the root: killed after 1 s (no clean shutdown, as a power cut), booted
    /// again with its disk (/var) as it was and a fresh /run. Returns when systemd answers.
    fn reboot(&self) {
        let o = docker(&["restart", "-t", "1", &self.name]);
        assert!(o.status.success(), "docker restart: {}", text(&o));
        self.wait_for_systemd();
    }

    /// Run a shell script in the root.
    fn sh(&self, script: &str) -> Output {
        docker(&["exec", &self.name, "sh", "-c", script])
    }

    /// Run a script that must succeed; its stdout.
    fn ok(&self, script: &str) -> String {
        let o = self.sh(script);
        assert!(o.status.success(), "in the root: {script}\n{}", text(&o));
        stdout(&o)
    }

    /// One property of a unit (`systemctl show -p P --value`).
    fn prop(&self, unit: &str, p: &str) -> String {
        self.ok(&format!("systemctl show -p {p} --value {unit}"))
            .trim()
            .to_string()
    }

    /// The journal's position now, for [`Booted::journal_after`].
    fn cursor(&self) -> String {
        let out = self.ok("journalctl --no-pager -n 1 -o cat --show-cursor");
        out.lines()
            .last()
            .and_then(|l| l.strip_prefix("-- cursor: "))
            .unwrap_or_else(|| panic!("no cursor in:\n{out}"))
            .to_string()
    }

    /// Start `unit` again and wait up to `secs` for that start to end: `systemctl restart`
    /// returns when a oneshot's run has ended, with systemd's verdict on the start job (a
    /// oneshot without RemainAfterExit= may be unloaded right after, its properties reset, so
    /// this is the verdict to read). Whether the start succeeded, and the journal's position
    /// before it.
    fn rerun(&self, unit: &str, secs: u64) -> (bool, String) {
        let cursor = self.cursor();
        let o = self.sh(&format!("timeout {secs} systemctl restart {unit}"));
        assert_ne!(
            o.status.code(),
            Some(124),
            "{unit}: the start did not end within {secs}s\n{}",
            self.dump()
        );
        (o.status.success(), cursor)
    }

    /// The journal after `cursor`, message text only, with these journalctl arguments.
    fn journal_after(&self, cursor: &str, args: &str) -> String {
        self.journal(&format!("--after-cursor='{cursor}' {args}"))
    }

    /// The journal, message text only (`-o cat`), with these journalctl arguments.
    fn journal(&self, args: &str) -> String {
        self.ok(&format!("journalctl --no-pager -o cat {args}"))
    }

    /// What a person would look at: the units' states, the jobs, the journal.
    fn dump(&self) -> String {
        text(&self.sh("systemctl list-jobs --no-pager; \
             systemctl status --no-pager -n 30 docker-dns-provision.service \
                 docker-dns-provision-resync.service mesos-agent.service docker.service; \
             journalctl --no-pager -n 60"))
    }

    /// Poll `cond` every half second for up to `secs`; panics with the root's state.
    fn wait(&self, what: &str, secs: u64, mut cond: impl FnMut(&Booted) -> bool) {
        let until = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < until {
            if cond(self) {
                return;
            }
            sleep(Duration::from_millis(500));
        }
        panic!("waited {secs}s for: {what}\n{}", self.dump());
    }

    /// The name of one of this scenario's containers.
    fn container(&self, n: &str) -> String {
        format!("{}-{n}", self.prefix)
    }
}

impl Drop for Booted {
    fn drop(&mut self) {
        remove_prefixed(&self.prefix);
    }
}

// ---------------------------------------------------------------------------------------------
// scenarios

/// A scenario's names: containers `<prefix>-…`, host `node.<prefix>.test` in the fleet domain
/// `<prefix>.test`, DNS at 127.0.0.1:`port` (nothing listens there until [`Scenario::dns`]).
struct Scenario {
    prefix: String,
    port: u16,
}

impl Scenario {
    fn new(tag: &str) -> Scenario {
        Scenario {
            prefix: format!("ddp-boot-{}-{tag}", std::process::id()),
            port: free_port(),
        }
    }

    fn host(&self) -> String {
        format!("node.{}.test", self.prefix)
    }

    /// /etc/default/docker-dns-provision for this scenario, with `extra` options.
    fn default_file(&self, extra: &str) -> String {
        format!(
            "DOCKER_DNS_PROVISION_OPTS=\"--hostname {} --top-domain {}.test --nameserver 127.0.0.1:{} {extra}\"\n",
            self.host(),
            self.prefix,
            self.port
        )
    }

    /// Start dnsmasq on the scenario's port serving these containers (name, record text).
    fn dns(&self, containers: &[(&str, &str)]) -> Dnsmasq {
        let host = self.host();
        let mut conf = format!("local=/{}.test/\n", self.prefix);
        for (n, record) in containers {
            conf += &format!("txt-record=containers.docker.{host},{}-{n}\n", self.prefix);
            conf += &format!(
                "txt-record={}-{n}.containers.docker.{host},\"{record}\"\n",
                self.prefix
            );
        }
        Dnsmasq::start_at(self.port, &conf)
    }

    /// Boot the installed root with this scenario's site options.
    fn boot(&self, extra_opts: &str) -> Booted {
        booted_image();
        Root::new(&self.prefix, BOOTED)
            .file(
                "/etc/default/docker-dns-provision",
                &self.default_file(extra_opts),
            )
            .boot()
    }
}

/// A container that runs until stopped.
fn sleeper() -> String {
    format!("--network none {IMG} sleep 3600")
}

fn running(name: &str) -> bool {
    inspect(name).is_some_and(|(_, running, _)| running)
}

/// The gated agent waits: no start yet, its start job queued behind provisioning.
fn assert_agent_waits(root: &Booted) {
    assert_eq!(root.prop("mesos-agent.service", "ActiveState"), "inactive");
    let jobs = root.ok("systemctl list-jobs --no-pager");
    assert!(
        jobs.lines()
            .any(|l| l.contains("mesos-agent.service") && l.contains("start")),
        "the agent has no start job waiting:\n{jobs}"
    );
}

/// No journal line carries a timestamp of its own next to journald's.
fn assert_no_own_timestamps(journal: &str) {
    for line in journal.lines() {
        let b = line.as_bytes();
        let dated = b.len() >= 11
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T';
        assert!(!dated, "a line with its own timestamp: {line}");
        assert!(
            !line.starts_with('<'),
            "a priority prefix journald kept: {line}"
        );
    }
}

#[test]
fn dns_missing_at_boot_the_gate_waits_then_converges_and_the_timer_resyncs() {
    let _serial = boot_serial();
    let fixture = booted_image();
    let s = Scenario::new("wait");
    let root = s.boot("");
    let web = root.container("web");

    // DNS is not there: the tool retries inside one start; the agent waits for it.
    root.wait("two DNS retries at warning", 60, |r| {
        r.journal("-u docker-dns-provision -p warning")
            .matches("got no usable answer")
            .count()
            >= 2
    });
    assert_eq!(
        root.prop("docker-dns-provision.service", "ActiveState"),
        "activating"
    );
    assert_agent_waits(&root);
    assert!(inspect(&web).is_none(), "{web} exists before DNS answered");

    // DNS appears: the next try (at most 10 s of backoff, jittered) converges.
    let _dns = s.dns(&[("web", &sleeper())]);
    root.wait("provisioning active", 40, |r| {
        r.prop("docker-dns-provision.service", "ActiveState") == "active"
    });
    assert_eq!(
        root.prop("docker-dns-provision.service", "Result"),
        "success"
    );
    assert_eq!(
        root.prop("docker-dns-provision.service", "ExecMainStatus"),
        "0"
    );
    root.wait("the agent active", 20, |r| {
        r.prop("mesos-agent.service", "ActiveState") == "active"
    });
    assert!(running(&web), "{web} is not running");

    // The journal: the retries at warning, no error, one timestamp per line (journald's).
    let all = root.journal("-u docker-dns-provision");
    assert!(all.contains("apply: created=1"), "no summary line:\n{all}");
    assert_no_own_timestamps(&all);
    let warnings = root.journal("-u docker-dns-provision -p warning");
    assert!(
        warnings.contains(&format!("127.0.0.1:{}", s.port)),
        "the retries do not name the server:\n{warnings}"
    );
    let errors = root.journal("-u docker-dns-provision -p err");
    assert!(errors.trim().is_empty(), "errors in a good run:\n{errors}");

    // A container stopped by hand is started again by the timer (every 10 s here).
    let o = docker(&["stop", "-t", "1", &web]);
    assert!(o.status.success(), "docker stop: {}", text(&o));
    assert!(!running(&web));
    root.wait("the timer's run restarts the container", 60, |_| {
        running(&web)
    });
    root.wait("the resync run's summary", 20, |r| {
        r.journal("-u docker-dns-provision-resync.service")
            .contains("started=1")
    });
    assert_eq!(
        root.prop("docker-dns-provision-resync.service", "Result"),
        "success"
    );

    assert_exposure_is_documented(&root);
    assert_purge_leaves_nothing(&root, fixture);
}

/// The hardening is live and the run before worked under it: the security page records the
/// exposure systemd rates it at.
fn assert_exposure_is_documented(root: &Booted) {
    let security = root.ok("systemd-analyze security --no-pager docker-dns-provision.service");
    let exposure = security
        .lines()
        .find_map(|l| l.strip_prefix("→ Overall exposure level for docker-dns-provision.service: "))
        .unwrap_or_else(|| panic!("no overall exposure in:\n{security}"))
        .to_string();
    let page = "init/man/docker-dns-provision-security.7.scd";
    let documented = fs::read_to_string(repo().join(page)).expect(page);
    let recorded = format!(
        "exposure level *{}*",
        exposure.split_whitespace().next().unwrap_or("")
    );
    assert!(
        documented.contains(&recorded),
        "{page} does not record the exposure systemd gives now ({exposure}): want {recorded:?}"
    );
}

/// Purge: nothing of the package is left, even after enabling, running and the timer.
fn assert_purge_leaves_nothing(root: &Booted, fixture: &Fixture) {
    // The operator stops the boot unit first (docker-dns-provision-operations(7)): the package
    // does not, since that stops every unit that Requires= it; the units stay enabled, the
    // purge drops the links.
    root.ok("systemctl stop docker-dns-provision.service docker-dns-provision-resync.timer");
    root.ok(&format!("dpkg --purge {PKG}"));
    let status = text(&root.sh(&format!("dpkg -s {PKG}")));
    assert!(
        status.contains("not installed and no information is available"),
        "dpkg still knows the package: {status}"
    );
    assert_eq!(
        root.prop("docker-dns-provision.service", "LoadState"),
        "not-found",
        "systemd still knows the unit after the purge"
    );
    // The administrator's copy of the example drop-in is theirs, not the package's: dpkg
    // must leave it (and it does no harm: it names a unit that no longer exists).
    let mut before: BTreeSet<&str> = fixture.before_install.lines().collect();
    before.extend([
        "/etc/systemd/system/mesos-agent.service.d",
        "/etc/systemd/system/mesos-agent.service.d/10-docker-dns-provision.conf",
    ]);
    let after = root.ok(SNAPSHOT);
    let left: Vec<&str> = after.lines().filter(|l| !before.contains(l)).collect();
    assert!(left.is_empty(), "left behind by the purge: {left:#?}");
    // dpkg's own database is checked by `dpkg -s` above: on this engine's fuse-overlayfs a
    // .list file from an image layer outlives dpkg's unlink of it (a fresh install in one
    // container leaves none), so /var/lib/dpkg is not searched.
    let named = root.ok(&format!(
        "find /var /run /etc /usr /lib -path /var/lib/dpkg -prune -o -name '*{PKG}*' -print \
         2>/dev/null | sort"
    ));
    let named: Vec<&str> = named.lines().filter(|l| !before.contains(l)).collect();
    assert!(
        named.is_empty(),
        "files named after the package remain: {named:#?}"
    );
}

#[test]
fn an_invalid_record_keeps_the_agent_down_and_status_says_why() {
    let _serial = boot_serial();
    let s = Scenario::new("bad");
    let _dns = s.dns(&[
        ("web", &sleeper()),
        ("bad", &format!("--no-such-option {IMG}")),
    ]);
    let root = s.boot("");
    root.wait("provisioning failed", 60, |r| {
        r.prop("docker-dns-provision.service", "ActiveState") == "failed"
    });
    assert_eq!(
        root.prop("docker-dns-provision.service", "ExecMainStatus"),
        "65"
    );
    // Not retried: an invalid record does not fix itself. One run, one summary.
    sleep(Duration::from_secs(3));
    let all = root.journal("-u docker-dns-provision");
    assert_eq!(
        all.matches("exit status 65)").count(),
        1,
        "one run expected:\n{all}"
    );
    assert!(!all.contains("exit status 75 (temporary)"), "{all}");
    assert_eq!(root.prop("mesos-agent.service", "ActiveState"), "inactive");
    let agent = root.ok("journalctl --no-pager -u mesos-agent.service");
    assert!(
        agent.contains("Dependency failed"),
        "agent journal:\n{agent}"
    );
    // The valid record was still applied.
    assert!(running(&root.container("web")));

    // `systemctl status` names the record and the offending text in one line, at error.
    let bad = root.container("bad");
    let status = text(&root.sh("systemctl status --no-pager -n 20 docker-dns-provision.service"));
    let why: Vec<&str> = status
        .lines()
        .filter(|l| l.contains(&bad) && l.contains("--no-such-option"))
        .collect();
    assert!(!why.is_empty(), "status does not say why:\n{status}");
    assert!(status.contains("status=65"), "status:\n{status}");
    let errors = root.journal("-u docker-dns-provision -p err");
    assert!(
        errors
            .lines()
            .any(|l| l.contains(&bad) && l.contains("--no-such-option")),
        "the failure is not at error priority:\n{errors}"
    );
}

#[test]
fn a_dns_outage_longer_than_timeout_ends_and_the_agent_starts_by_itself() {
    let _serial = boot_serial();
    let s = Scenario::new("outage");
    // Each run gives up after 2 s (exit 75); the test drop-in pauses 2 s between runs.
    let root = s.boot("--timeout 2s");
    root.wait("two runs ended with 75", 60, |r| {
        r.journal("-u docker-dns-provision -p warning")
            .matches("exit status 75 (temporary)")
            .count()
            >= 2
    });
    assert_eq!(
        root.prop("docker-dns-provision.service", "ActiveState"),
        "activating",
        "the boot unit gave up on a temporary failure"
    );
    assert_agent_waits(&root);

    let _dns = s.dns(&[("web", &sleeper())]);
    root.wait("the agent starts without a person", 60, |r| {
        r.prop("mesos-agent.service", "ActiveState") == "active"
    });
    assert_eq!(
        root.prop("docker-dns-provision.service", "ActiveState"),
        "active"
    );
    assert_eq!(
        root.prop("docker-dns-provision.service", "Result"),
        "success"
    );
    assert!(running(&root.container("web")));
    assert_no_own_timestamps(&root.journal("-u docker-dns-provision"));
}

/// The ownership label (the identity) of a container on the host engine.
fn identity(name: &str) -> Option<String> {
    let o = docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"docker-dns-provision.command\"}}",
        name,
    ]);
    o.status.success().then(|| stdout(&o).trim().to_string())
}

/// What `systemctl status` shows of the boot unit.
fn status(root: &Booted) -> String {
    text(&root.sh("systemctl status --no-pager -n 0 docker-dns-provision.service"))
}

/// The unit's `Status:` line, as `systemctl status` prints it.
fn status_line(root: &Booted) -> String {
    status(root)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Status: "))
        .unwrap_or_default()
        .to_string()
}

/// The issue's first promise: a converged host that reboots while DNS is down comes back with
/// what it ran (its containers have no restart policy: only the tool starts them) and its
/// orchestrator starts, within a minute of boot, as the shipped default (--offline-after 30s)
/// gives it; when DNS returns with a changed record the host converges with nobody touching it.
#[test]
fn a_reboot_during_a_dns_outage_runs_the_last_converged_state_then_converges() {
    let _serial = boot_serial();
    let s = Scenario::new("offline");
    let dns = s.dns(&[("web", &sleeper())]);
    let root = s.boot("");
    let web = root.container("web");
    root.wait("the first boot converges", 60, |r| {
        r.prop("docker-dns-provision.service", "ActiveState") == "active"
            && r.prop("mesos-agent.service", "ActiveState") == "active"
    });
    assert!(running(&web), "{web} is not running");
    let converged_as = identity(&web).expect("web's identity");
    let state = root.ok("cat /var/lib/docker-dns-provision/state.json");
    assert!(
        state.contains("\"converged\"") && state.contains(&converged_as),
        "no last converged state:\n{state}"
    );

    // The site loses power: DNS with it, and the containers stop.
    drop(dns);
    let o = docker(&["stop", "-t", "1", &web]);
    assert!(o.status.success(), "docker stop: {}", text(&o));
    let cursor = root.cursor();
    root.reboot();

    // While it waits, `systemctl status` says what for.
    root.wait("a status line that says what the run waits for", 20, |r| {
        let line = status_line(r);
        line.contains("for DNS")
            && line.contains(&format!("127.0.0.1:{}", s.port))
            && line.contains("offline start in")
    });
    assert_agent_waits(&root);
    assert!(!running(&web), "{web} runs before the offline start");

    // Within a minute of boot: the last converged state runs, the gate is open.
    root.wait("web runs again and the agent is active", 55, |r| {
        running(&web) && r.prop("mesos-agent.service", "ActiveState") == "active"
    });
    assert_eq!(identity(&web).as_deref(), Some(converged_as.as_str()));
    assert_eq!(
        root.prop("docker-dns-provision.service", "ActiveState"),
        "active"
    );
    let line = status_line(&root);
    assert!(
        line.contains("running the last converged state") && line.contains("since"),
        "the status does not say the host runs its last converged state: {line:?}"
    );
    let journal = root.journal_after(&cursor, "-u docker-dns-provision -p warning");
    assert!(
        journal.contains("running the last converged state") && journal.contains("started=1"),
        "the journal does not say what the offline start did:\n{journal}"
    );

    // DNS returns, with a changed record: the host converges to it by itself.
    let changed = format!("--network none {IMG} sleep 3601");
    let _dns = s.dns(&[("web", &changed)]);
    root.wait("the changed record is applied", 60, |_| {
        running(&web) && identity(&web).is_some_and(|id| id != converged_as)
    });
    root.wait("the boot run ends converged", 30, |r| {
        r.prop("docker-dns-provision.service", "SubState") == "exited"
    });
    assert_eq!(
        root.prop("docker-dns-provision.service", "Result"),
        "success"
    );
    assert_eq!(
        root.prop("mesos-agent.service", "ActiveState"),
        "active",
        "the agent went down on the way"
    );
    let journal = root.journal_after(&cursor, "-u docker-dns-provision");
    assert!(journal.contains("replaced=1"), "no replace:\n{journal}");
    assert_no_own_timestamps(&journal);
}

/// A host whose kernel name is `localhost` at first boot (as cloud and DHCP hosts are) and
/// gets its real name 5 s later converges under the units as shipped: the run waits for the
/// name, says so in its status, and sees the new name (no UTS namespace of its own).
#[test]
fn a_host_named_localhost_at_first_boot_waits_for_its_name() {
    let _serial = boot_serial();
    booted_image();
    let s = Scenario::new("name");
    let _dns = s.dns(&[("web", &sleeper())]);
    let opts = format!(
        "DOCKER_DNS_PROVISION_OPTS=\"--top-domain {}.test --nameserver 127.0.0.1:{}\"\n",
        s.prefix, s.port
    );
    let root = Root::new(&s.prefix, BOOTED)
        .hostname("localhost")
        .file("/etc/default/docker-dns-provision", &opts)
        .boot();
    root.wait("a status line that says the run waits for a name", 5, |r| {
        status_line(r).contains("for a host name")
    });
    assert_agent_waits(&root);
    sleep(Duration::from_secs(5));
    root.ok(&format!("hostname {}", s.host()));
    root.wait("provisioning active", 60, |r| {
        r.prop("docker-dns-provision.service", "ActiveState") == "active"
    });
    assert_eq!(
        root.prop("docker-dns-provision.service", "ExecMainStatus"),
        "0"
    );
    root.wait("the agent active", 20, |r| {
        r.prop("mesos-agent.service", "ActiveState") == "active"
    });
    assert!(running(&root.container("web")));
    let journal = root.journal("-u docker-dns-provision");
    assert!(
        journal.contains("a placeholder") && journal.contains(&format!("is now {}", s.host())),
        "the journal does not tell the wait for a name:\n{journal}"
    );
    assert!(!journal.contains("exit status 66"), "{journal}");
}

/// A corrupt state file is a warning; the run is otherwise normal, and writes a good one.
#[test]
fn a_corrupt_state_file_is_a_warning_and_nothing_more() {
    let _serial = boot_serial();
    booted_image();
    let s = Scenario::new("corrupt");
    let _dns = s.dns(&[("web", &sleeper())]);
    let root = Root::new(&s.prefix, BOOTED)
        .file("/etc/default/docker-dns-provision", &s.default_file(""))
        .dir(
            "/var/lib/docker-dns-provision",
            0o700,
            &[("state.json", "{\"version\":1,\"host\":\"node.")],
            0o600,
        )
        .boot();
    root.wait("provisioning active", 60, |r| {
        r.prop("docker-dns-provision.service", "ActiveState") == "active"
    });
    assert_eq!(
        root.prop("docker-dns-provision.service", "ExecMainStatus"),
        "0"
    );
    root.wait("the agent active", 20, |r| {
        r.prop("mesos-agent.service", "ActiveState") == "active"
    });
    assert!(running(&root.container("web")));
    let warnings = root.journal("-u docker-dns-provision -p warning");
    assert!(
        warnings.lines().any(|l| l.contains("state.json")
            && l.contains("unreadable")
            && l.contains("not used")),
        "no warning about the state file:\n{warnings}"
    );
    let errors = root.journal("-u docker-dns-provision -p err");
    assert!(errors.trim().is_empty(), "errors:\n{errors}");
    let state = root.ok("cat /var/lib/docker-dns-provision/state.json");
    assert!(state.contains("\"converged\""), "not rewritten:\n{state}");
}

#[test]
fn cron_reboot_line_provisions_and_logs_through_logger() {
    let _serial = boot_serial();
    booted_image();
    let s = Scenario::new("cron");
    let _dns = s.dns(&[("web", &sleeper())]);
    let cron = fs::read_to_string(
        unpacked().join("usr/share/doc/docker-dns-provision/examples/docker-dns-provision.cron.d"),
    )
    .expect("the packaged cron example");
    // A host without the units: they are masked, cron alone provisions.
    let root = Root::new(&s.prefix, BOOTED)
        .file("/etc/default/docker-dns-provision", &s.default_file(""))
        .file("/etc/cron.d/docker-dns-provision", &cron)
        .masked("docker-dns-provision.service")
        .masked("docker-dns-provision-resync.timer")
        .boot();
    assert_eq!(
        root.prop("docker-dns-provision.service", "LoadState"),
        "masked"
    );
    root.wait("the @reboot line's run, logged by logger", 60, |r| {
        r.journal("-t docker-dns-provision _COMM=logger")
            .contains("apply: created=1")
    });
    assert!(running(&root.container("web")));
    let cron_log = root.journal("-u cron.service");
    assert!(
        cron_log.contains("/usr/bin/docker-dns-provision apply"),
        "cron did not run the packaged path:\n{cron_log}"
    );
}

/// Where the shipped /etc/default/docker-dns-provision points the units for credentials.
const UNIT_DOCKER_CONFIG: &str = "/etc/docker-dns-provision/docker";

/// The packaged /etc/default/docker-dns-provision with this scenario's options in place of
/// the empty ones, everything else (DOCKER_CONFIG) as shipped.
fn packaged_default_file(s: &Scenario, extra: &str) -> String {
    let shipped = fs::read_to_string(unpacked().join("etc/default/docker-dns-provision"))
        .expect("the packaged /etc/default/docker-dns-provision");
    assert!(
        shipped
            .lines()
            .any(|l| l == format!("DOCKER_CONFIG={UNIT_DOCKER_CONFIG}")),
        "the shipped default file no longer sets DOCKER_CONFIG={UNIT_DOCKER_CONFIG}:\n{shipped}"
    );
    let opts = s.default_file(extra);
    let mut out = String::new();
    let mut replaced = false;
    for line in shipped.lines() {
        if line.starts_with("DOCKER_DNS_PROVISION_OPTS=") {
            out += &opts;
            replaced = true;
        } else {
            out += line;
            out.push('\n');
        }
    }
    assert!(
        replaced,
        "no DOCKER_DNS_PROVISION_OPTS= line in:\n{shipped}"
    );
    out
}

/// `config.json` as `docker login` writes it: an `auths` entry with base64 `user:password`.
fn login_config(reg: &Registry) -> String {
    format!(
        "{{\n\t\"auths\": {{\n\t\t\"{}\": {{\n\t\t\t\"auth\": \"{}\"\n\t\t}}\n\t}}\n}}\n",
        reg.host,
        reg.login_auth()
    )
}

/// The registry's `authorized request` lines (requests with valid credentials) for the
/// manifests of `repo`, in `log`.
fn authorized_manifest_requests<'a>(log: &'a str, repo: &str) -> Vec<&'a str> {
    log.lines()
        .filter(|l| {
            l.contains("msg=\"authorized request\"")
                && l.contains(&format!("/v2/{repo}/manifests/"))
                && (l.contains("http.request.method=GET") || l.contains("http.request.method=HEAD"))
        })
        .collect()
}

#[test]
fn the_units_pull_with_the_credentials_under_etc_and_cannot_see_root_home() {
    let _serial = boot_serial();
    booted_image();
    let s = Scenario::new("creds");
    let reg = Registry::start(true);

    let (repo, image, pinned) = image_only_the_registry_has(&s, &reg);

    let _dns = s.dns(&[("app", &format!("--network none {image} sleep 3600"))]);
    let config = login_config(&reg);
    let log_from = reg.log().len();

    // 1. The operator logged in the usual way: the credentials are in /root/.docker, where
    // the CLI puts them, and the shipped default file names the directory under /etc.
    // `--pull always`: every run asks the registry, so each unit's run shows what it sends.
    // The timer is masked: the two units run when the test says, one at a time.
    let root = Root::new(&s.prefix, BOOTED)
        .file(
            "/etc/default/docker-dns-provision",
            &packaged_default_file(&s, "--pull always"),
        )
        .dir("/root/.docker", 0o700, &[("config.json", &config)], 0o600)
        .masked("docker-dns-provision-resync.timer")
        .boot();
    let unit = "docker-dns-provision.service";
    let app = root.container("app");
    root.wait("provisioning failed", 60, |r| {
        r.prop(unit, "ActiveState") == "failed"
    });
    assert_eq!(root.prop(unit, "Result"), "exit-code");
    assert_eq!(root.prop(unit, "ExecMainStatus"), "73", "{}", root.dump());
    let why = format!(
        "registry {} asks for credentials and {UNIT_DOCKER_CONFIG}/config.json (absent) has none for it",
        reg.host
    );
    root.wait("the error names the file it looked in", 10, |r| {
        r.journal(&format!("-p err -u {unit}"))
            .lines()
            .any(|l| l.contains(&image) && l.contains(&why))
    });
    assert!(inspect(&app).is_none(), "{app} exists without its image");
    assert!(!docker(&["image", "inspect", &image]).status.success());

    protect_home_hides_root_docker_config(&root, unit, &reg, &config, &app);

    // 3. The operator does what docker-dns-provision-operations(7) says: the credentials go
    // under /etc, the default file names them; a restart of the boot unit converges.
    root.ok("sed -i 's/^#DOCKER_CONFIG=/DOCKER_CONFIG=/' /etc/default/docker-dns-provision");
    root.ok(&format!(
        "install -d -m 0700 /etc/docker-dns-provision {UNIT_DOCKER_CONFIG} && \
         mv /root/.docker/config.json {UNIT_DOCKER_CONFIG}/"
    ));
    let (ok, good) = root.rerun(unit, 60);
    assert!(ok, "the start failed:\n{}", root.dump());
    assert_eq!(root.prop(unit, "ActiveState"), "active", "{}", root.dump());
    assert_eq!(root.prop(unit, "Result"), "success");
    assert_eq!(root.prop(unit, "ExecMainStatus"), "0");
    assert!(running(&app), "{app} is not running");
    let pulled_with = format!(
        "pulling {image} from {} with user \"{USER}\" from {UNIT_DOCKER_CONFIG}/config.json",
        reg.host
    );
    root.wait("the run names the credentials it pulled with", 10, |r| {
        r.journal_after(&good, &format!("-u {unit}"))
            .contains(&pulled_with)
    });
    let digests = stdout(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{json .RepoDigests}}",
        &image,
    ]));
    assert!(
        digests.contains(&pinned),
        "the engine's {image} is not the registry's {pinned}: {digests}"
    );
    let log = reg.log();
    let authorized = authorized_manifest_requests(&log[log_from..], &repo);
    assert!(
        !authorized.is_empty(),
        "the registry authorized no manifest request for {repo}:\n{}",
        &log[log_from..]
    );

    // The resync unit reads the same credentials (`--pull always`: it asks the registry).
    let resync_unit = "docker-dns-provision-resync.service";
    let (ok, resync) = root.rerun(resync_unit, 120);
    assert!(ok, "the resync run failed:\n{}", root.dump());
    root.wait("the resync run pulled with the credentials", 10, |r| {
        let j = r.journal_after(&resync, &format!("-u {resync_unit}"));
        j.contains(&pulled_with) && j.contains("Deactivated successfully")
    });
    let log = reg.log();
    assert!(
        authorized_manifest_requests(&log[log_from..], &repo).len() > authorized.len(),
        "the resync run made no authorized manifest request"
    );

    // No secret in the journal, at any priority, from any run.
    let all = root.journal("");
    assert!(!all.contains(PASSWORD), "the password is in the journal");
    assert!(
        !all.contains(&reg.login_auth()),
        "the encoded credentials are in the journal"
    );
}

/// A name only the registry knows, of this run: the unit's pull is a real one, and works
/// only with the credentials (the registry answers 401 to anyone else). The layers are the
/// test image's; what needs the credentials is the manifest, asked for by name. Returns the
/// repository, the image and the image pinned by digest.
fn image_only_the_registry_has(s: &Scenario, reg: &Registry) -> (String, String, String) {
    let repo = format!("{}/app", s.prefix);
    let image = reg.image(&format!("{repo}:creds"));
    let o = docker(&["tag", IMG, &image]);
    assert!(o.status.success(), "docker tag: {}", text(&o));
    let o = reg.cli(&["push", &image]);
    assert!(o.status.success(), "docker push: {}", text(&o));
    let pinned = reg.pinned(&format!("{repo}:creds"));
    reg.forget(&image);
    for name in [&image, &pinned] {
        assert!(
            !docker(&["image", "inspect", name]).status.success(),
            "{name} is still in the engine: the unit would not pull it"
        );
    }
    let anonymous = docker(&["pull", &image]);
    assert!(
        !anonymous.status.success() && text(&anonymous).contains("no basic auth credentials"),
        "the registry serves the image without credentials: {}",
        text(&anonymous)
    );
    (repo, image, pinned)
}

/// Step 2: without DOCKER_CONFIG the tool looks where the CLI would, /root/.docker, but the
/// unit cannot see /root (ProtectHome=yes): the pull fails and the journal says where
/// and why, instead of pulling anonymously into a 401.
fn protect_home_hides_root_docker_config(
    root: &Booted,
    unit: &str,
    reg: &Registry,
    config: &str,
    app: &str,
) {
    root.ok("sed -i 's/^DOCKER_CONFIG=/#DOCKER_CONFIG=/' /etc/default/docker-dns-provision");
    let (ok, hidden) = root.rerun(unit, 60);
    assert!(
        !ok,
        "the start succeeded without credentials:\n{}",
        root.dump()
    );
    assert_eq!(root.prop(unit, "ActiveState"), "failed", "{}", root.dump());
    assert_eq!(root.prop(unit, "ExecMainStatus"), "73");
    root.wait("the error names /root/.docker and ProtectHome", 10, |r| {
        r.journal_after(&hidden, &format!("-p err -u {unit}"))
            .lines()
            .any(|l| {
                l.contains(&reg.host)
                    && l.contains("cannot read the docker config /root/.docker/config.json")
                    && l.contains("Permission denied")
                    && l.contains("ProtectHome")
            })
    });
    // The file is there and readable outside the unit: it is the sandbox that hides it.
    assert_eq!(root.ok("cat /root/.docker/config.json"), config);
    assert!(inspect(app).is_none(), "{app} exists without its image");
}

#[test]
fn package_is_lintian_clean_and_ships_the_man_pages() {
    let deb = package();
    let o = Command::new("lintian")
        .args(["--fail-on", "error,warning", "--display-level", ">=warning"])
        .arg(deb)
        .output()
        .expect("run lintian (tests/kit/systemd-root.sh installs it)");
    let report = text(&o);
    assert!(
        o.status.success()
            && !report
                .lines()
                .any(|l| l.starts_with("E:") || l.starts_with("W:")),
        "lintian:\n{report}"
    );

    // One page per scdoc source, in its section's directory. What they say, and that they
    // build and render without a warning, is tests/man_pages.rs's to check.
    let mut sources: Vec<String> = fs::read_dir(repo().join("init/man"))
        .expect("init/man")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".scd").map(str::to_string))
        .collect();
    sources.sort();
    assert_eq!(sources.len(), 4, "init/man: {sources:?}");
    for page in sources {
        let (name, section) = page.rsplit_once('.').expect("NAME.SECTION.scd");
        let path = unpacked().join(format!("usr/share/man/man{section}/{page}.gz"));
        let o = Command::new("gzip")
            .arg("-dc")
            .arg(&path)
            .output()
            .expect("gzip");
        assert!(o.status.success(), "{}: {}", path.display(), text(&o));
        assert!(
            stdout(&o).contains(&format!(".TH \"{name}\" \"{section}\"")),
            "{} is not the page built from init/man/{page}.scd",
            path.display()
        );
    }
}
