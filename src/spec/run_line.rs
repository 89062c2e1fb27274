//! A parsed `docker run` line → the create body the docker CLI would send for `run -d`,
//! zero fields omitted. Owns the flag → API field mapping (docker-run-mapping.md §3–§4) and
//! the CLI's client-side rules (env/label files, network endpoints, capability
//! normalisation). Reads files and the environment only through [`Host`].

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::flags::RunLine;
use super::values::{
    PortMapping, csv_fields, key_value, parse_bool, parse_bytes, parse_device, parse_dns_search,
    parse_duration, parse_go_int, parse_ip, parse_nano_cpus, parse_port_range, parse_publish,
    parse_restart, parse_ulimit, split_proto_port, valid_mac,
};
use super::{Host, PullPolicy, SpecError};

/// What a run line yields besides the owner label: the body and the two client-side options.
#[derive(Debug)]
pub struct Built {
    /// The create body, without the owner label.
    pub body: Value,
    /// `--platform`.
    pub platform: Option<String>,
    /// `--pull`.
    pub pull: PullPolicy,
}

fn invalid(flag: &str, value: &str, why: impl std::fmt::Display) -> SpecError {
    SpecError(format!(
        "invalid argument {value:?} for \"--{flag}\" flag: {why}"
    ))
}

/// One network attachment (`--network` and the first network's per-endpoint flags).
#[derive(Debug, Default, Clone)]
struct Attachment {
    target: String,
    aliases: Vec<String>,
    ipv4: String,
    ipv6: String,
    mac: String,
    link_local: Vec<String>,
    driver_opts: BTreeMap<String, String>,
}

#[derive(Default)]
struct Health {
    cmd: Option<String>,
    interval: i64,
    timeout: i64,
    start_period: i64,
    retries: i64,
    disabled: bool,
}

