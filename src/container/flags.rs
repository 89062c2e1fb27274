//! The option grammar of `docker run`, exactly as the CLI's pflag applies it: long and short
//! forms, `=` values, clusters of short booleans, `--` and the first positional word as the
//! image, every later word verbatim as the command. Knows which flags exist and whether they
//! take a value; what a value means is `run_line`'s business.

use super::SpecError;

/// Whether a flag takes a value or is a boolean switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Set by its presence; only `--flag=bool` gives it a value.
    Bool,
    /// Takes the next word (or the `=`/attached text) as its value.
    Value,
}

/// One accepted flag: canonical long name, optional short letter, kind.
#[derive(Debug, Clone, Copy)]
pub struct FlagDef {
    /// Long name without dashes.
    pub name: &'static str,
    /// Short letter, if any.
    pub short: Option<char>,
    /// Boolean or valued.
    pub kind: Kind,
}

const fn f(name: &'static str, short: Option<char>, kind: Kind) -> FlagDef {
    FlagDef { name, short, kind }
}

use Kind::{Bool, Value};

/// Every flag a record may use. Anything else is an error naming it.
pub const FLAGS: &[FlagDef] = &[
    f("add-host", None, Value),
    f("annotation", None, Value),
    f("attach", Some('a'), Value),
    f("blkio-weight", None, Value),
    f("blkio-weight-device", None, Value),
    f("cap-add", None, Value),
    f("cap-drop", None, Value),
    f("cgroup-parent", None, Value),
    f("cgroupns", None, Value),
    f("cidfile", None, Value),
    f("cpu-count", None, Value),
    f("cpu-percent", None, Value),
    f("cpu-period", None, Value),
    f("cpu-quota", None, Value),
    f("cpu-rt-period", None, Value),
    f("cpu-rt-runtime", None, Value),
    f("cpu-shares", Some('c'), Value),
    f("cpus", None, Value),
    f("cpuset-cpus", None, Value),
    f("cpuset-mems", None, Value),
    f("detach", Some('d'), Bool),
    f("detach-keys", None, Value),
    f("device", None, Value),
    f("device-cgroup-rule", None, Value),
    f("device-read-bps", None, Value),
    f("device-read-iops", None, Value),
    f("device-write-bps", None, Value),
    f("device-write-iops", None, Value),
    f("disable-content-trust", None, Bool),
    f("dns", None, Value),
    f("dns-option", None, Value),
    f("dns-search", None, Value),
    f("domainname", None, Value),
    f("entrypoint", None, Value),
    f("env", Some('e'), Value),
    f("env-file", None, Value),
    f("expose", None, Value),
    f("gpus", None, Value),
    f("group-add", None, Value),
    f("health-cmd", None, Value),
    f("health-interval", None, Value),
    f("health-retries", None, Value),
    f("health-start-interval", None, Value),
    f("health-start-period", None, Value),
    f("health-timeout", None, Value),
    f("hostname", Some('h'), Value),
    f("init", None, Bool),
    f("interactive", Some('i'), Bool),
    f("ip", None, Value),
    f("ip6", None, Value),
    f("io-maxbandwidth", None, Value),
    f("io-maxiops", None, Value),
    f("ipc", None, Value),
    f("isolation", None, Value),
    f("kernel-memory", None, Value),
    f("label", Some('l'), Value),
    f("label-file", None, Value),
    f("link", None, Value),
    f("link-local-ip", None, Value),
    f("log-driver", None, Value),
    f("log-opt", None, Value),
    f("mac-address", None, Value),
    f("memory", Some('m'), Value),
    f("memory-reservation", None, Value),
    f("memory-swap", None, Value),
    f("memory-swappiness", None, Value),
    f("mount", None, Value),
    f("name", None, Value),
    f("network", None, Value),
    f("network-alias", None, Value),
    f("no-healthcheck", None, Bool),
    f("oom-kill-disable", None, Bool),
    f("oom-score-adj", None, Value),
    f("pid", None, Value),
    f("pids-limit", None, Value),
    f("platform", None, Value),
    f("privileged", None, Bool),
    f("publish", Some('p'), Value),
    f("publish-all", Some('P'), Bool),
    f("pull", None, Value),
    f("quiet", Some('q'), Bool),
    f("read-only", None, Bool),
    f("restart", None, Value),
    f("rm", None, Bool),
    f("runtime", None, Value),
    f("security-opt", None, Value),
    f("shm-size", None, Value),
    f("sig-proxy", None, Bool),
    f("stop-signal", None, Value),
    f("stop-timeout", None, Value),
    f("storage-opt", None, Value),
    f("sysctl", None, Value),
    f("tmpfs", None, Value),
    f("tty", Some('t'), Bool),
    f("ulimit", None, Value),
    f("use-api-socket", None, Bool),
    f("user", Some('u'), Value),
    f("userns", None, Value),
    f("uts", None, Value),
    f("volume", Some('v'), Value),
    f("volume-driver", None, Value),
    f("volumes-from", None, Value),
    f("workdir", Some('w'), Value),
];

