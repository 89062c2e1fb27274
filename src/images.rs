//! The image-pull policy, in one place: which pull a record's `--pull` (or the tool-wide
//! default) calls for, the `always` pulls before planning, whose result ([`Refreshed`]) is an
//! input of the planner, and the pulls of missing images `apply` makes before it touches a
//! container. Changes no container; the plan decides what follows. How one pull is made
//! (credentials, progress, errors) is the engine's business (`docker::engine::pulling`).

use crate::btree::IntoTree;
use crate::container::{ContainerSpec, PullPolicy};
use crate::desired::{Desired, HostList, WantedState};
use crate::docker::{Container, EngineCalls, EngineError, PullError, short_id};
use crate::step::{Action, Step};
use std::collections::BTreeMap;

/// Whether a container still runs the image its record's tag names, as a pull just before
/// planning found (only records pulled `always` are checked).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Refresh {
    /// Not pulled before planning.
    #[default]
    NotChecked,
    /// Pulled: the tag still names the image the container runs.
    Current,
    /// Pulled: the tag now names this other image ID.
    Updated(String),
    /// Asked of the registry without pulling (`plan`): the tag now names this other digest.
    Available(String),
    /// The pull failed; the error says what to do, and whether the engine was lost.
    Failed(ImageError),
}

/// What the pulls before planning found, by container ID.
pub type Refreshed = BTreeMap<String, Refresh>;

/// The pull policy that applies to a spec: its record's own, else the tool-wide default.
pub fn policy(spec: &ContainerSpec, default: PullPolicy) -> PullPolicy {
    spec.pull.unwrap_or(default)
}

/// Pull (at most `jobs` at once) the `always` images of listed containers that exist, and
/// say for each such container whether it still runs what its tag names. An image pinned by
/// digest is pulled only when absent: its content cannot change.
pub fn check(
    engine: &dyn EngineCalls,
    desired: &Desired,
    actual: &[Container],
    default: PullPolicy,
    jobs: usize,
) -> Refreshed {
    let mut refreshed = Refreshed::new();
    let checks = always(desired, actual, default);
    if checks.is_empty() {
        return refreshed;
    }
    let mut images: BTreeMap<String, &ContainerSpec> = BTreeMap::new();
    for (_, spec) in &checks {
        images.entry(key(spec)).or_insert(spec);
    }
    let images: Vec<(String, &ContainerSpec)> = images.into_iter().collect();
    let found: BTreeMap<String, Result<String, ImageError>> =
        crate::pool::map(&images, jobs, |(k, spec)| {
            (k.clone(), fresh_id(engine, spec))
        })
        .into_iter()
        .into_map();
    for (i, spec) in checks {
        let c = &actual[i];
        let refresh = match found.get(&key(spec)) {
            Some(Ok(id)) if *id == c.image_id => Refresh::Current,
            Some(Ok(id)) => {
                log::info!(
                    "{}: {} now names {}, the container runs {}",
                    c.name,
                    spec.image.familiar(),
                    short_id(id),
                    short_id(&c.image_id)
                );
                Refresh::Updated(id.clone())
            }
            Some(Err(why)) => Refresh::Failed(why.clone()),
            None => Refresh::NotChecked,
        };
        refreshed.insert(c.id.clone(), refresh);
    }
    refreshed
}

/// The listed containers that exist and whose record is pulled `always`, by index into
/// `actual`, with the spec whose image each should run.
fn always<'a>(
    desired: &'a Desired,
    actual: &[Container],
    default: PullPolicy,
) -> Vec<(usize, &'a ContainerSpec)> {
    let HostList::Listed(wanted) = &desired.list else {
        return Vec::new();
    };
    let mut checks = Vec::new();
    for w in wanted {
        let WantedState::Spec { spec, .. } = &w.state else {
            continue;
        };
        if policy(spec, default) != PullPolicy::Always || spec.image.is_id() {
            continue;
        }
        if let Some(i) = actual.iter().position(|c| c.name == w.name) {
            checks.push((i, &**spec));
        }
    }
    checks
}

/// `plan`'s look at the `always` images, which changes nothing, not even the image store:
/// ask each tag's registry (through the engine, with the registry credentials) which digest
/// it names now, and compare it with the digests the container's image was pulled as. An
/// image pinned by digest cannot move and is not asked about.
pub fn check_remote(
    engine: &dyn EngineCalls,
    desired: &Desired,
    actual: &[Container],
    default: PullPolicy,
    jobs: usize,
) -> Refreshed {
    let checks: Vec<(usize, &ContainerSpec)> = always(desired, actual, default)
        .into_iter()
        .filter(|(_, spec)| spec.image.digest.is_none())
        .collect();
    let mut images: BTreeMap<String, &ContainerSpec> = BTreeMap::new();
    for (_, spec) in &checks {
        images.entry(key(spec)).or_insert(spec);
    }
    let images: Vec<(String, &ContainerSpec)> = images.into_iter().collect();
    let found: BTreeMap<String, Result<String, ImageError>> =
        crate::pool::map(&images, jobs, |(k, spec)| {
            let digest = engine.distribution_digest(&spec.image).map_err(|e| {
                log::error!("{}: asking the registry: {e}", spec.image.familiar());
                ImageError::from(e)
            });
            (k.clone(), digest)
        })
        .into_iter()
        .into_map();
    let mut refreshed = Refreshed::new();
    for (i, spec) in checks {
        let c = &actual[i];
        let refresh = match found.get(&key(spec)) {
            Some(Ok(digest)) => match engine.repo_digests(&c.image_id) {
                Ok(have) => moved(&have, digest),
                Err(e) => Refresh::Failed(ImageError::from(e)),
            },
            Some(Err(why)) => Refresh::Failed(why.clone()),
            None => Refresh::NotChecked,
        };
        if let Refresh::Available(d) = &refresh {
            log::info!(
                "{}: {} names {} in its registry; the container runs {} (not pulled: plan)",
                c.name,
                spec.image.familiar(),
                short_id(d),
                short_id(&c.image_id)
            );
        }
        refreshed.insert(c.id.clone(), refresh);
    }
    refreshed
}

