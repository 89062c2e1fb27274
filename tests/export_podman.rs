//! `export` against a real Podman (its Docker-compatible API on a private socket): the same
//! records come out as from Docker for what both engines keep, and each parses back to the
//! create body of the line the container was made with. Holds the Podman tests' lock.

mod common;

use common::podman::Podman;
use docker_dns_provision::container::{OWNER_LABEL, SystemHost, parse};
use docker_dns_provision::dns::records_file::RecordsFile;
use docker_dns_provision::dns::{Answer, TxtSource};
use serde_json::Value;

const IMAGE: &str = "ddp-test/busybox:latest";

/// Lines as someone would type them after `podman create --name X`.
const LINES: &[&str] = &[
    "--network none docker.io/ddp-test/busybox:latest",
    "--network none -e A=1 -e 'B=two words' -l app=web docker.io/ddp-test/busybox:latest sleep 60",
    "--network none --restart on-failure:3 --memory 64m --tmpfs /run docker.io/ddp-test/busybox:latest",
    "--network none --entrypoint /bin/sh -w /srv --user 65534 docker.io/ddp-test/busybox:latest -c 'sleep 60'",
    "--network none --cap-add NET_ADMIN --read-only docker.io/ddp-test/busybox:latest",
];

fn body(text: &str) -> Value {
    let mut b = parse(text, &SystemHost)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .body;
    if let Some(Value::Object(labels)) = b.get_mut("Labels") {
        labels.remove(OWNER_LABEL);
        if labels.is_empty() {
            b.as_object_mut().unwrap().remove("Labels");
        }
    }
    // Podman keeps a container's environment in a map: the order it was typed in is gone
    // (and means nothing for distinct names), so both sides are compared sorted.
    if let Some(Value::Array(env)) = b.get_mut("Env") {
        env.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
    }
    b
}

#[test]
fn podman_containers_export_to_their_lines() {
    use std::os::fd::AsRawFd;
    let lock = std::fs::File::create(common::podman::LOCK).expect("podman test lock");
    // SAFETY: flock on a descriptor this function owns; waits for other Podman tests.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    common::images::ensure_busybox();
    let podman = Podman::start();
    podman.load(&[IMAGE]);
    let mut names = Vec::new();
    for (i, line) in LINES.iter().enumerate() {
        let name = format!("ddp-export-podman-{i}");
        let words: Vec<String> = parse(&format!("x {line}"), &SystemHost).unwrap().body["Cmd"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let mut args = vec!["create", "--name", name.as_str()];
        args.extend(words.iter().map(String::as_str));
        let o = podman.cli(&args);
        assert!(o.status.success(), "podman create {line}: {o:?}");
        names.push(name);
    }
    let mut args = vec![
        "export".to_string(),
        "--hostname".into(),
        "p.test".into(),
        "--docker-host".into(),
        podman.host(),
    ];
    args.extend(names.iter().cloned());
    let o = common::e2e::tool(&args);
    assert!(o.status.success(), "{}", common::e2e::show(&o));
    let file = RecordsFile::parse(&o.stdout).unwrap();
    let mut wrong = Vec::new();
    for (name, line) in names.iter().zip(LINES) {
        let Answer::Present(rrs) = file.lookup(&format!("{name}.containers.docker.p.test")) else {
            panic!("{name} not exported: {}", common::e2e::show(&o));
        };
        let text = String::from_utf8(rrs.concat().concat()).unwrap();
        let (want, got) = (body(line), body(&text));
        if want != got {
            wrong.push(format!(
                "{line}\n  exported as {text}\n  line   {want}\n  export {got}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
