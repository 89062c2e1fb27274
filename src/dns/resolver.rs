//! The live [`TxtSource`]: asks the configured servers and, while none gives a usable answer,
//! keeps asking until the deadline. Every try stays open once sent, so a reply that arrives
//! after its wait (a slow recursion, a retransmission that crossed it) still counts; what the
//! run learns about each server (slow, silent, failing) is shared by all lookups through
//! [`Servers`]. Never falls back to libc name resolution, never turns a failure into `Absent`.

use super::resolv_conf::{ResolverConfig, is_loopback};
use super::servers::{Pick, Servers};
use super::wire::{Heard, Outcome, Question, Try, classify, exchange_tcp, txt_strings};
use super::{Answer, TxtSource};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

/// Tries of one lookup kept open at once; the oldest is closed beyond that.
const MAX_OPEN_TRIES: usize = 8;

/// A stub resolver over std sockets, shareable between lookup threads.
#[derive(Debug)]
pub struct Resolver {
    config: ResolverConfig,
    deadline: Instant,
    require_ad: bool,
    servers: Servers,
}

impl Resolver {
    /// A resolver that keeps retrying until `deadline`.
    pub fn new(config: ResolverConfig, deadline: Instant) -> Resolver {
        let servers = Servers::new(config.servers.len(), config.attempt_timeout, config.rotate);
        Resolver {
            config,
            deadline,
            require_ad: false,
            servers,
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

    /// Ask until an answer or the deadline. A round asks each server once, healthy ones
    /// first; a server that gives an unusable answer hands over to the next at once, one that
    /// stays silent when its wait is over. Between rounds the lookup waits for the servers'
    /// shared rests. Every try stays open, so whichever reply comes first wins.
    fn resolve(&self, question: &Question) -> Outcome {
        let what = format!("{} {}", question.name, question.qtype);
        let n = self.config.servers.len();
        if n == 0 {
            return Outcome::Unavailable("no nameserver configured".into());
        }
        if Instant::now() >= self.deadline {
            return Outcome::Unavailable(format!(
                "the deadline passed before {what} could be asked"
            ));
        }
        let first = self.servers.first();
        let mut asked = vec![false; n];
        let mut tries = vec![0u32; n];
        let mut edns = vec![true; n];
        // The latest reason each server gave, for the log and the final error.
        let mut reasons: Vec<Option<String>> = vec![None; n];
        let mut open: Vec<Try> = Vec::new();
        let mut next_send = Instant::now();
        let mut buf = vec![0u8; 65535];
        loop {
            let now = Instant::now();
            if now >= self.deadline {
                let why: Vec<String> = reasons.into_iter().flatten().collect();
                return Outcome::Unavailable(if why.is_empty() {
                    format!("no answer for {what} before the deadline")
                } else {
                    why.join("; ")
                });
            }
            // Tries whose wait is over without an answer count against their server (once).
            for t in open
                .iter_mut()
                .filter(|t| !t.counted && now >= t.sent + t.wait)
            {
                t.counted = true;
                self.servers.failed(t.server, t.sent, t.wait);
                reasons[t.server] = Some(format!("{}: {}", t.addr, t.silence()));
                log::debug!("DNS lookup of {what}: {}: {}", t.addr, t.silence());
            }
            if now >= next_send {
                if asked.iter().all(|a| *a) {
                    asked.fill(false);
                }
                match self.servers.pick(now, first, &asked, &tries) {
                    Pick::Ask(i, wait) => {
                        asked[i] = true;
                        tries[i] += 1;
                        let addr = self.config.servers[i];
                        match Try::send(i, addr, question, edns[i], wait) {
                            Ok(t) => {
                                if open.len() == MAX_OPEN_TRIES {
                                    open.remove(0);
                                }
                                open.push(t);
                                next_send = now + wait;
                            }
                            Err(why) => {
                                self.servers.failed(i, now, Duration::ZERO);
                                log::debug!("DNS lookup of {what}: {addr}: {why}");
                                reasons[i] = Some(format!("{addr}: {why}"));
                            }
                        }
                        continue;
                    }
                    Pick::Wait(until) => {
                        next_send = until.max(now + Duration::from_millis(1));
                        // Said once a round, by the lookups that asked and were not answered;
                        // one that only waits for a rest another lookup caused stays quiet.
                        let why: Vec<&str> = reasons.iter().flatten().map(String::as_str).collect();
                        if !why.is_empty() {
                            log::warn!(
                                "DNS lookup of {what} got no usable answer ({}); asking again in {:.1?}",
                                why.join("; "),
                                next_send.min(self.deadline).saturating_duration_since(now)
                            );
                        }
                    }
                }
            }
            let wake = next_send.min(self.deadline);
            for k in ready(&open, wake.saturating_duration_since(Instant::now())) {
                let t = &mut open[k];
                let heard = t.receive(&mut buf);
                let (i, addr, sent) = (t.server, t.addr, t.sent);
                let outcome = match heard {
                    Heard::Nothing => continue,
                    Heard::Failed(why) => Outcome::Unavailable(why),
                    Heard::Reply(reply)
                        if edns[i] && reply.response_code == ResponseCode::FormErr =>
                    {
                        log::debug!("{addr}: FORMERR with EDNS for {what}, asking without");
                        edns[i] = false;
                        asked[i] = false;
                        open.remove(k);
                        next_send = Instant::now();
                        break;
                    }
                    Heard::Reply(reply) if reply.truncation => {
                        log::debug!("{addr}: truncated UDP reply for {what}, asking over TCP");
                        let until =
                            (Instant::now() + self.config.attempt_timeout).min(self.deadline);
                        match exchange_tcp(addr, &t.query, until) {
                            Ok(reply) => classify(&reply, question),
                            Err(why) => Outcome::Unavailable(why),
                        }
                    }
                    Heard::Reply(reply) => classify(&reply, question),
                };
                match outcome {
                    Outcome::Unavailable(why) => {
                        self.servers.failed(i, sent, sent.elapsed());
                        log::debug!("DNS lookup of {what}: {addr}: {why}");
                        reasons[i] = Some(format!("{addr}: {why}"));
                        open.remove(k);
                        // This server has spoken: the next one need not wait for its turn.
                        next_send = Instant::now();
                        break;
                    }
                    answer => {
                        self.servers.answered(i, sent);
                        return answer;
                    }
                }
            }
        }
    }
}

/// The indices of the tries whose sockets are readable (or in error), waiting at most
/// `timeout`; with no tries, just the wait.
fn ready(open: &[Try], timeout: Duration) -> Vec<usize> {
    let mut fds: Vec<libc::pollfd> = open
        .iter()
        .map(|t| libc::pollfd {
            fd: t.fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // Rounded up, so that a wait of 0.4 ms does not spin.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `fds` is a live, exclusively borrowed array of `fds.len()` pollfd structs for the
    // whole call, and poll(2) writes only their `revents`.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n <= 0 {
        // A timeout, or EINTR: the caller's loop looks at the clock and comes back.
        return Vec::new();
    }
    fds.iter()
        .enumerate()
        .filter(|(_, p)| p.revents != 0)
        .map(|(k, _)| k)
        .collect()
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
