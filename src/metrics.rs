//! The run's outcome for a fleet's monitoring: the Prometheus text format that
//! node_exporter's textfile collector reads (`--metrics-file`), rendered from the report's
//! data, and its atomic write. Rendering is pure; the one memory it needs (when the last
//! success was) is read back from the file it replaces. Decides nothing about the run.

use crate::apply::{Outcome, StepResult};
use crate::plan::{Action, Plan, Step};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every series name starts with this.
pub const PREFIX: &str = "docker_dns_provision";

/// The states a container is reported in, one series each (1 for its state, 0 otherwise),
/// so an alert can select one (`state="held_back"`) without knowing the others.
pub const STATES: [&str; 5] = ["up", "pending", "failed", "held_back", "left"];

/// What the steps of a run did (or, for `plan`, would do): counts by action and result, and
/// each container's state at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// (action verb, result) → how many steps.
    pub actions: BTreeMap<(String, String), usize>,
    /// Container name → one of [`STATES`].
    pub containers: BTreeMap<String, &'static str>,
}

impl Tally {
    /// The tally of a `plan` (outcomes `None`) or an `apply`.
    pub fn of(plan: &Plan, outcomes: Option<&[Outcome]>) -> Tally {
        let rows: Vec<(&Step, Option<&StepResult>)> = match outcomes {
            Some(o) => o.iter().map(|o| (&o.step, Some(&o.result))).collect(),
            None => plan.steps.iter().map(|s| (s, None)).collect(),
        };
        let mut t = Tally::default();
        for (step, result) in rows {
            let word = match result {
                None => "planned",
                Some(StepResult::Done) => "done",
                Some(StepResult::Skipped(_)) => "skipped",
                Some(StepResult::Failed(_)) => "failed",
            };
            *t.actions
                .entry((step.action.verb().to_string(), word.to_string()))
                .or_default() += 1;
            if let Some(state) = state(&step.action, result) {
                t.containers.insert(step.name.clone(), state);
            } else if matches!(step.action, Action::Remove { .. }) {
                t.containers.remove(&step.name);
            }
        }
        t
    }
}

/// A container's state after a step (the last one of its name wins); `None` for steps that
/// say nothing about the container the name ends with (repairs, removals).
fn state(action: &Action, result: Option<&StepResult>) -> Option<&'static str> {
    match (action, result) {
        (Action::RenameBack { .. } | Action::Discard { .. } | Action::Remove { .. }, _) => None,
        (Action::HeldBack { .. }, _) => Some("held_back"),
        (Action::Leave { .. }, _) => Some("left"),
        (_, Some(StepResult::Failed(_) | StepResult::Skipped(_))) => Some("failed"),
        (Action::Keep { .. } | Action::Finished { .. }, _) => Some("up"),
        (_, Some(StepResult::Done)) => Some("up"),
        (_, None) => Some("pending"),
    }
}

/// One run, as the metrics file reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Run {
    /// `apply` or `plan`.
    pub command: String,
    /// The exit status.
    pub exit_status: u8,
    /// Whether the run succeeded (0; for `plan`, also 2: changes pending).
    pub success: bool,
    /// When it ended, in seconds since the epoch.
    pub finished: f64,
    /// How long it took.
    pub took: Duration,
    /// What its steps did.
    pub tally: Tally,
    /// Images removed by `--prune-images`.
    pub images_pruned: usize,
    /// Further gauges, `(name without the prefix, help, value)`: a new fact is one line
    /// where the run knows it.
    pub gauges: Vec<(&'static str, &'static str, f64)>,
}

/// A series family being written: its HELP and TYPE lines once, then its samples.
struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        self.0 += &format!("# HELP {PREFIX}_{name} {help}\n# TYPE {PREFIX}_{name} {kind}\n");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect();
        let labels = match labels.is_empty() {
            true => String::new(),
            false => format!("{{{}}}", labels.join(",")),
        };
        self.0 += &format!("{PREFIX}_{name}{labels} {value}\n");
    }
}

