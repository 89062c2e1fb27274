//! The Public Suffix List, compiled into the binary by build.rs: which names anyone may
//! register under (`com`, `co.uk`, `github.io`), so that the level walk never asks a zone
//! the fleet cannot own. Lookup only; the list is refreshed by replacing the vendored file.

include!(concat!(env!("OUT_DIR"), "/public_suffix.rs"));

/// The public suffix of a name, as the list's algorithm finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suffix {
    /// How many of the name's rightmost labels form the public suffix (at least 1).
    pub labels: usize,
    /// Whether the list knows the name's top-level domain (`com`, `ck`); otherwise the
    /// implicit `*` rule decided, for a domain outside the public tree (`test`, `internal`).
    pub listed: bool,
    /// Whether the rule that decided is in the list's ICANN section (`com`, `co.uk`, `*.ck`):
    /// a registry's, never a fleet's. False for a PRIVATE rule (`github.io`, which its
    /// company's own fleet may use as `--top-domain`) and for the implicit `*` rule.
    pub icann: bool,
}

/// The public suffix of `name` (lower-case ASCII, labels as IDNA's ToASCII writes them):
/// an exception rule wins, else the matching rule with the most labels, else the last label.
pub fn of(name: &str) -> Suffix {
    let labels: Vec<&str> = name.split('.').collect();
    let n = labels.len();
    let tld = labels[n - 1];
    let listed =
        group("").is_some_and(|e| e.iter().any(|e| rule(e).1 == tld)) || group(tld).is_some();
    // No rule matching means the implicit `*`: the top-level domain, a registry's when the
    // list knows it (`ck`, which only `*.ck` names).
    let (mut found, mut icann) = (1, listed);
    for k in 1..=n {
        let first = labels[n - k];
        let parent = labels[n - k + 1..].join(".");
        // A rule may sit below a parent no other rule has, so every level is looked up.
        let Some(entries) = group(&parent) else {
            continue;
        };
        let rules = entries.iter().map(|e| rule(e));
        if let Some((private, _)) = rules
            .clone()
            .find(|(_, r)| r.strip_prefix('!') == Some(first))
        {
            return Suffix {
                labels: k - 1,
                listed,
                icann: !private,
            };
        }
        if let Some((private, _)) = rules.filter(|(_, r)| *r == first || *r == "*").min() {
            // ICANN first: a name both sections list (none today) is a registry's.
            found = k;
            icann = !private;
        }
    }
    Suffix {
        labels: found,
        listed,
        icann,
    }
}

/// An entry of [`GROUPS`] as (whether its rule is PRIVATE, the rule's first label).
fn rule(entry: &str) -> (bool, &str) {
    match entry.strip_prefix('~') {
        Some(r) => (true, r),
        None => (false, entry),
    }
}

/// The entries of `parent`'s line in [`GROUPS`], by binary search over the sorted lines.
fn group(parent: &str) -> Option<Vec<&'static str>> {
    let table = GROUPS.as_bytes();
    let (mut lo, mut hi) = (0, table.len());
    while lo < hi {
        // Any byte in [lo, hi) belongs to a line that starts in [lo, hi): lo and hi are
        // always line boundaries.
        let mid = lo + (hi - lo) / 2;
        let start = table[lo..mid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(lo, |p| lo + p + 1);
        let end = table[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(table.len(), |p| start + p);
        let line = &GROUPS[start..end];
        let (key, entries) = line.split_once('\t').unwrap_or((line, ""));
        match key.cmp(parent) {
            std::cmp::Ordering::Equal => return Some(entries.split(' ').collect()),
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suffix(name: &str) -> (usize, bool) {
        let s = of(name);
        (s.labels, s.listed)
    }

    #[test]
    fn the_list_is_all_there() {
        let rules: usize = GROUPS.lines().map(|l| l.split(' ').count()).sum();
        assert!(rules > 9000, "{rules} rules");
        assert!(VERSION.starts_with("20"), "{VERSION}");
        // Every line of the table is found by the search: the sort and the search agree.
        for line in GROUPS.lines() {
            let (key, entries) = line.split_once('\t').unwrap();
            assert_eq!(group(key), Some(entries.split(' ').collect()), "{key}");
        }
        assert_eq!(group("no-such-parent.example"), None);
    }

    /// A suffix from the ICANN section is a registry's; one from the PRIVATE section is a
    /// company's (which may run a fleet under it); an unknown top-level domain is nobody's.
    #[test]
    fn which_section_decided() {
        for (name, icann) in [
            ("com", true),
            ("example.com", true),
            ("co.uk", true),
            ("dev", true),
            ("ck", true),
            ("a.b.ck", true),
            ("www.ck", true),
            ("city.kawasaki.jp", true),
            ("github.io", false),
            ("me.github.io", false),
            ("test", false),
            ("h.ddp.test", false),
        ] {
            assert_eq!(of(name).icann, icann, "{name}");
        }
    }

    #[test]
    fn the_list_algorithm() {
        for (name, want) in [
            // Plain ICANN suffixes.
            ("com", (1, true)),
            ("example.com", (1, true)),
            ("web1.example.com", (1, true)),
            ("web1.example.co.uk", (2, true)),
            ("co.uk", (2, true)),
            ("uk", (1, true)),
            // Private-section suffixes.
            ("me.github.io", (2, true)),
            ("github.io", (2, true)),
            // Wildcard `*.ck` and its exception `!www.ck`.
            ("a.b.ck", (2, true)),
            ("www.ck", (1, true)),
            ("a.www.ck", (1, true)),
            // `ck` has no rule of its own, but the list knows it.
            ("ck", (1, true)),
            // Three labels deep: `*.kawasaki.jp` with its exception `!city.kawasaki.jp`.
            ("a.b.kawasaki.jp", (3, true)),
            ("a.city.kawasaki.jp", (2, true)),
            ("city.kawasaki.jp", (2, true)),
            // The implicit `*` rule: unlisted top-level domains.
            ("will-desktop", (1, false)),
            ("h.ddp.test", (1, false)),
            ("web1.dc1.corp", (1, false)),
            // Unicode rules reach the table in their ACE form (рф, 公司.cn).
            ("example.xn--p1ai", (1, true)),
            ("example.xn--55qx5d.cn", (2, true)),
        ] {
            assert_eq!(suffix(name), want, "{name}");
        }
    }
}
