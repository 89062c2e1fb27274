//! `export`: the host's existing containers → the records that make them again (the list and
//! one `docker run` line per container), so a host started by hand or by scripts can be
//! brought under the tool. Reads the engine (inspect of containers and their images) and
//! nothing else; changes nothing. The rules of what a line says are in [`mod@line`], pure.

pub mod line;
pub mod quote;
pub mod records;
pub mod secrets;

use crate::btree::IntoTree;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use crate::cli::Options;
use crate::container::{OWNER_LABEL, record_text};
use crate::context::{self, Records};
use crate::docker::{Endpoint, Engine, EngineError};
use crate::exit::{Code, Stop};
use line::EngineFacts;
use records::TxtRecord;

/// Where the Docker engine keeps the defaults its `/info` does not tell (the log options).
const DAEMON_JSON: &str = "/etc/docker/daemon.json";

/// One container as the engine shows it: its inspect and its image's (`Null` when gone).
#[derive(Debug, Clone)]
pub struct Inspected {
    /// `GET /containers/{id}/json`.
    pub container: Value,
    /// `GET /images/{id}/json` of the image it runs.
    pub image: Value,
}

/// The records of a host, and what its operator must hear about them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Export {
    /// The list record first, then one record per container, by name.
    pub records: Vec<TxtRecord>,
    /// Warnings for stderr: secret-looking values, containers left out.
    pub warnings: Vec<String>,
}

/// The records that reproduce `containers` for `host` under `prefix`. Pure.
pub fn export(
    containers: &[Inspected],
    host: &str,
    prefix: &str,
    facts: &EngineFacts,
    redact: bool,
) -> Export {
    let level = format!("{prefix}.{host}");
    let mut out = Export::default();
    let mut by_name: BTreeMap<String, TxtRecord> = BTreeMap::new();
    for c in containers {
        let name = c.container["Name"].as_str().unwrap_or_default();
        let name = name.strip_prefix('/').unwrap_or(name).to_string();
        if let Err(why) = crate::desired::valid_container_name(&name) {
            out.warnings.push(format!("{name}: not exported: {why}"));
            continue;
        }
        let owner = format!("{name}.{level}");
        if owner.len() > 253 {
            out.warnings.push(format!(
                "{name}: not exported: its record name {owner} is over the 253 characters of a DNS name"
            ));
            continue;
        }
        let (text, notes, secrets) = container_text(c, facts, redact);
        if !secrets.is_empty() {
            let done = if redact {
                "their values are replaced by the placeholder ".to_string() + secrets::PLACEHOLDER
            } else {
                "their values are in the record, and DNS answers whoever asks: use --redact and keep secrets on the host (an --env-file there)".into()
            };
            out.warnings.push(format!(
                "{name}: environment variables that look secret: {}; {done}",
                secrets.join(", ")
            ));
        }
        by_name.insert(
            name,
            TxtRecord {
                kind: "container",
                name: owner,
                strings: records::character_strings(&text),
                notes,
            },
        );
    }
    let names: Vec<String> = by_name.keys().cloned().collect();
    out.records.push(TxtRecord {
        kind: "list",
        name: level,
        strings: records::list_strings(&names),
        notes: Vec::new(),
    });
    out.records.extend(by_name.into_values());
    out
}

/// The user-defined networks the containers' run lines name (not the engine's own), by name:
/// the network mode, and the other networks when it is one (as [`line::run_line`] writes).
pub fn networks_used(containers: &[Inspected]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in containers {
        let mode = c.container["HostConfig"]["NetworkMode"]
            .as_str()
            .unwrap_or_default();
        if matches!(mode, "" | "default" | "host" | "none") || mode.starts_with("container:") {
            continue;
        }
        names.push(mode.to_string());
        if let Some(eps) = c.container["NetworkSettings"]["Networks"].as_object() {
            names.extend(eps.keys().cloned());
        }
    }
    names.retain(|n| !crate::network::BUILTIN.contains(&n.as_str()));
    names.sort();
    names.dedup();
    names
}

/// The networks' records: their list under `<prefix>.<host>` and one record per network
/// (`<name>.<prefix>.<host>`) with the `docker network create` options its inspect shows,
/// defaults left out. Pure; a network no record can name is a warning, not a record.
pub fn export_networks(networks: &[(String, Value)], host: &str, prefix: &str, out: &mut Export) {
    if networks.is_empty() {
        return;
    }
    let level = format!("{prefix}.{host}");
    let mut records = Vec::new();
    let mut names = Vec::new();
    for (name, doc) in networks {
        let owner = format!("{name}.{level}");
        let refused = crate::network::valid_network_name(name).err().or_else(|| {
            (owner.len() > 253).then(|| format!("its record name {owner} is over 253 characters"))
        });
        if let Some(why) = refused {
            out.warnings
                .push(format!("network {name}: not exported: {why}"));
            continue;
        }
        names.push(name.clone());
        let text = crate::network::line::write(&crate::network::line::from_body(doc));
        records.push(TxtRecord {
            kind: "network",
            name: owner,
            strings: records::character_strings(&text),
            notes: Vec::new(),
        });
    }
    out.records.push(TxtRecord {
        kind: "network list",
        name: level,
        strings: records::list_strings(&names),
        notes: Vec::new(),
    });
    out.records.extend(records);
}