/// Hidden aliases the CLI accepts, and the flag each stands for.
const ALIASES: &[(&str, &str)] = &[
    ("net", "network"),
    ("net-alias", "network-alias"),
    ("dns-opt", "dns-option"),
];

/// A run line split into its parts; booleans are `"true"`/`"false"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLine {
    /// (canonical long name, value) in the order given.
    pub opts: Vec<(&'static str, String)>,
    /// The image word, as typed.
    pub image: String,
    /// The words after the image, verbatim.
    pub cmd: Vec<String>,
}

fn by_long(name: &str) -> Option<&'static FlagDef> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, canonical)| canonical);
    FLAGS.iter().find(|d| d.name == name)
}

fn by_short(c: char) -> Option<&'static FlagDef> {
    FLAGS.iter().find(|d| d.short == Some(c))
}

fn bool_value(def: &FlagDef, v: &str) -> Result<String, SpecError> {
    super::values::parse_bool(v)
        .map(|b| b.to_string())
        .map_err(|why| {
            SpecError(format!(
                "invalid argument {v:?} for \"--{}\" flag: {why}",
                def.name
            ))
        })
}

fn record(def: &'static FlagDef, value: String) -> Result<(&'static str, String), SpecError> {
    let why = match def.name {
        "name" => "the container's name comes from DNS (the record's name)",
        "attach" => {
            "a provisioned container runs detached and nothing attaches to its streams (read them with docker logs)"
        }
        "cidfile" => {
            "the CLI writes the ID to a file on the machine it runs on; a provisioned container is found by its name, which comes from DNS"
        }
        "disable-content-trust" => {
            "content trust is a check the docker CLI makes before it pulls, and the tool never makes it; pin an image by digest (IMAGE@sha256:…) instead"
        }
        "cpu-count" | "cpu-percent" | "io-maxbandwidth" | "io-maxiops" => {
            "it applies to Windows containers only (the docker CLI refuses it for a Linux engine)"
        }
        _ => return Ok((def.name, value)),
    };
    Err(SpecError(format!("--{} is not allowed: {why}", def.name)))
}

/// Split words into options, image and command as `docker run` does.
pub fn parse(words: &[String]) -> Result<RunLine, SpecError> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        if word == "--" {
            break;
        }
        if word.is_empty() || word == "-" || !word.starts_with('-') {
            i -= 1;
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            if long.starts_with(['-', '=']) {
                return Err(SpecError(format!("bad flag syntax: {word}")));
            }
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let def = by_long(name)
                .ok_or_else(|| SpecError(format!("unknown or unsupported flag: --{name}")))?;
            let value = match (def.kind, inline) {
                (Kind::Bool, None) => "true".to_string(),
                (Kind::Bool, Some(v)) => bool_value(def, v)?,
                (Kind::Value, Some(v)) => v.to_string(),
                (Kind::Value, None) => {
                    let v = words
                        .get(i)
                        .ok_or_else(|| SpecError(format!("flag needs an argument: --{name}")))?;
                    i += 1;
                    v.clone()
                }
            };
            opts.push(record(def, value)?);
            continue;
        }
        // A cluster of short flags: booleans, then at most one value flag, which ends it.
        let mut rest = &word[1..];
        while let Some(c) = rest.chars().next() {
            let after = &rest[c.len_utf8()..];
            let def = by_short(c)
                .ok_or_else(|| SpecError(format!("unknown shorthand flag: '{c}' in {word}")))?;
            match def.kind {
                Kind::Bool => {
                    if let Some(v) = after.strip_prefix('=').filter(|v| !v.is_empty()) {
                        opts.push(record(def, bool_value(def, v)?)?);
                        rest = "";
                    } else {
                        opts.push(record(def, "true".into())?);
                        rest = after;
                    }
                }
                Kind::Value => {
                    let value = if after.len() > 1 && after.starts_with('=') {
                        after[1..].to_string()
                    } else if !after.is_empty() {
                        after.to_string()
                    } else {
                        let v = words.get(i).ok_or_else(|| {
                            SpecError(format!("flag needs an argument: '{c}' in {word}"))
                        })?;
                        i += 1;
                        v.clone()
                    };
                    opts.push(record(def, value)?);
                    rest = "";
                }
            }
        }
    }
    let image = words
        .get(i)
        .ok_or_else(|| SpecError("no image: the record has options but names no image".into()))?
        .clone();
    Ok(RunLine {
        opts,
        image,
        cmd: words[i + 1..].to_vec(),
    })
}

