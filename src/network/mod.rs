//! User-defined networks as DNS declares them: the record grammar (`docker network create`
//! options → the Engine API create body, [`mod@line`]), the records ([`desired`]), the plan
//! ([`plan`], pure) and its execution ([`apply`]), and the policy on network records.
//! Containers stay the other modules' concern: this one only says which networks a
//! container record names, so that networks exist before them and go after them.

pub mod apply;
pub mod desired;
pub mod line;
pub mod plan;
pub mod report;

use crate::container::{ContainerSpec, OWNER_LABEL, owner_label};
use serde_json::Value;

/// Default `--network-prefix`: `<name>.networks.docker.<level>` holds a network's record.
pub const DEFAULT_PREFIX: &str = "networks.docker";

/// The engine's own networks and network modes: never declared, never managed.
pub const BUILTIN: [&str; 4] = ["bridge", "host", "none", "default"];

/// A parsed network record: the create body and its identity.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSpec {
    /// The record text, byte for byte: the network's identity.
    pub text: String,
    /// The create body without `Name`, ownership label set.
    pub body: Value,
}

impl NetworkSpec {
    /// The ownership label its network carries.
    pub fn owner_label(&self) -> Option<&str> {
        self.body["Labels"][OWNER_LABEL].as_str()
    }

    /// The body to send for the network `name`.
    pub fn create_body(&self, name: &str) -> Value {
        let mut body = self.body.clone();
        if let Some(m) = body.as_object_mut() {
            m.insert("Name".into(), Value::String(name.to_string()));
        }
        body
    }
}

/// A network record's text → its spec, with the ownership label set; refused by
/// `--forbid-privileged` when it would reach the host's network (see [`check_policy`]).
pub fn parse(text: &str, forbid_privileged: bool) -> Result<NetworkSpec, String> {
    let l = line::parse(text)?;
    if l.labels.contains_key(OWNER_LABEL) {
        return Err(format!(
            "the record sets the label {OWNER_LABEL} itself: that label is reserved for the tool's ownership mark"
        ));
    }
    if forbid_privileged {
        check_policy(&l).map_err(|what| format!("refused by --forbid-privileged: {what}"))?;
    }
    let mut body = line::body(&l)?;
    body["Labels"][OWNER_LABEL] = Value::String(owner_label(text));
    Ok(NetworkSpec {
        text: text.to_string(),
        body,
    })
}

/// Driver options a network record may set under `--forbid-privileged`: they change how the
/// network's own bridge behaves, never which host interface it is.
pub const SAFE_OPTIONS: &[&str] = &[
    "com.docker.network.bridge.enable_icc",
    "com.docker.network.bridge.enable_ip_masquerade",
    "com.docker.network.bridge.host_binding_ipv4",
    "com.docker.network.driver.mtu",
    "com.docker.network.container_iface_prefix",
];

/// What gives a network's containers the host's network in disguise: any driver but
/// `bridge` (`macvlan`/`ipvlan` put them on a host interface's segment, past the host's
/// firewall; `host`; plugins do what they like), an IPAM driver but `default`, and any
/// driver option outside [`SAFE_OPTIONS`] (`com.docker.network.bridge.name=docker0` joins
/// an existing host bridge; `gateway_mode_ipv4=routed` or `trusted_host_interfaces` expose
/// every port of the containers to the host's neighbours).
pub fn check_policy(l: &line::Line) -> Result<(), String> {
    if let Some(d) = l.driver.as_deref().filter(|d| *d != "bridge") {
        return Err(format!("--driver {d} (only bridge networks are allowed)"));
    }
    if let Some(d) = l.ipam_driver.as_deref().filter(|d| *d != "default") {
        return Err(format!(
            "--ipam-driver {d} (only the default IPAM driver is allowed)"
        ));
    }
    if let Some(k) = l.opts.keys().find(|k| !SAFE_OPTIONS.contains(&k.as_str())) {
        return Err(format!("--opt {k} (allowed: {})", SAFE_OPTIONS.join(", ")));
    }
    Ok(())
}

/// A network name the list may give: Docker's name rule, a DNS label sequence (it becomes
/// part of its record's name), and not one of the engine's own.
pub fn valid_network_name(name: &str) -> Result<(), String> {
    if BUILTIN.contains(&name) {
        return Err(format!(
            "'{name}' is one of the engine's own networks: it cannot be declared"
        ));
    }
    if !crate::container::valid_docker_name(name) {
        return Err(format!(
            "'{}' is not a valid network name (2 or more of [a-zA-Z0-9_.-], starting with a letter or digit)",
            name.escape_debug()
        ));
    }
    if !crate::dns::name::labels_fit(name, |_| true) {
        return Err(format!(
            "'{name}' cannot be part of a DNS name: each dot-separated part must be 1 to 63 characters"
        ));
    }
    Ok(())
}

/// The user-defined networks a container record attaches to (`--network`, the CSV form,
/// a JSON body's `NetworkingConfig`), without the engine's own modes.
pub fn used_by(spec: &ContainerSpec) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(mode) = spec.body["HostConfig"]["NetworkMode"].as_str() {
        names.push(mode.to_string());
    }
    if let Some(eps) = spec.body["NetworkingConfig"]["EndpointsConfig"].as_object() {
        names.extend(eps.keys().cloned());
    }
    names.retain(|n| !BUILTIN.contains(&n.as_str()) && !n.contains(':') && !n.is_empty());
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests;
