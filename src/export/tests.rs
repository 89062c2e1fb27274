//! A host's export: the list and one record per container, the warnings, and what a
//! container the tool already manages exports as.

use super::*;
use crate::container::owner_label;
use serde_json::json;

fn container(name: &str, env: &[&str], labels: Value) -> Inspected {
    Inspected {
        container: json!({
            "Id": "0123456789abcdef",
            "Name": format!("/{name}"),
            "Config": {"Image": "alpine", "Cmd": ["sleep", "1"], "Env": env, "Labels": labels},
            "HostConfig": {"NetworkMode": "default"},
        }),
        image: json!({"Config": {"Cmd": ["sh"]}}),
    }
}

fn run(containers: &[Inspected], redact: bool) -> Export {
    export(
        containers,
        "h1.example.com",
        "containers.docker",
        &EngineFacts::default(),
        redact,
    )
}

#[test]
fn the_list_names_every_container_and_each_has_its_record() {
    let out = run(
        &[
            container("web", &[], json!({})),
            container("db", &["A=1"], json!({})),
        ],
        false,
    );
    let names: Vec<(&str, &str)> = out
        .records
        .iter()
        .map(|r| (r.kind, r.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("list", "containers.docker.h1.example.com"),
            ("container", "db.containers.docker.h1.example.com"),
            ("container", "web.containers.docker.h1.example.com"),
        ]
    );
    assert_eq!(out.records[0].strings, ["db web"]);
    assert_eq!(out.records[1].strings, ["--env=A=1 alpine sleep 1"]);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn names_no_record_can_carry_are_left_out_with_a_warning() {
    let long = "a".repeat(64);
    let out = run(
        &[
            container("web.ddp-old", &[], json!({})),
            container(&long, &[], json!({})),
            container("ok", &[], json!({})),
        ],
        false,
    );
    assert_eq!(out.records[0].strings, ["ok"]);
    assert_eq!(out.records.len(), 2);
    assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
    assert!(
        out.warnings[0].contains("web.ddp-old: not exported"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn secrets_are_named_on_stderr_and_redacted_on_request() {
    let c = [container(
        "app",
        &["DB_PASSWORD=hunter2", "TOKEN=t"],
        json!({}),
    )];
    let out = run(&c, false);
    assert_eq!(out.warnings.len(), 1);
    assert!(
        out.warnings[0].contains("app: environment variables that look secret: DB_PASSWORD, TOKEN")
    );
    assert!(out.warnings[0].contains("--redact"));
    assert!(out.records[1].strings.concat().contains("hunter2"));
    let out = run(&c, true);
    assert!(out.warnings[0].contains("REDACTED"), "{:?}", out.warnings);
    let text = out.records[1].strings.concat();
    assert!(
        !text.contains("hunter2") && text.contains("DB_PASSWORD=REDACTED"),
        "{text}"
    );
}

#[test]
fn a_container_the_tool_made_exports_its_record_text() {
    let text = "--env=A=1 alpine sleep 1 # as published";
    let labels = json!({OWNER_LABEL: owner_label(text)});
    let out = run(&[container("web", &["A=1"], labels)], false);
    assert_eq!(out.records[1].strings.concat(), text);
    assert!(out.records[1].notes[0].contains("ownership label"));
    // Unless a secret in it must be redacted: then the line is written from the inspect.
    let secret = json!({OWNER_LABEL: owner_label("-e API_KEY=k alpine")});
    let out = run(&[container("web", &["API_KEY=k"], secret)], true);
    assert_eq!(
        out.records[1].strings.concat(),
        "--env=API_KEY=REDACTED alpine sleep 1"
    );
}

#[test]
fn long_records_are_cut_into_strings_that_join_back() {
    let value = "v".repeat(600);
    let env = format!("BIG={value}");
    let out = run(&[container("web", &[env.as_str()], json!({}))], false);
    let strings = &out.records[1].strings;
    assert_eq!(strings.len(), 3);
    assert_eq!(
        strings.concat(),
        format!("--env=BIG={value} alpine sleep 1")
    );
}

#[test]
fn an_empty_engine_exports_an_empty_list() {
    let out = run(&[], false);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].strings, [""]);
}

#[test]
fn daemon_log_opts_are_read_when_the_file_is_there() {
    let dir = std::env::temp_dir().join(format!("ddp-export-daemon-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("daemon.json");
    std::fs::write(
        &file,
        r#"{"log-driver": "json-file", "log-opts": {"max-size": "10m", "n": 3}}"#,
    )
    .unwrap();
    let opts = daemon_log_opts(&file);
    assert_eq!(opts, [("max-size".to_string(), "10m".to_string())].into());
    assert!(daemon_log_opts(&dir.join("absent.json")).is_empty());
    std::fs::write(&file, "not json").unwrap();
    assert!(daemon_log_opts(&file).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
