//! `plan` and `apply` end to end: the real binary, the real engine, real dnsmasq, and a
//! fault-injecting proxy in front of the engine socket.
//!
//! The tool manages every container on the engine that carries its label, so two of these
//! tests running at once would remove each other's containers: they take one lock.

mod common;

use common::binary::pairs;
use common::dnsmasq::Dnsmasq;
use common::e2e::{IMG, IMG2, LABEL, code, docker, field, names_with, service, show};
use common::engine_proxy::{EngineProxy, Fault, fresh_socket_path};
use common::world::World;
use std::time::Duration;

#[test]
fn seed_example_over_dnsmasq_converges_and_reruns_as_a_noop() {
    let w = World::new("seed");
    let (etcd, sleeper, echoer) = (
        w.name("etcd"),
        w.name("bash-sleeper"),
        w.name("bash-echoer"),
    );
    // The seed's records, with local images (nothing can be pulled here) and its misspelt
    // `bash-echoerr` record kept: bash-echoer is listed but has no record.
    let conf = format!(
        "local=/test/\n\
         txt-record=containers.docker.will-desktop.seed.test,{etcd}\n\
         txt-record=containers.docker.will-desktop.seed.test,{sleeper}\n\
         txt-record=containers.docker.will-desktop.seed.test,{echoer}\n\
         txt-record={etcd}.containers.docker.will-desktop.seed.test,\"--network none {IMG} sleep 3600\"\n\
         txt-record={sleeper}.containers.docker.will-desktop.seed.test,\"--network none {IMG} sleep 60\"\n\
         txt-record={echoer}r.containers.docker.will-desktop.seed.test,\"--network none {IMG} echo HelloDNS!\"\n"
    );
    let dns = Dnsmasq::start(&conf);
    let args = |cmd: &str| -> Vec<String> {
        vec![
            cmd.into(),
            "--hostname".into(),
            "will-desktop.seed.test".into(),
            "--nameserver".into(),
            dns.addr.to_string(),
            "--lock-file".into(),
            w.dir.join("lock").display().to_string(),
            "--timeout".into(),
            "20s".into(),
        ]
    };
    let o = w.run(&args("plan"), &["--output".into(), "json".into()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let actions = pairs(&plan["actions"], "container", "action");
    assert!(
        actions.contains(&(etcd.clone(), "create".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&(sleeper.clone(), "create".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&(echoer.clone(), "leave".into())),
        "{actions:?}"
    );
    assert!(inspect(&etcd).is_none(), "plan must not change anything");

    let o = w.run(&args("apply"), &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (etcd_id, running, label) = inspect(&etcd).expect("etcd created");
    assert!(running);
    assert!(label.is_some());
    let (sleeper_id, running, _) = inspect(&sleeper).expect("bash-sleeper created");
    assert!(running);
    assert!(
        inspect(&echoer).is_none(),
        "bash-echoer has no record: launch disabled"
    );

    // A no-op rerun changes nothing and asks the engine exactly twice (_ping, list).
    let o = w.run(&args("apply"), &[]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(inspect(&etcd).unwrap().0, etcd_id);
    assert_eq!(inspect(&sleeper).unwrap().0, sleeper_id);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("engine calls: 2,"), "{}", show(&o));
}

#[test]
fn changes_replace_only_what_changed_remove_the_unlisted_and_start_the_stopped() {
    let w = World::new("change");
    let (a, b, c) = (w.name("a"), w.name("b"), w.name("c"));
    let theirs = w.name("theirs");
    let st = docker(&["run", "-d", "--network", "none", "--name", &theirs, IMG]);
    assert!(st.status.success());
    let theirs_id = inspect(&theirs).unwrap().0;

    w.records(&[
        ("a", Some(&service(IMG, "a"))),
        ("b", Some(&service(IMG, "b"))),
        ("c", Some(&service(IMG, "c"))),
    ]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let ids: Vec<String> = [&a, &b, &c].iter().map(|n| inspect(n).unwrap().0).collect();

    // b changes, c is no longer listed, a is stopped behind our back.
    assert!(docker(&["stop", "-t", "0", &a]).status.success());
    w.records(&[
        ("a", Some(&service(IMG, "a"))),
        ("b", Some(&service(IMG2, "b"))),
    ]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (a_id, a_running, _) = inspect(&a).unwrap();
    assert_eq!(a_id, ids[0], "a is the same container");
    assert!(a_running, "a was started again");
    let (b_id, b_running, _) = inspect(&b).unwrap();
    assert_ne!(b_id, ids[1], "b was replaced");
    assert!(b_running);
    assert!(inspect(&c).is_none(), "c was removed");
    let (t_id, t_running, t_label) = inspect(&theirs).unwrap();
    assert_eq!(
        (t_id, t_running, t_label),
        (theirs_id, true, None),
        "never touched"
    );
    assert_eq!(
        names_with(w.prefix()).len(),
        3,
        "no temporaries: {:?}",
        names_with(w.prefix())
    );
}

#[test]
fn an_unlabelled_container_with_a_dns_name_is_adopted_unless_no_adopt() {
    let w = World::new("adopt");
    let n = w.name("svc");
    assert!(
        docker(&["run", "-d", "--network", "none", "--name", &n, IMG])
            .status
            .success()
    );
    let before = inspect(&n).unwrap().0;
    w.records(&[("svc", Some(&service(IMG, "adopt")))]);

    let o = w.run(&w.args("apply"), &["--no-adopt".into()]);
    assert_eq!(code(&o), 65, "{}", show(&o));
    assert_eq!(inspect(&n).unwrap(), (before.clone(), true, None));

    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (id, running, label) = inspect(&n).unwrap();
    assert_ne!(id, before);
    assert!(running && label.is_some());
}

#[test]
fn dns_outage_exits_75_and_removes_nothing() {
    let w = World::new("outage");
    let n = w.name("svc");
    w.records(&[("svc", Some(&service(IMG, "outage")))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let id = inspect(&n).unwrap().0;

    // Nobody answers on this port: every lookup is Unavailable until the timeout.
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let o = w.run(
        &[
            "apply".into(),
            "--hostname".into(),
            "e2e.test".into(),
            "--nameserver".into(),
            format!("127.0.0.1:{port}"),
            "--lock-file".into(),
            w.dir.join("lock").display().to_string(),
            "--timeout".into(),
            "2s".into(),
        ],
        &[],
    );
    assert_eq!(code(&o), 75, "{}", show(&o));
    let (after, running, _) = inspect(&n).unwrap();
    assert_eq!((after, running), (id, true), "nothing removed or stopped");
}

#[test]
fn a_failed_replace_keeps_the_old_container_running() {
    let w = World::new("rollback");
    let n = w.name("svc");
    w.records(&[("svc", Some(&service(IMG, "rollback")))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (id, _, label) = inspect(&n).unwrap();

    // The new image does not exist (and cannot be pulled: no registry, fails fast).
    w.records(&[("svc", Some("localhost:1/missing/image:1 sleep 1"))]);
    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert_eq!(inspect(&n).unwrap(), (id.clone(), true, label.clone()));

    // The new container cannot start: its entrypoint does not exist.
    w.records(&[(
        "svc",
        Some(&format!(
            "--network none --entrypoint /no/such/binary {IMG}"
        )),
    )]);
    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert_eq!(inspect(&n).unwrap(), (id, true, label));
    assert_eq!(
        names_with(w.prefix()),
        vec![n.clone(), format!("{n}.ddp-failed")],
        "the version that cannot start is kept aside, nothing else"
    );
}

#[test]
fn engine_socket_appearing_within_the_timeout() {
    let w = World::new("socket");
    w.records(&[("svc", Some(&service(IMG, "socket")))]);
    let socket = fresh_socket_path();
    let later = socket.clone();
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        EngineProxy::start_at(later, Fault::None)
    });
    let o = w.apply_via(&socket);
    let _proxy = starter.join().unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(inspect(&w.name("svc")).unwrap().1);

    // Never appearing: 69 after the timeout.
    let o = w.run(
        &w.args("apply"),
        &[
            "--docker-host".into(),
            format!("unix://{}", fresh_socket_path().display()),
            "--timeout".into(),
            "1s".into(),
        ],
    );
    assert_eq!(code(&o), 69, "{}", show(&o));
}

/// Fail or cut every engine request of a replace plus a removal, one at a time; after each,
/// a plain rerun converges with no temporaries left and the service running.
///
/// A fault the engine never sees (an HTTP 500, a connection cut before the request reaches
/// it) is swept over every call by the unit tests against the fake engine
/// (`src/apply/fake_tests.rs`); here, against the real engine, only what the fake cannot
/// show for sure: the engine acted and its reply was cut. One other kind stays as a check
/// that the real engine agrees with the fake.
#[test]
fn every_step_of_a_replace_and_a_removal_survives_a_fault() {
    let mut w = World::new("faults");
    // Every request is broken in turn: a short window keeps the many runs quick.
    w.settle = "300ms";
    let (svc, gone) = (w.name("svc"), w.name("gone"));
    let v1 = service(IMG, "faults");
    let v2 = service(IMG2, "faults");
    for fault in [
        Fault::Status500At as fn(usize) -> Fault,
        Fault::CutResponseAt,
    ] {
        let mut k = 1;
        loop {
            w.records(&[("svc", Some(&v1)), ("gone", Some(&v1))]);
            let o = w.apply();
            assert_eq!(code(&o), 0, "setup: {}", show(&o));
            let before = inspect(&svc).unwrap().0;

            // Replace svc, remove gone, through a proxy that breaks request k.
            w.records(&[("svc", Some(&v2))]);
            let proxy = EngineProxy::start(fault(k));
            let o = w.apply_via(&proxy.socket);
            let seen = proxy.requests().len();
            drop(proxy);
            let broke = code(&o) != 0;

            // Whatever happened, the service is up under its name.
            let (_, running, _) = inspect(&svc)
                .unwrap_or_else(|| panic!("{:?} at {k}: service lost\n{}", fault(k), show(&o)));
            let leftovers = names_with(w.prefix());
            let o2 = w.apply();
            assert_eq!(
                code(&o2),
                0,
                "{:?} at {k}: rerun\n{}\n{}",
                fault(k),
                show(&o),
                show(&o2)
            );
            let (after, running2, _) = inspect(&svc).unwrap();
            assert!(running2, "{:?} at {k}", fault(k));
            assert_ne!(
                after,
                before,
                "{:?} at {k}: svc replaced by the rerun",
                fault(k)
            );
            assert!(inspect(&gone).is_none(), "{:?} at {k}", fault(k));
            assert_eq!(
                names_with(w.prefix()),
                vec![svc.clone()],
                "{:?} at {k}: {leftovers:?}",
                fault(k)
            );
            let _ = running;
            if !broke && k > seen {
                break; // k went past the last request: every step has been broken once
            }
            k += 1;
            assert!(k < 40, "runaway");
            // Start the next round from v1 again.
            w.records(&[("svc", Some(&v1)), ("gone", Some(&v1))]);
            let o = w.apply();
            assert_eq!(code(&o), 0, "reset: {}", show(&o));
        }
    }
}

#[test]
fn two_concurrent_applies_one_waits_both_end_consistent() {
    let w = World::new("concurrent");
    let names: Vec<(String, String)> = (0..4)
        .map(|i| (format!("s{i}"), service(IMG, &format!("c{i}"))))
        .collect();
    let recs: Vec<(&str, Option<&str>)> = names
        .iter()
        .map(|(n, t)| (n.as_str(), Some(t.as_str())))
        .collect();
    w.records(&recs);
    let (o1, o2) = std::thread::scope(|s| {
        let a = s.spawn(|| w.apply());
        let b = s.spawn(|| w.apply());
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(code(&o1), 0, "{}", show(&o1));
    assert_eq!(code(&o2), 0, "{}", show(&o2));
    let both = format!(
        "{}{}",
        String::from_utf8_lossy(&o1.stderr),
        String::from_utf8_lossy(&o2.stderr)
    );
    assert!(
        both.contains("waiting"),
        "one run waited for the lock:\n{both}"
    );
    for (n, _) in &names {
        assert!(inspect(&w.name(n)).unwrap().1);
    }
    assert_eq!(names_with(w.prefix()).len(), 4);
}

/// A container's (id, running, our label) by exact name.
fn inspect(name: &str) -> Option<(String, bool, Option<String>)> {
    let (id, running, _) = common::e2e::inspect(name)?;
    let o = docker(&[
        "inspect",
        "--type",
        "container",
        "--format",
        &format!("{{{{index .Config.Labels \"{LABEL}\"}}}}"),
        &id,
    ]);
    let label = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let owned = o.status.success() && !label.is_empty() && label != "<no value>";
    Some((id, running, owned.then_some(label)))
}

/// Issue 12, item 4: a crash after the old container was stopped but before it was renamed
/// aside, then a new version that cannot start: the old service must run again, not stay
/// stopped for good.
#[test]
fn a_crash_after_stopping_the_old_one_never_leaves_the_service_stopped() {
    let w = World::new("crash-stopped");
    let n = w.name("svc");
    w.records(&[("svc", Some(&service(IMG, "v1")))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (id, _, label) = inspect(&n).unwrap();

    // What the crash left: the replacement created aside, the old one stopped in place.
    let new = format!("{n}.ddp-new");
    let lbl = format!("{LABEL}=v2");
    let st = docker(&[
        "create",
        "--name",
        &new,
        "--label",
        &lbl,
        "--network",
        "none",
        IMG,
    ]);
    assert!(st.status.success(), "{}", show(&st));
    assert!(docker(&["stop", "-t", "5", &n]).status.success());
    w.records(&[(
        "svc",
        Some(&format!(
            "--network none --entrypoint /no/such/binary {IMG}"
        )),
    )]);
    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert_eq!(
        inspect(&n).unwrap(),
        (id.clone(), true, label.clone()),
        "the old service runs again\n{}",
        show(&o)
    );
    // And a later run, with the same bad record, does not leave it down either.
    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert_eq!(inspect(&n).unwrap(), (id, true, label), "{}", show(&o));
    assert!(inspect(&new).is_none(), "{:?}", names_with(w.prefix()));
}

/// Issue 12, item 5: a replace interrupted with the old container renamed aside is put back
/// while DNS is down (or the host is not configured), and the run still exits with the DNS
/// code.
#[test]
fn an_interrupted_replace_is_repaired_without_dns() {
    let w = World::new("crash-nodns");
    let n = w.name("svc");
    let old = format!("{n}.ddp-old");
    w.records(&[("svc", Some(&service(IMG, "v1")))]);
    let crash = || {
        let o = w.apply();
        assert_eq!(code(&o), 0, "{}", show(&o));
        let (id, _, label) = inspect(&n).unwrap();
        assert!(docker(&["stop", "-t", "5", &n]).status.success());
        assert!(docker(&["rename", &n, &old]).status.success());
        (id, label)
    };

    // DNS unavailable: nobody answers on this port.
    let (id, label) = crash();
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let o = w.run(
        &[
            "apply".into(),
            "--hostname".into(),
            "e2e.test".into(),
            "--nameserver".into(),
            format!("127.0.0.1:{port}"),
            "--lock-file".into(),
            w.dir.join("lock").display().to_string(),
            "--timeout".into(),
            "2s".into(),
        ],
        &[],
    );
    assert_eq!(code(&o), 75, "{}", show(&o));
    assert_eq!(inspect(&n), Some((id, true, label)), "{}", show(&o));
    assert!(inspect(&old).is_none(), "{}", show(&o));

    // No list at all for this host: 66, and repaired all the same.
    let (id, label) = crash();
    let records = w.records_path();
    let listed = std::fs::read_to_string(&records).unwrap();
    std::fs::write(&records, "txt-record=other.example,x\n").unwrap();
    let o = w.apply();
    std::fs::write(&records, listed).unwrap();
    assert_eq!(code(&o), 66, "{}", show(&o));
    assert_eq!(inspect(&n), Some((id, true, label)), "{}", show(&o));
    assert!(inspect(&old).is_none(), "{}", show(&o));
}

/// Issue 12, item 6: with --no-adopt, a temporary without our label is not ours to touch.
#[test]
fn no_adopt_never_touches_an_unlabelled_temporary() {
    let w = World::new("noadopt-tmp");
    let n = w.name("svc");
    let old = format!("{n}.ddp-old");
    let st = docker(&["run", "-d", "--network", "none", "--name", &old, IMG]);
    assert!(st.status.success(), "{}", show(&st));
    let theirs = inspect(&old).unwrap();
    w.records(&[("svc", Some(&service(IMG, "v1")))]);
    let o = w.run(&w.args("apply"), &["--no-adopt".into()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(inspect(&old), Some(theirs), "{}", show(&o));
    let (_, running, label) = inspect(&n).expect("created under its own name");
    assert!(running && label.is_some());
}

/// Issue 11 §1–§3: a replacement that does not verify is rolled back and kept aside as
/// `.ddp-failed` with its output in the report; the same record is then held back without
/// touching the old service; a new record is tried again.
#[test]
fn a_replacement_that_fails_verification_is_rolled_back_and_held_back() {
    let w = World::new("verify");
    let n = w.name("svc");
    let failed = format!("{n}.ddp-failed");
    w.records(&[("svc", Some(&service(IMG, "v1")))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (id, _, label) = inspect(&n).unwrap();
    let started = field(&n, "{{.State.StartedAt}}").unwrap();

    let broken =
        format!("--network none {IMG} sh -c 'echo broken-output-1; echo broken-output-2; exit 3'");
    w.records(&[("svc", Some(&broken))]);
    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert_eq!(
        inspect(&n).unwrap(),
        (id.clone(), true, label.clone()),
        "{}",
        show(&o)
    );
    let report = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "exited with status 3",
        "broken-output-1",
        "broken-output-2",
        ".ddp-failed",
    ] {
        assert!(
            report.contains(needle),
            "report lacks {needle:?}: {}",
            show(&o)
        );
    }
    let (failed_id, failed_running, failed_label) = inspect(&failed).expect("kept aside");
    assert!(!failed_running);
    assert!(failed_label.is_some_and(|l| Some(&l) != label.as_ref()));
    let restarted = field(&n, "{{.State.StartedAt}}").unwrap();
    assert_ne!(
        restarted, started,
        "the old one was stopped for the try, then started"
    );

    // The same record again: held back, the old service is not touched at all.
    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("held-back"),
        "{}",
        show(&o)
    );
    assert_eq!(
        field(&n, "{{.State.StartedAt}}").unwrap(),
        restarted,
        "{}",
        show(&o)
    );
    assert_eq!(inspect(&failed).unwrap().0, failed_id);

    // Other ways to fail: a clean exit the restart policy restarts, a healthcheck that
    // never passes. Each is a new record, so each is tried, rolled back and held back.
    for bad in [
        format!("--network none --restart always {IMG} sh -c 'exit 0'"),
        format!(
            "--network none --health-cmd false --health-interval 300ms --health-retries 1 {IMG} sleep 3600"
        ),
    ] {
        w.records(&[("svc", Some(&bad))]);
        let o = w.apply();
        assert_eq!(code(&o), 73, "{bad}: {}", show(&o));
        assert_eq!(
            inspect(&n).unwrap(),
            (id.clone(), true, label.clone()),
            "{bad}: {}",
            show(&o)
        );
        let (now_failed, _, _) = inspect(&failed).expect("kept aside");
        assert_ne!(
            now_failed, failed_id,
            "{bad}: the older failure was discarded"
        );
    }

    // A fixed record is tried and succeeds; nothing is left aside.
    w.records(&[("svc", Some(&service(IMG2, "v2")))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (new_id, running, _) = inspect(&n).unwrap();
    assert!(running && new_id != id);
    assert_eq!(names_with(w.prefix()), vec![n], "{}", show(&o));
}

/// Issue 11 §1, §4: `apply` returns only once a new container's healthcheck passes, a
/// one-shot job exiting 0 is a success and exiting 1 a failure, and a kept container that
/// is unhealthy fails the run without being touched.
#[test]
fn apply_returns_when_containers_are_up_and_fails_when_they_are_not() {
    let w = World::new("gate");
    let (web, job, bad) = (w.name("web"), w.name("job"), w.name("bad"));
    let healthy_later = format!(
        "--network none --health-cmd 'test -f /tmp/ok' --health-interval 500ms --health-start-period 10s {IMG} sh -c 'trap \"exit 0\" TERM; sleep 2; touch /tmp/ok; while sleep 1; do :; done'"
    );
    let one_shot = |status: u8| format!("--network none {IMG} sh -c 'echo done; exit {status}'");
    w.records(&[("web", Some(&healthy_later)), ("job", Some(&one_shot(0)))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(
        field(&web, "{{.State.Health.Status}}").as_deref(),
        Some("healthy")
    );
    assert_eq!(field(&job, "{{.State.ExitCode}}").as_deref(), Some("0"));

    w.records(&[
        ("web", Some(&healthy_later)),
        ("job", Some(&one_shot(0))),
        ("bad", Some(&one_shot(1))),
    ]);
    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("exited with status 1"),
        "{}",
        show(&o)
    );
    assert!(
        inspect(&bad).is_some(),
        "a new container that failed stays for `docker logs`"
    );

    // A kept container whose healthcheck fails: reported, not touched.
    let sick = w.name("sick");
    let sick_text = format!(
        "--network none --health-cmd 'test -f /tmp/ok' --health-interval 300ms --health-retries 1 {IMG} sh -c 'trap \"exit 0\" TERM; touch /tmp/ok; while sleep 1; do :; done'"
    );
    w.records(&[("sick", Some(&sick_text))]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (sick_id, _, _) = inspect(&sick).unwrap();
    assert!(docker(&["exec", &sick, "rm", "/tmp/ok"]).status.success());
    let mut tries = 0;
    while field(&sick, "{{.State.Health.Status}}").as_deref() != Some("unhealthy") {
        tries += 1;
        assert!(tries < 50, "never became unhealthy");
        std::thread::sleep(Duration::from_millis(200));
    }
    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("unhealthy"),
        "{}",
        show(&o)
    );
    assert_eq!(inspect(&sick).unwrap().0, sick_id, "left as it is");
}

/// Issue 11 §5: a container in another's network namespace starts after it, one with an
/// `after` label after that one is healthy, under `--jobs 4`; replacing the first recreates
/// the one in its namespace; a cycle is invalid and holds up nothing else.
#[test]
fn containers_start_in_dependency_order() {
    let w = World::new("order");
    let (a, b, c) = (w.name("a"), w.name("b"), w.name("c"));
    let b_text = format!(
        "--network container:{a} --health-cmd 'test -f /tmp/ok' --health-interval 300ms --health-start-period 10s {IMG} sh -c 'trap \"exit 0\" TERM; sleep 2; touch /tmp/ok; while sleep 1; do :; done'"
    );
    let c_text = format!(
        "--network none --label docker-dns-provision.after={b} {IMG} sh -c 'trap \"exit 0\" TERM; while sleep 1; do :; done'"
    );
    // Listed in reverse, so that list order alone would start them wrongly.
    w.records(&[
        ("c", Some(&c_text)),
        ("b", Some(&b_text)),
        ("a", Some(&service(IMG, "a1"))),
    ]);
    let o = w.run(&w.args("apply"), &["--jobs".into(), "4".into()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let started = |n: &str| field(n, "{{.State.StartedAt}}").unwrap();
    let created = |n: &str| field(n, "{{.Created}}").unwrap();
    // RFC 3339 with the same zone and precision: text order is time order.
    assert!(started(&a) < created(&b), "{}", show(&o));
    assert_eq!(
        field(&b, "{{.State.Health.Status}}").as_deref(),
        Some("healthy")
    );
    let healthy_at = field(&b, "{{(index .State.Health.Log 0).End}}").unwrap();
    assert!(
        healthy_at < created(&c),
        "c waited for b to be healthy: {}",
        show(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("after"),
        "{}",
        show(&o)
    );

    // Replacing a recreates b, whose namespace died with the old a; c is kept.
    let (b_id, c_id) = (inspect(&b).unwrap().0, inspect(&c).unwrap().0);
    w.records(&[
        ("c", Some(&c_text)),
        ("b", Some(&b_text)),
        ("a", Some(&service(IMG, "a2"))),
    ]);
    let o = w.run(&w.args("apply"), &["--jobs".into(), "4".into()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_ne!(inspect(&b).unwrap().0, b_id, "{}", show(&o));
    assert!(inspect(&b).unwrap().1);
    assert_eq!(inspect(&c).unwrap().0, c_id, "{}", show(&o));

    // A cycle: both invalid, left alone; the others still converge.
    let (p, q, d) = (w.name("p"), w.name("q"), w.name("d"));
    let after =
        |x: &str| format!("--network none --label docker-dns-provision.after={x} {IMG} sleep 3600");
    w.records(&[
        ("p", Some(&after(&q))),
        ("q", Some(&after(&p))),
        ("d", Some(&service(IMG, "d"))),
    ]);
    let o = w.apply();
    assert_eq!(code(&o), 65, "{}", show(&o));
    assert!(
        inspect(&p).is_none() && inspect(&q).is_none(),
        "{}",
        show(&o)
    );
    assert!(inspect(&d).unwrap().1, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("waits for itself"),
        "{}",
        show(&o)
    );
}

/// Issue 11 §5: removals run in reverse order (what uses a container goes first), and a
/// container that a remaining one still runs in is left, whatever DNS says.
#[test]
fn removals_go_after_what_uses_them() {
    let w = World::new("rmorder");
    let (a, b, c, d, e, u) = (
        w.name("a"),
        w.name("b"),
        w.name("c"),
        w.name("d"),
        w.name("e"),
        w.name("u"),
    );
    let sleeper = "sh -c 'trap \"exit 0\" TERM; while sleep 1; do :; done'";
    let b_text = format!("--network container:{a} {IMG} {sleeper}");
    let c_text = format!("--network none --label docker-dns-provision.after={b} {IMG} {sleeper}");
    w.records(&[
        ("a", Some(&service(IMG, "a"))),
        ("b", Some(&b_text)),
        ("c", Some(&c_text)),
        ("d", Some(&service(IMG, "d"))),
    ]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    // Not ours: it runs in d's network namespace.
    let o = docker(&[
        "run",
        "-d",
        "--name",
        &u,
        "--network",
        &format!("container:{d}"),
        IMG,
        "sleep",
        "3600",
    ]);
    assert!(o.status.success(), "{}", show(&o));

    let now = || {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        format!("{}.{:09}", t.as_secs(), t.subsec_nanos())
    };
    let since = now();
    w.records(&[("e", Some(&service(IMG, "e")))]);
    let o = w.run(&w.args("apply"), &["--jobs".into(), "4".into()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let until = now();
    let events = docker(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "type=container",
        "--filter",
        "event=destroy",
        "--format",
        "{{.Actor.Attributes.name}}",
    ]);
    let destroyed: Vec<String> = String::from_utf8_lossy(&events.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(destroyed, [c.clone(), b.clone(), a.clone()], "{}", show(&o));
    assert!(inspect(&d).unwrap().1, "d is still used by u: {}", show(&o));
    assert!(inspect(&u).unwrap().1, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("{u} uses it")),
        "{}",
        show(&o)
    );

    // Once nothing uses it, it goes.
    assert!(docker(&["rm", "-f", &u]).status.success());
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(inspect(&d).is_none(), "{}", show(&o));
    assert!(inspect(&e).unwrap().1, "{}", show(&o));

    // q goes only once r, which runs in its namespace, is replaced by a version that does
    // not; the new version fails, the old r runs again, and so q stays.
    let (q, r) = (w.name("q"), w.name("r"));
    w.records(&[
        ("q", Some(&service(IMG, "q"))),
        (
            "r",
            Some(&format!("--network container:{q} {IMG} {sleeper}")),
        ),
    ]);
    let o = w.apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let r_id = inspect(&r).unwrap().0;
    w.records(&[(
        "r",
        Some(&format!("--network none {IMG} sh -c 'echo bad; exit 3'")),
    )]);
    let o = w.apply();
    assert_eq!(code(&o), 73, "{}", show(&o));
    let (id, running, _) = inspect(&r).unwrap();
    assert_eq!((id, running), (r_id, true), "{}", show(&o));
    assert!(inspect(&q).unwrap().1, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("uses it and was not removed or replaced"),
        "{}",
        show(&o)
    );
}

/// Issue 11: cut the reply to every engine request of a replace that fails verification
/// (the watch, keeping it as `.ddp-failed`, the rollback), one at a time; after each, a
/// plain rerun leaves the old service running under its name and no replace temporaries.
///
/// An HTTP 500 at each of these calls is swept by the unit tests against the fake engine
/// (`src/apply/fake_tests.rs`); a cut reply, after which the real engine has acted, stays
/// here.
#[test]
fn every_step_of_a_rollback_survives_a_fault() {
    let mut w = World::new("rbfaults");
    // The bad version dies at once: a short window sees it and keeps the many runs quick.
    w.settle = "300ms";
    let svc = w.name("svc");
    let v1 = service(IMG, "rbfaults");
    let bad = format!("--network none {IMG} sh -c 'echo bad; exit 3'");
    let fault = Fault::CutResponseAt;
    let mut k = 1;
    loop {
        w.records(&[("svc", Some(&v1))]);
        let o = w.apply();
        assert_eq!(code(&o), 0, "setup: {}", show(&o));
        let _ = docker(&["rm", "-f", &format!("{svc}.ddp-failed")]);
        let before = inspect(&svc).unwrap().0;

        w.records(&[("svc", Some(&bad))]);
        let proxy = EngineProxy::start(fault(k));
        let o = w.apply_via(&proxy.socket);
        let seen = proxy.requests().len();
        drop(proxy);
        assert_ne!(
            code(&o),
            0,
            "{:?} at {k}: a bad version never passes\n{}",
            fault(k),
            show(&o)
        );

        let o2 = w.apply();
        assert_eq!(
            code(&o2),
            73,
            "{:?} at {k}: rerun\n{}\n{}",
            fault(k),
            show(&o),
            show(&o2)
        );
        let (after, running, _) = inspect(&svc).unwrap_or_else(|| {
            panic!(
                "{:?} at {k}: service lost\n{}\n{}",
                fault(k),
                show(&o),
                show(&o2)
            )
        });
        assert!(
            running,
            "{:?} at {k}: service down\n{}\n{}",
            fault(k),
            show(&o),
            show(&o2)
        );
        // Recovery may have put the old one back after a replacement took the name; it
        // is the old container either way.
        assert_eq!(
            after,
            before,
            "{:?} at {k}\n{}\n{}",
            fault(k),
            show(&o),
            show(&o2)
        );
        let left: Vec<String> = names_with(w.prefix())
            .into_iter()
            .filter(|n| n.ends_with(".ddp-new") || n.ends_with(".ddp-old"))
            .collect();
        assert!(left.is_empty(), "{:?} at {k}: {left:?}", fault(k));
        if k > seen {
            break;
        }
        k += 1;
        assert!(k < 60, "runaway");
    }
}
