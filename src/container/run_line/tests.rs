//! Table tests of the flag → create-body mapping and of every value error.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use super::build;
use crate::container::{Host, PullPolicy, flags, words};

/// Files and environment for the tests; everything else is absent.
struct FakeHost {
    files: HashMap<&'static str, &'static str>,
    env: HashMap<&'static str, &'static str>,
}

impl Host for FakeHost {
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        path.to_str()
            .and_then(|p| self.files.get(p))
            .map(|s| s.to_string())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    }
    fn env(&self, key: &str) -> Option<String> {
        self.env.get(key).map(|s| s.to_string())
    }
}

fn host() -> FakeHost {
    FakeHost {
        files: HashMap::from([
            (
                "/env",
                "\u{feff}# comment\nE1=a\n  E2=two words  \nE3=\"quoted\"\nFROM_ENV\nUNSET_ONE\r\n\nE1=again\n",
            ),
            ("/bad-env", "E 2=x\n"),
            ("/empty-key", "=x\n"),
            ("/labels", "a=1\nnovalue\n# c\nb=2=3\n"),
            (
                "/seccomp.json",
                "{ \"defaultAction\" : \"SCMP_ACT_ALLOW\" }",
            ),
            ("/not-json", "nope"),
        ]),
        env: HashMap::from([("FROM_ENV", "e"), ("HOME_X", "/root")]),
    }
}

/// The body for `text` (options + `busybox` + command), with `Image` taken out.
fn body(text: &str) -> Result<Value, String> {
    let words = words::split(text).map_err(|e| e.0)?;
    let line = flags::parse(&words).map_err(|e| e.0)?;
    let built = build(&line, &host()).map_err(|e| e.0)?;
    let mut b = built.body;
    let map = b.as_object_mut().unwrap();
    assert_eq!(map.remove("Image"), Some(json!(line.image)));
    if map.get("HostConfig") == Some(&json!({})) {
        map.remove("HostConfig");
    }
    Ok(b)
}

fn hc(v: Value) -> Value {
    json!({ "HostConfig": v })
}

