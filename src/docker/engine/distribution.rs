//! What a registry says a tag names now, asked through the engine without pulling
//! (`GET /distribution/{name}/json`, with the registry credentials a pull would send), and
//! the registry digests a local image was pulled as: together they tell `plan` that a
//! `--pull always` tag moved. Reports what it finds; deciding what follows is the planner's.

use super::{Engine, EngineError, IMAGE_PATH, Method, Wait, encode, expect_body, protocol};
use crate::container::ImageRef;

impl Engine {
    /// The digest of the manifest (or index) `image`'s tag names in its registry now, asked
    /// with the credentials a pull would send.
    pub fn distribution_digest(&self, image: &ImageRef) -> Result<String, EngineError> {
        let path = format!(
            "/distribution/{}/json",
            encode(&image.canonical(), IMAGE_PATH)
        );
        let call = format!("GET {path}");
        let auth = match self.credentials() {
            Ok(c) => c
                .lookup(&image.domain)
                .map_err(|why| protocol(&call, why))?
                .map(|(auth, _)| auth.header()),
            Err(why) => return Err(protocol(&call, why.clone())),
        };
        let method = match &auth {
            Some(h) => Method::GetAuth(h),
            None => Method::Get,
        };
        let (call, response) = self.send(method, &path, Wait::Usual)?;
        let body = expect_body(&call, response, &[200])?;
        let doc: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| protocol(&call, format!("unparsable distribution reply: {e}")))?;
        doc["Descriptor"]["digest"]
            .as_str()
            .filter(|d| d.starts_with("sha256:"))
            .map(str::to_string)
            .ok_or_else(|| protocol(&call, "the reply has no Descriptor.digest".into()))
    }

    /// The registry digests (`repo@sha256:…`) the local image `id` was pulled or pushed as.
    pub fn repo_digests(&self, id: &str) -> Result<Vec<String>, EngineError> {
        let path = format!("/images/{}/json", encode(id, IMAGE_PATH));
        let (call, response) = self.send(Method::Get, &path, Wait::Usual)?;
        let body = expect_body(&call, response, &[200])?;
        let doc: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| protocol(&call, format!("unparsable image inspect reply: {e}")))?;
        Ok(doc["RepoDigests"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }
}
