//! resolv.conf read the way glibc reads it (nameservers, timeout, attempts, rotate, trust-ad)
//! and the `--nameserver` argument. Parsing only: nothing here sends a packet, and nothing
//! here ever resolves a host name.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// The largest resolv.conf read. glibc reads any size, but a real one is a few hundred
/// bytes (three nameservers, a search list of at most 256 characters since glibc 2.26, an
/// options line): 64 KiB is a hundred times that, and keeps a link to a device or a
/// runaway file from being read without end.
pub const MAX_FILE_BYTES: u64 = 64 << 10;
/// glibc's MAXNS: servers after the third are parsed but never asked.
const MAX_SERVERS: usize = 3;
/// glibc's RES_MAXRETRANS and RES_MAXRETRY: larger values in the file are capped.
const MAX_TIMEOUT_SECS: u64 = 30;
const MAX_ATTEMPTS: u32 = 5;
/// glibc's defaults (RES_TIMEOUT, RES_DFLRETRY).
const DEFAULT_TIMEOUT_SECS: u64 = 5;
const DEFAULT_ATTEMPTS: u32 = 2;
/// Our per-try ceiling. glibc waits 5 s per try because it gives up after `attempts` rounds;
/// we retry with backoff until a deadline instead, so a long try only delays the next server
/// and the next round. A slow recursion is not lost by giving up early: the recursive server
/// keeps resolving and answers our next try from its cache.
pub const MAX_TRY_TIMEOUT: Duration = Duration::from_secs(2);

/// Where and how to send DNS queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// Nameservers in the order they are tried (at most three from resolv.conf).
    pub servers: Vec<SocketAddr>,
    /// How long one try waits for a reply: resolv.conf `timeout:` capped at [`MAX_TRY_TIMEOUT`].
    pub attempt_timeout: Duration,
    /// resolv.conf `attempts:` (glibc's rounds). The resolver retries until its deadline
    /// instead, so this is kept for diagnostics only.
    pub attempts: u32,
    /// resolv.conf `options rotate`: spread lookups over the servers round-robin.
    pub rotate: bool,
    /// resolv.conf `options trust-ad`: the administrator trusts the servers' AD bit.
    pub trust_ad: bool,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        ResolverConfig {
            servers: vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 53))],
            attempt_timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS).min(MAX_TRY_TIMEOUT),
            attempts: DEFAULT_ATTEMPTS,
            rotate: false,
            trust_ad: false,
        }
    }
}

impl ResolverConfig {
    /// Parse resolv.conf text as glibc does; unusable lines are skipped, never fatal.
    pub fn parse(text: &str) -> ResolverConfig {
        let mut config = ResolverConfig {
            servers: Vec::new(),
            ..ResolverConfig::default()
        };
        let mut timeout_secs = DEFAULT_TIMEOUT_SECS;
        for line in text.lines() {
            // glibc only knows comments that start in the first column.
            if line.starts_with(['#', ';']) {
                continue;
            }
            if let Some(rest) = keyword(line, "nameserver") {
                let Some(addr) = rest.split_whitespace().next() else {
                    continue;
                };
                match parse_ip(addr, false) {
                    Ok(ip) if config.servers.len() < MAX_SERVERS => {
                        config.servers.push(with_scoped_port(ip, 53));
                    }
                    Ok(_) => log::debug!(
                        "resolv.conf: nameserver {addr} ignored: only the first {MAX_SERVERS} are used"
                    ),
                    // A server the administrator listed and that is never asked is worth
                    // a warning: a link-local one without its interface fails every try.
                    Err(e) => log::warn!("resolv.conf: nameserver line ignored: {e}"),
                }
            } else if let Some(rest) = keyword(line, "options") {
                for option in rest.split_whitespace() {
                    apply_option(&mut config, &mut timeout_secs, option);
                }
            }
        }
        if config.servers.is_empty() {
            config.servers = ResolverConfig::default().servers;
        }
        config.attempt_timeout = Duration::from_secs(timeout_secs).min(MAX_TRY_TIMEOUT);
        config
    }

