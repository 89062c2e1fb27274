//! `lint`: every host of a records file checked offline, as its own run would read it, plus
//! what only the whole file shows (records no host reads, lists that name nothing, RRsets a
//! name server refuses). Each host is read by `desired::read` with the walk and the parser
//! `show`/`apply` use, so lint and the hosts never disagree; lint adds no rule of its own
//! about what a host runs. Never talks to DNS or Docker.

use crate::btree::IntoTree;
use crate::cli::{Options, Output};
use crate::desired::{self, Desired, HostList, Parser, Wanted, WantedState};
use crate::dns::records_file::RecordsFile;
use crate::dns::{Answer, TxtSource};
use crate::exit::Code;
use crate::walk::{self, Bound, Walk};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::time::Instant;

mod networks;

/// BIND (9.18.28 and later, `max-records-per-type`) refuses a zone with more records than
/// this in one RRset.
pub const MAX_RRSET: usize = 100;

/// The largest DNS message: TCP's two-octet length field (RFC 1035 §4.2.2). UDP carries
/// less; a reply too large for it is truncated and asked again over TCP, never more.
pub const MAX_MESSAGE: usize = 65_535;

/// The `name` of a finding about a list rather than one container.
pub const LIST: &str = "(list)";

/// Whether a finding fails lint by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Some host's run would change or fail because of it.
    Error,
    /// Nothing runs differently, but the file says something no host reads.
    Warning,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A listed name with no record at any level: launch disabled, the container removed.
    Disabled,
    /// A list entry that is not a valid container name.
    InvalidName,
    /// A record whose text the parser or the policy refuses.
    InvalidRecord,
    /// A container record published as several TXT records: ambiguous.
    Split,
    /// A list that names nothing.
    EmptyList,
    /// A name with records at its own level but no list at any level of its walk.
    NotConfigured,
    /// More than [`MAX_RRSET`] records at one name.
    TooManyRecords,
    /// Records at one name that no DNS message can carry.
    TooLarge,
    /// A container record no host reads.
    DeadRecord,
    /// A list no host reads.
    DeadList,
    /// A host whose run would not succeed for a reason none of the above names.
    HostFails,
    /// A container record that names a network no network list of its host declares.
    UndeclaredNetwork,
}

impl Kind {
    /// The kind's name in the output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Disabled => "disabled",
            Kind::InvalidName => "invalid-name",
            Kind::InvalidRecord => "invalid-record",
            Kind::Split => "split-record",
            Kind::EmptyList => "empty-list",
            Kind::NotConfigured => "not-configured",
            Kind::TooManyRecords => "too-many-records",
            Kind::TooLarge => "too-large",
            Kind::DeadRecord => "dead-record",
            Kind::DeadList => "dead-list",
            Kind::HostFails => "host-fails",
            Kind::UndeclaredNetwork => "undeclared-network",
        }
    }
}

/// One finding, shared by every host it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The 1-based line of the record it is about; 0 when no line is (never for a record).
    pub line: usize,
    /// The hosts whose run it concerns, sorted; for a record no host reads, its level.
    pub hosts: Vec<String>,
    /// The container name, or [`LIST`].
    pub name: String,
    /// Whether it fails lint.
    pub severity: Severity,
    /// What it is about.
    pub kind: Kind,
    /// What is wrong, and what to do, in words.
    pub what: String,
}

/// One container of one host, as lint reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostContainer {
    /// The listed name.
    pub name: String,
    /// `spec`, `disabled`, `invalid` or `unknown`, as `show` says.
    pub status: &'static str,
    /// The record that supplied the text, when one did.
    pub record: Option<String>,
    /// Its line.
    pub line: Option<usize>,
    /// The image it would run.
    pub image: Option<String>,
    /// Why it is invalid or unknown.
    pub error: Option<String>,
}

/// What one host would run, and the status its own `show` exits with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostResult {
    /// The host name.
    pub host: String,
    /// The levels its walk asks, most specific first.
    pub levels: Vec<String>,
    /// Where and why its walk stops.
    pub stop: String,
    /// The list records it reads.
    pub list_records: Vec<String>,
    /// `listed`, `not-configured` or `unavailable`.
    pub list: &'static str,
    /// Its containers, sorted by name.
    pub containers: Vec<HostContainer>,
    /// The exit status `show --hostname HOST` gives on the same file and options.
    pub exit: Code,
}

/// Everything lint found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Every host, by name.
    pub hosts: Vec<HostResult>,
    /// The findings, by line.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Findings of this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// 65 when some host's run would change or fail (or, `strict`, on any finding); else 0.
    pub fn code(&self, strict: bool) -> Code {
        let fails = self
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error || strict);
        if fails { Code::DataError } else { Code::Ok }
    }
}

/// The names in a records file that concern containers, by what they are.
#[derive(Debug, Default)]
struct Zone {
    /// level → its list record's name (`<prefix>.<level>`).
    lists: BTreeMap<String, String>,
    /// record name → (container name, level), for `<name>.<prefix>.<level>`.
    records: BTreeMap<String, (String, String)>,
    /// level → the first line of its container records.
    first_record: HashMap<String, usize>,
    /// list record name → each name it lists → the line of the first RR that lists it: a
    /// finding points at its line by one lookup, not by reading every list RR again (which
    /// made lint quadratic in the names a list gives no record).
    listed_at: HashMap<String, HashMap<String, usize>>,
}

