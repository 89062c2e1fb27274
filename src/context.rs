//! Options → the ready objects a command runs with: the host name, the rules records are read
//! under (the walk's bound, the policy, the parser), the records source and the engine's
//! endpoint. Built in this one place, so that `lint`, `show`, `plan` and `apply` can never
//! read a record differently, and every configuration error is found before any wait.

use crate::cli::Options;
use crate::container::{self, ContainerSpec, Policy, PullPolicy};
use crate::dns::records_file::{RecordsError, RecordsFile};
use crate::dns::{self, Resolver, ResolverConfig, TxtSource};
use crate::docker::{self, DockerHost, Endpoint};
use crate::exit::{Code, Stop};
use crate::walk::{self, Bound};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

/// The host whose records are read: `--hostname`, else the kernel's (78 when unusable).
pub fn host(o: &Options) -> Result<String, Stop> {
    match &o.hostname {
        Some(h) => Ok(h.clone()),
        None => crate::cli::kernel_hostname().map_err(|e| Stop::new(Code::Config, e)),
    }
}

/// How records are read, whichever command reads them: where a host's walk may go, and
/// what a record's text must be to become a spec.
pub struct Rules {
    /// How far the walk may go, and the prefix its levels are asked under.
    pub limits: walk::Limits,
    /// What records may ask for (`--allow-image`, `--forbid-privileged`).
    pub policy: Policy,
    /// The tool-wide pull policy, for records that do not set their own.
    pub pull: PullPolicy,
    /// The proxy variables the docker CLI would put into containers for this engine
    /// (config.json's `proxies`); none until [`Rules::with_proxies`].
    pub proxies: Vec<(String, String)>,
}

impl Rules {
    /// The rules the options set. `walk::walk` refuses a `--top-domain` that is an ICANN
    /// public suffix and a host whose list record name DNS cannot carry (78).
    pub fn new(o: &Options) -> Rules {
        Rules {
            limits: walk::Limits {
                bound: match &o.top_domain {
                    Some(top) => Bound::TopDomain(top.clone()),
                    None => Bound::PublicSuffix,
                },
                prefix: o.prefix.clone(),
            },
            policy: Policy {
                allow_images: o.allow_images.clone(),
                forbid_privileged: o.forbid_privileged,
            },
            pull: o.pull,
            proxies: Vec::new(),
        }
    }

    /// These rules with the proxies config.json names for the engine the options name (78
    /// when the engine settings are refused or config.json is malformed).
    pub fn with_proxies(self, o: &Options) -> Result<Rules, Stop> {
        let named = engine_host(o)?;
        let env = |k: &str| std::env::var(k).ok();
        let lookup = docker::context::system_lookup(
            o.docker_host.as_deref(),
            o.docker_config.as_deref(),
            &env,
        );
        let proxies = docker::proxies::for_engine(&lookup, &named.host)
            .map_err(|e| Stop::new(Code::Config, e))?;
        Ok(Rules { proxies, ..self })
    }

    /// A record's text → its spec: what every command parses with, so that `lint` and the
    /// hosts never disagree.
    pub fn parser(&self) -> impl Fn(&str) -> Result<ContainerSpec, String> + Sync + '_ {
        move |text: &str| {
            // With --forbid-privileged the guard also keeps records from reading host files
            // and the tool's environment (--env-file /etc/shadow, -e SECRET).
            let mut s = container::parse(text, &self.policy.guard(&container::SystemHost))
                .map_err(|e| e.to_string())?;
            self.policy.check(&s).map_err(|e| e.to_string())?;
            // As the docker CLI does: config.json's proxies, where the record sets none.
            container::proxy_env::add(&mut s.body, &self.proxies);
            // The record's own --pull wins over the tool-wide one.
            Ok(ContainerSpec {
                pull: Some(crate::images::policy(&s, self.pull)),
                ..s
            })
        }
    }
}

/// A `--records` file, loaded: unreadable is 66 (nothing configured), malformed 65.
pub fn records_file(path: &Path) -> Result<RecordsFile, Stop> {
    RecordsFile::load(path).map_err(|e| match e {
        RecordsError::Unreadable(m) => Stop::new(Code::NotConfigured, m),
        RecordsError::Malformed(m) => Stop::new(Code::DataError, m),
    })
}

/// Where records come from: a file, or DNS through our own resolver.
pub enum Records {
    /// `--records FILE`.
    File(RecordsFile),
    /// The servers of resolv.conf or `--nameserver`.
    Dns(Resolver),
}

