//! The value grammars of `docker run` flags, as the CLI's Go libraries define them: Go
//! integers and booleans, byte sizes (go-units), durations, `--cpus` rationals, port specs
//! (go-connections/nat), restart policies, ulimits, devices, blkio device limits, GPU
//! requests, links, CSV fields, paths.
//! Each returns the reason a value is bad; the caller names the flag.

use std::net::IpAddr;

/// Go `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err("not a boolean (true, false, 1, 0, t, f)".into()),
    }
}

/// Go `strconv.ParseInt(s, 0, 64)`: sign, `0x`/`0o`/`0b` prefixes, a leading `0` means
/// octal, `_` between digits.
pub fn parse_go_int(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not an integer");
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    // An underscore must sit between two digits (a base prefix counts as a digit).
    let mut prev_digit = prefixed;
    let mut value: i128 = 0;
    let mut any = false;
    for c in digits.chars() {
        if c == '_' {
            if !prev_digit {
                return Err(bad());
            }
            prev_digit = false;
            continue;
        }
        let d = c.to_digit(radix).ok_or_else(bad)?;
        value = value * i128::from(radix) + i128::from(d);
        if value > i128::from(i64::MAX) + 1 {
            return Err(format!("{s:?} is out of range"));
        }
        prev_digit = true;
        any = true;
    }
    if !any || !prev_digit {
        return Err(bad());
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).map_err(|_| format!("{s:?} is out of range"))
}

/// go-units `RAMInBytes`: a decimal number, an optional space, an optional binary unit
/// `k m g t p` (any case, then optional `i`, optional `b`). No unit means bytes.
pub fn parse_bytes(s: &str) -> Result<i64, String> {
    let bad = || format!("invalid size: {s:?}");
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, mut rest) = s.split_at(number_end);
    // `\d+(\.\d+)*`: every dot-separated part is non-empty digits.
    if number.is_empty() || number.split('.').any(str::is_empty) {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    let mut multiplier: f64 = 1.0;
    if let Some(c) = rest.chars().next() {
        let power = match c.to_ascii_lowercase() {
            'k' => Some(1),
            'm' => Some(2),
            'g' => Some(3),
            't' => Some(4),
            'p' => Some(5),
            _ => None,
        };
        if let Some(power) = power {
            multiplier = 1024f64.powi(power);
            rest = &rest[1..];
        }
    }
    rest = rest.strip_prefix(['i', 'I']).unwrap_or(rest);
    rest = rest.strip_prefix(['b', 'B']).unwrap_or(rest);
    if !rest.is_empty() {
        return Err(bad());
    }
    let bytes = value * multiplier;
    if bytes >= i64::MAX as f64 {
        return Err(format!("size {s:?} is too large"));
    }
    // Go truncates toward zero the same way.
    Ok(bytes as i64)
}

/// Go `time.ParseDuration`, in nanoseconds: `30s`, `1m30s`, `1.5h`, `500ms`, `0`.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("invalid duration {s:?} (a number with a unit: ns us ms s m h)");
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int, after) = rest.split_at(int_end);
        let (frac, after) = match after.strip_prefix('.') {
            Some(a) => {
                let end = a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len());
                a.split_at(end)
            }
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        let unit_end = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(bad()),
        };
        let whole: u128 = if int.is_empty() {
            0
        } else {
            int.parse()
                .map_err(|_| format!("duration {s:?} is too large"))?
        };
        let mut part = whole
            .checked_mul(unit_ns)
            .ok_or_else(|| format!("duration {s:?} is too large"))?;
        if !frac.is_empty() {
            let digits = &frac[..frac.len().min(18)];
            let f: u128 = digits.parse().map_err(|_| bad())?;
            let scale = 10u128.pow(digits.len() as u32);
            part += f * unit_ns / scale;
        }
        total = total.saturating_add(part);
        if total > i64::MAX as u128 {
            return Err(format!("duration {s:?} is too large"));
        }
        rest = after;
    }
    let total = total as i64;
    Ok(if negative { -total } else { total })
}

