//! An inspected container (and its image) → the `docker run` line that makes it again: what
//! the person typed, not what the engine or the image filled in. A setting equal to the
//! engine's default, or taken from the image unchanged, is left out; a setting no run line
//! can say is a note, never dropped silently. Pure: reads only the two inspect documents and
//! the engine's [`EngineFacts`]; tolerates any field a engine leaves out.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::quote::{csv_field, flag, word};
use super::secrets::{PLACEHOLDER, looks_secret};
use crate::container::OWNER_LABEL;

/// The engine's shared memory size when a container does not say (64 MiB).
const DEFAULT_SHM_SIZE: i64 = 64 << 20;

/// What the engine fills in where a create body says nothing (such values are left out),
/// and the names of its containers (it keeps `container:<ID>` where a person typed a name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineFacts {
    /// The engine host's name: what `--network host` containers get as their host name.
    pub host_name: String,
    /// The default logging driver.
    pub log_driver: String,
    /// The options the engine adds to every container of the default driver
    /// (`log-opts` of its daemon.json).
    pub log_opts: BTreeMap<String, String>,
    /// The default runtime.
    pub runtime: String,
    /// The default cgroup namespace mode (`private` on cgroup v2, `host` on v1).
    pub cgroupns: String,
    /// Whether the engine is Podman, which reports its own defaults as the container's.
    pub podman: bool,
    /// Container names by ID.
    pub names: BTreeMap<String, String>,
}

impl Default for EngineFacts {
    fn default() -> Self {
        EngineFacts {
            host_name: String::new(),
            log_driver: "json-file".into(),
            log_opts: BTreeMap::new(),
            runtime: "runc".into(),
            cgroupns: "private".into(),
            podman: false,
            names: BTreeMap::new(),
        }
    }
}

impl EngineFacts {
    /// The defaults an engine's `/info` reports, with the log options of its configuration.
    pub fn from_info(
        info: &Value,
        log_opts: BTreeMap<String, String>,
        names: BTreeMap<String, String>,
    ) -> EngineFacts {
        let stock = EngineFacts::default();
        let text = |key: &str, fallback: String| {
            info[key]
                .as_str()
                .filter(|s| !s.is_empty())
                .map_or(fallback, str::to_string)
        };
        EngineFacts {
            host_name: text("Name", String::new()),
            log_driver: text("LoggingDriver", stock.log_driver),
            log_opts,
            runtime: text("DefaultRuntime", stock.runtime),
            cgroupns: if info["CgroupVersion"] == "1" {
                "host".into()
            } else {
                stock.cgroupns
            },
            names,
            podman: false,
        }
    }
}

/// One container's run line, and what the reader of the export must know about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunLine {
    /// The words, each quoted for the record grammar: joined by spaces they are the text.
    pub words: Vec<String>,
    /// Settings the line cannot carry, or carries differently, in words.
    pub notes: Vec<String>,
    /// Environment variables whose names look secret, in the order written.
    pub secrets: Vec<String>,
}

impl RunLine {
    /// The record text.
    pub fn text(&self) -> String {
        self.words.join(" ")
    }
}

/// The run line of a container, from its inspect and its image's inspect (`Null` when the
/// image is gone: then everything the container has is written). With `redact`, the values
/// of secret-looking variables are replaced by [`PLACEHOLDER`].
pub fn run_line(container: &Value, image: &Value, facts: &EngineFacts, redact: bool) -> RunLine {
    let (as_docker, podman_note) = if facts.podman {
        let (c, note) = podman::as_docker(container, image);
        (Some(c), note)
    } else {
        (None, None)
    };
    let container = as_docker.as_ref().unwrap_or(container);
    let mut w = Writer {
        top: container,
        c: &container["Config"],
        hc: &container["HostConfig"],
        img: &image["Config"],
        nets: &container["NetworkSettings"]["Networks"],
        id: container["Id"].as_str().unwrap_or_default(),
        d: facts,
        redact,
        out: RunLine::default(),
    };
    w.process();
    w.environment();
    w.labels();
    w.health();
    w.network();
    w.ports();
    w.storage();
    w.resources();
    w.devices();
    w.isolation();
    w.lifecycle();
    w.unsupported();
    w.image_and_command();
    w.out.notes.extend(podman_note);
    w.out
}

