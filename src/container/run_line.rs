//! A parsed `docker run` line → the create body the docker CLI would send for `run -d`,
//! zero fields omitted. Owns the flag → API field mapping of the docker CLI 28.2
//! (docker-dns-provision(5), THE TEXT; tests/spec_oracle.rs holds it to the CLI) and
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

/// One `--flag value` of the line, with the conversions most flags share; every error names
/// the flag and its value.
struct Flag<'a> {
    name: &'a str,
    v: &'a str,
}

impl Flag<'_> {
    fn bad(&self, why: impl std::fmt::Display) -> SpecError {
        invalid(self.name, self.v, why)
    }

    fn check<T, E: std::fmt::Display>(&self, parsed: Result<T, E>) -> Result<T, SpecError> {
        parsed.map_err(|e| self.bad(e))
    }

    fn int(&self) -> Result<i64, SpecError> {
        self.check(parse_go_int(self.v))
    }

    fn bytes(&self) -> Result<i64, SpecError> {
        self.check(parse_bytes(self.v))
    }

    fn ip(&self) -> Result<String, SpecError> {
        self.check(parse_ip(self.v))
    }

    fn duration(&self) -> Result<i64, SpecError> {
        duration(self.name, self.v)
    }

    fn on(&self) -> bool {
        self.v == "true"
    }
}

/// What the flags say, gathered in the line's order: some flags fill a field directly, others
/// only make sense together (env files before `-e`, caps added and dropped, the first
/// network's endpoint flags), so the body is assembled only once every flag is read.
#[derive(Default)]
struct Draft {
    cfg: Map<String, Value>,
    hc: Map<String, Value>,
    pull: Option<PullPolicy>,
    platform: Option<String>,
    env_from_files: Vec<String>,
    env_flags: Vec<String>,
    labels_from_files: Vec<(String, String)>,
    label_flags: Vec<(String, String)>,
    binds: Vec<String>,
    volumes: Map<String, Value>,
    mounts: Vec<Value>,
    tmpfs: Map<String, Value>,
    exposed: Map<String, Value>,
    bindings: BTreeMap<String, Vec<Value>>,
    networks: Vec<Attachment>,
    first: Attachment,
    lists: BTreeMap<&'static str, Vec<String>>,
    cap_add: Vec<String>,
    cap_drop: Vec<String>,
    devices: Vec<Value>,
    cdi: Vec<String>,
    gpus: Vec<Value>,
    blkio: BTreeMap<&'static str, Vec<Value>>,
    annotations: Map<String, Value>,
    api_socket: bool,
    security: Vec<String>,
    unconfined_paths: bool,
    ulimits: BTreeMap<String, (i64, i64)>,
    sysctls: Map<String, Value>,
    storage: Map<String, Value>,
    log_driver: String,
    log_opts: Map<String, Value>,
    health: Health,
    restart: Option<(String, i64)>,
    auto_remove: bool,
}

/// Map the line to a create body.
pub fn build(line: &RunLine, host: &dyn Host) -> Result<Built, SpecError> {
    let mut draft = Draft::default();
    for (name, value) in &line.opts {
        draft.take(&Flag { name, v: value }, host)?;
    }
    super::ImageRef::parse(&line.image)?;
    draft.finish(line)
}

impl Draft {
    /// Each family answers whether the flag is one of its own.
    fn take(&mut self, f: &Flag<'_>, host: &dyn Host) -> Result<(), SpecError> {
        let mapped = self.resource(f)?
            || self.device(f)?
            || self.network(f)?
            || self.storage_flag(f)?
            || self.isolation(f, host)?
            || self.process(f, host)?
            || self.lifecycle(f)?;
        if mapped {
            Ok(())
        } else {
            Err(SpecError(format!("flag --{} has no mapping", f.name)))
        }
    }

    fn list(&mut self, key: &'static str, item: String) {
        self.lists.entry(key).or_default().push(item);
    }

