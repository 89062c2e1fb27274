#!/bin/bash
# Make sure Debian's distribution registry (docker-registry, API v2) and htpasswd
# (apache2-utils) exist. Nothing is left running: the tests start their own registries on free
# loopback ports with their own configuration and stop them (tests/common/registry.rs). The
# package's own service (port 5000) is kept from starting when we install it, and stopped if
# an init system started it anyway.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if ! dpkg-query -W -f='${Status}' docker-registry 2>/dev/null | grep -q 'install ok installed'; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt_install docker-registry
    # A systemd host may have enabled and started the service regardless of policy-rc.d.
    if [ -d /run/systemd/system ]; then
        systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
    fi
fi
apt_install apache2-utils
[ -x /usr/bin/docker-registry ] || { echo "kit: /usr/bin/docker-registry missing after installing docker-registry" >&2; exit 1; }
command -v htpasswd >/dev/null || { echo "kit: htpasswd missing after installing apache2-utils" >&2; exit 1; }
