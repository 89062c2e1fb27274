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

#[test]
fn only_user_defined_networks_are_used() {
    let mut a = container("a", &[], json!({}));
    a.container["HostConfig"]["NetworkMode"] = json!("appnet");
    a.container["NetworkSettings"]["Networks"] = json!({"appnet": {}, "backnet": {}});
    let mut b = container("b", &[], json!({}));
    b.container["HostConfig"]["NetworkMode"] = json!("container:a");
    let mut c = container("c", &[], json!({}));
    c.container["NetworkSettings"]["Networks"] = json!({"bridge": {}});
    let mut d = container("d", &[], json!({}));
    d.container["HostConfig"]["NetworkMode"] = json!("host");
    d.container["NetworkSettings"]["Networks"] = json!({"host": {}});
    // Connected later to a network its run line does not name: not its record's concern.
    let mut e = container("e", &[], json!({}));
    e.container["NetworkSettings"]["Networks"] = json!({"bridge": {}, "later": {}});
    let mut f = container("f", &[], json!({}));
    f.container["HostConfig"]["NetworkMode"] = json!("bridge");
    f.container["NetworkSettings"]["Networks"] = json!({"bridge": {}, "sidenet": {}});
    assert_eq!(
        networks_used(&[a, b, c, d, e, f]),
        ["appnet", "backnet", "sidenet"]
    );
    assert!(networks_used(&[container("e", &[], json!({}))]).is_empty());
}

/// A network's inspect as Docker 20.10 shows it → its record, which parses back to the
/// create body of the network it came from (the ownership label is not an option).
#[test]
fn networks_export_as_their_list_and_records_that_make_them_again() {
    let appnet = json!({
        "Name": "appnet", "Id": "n1", "Scope": "local", "Driver": "bridge",
        "EnableIPv6": false, "Internal": true, "Attachable": false,
        "IPAM": {"Driver": "default", "Options": {}, "Config": [
            {"Subnet": "10.20.0.0/24", "Gateway": "10.20.0.1", "IPRange": "10.20.0.128/25",
             "AuxiliaryAddresses": {"router": "10.20.0.2"}}]},
        "Options": {"com.docker.network.driver.mtu": "1400"},
        "Labels": {"team": "a b", OWNER_LABEL: "x"},
        "Containers": {"c1": {"Name": "web"}},
    });
    let plain = json!({"Name": "plain", "Driver": "bridge", "Scope": "local",
        "IPAM": {"Driver": "default", "Options": null, "Config": [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}]},
        "Options": {}, "Labels": {}});
    let mut out = Export::default();
    let nets = [
        ("appnet".to_string(), appnet.clone()),
        ("plain".to_string(), plain),
        ("-bad".to_string(), json!({})),
    ];
    export_networks(&nets, "h1.example.com", "networks.docker", &mut out);
    let kinds: Vec<(&str, &str)> = out
        .records
        .iter()
        .map(|r| (r.kind, r.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("network list", "networks.docker.h1.example.com"),
            ("network", "appnet.networks.docker.h1.example.com"),
            ("network", "plain.networks.docker.h1.example.com"),
        ]
    );
    assert_eq!(out.records[0].strings, ["appnet plain"]);
    assert!(
        out.warnings.len() == 1 && out.warnings[0].contains("-bad"),
        "{:?}",
        out.warnings
    );
    let text = out.records[1].strings.concat();
    assert!(!text.contains(OWNER_LABEL), "{text}");
    let back = crate::network::parse(&text, false).unwrap();
    let mut want = crate::network::line::body(&crate::network::line::from_body(&appnet)).unwrap();
    want["Labels"][OWNER_LABEL] = json!(owner_label(&text));
    assert_eq!(back.body, want, "{text}");
    for (key, v) in [
        ("Internal", json!(true)),
        ("Options", appnet["Options"].clone()),
    ] {
        assert_eq!(back.body[key], v, "{key}: {text}");
    }
    assert_eq!(
        back.body["IPAM"]["Config"], appnet["IPAM"]["Config"],
        "{text}"
    );
    assert_eq!(back.body["Labels"]["team"], "a b", "{text}");
    assert_eq!(
        out.records[2].strings.concat(),
        "--subnet 172.18.0.0/16 --gateway 172.18.0.1"
    );

    let mut none = Export::default();
    export_networks(&[], "h1.example.com", "networks.docker", &mut none);
    assert!(none.records.is_empty(), "no network, no list record");
}
