//! What a run prints on stdout: `show`, `plan` and `apply` reports as text for people or
//! JSON for machines, and the one-line summary every run ends with. Formatting only.

use crate::apply::prune::Pruned;
use crate::apply::{Outcome, StepResult};
use crate::desired::{Desired, HostList, WantedState};
use crate::plan::{Action, Plan, Step};
use serde_json::{Value, json};
use std::time::Duration;

fn list_json(d: &Desired) -> Value {
    let (status, error) = match &d.list {
        HostList::Listed(_) => ("listed", None),
        HostList::NotConfigured => ("not-configured", None),
        HostList::Unavailable(why) => ("unavailable", Some(why.clone())),
    };
    json!({"status": status, "records": d.list_records, "error": error})
}

/// The levels asked and where the walk stopped: who could answer for this host.
fn walk_json(d: &Desired) -> Value {
    json!({"levels": d.walk.levels, "stop": d.walk.stop})
}

/// The `show` report.
pub fn show(d: &Desired, json_output: bool) -> String {
    let wanted = match &d.list {
        HostList::Listed(w) => &w[..],
        _ => &[][..],
    };
    if json_output {
        let containers: Vec<Value> = wanted
            .iter()
            .map(|w| match &w.state {
                WantedState::Spec { record, spec } => json!({
                    "name": w.name, "status": "spec", "record": record, "text": spec.text,
                    "image": spec.image.to_string(), "platform": spec.platform,
                    "create_body": spec.body,
                }),
                WantedState::Disabled => json!({"name": w.name, "status": "disabled"}),
                WantedState::Invalid { record, text, why } => json!({
                    "name": w.name, "status": "invalid", "record": record, "text": text, "error": why,
                }),
                WantedState::Unknown(why) => json!({"name": w.name, "status": "unknown", "error": why}),
            })
            .collect();
        let doc = json!({
            "command": "show", "host": d.host, "walk": walk_json(d), "list": list_json(d),
            "containers": containers,
        });
        return format!("{doc:#}\n");
    }
    let mut out = header(d);
    for w in wanted {
        match &w.state {
            WantedState::Spec { record, spec } => {
                out += &format!("{}  spec  {record}\n", w.name);
                out += &format!("    text:  {}\n", spec.text);
                out += &format!("    image: {}\n", spec.image);
                out += &format!("    body:  {}\n", spec.body);
            }
            WantedState::Disabled => {
                out += &format!(
                    "{}  disabled  no record at any level (launch disabled)\n",
                    w.name
                )
            }
            WantedState::Invalid { record, text, why } => {
                out += &format!(
                    "{}  invalid  {}\n",
                    w.name,
                    record.as_deref().unwrap_or("(list)")
                );
                if let Some(t) = text {
                    out += &format!("    text:  {t}\n");
                }
                out += &format!("    error: {why}\n");
            }
            WantedState::Unknown(why) => out += &format!("{}  unknown  {why}\n", w.name),
        }
    }
    out
}

fn header(d: &Desired) -> String {
    let walk = format!(
        "levels asked: {} ({})\n",
        d.walk.levels.join(", "),
        d.walk.stop
    );
    walk + &match &d.list {
        HostList::Listed(w) => format!(
            "host {}: {} container(s) listed by {}\n",
            d.host,
            w.len(),
            d.list_records.join(", ")
        ),
        HostList::NotConfigured if d.list_records.is_empty() => {
            format!("host {}: no container list at any level\n", d.host)
        }
        HostList::NotConfigured => format!(
            "host {}: the container list at {} names no container\n",
            d.host,
            d.list_records.join(", ")
        ),
        HostList::Unavailable(why) => {
            format!("host {}: container list unavailable: {why}\n", d.host)
        }
    }
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Containers created.
    pub created: usize,
    /// Containers replaced.
    pub replaced: usize,
    /// Containers started.
    pub started: usize,
    /// Containers removed (including leftovers of interrupted runs).
    pub removed: usize,
    /// Names an interrupted replace had taken from their container, given back.
    pub repaired: usize,
    /// Actions that failed.
    pub failed: usize,
    /// Containers already right.
    pub kept: usize,
    /// Containers left untouched on purpose (invalid, unknown, conflict).
    pub left: usize,
    /// Steps not attempted because an earlier step of the same container failed.
    pub skipped: usize,
}