    /// Read and parse a resolv.conf file. A missing file means 127.0.0.1 (as in glibc, and
    /// normal at early boot); one that exists but is not a regular file of at most
    /// `MAX_FILE_BYTES`, or cannot be read, is an error.
    pub fn load(path: &Path) -> Result<ResolverConfig, String> {
        match crate::bounded_read::regular_file(path, MAX_FILE_BYTES) {
            Ok(bytes) => Ok(ResolverConfig::parse(&String::from_utf8_lossy(&bytes))),
            Err(e) if e.open_error().map(std::io::Error::kind) == Some(ErrorKind::NotFound) => {
                log::warn!(
                    "{} does not exist (yet): using nameserver 127.0.0.1 as glibc does",
                    path.display()
                );
                Ok(ResolverConfig::default())
            }
            Err(e) => Err(format!(
                "cannot read resolver configuration {}: {e}",
                path.display()
            )),
        }
    }

    /// A configuration that asks exactly these servers, with the default timing.
    pub fn with_servers(servers: Vec<SocketAddr>) -> ResolverConfig {
        ResolverConfig {
            servers,
            ..ResolverConfig::default()
        }
    }
}

/// The rest of `line` when it starts with `word` followed by a blank (glibc's MATCH).
fn keyword<'a>(line: &'a str, word: &str) -> Option<&'a str> {
    line.strip_prefix(word)
        .filter(|rest| rest.starts_with([' ', '\t']))
}

/// One word of an `options` line. glibc matches options by prefix and ignores unknown ones.
fn apply_option(config: &mut ResolverConfig, timeout_secs: &mut u64, option: &str) {
    if let Some(n) = option.strip_prefix("timeout:") {
        *timeout_secs = atoi(n).clamp(1, MAX_TIMEOUT_SECS);
    } else if let Some(n) = option.strip_prefix("attempts:") {
        config.attempts =
            u32::try_from(atoi(n).clamp(1, u64::from(MAX_ATTEMPTS))).unwrap_or(MAX_ATTEMPTS);
    } else if option.starts_with("rotate") {
        config.rotate = true;
    } else if option.starts_with("trust-ad") {
        config.trust_ad = true;
    }
}

/// C `atoi` on the leading digits: `timeout:3x` is 3, `timeout:x` is 0.
fn atoi(text: &str) -> u64 {
    text.bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        })
}

fn with_port(ip: IpAddr, port: u16) -> SocketAddr {
    match ip {
        IpAddr::V4(v4) => SocketAddr::from((v4, port)),
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, 0)),
    }
}

/// An address with an optional IPv6 `%scope` (number or interface name). `strict` makes an
/// unknown interface name an error; resolv.conf instead degrades it to scope 0 as glibc
/// ignores scope errors.
fn parse_ip(text: &str, strict: bool) -> Result<ScopedIp, String> {
    let (addr, scope) = match text.split_once('%') {
        Some((addr, scope)) => (addr, Some(scope)),
        None => (text, None),
    };
    let Ok(ip) = IpAddr::from_str(addr) else {
        return Err(format!("`{text}` is not an IP address"));
    };
    let link_local = matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local());
    match (ip, scope) {
        (_, None) if link_local => Err(format!(
            "`{text}` is link-local and needs the interface it is on: `{text}%eth0`"
        )),
        (ip, None) => Ok(ScopedIp { ip, scope: 0 }),
        (IpAddr::V4(_), Some(_)) => Err(format!("`{text}`: only IPv6 addresses take a %scope")),
        (ip, Some(scope)) => match scope_id(scope) {
            Some(id) => Ok(ScopedIp { ip, scope: id }),
            None if strict => Err(format!("`{text}`: no network interface `{scope}`")),
            None if link_local => Err(format!("`{text}`: no network interface `{scope}`")),
            None => {
                log::debug!("nameserver {text}: unknown interface `{scope}`, using scope 0");
                Ok(ScopedIp { ip, scope: 0 })
            }
        },
    }
}

