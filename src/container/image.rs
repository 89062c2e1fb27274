//! Image references, parsed and normalised by the distribution/reference rules the docker
//! CLI and daemon use: domain detection, `docker.io/library/`, `:latest`, digests, image IDs.
//! Owns only the reference grammar; it never resolves anything against an engine.

use std::fmt;

use super::{ImageRef, SpecError};

const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// distribution/reference's `NameTotalLengthMax`.
const NAME_MAX: usize = 255;

impl ImageRef {
    /// Parse an image reference as typed (`busybox`, `quay.io/coreos/etcd:v3`, `x@sha256:…`,
    /// or an image ID `sha256:<64 hex>` / bare 64 hex) into its normalised parts.
    pub fn parse(s: &str) -> Result<ImageRef, SpecError> {
        let bad = |why: &str| SpecError(format!("invalid image reference {s:?}: {why}"));
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.len() == 64 && is_lower_hex(s) {
            return Ok(ImageRef::id(format!("sha256:{s}")));
        }
        if !s.contains('/') && s.contains(':') && validate_digest(s).is_ok() {
            return Ok(ImageRef::id(s.to_string()));
        }
        let (name_tag, digest) = match s.split_once('@') {
            Some((n, d)) => (n, Some(validate_digest(d).map_err(|why| bad(&why))?)),
            None => (s, None),
        };
        let (name, tag) = match name_tag.rfind(':') {
            Some(colon) if !name_tag[colon..].contains('/') => {
                (&name_tag[..colon], Some(&name_tag[colon + 1..]))
            }
            _ => (name_tag, None),
        };
        if let Some(tag) = tag.filter(|t| !valid_tag(t)) {
            return Err(bad(&format!(
                "tag {tag:?} must be 1-128 of [A-Za-z0-9_.-], not starting with . or -"
            )));
        }
        if name.len() > NAME_MAX {
            return Err(bad("the repository name is longer than 255 characters"));
        }
        let (domain, remainder) = split_domain(name);
        if let Some(domain) = domain.filter(|d| !valid_domain(d)) {
            return Err(bad(&format!("{domain:?} is not a valid registry domain")));
        }
        if remainder.to_lowercase() != remainder {
            return Err(bad("the repository name must be lowercase"));
        }
        if remainder.is_empty() || !remainder.split('/').all(valid_path_component) {
            return Err(bad(
                "each repository path component must be lowercase letters and digits \
                 separated by '.', '_', '__' or dashes",
            ));
        }
        let domain = match domain {
            None | Some(LEGACY_DEFAULT_DOMAIN) => DEFAULT_DOMAIN,
            Some(d) => d,
        };
        let path = if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
            format!("{OFFICIAL_REPO_PREFIX}{remainder}")
        } else {
            remainder.to_string()
        };
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some("latest".to_string()),
            (None, Some(_)) => None,
        };
        Ok(ImageRef {
            domain: domain.to_string(),
            path,
            tag,
            digest,
        })
    }

    fn id(digest: String) -> ImageRef {
        ImageRef {
            domain: String::new(),
            path: String::new(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// True for an image ID (`sha256:…`), which names a local image and cannot be pulled.
    pub fn is_id(&self) -> bool {
        self.path.is_empty()
    }

    /// Fully qualified: `docker.io/library/busybox:latest`, `name@digest`, or the image ID.
    pub fn canonical(&self) -> String {
        if self.is_id() {
            return self.digest.clone().unwrap_or_default();
        }
        let mut out = self.from_image();
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// What `docker ps` shows: the canonical form without `docker.io/` and then `library/`.
    pub fn familiar(&self) -> String {
        let canonical = self.canonical();
        if self.domain != DEFAULT_DOMAIN {
            return canonical;
        }
        let rest = &canonical[DEFAULT_DOMAIN.len() + 1..];
        match rest.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(short) if !self.path[OFFICIAL_REPO_PREFIX.len()..].contains('/') => {
                short.to_string()
            }
            _ => rest.to_string(),
        }
    }

    /// The pull's `fromImage` parameter: `domain/path`.
    pub fn from_image(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The pull's `tag` parameter: the digest if any (it wins over a tag), else the tag.
    pub fn pull_tag(&self) -> String {
        self.digest
            .clone()
            .or_else(|| self.tag.clone())
            .unwrap_or_else(|| "latest".to_string())
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// The registry domain, if the first component is one: it contains `.` or `:`, is
/// `localhost`, or has upper-case letters (which a repository path cannot have).
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn validate_digest(d: &str) -> Result<String, String> {
    let (algorithm, hex) = d
        .split_once(':')
        .ok_or_else(|| format!("digest {d:?} is not algorithm:hex"))?;
    let len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(format!("digest algorithm {algorithm:?} is not supported")),
    };
    if hex.len() != len || !is_lower_hex(hex) {
        return Err(format!(
            "a {algorithm} digest is {len} lowercase hex digits, not {hex:?}"
        ));
    }
    Ok(d.to_string())
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn valid_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-')
}

/// `host[:port]` where host is dot-separated alphanumeric labels (inner dashes) or `[ipv6]`.
fn valid_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, after)) => {
                if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
                    return false;
                }
                match after {
                    "" => return true,
                    _ => match after.strip_prefix(':') {
                        Some(port) => ("x", port),
                        None => return false,
                    },
                }
            }
            None => return false,
        }
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (h, p),
            None => (domain, "0"),
        }
    };
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
    };
    host.split('.').all(label_ok) && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    // Exempt from the length limit: a data table, one row a reference; the five forms of each
    // side by side read as a table, not as code.
    #[allow(clippy::too_many_lines)]
    #[test]
    fn normalises_like_distribution_reference() {
        // typed, canonical, familiar, fromImage, pull tag
        let nginx_digest = format!("nginx@{D}");
        let nginx_both = format!("nginx:1.27@{D}");
        let dd = format!("docker.io/library/nginx@{D}");
        let dtd = format!("docker.io/library/nginx:1.27@{D}");
        let nd = format!("nginx@{D}");
        let ntd = format!("nginx:1.27@{D}");
        let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
            (
                "nginx",
                "docker.io/library/nginx:latest",
                "nginx:latest",
                "docker.io/library/nginx",
                "latest",
            ),
            (
                "nginx:1.27-alpine",
                "docker.io/library/nginx:1.27-alpine",
                "nginx:1.27-alpine",
                "docker.io/library/nginx",
                "1.27-alpine",
            ),
            (
                "bitnami/redis",
                "docker.io/bitnami/redis:latest",
                "bitnami/redis:latest",
                "docker.io/bitnami/redis",
                "latest",
            ),
            (
                "quay.io/coreos/etcd",
                "quay.io/coreos/etcd:latest",
                "quay.io/coreos/etcd:latest",
                "quay.io/coreos/etcd",
                "latest",
            ),
            (
                "localhost:5000/team/app:dev",
                "localhost:5000/team/app:dev",
                "localhost:5000/team/app:dev",
                "localhost:5000/team/app",
                "dev",
            ),
            (
                "localhost/app",
                "localhost/app:latest",
                "localhost/app:latest",
                "localhost/app",
                "latest",
            ),
            (
                "index.docker.io/library/nginx",
                "docker.io/library/nginx:latest",
                "nginx:latest",
                "docker.io/library/nginx",
                "latest",
            ),
            (
                "docker.io/nginx",
                "docker.io/library/nginx:latest",
                "nginx:latest",
                "docker.io/library/nginx",
                "latest",
            ),
            (
                "docker.io/library/a/b",
                "docker.io/library/a/b:latest",
                "library/a/b:latest",
                "docker.io/library/a/b",
                "latest",
            ),
            (&nginx_digest, &dd, &nd, "docker.io/library/nginx", D),
            (&nginx_both, &dtd, &ntd, "docker.io/library/nginx", D),
            (
                "Registry.Example/x",
                "Registry.Example/x:latest",
                "Registry.Example/x:latest",
                "Registry.Example/x",
                "latest",
            ),
            (
                "[::1]:5000/x:y",
                "[::1]:5000/x:y",
                "[::1]:5000/x:y",
                "[::1]:5000/x",
                "y",
            ),
            (
                "a__b/c-d--e.f_g:V_1.0-x",
                "docker.io/a__b/c-d--e.f_g:V_1.0-x",
                "a__b/c-d--e.f_g:V_1.0-x",
                "docker.io/a__b/c-d--e.f_g",
                "V_1.0-x",
            ),
            (
                "ddp-test/busybox:latest",
                "docker.io/ddp-test/busybox:latest",
                "ddp-test/busybox:latest",
                "docker.io/ddp-test/busybox",
                "latest",
            ),
        ];
        for (typed, canonical, familiar, from, tag) in cases {
            let r = ImageRef::parse(typed).unwrap_or_else(|e| panic!("{typed}: {e}"));
            assert_eq!(r.canonical(), canonical, "{typed}");
            assert_eq!(r.to_string(), canonical, "{typed}");
            assert_eq!(r.familiar(), familiar, "{typed}");
            assert_eq!(r.from_image(), from, "{typed}");
            assert_eq!(r.pull_tag(), tag, "{typed}");
            assert!(!r.is_id());
        }
    }

    #[test]
    fn image_ids_are_kept_as_ids() {
        for typed in [D, HEX] {
            let r = ImageRef::parse(typed).unwrap();
            assert!(r.is_id(), "{typed}");
            assert_eq!(r.canonical(), D);
        }
    }

    #[test]
    fn rejects_what_the_cli_rejects() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("Nginx", "lowercase"),
            ("quay.io/CoreOS/etcd", "lowercase"),
            ("nginx:", "tag"),
            ("nginx:-x", "tag"),
            ("nginx:a/b", "domain"),
            ("nginx@sha256:abc", "64 lowercase hex"),
            ("nginx@md5:0123", "not supported"),
            ("nginx@", "algorithm:hex"),
            ("-nginx", "path component"),
            ("a//b", "path component"),
            ("a/b/", "path component"),
            ("a..b", "path component"),
            ("a_-b", "path component"),
            ("quay.io:/x", "domain"),
            ("-bad.io/x", "domain"),
            ("localhost:5000/", "path component"),
            ("a b", "path component"),
            ("ünïcode", "path component"),
        ];
        for (typed, want) in cases {
            let err = ImageRef::parse(typed).unwrap_err().0;
            assert!(err.contains(want), "{typed:?}: {err}");
            assert!(err.contains(&format!("{typed:?}")), "{typed:?}: {err}");
        }
        let long = "a".repeat(256);
        assert!(ImageRef::parse(&long).unwrap_err().0.contains("255"));
    }
}
