//! What a record may ask for when whoever controls DNS should not control the host as root:
//! an image allow-list and a refusal of privileges. Pure checks on the parsed create body,
//! so the run-line and JSON forms are judged alike. Owns no parsing of its own.
//!
//! With `forbid_privileged`, a spec is refused when its `HostConfig` has any of the fields
//! docker-dns-provision-security(7) lists (`--forbid-privileged`): privileged mode, the capabilities in
//! [`DANGEROUS_CAPS`], `Capabilities` at all, the host's or another container's PID
//! namespace, the host's user namespace, devices, `Annotations`, `VolumesFrom`, binds and
//! mounts of [`PROTECTED`] or writable [`SYSTEM`] paths, local-volume options that mount a
//! host device or directory, security options that lift confinement, and `MaskedPaths` or
//! `ReadonlyPaths` lists without every engine default.
//!
//! Host files and the tool's environment are a channel too (`--env-file /etc/shadow` would
//! copy a host secret into a container DNS controls): parse through [`Policy::guard`], which
//! refuses file reads and hides the environment when `forbid_privileged` is set.
//!
//! Paths are compared after `path.Clean` (so `/etc/`, `/./etc` and `//etc` are `/etc`);
//! symbolic links cannot be resolved by a pure check, so a link to a protected path on the
//! host is not caught.

use std::path::Path;

use serde_json::Value;

use super::values::clean_path;
use super::{ContainerSpec, Host, SpecError};

/// The security policy the command line sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `--allow-image` patterns; empty allows every image.
    pub allow_images: Vec<String>,
    /// `--forbid-privileged`: refuse what amounts to root on the host (table above).
    pub forbid_privileged: bool,
}

const DANGEROUS_CAPS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_PTRACE",
    "DAC_READ_SEARCH",
    "BPF",
    // kexec_load is not namespaced: a crash kernel of the container's choosing.
    "SYS_BOOT",
    // The LSM (AppArmor, SELinux) is what confines the rest; these lift or rewrite it.
    "MAC_ADMIN",
    "MAC_OVERRIDE",
];

/// Paths no record may bind, at any depth, in either direction (`/run` exposes
/// `/run/docker.sock`). The sockets are root-equivalent: whoever talks to them starts
/// processes or containers as root (the engine, containerd, CRI-O, Podman, snapd, libvirt,
/// BuildKit, the system D-Bus and systemd's private bus, root's own user bus, udev).
const PROTECTED: &[&str] = &[
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/efi",
    "/root",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/containers",
    "/var/lib/kubelet",
    "/run/docker.sock",
    "/run/docker",
    "/run/containerd",
    "/run/crio",
    "/run/podman",
    "/run/containers",
    "/run/k3s",
    "/run/snapd.socket",
    "/run/snapd-snap.socket",
    "/run/libvirt",
    "/run/buildkit",
    "/run/dbus",
    "/run/systemd",
    "/run/user/0",
    "/run/udev",
    "/var/run/docker.sock",
    "/var/run/docker",
    "/var/run/containerd",
    "/var/run/crio",
    "/var/run/podman",
    "/var/run/containers",
    "/var/run/k3s",
    "/var/run/snapd.socket",
    "/var/run/snapd-snap.socket",
    "/var/run/libvirt",
    "/var/run/buildkit",
    "/var/run/dbus",
    "/var/run/systemd",
    "/var/run/user/0",
    "/var/run/udev",
];

/// Where each user's runtime directory lies (`/run/user/<uid>`).
const USER_RUNTIME: &[&str] = &["/run/user", "/var/run/user"];

/// What in a user's runtime directory is a rootless engine's API: whoever talks to it runs
/// anything as that user (and, with the user's subordinate IDs, owns their containers).
const USER_ENGINES: &[&str] = &[
    "docker.sock",
    "docker",
    "podman",
    "containerd-rootless",
    "buildkit",
];

