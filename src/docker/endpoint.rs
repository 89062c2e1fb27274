//! Where the engine listens: `DOCKER_HOST`-style URLs (`unix:///path`, `tcp://host:port`).
//! Parsing only: a tcp host name is handed back unresolved, because names must go through
//! our own resolver, never libc's (a static binary cannot use NSS).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// The engine's socket when nothing else is configured.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The port `tcp://host` means when it names none (the engine's plain-HTTP port).
pub const DEFAULT_TCP_PORT: u16 = 2375;

/// A parsed engine URL; the tcp host may still be a name the caller must resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerHost {
    /// `unix:///var/run/docker.sock`
    Unix(PathBuf),
    /// `tcp://host:port`, host as written (an IP literal or a name), without brackets.
    Tcp {
        /// IP literal or host name.
        host: String,
        /// Port, [`DEFAULT_TCP_PORT`] when the URL names none.
        port: u16,
    },
}

/// Where the engine listens (host names are resolved before this, by our own resolver).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:///var/run/docker.sock`
    Unix(PathBuf),
    /// `tcp://IP:PORT`
    Tcp(SocketAddr),
}

impl Endpoint {
    /// Parse a URL whose tcp host, if any, is an IP literal; a host name is an error here
    /// (resolve it with [`parse_docker_host`] and our resolver, then use [`Endpoint::Tcp`]).
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        match parse_docker_host(url)? {
            DockerHost::Unix(path) => Ok(Endpoint::Unix(path)),
            DockerHost::Tcp { host, port } => match host.parse::<IpAddr>() {
                Ok(ip) => Ok(Endpoint::Tcp(SocketAddr::new(ip, port))),
                Err(_) => Err(format!(
                    "engine URL {url:?}: {host:?} is a host name; it must be resolved first"
                )),
            },
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            Endpoint::Tcp(addr) => write!(f, "tcp://{addr}"),
        }
    }
}

/// Parse `unix:///absolute/path` or `tcp://host[:port]` (IPv6 in brackets). TLS (`https://`,
/// `DOCKER_TLS_VERIFY`), `ssh://` and `fd://` are not supported and say so.
pub fn parse_docker_host(url: &str) -> Result<DockerHost, String> {
    let bad = |why: &str| format!("engine URL {url:?}: {why}");
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(bad("expected unix:///path or tcp://host:port"));
    };
    match scheme {
        "unix" => {
            if !rest.starts_with('/') {
                return Err(bad("the socket path must be absolute (unix:///path)"));
            }
            if rest.len() == 1 || rest.ends_with('/') {
                return Err(bad("the socket path names a directory, not a socket"));
            }
            Ok(DockerHost::Unix(PathBuf::from(rest)))
        }
        "tcp" => parse_tcp(rest).map_err(|why| bad(&why)),
        "https" => Err(bad("TLS to the engine is not supported (https://)")),
        "http" | "ssh" | "fd" | "npipe" => Err(bad(&format!(
            "scheme {scheme}:// is not supported (only unix:// and plain tcp://)"
        ))),
        _ => Err(bad(&format!("unknown scheme {scheme}://"))),
    }
}

/// `host[:port][/]` after `tcp://`.
fn parse_tcp(rest: &str) -> Result<DockerHost, String> {
    // The engine API has no base path; a trailing slash is harmless, anything else is a typo.
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@']) {
        return Err("a tcp URL is only host and port".into());
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err("unclosed [ around an IPv6 address".into());
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("{host:?} is not an IPv6 address"));
        }
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected {after:?} after the IPv6 address")),
            },
        }
    } else {
        match authority.split_once(':') {
            Some((_, port)) if port.contains(':') => {
                return Err("an IPv6 address must be in brackets: tcp://[::1]:2375".into());
            }
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    let port = match port {
        None => DEFAULT_TCP_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("{p:?} is not a port number")),
        },
    };
    Ok(DockerHost::Tcp {
        host: host.to_string(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> DockerHost {
        DockerHost::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn docker_host_urls() {
        let ok = [
            (
                DEFAULT_HOST,
                DockerHost::Unix("/var/run/docker.sock".into()),
            ),
            (
                "unix:///run/user/1000/docker.sock",
                DockerHost::Unix("/run/user/1000/docker.sock".into()),
            ),
            ("tcp://10.0.0.1:2375", tcp("10.0.0.1", 2375)),
            ("tcp://10.0.0.1:2375/", tcp("10.0.0.1", 2375)),
            ("tcp://10.0.0.1", tcp("10.0.0.1", DEFAULT_TCP_PORT)),
            ("tcp://docker.example:4243", tcp("docker.example", 4243)),
            ("tcp://[::1]:2375", tcp("::1", 2375)),
            ("tcp://[fd00::5]", tcp("fd00::5", DEFAULT_TCP_PORT)),
        ];
        for (url, want) in ok {
            assert_eq!(parse_docker_host(url), Ok(want), "{url}");
        }
    }

    #[test]
    fn bad_docker_host_urls_say_why() {
        let bad = [
            ("/var/run/docker.sock", "expected unix:///path"),
            ("unix://var/run/docker.sock", "absolute"),
            ("unix:///", "directory"),
            ("unix:///run/", "directory"),
            ("tcp://", "no host"),
            ("tcp://:2375", "no host"),
            ("tcp://10.0.0.1:0", "port number"),
            ("tcp://10.0.0.1:99999", "port number"),
            ("tcp://10.0.0.1:x", "port number"),
            ("tcp://::1:2375", "brackets"),
            ("tcp://[::1", "unclosed"),
            ("tcp://[nothost]:1", "not an IPv6"),
            ("tcp://[::1]x", "unexpected"),
            ("tcp://10.0.0.1:2375/v1.41", "only host and port"),
            ("tcp://user@10.0.0.1", "only host and port"),
            (
                "https://10.0.0.1:2376",
                "TLS to the engine is not supported",
            ),
            ("ssh://me@host", "not supported"),
            ("gopher://x", "unknown scheme"),
        ];
        for (url, why) in bad {
            match parse_docker_host(url) {
                Err(e) => assert!(e.contains(why) && e.contains(url), "{url}: {e}"),
                Ok(h) => panic!("{url} parsed as {h:?}"),
            }
        }
    }

    #[test]
    fn endpoints_need_ip_literals() {
        let cases = [
            (
                "unix:///var/run/docker.sock",
                Ok(Endpoint::Unix("/var/run/docker.sock".into())),
            ),
            (
                "tcp://127.0.0.1:2375",
                Ok(Endpoint::Tcp(([127, 0, 0, 1], 2375).into())),
            ),
            (
                "tcp://[::1]:2376",
                Ok(Endpoint::Tcp("[::1]:2376".parse().unwrap())),
            ),
            ("tcp://docker.example:2375", Err("must be resolved first")),
            ("tcp://", Err("no host")),
        ];
        for (url, want) in cases {
            match (Endpoint::parse(url), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{url}"),
                (Err(e), Err(why)) => assert!(e.contains(why), "{url}: {e}"),
                (got, want) => panic!("{url}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn endpoints_display_as_urls() {
        for url in [
            "unix:///var/run/docker.sock",
            "tcp://127.0.0.1:2375",
            "tcp://[::1]:2375",
        ] {
            assert_eq!(Endpoint::parse(url).unwrap().to_string(), url);
        }
    }
}
