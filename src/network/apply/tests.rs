use super::*;
use crate::apply::fake::{FakeEngine, Fault, Seed};
use crate::container::{OWNER_LABEL, SystemHost, owner_label};
use crate::exit::Code;
use crate::network::desired::{NetList, NetState, Networks, WantedNetwork};
use crate::network::plan::{self, Settings};
use std::sync::Arc;
use std::time::Duration;

fn declared(entries: &[(&str, &str)]) -> Networks {
    Networks {
        list_records: vec!["networks.docker.h".into()],
        list: NetList::Listed(
            entries
                .iter()
                .map(|(n, text)| WantedNetwork {
                    name: n.to_string(),
                    state: NetState::Spec {
                        record: format!("{n}.networks.docker.h"),
                        spec: Arc::new(crate::network::parse(text, false).unwrap()),
                    },
                })
                .collect(),
        ),
    }
}

fn plan_on(engine: &FakeEngine, nets: &Networks, recreate: bool) -> NetPlan {
    let settings = Settings {
        recreate,
        ..Settings::default()
    };
    plan::make(nets, Some(&engine.networks()), &engine.list(), settings)
}

fn names(engine: &FakeEngine) -> Vec<(String, Option<String>)> {
    engine
        .networks()
        .into_iter()
        .map(|n| {
            let owner = n.owner().and_then(crate::container::record_text);
            (n.name, owner)
        })
        .collect()
}

#[test]
fn networks_are_made_before_and_removed_after() {
    let engine = FakeEngine::new();
    engine.seed_network("old", &[(OWNER_LABEL, &owner_label(""))]);
    engine.seed_network("hand", &[]);
    let p = plan_on(&engine, &declared(&[("app", "--internal")]), false);
    let first = before_containers(&p, &engine);
    assert_eq!(engine.changes(), ["create network app"]);
    let last = after_containers(&p, &engine);
    assert_eq!(
        engine.changes(),
        ["create network app", "remove network net1"]
    );
    assert_eq!(
        names(&engine),
        [
            ("hand".to_string(), None),
            ("app".to_string(), Some("--internal".to_string()))
        ]
    );
    let all: Vec<NetOutcome> = first.into_iter().chain(last).collect();
    assert!(all.iter().all(|o| !o.failed()));
    let managed = managed_after(&["old".to_string()].into(), &all);
    assert_eq!(managed, ["app".to_string()].into());
}

#[test]
fn a_container_whose_network_failed_is_left_not_created() {
    let engine = FakeEngine::new();
    engine.fail_on("create network app", Fault::Status(500));
    let p = plan_on(&engine, &declared(&[("app", "")]), false);
    let outcomes = before_containers(&p, &engine);
    assert!(outcomes[0].failed());
    let web = Arc::new(crate::container::parse("--network app img", &SystemHost).unwrap());
    let plain = Arc::new(crate::container::parse("img", &SystemHost).unwrap());
    let mut containers = Plan::unordered(
        vec![
            Step::new("web", Action::Create { spec: web }, "listed"),
            Step::new("other", Action::Create { spec: plain }, "listed"),
        ],
        Code::Ok,
    );
    hold_back(&mut containers, &outcomes);
    assert_eq!(containers.steps[0].action.verb(), "leave");
    assert!(
        containers.steps[0]
            .reason
            .contains("the network app could not be made: "),
        "{}",
        containers.steps[0].reason
    );
    assert_eq!(containers.steps[1].action.verb(), "create");
    assert_eq!(
        managed_after(&Default::default(), &outcomes),
        Default::default()
    );
}

fn seeded(engine: &FakeEngine, net_text: &str) -> String {
    engine.image("docker.io/library/img:latest");
    let id = engine.seed_network("app", &[(OWNER_LABEL, &owner_label(net_text))]);
    let spec = crate::container::parse("--network app img", &SystemHost).unwrap();
    engine.seed("web", "c1", &spec, Seed::Up(Duration::from_secs(60)));
    id
}

#[test]
fn a_changed_network_is_recreated_with_its_containers_connected_again() {
    let engine = FakeEngine::new();
    let old = seeded(&engine, "--subnet 10.1.0.0/24");
    let nets = declared(&[("app", "--subnet 10.2.0.0/24")]);
    assert_eq!(
        plan_on(&engine, &nets, false).steps[0].action.verb(),
        "leave"
    );
    let p = plan_on(&engine, &nets, true);
    let outcomes = before_containers(&p, &engine);
    assert_eq!(outcomes[0].result, Some(Ok(())));
    assert_eq!(
        engine.changes(),
        [
            format!("disconnect {old} web"),
            format!("remove network {old}"),
            "create network app".to_string(),
            "connect net2 web".to_string(),
        ]
    );
    assert_eq!(
        names(&engine),
        [("app".into(), Some("--subnet 10.2.0.0/24".into()))]
    );
    assert_eq!(engine.list()[0].networks, ["app"]);
}

#[test]
fn a_recreation_that_fails_goes_back_to_the_old_network() {
    let engine = FakeEngine::new();
    seeded(&engine, "--subnet 10.1.0.0/24");
    let p = plan_on(&engine, &declared(&[("app", "--subnet 10.2.0.0/24")]), true);
    // The new network is made, but the container cannot join it.
    engine.fail_on("connect", Fault::Status(500));
    let outcomes = before_containers(&p, &engine);
    let Some(Err(why)) = &outcomes[0].result else {
        panic!("{outcomes:?}")
    };
    assert!(
        why.contains("went back to the network of the old record"),
        "{why}"
    );
    assert_eq!(
        names(&engine),
        [("app".into(), Some("--subnet 10.1.0.0/24".into()))]
    );
    assert_eq!(
        engine.list()[0].networks,
        ["app"],
        "connected to the old one again"
    );

    // The new record's network cannot even be made: back to the old one too.
    let engine = FakeEngine::new();
    seeded(&engine, "--subnet 10.1.0.0/24");
    let p = plan_on(&engine, &declared(&[("app", "--subnet 10.2.0.0/24")]), true);
    engine.fail_on("create network app", Fault::Status(400));
    let outcomes = before_containers(&p, &engine);
    assert!(outcomes[0].failed());
    assert_eq!(
        names(&engine),
        [("app".into(), Some("--subnet 10.1.0.0/24".into()))]
    );
    assert_eq!(engine.list()[0].networks, ["app"]);

    // The old one cannot be removed: everything is connected to it again.
    let engine = FakeEngine::new();
    let old = seeded(&engine, "--subnet 10.1.0.0/24");
    let p = plan_on(&engine, &declared(&[("app", "--subnet 10.2.0.0/24")]), true);
    engine.fail_on("remove network", Fault::Status(500));
    assert!(before_containers(&p, &engine)[0].failed());
    assert_eq!(engine.networks()[0].id, old);
    assert_eq!(engine.list()[0].networks, ["app"]);
}
