//! The documentation, checked like code. Needs `scdoc` and `man` (tests/kit/setup.sh installs
//! both), no root, engine or DNS:
//! - every page under `init/man/` builds with scdoc and renders with `man -l`, without a
//!   warning;
//! - docker-dns-provision(8) and `--help` name the same options (aliases included), value
//!   placeholders, defaults, commands and exit statuses, so the two cannot drift;
//! - the README's first command runs as shown, as an unprivileged user, with no engine;
//! - the record examples of docker-dns-provision(5) read as the page says;
//! - the facts the README carried before it became a front door (issue 23) are still
//!   documented: README.md, `init/man/*.scd` or `tests/bench/README.md`.

mod common;

use common::binary::{explain, statuses};
use common::tree::{read, repo};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_docker-dns-provision");

/// The scdoc sources, `init/man/NAME.SECTION.scd`, sorted.
fn sources() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(repo().join("init/man"))
        .expect("init/man")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "scd"))
        .collect();
    v.sort();
    v
}

fn page_source(name: &str) -> String {
    read(&repo().join("init/man").join(format!("{name}.scd")))
}

/// `scdoc < SOURCE`, failing on an error or any word on stderr.
fn scdoc(source: &Path) -> Vec<u8> {
    let o = Command::new("scdoc")
        .stdin(fs::File::open(source).unwrap())
        .output()
        .expect("run scdoc (tests/kit/setup.sh installs it: apt-get install scdoc)");
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "scdoc {}:\n{}",
        source.display(),
        explain(&o)
    );
    o.stdout
}

#[test]
fn every_page_builds_with_scdoc_and_renders_with_man_without_a_warning() {
    let sources = sources();
    let names: Vec<String> = sources
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "docker-dns-provision-operations.7",
            "docker-dns-provision-security.7",
            "docker-dns-provision.5",
            "docker-dns-provision.8",
        ]
    );
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("man");
    fs::create_dir_all(&out).unwrap();
    for (source, name) in sources.iter().zip(&names) {
        let text = read(source);
        let (title, section) = name.rsplit_once('.').unwrap();
        assert!(
            text.starts_with(&format!("{title}({section}) ")),
            "{name}.scd: the preamble must name {title}({section})"
        );
        // scdoc drops the dot of a line that starts with one (roff would read it as a
        // request): such a line loses text silently, so none may exist outside literal blocks.
        let mut literal = false;
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                literal = !literal;
                continue;
            }
            let l = line.trim_start_matches('\t');
            assert!(
                literal || !l.starts_with('.') || l.starts_with(". "),
                "{name}.scd:{}: a line starting with '.' loses it; rewrap: {line:?}",
                n + 1
            );
        }

        let roff = out.join(name);
        fs::write(&roff, scdoc(source)).unwrap();
        let o = Command::new("man")
            .args(["--warnings", "-l", "-Tutf8"])
            .arg(&roff)
            .env("MANWIDTH", "80")
            .env("MAN_DISABLE_SECCOMP", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run man (tests/kit/setup.sh installs man-db)");
        assert!(
            o.status.success() && o.stderr.is_empty() && o.stdout.len() > 1000,
            "man -l {name}:\n{}",
            explain(&o)
        );
    }
}

/// scdoc (or Markdown) source → the text a reader sees: markup and escapes gone, white space
/// collapsed. `*bold*`, `` `code` ``, `\x` and the underscores of `_underlined_` go; an
/// underscore inside a word (`DOCKER_HOST`) or escaped (`\_ping`) stays.
fn plain(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut s = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() => {
                s.push(chars[i + 1]);
                i += 1;
            }
            '*' | '`' => {}
            '_' => {
                let before = i > 0 && chars[i - 1].is_alphanumeric();
                let after = chars.get(i + 1).is_some_and(|c| c.is_alphanumeric());
                if before && after {
                    s.push('_');
                }
            }
            c if c.is_whitespace() => {
                if !s.ends_with(' ') {
                    s.push(' ');
                }
            }
            c => s.push(c),
        }
        i += 1;
    }
    s
}