impl Records {
    /// Everything that can be wrong with the configuration is found here, before any wait.
    pub fn open(o: &Options, deadline: Instant) -> Result<Records, Stop> {
        if let Some(path) = &o.records {
            return records_file(path).map(Records::File);
        }
        let config = resolver_config(o)?;
        if o.require_ad {
            dns::check_ad_trust(&config)
                .map_err(|e| Stop::new(Code::Config, format!("--require-ad: {e}")))?;
        }
        Ok(Records::Dns(
            Resolver::new(config, deadline).require_ad(o.require_ad),
        ))
    }

    /// The source the desired state is read from.
    pub fn source(&self) -> &dyn TxtSource {
        match self {
            Records::File(f) => f,
            Records::Dns(r) => r,
        }
    }
}

fn resolver_config(o: &Options) -> Result<ResolverConfig, Stop> {
    let mut config = if o.nameservers.is_empty() {
        ResolverConfig::load(&o.resolv_conf).map_err(|e| Stop::new(Code::Config, e))?
    } else {
        ResolverConfig::with_servers(o.nameservers.clone())
    };
    config.trust_ad |= o.trust_ad;
    Ok(config)
}

/// The engine URL the options and the docker CLI's settings name (`--docker-host`,
/// `DOCKER_HOST`, a context, the default or rootless socket), or 78 when they ask for what
/// the tool cannot do (TLS, content trust).
pub fn engine_host(o: &Options) -> Result<docker::context::Named, Stop> {
    let env = |k: &str| std::env::var(k).ok();
    let lookup =
        docker::context::system_lookup(o.docker_host.as_deref(), o.docker_config.as_deref(), &env);
    docker::context::engine_host(&lookup).map_err(|e| Stop::new(Code::Config, e))
}

/// `DOCKER_API_VERSION`: the API version to speak instead of negotiating, as the CLI does
/// (78 when it is not a version this tool can speak).
pub fn pinned_api_version() -> Result<Option<docker::ApiVersion>, Stop> {
    match std::env::var("DOCKER_API_VERSION") {
        Ok(v) if !v.is_empty() => docker::version::pinned(&v)
            .map(Some)
            .map_err(|e| Stop::new(Code::Config, format!("DOCKER_API_VERSION: {e}"))),
        _ => Ok(None),
    }
}

/// The engine's endpoint when naming it needs no DNS (a socket or an address).
pub fn local_endpoint(o: &Options) -> Option<Endpoint> {
    let named = engine_host(o).ok()?;
    docker::parse_docker_host(&named.host)
        .ok()
        .and_then(|host| literal_endpoint(host).ok())
}

/// The engine's endpoint; a tcp host name is resolved by our resolver (never libc: a static
/// binary has no NSS).
pub fn engine_endpoint(
    o: &Options,
    records: &Records,
    deadline: Instant,
) -> Result<Endpoint, Stop> {
    let named = engine_host(o)?;
    let host = docker::parse_docker_host(&named.host)
        .map_err(|e| Stop::new(Code::Config, format!("{e} (from {})", named.by)))?;
    let (host, port) = match literal_endpoint(host) {
        Ok(endpoint) => return Ok(endpoint),
        Err(named) => named,
    };
    let own;
    let resolver = match records {
        Records::Dns(r) => r,
        Records::File(_) => {
            own = Resolver::new(resolver_config(o)?, deadline);
            &own
        }
    };
    let ips = resolver
        .lookup_ip(&host)
        .map_err(|e| Stop::new(Code::Unavailable, format!("engine host {host}: {e}")))?;
    ips.first()
        .map(|ip| Endpoint::Tcp(SocketAddr::new(*ip, port)))
        .ok_or_else(|| {
            Stop::new(
                Code::Unavailable,
                format!("engine host {host} has no address"),
            )
        })
}

/// The endpoint a docker host names, or the tcp host name and port to resolve first.
fn literal_endpoint(host: DockerHost) -> Result<Endpoint, (String, u16)> {
    match host {
        DockerHost::Unix(path) => Ok(Endpoint::Unix(path)),
        DockerHost::Tcp { host, port } => match host.parse() {
            Ok(ip) => Ok(Endpoint::Tcp(SocketAddr::new(ip, port))),
            Err(_) => Err((host, port)),
        },
    }
}
