//! The live [`TxtSource`]: asks the configured servers and, while none gives a usable answer,
//! keeps asking until the deadline. Every try stays open once sent, so a reply that arrives
//! after its wait (a slow recursion, a retransmission that crossed it) still counts; what the
//! run learns about each server (slow, silent, failing) is shared by all lookups through
//! [`Servers`]. Never falls back to libc name resolution, never turns a failure into `Absent`.

use super::resolv_conf::{ResolverConfig, is_loopback};
use super::servers::{Pick, Progress, ServerRest, Servers};
use super::wire::{Heard, Outcome, Question, Try, classify, exchange_tcp, txt_strings};
use super::{Answer, TxtSource};
use crate::retry::Backoff;
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

    /// Start from what an earlier run learnt about these servers: one that failed lately
    /// rests for the first backoff cap of this run, unless every server would.
    pub fn restore_rests(&self, rests: &[ServerRest]) {
        let now = (Instant::now(), std::time::SystemTime::now());
        self.servers
            .restore(&self.config.servers, rests, now.0, now.1);
    }

    /// The servers whose last try failed, for the next run.
    pub fn rests(&self) -> Vec<ServerRest> {
        self.servers.rests(&self.config.servers)
    }

    /// Where the lookups stand (tries sent, the next server's end of rest).
    pub fn progress(&self) -> Progress {
        self.servers.progress(Instant::now())
    }

    /// The servers asked, as a person reads them.
    pub fn server_list(&self) -> String {
        let list: Vec<String> = self.config.servers.iter().map(|s| s.to_string()).collect();
        list.join(", ")
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

    /// One question, as a flight of one.
    fn resolve(&self, question: &Question) -> Outcome {
        self.resolve_walks(vec![vec![question.clone()]])
            .pop()
            .map(|(_, outcome)| outcome)
            .unwrap_or_else(|| Outcome::Unavailable("no lookup was made".into()))
    }

    /// Follow every walk at once, in one readiness loop over all their tries: each walk asks
    /// its questions in turn (most specific first) until one is not absent, or the deadline
    /// passes. Walks do not wait for each other, and a batch costs about one round trip per
    /// level, not one per thread's share. Each question follows its own rounds (see
    /// [`Lookup`]); at most [`MAX_IN_FLIGHT`] sockets are open at a time. For each walk: the
    /// index of the question that decided it, and the outcome.
    fn resolve_walks(&self, walks: Vec<Vec<Question>>) -> Vec<(usize, Outcome)> {
        let n = self.config.servers.len();
        let unavailable = |why: String| Outcome::Unavailable(why);
        if n == 0 {
            return walks
                .iter()
                .map(|_| (0, unavailable("no nameserver configured".into())))
                .collect();
        }
        if Instant::now() >= self.deadline {
            return walks
                .iter()
                .map(|w| {
                    let what = w
                        .first()
                        .map(|q| format!("{} {}", q.name, q.qtype))
                        .unwrap_or_default();
                    (
                        0,
                        unavailable(format!("the deadline passed before {what} could be asked")),
                    )
                })
                .collect();
        }
        let mut lookups: Vec<Lookup> = walks
            .into_iter()
            .map(|w| Lookup::new(w, n, self.servers.first(), self.deadline))
            .collect();
        let mut buf = vec![0u8; 65535];
        loop {
            let now = Instant::now();
            if lookups.iter().all(|l| l.result.is_some()) {
                break;
            }
            if now >= self.deadline {
                for l in lookups.iter_mut().filter(|l| l.result.is_none()) {
                    l.give_up();
                }
                break;
            }
            let mut in_flight: usize = lookups.iter().map(|l| l.open.len()).sum();
            for l in lookups.iter_mut().filter(|l| l.result.is_none()) {
                l.advance(self, now, &mut in_flight);
            }
            let wake = lookups
                .iter()
                .filter(|l| l.result.is_none())
                .map(|l| l.next_send)
                .min()
                .unwrap_or(now)
                .min(self.deadline);
            let sockets: Vec<(usize, usize)> = lookups
                .iter()
                .enumerate()
                .filter(|(_, l)| l.result.is_none())
                .flat_map(|(i, l)| (0..l.open.len()).map(move |k| (i, k)))
                .collect();
            let fds: Vec<_> = sockets
                .iter()
                .map(|&(i, k)| lookups[i].open[k].fd())
                .collect();
            let mut heard: Vec<(usize, usize)> = ready(&fds, wake.saturating_duration_since(now))
                .into_iter()
                .map(|j| sockets[j])
                .collect();
            // Highest index first, so removing a try keeps the others' indices valid.
            heard.sort_unstable_by(|a, b| b.cmp(a));
            for (i, k) in heard {
                if lookups[i].result.is_none() {
                    lookups[i].receive(self, k, &mut buf);
                }
            }
        }
        lookups
            .into_iter()
            .map(|l| {
                let at = l.at;
                let outcome = l
                    .result
                    .unwrap_or_else(|| Outcome::Unavailable("no answer".into()));
                (at, outcome)
            })
            .collect()
    }
}

