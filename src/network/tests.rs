use super::*;
use crate::container::record_text;

#[test]
fn a_spec_carries_its_identity_and_its_name_on_create() {
    let s = parse("--subnet 10.3.0.0/24", false).unwrap();
    assert_eq!(
        s.owner_label().and_then(record_text).as_deref(),
        Some("--subnet 10.3.0.0/24")
    );
    let body = s.create_body("appnet");
    assert_eq!(body["Name"], "appnet");
    assert_eq!(body["IPAM"]["Config"][0]["Subnet"], "10.3.0.0/24");
    // Another text is another identity, even when it means the same.
    let t = parse("--subnet=10.3.0.0/24", false).unwrap();
    assert_ne!(s.owner_label(), t.owner_label());
    let e = parse(&format!("--label {OWNER_LABEL}=x"), false).unwrap_err();
    assert!(e.contains("reserved"), "{e}");
}

/// `--forbid-privileged`: a network record reaches no host interface.
#[test]
fn the_policy_refuses_the_hosts_network_in_disguise() {
    for text in [
        "--driver macvlan -o parent=eth0",
        "-d ipvlan",
        "--driver host",
        "--driver some/plugin",
        "--ipam-driver dhcp",
        "-o com.docker.network.bridge.name=docker0",
        "-o com.docker.network.bridge.gateway_mode_ipv4=routed",
        "-o com.docker.network.bridge.trusted_host_interfaces=eth0",
    ] {
        let e = parse(text, true).unwrap_err();
        assert!(
            e.starts_with("refused by --forbid-privileged: "),
            "{text}: {e}"
        );
        assert!(parse(text, false).is_ok(), "{text}");
    }
    for text in [
        "",
        "--driver bridge --internal --subnet 10.4.0.0/24",
        "-o com.docker.network.driver.mtu=1400 -o com.docker.network.bridge.enable_icc=false",
        "--ipam-driver default",
    ] {
        assert!(parse(text, true).is_ok(), "{text}");
    }
}

#[test]
fn network_names() {
    for bad in [
        "bridge",
        "host",
        "none",
        "default",
        "a",
        "-x",
        "a/b",
        "a..b",
        &"n".repeat(64),
    ] {
        assert!(valid_network_name(bad).is_err(), "{bad}");
    }
    for good in ["appnet", "app_net.1", "N2"] {
        assert!(valid_network_name(good).is_ok(), "{good}");
    }
}

#[test]
fn the_networks_a_container_record_names() {
    let spec = |text: &str| crate::container::parse(text, &crate::container::SystemHost).unwrap();
    assert_eq!(used_by(&spec("--network appnet img")), ["appnet"]);
    assert_eq!(
        used_by(&spec("--network appnet --network name=db,alias=x img")),
        ["appnet", "db"]
    );
    assert!(used_by(&spec("img")).is_empty());
    assert!(used_by(&spec("--network host img")).is_empty());
    assert!(used_by(&spec("--network bridge img")).is_empty());
    assert!(used_by(&spec("--network container:web img")).is_empty());
    assert!(used_by(&spec("--network none img")).is_empty());
    let json = spec(r#"{"Image":"img","NetworkingConfig":{"EndpointsConfig":{"jnet":{}}}}"#);
    assert_eq!(used_by(&json), ["jnet"]);
}
