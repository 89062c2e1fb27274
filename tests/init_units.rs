//! The files under init/: systemd units checked by `systemd-analyze verify` (and shown to fail
//! on a broken unit), their timing and restart invariants, the cron.d schedule and command,
//! init/install.sh, and the example records, served by a real dnsmasq and read by the tool.
//! Needs tests/kit/setup.sh (systemd-analyze, dnsmasq); never touches the host's init system.

mod common;

use common::ports::free_port;
use common::tree::{example, read, repo};
use std::collections::BTreeMap;
use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use docker_dns_provision::exit::Code;
use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

/// Where the units, the cron file and install.sh expect the binary.
const INSTALLED_BIN: &str = "/usr/local/bin/docker-dns-provision";
const BIN: &str = env!("CARGO_BIN_EXE_docker-dns-provision");

/// A directory removed on drop; std has no tempdir and the crate takes no dev-dependencies.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ddp-{tag}-{}-{seq}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write_exec(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

// ---------------------------------------------------------------------------------------------
// systemd units

/// A unit file as shipped: its file name and text.
struct UnitFile {
    /// Path relative to init/systemd (drop-ins keep their `<unit>.d/` directory).
    rel: PathBuf,
    text: String,
}

fn shipped_units() -> Vec<UnitFile> {
    let root = repo().join("init/systemd");
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.push(UnitFile {
                    rel: path.strip_prefix(&root).unwrap().to_path_buf(),
                    text: read(&path),
                });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

/// Copies `units` into `dir` with the binary path pointing at the test build (verify checks
/// that ExecStart exists), adds stub units for what they depend on or drop into, and returns
/// the unit files to verify.
fn stage(dir: &Path, units: &[UnitFile]) -> Vec<PathBuf> {
    let mut verify = Vec::new();
    // init/systemd/podman/ holds a Podman host's drop-ins, in place of the shipped ones:
    // staged by `podman_drop_ins_verify_in_place_of_the_docker_ones`.
    for unit in units.iter().filter(|u| !u.rel.starts_with(PODMAN_DIR)) {
        let dest = dir.join(&unit.rel);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::write(&dest, unit.text.replace(INSTALLED_BIN, BIN)).unwrap();
        if unit.rel.parent() == Some(Path::new("")) {
            verify.push(dest);
        } else {
            // A drop-in is only read with its unit: verify a stub of that unit.
            let dropin_dir = unit.rel.parent().unwrap().to_str().unwrap();
            let base = dropin_dir
                .strip_suffix(".d")
                .expect("drop-in dir ends in .d");
            let stub = dir.join(base);
            // A shipped unit's own drop-in is verified with that unit, not a stub.
            if !units.iter().any(|u| u.rel == Path::new(base)) {
                fs::write(&stub, "[Service]\nExecStart=/bin/sleep infinity\n").unwrap();
            }
            verify.push(stub);
        }
    }
    // The staged directory comes first in verify's search path: these stubs keep the check
    // independent of the docker.io package's own unit.
    fs::write(
        dir.join("docker.service"),
        "[Service]\nExecStart=/bin/sleep infinity\n",
    )
    .unwrap();
    fs::write(
        dir.join("podman.socket"),
        "[Socket]\nListenStream=/run/podman/podman.sock\n",
    )
    .unwrap();
    verify.sort();
    verify.dedup();
    verify
}

/// Runs `systemd-analyze verify`; any output counts as a finding, because unknown keys and
/// bad values are only warnings (exit status 0) that systemd then silently ignores.
fn verify(files: &[PathBuf]) -> Result<(), String> {
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .args(files)
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .output()
        .expect("systemd-analyze not found: run tests/kit/setup.sh (Debian package systemd)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && text.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("systemd-analyze verify ({}):\n{text}", out.status))
    }
}

#[test]
fn shipped_units_verify_cleanly() {
    let units = shipped_units();
    let names: Vec<String> = units.iter().map(|u| u.rel.display().to_string()).collect();
    for expected in [
        "docker-dns-provision.service",
        "docker-dns-provision-resync.service",
        "docker-dns-provision-resync.timer",
        "mesos-agent.service.d/10-docker-dns-provision.conf",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    for unit in units
        .iter()
        .filter(|u| u.rel.extension() == Some("service".as_ref()))
    {
        // The boot unit runs it inside a retry loop (`/bin/sh -c '... {INSTALLED_BIN} apply'`).
        let exec = unit_keys(&unit.text)["ExecStart"].clone();
        assert!(
            exec.starts_with(&format!("{INSTALLED_BIN} apply "))
                || exec.contains(&format!(" {INSTALLED_BIN} apply ")),
            "{}: ExecStart must run {INSTALLED_BIN} apply (install.sh rewrites that path)",
            unit.rel.display()
        );
    }
    let dir = TempDir::new("units");
    let files = stage(dir.path(), &units);
    if let Err(e) = verify(&files) {
        panic!("{e}");
    }
}

/// Where a Podman host's drop-ins live, under init/systemd.
const PODMAN_DIR: &str = "podman";

/// Issue 25 §2: the services name their engine only in a drop-in (10-engine.conf), so a
/// Podman host replaces that one file: with Podman's drop-ins in place of the shipped ones,
/// the units verify, depend on podman.socket and point DOCKER_HOST at its socket, and nothing
/// names docker.service.
#[test]
fn podman_drop_ins_verify_in_place_of_the_docker_ones() {
    let shipped = shipped_units();
    let podman: Vec<&UnitFile> = shipped
        .iter()
        .filter(|u| u.rel.starts_with(PODMAN_DIR))
        .collect();
    let mut replaced = 0;
    let units: Vec<UnitFile> = shipped
        .iter()
        .filter(|u| !u.rel.starts_with(PODMAN_DIR))
        .map(|u| {
            let alternative = podman
                .iter()
                .find(|p| p.rel.strip_prefix(PODMAN_DIR).ok() == Some(u.rel.as_path()));
            if alternative.is_some() {
                replaced += 1;
            }
            UnitFile {
                rel: u.rel.clone(),
                text: alternative.map_or(u.text.clone(), |p| p.text.clone()),
            }
        })
        .collect();
    assert_eq!(replaced, 2, "a Podman drop-in for each service");
    assert_eq!(
        podman.len(),
        2,
        "every Podman drop-in replaces a shipped one"
    );
    for u in &units {
        let keys = unit_keys(&u.text);
        for key in ["Requires", "Requisite", "After", "Wants", "BindsTo"] {
            assert!(
                !keys.get(key).is_some_and(|v| v.contains("docker.service")),
                "{}: {key}= names docker.service on a Podman host",
                u.rel.display()
            );
        }
    }
    for service in [
        "docker-dns-provision.service.d/10-engine.conf",
        "docker-dns-provision-resync.service.d/10-engine.conf",
    ] {
        let u = units.iter().find(|u| u.rel == Path::new(service)).unwrap();
        let keys = unit_keys(&u.text);
        assert!(keys["After"].contains("podman.socket"), "{service}");
        assert_eq!(
            keys["Environment"], "DOCKER_HOST=unix:///run/podman/podman.sock",
            "{service}"
        );
    }
    let dir = TempDir::new("podman-units");
    let files = stage(dir.path(), &units);
    if let Err(e) = verify(&files) {
        panic!("{e}");
    }
}

#[test]
fn a_broken_unit_fails_verification() {
    // Each mutation breaks one shipped file the way a typo or a bad edit would.
    let cases = [
        (
            "docker-dns-provision.service",
            "Environment=",
            "Enviroment=",
        ),
        (
            "docker-dns-provision.service",
            "RemainAfterExit=yes",
            "RemainAfterExit=perhaps",
        ),
        (
            "docker-dns-provision.service",
            "TimeoutStartSec=infinity",
            "TimeoutStartSec=soon",
        ),
        (
            "docker-dns-provision-resync.service",
            "Type=oneshot",
            "Type=oneshoot",
        ),
        (
            "docker-dns-provision-resync.timer",
            "OnCalendar=",
            "OnCalender=",
        ),
        (
            "mesos-agent.service.d/10-docker-dns-provision.conf",
            "Requires=",
            "Require=",
        ),
        (
            "docker-dns-provision.service.d/10-engine.conf",
            "Requires=",
            "Require=",
        ),
        (
            "docker-dns-provision-resync.service.d/10-engine.conf",
            "Requisite=",
            "Requisit=",
        ),
    ];
    for (file, from, to) in cases {
        let mut units = shipped_units();
        let unit = units
            .iter_mut()
            .find(|u| u.rel == Path::new(file))
            .unwrap_or_else(|| panic!("{file} not shipped"));
        // Directives start a line; the comments above them may quote the same words.
        let (from, to) = (format!("\n{from}"), format!("\n{to}"));
        assert!(
            unit.text.contains(&from),
            "{file} has no line starting {from:?}"
        );
        unit.text = unit.text.replacen(&from, &to, 1);
        let dir = TempDir::new("broken");
        let files = stage(dir.path(), &units);
        assert!(
            verify(&files).is_err(),
            "{file} with {from:?} -> {to:?} passed verification"
        );
    }
}

/// `[Section] Key=value` pairs of a unit (the last value wins, as in systemd).
fn unit_keys(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn the_units_read_registry_credentials_their_hardening_leaves_visible() {
    let default = read(&repo().join("init/default/docker-dns-provision"));
    let dir = unit_keys(&default)
        .get("DOCKER_CONFIG")
        .cloned()
        .expect("init/default sets DOCKER_CONFIG for the units");
    // ProtectHome=yes hides /root, /home and /run/user; ProtectSystem=strict leaves /etc readable.
    assert!(
        dir.starts_with("/etc/"),
        "DOCKER_CONFIG={dir} is not under /etc"
    );
    for hidden in ["/root", "/home", "/run/user"] {
        assert!(
            !dir.starts_with(hidden),
            "DOCKER_CONFIG={dir} is hidden from the units"
        );
    }
    for unit in shipped_units()
        .iter()
        .filter(|u| u.rel.extension() == Some("service".as_ref()))
    {
        let keys = unit_keys(&unit.text);
        let name = unit.rel.display();
        assert_eq!(
            keys.get("EnvironmentFile").map(String::as_str),
            Some("-/etc/default/docker-dns-provision"),
            "{name}"
        );
        // The hardening stays as it was.
        assert_eq!(
            keys.get("ProtectHome").map(String::as_str),
            Some("yes"),
            "{name}"
        );
        assert_eq!(
            keys.get("ProtectSystem").map(String::as_str),
            Some("strict"),
            "{name}"
        );
        for key in ["InaccessiblePaths", "TemporaryFileSystem"] {
            assert!(!keys.contains_key(key), "{name}: {key}= could hide {dir}");
        }
        // EnvironmentFile= wins over Environment= for the same variable; still, none of the
        // unit's own variables is the credentials directory.
        assert!(
            !unit
                .text
                .lines()
                .any(|l| l.trim_start().starts_with("Environment=") && l.contains("DOCKER_CONFIG")),
            "{name}: Environment= could override {dir}"
        );
    }
}

/// Seconds in a duration as the units and the tool write them (`5m`, `7min`, `30s`).
fn seconds(text: &str) -> u64 {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("duration {text:?}"));
    match &text[digits.len()..] {
        "s" | "sec" => n,
        "m" | "min" => n * 60,
        other => panic!("unit {other:?} in duration {text:?}"),
    }
}

fn option<'a>(exec: &'a str, name: &str) -> &'a str {
    let mut words = exec.split_whitespace();
    words
        .find(|w| *w == name)
        .and_then(|_| words.next())
        .unwrap_or_else(|| panic!("{name} missing from {exec:?}"))
}