/// The record text of one container, its notes and its secret-looking variables. A container
/// the tool made carries its record text in the ownership label: that text is its identity,
/// so it is exported as it is (unless it must be redacted).
fn container_text(
    c: &Inspected,
    facts: &EngineFacts,
    redact: bool,
) -> (String, Vec<String>, Vec<String>) {
    let line = line::run_line(&c.container, &c.image, facts, redact);
    let carried = c.container["Config"]["Labels"][OWNER_LABEL]
        .as_str()
        .and_then(record_text)
        .filter(|t| !t.trim().is_empty());
    match carried {
        Some(text) if !redact || line.secrets.is_empty() => (
            text,
            vec![
                "the record text the container's ownership label carries (the tool made it)".into(),
            ],
            line.secrets,
        ),
        _ => {
            let text = line.text();
            (text, line.notes, line.secrets)
        }
    }
}

/// Run `export`: print the records of the named containers (all when none is named).
pub fn run(o: &Options) -> Code {
    match read_and_print(o) {
        Ok(()) => Code::Ok,
        Err(stop) => {
            log::error!("{}", stop.why);
            stop.code
        }
    }
}

fn read_and_print(o: &Options) -> Result<(), Stop> {
    let host = context::host(o)?;
    let deadline = Instant::now() + o.timeout;
    let endpoint = match context::local_endpoint(o) {
        Some(e) => e,
        None => context::engine_endpoint(o, &Records::open(o, deadline)?, deadline)?,
    };
    let engine = Engine::connect(&endpoint, deadline).map_err(|e| engine_stop(&endpoint, e))?;
    let (containers, defaults) =
        read_engine(&engine, &endpoint, &o.export_names).map_err(|e| match e {
            Read::Engine(e) => engine_stop(&endpoint, e),
            Read::Missing(names) => Stop::new(
                Code::DataError,
                format!("no container named {} on this engine", names.join(", ")),
            ),
        })?;
    let mut networks = Vec::new();
    // Podman's own default network is the engine's, as `bridge` is Docker's.
    for name in networks_used(&containers)
        .into_iter()
        .filter(|n| !(defaults.podman && n == "podman"))
    {
        match engine.inspect_network(&name) {
            Ok(doc) => networks.push((name, doc)),
            // A container may name a network that is gone (or never was: `docker create`
            // does not check): its run line still names it, and no record can describe it.
            Err(EngineError::Api { status: 404, .. }) => log::warn!(
                "network {name}: named by a container but not on this engine, so not exported; \
                 declare it, or lint and apply refuse those containers (undeclared network)"
            ),
            Err(e) => return Err(engine_stop(&endpoint, e)),
        }
    }
    let mut exported = export(&containers, &host, &o.prefix, &defaults, o.redact);
    let count = exported.records.len() - 1;
    export_networks(&networks, &host, &o.network_prefix, &mut exported);
    for w in &exported.warnings {
        log::warn!("{w}");
    }
    let header = format!(
        "docker-dns-provision export: {count} container(s) and {} network(s) of host {host} (docker-dns-provision(8), EXPORT)\n\
         Publish these records, then `plan`: each container is adopted, replaced once to carry the ownership label.",
        networks.len()
    );
    print!(
        "{}",
        records::write(o.export_format, &header, &exported.records)
    );
    Ok(())
}

enum Read {
    Engine(EngineError),
    Missing(Vec<String>),
}

impl From<EngineError> for Read {
    fn from(e: EngineError) -> Self {
        Read::Engine(e)
    }
}

/// Every named container (all when none is), inspected with its image, and the engine's
/// defaults.
fn read_engine(
    engine: &Engine,
    endpoint: &Endpoint,
    names: &[String],
) -> Result<(Vec<Inspected>, EngineFacts), Read> {
    let list = engine.list()?;
    let missing: Vec<String> = names
        .iter()
        .filter(|n| !list.iter().any(|c| c.name == **n))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(Read::Missing(missing));
    }
    let mut out = Vec::new();
    for c in list
        .iter()
        .filter(|c| names.is_empty() || names.contains(&c.name))
    {
        let container = engine.inspect(&c.id)?;
        let image_id = container["Image"]
            .as_str()
            .unwrap_or(&c.image_id)
            .to_string();
        let image = engine.inspect_image(&image_id)?.unwrap_or(Value::Null);
        out.push(Inspected { container, image });
    }
    let log_opts = match endpoint {
        Endpoint::Unix(_) => daemon_log_opts(Path::new(DAEMON_JSON)),
        _ => BTreeMap::new(),
    };
    let names = list
        .iter()
        .map(|c| (c.id.clone(), c.name.clone()))
        .into_map();
    let mut facts = EngineFacts::from_info(&engine.info()?, log_opts, names);
    facts.podman = engine.is_podman();
    Ok((out, facts))
}

/// The `log-opts` a local Docker engine adds to every container of its default driver; none
/// when its configuration cannot be read (then they are written out, which changes nothing).
pub fn daemon_log_opts(path: &Path) -> BTreeMap<String, String> {
    let Ok(bytes) = crate::bounded_read::regular_file(path, 1 << 20) else {
        return BTreeMap::new();
    };
    let config: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    config["log-opts"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .into_map()
        })
        .unwrap_or_default()
}

fn engine_stop(endpoint: &Endpoint, e: EngineError) -> Stop {
    Stop::new(
        Code::Unavailable,
        format!("Docker engine at {endpoint}: {e}"),
    )
}

#[cfg(test)]
mod tests;