impl Zone {
    /// Other TXT names (SPF, verification tokens) are not ours and are left alone.
    fn of(file: &RecordsFile, prefix: &str) -> Zone {
        let head = format!("{prefix}.");
        let infix = format!(".{prefix}.");
        let mut z = Zone::default();
        for owner in file.names() {
            if let Some(level) = owner.strip_prefix(&head) {
                z.lists.insert(level.to_string(), owner.to_string());
                let listed = z.listed_at.entry(owner.to_string()).or_default();
                for (rr, &line) in rrs(file, owner).iter().zip(file.lines(owner)) {
                    for name in rr.iter().flat_map(|s| desired::split_names(s)) {
                        listed.entry(name).or_insert(line);
                    }
                }
            } else if let Some(at) = owner.find(&infix).filter(|&at| at > 0) {
                let name = owner[..at].to_string();
                let level = owner[at + infix.len()..].to_string();
                if let Some(&line) = file.lines(owner).first() {
                    let first = z.first_record.entry(level.clone()).or_insert(line);
                    *first = line.min(*first);
                }
                z.records.insert(owner.to_string(), (name, level));
            }
        }
        z
    }

    /// Every level that owns a list or a container record: each is a host, unless it is a
    /// level of another one's walk (a level hosts inherit from).
    fn owners(&self) -> BTreeSet<&str> {
        self.lists
            .keys()
            .map(String::as_str)
            .chain(self.records.values().map(|(_, level)| level.as_str()))
            .into_set()
    }
}

/// Lint a records file: every host it configures, read as `show` reads it, and the findings;
/// network records under the default network prefix.
pub fn lint(
    file: &RecordsFile,
    prefix: &str,
    inherit: bool,
    bound: &Bound,
    parse: Parser<'_>,
) -> Report {
    let networks = networks::Rules::default();
    lint_with_networks(file, prefix, inherit, bound, parse, &networks)
}

/// [`lint`], with each host's network records read under `networks`' rules.
pub fn lint_with_networks(
    file: &RecordsFile,
    prefix: &str,
    inherit: bool,
    bound: &Bound,
    parse: Parser<'_>,
    networks: &networks::Rules,
) -> Report {
    let zone = Zone::of(file, prefix);
    let owners = zone.owners();
    let limits = walk::Limits {
        bound: bound.clone(),
        prefix: prefix.to_string(),
    };
    // A walk error means no host asks that level (a public suffix, or outside --top-domain).
    let mut walks: BTreeMap<&str, Walk> = BTreeMap::new();
    let mut unreachable: HashMap<&str, String> = HashMap::new();
    for owner in &owners {
        // A name `show --hostname` refuses (64), a `*` in a label say, is no host's.
        if crate::dns::name::host_name(owner).is_none() {
            unreachable.insert(
                owner,
                format!(
                    "{owner} is not a name a host can have: `show --hostname {owner}` exits {}",
                    Code::Usage.status()
                ),
            );
            continue;
        }
        match walk::walk(owner, &limits) {
            Ok(w) => {
                walks.insert(owner, w);
            }
            Err(why) => {
                unreachable.insert(owner, why);
            }
        }
    }
    let inherited: HashSet<&str> = walks
        .values()
        .flat_map(|w| w.levels.iter().skip(1).map(String::as_str))
        .collect();

    let to_read: Vec<&Walk> = walks
        .iter()
        .filter(|(name, _)| !inherited.contains(*name))
        .map(|(_, w)| w)
        .collect();
    // Hosts are independent: read them on every core (a file source reads inline).
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let per_host = crate::pool::map(&to_read, cores, |w| {
        let d = desired::read(file, w, prefix, inherit, parse);
        let mut found = Vec::new();
        host_findings(file, &zone, &d, &mut found);
        networks::findings(file, w, &d, networks, inherit, &mut found);
        let mut read = d.list_records.clone();
        if let HostList::Listed(ws) = &d.list {
            for wanted in ws {
                if let WantedState::Spec { record, .. }
                | WantedState::Invalid {
                    record: Some(record),
                    ..
                } = &wanted.state
                {
                    read.push(record.clone());
                }
            }
        }
        (summarise(file, d), found, read)
    });
    let mut raw: Vec<Finding> = Vec::new();
    let mut read: HashSet<String> = HashSet::new();
    let mut hosts = Vec::with_capacity(per_host.len());
    for (host, found, records) in per_host {
        hosts.push(host);
        raw.extend(found);
        read.extend(records);
    }
    let seen = Seen {
        hosts: &hosts,
        read: &read,
        unreachable: &unreachable,
        inherit,
    };
    zone_findings(file, &zone, &seen, &mut raw);
    Report {
        hosts,
        findings: merge(raw),
    }
}

/// The findings of one host's read: each container that would not run as listed, and the
/// list itself. A host whose `show` would not exit 0 always gets at least one error.
fn host_findings(file: &RecordsFile, zone: &Zone, d: &Desired, out: &mut Vec<Finding>) {
    let before = out.len();
    let host = &d.host;
    let mut add = |line: usize, name: &str, kind: Kind, what: String| {
        out.push(Finding {
            line,
            hosts: vec![host.clone()],
            name: name.to_string(),
            severity: Severity::Error,
            kind,
            what,
        });
    };
    match &d.list {
        HostList::Listed(ws) => {
            for w in ws {
                if let Some((line, kind, what)) = container_finding(file, zone, d, w) {
                    add(line, &w.name, kind, what);
                }
            }
        }
        HostList::NotConfigured => {
            let (line, kind, what) = not_configured_finding(file, zone, d);
            add(line, LIST, kind, what);
        }
        HostList::Unavailable(why) => add(
            first_line(file, &d.list_records),
            LIST,
            Kind::HostFails,
            format!("the list is unavailable: {why}"),
        ),
    }
    let code = d.code();
    if code != Code::Ok && out.len() == before {
        out.push(Finding {
            line: first_line(file, &d.list_records),
            hosts: vec![host.clone()],
            name: LIST.to_string(),
            severity: Severity::Error,
            kind: Kind::HostFails,
            what: format!(
                "the host's run exits {} (show --hostname {host} says why)",
                code.status()
            ),
        });
    }
}

