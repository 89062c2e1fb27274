#!/bin/bash
# Make sure a Docker engine answers on $DOCKER_HOST (unix://) or /var/run/docker.sock and that
# the docker CLI exists. When none answers, install Debian's docker.io and start dockerd by hand
# (test containers have no systemd to start it), with its own data root, in its own network
# namespace, without bridge or iptables, so it leaves any other engine on the host as it was.
# Silent when an engine already answers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

case "${DOCKER_HOST:-}" in
    "") sock=/var/run/docker.sock ;;
    unix://*) sock=${DOCKER_HOST#unix://} ;;
    *) echo "kit: DOCKER_HOST=$DOCKER_HOST is not a unix socket; the kit only manages local engines" >&2
       exit 1 ;;
esac

answers() {
    [ -S "$sock" ] && curl -fsS --max-time 5 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1
}

command -v curl >/dev/null || apt_install curl ca-certificates

if answers; then
    command -v docker >/dev/null || apt_install docker.io
    exit 0
fi

# Own data and exec roots, named after the socket: never collide with an engine managed by
# something else, and let a second private engine (the benchmark's) run beside the first.
tag=ddp-test-$(basename "$sock" .sock)
data_root=/var/lib/$tag
exec_root=/run/$tag
log=/var/log/$tag.log
pidfile=/run/$tag.pid
mkdir -p /run/lock
exec 9>"/run/lock/$tag.lock"
flock 9
# Another kit run may have started it while we waited for the lock.
answers && exit 0

if ! command -v dockerd >/dev/null; then
    # Keep the package's maintainer scripts from trying to start a service: there is no init.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt_install docker.io
fi

if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "kit: dockerd (pid $(cat "$pidfile")) runs but $sock does not answer; see $log" >&2
    exit 1
fi
rm -f "$pidfile"
mkdir -p "$data_root" "$exec_root" "$(dirname "$sock")"
# An empty config of our own: /etc/docker/daemon.json may set data-root or hosts, which dockerd
# refuses to see twice; the storage driver is left to dockerd's own probing.
echo '{}' >"$exec_root.json"
echo "kit: no Docker engine answers on $sock; starting dockerd (log: $log)" >&2
# A network namespace of its own: a second dockerd with --bridge=none in the host's namespace
# deletes the host engine's docker0 bridge, and every container on the default network of
# that engine then fails to start. The socket is a file, so the host reaches it all the same.
# nsenter, not `ip netns exec`: that one remounts /sys and hides the cgroup mounts dockerd needs.
apt_install iproute2
netns=$tag
ip netns list | grep -qx "$netns\( .*\)\?" || ip netns add "$netns"
nsenter --net="/run/netns/$netns" ip link set lo up
# 9>&-: the daemon must not inherit (and hold forever) the kit's lock.
setsid nsenter --net="/run/netns/$netns" dockerd --host "unix://$sock" --data-root "$data_root" \
    --exec-root "$exec_root" --config-file "$exec_root.json" --pidfile "$pidfile" \
    --bridge=none --iptables=false >>"$log" 2>&1 </dev/null 9>&- &

for _ in $(seq 1 60); do
    answers && exit 0
    if ! kill -0 $! 2>/dev/null; then
        echo "kit: dockerd exited; last lines of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    sleep 1
done
echo "kit: dockerd did not answer on $sock within 60 s; last lines of $log:" >&2
tail -n 30 "$log" >&2
exit 1
