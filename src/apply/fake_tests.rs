//! apply's rules through the seam, against the fake engine: the order of a safe replace's
//! calls, rollback and holding back, a fault at every call of a replace, removal and start
//! order, crash repair, verification verdicts, pulls, and the exit code. No engine, no
//! sleeping: the fake's clock moves only while a watch waits.

use super::fake::{FakeEngine, Fault, Life, Seed, logged};
use super::*;
use crate::container::{ImageRef, OWNER_LABEL, PullPolicy};
use crate::desired::{Desired, HostList, Wanted, WantedState};
use crate::docker::Container;
use serde_json::json;
use std::sync::Arc;

const V1: &str = "app:1";
const V2: &str = "app:2";
const SETTLE: Duration = Duration::from_secs(3);
const HOUR: Duration = Duration::from_secs(3600);

/// A record of `image` with `host_config`, its text naming both (so each is its own version).
fn spec_with(image: &str, host_config: serde_json::Value) -> Arc<ContainerSpec> {
    let text = format!("{host_config} {image}");
    Arc::new(ContainerSpec {
        text: text.clone(),
        image: ImageRef::parse(image).expect("a test image reference"),
        body: json!({"Image": image, "Labels": {OWNER_LABEL: text}, "HostConfig": host_config}),
        platform: None,
        pull: None,
    })
}

fn spec(image: &str) -> Arc<ContainerSpec> {
    spec_with(image, json!({}))
}

fn settings(fake: &FakeEngine) -> Settings {
    Settings {
        jobs: 1,
        settle: SETTLE,
        deadline: fake.now() + Duration::from_secs(120),
    }
}

fn plan(steps: Vec<Step>, after: &[(&str, &str)]) -> Plan {
    let mut waits: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, first) in after {
        waits
            .entry(name.to_string())
            .or_default()
            .insert(first.to_string());
    }
    Plan {
        steps,
        code: Code::Ok,
        after: waits,
    }
}

fn step(name: &str, action: Action) -> Step {
    Step::new(name, action, "the test says so")
}

fn run(fake: &FakeEngine, steps: Vec<Step>) -> Vec<Outcome> {
    execute(&plan(steps, &[]), fake, &settings(fake), &[])
}

fn why(o: &Outcome) -> &StepFailure {
    match &o.result {
        StepResult::Failed(f) => f,
        other => panic!("{}: not failed: {other:?}", o.step.name),
    }
}

fn skipped(o: &Outcome) -> &str {
    match &o.result {
        StepResult::Skipped(why) => why,
        other => panic!("{}: not skipped: {other:?}", o.step.name),
    }
}

/// Each name with its container's ID and state.
fn names(fake: &FakeEngine) -> Vec<(String, String, String)> {
    fake.state()
        .into_iter()
        .map(|(n, (id, state))| (n, id, state))
        .collect()
}

fn is(name: &str, id: &str, state: &str) -> (String, String, String) {
    (name.into(), id.into(), state.into())
}

fn count(calls: &[String], call: &str) -> usize {
    calls.iter().filter(|c| *c == call).count()
}

/// The replace of a container `web` (ID `old`, v1, up an hour) by `to`.
fn replacing(fake: &FakeEngine, to: &Arc<ContainerSpec>) -> Vec<Step> {
    fake.image(&to.image.familiar());
    let old = fake.seed("web", "old", &spec(V1), Seed::Up(HOUR));
    vec![step(
        "web",
        Action::Replace {
            existing: old,
            spec: to.clone(),
        },
    )]
}

#[test]
fn a_replace_starts_the_new_one_before_the_old_one_goes_and_removes_the_old_one_last() {
    let fake = FakeEngine::new();
    let steps = replacing(&fake, &spec(V2));
    let started = fake.now();
    let out = run(&fake, steps);
    assert_eq!(out[0].result, StepResult::Done);
    assert_eq!(
        fake.changes(),
        [
            "create web.ddp-new",
            "stop old",
            "rename old web.ddp-old",
            "rename id1 web",
            "start id1",
            "remove old"
        ]
    );
    assert_eq!(names(&fake), [is("web", "id1", "running")]);
    // Verified over the whole window before the old one went.
    assert!(fake.since(started) >= SETTLE);
    assert_eq!(exit_code(Code::Ok, &out), Code::Ok);
}

#[test]
fn a_replacement_that_fails_verification_is_kept_aside_and_the_old_one_runs_again() {
    let fake = FakeEngine::new();
    let exits = Life::Exits {
        code: 3,
        after: Duration::ZERO,
    };
    fake.behave(V2, exits, "bad config\n");
    let out = run(&fake, replacing(&fake, &spec(V2)));
    assert_eq!(
        fake.changes(),
        [
            "create web.ddp-new",
            "stop old",
            "rename old web.ddp-old",
            "rename id1 web",
            "start id1",
            "stop id1",
            "rename id1 web.ddp-failed",
            "rename old web",
            "start old"
        ]
    );
    let f = why(&out[0]);
    assert_eq!(
        f.why,
        "the replacement failed verification: exited with status 3, within 0.0s of its start; its last output:\n    | bad config; kept stopped as web.ddp-failed (its record is not retried while it exists); rolled back, the old container runs again"
    );
    assert!(!f.engine_lost);
    assert_eq!(
        names(&fake),
        [
            is("web", "old", "running"),
            is("web.ddp-failed", "id1", "exited")
        ]
    );
    // The old one is verified in turn.
    let calls = fake.calls();
    let restarted = calls.iter().position(|c| c == "start old");
    assert!(restarted < calls.iter().rposition(|c| c == "inspect old"));
    assert_eq!(exit_code(Code::Ok, &out), Code::ActionsFailed);
}

#[test]
fn an_old_container_that_fails_again_after_a_rollback_says_so() {
    let fake = FakeEngine::new();
    let steps = replacing(&fake, &spec(V2));
    let dies = |code| Life::Exits {
        code,
        after: Duration::ZERO,
    };
    fake.behave(V2, dies(3), "");
    // The old version broke meanwhile (a volume, say): its next run dies too.
    fake.behave(V1, dies(4), "");
    let out = run(&fake, steps);
    let f = why(&out[0]);
    assert!(
        f.why.ends_with("rolled back, the old container runs again; the old container failed verification too: exited with status 4, within 0.0s of its start"),
        "{}",
        f.why
    );
}

#[test]
fn a_replacement_the_engine_refuses_to_start_is_held_back_like_one_that_dies() {
    let fake = FakeEngine::new();
    let steps = replacing(&fake, &spec(V2));
    fake.fail_on("start id1", Fault::Status(400));
    let out = run(&fake, steps);
    let f = why(&out[0]);
    assert!(
        f.why.starts_with("the replacement failed to start: start id1: HTTP 400: injected; kept stopped as web.ddp-failed"),
        "{}",
        f.why
    );
    assert!(!f.engine_lost);
    assert_eq!(
        names(&fake),
        [
            is("web", "old", "running"),
            is("web.ddp-failed", "id1", "created")
        ]
    );
}

