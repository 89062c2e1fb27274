//! Bringing a host in with `export`, end to end on the real engine: containers started by
//! hand are exported; `lint` accepts the records with no finding; `show` lists every
//! container; published through a real dnsmasq, `plan` shows each as adopted (replaced once
//! to carry the ownership label) and `--no-adopt` as a conflict; one `apply` adopts them
//! all with verification; afterwards the plan keeps everything and `export` prints the
//! same records again.

mod common;

use common::binary::pairs;
use common::dnsmasq::Dnsmasq;
use common::e2e::{IMG, LABEL, code, docker, field, show};
use common::world::World;

/// Containers as someone started them by hand: (name, `docker run -d` options and image).
fn by_hand(w: &World) -> Vec<(String, Vec<String>)> {
    let cases: [(&str, &[&str]); 3] = [
        (
            "web",
            &[
                "-e",
                "MODE=prod",
                "-e",
                "GREETING=hello world",
                "-e",
                "API_TOKEN=s3cret",
                "-l",
                "tier=front",
                "--restart",
                "unless-stopped",
                IMG,
            ],
        ),
        (
            "cache",
            &[
                "--memory",
                "64m",
                "--tmpfs",
                "/run",
                "--init",
                IMG,
                "sh",
                "-c",
                "exec sleep 3600",
            ],
        ),
        (
            "checked",
            &[
                "--health-cmd",
                "true",
                "--health-interval",
                "1s",
                "--network",
                "none",
                IMG,
            ],
        ),
    ];
    cases
        .iter()
        .map(|(n, opts)| (w.name(n), opts.iter().map(|s| s.to_string()).collect()))
        .collect()
}

