//! A real unbound on a free loopback port: a recursive, validating resolver in front of the
//! servers a test names (stub zones), stopped on drop. Like a host's local resolver: RA=1,
//! CNAME chains chased, AD=1 for data it validated under the trust anchors it is given.

use super::bind::{ensure_installed, wait_until_answering};
use super::ports::{free_port, scratch_dir};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running unbound.
pub struct Unbound {
    /// Where it answers.
    pub addr: SocketAddr,
    dir: PathBuf,
    child: Child,
}

/// How unbound treats a zone it stubs to.
pub enum Trust {
    /// No DNSSEC: answers are insecure (no AD).
    Insecure,
    /// Validate with this trust anchor (DS or DNSKEY lines, zone-file syntax).
    Anchor(String),
}

impl Unbound {
    /// Start unbound resolving each `(zone, server, trust)` from that server.
    pub fn start(stubs: &[(&str, SocketAddr, Trust)]) -> Unbound {
        let unbound = ensure_installed("/usr/sbin/unbound");
        let dir = scratch_dir("unbound");
        let mut zones = String::new();
        let mut server_lines = String::new();
        for (zone, addr, trust) in stubs {
            match trust {
                Trust::Insecure => server_lines += &format!("  domain-insecure: \"{zone}\"\n"),
                Trust::Anchor(anchor) => {
                    for line in anchor.lines().filter(|l| !l.trim().is_empty()) {
                        server_lines += &format!("  trust-anchor: \"{}\"\n", line.trim());
                    }
                }
            }
            zones += &format!(
                "stub-zone:\n  name: \"{zone}\"\n  stub-addr: {}@{}\n",
                addr.ip(),
                addr.port()
            );
        }
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let conf = dir.join("unbound.conf");
            let log = dir.join("unbound.log");
            std::fs::write(
                &conf,
                format!(
                    "server:\n  interface: 127.0.0.1@{port}\n  port: {port}\n  do-ip6: no\n\
                     \x20 access-control: 127.0.0.0/8 allow\n  do-not-query-localhost: no\n\
                     \x20 username: \"\"\n  chroot: \"\"\n  directory: \"{d}\"\n\
                     \x20 pidfile: \"{d}/unbound.pid\"\n  use-syslog: no\n  logfile: \"{log}\"\n\
                     \x20 num-threads: 1\n  verbosity: 1\n  val-log-level: 2\n\
                     \x20 module-config: \"validator iterator\"\n  qname-minimisation: no\n\
                     \x20 local-zone: \"test.\" nodefault\n  local-zone: \"invalid.\" nodefault\n\
                     {server_lines}{zones}remote-control:\n  control-enable: no\n",
                    d = dir.display(),
                    log = log.display()
                ),
            )
            .expect("write unbound.conf");
            let child = Command::new(unbound)
                .args(["-d", "-c"])
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn unbound");
            let mut u = Unbound {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                dir: dir.clone(),
                child,
            };
            if wait_until_answering(&mut u.child, u.addr) {
                return u;
            }
            last = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("unbound did not start; its log:\n{last}");
    }
}

impl Drop for Unbound {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