#[test]
fn a_replacement_that_fails_to_start_otherwise_is_removed_and_not_held_back() {
    for (fault, lost) in [(Fault::Status(500), false), (Fault::Unreachable, true)] {
        let fake = FakeEngine::new();
        let steps = replacing(&fake, &spec(V2));
        fake.fail_on("start id1", fault);
        let out = run(&fake, steps);
        let f = why(&out[0]);
        assert!(
            f.why.starts_with("the replacement failed to start: ")
                && f.why
                    .ends_with("; rolled back, the old container runs again"),
            "{}",
            f.why
        );
        assert_eq!(f.engine_lost, lost, "{fault:?}");
        assert_eq!(
            fake.changes()[5..],
            ["stop id1", "remove id1", "rename old web", "start old"]
        );
        assert_eq!(names(&fake), [is("web", "old", "running")]);
    }
}

#[test]
fn each_failure_of_a_replace_says_what_was_undone() {
    let cases: Vec<(&str, Fault, &str)> = vec![
        (
            "create web.ddp-new",
            Fault::Status(500),
            "create of the replacement failed (old container untouched): create web.ddp-new: HTTP 500: injected",
        ),
        (
            "stop old",
            Fault::Status(500),
            "stop of the old container failed: stop old: HTTP 500: injected; rolled back, the old container runs again",
        ),
        (
            "rename old web.ddp-old",
            Fault::Status(500),
            "renaming the old container aside failed: rename old web.ddp-old: HTTP 500: injected; rolled back, the old container runs again",
        ),
        (
            "rename id1 web",
            Fault::Status(500),
            "renaming the replacement into place failed: rename id1 web: HTTP 500: injected; rolled back, the old container runs again",
        ),
        (
            "remove old",
            Fault::Unreachable,
            "replaced and verified, but removing the old container web.ddp-old failed (the next run's recovery puts it back and the replace is tried again): Docker engine unreachable: remove old: injected",
        ),
    ];
    for (call, fault, want) in cases {
        let fake = FakeEngine::new();
        let steps = replacing(&fake, &spec(V2));
        fake.fail_on(call, fault);
        let out = run(&fake, steps);
        let f = why(&out[0]);
        assert_eq!(f.why, want, "{call}");
        assert_eq!(f.engine_lost, fault == Fault::Unreachable, "{call}");
        let web = names(&fake).into_iter().find(|(n, _, _)| n == "web");
        assert_eq!(web.map(|w| w.2).as_deref(), Some("running"), "{call}");
    }
}

#[test]
fn a_rollback_that_meets_more_failures_reports_each() {
    // Removing the replacement fails: it is moved off the name, and the old one returns.
    let fake = FakeEngine::new();
    let steps = replacing(&fake, &spec(V2));
    fake.fail_on("start id1", Fault::Status(500));
    fake.fail_on("remove id1", Fault::Status(500));
    let out = run(&fake, steps);
    assert!(
        why(&out[0]).why.contains(
            "; removing the replacement failed: remove id1: HTTP 500: injected; rolled back"
        ),
        "{}",
        why(&out[0]).why
    );
    assert_eq!(
        fake.changes()[5..],
        [
            "stop id1",
            "remove id1",
            "rename id1 web.ddp-new",
            "rename old web",
            "start old"
        ]
    );
    // The old one cannot get its name back, or cannot start.
    for (call, says) in [
        (
            "rename old web",
            "; renaming the old container back failed (the next run retries): rename old web: HTTP 500: injected",
        ),
        (
            "start old",
            "; restarting the old container failed: start old: HTTP 500: injected",
        ),
    ] {
        let fake = FakeEngine::new();
        let steps = replacing(&fake, &spec(V2));
        fake.fail_on("start id1", Fault::Status(500));
        fake.fail_on(call, Fault::Status(500));
        let out = run(&fake, steps);
        assert!(why(&out[0]).why.ends_with(says), "{}", why(&out[0]).why);
    }
    // A replacement that cannot be removed from a failed stop-aside: said, old one back.
    let fake = FakeEngine::new();
    let steps = replacing(&fake, &spec(V2));
    fake.fail_on("stop old", Fault::Status(500));
    fake.fail_on("remove id1", Fault::Status(500));
    let out = run(&fake, steps);
    assert_eq!(
        why(&out[0]).why,
        "stop of the old container failed: stop old: HTTP 500: injected; removing the replacement web.ddp-new also failed: remove id1: HTTP 500: injected; rolled back, the old container runs again"
    );
}

#[test]
fn holding_a_failed_replacement_back_can_fail_too() {
    let dies = Life::Exits {
        code: 3,
        after: Duration::ZERO,
    };
    // The name `.ddp-failed` is taken: the failed replacement is removed instead.
    let fake = FakeEngine::new();
    fake.behave(V2, dies, "");
    let steps = replacing(&fake, &spec(V2));
    fake.fail_on("rename id1 web.ddp-failed", Fault::Status(409));
    let out = run(&fake, steps);
    assert!(
        why(&out[0]).why.contains("; keeping it as web.ddp-failed failed (rename id1 web.ddp-failed: HTTP 409: injected), removed it; rolled back"),
        "{}",
        why(&out[0]).why
    );
    assert_eq!(names(&fake), [is("web", "old", "running")]);
    // And removing it fails as well.
    let fake = FakeEngine::new();
    fake.behave(V2, dies, "");
    let steps = replacing(&fake, &spec(V2));
    fake.fail_on("rename id1 web.ddp-failed", Fault::Status(409));
    fake.fail_on("remove id1", Fault::Status(500));
    let out = run(&fake, steps);
    assert!(
        why(&out[0])
            .why
            .contains("removing it failed too: remove id1: HTTP 500: injected"),
        "{}",
        why(&out[0]).why
    );
    // The old one cannot get its name back.
    let fake = FakeEngine::new();
    fake.behave(V2, dies, "");
    let steps = replacing(&fake, &spec(V2));
    fake.fail_on("rename old web", Fault::Status(500));
    let out = run(&fake, steps);
    assert!(
        why(&out[0]).why.ends_with("; renaming the old container back failed (the next run retries): rename old web: HTTP 500: injected"),
        "{}",
        why(&out[0]).why
    );
}

#[test]
fn a_replacement_that_cannot_be_watched_is_rolled_back_but_not_held_back() {
    let fake = FakeEngine::new();
    let steps = replacing(&fake, &spec(V2));
    fake.fail_every("inspect id1", Fault::Unreachable);
    let out = run(&fake, steps);
    let f = why(&out[0]);
    assert!(
        f.why.starts_with("the replacement could not be verified: could not be watched: Docker engine unreachable: inspect id1: injected; rolled back"),
        "{}",
        f.why
    );
    assert!(f.engine_lost, "the engine, not the container");
    assert_eq!(names(&fake), [is("web", "old", "running")]);
    assert_eq!(exit_code(Code::Ok, &out), Code::Unavailable);
}

