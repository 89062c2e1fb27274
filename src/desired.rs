//! What DNS says this host should run: record names, the inheritance walk, list and command
//! lookups, joining of character-strings. Pure logic over a [`TxtSource`]; never talks to Docker.

use crate::container::ContainerSpec;
use crate::dns::name::MAX_NAME;
use crate::dns::{Answer, TxtSource};
use crate::step::SUFFIXES;
use crate::walk::Walk;
use std::sync::Arc;

/// The host's desired state as DNS states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The host name the records were looked up for.
    pub host: String,
    /// The levels asked, and where the walk stopped.
    pub walk: Walk,
    /// The list record names that were present (the levels that supplied the list).
    pub list_records: Vec<String>,
    /// The container list and each container's record.
    pub list: HostList,
}

/// The container list of a whole host.
#[derive(Debug, Clone, PartialEq)]
pub enum HostList {
    /// The list was found: these containers, each with its own state.
    Listed(Vec<Wanted>),
    /// The list is absent at every level, or names no container: nothing is configured.
    NotConfigured,
    /// Some level could not be read: never act on a partial list.
    Unavailable(String),
}

/// One container DNS names, and what its record says.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    /// The container name as listed.
    pub name: String,
    /// What its record established.
    pub state: WantedState,
}

/// The outcome of reading one container's record.
#[derive(Debug, Clone, PartialEq)]
pub enum WantedState {
    /// A valid record: run this.
    Spec {
        /// The record name that supplied the text.
        record: String,
        /// The parsed spec (it holds the text).
        spec: Arc<ContainerSpec>,
    },
    /// The record is absent at every level: launch disabled, remove the container.
    Disabled,
    /// The name or the record is unusable; its container is left untouched.
    Invalid {
        /// The record name, when the error is in a record rather than in the list.
        record: Option<String>,
        /// The offending text, when there is one.
        text: Option<String>,
        /// What is wrong.
        why: String,
    },
    /// Some level could not be read; its container is left untouched.
    Unknown(String),
}

impl Desired {
    /// The exit code what DNS says calls for on its own (for `show`; `plan` adds the engine).
    pub fn code(&self) -> crate::exit::Code {
        use crate::exit::Code;
        match &self.list {
            HostList::Unavailable(_) => Code::TempFail,
            HostList::NotConfigured => Code::NotConfigured,
            HostList::Listed(ws) => ws.iter().fold(Code::Ok, |c, w| match w.state {
                WantedState::Invalid { .. } => c.worst(Code::DataError),
                WantedState::Unknown(_) => c.worst(Code::TempFail),
                _ => c,
            }),
        }
    }
}

/// Turns a record's text into a spec, or says why it cannot (parse errors, policy).
pub type Parser<'a> = &'a (dyn Fn(&str) -> Result<ContainerSpec, String> + Sync);

/// Read the desired state of the walk's host from `source`, asking only the walk's levels.
pub fn read(
    source: &dyn TxtSource,
    walk: &Walk,
    prefix: &str,
    inherit: bool,
    parse: Parser<'_>,
) -> Desired {
    let levels = &walk.levels;
    let list_names: Vec<String> = levels.iter().map(|l| format!("{prefix}.{l}")).collect();
    let (list_records, list) = read_list(source, &list_names, inherit);
    let list = match list {
        ListOutcome::Names(names) => {
            let states = read_records(
                source,
                &names,
                (prefix, levels),
                valid_container_name,
                |record, rrs| from_record(record, rrs, parse),
            );
            let containers = names
                .into_iter()
                .zip(states)
                .map(|(name, state)| Wanted { name, state })
                .collect();
            HostList::Listed(containers)
        }
        ListOutcome::NotConfigured => HostList::NotConfigured,
        ListOutcome::Unavailable(why) => HostList::Unavailable(why),
    };
    Desired {
        host: walk.host.clone(),
        walk: walk.clone(),
        list_records,
        list,
    }
}

