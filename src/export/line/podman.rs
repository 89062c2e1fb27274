//! Podman's inspect as Docker's: Podman reports its own defaults as the container's settings
//! (its working directory, stop signal and timeout, `container=podman` and `TERM` variables,
//! PID limit, `/dev/shm` size, IPC mode, runtime name, `RLIMIT_`-named ulimits, an empty
//! entrypoint list, the options of every tmpfs and the tmpfs mounts of `--read-only`), which
//! no person typed. Its default ulimits cannot be told from typed ones: they are taken out
//! and listed in a note. Pure: a corrected copy of the inspect.

use serde_json::{Value, json};

/// Podman's `pids_limit` default (containers.conf).
const PIDS_LIMIT: i64 = 2048;
/// Podman's `/dev/shm` default, `64m` as it counts it.
const SHM_SIZE: i64 = 65_536_000;
/// The stop timeout Podman reports when none was given.
const STOP_TIMEOUT: i64 = 10;
/// The options Podman gives a tmpfs that was given none.
const TMPFS_OPTIONS: &str = "rw,rprivate,nosuid,nodev,tmpcopyup";
/// The tmpfs mounts Podman adds to a `--read-only` container (`read-only-tmpfs`).
const READ_ONLY_TMPFS: &[&str] = &["/run", "/tmp", "/var/tmp"];

/// The inspect of a Podman container with Podman's own defaults taken out, and the note
/// about its ulimits when it has any.
pub fn as_docker(container: &Value, image: &Value) -> (Value, Option<String>) {
    let mut c = container.clone();
    let img = &image["Config"];
    let cfg = &mut c["Config"];
    if cfg["WorkingDir"] == "/" && img["WorkingDir"].as_str().unwrap_or_default().is_empty() {
        cfg["WorkingDir"] = json!("");
    }
    let signal = cfg["StopSignal"].as_str().unwrap_or_default();
    if matches!(signal, "15" | "SIGTERM")
        && img["StopSignal"].as_str().unwrap_or_default().is_empty()
    {
        cfg["StopSignal"] = json!("");
    }
    if cfg["StopTimeout"] == STOP_TIMEOUT {
        cfg["StopTimeout"] = Value::Null;
    }
    if cfg["Entrypoint"].as_array().is_some_and(Vec::is_empty) {
        cfg["Entrypoint"] = Value::Null;
    }
    if let Some(env) = cfg["Env"].as_array_mut() {
        let image_env = img["Env"].as_array().cloned().unwrap_or_default();
        env.retain(|e| {
            let podmans =
                e == "container=podman" || e.as_str().is_some_and(|s| s.starts_with("TERM="));
            !podmans || image_env.contains(e)
        });
        // Podman keeps the environment in a map and reports it in no stable order: sorted,
        // two exports of one container give one record.
        env.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
    }
    let hc = &mut c["HostConfig"];
    for (key, default) in [
        ("PidsLimit", json!(PIDS_LIMIT)),
        ("ShmSize", json!(SHM_SIZE)),
        ("MemorySwappiness", json!(0)),
    ] {
        if hc[key] == default {
            hc[key] = Value::Null;
        }
    }
    for (key, default) in [("IpcMode", "shareable"), ("Runtime", "oci")] {
        if hc[key] == default {
            hc[key] = json!("");
        }
    }
    let read_only = hc["ReadonlyRootfs"] == true;
    if let Some(tmpfs) = hc["Tmpfs"].as_object_mut() {
        tmpfs.retain(|path, opts| {
            !(read_only && READ_ONLY_TMPFS.contains(&path.as_str()) && opts == TMPFS_OPTIONS)
        });
        for opts in tmpfs.values_mut() {
            if opts == TMPFS_OPTIONS {
                *opts = json!("");
            }
        }
    }
    let ulimits: Vec<String> = hc["Ulimits"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            let name = u["Name"].as_str().unwrap_or_default();
            let short = name
                .strip_prefix("RLIMIT_")
                .unwrap_or(name)
                .to_ascii_lowercase();
            format!("--ulimit={short}={}:{}", u["Soft"], u["Hard"])
        })
        .collect();
    hc["Ulimits"] = Value::Null;
    let note = (!ulimits.is_empty()).then(|| {
        format!(
            "Podman reports its default ulimits as the container's own, so none is written; add back any that was set: {}",
            ulimits.join(" ")
        )
    });
    (c, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podmans_defaults_are_taken_out_and_what_was_typed_stays() {
        let image = json!({"Config": {"Env": ["PATH=/bin"], "WorkingDir": ""}});
        let podman = json!({
            "Config": {"WorkingDir": "/", "StopSignal": "15", "StopTimeout": 10, "Entrypoint": [],
                       "Env": ["PATH=/bin", "TERM=xterm", "container=podman", "A=1"]},
            "HostConfig": {"PidsLimit": 2048, "ShmSize": 65_536_000, "MemorySwappiness": 0,
                           "IpcMode": "shareable", "Runtime": "oci",
                           "Ulimits": [{"Name": "RLIMIT_NOFILE", "Soft": 1, "Hard": 2}]},
        });
        let (d, note) = as_docker(&podman, &image);
        assert!(note.unwrap().contains("--ulimit=nofile=1:2"));
        assert_eq!(d["Config"]["WorkingDir"], "");
        assert_eq!(d["Config"]["StopSignal"], "");
        assert!(d["Config"]["StopTimeout"].is_null() && d["Config"]["Entrypoint"].is_null());
        // Sorted: Podman's own order is not stable from one inspect to the next.
        assert_eq!(d["Config"]["Env"], json!(["A=1", "PATH=/bin"]));
        for k in ["PidsLimit", "ShmSize", "MemorySwappiness"] {
            assert!(d["HostConfig"][k].is_null(), "{k}");
        }
        assert_eq!(d["HostConfig"]["IpcMode"], "");
        assert!(d["HostConfig"]["Ulimits"].is_null());
        let typed = json!({"Config": {"WorkingDir": "/app", "StopSignal": "SIGINT", "StopTimeout": 30},
                           "HostConfig": {"PidsLimit": 100, "IpcMode": "host", "ReadonlyRootfs": true,
                           "Tmpfs": {"/run": "rw,rprivate,nosuid,nodev,tmpcopyup",
                                     "/data": "rw,rprivate,nosuid,nodev,tmpcopyup", "/tmp": "size=1m"}}});
        let (d, note) = as_docker(&typed, &image);
        assert_eq!(note, None);
        assert_eq!(d["Config"]["WorkingDir"], "/app");
        assert_eq!(d["Config"]["StopSignal"], "SIGINT");
        assert_eq!(d["Config"]["StopTimeout"], 30);
        assert_eq!(d["HostConfig"]["PidsLimit"], 100);
        assert_eq!(d["HostConfig"]["IpcMode"], "host");
        assert_eq!(
            d["HostConfig"]["Tmpfs"],
            json!({"/data": "", "/tmp": "size=1m"})
        );
    }
}