/// Why a listed container would not run as listed, at which line; `None` when it would.
fn container_finding(
    file: &RecordsFile,
    zone: &Zone,
    d: &Desired,
    w: &Wanted,
) -> Option<(usize, Kind, String)> {
    let listing = || listing_line(file, zone, &d.list_records, &w.name);
    Some(match &w.state {
        WantedState::Spec { .. } => return None,
        WantedState::Disabled => (
            listing(),
            Kind::Disabled,
            "no record at any level: launch disabled, and the container is removed where it runs"
                .to_string(),
        ),
        WantedState::Invalid {
            record: None, why, ..
        } => (listing(), Kind::InvalidName, why.clone()),
        WantedState::Invalid {
            record: Some(record),
            why,
            ..
        } => {
            let lines = file.lines(record.as_str());
            if lines.len() > 1 {
                (
                    lines[0],
                    Kind::Split,
                    format!(
                        "{why}; lines {}: publish one TXT record with several strings (they are joined)",
                        join(lines)
                    ),
                )
            } else {
                let line = lines.first().copied().unwrap_or_else(listing);
                (line, Kind::InvalidRecord, why.clone())
            }
        }
        WantedState::Unknown(why) => (
            listing(),
            Kind::HostFails,
            format!("record unavailable: {why}"),
        ),
    })
}

/// A host with no list, or only lists that name nothing: it changes nothing.
fn not_configured_finding(file: &RecordsFile, zone: &Zone, d: &Desired) -> (usize, Kind, String) {
    // A list present but naming nothing may read as "not configured".
    let present: Vec<String> = d
        .walk
        .levels
        .iter()
        .filter_map(|l| zone.lists.get(l).cloned())
        .collect();
    if present.is_empty() {
        (
            zone.first_record.get(&d.host).copied().unwrap_or(0),
            Kind::NotConfigured,
            format!(
                "no container list at any level ({}): the host changes nothing and exits {}",
                d.walk.levels.join(", "),
                Code::NotConfigured.status()
            ),
        )
    } else {
        (
            first_line(file, &present),
            Kind::EmptyList,
            format!(
                "the list names nothing: the host is not configured and exits {}",
                Code::NotConfigured.status()
            ),
        )
    }
}

/// What only the whole file shows: oversized RRsets, lists that name nothing, and records
/// no host reads (with why: no list names them, a nearer level shadows them, or no walk
/// reaches them).
fn zone_findings(file: &RecordsFile, zone: &Zone, seen: &Seen<'_>, out: &mut Vec<Finding>) {
    oversized_findings(file, zone, out);
    empty_list_findings(file, zone, seen.hosts, out);
    let under = below_dead_levels(zone, seen);
    dead_findings(file, zone, seen, &under, out);
}

/// A finding about a level of the file rather than about one host's read.
fn level_finding(
    line: usize,
    level: &str,
    name: &str,
    severity: Severity,
    kind: Kind,
    what: String,
) -> Finding {
    Finding {
        line,
        hosts: vec![level.to_string()],
        name: name.to_string(),
        severity,
        kind,
        what,
    }
}

/// A warning about the record at `owner` on `level`, at the line it starts on.
fn warning_at(
    file: &RecordsFile,
    owner: &str,
    level: &str,
    name: &str,
    kind: Kind,
    what: String,
) -> Finding {
    let line = file.lines(owner).first().copied().unwrap_or(0);
    level_finding(line, level, name, Severity::Warning, kind, what)
}

/// RRsets no DNS message can carry, or too many records for BIND to load.
fn oversized_findings(file: &RecordsFile, zone: &Zone, out: &mut Vec<Finding>) {
    let owners = zone
        .lists
        .iter()
        .map(|(level, owner)| (owner, LIST, level.as_str()))
        .chain(
            zone.records
                .iter()
                .map(|(owner, (name, level))| (owner, name.as_str(), level.as_str())),
        );
    for (owner, name, level) in owners {
        let lines = file.lines(owner);
        let octets = reply_octets(owner, &rrs(file, owner));
        if octets > MAX_MESSAGE {
            out.push(level_finding(
                lines.first().copied().unwrap_or(0),
                level,
                name,
                Severity::Error,
                Kind::TooLarge,
                format!(
                    "the TXT records at {owner} need a reply of at least {octets} octets, over the {MAX_MESSAGE} of any DNS message: no server can send them, and a host asking gets no answer; shorten them"
                ),
            ));
        }
        if lines.len() > MAX_RRSET {
            out.push(level_finding(
                lines[0],
                level,
                name,
                Severity::Error,
                Kind::TooManyRecords,
                format!(
                    "{} TXT records at {owner}: BIND refuses a zone with more than {MAX_RRSET} records in one RRset (max-records-per-type); put several names in each record",
                    lines.len()
                ),
            ));
        }
    }
}

