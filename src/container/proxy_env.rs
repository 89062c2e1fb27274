//! The docker CLI's proxy variables in a create body, as its `ParseProxyConfig` adds them:
//! each variable, upper- and lower-case, unless the record sets that exact name already
//! (with a value, empty, or as a bare `-e NAME`). Pure; where the proxies come from is
//! `docker::proxies`'s.

use serde_json::Value;

/// Add the proxy variables (`HTTP_PROXY`, value) the record does not set to the body's `Env`.
pub fn add(body: &mut Value, proxies: &[(String, String)]) {
    if proxies.is_empty() {
        return;
    }
    let set: Vec<String> = body["Env"]
        .as_array()
        .map(|env| {
            env.iter()
                .filter_map(Value::as_str)
                .map(|e| e.split_once('=').map_or(e, |(k, _)| k).to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut added = Vec::new();
    for (var, value) in proxies {
        for name in [var.clone(), var.to_ascii_lowercase()] {
            if !set.contains(&name) {
                added.push(Value::from(format!("{name}={value}")));
            }
        }
    }
    if added.is_empty() {
        return;
    }
    match &mut body["Env"] {
        Value::Array(env) => env.extend(added),
        other => *other = Value::Array(added),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn added_where_the_record_does_not_set_them() {
        let proxies = [
            ("HTTP_PROXY".to_string(), "http://p:3128".to_string()),
            ("NO_PROXY".to_string(), "localhost".to_string()),
        ];
        let cases = [
            (
                json!({"Image": "x"}),
                json!([
                    "HTTP_PROXY=http://p:3128",
                    "http_proxy=http://p:3128",
                    "NO_PROXY=localhost",
                    "no_proxy=localhost"
                ]),
            ),
            (
                json!({"Image": "x", "Env": ["A=1", "http_proxy=mine", "NO_PROXY"]}),
                json!([
                    "A=1",
                    "http_proxy=mine",
                    "NO_PROXY",
                    "HTTP_PROXY=http://p:3128",
                    "no_proxy=localhost"
                ]),
            ),
            (
                json!({"Env": ["HTTP_PROXY=", "http_proxy=", "NO_PROXY=", "no_proxy="]}),
                json!(["HTTP_PROXY=", "http_proxy=", "NO_PROXY=", "no_proxy="]),
            ),
            (
                // Only the exact names count, as for the CLI.
                json!({"Env": ["Http_Proxy=x"]}),
                json!([
                    "Http_Proxy=x",
                    "HTTP_PROXY=http://p:3128",
                    "http_proxy=http://p:3128",
                    "NO_PROXY=localhost",
                    "no_proxy=localhost"
                ]),
            ),
        ];
        for (mut body, want) in cases {
            let before = body.clone();
            add(&mut body, &proxies);
            assert_eq!(body["Env"], want, "{before}");
        }
        let mut body = json!({"Image": "x"});
        add(&mut body, &[]);
        assert_eq!(body, json!({"Image": "x"}), "no proxies, no Env");
    }
}