#[test]
fn an_old_container_that_removed_itself_leaves_the_replacement_in_place() {
    let rm = |image| spec_with(image, json!({"AutoRemove": true}));
    let fake = FakeEngine::new();
    let out = run(&fake, replacing_rm(&fake, &rm(V1), &spec(V2)));
    assert_eq!(out[0].result, StepResult::Done);
    assert_eq!(
        fake.changes(),
        [
            "create web.ddp-new",
            "stop old",
            "rename old web.ddp-old",
            "rename id1 web",
            "start id1"
        ]
    );
    assert_eq!(names(&fake), [is("web", "id1", "running")]);
    // The replacement fails: nothing to roll back to.
    let fake = FakeEngine::new();
    fake.behave(
        V2,
        Life::Exits {
            code: 1,
            after: Duration::ZERO,
        },
        "",
    );
    let out = run(&fake, replacing_rm(&fake, &rm(V1), &spec(V2)));
    assert!(
        why(&out[0]).why.starts_with("the replacement failed verification, and the old container removed itself when stopped (--rm?), so there is nothing to roll back to: exited with status 1"),
        "{}",
        why(&out[0]).why
    );
    // The replacement cannot take the name, or cannot start.
    for (call, says) in [
        (
            "rename id1 web",
            "the old container was removed when it stopped (--rm?), and renaming the replacement into place failed (the next run creates it anew): rename id1 web: HTTP 500: injected",
        ),
        (
            "start id1",
            "the old container was removed when it stopped (--rm?), and the replacement failed to start (left for `docker logs`; the next run retries): start id1: HTTP 500: injected",
        ),
    ] {
        let fake = FakeEngine::new();
        let steps = replacing_rm(&fake, &rm(V1), &spec(V2));
        fake.fail_on(call, Fault::Status(500));
        let out = run(&fake, steps);
        assert_eq!(why(&out[0]).why, says);
    }
}

/// The replace of a `--rm` container `web` (ID `old`, `from`) by `to`.
fn replacing_rm(
    fake: &FakeEngine,
    from: &Arc<ContainerSpec>,
    to: &Arc<ContainerSpec>,
) -> Vec<Step> {
    fake.image(&to.image.familiar());
    let old = fake.seed("web", "old", from, Seed::Up(HOUR));
    vec![step(
        "web",
        Action::Replace {
            existing: old,
            spec: to.clone(),
        },
    )]
}

/// The records of one host, as `desired` would read them.
fn desired(records: &[(&str, &Arc<ContainerSpec>)]) -> Desired {
    let wanted = records
        .iter()
        .map(|(name, spec)| Wanted {
            name: name.to_string(),
            state: WantedState::Spec {
                record: format!("{name}.containers.docker.h"),
                spec: Arc::clone(spec),
            },
        })
        .collect();
    Desired {
        host: "h".into(),
        walk: crate::walk::Walk {
            host: "h".into(),
            levels: vec!["h".into()],
            stop: "the test".into(),
        },
        list_records: vec!["containers.docker.h".into()],
        list: HostList::Listed(wanted),
    }
}

/// One run of the tool's apply as `converge` makes it: crash repair, the plan from what it
/// leaves, then the plan; the outcomes and the exit code.
fn converge(fake: &FakeEngine, records: &[(&str, &Arc<ContainerSpec>)]) -> (Vec<Outcome>, Code) {
    let s = settings(fake);
    let recovery = crate::recover::recover(fake.list(), false);
    let mut outcomes = repairs(&recovery.steps, fake, &s);
    let plan = crate::plan::make(&desired(records), &recovery, Default::default());
    let planned = plan.code;
    outcomes.extend(execute(&plan, fake, &s, &outcomes));
    let code = exit_code(planned, &outcomes);
    (outcomes, code)
}

/// A world of `web` (v1, ID `old`) and `gone` (v1, ID `g`), both up.
fn two_services(fake: &FakeEngine) {
    fake.image(V2);
    fake.seed("web", "old", &spec(V1), Seed::Up(HOUR));
    fake.seed("gone", "g", &spec(V1), Seed::Up(HOUR));
}

/// Issue 22 item 4 (the fake's share of tests/apply_e2e.rs's sweep): fail every engine call
/// of a replace and a removal in turn, each way; the service stays under its name, and a
/// plain rerun converges with no temporaries left.
#[test]
fn a_fault_at_any_call_of_a_replace_and_a_removal_is_converged_by_the_next_run() {
    let v2 = spec(V2);
    let records = [("web", &v2)];
    let clean = FakeEngine::new();
    two_services(&clean);
    assert_eq!(converge(&clean, &records).1, Code::Ok);
    let calls = clean.calls().len();
    assert!(calls > 10, "{:?}", clean.calls());
    for fault in [Fault::Status(500), Fault::Unreachable, Fault::Timeout] {
        for k in 1..=calls {
            let fake = FakeEngine::new();
            two_services(&fake);
            fake.fail_at(k, fault);
            let at = format!("{fault:?} at call {k} of {:?}", clean.calls());
            let (out, code) = converge(&fake, &records);
            assert!(
                fake.state().contains_key("web"),
                "{at}: service lost: {out:?}"
            );
            let lost = out
                .iter()
                .any(|o| matches!(&o.result, StepResult::Failed(f) if f.engine_lost));
            assert_eq!(
                code,
                match (lost, out.iter().any(Outcome::failed)) {
                    (true, _) => Code::Unavailable,
                    (false, true) => Code::ActionsFailed,
                    (false, false) => Code::Ok,
                },
                "{at}"
            );
            if matches!(fault, Fault::Status(_)) {
                assert!(!lost, "{at}: {out:?}");
            }
            let (out, code) = converge(&fake, &records);
            assert_eq!(code, Code::Ok, "{at}: rerun: {out:?}");
            let web = fake.state()["web"].clone();
            assert_eq!(web.1, "running", "{at}");
            assert_ne!(web.0, "old", "{at}: replaced by the rerun");
            assert_eq!(fake.state().len(), 1, "{at}: {:?}", fake.state());
        }
    }
}

/// Issue 22 item 4 (the fake's share of tests/apply_e2e.rs's rollback sweep): fail every
/// engine call of a replace that fails verification in turn; the old service keeps its
/// name, and a rerun leaves it running with no replace temporaries.
#[test]
fn a_fault_at_any_call_of_a_rollback_leaves_the_old_service_running_after_a_rerun() {
    let bad = spec(V2);
    let records = [("web", &bad)];
    let world = |fake: &FakeEngine| {
        fake.image(V2);
        let dies = Life::Exits {
            code: 3,
            after: Duration::ZERO,
        };
        fake.behave(V2, dies, "bad\n");
        fake.seed("web", "old", &spec(V1), Seed::Up(HOUR));
    };
    let clean = FakeEngine::new();
    world(&clean);
    assert_eq!(converge(&clean, &records).1, Code::ActionsFailed);
    let calls = clean.calls().len();
    for fault in [Fault::Status(500), Fault::Unreachable, Fault::Timeout] {
        for k in 1..=calls {
            let fake = FakeEngine::new();
            world(&fake);
            fake.fail_at(k, fault);
            let at = format!("{fault:?} at call {k} of {:?}", clean.calls());
            let (first, code) = converge(&fake, &records);
            assert_ne!(code, Code::Ok, "{at}: a bad version never passes");
            let (out, code) = converge(&fake, &records);
            assert_eq!(code, Code::ActionsFailed, "{at}: rerun: {first:?} {out:?}");
            let state = fake.state();
            assert_eq!(
                state.get("web"),
                Some(&("old".to_string(), "running".to_string())),
                "{at}: {state:?}\n{first:?}\n{out:?}"
            );
            let temporaries: Vec<&String> = state
                .keys()
                .filter(|n| n.ends_with(NEW_SUFFIX) || n.ends_with(OLD_SUFFIX))
                .collect();
            assert!(temporaries.is_empty(), "{at}: {state:?}");
        }
    }
}

