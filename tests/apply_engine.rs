//! `apply::execute` against the real engine: engine behaviour itself (a `--rm` container vanishes
//! when stopped) and a natural failure combined with an injected one, which the binary-level
//! e2e tests cannot stage. The containers carry no ownership label, so runs of the tool in
//! other worktrees never sweep them; guards remove them.

mod common;

use common::engine_proxy::{EngineProxy, Fault};
use common::images::ensure_busybox;
use docker_dns_provision::apply::{self, StepResult};
use docker_dns_provision::container::{ContainerSpec, ImageRef, PullPolicy};
use docker_dns_provision::docker::{Endpoint, Engine};
use docker_dns_provision::exit::Code;
use docker_dns_provision::plan::{Action, Existing, Plan, Step};
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

/// Force-removes the container (and any temporaries of its name) when dropped.
struct Name(String);

impl Drop for Name {
    fn drop(&mut self) {
        for n in [
            self.0.clone(),
            format!("{}.ddp-new", self.0),
            format!("{}.ddp-old", self.0),
            format!("{}.ddp-failed", self.0),
        ] {
            let _ = Command::new("docker").args(["rm", "-f", "-v", &n]).output();
        }
    }
}

fn spec(auto_remove: bool, marker: &str) -> ContainerSpec {
    let image = ensure_busybox();
    let (path, tag) = image.split_once(':').expect("name:tag");
    ContainerSpec {
        text: marker.into(),
        image: ImageRef {
            domain: "docker.io".into(),
            path: path.into(),
            tag: Some(tag.into()),
            digest: None,
        },
        body: json!({
            "Image": image,
            "Cmd": ["sleep", "3600"],
            "Labels": {"ddp-test": marker},
            "StopTimeout": 1,
            "HostConfig": {"NetworkMode": "none", "AutoRemove": auto_remove},
        }),
        platform: None,
        pull: Some(PullPolicy::Never),
    }
}

fn inspect(name: &str) -> Option<(String, bool, String)> {
    let out = Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{.Id}} {{.State.Running}} {{index .Config.Labels \"ddp-test\"}}",
            name,
        ])
        .output()
        .expect("docker inspect");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut f = text.split_whitespace();
    Some((
        f.next()?.to_string(),
        f.next()? == "true",
        f.next()?.to_string(),
    ))
}

fn connect(endpoint: &Endpoint) -> Engine {
    Engine::connect(endpoint, Instant::now() + Duration::from_secs(30)).expect("connect")
}

/// Apply a plan one container at a time, verifying nothing.
fn unverified(plan: &Plan, engine: &Engine) -> Vec<apply::Outcome> {
    let settings = apply::Settings {
        jobs: 1,
        settle: std::time::Duration::ZERO,
        deadline: std::time::Instant::now(),
    };
    apply::execute(plan, engine, &settings, &[])
}

fn replace_plan(name: &str, old_id: &str, spec: ContainerSpec) -> Plan {
    Plan {
        steps: vec![Step {
            name: name.into(),
            action: Action::Replace {
                existing: Existing {
                    id: old_id.into(),
                    name: name.into(),
                    running: true,
                    ..Existing::default()
                },
                spec: std::sync::Arc::new(spec),
            },
            reason: "record changed".into(),
        }],
        code: Code::Ok,
        after: Default::default(),
    }
}

/// The replacement took the name and the engine refuses to start it, and then keeping it
/// aside as `.ddp-failed` fails too: the old container must still get its name back and
/// run, and the replacement is removed instead.
#[test]
fn a_rollback_that_cannot_keep_the_replacement_aside_still_restores_the_old_one() {
    let name = Name(format!("ddp-test-apply-rollback-{}", std::process::id()));
    let n = name.0.as_str();
    let old_id = {
        let engine = connect(&Endpoint::Unix("/var/run/docker.sock".into()));
        let id = engine.create(n, &spec(false, "v1")).expect("create v1");
        engine.start(&id).expect("start v1");
        id
    };
    let mut broken = spec(false, "v2");
    broken.body["Entrypoint"] = json!(["/no/such/binary"]);

    // 1 ping, 2 image present, 3 create, 4 stop old, 5 rename old aside, 6 rename new in,
    // 7 start new (fails by itself), 8 stop new, 9 rename it to .ddp-failed: injected failure.
    let proxy = EngineProxy::start(Fault::Status500At(9));
    let engine = connect(&Endpoint::Unix(proxy.socket.clone()));
    let outcomes = unverified(&replace_plan(n, &old_id, broken), &engine);
    let requests = proxy.requests();
    assert!(
        requests
            .get(8)
            .is_some_and(|r| r.starts_with("POST /") && r.ends_with(".ddp-failed")),
        "{requests:#?}"
    );
    assert!(
        matches!(&outcomes[0].result, StepResult::Failed(_)),
        "{outcomes:?}"
    );
    let (id, running, marker) = inspect(n).expect("a container under the name");
    assert_eq!(
        (id.as_str(), running, marker.as_str()),
        (old_id.as_str(), true, "v1"),
        "{outcomes:?}"
    );
    for t in [".ddp-new", ".ddp-failed"] {
        assert!(inspect(&format!("{n}{t}")).is_none(), "{t}: {outcomes:?}");
    }
}

#[test]
fn replacing_a_self_removing_container_puts_the_new_one_in_place() {
    let name = Name(format!("ddp-test-apply-rm-{}", std::process::id()));
    let n = name.0.as_str();
    let engine = connect(&Endpoint::Unix("/var/run/docker.sock".into()));
    let old_id = engine.create(n, &spec(true, "v1")).expect("create v1");
    engine.start(&old_id).expect("start v1");
    let plan = replace_plan(n, &old_id, spec(true, "v2"));
    let outcomes = unverified(&plan, &engine);
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].result, StepResult::Done, "{outcomes:?}");
    let (id, running, marker) = inspect(n).expect("the service exists under its name");
    assert_ne!(id, old_id);
    assert!(running);
    assert_eq!(marker, "v2");
    assert!(
        inspect(&format!("{n}.ddp-new")).is_none(),
        "no temporary left"
    );
}
