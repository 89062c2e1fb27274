//! Whether a container the run started is verifiably up: the rules, a pure judgement of
//! the engine's own inspect document, and the watch that applies them to many containers
//! in one window. It reports; what a failure leads to (rollback, exit code) is apply's call.

use crate::docker::{EngineCalls, EngineError, Health, short_id};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How often a watched container is inspected.
const POLL: Duration = Duration::from_millis(250);
/// Lines of a failed container's output the report carries.
pub const LOG_LINES: usize = 10;
/// Docker's healthcheck defaults, for fields an inspect reports as 0.
const HEALTH_INTERVAL: Duration = Duration::from_secs(30);
const HEALTH_TIMEOUT: Duration = Duration::from_secs(30);
const HEALTH_RETRIES: u64 = 3;

/// What an inspect says about a started container.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// `State.Status`: `running`, `exited`, `restarting`, `dead`, `created`, `paused`.
    pub status: String,
    /// `State.ExitCode`.
    pub exit_code: i64,
    /// `RestartCount`: how often the engine restarted it.
    pub restarts: u64,
    /// `State.Health.Status`, when it has a healthcheck.
    pub health: Option<Health>,
    /// The last healthcheck's output, for a report.
    pub health_output: String,
    /// `HostConfig.RestartPolicy.Name` (`""`, `no`, `always`, `unless-stopped`, `on-failure`).
    pub restart_policy: String,
    /// The longest a healthcheck may take to reach a verdict: start period, then `retries`
    /// failed probes (interval plus timeout each), from its start.
    pub health_bound: Option<Duration>,
}

/// The verdict on one container at one moment.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Verified: it runs (and is healthy).
    Up,
    /// Verified: a one-shot job that exited 0 for good.
    Finished,
    /// It failed, and why.
    Failed(String),
    /// Not decided yet.
    Wait,
}

/// Read the facts that matter out of an inspect document.
pub fn observe(doc: &Value) -> Observed {
    let state = &doc["State"];
    let nanos = |v: &Value| Duration::from_nanos(v.as_u64().unwrap_or(0));
    let check = &doc["Config"]["Healthcheck"];
    let disabled = check["Test"]
        .as_array()
        .and_then(|t| t.first())
        .and_then(Value::as_str)
        == Some("NONE");
    let health_bound = (check.is_object() && !disabled).then(|| {
        let or = |d: Duration, default: Duration| if d.is_zero() { default } else { d };
        let interval = or(nanos(&check["Interval"]), HEALTH_INTERVAL);
        let timeout = or(nanos(&check["Timeout"]), HEALTH_TIMEOUT);
        let retries = match check["Retries"].as_u64() {
            Some(0) | None => HEALTH_RETRIES,
            Some(r) => r,
        };
        let probes = u32::try_from(retries + 1).unwrap_or(u32::MAX);
        nanos(&check["StartPeriod"]) + (interval + timeout).saturating_mul(probes)
    });
    let health_output = state["Health"]["Log"]
        .as_array()
        .and_then(|l| l.last())
        .and_then(|l| l["Output"].as_str())
        .unwrap_or("")
        .trim()
        .to_string();
    Observed {
        status: state["Status"].as_str().unwrap_or("").to_string(),
        exit_code: state["ExitCode"].as_i64().unwrap_or(0),
        restarts: doc["RestartCount"].as_u64().unwrap_or(0),
        health: state["Health"]["Status"].as_str().and_then(Health::parse),
        health_output,
        restart_policy: doc["HostConfig"]["RestartPolicy"]["Name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        health_bound,
    }
}

/// The judgement at one moment; `settled` once the settle window is over. `o.restarts`
/// counts the restarts since the watch began.
pub fn judge(o: &Observed, settled: bool) -> Verdict {
    let restarts = matches!(o.restart_policy.as_str(), "always" | "unless-stopped");
    match o.status.as_str() {
        "restarting" => Verdict::Failed(format!(
            "restarting: exited with status {} (restarted {} times)",
            o.exit_code, o.restarts
        )),
        // Running again: `ExitCode` was reset by the restart and says nothing of the crash.
        "running" | "paused" if o.restarts > 0 => Verdict::Failed(format!(
            "it exited and its restart policy ({}) restarted it {} times",
            o.restart_policy, o.restarts
        )),
        _ if o.restarts > 0 => Verdict::Failed(format!(
            "exited with status {} and was restarted {} times",
            o.exit_code, o.restarts
        )),
        "exited" if o.exit_code == 0 && !restarts => Verdict::Finished,
        "exited" if o.exit_code == 0 => Verdict::Failed(format!(
            "exited with status 0, but its restart policy ({}) restarts it",
            o.restart_policy
        )),
        "exited" => Verdict::Failed(format!("exited with status {}", o.exit_code)),
        "dead" => Verdict::Failed("dead (the engine could not stop or remove it)".into()),
        "running" | "paused" => match o.health {
            Some(Health::Unhealthy) if o.health_output.is_empty() => {
                Verdict::Failed("unhealthy".into())
            }
            Some(Health::Unhealthy) => Verdict::Failed(format!(
                "unhealthy (last check: {})",
                o.health_output.replace('\n', " ")
            )),
            Some(Health::Starting) => Verdict::Wait,
            _ if settled => Verdict::Up,
            _ => Verdict::Wait,
        },
        // `created`, `removing` or anything new: not up, and it will not get there by itself.
        other if settled => Verdict::Failed(format!("not running ({other})")),
        _ => Verdict::Wait,
    }
}

/// A container to watch, with what is known of it before the watch began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// Container ID.
    pub id: String,
    /// How long it had been up already: a kept container's time counts toward its window.
    pub up_before: Duration,
    /// Its restart count before the watch: 0 for a container just created; `None` takes the
    /// first inspect's, for one with a history (a restart long ago is not a crash loop now).
    pub restarts: Option<u64>,
}