impl Summary {
    /// Count what was done (or, for a plan, what would be done).
    pub fn of<'a>(steps: impl Iterator<Item = (&'a Step, Option<&'a StepResult>)>) -> Summary {
        let mut s = Summary::default();
        for (step, result) in steps {
            match result {
                Some(StepResult::Failed(_)) => {
                    s.failed += 1;
                    continue;
                }
                Some(StepResult::Skipped(_)) => {
                    s.skipped += 1;
                    continue;
                }
                _ => {}
            }
            match step.action {
                Action::Create { .. } => s.created += 1,
                Action::Replace { .. } => s.replaced += 1,
                // A restart is a start (after a stop): the summary line keeps its fields.
                Action::Start { .. } | Action::Restart { .. } => s.started += 1,
                Action::Remove { .. } | Action::Discard { .. } => s.removed += 1,
                Action::Keep { .. } | Action::HeldBack { .. } | Action::Finished { .. } => {
                    s.kept += 1
                }
                Action::Leave { .. } => s.left += 1,
                Action::RenameBack { .. } => s.repaired += 1,
            }
        }
        s
    }

    /// The one line every run ends with. For `plan` the counts are what `apply` would do,
    /// and the line says so: nothing was changed.
    pub fn line(&self, verb: &str, took: Duration) -> String {
        let verb = if verb == "plan" {
            "plan (dry run, nothing changed)"
        } else {
            verb
        };
        format!(
            "{verb}: created={} replaced={} started={} removed={} repaired={} failed={} kept={} left={} in {:.2}s",
            self.created,
            self.replaced,
            self.started,
            self.removed,
            self.repaired,
            self.failed,
            self.kept,
            self.left,
            took.as_secs_f64()
        )
    }
}

/// What an offline start did: the host ran its last converged state because DNS was silent.
/// Part of the report (text and JSON) and of the run's journal, for people and metrics alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offline {
    /// When the offline start ran (seconds since the Unix epoch): the host has run its last
    /// converged state since then (until a run converges to DNS).
    pub since: u64,
    /// When the last converged state was verified.
    pub converged_at: u64,
    /// Containers of the state it started (and verified up).
    pub started: usize,
    /// Containers of the state that were up already.
    pub up: usize,
    /// Containers of the state that are not up: refused by the rules, or failed to start.
    pub refused: usize,
    /// Whether every container of the state is up.
    pub ready: bool,
}

impl Offline {
    /// One line for the journal, the status line and the text report.
    pub fn line(&self) -> String {
        let utc = |secs| crate::logging::format_utc(secs, 0);
        format!(
            "running the last converged state (of {}) since {}: started={} up={} not-up={}{}",
            utc(self.converged_at),
            utc(self.since),
            self.started,
            self.up,
            self.refused,
            if self.ready { "" } else { " (incomplete)" }
        )
    }

    /// The report's `offline` member.
    pub fn json(&self) -> Value {
        json!({
            "since": self.since, "converged_at": self.converged_at,
            "started": self.started, "up": self.up, "not_up": self.refused,
            "complete": self.ready,
        })
    }
}

/// The report `actions` made, with what an offline start did added: a line after the text
/// report's summary, an `offline` member in the JSON one.
pub fn with_offline(report: String, json_output: bool, offline: &Offline) -> String {
    if !json_output {
        return format!("{report}offline: {}\n", offline.line());
    }
    match serde_json::from_str::<Value>(&report) {
        Ok(Value::Object(mut doc)) => {
            doc.insert("offline".into(), offline.json());
            format!("{:#}\n", Value::Object(doc))
        }
        _ => report,
    }
}

/// The image a step creates a container from, so a reader sees what will be pulled.
fn step_image(a: &Action) -> Option<String> {
    match a {
        Action::Create { spec } | Action::Replace { spec, .. } => Some(spec.image.to_string()),
        _ => None,
    }
}

/// A replace's record texts, old (from the container's ownership label) and new, when the
/// old one is known.
fn step_texts(a: &Action) -> Option<(&str, &str)> {
    match a {
        Action::Replace { existing, spec } => Some((existing.record.as_deref()?, &spec.text)),
        _ => None,
    }
}

fn step_id(a: &Action) -> Option<&str> {
    match a {
        Action::Create { .. } => None,
        Action::Start { existing }
        | Action::Restart { existing }
        | Action::Replace { existing, .. }
        | Action::Remove { existing }
        | Action::Keep { existing }
        | Action::Discard { existing } => Some(&existing.id),
        Action::HeldBack { existing, .. }
        | Action::Leave { existing }
        | Action::Finished { existing } => existing.as_ref().map(|e| e.id.as_str()),
        Action::RenameBack { old } => Some(&old.id),
    }
}

/// Each step with its result: what was done (`apply`), or only planned (`plan`, no outcomes).
fn rows<'a>(
    plan: &'a Plan,
    outcomes: Option<&'a [Outcome]>,
) -> Vec<(&'a Step, Option<&'a StepResult>)> {
    match outcomes {
        Some(o) => o.iter().map(|o| (&o.step, Some(&o.result))).collect(),
        None => plan.steps.iter().map(|s| (s, None)).collect(),
    }
}

/// The summary of a `plan` (outcomes `None`) or an `apply`.
pub fn summary(plan: &Plan, outcomes: Option<&[Outcome]>) -> Summary {
    Summary::of(rows(plan, outcomes).into_iter())
}