/// `--cpus`: a rational (`1.5`, `3/2`, `1e-1`) times 10⁹, which must be a whole number.
pub fn parse_nano_cpus(s: &str) -> Result<i64, String> {
    let bad = || format!("failed to parse {s:?} as a rational number");
    let too_big = || format!("{s:?} is too large");
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let unsigned = |t: &str| -> Result<i128, String> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        t.parse::<i128>().map_err(|_| too_big())
    };
    let nano: i128 = if let Some((num, den)) = body.split_once('/') {
        let num = unsigned(num)?;
        let den = unsigned(den)?;
        if den == 0 {
            return Err(bad());
        }
        let scaled = num.checked_mul(1_000_000_000).ok_or_else(too_big)?;
        if scaled % den != 0 {
            return Err(format!("value {s:?} is too precise"));
        }
        scaled / den
    } else {
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], parse_go_int(&body[i + 1..]).map_err(|_| bad())?),
            None => (body, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let digits = format!("{int}{frac}");
        let digits = digits.trim_start_matches('0');
        let mut value: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| too_big())?
        };
        let shift = exponent
            .checked_add(9)
            .and_then(|e| e.checked_sub(frac.len() as i64))
            .ok_or_else(too_big)?;
        if value != 0 {
            if shift >= 0 {
                for _ in 0..shift {
                    value = value.checked_mul(10).ok_or_else(too_big)?;
                }
            } else {
                for _ in 0..(-shift).min(40) {
                    if value % 10 != 0 {
                        return Err(format!("value {s:?} is too precise"));
                    }
                    value /= 10;
                }
                if -shift > 40 {
                    return Err(format!("value {s:?} is too precise"));
                }
            }
        }
        value
    };
    let nano = if negative { -nano } else { nano };
    i64::try_from(nano).map_err(|_| too_big())
}

/// One published port: container port key (`80/tcp`), host IP, host port (may be a range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    /// `"<port>/<proto>"`.
    pub port: String,
    /// `HostIp`, empty for all interfaces.
    pub host_ip: String,
    /// `HostPort`, empty for a random port.
    pub host_port: String,
}

/// `-p`: `[ip:][hostPort:]containerPort[/proto]` with ranges, or the long form
/// `published=,target=,protocol=`.
pub fn parse_publish(raw: &str) -> Result<Vec<PortMapping>, String> {
    let spec;
    let raw = if raw.contains('=') {
        let mut published = "";
        let mut target = "";
        let mut protocol = "";
        for param in raw.split(',') {
            match param.split_once('=') {
                Some(("published", v)) => published = v,
                Some(("target", v)) => target = v,
                Some(("protocol", v)) => protocol = v,
                Some((k, _)) if !k.is_empty() => {}
                _ => {
                    return Err(format!(
                        "invalid publish opts format (should be name=value but got {param:?})"
                    ));
                }
            }
        }
        let mut s = published.to_string();
        if !target.is_empty() {
            s = format!("{s}:{target}");
        }
        if !protocol.is_empty() {
            s = format!("{s}/{protocol}");
        }
        spec = s;
        spec.as_str()
    } else {
        raw
    };
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let (ip, host_port, container) = match n {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    };
    let (proto, container) = split_proto_port(container);
    let mut ip = ip;
    if let Some(inner) = ip.strip_prefix('[') {
        match inner.strip_suffix(']') {
            Some(v6) => ip = v6.to_string(),
            None => return Err(format!("invalid IP address {ip}")),
        }
    }
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) = parse_port_range(container)
        .map_err(|e| format!("invalid containerPort: {container}: {e}"))?;
    let (host_start, host_end) = if host_port.is_empty() {
        (0, 0)
    } else {
        parse_port_range(host_port).map_err(|e| format!("invalid hostPort: {host_port}: {e}"))?
    };
    if !host_port.is_empty() && end - start != host_end - host_start && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host_port}"
        ));
    }
    let proto = proto.to_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    let mut out = Vec::new();
    for i in 0..=(end - start) {
        let mut host = if host_port.is_empty() {
            String::new()
        } else {
            (u32::from(host_start) + u32::from(i)).to_string()
        };
        if start == end && host_start != host_end {
            host = format!("{host}-{host_end}");
        }
        out.push(PortMapping {
            port: format!("{}/{proto}", u32::from(start) + u32::from(i)),
            host_ip: ip.clone(),
            host_port: host,
        });
    }
    Ok(out)
}