/// Sockets open at once over a whole flight, below the usual 1024 descriptors a process
/// may have (the engine's connections and the log need some too).
const MAX_IN_FLIGHT: usize = 512;

/// One question's way through the servers. A round asks each server once, healthy ones
/// first; a server that gives an unusable answer hands over to the next at once, one that
/// stays silent when its try's wait is over. Between rounds the lookup waits for the
/// servers' shared rests. Its tries stay open, so whichever reply comes first wins.
struct Lookup {
    /// The walk: asked in turn while the answers are absent.
    walk: Vec<Question>,
    /// The index of the question being asked.
    at: usize,
    what: String,
    first: usize,
    asked: Vec<bool>,
    tries: Vec<u32>,
    edns: Vec<bool>,
    /// The latest reason each server gave, for the log and the final error.
    reasons: Vec<Option<String>>,
    open: Vec<Try>,
    next_send: Instant,
    /// The wait between this lookup's rounds.
    backoff: Backoff,
    deadline: Instant,
    result: Option<Outcome>,
}

impl Lookup {
    fn new(walk: Vec<Question>, servers: usize, first: usize, deadline: Instant) -> Lookup {
        let what = walk
            .first()
            .map(|q| format!("{} {}", q.name, q.qtype))
            .unwrap_or_default();
        Lookup {
            // An empty walk has nothing to ask: it is decided, absent, from the start.
            result: walk.is_empty().then_some(Outcome::Absent),
            walk,
            at: 0,
            what,
            first,
            asked: vec![false; servers],
            tries: vec![0; servers],
            edns: vec![true; servers],
            reasons: vec![None; servers],
            open: Vec::new(),
            next_send: Instant::now(),
            backoff: Backoff::until(deadline),
            deadline,
        }
    }

    /// An absent answer moves the walk to its next question, afresh (what the servers
    /// taught the run stays in [`Servers`]); the last one's absence decides it.
    fn next_question(&mut self) -> bool {
        if self.at + 1 >= self.walk.len() {
            return false;
        }
        self.at += 1;
        self.what = self
            .walk
            .get(self.at)
            .map(|q| format!("{} {}", q.name, q.qtype))
            .unwrap_or_default();
        self.asked.fill(false);
        self.tries.fill(0);
        self.reasons.fill(None);
        self.open.clear();
        self.next_send = Instant::now();
        self.backoff = Backoff::until(self.deadline);
        true
    }

    /// Count tries whose wait is over against their servers, and send the next try if due.
    fn advance(&mut self, r: &Resolver, now: Instant, in_flight: &mut usize) {
        for t in self
            .open
            .iter_mut()
            .filter(|t| !t.counted && now >= t.sent + t.wait)
        {
            t.counted = true;
            r.servers.failed(t.server, t.sent, t.wait);
            self.reasons[t.server] = Some(format!("{}: {}", t.addr, t.silence()));
            log::debug!("DNS lookup of {}: {}: {}", self.what, t.addr, t.silence());
        }
        while now >= self.next_send && *in_flight < MAX_IN_FLIGHT {
            if self.asked.iter().all(|a| *a) {
                // Every server was asked and none helped: wait before the next round, longer
                // each time, so that a server that answers but cannot help (SERVFAIL for this
                // name) is not asked in a loop. Silent servers rest on top of this.
                self.asked.fill(false);
                let gap = self.backoff.next_delay().unwrap_or_default();
                self.next_send = now + gap;
                let why: Vec<&str> = self.reasons.iter().flatten().map(String::as_str).collect();
                log::warn!(
                    "DNS lookup of {} got no usable answer ({}); retrying in {gap:.1?}",
                    self.what,
                    if why.is_empty() {
                        "no reply".to_string()
                    } else {
                        why.join("; ")
                    },
                );
                continue;
            }
            match r.servers.pick(now, self.first, &self.asked, &self.tries) {
                Pick::Ask(i, wait) => {
                    self.asked[i] = true;
                    self.tries[i] += 1;
                    let addr = r.config.servers[i];
                    let Some(question) = self.walk.get(self.at) else {
                        return;
                    };
                    match Try::send(i, addr, question, self.edns[i], wait) {
                        Ok(t) => {
                            if self.open.len() == MAX_OPEN_TRIES {
                                self.open.remove(0);
                                *in_flight -= 1;
                            }
                            self.open.push(t);
                            *in_flight += 1;
                            self.next_send = now + wait;
                        }
                        Err(why) => {
                            r.servers.failed(i, now, Duration::ZERO);
                            log::debug!("DNS lookup of {}: {addr}: {why}", self.what);
                            self.reasons[i] = Some(format!("{addr}: {why}"));
                        }
                    }
                }
                Pick::Wait(until) => {
                    // The servers left to ask this round rest (another lookup found them
                    // silent): come back when the first may be asked again.
                    self.next_send = until.max(now + Duration::from_millis(1));
                }
            }
        }
    }

