//! The networks' part of the `show`, `plan` and `apply` reports: text lines for people and
//! a JSON value for machines. Formatting only.

use super::apply::NetOutcome;
use super::desired::{NetList, NetState, Networks};
use super::plan::{NetPlan, NetStep};
use serde_json::{Value, json};

/// What `show` prints of the networks (text), after the containers.
pub fn show_text(n: &Networks) -> String {
    let mut out = match &n.list {
        NetList::Listed(ws) => format!(
            "networks: {} declared by {}\n",
            ws.len(),
            n.list_records.join(", ")
        ),
        NetList::None => return String::new(),
        NetList::Unavailable(why) => return format!("networks: list unavailable: {why}\n"),
    };
    if let NetList::Listed(ws) = &n.list {
        for w in ws {
            out += &match &w.state {
                NetState::Spec { record, spec } => format!(
                    "network {}  spec  {record}\n    text:  {}\n    body:  {}\n",
                    w.name,
                    spec.text,
                    spec.create_body(&w.name)
                ),
                NetState::Disabled => {
                    format!("network {}  disabled  no record at any level\n", w.name)
                }
                NetState::Invalid { record, why } => format!(
                    "network {}  invalid  {}\n    error: {why}\n",
                    w.name,
                    record.as_deref().unwrap_or("(list)")
                ),
                NetState::Unknown(why) => format!("network {}  unknown  {why}\n", w.name),
            };
        }
    }
    out
}

/// What `show` says of the networks (JSON).
pub fn show_json(n: &Networks) -> Value {
    let (status, error) = match &n.list {
        NetList::Listed(_) => ("listed", None),
        NetList::None => ("none", None),
        NetList::Unavailable(why) => ("unavailable", Some(why.clone())),
    };
    let networks: Vec<Value> = match &n.list {
        NetList::Listed(ws) => ws
            .iter()
            .map(|w| match &w.state {
                NetState::Spec { record, spec } => json!({
                    "name": w.name, "status": "spec", "record": record, "text": spec.text,
                    "create_body": spec.create_body(&w.name),
                }),
                NetState::Disabled => json!({"name": w.name, "status": "disabled"}),
                NetState::Invalid { record, why } => {
                    json!({"name": w.name, "status": "invalid", "record": record, "error": why})
                }
                NetState::Unknown(why) => {
                    json!({"name": w.name, "status": "unknown", "error": why})
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    json!({"status": status, "records": n.list_records, "error": error, "networks": networks})
}

/// A network step and, for `apply`, what became of it.
type Row<'a> = (&'a NetStep, Option<&'a Option<Result<(), String>>>);

/// The rows of a `plan` (outcomes `None`) or `apply` report: one per network step.
fn rows<'a>(plan: &'a NetPlan, outcomes: Option<&'a [NetOutcome]>) -> Vec<Row<'a>> {
    plan.steps
        .iter()
        .map(|s| {
            let r = outcomes
                .and_then(|o| o.iter().find(|o| o.step.name == s.name))
                .map(|o| &o.result);
            (s, r)
        })
        .collect()
}

/// The networks' lines of a `plan` or `apply` report: the removals (which run after the
/// containers) with `removals`, the others (which run before them) without.
pub fn actions_text(plan: &NetPlan, outcomes: Option<&[NetOutcome]>, removals: bool) -> String {
    let mut out = String::new();
    for (s, r) in rows(plan, outcomes) {
        if matches!(s.action, super::plan::NetAction::Remove { .. }) != removals {
            continue;
        }
        let result = match r {
            None | Some(None) => String::new(),
            Some(Some(Ok(()))) => "  [done]".into(),
            Some(Some(Err(w))) => format!("  [FAILED: {w}]"),
        };
        out += &format!(
            "{:<14} network {}  ({}){result}\n",
            s.action.verb(),
            s.name,
            s.reason
        );
    }
    out
}

/// The networks' entries of a `plan` or `apply` JSON report.
pub fn actions_json(plan: &NetPlan, outcomes: Option<&[NetOutcome]>) -> Value {
    let done = outcomes.is_some();
    Value::Array(
        rows(plan, outcomes)
            .into_iter()
            .map(|(s, r)| {
                let (result, error) = match r {
                    None if !done => ("planned", None),
                    None | Some(None) => ("done", None),
                    Some(Some(Ok(()))) => ("done", None),
                    Some(Some(Err(w))) => ("failed", Some(w.clone())),
                };
                json!({
                    "network": s.name, "action": s.action.verb(), "reason": s.reason,
                    "result": result, "error": error,
                })
            })
            .collect(),
    )
}