/// nat `SplitProtoPort`: `80/udp` → (udp, 80); no protocol means tcp.
pub fn split_proto_port(raw: &str) -> (&str, &str) {
    match raw.split_once('/') {
        _ if raw.is_empty() || raw.starts_with('/') => ("", ""),
        None => ("tcp", raw),
        Some((port, "")) => ("tcp", port),
        Some((port, proto)) => (proto.split('/').next().unwrap_or(proto), port),
    }
}

/// nat `ParsePortRange`: `80` or `8000-8010`, decimal 16-bit.
pub fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    if s.is_empty() {
        return Err("empty string specified for ports".into());
    }
    let port = |p: &str| -> Result<u16, String> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{p:?} is not a port number"));
        }
        p.parse::<u16>()
            .map_err(|_| format!("{p:?} is not a port number"))
    };
    match s.split_once('-') {
        None => {
            let p = port(s)?;
            Ok((p, p))
        }
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            if b < a {
                return Err(format!("invalid range specified for port: {s}"));
            }
            Ok((a, b))
        }
    }
}

/// `--restart name[:count]` → (name, count), validated as the CLI does.
pub fn parse_restart(s: &str) -> Result<(String, i64), String> {
    let (name, count) = match s.split_once(':') {
        Some(("", _)) => return Err("no policy provided before colon".into()),
        Some((n, c)) => (n, c),
        None => (s, ""),
    };
    let count = if count.is_empty() {
        0
    } else {
        count
            .parse::<i64>()
            .map_err(|_| "maximum retry count must be an integer".to_string())?
    };
    match name {
        "" | "no" | "always" | "unless-stopped" => {
            if count != 0 {
                return Err("maximum retry count can only be used with 'on-failure'".into());
            }
        }
        "on-failure" => {
            if count < 0 {
                return Err("maximum retry count cannot be negative".into());
            }
        }
        _ => {
            return Err(format!(
                "unknown policy {name:?}; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
            ));
        }
    }
    Ok((name.to_string(), count))
}

const ULIMIT_NAMES: &[&str] = &[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// `--ulimit name=soft[:hard]` → (name, soft, hard).
pub fn parse_ulimit(s: &str) -> Result<(String, i64, i64), String> {
    let (name, limits) = s
        .split_once('=')
        .ok_or_else(|| format!("invalid ulimit argument: {s}"))?;
    if !ULIMIT_NAMES.contains(&name) {
        return Err(format!("invalid ulimit type: {name}"));
    }
    let int = |v: &str| {
        if v.starts_with('+') {
            return Err(format!("{v:?} is not an integer"));
        }
        v.parse::<i64>()
            .map_err(|_| format!("{v:?} is not an integer"))
    };
    let (soft, hard) = match limits.split_once(':') {
        Some((soft, hard)) => (int(soft)?, int(hard)?),
        None => {
            let v = int(limits)?;
            (v, v)
        }
    };
    if hard != -1 && soft > hard {
        return Err(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        ));
    }
    Ok((name.to_string(), soft, hard))
}

/// A `--device` mapping: host path, container path, cgroup permissions.
pub fn parse_device(s: &str) -> Result<(String, String, String), String> {
    if s.matches(':').count() > 2 {
        return Err(format!("bad format for path: {s}"));
    }
    let parts: Vec<&str> = s.split(':').collect();
    if parts[0].is_empty() {
        return Err(format!("bad format for path: {s}"));
    }
    let src = parts[0].to_string();
    let (dst, perms) = match parts.len() {
        1 => (clean_path(&src), "rwm".to_string()),
        2 if valid_device_mode(parts[1]) => (clean_path(&src), parts[1].to_string()),
        2 => (clean_path(parts[1]), "rwm".to_string()),
        _ => {
            if !valid_device_mode(parts[2]) {
                return Err(format!("bad mode specified: {}", parts[2]));
            }
            (parts[1].to_string(), parts[2].to_string())
        }
    };
    if !dst.starts_with('/') {
        return Err(format!("{dst} is not an absolute path"));
    }
    let src = if parts.len() == 1 || (parts.len() == 2 && valid_device_mode(parts[1])) {
        clean_path(&src)
    } else {
        src
    };
    Ok((src, dst, perms))
}

fn valid_device_mode(mode: &str) -> bool {
    !mode.is_empty()
        && mode.len() <= 3
        && mode.chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
        && ['r', 'w', 'm']
            .iter()
            .all(|c| mode.matches(*c).count() <= 1)
}