/// Whether an image pulled as `have` (`repo@sha256:…`) is what a registry's `digest` names.
fn moved(have: &[String], digest: &str) -> Refresh {
    match have
        .iter()
        .any(|d| d.rsplit_once('@').is_some_and(|(_, x)| x == digest))
    {
        true => Refresh::Current,
        false => Refresh::Available(digest.to_string()),
    }
}

/// What one pull is: the image and platform (one pull serves every container of both).
pub fn key(spec: &ContainerSpec) -> String {
    format!("{}|{}", spec.image, spec.platform.as_deref().unwrap_or(""))
}

/// Pull the spec's image (unless digest-pinned and present) and return the local image ID
/// its reference names now.
fn fresh_id(engine: &dyn EngineCalls, spec: &ContainerSpec) -> Result<String, ImageError> {
    let pinned = spec.image.digest.is_some();
    if pinned && let Some(id) = engine.image_id(&spec.image)? {
        log::debug!("{}: pinned by digest and present; not pulled", spec.image);
        return Ok(id);
    }
    engine
        .pull_image(&spec.image, spec.platform.as_deref())
        .map_err(|e| {
            log::error!("{e}");
            ImageError::from(e)
        })?;
    engine.image_id(&spec.image)?.ok_or_else(|| {
        ImageError::of(format!(
            "{} was pulled but the engine does not have it",
            spec.image
        ))
    })
}

/// Why an image could not be made available for a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageError {
    /// What failed and what to do, for a person.
    pub why: String,
    /// The engine could not be reached or did not answer in time: the engine is unavailable
    /// (69), not the image or its registry failing (73).
    pub engine_lost: bool,
}

impl ImageError {
    /// A failure of the image or the record (not present, cannot be pulled), not the engine's.
    fn of(why: String) -> ImageError {
        ImageError {
            why,
            engine_lost: false,
        }
    }
}

impl From<EngineError> for ImageError {
    fn from(e: EngineError) -> ImageError {
        ImageError {
            why: e.to_string(),
            engine_lost: e.is_unavailable(),
        }
    }
}

impl From<Box<PullError>> for ImageError {
    fn from(e: Box<PullError>) -> ImageError {
        ImageError {
            why: e.to_string(),
            engine_lost: e.engine_lost,
        }
    }
}

impl std::fmt::Display for ImageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

/// Pull what is missing before anything is touched. Returns the images that could not be
/// made available, by [`key`], with why; the containers that need them fail without being
/// touched.
pub fn pull_missing<'a>(
    steps: impl Iterator<Item = &'a Step>,
    engine: &dyn EngineCalls,
    jobs: usize,
) -> BTreeMap<String, ImageError> {
    let mut wanted: BTreeMap<String, &ContainerSpec> = BTreeMap::new();
    for step in steps {
        if let Action::Create { spec } | Action::Replace { spec, .. } = &step.action {
            wanted.entry(key(spec)).or_insert(spec);
        }
    }
    let wanted: Vec<(String, &ContainerSpec)> = wanted.into_iter().collect();
    crate::pool::map(&wanted, jobs, |(key, spec)| {
        ensure_image(engine, spec).err().map(|e| {
            log::error!("image {}: {e}", spec.image);
            (key.clone(), e)
        })
    })
    .into_iter()
    .flatten()
    .into_map()
}

/// Make the spec's image available as its pull policy says.
fn ensure_image(engine: &dyn EngineCalls, spec: &ContainerSpec) -> Result<(), ImageError> {
    let present = || engine.image_present(&spec.image);
    match spec.pull.unwrap_or_default() {
        // An image pinned by digest cannot change: once present, it is not pulled again.
        PullPolicy::Always => {
            if spec.image.digest.is_some() && present()? {
                return Ok(());
            }
        }
        PullPolicy::Missing => {
            if present()? {
                return Ok(());
            }
        }
        PullPolicy::Never => {
            return if present()? {
                Ok(())
            } else {
                Err(ImageError::of(format!(
                    "image {} is not present and --pull=never",
                    spec.image
                )))
            };
        }
    }
    if spec.image.is_id() {
        return Err(ImageError::of(format!(
            "image {} is not present, and an image ID cannot be pulled",
            spec.image
        )));
    }
    // With the registry's credentials; at most once per run (a `--pull always` image was
    // pulled before planning already, by `check`).
    Ok(engine.pull_image(&spec.image, spec.platform.as_deref())?)
}
