//! Decoding what the engine sends back: error bodies, the container list, the create reply and
//! the pull progress stream. Pure functions over bytes; no I/O and no policy.

use super::{Container, Event, Health};
use crate::btree::IntoTree;
use serde::Deserialize;
use std::collections::BTreeMap;

/// How much of a non-JSON error body goes into a message.
const RAW_ERROR_LIMIT: usize = 300;

/// The message of an engine error body: `{"message": …}`, else the raw text, cut short.
pub fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        message: String,
    }
    if let Ok(ErrorBody { message }) = serde_json::from_slice(body) {
        return message;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    truncate(text, RAW_ERROR_LIMIT)
}

/// `text` cut to at most `limit` bytes on a character boundary, marked when cut.
fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The prefix of every label the tool reads or writes.
pub(super) const TOOL_LABELS: &str = "docker-dns-provision.";

/// `GET /containers/json` → the planner's view of every container, parsed as it is read:
/// the body of a list of hundreds is never held whole.
pub fn containers_from(body: impl std::io::Read) -> Result<Vec<Container>, String> {
    #[derive(Deserialize)]
    struct Summary {
        #[serde(rename = "Id")]
        id: String,
        #[serde(rename = "Names", default)]
        names: Option<Vec<String>>,
        #[serde(rename = "Labels", default)]
        labels: Option<BTreeMap<String, String>>,
        #[serde(rename = "State", default)]
        state: String,
        #[serde(rename = "ImageID", default)]
        image_id: String,
        #[serde(rename = "Status", default)]
        status: String,
        #[serde(rename = "HostConfig", default)]
        host_config: Option<SummaryHostConfig>,
        /// API 1.52 and later: the health as its own field, beside the `Status` text.
        #[serde(rename = "Health", default)]
        health: Option<SummaryHealth>,
        #[serde(rename = "NetworkSettings", default)]
        network_settings: Option<SummaryNetworks>,
    }
    #[derive(Deserialize)]
    struct SummaryHealth {
        #[serde(rename = "Status", default)]
        status: String,
    }
    #[derive(Deserialize)]
    struct SummaryNetworks {
        #[serde(rename = "Networks", default)]
        networks: Option<BTreeMap<String, serde::de::IgnoredAny>>,
    }
    #[derive(Deserialize)]
    struct SummaryHostConfig {
        #[serde(rename = "NetworkMode", default)]
        network_mode: String,
    }
    let list: Vec<Summary> = serde_json::from_reader(std::io::BufReader::new(body))
        .map_err(|e| format!("unparsable container list: {e}"))?;
    Ok(list
        .into_iter()
        .map(|s| Container {
            name: primary_name(s.names.as_deref().unwrap_or_default()),
            id: s.id,
            // Only the tool's own: an image's labels (OCI metadata, often a dozen) are
            // never read, and would be kept for every container of the list.
            labels: s
                .labels
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| k.starts_with(TOOL_LABELS))
                .into_map(),
            health: s
                .health
                .and_then(|h| Health::parse(&h.status))
                .or_else(|| list_health(&s.status)),
            since: super::Since::parse(&s.status),
            state: s.state,
            image_id: s.image_id,
            network_mode: s.host_config.map(|h| h.network_mode).unwrap_or_default(),
            networks: s
                .network_settings
                .and_then(|n| n.networks)
                .map(|n| n.into_keys().collect())
                .unwrap_or_default(),
        })
        .collect())
}

/// The health in a list entry's `Status`, e.g. `Up 2 minutes (health: starting)`.
fn list_health(status: &str) -> Option<Health> {
    if status.ends_with("(health: starting)") {
        Some(Health::Starting)
    } else if status.ends_with("(unhealthy)") {
        Some(Health::Unhealthy)
    } else if status.ends_with("(healthy)") {
        Some(Health::Healthy)
    } else {
        None
    }
}