/// A list record whose strings hold no name; the hosts that read it alone got an error.
/// (desired::read reads a list that names nothing as not configured.)
fn empty_list_findings(
    file: &RecordsFile,
    zone: &Zone,
    hosts: &[HostResult],
    out: &mut Vec<Finding>,
) {
    let reported_empty: HashSet<&str> = hosts
        .iter()
        .filter(|h| h.list == "not-configured")
        .flat_map(|h| h.list_records.iter().map(String::as_str))
        .collect();
    for (level, owner) in &zone.lists {
        let names_nothing = zone.listed_at.get(owner).is_none_or(HashMap::is_empty);
        if reported_empty.contains(owner.as_str()) || !names_nothing {
            continue;
        }
        out.push(warning_at(
            file,
            owner,
            level,
            LIST,
            Kind::EmptyList,
            "the list names nothing: it adds no container to the hosts that merge it".to_string(),
        ));
    }
}

/// For each level that holds a record no host reads, what the hosts under it list: that
/// tells why no host reads it.
fn below_dead_levels<'z>(zone: &'z Zone, seen: &Seen<'z>) -> HashMap<&'z str, Below<'z>> {
    let read = seen.read;
    let dead_levels: HashSet<&str> = zone
        .lists
        .iter()
        .filter(|(_, owner)| !read.contains(*owner))
        .map(|(level, _)| level.as_str())
        .chain(
            zone.records
                .iter()
                .filter(|(owner, _)| !read.contains(*owner))
                .map(|(_, (_, level))| level.as_str()),
        )
        .collect();
    let mut under: HashMap<&str, Below> = HashMap::new();
    for h in seen.hosts {
        for level in &h.levels {
            if let Some(l) = dead_levels.get(level.as_str()) {
                let below = under.entry(l).or_default();
                for c in &h.containers {
                    below.listed.insert(c.name.as_str());
                    if c.status == "disabled" {
                        below.disabled.insert(c.name.as_str());
                    }
                }
            }
        }
    }
    under
}

/// Why no host reads a level no walk asks.
fn nobody(seen: &Seen<'_>, level: &str) -> String {
    format!(
        "no host reads it: no host's walk asks {level} ({})",
        seen.unreachable
            .get(level)
            .map_or("no host under it", String::as_str)
    )
}

/// Records no host reads: lists shadowed by nearer lists or on a level no walk asks, and
/// container records no list names there (with a "did you mean" when a listed name is close).
fn dead_findings(
    file: &RecordsFile,
    zone: &Zone,
    seen: &Seen<'_>,
    under: &HashMap<&str, Below<'_>>,
    out: &mut Vec<Finding>,
) {
    for (level, owner) in &zone.lists {
        if seen.read.contains(owner) {
            continue;
        }
        let what = if under.contains_key(level.as_str()) {
            format!(
                "no host reads this list: every host under {level} has a list at a nearer level{}",
                if seen.inherit {
                    ""
                } else {
                    ", and without --inherit the nearest list wins"
                }
            )
        } else {
            nobody(seen, level)
        };
        out.push(warning_at(file, owner, level, LIST, Kind::DeadList, what));
    }
    // Per level, built when a record there first needs a "did you mean".
    let mut near: HashMap<&str, Near<'_>> = HashMap::new();
    for (owner, (name, level)) in &zone.records {
        if seen.read.contains(owner) {
            continue;
        }
        let what = match under.get(level.as_str()) {
            None => nobody(seen, level),
            Some(_) if desired::valid_container_name(name).is_err() => format!(
                "no host reads it: {}",
                desired::valid_container_name(name)
                    .err()
                    .unwrap_or_default()
            ),
            Some(b) if b.listed.contains(name.as_str()) => format!(
                "no host reads it: every host under {level} that lists {name} has its record at a nearer level"
            ),
            Some(b) => {
                let hint = near
                    .entry(level.as_str())
                    .or_insert_with(|| Near::new(b.disabled.iter().copied()))
                    .closest(name)
                    .map(|d| {
                        format!("; did you mean {d} (listed, and disabled: it has no record)?")
                    })
                    .unwrap_or_default();
                format!("no list names {name} on the hosts under {level}{hint}")
            }
        };
        out.push(warning_at(file, owner, level, name, Kind::DeadRecord, what));
    }
}

/// What reading every host established, for the whole-file findings.
struct Seen<'a> {
    hosts: &'a [HostResult],
    /// Every record some host read (lists and containers, valid or not).
    read: &'a HashSet<String>,
    /// Levels no walk may ask, with why.
    unreachable: &'a HashMap<&'a str, String>,
    inherit: bool,
}

/// What the hosts under one level list.
#[derive(Debug, Default)]
struct Below<'a> {
    listed: HashSet<&'a str>,
    disabled: BTreeSet<&'a str>,
}

/// One host's read, reduced to what the report prints (a spec's create body is not kept:
/// 10,000 hosts' bodies would cost more memory than the whole file).
fn summarise(file: &RecordsFile, d: Desired) -> HostResult {
    let exit = d.code();
    let (list, wanted) = match d.list {
        HostList::Listed(ws) => ("listed", ws),
        HostList::NotConfigured => ("not-configured", Vec::new()),
        HostList::Unavailable(_) => ("unavailable", Vec::new()),
    };
    let containers = wanted
        .into_iter()
        .map(|w| {
            let line = |r: &str| file.lines(r).first().copied();
            let (status, record, image, error) = match w.state {
                WantedState::Spec { record, spec } => {
                    ("spec", Some(record), Some(spec.image.to_string()), None)
                }
                WantedState::Disabled => ("disabled", None, None, None),
                WantedState::Invalid { record, why, .. } => ("invalid", record, None, Some(why)),
                WantedState::Unknown(why) => ("unknown", None, None, Some(why)),
            };
            HostContainer {
                name: w.name,
                status,
                line: record.as_deref().and_then(line),
                record,
                image,
                error,
            }
        })
        .collect();
    HostResult {
        host: d.host,
        levels: d.walk.levels,
        stop: d.walk.stop,
        list_records: d.list_records,
        list,
        containers,
        exit,
    }
}

