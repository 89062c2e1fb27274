//! The ownership label's value: standard padded base64 (RFC 4648 §4, Go's
//! `base64.StdEncoding`) of the record text, byte for byte what the original Go tool wrote,
//! so the containers it started are recognised as unchanged. Owns only this encoding.

/// The value of [`super::OWNER_LABEL`] for a record text.
pub fn owner_label(text: &str) -> String {
    crate::base64::encode(text.as_bytes(), crate::base64::STANDARD)
}

/// The record text an ownership label carries; `None` when the value is not one we wrote.
pub fn record_text(label: &str) -> Option<String> {
    crate::base64::decode(label).and_then(|b| String::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("quay.io/coreos/etcd", "cXVheS5pby9jb3Jlb3MvZXRjZA=="),
            ("ubuntu:wily sleep 60", "dWJ1bnR1OndpbHkgc2xlZXAgNjA="),
            // U+FBFF is EF AF BF: the last two alphabet characters, + and /.
            ("\u{fbff}", "76+/"),
            ("é ✓", "w6kg4pyT"),
        ];
        for (text, want) in cases {
            assert_eq!(owner_label(text), *want, "{text:?}");
            assert_eq!(record_text(want).as_deref(), Some(*text));
        }
    }

    #[test]
    fn a_label_we_did_not_write_has_no_text() {
        assert_eq!(record_text("not base64!"), None);
        // Valid base64 of bytes that are not UTF-8.
        assert_eq!(record_text("//8="), None);
    }
}
