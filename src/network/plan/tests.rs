use super::*;
use crate::container::{OWNER_LABEL, owner_label};
use crate::desired::{Wanted, WantedState};
use crate::network::desired::WantedNetwork;
use crate::plan::{Existing, Step};

fn spec(text: &str) -> Arc<NetworkSpec> {
    Arc::new(crate::network::parse(text, false).unwrap())
}

fn declared(entries: &[(&str, NetState)]) -> Networks {
    Networks {
        list_records: vec!["networks.docker.h".into()],
        list: NetList::Listed(
            entries
                .iter()
                .map(|(n, s)| WantedNetwork {
                    name: n.to_string(),
                    state: s.clone(),
                })
                .collect(),
        ),
    }
}

fn with_spec(text: &str) -> NetState {
    NetState::Spec {
        record: "r".into(),
        spec: spec(text),
    }
}

fn network(name: &str, owner: Option<&str>) -> Network {
    Network {
        id: format!("id-{name}"),
        name: name.into(),
        driver: "bridge".into(),
        labels: owner
            .map(|t| [(OWNER_LABEL.to_string(), owner_label(t))].into())
            .unwrap_or_default(),
        described: None,
    }
}

fn container(name: &str, networks: &[&str]) -> Container {
    Container {
        id: format!("c-{name}"),
        name: name.into(),
        state: "running".into(),
        networks: networks.iter().map(|n| n.to_string()).collect(),
        ..Container::default()
    }
}

/// (network, verb, reason) of each step.
fn view(p: &NetPlan) -> Vec<(String, &'static str, String)> {
    p.steps
        .iter()
        .map(|s| (s.name.clone(), s.action.verb(), s.reason.clone()))
        .collect()
}

fn plan_of(nets: &Networks, actual: &[Network], cs: &[Container], settings: Settings) -> NetPlan {
    make(nets, Some(actual), cs, settings)
}

#[test]
fn declared_networks_are_created_kept_or_left() {
    let nets = declared(&[
        ("new1", with_spec("")),
        ("same", with_spec("--internal")),
        (
            "bad1",
            NetState::Invalid {
                record: None,
                why: "no".into(),
            },
        ),
        ("down", NetState::Unknown("SERVFAIL".into())),
        ("gone", NetState::Disabled),
        ("never", NetState::Disabled),
    ]);
    let actual = [
        network("same", Some("--internal")),
        network("gone", Some("old")),
        network("down", Some("x")),
    ];
    let p = plan_of(&nets, &actual, &[], Settings::default());
    let v = view(&p);
    let verb = |n: &str| v.iter().find(|x| x.0 == n).map(|x| x.1).unwrap();
    assert_eq!(
        [
            verb("new1"),
            verb("same"),
            verb("bad1"),
            verb("down"),
            verb("gone"),
            verb("never")
        ],
        ["create", "keep", "leave", "leave", "remove", "leave"]
    );
    assert_eq!(p.code, Code::TempFail, "unknown outranks invalid");
    assert_eq!(v.len(), 6);
}

#[test]
fn a_changed_network_is_recreated_only_when_nothing_would_be_disturbed() {
    let nets = declared(&[("app", with_spec("--subnet 10.5.0.0/24"))]);
    let actual = [network("app", Some("--subnet 10.4.0.0/24"))];
    // Nothing attached: recreated.
    let p = plan_of(&nets, &actual, &[], Settings::default());
    assert!(
        matches!(&p.steps[0].action, NetAction::Recreate { attached, old: None, .. } if attached.is_empty())
    );
    assert_eq!(p.code, Code::Ok);
    // Attached: left, saying what it would disturb, and the run says so (65).
    let cs = [
        container("web", &["app"]),
        container("db", &["app", "other"]),
    ];
    let p = plan_of(&nets, &actual, &cs, Settings::default());
    assert_eq!(p.steps[0].action.verb(), "leave");
    assert!(
        p.steps[0].reason.contains("would disconnect web, db"),
        "{}",
        p.steps[0].reason
    );
    assert!(p.steps[0].reason.contains("--recreate-networks"));
    assert_eq!(p.code, Code::DataError);
    // With the option: recreated, with the old record to go back to.
    let p = plan_of(
        &nets,
        &actual,
        &cs,
        Settings {
            recreate: true,
            ..Settings::default()
        },
    );
    let NetAction::Recreate {
        attached,
        old: Some(old),
        ..
    } = &p.steps[0].action
    else {
        panic!("{p:?}")
    };
    assert_eq!(attached, &["web", "db"]);
    assert_eq!(old.text, "--subnet 10.4.0.0/24");
    assert_eq!(p.code, Code::Ok);
}