/// The `plan` report (outcomes `None`) or the `apply` report, with the images
/// `--prune-images` removed or tried to.
pub fn actions(
    d: &Desired,
    plan: &Plan,
    (outcomes, pruned): (Option<&[Outcome]>, &[Pruned]),
    json_output: bool,
    exit_status: u8,
    took: Duration,
) -> String {
    let rows = rows(plan, outcomes);
    let summary = Summary::of(rows.iter().copied());
    let command = if outcomes.is_some() { "apply" } else { "plan" };
    if json_output {
        let actions: Vec<Value> = rows
            .iter()
            .map(|(s, r)| {
                let (result, error) = match r {
                    None => ("planned", None),
                    Some(StepResult::Done) => ("done", None),
                    Some(StepResult::Skipped(w)) => ("skipped", Some(w.as_str())),
                    Some(StepResult::Failed(w)) => ("failed", Some(w.why.as_str())),
                };
                let texts = step_texts(&s.action);
                json!({
                    "container": s.name, "action": s.action.verb(), "reason": s.reason,
                    "id": step_id(&s.action), "image": step_image(&s.action),
                    "result": result, "error": error,
                    "old_text": texts.map(|t| t.0), "new_text": texts.map(|t| t.1),
                    "diff": texts.map(|(old, new)| crate::change::lines(old, new)),
                })
            })
            .collect();
        let doc = json!({
            "command": command, "host": d.host, "walk": walk_json(d), "list": list_json(d),
            "actions": actions,
            "pruned_images": pruned.iter().map(|p| json!({
                "image": p.image, "container": p.container,
                "result": if p.result.is_ok() { "removed" } else { "failed" },
                "error": p.result.as_ref().err(),
            })).collect::<Vec<Value>>(),
            "summary": {
                "created": summary.created, "replaced": summary.replaced,
                "started": summary.started, "removed": summary.removed,
                "repaired": summary.repaired,
                "failed": summary.failed, "kept": summary.kept, "left": summary.left,
                "skipped": summary.skipped,
                "pruned": pruned.iter().filter(|p| p.result.is_ok()).count(),
            },
            "exit_code": exit_status, "duration_ms": took.as_millis() as u64,
        });
        return format!("{doc:#}\n");
    }
    let mut out = header(d);
    for (s, r) in &rows {
        let result = match r {
            None => String::new(),
            Some(StepResult::Done) => "  [done]".into(),
            Some(StepResult::Skipped(w)) => format!("  [skipped: {w}]"),
            Some(StepResult::Failed(w)) => format!("  [FAILED: {w}]"),
        };
        out += &format!(
            "{:<14} {}  ({}){result}\n",
            s.action.verb(),
            s.name,
            s.reason
        );
        if let Some((old, new)) = step_texts(&s.action) {
            for line in crate::change::lines(old, new) {
                out += &format!("    {line}\n");
            }
        }
    }
    for p in pruned {
        let result = match &p.result {
            Ok(()) => "[done]".to_string(),
            Err(why) => format!("[not removed: {why}]"),
        };
        out += &format!(
            "{:<14} {}  (run by {} before this run, used by nothing now)  {result}\n",
            "prune-image",
            crate::docker::short_id(&p.image),
            p.container
        );
    }
    out += &summary.line(command, took);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Existing;

    fn step(action: Action) -> Step {
        Step {
            name: "n1".into(),
            action,
            reason: "r".into(),
        }
    }

    #[test]
    fn a_plan_summary_says_nothing_was_changed() {
        let s = Summary {
            created: 2,
            ..Summary::default()
        };
        let took = Duration::from_millis(1500);
        assert_eq!(
            s.line("plan", took),
            "plan (dry run, nothing changed): created=2 replaced=0 started=0 removed=0 repaired=0 failed=0 kept=0 left=0 in 1.50s"
        );
        assert!(s.line("apply", took).starts_with("apply: created=2 "));
    }

    #[test]
    fn summary_counts_failed_and_skipped_apart_from_what_was_done() {
        let e = Existing {
            id: "id1".into(),
            name: "n1".into(),
            ..Existing::default()
        };
        let rows = [
            (
                step(Action::RenameBack { old: e.clone() }),
                StepResult::Failed(crate::apply::StepFailure::of("x")),
            ),
            (
                step(Action::Start {
                    existing: e.clone(),
                }),
                StepResult::Skipped("x".into()),
            ),
            (step(Action::Keep { existing: e }), StepResult::Done),
        ];
        let s = Summary::of(rows.iter().map(|(st, r)| (st, Some(r))));
        assert_eq!(
            (s.failed, s.skipped, s.started, s.kept),
            (1, 1, 0, 1),
            "{s:?}"
        );
    }

    #[test]
    fn a_dry_run_counts_the_repairs_and_removals_it_would_make() {
        let e = Existing {
            id: "id1".into(),
            name: "n1".into(),
            ..Existing::default()
        };
        // A plan (no outcomes) that gives a name back and removes a leftover replacement.
        let plan = Plan {
            steps: vec![
                step(Action::RenameBack { old: e.clone() }),
                step(Action::Discard { existing: e }),
            ],
            code: crate::exit::Code::Ok,
            after: Default::default(),
        };
        let s = summary(&plan, None);
        assert_eq!((s.repaired, s.removed), (1, 1), "{s:?}");
        assert!(
            s.line("plan", Duration::ZERO)
                .contains("removed=1 repaired=1 ")
        );
    }
}
