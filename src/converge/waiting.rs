//! The waits before a run knows what DNS says: for a host name that is an identity (the
//! kernel's may be a placeholder early in boot), and for the records, during which systemd
//! is told what the run waits for (`STATUS=`) and, once DNS has been silent for
//! `--offline-after`, the last converged state is started (the [`crate::offline`] rules,
//! run through `apply`) and systemd told the host is ready. It never converges: only the
//! records do, once they come.

use super::Setup;
use super::engine::{EARLY_LIST_FRESH, EarlyEngine, EngineRead};
use crate::cli::{Command, Options};
use crate::context::{self, Records};
use crate::desired::{self, Desired, HostList};
use crate::exit::{Code, Stop};
use crate::plan::Plan;
use crate::retry::Backoff;
use crate::state::Converged;
use crate::{apply, notify, offline, report};
use std::time::{Duration, Instant, SystemTime};

/// How often the status line is brought up to date while DNS is asked.
const TICK: Duration = Duration::from_millis(100);

/// Kernel host names that say no name was given yet: not an identity to ask DNS for.
const PLACEHOLDERS: [&str; 4] = ["localhost", "localhost.localdomain", "", "(none)"];

/// Whether the kernel's host name `raw` is a placeholder, not yet the host's name.
pub fn is_placeholder(raw: &str) -> bool {
    let name = raw.trim().trim_end_matches('.');
    PLACEHOLDERS.iter().any(|p| name.eq_ignore_ascii_case(p))
}

/// The host's identity: `--hostname` as given, else the kernel's name once it is one. A
/// placeholder is waited out, the kernel's name read again before every try, until
/// `deadline` (75: a name may still come; 66 would say the host is not configured).
pub fn host(o: &Options, deadline: Instant) -> Result<String, Stop> {
    if o.hostname.is_some() {
        return context::host(o);
    }
    let mut backoff = Backoff::until(deadline);
    let started = Instant::now();
    loop {
        // Unreadable is a configuration problem (78), which context::host reports.
        let Ok(raw) = std::fs::read_to_string("/proc/sys/kernel/hostname") else {
            return context::host(o);
        };
        let raw = raw.trim();
        if !is_placeholder(raw) {
            if backoff.attempts() > 0 {
                log::info!("the kernel host name is now {raw}");
            }
            return context::host(o);
        }
        if backoff.attempts() == 0 {
            log::warn!(
                "the kernel host name is {raw:?}, a placeholder: waiting for the real one (or set --hostname)"
            );
        }
        notify::status(&format!(
            "waiting {:.0}s for a host name: the kernel's is {raw:?}, a placeholder",
            started.elapsed().as_secs_f64()
        ));
        if !backoff.wait() {
            return Err(Stop::new(
                Code::TempFail,
                format!(
                    "the kernel host name is still {raw:?}, a placeholder: no identity to ask DNS for; set the host name (or --hostname)"
                ),
            ));
        }
    }
}

/// Where the engine stands once the records are read.
pub enum EngineSoFar {
    /// Still being read on its own thread (or not started: a tcp host DNS must name).
    Early(Option<EarlyEngine>),
    /// Read (and used) by the offline start.
    Read(Box<Result<EngineRead, Stop>>),
}

/// What an offline start did.
pub struct Offline {
    /// What the report shows of it.
    pub report: report::Offline,
    /// Its starts, as applied.
    pub outcomes: Vec<apply::Outcome>,
}

