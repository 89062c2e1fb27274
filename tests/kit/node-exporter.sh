#!/bin/bash
# Make sure Debian's prometheus-node-exporter exists, for the metrics file's test
# (tests/fleet.rs). Nothing is left running: the test starts its own instance on a free
# loopback port with only the textfile collector. The package's own service (port 9100) is
# kept from starting when we install it, and stopped if an init system started it anyway.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if ! dpkg-query -W -f='${Status}' prometheus-node-exporter 2>/dev/null | grep -q 'install ok installed'; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt_install prometheus-node-exporter
    if [ -d /run/systemd/system ]; then
        systemctl disable --now prometheus-node-exporter.service >/dev/null 2>&1 || true
    fi
fi
[ -x /usr/bin/prometheus-node-exporter ] || { echo "kit: /usr/bin/prometheus-node-exporter missing after installing prometheus-node-exporter" >&2; exit 1; }