#[test]
fn an_unlabelled_network_is_adopted_only_as_containers_are() {
    let nets = declared(&[("app", with_spec(""))]);
    let actual = [network("app", None)];
    let p = plan_of(&nets, &actual, &[], Settings::default());
    assert_eq!(p.steps[0].action.verb(), "recreate");
    assert!(
        p.steps[0]
            .reason
            .starts_with("adopting a network without our label")
    );
    let p = plan_of(
        &nets,
        &actual,
        &[],
        Settings {
            no_adopt: true,
            ..Settings::default()
        },
    );
    assert_eq!(p.steps[0].action.verb(), "leave");
    assert!(p.steps[0].reason.contains("--no-adopt"));
    assert_eq!(p.code, Code::DataError);
    // With something attached, not even --recreate-networks takes it when nothing says how
    // to make it again should the new one fail (the list did not describe it, or its
    // description is no valid record)...
    let cs = [container("x", &["app"])];
    let recreate = Settings {
        recreate: true,
        ..Settings::default()
    };
    assert_eq!(
        plan_of(&nets, &actual, &cs, recreate).steps[0]
            .action
            .verb(),
        "leave"
    );
    let mut bad = network("app", None);
    bad.described = Some("--gateway 10.0.0.1".into());
    let p = plan_of(&nets, &[bad], &cs, recreate);
    assert_eq!(p.steps[0].action.verb(), "leave");
    // ...and with its description as the way back, it does (an exported host's network);
    // without the option it is left.
    let mut described = network("app", None);
    described.described = Some("--subnet 10.9.0.0/24".into());
    let p = plan_of(&nets, std::slice::from_ref(&described), &cs, recreate);
    let NetAction::Recreate {
        old: Some(old),
        attached,
        ..
    } = &p.steps[0].action
    else {
        panic!("{:?}", p.steps);
    };
    assert_eq!(
        (old.text.as_str(), attached.as_slice()),
        ("--subnet 10.9.0.0/24", &["x".to_string()][..])
    );
    assert_eq!(p.code, Code::Ok);
    let p = plan_of(&nets, &[described], &cs, Settings::default());
    assert_eq!(
        (p.steps[0].action.verb(), p.code),
        ("leave", Code::DataError)
    );
    // Listed without a record: removed as an unlabelled container would be, but not under
    // --no-adopt.
    let nets = declared(&[("app", NetState::Disabled)]);
    assert_eq!(
        plan_of(&nets, &actual, &[], Settings::default()).steps[0]
            .action
            .verb(),
        "remove"
    );
    let p = plan_of(
        &nets,
        &actual,
        &[],
        Settings {
            no_adopt: true,
            ..Settings::default()
        },
    );
    assert_eq!(p.steps[0].action.verb(), "leave");
}

#[test]
fn only_managed_networks_no_longer_declared_are_removed() {
    let actual = [
        network("ours", Some("")),
        network("theirs", None),
        network("bridge", None),
    ];
    for nets in [Networks::default(), declared(&[])] {
        let p = plan_of(&nets, &actual, &[], Settings::default());
        assert_eq!(
            view(&p),
            [(
                "ours".into(),
                "remove",
                "managed by us and no longer declared".into()
            )]
        );
    }
    // An entry that is not a name may be a typo of this one: left.
    let nets = declared(&[(
        "-bad",
        NetState::Invalid {
            record: None,
            why: "x".into(),
        },
    )]);
    let p = plan_of(&nets, &actual, &[], Settings::default());
    assert_eq!(p.steps[1].action.verb(), "leave");
    assert!(p.steps[1].reason.contains("invalid entry ('-bad')"));
    // Unreadable list: nothing at all.
    let nets = Networks {
        list_records: vec![],
        list: NetList::Unavailable("SERVFAIL".into()),
    };
    let p = plan_of(&nets, &actual, &[], Settings::default());
    assert!(p.steps.is_empty());
    assert_eq!(p.code, Code::TempFail);
    // Not listed: nothing concerns the run.
    assert!(
        make(
            &declared(&[("a1", with_spec(""))]),
            None,
            &[],
            Settings::default()
        )
        .steps
        .is_empty()
    );
}

fn existing(c: &Container) -> Existing {
    Existing::from(c)
}