/// Issue 22 item 4 (the fake's share of tests/exit_zero.rs's kill sweep): the tool killed
/// just before any engine call of a replace and a removal (so also just after the one
/// before); one plain run repairs what it left and converges.
#[test]
fn a_kill_before_any_call_of_a_replace_and_a_removal_is_repaired_by_one_run() {
    let v2 = spec(V2);
    let records = [("web", &v2)];
    let clean = FakeEngine::new();
    two_services(&clean);
    assert_eq!(converge(&clean, &records).1, Code::Ok);
    for k in 1..=clean.calls().len() + 1 {
        let fake = FakeEngine::new();
        two_services(&fake);
        fake.kill_at(k);
        let killed = converge(&fake, &records).0;
        let left = fake.state();
        fake.heal();
        let at = format!("killed at call {k} of {:?}: left {left:?}", clean.calls());
        let (out, code) = converge(&fake, &records);
        assert_eq!(code, Code::Ok, "{at}\n{killed:?}\n{out:?}");
        let state = fake.state();
        assert_eq!(state.keys().collect::<Vec<_>>(), ["web"], "{at}");
        assert_eq!(state["web"].1, "running", "{at}");
        assert_ne!(state["web"].0, "old", "{at}: on the new version");
    }
}

#[test]
fn a_removal_stops_then_removes_and_one_already_gone_is_removed() {
    let fake = FakeEngine::new();
    let e = fake.seed("old", "o", &spec(V1), Seed::Up(HOUR));
    let out = run(
        &fake,
        vec![step(
            "old",
            Action::Remove {
                existing: e.clone(),
            },
        )],
    );
    assert_eq!(out[0].result, StepResult::Done);
    assert_eq!(fake.changes(), ["stop o", "remove o"]);
    assert!(fake.state().is_empty());
    // Gone already (an operator, `--rm`): the goal, not a failure; nothing more to call.
    let out = run(&fake, vec![step("old", Action::Remove { existing: e })]);
    assert_eq!(out[0].result, StepResult::Done);
    assert_eq!(fake.changes()[2..], ["stop o"]);
    // A stop or remove that fails fails the step.
    for (call, fault) in [("stop o", Fault::Status(500)), ("remove o", Fault::Timeout)] {
        let fake = FakeEngine::new();
        let e = fake.seed("old", "o", &spec(V1), Seed::Up(HOUR));
        fake.fail_on(call, fault);
        let out = run(&fake, vec![step("old", Action::Remove { existing: e })]);
        assert_eq!(why(&out[0]).engine_lost, fault == Fault::Timeout, "{call}");
    }
}

#[test]
fn a_removal_waits_until_what_uses_it_is_gone() {
    let world = || {
        let fake = FakeEngine::new();
        let user = fake.seed("user", "u", &spec(V1), Seed::Up(HOUR));
        let db = fake.seed("db", "d", &spec(V1), Seed::Up(HOUR));
        let steps = vec![
            step("db", Action::Remove { existing: db }),
            step("user", Action::Remove { existing: user }),
        ];
        (fake, plan(steps, &[("db", "user")]))
    };
    let (fake, p) = world();
    let out = execute(&p, &fake, &settings(&fake), &[]);
    assert!(out.iter().all(|o| o.result == StepResult::Done));
    assert_eq!(fake.changes(), ["stop u", "remove u", "stop d", "remove d"]);
    // Outcomes keep the plan's order, whatever order they ran in.
    assert_eq!(out[0].step.name, "db");
    let (fake, p) = world();
    fake.fail_on("stop u", Fault::Status(500));
    let out = execute(&p, &fake, &settings(&fake), &[]);
    assert_eq!(
        skipped(&out[0]),
        "user uses it and was not removed or replaced"
    );
    assert_eq!(fake.changes(), ["stop u"]);
}

#[test]
fn a_removal_waits_for_a_user_that_is_replaced_to_go() {
    let fake = FakeEngine::new();
    let steps = replacing(&fake, &spec(V2));
    let db = fake.seed("db", "d", &spec(V1), Seed::Up(HOUR));
    let mut steps = steps;
    steps.push(step("db", Action::Remove { existing: db }));
    // The new version no longer uses db: it goes once web is replaced, or not at all.
    let p = plan(steps, &[("db", "web")]);
    fake.fail_on("create web.ddp-new", Fault::Status(500));
    let out = execute(&p, &fake, &settings(&fake), &[]);
    assert_eq!(
        skipped(&out[1]),
        "web uses it and was not removed or replaced"
    );
    assert_eq!(fake.changes(), ["create web.ddp-new"]);
}

#[test]
fn a_container_starts_once_what_it_waits_for_is_verified_up() {
    let fake = FakeEngine::new();
    fake.image("db:1").image("app:1");
    let steps = vec![
        step(
            "app",
            Action::Create {
                spec: spec("app:1"),
            },
        ),
        step("db", Action::Create { spec: spec("db:1") }),
    ];
    let out = execute(&plan(steps, &[("app", "db")]), &fake, &settings(&fake), &[]);
    assert!(out.iter().all(|o| o.result == StepResult::Done), "{out:?}");
    let calls = fake.calls();
    let db_verified = calls.iter().rposition(|c| c == "inspect id1");
    let app_created = calls.iter().position(|c| c == "create app");
    assert!(db_verified < app_created, "{calls:?}");
    // A dependency that fails verification, or is left as it is, is not up.
    let fake = FakeEngine::new();
    fake.image("db:1").image("app:1");
    let dies = Life::Exits {
        code: 1,
        after: Duration::ZERO,
    };
    fake.behave("db:1", dies, "");
    let steps = vec![
        step("db", Action::Create { spec: spec("db:1") }),
        step(
            "app",
            Action::Create {
                spec: spec("app:1"),
            },
        ),
        step(
            "other",
            Action::Create {
                spec: spec("app:1"),
            },
        ),
        step("left", Action::Leave { existing: None }),
    ];
    let p = plan(steps, &[("app", "db"), ("other", "left")]);
    let out = execute(&p, &fake, &settings(&fake), &[]);
    assert_eq!(skipped(&out[1]), "it waits for db, which is not up");
    assert_eq!(skipped(&out[2]), "it waits for left, which is not up");
    assert_eq!(out[3].result, StepResult::Done);
    assert_eq!(fake.changes(), ["create db", "start id1"]);
}

#[test]
fn names_of_one_wave_run_together_and_are_watched_in_one_window() {
    let fake = FakeEngine::new();
    fake.image("a:1").image("b:1");
    let steps = vec![
        step("a", Action::Create { spec: spec("a:1") }),
        step("b", Action::Create { spec: spec("b:1") }),
    ];
    let started = fake.now();
    let s = Settings {
        jobs: 4,
        ..settings(&fake)
    };
    let out = execute(&plan(steps, &[]), &fake, &s, &[]);
    assert!(out.iter().all(|o| o.result == StepResult::Done));
    assert_eq!(names(&fake).len(), 2);
    // One window for both: not one after the other.
    assert!(
        fake.since(started) < SETTLE * 2,
        "{:?}",
        fake.since(started)
    );
}