/// Map the line to a create body.
pub fn build(line: &RunLine, host: &dyn Host) -> Result<Built, SpecError> {
    let mut cfg = Map::new();
    let mut hc = Map::new();
    let mut pull = PullPolicy::Missing;
    let mut platform = None;

    let mut env_from_files: Vec<String> = Vec::new();
    let mut env_flags: Vec<String> = Vec::new();
    let mut labels_from_files: Vec<(String, String)> = Vec::new();
    let mut label_flags: Vec<(String, String)> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut volumes = Map::new();
    let mut mounts: Vec<Value> = Vec::new();
    let mut tmpfs = Map::new();
    let mut exposed = Map::new();
    let mut bindings: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut networks: Vec<Attachment> = Vec::new();
    let mut first = Attachment::default();
    let mut lists: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut cap_add: Vec<String> = Vec::new();
    let mut cap_drop: Vec<String> = Vec::new();
    let mut devices: Vec<Value> = Vec::new();
    let mut cdi: Vec<String> = Vec::new();
    let mut security: Vec<String> = Vec::new();
    let mut unconfined_paths = false;
    let mut ulimits: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut sysctls = Map::new();
    let mut storage = Map::new();
    let mut log_driver = String::new();
    let mut log_opts = Map::new();
    let mut health = Health::default();
    let mut restart: Option<(String, i64)> = None;
    let mut auto_remove = false;

    for (flag, value) in &line.opts {
        let flag: &str = flag;
        let v = value.as_str();
        let bad = |why: &dyn std::fmt::Display| invalid(flag, v, why);
        let int = || parse_go_int(v).map_err(|e| bad(&e));
        let bytes = || parse_bytes(v).map_err(|e| bad(&e));
        let on = v == "true";
        match flag {
            "add-host" => lists
                .entry("ExtraHosts")
                .or_default()
                .push(extra_host(v).map_err(|e| bad(&e))?),
            "cap-add" => cap_add.push(v.to_string()),
            "cap-drop" => cap_drop.push(v.to_string()),
            "cgroup-parent" => set_str(&mut hc, "CgroupParent", v),
            "cgroupns" => {
                one_of(flag, v, &["", "host", "private"], "invalid CGROUP mode")?;
                set_str(&mut hc, "CgroupnsMode", v);
            }
            "cpu-period" => set_int(&mut hc, "CpuPeriod", int()?),
            "cpu-quota" => set_int(&mut hc, "CpuQuota", int()?),
            "cpu-shares" => set_int(&mut hc, "CpuShares", int()?),
            "cpus" => set_int(
                &mut hc,
                "NanoCpus",
                parse_nano_cpus(v).map_err(|e| bad(&e))?,
            ),
            "cpuset-cpus" => set_str(&mut hc, "CpusetCpus", v),
            "cpuset-mems" => set_str(&mut hc, "CpusetMems", v),
            // Every container this tool makes is detached, so `-d` changes nothing.
            "detach" => {}
            "device" => {
                if is_cdi_name(v) {
                    cdi.push(v.to_string());
                } else {
                    let (src, dst, perms) = parse_device(v).map_err(|e| bad(&e))?;
                    devices.push(json!({
                        "PathOnHost": src, "PathInContainer": dst, "CgroupPermissions": perms
                    }));
                }
            }
            "device-cgroup-rule" => {
                if !valid_cgroup_rule(v) {
                    return Err(bad(&"a rule is '[abc] major|*:minor|* [rwm]{1,3}'"));
                }
                lists
                    .entry("DeviceCgroupRules")
                    .or_default()
                    .push(v.to_string());
            }
            "dns" => lists
                .entry("Dns")
                .or_default()
                .push(parse_ip(v).map_err(|e| bad(&e))?),
            "dns-option" => lists.entry("DnsOptions").or_default().push(v.to_string()),
            "dns-search" => lists
                .entry("DnsSearch")
                .or_default()
                .push(parse_dns_search(v).map_err(|e| bad(&e))?),
            "domainname" => set_str(&mut cfg, "Domainname", v),
            "entrypoint" => {
                cfg.insert("Entrypoint".into(), json!([v]));
            }
            "env" => {
                let (key, _) = key_value(v);
                if key.is_empty() {
                    return Err(bad(&"invalid environment variable: empty name"));
                }
                if v.contains('=') {
                    env_flags.push(v.to_string());
                } else {
                    // As the CLI: the tool's own value, or a bare KEY (which unsets the
                    // image's variable) when the tool has none.
                    env_flags.push(
                        host.env(v)
                            .map_or_else(|| v.to_string(), |val| format!("{v}={val}")),
                    );
                }
            }
            "env-file" => env_from_files.extend(env_file(flag, v, host)?),
            "expose" => {
                if v.contains(':') {
                    return Err(bad(&"invalid port format for --expose"));
                }
                let (proto, port) = split_proto_port(v);
                let (start, end) = parse_port_range(port).map_err(|e| bad(&e))?;
                for p in start..=end {
                    exposed.insert(format!("{p}/{proto}"), json!({}));
                }
            }
            "group-add" => lists.entry("GroupAdd").or_default().push(v.to_string()),
            "health-cmd" => health.cmd = Some(v.to_string()).filter(|c| !c.is_empty()),
            "health-interval" => health.interval = duration(flag, v)?,
            "health-timeout" => health.timeout = duration(flag, v)?,
            "health-start-period" => health.start_period = duration(flag, v)?,
            "health-retries" => {
                health.retries = int()?;
                if health.retries < 0 {
                    return Err(bad(&"--health-retries cannot be negative"));
                }
            }
            "hostname" => set_str(&mut cfg, "Hostname", v),
            "init" => {
                hc.insert("Init".into(), json!(on));
            }
            "interactive" => set_bool(&mut cfg, "OpenStdin", on),
            "ip" => first.ipv4 = parse_ip(v).map_err(|e| bad(&e))?,
            "ip6" => first.ipv6 = parse_ip(v).map_err(|e| bad(&e))?,
            "ipc" => {
                if !(matches!(v, "" | "none" | "private" | "shareable" | "host")
                    || container_ref(v))
                {
                    return Err(bad(&"--ipc: invalid IPC mode"));
                }
                set_str(&mut hc, "IpcMode", v);
            }
            "label" => {
                let (key, val) = key_value(v);
                if key.trim().is_empty() {
                    return Err(bad(&"invalid label: empty name"));
                }
                if key.trim().contains(char::is_whitespace) {
                    return Err(bad(&"a label's name cannot contain whitespace"));
                }
                label_flags.push((key.to_string(), val.to_string()));
            }
            "label-file" => labels_from_files.extend(label_file(flag, v, host)?),
            "link-local-ip" => first.link_local.push(parse_ip(v).map_err(|e| bad(&e))?),
            "log-driver" => log_driver = v.to_string(),
            "log-opt" => {
                let (key, val) = key_value(v);
                log_opts.insert(key.to_string(), json!(val));
            }
            "mac-address" => first.mac = v.to_string(),
            "memory" => set_int(&mut hc, "Memory", bytes()?),
            "memory-reservation" => set_int(&mut hc, "MemoryReservation", bytes()?),
            "memory-swap" => {
                let n = if v == "-1" { -1 } else { bytes()? };
                set_int(&mut hc, "MemorySwap", n);
            }
            "memory-swappiness" => {
                let n = int()?;
                if !(-1..=100).contains(&n) {
                    return Err(bad(&"valid memory swappiness range is 0-100"));
                }
                // -1 is the CLI's "unset"; the daemon stores it as null.
                if n >= 0 {
                    hc.insert("MemorySwappiness".into(), json!(n));
                }
            }
            "mount" => mounts.push(mount(v).map_err(|e| bad(&e))?),
            "network" => networks.push(attachment(v).map_err(|e| bad(&e))?),
            "network-alias" => first.aliases.push(v.to_string()),
            "no-healthcheck" => health.disabled = on,
            "oom-kill-disable" => set_bool(&mut hc, "OomKillDisable", on),
            "oom-score-adj" => {
                let n = int()?;
                if !(-1000..=1000).contains(&n) {
                    return Err(bad(&"valid values are between -1000 and 1000"));
                }
                set_int(&mut hc, "OomScoreAdj", n);
            }
            "pid" => {
                if !(matches!(v, "" | "host") || container_ref(v)) {
                    return Err(bad(&"--pid: invalid PID mode"));
                }
                set_str(&mut hc, "PidMode", v);
            }
            "pids-limit" => set_int(&mut hc, "PidsLimit", int()?),
            "platform" => platform = Some(v.to_string()).filter(|p| !p.is_empty()),
            "privileged" => set_bool(&mut hc, "Privileged", on),
            "publish" => {
                for PortMapping {
                    port,
                    host_ip,
                    host_port,
                } in parse_publish(v).map_err(|e| bad(&e))?
                {
                    exposed.insert(port.clone(), json!({}));
                    bindings
                        .entry(port)
                        .or_default()
                        .push(json!({"HostIp": host_ip, "HostPort": host_port}));
                }
            }
            "publish-all" => set_bool(&mut hc, "PublishAllPorts", on),
            "pull" => {
                pull = match v {
                    "missing" => PullPolicy::Missing,
                    "always" => PullPolicy::Always,
                    "never" => PullPolicy::Never,
                    _ => return Err(bad(&"must be one of \"always\", \"missing\" or \"never\"")),
                }
            }
            "read-only" => set_bool(&mut hc, "ReadonlyRootfs", on),
            "restart" => restart = Some(parse_restart(v).map_err(|e| bad(&e))?),
            "rm" => auto_remove = on,
            "runtime" => set_str(&mut hc, "Runtime", v),
            "security-opt" => match security_opt(v, host).map_err(|e| bad(&e))? {
                None => unconfined_paths = true,
                Some(opt) => security.push(opt),
            },
            "shm-size" => set_int(&mut hc, "ShmSize", bytes()?),
            "stop-signal" => set_str(&mut cfg, "StopSignal", v),
            "stop-timeout" => {
                cfg.insert("StopTimeout".into(), json!(int()?));
            }
            "storage-opt" => match v.split_once('=') {
                Some((k, val)) => {
                    storage.insert(k.to_string(), json!(val));
                }
                None => return Err(bad(&"invalid storage option: it is key=value")),
            },
            "sysctl" => {
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| bad(&format!("sysctl '{v}' is not allowed")))?;
                if !sysctl_allowed(k) {
                    return Err(bad(&format!("sysctl '{v}' is not allowed")));
                }
                sysctls.insert(k.to_string(), json!(val));
            }
            "tmpfs" => {
                let (path, opts) = v.split_once(':').unwrap_or((v, ""));
                if !path.starts_with('/') {
                    return Err(bad(&"the tmpfs mount point must be an absolute path"));
                }
                tmpfs.insert(path.to_string(), json!(opts));
            }
            "tty" => set_bool(&mut cfg, "Tty", on),
            "ulimit" => {
                let (name, soft, hard) = parse_ulimit(v).map_err(|e| bad(&e))?;
                ulimits.insert(name, (soft, hard));
            }
            "user" => set_str(&mut cfg, "User", v),
            "userns" => {
                one_of(flag, v, &["", "host"], "invalid USER mode")?;
                set_str(&mut hc, "UsernsMode", v);
            }
            "uts" => {
                one_of(flag, v, &["", "host"], "invalid UTS mode")?;
                set_str(&mut hc, "UTSMode", v);
            }
            "volume" => match volume(v).map_err(|e| bad(&e))? {
                Volume::Anonymous(target) => {
                    volumes.insert(target, json!({}));
                }
                Volume::Bind(spec) => {
                    if !binds.contains(&spec) {
                        binds.push(spec);
                    }
                }
            },
            "volumes-from" => lists.entry("VolumesFrom").or_default().push(v.to_string()),
            "workdir" => {
                if !v.is_empty() && !v.starts_with('/') {
                    return Err(bad(&"the working directory must be an absolute path"));
                }
                set_str(&mut cfg, "WorkingDir", v);
            }
            other => {
                return Err(SpecError(format!("flag --{other} has no mapping")));
            }
        }
    }

    super::ImageRef::parse(&line.image)?;
    cfg.insert("Image".into(), json!(line.image));
    if !line.cmd.is_empty() {
        cfg.insert("Cmd".into(), json!(line.cmd));
    }

    let env = dedup_env(env_from_files.into_iter().chain(env_flags));
    if !env.is_empty() {
        cfg.insert("Env".into(), json!(env));
    }
    let mut labels = Map::new();
    for (k, v) in labels_from_files.into_iter().chain(label_flags) {
        labels.insert(k, json!(v));
    }
    if !labels.is_empty() {
        cfg.insert("Labels".into(), Value::Object(labels));
    }
    if !exposed.is_empty() {
        cfg.insert("ExposedPorts".into(), Value::Object(exposed));
    }
    if !volumes.is_empty() {
        cfg.insert("Volumes".into(), Value::Object(volumes));
    }
    if let Some(h) = health_json(&health)? {
        cfg.insert("Healthcheck".into(), h);
    }

    if !binds.is_empty() {
        hc.insert("Binds".into(), json!(binds));
    }
    if !mounts.is_empty() {
        hc.insert("Mounts".into(), Value::Array(mounts));
    }
    if !tmpfs.is_empty() {
        hc.insert("Tmpfs".into(), Value::Object(tmpfs));
    }
    if !bindings.is_empty() {
        hc.insert("PortBindings".into(), json!(bindings));
    }
    for (key, list) in lists {
        hc.insert(key.into(), json!(list));
    }
    let (add, drop) = effective_caps(&cap_add, &cap_drop);
    if !add.is_empty() {
        hc.insert("CapAdd".into(), json!(add));
    }
    if !drop.is_empty() {
        hc.insert("CapDrop".into(), json!(drop));
    }
    if !devices.is_empty() {
        hc.insert("Devices".into(), Value::Array(devices));
    }
    if !cdi.is_empty() {
        hc.insert(
            "DeviceRequests".into(),
            json!([{"Driver": "cdi", "DeviceIDs": cdi}]),
        );
    }
    if !security.is_empty() {
        hc.insert("SecurityOpt".into(), json!(security));
    }
    if unconfined_paths {
        hc.insert("MaskedPaths".into(), json!([]));
        hc.insert("ReadonlyPaths".into(), json!([]));
    }
    if !ulimits.is_empty() {
        let list: Vec<Value> = ulimits
            .into_iter()
            .map(|(name, (soft, hard))| json!({"Name": name, "Soft": soft, "Hard": hard}))
            .collect();
        hc.insert("Ulimits".into(), Value::Array(list));
    }
    if !sysctls.is_empty() {
        hc.insert("Sysctls".into(), Value::Object(sysctls));
    }
    if !storage.is_empty() {
        hc.insert("StorageOpt".into(), Value::Object(storage));
    }
    if log_driver == "none" && !log_opts.is_empty() {
        return Err(SpecError(
            "invalid logging opts for driver none: --log-opt cannot be used with --log-driver none"
                .into(),
        ));
    }
    if !log_driver.is_empty() || !log_opts.is_empty() {
        hc.insert(
            "LogConfig".into(),
            json!({"Type": log_driver, "Config": log_opts}),
        );
    }
    if let Some((name, count)) = restart {
        if auto_remove && !matches!(name.as_str(), "" | "no") {
            return Err(SpecError(
                "conflicting options: --restart and --rm cannot be used together".into(),
            ));
        }
        if !name.is_empty() {
            hc.insert(
                "RestartPolicy".into(),
                json!({"Name": name, "MaximumRetryCount": count}),
            );
        }
    }
    set_bool(&mut hc, "AutoRemove", auto_remove);

    let (mode, endpoints) = endpoints(networks, first)?;
    if let Some(mode) = mode {
        hc.insert("NetworkMode".into(), json!(mode));
    }
    if let Some((mac, eps)) = endpoints {
        // Engines before API 1.44 read only the container-wide field; later ones accept it
        // while it equals the endpoint's (until 1.52), so both are sent.
        if !mac.is_empty() {
            cfg.insert("MacAddress".into(), json!(mac));
        }
        cfg.insert(
            "NetworkingConfig".into(),
            json!({"EndpointsConfig": Value::Object(eps)}),
        );
    }

    cfg.insert("HostConfig".into(), Value::Object(hc));
    Ok(Built {
        body: Value::Object(cfg),
        platform,
        pull,
    })
}

