#!/bin/bash
# Debian's podman (4.3 on bookworm) for tests/podman.rs, which starts its own Docker-compatible
# service on a private socket with private storage (tests/common/podman.rs). Nothing is left
# running: the package's own podman.socket/podman.service are kept from starting when it is
# installed, and stopped if an init system started them anyway, so the host's engines and
# networks stay as they are.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if ! dpkg-query -W -f='${Status}' podman 2>/dev/null | grep -q 'install ok installed'; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt_install podman
    if [ -d /run/systemd/system ]; then
        systemctl disable --now podman.socket podman.service >/dev/null 2>&1 || true
    fi
fi
command -v podman >/dev/null || { echo "kit: podman missing after installing podman" >&2; exit 1; }