/// One finding per (line, name, kind, text), with every host it concerns: a fleet-wide list
/// or record read by 10,000 hosts is one line, not 10,000.
fn merge(raw: Vec<Finding>) -> Vec<Finding> {
    let mut by: BTreeMap<(usize, String, Kind, Severity, String), BTreeSet<String>> =
        BTreeMap::new();
    for f in raw {
        by.entry((f.line, f.name, f.kind, f.severity, f.what))
            .or_default()
            .extend(f.hosts);
    }
    by.into_iter()
        .map(|((line, name, kind, severity, what), hosts)| Finding {
            line,
            hosts: hosts.into_iter().collect(),
            name,
            severity,
            kind,
            what,
        })
        .collect()
}

/// The RRs of a name, as a host would get them.
fn rrs(file: &RecordsFile, name: &str) -> Vec<Vec<Vec<u8>>> {
    match file.lookup(name) {
        Answer::Present(rrs) => rrs,
        Answer::Absent | Answer::Unavailable(_) => Vec::new(),
    }
}

/// The size of the smallest reply that carries all of `owner`'s TXT records (an RRset is
/// never split over messages): the header (12 octets); the question, the name in wire form
/// (its text length + 2: a length octet per label, counting the dots' places, and the
/// root's) with type and class (4); per record, its owner as a compression pointer (2), type,
/// class, TTL and RDLENGTH (10), and its RDATA, each character-string with its length octet;
/// and the OPT record (11) a server returns to the tool's EDNS query. Servers may add more
/// (authority records, signatures): this is the floor, so anything over the limit is certain.
fn reply_octets(owner: &str, rrs: &[Vec<Vec<u8>>]) -> usize {
    let question = owner.len() + 2 + 4;
    let records: usize = rrs
        .iter()
        .map(|strings| 2 + 10 + strings.iter().map(|s| 1 + s.len()).sum::<usize>())
        .sum();
    12 + question + records + 11
}

/// The first line of the first of `records` that is in the file.
fn first_line(file: &RecordsFile, records: &[String]) -> usize {
    records
        .iter()
        .find_map(|r| file.lines(r).first().copied())
        .unwrap_or(0)
}

/// The line of the list RR that names `name` (the first, in the order the host reads its
/// lists); the list's first line when none does by our splitting.
fn listing_line(file: &RecordsFile, zone: &Zone, lists: &[String], name: &str) -> usize {
    lists
        .iter()
        .find_map(|list| zone.listed_at.get(list)?.get(name).copied())
        .unwrap_or_else(|| first_line(file, lists))
}

fn join(lines: &[usize]) -> String {
    lines
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The names a dead record's name may be a slip for, found without comparing every pair
/// (10,000 disabled names and as many dead records made 10^8 edit distances). Two names
/// are candidates when deleting at most one character from each gives the same text: one
/// character wrong, missing or extra, or two neighbours swapped. The edit distance then
/// picks the closest, as before.
struct Near<'a> {
    /// Each name, and each with one character deleted → the names it comes from.
    by_deletion: HashMap<String, Vec<&'a str>>,
}

impl<'a> Near<'a> {
    fn new(names: impl IntoIterator<Item = &'a str>) -> Near<'a> {
        let mut by_deletion: HashMap<String, Vec<&'a str>> = HashMap::new();
        for name in names {
            for key in deletions(name) {
                by_deletion.entry(key).or_default().push(name);
            }
        }
        Near { by_deletion }
    }

    /// The candidate closest to `name` within an edit distance of 2; the first by name on a
    /// tie, so the hint is the same from run to run.
    fn closest(&self, name: &str) -> Option<&'a str> {
        deletions(name)
            .filter_map(|key| self.by_deletion.get(&key))
            .flatten()
            .map(|c| (distance(c, name), *c))
            .filter(|(dist, _)| *dist <= 2)
            .min()
            .map(|(_, c)| c)
    }
}

/// `name`, and `name` with each one of its characters deleted.
fn deletions(name: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(name.to_string()).chain(
        name.char_indices()
            .map(move |(at, c)| format!("{}{}", &name[..at], &name[at + c.len_utf8()..])),
    )
}

