use super::*;

fn built(text: &str) -> Result<Value, String> {
    body(&parse(text)?)
}

/// The bodies the docker CLI 28.2 sent for these lines (recorded from a fake engine);
/// tests/network_oracle.rs checks them against the CLI itself.
#[test]
fn bodies_are_the_clis() {
    let cases = [
        (
            "",
            r#"{"Driver":"bridge","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{}}"#,
        ),
        (
            "--driver bridge --subnet 10.9.0.0/24 --gateway 10.9.0.1 --ip-range 10.9.0.128/25 --aux-address a=10.9.0.5 --internal --ipv6 --attachable -o com.docker.network.bridge.name=br9 --label x=y --ipam-driver default --ipam-opt k=v --scope local",
            r#"{"Driver":"bridge","Scope":"local","EnableIPv6":true,"IPAM":{"Driver":"default","Options":{"k":"v"},"Config":[{"Subnet":"10.9.0.0/24","IPRange":"10.9.0.128/25","Gateway":"10.9.0.1","AuxiliaryAddresses":{"a":"10.9.0.5"}}]},"Internal":true,"Attachable":true,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{"com.docker.network.bridge.name":"br9"},"Labels":{"x":"y"}}"#,
        ),
        (
            "--ipv6=false --subnet 10.1.0.0/16 --subnet fd00::/64 --gateway 10.1.0.1",
            r#"{"Driver":"bridge","Scope":"","EnableIPv6":false,"IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"10.1.0.0/16","Gateway":"10.1.0.1"},{"Subnet":"fd00::/64"}]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{}}"#,
        ),
        (
            "--label k",
            r#"{"Driver":"bridge","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{"k":""}}"#,
        ),
    ];
    for (text, want) in cases {
        let want: Value = serde_json::from_str(want).unwrap();
        assert_eq!(built(text).unwrap(), want, "{text}");
    }
}

#[test]
fn flag_forms() {
    let a =
        parse("-d bridge -o a=1 -ob=2 -o=c=3 --opt d --subnet=10.0.0.0/8,10.1.0.0/16x").unwrap();
    assert_eq!(a.driver.as_deref(), Some("bridge"));
    assert_eq!(
        a.opts
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>(),
        ["a=1", "b=2", "c=3", "d="]
    );
    assert_eq!(a.subnets, ["10.0.0.0/8", "10.1.0.0/16x"]);
    assert!(parse("--internal=false").unwrap() == Line::default());
    assert!(parse("--internal=1").unwrap().internal);
    assert!(parse("  ").unwrap() == Line::default());
}

#[test]
fn refusals_name_what_is_wrong() {
    for (text, says) in [
        ("appnet", "is not an option"),
        ("--subnet", "flag needs an argument: --subnet"),
        ("--bogus 1", "unknown flag: --bogus"),
        ("-x", "unknown shorthand flag: 'x'"),
        ("--ingress", "not supported in a network record"),
        ("--config-from other", "not supported"),
        (
            "--internal=maybe",
            "invalid argument \"maybe\" for \"--internal\" flag",
        ),
        ("--label =v", "invalid label '=v': empty name"),
        ("--label 'a b=c'", "label 'a b' contains whitespaces"),
        (
            "--gateway 10.0.0.1",
            "every ip-range or gateway must have a corresponding subnet",
        ),
        (
            "--subnet 10.0.0.0/8 --subnet 10.1.0.0/16",
            "multiple overlapping subnet",
        ),
        (
            "--subnet 10.0.0.0/24 --gateway 10.0.1.1",
            "no matching subnet for gateway 10.0.1.1",
        ),
        (
            "--subnet 10.0.0.0/24 --ip-range 10.0.1.0/25",
            "no matching subnet for range 10.0.1.0/25",
        ),
        (
            "--subnet 10.0.0.0/24 --ip-range 10.0.0.0/25,10.0.0.128/25 --subnet 10.2.0.0/24",
            "cannot configure multiple ranges (10.0.0.128/25, 10.0.0.0/25) on the same subnet (10.0.0.0/24)",
        ),
        (
            "--subnet 10.0.0.0/24 --gateway 10.0.0.1 --gateway 10.0.0.2 --subnet 10.2.0.0/24",
            "cannot configure multiple gateways (10.0.0.2, 10.0.0.1) for the same subnet",
        ),
        (
            "--subnet 10.0.0.0/24 --aux-address a=10.5.0.1",
            "no matching subnet for aux-address 10.5.0.1",
        ),
        ("--subnet 10.0.0.0/33 --gateway 10.0.0.1", "invalid subnet"),
        ("'unbalanced", "quote"),
    ] {
        let e = built(text).unwrap_err();
        assert!(e.contains(says), "{text}: {e}");
    }
}