#[test]
fn crash_repair_discards_and_starts_and_a_name_it_could_not_repair_is_not_converged() {
    let leftovers = |fake: &FakeEngine| {
        fake.seed("web.ddp-new", "n", &spec(V2), Seed::Up(HOUR));
        fake.seed("web.ddp-old", "o", &spec(V1), Seed::Exited(0));
    };
    let fake = FakeEngine::new();
    leftovers(&fake);
    let recovery = crate::recover::recover(fake.list(), false);
    let out = repairs(&recovery.steps, &fake, &settings(&fake));
    assert!(out.iter().all(|o| o.result == StepResult::Done), "{out:?}");
    assert_eq!(
        fake.changes(),
        ["stop n", "remove n", "rename o web", "start o"]
    );
    assert_eq!(names(&fake), [is("web", "o", "running")]);
    // What it starts is verified like any start.
    assert!(fake.calls().contains(&"inspect o".to_string()));
    // A repair that fails skips the name's other repairs and its plan.
    let fake = FakeEngine::new();
    leftovers(&fake);
    fake.fail_on("rename o web", Fault::Status(500));
    let recovery = crate::recover::recover(fake.list(), false);
    let s = settings(&fake);
    let done = repairs(&recovery.steps, &fake, &s);
    assert!(done[1].failed());
    assert_eq!(
        skipped(&done[2]),
        "an earlier step failed: rename o web: HTTP 500: injected"
    );
    let p = plan(vec![step("web", Action::Create { spec: spec(V2) })], &[]);
    let out = execute(&p, &fake, &s, &done);
    assert_eq!(
        skipped(&out[0]),
        "its crash repair did not succeed: an earlier step failed: rename o web: HTTP 500: injected"
    );
    // A skipped repair blocks the name as well.
    let blocked = vec![Outcome {
        step: step(
            "web",
            Action::Start {
                existing: Existing::default(),
            },
        ),
        result: StepResult::Skipped("x".into()),
        finished: None,
    }];
    let out = execute(&p, &fake, &s, &blocked);
    assert_eq!(skipped(&out[0]), "its crash repair did not succeed: x");
}

#[test]
fn a_step_after_one_that_started_something_waits_for_its_verdict() {
    let fake = FakeEngine::new();
    let e = fake.seed("web", "w", &spec(V1), Seed::Exited(1));
    let steps = vec![
        step(
            "web",
            Action::Start {
                existing: e.clone(),
            },
        ),
        step("web", Action::Remove { existing: e }),
    ];
    let out = run(&fake, steps);
    assert_eq!(out[0].result, StepResult::Done);
    assert_eq!(skipped(&out[1]), "an earlier step is not verified yet");
    assert_eq!(fake.changes(), ["start w"]);
}

#[test]
fn what_leaves_a_container_alone_calls_no_engine() {
    let fake = FakeEngine::new();
    let up = fake.seed("kept", "k", &spec(V1), Seed::Up(HOUR));
    let done = fake.seed("job", "j", &spec(V1), Seed::Exited(0));
    let failed = fake.seed("held.ddp-failed", "f", &spec(V2), Seed::Exited(3));
    let steps = vec![
        step(
            "kept",
            Action::Keep {
                existing: up.clone(),
            },
        ),
        step(
            "job",
            Action::Finished {
                existing: Some(done),
            },
        ),
        step("left", Action::Leave { existing: None }),
        step(
            "held",
            Action::HeldBack {
                existing: Some(up),
                failed: failed.clone(),
            },
        ),
        step(
            "none",
            Action::HeldBack {
                existing: None,
                failed,
            },
        ),
    ];
    let out = run(&fake, steps);
    // A no-op run stays at the list call: apply adds none.
    assert_eq!(fake.calls(), Vec::<String>::new());
    assert!(out[..3].iter().all(|o| o.result == StepResult::Done));
    assert_eq!(
        why(&out[3]).why,
        "held back: this record's version failed verification before and is kept as held.ddp-failed; the old container keeps running untouched (change the record, or `docker rm held.ddp-failed` to retry)"
    );
    assert!(
        why(&out[4])
            .why
            .contains("; nothing else runs under the name (")
    );
    assert_eq!(exit_code(Code::Ok, &out), Code::ActionsFailed);
}

#[test]
fn a_kept_container_is_watched_only_when_it_may_not_be_up() {
    // Up for 2 s of a 3 s window: watched for the rest of it, from the first look.
    let fake = FakeEngine::new();
    let e = fake.seed("web", "w", &spec(V1), Seed::Up(Duration::from_secs(2)));
    let out = run(&fake, vec![step("web", Action::Keep { existing: e })]);
    assert_eq!(out[0].result, StepResult::Done);
    assert_eq!(count(&fake.calls(), "inspect w"), 5);
    // Restarted 5 times long ago: a history, not a crash loop now.
    let fake = FakeEngine::new();
    let e = fake.seed("web", "w", &spec(V1), Seed::Up(Duration::ZERO));
    fake.restarted("w", 5);
    let out = run(&fake, vec![step("web", Action::Keep { existing: e })]);
    assert_eq!(out[0].result, StepResult::Done);
    // Unhealthy by the list: fails with its last words, without a watch.
    let fake = FakeEngine::new();
    let sick = Life::Health {
        after: Duration::ZERO,
        then: Health::Unhealthy,
    };
    fake.behave(V1, sick, "it hurts\n");
    let e = fake.seed("web", "w", &spec(V1), Seed::Up(HOUR));
    let out = run(&fake, vec![step("web", Action::Keep { existing: e })]);
    assert_eq!(
        why(&out[0]).why,
        "unhealthy: not up, left as it is (the engine's healthcheck decides its fate); its last output:\n    | it hurts"
    );
    assert_eq!(fake.calls(), ["logs w"]);
}

/// How a step ended: done (with the container of a job that finished), or failed, and why.
type Ended<'a> = Result<Option<&'a str>, &'a str>;

#[test]
fn verdicts_on_what_a_run_starts() {
    let dies = |code, after| Life::Exits { code, after };
    let s = Duration::from_secs;
    let always = json!({"RestartPolicy": {"Name": "always"}});
    let cases: Vec<(Life, serde_json::Value, Ended)> = vec![
        (Life::Runs, json!({}), Ok(None)),
        (dies(0, s(1)), json!({}), Ok(Some("id1"))),
        (
            dies(2, s(1)),
            json!({}),
            Err(
                "failed verification: exited with status 2, within 1.0s of its start; its last output:\n    | words",
            ),
        ),
        (
            dies(1, s(1)),
            always.clone(),
            Err(
                "failed verification: restarting: exited with status 1 (restarted 1 times), within 1.0s of its start; its last output:\n    | words",
            ),
        ),
        (
            dies(0, s(1)),
            always,
            Err(
                "failed verification: restarting: exited with status 0 (restarted 1 times), within 1.0s of its start; its last output:\n    | words",
            ),
        ),
        (
            Life::Health {
                after: s(1),
                then: Health::Healthy,
            },
            json!({}),
            Ok(None),
        ),
        (
            Life::Health {
                after: s(1),
                then: Health::Unhealthy,
            },
            json!({}),
            Err(
                "failed verification: unhealthy (last check: words), within 1.0s of its start; its last output:\n    | words",
            ),
        ),
        // The fake's healthcheck gives up after 4 s: (1 s + 1 s) × (1 retry + 1).
        (
            Life::Health {
                after: HOUR,
                then: Health::Healthy,
            },
            json!({}),
            Err(
                "failed verification: health still starting after its healthcheck's bound, within 4.0s of its start; its last output:\n    | words",
            ),
        ),
        // `--rm`: gone when it exits; its events say how.
        (dies(0, s(1)), json!({"AutoRemove": true}), Ok(Some("id1"))),
        // Stopped from outside: no evidence of a crash, nor of a job done.
        (
            Life::StoppedAfter(s(1)),
            json!({"AutoRemove": true}),
            Ok(None),
        ),
        (
            dies(2, s(1)),
            json!({"AutoRemove": true}),
            Err(
                "failed verification: exited with status 2 and removed itself (--rm), within 1.0s of its start",
            ),
        ),
    ];
    for (life, host_config, want) in cases {
        let fake = FakeEngine::new();
        fake.image(V1).behave(V1, life, "words\n");
        let out = run(
            &fake,
            vec![step(
                "web",
                Action::Create {
                    spec: spec_with(V1, host_config.clone()),
                },
            )],
        );
        let got = match &out[0].result {
            StepResult::Done => Ok(out[0].finished.as_deref()),
            StepResult::Failed(f) => Err(f.why.as_str()),
            other => panic!("{other:?}"),
        };
        assert_eq!(got, want, "{life:?} {host_config}");
    }
}

