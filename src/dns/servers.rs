//! What this run has learnt about its nameservers, shared by every lookup: which answered and
//! how fast, which failed and until when they rest. A dead server costs one timeout per
//! backoff step for the whole run (one lookup probes it; the others go elsewhere or wait),
//! not one per lookup. Decides whom to ask and how long to wait; sends nothing itself.
//! What a run learnt (a server failing, and when it last failed) is handed out as
//! [`ServerRest`]s for the state file; the next run lets such a server rest at its start, for
//! one backoff cap at most, so that it does not spend its first try on a silent server.

use crate::retry;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// A nameserver that failed, as the next run should know it: kept in the state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRest {
    /// The server's address.
    pub server: SocketAddr,
    /// Its failures in a row.
    pub failures: u32,
    /// When it last failed, in milliseconds since the Unix epoch (the wall clock: a run's
    /// `Instant`s mean nothing to the next one).
    pub failed_at_ms: u64,
}

/// How long what a run learnt about a failing server is used by the next runs: a few resync
/// periods. Past it the server is asked first again, so a server that came back costs at
/// most one restored rest per horizon, and one that is still silent one try per horizon.
pub const REMEMBERED_FOR: Duration = Duration::from_secs(15 * 60);

/// Where the lookups stand, for a person waiting on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Tries sent so far in this run.
    pub tries: u64,
    /// When the next server rests no more, if one rests.
    pub next_try: Option<Instant>,
}

/// The first try's wait before anything is known of a server: long enough for a recursion
/// from cold, short enough that a lost datagram costs little (the try stays open after it).
const FIRST_TRY: Duration = Duration::from_secs(1);
/// The shortest wait for one try, however fast the server has been.
const MIN_TRY: Duration = Duration::from_millis(100);

/// The shared state of the run's nameservers.
#[derive(Debug)]
pub(crate) struct Servers {
    health: Mutex<Vec<Health>>,
    /// The per-try ceiling (resolv.conf `timeout:`, capped).
    ceiling: Duration,
    rotate: bool,
    next_first: AtomicUsize,
    tries: AtomicU64,
}

#[derive(Debug, Clone, Default)]
struct Health {
    /// Smoothed round-trip time of its answers in this run.
    srtt: Option<Duration>,
    /// Failures (timeouts, unusable answers) since its last good answer.
    failures: u32,
    /// Not asked before this instant, unless every server rests.
    resting_until: Option<Instant>,
    /// When the try that probes it after a rest was sent; other lookups do not ask meanwhile.
    probe: Option<Instant>,
    /// When `failures` last changed: a try sent before it brings no news.
    changed: Option<Instant>,
    /// When it last failed, by the wall clock (for the next run).
    failed_at: Option<SystemTime>,
}

/// What a lookup should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pick {
    /// Ask this server (index), waiting this long for the try before the next one.
    Ask(usize, Duration),
    /// Every server it may ask rests or is being probed: come back then.
    Wait(Instant),
}

impl Servers {
    /// State for `count` servers, none of them known yet.
    pub fn new(count: usize, ceiling: Duration, rotate: bool) -> Servers {
        Servers {
            health: Mutex::new(vec![Health::default(); count]),
            ceiling,
            rotate,
            next_first: AtomicUsize::new(0),
            tries: AtomicU64::new(0),
        }
    }

    /// How many tries were sent, and when a resting server may be asked next.
    pub fn progress(&self, now: Instant) -> Progress {
        let next_try = self
            .lock()
            .iter()
            .filter_map(|h| h.resting_until.filter(|t| *t > now))
            .min();
        Progress {
            tries: self.tries.load(Ordering::Relaxed),
            next_try,
        }
    }

    /// The servers (at `addrs`, in order) whose last try failed, as the state file keeps them.
    pub fn rests(&self, addrs: &[SocketAddr]) -> Vec<ServerRest> {
        let health = self.lock();
        addrs
            .iter()
            .zip(health.iter())
            .filter_map(|(addr, h)| {
                let failed_at = h.failed_at.filter(|_| h.failures > 0)?;
                Some(ServerRest {
                    server: *addr,
                    failures: h.failures,
                    failed_at_ms: millis(failed_at),
                })
            })
            .collect()
    }

