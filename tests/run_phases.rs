//! A run's phases as the engine and a name server see them: the engine is read while DNS is
//! asked. A fake server that answers only once the engine's list has been asked for makes
//! the order visible without a clock; the engine is the real one behind a recording proxy.

mod common;

use common::binary::explain;
use common::engine_proxy::{EngineProxy, Fault};
use common::fake_dns::{FakeDns, Reply, query_name, txt_reply};
use common::images::ensure_busybox;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[test]
fn the_engine_is_read_while_dns_is_asked() {
    let image = ensure_busybox();
    let proxy = Arc::new(EngineProxy::start(Fault::None));
    let listed_before_answer = Arc::new(AtomicBool::new(false));
    let dns = {
        let (proxy, seen) = (proxy.clone(), listed_before_answer.clone());
        FakeDns::start(move |q, _| {
            // Hold the first answer until the list is asked for, or give up: a run that
            // reads the engine only after DNS would wait here in vain.
            let give_up = Instant::now() + Duration::from_secs(10);
            while Instant::now() < give_up && !seen.load(Ordering::SeqCst) {
                if proxy
                    .requests()
                    .iter()
                    .any(|r| r.contains("/containers/json"))
                {
                    seen.store(true, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let name = query_name(q).to_ascii();
            // The host declares no network: its network list is absent (no data).
            if name.starts_with("networks.docker.") {
                return vec![Reply::Message(txt_reply(q, &[]))];
            }
            let text = if name.starts_with("containers.docker.") {
                "ddp-phases-x".to_string()
            } else {
                format!("--network none {image} sleep 1")
            };
            vec![Reply::Message(txt_reply(q, &[&[text.as_str()]]))]
        })
    };
    let out = Command::new(env!("CARGO_BIN_EXE_docker-dns-provision"))
        .args(["plan", "--hostname", "h.test", "--timeout", "30s"])
        .arg("--nameserver")
        .arg(dns.addr.to_string())
        .arg("--docker-host")
        .arg(format!("unix://{}", proxy.socket.display()))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("run the binary");
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        listed_before_answer.load(Ordering::SeqCst),
        "the list was not asked for before DNS answered: {}",
        explain(&out)
    );
    // Read once, planned from: a ping and the list, nothing more.
    let requests = proxy.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ddp-phases-x"),
        "{}",
        explain(&out)
    );
}