/// An IP address and its IPv6 scope id (0 when none).
#[derive(Debug, Clone, Copy)]
struct ScopedIp {
    ip: IpAddr,
    scope: u32,
}

/// A numeric scope, or an interface name looked up in sysfs (what `if_nametoindex` returns,
/// without needing libc).
fn scope_id(scope: &str) -> Option<u32> {
    if let Ok(n) = scope.parse::<u32>() {
        return Some(n);
    }
    if scope.is_empty() || scope.contains(['/', '\0']) || scope == "." || scope == ".." {
        return None;
    }
    std::fs::read_to_string(Path::new("/sys/class/net").join(scope).join("ifindex"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn with_scoped_port(ip: ScopedIp, port: u16) -> SocketAddr {
    match ip.ip {
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, ip.scope)),
        v4 => with_port(v4, port),
    }
}

/// Parse `--nameserver ADDR[:PORT]`: `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353`,
/// `fe80::1%eth0`, `[fe80::1%2]:53`. The port defaults to 53. Names are refused: they could
/// only be resolved through DNS itself.
pub fn parse_nameserver(arg: &str) -> Result<SocketAddr, String> {
    let bad = |why: String| {
        format!("invalid nameserver `{arg}`: {why} (expected IPv4, IPv4:PORT, IPv6 or [IPv6]:PORT)")
    };
    let (host, port) = if let Some(rest) = arg.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(bad("missing `]`".into()));
        };
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err(bad(format!("unexpected `{after}` after `]`"))),
        };
        (host, port)
    } else if arg.matches(':').count() == 1 {
        // Exactly one colon: IPv4 with a port. Bare IPv6 has at least two.
        let (host, port) = arg.split_once(':').unwrap_or((arg, ""));
        (host, Some(port))
    } else {
        (arg, None)
    };
    let ip = parse_ip(host, true).map_err(bad)?;
    if ip.ip.is_ipv4() && arg.starts_with('[') {
        return Err(bad("only IPv6 addresses go in brackets".into()));
    }
    if port.is_some() && ip.ip.is_ipv6() && !arg.starts_with('[') {
        return Err(bad(
            "an IPv6 address with a port must be written [IPv6]:PORT".into(),
        ));
    }
    let port = match port {
        None => 53,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err(bad(format!("`{p}` is not a port number (1-65535)"))),
            Ok(p) => p,
        },
    };
    Ok(with_scoped_port(ip, port))
}

