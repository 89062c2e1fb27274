//! The level walk: which domains a host's records are looked up at, most specific first, and
//! where the walk stops. Whoever answers a level decides what runs as root on the host, so
//! the walk never leaves the fleet's own domain: it stops at `--top-domain`, or else below
//! the public suffix (`com`, `co.uk`, `github.io`), which anyone may register under.
//! Pure: knows nothing of DNS or containers.

pub mod public_suffix;

/// How far up the walk may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// Stop at the registrable domain: never ask a public suffix or anything above it.
    PublicSuffix,
    /// Stop at this domain (`--top-domain`): the operator's statement of what the fleet owns.
    TopDomain(String),
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
/// saying why no level of it may be asked.
pub fn walk(host: &str, bound: &Bound) -> Result<Walk, String> {
    let host = host.trim_end_matches('.');
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
        assert_eq!(levels("dev", &top("dev")).unwrap(), ["dev"]);
        assert_eq!(
            walk("web1.example.com", &top("example.com")).unwrap().stop,
            "the walk stops at example.com: --top-domain"
        );
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
}
