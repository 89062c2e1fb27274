//! What a record may ask for when whoever controls DNS should not control the host as root:
//! an image allow-list and a refusal of privileges. Pure checks on the parsed create body,
//! so the run-line and JSON forms are judged alike. Owns no parsing of its own.
//!
//! With `forbid_privileged`, a spec is refused when its `HostConfig` has any of:
//!
//! | field | refused |
//! |---|---|
//! | `Privileged` | `true` |
//! | `CapAdd` | `ALL`, `SYS_ADMIN`, `SYS_MODULE`, `SYS_RAWIO`, `SYS_PTRACE`, `DAC_READ_SEARCH`, `BPF` (any case, with or without `CAP_`) |
//! | `PidMode`, `UsernsMode` | `host` |
//! | `Devices`, `DeviceRequests`, `DeviceCgroupRules` | any entry |
//! | `Binds` (absolute source), `Mounts` (`Type` bind, or a local volume with `o=bind`) | a source that is `/`, a protected path, an ancestor of one, or inside one (inside `/etc` is allowed read-only); a writable source that is a system path, an ancestor of one, or inside one |
//! | `VolumesFrom` | any entry (it copies mounts this check never sees) |
//! | `SecurityOpt` | `seccomp` = anything but `builtin` (an inline profile can allow every call); `apparmor` = `unconfined`; `label` = `disable` or `type:spc_t`; `systempaths` = `unconfined` (either `=` or `:`) |
//! | `MaskedPaths`, `ReadonlyPaths` | present and empty (the engine's defaults removed) |
//!
//! Host files and the tool's environment are a channel too (`--env-file /etc/shadow` would
//! copy a host secret into a container DNS controls): parse through [`Policy::guard`], which
//! refuses file reads and hides the environment when `forbid_privileged` is set.
//!
//! Protected paths: `/etc`, `/proc`, `/sys`, `/dev`, `/boot`, `/root`, `/var/lib/docker`,
//! `/var/lib/containerd`, `/run/containerd`, `/var/run/containerd`, `/run/docker.sock`,
//! `/var/run/docker.sock`. System paths (host code run as root; read-only is harmless):
//! `/usr`, `/bin`, `/sbin`, `/lib`, `/lib32`, `/lib64`, `/libx32`, `/var/spool/cron`.
//! Paths are compared after `path.Clean` (so `/etc/`, `/./etc` and
//! `//etc` are `/etc`); symbolic links cannot be resolved by a pure check, so a link to a
//! protected path on the host is not caught.

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
];

const PROTECTED: &[&str] = &[
    "/etc",
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/run/containerd",
    "/var/run/containerd",
];

/// Where a writable bind lets a container replace what root on the host runs.
const SYSTEM: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/var/spool/cron",
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
    for key in ["PidMode", "UsernsMode"] {
        if hc.get(key).and_then(Value::as_str) == Some("host") {
            return Err(format!("{key} host"));
        }
    }
    for key in [
        "Devices",
        "DeviceRequests",
        "DeviceCgroupRules",
        "VolumesFrom",
    ] {
        if non_empty(hc.get(key)) {
            let why = if key == "VolumesFrom" {
                "mounts of another container"
            } else {
                "device access"
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
            ("apparmor" | "systempaths", "unconfined") | ("label", "disable" | "type:spc_t")
        ) || (key == "seccomp" && val != "builtin");
        if refused {
            return Err(format!("SecurityOpt {opt}"));
        }
    }
    for key in ["MaskedPaths", "ReadonlyPaths"] {
        if matches!(hc.get(key), Some(Value::Array(a)) if a.is_empty()) {
            return Err(format!("{key} emptied (systempaths=unconfined)"));
        }
    }
    Ok(())
}

fn check_mount(m: &Value) -> Result<(), String> {
    let kind = m.get("Type").and_then(Value::as_str).unwrap_or("volume");
    let read_only = truthy(m.get("ReadOnly"));
    let source = m.get("Source").and_then(Value::as_str).unwrap_or_default();
    if kind == "bind" {
        return check_source(source, read_only)
            .map_err(|why| format!("bind mount of {source:?}: {why}"));
    }
    // A local volume with `o=bind` is a bind mount of its `device` in disguise.
    let opts = m.pointer("/VolumeOptions/DriverConfig/Options");
    let is_bind = opts
        .and_then(|o| o.get("o"))
        .and_then(Value::as_str)
        .is_some_and(|o| o.split(',').any(|x| x == "bind" || x == "rbind"));
    if kind == "volume" && is_bind {
        let device = opts
            .and_then(|o| o.get("device"))
            .and_then(Value::as_str)
            .unwrap_or("/");
        return check_source(device, read_only)
            .map_err(|why| format!("volume binding {device:?}: {why}"));
    }
    Ok(())
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
        if within(&path, p) && !(read_only && *p == "/etc") {
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
    use crate::spec::parse;

    use crate::spec::tests::NoHost;

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
            "-v named:/etc busybox",
            "--mount type=bind,src=/srv,dst=/srv busybox",
            "--mount type=volume,src=v,dst=/v busybox",
            "--security-opt no-new-privileges busybox",
            "--security-opt seccomp=builtin busybox",
            "--security-opt apparmor=docker-default busybox",
            "--security-opt label=level:s0:c100,c200 busybox",
            "--pid container:x busybox",
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
