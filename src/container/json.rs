//! The JSON form of a record: a create body (Config fields plus `HostConfig` and
//! `NetworkingConfig`) written out by hand. Owns the key allow-list and the type checks of
//! the common fields, so a typo fails loudly instead of being ignored by the engine.

use serde_json::{Map, Value};

use super::SpecError;

/// The create body's top-level keys (Engine API `ContainerConfig` + the two nested objects).
const KEYS: &[&str] = &[
    "ArgsEscaped",
    "AttachStderr",
    "AttachStdin",
    "AttachStdout",
    "Cmd",
    "Domainname",
    "Entrypoint",
    "Env",
    "ExposedPorts",
    "Healthcheck",
    "HostConfig",
    "Hostname",
    "Image",
    "Labels",
    "MacAddress",
    "NetworkDisabled",
    "NetworkingConfig",
    "OnBuild",
    "OpenStdin",
    "Shell",
    "StdinOnce",
    "StopSignal",
    "StopTimeout",
    "Tty",
    "User",
    "Volumes",
    "WorkingDir",
];

#[derive(Clone, Copy)]
enum Shape {
    Str,
    Bool,
    Int,
    Object,
    StrList,
    ObjectList,
    /// Engine `StrSlice`: a string or a list of strings.
    StrOrList,
    StrMap,
}

const TOP: &[(&str, Shape)] = &[
    ("ArgsEscaped", Shape::Bool),
    ("AttachStderr", Shape::Bool),
    ("AttachStdin", Shape::Bool),
    ("AttachStdout", Shape::Bool),
    ("Cmd", Shape::StrOrList),
    ("Domainname", Shape::Str),
    ("Entrypoint", Shape::StrOrList),
    ("Env", Shape::StrList),
    ("ExposedPorts", Shape::Object),
    ("Healthcheck", Shape::Object),
    ("HostConfig", Shape::Object),
    ("Hostname", Shape::Str),
    ("Image", Shape::Str),
    ("Labels", Shape::StrMap),
    ("MacAddress", Shape::Str),
    ("NetworkDisabled", Shape::Bool),
    ("NetworkingConfig", Shape::Object),
    ("OnBuild", Shape::StrList),
    ("OpenStdin", Shape::Bool),
    ("Shell", Shape::StrList),
    ("StdinOnce", Shape::Bool),
    ("StopSignal", Shape::Str),
    ("StopTimeout", Shape::Int),
    ("Tty", Shape::Bool),
    ("User", Shape::Str),
    ("Volumes", Shape::Object),
    ("WorkingDir", Shape::Str),
];

/// `HostConfig` fields the security policy reads, checked so it can rely on their shape.
const HOST: &[(&str, Shape)] = &[
    ("Annotations", Shape::StrMap),
    ("Binds", Shape::StrList),
    ("CapAdd", Shape::StrList),
    ("CapDrop", Shape::StrList),
    ("Capabilities", Shape::StrList),
    ("CgroupnsMode", Shape::Str),
    ("DeviceCgroupRules", Shape::StrList),
    ("DeviceRequests", Shape::ObjectList),
    ("Devices", Shape::ObjectList),
    ("IpcMode", Shape::Str),
    ("MaskedPaths", Shape::StrList),
    ("Mounts", Shape::ObjectList),
    ("NetworkMode", Shape::Str),
    ("PidMode", Shape::Str),
    ("Privileged", Shape::Bool),
    ("ReadonlyPaths", Shape::StrList),
    ("SecurityOpt", Shape::StrList),
    ("UsernsMode", Shape::Str),
    ("VolumesFrom", Shape::StrList),
];

