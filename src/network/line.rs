//! A network record's text (the options of `docker network create`, without the name) →
//! the body of `POST /networks/create`, byte for byte what the docker CLI 28 sends: the
//! same defaults, the same IPAM consolidation (each gateway, range and auxiliary address
//! goes to the subnet that holds it) and the same client-side refusals. Pure; owns only this
//! grammar, and [`write()`] its inverse, so that an export can print a network as a record.

use crate::btree::IntoTree;
use crate::container::values::parse_bool;
use crate::container::words;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The options a record may give, as the CLI's flags hold them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    /// `-d/--driver` (the CLI's default is `bridge`).
    pub driver: Option<String>,
    /// `--scope`.
    pub scope: String,
    /// `--subnet`, in order.
    pub subnets: Vec<String>,
    /// `--gateway`.
    pub gateways: Vec<String>,
    /// `--ip-range`.
    pub ip_ranges: Vec<String>,
    /// `--aux-address name=ip`.
    pub aux: BTreeMap<String, String>,
    /// `--internal`.
    pub internal: bool,
    /// `--ipv6`, only when given (the CLI then sends `EnableIPv6`).
    pub ipv6: Option<bool>,
    /// `--attachable`.
    pub attachable: bool,
    /// `-o/--opt`: driver options.
    pub opts: BTreeMap<String, String>,
    /// `--label`.
    pub labels: BTreeMap<String, String>,
    /// `--ipam-driver` (the CLI's default is `default`).
    pub ipam_driver: Option<String>,
    /// `--ipam-opt`.
    pub ipam_opts: BTreeMap<String, String>,
}

/// The flags of `docker network create` a record may not give, with why.
const REFUSED: &[(&str, &str)] = &[
    ("ingress", "a swarm's routing mesh is not a host's network"),
    ("config-only", "a configuration-only network runs nothing"),
    (
        "config-from",
        "a network built from another is not declared by its own record",
    ),
    (
        "ipv4",
        "the engines this tool supports before API 1.48 ignore it",
    ),
];

/// Parse a record's text into the options.
pub fn parse(text: &str) -> Result<Line, String> {
    if text.trim().is_empty() {
        return Ok(Line::default());
    }
    let words = words::split(text).map_err(|e| e.to_string())?;
    let mut line = Line::default();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        let (flag, inline) = split_flag(word)?;
        let mut value = |flag: &str| -> Result<String, String> {
            if let Some(v) = &inline {
                return Ok(v.clone());
            }
            let v = words
                .get(i)
                .ok_or_else(|| format!("flag needs an argument: --{flag}"))?;
            i += 1;
            Ok(v.clone())
        };
        match flag.as_str() {
            "d" | "driver" => line.driver = Some(value("driver")?),
            "scope" => line.scope = value("scope")?,
            "subnet" => line.subnets.extend(list(&value("subnet")?)),
            "gateway" => line.gateways.extend(list(&value("gateway")?)),
            "ip-range" => line.ip_ranges.extend(list(&value("ip-range")?)),
            "aux-address" => insert(&mut line.aux, &value("aux-address")?),
            "o" | "opt" => insert(&mut line.opts, &value("opt")?),
            "ipam-driver" => line.ipam_driver = Some(value("ipam-driver")?),
            "ipam-opt" => insert(&mut line.ipam_opts, &value("ipam-opt")?),
            "label" => label(&mut line.labels, &value("label")?)?,
            "internal" => line.internal = switch("internal", inline.as_deref())?,
            "attachable" => line.attachable = switch("attachable", inline.as_deref())?,
            "ipv6" => line.ipv6 = Some(switch("ipv6", inline.as_deref())?),
            other => {
                if let Some((_, why)) = REFUSED.iter().find(|(f, _)| *f == other) {
                    return Err(format!(
                        "--{other} is not supported in a network record: {why}"
                    ));
                }
                return Err(format!("unknown flag: --{other}"));
            }
        }
    }
    Ok(line)
}

/// `--flag`, `--flag=value`, `-d`, `-dvalue`, `-d=value` → (flag, inline value).
fn split_flag(word: &str) -> Result<(String, Option<String>), String> {
    if let Some(long) = word.strip_prefix("--").filter(|l| !l.is_empty()) {
        return Ok(match long.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (long.to_string(), None),
        });
    }
    match word.strip_prefix('-').map(|s| s.split_at_checked(1)) {
        Some(Some((short @ ("d" | "o"), rest))) => {
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            Ok((
                short.to_string(),
                (!rest.is_empty()).then(|| rest.to_string()),
            ))
        }
        Some(Some((short, _))) => Err(format!("unknown shorthand flag: '{short}' in {word}")),
        _ => Err(format!(
            "{word:?} is not an option: a network record holds only `docker network create` options (the network's name is the one listed)"
        )),
    }
}