#[test]
fn unit_timing_and_restart_policy_hold_together() {
    let units = shipped_units();
    let keys = |name: &str| {
        unit_keys(
            &units
                .iter()
                .find(|u| u.rel == Path::new(name))
                .unwrap()
                .text,
        )
    };
    let boot = keys("docker-dns-provision.service");
    let resync = keys("docker-dns-provision-resync.service");
    let timer = keys("docker-dns-provision-resync.timer");

    // systemd must not kill a run before the tool's own deadline reports it, engine calls'
    // grace past --timeout included. The boot unit has no start timeout at all: it retries a
    // temporary failure within one start for as long as it lasts (see boot_retry_loop_*).
    let grace = docker_dns_provision::docker::DEADLINE_GRACE.as_secs();
    assert_eq!(boot["TimeoutStartSec"], "infinity");
    for (name, unit) in [("boot", &boot), ("resync", &resync)] {
        let timeout = seconds(option(&unit["ExecStart"], "--timeout"));
        if name == "resync" {
            let start = seconds(&unit["TimeoutStartSec"]);
            assert!(
                start > timeout + grace,
                "{name}: TimeoutStartSec {start}s <= --timeout {timeout}s + {grace}s grace"
            );
        }
        assert_eq!(
            option(&unit["ExecStart"], "--lock-file"),
            "/run/docker-dns-provision.lock"
        );
    }
    // A resync ends before the next tick would start one, and the per-host delay stays
    // within one period (spreading the fleet over it without skipping ticks).
    assert_eq!(
        timer["OnCalendar"], "*:0/5",
        "the period below assumes 5 minutes"
    );
    let period = 300;
    assert!(
        seconds(&resync["TimeoutStartSec"]) <= period,
        "resync may outlive the timer period"
    );
    assert!(seconds(&timer["RandomizedDelaySec"]) <= period);
    assert_eq!(timer["FixedRandomDelay"], "true");
    assert_eq!(timer["Persistent"], "true");

    // No Restart=: a failed start would fail the gated units' start jobs for good (systemd
    // #18856); the retry loop below replaces it.
    assert!(!boot.contains_key("Restart"), "boot unit has Restart=");
}

