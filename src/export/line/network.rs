//! Networks, their endpoint settings, links, name resolution and ports.

use super::{Writer, csv_field, object, text, texts};
use serde_json::Value;

/// The settings of one endpoint, as `--network name=…` fields.
#[derive(Default)]
struct Endpoint {
    aliases: Vec<String>,
    ipv4: String,
    ipv6: String,
    link_local: Vec<String>,
    driver_opts: Vec<(String, String)>,
}

impl Endpoint {
    fn is_plain(&self) -> bool {
        self.driver_opts.is_empty()
    }

    fn csv(&self, name: &str) -> String {
        let mut fields = vec![format!("name={name}")];
        fields.extend(self.aliases.iter().map(|a| format!("alias={a}")));
        if !self.ipv4.is_empty() {
            fields.push(format!("ip={}", self.ipv4));
        }
        if !self.ipv6.is_empty() {
            fields.push(format!("ip6={}", self.ipv6));
        }
        fields.extend(self.link_local.iter().map(|a| format!("link-local-ip={a}")));
        fields.extend(
            self.driver_opts
                .iter()
                .map(|(k, v)| format!("driver-opt={k}={v}")),
        );
        fields
            .iter()
            .map(|f| csv_field(f))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Writer<'_> {
    /// The endpoint settings someone gave (not what the engine assigned: addresses in use,
    /// the short ID it adds as an alias).
    fn endpoint(&self, ep: &Value) -> Endpoint {
        let short = &self.id[..self.id.len().min(12)];
        // Engines add the short ID (and, since API 1.44, the name) as aliases themselves.
        let name = text(&self.top["Name"]).trim_start_matches('/');
        let ipam = &ep["IPAMConfig"];
        Endpoint {
            aliases: texts(&ep["Aliases"])
                .into_iter()
                .filter(|a| !(a.len() >= 12 && short.starts_with(a)) && *a != short && *a != name)
                .map(String::from)
                .collect(),
            ipv4: text(&ipam["IPv4Address"]).to_string(),
            ipv6: text(&ipam["IPv6Address"]).to_string(),
            link_local: texts(&ipam["LinkLocalIPs"])
                .into_iter()
                .map(String::from)
                .collect(),
            driver_opts: object(&ep["DriverOpts"])
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), text(v).to_string()))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// `--network` (one flag per network), endpoint settings, links and name resolution.
    pub(super) fn network(&mut self) {
        let stored = self.network_mode().to_string();
        let mode = self.mode("NetworkMode");
        let shared = matches!(mode.as_str(), "host" | "none") || mode.starts_with("container:");
        if !matches!(mode.as_str(), "" | "default") {
            let nets = object(self.nets).cloned().unwrap_or_default();
            let main = nets
                .get(&stored)
                .map(|ep| self.endpoint(ep))
                .unwrap_or_default();
            let others: Vec<(String, Endpoint)> = if shared {
                Vec::new()
            } else {
                nets.iter()
                    .filter(|(n, _)| **n != stored)
                    .map(|(n, ep)| (n.clone(), self.endpoint(ep)))
                    .collect()
            };
            if others.is_empty() && main.is_plain() {
                self.put("network", &mode);
                for a in &main.aliases {
                    self.put("network-alias", a);
                }
                for (name, v) in [("ip", &main.ipv4), ("ip6", &main.ipv6)] {
                    if !v.is_empty() {
                        self.put(name, v);
                    }
                }
                for a in &main.link_local {
                    self.put("link-local-ip", a);
                }
            } else {
                self.put("network", &main.csv(&mode));
                for (name, ep) in &others {
                    self.put("network", &ep.csv(name));
                }
            }
        }
        self.links(&stored);
        self.each("add-host", &self.hc["ExtraHosts"]);
        self.each("dns", &self.hc["Dns"]);
        self.each("dns-option", &self.hc["DnsOptions"]);
        self.each("dns-search", &self.hc["DnsSearch"]);
    }

    /// `--link`: the engine keeps a legacy link as `/target:/<this container>/alias`.
    fn links(&mut self, mode: &str) {
        let legacy = texts(&self.hc["Links"]);
        let mut links: Vec<String> = if legacy.is_empty() {
            texts(&self.nets[mode]["Links"])
                .into_iter()
                .map(String::from)
                .collect()
        } else {
            legacy.into_iter().map(link).collect()
        };
        // The engine keeps links in a map and lists them in no stable order; their order
        // means nothing, so two exports of one container give one record.
        links.sort();
        for l in links {
            self.put("link", &l);
        }
    }

    /// `--publish`, `--publish-all` and the ports exposed beyond the image's.
    pub(super) fn ports(&mut self) {
        let bindings = object(&self.hc["PortBindings"])
            .cloned()
            .unwrap_or_default();
        for (port, list) in &bindings {
            let (number, proto) = port.split_once('/').unwrap_or((port, "tcp"));
            let container = if proto == "tcp" {
                number.to_string()
            } else {
                format!("{number}/{proto}")
            };
            for b in list.as_array().into_iter().flatten() {
                let (ip, host_port) = (text(&b["HostIp"]), text(&b["HostPort"]));
                let ip = if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip.to_string()
                };
                let spec = match (ip.is_empty(), host_port.is_empty()) {
                    (true, true) => container.clone(),
                    (true, false) => format!("{host_port}:{container}"),
                    _ => format!("{ip}:{host_port}:{container}"),
                };
                self.put("publish", &spec);
            }
        }
        if self.hc["PublishAllPorts"] == true {
            self.switch("publish-all");
        }
        if let Some(exposed) = object(&self.c["ExposedPorts"]) {
            let own: Vec<String> = exposed
                .keys()
                .filter(|p| self.img["ExposedPorts"].get(p.as_str()).is_none())
                .filter(|p| !bindings.contains_key(p.as_str()))
                .cloned()
                .collect();
            for p in own {
                let p = p.strip_suffix("/tcp").unwrap_or(&p).to_string();
                self.put("expose", &p);
            }
        }
    }
}

/// `/db:/web/alias` → `db:alias`, or `db` when the alias is the target's own name.
fn link(stored: &str) -> String {
    let stored = stored.strip_prefix('/').unwrap_or(stored);
    match stored.split_once(":/") {
        Some((target, path)) => {
            let alias = path.rsplit('/').next().unwrap_or(path);
            if alias == target {
                target.to_string()
            } else {
                format!("{target}:{alias}")
            }
        }
        None => stored.to_string(),
    }
}
