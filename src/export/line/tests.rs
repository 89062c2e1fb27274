//! The run line of a container, flag family by flag family: each case is an inspect (a
//! stock Docker 20.10 container with a few fields changed) and the words expected; every
//! line written must parse.

use super::*;
use crate::container::tests::split_words;
use serde_json::json;

const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The image every case runs: its own variables, label, command, directory and port.
fn image() -> Value {
    json!({"Config": {
        "Env": ["PATH=/bin", "MODE=prod"],
        "Labels": {"team": "platform"},
        "Cmd": ["sleep", "3600"],
        "WorkingDir": "/srv",
        "ExposedPorts": {"8080/tcp": {}},
        "Entrypoint": null,
        "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 30_000_000_000_i64},
        "StopSignal": "SIGTERM",
        "Volumes": {"/data": {}},
    }})
}

/// A 20.10 engine's `HostConfig` of a container created with no option.
fn stock_host_config() -> Value {
    serde_json::from_str(
        r#"{
        "Binds": null, "ContainerIDFile": "", "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}},
        "NetworkMode": "default", "PortBindings": {}, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
        "AutoRemove": false, "VolumeDriver": "", "VolumesFrom": null, "CapAdd": null, "CapDrop": null,
        "CgroupnsMode": "host", "Dns": [], "DnsOptions": [], "DnsSearch": [], "ExtraHosts": null,
        "GroupAdd": null, "IpcMode": "private", "Cgroup": "", "Links": null, "OomScoreAdj": 0, "PidMode": "",
        "Privileged": false, "PublishAllPorts": false, "ReadonlyRootfs": false, "SecurityOpt": null,
        "UTSMode": "", "UsernsMode": "", "ShmSize": 67108864, "Runtime": "runc", "ConsoleSize": [0, 0],
        "Isolation": "", "CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0,
        "BlkioWeightDevice": [], "BlkioDeviceReadBps": [], "BlkioDeviceWriteBps": [],
        "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [], "CpuPeriod": 0, "CpuQuota": 0,
        "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "",
        "Devices": [], "DeviceCgroupRules": null, "DeviceRequests": null, "KernelMemory": 0,
        "KernelMemoryTCP": 0, "MemoryReservation": 0, "MemorySwap": 0, "MemorySwappiness": null,
        "OomKillDisable": false, "PidsLimit": null, "Ulimits": [], "CpuCount": 0, "CpuPercent": 0,
        "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
        "MaskedPaths": ["/proc/kcore"], "ReadonlyPaths": ["/proc/sys"]
        }"#,
    )
    .unwrap()
}

/// A container of [`image`] created with no option, as Docker 20.10 shows it.
fn stock() -> Value {
    let img = image();
    json!({
        "Id": ID,
        "Name": "/web",
        "Image": "sha256:feed",
        "Config": {
            "Hostname": &ID[..12], "Domainname": "", "User": "", "Tty": false, "OpenStdin": false,
            "Env": img["Config"]["Env"], "Cmd": img["Config"]["Cmd"], "Image": "example/app:1",
            "Volumes": img["Config"]["Volumes"], "WorkingDir": "/srv", "Entrypoint": null,
            "Labels": img["Config"]["Labels"], "ExposedPorts": img["Config"]["ExposedPorts"],
            "Healthcheck": img["Config"]["Healthcheck"], "StopSignal": "SIGTERM",
        },
        "HostConfig": stock_host_config(),
        "NetworkSettings": {"Networks": {"bridge": {"IPAMConfig": null, "Links": null, "Aliases": null}}},
    })
}

fn facts() -> EngineFacts {
    EngineFacts {
        host_name: "vm".into(),
        log_opts: [("max-size".to_string(), "10m".to_string())].into(),
        cgroupns: "host".into(),
        names: [("f".repeat(64), "db".to_string())].into(),
        ..EngineFacts::default()
    }
}

/// `stock()` with `changes` merged in (`{"Config": {...}, "HostConfig": {...}}`).
fn with(changes: &Value) -> Value {
    let mut c = stock();
    for (section, fields) in changes.as_object().unwrap() {
        match fields.as_object() {
            Some(fields) if c[section].is_object() => {
                for (k, v) in fields {
                    c[section][k] = v.clone();
                }
            }
            _ => c[section] = fields.clone(),
        }
    }
    c
}