/// A boolean flag: bare means true, `=value` is Go's `strconv.ParseBool`.
fn switch(flag: &str, inline: Option<&str>) -> Result<bool, String> {
    inline.map_or(Ok(true), |v| {
        parse_bool(v).map_err(|why| format!("invalid argument {v:?} for \"--{flag}\" flag: {why}"))
    })
}

/// A string-slice flag's value: comma-separated, as pflag reads it.
fn list(v: &str) -> Vec<String> {
    v.split(',').map(str::to_string).collect()
}

/// A map flag: `key=value`, or `key` alone for an empty value.
fn insert(map: &mut BTreeMap<String, String>, v: &str) {
    let (k, x) = v.split_once('=').unwrap_or((v, ""));
    map.insert(k.to_string(), x.to_string());
}

/// `--label`: the CLI's `ValidateLabel`, then `key=value` or `key` for an empty value.
fn label(map: &mut BTreeMap<String, String>, v: &str) -> Result<(), String> {
    let key = v.split_once('=').map_or(v, |(k, _)| k).trim();
    if key.is_empty() {
        return Err(format!("invalid label '{v}': empty name"));
    }
    if key.chars().any(char::is_whitespace) {
        return Err(format!("label '{key}' contains whitespaces"));
    }
    insert(map, v);
    Ok(())
}

/// The create body the CLI sends (without `Name`, which the list gives).
pub fn body(line: &Line) -> Result<Value, String> {
    let mut body = Map::new();
    body.insert(
        "Driver".into(),
        json!(line.driver.as_deref().unwrap_or("bridge")),
    );
    body.insert("Scope".into(), json!(line.scope));
    if let Some(v6) = line.ipv6 {
        body.insert("EnableIPv6".into(), json!(v6));
    }
    body.insert(
        "IPAM".into(),
        json!({
            "Driver": line.ipam_driver.as_deref().unwrap_or("default"),
            "Options": line.ipam_opts,
            "Config": ipam_config(line)?,
        }),
    );
    body.insert("Internal".into(), json!(line.internal));
    body.insert("Attachable".into(), json!(line.attachable));
    body.insert("Ingress".into(), json!(false));
    body.insert("ConfigOnly".into(), json!(false));
    body.insert("ConfigFrom".into(), Value::Null);
    body.insert("Options".into(), json!(line.opts));
    body.insert("Labels".into(), json!(line.labels));
    Ok(Value::Object(body))
}

/// One subnet's IPAM entry as it is built up.
#[derive(Default)]
struct Pool {
    subnet: String,
    ip_range: String,
    gateway: String,
    aux: BTreeMap<String, String>,
}

/// The CLI's `createIPAMConfig`: subnets must not overlap, and every range, gateway and
/// auxiliary address belongs to the subnet that holds it.
fn ipam_config(line: &Line) -> Result<Vec<Value>, String> {
    if line.subnets.len() < line.ip_ranges.len() || line.subnets.len() < line.gateways.len() {
        return Err("every ip-range or gateway must have a corresponding subnet".into());
    }
    let mut pools: Vec<Pool> = Vec::new();
    for s in &line.subnets {
        for p in &pools {
            if matches(s, &p.subnet)? || matches(&p.subnet, s)? {
                return Err("multiple overlapping subnet configuration is not allowed".into());
            }
        }
        pools.push(Pool {
            subnet: s.clone(),
            ..Pool::default()
        });
    }
    for (values, what) in [(&line.ip_ranges, "range"), (&line.gateways, "gateway")] {
        for r in values {
            let mut found = false;
            for p in pools.iter_mut() {
                if !matches(&p.subnet, r)? {
                    continue;
                }
                let slot = if what == "range" {
                    &mut p.ip_range
                } else {
                    &mut p.gateway
                };
                if !slot.is_empty() {
                    let kind = if what == "range" {
                        "ranges"
                    } else {
                        "gateways"
                    };
                    let verb = if what == "range" { "on" } else { "for" };
                    return Err(format!(
                        "cannot configure multiple {kind} ({r}, {slot}) {verb} the same subnet ({})",
                        p.subnet
                    ));
                }
                *slot = r.clone();
                found = true;
            }
            if !found {
                return Err(format!("no matching subnet for {what} {r}"));
            }
        }
    }
    for (key, a) in &line.aux {
        let mut found = false;
        for p in pools.iter_mut() {
            if matches(&p.subnet, a)? {
                p.aux.insert(key.clone(), a.clone());
                found = true;
            }
        }
        if !found {
            return Err(format!("no matching subnet for aux-address {a}"));
        }
    }
    Ok(pools
        .into_iter()
        .map(|p| {
            let mut m = Map::new();
            m.insert("Subnet".into(), json!(p.subnet));
            if !p.ip_range.is_empty() {
                m.insert("IPRange".into(), json!(p.ip_range));
            }
            if !p.gateway.is_empty() {
                m.insert("Gateway".into(), json!(p.gateway));
            }
            if !p.aux.is_empty() {
                m.insert("AuxiliaryAddresses".into(), json!(p.aux));
            }
            Value::Object(m)
        })
        .collect())
}

