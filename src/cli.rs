//! Options, defaults, help text and `--version`. Never touches the network: values are
//! checked for form here (durations, addresses, choices) and for meaning by their users.

use lexopt::prelude::*;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The version line, with the git commit when built from a checkout.
pub const VERSION: &str = env!("DDP_VERSION");

/// Default record prefix, as the original tool's `--dns-prefix`.
pub const DEFAULT_PREFIX: &str = "containers.docker";
/// Default `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Default `--lock-file`.
pub const DEFAULT_LOCK_FILE: &str = "/run/docker-dns-provision.lock";
/// Default `--settle`: how long a container the run started is watched before it counts
/// as up (a crash loop or a bad command shows within seconds).
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(3);
/// Default `--jobs`: containers applied at once.
pub const DEFAULT_JOBS: usize = 4;
/// Default `--offline-after`: how long DNS may stay silent before the last converged state
/// is started (short enough that a gated orchestrator starts within a minute of boot).
pub const DEFAULT_OFFLINE_AFTER: Duration = Duration::from_secs(30);

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Converge the engine to DNS.
    Apply,
    /// Show what `apply` would do; change nothing.
    Plan,
    /// Show what DNS says, per container; no engine needed.
    Show,
    /// Check every host of a records file offline (`--records` required).
    Lint,
    /// Print the records that reproduce the engine's existing containers.
    Export,
}

impl Command {
    /// The command's name, as typed.
    pub fn name(self) -> &'static str {
        match self {
            Command::Apply => "apply",
            Command::Plan => "plan",
            Command::Show => "show",
            Command::Lint => "lint",
            Command::Export => "export",
        }
    }
}

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// For people.
    Text,
    /// One JSON document.
    Json,
}

/// Everything the command line can set.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Subcommand.
    pub command: Command,
    /// Host identity to query as; `None` means the kernel host name.
    pub hostname: Option<String>,
    /// Record prefix.
    pub prefix: String,
    /// Network record prefix.
    pub network_prefix: String,
    /// Recreate a changed network even while containers are attached to it.
    pub recreate_networks: bool,
    /// Merge the container lists of every level.
    pub inherit: bool,
    /// The highest level the walk may ask; `None` means below the public suffix.
    pub top_domain: Option<String>,
    /// Nameservers that override resolv.conf.
    pub nameservers: Vec<SocketAddr>,
    /// resolv.conf to read.
    pub resolv_conf: PathBuf,
    /// Read records from this file instead of DNS.
    pub records: Option<PathBuf>,
    /// Total time to keep retrying DNS, the engine and the lock.
    pub timeout: Duration,
    /// Random delay before the first query, at most this long.
    pub splay: Duration,
    /// Output format.
    pub output: Output,
    /// Log level (overrides `RUST_LOG`).
    pub log_level: Option<String>,
    /// Engine URL; `None` means `$DOCKER_HOST`, else the default socket.
    pub docker_host: Option<String>,
    /// The lock that keeps runs from overlapping.
    pub lock_file: PathBuf,
    /// Where what the tool remembers between runs is kept.
    pub state_dir: PathBuf,
    /// Containers applied at once.
    pub jobs: usize,
    /// How long DNS may stay silent before the last converged state is started; zero: never.
    pub offline_after: Duration,
    /// How long a started container is watched before it counts as up; zero turns it off.
    pub settle: Duration,
    /// With no configuration for this host, remove every managed container.
    pub allow_empty: bool,
    /// Leave unlabelled containers that have a DNS name alone.
    pub no_adopt: bool,
    /// Accept only DNSSEC-authenticated answers.
    pub require_ad: bool,
    /// Trust the AD bit of the nameservers, as resolv.conf's `options trust-ad` does.
    pub trust_ad: bool,
    /// Images allowed to run (prefixes or globs); empty means any.
    pub allow_images: Vec<String>,
    /// Refuse specs that grant root-equivalent host access.
    pub forbid_privileged: bool,
    /// When to pull images whose record does not say (`--pull`).
    pub pull: crate::container::PullPolicy,
    /// Directory of the docker CLI config (`config.json`) with registry credentials.
    pub docker_config: Option<PathBuf>,
    /// `lint`: warnings (dead records) fail too.
    pub strict: bool,
    /// `plan`: exit 2 when changes are pending and nothing worse applies.
    pub detailed_exitcode: bool,
    /// Where the run's outcome is written for node_exporter's textfile collector.
    pub metrics_file: Option<PathBuf>,
    /// `apply`: remove the images managed containers stopped using this run.
    pub prune_images: bool,
    /// `export`: the containers to export; empty means every one.
    pub export_names: Vec<String>,
    /// `export`: how the records are written.
    pub export_format: crate::export::records::Format,
    /// `export`: replace the values of secret-looking variables with a placeholder.
    pub redact: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            command: Command::Apply,
            hostname: None,
            prefix: DEFAULT_PREFIX.to_string(),
            network_prefix: crate::network::DEFAULT_PREFIX.to_string(),
            recreate_networks: false,
            inherit: false,
            top_domain: None,
            nameservers: Vec::new(),
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            records: None,
            timeout: DEFAULT_TIMEOUT,
            splay: Duration::ZERO,
            output: Output::Text,
            log_level: None,
            docker_host: None,
            lock_file: PathBuf::from(DEFAULT_LOCK_FILE),
            state_dir: PathBuf::from(crate::state::DEFAULT_DIR),
            jobs: DEFAULT_JOBS,
            offline_after: DEFAULT_OFFLINE_AFTER,
            settle: DEFAULT_SETTLE,
            allow_empty: false,
            no_adopt: false,
            require_ad: false,
            trust_ad: false,
            allow_images: Vec::new(),
            forbid_privileged: false,
            pull: crate::container::PullPolicy::Missing,
            docker_config: None,
            strict: false,
            detailed_exitcode: false,
            metrics_file: None,
            prune_images: false,
            export_names: Vec::new(),
            export_format: crate::export::records::Format::Dnsmasq,
            redact: false,
        }
    }
}

