//! A parsed `docker run` line → the create body the docker CLI would send for `run -d`,
//! zero fields omitted. Owns the flag → API field mapping (docker-run-mapping.md §3–§4) and
//! the CLI's client-side rules (env/label files, network endpoints, capability
//! normalisation). Reads files and the environment only through [`Host`].

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::flags::RunLine;
use super::kv_file::{env_file, label_file};
use super::network::{Attachment, attachment, endpoints};
use super::storage::{Volume, mount, volume};
use super::values::{
    PortMapping, key_value, parse_bytes, parse_device, parse_dns_search, parse_duration,
    parse_go_int, parse_go_u16, parse_gpus, parse_ip, parse_link, parse_nano_cpus,
    parse_port_range, parse_publish, parse_restart, parse_throttle_bps, parse_throttle_iops,
    parse_ulimit, parse_weight_device, split_proto_port,
};
use super::{Host, PullPolicy, SpecError};

/// What a run line yields besides the owner label: the body and the two client-side options.
#[derive(Debug)]
pub struct Built {
    /// The create body, without the owner label.
    pub body: Value,
    /// `--platform`.
    pub platform: Option<String>,
    /// `--pull`, when given.
    pub pull: Option<PullPolicy>,
}

/// The engine socket `--use-api-socket` binds: the default endpoint's.
const ENGINE_SOCKET: &str = "/var/run/docker.sock";

fn invalid(flag: &str, value: &str, why: impl std::fmt::Display) -> SpecError {
    SpecError::invalid(flag, value, why)
}

#[derive(Default)]
struct Health {
    cmd: Option<String>,
    interval: i64,
    timeout: i64,
    start_period: i64,
    start_interval: i64,
    retries: i64,
    disabled: bool,
}

/// Map the line to a create body.
pub fn build(line: &RunLine, host: &dyn Host) -> Result<Built, SpecError> {
    let mut cfg = Map::new();
    let mut hc = Map::new();
    let mut pull = None;
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
    let mut gpus: Vec<Value> = Vec::new();
    let mut blkio: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    let mut annotations = Map::new();
    let mut api_socket = false;
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
            "annotation" => {
                let (key, val) = key_value(v);
                annotations.insert(key.to_string(), json!(val));
            }
            "blkio-weight" => {
                let n = parse_go_u16(v).map_err(|e| bad(&e))?;
                set_int(&mut hc, "BlkioWeight", i64::from(n));
            }
            "blkio-weight-device" => {
                let (path, weight) = parse_weight_device(v).map_err(|e| bad(&e))?;
                blkio
                    .entry("BlkioWeightDevice")
                    .or_default()
                    .push(json!({"Path": path, "Weight": weight}));
            }
            "device-read-bps" | "device-write-bps" | "device-read-iops" | "device-write-iops" => {
                let (path, rate) = if flag.ends_with("bps") {
                    parse_throttle_bps(v)
                } else {
                    parse_throttle_iops(v)
                }
                .map_err(|e| bad(&e))?;
                let key = match flag {
                    "device-read-bps" => "BlkioDeviceReadBps",
                    "device-write-bps" => "BlkioDeviceWriteBps",
                    "device-read-iops" => "BlkioDeviceReadIOps",
                    _ => "BlkioDeviceWriteIOps",
                };
                blkio
                    .entry(key)
                    .or_default()
                    .push(json!({"Path": path, "Rate": rate}));
            }
            "cpu-rt-period" => set_int(&mut hc, "CpuRealtimePeriod", int()?),
            "cpu-rt-runtime" => set_int(&mut hc, "CpuRealtimeRuntime", int()?),
            "gpus" => gpus.push(parse_gpus(v).map_err(|e| bad(&e))?),
            "health-start-interval" => health.start_interval = duration(flag, v)?,
            "isolation" => set_str(&mut hc, "Isolation", v),
            // Deprecated: the CLI sends it only below API 1.42, and later engines ignore it,
            // so sending it to every engine changes nothing where the CLI would not.
            "kernel-memory" => set_int(&mut hc, "KernelMemory", bytes()?),
            "link" => {
                parse_link(v).map_err(|e| bad(&e))?;
                lists.entry("Links").or_default().push(v.to_string());
                first.links.push(v.to_string());
            }
            "use-api-socket" => api_socket = on,
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
            // Every container this tool makes is detached and never attached to, so these
            // client-side switches change nothing.
            "detach" | "detach-keys" | "quiet" | "sig-proxy" => {}
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
                pull = Some(match v {
                    "missing" => PullPolicy::Missing,
                    "always" => PullPolicy::Always,
                    "never" => PullPolicy::Never,
                    _ => return Err(bad(&"must be one of \"always\", \"missing\" or \"never\"")),
                })
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
            "volume-driver" => set_str(&mut hc, "VolumeDriver", v),
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
    if api_socket {
        // The CLI binds the engine socket it talks to; the tool talks to the default one.
        // It never copies the CLI's registry credentials in, as `docker run` does.
        mounts.push(json!({
            "Type": "bind",
            "Source": ENGINE_SOCKET,
            "Target": "/var/run/docker.sock",
            "BindOptions": {},
        }));
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
        gpus.push(json!({"Driver": "cdi", "DeviceIDs": cdi}));
    }
    if !gpus.is_empty() {
        hc.insert("DeviceRequests".into(), Value::Array(gpus));
    }
    for (key, list) in blkio {
        hc.insert(key.into(), Value::Array(list));
    }
    if !annotations.is_empty() {
        hc.insert("Annotations".into(), Value::Object(annotations));
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
        || h.start_interval != 0
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
        ("StartInterval", h.start_interval),
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