    /// Read what try `k` received and act on it.
    fn receive(&mut self, r: &Resolver, k: usize, buf: &mut [u8]) {
        let Some(question) = self.walk.get(self.at) else {
            return;
        };
        let t = &mut self.open[k];
        let (i, addr, sent) = (t.server, t.addr, t.sent);
        // Whether the server itself failed (and rests for every lookup), or only gave an
        // answer that does not help this question (SERVFAIL, a referral, garbage for it).
        let mut unreachable = false;
        let outcome = match t.receive(buf) {
            Heard::Nothing => return,
            Heard::Failed(why) => {
                unreachable = true;
                Outcome::Unavailable(why)
            }
            Heard::Malformed(why) => Outcome::Unavailable(why),
            Heard::Reply(reply) if self.edns[i] && reply.response_code == ResponseCode::FormErr => {
                log::debug!(
                    "{addr}: FORMERR with EDNS for {}, asking without",
                    self.what
                );
                self.edns[i] = false;
                self.asked[i] = false;
                self.open.remove(k);
                self.next_send = Instant::now();
                return;
            }
            Heard::Reply(reply) if reply.truncation => {
                log::debug!(
                    "{addr}: truncated UDP reply for {}, asking over TCP",
                    self.what
                );
                let until = (Instant::now() + r.config.attempt_timeout).min(r.deadline);
                match exchange_tcp(addr, &t.query, until) {
                    Ok(reply) => classify(&reply, question),
                    Err(why) => {
                        unreachable = true;
                        Outcome::Unavailable(why)
                    }
                }
            }
            Heard::Reply(reply) => classify(&reply, question),
        };
        match outcome {
            Outcome::Unavailable(why) => {
                if unreachable {
                    r.servers.failed(i, sent, sent.elapsed());
                } else {
                    r.servers.answered(i, sent);
                }
                log::debug!("DNS lookup of {}: {addr}: {why}", self.what);
                self.reasons[i] = Some(format!("{addr}: {why}"));
                self.open.remove(k);
                // This server has spoken: the next one need not wait for its turn.
                self.next_send = Instant::now();
            }
            answer => {
                r.servers.answered(i, sent);
                if matches!(answer, Outcome::Absent) && self.next_question() {
                    return;
                }
                self.result = Some(answer);
                self.open.clear();
            }
        }
    }

    /// The deadline passed: unavailable, with every server's latest reason.
    fn give_up(&mut self) {
        let why: Vec<String> = self.reasons.iter().flatten().cloned().collect();
        self.result = Some(Outcome::Unavailable(if why.is_empty() {
            format!("no answer for {} before the deadline", self.what)
        } else {
            why.join("; ")
        }));
        self.open.clear();
    }
}

/// The indices of the sockets that are readable (or in error), waiting at most `timeout`;
/// with no sockets, just the wait.
fn ready(sockets: &[std::os::fd::RawFd], timeout: Duration) -> Vec<usize> {
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
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
        self.lookup_walks(&[vec![name.to_string()]])
            .pop()
            .map(|(_, answer)| answer)
            .unwrap_or_else(|| Answer::Unavailable("no lookup was made".into()))
    }

    fn lookup_all(&self, names: &[String]) -> Vec<Answer> {
        let walks: Vec<Vec<String>> = names.iter().map(|n| vec![n.clone()]).collect();
        self.lookup_walks(&walks)
            .into_iter()
            .map(|(_, answer)| answer)
            .collect()
    }

    fn lookup_walks(&self, walks: &[Vec<String>]) -> Vec<(usize, Answer)> {
        // A name that cannot be a question ends its walk there, unavailable.
        let mut cut: Vec<Option<(usize, String)>> = vec![None; walks.len()];
        let questions: Vec<Vec<Question>> = walks
            .iter()
            .enumerate()
            .map(|(w, names)| {
                let mut qs = Vec::new();
                for (k, name) in names.iter().enumerate() {
                    match Question::new(name, RecordType::TXT, self.require_ad) {
                        Ok(q) => qs.push(q),
                        Err(why) => {
                            cut[w] = Some((k, why));
                            break;
                        }
                    }
                }
                qs
            })
            .collect();
        self.resolve_walks(questions)
            .into_iter()
            .zip(cut)
            .map(|((at, outcome), cut)| match (outcome, cut) {
                (Outcome::Records(records), _) => (at, Answer::Present(txt_strings(&records))),
                (Outcome::Unavailable(why), _) => (at, Answer::Unavailable(why)),
                (Outcome::Absent, Some((k, why))) => (k, Answer::Unavailable(why)),
                (Outcome::Absent, None) => (at, Answer::Absent),
            })
            .collect()
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
