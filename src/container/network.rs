//! Networks: `--network` (a name or the CSV form) and the per-endpoint flags, folded into
//! `NetworkMode` and `EndpointsConfig` as the docker CLI's `parseNetworkOpts` does.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::SpecError;
use super::values::{csv_fields, valid_mac};

/// One network attachment (`--network` and the first network's per-endpoint flags).
#[derive(Debug, Default, Clone)]
pub struct Attachment {
    /// Network name or mode.
    pub target: String,
    /// `--network-alias` / `alias=`.
    pub aliases: Vec<String>,
    /// `--ip` / `ip=`.
    pub ipv4: String,
    /// `--ip6` / `ip6=`.
    pub ipv6: String,
    /// `--mac-address` / `mac-address=`.
    pub mac: String,
    /// `--link-local-ip` / `link-local-ip=`.
    pub link_local: Vec<String>,
    /// `--link`: on a user-defined network, an endpoint alias (elsewhere a legacy link only).
    pub links: Vec<String>,
    /// `driver-opt=k=v`.
    pub driver_opts: BTreeMap<String, String>,
}

/// `--network`: a name or mode, or the CSV form when it holds a `word=word` pair (every
/// field then lower-cased, as the CLI does).
pub fn attachment(v: &str) -> Result<Attachment, String> {
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

/// (first network's MAC, EndpointsConfig) when any endpoint has settings.
pub type Endpoints = Option<(String, Map<String, Value>)>;

/// The CLI's `parseNetworkOpts`: the per-endpoint flags apply to the first network;
/// returns `NetworkMode` and, when any endpoint has settings, (first MAC, EndpointsConfig).
pub fn endpoints(
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
    apply_endpoint_flags(&mut networks[0], flags)?;
    let mode = networks[0].target.clone();
    let first_mac = networks[0].mac.clone();
    let count = networks.len();
    let (mut user, mut builtin) = (false, false);
    let mut eps = Map::new();
    for (i, n) in networks.into_iter().enumerate() {
        if check_attachment(&n)? {
            user = true;
        } else {
            builtin = true;
        }
        if eps.contains_key(&n.target) {
            return Err(SpecError(format!(
                "network {:?} is specified multiple times",
                n.target
            )));
        }
        let ep = endpoint_settings(&n);
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

/// The per-endpoint flags (`--ip`, `--network-alias`, …) onto the first network, which must
/// not set the same thing in its CSV form.
fn apply_endpoint_flags(n: &mut Attachment, flags: Attachment) -> Result<(), SpecError> {
    let conflict = |what: &str| {
        SpecError(format!(
            "conflicting options: cannot specify both --{what} and per-network {what}"
        ))
    };
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
    if user_defined(&n.target) {
        n.links = flags.links;
    }
    if !flags.link_local.is_empty() {
        if !n.link_local.is_empty() {
            return Err(conflict("link-local-ip"));
        }
        n.link_local = flags.link_local;
    }
    Ok(())
}

/// The CLI's checks on one attachment; whether its network is user-defined.
fn check_attachment(n: &Attachment) -> Result<bool, SpecError> {
    if n.target.trim().is_empty() {
        return Err(SpecError(
            "invalid --network: no name set for network".into(),
        ));
    }
    let user = user_defined(&n.target);
    if !user && !n.aliases.is_empty() {
        return Err(SpecError(format!(
            "--network-alias: network-scoped aliases are only supported for user-defined networks, not {:?}",
            n.target
        )));
    }
    if !n.mac.is_empty() && !valid_mac(n.mac.trim()) {
        return Err(SpecError(format!(
            "invalid argument {:?} for \"--mac-address\" flag: not a valid mac address",
            n.mac
        )));
    }
    Ok(user)
}

/// One attachment's `EndpointSettings`, zero fields omitted.
fn endpoint_settings(n: &Attachment) -> Map<String, Value> {
    let mut ipam = Map::new();
    put(&mut ipam, "IPv4Address", json!(n.ipv4));
    put(&mut ipam, "IPv6Address", json!(n.ipv6));
    put(&mut ipam, "LinkLocalIPs", json!(n.link_local));
    let mut ep = Map::new();
    put(&mut ep, "Aliases", json!(n.aliases));
    put(&mut ep, "DriverOpts", json!(n.driver_opts));
    put(&mut ep, "Links", json!(n.links));
    put(&mut ep, "IPAMConfig", Value::Object(ipam));
    put(&mut ep, "MacAddress", json!(n.mac));
    ep
}

/// `value` under `key` unless it is empty: the CLI omits zero fields.
fn put(map: &mut Map<String, Value>, key: &str, value: Value) {
    let empty = match &value {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    if !empty {
        map.insert(key.into(), value);
    }
}
