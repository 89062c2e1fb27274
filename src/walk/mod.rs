//! The level walk: which domains a host's records are looked up at, most specific first, and
//! where the walk stops. Whoever answers a level decides what runs as root on the host, so
//! the walk never leaves the fleet's own domain: it stops at `--top-domain`, or else below
//! the public suffix (`com`, `co.uk`, `github.io`), which anyone may register under.
//! Pure: knows nothing of resolvers or containers; the name lengths are [`crate::dns::name`]'s.

pub mod public_suffix;

use crate::dns::name::MAX_NAME;

/// How far up the walk may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// Stop at the registrable domain: never ask a public suffix or anything above it.
    PublicSuffix,
    /// Stop at this domain (`--top-domain`): the operator's statement of what the fleet owns.
    TopDomain(String),
}

/// What a walk follows: its [`Bound`], and the record prefix its levels are asked under when
/// the caller asks for records (`show`, `plan`, `apply`, `lint`).
pub trait Rules {
    /// How far up the walk may go.
    fn bound(&self) -> &Bound;
    /// The record prefix, so that a host whose list record's name DNS cannot carry is refused
    /// before anything is asked; `None` checks no name (a bound's own tests).
    fn prefix(&self) -> Option<&str>;
}

impl Rules for Bound {
    fn bound(&self) -> &Bound {
        self
    }

    fn prefix(&self) -> Option<&str> {
        None
    }
}

/// A bound and the record prefix: what the commands walk with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// How far up the walk may go.
    pub bound: Bound,
    /// The record prefix (`--prefix`).
    pub prefix: String,
}

impl Rules for Limits {
    fn bound(&self) -> &Bound {
        &self.bound
    }

    fn prefix(&self) -> Option<&str> {
        Some(&self.prefix)
    }
}

/// Whether the bound itself may be walked to: a `--top-domain` that is a public suffix of
/// the ICANN section (`com`, `co.uk`, `dev`) is a registry's, and its level (where the walk
/// would ask `<prefix>.com`) belongs to whoever registers the name under it. A suffix of the
/// PRIVATE section (`github.io`) may be the fleet owner's own, and stays allowed.
pub fn check(bound: &Bound) -> Result<(), String> {
    let Bound::TopDomain(top) = bound else {
        return Ok(());
    };
    let top = top.trim_end_matches('.');
    let suffix = public_suffix::of(top);
    if suffix.icann && suffix.labels >= top.split('.').count() {
        return Err(format!(
            "--top-domain {top} is a public suffix (ICANN section of the Public Suffix List {}): its levels belong to zones anyone may register; set --top-domain to the fleet's own domain",
            public_suffix::VERSION
                .get(..10)
                .unwrap_or(public_suffix::VERSION)
        ));
    }
    Ok(())
}

/// The levels a host asks, and why the walk stops where it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// The host name, as given.
    pub host: String,
    /// `web1.example.com` → `["web1.example.com", "example.com"]`: most specific first.
    pub levels: Vec<String>,
    /// Why no level above the last one is asked, as a phrase for `show` and `plan`.
    pub stop: String,
}

