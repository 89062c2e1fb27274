#!/bin/bash
# Make sure the dnsmasq binary exists. dnsmasq-base has no service to start: the tests run
# their own instances on free loopback ports with their own configuration.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || apt_install dnsmasq-base
[ -x /usr/sbin/dnsmasq ] || { echo "kit: /usr/sbin/dnsmasq missing after installing dnsmasq-base" >&2; exit 1; }