impl Watched {
    /// A container this run created: every restart counts.
    pub fn created(id: &str) -> Watched {
        Watched {
            id: id.to_string(),
            up_before: Duration::ZERO,
            restarts: Some(0),
        }
    }

    /// A container that existed before the run, up for `up_before` so far.
    pub fn existing(id: &str, up_before: Duration) -> Watched {
        Watched {
            id: id.to_string(),
            up_before,
            restarts: None,
        }
    }
}

/// How a watched container passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Up {
    /// It runs (and is healthy, if it has a healthcheck).
    Running,
    /// A one-shot job that exited with status 0, which nothing restarts.
    Finished,
    /// It removed itself (`--rm`) and the engine no longer says how it exited.
    Vanished,
}

/// Why a container failed verification, with its last output.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The verdict's reason, with how long it was watched.
    pub reason: String,
    /// Its last lines of output (empty when there were none or they could not be read).
    pub output: String,
    /// Whether the container itself failed; `false` when the engine could not be asked
    /// (then the container is no evidence against its version).
    pub judged: bool,
    /// The engine could not be reached or did not answer in time while it was watched: the
    /// engine is unavailable (69), not the container failing (73).
    pub engine_lost: bool,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.reason)?;
        let lines: Vec<&str> = self.output.lines().filter(|l| !l.is_empty()).collect();
        if !lines.is_empty() {
            write!(f, "; its last output:")?;
            for l in lines {
                write!(f, "\n    | {l}")?;
            }
        }
        Ok(())
    }
}

