#!/bin/bash
# Build the local image the boot tests run systemd from (no registry: nothing is pulled):
#   ddp-test/systemd-root:<hash>   Debian bookworm made by mmdebstrap with systemd as init,
#                                  D-Bus and cron; its CMD is /lib/systemd/systemd.
# <hash> covers this script (the recipe) and the suite and package list, so a change to either
# makes a new image and an unchanged recipe is never rebuilt (the mirror's newer point
# releases do not count: the image is a test fixture, not a product). Prints the tag.
# Also installs what the package check needs on the host: mmdebstrap, lintian.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

repo=ddp-test/systemd-root
suite=bookworm
mirror=${DDP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=systemd,systemd-sysv,dbus,cron

apt_install mmdebstrap lintian
mkdir -p /run/lock
exec 9>/run/lock/ddp-kit-systemd-root.lock
flock 9

hash=$( { sha256sum <"$0"; echo "$suite $packages"; } | sha256sum | cut -c1-16)
tag=$repo:$hash
if [ "$(docker image inspect -f '{{index .Config.Labels "ddp-test.content"}}' "$tag" 2>/dev/null || true)" = "$hash" ]; then
    echo "$tag"
    exit 0
fi

tar=$(mktemp /tmp/ddp-systemd-root.XXXXXX.tar)
trap 'rm -f "$tar"' EXIT
log=$(mktemp /tmp/ddp-systemd-root.XXXXXX.log)
if ! mmdebstrap --variant=apt --include="$packages" "$suite" "$tar" "$mirror" >"$log" 2>&1; then
    echo "kit: mmdebstrap $suite failed:" >&2
    cat "$log" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"
# The test stops it with docker rm -f (no clean shutdown needed). container=docker tells systemd it runs in a container (no udev, no hardware units).
docker import -c 'ENV container=docker' -c 'CMD ["/lib/systemd/systemd"]' \
    -c "LABEL ddp-test.content=$hash" "$tar" "$tag" >/dev/null
# Earlier recipes' images only take space.
docker image ls --format '{{.Repository}}:{{.Tag}}' "$repo" | grep -vx "$tag" | xargs -r docker rmi >/dev/null 2>&1 || true
echo "$tag"