/// Levenshtein distance, for "did you mean": container names are short.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// `docker-dns-provision lint`: load the file, lint it, print, and say how it went.
pub fn run(o: &Options) -> Code {
    let started = Instant::now();
    let Some(path) = &o.records else {
        log::error!("lint needs --records FILE");
        return Code::Usage;
    };
    let file = match crate::context::records_file(path) {
        Ok(f) => f,
        Err(stop) => {
            log::error!("{}", stop.why);
            return stop.code;
        }
    };
    let rules = crate::context::Rules::new(o);
    let limits = &rules.limits;
    // The hosts' own runs refuse it (78) before anything else: so does lint.
    if let Err(why) = walk::check(&limits.bound) {
        log::error!("{why}");
        return Code::Config;
    }
    let parse = rules.parser();
    let networks = networks::Rules {
        prefix: o.network_prefix.clone(),
        forbid_privileged: o.forbid_privileged,
    };
    let report = lint_with_networks(
        &file,
        &limits.prefix,
        o.inherit,
        &limits.bound,
        &parse,
        &networks,
    );
    let code = report.code(o.strict);
    let shown = path.display().to_string();
    let stdout = std::io::stdout().lock();
    let written = match o.output {
        Output::Json => write_json(&report, &shown, code, std::io::BufWriter::new(stdout)),
        Output::Text => {
            let mut out = stdout;
            out.write_all(to_text(&report, &shown).as_bytes())
                .and_then(|()| out.flush())
        }
    };
    if let Err(e) = written {
        // A report cut short must not pass for a clean one.
        log::error!("cannot write the report: {e}");
        return Code::Software;
    }
    for h in &report.hosts {
        log::debug!(
            "{}: {}",
            h.host,
            h.containers
                .iter()
                .map(|c| format!("{} {}", c.name, c.status))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    log::info!(
        "lint: {shown}: {} hosts, {} containers; {} errors, {} warnings; exit status {} in {:.2}s",
        report.hosts.len(),
        report
            .hosts
            .iter()
            .map(|h| h.containers.len())
            .sum::<usize>(),
        report.count(Severity::Error),
        report.count(Severity::Warning),
        code.status(),
        started.elapsed().as_secs_f64()
    );
    code
}

/// One line per finding: `FILE:LINE: HOST: NAME: error|warning: KIND: WHAT`. A finding shared
/// by several hosts names the first and counts the rest.
pub fn to_text(r: &Report, file: &str) -> String {
    let mut out = String::new();
    for f in &r.findings {
        let host = match f.hosts.len() {
            0 | 1 => f.hosts.first().cloned().unwrap_or_default(),
            n => format!("{} (+{} more hosts)", f.hosts[0], n - 1),
        };
        let severity = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out += &format!(
            "{file}:{}: {host}: {}: {severity}: {}: {}\n",
            f.line,
            f.name,
            f.kind.as_str(),
            f.what
        );
    }
    out
}

/// The whole report as one JSON document (the findings, and what every host would run),
/// written as it is made: 10,000 hosts' document built whole first cost 130 MB more.
pub fn write_json(
    r: &Report,
    file: &str,
    code: Code,
    out: impl std::io::Write,
) -> std::io::Result<()> {
    let mut ser = serde_json::Serializer::pretty(out);
    Doc { r, file, code }
        .serialize(&mut ser)
        .map_err(std::io::Error::other)?;
    let mut out = ser.into_inner();
    out.write_all(b"\n")?;
    out.flush()
}

struct Doc<'a> {
    r: &'a Report,
    file: &'a str,
    code: Code,
}

impl Serialize for Doc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.r;
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("command", "lint")?;
        m.serialize_entry("file", self.file)?;
        m.serialize_entry("exit", &self.code.status())?;
        m.serialize_entry(
            "summary",
            &json!({
                "hosts": r.hosts.len(),
                "containers": r.hosts.iter().map(|h| h.containers.len()).sum::<usize>(),
                "errors": r.count(Severity::Error),
                "warnings": r.count(Severity::Warning),
            }),
        )?;
        let file = self.file;
        let finding = move |f: &Finding| finding_json(f, file);
        m.serialize_entry("findings", &Each(&r.findings, finding))?;
        m.serialize_entry("hosts", &Each(&r.hosts, host_json))?;
        m.end()
    }
}

/// A sequence serialised one element at a time, each made just before it is written.
struct Each<'a, T, F>(&'a [T], F);

impl<T, F: Fn(&T) -> Value> Serialize for Each<'_, T, F> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&(self.1)(item))?;
        }
        seq.end()
    }
}

fn finding_json(f: &Finding, file: &str) -> Value {
    json!({
        "file": file, "line": f.line, "host": f.hosts.first(), "hosts": f.hosts,
        "name": f.name, "severity": match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        "kind": f.kind.as_str(), "message": f.what,
    })
}