/// A label value as the text format quotes it: backslash, double quote and newline escaped.
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The metrics file's text for `run`; `last_success` is the time of the last successful
/// run of the same command before this one, if any (kept across failed runs).
pub fn render(run: &Run, last_success: Option<f64>) -> String {
    let mut o = Out(String::new());
    let cmd = [("command", run.command.as_str())];
    o.family(
        "last_run_timestamp_seconds",
        "gauge",
        "When the last run ended, in seconds since the epoch.",
    );
    o.sample("last_run_timestamp_seconds", &cmd, run.finished);
    let last_success = match run.success {
        true => Some(run.finished),
        false => last_success,
    };
    if let Some(t) = last_success {
        o.family(
            "last_success_timestamp_seconds",
            "gauge",
            "When the last successful run ended (exit status 0; plan: 0 or 2), in seconds since the epoch.",
        );
        o.sample("last_success_timestamp_seconds", &cmd, t);
    }
    o.family(
        "exit_status",
        "gauge",
        "The last run's exit status (see docker-dns-provision(8)).",
    );
    o.sample("exit_status", &cmd, f64::from(run.exit_status));
    o.family(
        "run_duration_seconds",
        "gauge",
        "How long the last run took.",
    );
    o.sample("run_duration_seconds", &cmd, run.took.as_secs_f64());
    o.family(
        "actions",
        "gauge",
        "The last run's steps, by action and result (plan: planned).",
    );
    for ((action, result), n) in &run.tally.actions {
        o.sample(
            "actions",
            &[("action", action), ("result", result)],
            *n as f64,
        );
    }
    o.family(
        "container_state",
        "gauge",
        "Each container's state after the last run: 1 for its state, 0 for the others.",
    );
    for (name, now) in &run.tally.containers {
        for s in STATES {
            let v = if s == *now { 1.0 } else { 0.0 };
            o.sample("container_state", &[("container", name), ("state", s)], v);
        }
    }
    o.family(
        "images_pruned",
        "gauge",
        "Images the last run removed (--prune-images).",
    );
    o.sample("images_pruned", &[], run.images_pruned as f64);
    for (name, help, value) in &run.gauges {
        o.family(name, "gauge", help);
        o.sample(name, &[], *value);
    }
    o.0
}

/// The last success of `command` that a metrics file written before says.
pub fn last_success(previous: &str, command: &str) -> Option<f64> {
    let series = format!(
        "{PREFIX}_last_success_timestamp_seconds{{command=\"{}\"}} ",
        escape(command)
    );
    previous
        .lines()
        .find_map(|l| l.strip_prefix(&series))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|t| t.is_finite())
}

/// The largest metrics file read back: ours stays far smaller.
const MAX_BYTES: u64 = 4 << 20;

/// Write the run's metrics to `path` atomically (a temporary file in the same directory,
/// fsync, rename), readable by node_exporter's own user.
pub fn write(path: &Path, run: &Run) -> Result<(), String> {
    let previous = crate::bounded_read::regular_file(path, MAX_BYTES)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let text = render(run, last_success(&previous, &run.command));
    let tmp = temporary_path(path)?;
    let written = write_synced(&tmp, text.as_bytes()).and_then(|()| {
        std::fs::rename(&tmp, path).map_err(|e| format!("cannot rename into place: {e}"))
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("metrics file {}: {e}", path.display()));
    }
    Ok(())
}