/// The splay, then the records, while the status line says what the run waits for and the
/// last converged state is started if DNS stays silent for `--offline-after`.
pub fn read_desired(
    o: &Options,
    s: &Setup,
    early: Option<EarlyEngine>,
) -> (Desired, EngineSoFar, Option<Offline>) {
    if !s.splay.is_zero() {
        let line = format!(
            "waiting {:.1}s (splay, at most {:.1}s) before the first query",
            s.splay.as_secs_f64(),
            o.splay.as_secs_f64()
        );
        log::info!("{line}");
        notify::status(&line);
        std::thread::sleep(s.splay);
    }
    let parse = s.rules.parser();
    let dns_started = Instant::now();
    let converged = s
        .state
        .converged
        .as_ref()
        .filter(|_| o.command == Command::Apply);
    let mut offline_at =
        converged.and_then(|_| (!o.offline_after.is_zero()).then(|| dns_started + o.offline_after));
    let mut engine = EngineSoFar::Early(early);
    let mut offline: Option<Offline> = None;
    let desired = std::thread::scope(|scope| {
        let reading = scope
            .spawn(|| desired::read(s.records.source(), &s.walk, &o.prefix, o.inherit, &parse));
        while !reading.is_finished() {
            if let (Some(at), Some(c)) = (offline_at, converged)
                && Instant::now() >= at
                && let EngineSoFar::Early(Some(early)) = &mut engine
                && let Some(read) = early.poll()
            {
                offline_at = None;
                offline = match read {
                    Ok(mut read) => {
                        let started = start_offline(o, s, c, &mut read, &parse);
                        engine = EngineSoFar::Read(Box::new(Ok(read)));
                        started
                    }
                    Err(stop) => {
                        log::warn!("no offline start: {}", stop.why);
                        engine = EngineSoFar::Read(Box::new(Err(stop)));
                        None
                    }
                };
            }
            notify::status(&status_line(o, s, dns_started, offline_at, &offline));
            std::thread::sleep(TICK);
        }
        reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    log::debug!("DNS phase took {:.3}s", dns_started.elapsed().as_secs_f64());
    super::log_desired(&desired);
    if let HostList::Unavailable(why) = &desired.list {
        log::error!("the container list is unavailable: {why}");
    }
    (desired, engine, offline)
}

/// Start what the last converged state lists and the engine has stopped, through `apply`;
/// tell systemd the host is ready when every container of the state is verified up.
fn start_offline(
    o: &Options,
    s: &Setup,
    converged: &Converged,
    read: &mut EngineRead,
    parse: desired::Parser<'_>,
) -> Option<Offline> {
    if read.at.elapsed() > EARLY_LIST_FRESH
        && let Err(stop) = read.read_again(o, &s.settings)
    {
        log::warn!("no offline start: {}", stop.why);
        return None;
    }
    let since = unix_secs(SystemTime::now());
    let plan = offline::plan(converged, &read.recovery.view, parse);
    for (name, why) in &plan.refused {
        log::warn!("{name}: not started from the last converged state: {why}");
    }
    let outcomes = apply::execute(
        &Plan::unordered(plan.steps(), Code::Ok),
        &read.engine,
        &s.settings,
        &read.repairs,
    );
    let failed = outcomes.iter().filter(|x| x.failed()).count();
    let report = report::Offline {
        since,
        converged_at: converged.at,
        started: outcomes.len() - failed,
        up: plan.up.len(),
        refused: plan.refused.len() + failed,
        ready: plan.complete() && failed == 0,
    };
    let line = format!(
        "DNS silent for {:.0}s: {}",
        o.offline_after.as_secs_f64(),
        report.line()
    );
    log::warn!("{line}");
    if report.ready {
        notify::ready(&line);
    }
    Some(Offline { report, outcomes })
}

/// What the run waits for, for `systemctl status`: the tries, the next one, the servers,
/// and where the last converged state stands.
fn status_line(
    o: &Options,
    s: &Setup,
    dns_started: Instant,
    offline_at: Option<Instant>,
    offline: &Option<Offline>,
) -> String {
    let now = Instant::now();
    let mut line = format!(
        "waiting {:.0}s for DNS",
        now.duration_since(dns_started).as_secs_f64()
    );
    if let Records::Dns(r) = &s.records {
        let p = r.progress();
        line += &format!(" ({}): {} tries", r.server_list(), p.tries);
        if let Some(next) = p.next_try {
            line += &format!(", next in {:.0}s", next.duration_since(now).as_secs_f64());
        }
    }
    line += "; ";
    line += &match (offline, offline_at, &s.state.converged) {
        (Some(off), _, _) => off.report.line(),
        (None, Some(at), _) => format!(
            "last converged state not started (offline start in {:.0}s)",
            at.saturating_duration_since(now).as_secs_f64()
        ),
        (None, None, Some(_)) if o.offline_after.is_zero() => {
            "last converged state not started (--offline-after 0s)".into()
        }
        (None, None, Some(_)) => "last converged state not started".into(),
        (None, None, None) => "no last converged state to start".into(),
    };
    line
}

/// Seconds since the Unix epoch.
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_not_identities() {
        for raw in [
            "localhost",
            "LOCALHOST",
            "localhost.localdomain",
            "localhost.",
            "",
            "  ",
            "(none)",
            "localhost\n",
        ] {
            assert!(is_placeholder(raw), "{raw:?}");
        }
        for raw in ["node1", "localhost1", "web.localhost.example", "none"] {
            assert!(!is_placeholder(raw), "{raw:?}");
        }
    }
}