/// The rootless engines' paths of the user whose runtime directory `path` lies in. A path
/// that shows every user's runtime directory also shows root's, which [`PROTECTED`] holds.
fn user_engine_paths(path: &str) -> Vec<String> {
    for base in USER_RUNTIME {
        if let Some(rest) = path.strip_prefix(base).and_then(|r| r.strip_prefix('/')) {
            let user = rest.split('/').next().unwrap_or(rest);
            return USER_ENGINES
                .iter()
                .map(|e| format!("{base}/{user}/{e}"))
                .collect();
        }
    }
    Vec::new()
}

/// What inside `/etc` a read-only bind may show: the host's clock, names and public trust
/// roots. The rest of `/etc` holds secrets that lead to root (`/etc/shadow`, SSH host keys,
/// `/etc/kubernetes/admin.conf`).
const ETC_READABLE: &[&str] = &[
    "/etc/localtime",
    "/etc/timezone",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/machine-id",
    "/etc/os-release",
    "/etc/passwd",
    "/etc/group",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
    "/etc/pki/ca-trust",
    "/etc/pki/tls/certs",
];

/// Where a writable bind lets a container replace what root on the host runs: binaries,
/// cron tables, and package databases whose maintainer scripts root runs on the next upgrade.
const SYSTEM: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/var/spool/cron",
    "/var/lib/dpkg",
    "/var/lib/rpm",
    "/var/lib/snapd",
];

/// The paths engines mask by default (the union over versions: 20.10's list, plus
/// `/proc/interrupts` and `/sys/devices/virtual/powercap` of later ones). A non-null
/// `MaskedPaths` replaces the engine's list, so it must hold all of these.
const DEFAULT_MASKED: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// The paths engines make read-only by default; a non-null `ReadonlyPaths` replaces them.
const DEFAULT_READONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

impl Policy {
    /// Refuse a spec this policy does not allow, naming what was refused.
    pub fn check(&self, spec: &ContainerSpec) -> Result<(), SpecError> {
        if !self.allow_images.is_empty() {
            let canonical = spec.image.canonical();
            let familiar = spec.image.familiar();
            let allowed = self
                .allow_images
                .iter()
                .any(|p| image_matches(p, &canonical) || image_matches(p, &familiar));
            if !allowed {
                return Err(SpecError(format!(
                    "image {canonical} not allowed by --allow-image ({})",
                    self.allow_images.join(", ")
                )));
            }
        }
        if let Some(hc) = spec
            .body
            .get("HostConfig")
            .filter(|_| self.forbid_privileged)
        {
            check_host_config(hc)
                .map_err(|what| SpecError(format!("refused by --forbid-privileged: {what}")))?;
        }
        Ok(())
    }
}

/// A [`Host`] that lets a record read host files and the tool's environment only when the
/// policy allows privileges.
pub struct GuardedHost<'a> {
    inner: &'a dyn Host,
    forbid: bool,
}

impl Policy {
    /// The host to parse records through under this policy.
    pub fn guard<'a>(&self, inner: &'a dyn Host) -> GuardedHost<'a> {
        GuardedHost {
            inner,
            forbid: self.forbid_privileged,
        }
    }
}

impl Host for GuardedHost<'_> {
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        if self.forbid {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "--forbid-privileged: records may not read host files",
            ));
        }
        self.inner.read_file(path)
    }

    fn env(&self, key: &str) -> Option<String> {
        if self.forbid {
            return None;
        }
        self.inner.env(key)
    }
}