/// Each case: the changes, and the words of the line before the image (`IMG` stands for
/// the image word and what follows it).
fn check(cases: &[(Value, &str)]) {
    for (changes, want) in cases {
        let line = run_line(&with(changes), &image(), &facts(), false);
        let text = line.text();
        assert_eq!(text, want.replace("IMG", "example/app:1"), "{changes}");
        crate::container::parse(&text, &crate::container::SystemHost)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn a_stock_container_is_its_image_alone() {
    check(&[(json!({}), "IMG")]);
}

#[test]
fn process() {
    check(&[
        (
            json!({"Config": {"User": "65534", "WorkingDir": "/app"}}),
            "--user=65534 --workdir=/app IMG",
        ),
        (
            json!({"Config": {"Hostname": "web", "Domainname": "example.com"}}),
            "--hostname=web --domainname=example.com IMG",
        ),
        (
            json!({"Config": {"Hostname": "vm"}, "HostConfig": {"NetworkMode": "host"}}),
            "--network=host IMG",
        ),
        (
            json!({"Config": {"Tty": true, "OpenStdin": true}}),
            "--tty --interactive IMG",
        ),
        (
            json!({"Config": {"StopSignal": "SIGINT", "StopTimeout": 30}}),
            "--stop-signal=SIGINT --stop-timeout=30 IMG",
        ),
        (
            json!({"Config": {"MacAddress": "02:42:ac:11:00:02"}}),
            "--mac-address=02:42:ac:11:00:02 IMG",
        ),
    ]);
}

#[test]
fn environment_beyond_the_images() {
    check(&[
        (
            json!({"Config": {"Env": ["PATH=/bin", "MODE=prod", "A=b c"]}}),
            "--env='A=b c' IMG",
        ),
        (
            json!({"Config": {"Env": ["PATH=/bin", "MODE=dev"]}}),
            "--env=MODE=dev IMG",
        ),
        (json!({"Config": {"Env": ["MODE=prod"]}}), "--env=PATH IMG"),
        (
            json!({"Config": {"Env": ["PATH=/bin", "MODE=prod", "E="]}}),
            "--env=E= IMG",
        ),
    ]);
}

#[test]
fn labels_beyond_the_images_without_the_ownership_mark() {
    check(&[
        (
            json!({"Config": {"Labels": {"team": "platform", "app": "web", OWNER_LABEL: "eA=="}}}),
            "--label=app=web IMG",
        ),
        (
            json!({"Config": {"Labels": {"team": "db", "k": ""}}}),
            "--label=k= --label=team=db IMG",
        ),
    ]);
}

#[test]
fn healthcheck_fields_that_differ_from_the_images() {
    check(&[
        (
            json!({"Config": {"Healthcheck": {"Test": ["NONE"]}}}),
            "--no-healthcheck IMG",
        ),
        (
            json!({"Config": {"Healthcheck": {"Test": ["CMD-SHELL", "wget -q localhost || exit 1"], "Interval": 30_000_000_000_i64, "Timeout": 1_500_000_000, "Retries": 3, "StartPeriod": 60_000_000_000_i64}}}),
            "--health-cmd='wget -q localhost || exit 1' --health-timeout=1500ms --health-start-period=1m --health-retries=3 IMG",
        ),
        (
            json!({"Config": {"Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 10_000_000_000_i64}}}),
            "--health-interval=10s IMG",
        ),
    ]);
    let exec =
        with(&json!({"Config": {"Healthcheck": {"Test": ["CMD", "curl", "-f", "http://x/a b"]}}}));
    let line = run_line(&exec, &image(), &facts(), false);
    assert_eq!(
        split_words(&line.words[0]),
        ["--health-cmd=curl -f 'http://x/a b'"]
    );
    assert!(line.notes[0].contains("exec form"), "{:?}", line.notes);
}

#[test]
fn networks_endpoints_links_and_names() {
    let ep = |v: Value| json!({"NetworkSettings": {"Networks": {"net1": v}}});
    let mut cases = vec![
        (
            json!({"HostConfig": {"NetworkMode": "none"}}),
            "--network=none IMG".to_string(),
        ),
        (
            json!({"HostConfig": {"NetworkMode": format!("container:{}", "f".repeat(64))}}),
            "--network=container:db IMG".into(),
        ),
        (
            json!({"HostConfig": {"ExtraHosts": ["a:1.2.3.4"], "Dns": ["1.1.1.1"], "DnsOptions": ["ndots:2"], "DnsSearch": ["example.com"]}}),
            "--add-host=a:1.2.3.4 --dns=1.1.1.1 --dns-option=ndots:2 --dns-search=example.com IMG"
                .into(),
        ),
        (
            json!({"HostConfig": {"Links": ["/db:/web/db", "/cache:/web/c"]}}),
            // Sorted: the engine lists links in no stable order.
            "--link=cache:c --link=db IMG".into(),
        ),
    ];
    let mut net = ep(
        json!({"Aliases": ["api", &ID[..12], "web"], "IPAMConfig": {"IPv4Address": "10.0.0.5", "LinkLocalIPs": ["169.254.1.1"]}}),
    );
    net["HostConfig"] = json!({"NetworkMode": "net1"});
    cases.push((
        net,
        "--network=net1 --network-alias=api --ip=10.0.0.5 --link-local-ip=169.254.1.1 IMG".into(),
    ));
    let mut opts = ep(json!({"Aliases": ["a,b"], "DriverOpts": {"com.example.x": "1"}}));
    opts["HostConfig"] = json!({"NetworkMode": "net1"});
    cases.push((
        opts,
        "--network='name=net1,\"alias=a,b\",driver-opt=com.example.x=1' IMG".into(),
    ));
    let cases: Vec<(Value, &str)> = cases.iter().map(|(c, w)| (c.clone(), w.as_str())).collect();
    check(&cases);
}

#[test]
fn ports_published_and_exposed_beyond_the_images() {
    check(&[(
        json!({"HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}], "443/tcp": [{"HostIp": "::1", "HostPort": "8443"}], "3000/tcp": [{"HostIp": "", "HostPort": ""}]}, "PublishAllPorts": true},
                   "Config": {"ExposedPorts": {"8080/tcp": {}, "80/tcp": {}, "53/udp": {}, "443/tcp": {}, "3000/tcp": {}, "5000/udp": {}, "81/tcp": {}}}}),
        "--publish=3000 --publish='[::1]:8443:443' --publish=127.0.0.1::53/udp --publish=8080:80 --publish-all --expose=5000/udp --expose=81 IMG",
    )]);
}

#[test]
fn storage() {
    check(&[
        (
            json!({"HostConfig": {"Binds": ["/tmp:/t:ro", "vol:/v"]}, "Config": {"Volumes": {"/data": {}, "/anon": {}}}}),
            "--volume=/tmp:/t:ro --volume=vol:/v --volume=/anon IMG",
        ),
        (
            json!({"HostConfig": {"Mounts": [
                {"Type": "tmpfs", "Target": "/scratch", "TmpfsOptions": {"SizeBytes": 67_108_864, "Mode": 1016}},
                {"Type": "bind", "Source": "/tmp", "Target": "/t", "ReadOnly": true, "BindOptions": {"Propagation": "rslave"}},
                {"Type": "volume", "Source": "v", "Target": "/v", "VolumeOptions": {"NoCopy": true, "DriverConfig": {"Name": "local", "Options": {"o": "a,b"}}, "Labels": {"x": "y"}}},
                {"Type": "volume", "Target": "/anon2", "VolumeOptions": {"DriverConfig": {}}}]},
                "Config": {}}),
            "--mount=type=tmpfs,target=/scratch,tmpfs-size=67108864,tmpfs-mode=1770 --mount=type=bind,source=/tmp,target=/t,readonly,bind-propagation=rslave --mount='type=volume,source=v,target=/v,volume-nocopy,volume-label=x=y,volume-driver=local,\"volume-opt=o=a,b\"' --mount=type=volume,target=/anon2,volume-nocopy=false IMG",
        ),
        (
            json!({"HostConfig": {"Tmpfs": {"/run": "rw,size=64k", "/x": ""}, "ReadonlyRootfs": true, "VolumeDriver": "local", "VolumesFrom": ["data:ro"], "StorageOpt": {"size": "1G"}}}),
            "--tmpfs=/run:rw,size=64k --tmpfs=/x --read-only --volume-driver=local --volumes-from=data:ro --storage-opt=size=1G IMG",
        ),
    ]);
}

#[test]
fn resources() {
    check(&[
        (
            json!({"HostConfig": {"Memory": 536_870_912, "MemorySwap": 1_073_741_824_i64}}),
            "--memory=536870912 IMG",
        ),
        (
            json!({"HostConfig": {"Memory": 536_870_912, "MemorySwap": -1}}),
            "--memory=536870912 --memory-swap=-1 IMG",
        ),
        (
            json!({"HostConfig": {"CpuShares": 512, "NanoCpus": 1_500_000_000, "CpusetCpus": "0", "PidsLimit": 100, "ShmSize": 134_217_728, "OomScoreAdj": -500}}),
            "--cpu-shares=512 --oom-score-adj=-500 --pids-limit=100 --cpus=1.5 --cpuset-cpus=0 --shm-size=134217728 IMG",
        ),
        (
            json!({"HostConfig": {"MemorySwappiness": 0, "OomKillDisable": true, "NanoCpus": 2_000_000_000}}),
            "--cpus=2 --memory-swappiness=0 --oom-kill-disable IMG",
        ),
        (
            json!({"HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}], "BlkioWeightDevice": [{"Path": "/dev/sda", "Weight": 200}], "BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": 1_048_576}]}}),
            "--ulimit=nofile=1024:2048 --blkio-weight-device=/dev/sda:200 --device-read-bps=/dev/sda:1048576 IMG",
        ),
    ]);
}

#[test]
fn devices() {
    check(&[
        (
            json!({"HostConfig": {"Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/null", "CgroupPermissions": "rwm"}, {"PathOnHost": "/dev/null", "PathInContainer": "/dev/x", "CgroupPermissions": "r"}], "DeviceCgroupRules": ["c 1:3 mr"]}}),
            "--device=/dev/null --device=/dev/null:/dev/x:r --device-cgroup-rule='c 1:3 mr' IMG",
        ),
        (
            json!({"HostConfig": {"DeviceRequests": [{"Driver": "", "Count": -1, "DeviceIDs": null, "Capabilities": [["gpu"]], "Options": {}}, {"Driver": "cdi", "DeviceIDs": ["vendor.com/gpu=0"]}]}}),
            "--gpus=count=all --device=vendor.com/gpu=0 IMG",
        ),
        (
            json!({"HostConfig": {"DeviceRequests": [{"Driver": "nvidia", "Count": 0, "DeviceIDs": ["0", "2"], "Capabilities": [["compute", "gpu"]], "Options": {"a": "1"}}]}}),
            "--gpus='driver=nvidia,\"device=0,2\",capabilities=compute,options=a=1' IMG",
        ),
    ]);
}

#[test]
fn isolation() {
    check(&[
        (
            json!({"HostConfig": {"CapAdd": ["CAP_NET_ADMIN"], "CapDrop": ["CAP_CHOWN"], "SecurityOpt": ["no-new-privileges"], "Sysctls": {"net.ipv4.ip_forward": "1"}, "GroupAdd": ["audio"]}}),
            "--cap-add=CAP_NET_ADMIN --cap-drop=CAP_CHOWN --security-opt=no-new-privileges --sysctl=net.ipv4.ip_forward=1 --group-add=audio IMG",
        ),
        (
            json!({"HostConfig": {"Privileged": true, "SecurityOpt": ["label=disable"], "MaskedPaths": null}}),
            "--privileged IMG",
        ),
        (
            json!({"HostConfig": {"PidMode": "host", "IpcMode": "shareable", "UTSMode": "host", "UsernsMode": "host", "CgroupnsMode": "private", "Runtime": "crun", "SecurityOpt": ["label=disable"]}}),
            "--pid=host --ipc=shareable --uts=host --userns=host --cgroupns=private --runtime=crun IMG",
        ),
        (
            json!({"HostConfig": {"MaskedPaths": [], "ReadonlyPaths": []}}),
            "--security-opt=systempaths=unconfined IMG",
        ),
        (
            json!({"HostConfig": {"Annotations": {"a": "b"}}}),
            "--annotation=a=b IMG",
        ),
    ]);
}

#[test]
fn lifecycle_and_logging() {
    check(&[
        (
            json!({"HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}, "Init": true}}),
            "--restart=on-failure:3 --init IMG",
        ),
        (
            json!({"HostConfig": {"RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0}}}),
            "--restart=unless-stopped IMG",
        ),
        (
            json!({"HostConfig": {"AutoRemove": true, "Init": false}}),
            "--rm --init=false IMG",
        ),
        (
            json!({"HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}}}),
            "--log-opt=max-file=3 IMG",
        ),
        (
            json!({"HostConfig": {"LogConfig": {"Type": "syslog", "Config": {"max-size": "10m"}}}}),
            "--log-driver=syslog --log-opt=max-size=10m IMG",
        ),
    ]);
}

#[test]
fn entrypoint_and_command() {
    check(&[
        (
            json!({"Config": {"Cmd": ["sh", "-c", "echo \"$A\"; exit 1"]}}),
            "IMG sh -c 'echo \"$A\"; exit 1'",
        ),
        (
            json!({"Config": {"Entrypoint": ["/bin/sh"], "Cmd": ["-c", "x"]}}),
            "--entrypoint=/bin/sh IMG -c x",
        ),
        // The image's command must be written when the entrypoint is the container's own.
        (
            json!({"Config": {"Entrypoint": ["/bin/sh"]}}),
            "--entrypoint=/bin/sh IMG sleep 3600",
        ),
        (
            json!({"Config": {"Entrypoint": ["/bin/sh"], "Cmd": null}}),
            "--entrypoint=/bin/sh IMG",
        ),
        (
            json!({"Config": {"Entrypoint": [""], "Cmd": ["x"]}}),
            "--entrypoint='' IMG x",
        ),
        (json!({"Config": {"Cmd": ["--flag", ""]}}), "IMG --flag ''"),
    ]);
    let multi = with(&json!({"Config": {"Entrypoint": ["tini", "--"], "Cmd": ["run"]}}));
    let line = run_line(&multi, &image(), &facts(), false);
    assert_eq!(line.text(), "--entrypoint=tini example/app:1 -- run");
    assert!(line.notes[0].contains("2 words"), "{:?}", line.notes);
}

#[test]
fn settings_without_a_run_line_form_are_notes() {
    let c = with(
        &json!({"HostConfig": {"ContainerIDFile": "/tmp/id", "CpuCount": 2, "SecurityOpt": ["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"]}}),
    );
    let line = run_line(&c, &image(), &facts(), false);
    assert_eq!(line.text(), "example/app:1");
    let notes = line.notes.join("\n");
    for want in ["--cpu-count", "--cidfile", "seccomp profile"] {
        assert!(notes.contains(want), "{want}: {notes}");
    }
}

#[test]
fn secret_looking_variables_are_named_and_redacted_on_request() {
    let c = with(
        &json!({"Config": {"Env": ["PATH=/bin", "MODE=prod", "DB_PASSWORD=hunter2", "api_key=k", "USER=me"]}}),
    );
    let plain = run_line(&c, &image(), &facts(), false);
    assert_eq!(plain.secrets, ["DB_PASSWORD", "api_key"]);
    assert!(plain.text().contains("DB_PASSWORD=hunter2"));
    let redacted = run_line(&c, &image(), &facts(), true);
    assert_eq!(redacted.secrets, ["DB_PASSWORD", "api_key"]);
    let text = redacted.text();
    assert!(
        !text.contains("hunter2") && !text.contains("api_key=k "),
        "{text}"
    );
    assert!(
        text.contains("--env=DB_PASSWORD=REDACTED --env=api_key=REDACTED --env=USER=me"),
        "{text}"
    );
    assert!(
        redacted
            .notes
            .iter()
            .any(|n| n.contains("DB_PASSWORD, api_key"))
    );
}

#[test]
fn missing_fields_are_tolerated() {
    // An engine that returns less (Podman leaves fields out) or an image that is gone.
    let bare = json!({"Id": ID, "Name": "/x", "Config": {"Image": "alpine", "Cmd": ["sh"]}});
    let line = run_line(&bare, &Value::Null, &EngineFacts::default(), false);
    assert_eq!(line.text(), "alpine sh");
    let nothing = run_line(&json!({}), &Value::Null, &EngineFacts::default(), false);
    assert_eq!(nothing.words, ["IMAGE"]);
    assert!(!nothing.notes.is_empty());
}

#[test]
fn facts_from_info() {
    let info = json!({"Name": "vm", "LoggingDriver": "journald", "DefaultRuntime": "crun", "CgroupVersion": "1"});
    let f = EngineFacts::from_info(&info, BTreeMap::new(), BTreeMap::new());
    assert_eq!(
        (
            f.host_name.as_str(),
            f.log_driver.as_str(),
            f.runtime.as_str(),
            f.cgroupns.as_str()
        ),
        ("vm", "journald", "crun", "host")
    );
    let f = EngineFacts::from_info(
        &json!({"CgroupVersion": "2"}),
        BTreeMap::new(),
        BTreeMap::new(),
    );
    assert_eq!(
        (
            f.log_driver.as_str(),
            f.runtime.as_str(),
            f.cgroupns.as_str()
        ),
        ("json-file", "runc", "private")
    );
}

#[test]
fn durations_and_cpus_read_back() {
    for ns in [
        1,
        1_000,
        1_500_000,
        1_000_000_000,
        90_000_000_000,
        3_600_000_000_000,
        5_400_000_000_000,
    ] {
        assert_eq!(
            crate::container::tests::duration(&go_duration(ns)),
            ns,
            "{ns}"
        );
    }
    assert_eq!(cpus(1_500_000_000), "1.5");
    assert_eq!(cpus(2_000_000_000), "2");
    assert_eq!(cpus(1), "0.000000001");
    assert_eq!(split_words(&word("x")), ["x"]);
}