/// Watch `targets` together until each is decided: one settle window for all of them,
/// whatever `deadline` says, longer only for a healthcheck still starting (within its own
/// bound and `deadline`). Zero `settle` verifies nothing.
pub fn watch(
    engine: &dyn EngineCalls,
    targets: &[Watched],
    settle: Duration,
    deadline: Instant,
) -> Vec<Result<Up, Failure>> {
    if settle.is_zero() {
        return targets.iter().map(|_| Ok(Up::Running)).collect();
    }
    let mut results: Vec<Option<Result<Up, Failure>>> = vec![None; targets.len()];
    let mut baselines: Vec<Option<u64>> = targets.iter().map(|t| t.restarts).collect();
    let started = engine.now();
    loop {
        for ((target, slot), baseline) in targets.iter().zip(&mut results).zip(&mut baselines) {
            if slot.is_some() {
                continue;
            }
            let id = target.id.as_str();
            // Taken before the inspect, so the facts are at least this old: with many
            // containers a pass takes a while, and a clock read once a pass would fail one
            // not yet judged settled for outliving its window.
            let lived = target.up_before + engine.now().saturating_duration_since(started);
            let fail = |reason: String| {
                Some(Err(Failure {
                    reason: format!("{reason}, within {:.1}s of its start", lived.as_secs_f64()),
                    output: engine.logs(id, LOG_LINES).unwrap_or_default(),
                    judged: true,
                    engine_lost: false,
                }))
            };
            *slot = match engine.inspect(id) {
                Ok(doc) => {
                    let mut o = observe(&doc);
                    let before = *baseline.get_or_insert(o.restarts);
                    o.restarts = o.restarts.saturating_sub(before);
                    match decide(&o, lived, settle, engine.now() >= deadline) {
                        Verdict::Up => Some(Ok(Up::Running)),
                        Verdict::Finished => Some(Ok(Up::Finished)),
                        Verdict::Failed(why) => fail(why),
                        Verdict::Wait => None,
                    }
                }
                // Gone: a `--rm` container removes itself when it exits; its `die` event
                // still says how.
                Err(EngineError::Api { status: 404, .. }) => {
                    let ended = engine.container_events(id).map(|e| crate::jobs::ending(&e));
                    match ended {
                        Ok(Some(end)) if end.finished() => Some(Ok(Up::Finished)),
                        Ok(Some(end)) if end.exit_code != 0 => Some(Err(Failure {
                            reason: format!(
                                "exited with status {} and removed itself (--rm), within {:.1}s of its start",
                                end.exit_code,
                                lived.as_secs_f64()
                            ),
                            output: String::new(),
                            judged: true,
                            engine_lost: false,
                        })),
                        unknown => {
                            log::warn!(
                                "{}: removed itself while watched (--rm?); its exit status is unknown{}",
                                short_id(id),
                                unknown.err().map(|e| format!(" ({e})")).unwrap_or_default()
                            );
                            Some(Ok(Up::Vanished))
                        }
                    }
                }
                // The engine, not the container: ask again, until the window is long over.
                Err(e)
                    if engine.now().saturating_duration_since(started) < settle * 2
                        && engine.now() < deadline =>
                {
                    log::warn!("{}: inspect failed while watching it: {e}", short_id(id));
                    None
                }
                Err(e) => Some(Err(Failure {
                    reason: format!("could not be watched: {e}"),
                    output: String::new(),
                    judged: false,
                    engine_lost: e.is_unavailable(),
                })),
            };
        }
        if results.iter().all(Option::is_some) {
            return results.into_iter().flatten().collect();
        }
        engine.pause(POLL);
    }
}

