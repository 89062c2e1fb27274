//! What the container may take from the host: resources, devices, isolation, the runtime,
//! and how it is restarted and logged; and the settings no run line can say.

use super::{Writer, cpus, object, text, texts};
use serde_json::Value;

/// Integer fields written when not zero, with their flags.
const INTEGERS: &[(&str, &str)] = &[
    ("CpuShares", "cpu-shares"),
    ("Memory", "memory"),
    ("MemoryReservation", "memory-reservation"),
    ("MemorySwap", "memory-swap"),
    ("KernelMemory", "kernel-memory"),
    ("CpuPeriod", "cpu-period"),
    ("CpuQuota", "cpu-quota"),
    ("CpuRealtimePeriod", "cpu-rt-period"),
    ("CpuRealtimeRuntime", "cpu-rt-runtime"),
    ("BlkioWeight", "blkio-weight"),
    ("OomScoreAdj", "oom-score-adj"),
    ("PidsLimit", "pids-limit"),
];

/// String fields written when not empty, with their flags.
const STRINGS: &[(&str, &str)] = &[
    ("CpusetCpus", "cpuset-cpus"),
    ("CpusetMems", "cpuset-mems"),
    ("CgroupParent", "cgroup-parent"),
    ("Isolation", "isolation"),
];

/// Fields only Windows or the engine itself sets, which no run line the tool reads can say.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("CpuCount", "--cpu-count (Windows only)"),
    ("CpuPercent", "--cpu-percent (Windows only)"),
    ("IOMaximumIOps", "--io-maxiops (Windows only)"),
    ("IOMaximumBandwidth", "--io-maxbandwidth (Windows only)"),
    ("KernelMemoryTCP", "kernel TCP memory (no run-line form)"),
    ("Cgroup", "Cgroup (no run-line form)"),
    (
        "ContainerIDFile",
        "--cidfile (the CLI writes the ID to a file on its own host; a record cannot)",
    ),
];