/// The boot unit's ExecStart shell script, as /bin/sh receives it (`$$` is systemd's `$`).
fn boot_script() -> String {
    let units = shipped_units();
    let unit = units
        .iter()
        .find(|u| u.rel == Path::new("docker-dns-provision.service"))
        .unwrap();
    let exec = unit_keys(&unit.text)["ExecStart"].clone();
    let rest = exec
        .strip_prefix("/bin/sh -c '")
        .unwrap_or_else(|| panic!("not a /bin/sh -c script: {exec}"));
    let (script, args) = rest.rsplit_once('\'').expect("closing quote");
    assert_eq!(
        args.trim(),
        "docker-dns-provision $DOCKER_DNS_PROVISION_OPTS",
        "the site's options must reach the tool as words"
    );
    script.replace("$$", "$")
}

/// Runs the boot unit's script with a stub tool that exits with `codes` in turn; returns the
/// script's exit status and the argument lines the stub saw.
fn run_boot_script(codes: &[u8], opts: &[&str]) -> (i32, Vec<String>) {
    let dir = TempDir::new("bootloop");
    let stub = dir.path().join("tool");
    let codes_file = dir.path().join("codes");
    let seen = dir.path().join("seen");
    fs::write(
        &codes_file,
        codes.iter().map(|c| format!("{c}\n")).collect::<String>(),
    )
    .unwrap();
    write_exec(
        &stub,
        &format!(
            "#!/bin/sh\necho \"$*\" >>{seen}\nc=$(head -n1 {codes})\nsed -i 1d {codes}\nexit ${{c:-99}}\n",
            seen = seen.display(),
            codes = codes_file.display()
        ),
    );
    let script = boot_script().replace(INSTALLED_BIN, &stub.display().to_string());
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(&script)
        .arg("docker-dns-provision")
        .args(opts)
        .current_dir(dir.path())
        .env("DOCKER_DNS_PROVISION_RETRY_SEC", "0")
        .output()
        .unwrap();
    let seen = fs::read_to_string(&seen).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        seen.lines().map(String::from).collect(),
    )
}