/// A loopback server, counting IPv4-mapped `::ffff:127.0.0.1` too.
pub(crate) fn is_loopback(addr: &SocketAddr) -> bool {
    match addr.ip() {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(text: &str) -> SocketAddr {
        SocketAddr::from_str(text).expect("test address")
    }

    // Exempt from the length limit: a data table of resolv.conf texts and the servers each
    // gives, one row each.
    #[allow(clippy::too_many_lines)]
    #[test]
    fn resolv_conf_table() {
        let local = vec![sa("127.0.0.1:53")];
        let cases: Vec<(&str, &str, Vec<SocketAddr>)> = vec![
            ("empty file", "", local.clone()),
            (
                "only comments",
                "# nameserver 1.1.1.1\n; nameserver 2.2.2.2\n",
                local.clone(),
            ),
            (
                "one server",
                "nameserver 10.0.0.1\n",
                vec![sa("10.0.0.1:53")],
            ),
            (
                "more than three: first three used",
                "nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n",
                vec![sa("10.0.0.1:53"), sa("10.0.0.2:53"), sa("10.0.0.3:53")],
            ),
            (
                "invalid servers do not count towards three",
                "nameserver bogus\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n",
                vec![sa("10.0.0.1:53"), sa("10.0.0.2:53"), sa("10.0.0.3:53")],
            ),
            (
                "trailing text after the address is ignored",
                "nameserver 10.0.0.1 # primary\n",
                vec![sa("10.0.0.1:53")],
            ),
            (
                "tab separator",
                "nameserver\t10.0.0.9\n",
                vec![sa("10.0.0.9:53")],
            ),
            (
                "comment only in column 1",
                " # nameserver 10.0.0.1\n",
                local.clone(),
            ),
            (
                "indented keyword is not a keyword",
                "  nameserver 10.0.0.1\n",
                local.clone(),
            ),
            (
                "keyword needs a blank",
                "nameserver10.0.0.1\n",
                local.clone(),
            ),
            (
                "plain IPv6",
                "nameserver 2001:db8::53\n",
                vec![sa("[2001:db8::53]:53")],
            ),
            (
                "IPv6 numeric scope",
                "nameserver fe80::1%3\n",
                vec![sa("[fe80::1%3]:53")],
            ),
            (
                "IPv6 loopback interface scope",
                "nameserver fe80::1%lo\n",
                vec![sa("[fe80::1%1]:53")],
            ),
            (
                "IPv6 link-local on an unknown interface is skipped",
                "nameserver fe80::1%nosuchif0\n",
                local.clone(),
            ),
            (
                "IPv6 link-local without its interface is skipped",
                "nameserver fe80::1\nnameserver 10.0.0.1\n",
                vec![sa("10.0.0.1:53")],
            ),
            (
                "IPv6 global address on an unknown interface gives scope 0",
                "nameserver 2001:db8::53%nosuchif0\n",
                vec![sa("[2001:db8::53]:53")],
            ),
            (
                "IPv4 with scope is invalid",
                "nameserver 10.0.0.1%2\n",
                local.clone(),
            ),
            (
                "port syntax is not resolv.conf",
                "nameserver 10.0.0.1:5353\n",
                local.clone(),
            ),
            (
                "domain and search are ignored",
                "domain example.com\nsearch a.example b.example\nnameserver 10.0.0.1\n",
                vec![sa("10.0.0.1:53")],
            ),
            (
                "garbage lines are skipped",
                "\u{0}\u{1}garbage\nnameserver\nnameserver \nsortlist 10.0.0.0/8\n💥\nnameserver 10.0.0.7\n",
                vec![sa("10.0.0.7:53")],
            ),
            (
                "CRLF line ends",
                "nameserver 10.0.0.1\r\n",
                vec![sa("10.0.0.1:53")],
            ),
        ];
        for (what, text, servers) in cases {
            assert_eq!(ResolverConfig::parse(text).servers, servers, "{what}");
        }
    }

    #[test]
    fn options_table() {
        // (what, text, attempt_timeout ms, attempts, rotate, trust_ad)
        let cases = [
            ("defaults", "", 2000, 2, false, false),
            (
                "short timeout kept",
                "options timeout:1",
                1000,
                2,
                false,
                false,
            ),
            (
                "long timeout capped at our ceiling",
                "options timeout:5",
                2000,
                2,
                false,
                false,
            ),
            (
                "timeout zero means one second",
                "options timeout:0",
                1000,
                2,
                false,
                false,
            ),
            (
                "garbage timeout",
                "options timeout:x",
                1000,
                2,
                false,
                false,
            ),
            ("attempts", "options attempts:4", 2000, 4, false, false),
            (
                "attempts capped like glibc",
                "options attempts:9",
                2000,
                5,
                false,
                false,
            ),
            ("rotate", "options rotate", 2000, 2, true, false),
            ("trust-ad", "options trust-ad", 2000, 2, false, true),
            (
                "several options and unknown ones",
                "options edns0 ndots:3 strict-error rotate trust-ad timeout:1 attempts:3 no-aaaa",
                1000,
                3,
                true,
                true,
            ),
            (
                "several options lines accumulate",
                "options rotate\noptions attempts:1\n",
                2000,
                1,
                true,
                false,
            ),
            (
                "commented options",
                "#options rotate trust-ad",
                2000,
                2,
                false,
                false,
            ),
        ];
        for (what, text, timeout_ms, attempts, rotate, trust_ad) in cases {
            let c = ResolverConfig::parse(text);
            assert_eq!(
                c.attempt_timeout,
                Duration::from_millis(timeout_ms),
                "{what}"
            );
            assert_eq!(c.attempts, attempts, "{what}");
            assert_eq!(c.rotate, rotate, "{what}");
            assert_eq!(c.trust_ad, trust_ad, "{what}");
        }
    }

    #[test]
    fn load_missing_file_is_local_and_directory_is_an_error() {
        let missing = ResolverConfig::load(Path::new("/nonexistent/resolv.conf"));
        assert_eq!(missing, Ok(ResolverConfig::default()));
        let err = ResolverConfig::load(Path::new("/")).expect_err("a directory cannot be read");
        assert!(
            err.contains("cannot read resolver configuration /"),
            "{err}"
        );
    }

    /// A FIFO would block the run before its --timeout starts counting, a link to a device
    /// never ends: each is refused by name, before it is opened or read.
    #[test]
    fn load_refuses_what_is_not_a_regular_file_or_too_large() {
        let s = crate::bounded_read::tests::Scratch::new("resolv");
        let fifo = s.fifo("fifo");
        let zero = s.link("zero", "/dev/zero");
        let big = s.sparse("big", MAX_FILE_BYTES + 1);
        for (path, why) in [
            (&big, "larger than 64 KiB"),
            (&fifo, "not a regular file but a FIFO"),
            (&zero, "not a regular file but a character device"),
            (&s.0, "not a regular file but a directory"),
        ] {
            let err = ResolverConfig::load(path).expect_err("refused");
            assert!(
                err.contains(&format!("resolver configuration {}", path.display()))
                    && err.contains(why),
                "{err}"
            );
        }
        let fine = s.0.join("resolv.conf");
        std::fs::write(&fine, "nameserver 10.0.0.9\n").unwrap();
        let link = s.link("link", fine.to_str().unwrap());
        assert_eq!(
            ResolverConfig::load(&link).unwrap().servers,
            [SocketAddr::from(([10, 0, 0, 9], 53))]
        );
    }

    #[test]
    fn nameserver_argument_table() {
        let good = [
            ("10.0.0.1", "10.0.0.1:53"),
            ("10.0.0.1:5353", "10.0.0.1:5353"),
            ("::1", "[::1]:53"),
            ("2001:db8::1", "[2001:db8::1]:53"),
            ("[::1]", "[::1]:53"),
            ("[::1]:5353", "[::1]:5353"),
            ("[fe80::1%2]:53", "[fe80::1%2]:53"),
            ("fe80::1%2", "[fe80::1%2]:53"),
            ("fe80::1%lo", "[fe80::1%1]:53"),
            ("[fe80::1%lo]:54", "[fe80::1%1]:54"),
        ];
        for (arg, want) in good {
            assert_eq!(parse_nameserver(arg), Ok(sa(want)), "{arg}");
        }
        let bad = [
            "",
            "dns.example.com",
            "dns.example.com:53",
            "10.0.0.1:",
            "10.0.0.1:0",
            "10.0.0.1:65536",
            "10.0.0.1:53x",
            "10.0.0.256",
            "10.0.0.1%2",
            "[10.0.0.1]:53",
            "[::1",
            "[::1]53",
            "[::1]:",
            "fe80::1%nosuchif0",
            "fe80::1",
            "[fe80::1]:53",
            "::1:53:",
        ];
        for arg in bad {
            let err = parse_nameserver(arg).expect_err(arg);
            assert!(err.contains(&format!("`{arg}`")), "{arg}: {err}");
        }
    }

    #[test]
    fn loopback_servers() {
        for (addr, want) in [
            ("127.0.0.1:53", true),
            ("127.0.0.53:53", true),
            ("[::1]:53", true),
            ("[::ffff:127.0.0.1]:53", true),
            ("10.0.0.1:53", false),
            ("[fe80::1%1]:53", false),
        ] {
            assert_eq!(is_loopback(&sa(addr)), want, "{addr}");
        }
    }
}