#[test]
fn a_network_is_never_removed_while_anything_would_stay_attached() {
    let actual = [
        network("old", Some("")),
        network("old2", Some("")),
        network("old3", Some("")),
    ];
    let cs = [
        container("kept", &["old"]),
        container("going", &["old2"]),
        container("foreign", &[]),
    ];
    let mut p = plan_of(&Networks::default(), &actual, &cs, Settings::default());
    let web = Arc::new(
        crate::container::parse("--network old3 img", &crate::container::SystemHost).unwrap(),
    );
    let containers = Plan::unordered(
        vec![
            Step::new(
                "kept",
                Action::Keep {
                    existing: existing(&cs[0]),
                },
                "up",
            ),
            Step::new(
                "going",
                Action::Remove {
                    existing: existing(&cs[1]),
                },
                "gone",
            ),
            Step::new("web", Action::Create { spec: web }, "new"),
        ],
        Code::Ok,
    );
    settle(&mut p, &containers, &cs);
    let v = view(&p);
    assert_eq!(v[0].1, "leave");
    assert!(
        v[0].2.ends_with("but left as it is: kept is attached"),
        "{}",
        v[0].2
    );
    assert_eq!(v[1].1, "remove", "its only container goes first");
    assert_eq!(v[2].1, "leave");
    assert!(v[2].2.contains("the record of web names it"), "{}", v[2].2);
}

fn desired_with(records: &[(&str, &str)]) -> Desired {
    Desired {
        host: "h".into(),
        walk: crate::walk::walk("h", &crate::walk::Bound::PublicSuffix).unwrap(),
        list_records: vec!["containers.docker.h".into()],
        list: HostList::Listed(
            records
                .iter()
                .map(|(n, text)| Wanted {
                    name: n.to_string(),
                    state: WantedState::Spec {
                        record: format!("{n}.containers.docker.h"),
                        spec: Arc::new(
                            crate::container::parse(text, &crate::container::SystemHost).unwrap(),
                        ),
                    },
                })
                .collect(),
        ),
    }
}

#[test]
fn a_container_naming_a_network_that_will_not_be_there_fails_alone() {
    let d = desired_with(&[
        ("a1", "--network declared img"),
        ("b1", "--network present img"),
        ("c1", "--network nowhere img"),
        ("d1", "img"),
        ("e1", "--network down img"),
    ]);
    let nets = declared(&[
        ("declared", with_spec("")),
        ("down", NetState::Unknown("SERVFAIL".into())),
    ]);
    let actual = [network("present", None)];
    let p = plan_of(&nets, &actual, &[], Settings::default());
    let out = check_containers(&d, &nets, &p, Some(&actual), &[]);
    let HostList::Listed(ws) = &out.list else {
        panic!()
    };
    let state = |n: &str| &ws.iter().find(|w| w.name == n).unwrap().state;
    assert!(matches!(state("a1"), WantedState::Spec { .. }));
    assert!(matches!(state("b1"), WantedState::Spec { .. }));
    assert!(matches!(state("d1"), WantedState::Spec { .. }));
    let WantedState::Invalid { why, .. } = state("c1") else {
        panic!("{:?}", state("c1"))
    };
    assert!(
        why.contains("names the network nowhere, which is neither declared"),
        "{why}"
    );
    assert!(matches!(state("e1"), WantedState::Unknown(w) if w.contains("network down")));
    // Without a network list, a network a container is attached to counts as present.
    let d = desired_with(&[("a1", "--network seen img"), ("b1", "--network unseen img")]);
    let cs = [container("other", &["seen"])];
    let out = check_containers(&d, &Networks::default(), &NetPlan::default(), None, &cs);
    let HostList::Listed(ws) = &out.list else {
        panic!()
    };
    assert!(matches!(ws[0].state, WantedState::Spec { .. }));
    assert!(matches!(ws[1].state, WantedState::Invalid { .. }));
}

/// The cost rule: the engine's networks are listed only when a network concerns the run.
#[test]
fn the_network_list_is_asked_only_when_needed() {
    let none = BTreeSet::new();
    let plain = desired_with(&[("a1", "img"), ("b1", "--network host img")]);
    assert!(!needs_list(&Networks::default(), &none, &plain, &[]));
    assert!(needs_list(&declared(&[]), &none, &plain, &[]));
    let remembered: BTreeSet<String> = ["old".to_string()].into();
    assert!(needs_list(&Networks::default(), &remembered, &plain, &[]));
    let named = desired_with(&[("a1", "--network app img")]);
    assert!(needs_list(&Networks::default(), &none, &named, &[]));
    assert!(!needs_list(
        &Networks::default(),
        &none,
        &named,
        &[container("a1", &["app"])]
    ));
}
