//! The rules of a DNS name's text form, in one place: the lengths RFC 1035 allows and the
//! label characters the tool accepts in a host name. Pure; knows nothing of records,
//! resolvers or containers, so every layer that reads or builds a name can ask it.

/// Longest DNS name in its text form without the trailing dot: 255 octets on the wire
/// (RFC 1035 §2.3.4) are 253 characters of labels and dots.
pub const MAX_NAME: usize = 253;

/// Longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL: usize = 63;

/// Whether `name` is dot-separated labels of 1 to [`MAX_LABEL`] bytes, each byte one that
/// `allowed` accepts.
pub fn labels_fit(name: &str, allowed: impl Fn(u8) -> bool) -> bool {
    name.split('.')
        .all(|l| !l.is_empty() && l.len() <= MAX_LABEL && l.bytes().all(&allowed))
}

/// A byte of a host-name label as the tool takes it: a letter, a digit, `-` or `_`.
pub fn host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `name` without its trailing dot, if it has one.
pub fn strip_root(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// `s` as the tool takes a host name (`--hostname`, the kernel's), a `--prefix` or a
/// `--top-domain`: at most [`MAX_NAME`] characters of dot-separated labels of 1–63 letters,
/// digits, `-` and `_`, a trailing dot dropped, in lower case; `None` for anything else.
/// `lint` asks it of every name it would read as a host, so that it reads none `show`
/// refuses.
pub fn host_name(s: &str) -> Option<String> {
    let t = strip_root(s);
    (t.len() <= MAX_NAME && labels_fit(t, host_byte)).then(|| t.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        let label = "a".repeat(MAX_LABEL);
        let longest = [label.as_str(); 4].join(".")[..MAX_NAME].to_string();
        for (input, want) in [
            ("Web1.Example.COM.", Some("web1.example.com")),
            ("a_b-c", Some("a_b-c")),
            (label.as_str(), Some(label.as_str())),
            (longest.as_str(), Some(longest.as_str())),
            ("", None),
            (".", None),
            ("a..b", None),
            (".a", None),
            ("a.b..", None),
            ("a b", None),
            ("a*", None),
            ("é", None),
        ] {
            assert_eq!(host_name(input).as_deref(), want, "{input:?}");
        }
        assert_eq!(host_name(&format!("{label}a")), None);
        assert_eq!(host_name(&format!("{longest}a")), None);
        assert_eq!(
            host_name(&format!("{longest}.")).as_deref(),
            Some(&*longest)
        );
    }

    #[test]
    fn labels_fit_their_bytes_and_lengths() {
        assert!(labels_fit("*.a", |b| host_byte(b) || b == b'*'));
        assert!(!labels_fit("*.a", host_byte));
        assert!(labels_fit("a b.c", |_| true));
        assert!(!labels_fit("a..c", |_| true));
        assert!(!labels_fit("", |_| true));
        assert!(!labels_fit(&"a".repeat(MAX_LABEL + 1), |_| true));
        assert_eq!(strip_root("a."), "a");
        assert_eq!(strip_root("a.."), "a.");
        assert_eq!(strip_root("a"), "a");
    }
}
