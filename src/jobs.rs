//! One-shot jobs: which listed containers are jobs that finished, so they are not run again
//! until their record changes. A job counts as finished only on evidence that it ended by
//! itself with status 0: this run's watch saw it, or the engine's events show a `die` with
//! status 0 and no `kill` since its start. A service stopped by an operator, an engine
//! restart or a shutdown (a `kill` first, or no events left) is started again as before.

use crate::container::ContainerSpec;
use crate::desired::{Desired, HostList, WantedState};
use crate::docker::{Container, EngineCalls, Event, Since};
use std::collections::BTreeMap;

/// A job that finished with status 0, as the state remembers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobDone {
    /// The ownership label it ran with: its record text, as the engine's label holds it.
    pub identity: String,
    /// Its container's ID; `None` for a `--rm` job, whose container is gone.
    #[serde(default)]
    pub container: Option<String>,
    /// When it was found finished, in seconds since the epoch.
    pub finished_at: u64,
}

/// How a container's last run ended, as its events tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// Its exit status.
    pub exit_code: i64,
    /// Something stopped it: a `kill` (an operator's `docker stop`, an engine shutdown)
    /// came between its last start and its end.
    pub stopped: bool,
    /// The ownership label it ran with.
    pub owner: Option<String>,
}

impl Ending {
    /// Whether it ended by itself, successfully: a job that did its work.
    pub fn finished(&self) -> bool {
        self.exit_code == 0 && !self.stopped
    }
}

/// How the last run in `events` (oldest first) ended; `None` when no `die` is there.
pub fn ending(events: &[Event]) -> Option<Ending> {
    let die = events.iter().rposition(|e| e.action == "die")?;
    let start = events[..die].iter().rposition(|e| e.action == "start");
    let run = &events[start.map_or(0, |s| s + 1)..die];
    Some(Ending {
        exit_code: events[die].exit_code?,
        stopped: run.iter().any(|e| e.action == "kill"),
        owner: events[die]
            .owner
            .clone()
            .or_else(|| start.and_then(|s| events[s].owner.clone())),
    })
}

/// Whether the spec's restart policy leaves a container that exited 0 alone.
pub fn runs_once(spec: &ContainerSpec) -> bool {
    matches!(spec.restart_policy(), "" | "no" | "on-failure")
}

/// Whether `done` already says that the job of `name` with `identity` finished (in
/// `container`, or, for a `--rm` job, in a container that is gone).
pub fn is_done(
    done: &BTreeMap<String, JobDone>,
    name: &str,
    identity: &str,
    container: Option<&str>,
) -> bool {
    done.get(name)
        .is_some_and(|j| j.identity == identity && j.container.as_deref() == container)
}

