//! The docker CLI as oracle: for each representative run line, `docker create` makes one
//! container and our translation (POSTed as built) makes another on the same engine; their
//! `docker inspect` must agree field by field, except for what differs by design (listed
//! in `IGNORED` with the reason). Needs the engine and the kit's `ddp-test/busybox` image.
//! Over the corpus of real lines in tests/fixtures/run-lines.txt, and for flags that engine
//! is too old for, the comparison is of create bodies instead: the CLI's, recorded by a
//! fake engine on a unix socket, and the tool's.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use docker_dns_provision::container::{OWNER_LABEL, SystemHost, parse};
use serde_json::Value;

use common::engine_http::request;

const IMAGE: &str = "ddp-test/busybox:latest";
const NETWORK: &str = "ddp-spec-oracle-net";
const VOLUME: &str = "ddp-spec-oracle-vol";
/// The container the `--link` lines link to.
const LINKEE: &str = "ddp-spec-oracle-linkee";

/// Fields that differ by design, with why.
const IGNORED: &[(&str, &str)] = &[
    ("Config.Hostname", "defaults to the container's own ID"),
    (
        "Config.AttachStdin",
        "`docker create` attaches; the tool's containers are `run -d`",
    ),
    (
        "Config.AttachStdout",
        "`docker create` attaches; the tool's containers are `run -d`",
    ),
    (
        "Config.AttachStderr",
        "`docker create` attaches; the tool's containers are `run -d`",
    ),
    (
        "Config.StdinOnce",
        "`-i` without `-d` sets it; the tool's containers are `run -d`",
    ),
    (
        "HostConfig.ConsoleSize",
        "the CLI sends its terminal size; the tool has none",
    ),
];

/// The lines; `{env}` and `{labels}` are replaced by the paths of files the test writes.
const LINES: &[&str] = &[
    "ddp-test/busybox",
    "ddp-test/busybox sleep 60",
    "ddp-test/busybox --name x -it --rm",
    "-e A=b -e C= -e A=c -l app=web -l tier ddp-test/busybox",
    "-e DDP_ORACLE_SURELY_UNSET -e HOME=/x ddp-test/busybox",
    "--env-file {env} -e FROMFLAG=1 ddp-test/busybox",
    "--entrypoint /bin/sh ddp-test/busybox -c 'sleep 1'",
    "--entrypoint= ddp-test/busybox sleep 1",
    "-w /app/ -u 65534 -h web --domainname example.com ddp-test/busybox",
    "-it ddp-test/busybox",
    "--restart on-failure:3 --stop-signal SIGINT --stop-timeout 30 ddp-test/busybox",
    "--restart unless-stopped --init ddp-test/busybox",
    "--rm --init=false ddp-test/busybox",
    "--net host ddp-test/busybox",
    "--network none ddp-test/busybox",
    "-p 8080:80 -p 127.0.0.1::53/udp -p 9000-9001:9000-9001 -p 7000-7005:7000 -p [::1]:8443:443 -p 3000 --expose 5000-5001/udp -P ddp-test/busybox",
    "--dns 1.1.1.1 --dns 0:0:0:0:0:0:0:1 --dns-search example.com --dns-option ndots:2 --add-host a:1.2.3.4 --add-host v6=[::1] ddp-test/busybox",
    "-v /tmp:/data:ro -v ddp-spec-oracle-vol:/v -v /anon ddp-test/busybox",
    "--mount type=tmpfs,dst=/scratch,tmpfs-size=64m,tmpfs-mode=1770 --mount type=bind,src=/tmp,dst=/t,readonly --tmpfs /run:rw,size=64k --read-only ddp-test/busybox",
    "--privileged --cap-add net_admin --cap-add SYS_TIME --cap-add CAP_NET_ADMIN --cap-drop chown ddp-test/busybox",
    "--cap-drop ALL --cap-add NET_BIND_SERVICE --security-opt no-new-privileges --security-opt label:disable ddp-test/busybox",
    "--security-opt systempaths=unconfined ddp-test/busybox",
    "--device /dev/null:/dev/xnull:r --device-cgroup-rule 'c 1:3 mr' ddp-test/busybox",
    "--pid host --ipc shareable --uts host --userns host --cgroupns private --group-add audio ddp-test/busybox",
    "-m 512m --memory-reservation 256m --memory-swap 1g --cpus 1.5 -c 0512 --cpuset-cpus 0 --pids-limit 100 --shm-size 128m --oom-score-adj -500 ddp-test/busybox",
    "--memory-swappiness 10 --oom-kill-disable --cpu-period 100000 --cpu-quota 50000 ddp-test/busybox",
    "--ulimit nofile=1024:2048 --ulimit nproc=512 --ulimit core=-1 --sysctl net.ipv4.ip_forward=1 ddp-test/busybox",
    "--health-cmd 'true' --health-interval 30s --health-timeout 5s --health-retries 3 --health-start-period 1m ddp-test/busybox",
    "--health-interval 10s ddp-test/busybox",
    "--no-healthcheck ddp-test/busybox",
    "--log-driver json-file --log-opt max-size=10m --log-opt max-file=3 --runtime runc ddp-test/busybox",
    "--network ddp-spec-oracle-net --network-alias web --ip 10.231.0.5 ddp-test/busybox",
    "--network name=ddp-spec-oracle-net,alias=api ddp-test/busybox",
    "-it --privileged=false --read-only=0 ddp-test/busybox",
    "docker.io/ddp-test/busybox:latest true",
    "--label-file {labels} -l b=flag ddp-test/busybox",
    "--mount type=volume,src=ddp-spec-oracle-vol,dst=/v,volume-nocopy --mount dst=/anon2 ddp-test/busybox",
    "--net host -p 80:80 --expose 81 ddp-test/busybox",
    "--dns-search . --stop-timeout -1 --entrypoint 'sh -c' ddp-test/busybox 'sleep 1'",
    "-c 0x10 -m 1.5g --cpus 3/2 --cap-add all --device /dev/null ddp-test/busybox",
    "--health-cmd 'wget -q -O- http://localhost/ || exit 1' --health-retries 0x2 ddp-test/busybox",
    "--network name=ddp-spec-oracle-net,alias=api,driver-opt=com.example.x=1 ddp-test/busybox",
    "-u nobody:nogroup -e 'MULTI=a b  c' ddp-test/busybox sh -c 'echo \"$MULTI\"'",
    "-q --volume-driver local -v ddp-spec-oracle-vol:/v ddp-test/busybox",
    "--link ddp-spec-oracle-linkee:db --link ddp-spec-oracle-linkee ddp-test/busybox",
    "--network ddp-spec-oracle-net --link ddp-spec-oracle-linkee:db ddp-test/busybox",
    "--gpus all ddp-test/busybox",
    "--gpus '\"device=0,2\"' --gpus 2,driver=nvidia ddp-test/busybox",
    "--gpus 'count=1,\"capabilities=compute,utility\",\"options=a=1,b\"' ddp-test/busybox",
    "--blkio-weight 500 --blkio-weight-device /dev/sda:200 --device-read-bps /dev/sda:1mb --device-write-bps /dev/sda:2mb --device-read-iops /dev/sda:1000 --device-write-iops /dev/sda:20 ddp-test/busybox",
    "--cpu-rt-period 1000000 --cpu-rt-runtime 950000 --kernel-memory 50m --isolation default ddp-test/busybox",
    "--use-api-socket ddp-test/busybox",
];