#[test]
fn a_healthcheck_is_waited_for_only_until_the_deadline() {
    let fake = FakeEngine::new();
    let slow = Life::Health {
        after: HOUR,
        then: Health::Healthy,
    };
    fake.image(V1).behave(V1, slow, "");
    let patient = json!({"Test": ["CMD", "true"], "Interval": 60_000_000_000u64});
    let mut with_check = (*spec(V1)).clone();
    with_check.body["Healthcheck"] = patient;
    let s = Settings {
        deadline: fake.now() + Duration::from_secs(10),
        ..settings(&fake)
    };
    let steps = vec![step(
        "web",
        Action::Create {
            spec: Arc::new(with_check),
        },
    )];
    let out = execute(&plan(steps, &[]), &fake, &s, &[]);
    assert_eq!(
        why(&out[0]).why,
        "failed verification: not verified up within --timeout, within 10.0s of its start"
    );
}

#[test]
fn a_container_that_removed_itself_without_a_trace_counts_as_up() {
    let fake = FakeEngine::new();
    let dies = Life::Exits {
        code: 0,
        after: Duration::from_secs(1),
    };
    fake.image(V1).behave(V1, dies, "");
    fake.fail_on("events id1", Fault::Status(500));
    let rm = spec_with(V1, json!({"AutoRemove": true}));
    let out = run(&fake, vec![step("web", Action::Create { spec: rm })]);
    assert_eq!(out[0].result, StepResult::Done);
    assert_eq!(out[0].finished, None, "not known to have finished");
}

#[test]
fn a_watch_asks_again_while_the_engine_does_not_answer_until_twice_the_window() {
    // One failed look is retried.
    let fake = FakeEngine::new();
    fake.image(V1);
    fake.fail_on("inspect id1", Fault::Timeout);
    let out = run(&fake, vec![step("web", Action::Create { spec: spec(V1) })]);
    assert_eq!(out[0].result, StepResult::Done);
    // An engine that never answers: one look every 250 ms for 2 × 3 s, then the verdict.
    let fake = FakeEngine::new();
    fake.image(V1);
    fake.fail_every("inspect id1", Fault::Status(500));
    let out = run(&fake, vec![step("web", Action::Create { spec: spec(V1) })]);
    let f = why(&out[0]);
    assert_eq!(
        f.why,
        "failed verification: could not be watched: inspect id1: HTTP 500: injected"
    );
    assert!(!f.engine_lost, "the engine answered");
    assert_eq!(count(&fake.calls(), "inspect id1"), 25);
    // Never past the deadline.
    let fake = FakeEngine::new();
    fake.image(V1);
    fake.fail_every("inspect id1", Fault::Unreachable);
    let s = Settings {
        deadline: fake.now() + Duration::from_secs(2),
        ..settings(&fake)
    };
    let steps = vec![step("web", Action::Create { spec: spec(V1) })];
    let out = execute(&plan(steps, &[]), &fake, &s, &[]);
    assert!(why(&out[0]).engine_lost);
    assert_eq!(count(&fake.calls(), "inspect id1"), 9);
    assert_eq!(exit_code(Code::Ok, &out), Code::Unavailable);
}

#[test]
fn a_container_decided_early_is_not_looked_at_again() {
    let fake = FakeEngine::new();
    let dies = Life::Exits {
        code: 1,
        after: Duration::ZERO,
    };
    fake.image("bad:1")
        .image("good:1")
        .behave("bad:1", dies, "");
    let steps = vec![
        step(
            "bad",
            Action::Create {
                spec: spec("bad:1"),
            },
        ),
        step(
            "good",
            Action::Create {
                spec: spec("good:1"),
            },
        ),
    ];
    let out = run(&fake, steps);
    assert!(out[0].failed());
    assert_eq!(out[1].result, StepResult::Done);
    let calls = fake.calls();
    assert_eq!(count(&calls, "inspect id1"), 1, "{calls:?}");
    assert_eq!(count(&calls, "logs id1"), 1, "{calls:?}");
    assert_eq!(count(&calls, "inspect id2"), 13, "{calls:?}");
}

#[test]
fn nothing_is_watched_with_no_settle_window() {
    let fake = FakeEngine::new();
    fake.image(V1);
    let s = Settings {
        settle: Duration::ZERO,
        ..settings(&fake)
    };
    let steps = vec![step("web", Action::Create { spec: spec(V1) })];
    let out = execute(&plan(steps, &[]), &fake, &s, &[]);
    assert_eq!(out[0].result, StepResult::Done);
    assert_eq!(fake.calls(), ["image app:1", "create web", "start id1"]);
}

#[test]
fn create_start_and_rename_back_fail_as_their_calls_do() {
    let fake = FakeEngine::new();
    fake.image(V1);
    fake.fail_on("start id1", Fault::Status(500));
    let out = run(&fake, vec![step("web", Action::Create { spec: spec(V1) })]);
    assert_eq!(
        why(&out[0]).why,
        "created id1, but start failed: start id1: HTTP 500: injected"
    );
    // Left created for `docker logs`; the next run starts it.
    assert_eq!(names(&fake), [is("web", "id1", "created")]);
    for fault in [Fault::Status(409), Fault::Unreachable] {
        let fake = FakeEngine::new();
        fake.image(V1);
        fake.fail_on("create web", fault);
        let out = run(&fake, vec![step("web", Action::Create { spec: spec(V1) })]);
        assert_eq!(why(&out[0]).engine_lost, fault == Fault::Unreachable);
    }
    let fake = FakeEngine::new();
    let e = fake.seed("web", "w", &spec(V1), Seed::Exited(1));
    fake.fail_on("start w", Fault::Timeout);
    let out = run(&fake, vec![step("web", Action::Start { existing: e })]);
    assert!(why(&out[0]).engine_lost);
    let fake = FakeEngine::new();
    let old = fake.seed("web.ddp-old", "o", &spec(V1), Seed::Exited(0));
    let out = run(
        &fake,
        vec![step("web", Action::RenameBack { old: old.clone() })],
    );
    assert_eq!(out[0].result, StepResult::Done);
    assert_eq!(fake.changes(), ["rename o web"]);
    let out = run(&fake, vec![step("web", Action::RenameBack { old })]);
    assert_eq!(
        why(&out[0]).why,
        "rename o web: HTTP 409: Conflict. The container name is already in use"
    );
}