// Exempt from the length limit: a data table of run lines and the create fields each maps to,
// one row a flag form.
#[allow(clippy::too_many_lines)]
#[test]
fn flags_map_to_api_fields() {
    let cases: Vec<(&str, Value)> = vec![
        ("busybox", json!({})),
        ("-d busybox", json!({})),
        (
            "-dq --sig-proxy=false --detach-keys ctrl-x busybox",
            json!({}),
        ),
        (
            "--volume-driver local busybox",
            hc(json!({"VolumeDriver": "local"})),
        ),
        ("busybox sleep 1", json!({"Cmd": ["sleep", "1"]})),
        (
            "busybox --name x -it",
            json!({"Cmd": ["--name", "x", "-it"]}),
        ),
        // process and identity
        ("-e A=b -e C= busybox", json!({"Env": ["A=b", "C="]})),
        (
            "-e FROM_ENV -e UNSET_VAR busybox",
            json!({"Env": ["FROM_ENV=e", "UNSET_VAR"]}),
        ),
        (
            "-e A=1 -e B=2 -e A=3 busybox",
            json!({"Env": ["B=2", "A=3"]}),
        ),
        (
            "--env-file /env -e E2=flag busybox",
            json!({"Env": ["E3=\"quoted\"", "FROM_ENV=e", "E1=again", "E2=flag"]}),
        ),
        (
            "--env-file /env busybox",
            json!({"Env": ["E2=two words  ", "E3=\"quoted\"", "FROM_ENV=e", "E1=again"]}),
        ),
        (
            "-l a=b -l c --label d=e=f busybox",
            json!({"Labels": {"a": "b", "c": "", "d": "e=f"}}),
        ),
        (
            "--label-file /labels -l a=9 busybox",
            json!({"Labels": {"a": "9", "b": "2=3"}}),
        ),
        (
            "--entrypoint 'sh -c' busybox",
            json!({"Entrypoint": ["sh -c"]}),
        ),
        (
            "--entrypoint= busybox ls",
            json!({"Entrypoint": [""], "Cmd": ["ls"]}),
        ),
        (
            "-w /app/ -u 1000:1000 busybox",
            json!({"WorkingDir": "/app/", "User": "1000:1000"}),
        ),
        ("-u a -u b busybox", json!({"User": "b"})),
        (
            "-h web --domainname example.com busybox",
            json!({"Hostname": "web", "Domainname": "example.com"}),
        ),
        ("-t -i busybox", json!({"Tty": true, "OpenStdin": true})),
        ("-dit busybox", json!({"Tty": true, "OpenStdin": true})),
        ("-t=false busybox", json!({})),
        (
            "--stop-signal SIGINT --stop-timeout 30 busybox",
            json!({"StopSignal": "SIGINT", "StopTimeout": 30}),
        ),
        ("--stop-timeout 0 busybox", json!({"StopTimeout": 0})),
        ("--stop-timeout -1 busybox", json!({"StopTimeout": -1})),
        (
            "--health-cmd 'curl -f http://x/ || exit 1' --health-interval 30s --health-timeout 5s --health-retries 3 --health-start-period 1m busybox",
            json!({"Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://x/ || exit 1"], "Interval": 30_000_000_000_i64, "Timeout": 5_000_000_000_i64, "Retries": 3, "StartPeriod": 60_000_000_000_i64}}),
        ),
        (
            "--health-interval 10s busybox",
            json!({"Healthcheck": {"Interval": 10_000_000_000_i64}}),
        ),
        (
            "--no-healthcheck busybox",
            json!({"Healthcheck": {"Test": ["NONE"]}}),
        ),
        ("--no-healthcheck=false busybox", json!({})),
        ("--health-retries 0 busybox", json!({})),
        (
            "--restart=always busybox",
            hc(json!({"RestartPolicy": {"Name": "always", "MaximumRetryCount": 0}})),
        ),
        (
            "--restart on-failure:3 busybox",
            hc(json!({"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}})),
        ),
        (
            "--restart no --rm busybox",
            hc(
                json!({"RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "AutoRemove": true}),
            ),
        ),
        ("--rm busybox", hc(json!({"AutoRemove": true}))),
        ("--init busybox", hc(json!({"Init": true}))),
        ("--init=false busybox", hc(json!({"Init": false}))),
        // networking
        ("--net=host busybox", hc(json!({"NetworkMode": "host"}))),
        (
            "--network mynet busybox",
            hc(json!({"NetworkMode": "mynet"})),
        ),
        (
            "--network mynet --network-alias web --ip 10.1.0.5 --ip6 2001:db8::5 busybox",
            json!({"HostConfig": {"NetworkMode": "mynet"}, "NetworkingConfig": {"EndpointsConfig": {"mynet": {"Aliases": ["web"], "IPAMConfig": {"IPv4Address": "10.1.0.5", "IPv6Address": "2001:db8::5"}}}}}),
        ),
        (
            "--network a --network b busybox",
            json!({"HostConfig": {"NetworkMode": "a"}, "NetworkingConfig": {"EndpointsConfig": {"a": {}, "b": {}}}}),
        ),
        (
            "--network mynet --link-local-ip fe80::1 busybox",
            json!({"HostConfig": {"NetworkMode": "mynet"}, "NetworkingConfig": {"EndpointsConfig": {"mynet": {"IPAMConfig": {"LinkLocalIPs": ["fe80::1"]}}}}}),
        ),
        (
            "--network name=mynet,link-local-ip=fe80::2 busybox",
            json!({"HostConfig": {"NetworkMode": "mynet"}, "NetworkingConfig": {"EndpointsConfig": {"mynet": {"IPAMConfig": {"LinkLocalIPs": ["fe80::2"]}}}}}),
        ),
        (
            "--network name=MyNet,alias=X,driver-opt=K=V busybox",
            json!({"HostConfig": {"NetworkMode": "mynet"}, "NetworkingConfig": {"EndpointsConfig": {"mynet": {"Aliases": ["x"], "DriverOpts": {"k": "v"}}}}}),
        ),
        (
            "--mac-address 02:42:ac:11:00:02 busybox",
            json!({"MacAddress": "02:42:ac:11:00:02", "HostConfig": {"NetworkMode": "default"}, "NetworkingConfig": {"EndpointsConfig": {"default": {"MacAddress": "02:42:ac:11:00:02"}}}}),
        ),
        (
            "--network bridge --mac-address 02:42:ac:11:00:02 busybox",
            json!({"MacAddress": "02:42:ac:11:00:02", "HostConfig": {"NetworkMode": "bridge"}, "NetworkingConfig": {"EndpointsConfig": {"bridge": {"MacAddress": "02:42:ac:11:00:02"}}}}),
        ),
        (
            "-p 8080:80 -p 127.0.0.1::53/udp -p 7000-7005:7000 -p 3000 -p 8081:80 busybox",
            json!({
                "ExposedPorts": {"80/tcp": {}, "53/udp": {}, "7000/tcp": {}, "3000/tcp": {}},
                "HostConfig": {"PortBindings": {
                    "80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "", "HostPort": "8081"}],
                    "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
                    "7000/tcp": [{"HostIp": "", "HostPort": "7000-7005"}],
                    "3000/tcp": [{"HostIp": "", "HostPort": ""}]
                }}
            }),
        ),
        ("-P busybox", hc(json!({"PublishAllPorts": true}))),
        (
            "--expose 5000-5001/udp --expose 80 busybox",
            json!({"ExposedPorts": {"5000/udp": {}, "5001/udp": {}, "80/tcp": {}}}),
        ),
        (
            "--dns 0:0:0:0:0:0:0:1 --dns 1.1.1.1 --dns-search example.com. --dns-search . --dns-option ndots:2 --dns-opt rotate busybox",
            hc(
                json!({"Dns": ["::1", "1.1.1.1"], "DnsSearch": ["example.com", "."], "DnsOptions": ["ndots:2", "rotate"]}),
            ),
        ),
        (
            "--add-host a:1.2.3.4 --add-host b=::1 --add-host v6=[::1] --add-host gw:host-gateway busybox",
            hc(json!({"ExtraHosts": ["a:1.2.3.4", "b:::1", "v6:::1", "gw:host-gateway"]})),
        ),
        // storage
        (
            "-v /data:/data -v vol:/v:ro -v /anon -v /data:/data busybox",
            json!({"Volumes": {"/anon": {}}, "HostConfig": {"Binds": ["/data:/data", "vol:/v:ro"]}}),
        ),
        (
            "--mount type=tmpfs,dst=/scratch,tmpfs-size=64m,tmpfs-mode=1770 busybox",
            hc(
                json!({"Mounts": [{"Type": "tmpfs", "Target": "/scratch", "TmpfsOptions": {"SizeBytes": 67_108_864, "Mode": 1016}}]}),
            ),
        ),
        (
            "--mount type=volume,source=vol1,target=/v,volume-nocopy,volume-opt=type=nfs,\"volume-opt=o=addr=1.2.3.4\" busybox",
            hc(
                json!({"Mounts": [{"Type": "volume", "Source": "vol1", "Target": "/v", "VolumeOptions": {"NoCopy": true, "DriverConfig": {"Options": {"type": "nfs", "o": "addr=1.2.3.4"}}}}]}),
            ),
        ),
        (
            "--mount 'type=volume,\"volume-opt=o=addr=1.2.3.4\",dst=/v' busybox",
            hc(
                json!({"Mounts": [{"Type": "volume", "Target": "/v", "VolumeOptions": {"DriverConfig": {"Options": {"o": "addr=1.2.3.4"}}}}]}),
            ),
        ),
        (
            "--mount type=bind,src=/srv,dst=/srv,readonly,bind-propagation=rslave busybox",
            hc(
                json!({"Mounts": [{"Type": "bind", "Source": "/srv", "Target": "/srv", "ReadOnly": true, "BindOptions": {"Propagation": "rslave"}}]}),
            ),
        ),
        (
            "--mount dst=/v,ro=false busybox",
            hc(json!({"Mounts": [{"Type": "volume", "Target": "/v"}]})),
        ),
        (
            "--mount dst=/v,readonly=1 busybox",
            hc(json!({"Mounts": [{"Type": "volume", "Target": "/v", "ReadOnly": true}]})),
        ),
        (
            "--mount type=bind,src=/a,dst=/x,readonly,bind-recursive=writable busybox",
            hc(
                json!({"Mounts": [{"Type": "bind", "Source": "/a", "Target": "/x", "ReadOnly": true, "BindOptions": {"ReadOnlyNonRecursive": true}}]}),
            ),
        ),
        (
            "--mount type=bind,src=/a,dst=/x,ro,bind-recursive=readonly,bind-propagation=rprivate busybox",
            hc(
                json!({"Mounts": [{"Type": "bind", "Source": "/a", "Target": "/x", "ReadOnly": true, "BindOptions": {"ReadOnlyForceRecursive": true, "Propagation": "rprivate"}}]}),
            ),
        ),
        (
            "--mount type=bind,src=/srv,dst=/srv,consistency=Cached busybox",
            hc(
                json!({"Mounts": [{"Type": "bind", "Source": "/srv", "Target": "/srv", "Consistency": "cached"}]}),
            ),
        ),
        (
            "--mount type=volume,dst=/v,volume-subpath=sub,volume-label=a=b,volume-label==x busybox",
            hc(
                json!({"Mounts": [{"Type": "volume", "Target": "/v", "VolumeOptions": {"Subpath": "sub", "Labels": {"a": "b"}, "DriverConfig": {}}}]}),
            ),
        ),
        (
            "--mount type=volume,dst=/v,volume-nocopy=false busybox",
            hc(
                json!({"Mounts": [{"Type": "volume", "Target": "/v", "VolumeOptions": {"DriverConfig": {}}}]}),
            ),
        ),
        (
            "--tmpfs /tmp --tmpfs /run:rw,size=64k busybox",
            hc(json!({"Tmpfs": {"/tmp": "", "/run": "rw,size=64k"}})),
        ),
        ("--read-only busybox", hc(json!({"ReadonlyRootfs": true}))),
        (
            "--volumes-from other:ro busybox",
            hc(json!({"VolumesFrom": ["other:ro"]})),
        ),
        (
            "--storage-opt size=10G busybox",
            hc(json!({"StorageOpt": {"size": "10G"}})),
        ),
        // security
        ("--privileged busybox", hc(json!({"Privileged": true}))),
        ("--privileged=false busybox", json!({})),
        (
            "--cap-add net_admin --cap-add SYS_TIME --cap-add CAP_NET_ADMIN busybox",
            hc(json!({"CapAdd": ["CAP_NET_ADMIN", "CAP_SYS_TIME"]})),
        ),
        (
            "--cap-drop ALL --cap-add NET_BIND_SERVICE busybox",
            hc(json!({"CapAdd": ["CAP_NET_BIND_SERVICE"], "CapDrop": ["ALL"]})),
        ),
        (
            "--cap-add all --cap-add chown busybox",
            hc(json!({"CapAdd": ["ALL"]})),
        ),
        (
            "--cap-add chown --cap-drop CAP_CHOWN --cap-drop kill busybox",
            hc(json!({"CapDrop": ["CAP_KILL"]})),
        ),
        (
            "--device /dev/sdb:/dev/xvdb --device /dev/fuse:rw busybox",
            hc(json!({"Devices": [
                {"PathOnHost": "/dev/sdb", "PathInContainer": "/dev/xvdb", "CgroupPermissions": "rwm"},
                {"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rw"}
            ]})),
        ),
        (
            "--device vendor.com/gpu=all busybox",
            hc(json!({"DeviceRequests": [{"Driver": "cdi", "DeviceIDs": ["vendor.com/gpu=all"]}]})),
        ),
        (
            "--device-cgroup-rule 'c 1:3 mr' busybox",
            hc(json!({"DeviceCgroupRules": ["c 1:3 mr"]})),
        ),
        (
            "--security-opt label:disable --security-opt no-new-privileges --security-opt seccomp=unconfined busybox",
            hc(
                json!({"SecurityOpt": ["label:disable", "no-new-privileges", "seccomp=unconfined"]}),
            ),
        ),
        (
            "--security-opt seccomp=/seccomp.json busybox",
            hc(json!({"SecurityOpt": ["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"]})),
        ),
        (
            "--security-opt systempaths=unconfined busybox",
            hc(json!({"MaskedPaths": [], "ReadonlyPaths": []})),
        ),
        (
            "--pid host --ipc shareable --uts host --userns host --cgroupns private busybox",
            hc(
                json!({"PidMode": "host", "IpcMode": "shareable", "UTSMode": "host", "UsernsMode": "host", "CgroupnsMode": "private"}),
            ),
        ),
        (
            "--pid container:db --ipc container:db busybox",
            hc(json!({"PidMode": "container:db", "IpcMode": "container:db"})),
        ),
        (
            "--group-add audio --group-add 1000 busybox",
            hc(json!({"GroupAdd": ["audio", "1000"]})),
        ),
        ("--runtime runc busybox", hc(json!({"Runtime": "runc"}))),
        (
            "--cgroup-parent /x busybox",
            hc(json!({"CgroupParent": "/x"})),
        ),
        // resources
        (
            "-m 512m --memory-reservation 256m --memory-swap -1 --shm-size 1g busybox",
            hc(
                json!({"Memory": 536_870_912, "MemoryReservation": 268_435_456, "MemorySwap": -1, "ShmSize": 1_073_741_824}),
            ),
        ),
        (
            "--memory-swap 1g busybox",
            hc(json!({"MemorySwap": 1_073_741_824})),
        ),
        (
            "--cpus 1.5 -c 0512 busybox",
            hc(json!({"NanoCpus": 1_500_000_000, "CpuShares": 330})),
        ),
        ("--cpu-shares=0x10 busybox", hc(json!({"CpuShares": 16}))),
        (
            "--cpuset-cpus 0-3 --cpuset-mems 0 --cpu-period 100000 --cpu-quota 50000 busybox",
            hc(
                json!({"CpusetCpus": "0-3", "CpusetMems": "0", "CpuPeriod": 100_000, "CpuQuota": 50_000}),
            ),
        ),
        ("--pids-limit 100 busybox", hc(json!({"PidsLimit": 100}))),
        ("--pids-limit -1 busybox", hc(json!({"PidsLimit": -1}))),
        (
            "--oom-score-adj -500 --oom-kill-disable busybox",
            hc(json!({"OomScoreAdj": -500, "OomKillDisable": true})),
        ),
        (
            "--memory-swappiness 10 busybox",
            hc(json!({"MemorySwappiness": 10})),
        ),
        ("--memory-swappiness -1 busybox", json!({})),
        (
            "--ulimit nofile=1024:2048 --ulimit nproc=512 --ulimit core=-1 --ulimit nproc=256 busybox",
            hc(json!({"Ulimits": [
                {"Name": "core", "Hard": -1, "Soft": -1},
                {"Name": "nofile", "Hard": 2048, "Soft": 1024},
                {"Name": "nproc", "Hard": 256, "Soft": 256}
            ]})),
        ),
        (
            "--sysctl net.ipv4.ip_forward=1 --sysctl kernel.shmmax=1=2 busybox",
            hc(json!({"Sysctls": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "1=2"}})),
        ),
        // logging
        (
            "--log-driver json-file --log-opt max-size=10m --log-opt max-file=3 busybox",
            hc(
                json!({"LogConfig": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}}),
            ),
        ),
        (
            "--log-opt mode busybox",
            hc(json!({"LogConfig": {"Type": "", "Config": {"mode": ""}}})),
        ),
        // the rest of the grammar (issue 14)
        (
            "--link db --link cache:c busybox",
            hc(json!({"Links": ["db", "cache:c"]})),
        ),
        (
            "--network net1 --link db:d busybox",
            json!({
                "HostConfig": {"Links": ["db:d"], "NetworkMode": "net1"},
                "NetworkingConfig": {"EndpointsConfig": {"net1": {"Links": ["db:d"]}}}
            }),
        ),
        (
            "--gpus all busybox",
            hc(json!({"DeviceRequests": [
                {"Driver": "", "Count": -1, "DeviceIDs": null, "Capabilities": [["gpu"]], "Options": {}}
            ]})),
        ),
        (
            r#"--gpus '"device=0,2"' --device vendor.com/class=x busybox"#,
            hc(json!({"DeviceRequests": [
                {"Driver": "", "Count": 0, "DeviceIDs": ["0", "2"], "Capabilities": [["gpu"]], "Options": {}},
                {"Driver": "cdi", "DeviceIDs": ["vendor.com/class=x"]}
            ]})),
        ),
        (
            r#"--gpus '2,driver=nvidia,"capabilities=compute,utility","options=a=1,b"' busybox"#,
            hc(json!({"DeviceRequests": [
                {"Driver": "nvidia", "Count": 2, "DeviceIDs": null,
                 "Capabilities": [["compute", "utility", "gpu"]], "Options": {"a": "1", "b": ""}}
            ]})),
        ),
        (
            "--gpus driver=nvidia busybox",
            hc(json!({"DeviceRequests": [
                {"Driver": "nvidia", "Count": 1, "DeviceIDs": null, "Capabilities": [["gpu"]], "Options": {}}
            ]})),
        ),
        (
            "--blkio-weight 0x1f4 --blkio-weight-device /dev/sda:200 --device-read-bps /dev/sda:1mb --device-write-bps /dev/sdb:10 --device-read-iops /dev/sda:1000 --device-write-iops /dev/sda:20 busybox",
            hc(json!({
                "BlkioWeight": 500,
                "BlkioWeightDevice": [{"Path": "/dev/sda", "Weight": 200}],
                "BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": 1048576}],
                "BlkioDeviceWriteBps": [{"Path": "/dev/sdb", "Rate": 10}],
                "BlkioDeviceReadIOps": [{"Path": "/dev/sda", "Rate": 1000}],
                "BlkioDeviceWriteIOps": [{"Path": "/dev/sda", "Rate": 20}],
            })),
        ),
        (
            "--cpu-rt-period 1000000 --cpu-rt-runtime 950000 --kernel-memory 50m --isolation default busybox",
            hc(json!({
                "CpuRealtimePeriod": 1000000,
                "CpuRealtimeRuntime": 950000,
                "KernelMemory": 52428800,
                "Isolation": "default",
            })),
        ),
        (
            "--annotation a=b --annotation c busybox",
            hc(json!({"Annotations": {"a": "b", "c": ""}})),
        ),
        (
            "--health-start-interval 2s --health-cmd true busybox",
            json!({"Healthcheck": {"Test": ["CMD-SHELL", "true"], "StartInterval": 2_000_000_000i64}}),
        ),
        (
            "--use-api-socket busybox",
            hc(json!({"Mounts": [{
                "Type": "bind", "Source": "/var/run/docker.sock",
                "Target": "/var/run/docker.sock", "BindOptions": {}
            }]})),
        ),
        ("--use-api-socket=false busybox", json!({})),
    ];
    for (text, want) in cases {
        assert_eq!(body(text), Ok(want), "{text}");
    }
}

