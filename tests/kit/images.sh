#!/bin/bash
# Build the local test images from Debian's busybox-static (no registry: nothing can be pulled):
#   ddp-test/busybox:latest (= :v1)  /VERSION is "1"
#   ddp-test/busybox:v2              /VERSION is "2" (a different image ID, for "image changed")
# Both run `sleep 3600` by default. An image is rebuilt only when its `ddp-test.content` label
# differs from the hash of what it would contain, so reruns are cheap and safe in parallel.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

repo=ddp-test/busybox
apt_install busybox-static
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "kit: $busybox missing after installing busybox-static" >&2; exit 1; }

mkdir -p /run/lock
exec 9>/run/lock/ddp-kit-images.lock
flock 9

# The recipe version below changes whenever this script changes what goes into the image.
recipe=1
base_hash=$( { echo "recipe=$recipe"; sha256sum <"$busybox"; } | sha256sum | cut -c1-16)

# build VERSION TAG...: import a rootfs whose /VERSION holds VERSION, tag it TAG...
build() {
    local version=$1; shift
    local want="$base_hash-v$version" have tag missing=0
    for tag in "$@"; do
        have=$(docker image inspect -f '{{index .Config.Labels "ddp-test.content"}}' "$repo:$tag" 2>/dev/null || true)
        [ "$have" = "$want" ] || missing=1
    done
    [ "$missing" -eq 0 ] && return 0

    local root
    root=$(mktemp -d /tmp/ddp-test-rootfs.XXXXXX)
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
    chmod 1777 "$root/tmp"
    cp "$busybox" "$root/bin/busybox"
    local applet
    for applet in $("$busybox" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    echo "$version" >"$root/VERSION"
    local id
    id=$(tar --numeric-owner --owner=0 --group=0 -C "$root" -c . \
        | docker import -c 'ENV PATH=/bin' -c 'CMD ["sleep","3600"]' \
            -c "LABEL ddp-test.content=$want" - 2>&1) \
        || { rm -rf "$root"; echo "kit: docker import failed: $id" >&2; exit 1; }
    rm -rf "$root"
    for tag in "$@"; do
        docker tag "$id" "$repo:$tag"
    done
}

build 1 latest v1
build 2 v2