fn set_str(map: &mut Map<String, Value>, key: &str, v: &str) {
    if v.is_empty() {
        map.remove(key);
    } else {
        map.insert(key.into(), json!(v));
    }
}

fn set_int(map: &mut Map<String, Value>, key: &str, v: i64) {
    if v == 0 {
        map.remove(key);
    } else {
        map.insert(key.into(), json!(v));
    }
}

fn set_bool(map: &mut Map<String, Value>, key: &str, v: bool) {
    if v {
        map.insert(key.into(), json!(true));
    } else {
        map.remove(key);
    }
}

fn one_of(flag: &str, v: &str, allowed: &[&str], why: &str) -> Result<(), SpecError> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err(invalid(flag, v, format!("--{flag}: {why}")))
    }
}

fn container_ref(v: &str) -> bool {
    v.strip_prefix("container:")
        .is_some_and(|c| !c.is_empty() && !c.contains(':'))
}

fn duration(flag: &str, v: &str) -> Result<i64, SpecError> {
    let d = parse_duration(v).map_err(|e| invalid(flag, v, e))?;
    if d < 0 {
        return Err(invalid(flag, v, format!("--{flag} cannot be negative")));
    }
    Ok(d)
}

/// The CLI's `ValidateExtraHost`: `host:ip` or `host=ip`, IPv6 possibly in brackets.
fn extra_host(v: &str) -> Result<String, String> {
    let (name, addr) = v
        .split_once('=')
        .or_else(|| v.split_once(':'))
        .ok_or_else(|| format!("bad format for add-host: {v:?}"))?;
    if name.is_empty() || name.contains(':') {
        return Err(format!("bad format for add-host: {v:?}"));
    }
    let mut addr = addr;
    if addr != "host-gateway" {
        if addr.len() > 2 && addr.starts_with('[') && addr.ends_with(']') {
            addr = &addr[1..addr.len() - 1];
        }
        parse_ip(addr).map_err(|_| format!("invalid IP address in add-host: {addr:?}"))?;
    }
    Ok(format!("{name}:{addr}"))
}

