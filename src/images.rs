//! `--pull always` before planning: pulls the image of each listed container whose record (or
//! the tool-wide default) says `always`, and adds to the actual state whether that container
//! still runs what its tag now names. Changes no container; the plan decides what follows.

use crate::container::{ContainerSpec, PullPolicy};
use crate::desired::{Desired, HostList, WantedState};
use crate::docker::{Container, Engine, Refresh};
use std::collections::BTreeMap;

/// The pull policy that applies to a spec: its record's own, else the tool-wide default.
pub fn policy(spec: &ContainerSpec, default: PullPolicy) -> PullPolicy {
    spec.pull.unwrap_or(default)
}

/// Pull (at most `jobs` at once) the `always` images of listed containers that exist, and
/// set each such container's [`Refresh`]. An image pinned by digest is pulled only when
/// absent: its content cannot change.
pub fn check(
    engine: &Engine,
    desired: &Desired,
    actual: &mut [Container],
    default: PullPolicy,
    jobs: usize,
) {
    let HostList::Listed(wanted) = &desired.list else {
        return;
    };
    // Container index → the spec whose image it should run.
    let mut checks: Vec<(usize, &ContainerSpec)> = Vec::new();
    for w in wanted {
        let WantedState::Spec { spec, .. } = &w.state else {
            continue;
        };
        if policy(spec, default) != PullPolicy::Always || spec.image.is_id() {
            continue;
        }
        if let Some(i) = actual.iter().position(|c| c.name == w.name) {
            checks.push((i, spec));
        }
    }
    if checks.is_empty() {
        return;
    }
    let mut images: BTreeMap<String, &ContainerSpec> = BTreeMap::new();
    for (_, spec) in &checks {
        images.entry(key(spec)).or_insert(spec);
    }
    let images: Vec<(String, &ContainerSpec)> = images.into_iter().collect();
    let found: BTreeMap<String, Result<String, String>> =
        crate::pool::map(&images, jobs, |(k, spec)| {
            (k.clone(), fresh_id(engine, spec))
        })
        .into_iter()
        .collect();
    for (i, spec) in checks {
        let c = &mut actual[i];
        c.refresh = match found.get(&key(spec)) {
            Some(Ok(id)) if *id == c.image_id => Refresh::Current,
            Some(Ok(id)) => {
                log::info!(
                    "{}: {} now names {}, the container runs {}",
                    c.name,
                    spec.image.familiar(),
                    short(id),
                    short(&c.image_id)
                );
                Refresh::Updated(id.clone())
            }
            Some(Err(why)) => Refresh::Failed(why.clone()),
            None => Refresh::NotChecked,
        };
    }
}

fn key(spec: &ContainerSpec) -> String {
    format!("{}|{}", spec.image, spec.platform.as_deref().unwrap_or(""))
}

/// Pull the spec's image (unless digest-pinned and present) and return the local image ID
/// its reference names now.
fn fresh_id(engine: &Engine, spec: &ContainerSpec) -> Result<String, String> {
    let pinned = spec.image.digest.is_some();
    if pinned && let Some(id) = engine.image_id(&spec.image).map_err(|e| e.to_string())? {
        log::debug!("{}: pinned by digest and present; not pulled", spec.image);
        return Ok(id);
    }
    engine
        .pull_image(&spec.image, spec.platform.as_deref())
        .map_err(|e| {
            log::error!("{e}");
            e.to_string()
        })?;
    engine
        .image_id(&spec.image)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{} was pulled but the engine does not have it", spec.image))
}

fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.get(..12).unwrap_or(hex)
}