/// What a list record (at every level asked) says: names, nothing, or unreadable.
pub(crate) enum ListOutcome {
    Names(Vec<String>),
    NotConfigured,
    Unavailable(String),
}

/// Without inheritance the first Present level wins and an Unavailable level before it makes
/// the list Unavailable (it might have been the one). With inheritance every level counts,
/// so any Unavailable level makes the list Unavailable.
pub(crate) fn read_list(
    source: &dyn TxtSource,
    names: &[String],
    inherit: bool,
) -> (Vec<String>, ListOutcome) {
    let answers: Vec<Answer> = if inherit {
        source.lookup_all(names)
    } else {
        // Sequential on purpose: a less specific level must not be waited for (it may be
        // retrying until the deadline) once a more specific one answered.
        let mut v = Vec::new();
        for n in names {
            let a = source.lookup(n);
            let done = !matches!(a, Answer::Absent);
            v.push(a);
            if done {
                break;
            }
        }
        v
    };
    let mut present = Vec::new();
    let mut list = Vec::new();
    for (name, answer) in names.iter().zip(answers) {
        match answer {
            Answer::Absent => {}
            Answer::Unavailable(why) => {
                return (present, ListOutcome::Unavailable(format!("{name}: {why}")));
            }
            Answer::Present(rrs) => {
                present.push(name.clone());
                for strings in rrs {
                    for s in strings {
                        list.extend(split_names(&s));
                    }
                }
                if !inherit {
                    break;
                }
            }
        }
    }
    // An RRset has no order (dnsmasq even reverses it): sort, so plans and reports are
    // stable from run to run. A name listed twice (in two RRs, or at two levels) is one
    // container: the copies go after the sort, in one pass (a search of the list for each
    // name was quadratic, seconds for a list of 40,000 names).
    list.sort();
    list.dedup();
    // A list that names nothing (`""`) configures nothing: only --allow-empty may make it
    // remove every managed container, as when there is no list at all.
    if list.is_empty() {
        (present, ListOutcome::NotConfigured)
    } else {
        (present, ListOutcome::Names(list))
    }
}

/// One character-string of the list: names separated by white space or commas.
pub(crate) fn split_names(s: &[u8]) -> Vec<String> {
    s.split(|b| b.is_ascii_whitespace() || *b == b',')
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect()
}

/// Docker's container name rule, minus the names our own temporaries use.
pub fn valid_container_name(name: &str) -> Result<(), String> {
    if !crate::container::valid_docker_name(name) {
        return Err(format!(
            "'{}' is not a valid container name (2 or more of [a-zA-Z0-9_.-], starting with a letter or digit)",
            name.escape_debug()
        ));
    }
    // The name becomes the leading labels of its record's DNS name; a name no query can carry
    // would otherwise read as "DNS unavailable" (exit 75, retried forever) instead of invalid.
    if !crate::dns::name::labels_fit(name, |_| true) {
        return Err(format!(
            "'{name}' cannot be part of a DNS name: each dot-separated part must be 1 to 63 characters"
        ));
    }
    if let Some(suffix) = SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Err(format!(
            "'{name}' ends in {suffix}, which this tool reserves for replacements ({})",
            SUFFIXES.join(", ")
        ));
    }
    Ok(())
}

/// What a kind of named record (a container's, a network's) becomes when it is not read or
/// not found: [`read_records`] walks both kinds the same way.
pub(crate) trait RecordState {
    /// The kind, for the messages ("container", "network").
    const KIND: &'static str;
    /// Refused before it is asked: a bad name, or a record name DNS cannot carry.
    fn invalid(record: Option<String>, why: String) -> Self;
    /// No record at any level.
    fn disabled() -> Self;
    /// A level at or before the record could not be read.
    fn unknown(why: String) -> Self;
}

impl RecordState for WantedState {
    const KIND: &'static str = "container";
    fn invalid(record: Option<String>, why: String) -> Self {
        WantedState::Invalid {
            record,
            text: None,
            why,
        }
    }
    fn disabled() -> Self {
        WantedState::Disabled
    }
    fn unknown(why: String) -> Self {
        WantedState::Unknown(why)
    }
}

