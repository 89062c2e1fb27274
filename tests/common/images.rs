//! The local test image. Nothing is pulled for it, so `ddp-test/busybox:latest` is built from
//! Debian's busybox-static by `docker import`, by the kit script when the tree has it, else by
//! the same recipe here. Idempotent and safe in parallel: one build per process (a `OnceLock`)
//! and across processes the kit's own lock file.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The test image every container test runs (`sleep 3600` by default).
pub const BUSYBOX: &str = "ddp-test/busybox:latest";

/// Make sure [`BUSYBOX`] exists locally; returns its name.
pub fn ensure_busybox() -> String {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        if present(BUSYBOX) {
            return;
        }
        let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kit/images.sh");
        let status = if kit.exists() {
            Command::new("bash").arg(&kit).status()
        } else {
            Command::new("bash")
                .arg("-c")
                .arg(RECIPE)
                .arg("images.rs")
                .arg(BUSYBOX)
                .status()
        }
        .expect("run bash");
        assert!(status.success(), "building {BUSYBOX} failed");
        assert!(present(BUSYBOX), "{BUSYBOX} still missing after the build");
    });
    BUSYBOX.to_string()
}

/// Whether the engine has `image` (the docker CLI is fine in tests, never in src/).
fn present(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Build `$1` from busybox-static, under the kit's image lock, unless someone else just did.
const RECIPE: &str = r#"
set -euo pipefail
image=$1
mkdir -p /run/lock
exec 9>/run/lock/ddp-kit-images.lock
flock 9
docker image inspect "$image" >/dev/null 2>&1 && exit 0
if [ ! -x /bin/busybox ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q busybox-static >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q busybox-static >/dev/null; }
fi
root=$(mktemp -d /tmp/ddp-test-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in sh sleep true echo cat; do ln -s busybox "$root/bin/$applet"; done
tar --numeric-owner --owner=0 --group=0 -C "$root" -c . \
    | docker import -c 'ENV PATH=/bin' -c 'CMD ["sleep","3600"]' - "$image" >/dev/null
"#;