/// The outcome of reading the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Run with these options.
    Run(Box<Options>),
    /// Print the help text.
    Help,
    /// Print the version.
    Version,
}

/// A bad command line, as one line naming the offending argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<lexopt::Error> for UsageError {
    fn from(e: lexopt::Error) -> Self {
        UsageError(e.to_string())
    }
}

/// Parse the arguments (without the program name).
pub fn parse<I>(args: I) -> Result<Parsed, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut o = Options::default();
    let mut command: Option<Command> = None;
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("hostname") => o.hostname = Some(hostname(&text(&mut p, "--hostname")?)?),
            Long("prefix") | Long("dns-prefix") => o.prefix = prefix(&text(&mut p, "--prefix")?)?,
            Long("inherit") | Long("inheritance") => o.inherit = true,
            Long("network-prefix") => {
                o.network_prefix = dns_name("--network-prefix", &text(&mut p, "--network-prefix")?)?
            }
            Long("recreate-networks") => o.recreate_networks = true,
            Long("top-domain") => {
                o.top_domain = Some(dns_name("--top-domain", &text(&mut p, "--top-domain")?)?)
            }
            Long("nameserver") => o
                .nameservers
                .push(nameserver(&text(&mut p, "--nameserver")?)?),
            Long("resolv-conf") => o.resolv_conf = p.value()?.into(),
            Long("records") => o.records = Some(p.value()?.into()),
            Long("timeout") => o.timeout = timeout(&mut p)?,
            Long("splay") => o.splay = flag_duration(&mut p, "--splay")?,
            Long("settle") => o.settle = flag_duration(&mut p, "--settle")?,
            Long("output") => o.output = output(&mut p)?,
            Long("log-level") => o.log_level = Some(log_level(&mut p)?),
            Long("docker-host") => o.docker_host = Some(text(&mut p, "--docker-host")?),
            Long("lock-file") => o.lock_file = p.value()?.into(),
            Long("state-dir") => o.state_dir = directory(&mut p, "--state-dir")?,
            Long("jobs") => o.jobs = jobs(&mut p)?,
            Long("offline-after") => o.offline_after = flag_duration(&mut p, "--offline-after")?,
            Long("allow-empty") => o.allow_empty = true,
            Long("no-adopt") => o.no_adopt = true,
            Long("require-ad") => o.require_ad = true,
            Long("trust-ad") => o.trust_ad = true,
            Long("allow-image") => o.allow_images.push(allow_image(&mut p)?),
            Long("forbid-privileged") => o.forbid_privileged = true,
            Long("pull") => o.pull = pull(&mut p)?,
            Long("docker-config") => {
                o.docker_config = Some(directory(&mut p, "--docker-config")?);
            }
            Long("strict") => o.strict = true,
            Long("detailed-exitcode") => o.detailed_exitcode = true,
            Long("metrics-file") => o.metrics_file = Some(directory(&mut p, "--metrics-file")?),
            Long("prune-images") => o.prune_images = true,
            Long("format") => o.export_format = export_format(&mut p)?,
            Long("redact") => o.redact = true,
            Value(v) if command.is_none() => command = Some(subcommand(&v)?),
            Value(v) if command == Some(Command::Export) => o.export_names.push(
                v.into_string()
                    .map_err(|v| bad("export", &v.to_string_lossy(), "not valid UTF-8"))?,
            ),
            _ => return Err(arg.unexpected().into()),
        }
    }
    o.command = command.unwrap_or(Command::Apply);
    check_command(&o)?;
    Ok(Parsed::Run(Box::new(o)))
}