/// Go's `net.ParseCIDR`: the address as written and the prefix length.
fn cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = s.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let bits: u8 = bits.parse().ok().filter(|_| !bits.starts_with('+'))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

/// The CLI's `subnetMatches`: whether `subnet` holds `data` (an address, or a CIDR's
/// address).
fn matches(subnet: &str, data: &str) -> Result<bool, String> {
    let (net, bits) =
        cidr(subnet).ok_or_else(|| format!("invalid subnet: invalid CIDR address: {subnet}"))?;
    let ip = if data.contains('/') {
        cidr(data)
            .ok_or_else(|| format!("invalid CIDR address: {data}"))?
            .0
    } else {
        match data.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => return Ok(false),
        }
    };
    Ok(contains(net, bits, ip))
}

fn contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    let (net, ip, width) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32),
        (IpAddr::V4(n), IpAddr::V6(i)) => match i.to_ipv4_mapped() {
            Some(i) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32),
            None => return false,
        },
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
        (IpAddr::V6(_), IpAddr::V4(_)) => return false,
    };
    let shift = width - u32::from(bits);
    if shift >= 128 {
        return true;
    }
    (net >> shift) == (ip >> shift)
}

/// The record text that gives `line` (the inverse of [`parse`], for an export): options in
/// a fixed order, each value quoted when the shell would split it.
pub fn write(line: &Line) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut put = |flag: &str, v: &str| out.push(format!("--{flag} {}", quote(v)));
    if let Some(d) = &line.driver {
        put("driver", d);
    }
    if !line.scope.is_empty() {
        put("scope", &line.scope);
    }
    line.subnets.iter().for_each(|s| put("subnet", s));
    line.gateways.iter().for_each(|s| put("gateway", s));
    line.ip_ranges.iter().for_each(|s| put("ip-range", s));
    line.aux
        .iter()
        .for_each(|(k, v)| put("aux-address", &format!("{k}={v}")));
    line.opts
        .iter()
        .for_each(|(k, v)| put("opt", &format!("{k}={v}")));
    line.labels
        .iter()
        .for_each(|(k, v)| put("label", &format!("{k}={v}")));
    if let Some(d) = &line.ipam_driver {
        put("ipam-driver", d);
    }
    line.ipam_opts
        .iter()
        .for_each(|(k, v)| put("ipam-opt", &format!("{k}={v}")));
    for (on, flag) in [
        (line.internal, "--internal"),
        (line.attachable, "--attachable"),
    ] {
        if on {
            out.push(flag.to_string());
        }
    }
    if let Some(v6) = line.ipv6 {
        out.push(format!("--ipv6={v6}"));
    }
    out.join(" ")
}

/// The options that make a network like the one `doc` describes (a create body, or the
/// engine's inspect or list of a network), defaults left out: what an export writes with
/// [`write()`]. The ownership label is not an option.
pub fn from_body(doc: &Value) -> Line {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let map = |v: &Value| -> BTreeMap<String, String> {
        v.as_object()
            .map(|m| m.iter().map(|(k, x)| (k.clone(), text(x))).into_map())
            .unwrap_or_default()
    };
    let mut line = Line {
        driver: Some(text(&doc["Driver"])).filter(|d| !d.is_empty() && d != "bridge"),
        scope: Some(text(&doc["Scope"]))
            .filter(|s| s != "local")
            .unwrap_or_default(),
        internal: doc["Internal"] == true,
        attachable: doc["Attachable"] == true,
        ipv6: (doc["EnableIPv6"] == true).then_some(true),
        opts: map(&doc["Options"]),
        labels: map(&doc["Labels"]),
        ipam_driver: Some(text(&doc["IPAM"]["Driver"])).filter(|d| !d.is_empty() && d != "default"),
        ipam_opts: map(&doc["IPAM"]["Options"]),
        ..Line::default()
    };
    line.labels.remove(crate::container::OWNER_LABEL);
    for pool in doc["IPAM"]["Config"].as_array().into_iter().flatten() {
        line.subnets.push(text(&pool["Subnet"]));
        for (key, to) in [
            ("Gateway", &mut line.gateways),
            ("IPRange", &mut line.ip_ranges),
        ] {
            if let Some(v) = pool[key].as_str().filter(|v| !v.is_empty()) {
                to.push(v.to_string());
            }
        }
        line.aux.extend(map(&pool["AuxiliaryAddresses"]));
    }
    line
}

/// `v` as one shell word.
fn quote(v: &str) -> String {
    let plain = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.,:/=@+%".contains(&b));
    if plain {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests;
