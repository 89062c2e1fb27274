//! The security controls end to end, each in a form that fails without its control: the
//! real binary, the real engine, real dnsmasq, and the in-process fake DNS server where an
//! answer must carry AD=1 or be spoofed.
//!
//! Whoever controls the DNS answers decides what runs as root here, so: `--require-ad` must
//! refuse untrusted servers before asking anything and treat unauthenticated answers
//! (negative ones included) as unavailable; `--allow-image` and `--forbid-privileged` must
//! leave a running container alone when its record turns bad; spoofed replies must never
//! make a name absent.

mod common;

use common::dnsmasq::Dnsmasq;
use common::e2e::{IMG, IMG2, LABEL, Managed, code, inspect, service, show, tool};
use common::engine_http::request;
use common::fake_dns::{FakeDns, Reply, query_name, reply, txt_reply};
use docker_dns_provision::container::{SystemHost, parse};
use hickory_proto::op::{Message, ResponseCode};
use serde_json::Value;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

const HOST: &str = "sec.test";
const LIST: &str = "containers.docker.sec.test";

fn record_name(container: &str) -> String {
    format!("{container}.{LIST}")
}

/// A scratch directory for records, resolv.conf and the lock file.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ddp-sec-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }

    /// Write `(container, record text)` as records-file lines (dnsmasq's syntax too).
    fn records(&self, containers: &[(&str, &str)]) -> String {
        let path = self.path("records.conf");
        std::fs::write(&path, zone(containers)).unwrap();
        path
    }

    /// The command line up to the record source.
    fn args(&self, cmd: &str, timeout: &str) -> Vec<String> {
        vec![
            cmd.into(),
            "--hostname".into(),
            HOST.into(),
            "--lock-file".into(),
            self.path("lock"),
            "--timeout".into(),
            timeout.into(),
        ]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn zone(containers: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (n, _) in containers {
        s += &format!("txt-record={LIST},{n}\n");
    }
    for (n, text) in containers {
        s += &format!(
            "txt-record={},\"{}\"\n",
            record_name(n),
            text.replace('"', "\\\"")
        );
    }
    s
}

/// A test that creates managed containers (see [`Managed`]), with a scratch directory.
struct World {
    scratch: Scratch,
    managed: Managed,
}

impl World {
    fn new(tag: &str) -> World {
        World {
            managed: Managed::new(format!("sec-{tag}")),
            scratch: Scratch::new(tag),
        }
    }

    fn name(&self, n: &str) -> String {
        self.managed.name(n)
    }
}

fn with(mut args: Vec<String>, extra: &[&str]) -> Vec<String> {
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn stdout_json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(o)))
}