/// The options that belong to one command only.
fn check_command(o: &Options) -> Result<(), UsageError> {
    if o.command == Command::Lint && o.records.is_none() {
        return Err(UsageError(
            "lint needs --records FILE: it checks a file, not live DNS".to_string(),
        ));
    }
    if o.strict && o.command != Command::Lint {
        return Err(UsageError("--strict is an option of lint only".to_string()));
    }
    if o.detailed_exitcode && o.command != Command::Plan {
        return Err(UsageError(
            "--detailed-exitcode is an option of plan only".to_string(),
        ));
    }
    if o.prune_images && o.command != Command::Apply {
        return Err(UsageError(
            "--prune-images is an option of apply only".to_string(),
        ));
    }
    if o.metrics_file.is_some() && !matches!(o.command, Command::Apply | Command::Plan) {
        return Err(UsageError(
            "--metrics-file is an option of apply and plan only".to_string(),
        ));
    }
    let export_only = o.redact || o.export_format != crate::export::records::Format::Dnsmasq;
    if export_only && o.command != Command::Export {
        return Err(UsageError(
            "--format and --redact are options of export only".to_string(),
        ));
    }
    Ok(())
}

fn subcommand(v: &std::ffi::OsStr) -> Result<Command, UsageError> {
    match v.to_str() {
        Some("apply") => Ok(Command::Apply),
        Some("plan") => Ok(Command::Plan),
        Some("show") => Ok(Command::Show),
        Some("lint") => Ok(Command::Lint),
        Some("export") => Ok(Command::Export),
        _ => Err(UsageError(format!(
            "unknown command '{}' (expected apply, plan, show, lint or export)",
            v.to_string_lossy()
        ))),
    }
}

fn timeout(p: &mut lexopt::Parser) -> Result<Duration, UsageError> {
    let v = text(p, "--timeout")?;
    let d = parse_duration(&v).map_err(|why| bad("--timeout", &v, &why))?;
    if d.is_zero() {
        return Err(bad(
            "--timeout",
            &v,
            "must be more than 0: every run needs time to ask DNS at least once",
        ));
    }
    Ok(d)
}

fn output(p: &mut lexopt::Parser) -> Result<Output, UsageError> {
    match text(p, "--output")?.as_str() {
        "text" => Ok(Output::Text),
        "json" => Ok(Output::Json),
        v => Err(bad("--output", v, "expected text or json")),
    }
}

fn export_format(p: &mut lexopt::Parser) -> Result<crate::export::records::Format, UsageError> {
    use crate::export::records::Format;
    match text(p, "--format")?.as_str() {
        "dnsmasq" => Ok(Format::Dnsmasq),
        "zone" => Ok(Format::Zone),
        "json" => Ok(Format::Json),
        v => Err(bad("--format", v, "expected dnsmasq, zone or json")),
    }
}

fn log_level(p: &mut lexopt::Parser) -> Result<String, UsageError> {
    let v = text(p, "--log-level")?;
    if v.parse::<log::LevelFilter>().is_err() {
        return Err(bad(
            "--log-level",
            &v,
            "expected off, error, warn, info, debug or trace",
        ));
    }
    Ok(v)
}

/// A directory or file the tool keeps or reads files in: any path but the empty one.
fn directory(p: &mut lexopt::Parser, flag: &str) -> Result<PathBuf, UsageError> {
    let v = p.value()?;
    if v.is_empty() {
        return Err(bad(flag, "", "the directory is empty"));
    }
    Ok(v.into())
}

