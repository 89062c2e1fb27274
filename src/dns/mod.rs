//! DNS TXT lookups over std sockets: resolv.conf, wire queries (UDP, TCP on truncation),
//! anti-spoofing, retry with backoff, and the classification of every reply into an
//! [`Answer`]. Knows nothing about containers.

mod resolv_conf;
mod resolver;
mod wire;

pub use resolv_conf::{MAX_TRY_TIMEOUT, ResolverConfig, parse_nameserver};
pub use resolver::{Resolver, check_ad_trust};

/// What one TXT lookup established. Only `Absent` is authoritative enough to remove anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The name has TXT records: for each RR, its character-strings (raw bytes).
    Present(Vec<Vec<Vec<u8>>>),
    /// NXDOMAIN or NODATA from a server that answered properly.
    Absent,
    /// No usable answer (SERVFAIL, REFUSED, timeout, network down, malformed reply, …).
    Unavailable(String),
}

/// Something that answers TXT questions: the live resolver or a `--records` file.
pub trait TxtSource: Sync {
    /// Look up the TXT records of a fully qualified name (no trailing dot needed).
    fn lookup(&self, name: &str) -> Answer;

    /// Whether lookups gain from running at once: a network round trip does; a file answers
    /// from memory, and `lint` reads 10,000 hosts from one (a thread per lookup cost more
    /// than the lookups).
    fn concurrent(&self) -> bool {
        true
    }
}