#[test]
fn a_missing_image_is_pulled_once_for_all_that_need_it() {
    let fake = FakeEngine::new();
    fake.registry(V2);
    let steps = vec![
        step("a", Action::Create { spec: spec(V2) }),
        step("b", Action::Create { spec: spec(V2) }),
    ];
    let out = run(&fake, steps);
    assert!(out.iter().all(|o| o.result == StepResult::Done), "{out:?}");
    assert_eq!(count(&fake.calls(), "pull app:2"), 1);
    assert_eq!(fake.changes()[0], "pull app:2");
}

/// Issue 22 item 4: a pull that fails because the engine is gone is the engine's failure
/// (69); the image's or its registry's is the container's (73). Either way the container
/// is not touched.
/// A fault at the first call of a kind.
type Injected<'a> = Option<(&'a str, Fault)>;

#[test]
fn a_failed_pull_fails_its_containers_untouched_and_says_whose_fault_it_is() {
    let cases: Vec<(Injected, Option<PullPolicy>, &str, Code)> = vec![
        (
            None,
            None,
            "pull of app:2 failed: registry docker.io has no such image or tag: manifest unknown; fix the record",
            Code::ActionsFailed,
        ),
        (
            Some(("image", Fault::Unreachable)),
            None,
            "Docker engine unreachable: image app:2: injected",
            Code::Unavailable,
        ),
        (
            Some(("image", Fault::Timeout)),
            None,
            "image app:2: injected: no reply",
            Code::Unavailable,
        ),
        (
            Some(("image", Fault::Status(500))),
            None,
            "image app:2: HTTP 500: injected",
            Code::ActionsFailed,
        ),
        (
            Some(("pull", Fault::Unreachable)),
            None,
            "pull of app:2 failed: (registry docker.io) injected; temporary, retry later",
            Code::Unavailable,
        ),
        (
            None,
            Some(PullPolicy::Never),
            "image docker.io/library/app:2 is not present and --pull=never",
            Code::ActionsFailed,
        ),
    ];
    for (fault, pull, want, code) in cases {
        let fake = FakeEngine::new();
        let mut to = (*spec(V2)).clone();
        to.pull = pull;
        let old = fake.seed("web", "old", &spec(V1), Seed::Up(HOUR));
        if let Some((call, f)) = fault {
            fake.registry(V2);
            fake.fail_on(call, f);
        }
        let steps = vec![step(
            "web",
            Action::Replace {
                existing: old,
                spec: Arc::new(to),
            },
        )];
        let out = run(&fake, steps);
        assert_eq!(why(&out[0]).why, want);
        assert_eq!(exit_code(Code::Ok, &out), code, "{want}");
        assert!(
            fake.changes().iter().all(|c| c.starts_with("pull ")),
            "{:?}",
            fake.changes()
        );
    }
}

#[test]
fn what_a_pull_policy_pulls() {
    let id = format!("sha256:{}", "a".repeat(64));
    let id = id.as_str();
    let pinned = format!("app@sha256:{}", "b".repeat(64));
    let pinned = pinned.as_str();
    let always = Some(PullPolicy::Always);
    // (image, policy, present, the kinds of call made, the failure)
    let cases = [
        (V2, None, true, "image", None::<&str>),
        (V2, None, false, "image pull", None),
        (V2, always, true, "pull", None),
        // Pinned by digest: its content cannot change.
        (pinned, always, true, "image", None),
        (pinned, always, false, "image pull", None),
        (V2, Some(PullPolicy::Never), true, "image", None),
        (
            id,
            None,
            false,
            "image",
            Some("is not present, and an image ID cannot be pulled"),
        ),
    ];
    for (image, pull, present, kinds, fails) in cases {
        let fake = FakeEngine::new();
        let familiar = ImageRef::parse(image).expect("image").familiar();
        fake.registry(&familiar);
        if present {
            fake.image(&familiar);
        }
        let mut s = (*spec(image)).clone();
        s.pull = pull;
        let errors = crate::images::pull_missing(
            [step("web", Action::Create { spec: Arc::new(s) })].iter(),
            &fake,
            1,
        );
        let calls = fake.calls();
        let made: Vec<&str> = calls.iter().filter_map(|c| c.split(' ').next()).collect();
        assert_eq!(made.join(" "), kinds, "{image} {pull:?}: {calls:?}");
        match (errors.values().next(), fails) {
            (None, None) => {}
            (Some(e), Some(f)) => assert!(e.why.ends_with(f), "{image}: {e}"),
            (e, _) => panic!("{image} {pull:?}: {e:?}"),
        }
    }
}

/// What a test sets up in a fake engine: the steps to run there.
type Setup = dyn Fn(&FakeEngine) -> Vec<Step>;

/// What a person reads in the log: a change done once it is done, a start once verified
/// (and how), nothing for what was left alone.
#[test]
fn the_log_says_what_was_done_and_how_it_was_verified() {
    let logs = |setup: &Setup| {
        let fake = FakeEngine::new();
        let steps = setup(&fake);
        logged(|| run(&fake, steps)).1
    };
    const JOB: Life = Life::Exits {
        code: 0,
        after: Duration::from_secs(1),
    };
    let cases: Vec<(&Setup, Vec<&str>)> = vec![
        (
            &|f| {
                let e = f.seed("old", "o", &spec(V1), Seed::Up(HOUR));
                vec![step("old", Action::Remove { existing: e })]
            },
            vec!["INFO old: remove done (the test says so)"],
        ),
        (
            &|f| {
                let e = f.seed("web", "w", &spec(V1), Seed::Up(HOUR));
                vec![step("web", Action::Keep { existing: e })]
            },
            vec![],
        ),
        (
            &|f| {
                f.image(V1);
                vec![step("web", Action::Create { spec: spec(V1) })]
            },
            vec!["INFO web: verified up"],
        ),
        (
            &|f| {
                f.image(V1).behave(V1, JOB, "");
                vec![step("web", Action::Create { spec: spec(V1) })]
            },
            vec!["INFO web: verified: a job that finished with status 0"],
        ),
        (
            &|f| {
                f.image(V1).behave(V1, JOB, "");
                f.fail_on("events id1", Fault::Status(500));
                let rm = spec_with(V1, json!({"AutoRemove": true}));
                vec![step("web", Action::Create { spec: rm })]
            },
            vec![
                "WARN id1: removed itself while watched (--rm?); its exit status is unknown (events id1: HTTP 500: injected)",
                "INFO web: verified up (it removed itself; its exit status is unknown)",
            ],
        ),
        (
            &|f| replacing(f, &spec(V2)),
            vec!["INFO web: replacement verified up"],
        ),
        (
            &|f| {
                f.image(V1);
                f.fail_on("create web", Fault::Status(500));
                vec![step("web", Action::Create { spec: spec(V1) })]
            },
            vec!["ERROR web: create: create web: HTTP 500: injected"],
        ),
    ];
    for (setup, want) in cases {
        assert_eq!(logs(setup), want);
    }
}

