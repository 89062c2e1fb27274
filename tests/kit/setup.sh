#!/bin/bash
# Everything the test suite needs on a Debian host, run as root: build and inspection tools
# (the man pages' too), a Docker engine, the local test images, dnsmasq, BIND and unbound,
# the registry, and the systemd root the boot tests boot (with mmdebstrap and lintian).
# Idempotent and silent when all is there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# gcc: the linker rustc drives; libc6-dev: static glibc archives for +crt-static;
# file: the static-link check; systemd: systemd-analyze for the unit-file tests;
# time: peak RSS in the benchmark; scdoc and man-db: the package build makes the man pages and
# tests/man_pages.rs renders them with man.
apt_install curl ca-certificates gcc libc6-dev file systemd time scdoc man-db
"$here/docker.sh"
"$here/images.sh"
"$here/dnsmasq.sh"
"$here/dns-servers.sh"
"$here/registry.sh"
"$here/podman.sh"
"$here/systemd-root.sh" >/dev/null