/// The container's own name among `Names`, which also lists the aliases other containers'
/// legacy links give it (`/web/db`): the first name with no further `/`.
pub(super) fn primary_name(names: &[String]) -> String {
    let bare = |n: &String| n.strip_prefix('/').unwrap_or(n).to_string();
    names
        .iter()
        .map(bare)
        .find(|n| !n.contains('/'))
        .or_else(|| names.first().map(bare))
        .unwrap_or_default()
}

/// The container events of a `GET /events` body (one JSON object a line), oldest first; a
/// line that cannot be read ends the list (a cut stream keeps what came whole).
pub fn events(body: &[u8]) -> Vec<Event> {
    serde_json::Deserializer::from_slice(body)
        .into_iter::<serde_json::Value>()
        .map_while(Result::ok)
        .map(|e| {
            let attributes = &e["Actor"]["Attributes"];
            Event {
                action: e["Action"]
                    .as_str()
                    .or_else(|| e["status"].as_str())
                    .unwrap_or("")
                    .to_string(),
                exit_code: attributes["exitCode"].as_str().and_then(|c| c.parse().ok()),
                owner: attributes[crate::container::OWNER_LABEL]
                    .as_str()
                    .map(str::to_string),
                time_nanos: e["timeNano"].as_u64().unwrap_or(0),
            }
        })
        .collect()
}

/// `POST /containers/create` 201 body → the new container's ID and the engine's warnings.
pub fn created(body: &[u8]) -> Result<(String, Vec<String>), String> {
    #[derive(Deserialize)]
    struct Created {
        #[serde(rename = "Id")]
        id: String,
        #[serde(rename = "Warnings", default)]
        warnings: Option<Vec<String>>,
    }
    let c: Created =
        serde_json::from_slice(body).map_err(|e| format!("unparsable create reply: {e}"))?;
    if c.id.is_empty() {
        return Err("create reply has an empty Id".into());
    }
    Ok((c.id, c.warnings.unwrap_or_default()))
}

/// `GET /images/{name}/json` → the image ID.
pub fn image_id(body: &[u8]) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Image {
        #[serde(rename = "Id")]
        id: String,
    }
    let i: Image =
        serde_json::from_slice(body).map_err(|e| format!("unparsable image inspect reply: {e}"))?;
    if i.id.is_empty() {
        return Err("image inspect reply has an empty Id".into());
    }
    Ok(i.id)
}

/// What one line of the pull stream says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullLine {
    /// Nothing (a blank keep-alive line).
    Blank,
    /// Progress: the `status` text, with the layer `id` when it concerns one layer.
    Status {
        /// Layer ID, or the tag for the "Pulling from" line.
        id: Option<String>,
        /// E.g. `Downloading`, `Status: Downloaded newer image for …`.
        status: String,
        /// `progressDetail` bytes (current, total) when the line gives both.
        bytes: Option<(u64, u64)>,
    },
    /// The pull failed (`errorDetail.message`, else `error`).
    Error(String),
}

/// Decode one line of the `POST /images/create` stream; an error may come at any point with
/// HTTP 200, as `errorDetail` and (until API 1.48) a duplicate `error`.
pub fn pull_line(line: &str) -> Result<PullLine, String> {
    #[derive(Deserialize)]
    struct Detail {
        #[serde(default)]
        message: Option<String>,
    }
    #[derive(Deserialize)]
    struct Progress {
        #[serde(default)]
        current: Option<u64>,
        #[serde(default)]
        total: Option<u64>,
    }
    #[derive(Deserialize)]
    struct Line {
        #[serde(default)]
        status: Option<String>,
        #[serde(rename = "progressDetail", default)]
        progress: Option<Progress>,
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        error: Option<String>,
        #[serde(rename = "errorDetail", default)]
        error_detail: Option<Detail>,
    }
    let line = line.trim();
    if line.is_empty() {
        return Ok(PullLine::Blank);
    }
    let l: Line = serde_json::from_str(line)
        .map_err(|e| format!("unparsable pull stream line {:?}: {e}", truncate(line, 200)))?;
    if l.error.is_some() || l.error_detail.is_some() {
        let message = l
            .error_detail
            .and_then(|d| d.message)
            .filter(|m| !m.is_empty())
            .or(l.error)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "pull failed (no message)".into());
        return Ok(PullLine::Error(message));
    }
    let bytes = l.progress.and_then(|p| Some((p.current?, p.total?)));
    Ok(PullLine::Status {
        id: l.id,
        status: l.status.unwrap_or_default(),
        bytes,
    })
}