#[test]
fn boot_retry_loop_retries_only_the_temporary_failure() {
    let temp = Code::TempFail.status();
    // Every other failing exit code ends the start at once, with that status.
    for code in [
        Code::Usage,
        Code::DataError,
        Code::NotConfigured,
        Code::Unavailable,
        Code::Software,
        Code::ActionsFailed,
        Code::Config,
    ] {
        let status = code.status();
        let (got, runs) = run_boot_script(&[status, 0], &[]);
        assert_eq!(
            (got, runs.len()),
            (i32::from(status), 1),
            "{code:?} was retried or lost"
        );
    }
    // The temporary failure is retried until the run succeeds, or fails for good.
    let (got, runs) = run_boot_script(&[temp, temp, temp, 0], &[]);
    assert_eq!((got, runs.len()), (0, 4));
    let (got, runs) = run_boot_script(&[temp, 65], &[]);
    assert_eq!((got, runs.len()), (65, 2));
    // The site's options arrive as the words systemd split, unglobbed, after the unit's own.
    let (_, runs) = run_boot_script(&[0], &["--allow-image", "*", "--hostname", "h.test"]);
    assert_eq!(
        runs,
        [
            "apply --timeout 5m --lock-file /run/docker-dns-provision.lock --allow-image * --hostname h.test"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// cron

/// Checks one cron field: `*`, `N`, `N-M`, each optionally `/STEP`, comma-separated.
fn cron_field(field: &str, min: u32, max: u32) -> Result<(), String> {
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        if let Some(s) = step {
            match s.parse::<u32>() {
                Ok(n) if n >= 1 && n <= max => {}
                _ => return Err(format!("bad step {s:?} in {field:?}")),
            }
        }
        if range == "*" {
            continue;
        }
        let num = |t: &str| match t.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("{t:?} outside {min}-{max} in {field:?}")),
        };
        match range.split_once('-') {
            Some((a, b)) if num(a)? <= num(b)? => {}
            Some(_) => return Err(format!("empty range in {field:?}")),
            None => {
                num(range)?;
            }
        }
    }
    Ok(())
}