/// Parse and check a JSON record; returns the body without the owner label.
pub fn build(text: &str) -> Result<Value, SpecError> {
    let body: Value = serde_json::from_str(text)
        .map_err(|e| SpecError(format!("the JSON record is not valid JSON: {e}")))?;
    let Value::Object(map) = &body else {
        return Err(SpecError("the JSON record must be an object".into()));
    };
    for key in map.keys() {
        if key.eq_ignore_ascii_case("name") {
            return Err(SpecError(format!(
                "the JSON record may not set {key:?}: the container's name comes from DNS (the record's name)"
            )));
        }
        if !KEYS.contains(&key.as_str()) {
            let hint = KEYS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(key))
                .map(|k| format!(" (did you mean {k:?}?)"))
                .unwrap_or_default();
            return Err(SpecError(format!(
                "the JSON record has an unknown key {key:?}{hint}"
            )));
        }
    }
    match map.get("Image") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => {
            return Err(SpecError(
                "the JSON record needs \"Image\", a non-empty string".into(),
            ));
        }
    }
    check_fields(map, TOP, "")?;
    if let Some(Value::Object(hc)) = map.get("HostConfig") {
        let host_keys: Vec<&str> = HOST.iter().map(|(k, _)| *k).collect();
        exact_spelling(hc, &host_keys, "HostConfig.")?;
        check_fields(hc, HOST, "HostConfig.")?;
        for m in hc
            .get("Mounts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Value::Object(m) = m else { continue };
            exact_spelling(m, MOUNT, "HostConfig.Mounts[].")?;
            if let Some(bo) = m.get("BindOptions").and_then(Value::as_object) {
                exact_spelling(
                    bo,
                    &["ReadOnlyNonRecursive"],
                    "HostConfig.Mounts[].BindOptions.",
                )?;
            }
            let vo = m.get("VolumeOptions").and_then(Value::as_object);
            if let Some(vo) = vo {
                exact_spelling(vo, &["DriverConfig"], "HostConfig.Mounts[].VolumeOptions.")?;
            }
            let dc = vo
                .and_then(|v| v.get("DriverConfig"))
                .and_then(Value::as_object);
            if let Some(dc) = dc {
                exact_spelling(
                    dc,
                    &["Name", "Options"],
                    "HostConfig.Mounts[].VolumeOptions.DriverConfig.",
                )?;
            }
        }
    }
    Ok(body)
}

/// `Mounts` entry fields the security policy reads.
const MOUNT: &[&str] = &["Type", "Source", "ReadOnly", "VolumeOptions", "BindOptions"];

/// The engine decodes the body with Go's encoding/json, which matches a key to a field
/// whatever its case (and folds `ſ` to `s`, the Kelvin sign to `k`). The policy reads exact
/// keys, so `"privileged": true` would pass it and still make a privileged container: a key
/// that folds to a field the policy reads must be spelt exactly as that field.
fn exact_spelling(map: &Map<String, Value>, known: &[&str], prefix: &str) -> Result<(), SpecError> {
    for key in map.keys() {
        let folded = go_fold(key);
        if let Some(k) = known.iter().find(|k| go_fold(k) == folded && **k != key) {
            return Err(SpecError(format!(
                "in the JSON record, {prefix}{key:?} must be spelt {k:?} (the engine reads it as {k:?})"
            )));
        }
    }
    Ok(())
}

/// A key as Go's case-insensitive field match sees it.
fn go_fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .flat_map(char::to_uppercase)
        .collect()
}

fn check_fields(
    map: &Map<String, Value>,
    shapes: &[(&str, Shape)],
    prefix: &str,
) -> Result<(), SpecError> {
    for (key, shape) in shapes {
        let Some(v) = map.get(*key) else { continue };
        if v.is_null() {
            continue;
        }
        let strings = |items: &Vec<Value>| items.iter().all(Value::is_string);
        let ok = match shape {
            Shape::Str => v.is_string(),
            Shape::Bool => v.is_boolean(),
            Shape::Int => v.is_i64(),
            Shape::Object => v.is_object(),
            Shape::StrList => v.as_array().is_some_and(strings),
            Shape::ObjectList => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
            Shape::StrOrList => v.is_string() || v.as_array().is_some_and(strings),
            Shape::StrMap => v
                .as_object()
                .is_some_and(|o| o.values().all(Value::is_string)),
        };
        if !ok {
            let want = match shape {
                Shape::Str => "a string",
                Shape::Bool => "true or false",
                Shape::Int => "an integer",
                Shape::Object => "an object",
                Shape::StrList => "an array of strings",
                Shape::ObjectList => "an array of objects",
                Shape::StrOrList => "a string or an array of strings",
                Shape::StrMap => "an object whose values are strings",
            };
            return Err(SpecError(format!(
                "in the JSON record, {prefix}{key} must be {want}, not {v}"
            )));
        }
    }
    Ok(())
}
