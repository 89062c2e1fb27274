//! The network calls: list, create, remove, and the connect/disconnect a network's
//! recreation needs. The engine's replies, as the planner and apply read them.

use super::{
    Engine, EngineError, MAX_BODY, Method, QUERY, Wait, api_error, encode, expect_body, protocol,
};
use crate::btree::IntoTree;
use crate::docker::Network;
use crate::docker::version::ApiVersion;
use serde::Deserialize;
use serde_json::{Value, json};
use std::io::Read;

/// Before this API version the engine creates a second network of a name unless asked
/// not to (`CheckDuplicate`, which the CLI sends to such engines).
const DUPLICATES_REFUSED: ApiVersion = ApiVersion::new(1, 44);

impl Engine {
    /// `GET /networks`: every network the engine has.
    pub fn list_networks(&self) -> Result<Vec<Network>, EngineError> {
        let (call, response) = self.send(Method::Get, "/networks", Wait::Usual)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(api_error(call, status, response));
        }
        let mut body = Vec::new();
        let mut reader = response.into_body().into_reader().take(MAX_BODY + 1);
        reader
            .read_to_end(&mut body)
            .map_err(|e| protocol(&call, format!("reading the reply: {e}")))?;
        if body.len() as u64 > MAX_BODY {
            return Err(protocol(
                &call,
                format!("reply larger than {MAX_BODY} bytes"),
            ));
        }
        networks_from(&body).map_err(|m| protocol(&call, m))
    }

    /// `GET /networks/{id}`: one network's inspect (read by `export`).
    pub fn inspect_network(&self, id: &str) -> Result<Value, EngineError> {
        let path = format!("/networks/{}", encode(id, QUERY));
        let (call, response) = self.send(Method::Get, &path, Wait::Usual)?;
        let body = expect_body(&call, response, &[200])?;
        serde_json::from_slice(&body)
            .map_err(|e| protocol(&call, format!("unparsable network inspect reply: {e}")))
    }

    /// `POST /networks/create` with `body` (it holds the name); returns the new network's ID.
    pub fn create_network(&self, body: &Value) -> Result<String, EngineError> {
        let mut body = body.clone();
        if self.version < DUPLICATES_REFUSED
            && let Some(m) = body.as_object_mut()
        {
            m.insert("CheckDuplicate".into(), json!(true));
        }
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| protocol("POST /networks/create", format!("encoding the body: {e}")))?;
        let (call, response) =
            self.send(Method::Post(Some(&bytes)), "/networks/create", Wait::Usual)?;
        let reply = expect_body(&call, response, &[200, 201])?;
        #[derive(Deserialize)]
        struct Created {
            #[serde(rename = "Id")]
            id: String,
            #[serde(rename = "Warning", default)]
            warning: Option<String>,
        }
        let c: Created = serde_json::from_slice(&reply)
            .map_err(|e| protocol(&call, format!("unparsable create reply: {e}")))?;
        if let Some(w) = c.warning.filter(|w| !w.is_empty()) {
            log::warn!("Docker engine, creating a network: {w}");
        }
        Ok(c.id)
    }

    /// `DELETE /networks/{id}`; one already gone counts as removed.
    pub fn remove_network(&self, id: &str) -> Result<(), EngineError> {
        let path = format!("/networks/{}", encode(id, QUERY));
        self.expect_done(Method::Delete, &path, Wait::Usual, &[200, 204, 404])
    }

    /// `POST /networks/{id}/connect`: attach a container with these endpoint settings.
    pub fn connect_network(
        &self,
        id: &str,
        container: &str,
        endpoint: &Value,
    ) -> Result<(), EngineError> {
        let path = format!("/networks/{}/connect", encode(id, QUERY));
        let body = json!({"Container": container, "EndpointConfig": endpoint});
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| protocol("POST /networks/connect", format!("encoding the body: {e}")))?;
        self.expect_done(Method::Post(Some(&bytes)), &path, Wait::Usual, &[200, 204])
    }

    /// `POST /networks/{id}/disconnect`, forced (the container may be stopped).
    pub fn disconnect_network(&self, id: &str, container: &str) -> Result<(), EngineError> {
        let path = format!("/networks/{}/disconnect", encode(id, QUERY));
        let body = json!({"Container": container, "Force": true});
        let bytes = serde_json::to_vec(&body).map_err(|e| {
            protocol(
                "POST /networks/disconnect",
                format!("encoding the body: {e}"),
            )
        })?;
        self.expect_done(Method::Post(Some(&bytes)), &path, Wait::Usual, &[200, 204])
    }
}

/// `GET /networks` → each network's ID, name, driver, the tool's labels and the record text
/// that describes it.
pub fn networks_from(body: &[u8]) -> Result<Vec<Network>, String> {
    let list: Vec<Value> =
        serde_json::from_slice(body).map_err(|e| format!("unparsable network list: {e}"))?;
    list.iter()
        .map(|v| {
            let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let id = text("Id");
            if id.is_empty() {
                return Err("unparsable network list: a network without its Id".to_string());
            }
            let labels = v["Labels"].as_object().into_iter().flatten();
            Ok(Network {
                id,
                name: text("Name"),
                driver: text("Driver"),
                labels: labels
                    .filter(|(k, _)| k.starts_with("docker-dns-provision."))
                    .map(|(k, x)| (k.clone(), x.as_str().unwrap_or_default().to_string()))
                    .into_map(),
                described: Some(crate::network::line::write(
                    &crate::network::line::from_body(v),
                )),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_list_keeps_only_the_tools_labels() {
        let body = br#"[{"Name":"appnet","Id":"n1","Driver":"bridge",
            "Labels":{"docker-dns-provision.command":"Zm9v","other":"x"}},
            {"Name":"bridge","Id":"n0","Driver":"bridge","Labels":null}]"#;
        let list = networks_from(body).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[0].name.as_str(), list[0].id.as_str(), list[0].owner()),
            ("appnet", "n1", Some("Zm9v"))
        );
        assert_eq!(list[0].labels.len(), 1);
        assert_eq!(list[1].owner(), None);
        assert_eq!(list[1].described.as_deref(), Some(""));
        assert!(networks_from(b"{").is_err());
        assert!(networks_from(br#"[{"Name":"x"}]"#).is_err());
        let subnet = br#"[{"Id":"n2","IPAM":{"Config":[{"Subnet":"10.1.0.0/24"}]}}]"#;
        let described = networks_from(subnet).unwrap()[0].described.clone();
        assert_eq!(described.as_deref(), Some("--subnet 10.1.0.0/24"));
    }
}
