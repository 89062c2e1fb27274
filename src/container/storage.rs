//! Storage values: `-v [src:]dst[:opts]` and the `--mount` CSV, as the docker CLI reads them.
//! Relative sources are refused: the CLI resolves them against its working directory, and a
//! tool started at boot has no meaningful one.

use serde_json::{Map, Value, json};

use super::values::{csv_fields, key_value, parse_bool, parse_bytes};

/// What a `-v` value becomes.
pub enum Volume {
    /// `-v /dst`: an anonymous volume, sent in `Volumes`.
    Anonymous(String),
    /// A bind or named volume, sent in `Binds` as typed.
    Bind(String),
}

/// `-v [src:]dst[:opts]`. A relative source (`./x`, `~/x`) is refused: the CLI resolves it
/// against its working directory, and a tool started at boot has no meaningful one.
pub fn volume(v: &str) -> Result<Volume, String> {
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
            if !super::valid_docker_name(name) {
                return Err(format!(
                    "{name:?} is not a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+) nor an absolute path"
                ));
            }
            Ok(Volume::Bind(v.to_string()))
        }
    }
}

/// `--mount` CSV → one `Mount` object, as the CLI's `MountOpt` builds it (tests/spec_oracle.rs
/// compares the two).
pub fn mount(v: &str) -> Result<Value, String> {
    let mut draft = MountDraft {
        kind: "volume".to_string(),
        ..MountDraft::default()
    };
    for field in csv_fields(v)? {
        draft.field(&field)?;
    }
    draft.finish()
}

const NONRECURSIVE_GONE: &str =
    "bind-nonrecursive is deprecated, use bind-recursive=disabled instead";

/// The `--mount` fields read so far, by the options object each belongs in.
#[derive(Default)]
struct MountDraft {
    m: Map<String, Value>,
    kind: String,
    bind: Map<String, Value>,
    vol: Map<String, Value>,
    driver: Map<String, Value>,
    driver_opts: Map<String, Value>,
    vol_labels: Map<String, Value>,
    // Any volume-* key creates VolumeOptions, even one that sets nothing (as the CLI).
    vol_touched: bool,
    tmpfs: Map<String, Value>,
    read_only: bool,
}