fn host_json(h: &HostResult) -> Value {
    let containers: Vec<Value> = h
        .containers
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "status": c.status, "record": c.record, "line": c.line,
                "image": c.image, "error": c.error,
            })
        })
        .collect();
    json!({
        "host": h.host, "walk": {"levels": h.levels, "stop": h.stop},
        "list": h.list, "list_records": h.list_records, "exit": h.exit.status(),
        "containers": containers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> RecordsFile {
        RecordsFile::parse(text.as_bytes()).unwrap()
    }

    fn accept(text: &str) -> Result<crate::container::ContainerSpec, String> {
        if text.contains("BAD") {
            return Err(format!("cannot parse {text}"));
        }
        Ok(crate::container::tests::example(
            text,
            serde_json::json!({}),
        ))
    }

    #[test]
    fn names_are_lists_container_records_or_not_ours() {
        let f = file(
            "txt-record=containers.docker.h.x.test,web\n\
             txt-record=web.containers.docker.h.x.test,img\n\
             txt-record=a.b.containers.docker.x.test,img\n\
             txt-record=h.x.test,v=spf1 -all\n\
             txt-record=containers.docker,orphan\n",
        );
        let z = Zone::of(&f, "containers.docker");
        assert_eq!(
            z.lists.into_iter().collect::<Vec<_>>(),
            [(
                "h.x.test".to_string(),
                "containers.docker.h.x.test".to_string()
            )]
        );
        assert_eq!(
            z.records.into_values().collect::<Vec<_>>(),
            [
                ("a.b".to_string(), "x.test".to_string()),
                ("web".to_string(), "h.x.test".to_string())
            ]
        );
    }

    #[test]
    fn a_level_others_inherit_from_is_not_a_host() {
        let f = file(
            "txt-record=containers.docker.x.test,web\n\
             txt-record=web.containers.docker.h1.dc.x.test,img\n\
             txt-record=web.containers.docker.h2.x.test,img\n\
             txt-record=web.containers.docker.x.test,BAD\n",
        );
        let r = lint(
            &f,
            "containers.docker",
            false,
            &Bound::PublicSuffix,
            &accept,
        );
        let hosts: Vec<&str> = r.hosts.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(hosts, ["h1.dc.x.test", "h2.x.test"]);
        // Every host reads web from its own level: the fleet's bad record is never read.
        assert_eq!(r.count(Severity::Error), 0, "{:?}", r.findings);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, Kind::DeadRecord);
        assert_eq!(r.findings[0].line, 4);
        assert!(r.findings[0].what.contains("nearer level"));
    }

    #[test]
    fn one_finding_for_every_host_a_shared_record_fails() {
        let mut text = String::from(
            "txt-record=containers.docker.x.test,web\ntxt-record=web.containers.docker.x.test,BAD\n",
        );
        for h in 0..50 {
            text += &format!("txt-record=other.containers.docker.h{h}.x.test,img\n");
        }
        let r = lint(
            &file(&text),
            "containers.docker",
            false,
            &Bound::PublicSuffix,
            &accept,
        );
        assert_eq!(r.hosts.len(), 50);
        let errors: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{:?}", r.findings);
        assert_eq!(errors[0].hosts.len(), 50);
        assert_eq!((errors[0].line, errors[0].kind), (2, Kind::InvalidRecord));
        assert!(to_text(&r, "z").starts_with("z:2: h0.x.test (+49 more hosts): web: error: "));
        assert_eq!(r.code(false), Code::DataError);
    }

    #[test]
    fn a_file_source_is_read_on_the_calling_thread() {
        /// The file, noting which threads asked it.
        struct Noting(
            RecordsFile,
            std::sync::Mutex<HashSet<std::thread::ThreadId>>,
        );
        impl TxtSource for Noting {
            fn lookup(&self, name: &str) -> Answer {
                if let Ok(mut t) = self.1.lock() {
                    t.insert(std::thread::current().id());
                }
                self.0.lookup(name)
            }
        }
        let names: Vec<String> = (0..20).map(|i| format!("c{i:02}")).collect();
        let mut text = format!("txt-record=containers.docker.h,{}\n", names.join(" "));
        for n in &names {
            text += &format!("txt-record={n}.containers.docker.h,img\n");
        }
        let s = Noting(file(&text), Default::default());
        let w = walk::walk("h", &Bound::PublicSuffix).unwrap();
        for inherit in [false, true] {
            let d = desired::read(&s, &w, "containers.docker", inherit, &accept);
            assert!(matches!(d.list, HostList::Listed(ref ws) if ws.len() == 20));
        }
        let asked = s.1.lock().unwrap().clone();
        assert_eq!(asked, [std::thread::current().id()].into_iter().collect());
    }

    /// One list of 40,000 RRs naming 40,000 containers, 20,000 of which have no record, and
    /// 20,000 dead records each a slip for one of those. Each finding is found by lookups, not
    /// by reading every list RR (or comparing every pair of names) per name: on the quadratic
    /// code this test ran for many minutes, which is how it fails.
    #[test]
    fn a_list_of_many_names_without_records_is_linted_in_one_pass() {
        const LISTED: usize = 40_000;
        const UNRECORDED: usize = 20_000;
        let mut text = String::with_capacity(4 << 20);
        for i in 0..LISTED {
            text += &format!("txt-record=containers.docker.h.test,c{i}\n");
        }
        for i in UNRECORDED..LISTED {
            text += &format!("txt-record=c{i}.containers.docker.h.test,img\n");
        }
        for i in 0..UNRECORDED {
            text += &format!("txt-record=c{i}x.containers.docker.h.test,img\n");
        }
        let r = lint(
            &file(&text),
            "containers.docker",
            false,
            &Bound::PublicSuffix,
            &accept,
        );
        assert_eq!(r.hosts.len(), 1);
        let of = |kind| r.findings.iter().filter(move |f| f.kind == kind);
        let disabled: Vec<&Finding> = of(Kind::Disabled).collect();
        assert_eq!(disabled.len(), UNRECORDED);
        // Each points at the list RR that names it (c{i} is on line i + 1).
        for f in &disabled {
            assert_eq!(f.name, format!("c{}", f.line - 1), "{f:?}");
        }
        let dead: Vec<&Finding> = of(Kind::DeadRecord).collect();
        assert_eq!(dead.len(), UNRECORDED);
        for f in &dead {
            let meant = f.name.strip_suffix('x').unwrap_or_default();
            assert!(
                f.what.ends_with(&format!(
                    "did you mean {meant} (listed, and disabled: it has no record)?"
                )),
                "{f:?}"
            );
        }
        // And the list itself: too many RRs for BIND, too many octets for any reply.
        assert_eq!(of(Kind::TooManyRecords).count(), 1);
        assert_eq!(of(Kind::TooLarge).count(), 1);
        assert_eq!(
            r.findings.len(),
            2 * UNRECORDED + 2,
            "{:?}",
            &r.findings[..3]
        );
        let host = &r.hosts[0];
        assert_eq!(host.containers.len(), LISTED);
        assert_eq!(
            host.containers
                .iter()
                .filter(|c| c.status == "spec")
                .count(),
            LISTED - UNRECORDED
        );
    }

    /// A name `show --hostname` refuses (a `*` in a label: no wildcard, since `*` counts only
    /// as a whole leftmost label) is read as no host's, and its records as read by nobody,
    /// saying why; it used to be linted as a host of its own.
    #[test]
    fn a_name_no_host_can_have_is_not_linted_as_a_host() {
        let f = file(
            "txt-record=containers.docker.*.x.test,web\n\
             txt-record=web.containers.docker.*.x.test,img\n\
             txt-record=containers.docker.h.x.test,web\n\
             txt-record=web.containers.docker.h.x.test,img\n",
        );
        let r = lint(
            &f,
            "containers.docker",
            false,
            &Bound::PublicSuffix,
            &accept,
        );
        let hosts: Vec<&str> = r.hosts.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(hosts, ["h.x.test"]);
        let found: Vec<(usize, Kind)> = r.findings.iter().map(|f| (f.line, f.kind)).collect();
        assert_eq!(found, [(1, Kind::DeadList), (2, Kind::DeadRecord)]);
        for f in &r.findings {
            assert!(
                f.what.contains(
                    "*.x.test is not a name a host can have: `show --hostname *.x.test` exits 64"
                ),
                "{f:?}"
            );
        }
    }

    /// Records that no DNS message can carry are an error, to the octet: with a 28-character
    /// owner, one record of 65,210 bytes (dnsmasq splits it into 255 strings of 255 and one
    /// of 185) makes a reply of exactly 65,535 octets; one byte more, or a megabyte, cannot be
    /// sent.
    #[test]
    fn records_no_dns_message_can_carry_are_an_error() {
        for (len, too_large) in [(65_210, false), (65_211, true), (1 << 20, true)] {
            let f = file(&format!(
                "txt-record=containers.docker.h.test,web\ntxt-record=web.containers.docker.h.test,{}\n",
                "a".repeat(len)
            ));
            let r = lint(
                &f,
                "containers.docker",
                false,
                &Bound::PublicSuffix,
                &accept,
            );
            let found: Vec<&Finding> = r
                .findings
                .iter()
                .filter(|f| f.kind == Kind::TooLarge)
                .collect();
            if too_large {
                assert_eq!(found.len(), 1, "{len}: {:?}", r.findings);
                assert_eq!((found[0].line, found[0].severity), (2, Severity::Error));
                assert!(found[0].what.contains("over the 65535"), "{:?}", found[0]);
            } else {
                assert!(r.findings.is_empty(), "{len}: {:?}", r.findings);
            }
        }
        assert_eq!(
            reply_octets("web.containers.docker.h.test", &[vec![vec![b'a'; 10]; 2]]),
            12 + 30 + 4 + 12 + 22 + 11
        );
    }

    fn kinds(text: &str, inherit: bool) -> Vec<(usize, Kind, Severity)> {
        let r = lint(
            &file(text),
            "containers.docker",
            inherit,
            &Bound::PublicSuffix,
            &accept,
        );
        r.findings
            .iter()
            .map(|f| (f.line, f.kind, f.severity))
            .collect()
    }

    /// A record published as several RRs is one finding at its first line; one RR is none.
    #[test]
    fn a_record_split_over_lines_is_named_at_its_first() {
        let list = "txt-record=containers.docker.h.x.test,web\n";
        let one = format!("{list}txt-record=web.containers.docker.h.x.test,img\n");
        assert_eq!(kinds(&one, false), []);
        let two = format!("{one}txt-record=web.containers.docker.h.x.test,more\n");
        assert_eq!(kinds(&two, false), [(2, Kind::Split, Severity::Error)]);
    }

    /// BIND's limit is MAX_RRSET records in one RRset: that many pass, one more is an error.
    #[test]
    fn an_rrset_over_bind_s_limit_is_an_error() {
        for (count, over) in [(MAX_RRSET, false), (MAX_RRSET + 1, true)] {
            let mut text = String::new();
            for i in 0..count {
                text += &format!(
                    "txt-record=containers.docker.h.x.test,c{i}\ntxt-record=c{i}.containers.docker.h.x.test,img\n"
                );
            }
            let found = kinds(&text, false)
                .into_iter()
                .filter(|(_, kind, _)| *kind == Kind::TooManyRecords)
                .count();
            assert_eq!(found, usize::from(over), "{count} records");
        }
    }

    /// A list that names nothing, merged by a host that has names of its own, is a warning.
    #[test]
    fn a_merged_list_that_names_nothing_is_a_warning() {
        let text = "txt-record=containers.docker.h.x.test,web\n\
                    txt-record=web.containers.docker.h.x.test,img\n\
                    txt-record=containers.docker.x.test\n";
        assert_eq!(kinds(text, true), [(3, Kind::EmptyList, Severity::Warning)]);
    }

    #[test]
    fn edit_distance() {
        for (a, b, d) in [
            ("bash-echoer", "bash-echoerr", 1),
            ("etcd", "etdc", 2),
            ("", "ab", 2),
            ("web", "web", 0),
            ("kitten", "sitting", 3),
        ] {
            assert_eq!(distance(a, b), d, "{a} {b}");
            assert_eq!(distance(b, a), d, "{b} {a}");
        }
    }
}