/// JSON records and the run line the CLI is given for the same container.
const JSON_PAIRS: &[(&str, &str)] = &[
    (
        r#"{"Image": "ddp-test/busybox", "Cmd": ["sleep", "5"], "HostConfig": {"NetworkMode": "host"}}"#,
        "--net host ddp-test/busybox sleep 5",
    ),
    (
        r#"{"Image": "ddp-test/busybox", "Env": ["A=b"], "Labels": {"x": "y"}, "Tty": true,
            "HostConfig": {"RestartPolicy": {"Name": "always"}, "Binds": ["/tmp:/t:ro"], "Memory": 67108864}}"#,
        "-e A=b -l x=y -t --restart always -v /tmp:/t:ro -m 64m ddp-test/busybox",
    ),
    (
        r#"{"Image": "ddp-test/busybox", "Entrypoint": "/bin/sh", "Cmd": "-c", "ExposedPorts": {"80/tcp": {}},
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "8080"}]}}}"#,
        "--entrypoint /bin/sh -p 8080:80 ddp-test/busybox -c",
    ),
];

/// Removes what the test created, whatever happens.
struct Cleanup {
    containers: Vec<String>,
    files: Vec<String>,
    /// Whether this test owns the shared network and volume.
    shared: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = request("DELETE", &format!("/containers/{c}?force=1&v=1"), None);
        }
        if self.shared {
            let _ = request("DELETE", &format!("/containers/{LINKEE}?force=1"), None);
            let _ = request("DELETE", &format!("/volumes/{VOLUME}"), None);
            let _ = request("DELETE", &format!("/networks/{NETWORK}"), None);
        }
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
    }
}

fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("docker {args:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn inspect(name: &str) -> Value {
    let (status, body) = request("GET", &format!("/containers/{name}/json"), None).unwrap();
    assert_eq!(status, 200, "inspect {name}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The compared view: Config, HostConfig and the networks' endpoint settings, with
/// order-free lists sorted and ignored fields removed.
fn view(c: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for section in ["Config", "HostConfig"] {
        if let Some(Value::Object(m)) = c.get(section) {
            for (k, v) in m {
                out.insert(format!("{section}.{k}"), v.clone());
            }
        }
    }
    let id = c["Id"].as_str().unwrap_or_default();
    if let Some(Value::Object(nets)) = c.pointer("/NetworkSettings/Networks") {
        for (net, ep) in nets {
            let aliases: Vec<Value> = ep["Aliases"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|x| !id.starts_with(x.as_str().unwrap_or("-")))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            out.insert(format!("Networks.{net}.Aliases"), Value::Array(aliases));
            out.insert(
                format!("Networks.{net}.IPAMConfig"),
                ep["IPAMConfig"].clone(),
            );
            out.insert(
                format!("Networks.{net}.DriverOpts"),
                ep["DriverOpts"].clone(),
            );
        }
    }
    for (k, _) in IGNORED {
        out.remove(*k);
    }
    // The engine writes a legacy link as `/target:/<this container's name>/alias`.
    let own = format!("{}/", c["Name"].as_str().unwrap_or_default());
    if let Some(Value::Array(links)) = out.get_mut("HostConfig.Links") {
        for l in links.iter_mut() {
            *l = Value::from(l.as_str().unwrap_or_default().replace(&own, "/SELF/"));
        }
    }
    // The CLI sends zero values the tool omits; the engine treats both alike (§5 of the
    // mapping notes), and 20.10 stores an omitted restart policy as "" rather than "no".
    out.retain(|_, v| !is_zero(v));
    if let Some(policy) = out
        .get_mut("HostConfig.RestartPolicy")
        .filter(|p| p["Name"] == "")
    {
        policy["Name"] = Value::from("no");
    }
    if let Some(Value::Object(labels)) = out.get_mut("Config.Labels") {
        labels.remove(OWNER_LABEL);
    }
    // The CLI sends -e in random order and does not de-duplicate env-file entries against
    // -e ones (the tool does, last wins), and sends Binds in map order; the engine stores
    // legacy links in map order: compare as sets.
    if let Some(Value::Array(env)) = out.get_mut("Config.Env") {
        let name = |v: &Value| {
            let s = v.as_str().unwrap_or_default();
            s.split_once('=').map_or(s, |(k, _)| k).to_string()
        };
        let all = env.clone();
        env.retain(|v| all.iter().rev().find(|w| name(w) == name(v)) == Some(v));
        env.dedup();
    }
    for k in ["Config.Env", "HostConfig.Binds", "HostConfig.Links"] {
        if let Some(Value::Array(a)) = out.get_mut(k) {
            a.sort_by_key(|v| v.to_string());
        }
    }
    out
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn create_ours(line: &str, name: &str) -> Result<(), String> {
    let spec = parse(line, &SystemHost).map_err(|e| format!("parse: {e}"))?;
    let mut path = format!("/v1.41/containers/create?name={name}");
    if let Some(p) = &spec.platform {
        path.push_str(&format!("&platform={p}"));
    }
    // Without the ownership label: other tests on this engine sweep containers that carry
    // it, and the comparison ignores it anyway.
    let mut body = spec.body.clone();
    if let Some(Value::Object(labels)) = body.get_mut("Labels") {
        labels.remove(OWNER_LABEL);
    }
    let (status, body) =
        request("POST", &path, Some(&body.to_string())).map_err(|e| format!("create: {e}"))?;
    if status != 201 {
        return Err(format!("create → {status}: {body} (sent {})", spec.body));
    }
    Ok(())
}

#[test]
fn translation_matches_the_docker_cli() {
    if docker(&["image", "inspect", IMAGE]).is_err() {
        let kit = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kit/images.sh");
        assert!(
            std::path::Path::new(kit).exists(),
            "image {IMAGE} is missing and {kit} is not there to build it"
        );
        let status = Command::new("bash").arg(kit).status().unwrap();
        assert!(status.success(), "{kit} failed");
    }
    let tag = format!("ddp-spec-oracle-{}", std::process::id());
    let env_file = format!("/tmp/{tag}.env");
    let labels_file = format!("/tmp/{tag}.labels");
    let mut cleanup = Cleanup {
        containers: Vec::new(),
        files: vec![env_file.clone(), labels_file.clone()],
        shared: true,
    };
    std::fs::write(&labels_file, "a=1\nnovalue\n# c\nb=file\n").unwrap();
    std::fs::write(
        &env_file,
        "# comment\nE1=a\nE2=two words  \nFROMFLAG=file\n",
    )
    .unwrap();
    let _ = request("DELETE", &format!("/networks/{NETWORK}"), None);
    docker(&["network", "create", "--subnet", "10.231.0.0/24", NETWORK]).unwrap();
    let _ = request("DELETE", &format!("/containers/{LINKEE}?force=1"), None);
    docker(&["create", "--name", LINKEE, IMAGE]).unwrap();

    let mut failures = Vec::new();
    let cases = LINES
        .iter()
        .map(|l| {
            let l = l
                .replace("{env}", &env_file)
                .replace("{labels}", &labels_file);
            (l.clone(), l)
        })
        .chain(
            JSON_PAIRS
                .iter()
                .map(|(j, l)| (j.to_string(), l.to_string())),
        );
    // Flags older CLIs (Debian's docker.io 20.10) do not have; the corpus test covers them
    // against the CLI 28's recorded bodies.
    let newer = cli_is_28();
    for (i, (record, line)) in cases.enumerate() {
        if !newer && line.contains("--use-api-socket") {
            println!("skipped with this CLI (not 28): {line}");
            continue;
        }
        let cli = format!("{tag}-{i}-cli");
        let ours = format!("{tag}-{i}-ours");
        cleanup.containers.push(cli.clone());
        cleanup.containers.push(ours.clone());

        let words = shell_words(&line);
        let mut args = vec!["create", "--name", cli.as_str()];
        args.extend(words.iter().map(String::as_str));
        if let Err(e) = docker(&args) {
            failures.push(format!("{line}\n  the CLI refused it: {e}"));
            continue;
        }
        if let Err(e) = create_ours(&record, &ours) {
            failures.push(format!("{line}\n  ours failed: {e}"));
            continue;
        }
        let (want, got) = (view(&inspect(&cli)), view(&inspect(&ours)));
        let keys: std::collections::BTreeSet<&String> = want.keys().chain(got.keys()).collect();
        for k in keys {
            let (w, g) = (want.get(k), got.get(k));
            if w != g {
                failures.push(format!(
                    "{line}\n  {k}: cli {} / ours {}",
                    w.map_or("absent".into(), Value::to_string),
                    g.map_or("absent".into(), Value::to_string)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Lines the CLI refuses before creating anything must fail to parse here too.
#[test]
fn refusals_match_the_docker_cli() {
    const BAD: &[&str] = &[
        "--restart always --rm ddp-test/busybox",
        "--restart sometimes ddp-test/busybox",
        "-p 80/icmp ddp-test/busybox",
        "-p 1-3:1-2 ddp-test/busybox",
        "--sysctl vm.swappiness=1 ddp-test/busybox",
        "--bogus ddp-test/busybox",
        "-z ddp-test/busybox",
        "-m 12q ddp-test/busybox",
        "--health-interval 10 ddp-test/busybox",
        "--no-healthcheck --health-cmd true ddp-test/busybox",
        "--ulimit as=1 ddp-test/busybox",
        "--network-alias x ddp-test/busybox",
        "ddp-test/Busybox",
        "--cpus 0.0000000001 ddp-test/busybox",
        "--log-driver none --log-opt a=b ddp-test/busybox",
        "--pid bogus ddp-test/busybox",
        "--add-host nocolon ddp-test/busybox",
        "--ip 1.2.3 ddp-test/busybox",
        "--env",
        "-e =x ddp-test/busybox",
        "--device /dev/null:rel ddp-test/busybox",
        "--security-opt bogus ddp-test/busybox",
        "--mount type=volume,dst=/x,bind-propagation=rslave ddp-test/busybox",
        "--mount src=v ddp-test/busybox",
        "--network mynet --network host ddp-test/busybox",
        "--privileged=maybe ddp-test/busybox",
        "--",
        "--link a:b:c ddp-test/busybox",
        "--gpus many ddp-test/busybox",
        "--gpus 1,1 ddp-test/busybox",
        "--blkio-weight-device sda:500 ddp-test/busybox",
        "--blkio-weight 0x10000 ddp-test/busybox",
        "--device-read-bps /dev/sda:-1 ddp-test/busybox",
        "--device-write-iops /dev/sda:1k ddp-test/busybox",
        "--cpu-count 2 ddp-test/busybox",
        "--io-maxiops 5 ddp-test/busybox",
    ];
    let tag = format!("ddp-spec-oracle-bad-{}", std::process::id());
    let mut cleanup = Cleanup {
        containers: Vec::new(),
        files: Vec::new(),
        shared: false,
    };
    let mut failures = Vec::new();
    for (i, line) in BAD.iter().enumerate() {
        let name = format!("{tag}-{i}");
        cleanup.containers.push(name.clone());
        let words = shell_words(line);
        let mut args = vec!["create", "--name", name.as_str()];
        args.extend(words.iter().map(String::as_str));
        if docker(&args).is_ok() {
            failures.push(format!("{line}: the CLI accepted it"));
        }
        if let Ok(spec) = parse(line, &SystemHost) {
            failures.push(format!("{line}: we accepted it as {}", spec.body));
        }
    }
    drop(cleanup);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The CLI 28.2 refuses `--mac-address` below API 1.44 (it wants it per network); the tool
/// also sends the container-wide field, which engines before 1.44 honour.
#[test]
fn mac_address_reaches_old_engines() {
    let name = format!("ddp-spec-oracle-mac-{}", std::process::id());
    let cleanup = Cleanup {
        containers: vec![name.clone()],
        files: Vec::new(),
        shared: false,
    };
    create_ours("--mac-address 02:42:ac:11:00:02 ddp-test/busybox", &name).unwrap();
    let c = inspect(&name);
    assert_eq!(c["Config"]["MacAddress"], "02:42:ac:11:00:02");
    drop(cleanup);
}

/// The words the record text splits into, through the library's own splitter: the CLI
/// must receive exactly the words our parser sees.
fn shell_words(line: &str) -> Vec<String> {
    // Everything after an image word is Cmd verbatim, so prefixing one yields the words.
    let spec = parse(&format!("ddp-test/busybox {line}"), &SystemHost).unwrap();
    spec.body["Cmd"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

// ------------------------------------------------------------------ the corpus

/// A fake engine on a unix socket that answers the docker CLI just enough for `docker run
/// -d` (ping, pull, create, start) and keeps every create request it receives.
mod fake_engine {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::sync::{Arc, Mutex};

    /// One `POST /containers/create`: its query string and its body.
    pub type Create = (String, String);

    pub struct FakeEngine {
        pub path: String,
        pub creates: Arc<Mutex<Vec<Create>>>,
    }

    impl Drop for FakeEngine {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// The API version the fake announces: the CLI 28.2's own, so it downgrades nothing.
    pub const API: &str = "1.50";

    pub fn start(path: &str) -> FakeEngine {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).unwrap();
        let creates = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&creates);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || {
                    let _ = serve(conn, &seen);
                });
            }
        });
        FakeEngine {
            path: path.to_string(),
            creates,
        }
    }

    fn serve(conn: UnixStream, creates: &Mutex<Vec<Create>>) -> std::io::Result<()> {
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
            let (mut length, mut chunked) = (0usize, false);
            loop {
                let mut h = String::new();
                reader.read_line(&mut h)?;
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                    chunked = true;
                }
            }
            let mut body = Vec::new();
            if chunked {
                loop {
                    let mut size = String::new();
                    reader.read_line(&mut size)?;
                    let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                    let mut chunk = vec![0; n + 2];
                    reader.read_exact(&mut chunk)?;
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
            } else {
                body.resize(length, 0);
                reader.read_exact(&mut body)?;
            }
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let bare = strip_version(path);
            let (status, reply) = match (method.as_str(), bare) {
                (_, "/_ping") => ("200 OK", "OK".to_string()),
                ("POST", "/containers/create") => {
                    creates
                        .lock()
                        .unwrap()
                        .push((query.to_string(), String::from_utf8_lossy(&body).into()));
                    (
                        "201 Created",
                        format!("{{\"Id\":\"{}\",\"Warnings\":[]}}", "c".repeat(64)),
                    )
                }
                ("POST", p) if p.ends_with("/start") => ("204 No Content", String::new()),
                ("POST", "/images/create") => ("200 OK", "{\"status\":\"pulled\"}\n".into()),
                _ => (
                    "404 Not Found",
                    format!("{{\"message\":\"the fake engine has no {method} {bare}\"}}"),
                ),
            };
            // A reply to HEAD has no body, whatever its length says.
            let sent = if method == "HEAD" { "" } else { reply.as_str() };
            write!(
                conn,
                "HTTP/1.1 {status}\r\nApi-Version: {API}\r\nOstype: linux\r\nDocker-Experimental: false\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{sent}",
                reply.len()
            )?;
            conn.flush()?;
        }
    }

    /// `/v1.50/containers/create` → `/containers/create`.
    fn strip_version(path: &str) -> &str {
        match path.strip_prefix("/v") {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
                rest.find('/').map_or(path, |i| &rest[i..])
            }
            _ => path,
        }
    }
}

/// The docker CLI 28's view of each corpus line, recorded: its create body in the
/// comparable form of [`normal`] (with `?platform`), or its refusal. The fixture's outcomes
/// are the CLI 28's (CLI 20.10, Debian's docker.io, knows fewer flags and builds older
/// bodies), so with another CLI the comparison runs against this record; with the CLI 28
/// it runs live and the record must agree (`DDP_UPDATE_CLI_SNAPSHOT=1` rewrites it).
const CLI_SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/run-lines.cli28.json"
);

/// Whether the docker CLI here is the 28 the fixtures were made with ("Docker version
/// 28.2.2, build e6534b4"; asking needs no engine).
fn cli_is_28() -> bool {
    let out = docker(&["--version"]).unwrap_or_default();
    out.split_whitespace()
        .nth(2)
        .is_some_and(|v| v.starts_with("28."))
}

/// The directory the tests (and the CLI they run) work in, as JSON spells it inside a string.
fn cwd() -> String {
    let dir = std::env::current_dir().unwrap().display().to_string();
    let quoted = serde_json::to_string(&dir).unwrap();
    quoted.trim_matches('"').to_string()
}

/// What the CLI made of a line: its normalised create body, or why it refused.
type CliView = Result<BTreeMap<String, Value>, String>;

/// Where the CLI's views come from in this run.
struct Oracle {
    /// The CLI on this machine is 28: ask it, and check the record against it.
    live: bool,
    recorded: BTreeMap<String, Value>,
    seen: std::sync::Mutex<BTreeMap<String, Value>>,
}

impl Oracle {
    fn new() -> Oracle {
        let out = docker(&["--version"]).unwrap_or_default();
        let live = cli_is_28();
        let recorded = std::fs::read_to_string(CLI_SNAPSHOT)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        if !live {
            println!(
                "docker CLI {out:?} is not 28: comparing against the CLI 28's bodies recorded in {CLI_SNAPSHOT}"
            );
        }
        Oracle {
            live,
            recorded,
            seen: Default::default(),
        }
    }

    /// The CLI's view of `line`, live or as recorded.
    fn view(
        &self,
        engine: &fake_engine::FakeEngine,
        config_dir: &str,
        line: &str,
        words: &[String],
    ) -> CliView {
        let as_json = |v: &CliView| match v {
            Ok(body) => serde_json::json!({ "body": body }),
            Err(why) => serde_json::json!({ "refused": why }),
        };
        if !self.live {
            return match self.recorded.get(line) {
                Some(Value::Object(o)) if o.contains_key("body") => {
                    let body = o["body"].to_string().replace("{cwd}", &cwd());
                    serde_json::from_str(&body).map_err(|e| e.to_string())
                }
                Some(Value::Object(o)) => Err(o
                    .get("refused")
                    .and_then(Value::as_str)
                    .unwrap_or("refused")
                    .to_string()),
                _ => panic!("{line}: not in {CLI_SNAPSHOT}; record it with the docker CLI 28"),
            };
        }
        let view = cli_create(engine, config_dir, words).map(|(query, body)| {
            let mut want = normal(&body, &engine.path);
            let platform = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("platform="))
                .map(|p| p.replace("%2F", "/"));
            if let Some(p) = platform {
                want.insert("?platform".into(), Value::from(p));
            }
            want
        });
        // A relative bind source is resolved against the directory the CLI runs in, which is
        // the checkout's: recorded as `{cwd}`, so the record holds in any clone.
        let recorded = serde_json::to_string(&as_json(&view))
            .unwrap()
            .replace(&cwd(), "{cwd}");
        self.seen
            .lock()
            .unwrap()
            .insert(line.to_string(), serde_json::from_str(&recorded).unwrap());
        view
    }

    /// With the CLI 28: the record must hold what it said for every line it was asked
    /// (refusals by kind only: their wording is the CLI's), or be rewritten on request.
    fn check_record(&self) {
        if !self.live {
            return;
        }
        let seen = self.seen.lock().unwrap().clone();
        if std::env::var_os("DDP_UPDATE_CLI_SNAPSHOT").is_some() {
            // Both corpus tests may write at once: merge into what is there now.
            static WRITE: std::sync::Mutex<()> = std::sync::Mutex::new(());
            let _one = WRITE.lock().unwrap();
            let mut all: BTreeMap<String, Value> = std::fs::read_to_string(CLI_SNAPSHOT)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            all.extend(seen);
            let text = serde_json::to_string_pretty(&all).unwrap();
            std::fs::write(CLI_SNAPSHOT, text + "\n").unwrap();
            return;
        }
        let kind = |v: &Value| v.get("body").cloned().unwrap_or(Value::Null);
        let stale: Vec<&String> = seen
            .iter()
            .filter(|(line, v)| self.recorded.get(*line).map(kind) != Some(kind(v)))
            .map(|(line, _)| line)
            .collect();
        assert!(
            stale.is_empty(),
            "{} line(s) differ from {CLI_SNAPSHOT} (rerun with DDP_UPDATE_CLI_SNAPSHOT=1 to record the CLI 28's view), e.g. {:?}",
            stale.len(),
            stale.first()
        );
    }
}

/// How a corpus line fared.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Both built the same create body (after [`normal`]).
    Same,
    /// Both refused the line.
    BothRefuse,
    /// Ours refused a line the CLI sent (reason).
    OursRefuses(String),
    /// The CLI refused a line ours accepts (reason).
    CliRefuses(String),
    /// Both built a body; these fields differ.
    Differs(Vec<String>),
}

/// The comparable form of a create body: zero values dropped (the CLI sends every field of
/// its structs, the tool only what is set; the engine treats both alike), the owner label
/// removed, order-free lists sorted, and the engine's own defaults spelt out by the CLI
/// (`RestartPolicy` `no`, `MemorySwappiness` -1, `ConsoleSize` 0×0) dropped.
fn normal(body: &Value, fake_socket: &str) -> BTreeMap<String, Value> {
    fn prune(v: &mut Value) -> bool {
        match v {
            Value::Null => true,
            Value::Bool(b) => !*b,
            Value::Number(n) => n.as_f64() == Some(0.0),
            Value::String(s) => s.is_empty(),
            Value::Array(a) => {
                for x in a.iter_mut() {
                    prune(x);
                }
                a.is_empty()
            }
            Value::Object(o) => {
                o.retain(|_, x| !prune(x));
                o.is_empty()
            }
        }
    }
    let mut out = BTreeMap::new();
    let mut body = body.clone();
    prune(&mut body);
    if let Value::Object(map) = body {
        for (k, v) in map {
            match (k.as_str(), v) {
                ("HostConfig", Value::Object(hc)) => {
                    for (hk, hv) in hc {
                        out.insert(format!("HostConfig.{hk}"), hv);
                    }
                }
                (_, v) => {
                    out.insert(k, v);
                }
            }
        }
    }
    if let Some(Value::Object(labels)) = out.get_mut("Labels") {
        labels.remove(OWNER_LABEL);
        if labels.is_empty() {
            out.remove("Labels");
        }
    }
    // The tool also sends the container-wide MAC for engines before API 1.44; the CLI at
    // 1.50 sends only the endpoint's, which is compared.
    out.remove("MacAddress");
    if out.get("HostConfig.MemorySwappiness") == Some(&Value::from(-1)) {
        out.remove("HostConfig.MemorySwappiness");
    }
    if out.get("HostConfig.RestartPolicy") == Some(&serde_json::json!({"Name": "no"})) {
        out.remove("HostConfig.RestartPolicy");
    }
    // The engine stores an omitted network mode as "default".
    if out.get("HostConfig.NetworkMode") == Some(&Value::from("default")) {
        out.remove("HostConfig.NetworkMode");
    }
    if out.get("HostConfig.ConsoleSize") == Some(&serde_json::json!([0, 0])) {
        out.remove("HostConfig.ConsoleSize");
    }
    // --use-api-socket binds the socket the CLI talks to: here the fake's.
    if let Some(Value::Array(mounts)) = out.get_mut("HostConfig.Mounts") {
        for m in mounts {
            if m["Source"] == fake_socket {
                m["Source"] = Value::from("/var/run/docker.sock");
            }
        }
    }
    if let Some(Value::Array(env)) = out.get_mut("Env") {
        let name = |v: &Value| {
            let s = v.as_str().unwrap_or_default();
            s.split_once('=').map_or(s, |(k, _)| k).to_string()
        };
        let all = env.clone();
        env.retain(|v| all.iter().rev().find(|w| name(w) == name(v)) == Some(v));
        env.dedup();
        env.sort_by_key(|v| v.to_string());
    }
    if let Some(Value::Array(b)) = out.get_mut("HostConfig.Binds") {
        b.sort_by_key(|v| v.to_string());
    }
    out
}

/// The record text of a corpus line: what follows `docker run`, without `--name` (the
/// container's name comes from DNS). Returns the text and its words.
fn record_of(line: &str) -> Result<String, String> {
    let text = ["docker container run ", "docker run "]
        .iter()
        .find_map(|p| line.strip_prefix(p))
        .ok_or_else(|| format!("not a docker run line: {line}"))?
        .trim()
        .to_string();
    let mut words = shell_words(&text);
    // Drop `--name X` / `--name=X` while the parser says it is an option.
    loop {
        let joined = quote_words(&words);
        match parse(&joined, &SystemHost) {
            Err(e) if e.0.contains("--name is not allowed") => {
                let i = words
                    .iter()
                    .position(|w| w == "--name" || w.starts_with("--name="))
                    .ok_or("no --name word")?;
                let n = if words[i] == "--name" { 2 } else { 1 };
                words.drain(i..(i + n).min(words.len()));
            }
            _ => return Ok(joined),
        }
    }
}

/// Words back into a record text that splits into exactly them.
fn quote_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The CLI's outcome: its create body and query, or why it refused.
fn cli_create(
    engine: &fake_engine::FakeEngine,
    config_dir: &str,
    words: &[String],
) -> Result<(String, Value), String> {
    engine.creates.lock().unwrap().clear();
    let mut child = Command::new("docker")
        .args(["run", "-d"])
        .args(words)
        .env("DOCKER_HOST", format!("unix://{}", engine.path))
        .env("DOCKER_CONFIG", config_dir)
        .env_remove("DOCKER_CONTENT_TRUST")
        .env_remove("DOCKER_API_VERSION")
        .env_remove("DOCKER_CONTEXT")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("docker: {e}"))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            return Err("the CLI did not finish in 30 s".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let creates = engine.creates.lock().unwrap().clone();
    match creates.last() {
        Some((query, body)) if out.status.success() => {
            let body = serde_json::from_str(body).map_err(|e| format!("CLI body: {e}"))?;
            Ok((query.clone(), body))
        }
        _ => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
    }
}

fn compare(
    oracle: &Oracle,
    engine: &fake_engine::FakeEngine,
    config_dir: &str,
    line: &str,
) -> Result<Outcome, String> {
    let record = record_of(line)?;
    let words = shell_words(&record);
    let ours = parse(&record, &SystemHost);
    // The CLI would write the container's ID to that file on this host.
    let cidfile = words.iter().any(|w| w.starts_with("--cidfile"));
    if let (Err(e), true) = (&ours, cidfile) {
        return Ok(Outcome::OursRefuses(e.0.clone()));
    }
    let cli = oracle.view(engine, config_dir, line, &words);
    Ok(match (ours, cli) {
        (Err(_), Err(_)) => Outcome::BothRefuse,
        (Err(e), Ok(_)) => Outcome::OursRefuses(e.0),
        (Ok(_), Err(e)) => Outcome::CliRefuses(e),
        (Ok(spec), Ok(want)) => {
            let mut got = normal(&spec.body, &engine.path);
            if let Some(p) = &spec.platform {
                got.insert("?platform".into(), Value::from(p.as_str()));
            }
            let keys: std::collections::BTreeSet<&String> = want.keys().chain(got.keys()).collect();
            let differ: Vec<String> = keys
                .into_iter()
                .filter(|k| want.get(*k) != got.get(*k))
                .map(|k| {
                    format!(
                        "{k}: cli {} / ours {}",
                        want.get(k).map_or("absent".into(), Value::to_string),
                        got.get(k).map_or("absent".into(), Value::to_string)
                    )
                })
                .collect();
            if differ.is_empty() {
                Outcome::Same
            } else {
                Outcome::Differs(differ)
            }
        }
    })
}

/// Every line of tests/fixtures/run-lines.txt, compared with the create body the docker
/// CLI sends to a fake engine. A line must fare as its fixture entry says: the same body,
/// unless the entry names the expected difference (`! refused: …`, `! cli-refuses: …`,
/// `! differs: …`, `! both-refuse: …`). Prints the match rate docker-dns-provision(5) reports.
#[test]
fn corpus_matches_the_docker_cli() {
    let oracle = Oracle::new();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/run-lines.txt");
    let text = std::fs::read_to_string(fixture).unwrap();
    let dir = std::env::temp_dir().join(format!("ddp-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_dir = dir.join("docker-config").display().to_string();
    std::fs::create_dir_all(&config_dir).unwrap();
    let engine = fake_engine::start(&dir.join("engine.sock").display().to_string());

    let (mut total, mut same, mut failures) = (0, 0, Vec::new());
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut cols = entry.split('\t');
        let (Some(source), Some(line)) = (cols.next(), cols.next()) else {
            failures.push(format!("malformed fixture entry: {entry}"));
            continue;
        };
        assert!(source.starts_with("https://"), "{entry}");
        let expected = cols.next().map(str::trim).unwrap_or_default();
        total += 1;
        let outcome = match compare(&oracle, &engine, &config_dir, line) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{line}\n  {e}"));
                continue;
            }
        };
        let kind = match &outcome {
            Outcome::Same => "same",
            Outcome::BothRefuse => "both-refuse",
            Outcome::OursRefuses(_) => "refused",
            Outcome::CliRefuses(_) => "cli-refuses",
            Outcome::Differs(_) => "differs",
        };
        *tally.entry(kind).or_default() += 1;
        if kind == "same" {
            same += 1;
        }
        let want_kind = expected
            .strip_prefix("! ")
            .and_then(|e| e.split(':').next())
            .unwrap_or("same");
        if want_kind != kind {
            failures.push(format!(
                "{line}\n  expected {want_kind}, got {outcome:?}\n  ({source})"
            ));
        }
    }
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "corpus: {same} of {total} lines build the CLI's create body exactly ({:.1} %); {tally:?}",
        100.0 * f64::from(same) / f64::from(total.max(1))
    );
    assert!(total >= 150, "the corpus has only {total} lines");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    oracle.check_record();
}