#[test]
fn subnets_hold_what_they_should() {
    assert!(matches("10.0.0.0/8", "10.255.1.1").unwrap());
    assert!(!matches("10.0.0.0/8", "11.0.0.1").unwrap());
    assert!(matches("0.0.0.0/0", "1.2.3.4").unwrap());
    assert!(matches("fd00::/64", "fd00::1").unwrap());
    assert!(!matches("fd00::/64", "fd01::1").unwrap());
    assert!(!matches("fd00::/64", "10.0.0.1").unwrap());
    assert!(matches("10.0.0.0/24", "::ffff:10.0.0.7").unwrap());
    assert!(matches("10.0.0.0/24", "10.0.0.128/25").unwrap());
    assert!(!matches("10.0.0.0/24", "not-an-ip").unwrap());
    assert!(matches("10.0.0.0/24", "10.0.0.0/99").is_err());
    assert!(matches("10.0.0.0", "10.0.0.1").is_err());
}

/// What an export writes reads back as the same options.
#[test]
fn written_lines_read_back() {
    for text in [
        "",
        "--driver bridge --subnet 10.9.0.0/24 --gateway 10.9.0.1 --ip-range 10.9.0.128/25 --aux-address a=10.9.0.5 --internal --ipv6 --attachable -o x=y --label 'a=b c' --ipam-driver default --ipam-opt k=v --scope local",
        "--ipv6=false --label \"it's\"",
    ] {
        let line = parse(text).unwrap();
        let again = parse(&write(&line)).unwrap();
        assert_eq!(again, line, "{}", write(&line));
    }
}

/// An export reads a network's inspect back into the options that make it.
#[test]
fn a_networks_inspect_reads_back_into_its_options() {
    let inspect: Value = serde_json::from_str(
        r#"{"Name":"appnet","Id":"abc","Scope":"local","Driver":"bridge","EnableIPv6":false,
        "IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"10.9.0.0/24",
        "IPRange":"10.9.0.128/25","Gateway":"10.9.0.1","AuxiliaryAddresses":{"a":"10.9.0.5"}}]},
        "Internal":true,"Attachable":false,"Ingress":false,"Options":{"x":"y"},
        "Labels":{"docker-dns-provision.command":"","team":"db"}}"#,
    )
    .unwrap();
    let line = from_body(&inspect);
    assert_eq!(
        write(&line),
        "--subnet 10.9.0.0/24 --gateway 10.9.0.1 --ip-range 10.9.0.128/25 --aux-address a=10.9.0.5 --opt x=y --label team=db --internal"
    );
    // What the text builds is that network again.
    let again = body(&parse(&write(&line)).unwrap()).unwrap();
    assert_eq!(again["IPAM"]["Config"], inspect["IPAM"]["Config"]);
    assert_eq!(again["Internal"], true);
    // A create body reads back into the line that made it.
    let text = "--driver macvlan --subnet 10.1.0.0/16 --ipv6 --attachable --ipam-driver dhcp --ipam-opt k=v --scope swarm";
    let l = parse(text).unwrap();
    assert_eq!(from_body(&body(&l).unwrap()), l);
}