/// Go `path.Clean`: collapse `//`, `.`, `..`; no trailing slash except for `/`.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go `encoding/csv` for one record: fields split at `,`, a field may be `"quoted"` with
/// `""` for a literal quote.
pub fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(format!("unterminated quote in {s:?}")),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return Err(format!("extraneous text after a quoted field in {s:?}")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some('"') => return Err(format!("bare \" in a non-quoted field in {s:?}")),
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

/// Go `net.ParseMAC` for the usual forms: 6, 8 or 20 hex octets separated by `:` or `-`,
/// or dotted groups of four hex digits.
pub fn valid_mac(s: &str) -> bool {
    let octets = |sep: char| {
        let parts: Vec<&str> = s.split(sep).collect();
        matches!(parts.len(), 6 | 8 | 20)
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let dotted = || {
        let parts: Vec<&str> = s.split('.').collect();
        matches!(parts.len(), 3 | 4 | 10)
            && parts
                .iter()
                .all(|p| p.len() == 4 && p.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    octets(':') || octets('-') || dotted()
}

/// A domain for `--dns-search` (the CLI's `validateDomain`); `.` is allowed. The result has
/// no trailing dot.
pub fn parse_dns_search(s: &str) -> Result<String, String> {
    if s == "." {
        return Ok(s.to_string());
    }
    let bad = || format!("{s} is not a valid domain");
    let name = s.strip_suffix('.').unwrap_or(s);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    if !s.bytes().any(|b| b.is_ascii_alphabetic()) || name.len() >= 255 {
        return Err(bad());
    }
    if !name.split('.').all(label_ok) {
        return Err(bad());
    }
    Ok(name.to_string())
}

/// An IP address as the CLI prints it back (Go `net.IP.String()`); surrounding space trimmed.
pub fn parse_ip(s: &str) -> Result<String, String> {
    s.trim()
        .parse::<IpAddr>()
        .map(|ip| match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
            IpAddr::V4(v4) => v4.to_string(),
        })
        .map_err(|_| format!("{s} is not an ip address"))
}

/// `key=value` split at the first `=`; a bare key has the empty value.
pub fn key_value(s: &str) -> (&str, &str) {
    s.split_once('=').unwrap_or((s, ""))
}

/// Go `strconv.ParseUint(s, 10, bits)`: decimal digits only, no sign.
fn parse_decimal_uint(s: &str, max: u64) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok().filter(|n| *n <= max)
}

/// pflag `Uint16`: Go `strconv.ParseUint(s, 0, 16)` (base prefixes, `_`, no sign).
pub fn parse_go_u16(s: &str) -> Result<u16, String> {
    if s.starts_with(['-', '+']) {
        return Err(format!("{s:?} is not an unsigned integer"));
    }
    let n = parse_go_int(s)?;
    u16::try_from(n).map_err(|_| format!("{s:?} is out of range"))
}

/// The device path of a `PATH:VALUE` blkio option: it must lie under `/dev/`.
fn blkio_device(val: &str) -> Result<(&str, &str), String> {
    let (path, v) = val
        .split_once(':')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("bad format: {val}"))?;
    if !path.starts_with("/dev/") {
        return Err(format!("bad format for device path: {val}"));
    }
    Ok((path, v))
}

/// `--device-read-bps` / `--device-write-bps`: `/dev/PATH:RATE`, the rate a byte size.
pub fn parse_throttle_bps(val: &str) -> Result<(String, u64), String> {
    let (path, v) = blkio_device(val)?;
    let rate = parse_bytes(v).ok().and_then(|r| u64::try_from(r).ok()).ok_or_else(|| {
        format!(
            "invalid rate for device: {val}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb"
        )
    })?;
    Ok((path.to_string(), rate))
}

/// `--device-read-iops` / `--device-write-iops`: `/dev/PATH:N`, N decimal.
pub fn parse_throttle_iops(val: &str) -> Result<(String, u64), String> {
    let (path, v) = blkio_device(val)?;
    let rate = parse_decimal_uint(v, u64::MAX).ok_or_else(|| {
        format!(
            "invalid rate for device: {val}. The correct format is <device-path>:<number>. Number must be a positive integer"
        )
    })?;
    Ok((path.to_string(), rate))
}

/// `--blkio-weight-device`: `/dev/PATH:WEIGHT`, the weight 0 or 10–1000.
pub fn parse_weight_device(val: &str) -> Result<(String, u16), String> {
    let (path, v) = blkio_device(val)?;
    let weight = parse_decimal_uint(v, u64::from(u16::MAX))
        .filter(|w| *w == 0 || (10..=1000).contains(w))
        .ok_or_else(|| format!("invalid weight for device: {val}"))?;
    Ok((path.to_string(), weight as u16))
}

/// `--link name[:alias]`, as the CLI's `ValidateLink` accepts it (the value is kept as typed).
pub fn parse_link(val: &str) -> Result<(), String> {
    if val.is_empty() {
        return Err("empty string specified for links".into());
    }
    if val.splitn(3, ':').count() > 2 {
        return Err(format!("bad format for links: {val}"));
    }
    Ok(())
}

/// `--gpus`: the CLI's `GpuOpts.Set`, one `DeviceRequest` object with every field the CLI
/// sends (`Count` -1 for `all`; 1 when neither a count nor devices are given).
pub fn parse_gpus(val: &str) -> Result<serde_json::Value, String> {
    if val.is_empty() {
        return Err("EOF".into());
    }
    let parse_count = |s: &str| -> Result<i64, String> {
        if s == "all" {
            return Ok(-1);
        }
        s.parse::<i64>().map_err(|_| {
            format!(
                "invalid count ({s}): value must be either \"all\" or an integer: invalid syntax"
            )
        })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut driver = String::new();
    let mut count = 0i64;
    let mut ids: Option<Vec<String>> = None;
    let mut caps: Option<Vec<String>> = None;
    let mut options = serde_json::Map::new();
    for field in csv_fields(val)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (field.as_str(), None),
        };
        if seen.iter().any(|k| k == key) {
            return Err(format!(
                "gpu request key '{key}' can be specified only once"
            ));
        }
        seen.push(key.to_string());
        let Some(value) = value else {
            seen.push("count".into());
            count = parse_count(key)?;
            continue;
        };
        match key {
            "driver" => driver = value.to_string(),
            "count" => count = parse_count(value)?,
            "device" => ids = Some(value.split(',').map(String::from).collect()),
            "capabilities" => {
                let mut c: Vec<String> = value.split(',').map(String::from).collect();
                c.push("gpu".into());
                caps = Some(c);
            }
            "options" => {
                options = serde_json::Map::new();
                for kv in
                    csv_fields(value).map_err(|e| format!("failed to read gpu options: {e}"))?
                {
                    let (k, v) = key_value(&kv);
                    options.insert(k.to_string(), serde_json::Value::from(v));
                }
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if !seen.iter().any(|k| k == "count") && ids.is_none() {
        count = 1;
    }
    Ok(serde_json::json!({
        "Driver": driver,
        "Count": count,
        "DeviceIDs": ids,
        "Capabilities": [caps.unwrap_or_else(|| vec!["gpu".into()])],
        "Options": options,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_ints() {
        let ok: &[(&str, i64)] = &[
            ("0", 0),
            ("512", 512),
            ("0512", 330),
            ("0x10", 16),
            ("0X1f", 31),
            ("0o17", 15),
            ("0b101", 5),
            ("-12", -12),
            ("+7", 7),
            ("1_000", 1000),
            ("0x_1f", 31),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for (s, want) in ok {
            assert_eq!(parse_go_int(s), Ok(*want), "{s}");
        }
        for s in [
            "",
            "-",
            "x",
            "08",
            "1_",
            "_1",
            "1__0",
            "0x",
            "1.5",
            "9223372036854775808",
            " 1",
            "1e3",
            "٣",
        ] {
            assert!(parse_go_int(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn byte_sizes() {
        let ok: &[(&str, i64)] = &[
            ("512", 512),
            ("0", 0),
            ("1k", 1024),
            ("1kb", 1024),
            ("1KiB", 1024),
            ("512m", 536_870_912),
            ("512M", 536_870_912),
            ("1.5g", 1_610_612_736),
            ("1 g", 1_073_741_824),
            ("2t", 2 * 1024_i64.pow(4)),
            ("1p", 1024_i64.pow(5)),
            ("10b", 10),
            ("64m", 67_108_864),
        ];
        for (s, want) in ok {
            assert_eq!(parse_bytes(s), Ok(*want), "{s}");
        }
        for s in [
            "",
            "-1",
            "m",
            "1x",
            "1.",
            ".5",
            "1..2",
            "1  m",
            "1mm",
            "1kbb",
            "99999999p",
            " 1",
        ] {
            assert!(parse_bytes(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn durations() {
        let ok: &[(&str, i64)] = &[
            ("0", 0),
            ("30s", 30_000_000_000),
            ("1m30s", 90_000_000_000),
            ("500ms", 500_000_000),
            ("2h", 7_200_000_000_000),
            ("1.5s", 1_500_000_000),
            (".5s", 500_000_000),
            ("1us", 1_000),
            ("1µs", 1_000),
            ("3ns", 3),
            ("-1s", -1_000_000_000),
            ("0s", 0),
        ];
        for (s, want) in ok {
            assert_eq!(parse_duration(s), Ok(*want), "{s}");
        }
        for s in [
            "",
            "10",
            "1x",
            "s",
            ".s",
            "1.5",
            "-",
            "1s2",
            "9999999999h",
            "1 s",
        ] {
            assert!(parse_duration(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn cpus() {
        let ok: &[(&str, i64)] = &[
            ("1.5", 1_500_000_000),
            ("3/2", 1_500_000_000),
            ("1e-1", 100_000_000),
            ("2", 2_000_000_000),
            ("0.000000001", 1),
            ("0", 0),
            (".5", 500_000_000),
        ];
        for (s, want) in ok {
            assert_eq!(parse_nano_cpus(s), Ok(*want), "{s}");
        }
        for (s, why) in [
            ("0.0000000001", "too precise"),
            ("1/3", "too precise"),
            ("x", "rational"),
            ("", "rational"),
            ("1/0", "rational"),
            ("1e99", "too large"),
            ("1e-99", "too precise"),
        ] {
            let err = parse_nano_cpus(s).unwrap_err();
            assert!(err.contains(why), "{s:?}: {err}");
        }
    }

    fn pm(port: &str, ip: &str, host: &str) -> PortMapping {
        PortMapping {
            port: port.into(),
            host_ip: ip.into(),
            host_port: host.into(),
        }
    }

    #[test]
    fn publish_specs() {
        let cases: Vec<(&str, Vec<PortMapping>)> = vec![
            ("8080:80", vec![pm("80/tcp", "", "8080")]),
            ("127.0.0.1::53/udp", vec![pm("53/udp", "127.0.0.1", "")]),
            (
                "9000-9001:9000-9001",
                vec![pm("9000/tcp", "", "9000"), pm("9001/tcp", "", "9001")],
            ),
            ("7000-7005:7000", vec![pm("7000/tcp", "", "7000-7005")]),
            ("[::1]:8443:443", vec![pm("443/tcp", "::1", "8443")]),
            ("::1:8443:443", vec![pm("443/tcp", "::1", "8443")]),
            ("3000", vec![pm("3000/tcp", "", "")]),
            ("80/UDP", vec![pm("80/udp", "", "")]),
            ("1-2/sctp", vec![pm("1/sctp", "", ""), pm("2/sctp", "", "")]),
            (
                "published=8081,target=81,protocol=udp",
                vec![pm("81/udp", "", "8081")],
            ),
        ];
        for (s, want) in cases {
            assert_eq!(parse_publish(s), Ok(want), "{s}");
        }
        for (s, why) in [
            ("", "no port specified"),
            ("80/icmp", "invalid proto"),
            ("x:80", "invalid hostPort"),
            ("80:x", "invalid containerPort"),
            ("1.2.3:80:80", "invalid IP"),
            ("[::1:80:80", "invalid IP"),
            ("1-3:1-2", "invalid ranges"),
            ("70000", "invalid containerPort"),
            ("2-1", "invalid containerPort"),
            ("a,b=c", "name=value"),
            ("8080:", "no port specified"),
        ] {
            let err = parse_publish(s).unwrap_err();
            assert!(err.contains(why), "{s:?}: {err}");
        }
    }

    #[test]
    fn restart_policies() {
        let ok: &[(&str, &str, i64)] = &[
            ("no", "no", 0),
            ("always", "always", 0),
            ("unless-stopped", "unless-stopped", 0),
            ("on-failure", "on-failure", 0),
            ("on-failure:3", "on-failure", 3),
            ("", "", 0),
        ];
        for (s, name, count) in ok {
            assert_eq!(parse_restart(s), Ok((name.to_string(), *count)), "{s}");
        }
        for (s, why) in [
            ("sometimes", "unknown policy"),
            ("on-failure:x", "integer"),
            ("on-failure:-1", "negative"),
            ("always:3", "only be used with 'on-failure'"),
            (":3", "no policy"),
        ] {
            let err = parse_restart(s).unwrap_err();
            assert!(err.contains(why), "{s:?}: {err}");
        }
    }

    #[test]
    fn ulimits() {
        assert_eq!(
            parse_ulimit("nofile=1024:2048"),
            Ok(("nofile".into(), 1024, 2048))
        );
        assert_eq!(parse_ulimit("nproc=512"), Ok(("nproc".into(), 512, 512)));
        assert_eq!(parse_ulimit("core=-1"), Ok(("core".into(), -1, -1)));
        assert_eq!(parse_ulimit("core=5:-1"), Ok(("core".into(), 5, -1)));
        for (s, why) in [
            ("nofile", "invalid ulimit argument"),
            ("as=1", "invalid ulimit type"),
            ("nofile=x", "integer"),
            ("nofile=2:1", "soft limit"),
            ("nofile=0x10", "integer"),
        ] {
            let err = parse_ulimit(s).unwrap_err();
            assert!(err.contains(why), "{s:?}: {err}");
        }
    }

    #[test]
    fn devices() {
        let d = |a: &str, b: &str, c: &str| Ok((a.to_string(), b.to_string(), c.to_string()));
        assert_eq!(parse_device("/dev/sdb"), d("/dev/sdb", "/dev/sdb", "rwm"));
        assert_eq!(
            parse_device("/dev/sdb:/dev/xvdb"),
            d("/dev/sdb", "/dev/xvdb", "rwm")
        );
        assert_eq!(
            parse_device("/dev/fuse:rw"),
            d("/dev/fuse", "/dev/fuse", "rw")
        );
        assert_eq!(parse_device("/dev/a:/dev/b:r"), d("/dev/a", "/dev/b", "r"));
        assert_eq!(parse_device("/dev/a/"), d("/dev/a", "/dev/a", "rwm"));
        for (s, why) in [
            ("", "bad format"),
            (":/x", "bad format"),
            ("/a:/b:c:d", "bad format"),
            ("/a:/b:rr", "bad mode"),
            ("/a:rel", "not an absolute path"),
        ] {
            let err = parse_device(s).unwrap_err();
            assert!(err.contains(why), "{s:?}: {err}");
        }
    }

    #[test]
    fn paths_csv_macs_domains_ips() {
        for (p, want) in [
            ("/", "/"),
            ("/etc/", "/etc"),
            ("/./etc", "/etc"),
            ("//etc//x/..", "/etc"),
            ("/..", "/"),
            ("a/../..", ".."),
            ("", "."),
        ] {
            assert_eq!(clean_path(p), want, "{p}");
        }
        assert_eq!(
            csv_fields(r#"type=volume,"volume-opt=o=addr=1.2.3.4",x"#).unwrap(),
            vec!["type=volume", "volume-opt=o=addr=1.2.3.4", "x"]
        );
        assert_eq!(csv_fields(r#""a""b""#).unwrap(), vec![r#"a"b"#]);
        assert_eq!(csv_fields("").unwrap(), vec![""]);
        assert!(csv_fields(r#""a"#).is_err());
        assert!(csv_fields(r#"a"b"#).is_err());
        assert!(valid_mac("02:42:ac:11:00:02"));
        assert!(valid_mac("02-42-AC-11-00-02"));
        assert!(valid_mac("0242.ac11.0002"));
        assert!(!valid_mac("02:42:ac:11:00"));
        assert!(!valid_mac("zz:42:ac:11:00:02"));
        assert_eq!(parse_dns_search("example.com."), Ok("example.com".into()));
        assert_eq!(parse_dns_search("."), Ok(".".into()));
        assert!(parse_dns_search("-x.com").is_err());
        assert!(parse_dns_search("123").is_err());
        assert!(parse_dns_search("a..b").is_err());
        assert_eq!(parse_ip(" 0:0:0:0:0:0:0:1 "), Ok("::1".into()));
        assert_eq!(parse_ip("::ffff:1.2.3.4"), Ok("1.2.3.4".into()));
        assert!(parse_ip("1.2.3").is_err());
    }
}