/// A `/containers/{id}/logs` body as text. Without a TTY the engine frames each write as
/// `[stream, 0, 0, 0, size (u32 big-endian)]` + payload; with one it sends the bytes as they
/// are. A body that is not a whole sequence of such frames is taken as raw.
pub fn log_text(body: &[u8]) -> String {
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while !rest.is_empty() {
        let framed = rest.len() >= 8 && rest[0] <= 2 && rest[1..4] == [0, 0, 0];
        let size = match rest.get(4..8) {
            Some(&[a, b, c, d]) if framed => u32::from_be_bytes([a, b, c, d]) as usize,
            _ => usize::MAX,
        };
        if size > rest.len().saturating_sub(8) {
            return String::from_utf8_lossy(body).into_owned();
        }
        out.extend_from_slice(&rest[8..8 + size]);
        rest = &rest[8 + size..];
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages() {
        let long = "x".repeat(1000);
        let cases: [(&[u8], &str); 7] = [
            (br#"{"message":"No such image: a:b"}"#, "No such image: a:b"),
            (br#"{"message":"", "extra": 1}"#, ""),
            (b"page not found\n", "page not found"),
            (b"", "(empty body)"),
            (b"  \r\n", "(empty body)"),
            (br#"{"msg":"other shape"}"#, r#"{"msg":"other shape"}"#),
            (b"\xff\xfe bad utf8", "\u{fffd}\u{fffd} bad utf8"),
        ];
        for (body, want) in cases {
            assert_eq!(
                error_message(body),
                want,
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        let cut = error_message(long.as_bytes());
        assert_eq!(cut, format!("{}…", &long[..RAW_ERROR_LIMIT]));
    }

    #[test]
    fn truncation_respects_characters() {
        let cases = [
            ("héllo", 2, "h…"),
            ("héllo", 3, "hé…"),
            ("abc", 3, "abc"),
            ("abcd", 3, "abc…"),
        ];
        for (text, limit, want) in cases {
            assert_eq!(truncate(text, limit), want, "{text} {limit}");
        }
    }

    #[test]
    fn container_list() {
        let body = br#"[
            {"Id":"aaa","Names":["/web"],"Image":"nginx","State":"running",
             "Labels":{"docker-dns-provision.command":"ZG9ja2Vy","x":"y"},"Status":"Up 2 hours"},
            {"Id":"bbb","Names":["/web/db","/db"],"State":"exited","Labels":{},
             "HostConfig":{"NetworkMode":"container:aaa"}},
            {"Id":"h1","Names":["/h1"],"State":"running","Status":"Up 3 seconds (health: starting)"},
            {"Id":"h2","Names":["/h2"],"State":"running","Status":"Up 2 hours (healthy)"},
            {"Id":"h3","Names":["/h3"],"State":"running","Status":"Up 2 hours (unhealthy)"},
            {"Id":"h4","Names":["/h4"],"State":"running","Status":"Up 2 hours",
             "Health":{"Status":"unhealthy","FailingStreak":3}},
            {"Id":"ccc","Names":["/web.ddp-new"],"State":"created","Labels":null},
            {"Id":"ddd","Names":null,"State":"dead"},
            {"Id":"eee","Names":["/a/b"],"State":"removing"}
        ]"#;
        let got = containers_from(&body[..]).unwrap();
        let summary: Vec<_> = got
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.name.as_str(),
                    c.state.as_str(),
                    c.labels.len(),
                    c.health,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("aaa", "web", "running", 1, None),
                ("bbb", "db", "exited", 0, None),
                ("h1", "h1", "running", 0, Some(Health::Starting)),
                ("h2", "h2", "running", 0, Some(Health::Healthy)),
                ("h3", "h3", "running", 0, Some(Health::Unhealthy)),
                ("h4", "h4", "running", 0, Some(Health::Unhealthy)),
                ("ccc", "web.ddp-new", "created", 0, None),
                ("ddd", "", "dead", 0, None),
                ("eee", "a/b", "removing", 0, None),
            ]
        );
        assert_eq!(got[0].owner(), Some("ZG9ja2Vy"));
        assert!(got[0].running());
        assert_eq!(got[1].network_mode, "container:aaa");
        assert_eq!(got[0].network_mode, "");
    }

    #[test]
    fn container_events() {
        let body = br#"{"status":"start","id":"x","Type":"container","Action":"start","Actor":{"ID":"x","Attributes":{"docker-dns-provision.command":"TA==","name":"job"}},"time":1,"timeNano":100}
{"Type":"container","Action":"die","Actor":{"ID":"x","Attributes":{"exitCode":"3"}},"timeNano":200}
{"Type":"container","Action":"kill","Actor":{"ID":"x","Attributes":{"signal":"15"}},"timeNano":300}
"#;
        let got = events(body);
        let brief: Vec<(&str, Option<i64>, Option<&str>, u64)> = got
            .iter()
            .map(|e| {
                (
                    e.action.as_str(),
                    e.exit_code,
                    e.owner.as_deref(),
                    e.time_nanos,
                )
            })
            .collect();
        assert_eq!(
            brief,
            [
                ("start", None, Some("TA=="), 100),
                ("die", Some(3), None, 200),
                ("kill", None, None, 300)
            ]
        );
        let first_line = body.iter().position(|b| *b == b'\n').unwrap() + 1;
        assert_eq!(
            events(&body[..first_line + 20]).len(),
            1,
            "a cut stream keeps what came whole"
        );
        assert!(events(b"").is_empty());
        assert!(events(b"garbage").is_empty());
    }

    #[test]
    fn the_time_in_a_list_status() {
        use super::super::{Since, Span};
        use std::time::Duration;
        let s = |min: u64, max: u64| Span {
            min: Duration::from_secs(min),
            max: Duration::from_secs(max),
        };
        let cases = [
            ("Up Less than a second", Since::Up(s(0, 1))),
            ("Up 1 second", Since::Up(s(1, 2))),
            ("Up 45 seconds (health: starting)", Since::Up(s(45, 46))),
            ("Up About a minute (Paused)", Since::Up(s(60, 120))),
            ("Up 3 minutes", Since::Up(s(180, 240))),
            ("Up About an hour", Since::Up(s(3600, 5400))),
            (
                "Up 5 hours (healthy)",
                Since::Up(s(5 * 3600 - 1800, 6 * 3600 + 1800)),
            ),
            (
                "Up 2 days",
                Since::Up(s(2 * 86400 - 1800, 3 * 86400 + 1800)),
            ),
            ("Exited (0) 5 seconds ago", Since::Exited(0, s(5, 6))),
            (
                "Exited (137) 2 weeks ago",
                Since::Exited(137, s(14 * 86400 - 1800, 21 * 86400 + 1800)),
            ),
            (
                "Exited (-1) 3 months ago",
                Since::Exited(-1, s(90 * 86400 - 1800, 120 * 86400 + 1800)),
            ),
            ("Restarting (1) 2 seconds ago", Since::Unknown),
            ("Created", Since::Unknown),
            ("Removal In Progress", Since::Unknown),
            ("Up", Since::Unknown),
            ("Up 3 fortnights", Since::Unknown),
            ("Exited (x) 1 second ago", Since::Unknown),
            ("Exited (0) 1 second", Since::Unknown),
            ("Up 99999999999999999999 years", Since::Unknown),
            ("", Since::Unknown),
        ];
        for (text, want) in cases {
            assert_eq!(Since::parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn bad_container_lists() {
        for body in [&b"{}"[..], b"[{\"Names\":[\"/x\"]}]", b"not json", b""] {
            assert!(
                containers_from(body).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(containers_from(&b"[]"[..]), Ok(vec![]));
    }

    /// The ID and warnings a create reply should give, or part of the error.
    type Created<'a> = Result<(&'a str, Vec<&'a str>), &'a str>;

    #[test]
    fn create_replies() {
        let cases: [(&[u8], Created); 5] = [
            (br#"{"Id":"abc","Warnings":[]}"#, Ok(("abc", vec![]))),
            (br#"{"Id":"abc","Warnings":null}"#, Ok(("abc", vec![]))),
            (
                br#"{"Id":"abc","Warnings":["w1"]}"#,
                Ok(("abc", vec!["w1"])),
            ),
            (br#"{"Id":""}"#, Err("empty Id")),
            (b"oops", Err("unparsable")),
        ];
        for (body, want) in cases {
            match (created(body), want) {
                (Ok((id, w)), Ok((want_id, want_w))) => {
                    assert_eq!(id, want_id);
                    assert_eq!(w, want_w);
                }
                (Err(e), Err(why)) => assert!(e.contains(why), "{e}"),
                (got, want) => panic!("got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn pull_stream_lines() {
        let status = |id: Option<&str>, s: &str| {
            Ok(PullLine::Status {
                id: id.map(String::from),
                status: s.into(),
                bytes: None,
            })
        };
        let cases = [
            ("", Ok(PullLine::Blank)),
            ("\r", Ok(PullLine::Blank)),
            (
                r#"{"status":"Pulling from library/nginx","id":"latest"}"#,
                status(Some("latest"), "Pulling from library/nginx"),
            ),
            (
                r#"{"status":"Downloading","progressDetail":{"current":1,"total":9},"progress":"[=>  ]","id":"a1b2"}"#,
                Ok(PullLine::Status {
                    id: Some("a1b2".into()),
                    status: "Downloading".into(),
                    bytes: Some((1, 9)),
                }),
            ),
            (
                r#"{"status":"Extracting","progressDetail":{"current":5},"id":"a1b2"}"#,
                status(Some("a1b2"), "Extracting"),
            ),
            (
                r#"{"status":"Status: Downloaded newer image for nginx:latest"}"#,
                status(None, "Status: Downloaded newer image for nginx:latest"),
            ),
            (r#"{"progressDetail":{}}"#, status(None, "")),
            (
                r#"{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown (old)"}"#,
                Ok(PullLine::Error("manifest unknown".into())),
            ),
            (
                r#"{"errorDetail":{"message":"only detail"}}"#,
                Ok(PullLine::Error("only detail".into())),
            ),
            (
                r#"{"error":"only the old field"}"#,
                Ok(PullLine::Error("only the old field".into())),
            ),
            (
                r#"{"errorDetail":{},"error":""}"#,
                Ok(PullLine::Error("pull failed (no message)".into())),
            ),
            (
                r#"{"errorDetail":{"code":1}}"#,
                Ok(PullLine::Error("pull failed (no message)".into())),
            ),
            ("{not json", Err("unparsable pull stream line")),
            ("[1,2]", Err("unparsable pull stream line")),
        ];
        for (line, want) in cases {
            match (pull_line(line), want) {
                (Err(e), Err(why)) => assert!(e.contains(why), "{line}: {e}"),
                (got, want) => assert_eq!(got, want.map_err(String::from), "{line}"),
            }
        }
    }

    #[test]
    fn log_streams_are_decoded_and_raw_ones_kept() {
        let mut framed = vec![1, 0, 0, 0, 0, 0, 0, 6];
        framed.extend_from_slice(b"hello\n");
        framed.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 5]);
        framed.extend_from_slice(b"oops\n");
        assert_eq!(log_text(&framed), "hello\noops\n");
        assert_eq!(log_text(b"plain tty output\n"), "plain tty output\n");
        assert_eq!(log_text(b""), "");
        // A header announcing more than there is: not a frame, the raw bytes.
        let short = [1, 0, 0, 0, 0, 0, 0, 9, b'x'];
        assert_eq!(log_text(&short), String::from_utf8_lossy(&short));
    }
}