/// A temporary in the same directory (so the rename is atomic) whose name node_exporter
/// ignores (it reads `*.prom` only).
fn temporary_path(path: &Path) -> Result<PathBuf, String> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("metrics file {}: names no file", path.display()))?;
    Ok(path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Create `path` (never through a link), write `body`, make it world-readable, fsync.
fn write_synced(path: &Path, body: &[u8]) -> Result<(), String> {
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| e.to_string())?;
    // The units' umask (0077) would leave it unreadable to node_exporter's user.
    f.set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(|e| e.to_string())?;
    f.write_all(body).map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::StepFailure;
    use crate::exit::Code;
    use crate::plan::Existing;

    fn step(name: &str, action: Action) -> Step {
        Step::new(name, action, "r")
    }

    fn e() -> Existing {
        Existing::default()
    }

    fn run(tally: Tally, success: bool) -> Run {
        Run {
            command: "apply".into(),
            exit_status: if success { 0 } else { 73 },
            success,
            finished: 1_700_000_000.5,
            took: Duration::from_millis(1250),
            tally,
            images_pruned: 2,
            gauges: vec![("offline", "Ran from the last converged state.", 1.0)],
        }
    }

    #[test]
    fn each_container_ends_in_one_state_and_actions_are_counted_by_result() {
        let outcomes = |s: Step, r: StepResult| Outcome {
            step: s,
            result: r,
            finished: None,
        };
        let o = vec![
            outcomes(step("a", Action::Keep { existing: e() }), StepResult::Done),
            outcomes(
                step("b", Action::Start { existing: e() }),
                StepResult::Failed(StepFailure::of("x")),
            ),
            outcomes(
                step(
                    "c",
                    Action::HeldBack {
                        existing: None,
                        failed: e(),
                    },
                ),
                StepResult::Done,
            ),
            outcomes(
                step("d", Action::Leave { existing: None }),
                StepResult::Done,
            ),
            outcomes(step("e", Action::RenameBack { old: e() }), StepResult::Done),
            outcomes(step("e", Action::Start { existing: e() }), StepResult::Done),
            outcomes(
                step("f", Action::Remove { existing: e() }),
                StepResult::Done,
            ),
        ];
        let plan = Plan::unordered(Vec::new(), Code::Ok);
        let t = Tally::of(&plan, Some(&o));
        let states: Vec<(&str, &str)> = t.containers.iter().map(|(k, v)| (&k[..], *v)).collect();
        assert_eq!(
            states,
            [
                ("a", "up"),
                ("b", "failed"),
                ("c", "held_back"),
                ("d", "left"),
                ("e", "up")
            ]
        );
        assert_eq!(t.actions[&("start".into(), "failed".into())], 1);
        assert_eq!(t.actions[&("start".into(), "done".into())], 1);
        assert_eq!(t.actions[&("remove".into(), "done".into())], 1);
        // A plan's steps are planned, and what it would change is pending.
        let plan = Plan::unordered(
            vec![
                step("a", Action::Keep { existing: e() }),
                step("b", Action::Start { existing: e() }),
            ],
            Code::Ok,
        );
        let t = Tally::of(&plan, None);
        assert_eq!(t.containers["a"], "up");
        assert_eq!(t.containers["b"], "pending");
        assert_eq!(t.actions[&("start".into(), "planned".into())], 1);
    }

    #[test]
    fn the_text_format_has_help_type_units_and_escaped_labels() {
        let mut t = Tally::default();
        t.containers.insert("we\"ird\\n\name".into(), "held_back");
        t.actions.insert(("keep".into(), "done".into()), 3);
        let text = render(&run(t, true), None);
        let want = [
            "# HELP docker_dns_provision_last_run_timestamp_seconds ",
            "# TYPE docker_dns_provision_last_run_timestamp_seconds gauge\n",
            "docker_dns_provision_last_run_timestamp_seconds{command=\"apply\"} 1700000000.5\n",
            "docker_dns_provision_last_success_timestamp_seconds{command=\"apply\"} 1700000000.5\n",
            "docker_dns_provision_exit_status{command=\"apply\"} 0\n",
            "docker_dns_provision_run_duration_seconds{command=\"apply\"} 1.25\n",
            "docker_dns_provision_actions{action=\"keep\",result=\"done\"} 3\n",
            "docker_dns_provision_container_state{container=\"we\\\"ird\\\\n\\name\",state=\"held_back\"} 1\n",
            "docker_dns_provision_container_state{container=\"we\\\"ird\\\\n\\name\",state=\"up\"} 0\n",
            "docker_dns_provision_images_pruned 2\n",
            "# TYPE docker_dns_provision_offline gauge\ndocker_dns_provision_offline 1\n",
        ];
        for w in want {
            assert!(text.contains(w), "{w:?} not in\n{text}");
        }
        // Every sample line follows its family's HELP and TYPE.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            assert!(text.contains(&format!("# TYPE {name} gauge")), "{l}");
        }
    }

    #[test]
    fn the_last_success_is_kept_across_failed_runs() {
        let ok = render(&run(Tally::default(), true), None);
        assert_eq!(last_success(&ok, "apply"), Some(1_700_000_000.5));
        assert_eq!(last_success(&ok, "plan"), None);
        let mut failed = run(Tally::default(), false);
        failed.finished = 1_700_000_100.0;
        let text = render(&failed, last_success(&ok, "apply"));
        assert!(text.contains("docker_dns_provision_exit_status{command=\"apply\"} 73\n"));
        assert_eq!(last_success(&text, "apply"), Some(1_700_000_000.5));
        // Never a success yet: no series, so `absent()` tells.
        let text = render(&failed, None);
        assert!(!text.contains("last_success"), "{text}");
    }

    #[test]
    fn the_file_is_replaced_whole_and_readable_by_others() {
        let dir = std::env::temp_dir().join(format!("ddp-metrics-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ddp.prom");
        write(&path, &run(Tally::default(), true)).unwrap();
        let mut failed = run(Tally::default(), false);
        failed.finished = 1_700_000_200.0;
        write(&path, &failed).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(last_success(&text, "apply"), Some(1_700_000_000.5));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary left behind");
        assert!(write(&dir.join("missing/ddp.prom"), &failed).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