struct Writer<'a> {
    top: &'a Value,
    c: &'a Value,
    hc: &'a Value,
    img: &'a Value,
    nets: &'a Value,
    id: &'a str,
    d: &'a EngineFacts,
    redact: bool,
    out: RunLine,
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn texts(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn object(v: &Value) -> Option<&Map<String, Value>> {
    v.as_object().filter(|m| !m.is_empty())
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// A Go duration the flag parser reads back to the same nanoseconds.
fn go_duration(ns: i64) -> String {
    for (unit, size) in [
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
    ] {
        if ns % size == 0 {
            return format!("{}{unit}", ns / size);
        }
    }
    for (unit, size) in [("ms", 1_000_000), ("us", 1_000)] {
        if ns % size == 0 {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

/// `NanoCpus` as the decimal `--cpus` takes.
fn cpus(nano: i64) -> String {
    let s = format!(
        "{}.{:09}",
        nano / 1_000_000_000,
        (nano % 1_000_000_000).abs()
    );
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl Writer<'_> {
    fn put(&mut self, name: &str, value: &str) {
        self.out.words.push(flag(name, value));
    }

    fn switch(&mut self, name: &str) {
        self.out.words.push(format!("--{name}"));
    }

    fn each(&mut self, name: &str, list: &Value) {
        for v in texts(list) {
            self.put(name, v);
        }
    }

    fn note(&mut self, what: impl Into<String>) {
        self.out.notes.push(what.into());
    }

    /// A string field of the container that differs from the image's and is not empty.
    fn own(&self, key: &str) -> Option<&str> {
        let v = text(&self.c[key]);
        (!v.is_empty() && v != text(&self.img[key])).then_some(v)
    }

    fn network_mode(&self) -> &str {
        text(&self.hc["NetworkMode"])
    }

    /// A mode as typed: `container:<name>` where the engine keeps `container:<ID>`.
    fn mode(&mut self, key: &str) -> String {
        let v = text(&self.hc[key]);
        let Some(id) = v.strip_prefix("container:") else {
            return v.to_string();
        };
        match self.d.names.get(id) {
            Some(name) => format!("container:{name}"),
            None => {
                let v = v.to_string();
                self.note(format!(
                    "{key} names a container by an ID the engine does not list: {v}"
                ));
                v
            }
        }
    }

    /// The user, directory, names, terminal and stop settings of the process.
    fn process(&mut self) {
        for (key, name) in [
            ("User", "user"),
            ("WorkingDir", "workdir"),
            ("StopSignal", "stop-signal"),
        ] {
            if let Some(v) = self.own(key) {
                let v = v.to_string();
                self.put(name, &v);
            }
        }
        let host = text(&self.c["Hostname"]).to_string();
        let mode = self.network_mode();
        // The engine names a container's host after its short ID, or after the engine's
        // host when it shares the host's network.
        let generated = self.id.get(..12) == Some(host.as_str());
        let engine_made = host.is_empty()
            || generated
            || (mode == "host" && host == self.d.host_name)
            || mode.starts_with("container:");
        let given = !engine_made;
        if given {
            self.put("hostname", &host);
        }
        let domain = text(&self.c["Domainname"]).to_string();
        if !domain.is_empty() {
            self.put("domainname", &domain);
        }
        if self.c["Tty"] == true {
            self.switch("tty");
        }
        if self.c["OpenStdin"] == true {
            self.switch("interactive");
        }
        if let Some(t) = self.c["StopTimeout"].as_i64() {
            self.put("stop-timeout", &t.to_string());
        }
        let mac = text(&self.c["MacAddress"]).to_string();
        if !mac.is_empty() {
            self.put("mac-address", &mac);
        }
    }

    /// The variables the container sets or changes; an image variable it lacks was unset.
    fn environment(&mut self) {
        let split = |e: &str| -> (String, Option<String>) {
            match e.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (e.to_string(), None),
            }
        };
        let image: Vec<(String, Option<String>)> =
            texts(&self.img["Env"]).into_iter().map(split).collect();
        let own: Vec<(String, Option<String>)> =
            texts(&self.c["Env"]).into_iter().map(split).collect();
        let mut redacted = Vec::new();
        for (key, value) in &own {
            if image.iter().any(|(k, v)| k == key && v == value) {
                continue;
            }
            let Some(value) = value else {
                self.put("env", key);
                continue;
            };
            if looks_secret(key) {
                self.out.secrets.push(key.clone());
                if self.redact {
                    redacted.push(key.clone());
                    self.put("env", &format!("{key}={PLACEHOLDER}"));
                    continue;
                }
            }
            self.put("env", &format!("{key}={value}"));
        }
        for (key, _) in &image {
            if !own.iter().any(|(k, _)| k == key) {
                self.put("env", key);
                self.note(format!(
                    "the image's variable {key} is unset with a bare --env={key}, which takes {key} from the environment of the tool if it has one"
                ));
            }
        }
        if !redacted.is_empty() {
            self.note(format!(
                "values redacted (--redact): {}; put the real values in place before publishing, or better, keep them off DNS",
                redacted.join(", ")
            ));
        }
    }

    /// The labels the container adds to the image's, without the tool's ownership mark.
    fn labels(&mut self) {
        let Some(labels) = object(&self.c["Labels"]) else {
            return;
        };
        for (k, v) in labels {
            if k == OWNER_LABEL || self.img["Labels"].get(k) == Some(v) {
                continue;
            }
            self.put("label", &format!("{k}={}", text(v)));
        }
    }

    /// The healthcheck fields that differ from the image's.
    fn health(&mut self) {
        let (h, ih) = (&self.c["Healthcheck"], &self.img["Healthcheck"]);
        if h.is_null() {
            return;
        }
        let test = texts(&h["Test"]);
        if !test.is_empty() && h["Test"] != ih["Test"] {
            match test[0] {
                "NONE" => {
                    self.switch("no-healthcheck");
                    return;
                }
                "CMD-SHELL" => self.put("health-cmd", test.get(1).copied().unwrap_or_default()),
                "CMD" => {
                    let shell: Vec<String> = test[1..].iter().map(|w| word(w)).collect();
                    self.put("health-cmd", &shell.join(" "));
                    self.note("the healthcheck's exec form [\"CMD\", …] has no run-line form: it is written as the same words run by a shell (--health-cmd)");
                }
                other => self.note(format!(
                    "dropped: a healthcheck test of the unknown form {other:?}"
                )),
            }
        }
        for (key, name) in [
            ("Interval", "health-interval"),
            ("Timeout", "health-timeout"),
            ("StartPeriod", "health-start-period"),
            ("StartInterval", "health-start-interval"),
        ] {
            let n = h[key].as_i64().unwrap_or(0);
            if n != 0 && h[key] != ih[key] {
                self.put(name, &go_duration(n));
            }
        }
        let retries = h["Retries"].as_i64().unwrap_or(0);
        if retries != 0 && h["Retries"] != ih["Retries"] {
            self.put("health-retries", &retries.to_string());
        }
    }
}

mod command;
mod host;
mod network;
mod podman;
mod storage;

#[cfg(test)]
mod tests;
