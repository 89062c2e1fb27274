//! TXT records as a name server reads them: dnsmasq `txt-record=` lines (the form `--records`
//! files use), BIND zone-file lines, or one JSON document. Owns the escaping per format and
//! the split of a text into 255-byte character-strings; knows nothing of containers, so any
//! record kind (a container list, a container, a network) is written the same way.

use serde_json::json;

/// The largest character-string of a TXT record (RFC 1035 §3.3: one length octet).
pub const MAX_STRING: usize = 255;

/// How `export` writes records (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// dnsmasq `txt-record=NAME,"…","…"` lines.
    #[default]
    Dnsmasq,
    /// Zone-file lines: `NAME. IN TXT "…" "…"`.
    Zone,
    /// One JSON document.
    Json,
}

/// One TXT record to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtRecord {
    /// What it is (`list`, `container`, …), for the JSON form and the comments.
    pub kind: &'static str,
    /// Its owner name, without the trailing dot.
    pub name: String,
    /// Its character-strings, each at most [`MAX_STRING`] bytes; a reader joins them.
    pub strings: Vec<String>,
    /// What a reader of the file must know: settings that were dropped, values redacted.
    pub notes: Vec<String>,
}

/// A text as character-strings: cut at character boundaries, each at most 255 bytes, so
/// every string is valid UTF-8 and the joined strings are the text again.
pub fn character_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if current.len() + c.len_utf8() > MAX_STRING {
            out.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
    out
}

