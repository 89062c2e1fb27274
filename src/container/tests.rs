//! Tests of the entry point: form dispatch, the JSON form, the ownership label, SystemHost;
//! and the example spec and `NoHost` that the other modules' tests share.

use std::path::Path;

use serde_json::json;

use super::*;

/// A spec of `docker.io/library/x:latest` with `text` and `body` as given, for the tests of
/// the modules that consume specs (desired, plan) and need no parsing.
pub(crate) fn example(text: &str, body: serde_json::Value) -> ContainerSpec {
    ContainerSpec {
        text: text.to_string(),
        image: ImageRef {
            domain: "docker.io".into(),
            path: "library/x".into(),
            tag: Some("latest".into()),
            digest: None,
        },
        body,
        platform: None,
        pull: None,
    }
}

/// The words a record text splits into: export's quoting is checked against the splitter.
pub(crate) fn split_words(text: &str) -> Vec<String> {
    super::words::split(text).unwrap()
}

/// The fields of a CSV flag value, as the `--mount`/`--gpus`/`--network` parsers read them.
pub(crate) fn csv(value: &str) -> Vec<String> {
    super::values::csv_fields(value).unwrap()
}

/// A Go duration in nanoseconds, as the `--health-*` flags read it.
pub(crate) fn duration(text: &str) -> i64 {
    super::values::parse_duration(text).unwrap()
}

/// A host with no files and no environment: nothing a record names can be read.
pub(super) struct NoHost;

impl Host for NoHost {
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        Err(std::io::Error::other(format!("no {}", path.display())))
    }
    fn env(&self, _: &str) -> Option<String> {
        None
    }
}

#[test]
fn run_line_spec_carries_text_image_label() {
    let text = "quay.io/coreos/etcd";
    let spec = parse(text, &NoHost).unwrap();
    assert_eq!(spec.text, text);
    assert_eq!(spec.image.canonical(), "quay.io/coreos/etcd:latest");
    assert_eq!(
        spec.body,
        json!({
            "Image": "quay.io/coreos/etcd",
            "Labels": {OWNER_LABEL: "cXVheS5pby9jb3Jlb3MvZXRjZA=="},
            "HostConfig": {}
        })
    );
    assert_eq!(spec.pull, None);

    let text = "-d --net=host -v /data:/data -e A=b --restart=always quay.io/coreos/etcd --name x --discovery-srv foo";
    let spec = parse(text, &NoHost).unwrap();
    assert_eq!(
        spec.body,
        json!({
            "Image": "quay.io/coreos/etcd",
            "Cmd": ["--name", "x", "--discovery-srv", "foo"],
            "Env": ["A=b"],
            "Labels": {OWNER_LABEL: owner_label(text)},
            "HostConfig": {
                "NetworkMode": "host",
                "Binds": ["/data:/data"],
                "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0}
            }
        })
    );
}

#[test]
fn owner_label_is_reserved() {
    let run = format!("-l {OWNER_LABEL}=x busybox");
    let json_form = format!(r#"{{"Image":"busybox","Labels":{{"{OWNER_LABEL}":"x"}}}}"#);
    for text in [run.as_str(), json_form.as_str()] {
        let err = parse(text, &NoHost).unwrap_err().0;
        assert!(err.contains("reserved"), "{text}: {err}");
    }
    let spec = parse("-l a=b busybox", &NoHost).unwrap();
    assert_eq!(
        spec.body["Labels"],
        json!({"a": "b", OWNER_LABEL: "LWwgYT1iIGJ1c3lib3g="})
    );
}

#[test]
fn json_form_is_accepted_as_the_create_body() {
    let text = r#"  {"Image": "busybox:1.36", "Cmd": "sleep 5", "Env": ["A=b"], "Labels": {"x": "y"},
        "HostConfig": {"NetworkMode": "host", "Binds": ["/a:/a"]}, "NetworkingConfig": {},
        "Entrypoint": ["/bin/sh", "-c"], "Tty": true, "StopTimeout": 3, "Healthcheck": {"Test": ["NONE"]},
        "ExposedPorts": {"80/tcp": {}}, "Volumes": null, "WorkingDir": "/", "User": "1", "MacAddress": "02:42:ac:11:00:02"}"#;
    let spec = parse(text, &NoHost).unwrap();
    assert_eq!(spec.image.canonical(), "docker.io/library/busybox:1.36");
    assert_eq!(spec.body["Cmd"], json!("sleep 5"));
    assert_eq!(
        spec.body["Labels"],
        json!({"x": "y", OWNER_LABEL: owner_label(text)})
    );
    assert_eq!(spec.body["HostConfig"]["Binds"], json!(["/a:/a"]));
    assert_eq!(spec.platform, None);

    let spec = parse(
        r#"{"Image":"busybox","Labels":null,"HostConfig":null}"#,
        &NoHost,
    )
    .unwrap();
    assert!(spec.body["Labels"][OWNER_LABEL].is_string());
    assert_eq!(spec.body["HostConfig"], json!({}));
}