impl MountDraft {
    fn field(&mut self, field: &str) -> Result<(), String> {
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
            return self.bare(&key, field);
        };
        let key = key.as_str();
        let mapped = self.common(key, val)?
            || self.bind_option(key, val)?
            || self.volume_option(key, val)?
            || self.tmpfs_option(key, val)?;
        if mapped {
            Ok(())
        } else {
            Err(format!("unexpected key '{key}' in '{field}'"))
        }
    }

    /// A field without `=`: only the switches may stand alone.
    fn bare(&mut self, key: &str, field: &str) -> Result<(), String> {
        match key {
            "readonly" | "ro" => self.read_only = true,
            "volume-nocopy" => {
                self.vol.insert("NoCopy".into(), json!(true));
            }
            "bind-nonrecursive" => return Err(NONRECURSIVE_GONE.into()),
            _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
        }
        Ok(())
    }

    /// The fields of every mount type.
    fn common(&mut self, key: &str, val: &str) -> Result<bool, String> {
        match key {
            "type" => self.kind = val.to_lowercase(),
            "source" | "src" => {
                if val.starts_with('.') || val.starts_with('~') {
                    return Err(format!(
                        "the mount source {val:?} is relative: give an absolute path (there is no working directory to resolve it against at boot)"
                    ));
                }
                self.m.insert("Source".into(), json!(val));
            }
            "target" | "dst" | "destination" => {
                self.m.insert("Target".into(), json!(val));
            }
            "readonly" | "ro" => self.read_only = flag_bool(key, val)?,
            "consistency" => {
                self.m
                    .insert("Consistency".into(), json!(val.to_lowercase()));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn bind_option(&mut self, key: &str, val: &str) -> Result<bool, String> {
        match key {
            "bind-propagation" => {
                self.bind
                    .insert("Propagation".into(), json!(val.to_lowercase()));
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
                    self.bind.insert(f.into(), json!(true));
                }
            }
            "bind-nonrecursive" => return Err(NONRECURSIVE_GONE.into()),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn volume_option(&mut self, key: &str, val: &str) -> Result<bool, String> {
        match key {
            "volume-subpath" => {
                self.vol.insert("Subpath".into(), json!(val));
            }
            "volume-nocopy" => {
                self.vol_touched = true;
                if flag_bool(key, val)? {
                    self.vol.insert("NoCopy".into(), json!(true));
                } else {
                    self.vol.remove("NoCopy");
                }
            }
            "volume-label" => {
                let (k, x) = key_value(val);
                if !k.is_empty() {
                    self.vol_labels.insert(k.into(), json!(x));
                }
            }
            "volume-driver" => {
                self.driver.insert("Name".into(), json!(val));
            }
            "volume-opt" => {
                let (k, x) = key_value(val);
                if !k.is_empty() {
                    self.driver_opts.insert(k.into(), json!(x));
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn tmpfs_option(&mut self, key: &str, val: &str) -> Result<bool, String> {
        let bad = || format!("invalid value for {key}: {val}");
        match key {
            "tmpfs-size" => {
                let n = parse_bytes(val).map_err(|_| bad())?;
                self.tmpfs.insert("SizeBytes".into(), json!(n));
            }
            "tmpfs-mode" => {
                let n = u32::from_str_radix(val, 8)
                    .ok()
                    .filter(|_| !val.starts_with('+'))
                    .ok_or_else(bad)?;
                self.tmpfs.insert("Mode".into(), json!(n));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The `Mount` object, once the fields agree with each other and with the type.
    fn finish(mut self) -> Result<Value, String> {
        if !self.m.contains_key("Target") {
            return Err("target is required".into());
        }
        if !self.driver_opts.is_empty() {
            let opts = std::mem::take(&mut self.driver_opts);
            self.driver.insert("Options".into(), Value::Object(opts));
        }
        // The CLI always sends a (possibly empty) DriverConfig with volume options.
        self.vol_touched |=
            !self.vol.is_empty() || !self.driver.is_empty() || !self.vol_labels.is_empty();
        if self.vol_touched {
            let driver = std::mem::take(&mut self.driver);
            self.vol
                .insert("DriverConfig".into(), Value::Object(driver));
        }
        if !self.vol_labels.is_empty() {
            let labels = std::mem::take(&mut self.vol_labels);
            self.vol.insert("Labels".into(), Value::Object(labels));
        }
        self.check_options()?;
        let mut m = self.m;
        m.insert("Type".into(), json!(self.kind));
        if self.read_only {
            m.insert("ReadOnly".into(), json!(true));
        }
        for (key, obj) in [
            ("BindOptions", self.bind),
            ("VolumeOptions", self.vol),
            ("TmpfsOptions", self.tmpfs),
        ] {
            if !obj.is_empty() {
                m.insert(key.into(), Value::Object(obj));
            }
        }
        Ok(Value::Object(m))
    }

    fn check_options(&self) -> Result<(), String> {
        let kind = &self.kind;
        let mix = |what: &str| format!("cannot mix '{what}-*' options with mount type '{kind}'");
        if !self.vol.is_empty() && kind != "volume" {
            return Err(mix("volume"));
        }
        if !self.bind.is_empty() && kind != "bind" {
            return Err(mix("bind"));
        }
        if !self.tmpfs.is_empty() && kind != "tmpfs" {
            return Err(mix("tmpfs"));
        }
        if self.bind.contains_key("ReadOnlyNonRecursive") && !self.read_only {
            return Err(
                "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction"
                    .into(),
            );
        }
        if self.bind.contains_key("ReadOnlyForceRecursive") {
            if !self.read_only {
                return Err("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction".into());
            }
            if self.bind.get("Propagation") != Some(&json!("rprivate")) {
                return Err("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction".into());
            }
        }
        if kind == "bind" {
            match self.m.get("Source").and_then(Value::as_str) {
                Some(s) if s.starts_with('/') => {}
                _ => return Err("a bind mount needs an absolute source path".into()),
            }
        }
        Ok(())
    }
}

fn flag_bool(key: &str, x: &str) -> Result<bool, String> {
    parse_bool(x).map_err(|_| format!("invalid value for {key}: {x}"))
}
