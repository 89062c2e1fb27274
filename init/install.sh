#!/bin/sh
# Install docker-dns-provision and its init files.
#
#   init/install.sh [--cron | --podman] [BINARY]
#
# BINARY defaults to the static release build. Installs the systemd units with the drop-ins
# that name their engine (docker.service; with --podman, podman.socket and its socket as
# DOCKER_HOST), or, with --cron, the cron.d file for hosts without systemd, and /etc/default/docker-dns-provision (never
# over an existing one: it holds the site's options), then prints how to enable the units;
# it enables nothing itself. Packaging: DESTDIR stages into a root, PREFIX (default /usr/local) moves the
# binary (the init files are rewritten to match), UNITDIR (default /etc/systemd/system).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cron=no
engine=docker
case "${1:-}" in
--cron) cron=yes; shift ;;
--podman) engine=podman; shift ;;
esac
bin=${1:-$here/../target/x86_64-unknown-linux-gnu/release/docker-dns-provision}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
UNITDIR=${UNITDIR:-/etc/systemd/system}
target=$PREFIX/bin/docker-dns-provision

if [ ! -x "$bin" ]; then
    echo "install.sh: $bin is not an executable; build it first (cargo build --release)" >&2
    exit 1
fi

# copy SRC DEST: install a text file with the binary's path rewritten for PREFIX.
copy() {
    mkdir -p "$(dirname "$DESTDIR$2")"
    sed "s|/usr/local/bin/docker-dns-provision|$target|g" "$1" >"$DESTDIR$2.tmp"
    chmod 0644 "$DESTDIR$2.tmp"
    mv "$DESTDIR$2.tmp" "$DESTDIR$2"
}

mkdir -p "$DESTDIR$PREFIX/bin"
cp "$bin" "$DESTDIR$target.tmp"
chmod 0755 "$DESTDIR$target.tmp"
mv "$DESTDIR$target.tmp" "$DESTDIR$target"

if [ ! -e "$DESTDIR/etc/default/docker-dns-provision" ]; then
    copy "$here/default/docker-dns-provision" /etc/default/docker-dns-provision
fi

if [ "$cron" = yes ]; then
    copy "$here/cron.d/docker-dns-provision" /etc/cron.d/docker-dns-provision
    echo "Installed $target and /etc/cron.d/docker-dns-provision (cron runs it at boot and every 5 minutes)."
    exit 0
fi

for unit in docker-dns-provision.service docker-dns-provision-resync.service \
    docker-dns-provision-resync.timer; do
    copy "$here/systemd/$unit" "$UNITDIR/$unit"
done
# The engine each service needs: a drop-in, so that a Podman host replaces one file.
engine_dir=$here/systemd
[ "$engine" = podman ] && engine_dir=$here/systemd/podman
for unit in docker-dns-provision.service docker-dns-provision-resync.service; do
    copy "$engine_dir/$unit.d/10-engine.conf" "$UNITDIR/$unit.d/10-engine.conf"
done
# Reload only a live system: a staged DESTDIR is not what the running systemd reads.
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi
cat <<MSG
Installed $target and the units in $UNITDIR (engine: $engine). To provision at boot and every 5 minutes:
  systemctl enable docker-dns-provision.service docker-dns-provision-resync.timer
To hold back a service until provisioning succeeded, see the example drop-in
  $here/systemd/mesos-agent.service.d/10-docker-dns-provision.conf
MSG