fn is_cdi_name(v: &str) -> bool {
    match v.split_once('=') {
        Some((kind, name)) => {
            !v.starts_with('/')
                && !name.is_empty()
                && kind
                    .split_once('/')
                    .is_some_and(|(vendor, class)| !vendor.is_empty() && !class.is_empty())
        }
        None => false,
    }
}

/// `[abc] major|*:minor|* [rwm]{1,3}`
fn valid_cgroup_rule(v: &str) -> bool {
    let parts: Vec<&str> = v.split(' ').collect();
    let num = |s: &str| s == "*" || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    parts.len() == 3
        && matches!(parts[0], "a" | "b" | "c")
        && parts[1]
            .split_once(':')
            .is_some_and(|(a, b)| num(a) && num(b))
        && (1..=3).contains(&parts[2].len())
        && parts[2].chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
}

fn sysctl_allowed(key: &str) -> bool {
    const EXACT: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    EXACT.contains(&key) || key.starts_with("net.") || key.starts_with("fs.mqueue.")
}

/// Env entries in the user's order; a later entry for the same name replaces an earlier one.
fn dedup_env(entries: impl Iterator<Item = String>) -> Vec<String> {
    let entries: Vec<String> = entries.collect();
    let name = |e: &str| e.split_once('=').map_or(e, |(k, _)| k).to_string();
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let n = name(e);
        if entries[i + 1..].iter().all(|later| name(later) != n) {
            out.push(e.clone());
        }
    }
    out
}

