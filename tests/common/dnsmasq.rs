//! A real dnsmasq on a free loopback port, configured by the test and killed on drop.
//! Installs dnsmasq-base through apt when the binary is missing (CI runs as root).

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::ports::{free_port, scratch_dir};

/// A running dnsmasq.
pub struct Dnsmasq {
    /// Where it answers, UDP and TCP.
    pub addr: SocketAddr,
    child: Child,
    dir: PathBuf,
}

impl Dnsmasq {
    /// Start dnsmasq with these extra configuration-file lines (e.g. `txt-record=...`,
    /// `local=/test/`). Panics with dnsmasq's own output when it does not come up.
    pub fn start(config_lines: &str) -> Dnsmasq {
        Dnsmasq::start_with(config_lines, free_port)
    }

    /// Like [`Dnsmasq::start`] on this port (a server that appears where a client was
    /// already told to ask); panics when the port cannot be had.
    pub fn start_at(port: u16, config_lines: &str) -> Dnsmasq {
        Dnsmasq::start_with(config_lines, || port)
    }

    fn start_with(config_lines: &str, mut pick_port: impl FnMut() -> u16) -> Dnsmasq {
        let binary = binary();
        let dir = scratch_dir("dnsmasq");
        let conf = dir.join("dnsmasq.conf");
        std::fs::write(&conf, config_lines).expect("write dnsmasq.conf");
        let mut last_log = String::new();
        // The port is free when picked but another process may take it before dnsmasq
        // binds it; try a few.
        for _ in 0..5 {
            let port = pick_port();
            let log = dir.join("dnsmasq.log");
            let child = Command::new(binary)
                .arg("--keep-in-foreground")
                .arg("--no-daemon")
                .arg(format!("--conf-file={}", conf.display()))
                .args(["--no-resolv", "--no-hosts", "--bind-interfaces"])
                .args(["--listen-address=127.0.0.1", "--pid-file"])
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("dnsmasq log file"))
                .spawn()
                .expect("spawn dnsmasq");
            let mut server = Dnsmasq {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                child,
                dir: dir.clone(),
            };
            if server.wait_until_answering() {
                return server;
            }
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("dnsmasq did not start; its output:\n{last_log}");
    }

    fn wait_until_answering(&mut self) -> bool {
        let probe = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind probe");
        probe.connect(self.addr).expect("connect probe");
        probe
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("probe timeout");
        let mut query = Message::query();
        query.add_query(Query::query(
            Name::from_ascii("probe.").expect("name"),
            RecordType::TXT,
        ));
        let bytes = query.to_vec().expect("encode probe");
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            let _ = probe.send(&bytes);
            let mut buf = [0u8; 512];
            if probe.recv(&mut buf).is_ok() {
                return true;
            }
        }
        false
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The dnsmasq binary, installed on first use when missing.
fn binary() -> &'static Path {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BINARY.get_or_init(find_or_install) {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    }
}

fn find_or_install() -> Result<PathBuf, String> {
    let find = || {
        [
            "/usr/sbin/dnsmasq",
            "/usr/bin/dnsmasq",
            "/sbin/dnsmasq",
            "/usr/local/sbin/dnsmasq",
        ]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
    };
    if let Some(path) = find() {
        return Ok(path);
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let installed = apt(&["install", "-y", "dnsmasq-base"])
        || (apt(&["update"]) && apt(&["install", "-y", "dnsmasq-base"]));
    if !installed {
        return Err("dnsmasq is missing and `apt-get install -y dnsmasq-base` failed".into());
    }
    find().ok_or_else(|| "dnsmasq-base installed but no dnsmasq binary found".into())
}