    /// Take back what an earlier run learnt about the servers at `addrs`: a server that
    /// failed within [`REMEMBERED_FOR`] rests for one backoff cap from `now` (never longer,
    /// whatever the file says), then is probed like any resting server. Nothing is restored
    /// when every server would rest: with nobody else to ask, a rest only delays the first try.
    pub fn restore(
        &self,
        addrs: &[SocketAddr],
        rests: &[ServerRest],
        now: Instant,
        wall: SystemTime,
    ) {
        let now_ms = millis(wall);
        let horizon = REMEMBERED_FOR.as_millis() as u64;
        let known: Vec<Option<&ServerRest>> = addrs
            .iter()
            .map(|addr| {
                rests.iter().find(|r| {
                    // A failure "in the future" is a clock that moved back: still recent.
                    r.server == *addr
                        && r.failures > 0
                        && now_ms.saturating_sub(r.failed_at_ms) <= horizon
                })
            })
            .collect();
        if known.iter().all(Option::is_some) {
            return;
        }
        let mut health = self.lock();
        for (h, r) in health.iter_mut().zip(known) {
            if let Some(r) = r {
                h.failures = r.failures.min(16);
                h.resting_until = Some(now + retry::CAP);
                h.failed_at = Some(SystemTime::UNIX_EPOCH + Duration::from_millis(r.failed_at_ms));
            }
        }
    }

    /// Where a new lookup starts: always the first server, or round-robin with `rotate`.
    pub fn first(&self) -> usize {
        let n = self.len().max(1);
        if self.rotate {
            self.next_first.fetch_add(1, Ordering::Relaxed) % n
        } else {
            0
        }
    }

    /// How many servers there are.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// The next server a lookup that starts at `first` should ask among those not yet asked
    /// in its current round (`asked`), healthy ones in order before resting ones; `tries`
    /// counts the lookup's earlier tries per server, each doubling the wait.
    pub fn pick(&self, now: Instant, first: usize, asked: &[bool], tries: &[u32]) -> Pick {
        let mut health = self.lock();
        let n = health.len();
        let order = (0..n).map(|k| (first + k) % n).filter(|&i| !asked[i]);
        let mut wake: Option<Instant> = None;
        for i in order {
            let h = &mut health[i];
            // A probe whose lookup went away without news stops blocking after a while.
            let probe_ends = h.probe.map(|sent| sent + self.ceiling * 2);
            let probing = probe_ends.is_some_and(|end| now < end);
            let rested = h.resting_until.is_none_or(|t| t <= now);
            if rested && !probing {
                self.tries.fetch_add(1, Ordering::Relaxed);
                if h.failures > 0 {
                    h.probe = Some(now);
                }
                let base = match h.srtt {
                    Some(rtt) => (rtt * 4 + Duration::from_millis(20)).clamp(MIN_TRY, self.ceiling),
                    None => FIRST_TRY.min(self.ceiling),
                };
                let wait = base.saturating_mul(1 << tries[i].min(8)).min(self.ceiling);
                return Pick::Ask(i, wait);
            }
            let until = if probing { probe_ends } else { h.resting_until };
            if let Some(t) = until {
                wake = Some(wake.map_or(t, |w| w.min(t)));
            }
        }
        Pick::Wait(wake.unwrap_or(now))
    }

    /// A matching reply came from server `i` for a try sent at `sent`.
    pub fn answered(&self, i: usize, sent: Instant) {
        let now = Instant::now();
        let rtt = now.saturating_duration_since(sent);
        let mut health = self.lock();
        let h = &mut health[i];
        // RFC 6298's smoothing, without the variance: a guide for the next wait, no more.
        h.srtt = Some(match h.srtt {
            Some(s) => (s * 7 + rtt) / 8,
            None => rtt,
        });
        if h.failures > 0 {
            h.changed = Some(now);
        }
        h.failures = 0;
        h.failed_at = None;
        h.resting_until = None;
        h.probe = None;
    }

