//! DNS TXT lookups over std sockets: resolv.conf, wire queries (UDP, TCP on truncation),
//! anti-spoofing, retry with backoff, and the classification of every reply into an
//! [`Answer`]. Knows nothing about containers.

pub mod name;
pub mod records_file;
mod resolv_conf;
mod resolver;
mod servers;
mod wire;

#[cfg(test)]
mod fuzz;

pub use resolv_conf::{MAX_TRY_TIMEOUT, ResolverConfig, parse_nameserver};
pub use resolver::{Resolver, check_ad_trust};
pub use servers::{Progress, ServerRest};

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

    /// Look up many names at once, the answers in the same order. The resolver asks them
    /// all in one flight; a source without a cost per round trip may keep this default.
    fn lookup_all(&self, names: &[String]) -> Vec<Answer> {
        names.iter().map(|n| self.lookup(n)).collect()
    }

    /// Follow each walk of names (most specific first) to its first answer that is not
    /// `Absent`: the index of the name that gave it, and the answer; or the last index and
    /// `Absent`. The resolver follows all walks in one flight, none waiting for another.
    fn lookup_walks(&self, walks: &[Vec<String>]) -> Vec<(usize, Answer)> {
        walks
            .iter()
            .map(|walk| walk_one_by_one(self, walk))
            .collect()
    }
}

/// One walk, one lookup at a time: what [`TxtSource::lookup_walks`] does by default.
pub fn walk_one_by_one<S: TxtSource + ?Sized>(source: &S, walk: &[String]) -> (usize, Answer) {
    let mut last = (0, Answer::Absent);
    for (k, name) in walk.iter().enumerate() {
        last = (k, source.lookup(name));
        if last.1 != Answer::Absent {
            break;
        }
    }
    last
}
