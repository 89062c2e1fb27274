//! The `--records FILE` source: dnsmasq `txt-record=` lines and zone-file TXT lines, answered
//! with the same [`Answer`] type and semantics as live DNS (a name not in the file is Absent).
//! Lets a newcomer run the tool without a DNS server and an operator lint records first.
//! A malformed line fails the whole file: a half-read file could drop the container list.

use crate::dns::{Answer, TxtSource, name};
use std::collections::BTreeMap;
use std::path::Path;

/// The largest records file read: a 10,000-host fleet's zone is a few MiB.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// TXT records read from a file, by lower-case name without the trailing dot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordsFile {
    records: BTreeMap<String, Owner>,
}

/// The TXT RRs of one name, in file order, each with the line it starts on: `lint` points at
/// the line a finding comes from, and counts a name's RRs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Owner {
    rrs: Vec<Vec<Vec<u8>>>,
    lines: Vec<usize>,
}

/// A records file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordsError {
    /// The file could not be read.
    Unreadable(String),
    /// A line is malformed: `file:line: why: text`.
    Malformed(String),
}

impl std::fmt::Display for RecordsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordsError::Unreadable(m) | RecordsError::Malformed(m) => f.write_str(m),
        }
    }
}

impl RecordsFile {
    /// Read and parse a file.
    pub fn load(path: &Path) -> Result<RecordsFile, RecordsError> {
        let bytes = crate::bounded_read::regular_file(path, MAX_FILE_BYTES).map_err(|why| {
            let why = match why {
                crate::bounded_read::Refused::TooLarge(_) => {
                    format!("{why}, more than any fleet's records")
                }
                _ => why.to_string(),
            };
            RecordsError::Unreadable(format!("records file {}: {why}", path.display()))
        })?;
        RecordsFile::parse(&bytes).map_err(|(line, why)| {
            RecordsError::Malformed(format!("{}:{line}: {why}", path.display()))
        })
    }

    /// Parse file contents; on error, the 1-based line number and what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<RecordsFile, (usize, String)> {
        let mut file = RecordsFile::default();
        let mut zone = Zone::default();
        let mut lines = bytes.split(|&b| b == b'\n').enumerate();
        while let Some((i, raw)) = lines.next() {
            let line = trim(strip_cr(raw));
            if let Some(rest) = line.strip_prefix(b"txt-record=") {
                let (name, strings) = dnsmasq_txt(rest).map_err(|e| (i + 1, e))?;
                file.add(&name, strings, i + 1);
                continue;
            }
            if line.is_empty() || line[0] == b'#' || is_other_dnsmasq_option(line) {
                continue;
            }
            // A zone entry may continue over lines inside parentheses.
            let mut entry = raw.to_vec();
            let first = i + 1;
            while open_parens(&entry) > 0 {
                match lines.next() {
                    Some((_, more)) => {
                        entry.push(b' ');
                        entry.extend_from_slice(strip_cr(more));
                    }
                    None => return Err((first, "unbalanced '(' at end of file".into())),
                }
            }
            if open_parens(&entry) < 0 {
                return Err((first, "unbalanced ')'".into()));
            }
            if let Some((name, strings)) = zone.entry(&entry).map_err(|e| (first, e))? {
                file.add(&name, strings, first);
            }
        }
        Ok(file)
    }

    fn add(&mut self, name: &str, strings: Vec<Vec<u8>>, line: usize) {
        let owner = self.records.entry(key(name)).or_default();
        owner.rrs.push(strings);
        owner.lines.push(line);
    }

    /// Every name that has a TXT record, lower-case, in name order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.records.keys().map(String::as_str)
    }

    /// The 1-based line each TXT RR of `name` starts on, in the order [`TxtSource::lookup`]
    /// returns them (file order); empty when the name has none.
    pub fn lines(&self, name: &str) -> &[usize] {
        self.records.get(&key(name)).map_or(&[], |o| &o.lines[..])
    }
}

impl TxtSource for RecordsFile {
    fn lookup(&self, name: &str) -> Answer {
        match self.records.get(&key(name)) {
            Some(owner) => Answer::Present(owner.rrs.clone()),
            None => Answer::Absent,
        }
    }
}

