use super::*;
use crate::container::OWNER_LABEL;
use crate::images::ImageError;

fn spec(text: &str) -> Arc<ContainerSpec> {
    Arc::new(crate::container::tests::example(
        text,
        serde_json::json!({"Image": "x", "Labels": {OWNER_LABEL: format!("L({text})")}}),
    ))
}

fn ctr(name: &str, owner_text: Option<&str>, state: &str) -> Container {
    let mut labels = std::collections::BTreeMap::new();
    if let Some(t) = owner_text {
        labels.insert(OWNER_LABEL.to_string(), format!("L({t})"));
    }
    labels.insert("other".into(), "x".into());
    Container {
        id: format!("id-{name}"),
        name: name.to_string(),
        labels,
        state: state.to_string(),
        ..Container::default()
    }
}

fn listed(ws: Vec<(&str, WantedState)>) -> Desired {
    Desired {
        host: "h".into(),
        walk: crate::walk::walk("h", &crate::walk::Bound::PublicSuffix).unwrap(),
        list_records: vec!["containers.docker.h".into()],
        list: HostList::Listed(
            ws.into_iter()
                .map(|(n, state)| Wanted {
                    name: n.into(),
                    state,
                })
                .collect(),
        ),
    }
}

fn want(text: &str) -> WantedState {
    WantedState::Spec {
        record: "r".into(),
        spec: spec(text),
    }
}

fn invalid() -> WantedState {
    WantedState::Invalid {
        record: None,
        text: None,
        why: "bad".into(),
    }
}

/// A compact rendering: "name:verb[:id]".
fn render(p: &Plan) -> Vec<String> {
    p.steps
        .iter()
        .map(|s| {
            let (verb, id) = match &s.action {
                Action::Create { .. } => ("create", None),
                Action::Start { existing } => ("start", Some(&existing.id)),
                Action::Restart { existing } => ("restart", Some(&existing.id)),
                Action::Replace { existing, .. } => ("replace", Some(&existing.id)),
                Action::Remove { existing } => ("remove", Some(&existing.id)),
                Action::Keep { existing } => ("keep", Some(&existing.id)),
                Action::Finished { existing } => ("finished", existing.as_ref().map(|e| &e.id)),
                Action::HeldBack { failed, .. } => ("held-back", Some(&failed.id)),
                Action::Leave { existing } => ("leave", existing.as_ref().map(|e| &e.id)),
                Action::RenameBack { old } => ("rename-back", Some(&old.id)),
                Action::Discard { existing } => ("discard", Some(&existing.id)),
            };
            match id {
                Some(id) => format!("{}:{verb}:{id}", s.name),
                None => format!("{}:{verb}", s.name),
            }
        })
        .collect()
}

fn plan(d: &Desired, actual: &[Container]) -> Plan {
    plan_with(d, actual, Settings::default())
}

/// Recovery, then the plan, as a run does them.
fn plan_with(d: &Desired, actual: &[Container], s: Settings) -> Plan {
    let recovery = crate::recover::recover(actual.to_vec(), s.no_adopt);
    make(d, &recovery, s)
}