/// Each named record (`<name>.<prefix>.<level>`): the most specific level that has it wins,
/// and an Unavailable level before it makes it Unknown (that level might have overridden
/// it). All names' walks are followed at once, none waiting for another's, so a host's
/// records cost about one round trip per level, not one per name. `present` reads a found
/// record's strings.
pub(crate) fn read_records<S: RecordState>(
    source: &dyn TxtSource,
    names: &[String],
    (prefix, levels): (&str, &[String]),
    valid: fn(&str) -> Result<(), String>,
    present: impl Fn(String, Vec<Vec<Vec<u8>>>) -> S,
) -> Vec<S> {
    let mut states: Vec<Option<S>> = Vec::with_capacity(names.len());
    let mut walks: Vec<Vec<String>> = Vec::new();
    let mut walked: Vec<usize> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if let Err(why) = valid(name) {
            states.push(Some(S::invalid(None, why)));
            continue;
        }
        let records: Vec<String> = levels
            .iter()
            .map(|l| format!("{name}.{prefix}.{l}"))
            .collect();
        // The most specific level gives the longest name.
        if let Some(longest) = records.first().filter(|r| r.len() > MAX_NAME) {
            let why = format!(
                "the record name is {} characters long; DNS allows at most {MAX_NAME}: shorten the {} name",
                longest.len(),
                S::KIND
            );
            states.push(Some(S::invalid(Some(longest.clone()), why)));
            continue;
        }
        states.push(None);
        walks.push(records);
        walked.push(i);
    }
    let answers = source.lookup_walks(&walks);
    for ((i, walk), (at, answer)) in walked.into_iter().zip(walks).zip(answers) {
        let record = walk.into_iter().nth(at).unwrap_or_default();
        states[i] = Some(match answer {
            Answer::Absent => S::disabled(),
            Answer::Unavailable(why) => S::unknown(format!("{record}: {why}")),
            Answer::Present(rrs) => present(record, rrs),
        });
    }
    states
        .into_iter()
        .map(|s| s.unwrap_or_else(S::disabled))
        .collect()
}

