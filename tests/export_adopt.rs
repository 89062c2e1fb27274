//! Bringing a host in with `export`, end to end on the real engine: containers started by
//! hand are exported; `lint` accepts the records with no finding; `show` lists every
//! container; published through a real dnsmasq, `plan` shows each as adopted (replaced once
//! to carry the ownership label) and `--no-adopt` as a conflict; one `apply` adopts them
//! all with verification; afterwards the plan keeps everything and `export` prints the
//! same records again. Two containers on a network made by hand are exported with it, and
//! one `apply --recreate-networks` takes the network over with them: they still reach each
//! other by name.

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

/// Removes the test's network when it ends (declared before the world, so after its
/// containers are gone).
struct Net(String);

impl Drop for Net {
    fn drop(&mut self) {
        let _ = docker(&["network", "rm", &self.0]);
    }
}

/// A plan's exit status, and its network and container (name, action) pairs.
type Planned = (i32, Vec<(String, String)>, Vec<(String, String)>);

fn plan_networks(w: &World, extra: &[&str]) -> Planned {
    let mut args = w.args("plan");
    args.extend(
        ["--output", "json"]
            .iter()
            .chain(extra)
            .map(|s| s.to_string()),
    );
    let o = w.run(&args, &[]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert!(doc["actions"].is_array(), "{}", show(&o));
    (
        code(&o),
        pairs(&doc["network_actions"], "network", "action"),
        pairs(&doc["actions"], "container", "action"),
    )
}

/// `web` reaches `db` by its name and its alias, and `db` reaches `web`.
fn they_reach_each_other(db: &str, web: &str) {
    for (from, to) in [(web, db), (web, "database"), (db, web)] {
        let p = docker(&["exec", from, "ping", "-c1", "-W3", to]);
        assert!(p.status.success(), "{from} → {to}: {}", show(&p));
    }
}

#[test]
fn an_exported_network_is_taken_over_with_its_containers() {
    // Declared before the world: dropped after it, once its containers are gone.
    let net = "e2e-exnet-appnet".to_string();
    let _net = Net(net.clone());
    let w = World::new("exnet");
    assert!(net.starts_with(w.prefix()));
    let _ = docker(&["network", "rm", &net]);
    let o = docker(&["network", "create", "--subnet", "10.198.7.0/24", &net]);
    assert!(o.status.success(), "{}", show(&o));
    let (db, web) = (w.name("db"), w.name("web"));
    let serve = [
        IMG,
        "sh",
        "-c",
        "trap 'exit 0' TERM; while sleep 1; do :; done",
    ];
    for (name, opts) in [
        (
            &db,
            &["--network-alias", "database", "--ip", "10.198.7.10"][..],
        ),
        (&web, &[][..]),
    ] {
        let mut args = vec!["run", "-d", "--name", name, "--network", &net];
        args.extend(opts.iter().chain(&serve));
        let o = docker(&args);
        assert!(o.status.success(), "{}", show(&o));
    }
    they_reach_each_other(&db, &web);
    let names = [db.clone(), web.clone()];
    let ids: Vec<String> = names.iter().map(|n| field(n, "{{.Id}}").unwrap()).collect();

    // Exported: the network list, the network's record, the containers on it.
    let records = export(&w, &names, "dnsmasq");
    std::fs::write(w.records_path(), &records).unwrap();
    for want in [
        format!("txt-record=networks.docker.e2e.test,\"{net}\""),
        format!("txt-record={net}.networks.docker.e2e.test,\"--subnet 10.198.7.0/24"),
        format!("--network={net} --network-alias=database --ip=10.198.7.10 "),
    ] {
        assert!(records.contains(&want), "{want}\n{records}");
    }
    assert!(!records.contains("bridge"), "{records}");

    lint_and_show(&w, &names);
    let o = w.run(&w.args("show"), &["--output".into(), "json".into()]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        pairs(&doc["networks"]["networks"], "name", "status"),
        [(net.clone(), "spec".to_string())],
        "{}",
        show(&o)
    );

    // Unlabelled with containers attached: not taken over without the option (65)...
    let mut replaced: Vec<(String, String)> = names
        .iter()
        .map(|n| (n.clone(), "replace".into()))
        .collect();
    replaced.sort();
    let (status, nets, mut actions) = plan_networks(&w, &[]);
    actions.sort();
    assert_eq!(
        (status, &nets, &actions),
        (65, &vec![(net.clone(), "leave".into())], &replaced)
    );
    // ...and with it, the network is recreated and the containers adopted, in one apply.
    let (status, nets, _) = plan_networks(&w, &["--recreate-networks"]);
    assert_eq!((status, nets), (0, vec![(net.clone(), "recreate".into())]));
    let o = w.run(&w.args("apply"), &["--recreate-networks".into()]);
    assert_eq!(code(&o), 0, "{}", show(&o));

    let label = format!("{{{{index .Labels \"{LABEL}\"}}}}");
    let o = docker(&["network", "inspect", "--format", &label, &net]);
    assert!(
        o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty(),
        "the network carries the ownership label: {}",
        show(&o)
    );
    let container_label = format!("{{{{index .Config.Labels \"{LABEL}\"}}}}");
    for (name, old) in names.iter().zip(&ids) {
        assert_ne!(
            field(name, "{{.Id}}").as_ref(),
            Some(old),
            "{name} was replaced"
        );
        assert!(
            field(name, &container_label).is_some_and(|l| !l.is_empty()),
            "{name}"
        );
    }
    let ip = format!("{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}");
    assert_eq!(field(&db, &ip).as_deref(), Some("10.198.7.10"));
    they_reach_each_other(&db, &web);

    // Adopted: nothing more to do, without the option.
    let (status, nets, actions) = plan_networks(&w, &[]);
    assert_eq!(status, 0);
    assert_eq!(nets, [(net.clone(), "keep".to_string())]);
    assert!(actions.iter().all(|(_, a)| a == "keep"), "{actions:?}");
}