/// An allow-list pattern against one form of the image reference.
///
/// With a `*`, the pattern is a glob over the whole reference and `*` matches any run of
/// characters, `/` and `:` included (`quay.io/coreos/*` allows `quay.io/coreos/etcd:v3`).
/// Without one, it is a prefix that must end at a boundary of the reference: the whole
/// reference, or followed by `/`, `:` or `@` (so `quay.io/coreos` allows
/// `quay.io/coreos/etcd:latest` but not `quay.io/coreosx/etcd`), unless the pattern itself
/// ends with `/`, `:` or `@`.
pub fn image_matches(pattern: &str, reference: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    if pattern.contains('*') {
        return glob(pattern.as_bytes(), reference.as_bytes());
    }
    match reference.strip_prefix(pattern) {
        None => false,
        Some("") => true,
        Some(rest) => pattern.ends_with(['/', ':', '@']) || rest.starts_with(['/', ':', '@']),
    }
}

/// `*` matches any run of bytes; everything else matches itself.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            backtrack = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((bp, bt)) = backtrack {
            p = bp + 1;
            t = bt + 1;
            backtrack = Some((bp, bt + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

fn truthy(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Null) | Some(Value::Bool(false)))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn non_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

fn check_host_config(hc: &Value) -> Result<(), String> {
    if truthy(hc.get("Privileged")) {
        return Err("Privileged".into());
    }
    for cap in strings(hc.get("CapAdd")) {
        let upper = cap.trim().to_uppercase();
        let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
        if DANGEROUS_CAPS.contains(&bare) {
            return Err(format!("CapAdd {cap}"));
        }
    }
    // API 1.40's field replaces the whole capability set on engines that honour it, and
    // later ones may honour it again: no list in it can be judged against CapAdd's.
    if !matches!(hc.get("Capabilities"), None | Some(Value::Null)) {
        return Err("Capabilities (replaces the capability set)".into());
    }
    for key in ["PidMode", "UsernsMode"] {
        if hc.get(key).and_then(Value::as_str) == Some("host") {
            return Err(format!("{key} host"));
        }
    }
    // Joining another container's PID namespace is joining the host's when that container
    // runs with --pid host, which this check cannot see.
    if let Some(mode) = hc
        .get("PidMode")
        .and_then(Value::as_str)
        .filter(|m| m.starts_with("container:"))
    {
        return Err(format!(
            "PidMode {mode} (another container's namespace, which may be the host's)"
        ));
    }
    for key in [
        "Devices",
        "DeviceRequests",
        "DeviceCgroupRules",
        "VolumesFrom",
        "Annotations",
    ] {
        if non_empty(hc.get(key)) {
            let why = match key {
                "VolumesFrom" => "mounts of another container",
                // Passed to the OCI runtime unread by the engine; some runtimes act on
                // them (CDI device injection through cdi.k8s.io/… keys).
                "Annotations" => "read by the OCI runtime, unchecked",
                _ => "device access",
            };
            return Err(format!("{key} ({why})"));
        }
    }
    for bind in strings(hc.get("Binds")) {
        let mut parts = bind.splitn(3, ':');
        let source = parts.next().unwrap_or_default();
        let _target = parts.next();
        let read_only = parts
            .next()
            .is_some_and(|o| o.split(',').any(|x| x == "ro"));
        if source.starts_with('/') {
            check_source(source, read_only).map_err(|why| format!("bind {bind:?}: {why}"))?;
        }
    }
    if let Some(Value::Array(mounts)) = hc.get("Mounts") {
        for m in mounts {
            check_mount(m)?;
        }
    }
    for opt in strings(hc.get("SecurityOpt")) {
        let trimmed = opt.trim();
        let (key, val) = trimmed
            .split_once('=')
            .or_else(|| trimmed.split_once(':'))
            .unwrap_or((trimmed, ""));
        let refused = matches!(
            (key, val),
            ("apparmor" | "systempaths", "unconfined") | ("label", "disable")
        ) || (key == "seccomp" && val != "builtin")
            || (key == "label" && !safe_label(val))
            || (key == "writable-cgroups" && val != "false");
        if refused {
            return Err(format!("SecurityOpt {opt}"));
        }
    }
    for (key, defaults) in [
        ("MaskedPaths", DEFAULT_MASKED),
        ("ReadonlyPaths", DEFAULT_READONLY),
    ] {
        let Some(v) = hc.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let given: Vec<String> = strings(Some(v)).iter().map(|p| clean_path(p)).collect();
        if let Some(missing) = defaults.iter().find(|d| !given.iter().any(|g| g == *d)) {
            return Err(format!(
                "{key} without {missing} (a list replaces the engine's defaults)"
            ));
        }
    }
    Ok(())
}

/// An SELinux `label=` option that keeps the container in a container domain: a level, or
/// a type that is one of the container types. `type:spc_t`, `type:unconfined_t`, a user
/// or a role are ways out.
fn safe_label(val: &str) -> bool {
    if val.starts_with("level:") || val == "nested" {
        return true;
    }
    matches!(
        val.strip_prefix("type:"),
        Some("container_t" | "container_init_t" | "svirt_lxc_net_t" | "svirt_sandbox_file_t")
    )
}

fn check_mount(m: &Value) -> Result<(), String> {
    let kind = m.get("Type").and_then(Value::as_str).unwrap_or("volume");
    // A read-only bind that is not recursively so leaves the mounts beneath it writable.
    let read_only =
        truthy(m.get("ReadOnly")) && !truthy(m.pointer("/BindOptions/ReadOnlyNonRecursive"));
    let source = m.get("Source").and_then(Value::as_str).unwrap_or_default();
    if kind == "bind" {
        return check_source(source, read_only)
            .map_err(|why| format!("bind mount of {source:?}: {why}"));
    }
    if kind != "volume" {
        return Ok(());
    }
    match m.pointer("/VolumeOptions/DriverConfig/Options") {
        Some(Value::Object(opts)) => check_volume_options(opts, read_only),
        _ => Ok(()),
    }
}

/// A volume defined in the record is mounted by the engine, as root, with the driver's
/// options: the local driver's are `mount(8)`'s. Allowed: a tmpfs, a network file system,
/// and `o=bind` of a path a bind could name.
fn check_volume_options(
    opts: &serde_json::Map<String, Value>,
    read_only: bool,
) -> Result<(), String> {
    let get = |name: &str| {
        opts.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    };
    let fstype = get("type").unwrap_or_default().to_lowercase();
    let o = get("o").unwrap_or_default();
    for opt in o.split(',') {
        let key = opt
            .split_once('=')
            .map_or(opt, |(k, _)| k)
            .trim()
            .to_lowercase();
        if matches!(
            key.as_str(),
            "lowerdir" | "upperdir" | "workdir" | "datadir"
        ) {
            return Err(format!(
                "volume option o={o}: an overlay of host directories ({key})"
            ));
        }
    }
    // `o=bind` makes `device` a bind source, resolved against the engine's working
    // directory (`/`) when relative.
    if o.split(',').any(|x| matches!(x.trim(), "bind" | "rbind")) {
        let device = get("device").unwrap_or("/");
        return check_source(device, read_only)
            .map_err(|why| format!("volume binding {device:?}: {why}"));
    }
    let Some(device) = get("device") else {
        return Ok(());
    };
    let network = matches!(fstype.as_str(), "nfs" | "nfs4" | "cifs" | "smb3");
    if fstype == "tmpfs" || (network && !device.starts_with('/')) {
        return Ok(());
    }
    Err(format!(
        "volume device={device} (type={fstype}): a host block device or directory"
    ))
}

fn check_source(source: &str, read_only: bool) -> Result<(), String> {
    let path = clean_path(source);
    let within = |inner: &str, outer: &str| {
        inner == outer
            || outer == "/"
            || inner
                .strip_prefix(outer)
                .is_some_and(|r| r.starts_with('/'))
    };
    if !path.starts_with('/') {
        return Err("a bind source must be absolute".into());
    }
    for p in PROTECTED {
        if within(p, &path) {
            return Err(format!("it exposes {p}"));
        }
        let readable = read_only && *p == "/etc" && ETC_READABLE.iter().any(|r| within(&path, r));
        if within(&path, p) && !readable {
            return Err(format!("it lies inside {p}"));
        }
    }
    for p in user_engine_paths(&path) {
        if within(&p, &path) {
            return Err(format!("it exposes {p}"));
        }
        if within(&path, &p) {
            return Err(format!("it lies inside {p}"));
        }
    }
    for p in SYSTEM {
        if !read_only && (within(p, &path) || within(&path, p)) {
            return Err(format!("it makes {p} writable"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::parse;

    use crate::container::tests::NoHost;

    #[test]
    fn patterns() {
        let cases: &[(&str, &str, bool)] = &[
            ("quay.io/coreos/*", "quay.io/coreos/etcd:latest", true),
            ("quay.io/coreos/*", "quay.io/coreos/a/b:v1", true),
            ("quay.io/coreos/*", "quay.io/coreosx/etcd:latest", false),
            ("quay.io/coreos", "quay.io/coreos/etcd:latest", true),
            ("quay.io/coreos", "quay.io/coreosx/etcd:latest", false),
            ("quay.io/coreos/etcd", "quay.io/coreos/etcd:latest", true),
            (
                "quay.io/coreos/etcd",
                "quay.io/coreos/etcd-evil:latest",
                false,
            ),
            ("quay.io/", "quay.io/x:latest", true),
            ("busybox", "busybox:latest", true),
            ("busybox:latest", "busybox:latest", true),
            ("busybox:1", "busybox:1.36", false),
            ("busybox:1*", "busybox:1.36", true),
            ("*", "anything", true),
            ("*/etcd:*", "quay.io/coreos/etcd:v3", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("", "busybox:latest", false),
        ];
        for (p, r, want) in cases {
            assert_eq!(image_matches(p, r), *want, "{p} vs {r}");
        }
    }

    fn check(policy: &Policy, text: &str) -> Result<(), String> {
        let spec = parse(text, &NoHost).map_err(|e| format!("parse: {e}"))?;
        policy.check(&spec).map_err(|e| e.0)
    }

    #[test]
    fn allow_list() {
        let policy = Policy {
            allow_images: vec!["quay.io/coreos/*".into(), "busybox".into()],
            forbid_privileged: false,
        };
        for ok in [
            "quay.io/coreos/etcd",
            "busybox",
            "docker.io/library/busybox:1.36",
            "index.docker.io/busybox",
            r#"{"Image":"busybox"}"#,
        ] {
            assert_eq!(check(&policy, ok), Ok(()), "{ok}");
        }
        for bad in [
            "nginx",
            "quay.io/evil/etcd",
            "evil.io/busybox",
            "busybox2",
            r#"{"Image":"nginx"}"#,
        ] {
            let err = check(&policy, bad).unwrap_err();
            assert!(err.contains("not allowed by --allow-image"), "{bad}: {err}");
        }
        assert_eq!(check(&Policy::default(), "--privileged anything"), Ok(()));
    }

    // Exempt from the length limit: a data table of lines the policy allows and refuses, one
    // row each.
    #[allow(clippy::too_many_lines)]
    #[test]
    fn forbid_privileged() {
        let policy = Policy {
            allow_images: vec![],
            forbid_privileged: true,
        };
        let allowed = [
            "busybox",
            "--net host busybox",
            "--cap-add NET_ADMIN busybox",
            "--cap-drop ALL busybox",
            "--privileged=false busybox",
            "-v /srv/data:/data busybox",
            "-v /etc/localtime:/etc/localtime:ro busybox",
            "-v /etcetera:/x busybox",
            "-v /run/user/1000/app:/x busybox",
            "-v /run/users:/x busybox",
            "-v named:/etc busybox",
            "--mount type=bind,src=/srv,dst=/srv busybox",
            "--mount type=volume,src=v,dst=/v busybox",
            "--security-opt no-new-privileges busybox",
            "--security-opt seccomp=builtin busybox",
            "--security-opt apparmor=docker-default busybox",
            "--security-opt label=level:s0:c100,c200 busybox",
            "--ipc container:x busybox",
            "-v /etc/ssl/certs:/etc/ssl/certs:ro busybox",
            "--security-opt label=type:container_t busybox",
            "--security-opt label=level:s0 busybox",
            "--mount type=volume,dst=/t,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=64m busybox",
            "--mount type=volume,dst=/n,volume-opt=type=nfs,volume-opt=o=addr=10.0.0.1,volume-opt=device=:/export busybox",
            "--mount type=volume,dst=/b,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/srv/data busybox",
            "-v /run/user/1000/app:/a busybox",
            r#"{"Image":"busybox","HostConfig":{"MaskedPaths":["/proc/asound","/proc/acpi","/proc/interrupts","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware","/sys/devices/virtual/powercap","/proc/extra"],"ReadonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys/","/proc/sysrq-trigger"]}}"#,
            r#"{"Image":"busybox","HostConfig":{"MaskedPaths":null,"Capabilities":null}}"#,
            "-v /usr:/usr:ro busybox",
            "-v /lib/modules:/lib/modules:ro busybox",
            "--mount type=bind,src=/usr/share,dst=/s,readonly busybox",
            "-v /var/spool/mail:/m busybox",
            "-v /usrdata:/d busybox",
            r#"{"Image":"busybox","HostConfig":{"Privileged":false,"CapAdd":null}}"#,
        ];
        for ok in allowed {
            assert_eq!(check(&policy, ok), Ok(()), "{ok}");
        }
        let refused: &[(&str, &str)] = &[
            ("--privileged busybox", "Privileged"),
            ("--cap-add ALL busybox", "CapAdd"),
            ("--cap-add sys_admin busybox", "CapAdd"),
            ("--cap-add cap_sys_module busybox", "CapAdd"),
            ("--pid host busybox", "PidMode host"),
            ("--userns host busybox", "UsernsMode host"),
            ("--device /dev/sda busybox", "Devices"),
            ("--device vendor.com/gpu=0 busybox", "DeviceRequests"),
            (
                "--device-cgroup-rule 'c 1:3 mr' busybox",
                "DeviceCgroupRules",
            ),
            ("-v /:/host busybox", "exposes"),
            ("-v /etc:/x busybox", "exposes /etc"),
            ("-v /etc/:/x busybox", "exposes /etc"),
            ("-v /./etc:/x busybox", "exposes /etc"),
            ("-v //etc//:/x:ro busybox", "exposes /etc"),
            ("-v /etc/cron.d:/x busybox", "inside /etc"),
            ("-v /var/run/docker.sock:/s busybox", "docker.sock"),
            ("-v /run/docker.sock:/s busybox", "docker.sock"),
            ("-v /run:/r busybox", "docker.sock"),
            (
                "-v /run/podman/podman.sock:/s busybox",
                "inside /run/podman",
            ),
            ("-v /var/run/podman:/s busybox", "exposes /var/run/podman"),
            (
                "-v /run/containerd/containerd.sock:/s busybox",
                "inside /run/containerd",
            ),
            ("-v /run/k3s/containerd:/s busybox", "inside /run/k3s"),
            (
                "-v /var/lib/containers:/s busybox",
                "exposes /var/lib/containers",
            ),
            (
                "-v /run/user/1000/docker.sock:/s busybox",
                "/run/user/1000/docker.sock",
            ),
            (
                "-v /run/user/1000/podman/podman.sock:/s busybox",
                "inside /run/user/1000/podman",
            ),
            (
                "-v /var/run/user/1000/podman/podman.sock:/s busybox",
                "inside /var/run/user/1000/podman",
            ),
            (
                "-v /run/user/1000:/s:ro busybox",
                "exposes /run/user/1000/docker.sock",
            ),
            ("-v /var/run/user:/s busybox", "exposes /var/run/user/0"),
            ("-v /var/run/user/:/s:ro busybox", "exposes /var/run/user"),
            (
                "--mount type=bind,src=/run/user/1000/containerd-rootless/containerd.sock,dst=/s busybox",
                "containerd-rootless",
            ),
            ("-v /var:/r busybox", "exposes"),
            ("-v /proc/1:/r:ro busybox", "inside /proc"),
            ("-v /srv/../etc:/x busybox", "exposes /etc"),
            ("--mount type=bind,src=/,dst=/h busybox", "bind mount"),
            (
                "--mount type=bind,src=/etc,dst=/h,readonly busybox",
                "exposes /etc",
            ),
            (
                "--mount type=volume,dst=/h,volume-driver=local,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc busybox",
                "volume binding",
            ),
            ("-v /usr:/u busybox", "makes /usr writable"),
            ("-v /usr/local/bin:/b busybox", "makes /usr writable"),
            ("-v /bin:/b busybox", "makes /bin writable"),
            ("-v /lib/systemd:/s busybox", "makes /lib writable"),
            ("-v /var/spool:/s busybox", "makes /var/spool/cron writable"),
            ("-v /var/spool/cron/crontabs:/c busybox", "/var/spool/cron"),
            (
                "--mount type=bind,src=/sbin,dst=/s busybox",
                "makes /sbin writable",
            ),
            ("--volumes-from agent busybox", "VolumesFrom"),
            ("--volumes-from agent:ro busybox", "VolumesFrom"),
            ("--security-opt seccomp=unconfined busybox", "SecurityOpt"),
            ("--security-opt seccomp:unconfined busybox", "SecurityOpt"),
            ("--security-opt apparmor=unconfined busybox", "SecurityOpt"),
            ("--security-opt label=disable busybox", "SecurityOpt"),
            ("--security-opt label:disable busybox", "SecurityOpt"),
            ("--security-opt label=type:spc_t busybox", "SecurityOpt"),
            (
                r#"{"Image":"busybox","HostConfig":{"SecurityOpt":["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"]}}"#,
                "SecurityOpt seccomp=",
            ),
            (
                "--security-opt systempaths=unconfined busybox",
                "MaskedPaths",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"Privileged":true}}"#,
                "Privileged",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"Binds":["/:/h"]}}"#,
                "exposes",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"CapAdd":["CAP_SYS_ADMIN"]}}"#,
                "CapAdd",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"bind","Source":"/var/run/docker.sock","Target":"/s"}]}}"#,
                "docker.sock",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"SecurityOpt":["seccomp=unconfined"]}}"#,
                "SecurityOpt",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"MaskedPaths":[]}}"#,
                "MaskedPaths",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"PidMode":"host"}}"#,
                "PidMode",
            ),
            ("--pid container:x busybox", "PidMode container:x"),
            (
                r#"{"Image":"busybox","HostConfig":{"MaskedPaths":["/x"],"ReadonlyPaths":["/x"]}}"#,
                "MaskedPaths without /proc/asound",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"ReadonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sysrq-trigger"]}}"#,
                "ReadonlyPaths without /proc/sys",
            ),
            (
                "--mount type=volume,dst=/d,volume-opt=type=ext4,volume-opt=device=/dev/sda1 busybox",
                "volume device=/dev/sda1",
            ),
            (
                r#"--mount 'type=volume,dst=/d,volume-opt=type=overlay,volume-opt=device=overlay,"volume-opt=o=lowerdir=/srv/l,upperdir=/srv/u,workdir=/srv/w"' busybox"#,
                "an overlay of host directories",
            ),
            (
                "--mount type=volume,dst=/d,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=etc busybox",
                "must be absolute",
            ),
            (
                "--mount type=volume,dst=/d,volume-opt=type=nfs,volume-opt=device=/srv busybox",
                "volume device=/srv",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"volume","Target":"/d","VolumeOptions":{"DriverConfig":{"Options":{"Device":"/dev/sda1","type":"ext4"}}}}]}}"#,
                "volume device=/dev/sda1",
            ),
            ("-v /run/dbus:/d busybox", "exposes /run/dbus"),
            (
                "-v /var/run/dbus/system_bus_socket:/s busybox",
                "inside /var/run/dbus",
            ),
            ("-v /run/systemd/private:/s busybox", "inside /run/systemd"),
            ("-v /run/crio/crio.sock:/s busybox", "inside /run/crio"),
            (
                "-v /run/podman/podman.sock:/s busybox",
                "inside /run/podman",
            ),
            (
                "-v /run/snapd.socket:/s busybox",
                "exposes /run/snapd.socket",
            ),
            ("-v /run/user/0/bus:/s busybox", "inside /run/user/0"),
            ("-v /run/docker/containerd:/s busybox", "inside /run/docker"),
            ("-v /etc/shadow:/s:ro busybox", "inside /etc"),
            ("-v /etc/kubernetes:/k:ro busybox", "inside /etc"),
            (
                "-v /var/lib/dpkg:/d busybox",
                "makes /var/lib/dpkg writable",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"Capabilities":["CAP_SYS_ADMIN"]}}"#,
                "Capabilities",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"Capabilities":[]}}"#,
                "Capabilities",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"Annotations":{"cdi.k8s.io/x":"nvidia.com/gpu=all"}}}"#,
                "Annotations",
            ),
            ("--cap-add SYS_BOOT busybox", "CapAdd"),
            ("--gpus all busybox", "DeviceRequests"),
            ("--annotation a=b busybox", "Annotations"),
            (
                "--use-api-socket busybox",
                "bind mount of \"/var/run/docker.sock\"",
            ),
            ("--cap-add mac_admin busybox", "CapAdd"),
            (
                "--security-opt label=type:unconfined_t busybox",
                "SecurityOpt",
            ),
            ("--security-opt label=user:system_u busybox", "SecurityOpt"),
            (
                r#"{"Image":"busybox","HostConfig":{"SecurityOpt":["writable-cgroups=true"]}}"#,
                "SecurityOpt",
            ),
            (
                r#"{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"bind","Source":"/usr","Target":"/u","ReadOnly":true,"BindOptions":{"ReadOnlyNonRecursive":true}}]}}"#,
                "makes /usr writable",
            ),
        ];
        for (text, want) in refused {
            let err = check(&policy, text).unwrap_err();
            assert!(
                err.contains("refused by --forbid-privileged"),
                "{text}: {err}"
            );
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    struct OpenHost;
    impl Host for OpenHost {
        fn read_file(&self, _: &Path) -> std::io::Result<String> {
            Ok("SECRET=1\n".into())
        }
        fn env(&self, _: &str) -> Option<String> {
            Some("secret".into())
        }
    }

    #[test]
    fn guard_hides_host_files_and_environment() {
        let text = "--env-file /etc/shadow busybox";
        let strict = Policy {
            allow_images: vec![],
            forbid_privileged: true,
        };
        let err = parse(text, &strict.guard(&OpenHost)).unwrap_err().0;
        assert!(err.contains("may not read host files"), "{err}");
        let spec = parse("-e TOKEN busybox", &strict.guard(&OpenHost)).unwrap();
        assert_eq!(spec.body["Env"], serde_json::json!(["TOKEN"]));

        let open = Policy::default();
        let spec = parse(text, &open.guard(&OpenHost)).unwrap();
        assert_eq!(spec.body["Env"], serde_json::json!(["SECRET=1"]));
        let spec = parse("-e TOKEN busybox", &open.guard(&OpenHost)).unwrap();
        assert_eq!(spec.body["Env"], serde_json::json!(["TOKEN=secret"]));
    }
}