/// The walk for `host` (lower-case, without the trailing dot), or a configuration error
/// saying why no level of it may be asked: the bound refused by [`check`], a host outside
/// it or on a public suffix, or, with a prefix, a list record name too long for DNS (such a
/// name cannot be asked, and would read as "DNS unavailable" and be retried forever).
pub fn walk(host: &str, rules: &impl Rules) -> Result<Walk, String> {
    let bound = rules.bound();
    check(bound)?;
    let host = host.trim_end_matches('.');
    if let Some(prefix) = rules.prefix() {
        // The host's own level gives the longest list name; the levels above are shorter.
        let list = format!("{prefix}.{host}");
        if list.len() > MAX_NAME {
            return Err(format!(
                "the list record name {list} would be {} characters long, over the {MAX_NAME} a DNS name can have: no query can ask it (shorten --hostname or --prefix)",
                list.len()
            ));
        }
    }
    let labels = host.split('.').count();
    let (keep, stop) = match bound {
        Bound::TopDomain(top) => {
            let top = top.trim_end_matches('.');
            let under = host == top
                || host
                    .strip_suffix(top)
                    .is_some_and(|rest| rest.ends_with('.'));
            if !under {
                return Err(format!(
                    "host name {host} is not under --top-domain {top}: no level of it may be asked (fix --hostname or --top-domain)"
                ));
            }
            let keep = labels - top.split('.').count() + 1;
            (keep, format!("the walk stops at {top}: --top-domain"))
        }
        Bound::PublicSuffix => {
            let suffix = public_suffix::of(host);
            let ps = last_labels(host, suffix.labels);
            let why = if suffix.listed {
                format!("{ps} is a public suffix")
            } else {
                format!("{ps} is a top-level domain")
            };
            if labels > suffix.labels {
                let registrable = last_labels(host, suffix.labels + 1);
                (
                    labels - suffix.labels,
                    format!(
                        "the walk stops at {registrable}: {why} (Public Suffix List {})",
                        public_suffix::VERSION
                            .get(..10)
                            .unwrap_or(public_suffix::VERSION)
                    ),
                )
            } else if labels == 1 && !suffix.listed {
                // A single-label name is not a name in the public tree (the seed's
                // `will-desktop`): its own level is the fleet's, served by its resolver.
                (
                    1,
                    "a single-label host name asks its own level only".to_string(),
                )
            } else {
                return Err(format!(
                    "host name {host} is a public suffix: its levels belong to zones anyone may register; set --hostname to a name under the fleet's own domain, or --top-domain to that domain"
                ));
            }
        }
    };
    let mut levels = Vec::with_capacity(keep);
    let mut rest = host;
    for _ in 0..keep {
        levels.push(rest.to_string());
        rest = rest.split_once('.').map_or("", |(_, tail)| tail);
    }
    Ok(Walk {
        host: host.to_string(),
        levels,
        stop,
    })
}