/// Checks a /etc/cron.d line (schedule, user, command); returns the command.
fn cron_line(line: &str) -> Result<&str, String> {
    let mut rest = line.trim_start();
    let mut next = || {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        rest = rest[word_end..].trim_start();
        word
    };
    let first = next();
    if first.starts_with('@') {
        if ![
            "@reboot", "@hourly", "@daily", "@weekly", "@monthly", "@yearly",
        ]
        .contains(&first)
        {
            return Err(format!("unknown schedule {first:?}"));
        }
    } else {
        let fields = [first, next(), next(), next(), next()];
        let bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
        for (f, (lo, hi)) in fields.iter().zip(bounds) {
            if f.is_empty() {
                return Err("fewer than 5 time fields".into());
            }
            cron_field(f, lo, hi)?;
        }
    }
    let user = next();
    if user != "root" {
        return Err(format!(
            "user {user:?}: only root can reach the Docker socket"
        ));
    }
    if rest.is_empty() {
        return Err("no command".into());
    }
    if rest.contains('%') {
        return Err("cron turns % into a newline".into());
    }
    Ok(rest)
}

#[test]
fn cron_line_checker_rejects_bad_lines() {
    let cases = [
        ("*/5 * * * * root cmd", Ok("cmd")),
        ("@reboot root cmd --x", Ok("cmd --x")),
        ("0,30 1-5 * 1-12/2 0 root cmd", Ok("cmd")),
        ("61 * * * * root cmd", Err("outside")),
        ("*/0 * * * * root cmd", Err("bad step")),
        ("5-1 * * * * root cmd", Err("empty range")),
        ("* * 0 * * root cmd", Err("outside")),
        ("* * * * root cmd", Err("outside")),
        ("* * * * * nobody cmd", Err("user")),
        ("* * * * * root", Err("no command")),
        ("* * * * * root date +%s", Err("%")),
        ("@every5m root cmd", Err("unknown schedule")),
    ];
    for (line, want) in cases {
        match (cron_line(line), want) {
            (Ok(cmd), Ok(w)) => assert_eq!(cmd, w, "{line}"),
            (Err(e), Err(w)) => assert!(e.contains(w), "{line}: {e} lacks {w:?}"),
            (got, w) => panic!("{line}: got {got:?}, want {w:?}"),
        }
    }
}