/// Flags the engine in the test suite (API 1.41) is too old for, which the CLI refuses
/// against it: checked against the body the CLI sends to a fake engine at API 1.50.
#[test]
fn newer_api_flags_match_the_cli_body() {
    let oracle = Oracle::new();
    const LINES: &[&str] = &[
        "docker run --annotation a=b --annotation c --annotation d=e=f ddp-test/busybox",
        "docker run --health-cmd true --health-start-interval 2s --health-start-period 1m ddp-test/busybox",
        "docker run --mac-address 02:42:ac:11:00:02 --network ddp-net ddp-test/busybox",
        "docker run --network name=ddp-net,mac-address=02:42:ac:11:00:03 ddp-test/busybox",
        "docker run --use-api-socket -e DOCKER_CONFIG=/x ddp-test/busybox",
    ];
    let dir = std::env::temp_dir().join(format!("ddp-newapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_dir = dir.join("docker-config").display().to_string();
    std::fs::create_dir_all(&config_dir).unwrap();
    let engine = fake_engine::start(&dir.join("engine.sock").display().to_string());
    let outcomes: Vec<(&str, Result<Outcome, String>)> = LINES
        .iter()
        .map(|l| (*l, compare(&oracle, &engine, &config_dir, l)))
        .collect();
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    for (line, outcome) in outcomes {
        assert_eq!(outcome, Ok(Outcome::Same), "{line}");
    }
    oracle.check_record();
}

/// Issue 25 §6: config.json's `proxies` reach the create body as the CLI puts them there:
/// the entry keyed by the engine host wins over `default`, each variable upper- and
/// lower-case, never over a name the line sets. Compared with the CLI 28 against the fake
/// engine, as the corpus is.
#[test]
fn config_proxies_match_the_cli_body() {
    use docker_dns_provision::container::proxy_env;
    use docker_dns_provision::docker::context::Lookup;
    use docker_dns_provision::docker::proxies;

    let oracle = Oracle::new();
    let dir = std::env::temp_dir().join(format!("ddp-proxies-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_dir = dir.join("docker-config").display().to_string();
    std::fs::create_dir_all(&config_dir).unwrap();
    let engine = fake_engine::start(&dir.join("engine.sock").display().to_string());
    let host = format!("unix://{}", engine.path);
    let config = serde_json::json!({"proxies": {
        "default": {"httpProxy": "http://default-proxy:3128"},
        host.clone(): {
            "httpProxy": "http://proxy.example:3128",
            "httpsProxy": "http://proxy.example:3129",
            "noProxy": "localhost,127.0.0.1,.internal",
            "ftpProxy": "",
            "allProxy": "socks5://proxy.example:1080"
        }
    }});
    std::fs::write(format!("{config_dir}/config.json"), config.to_string()).unwrap();
    let env = |k: &str| (k == "DOCKER_CONFIG").then(|| config_dir.clone());
    let read = |p: &std::path::Path| Ok(std::fs::read(p).ok());
    let lookup = Lookup {
        flag: None,
        config_dir: None,
        env: &env,
        root: true,
        read: &read,
        exists: &|p: &std::path::Path| p.exists(),
    };
    let vars = proxies::for_engine(&lookup, &host).unwrap();
    assert_eq!(vars.len(), 4, "{vars:?}");
    const LINES: &[&str] = &[
        "docker run --label ddp-proxies=plain ddp-test/busybox",
        "docker run --label ddp-proxies=own -e http_proxy=http://mine:1 -e NO_PROXY ddp-test/busybox",
        "docker run --label ddp-proxies=empty -e HTTPS_PROXY= -e A=b ddp-test/busybox",
    ];
    let mut failures = Vec::new();
    for line in LINES {
        let record = record_of(line).unwrap();
        let words = shell_words(&record);
        let mut spec = parse(&record, &SystemHost).unwrap();
        proxy_env::add(&mut spec.body, &vars);
        let got = normal(&spec.body, &engine.path);
        match oracle.view(&engine, &config_dir, line, &words) {
            Ok(want) if want == got => {}
            other => failures.push(format!("{line}\n  cli {other:?}\n  ours {got:?}")),
        }
    }
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    oracle.check_record();
}