fn from_record(record: String, rrs: Vec<Vec<Vec<u8>>>, parse: Parser<'_>) -> WantedState {
    if rrs.len() > 1 {
        let texts: Vec<String> = rrs
            .iter()
            .map(|s| String::from_utf8_lossy(&s.concat()).into_owned())
            .collect();
        return WantedState::Invalid {
            why: format!(
                "ambiguous: {} TXT records at {record} (an RRset has no order, so they cannot be joined): {texts:?}",
                rrs.len()
            ),
            record: Some(record),
            text: None,
        };
    }
    // RFC 7208 §3.3: the strings of one RR are one text, joined without separator; this is
    // how values over 255 bytes are published (and how dnsmasq splits them).
    let joined: Vec<u8> = rrs.into_iter().flatten().flatten().collect();
    let text = match String::from_utf8(joined) {
        Ok(t) => t,
        Err(e) => {
            return WantedState::Invalid {
                why: format!(
                    "the text is not valid UTF-8 (byte {})",
                    e.utf8_error().valid_up_to()
                ),
                text: Some(String::from_utf8_lossy(e.as_bytes()).into_owned()),
                record: Some(record),
            };
        }
    };
    match parse(&text) {
        Ok(spec) => WantedState::Spec {
            record,
            spec: Arc::new(spec),
        },
        Err(why) => WantedState::Invalid {
            record: Some(record),
            text: Some(text),
            why,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::Bound;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// A source scripted by name; everything else is Absent. Records which names were asked,
    /// and the size of every batch asked at once.
    #[derive(Default)]
    struct Script {
        answers: HashMap<String, Answer>,
        asked: Mutex<Vec<String>>,
        batches: Mutex<Vec<usize>>,
    }

    impl Script {
        fn txt(mut self, name: &str, rrs: &[&[&str]]) -> Self {
            let v = rrs
                .iter()
                .map(|rr| rr.iter().map(|s| s.as_bytes().to_vec()).collect())
                .collect();
            self.answers.insert(name.into(), Answer::Present(v));
            self
        }
        fn down(mut self, name: &str) -> Self {
            self.answers
                .insert(name.into(), Answer::Unavailable("SERVFAIL".into()));
            self
        }
        fn asked(&self) -> Vec<String> {
            self.asked.lock().unwrap().clone()
        }
    }

    impl TxtSource for Script {
        fn lookup(&self, name: &str) -> Answer {
            self.asked.lock().unwrap().push(name.to_string());
            self.answers.get(name).cloned().unwrap_or(Answer::Absent)
        }

        fn lookup_walks(&self, walks: &[Vec<String>]) -> Vec<(usize, Answer)> {
            self.batches.lock().unwrap().push(walks.len());
            walks
                .iter()
                .map(|walk| crate::dns::walk_one_by_one(self, walk))
                .collect()
        }
    }

    fn fake_parse(text: &str) -> Result<ContainerSpec, String> {
        if text.contains("BAD") {
            return Err(format!("cannot parse {text}"));
        }
        Ok(crate::container::tests::example(
            text,
            serde_json::json!({}),
        ))
    }

    /// Reads with every level of `host` asked (the top label is the top domain), so that
    /// the walk's own bound does not hide the lookup rules these tests are about.
    fn read_with(s: &Script, host: &str, inherit: bool) -> Desired {
        let top = host.rsplit('.').next().unwrap().to_string();
        let walk = crate::walk::walk(host, &Bound::TopDomain(top)).unwrap();
        read(s, &walk, "containers.docker", inherit, &fake_parse)
    }

    /// A compact view: name → "spec:<record>:<text>" | "disabled" | "invalid:<why>" | "unknown".
    fn view(d: &Desired) -> Vec<(String, String)> {
        let HostList::Listed(ws) = &d.list else {
            panic!("not listed: {:?}", d.list)
        };
        ws.iter()
            .map(|w| {
                let s = match &w.state {
                    WantedState::Spec { record, spec } => format!("spec:{record}:{}", spec.text),
                    WantedState::Disabled => "disabled".into(),
                    WantedState::Invalid { why, .. } => format!("invalid:{why}"),
                    WantedState::Unknown(_) => "unknown".into(),
                };
                (w.name.clone(), s)
            })
            .collect()
    }

    #[test]
    fn nothing_above_the_walk_is_asked() {
        // Records above the registrable domain exist, and would win or be merged if asked.
        let s = Script::default()
            .txt("containers.docker.com", &[&["evil"]])
            .txt("evil.containers.docker.com", &[&["img --privileged"]])
            .txt("containers.docker.example.com", &[&["base"]])
            .txt("base.containers.docker.com", &[&["img-from-com"]]);
        let walk = crate::walk::walk("web1.example.com", &Bound::PublicSuffix).unwrap();
        for inherit in [false, true] {
            let d = read(&s, &walk, "containers.docker", inherit, &fake_parse);
            assert_eq!(d.list_records, vec!["containers.docker.example.com"]);
            assert_eq!(view(&d), vec![("base".into(), "disabled".into())]);
        }
        let asked = s.asked();
        assert!(
            asked.iter().all(|n| n.ends_with(".example.com")),
            "{asked:?}"
        );
        assert!(asked.contains(&"base.containers.docker.example.com".to_string()));
    }

    #[test]
    fn the_seed_example() {
        let s = Script::default()
            .txt(
                "containers.docker.will-desktop",
                &[&["etcd"], &["bash-sleeper"], &["bash-echoer"]],
            )
            .txt(
                "etcd.containers.docker.will-desktop",
                &[&["quay.io/coreos/etcd"]],
            )
            .txt(
                "bash-sleeper.containers.docker.will-desktop",
                &[&["ubuntu:wily sleep 60"]],
            )
            .txt(
                "bash-echoerr.containers.docker.will-desktop",
                &[&["ubuntu:wily echo HelloDNS!"]],
            );
        let d = read_with(&s, "will-desktop", false);
        assert_eq!(d.list_records, vec!["containers.docker.will-desktop"]);
        assert_eq!(
            view(&d),
            vec![
                ("bash-echoer".into(), "disabled".into()),
                (
                    "bash-sleeper".into(),
                    "spec:bash-sleeper.containers.docker.will-desktop:ubuntu:wily sleep 60".into()
                ),
                (
                    "etcd".into(),
                    "spec:etcd.containers.docker.will-desktop:quay.io/coreos/etcd".into()
                ),
            ],
            "sorted by name: an RRset has no order"
        );
    }

    #[test]
    fn list_strings_split_on_space_and_comma_and_union_dedups() {
        let s = Script::default()
            .txt("containers.docker.h", &[&["a1 b1,c1", "  d1  "], &["a1"]])
            .txt("a1.containers.docker.h", &[&["img"]]);
        let names: Vec<String> = view(&read_with(&s, "h", false))
            .into_iter()
            .map(|v| v.0)
            .collect();
        assert_eq!(names, vec!["a1", "b1", "c1", "d1"]);
    }

    #[test]
    fn list_levels_without_inheritance() {
        // First present level wins; later levels are not even asked.
        let s = Script::default()
            .txt("containers.docker.a.b", &[&["x1"]])
            .txt("containers.docker.b", &[&["y1"]]);
        let d = read_with(&s, "a.b", false);
        assert_eq!(d.list_records, vec!["containers.docker.a.b"]);
        assert_eq!(view(&d)[0].0, "x1");
        assert!(!s.asked().contains(&"containers.docker.b".to_string()));

        // Absent at the first level: the next one supplies the list.
        let s = Script::default().txt("containers.docker.b", &[&["y1"]]);
        assert_eq!(view(&read_with(&s, "a.b", false))[0].0, "y1");

        // Unavailable before the present level: the list is Unavailable.
        let s = Script::default()
            .down("containers.docker.a.b")
            .txt("containers.docker.b", &[&["y1"]]);
        assert!(
            matches!(read_with(&s, "a.b", false).list, HostList::Unavailable(ref w) if w.contains("containers.docker.a.b"))
        );

        // Unavailable after the present level does not matter without inheritance.
        let s = Script::default()
            .txt("containers.docker.a.b", &[&["x1"]])
            .down("containers.docker.b");
        assert!(matches!(
            read_with(&s, "a.b", false).list,
            HostList::Listed(_)
        ));

        // Absent everywhere: not configured.
        let s = Script::default();
        assert_eq!(read_with(&s, "a.b", false).list, HostList::NotConfigured);
    }

    #[test]
    fn a_list_that_names_nothing_configures_nothing() {
        for strings in [&[""][..], &[" ", ","], &[" , \t"]] {
            let s = Script::default().txt("containers.docker.h", &[strings]);
            let d = read_with(&s, "h", false);
            assert_eq!(d.list, HostList::NotConfigured, "{strings:?}");
            assert_eq!(d.list_records, vec!["containers.docker.h"], "{strings:?}");
        }
        // Merged with a level that names something, it is simply empty.
        let s = Script::default()
            .txt("containers.docker.a.b", &[&[""]])
            .txt("containers.docker.b", &[&["x1"]]);
        assert_eq!(view(&read_with(&s, "a.b", true))[0].0, "x1");
    }

    #[test]
    fn list_levels_with_inheritance() {
        let s = Script::default()
            .txt("containers.docker.a.b.c", &[&["x1"]])
            .txt("containers.docker.c", &[&["z1", "x1"]]);
        let d = read_with(&s, "a.b.c", true);
        assert_eq!(
            d.list_records,
            vec!["containers.docker.a.b.c", "containers.docker.c"]
        );
        let names: Vec<String> = view(&d).into_iter().map(|v| v.0).collect();
        assert_eq!(names, vec!["x1", "z1"]);

        // Any level unavailable: never act on a partial list.
        let s = Script::default()
            .txt("containers.docker.a.b.c", &[&["x1"]])
            .down("containers.docker.c");
        assert!(matches!(
            read_with(&s, "a.b.c", true).list,
            HostList::Unavailable(_)
        ));
        assert_eq!(
            read_with(&Script::default(), "a.b.c", true).list,
            HostList::NotConfigured
        );
    }

    #[test]
    fn container_records() {
        let s = Script::default()
            .txt(
                "containers.docker.a.b",
                &[&[
                    "near", "far", "split", "twice", "down", "gone", "bad", "x", "late",
                ]],
            )
            .txt("near.containers.docker.a.b", &[&["img-near"]])
            .txt("near.containers.docker.b", &[&["img-ignored"]])
            .txt("far.containers.docker.b", &[&["img-far"]])
            .txt("split.containers.docker.a.b", &[&["img ", "--flag", "=1"]])
            .txt("twice.containers.docker.a.b", &[&["one"], &["two"]])
            .down("down.containers.docker.a.b")
            .txt("down.containers.docker.b", &[&["img"]])
            .txt("bad.containers.docker.a.b", &[&["BAD text"]])
            .txt("late.containers.docker.a.b", &[])
            .down("late.containers.docker.b");
        let v = view(&read_with(&s, "a.b", false));
        let get = |n: &str| v.iter().find(|x| x.0 == n).map(|x| x.1.clone()).unwrap();
        assert_eq!(get("near"), "spec:near.containers.docker.a.b:img-near");
        assert_eq!(get("far"), "spec:far.containers.docker.b:img-far");
        assert_eq!(
            get("split"),
            "spec:split.containers.docker.a.b:img --flag=1"
        );
        assert!(
            get("twice").starts_with("invalid:ambiguous: 2 TXT records"),
            "{}",
            get("twice")
        );
        assert_eq!(get("down"), "unknown");
        assert!(get("bad").contains("cannot parse BAD text"));
        assert!(get("x").contains("not a valid container name"));
        assert_eq!(get("gone"), "disabled");
        // A present record with no strings is an empty text, which the parser rejects or not;
        // here it parses, so it is a spec with empty text rather than falling through.
        assert_eq!(get("late"), "spec:late.containers.docker.a.b:");
    }

    #[test]
    fn invalid_names_are_errors_for_that_name_alone() {
        let long_label = "a".repeat(64);
        for bad in [
            "-x",
            "a",
            "a/b",
            "x.ddp-new",
            "x.ddp-old",
            "x.ddp-failed",
            "é1",
            "a b",
            "a..b",
            "ab.",
            &long_label,
        ] {
            assert!(valid_container_name(bad).is_err(), "{bad}");
        }
        let longest_label = "a".repeat(63);
        for good in [
            "etcd",
            "bash-sleeper",
            "a_b.c-d",
            "0x",
            "Ab",
            &longest_label,
        ] {
            assert!(valid_container_name(good).is_ok(), "{good}");
        }
        let s = Script::default().txt("containers.docker.h", &[&["ok1 -bad"]]);
        let v = view(&read_with(&s, "h", false));
        assert!(v[0].1.starts_with("invalid:'-bad'"));
        assert_eq!(v[1], ("ok1".into(), "disabled".into()));

        // A valid name whose record name DNS cannot carry is invalid, never "unavailable".
        let long = (0..5).map(|_| "a".repeat(60)).collect::<Vec<_>>().join(".");
        let s = Script::default().txt("containers.docker.h", &[&[long.as_str()]]);
        let v = view(&read_with(&s, "h", false));
        assert!(v[0].1.starts_with("invalid:"), "{v:?}");
        assert!(v[0].1.contains("at most 253"), "{v:?}");
    }

    /// The longest record name DNS can carry is asked; one character more is invalid.
    #[test]
    fn a_record_name_of_exactly_the_dns_limit_is_asked() {
        let label = "a".repeat(63);
        // `<name>.containers.docker.h`: the name plus 20 characters.
        let name = |len: usize| format!("{label}.{label}.{label}.{}", "d".repeat(len - 192));
        let (fits, over) = (name(MAX_NAME - 20), name(MAX_NAME - 19));
        let list = format!("{fits} {over}");
        let record = format!("{fits}.containers.docker.h");
        assert_eq!(record.len(), MAX_NAME);
        let s = Script::default()
            .txt("containers.docker.h", &[&[list.as_str()]])
            .txt(&record, &[&["img"]]);
        let v = view(&read_with(&s, "h", false));
        assert_eq!(v[0], (fits.clone(), format!("spec:{record}:img")));
        assert_eq!(v[1].0, over);
        assert!(
            v[1].1.contains("the record name is 254 characters long"),
            "{v:?}"
        );
    }

    /// What DNS says decides an exit code on its own (`show`): the worst of its names'.
    #[test]
    fn what_dns_says_alone_decides_the_exit_code() {
        use crate::exit::Code;
        let with = |list: HostList| Desired {
            host: "h".into(),
            walk: crate::walk::walk("h", &Bound::PublicSuffix).unwrap(),
            list_records: vec![],
            list,
        };
        let wanted = |states: Vec<WantedState>| {
            HostList::Listed(
                states
                    .into_iter()
                    .enumerate()
                    .map(|(i, state)| Wanted {
                        name: format!("c{i}"),
                        state,
                    })
                    .collect(),
            )
        };
        let invalid = || WantedState::Invalid {
            record: None,
            text: None,
            why: "bad".into(),
        };
        let unknown = || WantedState::Unknown("SERVFAIL".into());
        let spec = || WantedState::Spec {
            record: "r".into(),
            spec: Arc::new(fake_parse("img").unwrap()),
        };
        for (list, code) in [
            (HostList::Unavailable("SERVFAIL".into()), Code::TempFail),
            (HostList::NotConfigured, Code::NotConfigured),
            (wanted(vec![spec(), WantedState::Disabled]), Code::Ok),
            (wanted(vec![spec(), invalid()]), Code::DataError),
            (wanted(vec![unknown(), spec()]), Code::TempFail),
            (wanted(vec![unknown(), invalid()]), Code::TempFail),
            (wanted(vec![invalid(), unknown()]), Code::TempFail),
        ] {
            assert_eq!(with(list.clone()).code(), code, "{list:?}");
        }
    }

    #[test]
    fn non_utf8_text_is_invalid_not_a_panic() {
        let mut s = Script::default().txt("containers.docker.h", &[&["c1"]]);
        s.answers.insert(
            "c1.containers.docker.h".into(),
            Answer::Present(vec![vec![vec![0xff, 0xfe, b'a']]]),
        );
        assert!(
            view(&read_with(&s, "h", false))[0]
                .1
                .contains("not valid UTF-8")
        );
    }

    #[test]
    fn many_containers_are_looked_up_in_one_flight_in_order() {
        let names: Vec<String> = (0..100).map(|i| format!("c{i:03}")).collect();
        let list = names.join(" ");
        let mut s = Script::default().txt("containers.docker.h", &[&[list.as_str()]]);
        for n in &names {
            s = s.txt(&format!("{n}.containers.docker.h"), &[&[n.as_str()]]);
        }
        let v = view(&read_with(&s, "h", false));
        // Every container's walk in one flight: one round trip per level, not one each.
        assert_eq!(*s.batches.lock().unwrap(), vec![100]);
        assert_eq!(v.len(), 100);
        for (i, (name, state)) in v.iter().enumerate() {
            assert_eq!(name, &format!("c{i:03}"));
            assert_eq!(state, &format!("spec:c{i:03}.containers.docker.h:c{i:03}"));
        }
    }
}
