//! The live [`TxtSource`]: asks the configured servers in turn and, while none gives a usable
//! answer, retries with backoff until the deadline. Never falls back to libc name resolution,
//! and never turns a failure into `Absent`.

use super::resolv_conf::{ResolverConfig, is_loopback};
use super::wire::{Outcome, Question, ask, txt_strings};
use super::{Answer, TxtSource};
use crate::retry::Backoff;
use hickory_proto::rr::{RData, RecordType};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long before the deadline the last round may start at the latest.
const LAST_TRY_RESERVE: Duration = Duration::from_millis(250);

/// A stub resolver over std sockets, shareable between lookup threads.
#[derive(Debug)]
pub struct Resolver {
    config: ResolverConfig,
    deadline: Instant,
    require_ad: bool,
    /// Where the next round starts when `rotate` is on.
    next_server: AtomicUsize,
}

impl Resolver {
    /// A resolver that keeps retrying until `deadline`.
    pub fn new(config: ResolverConfig, deadline: Instant) -> Resolver {
        Resolver {
            config,
            deadline,
            require_ad: false,
            next_server: AtomicUsize::new(0),
        }
    }

    /// Ask for DNSSEC-validated answers: queries carry AD=1 and any answer, negative ones
    /// included, without AD=1 in the reply is Unavailable. Pair with [`check_ad_trust`].
    pub fn require_ad(mut self, on: bool) -> Self {
        self.require_ad = on;
        self
    }

    /// The addresses of `host` (an IP literal is returned as is, `localhost` is loopback as
    /// RFC 6761 wants, since there is no /etc/hosts here). Asks A first and AAAA only when
    /// there is no A record, so a broken AAAA path cannot hold up an IPv4 host. The name is
    /// taken as fully qualified: there is no search list.
    pub fn lookup_ip(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let lower = host.trim_end_matches('.').to_ascii_lowercase();
        if lower == "localhost" || lower.ends_with(".localhost") {
            return Ok(vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]);
        }
        for qtype in [RecordType::A, RecordType::AAAA] {
            let question = Question::new(host, qtype, self.require_ad)?;
            match self.resolve(&question) {
                Outcome::Records(records) => {
                    let ips: Vec<IpAddr> = records
                        .iter()
                        .filter_map(|rd| match rd {
                            RData::A(a) => Some(IpAddr::V4(a.0)),
                            RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                            _ => None,
                        })
                        .collect();
                    return Ok(ips);
                }
                Outcome::Absent => {}
                Outcome::Unavailable(why) => {
                    return Err(format!("cannot resolve {host} ({qtype}): {why}"));
                }
            }
        }
        Err(format!("cannot resolve {host}: it has no A or AAAA record"))
    }

    /// Rounds over the servers, with backoff between them, until an answer or the deadline.
    fn resolve(&self, question: &Question) -> Outcome {
        let what = format!("{} {}", question.name, question.qtype);
        if self.config.servers.is_empty() {
            return Outcome::Unavailable("no nameserver configured".into());
        }
        if Instant::now() >= self.deadline {
            return Outcome::Unavailable(format!(
                "the deadline passed before {what} could be asked"
            ));
        }
        let mut backoff = Backoff::until(self.deadline);
        loop {
            let why = match self.round(question) {
                Outcome::Unavailable(why) => why,
                answer => return answer,
            };
            // The last round starts a little before the deadline, so that it gets a real try
            // instead of timing out at once and masking the real reason; but never a whole
            // per-try timeout early, or a short --timeout would get no retry at all.
            let now = Instant::now();
            let reserve = self.config.attempt_timeout.min(LAST_TRY_RESERVE);
            let last_start = self.deadline.checked_sub(reserve).unwrap_or(now);
            let Some(delay) = backoff.next_delay().filter(|_| now < last_start) else {
                return Outcome::Unavailable(why);
            };
            let delay = delay.min(last_start - now);
            log::info!(
                "DNS lookup of {what} got no usable answer ({why}); retrying in {delay:.1?}"
            );
            std::thread::sleep(delay);
        }
    }

    /// One try per server, starting where `rotate` says, until one gives an answer.
    fn round(&self, question: &Question) -> Outcome {
        let servers = &self.config.servers;
        let start = if self.config.rotate {
            self.next_server.fetch_add(1, Ordering::Relaxed) % servers.len()
        } else {
            0
        };
        let mut reasons = Vec::new();
        for server in servers.iter().cycle().skip(start).take(servers.len()) {
            if Instant::now() >= self.deadline && !reasons.is_empty() {
                break;
            }
            match ask(
                *server,
                question,
                self.config.attempt_timeout,
                self.deadline,
            ) {
                Outcome::Unavailable(why) => {
                    log::debug!("DNS lookup of {} {}: {why}", question.name, question.qtype);
                    reasons.push(why);
                }
                answer => return answer,
            }
        }
        Outcome::Unavailable(reasons.join("; "))
    }
}

