//! `lint` through the real binary: the seed's examples, every kind of finding with its line,
//! the exit status (warnings pass unless --strict), a generated 10,000-host zone, and the
//! property that lint and a per-host `show` on the same file agree on every host.

mod common;

use common::binary::{explain, json, run as tool};
use common::tree::example;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A file removed on drop; std has no tempfile and the crate takes no dev-dependencies.
struct Scratch(PathBuf);

impl Scratch {
    fn new(contents: &str) -> Scratch {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("ddp-lint-{}-{seq}.records", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        Scratch(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// (line, host, name, kind, severity) of every finding, from `--output json`.
type Row = (u64, String, String, String, String);

fn findings(doc: &Value) -> BTreeSet<Row> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["host"].as_str().unwrap().to_string(),
                f["name"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(line: u64, host: &str, name: &str, kind: &str, severity: &str) -> Row {
    (
        line,
        host.to_string(),
        name.to_string(),
        kind.to_string(),
        severity.to_string(),
    )
}

#[test]
fn the_seed_examples_find_bash_echoerr_dead_and_bash_echoer_disabled() {
    for (file, listed_at, dead_at) in [("seed.dnsmasq.conf", 11, 15), ("seed.zone", 13, 19)] {
        let path = example(file).display().to_string();
        let o = tool(&["lint", "--records", &path]);
        assert_eq!(o.status.code(), Some(65), "{file}: {}", explain(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{file}: {text}");
        assert!(
            lines[0].starts_with(&format!(
                "{path}:{listed_at}: will-desktop: bash-echoer: error: disabled: no record at any level"
            )),
            "{file}: {text}"
        );
        assert!(
            lines[1].starts_with(&format!(
                "{path}:{dead_at}: will-desktop: bash-echoerr: warning: dead-record: no list names bash-echoerr"
            )),
            "{file}: {text}"
        );
        assert!(lines[1].contains("did you mean bash-echoer"), "{text}");

        let doc = json(&tool(&["lint", "--records", &path, "--output", "json"]));
        assert_eq!(doc["exit"], 65);
        assert_eq!(doc["summary"]["hosts"], 1);
        let host = &doc["hosts"][0];
        assert_eq!(host["host"], "will-desktop");
        let run: Vec<(&str, &str)> = host["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), c["status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            run,
            [
                ("bash-echoer", "disabled"),
                ("bash-sleeper", "spec"),
                ("etcd", "spec")
            ]
        );
        assert_eq!(host["containers"][2]["image"], "quay.io/coreos/etcd:latest");
    }
}

/// One zone with every kind of finding; each case under a registrable domain of its own so
/// the walks do not mix them.
const EVERY_KIND: &[&str] = &[
    // 1-7: one host, one of each per-container finding.
    "txt-record=containers.docker.h1.a.test,good missing -bad split refused broken",
    "txt-record=good.containers.docker.h1.a.test,\"busybox\"",
    "txt-record=split.containers.docker.h1.a.test,\"busybox \"",
    "txt-record=split.containers.docker.h1.a.test,\"sleep 1\"",
    "txt-record=refused.containers.docker.h1.a.test,\"evil.example/img\"",
    "txt-record=broken.containers.docker.h1.a.test,\"--bogus busybox\"",
    "# 7: a list that names nothing",
    "txt-record=containers.docker.h2.b.test",
    "# 9: records, but no list at any level",
    "txt-record=web.containers.docker.h3.c.test,\"busybox\"",
    "# 11-15: without --inherit the host's own list wins: the level's list and record are dead,",
    "# and so is a record a nearer level shadows.",
    "txt-record=containers.docker.d.test,base",
    "txt-record=base.containers.docker.d.test,\"busybox\"",
    "txt-record=containers.docker.h4.d.test,own",
    "txt-record=own.containers.docker.h4.d.test,\"busybox\"",
    "txt-record=own.containers.docker.d.test,\"busybox sleep 9\"",
    "# 18-19: above the public suffix: no host's walk asks it",
    "txt-record=containers.docker.com,evil",
    "txt-record=evil.containers.docker.com,\"busybox\"",
];

fn every_kind_zone() -> String {
    let mut lines: Vec<String> = EVERY_KIND.iter().map(|s| s.to_string()).collect();
    // 21…: 101 list records for one host: more than BIND loads.
    let first = lines.len() + 1;
    for i in 0..101 {
        lines.push(format!("txt-record=containers.docker.h5.f.test,c{i:03}"));
    }
    for i in 0..101 {
        lines.push(format!(
            "txt-record=c{i:03}.containers.docker.h5.f.test,\"busybox\""
        ));
    }
    assert_eq!(first, 21);
    lines.join("\n") + "\n"
}

#[test]
fn every_kind_of_finding_with_its_line() {
    let zone = Scratch::new(&every_kind_zone());
    let o = tool(&[
        "lint",
        "--records",
        zone.path(),
        "--allow-image",
        "busybox",
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(65), "{}", explain(&o));
    let doc = json(&o);
    let want: BTreeSet<Row> = [
        row(1, "h1.a.test", "missing", "disabled", "error"),
        row(1, "h1.a.test", "-bad", "invalid-name", "error"),
        row(3, "h1.a.test", "split", "split-record", "error"),
        row(5, "h1.a.test", "refused", "invalid-record", "error"),
        row(6, "h1.a.test", "broken", "invalid-record", "error"),
        row(8, "h2.b.test", "(list)", "empty-list", "error"),
        row(10, "h3.c.test", "(list)", "not-configured", "error"),
        row(10, "h3.c.test", "web", "dead-record", "warning"),
        row(13, "d.test", "(list)", "dead-list", "warning"),
        row(14, "d.test", "base", "dead-record", "warning"),
        row(17, "d.test", "own", "dead-record", "warning"),
        row(19, "com", "(list)", "dead-list", "warning"),
        row(20, "com", "evil", "dead-record", "warning"),
        row(21, "h5.f.test", "(list)", "too-many-records", "error"),
    ]
    .into_iter()
    .collect();
    assert_eq!(findings(&doc), want, "{}", explain(&o));

    let message = |line: u64, name: &str| -> String {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["line"] == line && f["name"] == name)
            .map(|f| f["message"].as_str().unwrap().to_string())
            .unwrap()
    };
    // The host's own words, as `show` gives them, with lint's hint added.
    assert!(message(3, "split").contains("ambiguous: 2 TXT records"));
    assert!(message(3, "split").contains("lines 3, 4"));
    assert!(message(5, "refused").contains("not allowed by --allow-image"));
    assert!(message(6, "broken").contains("--bogus"));
    assert!(message(1, "-bad").contains("not a valid container name"));
    assert!(message(17, "own").contains("nearer level"));
    assert!(message(19, "(list)").contains("com is a public suffix"));
    assert!(message(21, "(list)").contains("101 TXT records"));
    // The hosts: h1…h5, not the levels they inherit from nor what no walk reaches.
    let hosts: Vec<&str> = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        [
            "h1.a.test",
            "h2.b.test",
            "h3.c.test",
            "h4.d.test",
            "h5.f.test"
        ]
    );

    // Text: one compiler-style line per finding, in line order.
    let o = tool(&["lint", "--records", zone.path(), "--allow-image", "busybox"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.lines().count(), want.len(), "{text}");
    let numbers: Vec<u64> = text
        .lines()
        .map(|l| {
            let rest = l.strip_prefix(zone.path()).unwrap();
            rest[1..].split(':').next().unwrap().parse().unwrap()
        })
        .collect();
    assert!(numbers.is_sorted(), "{text}");
    assert!(
        text.contains(&format!(
            "{}:6: h1.a.test: broken: error: invalid-record: ",
            zone.path()
        )),
        "{text}"
    );
}

#[test]
fn warnings_pass_unless_strict_and_a_clean_zone_prints_nothing() {
    let clean = Scratch::new(
        "txt-record=containers.docker.h.w.test,aa\ntxt-record=aa.containers.docker.h.w.test,busybox\n",
    );
    let o = tool(&["lint", "--records", clean.path(), "--strict"]);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    assert!(o.stdout.is_empty(), "{}", explain(&o));

    let stray = Scratch::new(
        "txt-record=containers.docker.h.w.test,aa\ntxt-record=aa.containers.docker.h.w.test,busybox\n\
         txt-record=stray.containers.docker.h.w.test,busybox\n",
    );
    let o = tool(&["lint", "--records", stray.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(":3: h.w.test: stray: warning: dead-record"),
        "{}",
        explain(&o)
    );
    let o = tool(&["lint", "--records", stray.path(), "--strict"]);
    assert_eq!(o.status.code(), Some(65), "{}", explain(&o));

    // --inherit: a level's list that names nothing is merged, harmlessly: a warning.
    let empty_level = Scratch::new(
        "txt-record=containers.docker.i.test\ntxt-record=containers.docker.h.i.test,aa\n\
         txt-record=aa.containers.docker.i.test,busybox\n",
    );
    let o = tool(&[
        "lint",
        "--records",
        empty_level.path(),
        "--inherit",
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    assert_eq!(
        findings(&json(&o)),
        [row(1, "i.test", "(list)", "empty-list", "warning")]
            .into_iter()
            .collect()
    );

    // Usage and file errors.
    assert_eq!(tool(&["lint"]).status.code(), Some(64));
    assert_eq!(
        tool(&["lint", "--records", "/nonexistent/zone"])
            .status
            .code(),
        Some(66)
    );
    let bad = Scratch::new("txt-record=a.test,\"open\n");
    let o = tool(&["lint", "--records", bad.path()]);
    assert_eq!(o.status.code(), Some(65), "{}", explain(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("{}:1:", bad.path())),
        "{}",
        explain(&o)
    );
}

#[test]
fn top_domain_bounds_lint_as_it_bounds_the_hosts() {
    // example.com's list is what a host under it would merge; with --top-domain
    // dc1.example.com no host asks it, and a host outside the top domain reads nothing.
    let zone = Scratch::new(
        "txt-record=containers.docker.example.com,base\n\
         txt-record=base.containers.docker.example.com,busybox\n\
         txt-record=containers.docker.web1.dc1.example.com,own\n\
         txt-record=own.containers.docker.web1.dc1.example.com,busybox\n",
    );
    let o = tool(&[
        "lint",
        "--records",
        zone.path(),
        "--inherit",
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    let doc = json(&o);
    assert!(findings(&doc).is_empty());
    assert_eq!(doc["hosts"][0]["containers"].as_array().unwrap().len(), 2);

    let o = tool(&[
        "lint",
        "--records",
        zone.path(),
        "--inherit",
        "--top-domain",
        "dc1.example.com",
        "--output",
        "json",
    ]);
    let doc = json(&o);
    assert_eq!(
        findings(&doc),
        [
            row(1, "example.com", "(list)", "dead-list", "warning"),
            row(2, "example.com", "base", "dead-record", "warning"),
        ]
        .into_iter()
        .collect()
    );
    assert!(
        doc["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("--top-domain"),
        "{doc:#}"
    );
}

/// A fleet zone as the benchmark writes it: `hosts` hosts under 10 data centres, each with
/// its own list of 5 and their records, plus a fleet-wide container merged with --inherit.
fn fleet(hosts: usize, extra: &[&str]) -> String {
    let mut z = String::from(
        "$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns hostmaster 1 3600 600 86400 300\n\
         containers.docker IN TXT \"node-exporter\"\n\
         node-exporter.containers.docker IN TXT \"--net=host prom/node-exporter:v1.8.2\"\n",
    );
    for h in 1..=hosts {
        let host = format!("web{h}.dc{}", h % 10);
        z += &format!("containers.docker.{host} IN TXT \"app1 app2\" \"app3,app4\" \"app5\"\n");
        for c in 1..=5 {
            z += &format!(
                "app{c}.containers.docker.{host} IN TXT \"--restart=always -e HOST={host} registry.example.com/app{c}:1.{}\"\n",
                h % 7
            );
        }
    }
    for line in extra {
        z += line;
        z += "\n";
    }
    z
}

#[test]
fn a_generated_10000_host_zone() {
    let text = fleet(
        10_000,
        &[
            "containers.docker.web77.dc7 IN TXT \"app6\"",
            "app7.containers.docker.web78.dc8 IN TXT \"busybox\"",
        ],
    );
    let lines = text.lines().count() as u64;
    let zone = Scratch::new(&text);
    let o = tool(&[
        "lint",
        "--records",
        zone.path(),
        "--inherit",
        "--top-domain",
        "example.com",
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(65), "{}", explain(&o));
    let doc = json(&o);
    assert_eq!(doc["summary"]["hosts"], 10_000);
    assert_eq!(doc["summary"]["containers"], 10_000 * 6 + 1);
    assert_eq!(
        findings(&doc),
        [
            row(
                lines - 1,
                "web77.dc7.example.com",
                "app6",
                "disabled",
                "error"
            ),
            row(
                lines,
                "web78.dc8.example.com",
                "app7",
                "dead-record",
                "warning"
            ),
        ]
        .into_iter()
        .collect()
    );
    let web1 = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "web1.dc1.example.com")
        .unwrap();
    assert_eq!(
        web1["walk"]["levels"],
        serde_json::json!(["web1.dc1.example.com", "dc1.example.com", "example.com"])
    );
    assert_eq!(web1["containers"][5]["name"], "node-exporter");
    assert_eq!(
        web1["containers"][5]["record"],
        "node-exporter.containers.docker.example.com"
    );
}

/// A small deterministic generator (the crate takes no dev-dependencies).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A random zone over a small tree of levels: lists and records at any level, with valid,
/// invalid, privileged, ambiguous and missing records, empty lists and bad names. A `clean`
/// zone has only valid names and texts and a list and every record at each fleet's top, so
/// that most of them pass.
fn random_zone(rng: &mut Rng, clean: bool) -> String {
    let levels = [
        "p.test",
        "dc1.p.test",
        "dc2.p.test",
        "h1.dc1.p.test",
        "h2.dc1.p.test",
        "h3.dc2.p.test",
        "h4.p.test",
        "q.test",
        "h5.q.test",
        "test",
    ];
    let all_names = ["web", "db", "cache", "-bad", "x", "sidecar"];
    let all_texts = [
        "busybox",
        "busybox sleep 60",
        "--restart=always -p 8080:80 busybox:1.36 httpd -f",
        "{\"Image\": \"busybox\", \"Cmd\": [\"true\"]}",
        "--restart=always nginx:1.27",
        "--bogus busybox",
        "--privileged busybox",
        "-v /etc:/host-etc busybox",
        "{\"Image\": 7}",
        "",
    ];
    let (names, texts) = if clean {
        (&all_names[..3], &all_texts[..4])
    } else {
        (&all_names[..], &all_texts[..])
    };
    let mut z = String::new();
    if clean {
        for top in ["p.test", "q.test"] {
            z += &format!("txt-record=containers.docker.{top},web\n");
            for name in names {
                z += &format!("txt-record={name}.containers.docker.{top},busybox\n");
            }
        }
    }
    for level in levels {
        if rng.chance(45) {
            let n = 1 + rng.below(3);
            if !clean && rng.chance(8) {
                z += &format!("txt-record=containers.docker.{level}\n");
            }
            for _ in 0..n {
                let a = rng.pick(names);
                let b = rng.pick(names);
                if rng.chance(50) {
                    z += &format!("txt-record=containers.docker.{level},{a}\n");
                } else {
                    z += &format!("txt-record=containers.docker.{level},\"{a} {b}\"\n");
                }
            }
        }
        for name in names {
            if rng.chance(30)
                && !z.contains(&format!("txt-record={name}.containers.docker.{level},"))
            {
                let text = rng.pick(texts).replace('"', "\\\"");
                z += &format!("txt-record={name}.containers.docker.{level},\"{text}\"\n");
                if !clean && rng.chance(10) {
                    z += &format!("txt-record={name}.containers.docker.{level},\"busybox\"\n");
                }
            }
        }
    }
    z
}

/// name → (status, record) from a `show` or a lint host's containers.
fn containers(v: &Value) -> BTreeMap<String, (String, Value)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                (
                    c["status"].as_str().unwrap().to_string(),
                    c["record"].clone(),
                ),
            )
        })
        .collect()
}

#[test]
fn lint_and_a_per_host_show_agree_on_every_host() {
    let mut checked_hosts = 0;
    let mut passed = 0;
    for seed in 1..=45u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let clean = seed % 3 == 0;
        let zone = Scratch::new(&random_zone(&mut rng, clean));
        let mut options: Vec<&str> = Vec::new();
        if rng.chance(50) {
            options.push("--inherit");
        }
        if rng.chance(30) {
            options.push("--forbid-privileged");
        }
        if rng.chance(20) {
            options.extend(["--allow-image", "busybox"]);
        }
        if rng.chance(20) {
            options.extend(["--top-domain", "dc1.p.test"]);
        }
        let mut args = vec!["lint", "--records", zone.path(), "--output", "json"];
        args.extend(&options);
        let o = tool(&args);
        let doc = json(&o);
        let context = || {
            format!(
                "seed {seed}, options {options:?}\n--- zone\n{}",
                std::fs::read_to_string(&zone.0).unwrap()
            )
        };
        let errors: BTreeSet<String> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .flat_map(|f| f["hosts"].as_array().unwrap().clone())
            .map(|h| h.as_str().unwrap().to_string())
            .collect();
        let mut every_host_clean = true;
        for host in doc["hosts"].as_array().unwrap() {
            let name = host["host"].as_str().unwrap();
            let mut args = vec![
                "show",
                "--records",
                zone.path(),
                "--hostname",
                name,
                "--output",
                "json",
            ];
            args.extend(options.iter().filter(|o| **o != "--strict"));
            let shown = tool(&args);
            let status = shown.status.code().unwrap();
            assert_eq!(
                host["exit"],
                status,
                "{name}: {}\n{}",
                context(),
                explain(&shown)
            );
            let show_doc = json(&shown);
            assert_eq!(
                containers(&host["containers"]),
                containers(&show_doc["containers"]),
                "{name}: {}",
                context()
            );
            assert_eq!(
                host["list_records"],
                show_doc["list"]["records"],
                "{name}: {}",
                context()
            );
            // Lint fails a host exactly when its run would change or fail: show exits non-zero,
            // or a listed container would be disabled (and removed).
            let disabled = containers(&show_doc["containers"])
                .values()
                .any(|(s, _)| s == "disabled");
            let fails = status != 0 || disabled;
            assert_eq!(
                errors.contains(name),
                fails,
                "{name}: {}\n{doc:#}",
                context()
            );
            every_host_clean &= !fails;
            checked_hosts += 1;
        }
        // A zone every host accepts passes (this generator makes no RRset over 100 records).
        assert_eq!(
            o.status.code() == Some(0),
            every_host_clean,
            "{}\n{}",
            context(),
            explain(&o)
        );
        passed += usize::from(every_host_clean);
    }
    assert!(checked_hosts > 100, "only {checked_hosts} hosts checked");
    assert!(
        (3..40).contains(&passed),
        "{passed} of 45 zones passed: the generator must make both kinds"
    );
}