/// `(container, status, error)` from `show --output json`.
fn statuses(o: &std::process::Output) -> Vec<(String, String, String)> {
    stdout_json(o)["containers"]
        .as_array()
        .unwrap_or_else(|| panic!("no containers: {}", show(o)))
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                c["status"].as_str().unwrap_or_default().to_string(),
                c["error"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The action `plan`/`apply --output json` chose for `container`.
fn action(o: &std::process::Output, container: &str) -> String {
    stdout_json(o)["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("no actions: {}", show(o)))
        .iter()
        .find(|a| a["container"] == container)
        .and_then(|a| a["action"].as_str())
        .unwrap_or("(none)")
        .to_string()
}

/// The queried name, lower case and without the final dot.
fn asked(q: &Message) -> String {
    query_name(q)
        .to_ascii()
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// A fake server holding these records; every answer, NXDOMAIN included, carries AD=`ad`.
fn zone_server(ad: bool, containers: &[(&str, &str)]) -> FakeDns {
    zone_server_at(None, ad, containers)
}

fn zone_server_at(at: Option<SocketAddr>, ad: bool, containers: &[(&str, &str)]) -> FakeDns {
    let names: Vec<String> = containers.iter().map(|(n, _)| n.to_string()).collect();
    let texts: Vec<(String, String)> = containers
        .iter()
        .map(|(n, t)| (record_name(n), t.to_string()))
        .collect();
    let script = move |q: &Message, _| {
        let name = asked(q);
        let mut r = if name == LIST {
            let rrs: Vec<[&str; 1]> = names.iter().map(|n| [n.as_str()]).collect();
            let rrs: Vec<&[&str]> = rrs.iter().map(|r| &r[..]).collect();
            txt_reply(q, &rrs)
        } else if let Some((_, t)) = texts.iter().find(|(n, _)| *n == name) {
            txt_reply(q, &[&[t.as_str()]])
        } else {
            reply(q, ResponseCode::NXDomain)
        };
        r.metadata.authentic_data = ad;
        vec![Reply::Message(r)]
    };
    match at {
        Some(addr) => FakeDns::start_at(addr, script),
        None => FakeDns::start(script),
    }
}

/// An address of our own in 127/8 whose port 53 is free for UDP and TCP (resolv.conf cannot
/// name a port); spread by process so that parallel test runs do not collide.
fn free_port53_address() -> Ipv4Addr {
    use std::net::{TcpListener, UdpSocket};
    let start = std::process::id();
    for i in 0..2000u32 {
        let n = start.wrapping_add(i.wrapping_mul(7919)) % 62500;
        let ip = Ipv4Addr::new(127, 53, (n / 250) as u8, (n % 250) as u8 + 2);
        let free = UdpSocket::bind((ip, 53)).is_ok() && TcpListener::bind((ip, 53)).is_ok();
        if free {
            return ip;
        }
    }
    panic!("no 127.53.x.y with port 53 free");
}

// ---------------------------------------------------------------- --require-ad

#[test]
fn require_ad_refuses_untrusted_servers_before_asking_anything() {
    let s = Scratch::new("adcfg");
    // Loopback servers listed first: were any lookup made before the check, they would be
    // asked and would answer, so the test fails without 192.0.2.1 ever being reached. The
    // cases naming only 192.0.2.1 come last, once the check is known to come first.
    let fake = zone_server(true, &[("sec-x", "busybox")]);
    let ip = free_port53_address();
    let fake53 = zone_server_at(
        Some(SocketAddr::from((ip, 53))),
        true,
        &[("sec-x", "busybox")],
    );
    let resolv = |file: &str, conf: &str| {
        std::fs::write(s.path(file), conf).unwrap();
        vec!["--resolv-conf".to_string(), s.path(file)]
    };
    let cases: Vec<Vec<String>> = vec![
        vec![
            "--nameserver".into(),
            fake.addr.to_string(),
            "--nameserver".into(),
            "192.0.2.1".into(),
        ],
        resolv(
            "mixed.conf",
            &format!("nameserver {ip}\nnameserver 192.0.2.1\noptions edns0\n"),
        ),
        vec!["--nameserver".into(), "192.0.2.1".into()],
        resolv("remote.conf", "nameserver 192.0.2.1\n"),
    ];
    for extra in cases {
        let mut args = with(s.args("show", "5s"), &["--require-ad"]);
        args.extend(extra.iter().cloned());
        let o = tool(&args);
        assert_eq!(code(&o), 78, "{extra:?}: {}", show(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("192.0.2.1:53 is not on this host"), "{err}");
        assert!(err.contains("options trust-ad"), "{err}");
        assert!(fake.queries().is_empty(), "{:?}", fake.queries());
        assert!(fake53.queries().is_empty(), "{:?}", fake53.queries());
    }
}

#[test]
fn require_ad_accepts_resolv_conf_with_trust_ad_and_a_loopback_validator() {
    let s = Scratch::new("adconf");
    // resolv.conf cannot name a port: listen on port 53 of an address of our own in 127/8.
    let ip = free_port53_address();
    let fake = zone_server_at(
        Some(SocketAddr::from((ip, 53))),
        true,
        &[("sec-web", &service(IMG, "a"))],
    );
    std::fs::write(
        s.path("resolv.conf"),
        format!("nameserver {ip}\noptions trust-ad\n"),
    )
    .unwrap();
    let o = tool(&with(
        s.args("show", "5s"),
        &[
            "--require-ad",
            "--resolv-conf",
            &s.path("resolv.conf"),
            "--output",
            "json",
        ],
    ));
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(
        statuses(&o),
        [("sec-web".into(), "spec".into(), String::new())]
    );
    let queries = fake.queries();
    assert!(!queries.is_empty());
    assert!(
        queries.iter().all(|(_, q)| q.authentic_data),
        "every query asks for AD"
    );
}

#[test]
fn require_ad_takes_only_authenticated_answers_from_the_fake_server() {
    let s = Scratch::new("adfake");
    let records = [
        ("sec-web", service(IMG, "a")),
        ("sec-db", service(IMG2, "b")),
    ];
    let records: Vec<(&str, &str)> = records.iter().map(|(n, t)| (*n, t.as_str())).collect();

    let signed = zone_server(true, &records);
    let args = |server: &FakeDns, timeout: &str| {
        with(
            s.args("show", timeout),
            &[
                "--require-ad",
                "--nameserver",
                &server.addr.to_string(),
                "--output",
                "json",
            ],
        )
    };
    let o = tool(&args(&signed, "5s"));
    assert_eq!(code(&o), 0, "{}", show(&o));
    let got: Vec<(String, String)> = statuses(&o).into_iter().map(|(n, st, _)| (n, st)).collect();
    assert_eq!(
        got,
        [
            ("sec-db".to_string(), "spec".to_string()),
            ("sec-web".to_string(), "spec".to_string())
        ],
        "sorted by name"
    );

    // The same answers without AD: the list is unavailable, not what they say.
    let unsigned = zone_server(false, &records);
    let o = tool(&args(&unsigned, "1500ms"));
    assert_eq!(code(&o), 75, "{}", show(&o));
    assert_eq!(
        stdout_json(&o)["list"]["status"],
        "unavailable",
        "{}",
        show(&o)
    );
    // Without the control the very same server is believed.
    let o = tool(&with(
        s.args("show", "5s"),
        &["--nameserver", &unsigned.addr.to_string()],
    ));
    assert_eq!(code(&o), 0, "{}", show(&o));
}

#[test]
fn require_ad_over_dnsmasq_never_removes_on_an_unauthenticated_nxdomain() {
    let w = World::new("addnsmasq");
    let web = w.name("web");
    let records = w.scratch.records(&[(&web, &service(IMG, "a"))]);
    let o = tool(&with(
        w.scratch.args("apply", "20s"),
        &["--records", &records],
    ));
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (id, running, _) = inspect(&web).expect("created");
    assert!(running);

    // Every record is gone; dnsmasq answers NXDOMAIN, and never sets AD.
    let dns = Dnsmasq::start("local=/test/\n");
    let server = dns.addr.to_string();
    // Believed, that NXDOMAIN (with --allow-empty) removes the container.
    let o = tool(&with(
        w.scratch.args("plan", "5s"),
        &["--nameserver", &server, "--allow-empty", "--output", "json"],
    ));
    assert_eq!(action(&o, &web), "remove", "{}", show(&o));

    let o = tool(&with(
        w.scratch.args("apply", "1500ms"),
        &["--nameserver", &server, "--allow-empty", "--require-ad"],
    ));
    assert_eq!(code(&o), 75, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("AD"),
        "{}",
        show(&o)
    );
    assert_eq!(inspect(&web), Some((id, true, IMG.to_string())));
}

// ---------------------------------------------------------------- --allow-image

#[test]
fn allow_image_leaves_a_running_container_alone_when_its_image_is_refused() {
    let w = World::new("allow");
    let web = w.name("web");
    let allow = ["--allow-image", "ddp-test/*"];
    let apply = |text: &str| {
        let records = w.scratch.records(&[(&web, text)]);
        tool(&with(
            with(w.scratch.args("apply", "20s"), &["--records", &records]),
            &allow,
        ))
    };
    let o = apply(&service(IMG, "a"));
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (id, running, _) = inspect(&web).expect("created");
    assert!(running);

    // The record now names an image outside the list (never pulled: it is refused first).
    let outside = service("busybox:1.36", "a");
    let records = w.scratch.records(&[(&web, &outside)]);
    let o = tool(&with(
        w.scratch.args("plan", "20s"),
        &["--records", &records, "--output", "json"],
    ));
    assert_eq!(
        action(&o, &web),
        "replace",
        "without the control: {}",
        show(&o)
    );
    let o = apply(&outside);
    assert_eq!(code(&o), 65, "{}", show(&o));
    let all = show(&o);
    assert!(
        all.contains("docker.io/library/busybox:1.36 not allowed by --allow-image (ddp-test/*)"),
        "{all}"
    );
    assert_eq!(inspect(&web), Some((id.clone(), true, IMG.to_string())));

    // An allowed image: replaced as usual.
    let o = apply(&service(IMG2, "a"));
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (new_id, running, image) = inspect(&web).expect("replaced");
    assert_ne!(new_id, id);
    assert!(running);
    assert_eq!(image, IMG2);
}

#[test]
fn allow_image_patterns_are_globs_or_prefixes_ending_at_a_boundary() {
    let s = Scratch::new("patterns");
    let records = s.records(&[("sec-web", &service(IMG2, "a"))]);
    // IMG2 is ddp-test/busybox:v2, canonically docker.io/ddp-test/busybox:v2.
    let cases: &[(&[&str], bool)] = &[
        (&["ddp-test/*"], true),
        (&["docker.io/ddp-test/*"], true),
        (&["*/busybox:v2"], true),
        (&["ddp-test/busybox:v*"], true),
        (&["ddp-test"], true),
        (&["ddp-test/"], true),
        (&["ddp-test/busybox"], true),
        (&["ddp-test/busybox:v2"], true),
        (&["docker.io/ddp-test"], true),
        (&["other/*", "ddp-test"], true),
        (&["ddp-tes"], false),
        (&["ddp-test/busy"], false),
        (&["ddp-test/busybox:v"], false),
        (&["ddp-test/busybox:v2x"], false),
        (&["ddp-test/*:latest"], false),
        (&["other/*"], false),
        (&["busybox"], false),
    ];
    for (patterns, allowed) in cases {
        let mut args = with(
            s.args("show", "5s"),
            &["--records", &records, "--output", "json"],
        );
        for p in *patterns {
            args.extend(["--allow-image".to_string(), p.to_string()]);
        }
        let o = tool(&args);
        let st = statuses(&o);
        let (want_code, want_status) = if *allowed {
            (0, "spec")
        } else {
            (65, "invalid")
        };
        assert_eq!(code(&o), want_code, "{patterns:?}: {}", show(&o));
        assert_eq!(st[0].1, want_status, "{patterns:?}: {}", show(&o));
        if !allowed {
            assert!(st[0].2.contains("not allowed by --allow-image"), "{st:?}");
        }
    }
}

// ---------------------------------------------------------------- --forbid-privileged

#[test]
fn forbid_privileged_refuses_every_root_equivalent_form() {
    let s = Scratch::new("forbid");
    let json_form = format!(r#"{{"Image":"{IMG}","HostConfig":{{"Privileged":true}}}}"#);
    let refused: Vec<(&str, String, &str)> = vec![
        ("sec-priv", format!("--privileged {IMG}"), "Privileged"),
        ("sec-cap", format!("--cap-add SYS_ADMIN {IMG}"), "SYS_ADMIN"),
        ("sec-pid", format!("--pid host {IMG}"), "PidMode host"),
        ("sec-root", format!("-v /:/host {IMG}"), "exposes"),
        (
            "sec-sock",
            format!("-v /var/run/docker.sock:/var/run/docker.sock {IMG}"),
            "exposes /var/run/docker.sock",
        ),
        (
            "sec-seccomp",
            format!("--security-opt seccomp=unconfined {IMG}"),
            "SecurityOpt seccomp=unconfined",
        ),
        ("sec-dev", format!("--device /dev/sda {IMG}"), "Devices"),
        (
            "sec-usr",
            format!("-v /usr:/u {IMG}"),
            "makes /usr writable",
        ),
        (
            "sec-from",
            format!("--volumes-from agent {IMG}"),
            "VolumesFrom",
        ),
        ("sec-json", json_form, "Privileged"),
    ];
    let plain = service(IMG, "plain");
    let mut all: Vec<(&str, &str)> = refused.iter().map(|(n, t, _)| (*n, t.as_str())).collect();
    all.push(("sec-plain", &plain));
    let records = s.records(&all);
    let base = with(
        s.args("show", "5s"),
        &["--records", &records, "--output", "json"],
    );

    let o = tool(&with(base.clone(), &["--forbid-privileged"]));
    assert_eq!(code(&o), 65, "{}", show(&o));
    let st = statuses(&o);
    for (name, _, what) in &refused {
        let (_, status, error) = st
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("{name} missing: {}", show(&o)));
        assert_eq!(status, "invalid", "{name}: {error}");
        assert!(
            error.contains("refused by --forbid-privileged"),
            "{name}: {error}"
        );
        assert!(error.contains(what), "{name}: {error} lacks {what}");
    }
    let plain_status = st.iter().find(|(n, _, _)| n == "sec-plain").map(|x| &x.1);
    assert_eq!(plain_status.map(String::as_str), Some("spec"));

    // Without the flag every one of them is a spec the tool would run.
    let o = tool(&base);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        statuses(&o).iter().all(|(_, st, _)| st == "spec"),
        "{}",
        show(&o)
    );

    // The engine reads JSON keys whatever their case: a respelt key is no way around it.
    let sneaky = format!(
        r#"{{"Image":"{IMG}","HostConfig":{{"privileged":true,"Mounts":[{{"type":"bind","source":"/","Target":"/h"}}]}}}}"#
    );
    let records = s.records(&[("sec-sneaky", &sneaky)]);
    for extra in [&["--forbid-privileged"][..], &[]] {
        let o = tool(&with(
            with(
                s.args("show", "5s"),
                &["--records", &records, "--output", "json"],
            ),
            extra,
        ));
        assert_eq!(code(&o), 65, "{}", show(&o));
        let st = statuses(&o);
        assert_eq!(st[0].1, "invalid", "{st:?}");
        assert!(st[0].2.contains("must be spelt \"Privileged\""), "{st:?}");
    }
}

#[test]
fn forbid_privileged_leaves_a_running_container_alone() {
    let w = World::new("forbidapply");
    let web = w.name("web");
    let args = |cmd: &str, text: &str, extra: &[&str]| {
        let records = w.scratch.records(&[(&web, text)]);
        with(
            with(w.scratch.args(cmd, "20s"), &["--records", &records]),
            extra,
        )
    };
    let o = tool(&args("apply", &service(IMG, "a"), &["--forbid-privileged"]));
    assert_eq!(code(&o), 0, "{}", show(&o));
    let (id, running, _) = inspect(&web).expect("created");
    assert!(running);

    let privileged = format!("--privileged {}", service(IMG, "a"));
    let o = tool(&args("plan", &privileged, &["--output", "json"]));
    assert_eq!(
        action(&o, &web),
        "replace",
        "without the control: {}",
        show(&o)
    );
    let o = tool(&args("apply", &privileged, &["--forbid-privileged"]));
    assert_eq!(code(&o), 65, "{}", show(&o));
    assert!(show(&o).contains("refused by --forbid-privileged: Privileged"));
    assert_eq!(inspect(&web), Some((id, true, IMG.to_string())));
}

// ---------------------------------------------------------------- anti-spoofing

#[test]
fn spoofed_negative_answers_never_remove_or_withhold_a_container() {
    let w = World::new("spoof");
    let web = w.name("web");
    let text = service(IMG, "a");
    let (list_name, web_record) = (LIST.to_string(), record_name(&web));
    let web_name = web.clone();
    // The list: an NXDOMAIN from another source port races ahead of the real answer.
    // The record: an NXDOMAIN with the wrong ID races ahead of the real answer.
    let fake = FakeDns::start(move |q, _| {
        let name = asked(q);
        let pause = Reply::Sleep(Duration::from_millis(50));
        if name == list_name {
            vec![
                Reply::FromOtherPort(reply(q, ResponseCode::NXDomain)),
                pause,
                Reply::Message(txt_reply(q, &[&[web_name.as_str()]])),
            ]
        } else if name == web_record {
            let mut spoof = reply(q, ResponseCode::NXDomain);
            spoof.metadata.id = q.id ^ 0x5a5a;
            vec![
                Reply::Message(spoof),
                pause,
                Reply::Message(txt_reply(q, &[&[text.as_str()]])),
            ]
        } else {
            vec![Reply::Message(reply(q, ResponseCode::NXDomain))]
        }
    });
    let apply = || {
        tool(&with(
            w.scratch.args("apply", "20s"),
            &["--nameserver", &fake.addr.to_string(), "--output", "json"],
        ))
    };
    let o = apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(action(&o, &web), "create", "{}", show(&o));
    let (id, running, _) = inspect(&web).expect("created");
    assert!(running);

    let o = apply();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(action(&o, &web), "keep", "{}", show(&o));
    assert_eq!(inspect(&web), Some((id, true, IMG.to_string())));
    let asked_names: Vec<String> = fake.queries().iter().map(|(_, q)| asked(q)).collect();
    assert!(asked_names.contains(&LIST.to_string()), "{asked_names:?}");
    assert!(asked_names.contains(&record_name(&web)), "{asked_names:?}");
}

// ------------------------------------------- --forbid-privileged: the issue-14 bypasses

/// Containers made straight from the tool's translation (no owner label, so no other test's
/// run sweeps them), removed with their anonymous volumes whatever happens.
struct Direct {
    names: Vec<String>,
}

impl Drop for Direct {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = request("DELETE", &format!("/containers/{n}?force=1&v=1"), None);
        }
    }
}

impl Direct {
    /// Create `record` as the tool translates it without a policy, run it to the end and
    /// return its output, or the engine's refusal.
    fn run(&mut self, tag: &str, record: &str) -> Result<String, String> {
        let spec = parse(record, &SystemHost).map_err(|e| format!("parse: {e}"))?;
        let mut body = spec.body.clone();
        if let Some(Value::Object(labels)) = body.get_mut("Labels") {
            labels.remove(LABEL);
        }
        let name = format!("ddp-sec14-{tag}-{}", std::process::id());
        self.names.push(name.clone());
        let _ = request("DELETE", &format!("/containers/{name}?force=1&v=1"), None);
        let (status, reply) = request(
            "POST",
            &format!("/v1.41/containers/create?name={name}"),
            Some(&body.to_string()),
        )
        .map_err(|e| e.to_string())?;
        if status != 201 {
            return Err(format!("create → {status}: {reply}"));
        }
        let (status, reply) = request("POST", &format!("/containers/{name}/start"), None)
            .map_err(|e| e.to_string())?;
        if status != 204 {
            return Err(format!("start → {status}: {reply}"));
        }
        let _ = request("POST", &format!("/containers/{name}/wait"), None);
        let o = common::e2e::docker(&["logs", &name]);
        Ok(format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

/// A unix socket in a host directory a record may not bind, created for the test and
/// removed afterwards with the directory if the test made it: a stand-in for the
/// root-equivalent socket that lives there on a host with that service.
struct HostSocket {
    path: PathBuf,
    made_dir: Option<PathBuf>,
    _listener: std::os::unix::net::UnixListener,
}

impl HostSocket {
    fn new(dir: &str) -> HostSocket {
        let dir = PathBuf::from(dir);
        let made_dir = if dir.exists() {
            None
        } else {
            std::fs::create_dir_all(&dir).unwrap();
            Some(dir.clone())
        };
        let path = dir.join(format!("ddp-sec14-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        HostSocket {
            path,
            made_dir,
            _listener: listener,
        }
    }

    fn file_name(&self) -> String {
        self.path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for HostSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(d) = &self.made_dir {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// A loop device over a small ext4 image holding `marker`: a stand-in for a host disk.
struct LoopDisk {
    device: String,
}

impl LoopDisk {
    fn new(s: &Scratch) -> LoopDisk {
        let content = s.path("disk-content");
        std::fs::create_dir_all(&content).unwrap();
        std::fs::write(format!("{content}/marker"), "host-disk\n").unwrap();
        let image = s.path("disk.img");
        let run = |cmd: &str, args: &[&str]| {
            let o = std::process::Command::new(cmd).args(args).output().unwrap();
            assert!(
                o.status.success(),
                "{cmd} {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        };
        run("truncate", &["-s", "8M", &image]);
        run("mkfs.ext4", &["-q", "-d", &content, &image]);
        LoopDisk {
            device: run("losetup", &["-f", "--show", &image]),
        }
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.device])
            .status();
    }
}

#[test]
fn forbid_privileged_closes_the_bypasses_that_work_without_it() {
    let s = Scratch::new("bypass");
    let mut direct = Direct { names: Vec::new() };
    let masked = masked_paths_open_proc_sys(&mut direct);
    let overlay = an_overlay_volume_writes_host_directories(&s, &mut direct);
    let disk = LoopDisk::new(&s);
    let block = a_volume_device_mounts_a_host_disk(&disk, &mut direct);
    let dbus = HostSocket::new("/run/dbus");
    let systemd = HostSocket::new("/run/systemd");
    let sockets = host_sockets_are_reachable(&dbus, &systemd, &mut direct);
    let api = the_api_socket_hands_over_the_engine(&mut direct);
    let caps = capabilities_are_taken(&mut direct);

    // The tool: every one is a spec without the policy, and invalid with it.
    let refused: Vec<(&str, &str, &str)> = vec![
        ("sec-masked", &masked, "MaskedPaths without /proc/asound"),
        ("sec-overlay", &overlay, "an overlay of host directories"),
        ("sec-block", &block, "volume device=/dev/loop"),
        ("sec-sockets", &sockets, "exposes /run/dbus"),
        ("sec-api", &api, "exposes /var/run/docker.sock"),
        ("sec-caps", &caps, "Capabilities"),
    ];
    forbid_privileged_refuses_each(&s, &refused);
}

/// Bypass 1: any MaskedPaths/ReadonlyPaths list replaces the engine's: /proc/sys turns writable.
fn masked_paths_open_proc_sys(direct: &mut Direct) -> String {
    let write_proc_sys = "echo ddp-pwned > /proc/sys/kernel/hostname && hostname; grep -c ' /proc/kcore ' /proc/mounts";
    let masked = serde_json::json!({
        "Image": IMG,
        "Cmd": ["sh", "-c", write_proc_sys],
        "HostConfig": {"NetworkMode": "none", "MaskedPaths": ["/x"], "ReadonlyPaths": ["/x"]},
    })
    .to_string();
    let baseline = format!("--network none {IMG} sh -c \"{write_proc_sys}\"");
    let out = direct.run("baseline", &baseline).unwrap();
    assert!(
        out.contains("Read-only file system") && !out.contains("ddp-pwned"),
        "the engine's defaults keep /proc/sys read-only: {out}"
    );
    let out = direct.run("masked", &masked).unwrap();
    assert!(
        out.contains("ddp-pwned") && out.lines().last() == Some("0"),
        "with the lists replaced /proc/sys is writable and /proc/kcore unmasked: {out}"
    );
    masked
}

/// Bypass 2: a local volume whose options overlay host directories writes the host.
fn an_overlay_volume_writes_host_directories(s: &Scratch, direct: &mut Direct) -> String {
    let dirs: Vec<String> = ["lower", "upper", "work"]
        .iter()
        .map(|d| {
            let p = s.path(d);
            std::fs::create_dir_all(&p).unwrap();
            p
        })
        .collect();
    let overlay = format!(
        "--network none --mount 'type=volume,dst=/o,volume-opt=type=overlay,volume-opt=device=overlay,\"volume-opt=o=lowerdir={},upperdir={},workdir={}\"' {IMG} sh -c 'echo from-container > /o/written'",
        dirs[0], dirs[1], dirs[2]
    );
    direct.run("overlay", &overlay).unwrap();
    let written = std::fs::read_to_string(format!("{}/written", dirs[1])).unwrap_or_default();
    assert_eq!(
        written, "from-container\n",
        "the container wrote the host's directory"
    );
    overlay
}

/// Bypass 2, again: a local volume whose device= is a host disk mounts it.
fn a_volume_device_mounts_a_host_disk(disk: &LoopDisk, direct: &mut Direct) -> String {
    let block = format!(
        "--network none --mount type=volume,dst=/b,volume-opt=type=ext4,volume-opt=device={} {IMG} cat /b/marker",
        disk.device
    );
    let out = direct.run("block", &block).unwrap();
    assert_eq!(
        out.trim(),
        "host-disk",
        "the container read the host's disk: {out}"
    );
    block
}

/// Bypass 3: root-equivalent sockets: the system bus and systemd's, here stand-ins in their
/// host directories, are reachable from a container that binds the directory.
fn host_sockets_are_reachable(
    dbus: &HostSocket,
    systemd: &HostSocket,
    direct: &mut Direct,
) -> String {
    let sockets = format!(
        "--network none -v /run/dbus:/d -v /var/run/systemd:/s {IMG} sh -c 'test -S /d/{} && test -S /s/{} && echo reachable'",
        dbus.file_name(),
        systemd.file_name()
    );
    let out = direct.run("sockets", &sockets).unwrap();
    assert_eq!(out.trim(), "reachable", "{out}");
    sockets
}

/// Bypass 4: --use-api-socket hands the container the engine.
fn the_api_socket_hands_over_the_engine(direct: &mut Direct) -> String {
    let api = format!(
        "--network none --use-api-socket {IMG} sh -c 'test -S /var/run/docker.sock && echo reachable'"
    );
    let out = direct.run("api", &api).unwrap();
    assert_eq!(out.trim(), "reachable", "{out}");
    api
}

/// Bypass 5: HostConfig.Capabilities: the engine takes it without complaint (20.10 then
/// ignores it; 19.03 replaced the capability set with it).
fn capabilities_are_taken(direct: &mut Direct) -> String {
    let caps = serde_json::json!({
        "Image": IMG,
        "Cmd": ["true"],
        "HostConfig": {"NetworkMode": "none", "Capabilities": ["CAP_SYS_ADMIN"]},
    })
    .to_string();
    direct.run("caps", &caps).unwrap();
    caps
}

/// Each (name, record, what the refusal names) is a spec to `show` without the policy, and
/// invalid with `--forbid-privileged`, for the reason given.
fn forbid_privileged_refuses_each(s: &Scratch, refused: &[(&str, &str, &str)]) {
    let records: Vec<(&str, &str)> = refused.iter().map(|(n, t, _)| (*n, *t)).collect();
    let records = s.records(&records);
    let base = with(
        s.args("show", "5s"),
        &["--records", &records, "--output", "json"],
    );
    let o = tool(&base);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        statuses(&o).iter().all(|(_, st, _)| st == "spec"),
        "{}",
        show(&o)
    );
    let o = tool(&with(base, &["--forbid-privileged"]));
    assert_eq!(code(&o), 65, "{}", show(&o));
    let st = statuses(&o);
    for (name, _, what) in refused {
        let (_, status, error) = st
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("{name} missing: {}", show(&o)));
        assert_eq!(status, "invalid", "{name}: {error}");
        assert!(
            error.contains("refused by --forbid-privileged"),
            "{name}: {error}"
        );
        assert!(error.contains(what), "{name}: {error} lacks {what}");
    }
}