impl TxtSource for Resolver {
    fn lookup(&self, name: &str) -> Answer {
        let question = match Question::new(name, RecordType::TXT, self.require_ad) {
            Ok(q) => q,
            Err(why) => return Answer::Unavailable(why),
        };
        match self.resolve(&question) {
            Outcome::Records(records) => Answer::Present(txt_strings(&records)),
            Outcome::Absent => Answer::Absent,
            Outcome::Unavailable(why) => Answer::Unavailable(why),
        }
    }
}

/// Whether the AD bit from these servers means anything: only when resolv.conf says
/// `options trust-ad` (the administrator vouches for the path) or every server is on this
/// host. Otherwise anyone on the path could set AD=1, and `--require-ad` would be theatre.
pub fn check_ad_trust(config: &ResolverConfig) -> Result<(), String> {
    if config.trust_ad || config.servers.iter().all(is_loopback) {
        return Ok(());
    }
    let remote: Vec<String> = config
        .servers
        .iter()
        .filter(|s| !is_loopback(s))
        .map(ToString::to_string)
        .collect();
    Err(format!(
        "--require-ad needs nameservers whose AD bit can be trusted, but {} not on this host \
         and resolv.conf lacks `options trust-ad`: run a validating resolver on loopback, or \
         add `options trust-ad` if the path to the nameservers is secure",
        match remote.as_slice() {
            [one] => format!("{one} is"),
            many => format!("{} are", many.join(", ")),
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::time::Duration;

    fn config(servers: &[&str], trust_ad: bool) -> ResolverConfig {
        let mut c = ResolverConfig::with_servers(
            servers
                .iter()
                .map(|s| s.parse::<SocketAddr>().expect("test address"))
                .collect(),
        );
        c.trust_ad = trust_ad;
        c
    }

    #[test]
    fn ad_trust_table() {
        let cases = [
            (vec!["127.0.0.1:53"], false, true),
            (vec!["127.0.0.53:53", "[::1]:53"], false, true),
            (vec!["10.0.0.1:53"], true, true),
            (vec!["10.0.0.1:53"], false, false),
            (vec!["127.0.0.1:53", "10.0.0.1:53"], false, false),
        ];
        for (servers, trust_ad, ok) in cases {
            let got = check_ad_trust(&config(&servers, trust_ad));
            assert_eq!(got.is_ok(), ok, "{servers:?} trust-ad={trust_ad}: {got:?}");
        }
        let err = check_ad_trust(&config(
            &["127.0.0.1:53", "10.0.0.1:53", "10.0.0.2:53"],
            false,
        ))
        .expect_err("remote servers");
        assert!(
            err.contains("10.0.0.1:53, 10.0.0.2:53 are not on this host"),
            "{err}"
        );
    }

    #[test]
    fn ip_literals_need_no_dns() {
        // No servers at all: any attempt to query would fail.
        let r = Resolver::new(config(&[], false), Instant::now() + Duration::from_secs(1));
        for (host, ips) in [
            ("localhost", vec!["127.0.0.1", "::1"]),
            ("LocalHost.", vec!["127.0.0.1", "::1"]),
            ("docker.localhost", vec!["127.0.0.1", "::1"]),
            ("192.0.2.1", vec!["192.0.2.1"]),
            ("::1", vec!["::1"]),
            ("[2001:db8::1]", vec!["2001:db8::1"]),
        ] {
            let want: Vec<IpAddr> = ips.iter().map(|i| i.parse().expect("ip")).collect();
            assert_eq!(r.lookup_ip(host), Ok(want), "{host}");
        }
        let err = r.lookup_ip("docker.test").expect_err("no servers");
        assert!(err.contains("no nameserver configured"), "{err}");
    }

    #[test]
    fn bad_names_and_past_deadlines_fail_at_once() {
        let r = Resolver::new(
            config(&["127.0.0.1:9"], false),
            Instant::now() + Duration::from_secs(30),
        );
        assert!(
            matches!(r.lookup("a..b"), Answer::Unavailable(why) if why.contains("not a valid DNS name"))
        );
        let late = Resolver::new(config(&["127.0.0.1:9"], false), Instant::now());
        assert!(
            matches!(late.lookup("a.test"), Answer::Unavailable(why) if why.contains("deadline passed"))
        );
    }
}
