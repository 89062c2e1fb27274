//! A real BIND (`named`) on a free loopback port, authoritative-only (`recursion no`), serving
//! the zones a test writes, and stopped on drop. It answers the way authoritative servers do:
//! referrals below a zone cut, a CNAME into another zone alone, AA=1 and RA=0.

use super::ports::{free_port, scratch_dir};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running named.
pub struct Bind {
    /// Where it answers, UDP and TCP.
    pub addr: SocketAddr,
    /// Its scratch directory (zone files, keys, log).
    pub dir: PathBuf,
    child: Child,
}

impl Bind {
    /// Start named serving `zones`: `(origin, zone file text)`; a file text may also be a
    /// path to an existing zone file (a signed one), written as `@file:PATH`.
    pub fn start(zones: &[(&str, String)]) -> Bind {
        let named = ensure_installed("/usr/sbin/named");
        let dir = scratch_dir("bind");
        let mut conf_zones = String::new();
        for (origin, text) in zones {
            let file = match text.strip_prefix("@file:") {
                Some(path) => PathBuf::from(path),
                None => {
                    let f = dir.join(format!("{origin}.zone"));
                    std::fs::write(&f, text).expect("write zone");
                    f
                }
            };
            conf_zones += &format!(
                "zone \"{origin}\" {{ type primary; file \"{}\"; }};\n",
                file.display()
            );
        }
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let conf = dir.join("named.conf");
            std::fs::write(
                &conf,
                format!(
                    "options {{\n\
                       directory \"{d}\";\n\
                       pid-file \"{d}/named.pid\";\n\
                       listen-on port {port} {{ 127.0.0.1; }};\n\
                       listen-on-v6 {{ none; }};\n\
                       recursion no;\n\
                       dnssec-validation no;\n\
                       notify no;\n\
                       allow-query {{ any; }};\n\
                     }};\n\
                     controls {{ }};\n\
                     {conf_zones}",
                    d = dir.display()
                ),
            )
            .expect("write named.conf");
            let log = dir.join("named.log");
            let child = Command::new(named)
                .args(["-g", "-n", "1", "-c"])
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("named log"))
                .spawn()
                .expect("spawn named");
            let mut bind = Bind {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                dir: dir.clone(),
                child,
            };
            if wait_until_answering(&mut bind.child, bind.addr) {
                return bind;
            }
            last = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("named did not start; its output:\n{last}");
    }
}

impl Drop for Bind {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Run the kit's installer when `binary` is missing, then insist on it.
pub fn ensure_installed(binary: &str) -> &str {
    if !Path::new(binary).exists() {
        let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kit/dns-servers.sh");
        let ok = Command::new("bash")
            .arg(kit)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tests/kit/dns-servers.sh failed");
    }
    assert!(
        Path::new(binary).exists(),
        "{binary} missing after the kit ran"
    );
    binary
}

/// Wait until a server on `addr` answers any query (REFUSED included), or it exits.
pub fn wait_until_answering(child: &mut Child, addr: SocketAddr) -> bool {
    let probe = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind probe");
    probe.connect(addr).expect("connect probe");
    probe
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("probe timeout");
    // A bare query for `. NS`, hand-made: ID 0x4242, RD=0, one question.
    let query = [0x42, 0x42, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1];
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        let _ = probe.send(&query);
        let mut buf = [0u8; 512];
        if probe.recv(&mut buf).is_ok() {
            return true;
        }
    }
    false
}