fn key(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

fn strip_cr(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r").unwrap_or(b)
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// dnsmasq options other than txt-record (`local=/test/`, `no-resolv`, …) are not records.
fn is_other_dnsmasq_option(line: &[u8]) -> bool {
    let word_end = line
        .iter()
        .position(|b| *b == b'=' || b.is_ascii_whitespace())
        .unwrap_or(line.len());
    let word = &line[..word_end];
    let option_like = !word.is_empty()
        && word
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    option_like && (word_end == line.len() || line[word_end] == b'=')
}

/// `name[,text[,text…]]` as dnsmasq reads a config file: each comma-separated text is one
/// character-string; quotes keep commas and spaces and allow `\" \\ \t \n \b \r \e`;
/// `#` after white space starts a comment; texts over 255 bytes are split into 255-byte
/// strings, exactly as dnsmasq serves them.
fn dnsmasq_txt(rest: &[u8]) -> Result<(String, Vec<Vec<u8>>), String> {
    let mut fields: Vec<Vec<u8>> = vec![Vec::new()];
    let mut quoted_field = false;
    let mut white = true;
    let mut i = 0;
    while i < rest.len() {
        let c = rest[i];
        match c {
            b'"' => {
                quoted_field = true;
                i += 1;
                loop {
                    let Some(&q) = rest.get(i) else {
                        return Err("missing closing '\"' in txt-record".into());
                    };
                    i += 1;
                    match q {
                        b'"' => break,
                        b'\\' => {
                            let e = rest.get(i).copied();
                            let mapped = match e {
                                Some(b'"') => Some(b'"'),
                                Some(b'\\') => Some(b'\\'),
                                Some(b't') => Some(b'\t'),
                                Some(b'n') => Some(b'\n'),
                                Some(b'b') => Some(8),
                                Some(b'r') => Some(b'\r'),
                                Some(b'e') => Some(27),
                                _ => None,
                            };
                            let field = last(&mut fields);
                            match mapped {
                                Some(m) => {
                                    field.push(m);
                                    i += 1;
                                }
                                None => field.push(b'\\'),
                            }
                        }
                        _ => last(&mut fields).push(q),
                    }
                }
                white = false;
                continue;
            }
            b',' => {
                fields.push(Vec::new());
                quoted_field = false;
                white = true;
            }
            b'#' if white => break,
            c if c.is_ascii_whitespace() => {
                white = true;
                if quoted_field || !last(&mut fields).is_empty() {
                    last(&mut fields).push(b' ');
                }
            }
            _ => {
                white = false;
                last(&mut fields).push(c);
            }
        }
        i += 1;
    }
    for f in &mut fields {
        while f.last() == Some(&b' ') {
            f.pop();
        }
    }
    let name_bytes = fields.remove(0);
    let name = String::from_utf8(name_bytes)
        .ok()
        .filter(|n| valid_owner(n))
        .ok_or_else(|| "txt-record needs a DNS name before the first comma".to_string())?;
    if fields.is_empty() {
        // `txt-record=name` serves one RR holding one empty string.
        fields.push(Vec::new());
    }
    let mut strings = Vec::new();
    for f in fields {
        if f.is_empty() {
            strings.push(f);
        } else {
            strings.extend(f.chunks(255).map(<[u8]>::to_vec));
        }
    }
    Ok((name, strings))
}

fn last(fields: &mut Vec<Vec<u8>>) -> &mut Vec<u8> {
    if fields.is_empty() {
        fields.push(Vec::new());
    }
    let n = fields.len() - 1;
    &mut fields[n]
}

/// A host name's labels, or a wildcard's `*`.
fn valid_owner(n: &str) -> bool {
    name::labels_fit(name::strip_root(n), |b| name::host_byte(b) || b == b'*')
}

/// Counts '(' minus ')' outside quotes and comments.
fn open_parens(entry: &[u8]) -> i32 {
    let mut depth = 0;
    let mut in_quote = false;
    let mut i = 0;
    while i < entry.len() {
        match entry[i] {
            b'\\' => i += 1,
            b'"' => in_quote = !in_quote,
            b';' if !in_quote => {
                // The comment runs to the end of this physical line only.
                match entry[i..].iter().position(|&b| b == b'\n') {
                    Some(p) => i += p,
                    None => break,
                }
            }
            b'(' if !in_quote => depth += 1,
            b')' if !in_quote => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    depth
}

/// Zone-file state: `$ORIGIN` and the last owner name (a blank owner repeats it).
#[derive(Debug, Default)]
struct Zone {
    origin: Option<String>,
    last_owner: Option<String>,
}

/// An owner name and the character-strings of one TXT RR.
type Record = (String, Vec<Vec<u8>>);

/// One token of a zone-file line.
#[derive(Debug, PartialEq)]
enum Token {
    Word(Vec<u8>),
    Quoted(Vec<u8>),
}

impl Zone {
    /// One zone entry: `name [ttl] [class] TYPE rdata`. Returns the TXT record, if it is one.
    fn entry(&mut self, line: &[u8]) -> Result<Option<Record>, String> {
        let blank_owner = line.first().is_some_and(u8::is_ascii_whitespace);
        let tokens = zone_tokens(line)?;
        let mut it = tokens.into_iter().peekable();
        let Some(first) = it.peek() else {
            return Ok(None);
        };
        if let Token::Word(w) = first
            && w.starts_with(b"$")
        {
            let directive = w.to_ascii_uppercase();
            it.next();
            match directive.as_slice() {
                b"$ORIGIN" => match it.next() {
                    Some(Token::Word(o)) => {
                        let o = String::from_utf8(o).map_err(|_| "bad $ORIGIN")?;
                        self.origin = Some(o.strip_suffix('.').unwrap_or(&o).to_string());
                    }
                    _ => return Err("$ORIGIN needs a domain name".into()),
                },
                // Records it brings in would be missing, and a missing record disables (and
                // removes) a container: refuse it rather than read half a zone.
                b"$INCLUDE" => {
                    return Err(
                        "$INCLUDE is not supported: the included records would be missing; inline them (e.g. named-compilezone -s full)".into(),
                    );
                }
                // A TTL changes no text.
                b"$TTL" => {}
                _ => {
                    return Err(format!(
                        "unknown directive {}",
                        String::from_utf8_lossy(&directive)
                    ));
                }
            }
            return Ok(None);
        }
        let owner = if blank_owner {
            self.last_owner
                .clone()
                .ok_or("a record with a blank owner name before any named record")?
        } else {
            let Some(Token::Word(w)) = it.next() else {
                return Err("expected an owner name".into());
            };
            let w = String::from_utf8(w).map_err(|_| "owner name is not ASCII")?;
            let owner = self.absolute(&w)?;
            self.last_owner = Some(owner.clone());
            owner
        };
        // Optional TTL and class, in either order, then the type.
        let mut rtype = None;
        for t in it.by_ref() {
            let Token::Word(w) = t else {
                return Err("expected a record type before quoted text".into());
            };
            let up = w.to_ascii_uppercase();
            let is_ttl = up.iter().all(|b| b.is_ascii_alphanumeric())
                && up.first().is_some_and(u8::is_ascii_digit);
            if is_ttl || matches!(up.as_slice(), b"IN" | b"CH" | b"HS" | b"CS") {
                continue;
            }
            rtype = Some(up);
            break;
        }
        let Some(rtype) = rtype else {
            return Err("expected a record type".into());
        };
        if rtype != b"TXT" {
            return Ok(None);
        }
        let mut strings = Vec::new();
        for t in it {
            let s = match t {
                Token::Word(w) | Token::Quoted(w) => w,
            };
            if s.len() > 255 {
                return Err(format!(
                    "a TXT character-string is {} bytes, over the 255-byte limit: split it into several quoted strings",
                    s.len()
                ));
            }
            strings.push(s);
        }
        if strings.is_empty() {
            return Err(format!("TXT record for {owner} has no text"));
        }
        Ok(Some((owner, strings)))
    }

    fn absolute(&self, name: &str) -> Result<String, String> {
        let n = if name == "@" {
            self.origin.clone().ok_or("'@' used before any $ORIGIN")?
        } else if let Some(abs) = name.strip_suffix('.') {
            abs.to_string()
        } else {
            match &self.origin {
                Some(o) if !o.is_empty() => format!("{name}.{o}"),
                _ => name.to_string(),
            }
        };
        if valid_owner(&n) {
            Ok(n)
        } else {
            Err(format!("'{name}' is not a valid owner name"))
        }
    }
}

/// Splits a zone entry into words and quoted strings; `;` starts a comment, parentheses
/// group continuation lines, `\"`, `\\` and `\DDD` escape.
fn zone_tokens(line: &[u8]) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        match c {
            b';' => {
                while i < line.len() && line[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' | b')' => {}
            c if c.is_ascii_whitespace() => {}
            b'"' => {
                let mut s = Vec::new();
                i += 1;
                loop {
                    match line.get(i) {
                        None => return Err("missing closing '\"'".into()),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            let (b, used) = zone_escape(&line[i + 1..])?;
                            s.push(b);
                            i += used;
                        }
                        Some(&b) => s.push(b),
                    }
                    i += 1;
                }
                out.push(Token::Quoted(s));
            }
            _ => {
                let mut s = Vec::new();
                while let Some(&b) = line.get(i) {
                    if b.is_ascii_whitespace() || b"();\"".contains(&b) {
                        break;
                    }
                    if b == b'\\' {
                        let (e, used) = zone_escape(&line[i + 1..])?;
                        s.push(e);
                        i += used;
                    } else {
                        s.push(b);
                    }
                    i += 1;
                }
                out.push(Token::Word(s));
                continue;
            }
        }
        i += 1;
    }
    Ok(out)
}

/// The byte after a backslash: `\DDD` (decimal) or the character itself. Returns the byte
/// and how many input bytes it used.
fn zone_escape(after: &[u8]) -> Result<(u8, usize), String> {
    match after {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            let v = u32::from(a - b'0') * 100 + u32::from(b - b'0') * 10 + u32::from(c - b'0');
            u8::try_from(v)
                .map(|v| (v, 3))
                .map_err(|_| format!("escape \\{v} is over 255"))
        }
        [x, ..] => Ok((*x, 1)),
        [] => Err("backslash at end of line".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn rrs(f: &RecordsFile, name: &str) -> Vec<Vec<Vec<u8>>> {
        match f.lookup(name) {
            Answer::Present(r) => r,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn seed_dnsmasq_example() {
        let f = RecordsFile::parse(
            br#"
# the seed
txt-record=containers.docker.will-desktop,etcd
txt-record=containers.docker.will-desktop,bash-sleeper
txt-record=containers.docker.will-desktop,bash-echoer

txt-record=etcd.containers.docker.will-desktop,"quay.io/coreos/etcd"
txt-record=bash-sleeper.containers.docker.will-desktop,"ubuntu:wily sleep 60"
txt-record=bash-echoerr.containers.docker.will-desktop,"ubuntu:wily echo HelloDNS!"
local=/will-desktop/
no-resolv
"#,
        )
        .unwrap();
        assert_eq!(
            rrs(&f, "containers.docker.will-desktop"),
            vec![
                strings(&["etcd"]),
                strings(&["bash-sleeper"]),
                strings(&["bash-echoer"])
            ]
        );
        assert_eq!(
            rrs(&f, "Bash-Sleeper.containers.docker.will-desktop."),
            vec![strings(&["ubuntu:wily sleep 60"])]
        );
        assert_eq!(
            f.lookup("bash-echoer.containers.docker.will-desktop"),
            Answer::Absent
        );
        assert_eq!(f.lookup("docker.will-desktop"), Answer::Absent);
    }

    #[test]
    fn dnsmasq_quoting_commas_escapes_comments_and_splitting() {
        let long = "a".repeat(300);
        let text = format!(
            "txt-record=n.test,\"x, y\",plain ,\"q\\\"uote\\\\\" # comment\ntxt-record=e.test\ntxt-record=l.test,{long}\ntxt-record=t.test, spaced  words "
        );
        let f = RecordsFile::parse(text.as_bytes()).unwrap();
        assert_eq!(
            rrs(&f, "n.test"),
            vec![strings(&["x, y", "plain", "q\"uote\\"])]
        );
        assert_eq!(rrs(&f, "e.test"), vec![strings(&[""])]);
        assert_eq!(
            rrs(&f, "l.test"),
            vec![strings(&[&long[..255], &long[255..]])]
        );
        assert_eq!(rrs(&f, "t.test"), vec![strings(&["spaced  words"])]);
    }

    #[test]
    fn zone_file_lines() {
        let f = RecordsFile::parse(
            br#"
$ORIGIN will-desktop.
$TTL 300
@        IN SOA ns hostmaster 1 3600 600 86400 60
         IN NS  ns
containers.docker        TXT "etcd"
                         TXT "bash-sleeper" ; same owner
etcd.containers.docker 60 IN TXT "quay.io/coreos/etcd --name \"x y\"" "-more"
long.containers.docker IN 60 TXT ( "part one "
                                   "part two" )
abs.example.  TXT word \065\066
"#,
        )
        .unwrap();
        assert_eq!(
            rrs(&f, "containers.docker.will-desktop"),
            vec![strings(&["etcd"]), strings(&["bash-sleeper"])]
        );
        assert_eq!(
            rrs(&f, "etcd.containers.docker.will-desktop"),
            vec![strings(&["quay.io/coreos/etcd --name \"x y\"", "-more"])]
        );
        assert_eq!(
            rrs(&f, "long.containers.docker.will-desktop"),
            vec![strings(&["part one ", "part two"])]
        );
        assert_eq!(rrs(&f, "abs.example"), vec![strings(&["word", "AB"])]);
        assert_eq!(
            f.lookup("will-desktop"),
            Answer::Absent,
            "SOA/NS are not TXT"
        );
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("txt-record=a.test,\"open", 1, "missing closing"),
            ("\ntxt-record=,x", 2, "DNS name"),
            ("x TXT \"open", 1, "missing closing"),
            ("x TXT", 1, "no text"),
            ("  TXT \"a\"", 1, "blank owner"),
            ("x (\nTXT \"a\"", 1, "unbalanced"),
            ("@ TXT a", 1, "$ORIGIN"),
            ("bad..name TXT a", 1, "not a valid owner"),
            ("x TXT \\999", 1, "over 255"),
            ("$INCLUDE other.zone", 1, "$INCLUDE is not supported"),
            ("$GENERATE 1-9 c$ TXT x", 1, "unknown directive $GENERATE"),
            ("x TXT \"a\" )", 1, "unbalanced ')'"),
            ("x TXT ( \"a\"\n) )", 1, "unbalanced ')'"),
            ("$TTL 60\nx TXT a )", 2, "unbalanced ')'"),
        ];
        for (text, line, needle) in cases {
            let (l, why) = RecordsFile::parse(text.as_bytes()).expect_err(text);
            assert_eq!(l, *line, "{text}");
            assert!(why.contains(needle), "{text}: {why}");
        }
        let over = format!("x TXT \"{}\"", "b".repeat(256));
        assert!(
            RecordsFile::parse(over.as_bytes())
                .unwrap_err()
                .1
                .contains("255")
        );
    }

    #[test]
    fn each_rr_keeps_the_line_it_starts_on() {
        let f = RecordsFile::parse(
            br#"# a comment
txt-record=containers.docker.h,etcd
txt-record=etcd.containers.docker.h,"img"

$ORIGIN h.
containers.docker  TXT "web"
long.containers.docker  TXT ( "part one "
                              "part two" )
                   TXT "second" ; a blank owner repeats the last one
txt-record=Containers.Docker.H.,late
"#,
        )
        .unwrap();
        assert_eq!(f.lines("containers.docker.h"), [2, 6, 10]);
        assert_eq!(
            rrs(&f, "containers.docker.h"),
            vec![strings(&["etcd"]), strings(&["web"]), strings(&["late"])],
            "lines are in the order lookup returns the RRs"
        );
        assert_eq!(f.lines("ETCD.containers.docker.h."), [3]);
        assert_eq!(f.lines("long.containers.docker.h"), [7, 9]);
        assert!(f.lines("absent.h").is_empty());
        assert_eq!(
            f.names().collect::<Vec<_>>(),
            [
                "containers.docker.h",
                "etcd.containers.docker.h",
                "long.containers.docker.h"
            ]
        );
    }

    #[test]
    fn load_reports_the_file() {
        let e = RecordsFile::load(Path::new("/nonexistent/records")).unwrap_err();
        assert!(matches!(e, RecordsError::Unreadable(ref m) if m.contains("/nonexistent/records")));
    }

    #[test]
    fn load_refuses_what_never_ends_or_is_not_a_file() {
        let dir = std::env::temp_dir().join(format!("ddp-records-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        for path in [
            Path::new("/dev/zero"),
            Path::new("/dev/urandom"),
            &fifo,
            &dir,
        ] {
            let e = RecordsFile::load(path).unwrap_err();
            assert!(
                matches!(e, RecordsError::Unreadable(ref m) if m.contains("not a regular file")),
                "{}: {e}",
                path.display()
            );
        }
        // A sparse file over the limit is refused without reading it all.
        let big = dir.join("big");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_FILE_BYTES + 1).unwrap();
        let e = RecordsFile::load(&big).unwrap_err();
        assert!(e.to_string().contains("larger than 64 MiB"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every prefix of tricky lines, and each with every byte replaced by a delimiter, parses
    /// or fails with a message: a records file must never crash the tool.
    #[test]
    fn cut_or_mangled_lines_never_panic() {
        let seeds: [&[u8]; 6] = [
            b"txt-record=a.example,\"x\\\"y\",z # c",
            b"a.example. 60 IN TXT ( \"one\" ; c\n \"two\\123\" )",
            b"$ORIGIN example.\n@ TXT \"a\\\"b\" \\0",
            b"  TXT \"\\",
            b"local=/test/\nno-resolv",
            b"a TXT (\n\"x\"\n",
        ];
        for seed in seeds {
            for end in 0..=seed.len() {
                let _ = RecordsFile::parse(&seed[..end]);
                for at in 0..end {
                    for b in [b'"', b'\\', b'(', b')', b';', b'\n', b',', b'#', 0xff] {
                        let mut v = seed[..end].to_vec();
                        v[at] = b;
                        let _ = RecordsFile::parse(&v);
                    }
                }
            }
        }
    }
}
