//! Property test: no input makes `parse` or the policy panic (a panic is a crash at boot:
//! release builds abort). [`crate::fuzzing`]'s generator drives random bytes and
//! grammar-aware token soups; `DDP_FUZZ_CASES` sets the number of cases (default 20000),
//! `DDP_FUZZ_SEED` the seed (a failure prints the text, so a fixed default seed reproduces it).

use std::path::Path;

use super::{Host, ImageRef, Policy, parse, words};
use crate::fuzzing::{Xorshift, cases, rng};

/// Files exist (with hostile contents) and variables are set, so those paths are exercised.
struct HostileHost(String);

impl Host for HostileHost {
    fn read_file(&self, _: &Path) -> std::io::Result<String> {
        Ok(self.0.clone())
    }
    fn env(&self, key: &str) -> Option<String> {
        key.len().is_multiple_of(2).then(|| key.repeat(2))
    }
}

const TOKENS: &[&str] = &[
    "-",
    "--",
    "-e",
    "-eA=b",
    "-e=",
    "-it",
    "-dit",
    "-itp",
    "-p",
    "-v",
    "-w",
    "-u",
    "-l",
    "-m",
    "-c",
    "-h",
    "-P",
    "-x",
    "--env",
    "--env=",
    "--privileged",
    "--privileged=false",
    "false",
    "--rm",
    "--restart",
    "always",
    "on-failure:3",
    "on-failure:-1",
    "--name",
    "--net",
    "--network",
    "name=a,alias=b",
    "host",
    "none",
    "container:x",
    "--network-alias",
    "--ip",
    "--ip6",
    "--mac-address",
    "02:42:ac:11:00:02",
    "--mount",
    "type=bind,src=/a,dst=/b",
    "type=tmpfs,dst=/t,tmpfs-mode=1777,tmpfs-size=1m",
    "\"a=b\"",
    "--tmpfs",
    "/tmp:rw",
    "--publish",
    "8080:80",
    "[::1]:1-2:3-4/udp",
    "published=1,target=2",
    "--expose",
    "1-65535",
    "--cpus",
    "1e-9",
    "3/0",
    "--memory",
    "1.5g",
    "99999999999p",
    "--health-interval",
    "1h1m1s",
    "--ulimit",
    "nofile=1:2",
    "--sysctl",
    "net.a=b",
    "--device",
    "/dev/a:/dev/b:rwm",
    "a.com/b=c",
    "--security-opt",
    "seccomp=/x",
    "systempaths=unconfined",
    "--env-file",
    "/f",
    "--label-file",
    "--log-opt",
    "--log-driver",
    "--cap-add",
    "ALL",
    "--pull",
    "never",
    "--platform",
    "--entrypoint",
    "--stop-timeout",
    "0x7fffffffffffffff",
    "--oom-score-adj",
    "--add-host",
    "a:[::1]",
    "--dns-search",
    ".",
    "--entrypoint=",
    "--link",
    "a:b:c",
    "--gpus",
    "all,\"capabilities=a,b\",options=x",
    "\"device=0,2\"",
    "--blkio-weight",
    "--blkio-weight-device",
    "--device-read-bps",
    "--device-write-iops",
    "/dev/sda:1mb",
    "/dev/sda:-1",
    "--cpu-rt-runtime",
    "--kernel-memory",
    "--isolation",
    "--use-api-socket",
    "--annotation",
    "--health-start-interval",
    "-a",
    "type=volume,dst=/d,volume-opt=o=bind,volume-opt=device=x",
    "busybox",
    "Busybox",
    "quay.io/coreos/etcd:v3@sha256:",
    "sha256:",
    "localhost:5000/a",
    "[::1]:5000/a",
    "=",
    ":",
    "'",
    "\"",
    "\\",
    "'a b'",
    "\"a \\\" b\"",
    "é",
    "✓",
    "\u{0}",
    "\u{feff}",
    "{",
    "}",
    "[",
    "]",
    "{\"Image\":\"busybox\"}",
    "{\"Image\":1}",
    "\n",
    "\t",
    " ",
    "",
    "*",
    "$HOME",
    "~",
];

fn token_soup(rng: &mut Xorshift) -> String {
    let n = rng.below(12);
    let mut s = String::new();
    for _ in 0..n {
        let tok = rng.pick(TOKENS);
        match rng.below(4) {
            0 => s.push_str(tok),
            1 => {
                s.push(' ');
                s.push_str(tok);
            }
            2 => {
                s.push_str(" '");
                s.push_str(tok);
                s.push('\'');
            }
            _ => {
                s.push(' ');
                s.push_str(tok);
                s.push('=');
            }
        }
    }
    s
}

fn random_bytes(rng: &mut Xorshift) -> String {
    String::from_utf8_lossy(&rng.bytes(63)).into_owned()
}

fn random_json(rng: &mut Xorshift) -> String {
    const VALUES: &[&str] = &[
        "null",
        "true",
        "1",
        "-1.5",
        "\"\"",
        "\"busybox\"",
        "[]",
        "[1]",
        "[\"a\"]",
        "{}",
        "{\"a\":1}",
        "{\"Privileged\":true,\"Binds\":[1],\"Mounts\":[{\"Type\":\"bind\"}]}",
        "{\"SecurityOpt\":[\"seccomp\"],\"CapAdd\":\"ALL\",\"MaskedPaths\":[]}",
    ];
    const KEYS: &[&str] = &[
        "Image",
        "Cmd",
        "Env",
        "Labels",
        "HostConfig",
        "Name",
        "Tty",
        "StopTimeout",
        "Bogus",
        "NetworkingConfig",
        "Healthcheck",
    ];
    let mut s = String::from("{\"Image\":\"busybox\"");
    for _ in 0..rng.below(5) {
        s.push_str(&format!(",\"{}\":{}", rng.pick(KEYS), rng.pick(VALUES)));
    }
    s.push('}');
    s
}

#[test]
fn never_panics_on_arbitrary_input() {
    let cases = cases(20_000);
    let mut rng = rng();
    let policy = Policy {
        allow_images: vec!["quay.io/*".into(), "busybox".into()],
        forbid_privileged: true,
    };
    let mut parsed = 0;
    for i in 0..cases {
        let text = match i % 4 {
            0 => random_bytes(&mut rng),
            1 => random_json(&mut rng),
            _ => token_soup(&mut rng),
        };
        let host = HostileHost(random_bytes(&mut rng));
        let _ = words::split(&text);
        let _ = ImageRef::parse(&text);
        if let Ok(spec) = parse(&text, &host) {
            parsed += 1;
            assert!(
                spec.body["Labels"][super::OWNER_LABEL].is_string(),
                "{text:?}"
            );
            let _ = policy.check(&spec);
            let _ = spec.image.canonical();
            let _ = spec.image.familiar();
        }
    }
    // The soups must reach the mapping, not only the word splitter's errors.
    assert!(
        cases < 100 || parsed > cases / 20,
        "only {parsed} of {cases} parsed"
    );
}