/// The lines of a kv file (env-file/label-file format): BOM stripped, leading space
/// trimmed, `#` comments, no quote removal. Yields (line number, line).
fn kv_lines(flag: &str, path: &str, host: &dyn Host) -> Result<Vec<(usize, String)>, SpecError> {
    if !path.starts_with('/') {
        return Err(invalid(
            flag,
            path,
            "the file must be an absolute path: the tool has no meaningful working directory",
        ));
    }
    let text = host
        .read_file(Path::new(path))
        .map_err(|e| invalid(flag, path, format!("cannot read it: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(text
        .split('\n')
        .enumerate()
        .map(|(i, l)| {
            (
                i + 1,
                l.strip_suffix('\r').unwrap_or(l).trim_start().to_string(),
            )
        })
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect())
}

fn env_file(flag: &str, path: &str, host: &dyn Host) -> Result<Vec<String>, SpecError> {
    let mut out = Vec::new();
    for (n, line) in kv_lines(flag, path, host)? {
        let (key, _) = key_value(&line);
        if key.is_empty() {
            return Err(invalid(flag, path, format!("line {n}: no variable name")));
        }
        if key.contains(char::is_whitespace) {
            return Err(invalid(
                flag,
                path,
                format!("line {n}: variable {key:?} contains whitespace"),
            ));
        }
        if line.contains('=') {
            out.push(line);
        } else if let Some(val) = host.env(key) {
            out.push(format!("{key}={val}"));
        }
    }
    Ok(out)
}

fn label_file(flag: &str, path: &str, host: &dyn Host) -> Result<Vec<(String, String)>, SpecError> {
    let mut out = Vec::new();
    for (n, line) in kv_lines(flag, path, host)? {
        let Some((key, val)) = line.split_once('=') else {
            continue;
        };
        if key.is_empty() {
            return Err(invalid(flag, path, format!("line {n}: no label name")));
        }
        if key.contains(char::is_whitespace) {
            return Err(invalid(
                flag,
                path,
                format!("line {n}: label {key:?} contains whitespace"),
            ));
        }
        out.push((key.to_string(), val.to_string()));
    }
    Ok(out)
}

enum Volume {
    Anonymous(String),
    Bind(String),
}

/// `-v [src:]dst[:opts]`. A relative source (`./x`, `~/x`) is refused: the CLI resolves it
/// against its working directory, and a tool started at boot has no meaningful one.
fn volume(v: &str) -> Result<Volume, String> {
    let parts: Vec<&str> = v.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "invalid volume specification: {v:?}: empty section"
        ));
    }
    let (source, target) = match parts.len() {
        1 => (None, parts[0]),
        2 | 3 => (Some(parts[0]), parts[1]),
        _ => {
            return Err(format!(
                "invalid volume specification: {v:?}: too many colons"
            ));
        }
    };
    if !target.starts_with('/') {
        return Err(format!(
            "invalid volume specification: {v:?}: the mount point {target:?} must be an absolute path"
        ));
    }
    match source {
        None => Ok(Volume::Anonymous(target.to_string())),
        Some(src) if src.starts_with('.') || src.starts_with('~') => Err(format!(
            "the bind source {src:?} is relative: give an absolute path (there is no working directory to resolve it against at boot)"
        )),
        Some(src) if src.starts_with('/') => Ok(Volume::Bind(v.to_string())),
        Some(name) => {
            let b = name.as_bytes();
            if b.len() < 2
                || !b[0].is_ascii_alphanumeric()
                || !b
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
            {
                return Err(format!(
                    "{name:?} is not a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+) nor an absolute path"
                ));
            }
            Ok(Volume::Bind(v.to_string()))
        }
    }
}

