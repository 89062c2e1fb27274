#!/bin/sh
# Build the Debian package from the tree:
#
#   init/deb/build.sh [BINARY [OUTDIR]]
#
# BINARY defaults to the static release build, OUTDIR to target/deb. Stages the files with
# init/install.sh (PREFIX=/usr, units in /lib/systemd/system), adds the man pages (built with
# scdoc from init/man/*.scd; tests/man_pages.rs holds docker-dns-provision(8) to --help), the
# examples, the copyright and changelog, then runs dpkg-deb. Prints the path of the .deb. The binary is static: the
# package depends on nothing; it needs a Docker engine at run time, which may come from any
# package (docker.io, docker-ce, or podman with its Docker API) or none, hence no Depends on
# one. The units name docker.service in drop-ins; a Podman host replaces them with
# examples/podman/ (docker-dns-provision(8), ENGINES).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
init=$(cd "$here/.." && pwd)
top=$(cd "$init/.." && pwd)
bin=${1:-$top/target/x86_64-unknown-linux-gnu/release/docker-dns-provision}
out=${2:-$top/target/deb}
name=docker-dns-provision
maintainer=${DEB_MAINTAINER:-docker-dns-provision developers <docker-dns-provision@example.org>}

if [ ! -x "$bin" ]; then
    echo "build.sh: $bin is not an executable; build it first (cargo build --release)" >&2
    exit 1
fi
command -v scdoc >/dev/null || {
    echo "build.sh: scdoc is missing; it builds the man pages (apt-get install scdoc)" >&2
    exit 1
}
# "docker-dns-provision 0.1.0 (commit)" -> 0.1.0: the version Cargo.toml compiled in.
version=$("$bin" --version | sed -n "s/^$name \\([0-9][0-9A-Za-z.+~-]*\\)\\( .*\\)\\{0,1\\}\$/\\1/p")
[ -n "$version" ] || { echo "build.sh: cannot read the version from $bin --version" >&2; exit 1; }
arch=$(dpkg --print-architecture)

stage=$(mktemp -d "${TMPDIR:-/tmp}/ddp-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
doc=$root/usr/share/doc/$name

DESTDIR=$root PREFIX=/usr UNITDIR=/lib/systemd/system "$init/install.sh" "$bin" >/dev/null
# Debian ships stripped binaries (dh_strip); a debug build passed in is stripped here.
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/$name"

# Examples an administrator copies into place; none is active by itself. The cron file is one
# (with the binary path of this package): cron would run it next to the systemd units.
cron=$stage/cron
DESTDIR=$cron PREFIX=/usr "$init/install.sh" --cron "$bin" >/dev/null
install -d "$doc/examples/mesos-agent.service.d"
install -m 0644 "$cron/etc/cron.d/$name" "$doc/examples/$name.cron.d"
install -m 0644 "$init/systemd/mesos-agent.service.d/10-docker-dns-provision.conf" \
    "$doc/examples/mesos-agent.service.d/"
# A Podman host puts these in /etc/systemd/system/ (they take the place of the packaged
# drop-ins of the same name, which name docker.service).
for unit in docker-dns-provision.service docker-dns-provision-resync.service; do
    install -d "$doc/examples/podman/$unit.d"
    install -m 0644 "$init/systemd/podman/$unit.d/10-engine.conf" "$doc/examples/podman/$unit.d/"
done
install -m 0644 "$init/examples/seed.zone" "$init/examples/seed.dnsmasq.conf" "$doc/examples/"

install -m 0644 "$here/copyright" "$doc/copyright"
{
    echo "$name ($version) unstable; urgency=medium"
    echo
    echo "  * Package built from the source tree; see the project's history."
    echo
    # The binary's modification time: reproducible for one build of the binary.
    echo " -- $maintainer  $(date -R -u -d "@$(stat -c %Y "$bin")")"
} | gzip -9n >"$doc/changelog.gz"

# The man pages: init/man/NAME.SECTION.scd -> man/manSECTION/NAME.SECTION.gz. Dated by the
# binary's modification time, the footer naming the version: one binary, the same pages.
epoch=$(stat -c %Y "$bin")
for scd in "$init"/man/*.scd; do
    page=$(basename "$scd" .scd)
    dir=$root/usr/share/man/man${page##*.}
    install -d "$dir"
    sed "1s/\"$name\"/\"$name $version\"/" "$scd" | SOURCE_DATE_EPOCH=$epoch scdoc >"$stage/$page"
    gzip -9n <"$stage/$page" >"$dir/$page.gz"
done

install -d "$root/usr/share/lintian/overrides"
install -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/$name"

install -d "$root/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "$here/$script" "$root/DEBIAN/$script"
done
echo /etc/default/$name >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Section: admin
Priority: optional
Description: provision a host's Docker containers from DNS TXT records
 docker-dns-provision reads the containers a host should run from DNS TXT
 records (a list of names, then a docker run line or a JSON create body per
 name) and makes the Docker engine match: it creates what is missing,
 recreates what changed, starts what stopped and removes the managed
 containers DNS no longer lists.
 .
 The package ships a statically linked binary for early boot, a oneshot
 systemd unit that provisions at boot, a timer that re-provisions every five
 minutes, and /etc/default/docker-dns-provision for the site's options. It
 enables nothing: see docker-dns-provision(8).
CONTROL

(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
    | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

# Owned by root whoever builds: dpkg-deb records the staged owners.
mkdir -p "$out"
deb=$out/${name}_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