#[test]
fn the_table() {
    // desired \ actual: none | same label | other label | no label
    type Case = (WantedState, Option<Container>, &'static str, Code);
    let cases: Vec<Case> = vec![
        (want("a"), None, "n1:create", Code::Ok),
        (
            want("a"),
            Some(ctr("n1", Some("a"), "running")),
            "n1:keep:id-n1",
            Code::Ok,
        ),
        (
            want("a"),
            Some(ctr("n1", Some("a"), "exited")),
            "n1:start:id-n1",
            Code::Ok,
        ),
        (
            want("a"),
            Some(ctr("n1", Some("a"), "created")),
            "n1:start:id-n1",
            Code::Ok,
        ),
        (
            want("a"),
            Some(ctr("n1", Some("b"), "running")),
            "n1:replace:id-n1",
            Code::Ok,
        ),
        (
            want("a"),
            Some(ctr("n1", None, "running")),
            "n1:replace:id-n1",
            Code::Ok,
        ),
        (WantedState::Disabled, None, "n1:leave", Code::Ok),
        (
            WantedState::Disabled,
            Some(ctr("n1", Some("a"), "running")),
            "n1:remove:id-n1",
            Code::Ok,
        ),
        (
            WantedState::Disabled,
            Some(ctr("n1", None, "running")),
            "n1:remove:id-n1",
            Code::Ok,
        ),
        (invalid(), None, "n1:leave", Code::DataError),
        (
            invalid(),
            Some(ctr("n1", Some("a"), "running")),
            "n1:leave:id-n1",
            Code::DataError,
        ),
        (
            invalid(),
            Some(ctr("n1", None, "exited")),
            "n1:leave:id-n1",
            Code::DataError,
        ),
        (
            WantedState::Unknown("t".into()),
            None,
            "n1:leave",
            Code::TempFail,
        ),
        (
            WantedState::Unknown("t".into()),
            Some(ctr("n1", Some("a"), "running")),
            "n1:leave:id-n1",
            Code::TempFail,
        ),
    ];
    for (state, actual, expect, code) in cases {
        let d = listed(vec![("n1", state.clone())]);
        let actual: Vec<Container> = actual.into_iter().collect();
        let p = plan(&d, &actual);
        assert_eq!(
            render(&p),
            vec![expect.to_string()],
            "{state:?} × {actual:?}"
        );
        assert_eq!(p.code, code, "{state:?} × {actual:?}");
    }
}

#[test]
fn unlisted_managed_containers_are_removed_unmanaged_never_touched() {
    let d = listed(vec![("keep1", want("k"))]);
    let actual = vec![
        ctr("keep1", Some("k"), "running"),
        ctr("gone1", Some("old"), "running"),
        ctr("gone2", Some("old"), "exited"),
        ctr("theirs", None, "running"),
    ];
    let p = plan(&d, &actual);
    assert_eq!(
        render(&p),
        vec![
            "keep1:keep:id-keep1",
            "gone1:remove:id-gone1",
            "gone2:remove:id-gone2"
        ]
    );
    assert!(!p.is_noop());
}

#[test]
fn an_unavailable_list_touches_nothing() {
    let d = Desired {
        host: "h".into(),
        walk: crate::walk::walk("h", &crate::walk::Bound::PublicSuffix).unwrap(),
        list_records: vec![],
        list: HostList::Unavailable("timeout".into()),
    };
    let p = plan(&d, &[ctr("gone1", Some("x"), "running")]);
    assert!(p.steps.is_empty());
    assert_eq!(p.code, Code::TempFail);
}

#[test]
fn an_invalid_list_entry_keeps_every_unlisted_container() {
    // `"s1;s2"`: the list meant s1 and s2, and names neither.
    let d = listed(vec![("s1;s2", invalid())]);
    let actual = [
        ctr("s1", Some("a"), "running"),
        ctr("s2", Some("b"), "exited"),
    ];
    let p = plan(&d, &actual);
    assert_eq!(
        render(&p),
        vec!["s1;s2:leave", "s1:leave:id-s1", "s2:leave:id-s2"]
    );
    assert!(p.steps[1].reason.contains("invalid entry ('s1;s2')"));
    assert_eq!(p.code, Code::DataError);
    // An invalid record (not an invalid name) is no such doubt: the list is clear.
    let bad_record = WantedState::Invalid {
        record: Some("s1.containers.docker.h".into()),
        text: Some("x".into()),
        why: "bad".into(),
    };
    let d = listed(vec![("s1", bad_record)]);
    let p = plan(&d, &actual);
    assert_eq!(render(&p), vec!["s1:leave:id-s1", "s2:remove:id-s2"]);
}

#[test]
fn not_configured_removes_only_with_allow_empty() {
    let d = Desired {
        host: "h".into(),
        walk: crate::walk::walk("h", &crate::walk::Bound::PublicSuffix).unwrap(),
        list_records: vec![],
        list: HostList::NotConfigured,
    };
    let actual = [
        ctr("m1", Some("x"), "running"),
        ctr("theirs", None, "running"),
    ];
    let p = plan(&d, &actual);
    assert!(p.steps.is_empty());
    assert_eq!(p.code, Code::NotConfigured);
    let p = plan_with(
        &d,
        &actual,
        Settings {
            allow_empty: true,
            no_adopt: false,
            ..Settings::default()
        },
    );
    assert_eq!(render(&p), vec!["m1:remove:id-m1"]);
    assert_eq!(p.code, Code::Ok);
}

#[test]
fn no_adopt_leaves_unlabelled_containers_and_reports_a_conflict() {
    let s = Settings {
        allow_empty: false,
        no_adopt: true,
        ..Settings::default()
    };
    let d = listed(vec![
        ("n1", want("a")),
        ("n2", WantedState::Disabled),
        ("n3", want("c")),
    ]);
    let actual = [
        ctr("n1", None, "running"),
        ctr("n2", None, "running"),
        ctr("n3", Some("old"), "running"),
    ];
    let p = plan_with(&d, &actual, s);
    assert_eq!(
        render(&p),
        vec!["n1:leave:id-n1", "n2:leave:id-n2", "n3:replace:id-n3"]
    );
    assert_eq!(p.code, Code::DataError);
}

#[test]
fn the_planner_starts_from_what_recovery_leaves() {
    let d = listed(vec![("n1", want("a"))]);
    // A crash stopped the old one before renaming it aside (issue 12, item 4): recovery
    // starts it again, so the retried replace knows there is a running service to restore.
    let actual = [
        ctr("n1", Some("old"), "exited"),
        ctr("n1.ddp-new", Some("a"), "created"),
    ];
    let p = plan(&d, &actual);
    assert_eq!(render(&p), vec!["n1:replace:id-n1"]);
    let Action::Replace { existing, .. } = &p.steps[0].action else {
        panic!()
    };
    assert!(existing.running);

    // Renamed back and already what DNS wants: nothing left to do.
    let actual = [ctr("n1.ddp-old", Some("a"), "exited")];
    assert_eq!(render(&plan(&d, &actual)), vec!["n1:keep:id-n1.ddp-old"]);

    // Temporaries of a listed name are never swept as "unlisted", even when recovery
    // leaves them (an unlabelled one under --no-adopt).
    let s = Settings {
        allow_empty: false,
        no_adopt: true,
        ..Settings::default()
    };
    let actual = [
        ctr("n1", Some("a"), "running"),
        ctr("n1.ddp-old", None, "exited"),
    ];
    assert_eq!(
        render(&plan_with(&d, &actual, s)),
        vec!["n1:keep:id-n1", "n1.ddp-old:leave:id-n1.ddp-old"],
        "left, and the report says so"
    );

    // A foreign container holding the name while ours is aside: recovery holds the
    // name, and the planner neither converges it nor sweeps what is aside.
    let actual = [
        ctr("n1", None, "running"),
        ctr("n1.ddp-old", Some("x"), "exited"),
    ];
    let p = plan(&d, &actual);
    assert!(p.steps.is_empty(), "{:?}", render(&p));
    assert_eq!(p.code, Code::DataError);
    let p = plan(&listed(vec![]), &actual);
    assert!(p.steps.is_empty(), "{:?}", render(&p));

    // Temporaries of a name DNS no longer lists: recovery repairs, the sweep removes.
    let p = plan(&listed(vec![]), &[ctr("x1.ddp-new", Some("a"), "created")]);
    assert!(
        render(&p).is_empty(),
        "recovery discards it: {:?}",
        render(&p)
    );
    let p = plan(
        &listed(vec![]),
        &[ctr("x1.ddp-failed", Some("a"), "exited")],
    );
    assert_eq!(render(&p), vec!["x1.ddp-failed:remove:id-x1.ddp-failed"]);
}

#[test]
fn a_version_that_failed_verification_is_held_back_until_the_record_changes() {
    let d = listed(vec![("n1", want("bad"))]);
    let failed = ctr("n1.ddp-failed", Some("bad"), "exited");
    // Same record text as the failed one: not retried, the old one is left running.
    let actual = [ctr("n1", Some("good"), "running"), failed.clone()];
    let p = plan(&d, &actual);
    assert_eq!(render(&p), vec!["n1:held-back:id-n1.ddp-failed"]);
    // A new record text: the failed one goes, and the replace is tried again.
    let d2 = listed(vec![("n1", want("fixed"))]);
    assert_eq!(
        render(&plan(&d2, &actual)),
        vec!["n1:discard:id-n1.ddp-failed", "n1:replace:id-n1"]
    );
    // Back to what runs: the failed one goes, the old one is kept.
    let d3 = listed(vec![("n1", want("good"))]);
    assert_eq!(
        render(&plan(&d3, &actual)),
        vec!["n1:discard:id-n1.ddp-failed", "n1:keep:id-n1"]
    );
    // Disabled, or no longer listed: gone with the rest.
    let d4 = listed(vec![("n1", WantedState::Disabled)]);
    assert_eq!(
        render(&plan(&d4, &actual)),
        vec!["n1:discard:id-n1.ddp-failed", "n1:remove:id-n1"]
    );
    assert_eq!(
        render(&plan(&listed(vec![]), &actual)),
        vec!["n1:remove:id-n1", "n1.ddp-failed:remove:id-n1.ddp-failed"]
    );
    // One without our label is not ours: never a reason to hold back, never removed.
    let foreign = [
        ctr("n1", Some("good"), "running"),
        ctr("n1.ddp-failed", None, "exited"),
    ];
    assert_eq!(
        render(&plan(&d, &foreign)),
        vec!["n1:replace:id-n1", "n1.ddp-failed:leave:id-n1.ddp-failed"],
        "and the report says why it is left"
    );
    // Nothing under the name: the version that failed is not created there either.
    let alone = [failed.clone()];
    let p = plan(&d, &alone);
    assert_eq!(render(&p), vec!["n1:held-back:id-n1.ddp-failed"]);
    assert_eq!(
        p.steps[0].action,
        Action::HeldBack {
            existing: None,
            failed: Existing::from(&failed),
        }
    );
    // Invalid or unavailable records leave it as it is.
    let d5 = listed(vec![("n1", invalid())]);
    assert_eq!(render(&plan(&d5, &actual)), vec!["n1:leave:id-n1"]);
}

fn done(identity: &str, container: Option<&str>) -> Settings {
    Settings {
        jobs_done: [(
            "j".to_string(),
            JobDone {
                identity: format!("L({identity})"),
                container: container.map(str::to_string),
                finished_at: 1,
            },
        )]
        .into(),
        ..Settings::default()
    }
}

/// Issue 21, item 2: a job that finished by itself with status 0 (as crate::jobs found)
/// and that nothing restarts is done, not run again until its record changes; one that
/// failed, was stopped, or is not known to have finished is started again.
#[test]
fn a_finished_job_is_done_until_its_record_changes() {
    use crate::docker::Span;
    let job = |policy: &str| {
        spec_with(
            "job",
            serde_json::json!({"HostConfig": {"RestartPolicy": {"Name": policy}}}),
        )
    };
    let exited = |code: i64| Container {
        since: Since::Exited(
            code,
            Span {
                min: std::time::Duration::from_secs(5),
                max: std::time::Duration::from_secs(6),
            },
        ),
        ..ctr("j", Some("job"), "exited")
    };
    type Case = (&'static str, Container, Settings, &'static str);
    let cases: Vec<Case> = vec![
        (
            "no",
            exited(0),
            done("job", Some("id-j")),
            "j:finished:id-j",
        ),
        ("", exited(0), done("job", Some("id-j")), "j:finished:id-j"),
        (
            "on-failure",
            exited(0),
            done("job", Some("id-j")),
            "j:finished:id-j",
        ),
        // Not known to have finished by itself (stopped, or no evidence): started.
        ("no", exited(0), Settings::default(), "j:start:id-j"),
        // Known for another container, or another record.
        ("no", exited(0), done("job", Some("other")), "j:start:id-j"),
        ("no", exited(0), done("old", Some("id-j")), "j:start:id-j"),
        // Failed since (started again by hand): retried.
        ("no", exited(1), done("job", Some("id-j")), "j:start:id-j"),
        // Its policy restarts it: someone stopped it, it runs again.
        (
            "always",
            exited(0),
            done("job", Some("id-j")),
            "j:start:id-j",
        ),
        (
            "unless-stopped",
            exited(0),
            done("job", Some("id-j")),
            "j:start:id-j",
        ),
        // Created and never started.
        (
            "no",
            ctr("j", Some("job"), "created"),
            done("job", Some("id-j")),
            "j:start:id-j",
        ),
    ];
    for (policy, c, settings, want) in cases {
        let d = listed(vec![("j", job(policy))]);
        let p = plan_with(&d, std::slice::from_ref(&c), settings);
        assert_eq!(render(&p), vec![want], "{policy:?} {:?}", c.since);
        assert_eq!(p.is_noop(), want.ends_with("finished:id-j"));
    }
    // A changed record runs it again.
    let d = listed(vec![("j", spec_with("job2", serde_json::json!({})))]);
    let p = plan_with(&d, &[exited(0)], done("job", Some("id-j")));
    assert_eq!(render(&p), vec!["j:replace:id-j"]);
}

/// A `--rm` job leaves nothing behind: the state remembers it finished, for its record.
#[test]
fn a_finished_rm_job_is_remembered_for_its_record_only() {
    let rm = |text: &str| {
        spec_with(
            text,
            serde_json::json!({"HostConfig": {"AutoRemove": true}}),
        )
    };
    let d = listed(vec![("j", rm("job"))]);
    assert_eq!(
        render(&plan_with(&d, &[], done("job", None))),
        vec!["j:finished"]
    );
    assert_eq!(
        render(&plan_with(&d, &[], done("old", None))),
        vec!["j:create"]
    );
    assert_eq!(
        render(&plan_with(&d, &[], Settings::default())),
        vec!["j:create"]
    );
    // Not a --rm record (any more): its container says what it did, not the state.
    let plain = listed(vec![("j", spec_with("job", serde_json::json!({})))]);
    assert_eq!(
        render(&plan_with(&plain, &[], done("job", None))),
        vec!["j:create"]
    );
    // Still running: kept as any container.
    let running = ctr("j", Some("job"), "running");
    assert_eq!(
        render(&plan_with(&d, &[running], done("job", None))),
        vec!["j:keep:id-j"]
    );
}

fn spec_with(text: &str, body: serde_json::Value) -> WantedState {
    let mut body = body;
    body["Labels"][OWNER_LABEL] = serde_json::json!(format!("L({text})"));
    WantedState::Spec {
        record: "r".into(),
        spec: Arc::new(crate::container::tests::example(text, body)),
    }
}

#[test]
fn start_order_waits_refuses_cycles_and_recreates_shared_namespaces() {
    let after = |x: &str| serde_json::json!({"Labels": {crate::plan::order::AFTER_LABEL: x}});
    let d = listed(vec![
        ("a", want("a2")),
        (
            "b",
            spec_with(
                "b",
                serde_json::json!({"HostConfig": {"NetworkMode": "container:a"}}),
            ),
        ),
        ("c", spec_with("c", after("b"))),
        ("p", spec_with("p", after("q"))),
        ("q", spec_with("q", after("p"))),
        ("r", spec_with("r", after("nowhere"))),
    ]);
    let actual = [
        ctr("a", Some("a1"), "running"),
        ctr("b", Some("b"), "running"),
        ctr("c", Some("c"), "running"),
    ];
    let p = plan(&d, &actual);
    assert_eq!(
        render(&p),
        vec![
            "a:replace:id-a",
            "b:replace:id-b",
            "c:keep:id-c",
            "p:leave",
            "q:leave",
            "r:leave"
        ]
    );
    assert_eq!(p.code, Code::DataError);
    assert!(
        p.steps[1].reason.contains("container:a"),
        "{:?}",
        p.steps[1]
    );
    assert!(
        p.steps[2].reason.ends_with("after b is up"),
        "{:?}",
        p.steps[2]
    );
    assert!(
        p.steps[3].reason.contains("waits for itself"),
        "{:?}",
        p.steps[3]
    );
    assert!(
        p.steps[5].reason.contains("nowhere, which is not listed"),
        "{:?}",
        p.steps[5]
    );
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(p.after.get("b"), Some(&names(&["a"])));
    assert_eq!(p.after.get("c"), Some(&names(&["b"])));
    assert_eq!(p.after.get("a"), None);
}

/// A running container as the engine lists it: its ownership label holds a real record.
fn engine_ctr(name: &str, record: Option<&str>, network_mode: &str) -> Container {
    let mut labels = std::collections::BTreeMap::new();
    if let Some(text) = record {
        labels.insert(OWNER_LABEL.to_string(), crate::container::owner_label(text));
    }
    Container {
        id: format!("id-{name}"),
        name: name.to_string(),
        labels,
        state: "running".into(),
        network_mode: network_mode.into(),
        ..Container::default()
    }
}

#[test]
fn removals_go_after_what_uses_them() {
    let d = listed(vec![("r", want("r2"))]);
    let mut c = engine_ctr("c", Some("busybox sleep 9"), "none");
    c.labels.insert(
        crate::plan::order::AFTER_LABEL.into(),
        "b, elsewhere".into(),
    );
    let actual = [
        engine_ctr("a", Some("busybox sleep 9"), "none"),
        // The engine names the namespace's owner by ID; the record by name.
        engine_ctr("b", Some("busybox sleep 9"), "container:id-a"),
        c,
        engine_ctr("v", Some("busybox sleep 9"), "none"),
        engine_ctr("w", Some("--volumes-from v:ro busybox sleep 9"), "none"),
        engine_ctr("q", Some("busybox sleep 9"), "none"),
        // Its record changes to one that no longer uses q: q goes once it is replaced.
        engine_ctr("r", Some("--ipc container:q busybox sleep 9"), "none"),
    ];
    let p = plan(&d, &actual);
    assert_eq!(
        render(&p),
        vec![
            "r:replace:id-r",
            "a:remove:id-a",
            "b:remove:id-b",
            "c:remove:id-c",
            "v:remove:id-v",
            "w:remove:id-w",
            "q:remove:id-q",
        ]
    );
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(p.after.get("a"), Some(&names(&["b"])));
    assert_eq!(p.after.get("b"), Some(&names(&["c"])));
    assert_eq!(p.after.get("v"), Some(&names(&["w"])));
    assert_eq!(p.after.get("q"), Some(&names(&["r"])));
    assert_eq!(p.after.get("c"), None);
    let step = |n: &str| p.steps.iter().find(|s| s.name == n).unwrap();
    assert!(
        step("a")
            .reason
            .ends_with("after b (which uses it) is gone")
    );
    let all: Vec<String> = p.steps.iter().map(|s| s.name.clone()).collect();
    assert_eq!(
        crate::plan::order::waves(&all, &p.after),
        vec![
            vec!["r".to_string(), "c".into(), "w".into()],
            vec!["b".to_string(), "v".into(), "q".into()],
            vec!["a".to_string()],
        ]
    );
}

#[test]
fn what_a_running_service_still_uses_is_not_removed() {
    let d = listed(vec![(
        "m",
        spec_with(
            "m",
            serde_json::json!({"HostConfig": {"VolumesFrom": ["z:ro"]}}),
        ),
    )]);
    let actual = [
        ctr("m", Some("m"), "running"),
        // Not ours, and it runs in x's network namespace: x stays, and so does what x
        // uses in turn.
        engine_ctr("u", None, "container:id-x"),
        engine_ctr("x", Some("--pid container:y busybox sleep 9"), "none"),
        engine_ctr("y", Some("busybox sleep 9"), "none"),
        // Only an after label: an order, not a use; an unlisted one is removed.
        engine_ctr("z", Some("busybox sleep 9"), "none"),
        engine_ctr("gone", Some("busybox sleep 9"), "none"),
    ];
    let mut with_after = engine_ctr("k", None, "none");
    with_after
        .labels
        .insert(crate::plan::order::AFTER_LABEL.into(), "gone".into());
    let actual: Vec<Container> = actual.into_iter().chain([with_after]).collect();
    let p = plan(&d, &actual);
    assert_eq!(
        render(&p),
        vec![
            "m:keep:id-m",
            "x:leave:id-x",
            "y:leave:id-y",
            "z:leave:id-z",
            "gone:remove:id-gone",
        ]
    );
    let step = |n: &str| p.steps.iter().find(|s| s.name == n).unwrap();
    assert!(
        step("x").reason.ends_with("left as it is: u uses it"),
        "{:?}",
        step("x")
    );
    assert!(
        step("y").reason.ends_with("left as it is: x uses it"),
        "{:?}",
        step("y")
    );
    assert!(
        step("z")
            .reason
            .ends_with("left as it is: the record of m names it"),
        "{:?}",
        step("z")
    );
    assert_eq!(p.code, Code::Ok);
    assert!(p.after.is_empty(), "{:?}", p.after);
}

#[test]
fn noop_detection() {
    let d = listed(vec![("n1", want("a")), ("n2", WantedState::Disabled)]);
    assert!(plan(&d, &[ctr("n1", Some("a"), "running")]).is_noop());
    assert!(!plan(&d, &[ctr("n1", Some("a"), "exited")]).is_noop());
}

#[test]
fn a_refreshed_image_replaces_a_failed_pull_leaves_alone() {
    let d = listed(vec![("n1", want("a"))]);
    // What the pulls before planning found, for the container "id-n1".
    let found = |refresh: Refresh| Settings {
        refreshed: [("id-n1".to_string(), refresh)].into(),
        ..Settings::default()
    };
    let with = |state: &str, refresh: Refresh| {
        plan_with(&d, &[ctr("n1", Some("a"), state)], found(refresh))
    };
    let updated = Refresh::Updated("sha256:0123456789abcdef0123".into());
    let p = with("running", updated.clone());
    assert_eq!(render(&p), vec!["n1:replace:id-n1"]);
    assert!(
        p.steps[0].reason.starts_with("image updated"),
        "{:?}",
        p.steps[0]
    );
    assert_eq!(p.code, Code::Ok);
    // A changed record is the reason, whatever the image.
    let changed = plan_with(
        &d,
        &[ctr("n1", Some("b"), "running")],
        found(updated.clone()),
    );
    assert!(changed.steps[0].reason.contains("changed"));
    // Found for another container of that name (replaced since): not this one's news.
    let other = Settings {
        refreshed: [("id-other".to_string(), updated)].into(),
        ..Settings::default()
    };
    let p = plan_with(&d, &[ctr("n1", Some("a"), "running")], other);
    assert_eq!(render(&p), vec!["n1:keep:id-n1"]);
    let p = with("running", Refresh::Current);
    assert_eq!(
        (render(&p), p.code),
        (vec!["n1:keep:id-n1".to_string()], Code::Ok)
    );
    let failed = || {
        Refresh::Failed(ImageError {
            why: "pull of x failed: registry r unreachable".into(),
            engine_lost: false,
        })
    };
    let p = with("running", failed());
    assert_eq!(render(&p), vec!["n1:keep:id-n1"]);
    assert!(
        p.steps[0].reason.contains("unreachable"),
        "{:?}",
        p.steps[0]
    );
    assert_eq!(p.code, Code::ActionsFailed);
    let p = with("exited", failed());
    assert_eq!(
        (render(&p), p.code),
        (vec!["n1:start:id-n1".to_string()], Code::ActionsFailed)
    );
    // The engine stopped answering during the pull: the engine's news, 69.
    let lost = Refresh::Failed(ImageError {
        why: "Docker engine timed out".into(),
        engine_lost: true,
    });
    let p = with("running", lost);
    assert_eq!(
        (render(&p), p.code),
        (vec!["n1:keep:id-n1".to_string()], Code::Unavailable)
    );
}

/// A name refused for its start order is left with the container it has, whatever the
/// planner would otherwise have done with it, so the report still shows what runs there.
#[test]
fn a_name_refused_for_its_start_order_keeps_the_container_it_has() {
    use crate::docker::Span;
    let lost = |text: &str, host_config: serde_json::Value| {
        spec_with(
            text,
            serde_json::json!({
                "HostConfig": host_config,
                "Labels": {crate::plan::order::AFTER_LABEL: "nowhere"},
            }),
        )
    };
    let d = listed(vec![
        // Would be held back (its version failed verification).
        ("h", lost("bad", serde_json::json!({}))),
        // Would be finished (a job done with status 0).
        (
            "j",
            lost("job", serde_json::json!({"RestartPolicy": {"Name": "no"}})),
        ),
        // Would be kept, started, replaced.
        ("k", lost("k", serde_json::json!({}))),
        ("r", lost("r2", serde_json::json!({}))),
        ("s", lost("s", serde_json::json!({}))),
    ]);
    let job = Container {
        since: Since::Exited(
            0,
            Span {
                min: std::time::Duration::from_secs(5),
                max: std::time::Duration::from_secs(6),
            },
        ),
        ..ctr("j", Some("job"), "exited")
    };
    let actual = [
        ctr("h", Some("good"), "running"),
        ctr("h.ddp-failed", Some("bad"), "exited"),
        job,
        ctr("k", Some("k"), "running"),
        ctr("r", Some("r1"), "running"),
        ctr("s", Some("s"), "exited"),
    ];
    let p = plan_with(&d, &actual, done("job", Some("id-j")));
    assert_eq!(
        render(&p),
        vec![
            "h:leave:id-h",
            "j:leave:id-j",
            "k:leave:id-k",
            "r:leave:id-r",
            "s:leave:id-s"
        ]
    );
    for s in &p.steps {
        assert!(s.reason.contains("nowhere, which is not listed"), "{:?}", s);
    }
    assert_eq!(p.code, Code::DataError);
}

/// Sharing namespaces is transitive: what runs in the namespaces of a container that is
/// recreated only because of another's replacement is recreated too, to the chain's end.
#[test]
fn a_chain_of_shared_namespaces_is_recreated_to_its_end() {
    let in_ns_of = |text: &str, of: &str| {
        spec_with(
            text,
            serde_json::json!({"HostConfig": {"NetworkMode": format!("container:{of}")}}),
        )
    };
    let d = listed(vec![
        ("a", want("a2")),
        ("b", in_ns_of("b", "a")),
        ("c", in_ns_of("c", "b")),
        ("d", want("d")),
    ]);
    let actual = [
        ctr("a", Some("a1"), "running"),
        ctr("b", Some("b"), "running"),
        ctr("c", Some("c"), "running"),
        ctr("d", Some("d"), "running"),
    ];
    let p = plan(&d, &actual);
    assert_eq!(
        render(&p),
        vec![
            "a:replace:id-a",
            "b:replace:id-b",
            "c:replace:id-c",
            "d:keep:id-d"
        ]
    );
    assert!(
        p.steps[2]
            .reason
            .starts_with("it shares the namespaces of b"),
        "{:?}",
        p.steps[2]
    );
}

/// A name DNS disabled takes its failed version with it, also when the container under
/// the name is one we may adopt, or one of ours under --no-adopt; only an unlabelled one
/// under --no-adopt keeps both as they are.
#[test]
fn a_disabled_name_discards_its_failed_version_unless_the_name_is_not_ours() {
    let d = listed(vec![("n1", WantedState::Disabled)]);
    let with = |owner: Option<&str>, no_adopt: bool| {
        let actual = [
            ctr("n1", owner, "running"),
            ctr("n1.ddp-failed", Some("bad"), "exited"),
        ];
        let s = Settings {
            no_adopt,
            ..Settings::default()
        };
        render(&plan_with(&d, &actual, s))
    };
    let both = vec!["n1:discard:id-n1.ddp-failed", "n1:remove:id-n1"];
    assert_eq!(with(None, false), both, "adoptable");
    assert_eq!(with(Some("good"), true), both, "ours, --no-adopt");
    assert_eq!(with(Some("good"), false), both, "ours");
    assert_eq!(with(None, true), vec!["n1:leave:id-n1"], "not ours");
}

/// A file the record reads changed: replaced, naming the file. A container made before the
/// files label existed has unknown files and is kept: an upgrade replaces nothing for it.
#[test]
fn a_changed_file_replaces_and_a_container_without_digests_is_kept() {
    use crate::container::FILES_LABEL;
    let with_files = |files: &str| {
        let mut s = (*spec("a")).clone();
        s.body["Labels"][FILES_LABEL] = serde_json::json!(files);
        WantedState::Spec {
            record: "r".into(),
            spec: Arc::new(s),
        }
    };
    let now = r#"{"/etc/a.env":"fnv1a64:2","/etc/b.env":"fnv1a64:1"}"#;
    let before = r#"{"/etc/a.env":"fnv1a64:1","/etc/b.env":"fnv1a64:1"}"#;
    let running = |files: Option<&str>| {
        let mut c = ctr("n1", Some("a"), "running");
        if let Some(f) = files {
            c.labels.insert(FILES_LABEL.into(), f.into());
        }
        c
    };
    let d = listed(vec![("n1", with_files(now))]);
    let p = plan(&d, &[running(Some(before))]);
    assert_eq!(render(&p), ["n1:replace:id-n1"]);
    assert!(
        p.steps[0].reason.contains("/etc/a.env"),
        "{}",
        p.steps[0].reason
    );
    assert!(
        !p.steps[0].reason.contains("/etc/b.env"),
        "{}",
        p.steps[0].reason
    );
    assert_eq!(render(&plan(&d, &[running(Some(now))])), ["n1:keep:id-n1"]);
    assert_eq!(render(&plan(&d, &[running(None)])), ["n1:keep:id-n1"]);
}

/// A container that opts in restarts after what it names is replaced, transitively; one that
/// only waits (`after`) is kept; and the restart waits for what it restarts after.
#[test]
fn dependents_that_opt_in_restart_after_a_replace() {
    use crate::plan::order::{AFTER_LABEL, RESTART_AFTER_LABEL};
    let labelled = |text: &str, label: &str, value: &str| {
        let mut s = (*spec(text)).clone();
        s.body["Labels"][label] = serde_json::json!(value);
        WantedState::Spec {
            record: "r".into(),
            spec: Arc::new(s),
        }
    };
    let d = listed(vec![
        ("db", want("db2")),
        ("app", labelled("app", RESTART_AFTER_LABEL, "db")),
        ("web", labelled("web", RESTART_AFTER_LABEL, "app")),
        ("cron", labelled("cron", AFTER_LABEL, "db")),
    ]);
    let actual = [
        ctr("db", Some("db1"), "running"),
        ctr("app", Some("app"), "running"),
        ctr("web", Some("web"), "running"),
        ctr("cron", Some("cron"), "running"),
    ];
    let p = plan(&d, &actual);
    let mut got = render(&p);
    got.sort();
    assert_eq!(
        got,
        [
            "app:restart:id-app",
            "cron:keep:id-cron",
            "db:replace:id-db",
            "web:restart:id-web"
        ]
    );
    assert!(p.after["app"].contains("db") && p.after["web"].contains("app"));
    let app = p.steps.iter().find(|s| s.name == "app").unwrap();
    assert!(
        app.reason.contains("db, which it restarts after"),
        "{}",
        app.reason
    );
    // Nothing replaced: nothing restarts.
    let d = listed(vec![
        ("db", want("db1")),
        ("app", labelled("app", RESTART_AFTER_LABEL, "db")),
    ]);
    assert_eq!(
        render(&plan(&d, &actual[..2])),
        ["db:keep:id-db", "app:keep:id-app"]
    );
    // Naming a container the list lacks makes the record invalid, as `after` does.
    let d = listed(vec![("app", labelled("app", RESTART_AFTER_LABEL, "nope"))]);
    let p = plan(&d, &actual[1..2]);
    assert_eq!(render(&p), ["app:leave:id-app"]);
    assert_eq!(p.code, Code::DataError);
}