/// A list of names as character-strings: whole names separated by spaces, never cut inside a
/// name (each string of a list is split on its own).
pub fn list_strings(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        match out.last_mut() {
            Some(s) if s.len() + 1 + n.len() <= MAX_STRING => {
                s.push(' ');
                s.push_str(n);
            }
            _ => out.push(n.clone()),
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// The records in the chosen format, after a header comment (dnsmasq and zone forms).
pub fn write(format: Format, header: &str, records: &[TxtRecord]) -> String {
    match format {
        Format::Dnsmasq => lines(header, records, "#", dnsmasq_line),
        Format::Zone => lines(header, records, ";", zone_line),
        Format::Json => {
            let list: Vec<_> = records
                .iter()
                .map(|r| {
                    json!({
                        "kind": r.kind,
                        "name": r.name,
                        "text": r.strings.concat(),
                        "strings": r.strings,
                        "notes": r.notes,
                    })
                })
                .collect();
            let doc = json!({"comment": header, "records": list});
            format!("{doc:#}\n")
        }
    }
}

fn lines(
    header: &str,
    records: &[TxtRecord],
    comment: &str,
    line: fn(&TxtRecord) -> String,
) -> String {
    let mut out = String::new();
    for h in header.lines() {
        out.push_str(&format!("{comment} {h}\n"));
    }
    for r in records {
        for n in &r.notes {
            out.push_str(&format!("{comment} {}: {}\n", r.name, one_line(n)));
        }
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

/// A note never breaks out of its comment line.
fn one_line(note: &str) -> String {
    note.replace(['\n', '\r'], " ")
}

/// `txt-record=NAME,"s1","s2"`: every string quoted, so commas and spaces stay in it.
fn dnsmasq_line(r: &TxtRecord) -> String {
    let mut line = format!("txt-record={}", r.name);
    for s in &r.strings {
        line.push_str(",\"");
        for c in s.chars() {
            match c {
                '"' => line.push_str("\\\""),
                '\\' => line.push_str("\\\\"),
                '\n' => line.push_str("\\n"),
                '\t' => line.push_str("\\t"),
                '\r' => line.push_str("\\r"),
                '\u{1b}' => line.push_str("\\e"),
                '\u{8}' => line.push_str("\\b"),
                c => line.push(c),
            }
        }
        line.push('"');
    }
    line
}

/// `NAME. IN TXT "s1" "s2"`: `"` and `\` escaped, every byte outside printable ASCII as
/// `\DDD`, so the file is ASCII whatever the text holds.
fn zone_line(r: &TxtRecord) -> String {
    let mut line = format!("{}. IN TXT", r.name);
    for s in &r.strings {
        line.push_str(" \"");
        for b in s.bytes() {
            match b {
                b'"' => line.push_str("\\\""),
                b'\\' => line.push_str("\\\\"),
                0x20..=0x7e => line.push(char::from(b)),
                _ => line.push_str(&format!("\\{b:03}")),
            }
        }
        line.push('"');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::records_file::RecordsFile;
    use crate::dns::{Answer, TxtSource};

    fn record(text: &str) -> TxtRecord {
        TxtRecord {
            kind: "container",
            name: "web.containers.docker.h1".into(),
            strings: character_strings(text),
            notes: vec!["dropped: x\ninjected".into()],
        }
    }

    #[test]
    fn strings_are_cut_at_255_bytes_on_character_boundaries() {
        let cases: &[(String, &[usize])] = &[
            (String::new(), &[0]),
            ("a".repeat(255), &[255]),
            ("a".repeat(256), &[255, 1]),
            ("a".repeat(600), &[255, 255, 90]),
            // 254 ASCII bytes then a 2-byte character: it moves whole to the next string.
            (format!("{}é", "a".repeat(254)), &[254, 2]),
            ("✓".repeat(100), &[255, 45]),
        ];
        for (text, lens) in cases {
            let got = character_strings(text);
            let got_lens: Vec<usize> = got.iter().map(String::len).collect();
            assert_eq!(got_lens, *lens, "{}", text.len());
            assert_eq!(got.concat(), *text);
        }
    }

    #[test]
    fn list_strings_keep_names_whole() {
        let names: Vec<String> = (0..40).map(|i| format!("container-{i:02}")).collect();
        let strings = list_strings(&names);
        assert!(strings.len() > 1);
        assert!(strings.iter().all(|s| s.len() <= MAX_STRING));
        let back: Vec<String> = strings
            .iter()
            .flat_map(|s| s.split(' ').map(String::from))
            .collect();
        assert_eq!(back, names);
        assert_eq!(list_strings(&[]), vec![String::new()]);
    }

    /// What each format writes, read back by the records-file reader `--records` uses.
    #[test]
    fn both_file_formats_read_back_byte_for_byte() {
        let texts = [
            "ddp-test/busybox".to_string(),
            "--env='A=say \"hi\", \\ ok' -l x=# ddp-test/busybox sh -c 'a\tb\nc'".to_string(),
            format!("--label=k={} img é✓", "v".repeat(700)),
        ];
        for text in &texts {
            for format in [Format::Dnsmasq, Format::Zone] {
                let out = write(format, "exported\nby test", &[record(text)]);
                let file = RecordsFile::parse(out.as_bytes())
                    .unwrap_or_else(|e| panic!("{format:?} {e:?}\n{out}"));
                let Answer::Present(rrs) = file.lookup("web.containers.docker.h1") else {
                    panic!("{format:?}: no record\n{out}");
                };
                assert_eq!(rrs.len(), 1, "{format:?}: one RR");
                let joined: Vec<u8> = rrs[0].concat();
                assert_eq!(
                    String::from_utf8(joined).unwrap(),
                    *text,
                    "{format:?}\n{out}"
                );
                assert!(out.lines().all(|l| l.len() < 2000));
                assert!(out.contains("dropped: x injected"), "{out}");
            }
        }
    }

    #[test]
    fn zone_form_is_ascii_and_json_carries_the_text() {
        let out = write(Format::Zone, "h", &[record("é")]);
        assert!(out.is_ascii());
        assert!(
            out.contains(r#"web.containers.docker.h1. IN TXT "\195\169""#),
            "{out}"
        );
        let out = write(Format::Json, "h", &[record("a b")]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["records"][0]["text"], "a b");
        assert_eq!(v["records"][0]["kind"], "container");
        assert_eq!(v["records"][0]["strings"], json!(["a b"]));
    }
}