/// The verdict on a container watched for `lived` of its `settle` window: [`judge`], and a
/// wait that has gone on too long is a failure.
pub fn decide(o: &Observed, lived: Duration, settle: Duration, past_deadline: bool) -> Verdict {
    let settled = lived >= settle;
    match judge(o, settled) {
        Verdict::Wait => match o.health_bound {
            Some(bound) if lived >= bound.max(settle) => Verdict::Failed(format!(
                "health still {} after its healthcheck's bound",
                o.health.map_or("unreported", Health::as_str)
            )),
            // The settle window is every container's due, even late in a run that waited
            // long for DNS; only a wait beyond it for a healthcheck is bounded by the run's
            // deadline.
            _ if settled && past_deadline => {
                Verdict::Failed("not verified up within --timeout".to_string())
            }
            _ => Verdict::Wait,
        },
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(status: &str, exit: i64, restarts: u64, policy: &str, health: Option<&str>) -> Value {
        let mut d = json!({
            "State": {"Status": status, "ExitCode": exit},
            "RestartCount": restarts,
            "HostConfig": {"RestartPolicy": {"Name": policy}},
            "Config": {},
        });
        if let Some(h) = health {
            d["State"]["Health"] = json!({"Status": h, "Log": [{"Output": "curl: refused\n"}]});
            d["Config"]["Healthcheck"] = json!({
                "Test": ["CMD", "true"], "Interval": 2_000_000_000u64,
                "Timeout": 1_000_000_000u64, "StartPeriod": 5_000_000_000u64, "Retries": 2,
            });
        }
        d
    }

    #[test]
    fn the_rules() {
        use Verdict::*;
        let failed = |s: &str| Failed(s.to_string());
        let cases: Vec<(Value, bool, Verdict)> = vec![
            (doc("running", 0, 0, "no", None), false, Wait),
            (doc("running", 0, 0, "no", None), true, Up),
            (doc("running", 0, 0, "always", Some("starting")), true, Wait),
            (doc("running", 0, 0, "always", Some("healthy")), false, Wait),
            (doc("running", 0, 0, "always", Some("healthy")), true, Up),
            (
                doc("running", 0, 0, "no", Some("unhealthy")),
                false,
                failed("unhealthy (last check: curl: refused)"),
            ),
            // A one-shot job that did its work.
            (doc("exited", 0, 0, "no", None), false, Finished),
            (doc("exited", 0, 0, "", None), false, Finished),
            (doc("exited", 0, 0, "on-failure", None), false, Finished),
            (
                doc("exited", 0, 0, "always", None),
                false,
                failed("exited with status 0, but its restart policy (always) restarts it"),
            ),
            (
                doc("exited", 1, 0, "no", None),
                false,
                failed("exited with status 1"),
            ),
            (
                doc("restarting", 3, 1, "always", None),
                false,
                failed("restarting: exited with status 3 (restarted 1 times)"),
            ),
            // Running again after restarts: its exit status is gone, and not made up.
            (
                doc("running", 0, 2, "always", None),
                true,
                failed("it exited and its restart policy (always) restarted it 2 times"),
            ),
            (
                doc("exited", 3, 2, "on-failure", None),
                true,
                failed("exited with status 3 and was restarted 2 times"),
            ),
            (
                doc("dead", 0, 0, "no", None),
                false,
                failed("dead (the engine could not stop or remove it)"),
            ),
            (doc("created", 0, 0, "no", None), false, Wait),
            (
                doc("created", 0, 0, "no", None),
                true,
                failed("not running (created)"),
            ),
        ];
        for (d, settled, want) in cases {
            assert_eq!(judge(&observe(&d), settled), want, "{d} settled={settled}");
        }
        // A healthcheck that said nothing: no empty quote.
        let mut silent = doc("running", 0, 0, "no", Some("unhealthy"));
        silent["State"]["Health"]["Log"] = json!([]);
        assert_eq!(judge(&observe(&silent), true), failed("unhealthy"));
    }

    #[test]
    fn the_health_bound_follows_the_healthcheck() {
        let o = observe(&doc("running", 0, 0, "no", Some("starting")));
        // start period 5 s + (2 s + 1 s) × (2 retries + 1)
        assert_eq!(o.health_bound, Some(Duration::from_secs(14)));
        assert_eq!(
            observe(&doc("running", 0, 0, "no", None)).health_bound,
            None
        );
        let mut defaults = doc("running", 0, 0, "no", Some("starting"));
        defaults["Config"]["Healthcheck"] = json!({"Test": ["CMD", "true"]});
        assert_eq!(
            observe(&defaults).health_bound,
            Some(Duration::from_secs(60 * 4))
        );
        defaults["Config"]["Healthcheck"] = json!({"Test": ["NONE"]});
        assert_eq!(observe(&defaults).health_bound, None);
    }

    #[test]
    fn a_wait_fails_only_past_its_bound() {
        use Verdict::*;
        let s = Duration::from_secs;
        let settle = s(3);
        let plain = observe(&doc("running", 0, 0, "no", None));
        // Running, no healthcheck: waits until the window is over, then it is up, however
        // late the facts arrive.
        assert_eq!(decide(&plain, s(2), settle, false), Wait);
        assert_eq!(decide(&plain, s(3), settle, false), Up);
        assert_eq!(decide(&plain, s(9), settle, true), Up);
        let created = observe(&doc("created", 0, 0, "no", None));
        assert_eq!(decide(&created, s(2), settle, true), Wait);
        assert_eq!(
            decide(&created, s(3), settle, false),
            Failed("not running (created)".into())
        );
        // A healthcheck still starting: waited for up to its bound (5 + 3 × 3 = 14 s), and
        // beyond the window only until the deadline.
        let starting = observe(&doc("running", 0, 0, "no", Some("starting")));
        assert_eq!(decide(&starting, s(10), settle, false), Wait);
        assert_eq!(
            decide(&starting, s(10), settle, true),
            Failed("not verified up within --timeout".into())
        );
        assert_eq!(
            decide(&starting, s(14), settle, false),
            Failed("health still starting after its healthcheck's bound".into())
        );
    }

    #[test]
    fn a_failure_reads_with_its_output() {
        let f = Failure {
            reason: "exited with status 3, within 0.3s of its start".into(),
            output: "starting\n\nbroken: no config\n".into(),
            judged: true,
            engine_lost: false,
        };
        assert_eq!(
            f.to_string(),
            "exited with status 3, within 0.3s of its start; its last output:\n    | starting\n    | broken: no config"
        );
    }
}