    /// A try sent to server `i` at `sent`, that waited `waited`, got no usable answer. Only
    /// news counts: many lookups' tries that went out together fail together, once.
    pub fn failed(&self, i: usize, sent: Instant, waited: Duration) {
        let now = Instant::now();
        let mut health = self.lock();
        let h = &mut health[i];
        let was_probe = h.probe == Some(sent);
        let news = h.changed.is_none_or(|c| sent >= c) || was_probe;
        if !news {
            return;
        }
        h.failures = h.failures.saturating_add(1);
        h.failed_at = Some(SystemTime::now());
        h.changed = Some(now);
        h.probe = None;
        h.resting_until = Some(rest_until(sent + waited, waited, h.failures));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Health>> {
        // A panic elsewhere cannot leave this state inconsistent: every update is one
        // assignment of plain values.
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// When a server that failed `failures` times in a row may be asked again. The gap (the
/// failed try's wait plus the backoff step) is jittered to 50–100 % and counted from when
/// the try was given up (`given_up`: sent plus its wait), so that hosts that lost their
/// resolver together come back spread over half the gap. Counted from when the try was
/// sent, as it once was, every draw below the try's own wait fell in the past and was
/// clamped to "now": 7 draws in 8 after a 2 s wait, which left a fleet's retries in waves
/// as narrow as the backoff step. The floor of half the gap is the one backoff policy's
/// (`retry::Backoff`): no server that just failed is asked again sooner than that.
fn rest_until(given_up: Instant, waited: Duration, failures: u32) -> Instant {
    let step = retry::INITIAL
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(retry::CAP);
    let gap = waited + step;
    let half = gap / 2;
    let jitter = Duration::from_nanos(retry::random_u64() % (half.as_nanos() as u64).max(1));
    given_up + half + jitter
}

/// Milliseconds since the Unix epoch (0 for a clock before it).
fn millis(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs() -> Vec<SocketAddr> {
        vec![
            "192.0.2.1:53".parse().unwrap(),
            "192.0.2.2:53".parse().unwrap(),
        ]
    }

    /// A server that failed in one run rests at the start of the next, and lookups go to the
    /// other; once it answers again it is forgotten.
    #[test]
    fn a_failure_outlives_the_run_that_saw_it() {
        let first = Servers::new(2, Duration::from_secs(2), false);
        first.failed(0, Instant::now(), Duration::from_secs(1));
        let rests = first.rests(&addrs());
        assert_eq!(rests.len(), 1, "{rests:?}");
        assert_eq!((rests[0].server, rests[0].failures), (addrs()[0], 1));
        let next = Servers::new(2, Duration::from_secs(2), false);
        let now = Instant::now();
        next.restore(&addrs(), &rests, now, SystemTime::now());
        assert_eq!(ask(next.pick(now, 0, &[false, false], &[0, 0])).0, 1);
        assert_eq!(next.progress(now).next_try, Some(now + retry::CAP));
        // What the next run saves keeps the failure's own time, not the restore's.
        assert_eq!(next.rests(&addrs()), rests);
        next.answered(0, Instant::now());
        assert!(next.rests(&addrs()).is_empty());
    }

    /// However many failures the file says, a restored rest lasts one backoff cap; a failure
    /// older than the horizon, or of a server no longer configured, is not used.
    #[test]
    fn a_stale_entry_keeps_a_server_out_one_backoff_cap_at_most() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let rest = |addr: SocketAddr, failed_at_ms| ServerRest {
            server: addr,
            failures: 40,
            failed_at_ms,
        };
        let recent = millis(wall) - 60_000;
        let future = millis(wall) + 86_400_000;
        for r in [rest(addrs()[0], recent), rest(addrs()[0], future)] {
            let s = Servers::new(2, Duration::from_secs(2), false);
            s.restore(&addrs(), std::slice::from_ref(&r), now, wall);
            let h = s.lock()[0].clone();
            assert_eq!(h.resting_until, Some(now + retry::CAP), "{r:?}");
            assert_eq!(h.failures, 16);
        }
        let old = millis(wall) - REMEMBERED_FOR.as_millis() as u64 - 1;
        for stale in [
            rest(addrs()[0], old),
            rest("192.0.2.9:53".parse().unwrap(), recent),
        ] {
            let s = Servers::new(2, Duration::from_secs(2), false);
            s.restore(&addrs(), std::slice::from_ref(&stale), now, wall);
            assert_eq!(s.lock()[0].resting_until, None, "{stale:?}");
            assert_eq!(s.lock()[1].resting_until, None, "{stale:?}");
        }
    }

    /// With every server resting there is nobody else to ask: nothing is restored.
    #[test]
    fn no_rest_is_restored_when_every_server_would_rest() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let rests: Vec<ServerRest> = addrs()
            .into_iter()
            .map(|server| ServerRest {
                server,
                failures: 1,
                failed_at_ms: millis(wall),
            })
            .collect();
        let s = Servers::new(2, Duration::from_secs(2), false);
        s.restore(&addrs(), &rests, now, wall);
        assert_eq!(ask(s.pick(now, 0, &[false, false], &[0, 0])).0, 0);
        assert_eq!(s.progress(now).tries, 1);
    }

    fn ask(p: Pick) -> (usize, Duration) {
        match p {
            Pick::Ask(i, d) => (i, d),
            Pick::Wait(_) => panic!("expected a server, got {p:?}"),
        }
    }

    #[test]
    fn a_failed_server_rests_and_the_next_lookups_go_elsewhere() {
        let s = Servers::new(2, Duration::from_secs(2), false);
        let t0 = Instant::now();
        assert_eq!(ask(s.pick(t0, 0, &[false, false], &[0, 0])).0, 0);
        s.failed(0, t0, Duration::from_secs(1));
        // Another lookup skips the resting first server.
        assert_eq!(
            ask(s.pick(Instant::now(), 0, &[false, false], &[0, 0])).0,
            1
        );
        // Once the second answered, its own round trip sets its wait.
        s.answered(1, Instant::now());
        let (i, wait) = ask(s.pick(Instant::now(), 0, &[false, false], &[0, 0]));
        assert_eq!(i, 1);
        assert!(wait < Duration::from_millis(500), "{wait:?}");
        // With both asked in this lookup's round, it waits for the first one's rest.
        assert!(matches!(
            s.pick(Instant::now(), 0, &[false, true], &[0, 1]),
            Pick::Wait(_)
        ));
    }

    #[test]
    fn tries_sent_together_fail_once() {
        let s = Servers::new(1, Duration::from_secs(2), false);
        let sent = Instant::now();
        for _ in 0..32 {
            s.failed(0, sent, Duration::from_secs(1));
        }
        assert_eq!(s.lock()[0].failures, 1);
    }

    #[test]
    fn one_lookup_probes_a_rested_server_the_others_wait() {
        let s = Servers::new(1, Duration::from_secs(2), false);
        let sent = Instant::now() - Duration::from_secs(60);
        s.failed(0, sent, Duration::from_secs(1));
        // The rest (from a minute ago) is over: the first lookup probes.
        let now = Instant::now();
        assert_eq!(ask(s.pick(now, 0, &[false], &[0])).0, 0);
        assert!(matches!(s.pick(now, 0, &[false], &[0]), Pick::Wait(_)));
        // The probe fails: news, though it was sent before nothing changed since.
        s.failed(0, now, Duration::from_secs(1));
        assert_eq!(s.lock()[0].failures, 2);
    }

    #[test]
    fn waits_double_per_try_up_to_the_ceiling() {
        let s = Servers::new(1, Duration::from_secs(2), false);
        let now = Instant::now();
        assert_eq!(ask(s.pick(now, 0, &[false], &[0])).1, FIRST_TRY);
        assert_eq!(
            ask(s.pick(now, 0, &[false], &[1])).1,
            Duration::from_secs(2)
        );
        assert_eq!(
            ask(s.pick(now, 0, &[false], &[5])).1,
            Duration::from_secs(2)
        );
    }

    /// Over many draws, as a try that waited 2 s fails: the rests (from when it was given
    /// up) fill the whole intended range, half the gap to the gap, rather than piling up on
    /// "now" as when they were counted from the send and clamped.
    #[test]
    fn the_whole_gap_is_jittered() {
        let sent = Instant::now();
        let waited = Duration::from_secs(2);
        let now = sent + waited;
        let gap = waited + retry::INITIAL;
        let (low, width) = (gap / 2, gap - gap / 2);
        const BINS: usize = 10;
        const DRAWS: usize = 4000;
        let mut bins = [0usize; BINS];
        for _ in 0..DRAWS {
            let rest = rest_until(now, waited, 1) - now;
            assert!(
                rest >= low && rest <= gap,
                "{rest:?} outside [{low:?}, {gap:?}]"
            );
            let at = (rest - low).as_secs_f64() / width.as_secs_f64();
            bins[((at * BINS as f64) as usize).min(BINS - 1)] += 1;
        }
        // Uniform over the range: every tenth of it gets a fair share (400 expected; the
        // chance of a bin under 250 is about 10^-15), none a pile-up.
        for (i, n) in bins.iter().enumerate() {
            assert!(
                (250..=550).contains(n),
                "tenth {i} of the range got {n}: {bins:?}"
            );
        }
    }
}