impl Writer<'_> {
    /// CPU, memory, block I/O and process limits.
    pub(super) fn resources(&mut self) {
        let hc = self.hc;
        // With a memory limit and no swap limit the engine allows as much swap again.
        let memory = hc["Memory"].as_i64().unwrap_or(0);
        let engine_swap = memory > 0 && hc["MemorySwap"].as_i64() == Some(2 * memory);
        for (key, name) in INTEGERS {
            if *key == "MemorySwap" && engine_swap {
                continue;
            }
            if let Some(n) = hc[*key].as_i64().filter(|n| *n != 0) {
                self.put(name, &n.to_string());
            }
        }
        if let Some(n) = hc["NanoCpus"].as_i64().filter(|n| *n != 0) {
            self.put("cpus", &cpus(n));
        }
        for (key, name) in STRINGS {
            let v = text(&hc[*key]);
            if !v.is_empty() {
                self.put(name, v);
            }
        }
        if let Some(n) = hc["MemorySwappiness"].as_i64().filter(|n| *n >= 0) {
            self.put("memory-swappiness", &n.to_string());
        }
        if let Some(n) = hc["ShmSize"]
            .as_i64()
            .filter(|n| *n != 0 && *n != super::DEFAULT_SHM_SIZE)
        {
            self.put("shm-size", &n.to_string());
        }
        if hc["OomKillDisable"] == true {
            self.switch("oom-kill-disable");
        }
        for u in hc["Ulimits"].as_array().into_iter().flatten() {
            let (soft, hard) = (
                u["Soft"].as_i64().unwrap_or(0),
                u["Hard"].as_i64().unwrap_or(0),
            );
            self.put("ulimit", &format!("{}={soft}:{hard}", text(&u["Name"])));
        }
        for w in hc["BlkioWeightDevice"].as_array().into_iter().flatten() {
            self.put(
                "blkio-weight-device",
                &format!("{}:{}", text(&w["Path"]), w["Weight"]),
            );
        }
        for (key, name) in [
            ("BlkioDeviceReadBps", "device-read-bps"),
            ("BlkioDeviceWriteBps", "device-write-bps"),
            ("BlkioDeviceReadIOps", "device-read-iops"),
            ("BlkioDeviceWriteIOps", "device-write-iops"),
        ] {
            for t in hc[key].as_array().into_iter().flatten() {
                self.put(name, &format!("{}:{}", text(&t["Path"]), t["Rate"]));
            }
        }
    }

    /// Device nodes, cgroup device rules, GPUs and CDI devices.
    pub(super) fn devices(&mut self) {
        let hc = self.hc;
        for d in hc["Devices"].as_array().into_iter().flatten() {
            let (src, dst, perms) = (
                text(&d["PathOnHost"]),
                text(&d["PathInContainer"]),
                text(&d["CgroupPermissions"]),
            );
            let spec = if (dst.is_empty() || dst == src) && matches!(perms, "" | "rwm") {
                src.to_string()
            } else {
                format!(
                    "{src}:{}:{}",
                    if dst.is_empty() { src } else { dst },
                    if perms.is_empty() { "rwm" } else { perms }
                )
            };
            self.put("device", &spec);
        }
        self.each("device-cgroup-rule", &hc["DeviceCgroupRules"]);
        for r in hc["DeviceRequests"].as_array().into_iter().flatten() {
            if r["Driver"] == "cdi" {
                self.each("device", &r["DeviceIDs"]);
                continue;
            }
            match gpus(r) {
                Ok(value) => self.put("gpus", &value),
                Err(why) => self.note(format!("dropped: a device request {r} ({why})")),
            }
        }
    }

    /// Capabilities, privileges, security options, namespaces, sysctls and the runtime.
    pub(super) fn isolation(&mut self) {
        let hc = self.hc;
        self.each("cap-add", &hc["CapAdd"]);
        self.each("cap-drop", &hc["CapDrop"]);
        if hc["Privileged"] == true {
            self.switch("privileged");
        }
        // The engine disables SELinux labels itself for a container that shares the host's
        // PID or IPC namespace or is privileged, when no option says otherwise.
        let shares_host =
            hc["Privileged"] == true || hc["PidMode"] == "host" || hc["IpcMode"] == "host";
        let engine_opts = shares_host && texts(&hc["SecurityOpt"]) == ["label=disable"];
        for opt in texts(&hc["SecurityOpt"])
            .into_iter()
            .filter(|_| !engine_opts)
        {
            if opt.starts_with("seccomp=")
                && !matches!(opt, "seccomp=unconfined" | "seccomp=builtin")
            {
                self.note("dropped: a seccomp profile given as a file (the engine keeps its JSON, a record names a file: put it on the host and add --security-opt=seccomp=/path/to/profile.json)");
            } else {
                self.put("security-opt", opt);
            }
        }
        if hc["MaskedPaths"].as_array().is_some_and(Vec::is_empty) {
            self.put("security-opt", "systempaths=unconfined");
        }
        if let Some(sysctls) = object(&hc["Sysctls"]) {
            for (k, v) in sysctls {
                self.put("sysctl", &format!("{k}={}", text(v)));
            }
        }
        self.each("group-add", &hc["GroupAdd"]);
        let d = self.d;
        for (key, name, default) in [
            ("PidMode", "pid", "private"),
            ("IpcMode", "ipc", "private"),
            ("UTSMode", "uts", "private"),
            ("UsernsMode", "userns", "private"),
            ("CgroupnsMode", "cgroupns", d.cgroupns.as_str()),
            ("Runtime", "runtime", d.runtime.as_str()),
        ] {
            let v = self.mode(key);
            if !v.is_empty() && v != default {
                self.put(name, &v);
            }
        }
        if let Some(notes) = object(&hc["Annotations"]) {
            for (k, v) in notes {
                self.put("annotation", &format!("{k}={}", text(v)));
            }
        }
    }

    /// The restart policy, `--rm`, `--init` and logging.
    pub(super) fn lifecycle(&mut self) {
        let hc = self.hc;
        let policy = &hc["RestartPolicy"];
        let name = text(&policy["Name"]);
        let count = policy["MaximumRetryCount"].as_i64().unwrap_or(0);
        match name {
            "" | "no" => {}
            "on-failure" if count > 0 => self.put("restart", &format!("on-failure:{count}")),
            other => self.put("restart", other),
        }
        if hc["AutoRemove"] == true {
            self.switch("rm");
        }
        match hc["Init"].as_bool() {
            Some(true) => self.switch("init"),
            Some(false) => self.put("init", "false"),
            None => {}
        }
        let log = &hc["LogConfig"];
        let driver = text(&log["Type"]);
        let default_driver = driver.is_empty() || driver == self.d.log_driver;
        if !default_driver {
            self.put("log-driver", driver);
        }
        for (k, v) in object(&log["Config"]).into_iter().flatten() {
            let engine_default =
                default_driver && self.d.log_opts.get(k).map(String::as_str) == v.as_str();
            if !engine_default {
                self.put("log-opt", &format!("{k}={}", text(v)));
            }
        }
    }

    /// Settings with no run-line form: each a note.
    pub(super) fn unsupported(&mut self) {
        let hc = self.hc;
        for (key, what) in UNSUPPORTED {
            if !super::is_empty(&hc[*key]) && hc[*key] != 0 {
                self.note(format!("dropped: {what}: {}", hc[*key]));
            }
        }
    }
}

/// A GPU device request as the `--gpus` value that makes it.
fn gpus(r: &Value) -> Result<String, String> {
    let mut fields = Vec::new();
    let driver = text(&r["Driver"]);
    if !driver.is_empty() {
        fields.push(format!("driver={driver}"));
    }
    let ids = texts(&r["DeviceIDs"]);
    if r["DeviceIDs"].is_array() {
        fields.push(format!("device={}", ids.join(",")));
    }
    let count = r["Count"].as_i64().unwrap_or(0);
    if count == -1 {
        fields.push("count=all".into());
    } else if count != 0 || !r["DeviceIDs"].is_array() {
        fields.push(format!("count={count}"));
    }
    let sets = r["Capabilities"].as_array().cloned().unwrap_or_default();
    if sets.len() > 1 {
        return Err("several capability sets have no --gpus form".into());
    }
    let caps: Vec<&str> = sets
        .first()
        .map(texts)
        .unwrap_or_default()
        .into_iter()
        .filter(|c| *c != "gpu")
        .collect();
    if !caps.is_empty() {
        fields.push(format!("capabilities={}", caps.join(",")));
    }
    if let Some(opts) = object(&r["Options"]) {
        let kv: Vec<String> = opts
            .iter()
            .map(|(k, v)| super::csv_field(&format!("{k}={}", text(v))))
            .collect();
        fields.push(format!("options={}", kv.join(",")));
    }
    Ok(fields
        .iter()
        .map(|f| super::csv_field(f))
        .collect::<Vec<_>>()
        .join(","))
}