/// The last `n` labels of `name` (all of it when it has fewer).
fn last_labels(name: &str, n: usize) -> &str {
    let total = name.split('.').count();
    let skip = total.saturating_sub(n);
    name.splitn(skip + 1, '.').last().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(host: &str, bound: &Bound) -> Result<Vec<String>, String> {
        walk(host, bound).map(|w| w.levels)
    }

    #[test]
    fn by_default_the_walk_stops_at_the_registrable_domain() {
        let ps = Bound::PublicSuffix;
        for (host, want) in [
            ("web1.example.com", &["web1.example.com", "example.com"][..]),
            (
                "web1.dc1.example.com",
                &["web1.dc1.example.com", "dc1.example.com", "example.com"],
            ),
            ("example.com", &["example.com"]),
            (
                "web1.example.co.uk",
                &["web1.example.co.uk", "example.co.uk"],
            ),
            ("web1.me.github.io", &["web1.me.github.io", "me.github.io"]),
            ("h.ddp.test", &["h.ddp.test", "ddp.test"]),
            ("a.b.c", &["a.b.c", "b.c"]),
            ("will-desktop", &["will-desktop"]),
            ("myhost.", &["myhost"]),
        ] {
            assert_eq!(levels(host, &ps).unwrap(), want, "{host}");
        }
        let w = walk("web1.example.co.uk", &ps).unwrap();
        assert!(
            w.stop
                .starts_with("the walk stops at example.co.uk: co.uk is a public suffix"),
            "{}",
            w.stop
        );
        assert!(
            walk("will-desktop", &ps)
                .unwrap()
                .stop
                .contains("single-label")
        );
    }

    #[test]
    fn a_host_that_is_a_public_suffix_has_no_level_to_ask() {
        // `host` and `dev` are top-level domains too: a single-label name is no exception.
        for host in ["com", "co.uk", "github.io", "dev", "host", "ck", "foo.ck"] {
            let e = walk(host, &Bound::PublicSuffix).unwrap_err();
            assert!(e.contains("is a public suffix"), "{host}: {e}");
            assert!(e.contains("--top-domain"), "{host}: {e}");
        }
    }

    #[test]
    fn top_domain_bounds_the_walk_exactly() {
        let top = |d: &str| Bound::TopDomain(d.to_string());
        assert_eq!(
            levels("web1.dc1.example.com", &top("dc1.example.com")).unwrap(),
            ["web1.dc1.example.com", "dc1.example.com"]
        );
        assert_eq!(
            levels("web1.dc1.example.com", &top("example.com")).unwrap(),
            ["web1.dc1.example.com", "dc1.example.com", "example.com"]
        );
        // The operator's bound replaces the list's: a private suffix the fleet owns.
        assert_eq!(
            levels("web1.github.io", &top("github.io")).unwrap(),
            ["web1.github.io", "github.io"]
        );
        assert_eq!(levels("h.test", &top("test")).unwrap(), ["h.test", "test"]);
        assert_eq!(
            walk("web1.example.com", &top("example.com")).unwrap().stop,
            "the walk stops at example.com: --top-domain"
        );
        // A top domain of the ICANN section is a registry's: never a level to ask.
        for domain in ["com", "co.uk", "dev", "ck", "a.ck"] {
            let e = walk(&format!("web1.example.{domain}"), &top(domain)).unwrap_err();
            assert!(
                e.contains(&format!("--top-domain {domain} is a public suffix (ICANN")),
                "{domain}: {e}"
            );
        }
        // A host outside the top domain, or merely ending with its text, is an error.
        for (host, domain) in [
            ("web1.example.org", "example.com"),
            ("web1.badexample.com", "example.com"),
            ("example.com", "web1.example.com"),
        ] {
            let e = walk(host, &top(domain)).unwrap_err();
            assert!(e.contains("is not under --top-domain"), "{host}: {e}");
        }
    }

    /// A bound on its own checks no record name: the longest host name DNS carries walks,
    /// and only a record prefix makes its list record name too long.
    #[test]
    fn a_bound_alone_checks_no_record_name() {
        let label = "a".repeat(63);
        let host = format!("{label}.{label}.{label}.{}.test", "x".repeat(56));
        assert_eq!(host.len(), MAX_NAME);
        let w = walk(&host, &Bound::PublicSuffix).unwrap();
        assert_eq!(w.levels.first(), Some(&host));
        let limits = Limits {
            bound: Bound::PublicSuffix,
            prefix: "c".into(),
        };
        assert!(walk(&host, &limits).is_err());
    }

    /// A host name of 236 to 253 characters is valid, but its list record name under the
    /// default prefix is not: a configuration error naming the name, before anything is
    /// asked (it used to be sent, fail to encode, and read as "DNS unavailable", 75). A long
    /// `--prefix` does the same with a shorter host.
    #[test]
    fn a_host_whose_list_record_name_dns_cannot_carry_is_refused() {
        let limits = |prefix: &str| Limits {
            bound: Bound::PublicSuffix,
            prefix: prefix.to_string(),
        };
        let label = "a".repeat(63);
        let host = |len: usize| format!("{label}.{label}.{label}.{}.test", "x".repeat(len - 197));
        let fits = host(235);
        assert_eq!(fits.len(), 235);
        assert!(walk(&fits, &limits("containers.docker")).is_ok());
        for len in [236, 253] {
            let long = host(len);
            let e = walk(&long, &limits("containers.docker")).unwrap_err();
            assert!(
                e.contains(&format!(
                    "the list record name containers.docker.{long} would be {} characters long",
                    len + 18
                )),
                "{e}"
            );
        }
        let prefix = format!("{label}.{label}.{label}.{}", "p".repeat(48));
        assert_eq!(prefix.len(), 240);
        let e = walk("web1.example.com", &limits(&prefix)).unwrap_err();
        assert!(e.contains("would be 257 characters long"), "{e}");
        assert!(e.contains("shorten --hostname or --prefix"), "{e}");
    }
}