/// The words of a run line grouped as [`parse`] reads them, for showing a change: an option
/// and the value it takes from the next word are one argument; the image and every command
/// word are one each. Never fails: a word it cannot place stands alone.
pub fn arguments(words: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut i = 0;
    let mut options = true;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        if !options || word == "--" || word == "-" || !word.starts_with('-') {
            options = options && word == "--";
            out.push(vec![word.clone()]);
            continue;
        }
        let takes_next = match word.strip_prefix("--") {
            Some(long) => {
                !long.contains('=') && by_long(long).is_some_and(|d| d.kind == Kind::Value)
            }
            // A cluster: the first value flag takes the rest of the word, or the next one.
            None => word[1..]
                .char_indices()
                .find(|(_, c)| by_short(*c).is_some_and(|d| d.kind == Kind::Value))
                .is_some_and(|(at, c)| at + c.len_utf8() == word.len() - 1),
        };
        let mut arg = vec![word.clone()];
        if takes_next && let Some(v) = words.get(i) {
            arg.push(v.clone());
            i += 1;
        }
        out.push(arg);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_group_an_option_with_its_value() {
        let w = |s: &str| -> Vec<String> { s.split(' ').map(String::from).collect() };
        let cases: &[(&str, &[&str])] = &[
            (
                "-e A=1 --rm -it --network none img sh -e x",
                &[
                    "-e A=1",
                    "--rm",
                    "-it",
                    "--network none",
                    "img",
                    "sh",
                    "-e",
                    "x",
                ],
            ),
            (
                "--env=A=1 -eB=2 -ie C=3 img",
                &["--env=A=1", "-eB=2", "-ie C=3", "img"],
            ),
            ("-- -x y", &["--", "-x", "y"]),
            ("--bogus v img", &["--bogus", "v", "img"]),
        ];
        for (text, want) in cases {
            let got: Vec<String> = arguments(&w(text)).iter().map(|a| a.join(" ")).collect();
            assert_eq!(got, *want, "{text}");
        }
    }

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    fn line(opts: &[(&'static str, &str)], image: &str, cmd: &[&str]) -> RunLine {
        RunLine {
            opts: opts.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            image: image.into(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn grammar_as_pflag() {
        let cases: Vec<(&str, RunLine)> = vec![
            ("alpine", line(&[], "alpine", &[])),
            ("alpine -it --rm", line(&[], "alpine", &["-it", "--rm"])),
            ("alpine -- ls", line(&[], "alpine", &["--", "ls"])),
            (
                "--rm -- alpine ls -l",
                line(&[("rm", "true")], "alpine", &["ls", "-l"]),
            ),
            ("-- -x", line(&[], "-x", &[])),
            ("- a", line(&[], "-", &["a"])),
            (
                "-e -x --entrypoint --weird alpine",
                line(&[("env", "-x"), ("entrypoint", "--weird")], "alpine", &[]),
            ),
            (
                "--privileged false alpine",
                line(&[("privileged", "true")], "false", &["alpine"]),
            ),
            (
                "--privileged=0 --read-only=T x",
                line(&[("privileged", "false"), ("read-only", "true")], "x", &[]),
            ),
            ("--entrypoint= x", line(&[("entrypoint", "")], "x", &[])),
            ("--env=A=b=c x", line(&[("env", "A=b=c")], "x", &[])),
            ("-eA=b x", line(&[("env", "A=b")], "x", &[])),
            ("-e=C=d x", line(&[("env", "C=d")], "x", &[])),
            ("-e= x", line(&[("env", "=")], "x", &[])),
            ("-e A=b x", line(&[("env", "A=b")], "x", &[])),
            (
                "-dit x",
                line(
                    &[("detach", "true"), ("interactive", "true"), ("tty", "true")],
                    "x",
                    &[],
                ),
            ),
            (
                "-itp 80:80 x",
                line(
                    &[
                        ("interactive", "true"),
                        ("tty", "true"),
                        ("publish", "80:80"),
                    ],
                    "x",
                    &[],
                ),
            ),
            (
                "-itp80:80 x",
                line(
                    &[
                        ("interactive", "true"),
                        ("tty", "true"),
                        ("publish", "80:80"),
                    ],
                    "x",
                    &[],
                ),
            ),
            ("-pit 80:80", line(&[("publish", "it")], "80:80", &[])),
            (
                "-d=false -t=1 x",
                line(&[("detach", "false"), ("tty", "true")], "x", &[]),
            ),
            (
                "--net host --net-alias a --dns-opt ndots:1 x",
                line(
                    &[
                        ("network", "host"),
                        ("network-alias", "a"),
                        ("dns-option", "ndots:1"),
                    ],
                    "x",
                    &[],
                ),
            ),
            (
                "-u a -u b x",
                line(&[("user", "a"), ("user", "b")], "x", &[]),
            ),
            ("-h host x", line(&[("hostname", "host")], "x", &[])),
            (
                "quay.io/coreos/etcd --name x --discovery-srv foo",
                line(
                    &[],
                    "quay.io/coreos/etcd",
                    &["--name", "x", "--discovery-srv", "foo"],
                ),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(&w(text)), Ok(want), "{text}");
        }
        assert_eq!(parse(&["".to_string()]).unwrap().image, "");
    }

    #[test]
    fn grammar_errors() {
        let cases: &[(&str, &str)] = &[
            ("--bogus x", "unknown or unsupported flag: --bogus"),
            ("--bogus=1 x", "unknown or unsupported flag: --bogus"),
            (
                "-a stdout x",
                "--attach is not allowed: a provisioned container runs detached",
            ),
            ("--cidfile /tmp/id x", "--cidfile is not allowed"),
            (
                "--cpu-count 2 x",
                "--cpu-count is not allowed: it applies to Windows",
            ),
            (
                "--io-maxiops=5 x",
                "--io-maxiops is not allowed: it applies to Windows",
            ),
            (
                "--disable-content-trust x",
                "--disable-content-trust is not allowed",
            ),
            (
                "--disable-content-trust=false x",
                "--disable-content-trust is not allowed",
            ),
            ("-ix x", "unknown shorthand flag: 'x' in -ix"),
            ("-z x", "unknown shorthand flag: 'z' in -z"),
            ("-d= x", "unknown shorthand flag: '=' in -d="),
            ("--=x y", "bad flag syntax: --=x"),
            ("---x y", "bad flag syntax: ---x"),
            ("--env", "flag needs an argument: --env"),
            ("-e", "flag needs an argument: 'e' in -e"),
            ("-ie", "flag needs an argument: 'e' in -ie"),
            ("--rm", "no image"),
            ("-d --rm --", "no image"),
            (
                "--privileged=maybe x",
                "invalid argument \"maybe\" for \"--privileged\" flag",
            ),
            ("-t=yes x", "invalid argument \"yes\" for \"--tty\" flag"),
            ("--name x alpine", "--name is not allowed"),
            ("--name=x alpine", "--name is not allowed"),
            ("--help", "unknown or unsupported flag: --help"),
            ("-é x", "unknown shorthand flag: 'é' in -é"),
        ];
        for (text, want) in cases {
            let err = parse(&w(text)).unwrap_err().0;
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn table_is_consistent() {
        for (i, d) in FLAGS.iter().enumerate() {
            assert!(
                FLAGS[i + 1..].iter().all(|o| o.name != d.name),
                "{}",
                d.name
            );
            if let Some(c) = d.short {
                assert!(FLAGS[i + 1..].iter().all(|o| o.short != Some(c)), "{c}");
            }
        }
        for (alias, canonical) in ALIASES {
            assert!(by_long(alias).is_some_and(|d| d.name == *canonical));
        }
    }
}
