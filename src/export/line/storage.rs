//! Volumes, binds, mounts, tmpfs and the root filesystem.

use super::{Writer, csv_field, object, text};
use serde_json::Value;

impl Writer<'_> {
    /// `--volume`, `--mount`, `--tmpfs`, `--read-only` and the volume options.
    pub(super) fn storage(&mut self) {
        let (c, hc, img) = (self.c, self.hc, self.img);
        self.each("volume", &hc["Binds"]);
        if let Some(volumes) = object(&c["Volumes"]) {
            for target in volumes.keys() {
                if img["Volumes"].get(target.as_str()).is_none() {
                    self.put("volume", target);
                }
            }
        }
        for m in hc["Mounts"].as_array().into_iter().flatten() {
            let (value, notes) = mount(m);
            self.put("mount", &value);
            for n in notes {
                self.note(n);
            }
        }
        if let Some(tmpfs) = object(&hc["Tmpfs"]) {
            for (path, opts) in tmpfs {
                let opts = text(opts);
                if opts.is_empty() {
                    self.put("tmpfs", path);
                } else {
                    self.put("tmpfs", &format!("{path}:{opts}"));
                }
            }
        }
        if hc["ReadonlyRootfs"] == true {
            self.switch("read-only");
        }
        let driver = text(&hc["VolumeDriver"]);
        if !driver.is_empty() {
            self.put("volume-driver", driver);
        }
        self.each("volumes-from", &hc["VolumesFrom"]);
        if let Some(opts) = object(&hc["StorageOpt"]) {
            for (k, v) in opts {
                self.put("storage-opt", &format!("{k}={}", text(v)));
            }
        }
    }
}

/// A `Mount` object as the `--mount` value that makes it, and what it cannot say.
fn mount(m: &Value) -> (String, Vec<String>) {
    let mut fields = vec![format!("type={}", text(&m["Type"]))];
    let mut notes = Vec::new();
    for (key, name) in [("Source", "source"), ("Target", "target")] {
        let v = text(&m[key]);
        if !v.is_empty() {
            fields.push(format!("{name}={v}"));
        }
    }
    if m["ReadOnly"] == true {
        fields.push("readonly".into());
    }
    let consistency = text(&m["Consistency"]);
    if !consistency.is_empty() {
        fields.push(format!("consistency={consistency}"));
    }
    let b = &m["BindOptions"];
    let propagation = text(&b["Propagation"]);
    if !propagation.is_empty() {
        fields.push(format!("bind-propagation={propagation}"));
    }
    for (key, value) in [
        ("NonRecursive", "disabled"),
        ("ReadOnlyNonRecursive", "writable"),
        ("ReadOnlyForceRecursive", "readonly"),
    ] {
        if b[key] == true {
            fields.push(format!("bind-recursive={value}"));
        }
    }
    if b["CreateMountpoint"] == true {
        notes.push("dropped: the bind mount's CreateMountpoint (no run-line form)".into());
    }
    volume_fields(&m["VolumeOptions"], &mut fields);
    let t = &m["TmpfsOptions"];
    if let Some(size) = t["SizeBytes"].as_i64().filter(|n| *n != 0) {
        fields.push(format!("tmpfs-size={size}"));
    }
    if let Some(mode) = t["Mode"].as_u64().filter(|n| *n != 0) {
        fields.push(format!("tmpfs-mode={mode:o}"));
    }
    if !super::is_empty(&t["Options"]) {
        notes.push(format!(
            "dropped: tmpfs options {} (no run-line form)",
            t["Options"]
        ));
    }
    let value = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    (value, notes)
}

fn volume_fields(v: &Value, fields: &mut Vec<String>) {
    if v.is_null() {
        return;
    }
    let before = fields.len();
    if v["NoCopy"] == true {
        fields.push("volume-nocopy".into());
    }
    let subpath = text(&v["Subpath"]);
    if !subpath.is_empty() {
        fields.push(format!("volume-subpath={subpath}"));
    }
    for (k, x) in object(&v["Labels"]).into_iter().flatten() {
        fields.push(format!("volume-label={k}={}", text(x)));
    }
    let driver = &v["DriverConfig"];
    let name = text(&driver["Name"]);
    if !name.is_empty() {
        fields.push(format!("volume-driver={name}"));
    }
    for (k, x) in object(&driver["Options"]).into_iter().flatten() {
        fields.push(format!("volume-opt={k}={}", text(x)));
    }
    // Volume options that set nothing still make the CLI send them (empty): say so.
    if fields.len() == before {
        fields.push("volume-nocopy=false".into());
    }
}
