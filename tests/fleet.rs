//! Operating a fleet, end to end with the real binary and the real engine: `plan
//! --detailed-exitcode` as a drift check, the metrics file as node_exporter reads it, what
//! `plan` shows of a change, files a record reads in its identity, image pruning and
//! dependents that restart after what they depend on is replaced.

mod common;

use common::binary::pairs;
use common::e2e::{IMG, code, service, show};
use common::world::World;

fn args(w: &World, cmd: &str, extra: &[&str]) -> Vec<String> {
    let mut a = w.args(cmd);
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(o)))
}

/// 2 while `apply` would change something, 0 once it would not, and any other status as
/// it would be without the option (an invalid record says 65, not 2).
#[test]
fn plan_detailed_exitcode_drives_a_drift_check() {
    let w = World::new("drift");
    w.records(&[("a", Some(&service(IMG, "a")))]);
    let plan = |extra: &[&str]| w.run(&args(&w, "plan", extra), &[]);
    let o = plan(&["--detailed-exitcode"]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let o = plan(&[]);
    assert_eq!(code(&o), 0, "without the option: {}", show(&o));
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let o = plan(&["--detailed-exitcode"]);
    assert_eq!(code(&o), 0, "nothing pending: {}", show(&o));
    // A pending replace beside an invalid record: the invalid record's 65 wins.
    w.records(&[
        ("a", Some(&service(IMG, "a2"))),
        ("b", Some("--network none --bogus-flag x")),
    ]);
    let o = plan(&["--detailed-exitcode", "--output", "json"]);
    assert_eq!(code(&o), 65, "{}", show(&o));
    let doc = json(&o);
    assert_eq!(doc["exit_code"], 65);
    assert!(pairs(&doc["actions"], "container", "action").contains(&(w.name("b"), "leave".into())));
}

/// Debian's node_exporter on a loopback port of its own, with only the textfile collector
/// reading `dir`; stopped when dropped.
struct NodeExporter {
    child: std::process::Child,
    port: u16,
}

impl NodeExporter {
    fn start(dir: &std::path::Path) -> NodeExporter {
        let port = common::ports::free_port();
        let child = std::process::Command::new("/usr/bin/prometheus-node-exporter")
            .args([
                "--collector.disable-defaults",
                "--collector.textfile",
                &format!("--collector.textfile.directory={}", dir.display()),
                &format!("--web.listen-address=127.0.0.1:{port}"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tests/kit/node-exporter.sh installs prometheus-node-exporter");
        NodeExporter { child, port }
    }

    /// `GET /metrics`, once node_exporter answers.
    fn scrape(&self) -> String {
        use std::io::{Read, Write};
        for _ in 0..100 {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let req = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
                s.write_all(req.as_bytes()).unwrap();
                let mut body = String::new();
                s.read_to_string(&mut body).unwrap();
                return body;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("node_exporter did not answer on port {}", self.port);
    }
}

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of the series `series` (name and labels, exactly as exposed) in a scrape.
fn value(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// A run series of `apply` in a scrape.
fn run_value(scrape: &str, name: &str) -> Option<f64> {
    value(
        scrape,
        &format!("docker_dns_provision_{name}{{command=\"apply\"}}"),
    )
}

/// Whether `container` is in `state`, as a scrape says (1 or 0).
fn state_value(scrape: &str, container: &str, state: &str) -> Option<f64> {
    value(
        scrape,
        &format!(
            "docker_dns_provision_container_state{{container=\"{container}\",state=\"{state}\"}}"
        ),
    )
}

/// node_exporter reads the file without a scrape error, with the run's outcome in it; a
/// failed run keeps the last success's time, and a held-back container shows as one.
#[test]
fn node_exporter_reads_the_metrics_file() {
    let w = World::new("metrics");
    let dir = w.dir.join("textfile");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("docker-dns-provision.prom");
    let exporter = NodeExporter::start(&dir);
    let with_metrics = |cmd: &str| {
        w.run(
            &args(&w, cmd, &["--metrics-file", file.to_str().unwrap()]),
            &[],
        )
    };
    let (a, b) = (w.name("a"), w.name("b"));
    w.records(&[
        ("a", Some(&service(IMG, "a"))),
        ("b", Some(&service(IMG, "b"))),
    ]);
    let o = with_metrics("apply");
    assert_eq!(code(&o), 0, "{}", show(&o));
    let s = exporter.scrape();
    assert_eq!(value(&s, "node_textfile_scrape_error"), Some(0.0), "{s}");
    let ok = run_value(&s, "last_success_timestamp_seconds").unwrap_or_else(|| panic!("{s}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(ok <= now && ok > now - 600.0, "{ok} vs {now}");
    assert_eq!(run_value(&s, "exit_status"), Some(0.0));
    assert_eq!(state_value(&s, &a, "up"), Some(1.0), "{s}");
    assert_eq!(
        value(
            &s,
            "docker_dns_provision_actions{action=\"create\",result=\"done\"}"
        ),
        Some(2.0)
    );
    assert!(run_value(&s, "run_duration_seconds").is_some());

    // b's new version dies at once: its replace fails verification and is rolled back
    // (73); the last success stays.
    w.records(&[
        ("a", Some(&service(IMG, "a"))),
        ("b", Some(&format!("--network none {IMG} false"))),
    ]);
    let o = with_metrics("apply");
    assert_eq!(code(&o), 73, "{}", show(&o));
    let s = exporter.scrape();
    assert_eq!(value(&s, "node_textfile_scrape_error"), Some(0.0), "{s}");
    assert_eq!(run_value(&s, "exit_status"), Some(73.0));
    assert_eq!(
        run_value(&s, "last_success_timestamp_seconds"),
        Some(ok),
        "{s}"
    );
    assert_eq!(state_value(&s, &b, "failed"), Some(1.0), "{s}");
    // The next run holds b's version back.
    let o = with_metrics("apply");
    assert_eq!(code(&o), 73, "{}", show(&o));
    let s = exporter.scrape();
    assert_eq!(state_value(&s, &b, "held_back"), Some(1.0), "{s}");
    // A run that stops before planning (no list: 66) still writes its outcome.
    std::fs::write(w.records_path(), "").unwrap();
    let o = with_metrics("apply");
    assert_eq!(code(&o), 66, "{}", show(&o));
    let s = exporter.scrape();
    assert_eq!(value(&s, "node_textfile_scrape_error"), Some(0.0), "{s}");
    assert_eq!(run_value(&s, "exit_status"), Some(66.0));
    assert_eq!(
        run_value(&s, "last_success_timestamp_seconds"),
        Some(ok),
        "{s}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "only the metrics file: {left:?}");
}

/// A service whose record text starts with `opts`.
fn service_with(opts: &str) -> String {
    format!("{opts} {}", service(IMG, "x"))
}

/// `plan` shows a replace's changed arguments as the grammar splits them, in text and JSON,
/// for a container the original tool made (its label is the same base64 of the text) too.
#[test]
fn plan_shows_the_words_that_changed() {
    let w = World::new("diff");
    let (a, old) = (w.name("a"), w.name("old"));
    let before = service_with("-e A=1");
    // As the original Go tool ran it: its label, base64 of the record text, and nothing else.
    let label = format!(
        "{}={}",
        common::e2e::LABEL,
        docker_dns_provision::container::owner_label(&before)
    );
    let words: Vec<String> = before
        .split(' ')
        .take_while(|w| !w.starts_with("sh"))
        .map(String::from)
        .collect();
    let mut run = vec![
        "run",
        "-d",
        "--name",
        old.as_str(),
        "--label",
        label.as_str(),
    ];
    run.extend(words.iter().map(String::as_str));
    run.extend(["sleep", "600"]);
    let o = common::e2e::docker(&run);
    assert!(o.status.success(), "{}", show(&o));
    w.records(&[("a", Some(&before)), ("old", Some(&before))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let after = service_with("-e A=2 -e B=3");
    w.records(&[("a", Some(&after)), ("old", Some(&after))]);
    let o = w.run(&args(&w, "plan", &[]), &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for name in [&a, &old] {
        let at = text
            .find(&format!("replace        {name} "))
            .unwrap_or_else(|| panic!("{text}"));
        let rest: Vec<&str> = text[at..].lines().skip(1).take(2).collect();
        assert_eq!(rest, ["    - -e A=1", "    + -e A=2 -e B=3"], "{text}");
    }
    let o = w.run(&args(&w, "plan", &["--output", "json"]), &[]);
    let doc = json(&o);
    let replaced: Vec<&serde_json::Value> = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["action"] == "replace")
        .collect();
    assert_eq!(replaced.len(), 2, "{doc:#}");
    for x in replaced {
        assert_eq!(x["old_text"], before.as_str());
        assert_eq!(x["new_text"], after.as_str());
        assert_eq!(
            x["diff"],
            serde_json::json!(["- -e A=1", "+ -e A=2 -e B=3"])
        );
    }
}

/// An edited `--env-file` replaces its container, `plan` naming the file; a container made
/// before file digests existed (no digest label) is not replaced for it.
#[test]
fn an_edited_env_file_is_applied() {
    let w = World::new("envfile");
    let (a, b) = (w.name("a"), w.name("b"));
    let env = w.dir.join("app.env");
    std::fs::write(&env, "A=1\n").unwrap();
    let record = service_with(&format!("--env-file {}", env.display()));
    w.records(&[("a", Some(&record))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let id = common::e2e::inspect(&a).unwrap().0;
    let plan = || {
        w.run(
            &args(&w, "plan", &["--detailed-exitcode", "--output", "json"]),
            &[],
        )
    };
    assert_eq!(code(&plan()), 0);

    std::fs::write(&env, "A=2\n").unwrap();
    let o = plan();
    assert_eq!(code(&o), 2, "{}", show(&o));
    let doc = json(&o);
    let step = &doc["actions"][0];
    assert_eq!(step["action"], "replace", "{doc:#}");
    assert!(
        step["reason"]
            .as_str()
            .unwrap()
            .contains(env.to_str().unwrap()),
        "{doc:#}"
    );
    assert_eq!(step["diff"], serde_json::json!([]), "the text is the same");
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_ne!(common::e2e::inspect(&a).unwrap().0, id, "replaced");
    let env_now = common::e2e::field(&a, "{{json .Config.Env}}").unwrap();
    assert!(env_now.contains("\"A=2\""), "{env_now}");
    assert_eq!(code(&plan()), 0, "converged");

    // Made before this build (the ownership label only): its files are unknown, so kept.
    let label = format!(
        "{}={}",
        common::e2e::LABEL,
        docker_dns_provision::container::owner_label(&record)
    );
    let o = common::e2e::docker(&[
        "run",
        "-d",
        "--name",
        &b,
        "--label",
        &label,
        "--network",
        "none",
        IMG,
        "sleep",
        "600",
    ]);
    assert!(o.status.success(), "{}", show(&o));
    w.records(&[("a", Some(&record)), ("b", Some(&record))]);
    let o = plan();
    assert_eq!(code(&o), 0, "{}", show(&o));
}

/// A container that opts in (`docker-dns-provision.restart-after=db`) is restarted after db
/// is replaced and verified, the same container (its ID kept); one that only waits for db
/// (`after=db`) keeps running untouched.
#[test]
fn dependents_that_opt_in_restart_after_a_replace() {
    let w = World::new("restart");
    let (db, app, cron) = (w.name("db"), w.name("app"), w.name("cron"));
    let records = |db_tag: &str| {
        w.records(&[
            ("db", Some(&service(IMG, db_tag))),
            (
                "app",
                Some(&service_with(&format!(
                    "--label docker-dns-provision.restart-after={db}"
                ))),
            ),
            (
                "cron",
                Some(&service_with(&format!(
                    "--label docker-dns-provision.after={db}"
                ))),
            ),
        ])
    };
    records("v1");
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let started = |n: &str| common::e2e::field(n, "{{.Id}} {{.State.StartedAt}}").unwrap();
    let (db0, app0, cron0) = (started(&db), started(&app), started(&cron));
    records("v2");
    let o = w.run(&args(&w, "plan", &["--output", "json"]), &[]);
    let planned = pairs(&json(&o)["actions"], "container", "action");
    assert!(
        planned.contains(&(app.clone(), "restart".into())),
        "{planned:?}"
    );
    let o = w.run(&args(&w, "apply", &["--output", "json"]), &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let done = pairs(&json(&o)["actions"], "container", "result");
    assert!(done.iter().all(|(_, r)| r == "done"), "{done:?}");
    let (db1, app1, cron1) = (started(&db), started(&app), started(&cron));
    assert_ne!(
        db1.split(' ').next(),
        db0.split(' ').next(),
        "db was replaced"
    );
    assert_eq!(
        app1.split(' ').next(),
        app0.split(' ').next(),
        "app is the same container"
    );
    assert_ne!(app1, app0, "app was restarted");
    assert!(
        app1.split(' ').nth(1) > db1.split(' ').nth(1),
        "app restarted after the new db started: {app1} vs {db1}"
    );
    assert_eq!(cron1, cron0, "cron only waits for db: untouched");
}

/// A local image of its own (a distinct ID, sharing the test image's layers), tagged `tag`.
fn own_image(tag: &str, n: &str) -> String {
    let tmp = format!("ddp-fleet-commit-{n}-{}", std::process::id());
    let d = common::e2e::docker;
    assert!(d(&["create", "--name", &tmp, IMG, "true"]).status.success());
    let o = d(&["commit", "-c", &format!("LABEL ddp.fleet={n}"), &tmp, tag]);
    let _ = d(&["rm", "-f", &tmp]);
    assert!(o.status.success(), "{}", show(&o));
    image_id(tag).expect("committed")
}

fn image_id(image: &str) -> Option<String> {
    let o = common::e2e::docker(&["image", "inspect", "--format", "{{.Id}}", image]);
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// Images of this test, removed when it ends.
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for i in &self.0 {
            let _ = common::e2e::docker(&["rmi", "-f", i]);
        }
    }
}

/// `--prune-images` removes the image a managed container ran before it was replaced or
/// removed once nothing uses it; never one another container (not ours) still uses, never
/// one a record names, and never one the tool never ran. Off by default.
#[test]
fn prune_images_removes_what_the_run_left_unused() {
    let tags: Vec<String> = (1..=4)
        .map(|n| format!("ddp-test/fleet-prune:{n}"))
        .collect();
    // Dropped after the world: its containers go first, so no image is left dangling.
    let _cleanup = Images(tags.clone());
    let w = World::new("prune");
    let ids: Vec<String> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| own_image(t, &i.to_string()))
        .collect();
    let theirs = w.name("theirs");
    // Not ours, running image 3.
    let o = common::e2e::docker(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        &theirs,
        &tags[2],
        "sleep",
        "600",
    ]);
    assert!(o.status.success(), "{}", show(&o));
    w.records(&[
        ("a", Some(&service(&tags[0], "a"))),
        ("b", Some(&service(&tags[1], "b"))),
        ("c", Some(&service(&tags[2], "c"))),
    ]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    // a moves to image 4, b is no longer listed, c moves to image 4 (image 3 stays: theirs).
    w.records(&[
        ("a", Some(&service(&tags[3], "a"))),
        ("c", Some(&service(&tags[3], "c"))),
    ]);
    let o = w.run(
        &args(&w, "apply", &["--prune-images", "--output", "json"]),
        &[],
    );
    assert_eq!(code(&o), 0, "{}", show(&o));
    let doc = json(&o);
    let mut removed: Vec<String> = doc["pruned_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["result"], "removed", "{doc:#}");
            p["image"].as_str().unwrap().to_string()
        })
        .collect();
    removed.sort();
    let mut want = vec![ids[0].clone(), ids[1].clone()];
    want.sort();
    assert_eq!(removed, want, "{doc:#}");
    assert_eq!(doc["summary"]["pruned"], 2);
    assert!(image_id(&tags[0]).is_none() && image_id(&tags[1]).is_none());
    assert_eq!(
        image_id(&tags[2]).as_ref(),
        Some(&ids[2]),
        "theirs still uses it"
    );
    assert_eq!(image_id(&tags[3]).as_ref(), Some(&ids[3]), "in use");
    assert!(image_id(IMG).is_some());

    // Without the option nothing is pruned: a moves back to a new image 1, c goes, and
    // image 4, unused now, stays.
    let _ = own_image(&tags[0], "0");
    w.records(&[("a", Some(&service(&tags[0], "a")))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(
        image_id(&tags[3]).as_ref(),
        Some(&ids[3]),
        "no --prune-images"
    );
    let _ = common::e2e::docker(&["rm", "-f", &theirs]);
}

/// With `--pull always`, `plan` asks the (authenticated) registry whether the tag moved,
/// through the engine and with the registry credentials, and pulls nothing: "image update
/// available", exit 2 with --detailed-exitcode. Without the credentials the registry refuses.
#[test]
fn plan_sees_a_moved_tag_without_pulling() {
    use common::registry::{PASSWORD, Registry, USER, login_auth};
    let reg = Registry::start(true);
    let w = World::new("moved");
    let image = reg.push(IMG, "ddp/fleet:moved");
    let config = w.dir.join("docker");
    std::fs::create_dir_all(&config).unwrap();
    let auths =
        serde_json::json!({"auths": {reg.host.clone(): {"auth": login_auth(USER, PASSWORD)}}});
    std::fs::write(config.join("config.json"), auths.to_string()).unwrap();
    let with = |cmd: &str, extra: &[&str]| {
        let mut a = vec![
            "--pull",
            "always",
            "--docker-config",
            config.to_str().unwrap(),
        ];
        a.extend(extra);
        w.run(&args(&w, cmd, &a), &[])
    };
    w.records(&[("a", Some(&service(&image, "a")))]);
    let o = with("apply", &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let o = with("plan", &["--detailed-exitcode"]);
    assert_eq!(code(&o), 0, "the tag did not move: {}", show(&o));

    common::e2e::ensure_v2();
    reg.push(common::e2e::IMG2, "ddp/fleet:moved");
    let o = with("plan", &["--detailed-exitcode", "--output", "json"]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let doc = json(&o);
    let step = &doc["actions"][0];
    assert_eq!(step["action"], "replace", "{doc:#}");
    assert!(
        step["reason"]
            .as_str()
            .unwrap()
            .starts_with("image update available"),
        "{doc:#}"
    );
    let pulled = common::e2e::docker(&["image", "inspect", &image]);
    assert!(!pulled.status.success(), "plan pulled {image}");
    // The registry asks for credentials: without them plan cannot tell, and says so.
    let o = w.run(
        &args(
            &w,
            "plan",
            &[
                "--pull",
                "always",
                "--docker-config",
                w.dir.to_str().unwrap(),
            ],
        ),
        &[],
    );
    assert_eq!(code(&o), 73, "{}", show(&o));
    // apply pulls and replaces, as plan said.
    let o = with("apply", &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let o = with("plan", &["--detailed-exitcode"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
}