// Exempt from the length limit: a data table of JSON forms and the error each gets, one row
// each.
#[allow(clippy::too_many_lines)]
#[test]
fn json_form_errors() {
    let cases: &[(&str, &str)] = &[
        ("{", "not valid JSON"),
        ("{}", "needs \"Image\""),
        (r#"{"Image": ""}"#, "needs \"Image\""),
        (r#"{"Image": 5}"#, "needs \"Image\""),
        (r#"{"Image": "Busybox"}"#, "lowercase"),
        (
            r#"{"Image": "busybox", "Imgae": 1}"#,
            "unknown key \"Imgae\"",
        ),
        (
            r#"{"Image": "busybox", "image": "x"}"#,
            "did you mean \"Image\"",
        ),
        (
            r#"{"Image": "busybox", "Name": "x"}"#,
            "name comes from DNS",
        ),
        (
            r#"{"Image": "busybox", "name": "x"}"#,
            "name comes from DNS",
        ),
        (
            r#"{"Image": "busybox", "Cmd": [1]}"#,
            "Cmd must be a string or an array of strings",
        ),
        (r#"{"Image": "busybox", "Cmd": {}}"#, "Cmd must be"),
        (
            r#"{"Image": "busybox", "Env": "A=b"}"#,
            "Env must be an array of strings",
        ),
        (
            r#"{"Image": "busybox", "Labels": {"a": 1}}"#,
            "Labels must be an object whose values are strings",
        ),
        (r#"{"Image": "busybox", "Labels": []}"#, "Labels must be"),
        (
            r#"{"Image": "busybox", "Tty": "yes"}"#,
            "Tty must be true or false",
        ),
        (
            r#"{"Image": "busybox", "StopTimeout": 1.5}"#,
            "StopTimeout must be an integer",
        ),
        (
            r#"{"Image": "busybox", "HostConfig": []}"#,
            "HostConfig must be an object",
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"Privileged": "yes"}}"#,
            "HostConfig.Privileged must be true or false",
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"Binds": "/a:/a"}}"#,
            "HostConfig.Binds must be an array of strings",
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"CapAdd": [1]}}"#,
            "HostConfig.CapAdd",
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"Mounts": ["x"]}}"#,
            "HostConfig.Mounts must be an array of objects",
        ),
        ("{\"Image\": \"busybox\"} x", "not valid JSON"),
        // The engine would read each of these as the field; the policy must see it too.
        (
            r#"{"Image": "busybox", "HostConfig": {"privileged": true}}"#,
            r#"HostConfig."privileged" must be spelt "Privileged""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"Privileged": false, "PRIVILEGED": true}}"#,
            r#"must be spelt "Privileged""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"capadd": ["SYS_ADMIN"]}}"#,
            r#"must be spelt "CapAdd""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"ſecurityOpt": ["seccomp=unconfined"]}}"#,
            r#"must be spelt "SecurityOpt""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"Mounts": [{"type": "bind", "Source": "/", "Target": "/h"}]}}"#,
            r#"HostConfig.Mounts[]."type" must be spelt "Type""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"Mounts": [{"Type": "bind", "ſource": "/", "Target": "/h"}]}}"#,
            r#"must be spelt "Source""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"Mounts": [{"Target": "/h", "VolumeOptions": {"driverconfig": {"Options": {"o": "bind", "device": "/"}}}}]}}"#,
            r#"must be spelt "DriverConfig""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"Mounts": [{"Target": "/h", "VolumeOptions": {"DriverConfig": {"options": {"o": "bind", "device": "/"}}}}]}}"#,
            r#"must be spelt "Options""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"capabilities": ["CAP_SYS_ADMIN"]}}"#,
            r#"must be spelt "Capabilities""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"maskedPaths": []}}"#,
            r#"must be spelt "MaskedPaths""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"annotations": {"a": "b"}}}"#,
            r#"must be spelt "Annotations""#,
        ),
        (
            r#"{"Image": "busybox", "HostConfig": {"Mounts": [{"Type": "bind", "Source": "/usr", "Target": "/u", "ReadOnly": true, "BindOptions": {"readonlynonrecursive": true}}]}}"#,
            r#"must be spelt "ReadOnlyNonRecursive""#,
        ),
    ];
    for (text, want) in cases {
        let err = parse(text, &NoHost).unwrap_err().0;
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn dispatch_and_top_level_errors() {
    for (text, want) in [
        ("", "empty"),
        ("  ", "empty"),
        ("--rm", "no image"),
        ("--bogus busybox", "--bogus"),
        ("'busybox", "unbalanced"),
        ("--name web busybox", "name comes from DNS"),
    ] {
        let err = parse(text, &NoHost).unwrap_err().0;
        assert!(err.contains(want), "{text}: {err}");
    }
    // `{` only counts as JSON at the start; elsewhere it is an ordinary word.
    let spec = parse("busybox {", &NoHost).unwrap();
    assert_eq!(spec.body["Cmd"], json!(["{"]));
}

/// A record's `--env-file`/`--label-file` that is a FIFO, a link to a device, a directory or
/// over the limit makes the record invalid, naming the file and why; nothing blocks or is
/// read without end.
#[test]
fn files_a_record_names_are_small_regular_files() {
    let s = crate::bounded_read::tests::Scratch::new("spec-files");
    let big = s.sparse("big", MAX_HOST_FILE_BYTES + 1);
    let fifo = s.fifo("fifo");
    let zero = s.link("zero", "/dev/zero");
    for (path, why) in [
        (&big, "larger than 1 MiB"),
        (&fifo, "not a regular file but a FIFO"),
        (&zero, "not a regular file but a character device"),
        (&s.0, "not a regular file but a directory"),
    ] {
        for flag in ["--env-file", "--label-file"] {
            let text = format!("{flag} {} busybox", path.display());
            let err = parse(&text, &SystemHost).unwrap_err().0;
            assert!(
                err.contains(&path.display().to_string()) && err.contains(why),
                "{text}: {err}"
            );
        }
    }
    let env = s.0.join("env");
    std::fs::write(&env, "A=1\n").unwrap();
    let link = s.link("env-link", env.to_str().unwrap());
    let spec = parse(
        &format!("--env-file {} busybox", link.display()),
        &SystemHost,
    )
    .unwrap();
    assert_eq!(spec.body["Env"], json!(["A=1"]));
}

#[test]
fn system_host_reads_files_and_environment() {
    let dir = std::env::temp_dir().join(format!("ddp-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("env");
    std::fs::write(&file, "A=1\n").unwrap();
    assert_eq!(SystemHost.read_file(&file).unwrap(), "A=1\n");
    assert!(SystemHost.read_file(&dir.join("missing")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(SystemHost.env("PATH").is_some());
    assert_eq!(SystemHost.env("DDP_SPEC_SURELY_UNSET_VARIABLE"), None);
}
