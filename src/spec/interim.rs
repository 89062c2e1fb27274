//! Interim stand-in until the full parser lands (removed then).
use super::*;

/// The tool's own process environment and filesystem.
pub struct SystemHost;

impl Host for SystemHost {
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
    fn env(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

/// Image and policy controls.
pub struct Policy {
    /// Allowed image patterns.
    pub allow_images: Vec<String>,
    /// Refuse privileged specs.
    pub forbid_privileged: bool,
}

impl Policy {
    /// Check a spec.
    pub fn check(&self, _spec: &ContainerSpec) -> Result<(), SpecError> {
        Ok(())
    }
}

fn b64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in input.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Parse (interim: quotes, --label, --entrypoint only).
pub fn parse(text: &str, _host: &dyn Host) -> Result<ContainerSpec, SpecError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut q: Option<char> = None;
    let mut any = false;
    for ch in text.chars() {
        match (q, ch) {
            (Some(c), x) if x == c => q = None,
            (Some(_), x) => cur.push(x),
            (None, '\'' | '"') => {
                q = Some(ch);
                any = true
            }
            (None, x) if x.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, x) => cur.push(x),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    let mut labels = serde_json::Map::new();
    let mut entrypoint = None;
    let mut network = None;
    let mut it = words.into_iter();
    let image = loop {
        match it.next() {
            Some(w) if w == "--label" => {
                let v = it
                    .next()
                    .ok_or_else(|| SpecError("--label needs a value".into()))?;
                let (k, v) = v.split_once('=').unwrap_or((&v, ""));
                labels.insert(k.into(), v.into());
            }
            Some(w) if w == "--entrypoint" => entrypoint = it.next(),
            Some(w) if w == "--network" => network = it.next(),
            Some(w) if w.starts_with('-') => return Err(SpecError(format!("unknown flag {w}"))),
            Some(w) => break w,
            None => return Err(SpecError("no image".into())),
        }
    };
    let cmd: Vec<String> = it.collect();
    labels.insert(OWNER_LABEL.into(), b64(text.as_bytes()).into());
    let (repo, tag) = match image.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r.to_string(), t.to_string()),
        _ => (image.clone(), "latest".into()),
    };
    let (domain, path) = match repo.split_once('/') {
        Some((d, p)) if d.contains('.') || d.contains(':') || d == "localhost" => {
            (d.into(), p.into())
        }
        _ if repo.contains('/') => ("docker.io".into(), repo.clone()),
        _ => ("docker.io".into(), format!("library/{repo}")),
    };
    let mut body = serde_json::json!({"Image": image, "Labels": labels});
    if !cmd.is_empty() {
        body["Cmd"] = cmd.into();
    }
    if let Some(n) = network {
        body["HostConfig"] = serde_json::json!({"NetworkMode": n});
    }
    if let Some(e) = entrypoint {
        body["Entrypoint"] = vec![e].into();
    }
    Ok(ContainerSpec {
        text: text.to_string(),
        image: ImageRef {
            domain,
            path,
            tag: Some(tag),
            digest: None,
        },
        body,
        platform: None,
        pull: PullPolicy::Missing,
    })
}
