//! Embeds the git commit (when built from a checkout) into `--version`, and compiles the
//! vendored Public Suffix List into the compact table `walk::public_suffix` searches (the
//! binary must not read the list at run time: an initramfs has no such file).
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

fn main() {
    version();
    public_suffix_table();
}

fn version() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| !o.stdout.is_empty());
    let version = match commit {
        Some(c) if dirty => format!("{} ({c}-dirty)", env!("CARGO_PKG_VERSION")),
        Some(c) => format!("{} ({c})", env!("CARGO_PKG_VERSION")),
        None => env!("CARGO_PKG_VERSION").to_string(),
    };
    println!("cargo:rustc-env=DDP_VERSION={version}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    println!("cargo:rerun-if-env-changed=DDP_VERSION");
}

const LIST: &str = "src/walk/public_suffix_list.dat";

/// One line per parent name, sorted by it: `parent\tentry entry …\n`, where an entry is a
/// rule's first label, `*` for a wildcard rule and `!label` for an exception, after a `~`
/// when the rule is in the list's PRIVATE section (`github.io`: a company's, not a registry's
/// under ICANN). `com` sits in the group of the root (parent ""), `*.ck` and `!www.ck` in
/// the group of `ck`. Grouping stores each parent once: about 100 KB instead of the list's
/// 150 KB of rules.
fn public_suffix_table() {
    println!("cargo:rerun-if-changed={LIST}");
    let text = std::fs::read_to_string(LIST).unwrap_or_else(|e| panic!("{LIST}: {e}"));
    let mut version = None;
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rules = 0usize;
    let mut private = false;
    let mut sections = 0;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("// VERSION: ") {
            version = Some(v.trim().to_string());
        }
        if line.starts_with("// ===BEGIN PRIVATE DOMAINS===") {
            private = true;
            sections += 1;
        } else if line.starts_with("// ===BEGIN ICANN DOMAINS===") {
            private = false;
            sections += 1;
        }
        // The list's own format: a rule is the first white-space-delimited word of a line.
        let Some(rule) = line.split_whitespace().next() else {
            continue;
        };
        if rule.starts_with("//") {
            continue;
        }
        let (bang, rule) = match rule.strip_prefix('!') {
            Some(r) => ("!", r),
            None => ("", rule),
        };
        let labels: Vec<String> = rule
            .to_lowercase()
            .split('.')
            .map(|l| {
                assert!(!l.is_empty(), "{LIST}: empty label in rule '{rule}'");
                if l.is_ascii() {
                    l.to_string()
                } else {
                    format!("xn--{}", punycode(l))
                }
            })
            .collect();
        let (first, parent) = labels.split_first().expect("a rule has a label");
        assert!(
            !first.contains('*') || (first == "*" && bang.is_empty()),
            "{LIST}: a wildcard is only supported as a whole first label: '{rule}'"
        );
        assert!(
            parent
                .iter()
                .all(|l| !l.contains('*') && !l.contains(' ') && !l.contains('\t')),
            "{LIST}: unsupported rule '{rule}'"
        );
        let entries = groups.entry(parent.join(".")).or_default();
        let section = if private { "~" } else { "" };
        entries.push(format!("{section}{bang}{first}"));
        rules += 1;
    }
    assert!(rules > 5000, "{LIST}: only {rules} rules; is it truncated?");
    assert_eq!(sections, 2, "{LIST}: no ICANN and PRIVATE section markers");
    let version = version.unwrap_or_else(|| panic!("{LIST}: no '// VERSION:' line"));
    let mut table = String::new();
    for (parent, mut entries) in groups {
        entries.sort();
        entries.dedup();
        let _ = writeln!(table, "{parent}\t{}", entries.join(" "));
    }
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("public_suffix.rs");
    let code = format!(
        "/// The VERSION line of the vendored Public Suffix List.\n\
         pub const VERSION: &str = {version:?};\n\
         /// See build.rs: `parent\\tentry entry …\\n` lines sorted by parent.\n\
         pub static GROUPS: &str = {table:?};\n"
    );
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}

/// RFC 3492 Punycode of one label (without the `xn--`), as IDNA's ToASCII produces it for
/// the list's Unicode rules; host names reach the tool in that ASCII form.
fn punycode(label: &str) -> String {
    const BASE: u32 = 36;
    const TMIN: u32 = 1;
    const TMAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    fn adapt(delta: u32, points: u32, first: bool) -> u32 {
        let mut delta = if first { delta / DAMP } else { delta / 2 };
        delta += delta / points;
        let mut k = 0;
        while delta > ((BASE - TMIN) * TMAX) / 2 {
            delta /= BASE - TMIN;
            k += BASE;
        }
        k + (BASE - TMIN + 1) * delta / (delta + SKEW)
    }
    fn digit(d: u32) -> char {
        char::from(if d < 26 {
            b'a' + d as u8
        } else {
            b'0' + (d - 26) as u8
        })
    }
    let input: Vec<u32> = label.chars().map(u32::from).collect();
    let mut out: String = label.chars().filter(char::is_ascii).collect();
    let basic = out.len() as u32;
    if basic > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias, mut handled) = (128u32, 0u32, 72u32, basic);
    while (handled as usize) < input.len() {
        let m = input
            .iter()
            .copied()
            .filter(|&c| c >= n)
            .min()
            .expect("a code point is left");
        delta += (m - n) * (handled + 1);
        n = m;
        for &c in &input {
            if c < n {
                delta += 1;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        TMIN
                    } else if k >= bias + TMAX {
                        TMAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    out
}