#[test]
fn client_side_options() {
    let built = |text: &str| {
        let words = words::split(text).unwrap();
        build(&flags::parse(&words).unwrap(), &host()).unwrap()
    };
    assert_eq!(built("busybox").pull, None);
    assert_eq!(built("busybox").platform, None);
    assert_eq!(
        built("--pull always busybox").pull,
        Some(PullPolicy::Always)
    );
    assert_eq!(built("--pull=never busybox").pull, Some(PullPolicy::Never));
    assert_eq!(
        built("--pull missing busybox").pull,
        Some(PullPolicy::Missing)
    );
    assert_eq!(
        built("--platform linux/arm64 busybox").platform.as_deref(),
        Some("linux/arm64")
    );
}

// Exempt from the length limit: a data table of bad values and the error each gets, one row
// each.
#[allow(clippy::too_many_lines)]
#[test]
fn value_errors_name_flag_and_value() {
    let cases: &[(&str, &str)] = &[
        (
            "-p 80/icmp busybox",
            "\"80/icmp\" for \"--publish\" flag: invalid proto",
        ),
        (
            "-p x:80 busybox",
            "for \"--publish\" flag: invalid hostPort",
        ),
        (
            "-m 12q busybox",
            "\"12q\" for \"--memory\" flag: invalid size",
        ),
        ("-m -1 busybox", "for \"--memory\" flag"),
        ("--shm-size x busybox", "for \"--shm-size\" flag"),
        (
            "--restart sometimes busybox",
            "\"sometimes\" for \"--restart\" flag: unknown policy",
        ),
        ("--restart always:3 busybox", "for \"--restart\" flag"),
        ("--restart always --rm busybox", "--restart and --rm"),
        (
            "--health-interval 10 busybox",
            "\"10\" for \"--health-interval\" flag: invalid duration",
        ),
        (
            "--health-timeout -1s busybox",
            "--health-timeout cannot be negative",
        ),
        (
            "--health-retries -1 busybox",
            "--health-retries cannot be negative",
        ),
        (
            "--health-retries x busybox",
            "for \"--health-retries\" flag",
        ),
        (
            "--no-healthcheck --health-cmd true busybox",
            "--no-healthcheck conflicts",
        ),
        ("--cpus 0.0000000001 busybox", "too precise"),
        ("--link a:b:c busybox", "bad format for links"),
        ("--link= busybox", "empty string specified for links"),
        ("--gpus 1,1 busybox", "can be specified only once"),
        ("--gpus many busybox", "invalid count (many)"),
        ("--gpus foo=1 busybox", "unexpected key 'foo'"),
        ("--gpus= busybox", "for \"--gpus\" flag"),
        ("--blkio-weight -1 busybox", "for \"--blkio-weight\" flag"),
        ("--blkio-weight 70000 busybox", "out of range"),
        ("--blkio-weight-device /dev/sda:5 busybox", "invalid weight"),
        (
            "--blkio-weight-device sda:500 busybox",
            "bad format for device path",
        ),
        ("--device-read-bps /dev/sda busybox", "bad format"),
        ("--device-read-bps /dev/sda:-1 busybox", "invalid rate"),
        ("--device-write-iops /dev/sda:1k busybox", "invalid rate"),
        (
            "--cpu-rt-period 1.5 busybox",
            "for \"--cpu-rt-period\" flag",
        ),
        ("--kernel-memory 1q busybox", "for \"--kernel-memory\" flag"),
        ("-c 08 busybox", "\"08\" for \"--cpu-shares\" flag"),
        ("--pids-limit 1.5 busybox", "for \"--pids-limit\" flag"),
        ("--oom-score-adj 1001 busybox", "between -1000 and 1000"),
        ("--memory-swappiness 101 busybox", "0-100"),
        ("--stop-timeout 1s busybox", "for \"--stop-timeout\" flag"),
        ("--ulimit as=1 busybox", "invalid ulimit type"),
        ("--sysctl vm.swappiness=1 busybox", "is not allowed"),
        ("--sysctl net.x busybox", "is not allowed"),
        (
            "-e =x busybox",
            "for \"--env\" flag: invalid environment variable",
        ),
        (
            "--env-file /missing busybox",
            "\"/missing\" for \"--env-file\" flag: cannot read",
        ),
        ("--env-file rel.env busybox", "absolute path"),
        (
            "--env-file /bad-env busybox",
            "line 1: variable \"E 2\" contains whitespace",
        ),
        ("--env-file /empty-key busybox", "line 1: no variable name"),
        ("--label-file /missing busybox", "for \"--label-file\" flag"),
        ("-l =x busybox", "empty name"),
        ("-l 'a b=c' busybox", "whitespace"),
        ("-v ./rel:/x busybox", "relative"),
        ("-v ~/x:/x busybox", "relative"),
        ("-v /a:rel busybox", "must be an absolute path"),
        ("-v /a:/b:ro:x busybox", "too many colons"),
        ("-v :/b busybox", "empty section"),
        ("-v x:/b busybox", "not a valid volume name"),
        ("--mount type=bind,src=./x,dst=/x busybox", "relative"),
        ("--mount type=bind,dst=/x busybox", "absolute source"),
        (
            "--mount type=bind,src=srv,dst=/x busybox",
            "absolute source",
        ),
        (
            "--mount type=bind,src=/a,dst=/x,bind-recursive=writable busybox",
            "'bind-recursive=writable' requires 'readonly'",
        ),
        ("--mount src=v busybox", "target is required"),
        (
            "--mount type=volume,dst=/x,bind-propagation=rslave busybox",
            "cannot mix 'bind-*'",
        ),
        (
            "--mount type=bind,src=/a,dst=/x,tmpfs-size=1m busybox",
            "cannot mix 'tmpfs-*'",
        ),
        (
            "--mount type=tmpfs,dst=/x,tmpfs-mode=9 busybox",
            "invalid value for tmpfs-mode",
        ),
        (
            "--mount type=tmpfs,dst=/x,bogus=1 busybox",
            "unexpected key 'bogus'",
        ),
        ("--mount 'dst=/x, ro' busybox", "no spaces"),
        ("--mount dst=/x,bind-nonrecursive busybox", "deprecated"),
        (
            "--mount dst=/x,bind-nonrecursive=true busybox",
            "deprecated",
        ),
        (
            "--mount dst=/x,ro=maybe busybox",
            "invalid value for ro: maybe",
        ),
        (
            "--mount type=bind,src=/a,dst=/x,bind-recursive=readonly busybox",
            "requires 'readonly'",
        ),
        ("--tmpfs tmp busybox", "absolute path"),
        (
            "--network-alias x busybox",
            "only supported for user-defined networks",
        ),
        (
            "--network host --network-alias x busybox",
            "only supported for user-defined networks",
        ),
        (
            "--network mynet --network host busybox",
            "cannot attach both",
        ),
        (
            "--network a --network a busybox",
            "specified multiple times",
        ),
        (
            "--network name=a,alias=x --network-alias y busybox",
            "cannot specify both --network-alias",
        ),
        (
            "--network name=a,link-local-ip=fe80::1 --link-local-ip fe80::2 busybox",
            "cannot specify both --link-local-ip",
        ),
        (
            "--network alias=x,ip=1 busybox",
            "network name not specified",
        ),
        ("--network name=a,foo=b busybox", "invalid field key foo"),
        ("--mac-address 02:42 busybox", "not a valid mac address"),
        ("--ip 1.2.3 busybox", "for \"--ip\" flag"),
        ("--ip6 x busybox", "for \"--ip6\" flag"),
        ("--dns nope busybox", "for \"--dns\" flag"),
        ("--dns-search -bad- busybox", "for \"--dns-search\" flag"),
        ("--add-host nocolon busybox", "bad format for add-host"),
        ("--add-host :1.2.3.4 busybox", "bad format for add-host"),
        (
            "--add-host a:b:c:d busybox",
            "invalid IP address in add-host",
        ),
        (
            "--add-host a:notanip busybox",
            "invalid IP address in add-host",
        ),
        ("--expose 80:80 busybox", "invalid port format for --expose"),
        ("--expose x busybox", "for \"--expose\" flag"),
        ("--device /a:rel busybox", "for \"--device\" flag"),
        (
            "--device-cgroup-rule 'x 1:3 r' busybox",
            "for \"--device-cgroup-rule\" flag",
        ),
        ("--security-opt bogus busybox", "Invalid --security-opt"),
        ("--security-opt seccomp=/not-json busybox", "not JSON"),
        ("--security-opt seccomp=rel.json busybox", "absolute path"),
        (
            "--security-opt systempaths=x busybox",
            "Invalid --security-opt",
        ),
        ("--pid bogus busybox", "invalid PID mode"),
        ("--pid container: busybox", "invalid PID mode"),
        ("--ipc bogus busybox", "invalid IPC mode"),
        ("--uts private busybox", "invalid UTS mode"),
        ("--userns private busybox", "invalid USER mode"),
        ("--cgroupns bogus busybox", "invalid CGROUP mode"),
        ("--pull sometimes busybox", "for \"--pull\" flag"),
        ("--log-driver none --log-opt a=b busybox", "driver none"),
        ("-w rel busybox", "absolute path"),
        ("--storage-opt size busybox", "invalid storage option"),
        ("Busybox", "must be lowercase"),
        ("'' ls", "invalid image reference"),
    ];
    for (text, want) in cases {
        let err = body(text).unwrap_err();
        assert!(err.contains(want), "{text}: {err}");
    }
}