fn jobs(p: &mut lexopt::Parser) -> Result<usize, UsageError> {
    let v = text(p, "--jobs")?;
    match v.parse::<usize>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err(bad("--jobs", &v, "expected a number from 1 to 64")),
    }
}

fn allow_image(p: &mut lexopt::Parser) -> Result<String, UsageError> {
    let v = text(p, "--allow-image")?;
    if v.is_empty() {
        return Err(bad("--allow-image", &v, "the pattern is empty"));
    }
    Ok(v)
}

fn pull(p: &mut lexopt::Parser) -> Result<crate::container::PullPolicy, UsageError> {
    use crate::container::PullPolicy;
    match text(p, "--pull")?.as_str() {
        "missing" => Ok(PullPolicy::Missing),
        "always" => Ok(PullPolicy::Always),
        "never" => Ok(PullPolicy::Never),
        v => Err(bad("--pull", v, "expected missing, always or never")),
    }
}

fn text(p: &mut lexopt::Parser, flag: &str) -> Result<String, UsageError> {
    p.value()?
        .into_string()
        .map_err(|v| bad(flag, &v.to_string_lossy(), "not valid UTF-8"))
}

fn bad(flag: &str, value: &str, why: &str) -> UsageError {
    UsageError(format!("invalid value '{value}' for {flag}: {why}"))
}

fn flag_duration(p: &mut lexopt::Parser, flag: &str) -> Result<Duration, UsageError> {
    let v = text(p, flag)?;
    parse_duration(&v).map_err(|why| bad(flag, &v, &why))
}

/// A duration such as `500ms`, `90s`, `5m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| "expected a number with a unit, e.g. 500ms, 90s, 5m".to_string())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit '{unit}' (use ms, s, m or h)")),
    };
    if !secs.is_finite() || !(0.0..=7.0 * 86400.0).contains(&secs) {
        return Err("out of range (at most 7 days)".to_string());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `ADDR`, `ADDR:PORT`, `[IPv6]:PORT` or a bare IPv6 address (with `%scope`); port 53 by
/// default. The resolver's own parser, so the command line and resolv.conf agree.
pub fn nameserver(s: &str) -> Result<SocketAddr, UsageError> {
    crate::dns::parse_nameserver(s)
        .map_err(|why| UsageError(format!("--nameserver: {why} (names are not resolved)")))
}

/// A DNS name given as a host name or prefix, by [`crate::dns::name::host_name`].
fn dns_name(flag: &str, s: &str) -> Result<String, UsageError> {
    crate::dns::name::host_name(s).ok_or_else(|| bad(flag, s, "not a valid DNS name"))
}

fn hostname(s: &str) -> Result<String, UsageError> {
    dns_name("--hostname", s)
}

fn prefix(s: &str) -> Result<String, UsageError> {
    dns_name("--prefix", s)
}

/// The kernel host name (what `hostname` prints), without asking libc or NSS.
pub fn kernel_hostname() -> Result<String, String> {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").map_err(|e| {
        format!("cannot read the host name from /proc/sys/kernel/hostname: {e} (use --hostname)")
    })?;
    dns_name("the kernel host name", raw.trim()).map_err(|e| format!("{e} (use --hostname)"))
}

/// The help text's last section: what each exit status means.
const EXIT_STATUS: &str = "\
EXIT STATUS
    0   success
    2   plan --detailed-exitcode: changes are pending (apply would change something) and
        no other status applies
    64  bad command line
    65  some record is invalid (its container is left as it is); lint: a finding would change
        or fail some host's run (or, with --strict, any finding)
    66  no configuration for this host (nothing is removed unless --allow-empty)
    69  Docker engine unavailable within --timeout
    70  internal error
    73  some actions failed: the engine refused one (pull, create, start, stop, remove; a
        failed pull says whether to retry later or fix the record or credentials), a
        container failed verification (rolled back, or held back until its record changes),
        or a listed container is not up (unhealthy, or not healthy within --timeout)
    75  DNS unavailable, lock busy or the kernel host name a placeholder within --timeout:
        temporary, try again later
    78  configuration error (e.g. --require-ad without a trusted resolver, a host name not
        under --top-domain or that is itself a public suffix, a list record name over 253
        characters)
    79  DNS unavailable within --timeout, but every container of the last converged state
        was verified up (--offline-after): the host runs what it last converged to, not
        what DNS says now
    When several apply, the first in this order wins: 64 78 70 69 75 73 65 66 79.
";

