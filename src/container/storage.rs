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
pub fn mount(v: &str) -> Result<Value, String> {
    let mut m = Map::new();
    let mut kind = "volume".to_string();
    let mut bind = Map::new();
    let mut vol = Map::new();
    let mut driver = Map::new();
    let mut driver_opts = Map::new();
    let mut vol_labels = Map::new();
    // Any volume-* key creates VolumeOptions, even one that sets nothing (as the CLI).
    let mut vol_touched = false;
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
                vol_touched = true;
                if flag_bool(val)? {
                    vol.insert("NoCopy".into(), json!(true));
                } else {
                    vol.remove("NoCopy");
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
    vol_touched |= !vol.is_empty() || !driver.is_empty() || !vol_labels.is_empty();
    if vol_touched {
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
