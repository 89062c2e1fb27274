//! `apply::run` against the real engine, for what the proxy cannot stage: engine behaviour
//! itself (a `--rm` container vanishes when stopped). The containers carry no ownership
//! label, so runs of the tool in other worktrees never sweep them; guards remove them.

mod common;

use common::images::ensure_busybox;
use docker_dns_provision::apply::{self, Result as StepResult};
use docker_dns_provision::docker::{Endpoint, Engine};
use docker_dns_provision::exit::Code;
use docker_dns_provision::plan::{Action, Existing, Plan, Step};
use docker_dns_provision::spec::{ContainerSpec, ImageRef, PullPolicy};
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
        pull: PullPolicy::Never,
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

#[test]
fn replacing_a_self_removing_container_puts_the_new_one_in_place() {
    let name = Name(format!("ddp-test-apply-rm-{}", std::process::id()));
    let n = name.0.as_str();
    let engine = Engine::connect(
        &Endpoint::Unix("/var/run/docker.sock".into()),
        Instant::now() + Duration::from_secs(30),
    )
    .expect("connect");
    let old_id = engine.create(n, &spec(true, "v1")).expect("create v1");
    engine.start(&old_id).expect("start v1");

    let plan = Plan {
        steps: vec![Step {
            name: n.into(),
            action: Action::Replace {
                existing: Existing {
                    id: old_id.clone(),
                    name: n.into(),
                    running: true,
                },
                spec: Box::new(spec(true, "v2")),
            },
            reason: "record changed".into(),
        }],
        code: Code::Ok,
    };
    let outcomes = apply::run(&plan, &engine, 1);
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].result, StepResult::Done, "{outcomes:?}");
    let (id, running, marker) = inspect(n).expect("the service exists under its name");
    assert_ne!(id, old_id);
    assert!(running);
    assert_eq!(marker, "v2");
    assert!(inspect(&format!("{n}.ddp-new")).is_none(), "no temporary left");
}