/// Ask the engine's events about each listed job that stopped (or, `--rm`, is gone) and is
/// not known to be done yet; add those that finished to `done`.
pub fn check(
    engine: &dyn EngineCalls,
    desired: &Desired,
    actual: &[Container],
    done: &mut BTreeMap<String, JobDone>,
    jobs: usize,
) {
    let HostList::Listed(wanted) = &desired.list else {
        return;
    };
    // (name, identity, the container to ask about, its ID when it still exists)
    let mut asks: Vec<(&str, &str, &str, Option<&str>)> = Vec::new();
    for w in wanted {
        let WantedState::Spec { spec, .. } = &w.state else {
            continue;
        };
        let Some(identity) = spec.owner_label() else {
            continue;
        };
        match actual.iter().find(|c| c.name == w.name) {
            Some(c)
                if c.owner() == Some(identity)
                    && matches!(c.since, Since::Exited(0, _))
                    && runs_once(spec)
                    && !is_done(done, &w.name, identity, Some(&c.id)) =>
            {
                asks.push((&w.name, identity, &c.id, Some(&c.id)));
            }
            None if spec.auto_remove() && !is_done(done, &w.name, identity, None) => {
                asks.push((&w.name, identity, &w.name, None));
            }
            _ => {}
        }
    }
    if asks.is_empty() {
        return;
    }
    let found = crate::pool::map(&asks, jobs, |(name, identity, ask, id)| {
        let events = match engine.container_events(ask) {
            Ok(e) => e,
            Err(e) => {
                log::warn!("{name}: cannot read its events ({e}); taken as not finished");
                return None;
            }
        };
        let end = ending(&events)?;
        (end.finished() && end.owner.as_deref() == Some(*identity)).then(|| {
            (
                name.to_string(),
                JobDone {
                    identity: identity.to_string(),
                    container: id.map(str::to_string),
                    finished_at: now(),
                },
            )
        })
    });
    done.extend(found.into_iter().flatten());
}
/// Remember the jobs a run saw finish (`finished`: name, container ID, spec), and forget
/// those whose record is gone or changed. A record unreadable this run keeps its job: that
/// is no reason to run it again later.
pub fn remember<'a>(
    done: &mut BTreeMap<String, JobDone>,
    finished: impl Iterator<Item = (&'a str, &'a str, &'a ContainerSpec)>,
    desired: &Desired,
) {
    for (name, id, spec) in finished {
        if let Some(identity) = spec.owner_label() {
            done.insert(
                name.to_string(),
                JobDone {
                    identity: identity.to_string(),
                    container: (!spec.auto_remove()).then(|| id.to_string()),
                    finished_at: now(),
                },
            );
        }
    }
    if let HostList::Listed(wanted) = &desired.list {
        done.retain(|name, job| {
            wanted.iter().any(|w| {
                w.name == *name
                    && match &w.state {
                        WantedState::Spec { spec, .. } => {
                            spec.owner_label() == Some(job.identity.as_str())
                        }
                        WantedState::Invalid { .. } | WantedState::Unknown(_) => true,
                        WantedState::Disabled => false,
                    }
            })
        });
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(action: &str, exit_code: Option<i64>) -> Event {
        Event {
            action: action.into(),
            exit_code,
            owner: Some("L".into()),
            time_nanos: 0,
        }
    }

    #[test]
    fn how_a_run_ended() {
        let start = || ev("start", None);
        let kill = || ev("kill", None);
        let die = |c| ev("die", Some(c));
        let ended = |events: Vec<Event>| ending(&events).map(|e| (e.exit_code, e.stopped));
        assert_eq!(ended(vec![start(), die(0)]), Some((0, false)));
        assert_eq!(ended(vec![start(), die(3)]), Some((3, false)));
        // docker stop: a kill, then the service exits 0 on SIGTERM.
        assert_eq!(ended(vec![start(), kill(), die(0)]), Some((0, true)));
        // Stopped once long ago, started again, then it finished by itself.
        assert_eq!(
            ended(vec![start(), kill(), die(0), start(), die(0)]),
            Some((0, false))
        );
        // The start is no longer in the engine's buffer: the kill still is.
        assert_eq!(ended(vec![kill(), die(0)]), Some((0, true)));
        assert_eq!(ended(vec![die(0)]), Some((0, false)));
        // Running again, or never ended: no ending.
        assert_eq!(ended(vec![start()]), None);
        assert_eq!(ended(vec![]), None);
        assert_eq!(ended(vec![start(), ev("die", None)]), None);
        assert!(ending(&[start(), die(0)]).unwrap().finished());
        assert!(!ending(&[start(), kill(), die(0)]).unwrap().finished());
        assert!(!ending(&[start(), die(1)]).unwrap().finished());
    }

    #[test]
    fn the_owner_comes_from_the_die_or_its_start() {
        let mut start = ev("start", None);
        start.owner = Some("S".into());
        let mut die = ev("die", Some(0));
        die.owner = None;
        assert_eq!(
            ending(&[start.clone(), die]).unwrap().owner.as_deref(),
            Some("S")
        );
        let mut die = ev("die", Some(0));
        die.owner = Some("D".into());
        assert_eq!(ending(&[start, die]).unwrap().owner.as_deref(), Some("D"));
    }

    /// Seconds since the epoch by the wall clock, as the state records when a job finished.
    #[test]
    fn now_reads_the_wall_clock() {
        let secs = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        let before = secs();
        let n = now();
        assert!(before <= n && n <= secs(), "{before} {n}");
    }

    /// A run remembers the jobs it saw finish (a `--rm` job without its container, which is
    /// gone) and forgets those DNS no longer lists, disabled, or changed; a record it could
    /// not read or found invalid keeps its job, and so does a list it could not read.
    #[test]
    fn remember_adds_what_finished_and_forgets_what_dns_changed() {
        use crate::container::OWNER_LABEL;
        use crate::desired::Wanted;
        use std::sync::Arc;
        let spec = |identity: &str, rm: bool| {
            crate::container::tests::example(
                identity,
                serde_json::json!({
                    "Labels": {OWNER_LABEL: identity},
                    "HostConfig": {"AutoRemove": rm},
                }),
            )
        };
        let job = |identity: &str| JobDone {
            identity: identity.into(),
            container: Some(format!("c-{identity}")),
            finished_at: 1,
        };
        let listed = |state: WantedState, name: &str| Wanted {
            name: name.into(),
            state,
        };
        let record = |identity: &str| WantedState::Spec {
            record: "r".into(),
            spec: Arc::new(spec(identity, false)),
        };
        let desired = |list: HostList| Desired {
            host: "h".into(),
            walk: crate::walk::walk("h", &crate::walk::Bound::PublicSuffix).unwrap(),
            list_records: vec![],
            list,
        };
        let known: BTreeMap<String, JobDone> = crate::btree::map(
            [
                ("kept", job("K")),
                ("changed", job("old")),
                ("disabled", job("D")),
                ("unread", job("U")),
                ("invalid", job("I")),
                ("unlisted", job("X")),
            ]
            .into_iter()
            .map(|(n, j)| (n.to_string(), j)),
        );
        let list = HostList::Listed(vec![
            listed(record("K"), "kept"),
            listed(record("new"), "changed"),
            listed(WantedState::Disabled, "disabled"),
            listed(WantedState::Unknown("SERVFAIL".into()), "unread"),
            listed(
                WantedState::Invalid {
                    record: None,
                    text: None,
                    why: "bad".into(),
                },
                "invalid",
            ),
            listed(record("R"), "ran"),
            listed(record("M"), "rm"),
        ]);
        let (ran, rm) = (spec("R", false), spec("M", true));
        let unlabelled = crate::container::tests::example("x", serde_json::json!({}));
        let finished = [
            ("ran", "c-ran", &ran),
            ("rm", "c-rm", &rm),
            ("unlabelled", "c-x", &unlabelled),
        ];
        let mut done = known.clone();
        let before = now();
        remember(&mut done, finished.into_iter(), &desired(list));
        let names: Vec<&str> = done.keys().map(String::as_str).collect();
        assert_eq!(names, ["invalid", "kept", "ran", "rm", "unread"]);
        assert_eq!(done["kept"], job("K"));
        assert_eq!(done["ran"].identity, "R");
        assert_eq!(done["ran"].container.as_deref(), Some("c-ran"));
        assert_eq!(done["rm"].container, None, "a --rm job's container is gone");
        assert!(done["ran"].finished_at >= before, "{:?}", done["ran"]);
        // A list that could not be read is no reason to forget anything.
        let mut done = known.clone();
        let down = desired(HostList::Unavailable("SERVFAIL".into()));
        remember(&mut done, std::iter::empty(), &down);
        assert_eq!(done, known);
    }

    #[test]
    fn what_runs_once_and_what_is_done() {
        let spec = |policy: &str| {
            crate::container::tests::example(
                "t",
                serde_json::json!({"HostConfig": {"RestartPolicy": {"Name": policy}}}),
            )
        };
        for (policy, once) in [
            ("", true),
            ("no", true),
            ("on-failure", true),
            ("always", false),
            ("unless-stopped", false),
        ] {
            assert_eq!(runs_once(&spec(policy)), once, "{policy}");
        }
        let done: BTreeMap<String, JobDone> = [(
            "j".to_string(),
            JobDone {
                identity: "L".into(),
                container: Some("c1".into()),
                finished_at: 1,
            },
        )]
        .into();
        assert!(is_done(&done, "j", "L", Some("c1")));
        assert!(!is_done(&done, "j", "L", Some("c2")), "another container");
        assert!(!is_done(&done, "j", "M", Some("c1")), "another record");
        assert!(!is_done(&done, "j", "L", None), "not a --rm job's");
        assert!(!is_done(&done, "k", "L", Some("c1")));
    }
}
