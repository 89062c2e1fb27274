//! `export` proven by a round trip on the real engine: every line of the real-world corpus
//! (tests/fixtures/run-lines.txt) is given, with its image replaced by a test image that has
//! its own ENV, LABEL, CMD, WORKDIR and EXPOSE, to `docker create`; the container is exported
//! by the real binary, the exported record is read back as `--records` reads it, and parsed:
//! its create body must equal the one parsed from the line itself. The lines the CLI cannot
//! create on this engine do not count; of the others at least 98 % must match, and each that
//! does not must be listed, with its reason, in docker-dns-provision(8), EXPORT (the test
//! checks that list against what it saw). Holds the engine lock (tests/run takes it).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use docker_dns_provision::container::{OWNER_LABEL, SystemHost, parse};
use docker_dns_provision::dns::records_file::RecordsFile;
use docker_dns_provision::dns::{Answer, TxtSource};
use serde_json::Value;

use common::engine_http::request;

/// The prefix of everything this test makes on the engine.
const TAG: &str = "ddp-export-rt";

/// What the test image adds to the kit's busybox: its own settings, which an export must
/// leave out unless a container overrides them.
const IMAGE_CHANGES: &[&str] = &[
    "ENV APP_HOME=/srv/app",
    "ENV APP_MODE=production",
    "LABEL org.example.team=platform",
    "LABEL org.example.tier=backend",
    "CMD [\"sleep\", \"3601\"]",
    "WORKDIR /srv/app",
    "EXPOSE 8080/tcp",
];

fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("docker {args:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Removes what the test made, whatever happens: its containers (with their anonymous
/// volumes), the named volumes the lines created, its image.
struct Cleanup {
    containers: Vec<String>,
    /// The containers other lines name (`--link db`, `--volumes-from data`), made first.
    helpers: Vec<String>,
    volumes_before: BTreeSet<String>,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in self.containers.iter().chain(&self.helpers) {
            let _ = request("DELETE", &format!("/containers/{c}?force=1&v=1"), None);
        }
        for v in volumes().difference(&self.volumes_before) {
            let _ = request("DELETE", &format!("/volumes/{v}"), None);
        }
        let _ = request("DELETE", &format!("/images/{}?force=1", self.image), None);
    }
}

