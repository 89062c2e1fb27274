//! The docker CLI as oracle for network records: for each line of a corpus, the body the
//! CLI sends for `docker network create LINE NAME` (recorded by a fake engine on a unix
//! socket: no engine needed) must be the body the tool builds, and a line the CLI refuses
//! the tool refuses too. With a docker CLI other than 28 the comparison is against the CLI
//! 28's bodies recorded in tests/fixtures/network-lines.cli28.json (`DDP_RECORD=1`
//! rewrites that file from a CLI 28).

use docker_dns_provision::container::OWNER_LABEL;
use docker_dns_provision::network;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/network-lines.cli28.json"
);

/// Lines the CLI accepts and the tool too (same body), or both refuse.
const CORPUS: &[&str] = &[
    "",
    "--driver bridge",
    "-d bridge",
    "-dbridge",
    "--subnet 10.9.0.0/24",
    "--subnet=10.9.0.0/24 --gateway=10.9.0.1",
    "--subnet 10.9.0.0/24 --gateway 10.9.0.1 --ip-range 10.9.0.128/25 --aux-address a=10.9.0.5 --aux-address b=10.9.0.6",
    "--subnet 10.1.0.0/16 --subnet fd00:1::/64 --gateway fd00:1::1 --gateway 10.1.0.1",
    "--subnet 10.1.0.0/16,10.2.0.0/16 --ip-range 10.2.1.0/24",
    "--internal",
    "--internal=false",
    "--internal=1 --attachable",
    "--ipv6",
    "--ipv6=false",
    "--ipv6 --subnet fd00:2::/64",
    "-o com.docker.network.bridge.name=br-x -o com.docker.network.driver.mtu=1400",
    "--opt a=b=c --opt bare",
    "--label a=b --label c --label 'd=e f'",
    "--ipam-driver default --ipam-opt k=v --ipam-opt flag",
    "--scope local",
    "--driver macvlan -o parent=eth0 --subnet 192.168.50.0/24",
    // Refused by both.
    "--gateway 10.0.0.1",
    "--subnet 10.0.0.0/8 --subnet 10.1.0.0/16",
    "--subnet 10.0.0.0/24 --gateway 10.0.1.1",
    "--subnet 10.0.0.0/24 --ip-range 10.0.1.0/25",
    "--subnet 10.0.0.0/24 --aux-address a=10.5.0.1",
    "--subnet 10.0.0.0/24 --gateway 10.0.0.1 --gateway 10.0.0.2 --subnet 10.2.0.0/24",
    "--internal=maybe",
    "--label =x",
    "--bogus",
    "-x",
];

/// What the CLI made of a line: its body (without `Name`), or `null` when it refused.
fn cli_view(line: &str) -> Value {
    let socket = std::env::temp_dir().join(format!("ddp-net-oracle-{}.sock", std::process::id()));
    let bodies = fake_engine(&socket);
    let mut args = vec![
        "-H".to_string(),
        format!("unix://{}", socket.display()),
        "network".into(),
        "create".into(),
    ];
    if !line.is_empty() {
        let words = shell_words(line);
        args.extend(words);
    }
    args.push("oracle-net".into());
    let out = Command::new("docker").args(&args).output().unwrap();
    let _ = std::fs::remove_file(&socket);
    let sent = bodies.lock().unwrap().pop();
    match (out.status.success(), sent) {
        (true, Some(mut body)) => {
            assert_eq!(body["Name"], "oracle-net");
            body.as_object_mut().unwrap().remove("Name");
            normal(body)
        }
        _ => Value::Null,
    }
}

/// The line split as sh would (the corpus uses plain words and single quotes).
/// The CLI builds the IPAM pools from a Go map, in a random order (the engine reads them as
/// a set): both views are compared with the pools sorted by subnet.
fn normal(mut body: Value) -> Value {
    if let Some(pools) = body["IPAM"]["Config"].as_array_mut() {
        pools.sort_by_key(|p| p["Subnet"].as_str().unwrap_or_default().to_string());
    }
    body
}

fn shell_words(line: &str) -> Vec<String> {
    let out = Command::new("sh")
        .args([
            "-c",
            &format!("for w in {line}; do printf '%s\\0' \"$w\"; done"),
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split('\0')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The tool's view of a line: its body without `Name` and the ownership label, or `null`.
fn tool_view(line: &str) -> Value {
    match network::parse(line, false) {
        Ok(spec) => {
            let mut body = spec.body.clone();
            body["Labels"].as_object_mut().unwrap().remove(OWNER_LABEL);
            normal(body)
        }
        Err(_) => Value::Null,
    }
}

fn cli_is_28() -> bool {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Client.Version}}"])
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).starts_with("28."))
        .unwrap_or(false)
}

#[test]
fn network_records_build_the_clis_body() {
    let live = cli_is_28();
    let recorded: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let mut views = BTreeMap::new();
    let mut wrong = Vec::new();
    for line in CORPUS {
        let cli = if live {
            cli_view(line)
        } else {
            recorded
                .get(*line)
                .cloned()
                .unwrap_or_else(|| panic!("{line:?} is not in {FIXTURE}"))
        };
        let ours = tool_view(line);
        if ours != cli {
            wrong.push(format!("{line:?}:\n  CLI:  {cli}\n  tool: {ours}"));
        }
        views.insert(line.to_string(), cli);
    }
    let record = live && std::env::var_os("DDP_RECORD").is_some();
    if record {
        let doc = Value::from(serde_json::Map::from_iter(views.clone()));
        std::fs::write(FIXTURE, format!("{doc:#}\n")).unwrap();
    } else if live {
        assert_eq!(
            views, recorded,
            "the CLI 28 no longer sends the recorded bodies"
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Both sides refuse some lines and accept most: the comparison is not vacuous.
    let refused = views.values().filter(|v| v.is_null()).count();
    assert!(refused >= 8 && refused < CORPUS.len() - 15, "{refused}");
}

/// A fake engine that answers the CLI's ping and keeps each network create body.
fn fake_engine(path: &std::path::Path) -> Arc<Mutex<Vec<Value>>> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).unwrap();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let _ = serve(conn, &seen);
            });
        }
    });
    bodies
}

fn serve(conn: UnixStream, bodies: &Mutex<Vec<Value>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or_default().to_string(),
            parts.next().unwrap_or_default().to_string(),
        );
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end().to_ascii_lowercase();
            if h.is_empty() {
                break;
            }
            if let Some(v) = h.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let (status, reply) = if method == "POST" && target.ends_with("/networks/create") {
            if let Ok(v) = serde_json::from_slice(&body) {
                bodies.lock().unwrap().push(v);
            }
            ("201 Created", r#"{"Id":"n1","Warning":""}"#.to_string())
        } else if target.ends_with("/_ping") {
            ("200 OK", "OK".to_string())
        } else {
            ("404 Not Found", r#"{"message":"no such call"}"#.to_string())
        };
        let sent = if method == "HEAD" { "" } else { reply.as_str() };
        write!(
            conn,
            "HTTP/1.1 {status}\r\nApi-Version: 1.50\r\nOstype: linux\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{sent}",
            reply.len()
        )?;
        conn.flush()?;
    }
}