/// `--mount` CSV → one `Mount` object (docker-run-mapping.md §4.3).
fn mount(v: &str) -> Result<Value, String> {
    let mut m = Map::new();
    let mut kind = "volume".to_string();
    let mut bind = Map::new();
    let mut vol = Map::new();
    let mut driver = Map::new();
    let mut driver_opts = Map::new();
    let mut vol_labels = Map::new();
    let mut tmpfs = Map::new();
    let mut read_only = false;
    for field in csv_fields(v)? {
        let (key, val) = match field.split_once('=') {
            Some((k, val)) => (k.to_lowercase(), Some(val)),
            None => (field.to_lowercase(), None),
        };
        if key.trim() != key || val.is_some_and(|x| x.trim() != x) {
            return Err(format!(
                "invalid field {field:?}: no spaces around keys and values"
            ));
        }
        let Some(val) = val else {
            match key.as_str() {
                "readonly" | "ro" => read_only = true,
                "volume-nocopy" => {
                    vol.insert("NoCopy".into(), json!(true));
                }
                "bind-nonrecursive" => {
                    return Err(
                        "bind-nonrecursive is deprecated, use bind-recursive=disabled instead"
                            .into(),
                    );
                }
                _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
            }
            continue;
        };
        let flag_bool =
            |x: &str| parse_bool(x).map_err(|_| format!("invalid value for {key}: {x}"));
        match key.as_str() {
            "type" => kind = val.to_lowercase(),
            "source" | "src" => {
                if val.starts_with('.') || val.starts_with('~') {
                    return Err(format!(
                        "the mount source {val:?} is relative: give an absolute path (there is no working directory to resolve it against at boot)"
                    ));
                }
                m.insert("Source".into(), json!(val));
            }
            "target" | "dst" | "destination" => {
                m.insert("Target".into(), json!(val));
            }
            "readonly" | "ro" => read_only = flag_bool(val)?,
            "consistency" => {
                m.insert("Consistency".into(), json!(val.to_lowercase()));
            }
            "bind-propagation" => {
                bind.insert("Propagation".into(), json!(val.to_lowercase()));
            }
            "bind-recursive" => {
                let field = match val {
                    "enabled" => None,
                    "disabled" => Some("NonRecursive"),
                    "writable" => Some("ReadOnlyNonRecursive"),
                    "readonly" => Some("ReadOnlyForceRecursive"),
                    _ => {
                        return Err(format!(
                            "invalid value for {key}: {val} (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")"
                        ));
                    }
                };
                if let Some(f) = field {
                    bind.insert(f.into(), json!(true));
                }
            }
            "bind-nonrecursive" => {
                return Err(
                    "bind-nonrecursive is deprecated, use bind-recursive=disabled instead".into(),
                );
            }
            "volume-subpath" => {
                vol.insert("Subpath".into(), json!(val));
            }
            "volume-nocopy" => {
                if flag_bool(val)? {
                    vol.insert("NoCopy".into(), json!(true));
                } else {
                    vol.insert("NoCopy".into(), json!(false));
                }
            }
            "volume-label" => {
                let (k, x) = key_value(val);
                if !k.is_empty() {
                    vol_labels.insert(k.into(), json!(x));
                }
            }
            "volume-driver" => {
                driver.insert("Name".into(), json!(val));
            }
            "volume-opt" => {
                let (k, x) = key_value(val);
                if !k.is_empty() {
                    driver_opts.insert(k.into(), json!(x));
                }
            }
            "tmpfs-size" => {
                let n = parse_bytes(val).map_err(|_| format!("invalid value for {key}: {val}"))?;
                tmpfs.insert("SizeBytes".into(), json!(n));
            }
            "tmpfs-mode" => {
                let n = u32::from_str_radix(val, 8)
                    .ok()
                    .filter(|_| !val.starts_with('+'))
                    .ok_or_else(|| format!("invalid value for {key}: {val}"))?;
                tmpfs.insert("Mode".into(), json!(n));
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if !m.contains_key("Target") {
        return Err("target is required".into());
    }
    if !driver_opts.is_empty() {
        driver.insert("Options".into(), Value::Object(driver_opts));
    }
    // The CLI always sends a (possibly empty) DriverConfig with volume options.
    if !vol.is_empty() || !driver.is_empty() || !vol_labels.is_empty() {
        vol.insert("DriverConfig".into(), Value::Object(driver));
    }
    if !vol_labels.is_empty() {
        vol.insert("Labels".into(), Value::Object(vol_labels));
    }
    let mix = |what: &str| format!("cannot mix '{what}-*' options with mount type '{kind}'");
    if !vol.is_empty() && kind != "volume" {
        return Err(mix("volume"));
    }
    if !bind.is_empty() && kind != "bind" {
        return Err(mix("bind"));
    }
    if !tmpfs.is_empty() && kind != "tmpfs" {
        return Err(mix("tmpfs"));
    }
    if bind.contains_key("ReadOnlyNonRecursive") && !read_only {
        return Err(
            "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction"
                .into(),
        );
    }
    if bind.contains_key("ReadOnlyForceRecursive") {
        if !read_only {
            return Err("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction".into());
        }
        if bind.get("Propagation") != Some(&json!("rprivate")) {
            return Err("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction".into());
        }
    }
    if kind == "bind" {
        match m.get("Source").and_then(Value::as_str) {
            Some(s) if s.starts_with('/') => {}
            _ => return Err("a bind mount needs an absolute source path".into()),
        }
    }
    m.insert("Type".into(), json!(kind));
    if read_only {
        m.insert("ReadOnly".into(), json!(true));
    }
    for (key, obj) in [
        ("BindOptions", bind),
        ("VolumeOptions", vol),
        ("TmpfsOptions", tmpfs),
    ] {
        if !obj.is_empty() {
            m.insert(key.into(), Value::Object(obj));
        }
    }
    Ok(Value::Object(m))
}

/// `--network`: a name or mode, or the CSV form when it holds a `word=word` pair (every
/// field then lower-cased, as the CLI does).
fn attachment(v: &str) -> Result<Attachment, String> {
    let b = v.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let csv =
        (1..b.len().saturating_sub(1)).any(|i| b[i] == b'=' && word(b[i - 1]) && word(b[i + 1]));
    if !csv {
        return Ok(Attachment {
            target: v.to_string(),
            ..Attachment::default()
        });
    }
    let mut a = Attachment::default();
    for field in csv_fields(v)? {
        let lower = field.to_lowercase();
        let (key, val) = lower
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("invalid field {field}"))?;
        let (key, val) = (key.trim(), val.trim().to_string());
        match key {
            "name" => a.target = val,
            "alias" => a.aliases.push(val),
            "ip" => a.ipv4 = val,
            "ip6" => a.ipv6 = val,
            "mac-address" => a.mac = val,
            "link-local-ip" => a.link_local.push(val),
            "driver-opt" => {
                let (k, x) = val
                    .split_once('=')
                    .ok_or("invalid key value pair format in driver options")?;
                a.driver_opts.insert(k.trim().into(), x.trim().into());
            }
            _ => return Err(format!("invalid field key {key}")),
        }
    }
    if a.target.is_empty() {
        return Err("network name not specified".into());
    }
    Ok(a)
}

fn user_defined(target: &str) -> bool {
    !matches!(target, "default" | "bridge" | "host" | "none") && !target.starts_with("container:")
}

type Endpoints = Option<(String, Map<String, Value>)>;

/// The CLI's `parseNetworkOpts`: the per-endpoint flags apply to the first network;
/// returns `NetworkMode` and, when any endpoint has settings, (first MAC, EndpointsConfig).
fn endpoints(
    mut networks: Vec<Attachment>,
    flags: Attachment,
) -> Result<(Option<String>, Endpoints), SpecError> {
    let given = !networks.is_empty();
    if !given {
        networks.push(Attachment {
            target: "default".into(),
            ..Attachment::default()
        });
    }
    let conflict = |what: &str| {
        SpecError(format!(
            "conflicting options: cannot specify both --{what} and per-network {what}"
        ))
    };
    {
        let n = &mut networks[0];
        if !flags.aliases.is_empty() {
            if !n.aliases.is_empty() {
                return Err(conflict("network-alias"));
            }
            n.aliases = flags.aliases;
        }
        for (mine, theirs, what) in [
            (&mut n.ipv4, flags.ipv4, "ip"),
            (&mut n.ipv6, flags.ipv6, "ip6"),
            (&mut n.mac, flags.mac, "mac-address"),
        ] {
            if !theirs.is_empty() {
                if !mine.is_empty() {
                    return Err(conflict(what));
                }
                *mine = theirs;
            }
        }
        if !flags.link_local.is_empty() {
            if !n.link_local.is_empty() {
                return Err(conflict("link-local-ip"));
            }
            n.link_local = flags.link_local;
        }
    }
    let mode = networks[0].target.clone();
    let first_mac = networks[0].mac.clone();
    let count = networks.len();
    let (mut user, mut builtin) = (false, false);
    let mut eps = Map::new();
    for (i, n) in networks.into_iter().enumerate() {
        if n.target.trim().is_empty() {
            return Err(SpecError(
                "invalid --network: no name set for network".into(),
            ));
        }
        if user_defined(&n.target) {
            user = true;
        } else {
            builtin = true;
            if !n.aliases.is_empty() {
                return Err(SpecError(format!(
                    "--network-alias: network-scoped aliases are only supported for user-defined networks, not {:?}",
                    n.target
                )));
            }
        }
        if !n.mac.is_empty() && !valid_mac(n.mac.trim()) {
            return Err(SpecError(format!(
                "invalid argument {:?} for \"--mac-address\" flag: not a valid mac address",
                n.mac
            )));
        }
        if eps.contains_key(&n.target) {
            return Err(SpecError(format!(
                "network {:?} is specified multiple times",
                n.target
            )));
        }
        let mut ep = Map::new();
        if !n.aliases.is_empty() {
            ep.insert("Aliases".into(), json!(n.aliases));
        }
        if !n.driver_opts.is_empty() {
            ep.insert("DriverOpts".into(), json!(n.driver_opts));
        }
        let mut ipam = Map::new();
        if !n.ipv4.is_empty() {
            ipam.insert("IPv4Address".into(), json!(n.ipv4));
        }
        if !n.ipv6.is_empty() {
            ipam.insert("IPv6Address".into(), json!(n.ipv6));
        }
        if !n.link_local.is_empty() {
            ipam.insert("LinkLocalIPs".into(), json!(n.link_local));
        }
        if !ipam.is_empty() {
            ep.insert("IPAMConfig".into(), Value::Object(ipam));
        }
        if !n.mac.is_empty() {
            ep.insert("MacAddress".into(), json!(n.mac));
        }
        // A lone network without settings sends no endpoint, as the CLI.
        if i == 0 && count == 1 && ep.is_empty() {
            continue;
        }
        eps.insert(n.target, Value::Object(ep));
    }
    if user && builtin {
        return Err(SpecError(
            "conflicting options: cannot attach both user-defined and non-user-defined network-modes"
                .into(),
        ));
    }
    let endpoints = if eps.is_empty() {
        None
    } else {
        Some((first_mac, eps))
    };
    let mode = if given || endpoints.is_some() {
        Some(mode)
    } else {
        None
    };
    Ok((mode, endpoints))
}

/// The CLI's `EffectiveCapAddCapDrop`: upper-case, `CAP_` prefix (not for `ALL`), `ALL`
/// trumps the rest, a capability both added and dropped is neither, sorted.
fn effective_caps(add: &[String], drop: &[String]) -> (Vec<String>, Vec<String>) {
    let norm = |caps: &[String]| -> std::collections::BTreeSet<String> {
        let set: std::collections::BTreeSet<String> = caps
            .iter()
            .map(|c| c.trim().to_uppercase())
            .filter(|c| !c.is_empty())
            .map(|c| {
                if c == "ALL" || c.starts_with("CAP_") {
                    c
                } else {
                    format!("CAP_{c}")
                }
            })
            .collect();
        if set.contains("ALL") {
            std::iter::once("ALL".to_string()).collect()
        } else {
            set
        }
    };
    let (add, drop) = (norm(add), norm(drop));
    let both: Vec<String> = add.intersection(&drop).cloned().collect();
    let keep = |s: std::collections::BTreeSet<String>| -> Vec<String> {
        s.into_iter().filter(|c| !both.contains(c)).collect()
    };
    (keep(add), keep(drop))
}

/// `--security-opt`: `None` for `systempaths=unconfined` (sent as empty path lists).
fn security_opt(v: &str, host: &dyn Host) -> Result<Option<String>, String> {
    let opt = v.trim();
    if opt == "no-new-privileges" {
        return Ok(Some(v.to_string()));
    }
    let (key, val) = opt
        .split_once('=')
        .or_else(|| opt.split_once(':'))
        .filter(|(_, val)| !val.is_empty())
        .ok_or_else(|| format!("Invalid --security-opt: {opt:?}"))?;
    match (key, val) {
        ("systempaths", "unconfined") => Ok(None),
        ("systempaths", _) => Err(format!("Invalid --security-opt: {opt:?}")),
        ("seccomp", "builtin" | "unconfined") => Ok(Some(v.to_string())),
        ("seccomp", file) => {
            if !file.starts_with('/') {
                return Err(format!(
                    "the seccomp profile {file:?} must be an absolute path (no working directory at boot)"
                ));
            }
            let text = host
                .read_file(Path::new(file))
                .map_err(|e| format!("cannot read seccomp profile {file}: {e}"))?;
            let profile: Value = serde_json::from_str(&text)
                .map_err(|e| format!("the seccomp profile {file} is not JSON: {e}"))?;
            Ok(Some(format!("seccomp={profile}")))
        }
        _ => Ok(Some(v.to_string())),
    }
}

fn health_json(h: &Health) -> Result<Option<Value>, SpecError> {
    let any = h.cmd.is_some()
        || h.interval != 0
        || h.timeout != 0
        || h.start_period != 0
        || h.retries != 0;
    if h.disabled {
        if any {
            return Err(SpecError(
                "--no-healthcheck conflicts with --health-* options".into(),
            ));
        }
        return Ok(Some(json!({"Test": ["NONE"]})));
    }
    if !any {
        return Ok(None);
    }
    let mut m = Map::new();
    if let Some(cmd) = &h.cmd {
        m.insert("Test".into(), json!(["CMD-SHELL", cmd]));
    }
    for (key, n) in [
        ("Interval", h.interval),
        ("Timeout", h.timeout),
        ("StartPeriod", h.start_period),
        ("Retries", h.retries),
    ] {
        if n != 0 {
            m.insert(key.into(), json!(n));
        }
    }
    Ok(Some(Value::Object(m)))
}

#[cfg(test)]
mod tests;
