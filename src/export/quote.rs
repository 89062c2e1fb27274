//! Words back into record text: the quoting that `container::words` splits exactly into the
//! same words, and Go `encoding/csv` quoting for the comma-separated flag values (`--mount`,
//! `--gpus`, `--network name=…`). Owns only quoting; knows no flag.

/// One word as record text: bare when it holds only characters the splitter never treats
/// specially, else in single quotes (a `'` inside becomes `'\''`, as in sh).
pub fn word(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,^".contains(c);
    if !w.is_empty() && w.chars().all(plain) {
        return w.to_string();
    }
    format!("'{}'", w.replace('\'', r"'\''"))
}

/// `--name=value` with only the value quoted, so the flag stays readable.
pub fn flag(name: &str, value: &str) -> String {
    format!("--{name}={}", word(value))
}

/// One field of a CSV value: quoted (with `""` for `"`) when it holds a comma, a quote or
/// starts with one, as `encoding/csv` reads it back.
pub fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n', '\r']) || f.starts_with(' ') {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::tests::split_words;

    #[test]
    fn every_word_splits_back_to_itself() {
        let words = [
            "plain",
            "",
            "a b",
            "it's",
            "'",
            "\"",
            "\\",
            "$HOME",
            "a\nb",
            "tab\there",
            "#not-a-comment",
            "*",
            "~",
            "é ✓",
            "a;b|c&d",
            "--flag=x",
            "'\\''",
        ];
        for w in words {
            assert_eq!(split_words(&word(w)), vec![w.to_string()], "{w:?}");
            let f = flag("env", w);
            assert_eq!(split_words(&f), vec![format!("--env={w}")], "{w:?}");
        }
        assert_eq!(word("ddp-test/busybox:latest"), "ddp-test/busybox:latest");
        assert_eq!(word("a b"), "'a b'");
        assert_eq!(word(""), "''");
    }

    #[test]
    fn csv_fields_read_back() {
        for f in ["plain", "a,b", "say \"hi\"", "\"x", " lead"] {
            let back = crate::container::tests::csv(&csv_field(f));
            assert_eq!(back, vec![f.to_string()], "{f:?}");
        }
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
