//! The proxies the docker CLI puts into the containers it creates: config.json's
//! `proxies.<engine host>`, else `proxies.default` (`httpProxy`, `httpsProxy`, `noProxy`,
//! `ftpProxy`, `allProxy`), as the variables `HTTP_PROXY`/`http_proxy` and so on. Reads the
//! file through a [`Lookup`]; what a container gets of them is `container::proxy_env`'s.

use super::context::{Lookup, config_dir};
use serde_json::Value;

/// config.json's field → the variable it becomes (and its lower-case twin).
const FIELDS: &[(&str, &str)] = &[
    ("httpProxy", "HTTP_PROXY"),
    ("httpsProxy", "HTTPS_PROXY"),
    ("noProxy", "NO_PROXY"),
    ("ftpProxy", "FTP_PROXY"),
    ("allProxy", "ALL_PROXY"),
];

/// The proxy variables (upper-case name, value) for containers on the engine `host` (its
/// URL as the settings name it), from the CLI's config.json; none without a file or entry.
pub fn for_engine(l: &Lookup, host: &str) -> Result<Vec<(String, String)>, String> {
    let env = |k: &str| (l.env)(k).filter(|v| !v.is_empty());
    let path = config_dir(l, &env).join("config.json");
    let Some(bytes) = (l.read)(&path)? else {
        return Ok(Vec::new());
    };
    let bad = |why: &str| format!("malformed docker config {}: {why}", path.display());
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
    let proxies = match &doc["proxies"] {
        Value::Null => return Ok(Vec::new()),
        Value::Object(p) => p,
        _ => return Err(bad("\"proxies\" is not an object")),
    };
    // The CLI keys by the engine host exactly as written, else `default`.
    let Some(entry) = proxies.get(host).or_else(|| proxies.get("default")) else {
        return Ok(Vec::new());
    };
    let mut vars = Vec::new();
    for (field, var) in FIELDS {
        match &entry[*field] {
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            Value::String(s) => vars.push((var.to_string(), s.clone())),
            _ => return Err(bad(&format!("proxies: {field} is not a string"))),
        }
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn proxies(config: &str, host: &str) -> Result<Vec<(String, String)>, String> {
        let env = |k: &str| (k == "DOCKER_CONFIG").then(|| "/cfg".to_string());
        let read =
            |p: &Path| Ok((p == Path::new("/cfg/config.json")).then(|| config.as_bytes().to_vec()));
        for_engine(
            &Lookup {
                flag: None,
                config_dir: None,
                env: &env,
                root: true,
                read: &read,
                exists: &|_| false,
            },
            host,
        )
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn keyed_by_the_engine_host_else_default() {
        let config = r#"{"proxies":{
            "default":{"httpProxy":"http://p:3128","noProxy":"localhost,.internal"},
            "tcp://10.0.0.5:2375":{"httpsProxy":"http://q:3128","ftpProxy":"",
                                   "allProxy":"socks5://r:1080"}}}"#;
        assert_eq!(
            proxies(config, "unix:///var/run/docker.sock").unwrap(),
            pairs(&[
                ("HTTP_PROXY", "http://p:3128"),
                ("NO_PROXY", "localhost,.internal")
            ])
        );
        assert_eq!(
            proxies(config, "tcp://10.0.0.5:2375").unwrap(),
            pairs(&[
                ("HTTPS_PROXY", "http://q:3128"),
                ("ALL_PROXY", "socks5://r:1080")
            ])
        );
        assert_eq!(proxies("{}", "x").unwrap(), []);
        assert_eq!(proxies(r#"{"proxies":{"tcp://a:1":{}}}"#, "x").unwrap(), []);
        assert!(
            proxies(r#"{"proxies":[]}"#, "x")
                .unwrap_err()
                .contains("not an object")
        );
        assert!(
            proxies(r#"{"proxies":{"default":{"httpProxy":1}}}"#, "x")
                .unwrap_err()
                .contains("httpProxy")
        );
    }
}