/// The sections of a page: `# HEADING` → its lines.
fn sections(source: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in source.lines() {
        if let Some(h) = line.strip_prefix("# ") {
            current = h.to_string();
            map.entry(current.clone()).or_default();
        } else if !current.is_empty() {
            map.get_mut(&current).unwrap().push(line.to_string());
        }
    }
    map
}

/// Term/description pairs of a section: a term is a line that starts with `*` (not
/// indented) and is followed by tab-indented lines, its description.
fn terms(lines: &[String]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let next_indented = lines.get(i + 1).is_some_and(|l| l.starts_with('\t'));
        if line.starts_with('*') && next_indented {
            v.push((plain(line).trim().to_string(), String::new()));
        } else if let (Some(last), Some(text)) = (v.last_mut(), line.strip_prefix('\t')) {
            last.1.push(' ');
            last.1.push_str(text);
        } else if !line.trim().is_empty() {
            // A paragraph after the list ends the last description.
            v.push((String::new(), String::new()));
        }
    }
    v.into_iter()
        .filter(|(t, _)| !t.is_empty())
        .map(|(t, d)| (t, plain(&d).trim().to_string()))
        .collect()
}

/// `--help` split into its upper-case sections.
fn help() -> BTreeMap<String, Vec<String>> {
    let o = Command::new(BIN).arg("--help").output().unwrap();
    assert!(o.status.success(), "--help: {}", explain(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines().skip(2) {
        if !line.is_empty() && line.chars().all(|c| c.is_ascii_uppercase() || c == ' ') {
            current = line.to_string();
            map.entry(current.clone()).or_default();
        } else if !current.is_empty() {
            map.get_mut(&current).unwrap().push(line.to_string());
        }
    }
    map
}

/// `--flag ARG` pieces of a term: flag → placeholder ("" for none).
fn flags_of(term: &str) -> Vec<(String, String)> {
    term.split(", ")
        .map(|piece| {
            let (flag, arg) = piece.split_once(' ').unwrap_or((piece, ""));
            (flag.to_string(), arg.trim().to_string())
        })
        .collect()
}

/// The options of `--help`: flag → (placeholder, defaults), with `(alias --x)` as a flag of
/// its own that takes the same placeholder.
type HelpOptions = BTreeMap<String, (String, Vec<String>)>;

fn help_options() -> HelpOptions {
    let help = help();
    let lines = &help["OPTIONS"];
    // An entry starts at a line indented by four spaces and a dash; its term ends at a gap of
    // two spaces, the rest (and the deeper lines below it) is its description.
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in lines {
        if let Some(rest) = line.strip_prefix("    ").filter(|r| r.starts_with('-')) {
            let (term, desc) = rest.split_once("  ").unwrap_or((rest, ""));
            entries.push((term.trim().to_string(), desc.to_string()));
        } else if let Some(last) = entries.last_mut() {
            last.1.push(' ');
            last.1.push_str(line.trim());
        }
    }
    let mut options = HelpOptions::new();
    for (term, desc) in entries {
        let desc = plain(&desc);
        let mut defaults = Vec::new();
        let mut rest = desc.as_str();
        while let Some(start) = rest.find("[default") {
            let end = rest[start..].find(']').expect("a [default …] closes") + start;
            defaults.push(rest[start + 1..end].to_string());
            rest = &rest[end..];
        }
        let pieces = flags_of(&term);
        let arg = pieces[0].1.clone();
        for (flag, arg) in pieces {
            options.insert(flag, (arg, defaults.clone()));
        }
        let mut rest = desc.as_str();
        while let Some(at) = rest.find("alias --") {
            let alias: String = rest[at + 6..]
                .chars()
                .take_while(|c| *c == '-' || c.is_ascii_alphanumeric())
                .collect();
            options.insert(alias, (arg.clone(), defaults.clone()));
            rest = &rest[at + 6..];
        }
    }
    options
}

#[test]
fn the_command_page_documents_every_option_of_help_and_no_other() {
    let help = help_options();
    let page = sections(&page_source("docker-dns-provision.8"));
    let mut documented: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (term, desc) in terms(&page["OPTIONS"]) {
        assert!(!desc.is_empty(), "(8): option {term:?} has no description");
        for (flag, arg) in flags_of(&term) {
            documented.insert(flag, (arg, desc.clone()));
        }
    }
    let in_help: BTreeSet<&String> = help.keys().collect();
    let in_page: BTreeSet<&String> = documented.keys().collect();
    assert_eq!(
        in_help,
        in_page,
        "--help (left) and docker-dns-provision(8) OPTIONS (right) name different options: \
         only in --help {:?}, only in the page {:?}",
        in_help.difference(&in_page).collect::<Vec<_>>(),
        in_page.difference(&in_help).collect::<Vec<_>>()
    );
    for (flag, (arg, defaults)) in &help {
        let (page_arg, desc) = &documented[flag];
        assert_eq!(
            arg, page_arg,
            "{flag}: --help (left) and the page (right) name its value differently"
        );
        for default in defaults {
            // "default: 5m" in --help → "Default: 5m" in the page's description.
            let want = format!("D{}", &default[1..]);
            assert!(
                desc.contains(&want),
                "{flag}: the page does not say {want:?} (from --help); it says: {desc}"
            );
        }
    }
}

#[test]
fn the_command_page_has_the_commands_and_exit_statuses_of_help() {
    let help = help();
    let page_text = page_source("docker-dns-provision.8");
    let page = sections(&page_text);

    let first_words = |lines: &[String]| -> BTreeSet<String> {
        lines
            .iter()
            .filter_map(|l| l.strip_prefix("    "))
            .filter(|l| !l.starts_with(' '))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    };
    let page_terms = |section: &str| -> BTreeSet<String> {
        terms(&page[section]).into_iter().map(|(t, _)| t).collect()
    };
    assert_eq!(first_words(&help["COMMANDS"]), page_terms("COMMANDS"));
    let statuses: BTreeSet<String> = first_words(&help["EXIT STATUS"])
        .into_iter()
        .filter(|w| w.parse::<u8>().is_ok())
        .collect();
    assert_eq!(statuses, page_terms("EXIT STATUS"));

    // The precedence line, in --help, the page and the README alike.
    let order = |text: &str| -> Vec<u8> {
        let plain = plain(text);
        let at = plain
            .find("the first in this order wins:")
            .expect("a precedence line");
        plain[at..]
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .take(8)
            .map(|w| w.parse().unwrap())
            .collect()
    };
    let want = order(&help["EXIT STATUS"].join("\n"));
    assert_eq!(want, [64, 78, 70, 69, 75, 73, 65, 66]);
    assert_eq!(order(&page["EXIT STATUS"].join("\n")), want, "(8)");
    assert_eq!(order(&read(&repo().join("README.md"))), want, "README");

    // Every option of the synopsis is one the page documents.
    let synopsis = plain(&page["SYNOPSIS"].join("\n"));
    let usage = help["USAGE"].join(" ");
    for word in usage.split(|c: char| c.is_whitespace() || c == '[' || c == ']') {
        if word.starts_with("--") {
            assert!(synopsis.contains(word), "(8) SYNOPSIS lacks {word}");
        }
    }
}

/// Run as nobody when the test runs as root: the README promises a first command that needs
/// no root. From a fresh world-readable directory, so a checkout under /root does not matter.
fn unprivileged(cmd: &mut Command) -> &mut Command {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
    cmd
}

/// A directory nobody can read, holding the example records as `init/examples/…`.
fn examples_elsewhere(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ddp-man-pages-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("init/examples")).unwrap();
    for name in ["seed.dnsmasq.conf", "seed.zone"] {
        fs::copy(
            repo().join("init/examples").join(name),
            dir.join("init/examples").join(name),
        )
        .unwrap();
    }
    fs::copy(BIN, dir.join("docker-dns-provision")).unwrap();
    for d in [dir.clone(), dir.join("init"), dir.join("init/examples")] {
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// The README's fenced blocks, in order: (info string, lines).
fn readme_blocks() -> Vec<(String, Vec<String>)> {
    let readme = read(&repo().join("README.md"));
    let mut blocks = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in readme.lines() {
        if let Some(info) = line.strip_prefix("```") {
            match open.take() {
                Some(block) => blocks.push(block),
                None => open = Some((info.to_string(), Vec::new())),
            }
        } else if let Some((_, lines)) = open.as_mut() {
            lines.push(line.to_string());
        }
    }
    blocks
}

#[test]
fn the_readmes_first_command_runs_without_root_or_an_engine() {
    let readme = read(&repo().join("README.md"));
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines: it is a front door, at most 250"
    );

    let blocks = readme_blocks();
    let first = blocks
        .iter()
        .position(|(info, lines)| info == "sh" && lines.iter().any(|l| l.contains(" show ")))
        .expect("a sh block with the show command");
    let (_, lines) = &blocks[first];
    let args: Vec<&str> = lines[0]
        .split_once(" -- ")
        .expect("cargo run --release -- show …")
        .1
        .split_whitespace()
        .collect();
    assert_eq!(args[0], "show");
    let dir = examples_elsewhere("readme");
    let o = unprivileged(
        Command::new(dir.join("docker-dns-provision"))
            .args(&args)
            .current_dir(&dir)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null()),
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", explain(&o));
    // The output the README shows next is what it prints, line for line, up to its "…".
    let stdout = String::from_utf8_lossy(&o.stdout);
    let (_, shown) = &blocks[first + 1];
    for line in shown.iter().filter(|l| *l != "…") {
        assert!(
            stdout.lines().any(|l| l == line),
            "the README shows {line:?}, the run prints:\n{stdout}"
        );
    }

    // And the lint line after it: exit 65 for the deliberate typo, as the README says.
    let lint = blocks[first + 2..]
        .iter()
        .find(|(info, lines)| info == "sh" && lines[0].contains(" lint "))
        .expect("the lint command");
    let args: Vec<&str> = lint.1[0]
        .split_once(" -- ")
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let o = unprivileged(
        Command::new(dir.join("docker-dns-provision"))
            .args(&args)
            .current_dir(&dir)
            .stdin(Stdio::null()),
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(65), "{}", explain(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("bash-echoerr: warning: dead-record"));
    fs::remove_dir_all(&dir).unwrap();

    // Every relative link of the README leads to a file of the tree.
    for (at, _) in readme.match_indices("](") {
        let target = &readme[at + 2..];
        let target = &target[..target.find(')').unwrap()];
        if !target.contains("://") && !target.starts_with('#') {
            assert!(
                repo().join(target).exists(),
                "README links to {target}, which is not there"
            );
        }
    }
}

/// The literal blocks of a page, as a reader sees them (scdoc's `\` escapes undone).
fn literal_blocks(source: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<String> = None;
    for line in source.lines() {
        if line.trim_start() == "```" {
            match open.take() {
                Some(b) => blocks.push(b),
                None => open = Some(String::new()),
            }
        } else if let Some(b) = open.as_mut() {
            let mut chars = line.trim_start_matches('\t').chars();
            while let Some(c) = chars.next() {
                b.push(if c == '\\' {
                    chars.next().unwrap_or(c)
                } else {
                    c
                });
            }
            b.push('\n');
        }
    }
    blocks
}

#[test]
fn the_record_examples_read_as_the_records_page_says() {
    let blocks = literal_blocks(&page_source("docker-dns-provision.5"));
    // The seed's records, as shown, are the example files' records.
    for (start, file) in [
        (
            "txt-record=containers.docker.will-desktop",
            "seed.dnsmasq.conf",
        ),
        ("$ORIGIN will-desktop.", "seed.zone"),
    ] {
        let block = blocks
            .iter()
            .find(|b| b.starts_with(start))
            .unwrap_or_else(|| panic!("(5) shows no block starting {start:?}"));
        let example = read(&repo().join("init/examples").join(file));
        let normal = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
        let lines: BTreeSet<String> = example.lines().map(normal).collect();
        for line in block.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                lines.contains(&normal(line)),
                "{file} lacks the line (5) shows: {line:?}"
            );
        }
    }
    // The fleet example, in both syntaxes: three containers, all valid, for web1.dc1.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("man-examples");
    fs::create_dir_all(&dir).unwrap();
    for (start, file) in [
        ("$ORIGIN example.com.", "fleet.zone"),
        (
            "txt-record=containers.docker.example.com",
            "fleet.dnsmasq.conf",
        ),
    ] {
        let block = blocks
            .iter()
            .find(|b| b.starts_with(start))
            .unwrap_or_else(|| panic!("(5) shows no block starting {start:?}"));
        let path = dir.join(file);
        fs::File::create(&path)
            .unwrap()
            .write_all(block.as_bytes())
            .unwrap();
        let o = Command::new(BIN)
            .args(["show", "--output", "json", "--inherit", "--top-domain"])
            .args([
                "example.com",
                "--hostname",
                "web1.dc1.example.com",
                "--records",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{file}: {}", explain(&o));
        let got = statuses(&o);
        let want = |n: &str| (n.to_string(), "spec".to_string());
        assert_eq!(
            got,
            [want("etcd"), want("node-exporter"), want("web")],
            "{file}: {}",
            explain(&o)
        );
    }
}

/// One or two distinctive facts from every section of the README as it was before issue 23
/// made it a front door (commit 6066488), one `SECTION | FACT` a line. Each must still be
/// documented, word for word once markup is gone, in the README, a man page source or the
/// benchmarks' README. SECTION is the old README's section.
const FACTS: &str = "\
intro | never takes a running service down because of a DNS hiccup
intro | single, synchronous, fully static binary
Getting going: two commands | .ci/run
Getting going: two commands | every container that carries the tool's label
Records: the list | Names ending in .ddp-new, .ddp-old or .ddp-failed are reserved for replacements
Records: the list | separated by white space or commas
Records: levels | with --inherit the lists of every level are merged
Records: the walk stays in the fleet's domain | never asks a level at or above a public suffix
Records: the walk stays in the fleet's domain | a name under a top-level domain the list does not know
Records: the walk stays in the fleet's domain | VERSION 2026-10-22
Records: a container's record | RFC 7208 §3.3
Records: a container's record | an RRset has no order
Records: the text | split like a POSIX shell line without expansion
Records: identity | docker-dns-provision.command=
Records: identity | a different text means a replacement
The docker run grammar | docker CLI 28.2
The docker run grammar | --disable-content-trust
The docker run grammar | --io-maxbandwidth
Checked against the CLI | 450 real docker run lines
Checked against the CLI | 96.7 %
Checked against the CLI | DDP_UPDATE_CLI_SNAPSHOT=1
What each run does | names are king
What each run does | GET /containers/json?all=1
What each run does | unanchored-regex trap
One-shot jobs | ended by itself
One-shot jobs | which keeps a few hundred events
Crash recovery | after a power cut mid-replace
Crash recovery | needs no DNS
Verification | its own start period plus retries × (interval + timeout)
Verification | last 10 lines of output
Rollback and the held-back version | held-back
Rollback and the held-back version | docker rm name.ddp-failed
Kept containers | a crash-looping container fails every run
Start order | docker-dns-provision.after=etcd,zk
Start order | Removals run in reverse
Safety rules | Only an authoritative absence removes anything
Safety rules | Do not use --rm for a service you cannot afford to lose during a replace
Safety rules | never a kill
Exit status | When several apply, the first in this order wins: 64, 78, 70, 69, 75, 73, 65, 66
Exit status | no reply by --timeout plus 30 s
Options | a regular file of at most 64 MiB
Options | --dns-prefix
Options | --inheritance
Building the static binary | +crt-static
Building the static binary | static-pie linked
Building the static binary | 2,836,512
Building the static binary | --icf=all
Building the static binary | Public Suffix List 103,456 bytes
At boot | 250 ms doubling to 10 s
At boot | TimeoutStartSec=infinity
At boot | 4 min + 30 s < 5 min
Installing from source | DESTDIR, PREFIX and UNITDIR
Gating the orchestrator | systemd #18856
Gating the orchestrator | status=65/DATAERR
Periodic resync | FixedRandomDelay=true
Periodic resync | Requisite=docker.service
Periodic resync | --splay 60s
Debian package | enables nothing
Debian package | delete your copies of the drop-in first
Debian package | lintian reports no error and no warning
The boot, tested under a real systemd | assuming containerized execution
The boot, tested under a real systemd | /run/lock/ddp-engine-tests.lock
Hardening, measured | exposure level 2.2
Hardening, measured | ProtectHome=yes
How DNS is retried | Every try stays open
How DNS is retried | A dead first nameserver costs one try per rest
How DNS is retried | jittered over 50–100 %
Logging | JOURNAL_STREAM
Logging | apply: created=1 replaced=1 started=0 removed=1
Private registries | X-Registry-Auth
Private registries | docker-credential-NAME get (at most 20 s, an answer of at most 1 MiB)
Private registries | ProtectHome= hides /root even from root
When a pull fails | digest mismatch
When a pull fails | 120.5 MB of 310.2 MB
Image updates | pull_policy
Image updates | imagePullPolicy
Image updates | pinned by digest
lint | (+9999 more hosts)
lint | too-many-records
lint | lint never passes a host its show fails
lint in CI | actions/checkout@v4
lint in CI | debian:12-slim
lint speed | 60,006 lines, 8.2 MB
lint speed | 1.29 s
Fleet scale | 600 queries a second
Fleet scale | msg-cache-size: 64m
Fleet scale | 0.48 ms of CPU per query
Fleet scale | RFC 2308
Threat model | whoever controls the DNS answers this host receives decides what runs as root on it
What is always on | random 16-bit ID
What is always on | no NSS module, hosts file or search list
--require-ad | 127.0.0.0/8
--require-ad | options trust-ad
--allow-image | busybox:1 does not allow busybox:1.36
--forbid-privileged | kexec_load is not namespaced
--forbid-privileged | DAC_READ_SEARCH
--forbid-privileged | svirt_sandbox_file_t
--forbid-privileged | /etc/kubernetes/admin.conf
--forbid-privileged | /srv/../etc
--forbid-privileged | bypasses found in issue 14
Does not stop | NVIDIA_VISIBLE_DEVICES
Does not stop | thermal_throttle
Does not stop | --oom-score-adj -1000
Recommended setup | DNSSEC=yes
Recommended setup | 127.0.0.53
Recommended setup | Watch for exit 65
Benchmarks | 30,328
Benchmarks | 177×
Benchmarks | 3,724 KiB
Benchmarks | L + 2 = 4
Benchmarks | BENCH_SETTLE
";

#[test]
fn every_fact_of_the_old_readme_is_still_documented() {
    let mut docs = vec![
        repo().join("README.md"),
        repo().join("tests/bench/README.md"),
    ];
    docs.extend(sources());
    // Markdown's block quotes ("> ") are markup too.
    let unquoted = |t: String| -> String {
        t.lines()
            .map(|l| l.strip_prefix("> ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let text: String = docs
        .iter()
        .map(|p| plain(&unquoted(read(p))) + " ")
        .collect();
    let missing: Vec<String> = FACTS
        .lines()
        .map(|l| l.split_once(" | ").expect("SECTION | FACT"))
        .filter(|(_, fact)| !text.contains(fact))
        .map(|(section, fact)| format!("{section}: {fact:?}"))
        .collect();
    assert!(
        missing.is_empty(),
        "documented nowhere in README.md, init/man/*.scd or tests/bench/README.md:\n{}",
        missing.join("\n")
    );
}