#[test]
fn the_exit_code_is_the_plans_worsened_by_what_failed() {
    let outcome = |result| Outcome {
        step: step("x", Action::Leave { existing: None }),
        result,
        finished: None,
    };
    let lost = StepResult::Failed(StepFailure {
        why: "x".into(),
        engine_lost: true,
    });
    let failed = StepResult::Failed(StepFailure::of("x"));
    let skipped = StepResult::Skipped("x".into());
    let cases = [
        (Code::Ok, vec![], Code::Ok),
        (Code::Ok, vec![StepResult::Done, skipped.clone()], Code::Ok),
        (Code::DataError, vec![StepResult::Done], Code::DataError),
        (Code::Ok, vec![failed.clone()], Code::ActionsFailed),
        (
            Code::Ok,
            vec![failed.clone(), lost.clone()],
            Code::Unavailable,
        ),
        (Code::Ok, vec![lost, failed], Code::Unavailable),
    ];
    for (planned, results, want) in cases {
        let outcomes: Vec<Outcome> = results.into_iter().map(outcome).collect();
        assert_eq!(
            exit_code(planned, &outcomes),
            want,
            "{planned:?} {outcomes:?}"
        );
    }
}

#[test]
fn a_failure_reads_as_why() {
    assert_eq!(StepFailure::of("it broke").to_string(), "it broke");
}

#[test]
fn the_fakes_list_reads_like_the_engines() {
    let fake = FakeEngine::new();
    fake.seed("web", "w", &spec(V1), Seed::Up(HOUR));
    let list: Vec<Container> = fake.list();
    assert_eq!(list[0].owner(), spec(V1).owner_label());
    assert!(list[0].running());
}

/// The `--pull always` pulls before planning: one pull an image, and for each container
/// whether its tag still names what it runs; a failure says whether the engine was lost.
#[test]
fn the_pulls_before_planning_say_what_each_container_runs() {
    use crate::images::{self, Refresh};
    let fake = FakeEngine::new();
    fake.registry(V1).registry(V2);
    let (a, b, c) = (spec(V1), spec(V1), spec(V2));
    fake.seed("a", "id-a", &a, Seed::Up(HOUR));
    fake.seed("b", "id-b", &b, Seed::Up(HOUR));
    fake.seed("c", "id-c", &c, Seed::Up(HOUR));
    let mut actual = fake.list();
    // `a` runs an image its tag no longer names; `b` and `c` what theirs name.
    let at = |name: &str| actual.iter().position(|x| x.name == name).expect("seeded");
    let ia = at("a");
    actual[ia].image_id = "sha256:an-older-app".into();
    let d = desired(&[("a", &a), ("b", &b), ("c", &c)]);
    let found = images::check(&fake, &d, &actual, PullPolicy::Always, 2);
    let want = |id: &str| Refresh::Updated(format!("sha256:{id}"));
    assert_eq!(found.get("id-a"), Some(&want(V1)));
    let current = |id: &str| found.get(id).cloned();
    assert_eq!(current("id-b"), Some(Refresh::Current));
    assert_eq!(current("id-c"), Some(Refresh::Current));
    let pulls = fake
        .calls()
        .iter()
        .filter(|c| c.starts_with("pull "))
        .count();
    assert_eq!(pulls, 2, "one pull an image: {:?}", fake.calls());
    // Only `always` pulls before planning.
    let none = images::check(&fake, &d, &actual, PullPolicy::Missing, 2);
    assert!(none.is_empty(), "{none:?}");
    // The engine stops answering: the planner learns it was the engine.
    fake.fail_every("pull", Fault::Unreachable);
    let lost = images::check(&fake, &d, &actual, PullPolicy::Always, 1);
    assert!(
        matches!(lost.get("id-a"), Some(Refresh::Failed(e)) if e.engine_lost),
        "{lost:?}"
    );
    fake.heal();
    fake.fail_every("pull", Fault::Status(500));
    let refused = images::check(&fake, &d, &actual, PullPolicy::Always, 1);
    assert!(
        matches!(refused.get("id-b"), Some(Refresh::Failed(e)) if !e.engine_lost),
        "{refused:?}"
    );
}

/// A dependent that opts in is restarted (stop, start, verified) only once what it restarts
/// after is replaced and verified; when that replace fails, the dependent is left running.
#[test]
fn a_dependent_restarts_after_its_dependency_is_replaced_and_verified() {
    let fake = FakeEngine::new();
    let mut steps = replacing(&fake, &spec(V2));
    let app = fake.seed("app", "app1", &spec(V1), Seed::Up(HOUR));
    steps.push(step("app", Action::Restart { existing: app }));
    let out = execute(
        &plan(steps.clone(), &[("app", "web")]),
        &fake,
        &settings(&fake),
        &[],
    );
    assert!(out.iter().all(|o| o.result == StepResult::Done), "{out:?}");
    let changes = fake.changes();
    let at = |c: &str| {
        changes
            .iter()
            .position(|x| x == c)
            .unwrap_or_else(|| panic!("{c}: {changes:?}"))
    };
    assert!(at("remove old") < at("stop app1") && at("stop app1") < at("start app1"));
    assert!(names(&fake).contains(&is("app", "app1", "running")));

    // The dependency's new version dies: rolled back, and the dependent is not touched.
    let fake = FakeEngine::new();
    fake.behave(
        V2,
        Life::Exits {
            code: 1,
            after: Duration::ZERO,
        },
        "boom",
    );
    let mut steps = replacing(&fake, &spec(V2));
    let app = fake.seed("app", "app1", &spec(V1), Seed::Up(HOUR));
    steps.push(step("app", Action::Restart { existing: app }));
    let out = execute(
        &plan(steps, &[("app", "web")]),
        &fake,
        &settings(&fake),
        &[],
    );
    assert!(skipped(&out[1]).contains("waits for web"), "{out:?}");
    assert_eq!(count(&fake.changes(), "stop app1"), 0);
}

/// `plan`'s look at the `always` tags asks the registry, never pulls: a container whose
/// image was pulled as another digest has an update available; nothing is pulled.
#[test]
fn plan_asks_the_registry_whether_a_tag_moved_and_pulls_nothing() {
    use crate::images::{self, Refresh};
    let fake = FakeEngine::new();
    fake.registry(V1);
    let (a, b, gone) = (spec(V1), spec(V1), spec(V2));
    fake.seed("a", "id-a", &a, Seed::Up(HOUR));
    fake.seed("b", "id-b", &b, Seed::Up(HOUR));
    fake.seed("c", "id-c", &gone, Seed::Up(HOUR));
    let mut actual = fake.list();
    let ia = actual.iter().position(|x| x.name == "a").expect("seeded");
    actual[ia].image_id = "sha256:an-older-app".into();
    let d = desired(&[("a", &a), ("b", &b), ("c", &gone)]);
    let found = images::check_remote(&fake, &d, &actual, PullPolicy::Always, 2);
    assert_eq!(
        found.get("id-a"),
        Some(&Refresh::Available(format!("sha256:{V1}")))
    );
    assert_eq!(found.get("id-b"), Some(&Refresh::Current));
    assert!(
        matches!(found.get("id-c"), Some(Refresh::Failed(_))),
        "{found:?}"
    );
    assert!(
        !fake.calls().iter().any(|c| c.starts_with("pull ")),
        "{:?}",
        fake.calls()
    );
    let asked = fake
        .calls()
        .iter()
        .filter(|c| c.starts_with("distribution "))
        .count();
    assert_eq!(asked, 2, "one question an image");
    assert!(images::check_remote(&fake, &d, &actual, PullPolicy::Missing, 2).is_empty());
}