/// The help text: a short manual.
pub fn help() -> String {
    const STATE_DIR: &str = crate::state::DEFAULT_DIR;
    format!(
        "\
docker-dns-provision {VERSION}
Provision this host's Docker containers from DNS TXT records.

USAGE
    docker-dns-provision [apply|plan|show] [OPTIONS]
    docker-dns-provision lint --records FILE [--prefix P] [--inherit] [--top-domain D]
                         [--allow-image PATTERN] [--forbid-privileged] [--strict]
    docker-dns-provision export [--hostname H] [--prefix P] [--format dnsmasq|zone|json]
                         [--redact] [NAME...]

COMMANDS
    apply   make the Docker engine match DNS (the default)
    plan    print what apply would do, change nothing
    show    print what DNS says for each container (no Docker needed)
    lint    check every host of a records file as show would, plus what only the whole
            file shows (dead records, disabled entries); one FILE:LINE: line per finding
    export  print the records (the list and one docker run line per container) that make the
            engine's existing containers (the NAMEs, or all) again; changes nothing

RECORDS
    <prefix>.<host>         TXT \"name\" ...   containers this host runs (one or more per string)
    <name>.<prefix>.<host>  TXT \"[docker run options] IMAGE [COMMAND...]\" or a JSON create body
    <network-prefix>.<host> TXT \"name\" ...   user-defined networks this host has
    <name>.<network-prefix>.<host>  TXT \"[docker network create options]\"
    For host web1.dc1.example.com the levels <prefix>.web1.dc1.example.com,
    <prefix>.dc1.example.com and <prefix>.example.com are tried in order. The walk never asks
    a public suffix (com, co.uk, github.io: the Public Suffix List built in) or above it, nor
    above --top-domain; a single-label host name asks its own level only.

OPTIONS
    --hostname NAME        host identity to query as; a placeholder kernel name (localhost,
                           localhost.localdomain, empty, (none)) is waited out until
                           --timeout (75) [default: the kernel host name]
    --prefix NAME          record prefix (alias --dns-prefix) [default: {DEFAULT_PREFIX}]
    --network-prefix NAME  network record prefix [default: networks.docker]
    --recreate-networks    recreate a network whose record changed even while containers are
                           attached (disconnected, then connected again; on failure, back to
                           the old network); without it such a network is left (65)
    --inherit              merge the container lists of every level (alias --inheritance)
    --top-domain DOMAIN    ask no level above DOMAIN, the fleet's own domain (recommended);
                           a host name not under it, or a DOMAIN that is an ICANN public
                           suffix (com, co.uk), is a configuration error (78)
                           [default: stop below the public suffix]
    --nameserver ADDR[:PORT]
                           nameserver to ask, repeatable; overrides resolv.conf [default port: 53]
    --resolv-conf PATH     resolver configuration [default: /etc/resolv.conf]
    --records FILE         read records from a file (dnsmasq txt-record= or zone-file TXT lines)
                           instead of DNS
    --timeout DURATION     how long to keep retrying DNS, the engine and the lock [default: 5m]
    --splay DURATION       wait a random time up to DURATION before the first query [default: 0s]
    --docker-host URL      unix:///path or tcp://IP:PORT [default: $DOCKER_HOST, else the
                           docker context ($DOCKER_CONTEXT, else config.json's currentContext),
                           else unix:///var/run/docker.sock; TLS is refused]
    --pull missing|always|never
                           when to pull the image of a record that has no --pull of its own:
                           missing (when not present), always (before every run; a container
                           whose tag now names another image is replaced), never [default: missing]
    --docker-config DIR    registry credentials from DIR/config.json, kept as `docker login`
                           keeps them [default: $DOCKER_CONFIG, else $HOME/.docker, else
                           /root/.docker]
    --lock-file PATH       lock that keeps runs from overlapping [default: {DEFAULT_LOCK_FILE}]
    --state-dir DIR        what runs remember (the --rm jobs that finished, the last converged
                           state, resting nameservers) [default: {STATE_DIR}]
    --offline-after DURATION
                           apply: when DNS has not answered after DURATION, start the stopped
                           containers of the last converged state (never create, replace or
                           remove), then keep asking DNS until --timeout; 0s turns it off
                           [default: 30s]
    --jobs N               containers applied at once [default: {DEFAULT_JOBS}]
    --settle DURATION      watch every container the run starts this long; it must still run
                           (and be healthy, if it has a healthcheck) or have exited 0 as a
                           one-shot job, else a replace is rolled back; 0s turns it off
                           [default: 3s]
    --allow-empty          when no list exists for this host, remove every managed container
    --no-adopt             leave containers without our label alone even if DNS names them
    --require-ad           accept only DNSSEC-validated answers (AD bit) from a trusted resolver
    --trust-ad             the path to the nameservers is secure: trust their AD bit, as
                           resolv.conf's `options trust-ad` (for --nameserver, which replaces
                           resolv.conf)
    --allow-image PATTERN  allow only matching images (prefix or glob), repeatable
    --forbid-privileged    refuse specs that grant root-equivalent access to the host
    --strict               lint: warnings (records no host reads) fail too
    --detailed-exitcode    plan: exit 2 when changes are pending (0: nothing would change)
    --metrics-file PATH    apply, plan: write the run's outcome to PATH for node_exporter's
                           textfile collector (Prometheus text format, replaced atomically)
    --prune-images         apply: remove the images managed containers used before this run
                           and that no container uses now
    --format dnsmasq|zone|json
                           export: write dnsmasq txt-record= lines, zone-file TXT lines or
                           JSON [default: dnsmasq]
    --redact               export: replace the values of variables whose names look secret
                           (*PASSWORD* *SECRET* *TOKEN* *KEY*) with REDACTED
    --output text|json     output format [default: text]
    --log-level LEVEL      off, error, warn, info, debug, trace [default: $RUST_LOG, else info]
    -h, --help             print this help
    -V, --version          print the version

{EXIT_STATUS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, UsageError> {
        match parse(args.iter().copied())? {
            Parsed::Run(o) => Ok(*o),
            other => panic!("expected options, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let o = run(&[]).unwrap();
        assert_eq!(o, Options::default());
        assert_eq!(o.command, Command::Apply);
        assert_eq!(o.prefix, "containers.docker");
        assert_eq!(o.timeout, Duration::from_secs(300));
    }

    #[test]
    fn every_option_and_alias() {
        let o = run(&[
            "plan",
            "--hostname=Web1.Example.com.",
            "--dns-prefix",
            "c.d",
            "--inheritance",
            "--top-domain",
            "Example.COM.",
            "--nameserver",
            "127.0.0.1:5353",
            "--nameserver=::1",
            "--nameserver",
            "[fe80::1%1]:54",
            "--resolv-conf",
            "/tmp/r",
            "--records",
            "/tmp/rec",
            "--timeout",
            "500ms",
            "--splay=90s",
            "--output",
            "json",
            "--log-level",
            "debug",
            "--docker-host",
            "tcp://127.0.0.1:2375",
            "--lock-file",
            "/tmp/l",
            "--jobs",
            "8",
            "--allow-empty",
            "--no-adopt",
            "--require-ad",
            "--trust-ad",
            "--allow-image",
            "quay.io/coreos/*",
            "--forbid-privileged",
            "--pull",
            "always",
            "--docker-config",
            "/etc/ddp/docker",
            "--settle",
            "2s",
            "--state-dir",
            "/tmp/s",
            "--detailed-exitcode",
            "--metrics-file",
            "/tmp/m.prom",
        ])
        .unwrap();
        assert_eq!(o.command, Command::Plan);
        assert_eq!(o.hostname.as_deref(), Some("web1.example.com"));
        assert_eq!(o.prefix, "c.d");
        assert_eq!(o.top_domain.as_deref(), Some("example.com"));
        assert!(o.inherit && o.allow_empty && o.no_adopt && o.require_ad && o.trust_ad);
        assert!(o.forbid_privileged);
        assert_eq!(
            o.nameservers,
            vec![
                "127.0.0.1:5353".parse().unwrap(),
                "[::1]:53".parse().unwrap(),
                "[fe80::1%1]:54".parse().unwrap()
            ]
        );
        assert_eq!(o.resolv_conf, PathBuf::from("/tmp/r"));
        assert_eq!(o.records, Some(PathBuf::from("/tmp/rec")));
        assert_eq!(o.timeout, Duration::from_millis(500));
        assert_eq!(o.splay, Duration::from_secs(90));
        assert_eq!(o.output, Output::Json);
        assert_eq!(o.log_level.as_deref(), Some("debug"));
        assert_eq!(o.docker_host.as_deref(), Some("tcp://127.0.0.1:2375"));
        assert_eq!(o.lock_file, PathBuf::from("/tmp/l"));
        assert_eq!(o.jobs, 8);
        assert_eq!(o.allow_images, vec!["quay.io/coreos/*".to_string()]);
        assert_eq!(o.pull, crate::container::PullPolicy::Always);
        assert_eq!(o.docker_config, Some(PathBuf::from("/etc/ddp/docker")));
        assert_eq!(o.settle, Duration::from_secs(2));
        assert_eq!(o.state_dir, PathBuf::from("/tmp/s"));
        assert!(o.detailed_exitcode);
        assert!(run(&["apply", "--prune-images"]).unwrap().prune_images);
        assert_eq!(o.metrics_file, Some(PathBuf::from("/tmp/m.prom")));
        assert_eq!(run(&["apply", "--jobs=2"]).unwrap().command, Command::Apply);
        assert_eq!(run(&["--inherit", "show"]).unwrap().command, Command::Show);
        let o = run(&["export", "--format", "zone", "--redact", "web", "db"]).unwrap();
        assert_eq!(o.command, Command::Export);
        assert_eq!(o.export_format, crate::export::records::Format::Zone);
        assert!(o.redact);
        assert_eq!(o.export_names, vec!["web".to_string(), "db".to_string()]);
        let o = run(&["lint", "--records", "z", "--strict"]).unwrap();
        assert_eq!(o.command, Command::Lint);
        assert!(o.strict);
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(["-h"]).unwrap(), Parsed::Help);
        assert_eq!(parse(["show", "--help"]).unwrap(), Parsed::Help);
        assert_eq!(parse(["-V"]).unwrap(), Parsed::Version);
        assert!(help().contains("--timeout DURATION"));
    }

    #[test]
    fn bad_command_lines_name_the_offender() {
        let cases: &[(&[&str], &str)] = &[
            (&["--bogus"], "--bogus"),
            (&["-x"], "-x"),
            (&["frobnicate"], "frobnicate"),
            (&["show", "extra"], "extra"),
            (&["show", "plan"], "plan"),
            (&["--timeout", "5 minutes"], "--timeout"),
            (&["--timeout", "5d"], "unknown unit 'd'"),
            (&["--timeout", "0s"], "must be more than 0"),
            (&["--timeout"], "--timeout"),
            (&["--output", "yaml"], "yaml"),
            (&["--log-level", "loud"], "loud"),
            (&["--nameserver", "dns.example.com"], "dns.example.com"),
            (&["--nameserver", "1.2.3.4:99999"], "1.2.3.4:99999"),
            (&["--hostname", "bad host"], "bad host"),
            (&["--hostname", "a..b"], "a..b"),
            (&["--prefix", ""], "--prefix"),
            (&["--top-domain", "*.example.com"], "--top-domain"),
            (&["--jobs", "0"], "--jobs"),
            (&["--allow-image", ""], "--allow-image"),
            (&["--inherit=yes"], "--inherit"),
            (&["--pull", "sometimes"], "sometimes"),
            (&["--docker-config="], "--docker-config"),
            (&["lint"], "--records"),
            (&["show", "--strict"], "--strict"),
            (&["apply", "--detailed-exitcode"], "--detailed-exitcode"),
            (&["show", "--metrics-file", "/m"], "--metrics-file"),
            (&["--metrics-file="], "--metrics-file"),
            (&["plan", "--prune-images"], "--prune-images"),
            (&["export", "--format", "yaml"], "yaml"),
            (&["show", "--redact"], "--redact"),
            (&["apply", "--format", "zone"], "--format"),
        ];
        for (args, needle) in cases {
            let e = run(args).expect_err(&format!("{args:?} should fail"));
            assert!(e.0.contains(needle), "{args:?}: {e} lacks {needle}");
            assert!(!e.0.contains('\n'), "{args:?}: not one line: {e}");
        }
    }

    #[test]
    fn durations() {
        let ok = [
            ("500ms", 500),
            ("90s", 90_000),
            ("5m", 300_000),
            ("1h", 3_600_000),
            ("2", 2000),
            ("1.5s", 1500),
            ("0s", 0),
        ];
        for (s, ms) in ok {
            assert_eq!(parse_duration(s), Ok(Duration::from_millis(ms)), "{s}");
        }
        for s in ["", "s", "-1s", "1.2.3s", "10x", "8d", "99999h", "nan"] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
    }
}
