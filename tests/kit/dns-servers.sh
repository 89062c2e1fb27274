#!/bin/bash
# Real DNS servers for the classification tests: BIND (authoritative-only, and dnssec-keygen /
# dnssec-signzone to sign a zone) and unbound (recursive, validating). The tests run their own
# instances on loopback ports with their own configuration; the packages' services must not
# start (there may be no init, and port 53 is not theirs to take).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

need=()
[ -x /usr/sbin/named ] || need+=(bind9)
command -v dnssec-signzone >/dev/null || need+=(bind9-utils)
[ -x /usr/sbin/unbound ] || need+=(unbound)
[ "${#need[@]}" -eq 0 ] && exit 0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt_install "${need[@]}"
# Installed for the tests only: do not leave them to start at the next boot.
if command -v systemctl >/dev/null; then
    systemctl disable named.service unbound.service >/dev/null 2>&1 || true
fi