fn cron_commands() -> Vec<String> {
    let path = repo().join("init/cron.d/docker-dns-provision");
    let text = read(&path);
    // cron ignores a last line without its newline.
    assert!(
        text.ends_with('\n'),
        "{} must end with a newline",
        path.display()
    );
    let mut commands = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let is_env = line
            .split_once('=')
            .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if is_env {
            continue;
        }
        match cron_line(line) {
            Ok(cmd) => commands.push(cmd.to_string()),
            Err(e) => panic!("{}: {line:?}: {e}", path.display()),
        }
    }
    assert_eq!(
        commands.len(),
        2,
        "want the @reboot and the periodic line: {commands:?}"
    );
    commands
}

#[test]
fn cron_commands_log_output_and_failures_with_site_options() {
    for command in cron_commands() {
        let dir = TempDir::new("cron");
        let d = dir.path();
        write_exec(
            &d.join("tool"),
            "#!/bin/sh\nfor a in \"$@\"; do echo \"arg:$a\"; done\necho \"env:DOCKER_CONFIG=$DOCKER_CONFIG\"\necho 'tool says oops' >&2\nexit 75\n",
        );
        let fakebin = d.join("bin");
        fs::create_dir(&fakebin).unwrap();
        write_exec(
            &fakebin.join("logger"),
            &format!(
                "#!/bin/sh\necho \"$*\" >{0}/logger.args\ncat >{0}/logger.in\n",
                d.display()
            ),
        );
        fs::write(
            d.join("default"),
            "DOCKER_DNS_PROVISION_OPTS=\"--hostname web1.example.org --allow-image reg.example/*\"\nDOCKER_CONFIG=/etc/ddp-test/docker\n",
        )
        .unwrap();
        // A file the pattern would match if the shell globbed it.
        fs::create_dir(d.join("reg.example")).unwrap();
        fs::write(d.join("reg.example/x"), "").unwrap();

        assert!(command.contains(INSTALLED_BIN), "{command}");
        assert!(
            command.contains("/etc/default/docker-dns-provision"),
            "{command}"
        );
        let command = command
            .replace(INSTALLED_BIN, d.join("tool").to_str().unwrap())
            .replace(
                "/etc/default/docker-dns-provision",
                d.join("default").to_str().unwrap(),
            );
        let status = Command::new("/bin/sh")
            .arg("-c")
            .arg(&command)
            .current_dir(d)
            .env("PATH", format!("{}:/usr/bin:/bin", fakebin.display()))
            .status()
            .unwrap();
        assert!(status.success(), "{command}: {status}");

        let args = read(&d.join("logger.args"));
        assert!(
            args.contains("-t docker-dns-provision"),
            "logger args {args:?}"
        );
        let logged = read(&d.join("logger.in"));
        for want in [
            "arg:apply",
            "arg:--lock-file",
            "arg:web1.example.org",
            "arg:reg.example/*",
            "tool says oops",
            "exit status 75",
            "env:DOCKER_CONFIG=/etc/ddp-test/docker",
        ] {
            assert!(
                logged.contains(want),
                "{want:?} not logged by {command}:\n{logged}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// install.sh

#[test]
fn install_script_stages_a_prefix_and_keeps_site_options() {
    let dir = TempDir::new("install");
    let dest = dir.path();
    let run = |args: &[&str]| {
        let out = Command::new(repo().join("init/install.sh"))
            .args(args)
            .arg(BIN)
            .env("DESTDIR", dest)
            .env("PREFIX", "/opt/ddp")
            .output()
            .unwrap();
        assert!(out.status.success(), "install.sh {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    fs::create_dir_all(dest.join("etc/default")).unwrap();
    fs::write(dest.join("etc/default/docker-dns-provision"), "SITE=1\n").unwrap();

    let said = run(&[]);
    assert!(said.contains("systemctl enable"), "{said}");
    run(&["--cron"]);

    let bin = dest.join("opt/ddp/bin/docker-dns-provision");
    assert_eq!(fs::read(&bin).unwrap(), fs::read(BIN).unwrap());
    assert_eq!(
        fs::metadata(&bin).unwrap().permissions().mode() & 0o777,
        0o755
    );
    for file in [
        "etc/systemd/system/docker-dns-provision.service",
        "etc/systemd/system/docker-dns-provision-resync.service",
        "etc/systemd/system/docker-dns-provision-resync.timer",
        "etc/cron.d/docker-dns-provision",
    ] {
        let path = dest.join(file);
        let text = read(&path);
        assert!(
            !text.contains(INSTALLED_BIN),
            "{file} still runs {INSTALLED_BIN}"
        );
        if !file.ends_with(".timer") {
            assert!(
                text.contains("/opt/ddp/bin/docker-dns-provision apply"),
                "{file}"
            );
        }
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
    assert_eq!(
        read(&dest.join("etc/default/docker-dns-provision")),
        "SITE=1\n"
    );
    // The engine's drop-ins: docker.service by default, podman.socket with --podman (the
    // same file names, so that one install takes the place of the other).
    let engine =
        |unit: &str| read(&dest.join(format!("etc/systemd/system/{unit}.d/10-engine.conf")));
    for unit in [
        "docker-dns-provision.service",
        "docker-dns-provision-resync.service",
    ] {
        assert!(engine(unit).contains("\nAfter=docker.service"), "{unit}");
    }
    let said = run(&["--podman"]);
    assert!(said.contains("engine: podman"), "{said}");
    for unit in [
        "docker-dns-provision.service",
        "docker-dns-provision-resync.service",
    ] {
        let text = engine(unit);
        assert!(text.contains("\nAfter=podman.socket"), "{unit}: {text}");
        assert!(!text.contains("docker.service\n"), "{unit}: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// example records

const HOST: &str = "will-desktop";

fn dnsmasq_bin() -> &'static str {
    if Path::new("/usr/sbin/dnsmasq").exists() {
        "/usr/sbin/dnsmasq"
    } else {
        "dnsmasq"
    }
}

#[test]
fn dnsmasq_accepts_the_example() {
    let out = Command::new(dnsmasq_bin())
        .arg("--test")
        .arg(format!(
            "--conf-file={}",
            example("seed.dnsmasq.conf").display()
        ))
        .output()
        .expect("dnsmasq not found: run tests/kit/setup.sh (Debian package dnsmasq-base)");
    assert!(out.status.success(), "{out:?}");
}

/// A dnsmasq answering from one conf file on a free loopback port; killed on drop.
struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
    _dir: TempDir,
}

impl Dnsmasq {
    fn serve(conf: &Path) -> Dnsmasq {
        let dir = TempDir::new("dnsmasq");
        let log = dir.path().join("log");
        // Another process can take the port between probe and bind: try a few.
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(dnsmasq_bin())
                .arg("--keep-in-foreground")
                .arg(format!("--conf-file={}", conf.display()))
                .arg(format!("--port={port}"))
                .args(["--listen-address=127.0.0.1", "--bind-interfaces"])
                .args(["--no-resolv", "--no-hosts", "--pid-file="])
                .arg(format!("--local=/{HOST}/"))
                .arg("--log-facility=-")
                .stdout(Stdio::null())
                .stderr(fs::File::create(&log).unwrap())
                .spawn()
                .expect("dnsmasq not found: run tests/kit/setup.sh");
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if query_txt(addr, &format!("containers.docker.{HOST}")).is_some() {
                    return Dnsmasq {
                        child,
                        addr,
                        _dir: dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("dnsmasq did not start; its log:\n{}", read(&log));
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a TXT query got: each RR's strings, or the response code when there is no answer.
type Txt = Result<Vec<Vec<String>>, ResponseCode>;

/// One TXT query over UDP; None when nothing answered within a second.
fn query_txt(server: SocketAddr, name: &str) -> Option<Txt> {
    let mut qname = Name::from_ascii(name).unwrap();
    qname.set_fqdn(true);
    let mut q = Message::query();
    q.add_query(Query::query(qname.clone(), RecordType::TXT));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(server).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    sock.send(&q.to_vec().unwrap()).unwrap();
    let mut buf = [0u8; 65535];
    loop {
        let n = sock.recv(&mut buf).ok()?;
        let Ok(r) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        if r.id != q.id || r.message_type != MessageType::Response {
            continue;
        }
        if r.response_code != ResponseCode::NoError {
            return Some(Err(r.response_code));
        }
        let rrs = r
            .answers
            .iter()
            .filter(|rr| rr.name == qname)
            .filter_map(|rr| match &rr.data {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect(),
                ),
                _ => None,
            })
            .collect();
        return Some(Ok(rrs));
    }
}

#[test]
fn dnsmasq_serves_the_example_records() {
    let dns = Dnsmasq::serve(&example("seed.dnsmasq.conf"));
    let ask = |name: &str| {
        query_txt(dns.addr, &format!("{name}.{HOST}"))
            .unwrap_or_else(|| panic!("no answer for {name}"))
    };
    let mut list: Vec<String> = ask("containers.docker")
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    list.sort();
    assert_eq!(list, ["bash-echoer", "bash-sleeper", "etcd"]);
    assert_eq!(
        ask("etcd.containers.docker"),
        Ok(vec![vec!["quay.io/coreos/etcd".to_string()]])
    );
    assert_eq!(
        ask("bash-sleeper.containers.docker"),
        Ok(vec![vec!["ubuntu:wily sleep 60".to_string()]])
    );
    assert_eq!(
        ask("bash-echoer.containers.docker"),
        Err(ResponseCode::NXDomain)
    );
}

/// The `status` `show --output json` gives the container `name` (`containers[].status`).
fn status_of<'a>(doc: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    doc["containers"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)?["status"]
        .as_str()
}

fn show(source_args: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN)
        .arg("show")
        .args(source_args)
        .args(["--hostname", HOST, "--output", "json", "--timeout", "10s"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "show {source_args:?}: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "show {source_args:?}: not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn assert_seed_states(doc: &serde_json::Value, source: &str) {
    assert_eq!(doc["list"]["status"], "listed", "{source}: {doc:#}");
    let count = doc["containers"].as_array().map(Vec::len);
    assert_eq!(count, Some(3), "{source}: {doc:#}");
    for (name, want) in [
        ("etcd", "spec"),
        ("bash-sleeper", "spec"),
        ("bash-echoer", "disabled"),
    ] {
        assert_eq!(
            status_of(doc, name),
            Some(want),
            "{source}: status of {name} in\n{doc:#}"
        );
    }
}

#[test]
fn the_tool_reads_the_example_record_files() {
    let mut docs = Vec::new();
    for file in ["seed.dnsmasq.conf", "seed.zone"] {
        let path = example(file);
        let doc = show(&["--records", path.to_str().unwrap()]);
        assert_seed_states(&doc, file);
        docs.push(doc);
    }
    // The two files hold the same records.
    assert_eq!(docs[0]["containers"], docs[1]["containers"]);
}

#[test]
fn the_tool_reads_the_example_through_dnsmasq() {
    let dns = Dnsmasq::serve(&example("seed.dnsmasq.conf"));
    let doc = show(&["--nameserver", &dns.addr.to_string()]);
    assert_seed_states(&doc, "dnsmasq");
}
