//! The tool's binary run as a person would from a shell, for tests that need no engine of
//! their own: no `DOCKER_HOST`, the default log level, no standard input; and a run's output
//! shown whole, for assertion messages.

use serde_json::Value;
use std::process::{Command, Output, Stdio};

/// Run the tool with these arguments.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"))
        .args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Everything about a run: its status, stdout and stderr.
pub fn explain(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Its stdout as a JSON document (`--output json`).
pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", explain(o)))
}

/// Its stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Its stdout then its stderr, as one text to search.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Each container's (name, status) from `show --output json`.
pub fn statuses(o: &Output) -> Vec<(String, String)> {
    pairs(&json(o)["containers"], "name", "status")
}

/// Two string fields of each object of a JSON list, e.g. a plan's (container, action).
pub fn pairs(list: &Value, a: &str, b: &str) -> Vec<(String, String)> {
    let text = |item: &Value, key: &str| item[key].as_str().unwrap().to_string();
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| (text(item, a), text(item, b)))
        .collect()
}
