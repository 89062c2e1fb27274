//! The ownership label's value: standard padded base64 (RFC 4648 §4, Go's
//! `base64.StdEncoding`) of the record text, byte for byte what the original Go tool wrote,
//! so the containers it started are recognised as unchanged. Owns only this encoding.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The value of [`super::OWNER_LABEL`] for a record text.
pub fn owner_label(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
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
        }
    }
}