fn volumes() -> BTreeSet<String> {
    docker(&["volume", "ls", "-q"])
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// The test image: the kit's busybox with [`IMAGE_CHANGES`].
fn build_image(name: &str) -> String {
    let base = common::images::ensure_busybox();
    let scratch = format!("{name}-base").replace([':', '/'], "-");
    docker(&["create", "--name", &scratch, &base]).unwrap();
    let mut args = vec!["commit"];
    for c in IMAGE_CHANGES {
        args.extend(["--change", c]);
    }
    args.extend([scratch.as_str(), name]);
    let made = docker(&args);
    let _ = docker(&["rm", "-f", &scratch]);
    made.unwrap();
    name.to_string()
}

/// The words a record text splits into, through the library's own splitter.
fn words_of(text: &str) -> Result<Vec<String>, String> {
    let spec = parse(&format!("x {text}"), &SystemHost).map_err(|e| e.0)?;
    Ok(spec.body["Cmd"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect())
}

fn quote_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A corpus line as the words of a record on the test image: `docker run` and `--name X`
/// dropped, the image word replaced. `Err` when the tool's parser refuses the line.
fn record_words(line: &str, image: &str) -> Result<Vec<String>, String> {
    let text = ["docker container run ", "docker run "]
        .iter()
        .find_map(|p| line.strip_prefix(p))
        .ok_or("not a docker run line")?;
    let mut words = words_of(text)?;
    loop {
        match parse(&quote_words(&words), &SystemHost) {
            Err(e) if e.0.contains("--name is not allowed") => {
                let i = words
                    .iter()
                    .position(|w| w == "--name" || w.starts_with("--name="))
                    .ok_or("no --name word")?;
                let n = if words[i] == "--name" { 2 } else { 1 };
                words.drain(i..(i + n).min(words.len()));
            }
            Err(e) => return Err(e.0),
            Ok(spec) => {
                let cmd = spec.body["Cmd"].as_array().map_or(0, Vec::len);
                let at = words.len() - cmd - 1;
                words[at] = image.to_string();
                return Ok(without_detach(words, at));
            }
        }
    }
}

/// The containers a record's options name: link targets, `--volumes-from` sources and the
/// containers whose namespaces it joins.
fn named_containers(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut words = words.iter();
    while let Some(w) = words.next() {
        let (flag, value) = match w.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (w.as_str(), None),
        };
        if !matches!(
            flag,
            "--link" | "--volumes-from" | "--net" | "--network" | "--pid" | "--ipc"
        ) {
            continue;
        }
        let Some(value) = value.or_else(|| words.next().cloned()) else {
            break;
        };
        let target = match flag {
            "--link" | "--volumes-from" => value.split(':').next().map(String::from),
            _ => value.strip_prefix("container:").map(String::from),
        };
        out.extend(target.filter(|t| !t.is_empty()));
    }
    out
}

/// The options before the image without `-d` (`docker create` has no such flag; it
/// changes nothing in the body): `-d`, `--detach`, and the `d` of a cluster like `-dit`.
fn without_detach(words: Vec<String>, image_at: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (i, w) in words.into_iter().enumerate() {
        let option = i < image_at;
        if option && matches!(w.as_str(), "-d" | "--detach" | "--detach=true") {
            continue;
        }
        let cluster = option && w.starts_with('-') && !w.starts_with("--") && w.len() > 2;
        if cluster && w[1..].chars().all(|c| "dit".contains(c)) {
            out.push(w.replace('d', ""));
            continue;
        }
        out.push(w);
    }
    out
}

/// The compared body: without the ownership label; the variables, binds and links as sets
/// (the docker CLI sends them in map order, so a container's order is not the line's); a
/// link `db` as the `db:db` it stands for (the Engine API's form: the engine keeps both
/// alike, so no export can tell which was typed).
fn normal(body: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (k, v) in body.as_object().into_iter().flatten() {
        out.insert(k.clone(), v.clone());
    }
    if let Some(Value::Object(labels)) = out.get_mut("Labels") {
        labels.remove(OWNER_LABEL);
        if labels.is_empty() {
            out.remove("Labels");
        }
    }
    if let Some(Value::Array(env)) = out.get_mut("Env") {
        env.sort_by_key(Value::to_string);
    }
    if let Some(Value::Object(hc)) = out.get_mut("HostConfig") {
        if let Some(Value::Array(links)) = hc.get_mut("Links") {
            for l in links.iter_mut() {
                let s = l.as_str().unwrap_or_default().to_string();
                if !s.contains(':') {
                    *l = Value::from(format!("{s}:{s}"));
                }
            }
        }
        for k in ["Binds", "Links"] {
            if let Some(Value::Array(a)) = hc.get_mut(k) {
                a.sort_by_key(Value::to_string);
            }
        }
    }
    out
}

/// The fields two bodies disagree on, as `field: line … / export …`.
fn differences(want: &Value, got: &Value) -> Vec<String> {
    let (want, got) = (normal(want), normal(got));
    let mut keys: BTreeSet<&String> = want.keys().chain(got.keys()).collect();
    let mut out = Vec::new();
    let hc = "HostConfig".to_string();
    if let (Some(Value::Object(w)), Some(Value::Object(g))) = (want.get(&hc), got.get(&hc)) {
        keys.remove(&hc);
        for k in w.keys().chain(g.keys()).collect::<BTreeSet<_>>() {
            if w.get(k) != g.get(k) {
                out.push(format!(
                    "HostConfig.{k}: line {:?} / export {:?}",
                    w.get(k),
                    g.get(k)
                ));
            }
        }
    }
    for k in keys {
        if want.get(k) != got.get(k) {
            out.push(format!(
                "{k}: line {:?} / export {:?}",
                want.get(k),
                got.get(k)
            ));
        }
    }
    out
}

/// The record text `export` prints for these containers, by container name, read back
/// through the records-file reader.
fn export(names: &[String], format: &str) -> BTreeMap<String, String> {
    let mut args = vec!["export", "--hostname", "rt.example.com", "--format", format];
    args.extend(names.iter().map(String::as_str));
    let out = common::binary::run(&args);
    assert!(out.status.success(), "{}", common::binary::explain(&out));
    let file = RecordsFile::parse(&out.stdout)
        .unwrap_or_else(|e| panic!("{e:?}\n{}", String::from_utf8_lossy(&out.stdout)));
    let mut texts = BTreeMap::new();
    for n in names {
        let owner = format!("{n}.containers.docker.rt.example.com");
        if let Answer::Present(rrs) = file.lookup(&owner) {
            let joined: Vec<u8> = rrs.concat().concat();
            texts.insert(n.clone(), String::from_utf8(joined).unwrap());
        }
    }
    texts
}

/// Every line that does not round-trip is listed in tests/fixtures/export-roundtrip.txt with
/// the outcome seen; a listed line that now round-trips must leave the list, unless its
/// reason says it depends on the engine.
fn check_listed(observed: &BTreeMap<&str, &str>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/export-roundtrip.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut listed: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for entry in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (line, outcome) = entry
            .split_once("\t! ")
            .unwrap_or_else(|| panic!("{entry}"));
        let (kind, why) = outcome
            .split_once(": ")
            .unwrap_or_else(|| panic!("{entry}"));
        listed.insert(line, (kind, why));
    }
    let mut wrong = Vec::new();
    for (line, kind) in observed {
        match listed.get(line) {
            Some((k, _)) if k == kind => {}
            Some((k, _)) => wrong.push(format!("{line}: listed as {k}, seen {kind}")),
            None => wrong.push(format!("{line}: {kind}, not listed in {path}")),
        }
    }
    for (line, (kind, why)) in &listed {
        if !observed.contains_key(line) && !why.starts_with("engine") {
            wrong.push(format!(
                "{line}: listed as {kind} but round-trips: take it off the list"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every container a line names exists, so that the CLI can create the line (a link to a
/// missing name would otherwise resolve to any container whose ID starts with it).
fn make_named_containers(lines: &[&str], image: &str, cleanup: &mut Cleanup) {
    for line in lines {
        for target in record_words(line, image)
            .map(|w| named_containers(&w))
            .unwrap_or_default()
        {
            let exists = docker(&["inspect", "--type", "container", &target]).is_ok();
            if !cleanup.helpers.contains(&target) && !exists {
                cleanup.helpers.push(target.clone());
                docker(&["create", "--name", &target, image]).unwrap();
            }
        }
    }
}

#[test]
fn the_corpus_round_trips_through_export() {
    let image = format!("{TAG}/image:{}", std::process::id());
    let mut cleanup = Cleanup {
        containers: Vec::new(),
        helpers: Vec::new(),
        volumes_before: volumes(),
        image: image.clone(),
    };
    build_image(&image);
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/run-lines.txt");
    let corpus = std::fs::read_to_string(fixture).unwrap();
    let lines: Vec<&str> = corpus
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    assert!(
        lines.len() >= 150,
        "the corpus has only {} lines",
        lines.len()
    );

    make_named_containers(&lines, &image, &mut cleanup);
    // line index → (container, the body parsed from the line, or why the parser refused it)
    let mut created: BTreeMap<usize, (String, Result<Value, String>)> = BTreeMap::new();
    let mut not_created = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let name = format!("{TAG}-{}-{i}", std::process::id());
        let words = match record_words(line, &image) {
            Ok(w) => w,
            Err(why) => {
                not_created.push((*line, "parser-refuses", why));
                continue;
            }
        };
        let mut args = vec!["create", "--name", name.as_str()];
        args.extend(words.iter().map(String::as_str));
        cleanup.containers.push(name.clone());
        if let Err(why) = docker(&args) {
            not_created.push((*line, "not-created", why));
            continue;
        }
        let body = parse(&quote_words(&words), &SystemHost)
            .map(|s| s.body)
            .map_err(|e| e.0);
        created.insert(i, (name, body));
    }
    let names: Vec<String> = created.values().map(|(n, _)| n.clone()).collect();
    let exported = export(&names, "dnsmasq");
    let zone = export(&names, "zone");
    assert_eq!(exported, zone, "the zone form carries the same texts");

    let mut misses = Vec::new();
    for (i, (name, want)) in &created {
        let got = exported
            .get(name)
            .ok_or_else(|| "not exported".to_string())
            .and_then(|text| {
                parse(text, &SystemHost)
                    .map(|s| s.body)
                    .map_err(|e| format!("the export {text:?} does not parse: {}", e.0))
            });
        let why = match (want, got) {
            (Err(e), _) => vec![format!("the line does not parse: {e}")],
            (_, Err(e)) => vec![e],
            (Ok(w), Ok(g)) => differences(w, &g),
        };
        if !why.is_empty() {
            misses.push((lines[*i], exported.get(name).cloned(), why));
        }
    }
    let matched = created.len() - misses.len();
    let rate = 100.0 * matched as f64 / created.len().max(1) as f64;
    println!(
        "export round trip: {matched} of {} created lines ({rate:.1} %); {} of {} corpus lines not created on this engine",
        created.len(),
        not_created.len(),
        lines.len()
    );
    for (line, kind, why) in &not_created {
        println!("  {kind}: {line}\n    {why}");
    }
    for (line, text, why) in &misses {
        println!(
            "  differs: {line}\n    export: {text:?}\n    {}",
            why.join("\n    ")
        );
    }
    assert!(created.len() >= 200, "only {} lines created", created.len());
    assert!(rate >= 98.0, "round trip {rate:.1} % < 98 %");
    let observed: BTreeMap<&str, &str> = not_created
        .iter()
        .map(|(l, k, _)| (*l, *k))
        .chain(misses.iter().map(|(l, _, _)| (*l, "differs")))
        .collect();
    check_listed(&observed);
    drop(cleanup);
}