fn export(w: &World, names: &[String], format: &str) -> String {
    let mut args: Vec<String> = ["export", "--hostname", "e2e.test", "--format", format]
        .map(String::from)
        .to_vec();
    args.extend(names.iter().cloned());
    let o = w.run(&args, &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// The (container, action) pairs of a JSON plan.
fn plan(w: &World, dns: &Dnsmasq, extra: &[&str]) -> (i32, Vec<(String, String)>, String) {
    let mut args = vec![
        "plan".to_string(),
        "--hostname".into(),
        "e2e.test".into(),
        "--nameserver".into(),
        dns.addr.to_string(),
        "--timeout".into(),
        "20s".into(),
        "--output".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = w.run(&args, &[]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let actions = if doc["actions"].is_array() {
        pairs(&doc["actions"], "container", "action")
    } else {
        Vec::new()
    };
    (code(&o), actions, show(&o))
}

/// A secret-looking variable is named on stderr; `--redact` keeps its value out. A name
/// that is no container is an error (65) that names it.
fn secrets_are_named_and_redacted(w: &World, name: &str) {
    let missing = w.name("no-such-container");
    let o = w.run(&["export".into(), missing.clone()], &[]);
    assert_eq!(code(&o), 65, "{}", show(&o));
    assert!(show(&o).contains(&missing), "{}", show(&o));
    for redact in [false, true] {
        let mut args: Vec<String> = vec!["export".into(), "--hostname".into(), "e2e.test".into()];
        if redact {
            args.push("--redact".into());
        }
        args.push(name.to_string());
        let o = w.run(&args, &[]);
        assert_eq!(code(&o), 0, "{}", show(&o));
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert!(err.contains("look secret: API_TOKEN"), "{}", show(&o));
        assert_eq!(out.contains("s3cret"), !redact, "{}", show(&o));
        assert_eq!(out.contains("API_TOKEN=REDACTED"), redact, "{}", show(&o));
    }
}

/// `lint` finds nothing (even with `--strict`, in both file formats) and `show` lists every
/// container with its record.
fn lint_and_show(w: &World, names: &[String]) {
    // lint: no finding at all, even with --strict, in both file formats.
    let zone = w.dir.join("records.zone");
    std::fs::write(&zone, export(w, names, "zone")).unwrap();
    for file in [w.records_path(), zone] {
        let file = file.display().to_string();
        let o = w.run(
            &[
                "lint".into(),
                "--records".into(),
                file,
                "--strict".into(),
                "--output".into(),
                "json".into(),
            ],
            &[],
        );
        assert_eq!(code(&o), 0, "{}", show(&o));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(report["findings"], serde_json::json!([]), "{}", show(&o));
    }

    // show: every container, each with a record.
    let o = w.run(&w.args("show"), &["--output".into(), "json".into()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let mut statuses = common::binary::statuses(&o);
    statuses.sort();
    let mut want: Vec<(String, String)> =
        names.iter().map(|n| (n.clone(), "spec".into())).collect();
    want.sort();
    assert_eq!(statuses, want, "{}", show(&o));
}

/// Each container was replaced once, runs, carries the ownership label and kept its settings.
fn check_adopted(containers: &[(String, Vec<String>)], ids: &[String]) {
    for ((name, _), old) in containers.iter().zip(ids) {
        let id = field(name, "{{.Id}}").unwrap();
        assert_ne!(&id, old, "{name} was replaced");
        assert_eq!(
            field(name, "{{.State.Running}}").as_deref(),
            Some("true"),
            "{name}"
        );
        let label = field(name, &format!("{{{{index .Config.Labels \"{LABEL}\"}}}}"));
        assert!(
            label.is_some_and(|l| !l.is_empty()),
            "{name} carries the ownership label"
        );
    }
    let names: Vec<&String> = containers.iter().map(|(n, _)| n).collect();
    let web = names[0];
    assert_eq!(
        field(web, "{{.HostConfig.RestartPolicy.Name}}").as_deref(),
        Some("unless-stopped")
    );
    let env = field(web, "{{json .Config.Env}}").unwrap();
    assert!(
        env.contains("GREETING=hello world") && env.contains("MODE=prod"),
        "{env}"
    );
    assert_eq!(
        field(names[1], "{{.HostConfig.Memory}}").as_deref(),
        Some("67108864")
    );
    assert_eq!(
        field(names[2], "{{.HostConfig.NetworkMode}}").as_deref(),
        Some("none")
    );
}

#[test]
fn an_exported_host_is_adopted_by_one_apply() {
    let w = World::new("export");
    let containers = by_hand(&w);
    let names: Vec<String> = containers.iter().map(|(n, _)| n.clone()).collect();
    let mut ids = Vec::new();
    for (name, opts) in &containers {
        let mut args = vec!["run", "-d", "--name", name.as_str()];
        args.extend(opts.iter().map(String::as_str));
        let o = docker(&args);
        assert!(o.status.success(), "{}", show(&o));
        ids.push(field(name, "{{.Id}}").unwrap());
    }

    secrets_are_named_and_redacted(&w, &names[0]);
    let records = export(&w, &names, "dnsmasq");
    std::fs::write(w.records_path(), &records).unwrap();
    assert!(!records.contains(LABEL), "{records}");
    assert!(
        records.contains("--env='GREETING=hello world'"),
        "{records}"
    );
    assert!(
        !records.contains("PATH="),
        "the image's own variable: {records}"
    );

    lint_and_show(&w, &names);

    // Published through a real dnsmasq, plan shows each container adopted (replaced once).
    let dns = Dnsmasq::start(&format!("local=/test/\n{records}"));
    let (status, actions, out) = plan(&w, &dns, &[]);
    assert_eq!(status, 0, "{out}");
    let mut want: Vec<(String, String)> = names
        .iter()
        .map(|n| (n.clone(), "replace".into()))
        .collect();
    want.sort();
    let mut got = actions.clone();
    got.sort();
    assert_eq!(got, want, "{out}");
    assert!(
        out.contains("adopting a container without our label"),
        "{out}"
    );
    let (status, actions, out) = plan(&w, &dns, &["--no-adopt"]);
    assert_eq!(status, 65, "--no-adopt leaves them as conflicts: {out}");
    assert!(actions.iter().all(|(_, a)| a == "leave"), "{out}");

    // One apply adopts them all, each verified up.
    let mut args = w.args("apply");
    let at = args.iter().position(|a| a == "--records").unwrap();
    args.splice(
        at..at + 2,
        ["--nameserver".to_string(), dns.addr.to_string()],
    );
    let o = w.run(&args, &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    check_adopted(&containers, &ids);

    // Adopted: nothing more to do, and the export is the same records again.
    let (status, actions, out) = plan(&w, &dns, &[]);
    assert_eq!(status, 0, "{out}");
    assert!(actions.iter().all(|(_, a)| a == "keep"), "{out}");
    let records_of = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        records_of(&export(&w, &names, "dnsmasq")),
        records_of(&records)
    );
}