    /// CPU, memory, block I/O and process-count limits.
    fn resource(&mut self, f: &Flag<'_>) -> Result<bool, SpecError> {
        let hc = &mut self.hc;
        match f.name {
            "blkio-weight" => {
                let n = f.check(parse_go_u16(f.v))?;
                set_int(hc, "BlkioWeight", i64::from(n));
            }
            "blkio-weight-device" => {
                let (path, weight) = f.check(parse_weight_device(f.v))?;
                self.blkio
                    .entry("BlkioWeightDevice")
                    .or_default()
                    .push(json!({"Path": path, "Weight": weight}));
            }
            "device-read-bps" | "device-write-bps" | "device-read-iops" | "device-write-iops" => {
                let (path, rate) = f.check(if f.name.ends_with("bps") {
                    parse_throttle_bps(f.v)
                } else {
                    parse_throttle_iops(f.v)
                })?;
                let key = match f.name {
                    "device-read-bps" => "BlkioDeviceReadBps",
                    "device-write-bps" => "BlkioDeviceWriteBps",
                    "device-read-iops" => "BlkioDeviceReadIOps",
                    _ => "BlkioDeviceWriteIOps",
                };
                self.blkio
                    .entry(key)
                    .or_default()
                    .push(json!({"Path": path, "Rate": rate}));
            }
            "cpu-rt-period" => set_int(hc, "CpuRealtimePeriod", f.int()?),
            "cpu-rt-runtime" => set_int(hc, "CpuRealtimeRuntime", f.int()?),
            "cpu-period" => set_int(hc, "CpuPeriod", f.int()?),
            "cpu-quota" => set_int(hc, "CpuQuota", f.int()?),
            "cpu-shares" => set_int(hc, "CpuShares", f.int()?),
            "cpus" => set_int(hc, "NanoCpus", f.check(parse_nano_cpus(f.v))?),
            "cpuset-cpus" => set_str(hc, "CpusetCpus", f.v),
            "cpuset-mems" => set_str(hc, "CpusetMems", f.v),
            // Deprecated: the CLI sends it only below API 1.42, and later engines ignore it,
            // so sending it to every engine changes nothing where the CLI would not.
            "kernel-memory" => set_int(hc, "KernelMemory", f.bytes()?),
            "memory" => set_int(hc, "Memory", f.bytes()?),
            "memory-reservation" => set_int(hc, "MemoryReservation", f.bytes()?),
            "memory-swap" => {
                let n = if f.v == "-1" { -1 } else { f.bytes()? };
                set_int(hc, "MemorySwap", n);
            }
            "memory-swappiness" => {
                let n = f.int()?;
                if !(-1..=100).contains(&n) {
                    return Err(f.bad("valid memory swappiness range is 0-100"));
                }
                // -1 is the CLI's "unset"; the daemon stores it as null.
                if n >= 0 {
                    hc.insert("MemorySwappiness".into(), json!(n));
                }
            }
            "oom-kill-disable" => set_bool(hc, "OomKillDisable", f.on()),
            "oom-score-adj" => {
                let n = f.int()?;
                if !(-1000..=1000).contains(&n) {
                    return Err(f.bad("valid values are between -1000 and 1000"));
                }
                set_int(hc, "OomScoreAdj", n);
            }
            "pids-limit" => set_int(hc, "PidsLimit", f.int()?),
            "shm-size" => set_int(hc, "ShmSize", f.bytes()?),
            "ulimit" => {
                let (name, soft, hard) = f.check(parse_ulimit(f.v))?;
                self.ulimits.insert(name, (soft, hard));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Host devices: device nodes, CDI devices, GPUs and cgroup device rules.
    fn device(&mut self, f: &Flag<'_>) -> Result<bool, SpecError> {
        match f.name {
            "device" => {
                if is_cdi_name(f.v) {
                    self.cdi.push(f.v.to_string());
                } else {
                    let (src, dst, perms) = f.check(parse_device(f.v))?;
                    self.devices.push(json!({
                        "PathOnHost": src, "PathInContainer": dst, "CgroupPermissions": perms
                    }));
                }
            }
            "device-cgroup-rule" => {
                if !valid_cgroup_rule(f.v) {
                    return Err(f.bad("a rule is '[abc] major|*:minor|* [rwm]{1,3}'"));
                }
                self.list("DeviceCgroupRules", f.v.to_string());
            }
            "gpus" => self.gpus.push(f.check(parse_gpus(f.v))?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Networks, their endpoint settings, ports, links and name resolution.
    fn network(&mut self, f: &Flag<'_>) -> Result<bool, SpecError> {
        let v = f.v;
        match f.name {
            "add-host" => self.list("ExtraHosts", f.check(extra_host(v))?),
            "dns" => self.list("Dns", f.ip()?),
            "dns-option" => self.list("DnsOptions", v.to_string()),
            "dns-search" => self.list("DnsSearch", f.check(parse_dns_search(v))?),
            "expose" => {
                if v.contains(':') {
                    return Err(f.bad("invalid port format for --expose"));
                }
                let (proto, port) = split_proto_port(v);
                let (start, end) = f.check(parse_port_range(port))?;
                for p in start..=end {
                    self.exposed.insert(format!("{p}/{proto}"), json!({}));
                }
            }
            "ip" => self.first.ipv4 = f.ip()?,
            "ip6" => self.first.ipv6 = f.ip()?,
            "link" => {
                f.check(parse_link(v))?;
                self.list("Links", v.to_string());
                self.first.links.push(v.to_string());
            }
            "link-local-ip" => self.first.link_local.push(f.ip()?),
            "mac-address" => self.first.mac = v.to_string(),
            "network" => self.networks.push(f.check(attachment(v))?),
            "network-alias" => self.first.aliases.push(v.to_string()),
            "publish" => {
                for PortMapping {
                    port,
                    host_ip,
                    host_port,
                } in f.check(parse_publish(v))?
                {
                    self.exposed.insert(port.clone(), json!({}));
                    self.bindings
                        .entry(port)
                        .or_default()
                        .push(json!({"HostIp": host_ip, "HostPort": host_port}));
                }
            }
            "publish-all" => set_bool(&mut self.hc, "PublishAllPorts", f.on()),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Volumes, mounts, tmpfs, the root filesystem and the engine socket.
    fn storage_flag(&mut self, f: &Flag<'_>) -> Result<bool, SpecError> {
        let v = f.v;
        match f.name {
            "mount" => self.mounts.push(f.check(mount(v))?),
            "read-only" => set_bool(&mut self.hc, "ReadonlyRootfs", f.on()),
            "storage-opt" => match v.split_once('=') {
                Some((k, val)) => {
                    self.storage.insert(k.to_string(), json!(val));
                }
                None => return Err(f.bad("invalid storage option: it is key=value")),
            },
            "tmpfs" => {
                let (path, opts) = v.split_once(':').unwrap_or((v, ""));
                if !path.starts_with('/') {
                    return Err(f.bad("the tmpfs mount point must be an absolute path"));
                }
                self.tmpfs.insert(path.to_string(), json!(opts));
            }
            "use-api-socket" => self.api_socket = f.on(),
            "volume" => match f.check(volume(v))? {
                Volume::Anonymous(target) => {
                    self.volumes.insert(target, json!({}));
                }
                Volume::Bind(spec) => {
                    if !self.binds.contains(&spec) {
                        self.binds.push(spec);
                    }
                }
            },
            "volume-driver" => set_str(&mut self.hc, "VolumeDriver", v),
            "volumes-from" => self.list("VolumesFrom", v.to_string()),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// What separates the container from the host: capabilities, namespaces, security
    /// options, sysctls and the runtime.
    fn isolation(&mut self, f: &Flag<'_>, host: &dyn Host) -> Result<bool, SpecError> {
        let (hc, v) = (&mut self.hc, f.v);
        match f.name {
            "cap-add" => self.cap_add.push(v.to_string()),
            "cap-drop" => self.cap_drop.push(v.to_string()),
            "cgroup-parent" => set_str(hc, "CgroupParent", v),
            "cgroupns" => {
                one_of(f.name, v, &["", "host", "private"], "invalid CGROUP mode")?;
                set_str(hc, "CgroupnsMode", v);
            }
            "group-add" => self.list("GroupAdd", v.to_string()),
            "ipc" => {
                if !(matches!(v, "" | "none" | "private" | "shareable" | "host")
                    || container_ref(v))
                {
                    return Err(f.bad("--ipc: invalid IPC mode"));
                }
                set_str(hc, "IpcMode", v);
            }
            "isolation" => set_str(hc, "Isolation", v),
            "pid" => {
                if !(matches!(v, "" | "host") || container_ref(v)) {
                    return Err(f.bad("--pid: invalid PID mode"));
                }
                set_str(hc, "PidMode", v);
            }
            "privileged" => set_bool(hc, "Privileged", f.on()),
            "runtime" => set_str(hc, "Runtime", v),
            "security-opt" => match f.check(security_opt(v, host))? {
                None => self.unconfined_paths = true,
                Some(opt) => self.security.push(opt),
            },
            "sysctl" => {
                let not_allowed = || f.bad(format!("sysctl '{v}' is not allowed"));
                let (k, val) = v.split_once('=').ok_or_else(not_allowed)?;
                if !sysctl_allowed(k) {
                    return Err(not_allowed());
                }
                self.sysctls.insert(k.to_string(), json!(val));
            }
            "userns" => {
                one_of(f.name, v, &["", "host"], "invalid USER mode")?;
                set_str(hc, "UsernsMode", v);
            }
            "uts" => {
                one_of(f.name, v, &["", "host"], "invalid UTS mode")?;
                set_str(hc, "UTSMode", v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The process inside: command, environment, labels, user, terminal and health check.
    fn process(&mut self, f: &Flag<'_>, host: &dyn Host) -> Result<bool, SpecError> {
        let (cfg, v) = (&mut self.cfg, f.v);
        match f.name {
            "annotation" => {
                let (key, val) = key_value(v);
                self.annotations.insert(key.to_string(), json!(val));
            }
            "domainname" => set_str(cfg, "Domainname", v),
            "entrypoint" => {
                cfg.insert("Entrypoint".into(), json!([v]));
            }
            "env" => self.env_flags.push(env_entry(f, host)?),
            "env-file" => self.env_from_files.extend(env_file(f.name, v, host)?),
            "health-cmd" => self.health.cmd = Some(v.to_string()).filter(|c| !c.is_empty()),
            "health-interval" => self.health.interval = f.duration()?,
            "health-retries" => {
                self.health.retries = f.int()?;
                if self.health.retries < 0 {
                    return Err(f.bad("--health-retries cannot be negative"));
                }
            }
            "health-start-interval" => self.health.start_interval = f.duration()?,
            "health-start-period" => self.health.start_period = f.duration()?,
            "health-timeout" => self.health.timeout = f.duration()?,
            "hostname" => set_str(cfg, "Hostname", v),
            "interactive" => set_bool(cfg, "OpenStdin", f.on()),
            "label" => {
                let (key, val) = key_value(v);
                if key.trim().is_empty() {
                    return Err(f.bad("invalid label: empty name"));
                }
                if key.trim().contains(char::is_whitespace) {
                    return Err(f.bad("a label's name cannot contain whitespace"));
                }
                self.label_flags.push((key.to_string(), val.to_string()));
            }
            "label-file" => self.labels_from_files.extend(label_file(f.name, v, host)?),
            "no-healthcheck" => self.health.disabled = f.on(),
            "tty" => set_bool(cfg, "Tty", f.on()),
            "user" => set_str(cfg, "User", v),
            "workdir" => {
                if !v.is_empty() && !v.starts_with('/') {
                    return Err(f.bad("the working directory must be an absolute path"));
                }
                set_str(cfg, "WorkingDir", v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// How the container is pulled, started, stopped, restarted and logged.
    fn lifecycle(&mut self, f: &Flag<'_>) -> Result<bool, SpecError> {
        let v = f.v;
        match f.name {
            // Every container this tool makes is detached and never attached to, so these
            // client-side switches change nothing.
            "detach" | "detach-keys" | "quiet" | "sig-proxy" => {}
            "init" => {
                self.hc.insert("Init".into(), json!(f.on()));
            }
            "log-driver" => self.log_driver = v.to_string(),
            "log-opt" => {
                let (key, val) = key_value(v);
                self.log_opts.insert(key.to_string(), json!(val));
            }
            "platform" => self.platform = Some(v.to_string()).filter(|p| !p.is_empty()),
            "pull" => {
                self.pull = Some(match v {
                    "missing" => PullPolicy::Missing,
                    "always" => PullPolicy::Always,
                    "never" => PullPolicy::Never,
                    _ => return Err(f.bad("must be one of \"always\", \"missing\" or \"never\"")),
                });
            }
            "restart" => self.restart = Some(f.check(parse_restart(v))?),
            "rm" => self.auto_remove = f.on(),
            "stop-signal" => set_str(&mut self.cfg, "StopSignal", v),
            "stop-timeout" => {
                self.cfg.insert("StopTimeout".into(), json!(f.int()?));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The body, once every flag is read. The checks that span flags run in a fixed order,
    /// so a line with several faults always names the same one.
    fn finish(mut self, line: &RunLine) -> Result<Built, SpecError> {
        self.config(line)?;
        self.storage_fields();
        self.port_and_list_fields();
        self.device_fields();
        self.security_fields();
        self.log_and_restart()?;
        let mut hc = std::mem::take(&mut self.hc);
        let mut cfg = std::mem::take(&mut self.cfg);
        let (mode, endpoints) = endpoints(self.networks, self.first)?;
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
            platform: self.platform,
            pull: self.pull,
        })
    }

    /// The container's own fields (beside `HostConfig`).
    fn config(&mut self, line: &RunLine) -> Result<(), SpecError> {
        let cfg = &mut self.cfg;
        cfg.insert("Image".into(), json!(line.image));
        if !line.cmd.is_empty() {
            cfg.insert("Cmd".into(), json!(line.cmd));
        }
        let env = dedup_env(
            std::mem::take(&mut self.env_from_files)
                .into_iter()
                .chain(std::mem::take(&mut self.env_flags)),
        );
        if !env.is_empty() {
            cfg.insert("Env".into(), json!(env));
        }
        let mut labels = Map::new();
        let from_files = std::mem::take(&mut self.labels_from_files);
        for (k, v) in from_files
            .into_iter()
            .chain(std::mem::take(&mut self.label_flags))
        {
            labels.insert(k, json!(v));
        }
        insert_object(cfg, "Labels", labels);
        insert_object(cfg, "ExposedPorts", std::mem::take(&mut self.exposed));
        insert_object(cfg, "Volumes", std::mem::take(&mut self.volumes));
        if let Some(h) = health_json(&self.health)? {
            cfg.insert("Healthcheck".into(), h);
        }
        Ok(())
    }

    fn storage_fields(&mut self) {
        let hc = &mut self.hc;
        if !self.binds.is_empty() {
            hc.insert("Binds".into(), json!(self.binds));
        }
        if self.api_socket {
            // The CLI binds the engine socket it talks to; the tool talks to the default one.
            // It never copies the CLI's registry credentials in, as `docker run` does.
            self.mounts.push(json!({
                "Type": "bind",
                "Source": ENGINE_SOCKET,
                "Target": "/var/run/docker.sock",
                "BindOptions": {},
            }));
        }
        insert_array(hc, "Mounts", std::mem::take(&mut self.mounts));
        insert_object(hc, "Tmpfs", std::mem::take(&mut self.tmpfs));
        insert_object(hc, "StorageOpt", std::mem::take(&mut self.storage));
    }

    fn port_and_list_fields(&mut self) {
        if !self.bindings.is_empty() {
            self.hc.insert("PortBindings".into(), json!(self.bindings));
        }
        for (key, list) in std::mem::take(&mut self.lists) {
            self.hc.insert(key.into(), json!(list));
        }
    }

    fn device_fields(&mut self) {
        let hc = &mut self.hc;
        insert_array(hc, "Devices", std::mem::take(&mut self.devices));
        if !self.cdi.is_empty() {
            self.gpus
                .push(json!({"Driver": "cdi", "DeviceIDs": self.cdi}));
        }
        insert_array(hc, "DeviceRequests", std::mem::take(&mut self.gpus));
        for (key, list) in std::mem::take(&mut self.blkio) {
            hc.insert(key.into(), Value::Array(list));
        }
    }

    fn security_fields(&mut self) {
        let hc = &mut self.hc;
        let (add, drop) = effective_caps(&self.cap_add, &self.cap_drop);
        if !add.is_empty() {
            hc.insert("CapAdd".into(), json!(add));
        }
        if !drop.is_empty() {
            hc.insert("CapDrop".into(), json!(drop));
        }
        insert_object(hc, "Annotations", std::mem::take(&mut self.annotations));
        if !self.security.is_empty() {
            hc.insert("SecurityOpt".into(), json!(self.security));
        }
        if self.unconfined_paths {
            hc.insert("MaskedPaths".into(), json!([]));
            hc.insert("ReadonlyPaths".into(), json!([]));
        }
        let ulimits: Vec<Value> = std::mem::take(&mut self.ulimits)
            .into_iter()
            .map(|(name, (soft, hard))| json!({"Name": name, "Soft": soft, "Hard": hard}))
            .collect();
        insert_array(hc, "Ulimits", ulimits);
        insert_object(hc, "Sysctls", std::mem::take(&mut self.sysctls));
    }

    fn log_and_restart(&mut self) -> Result<(), SpecError> {
        let hc = &mut self.hc;
        if self.log_driver == "none" && !self.log_opts.is_empty() {
            return Err(SpecError(
                "invalid logging opts for driver none: --log-opt cannot be used with --log-driver none"
                    .into(),
            ));
        }
        if !self.log_driver.is_empty() || !self.log_opts.is_empty() {
            hc.insert(
                "LogConfig".into(),
                json!({"Type": self.log_driver, "Config": self.log_opts}),
            );
        }
        if let Some((name, count)) = &self.restart {
            if self.auto_remove && !matches!(name.as_str(), "" | "no") {
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
        set_bool(hc, "AutoRemove", self.auto_remove);
        Ok(())
    }
}

/// `-e KEY=value`, or `-e KEY`: as the CLI, the tool's own value, or a bare KEY (which unsets
/// the image's variable) when the tool has none.
fn env_entry(f: &Flag<'_>, host: &dyn Host) -> Result<String, SpecError> {
    let (key, _) = key_value(f.v);
    if key.is_empty() {
        return Err(f.bad("invalid environment variable: empty name"));
    }
    if f.v.contains('=') {
        return Ok(f.v.to_string());
    }
    Ok(host
        .env(f.v)
        .map_or_else(|| f.v.to_string(), |val| format!("{}={val}", f.v)))
}

fn insert_object(map: &mut Map<String, Value>, key: &str, object: Map<String, Value>) {
    if !object.is_empty() {
        map.insert(key.into(), Value::Object(object));
    }
}

fn insert_array(map: &mut Map<String, Value>, key: &str, list: Vec<Value>) {
    if !list.is_empty() {
        map.insert(key.into(), Value::Array(list));
    }
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
