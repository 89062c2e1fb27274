#!/bin/bash
# Benchmark: DNS round trips of one run. N container records at the host's level are served
# by a dnsmasq on loopback behind a proxy that delays every reply by DELAY (tests/bench/
# udp_delay.py); `show` (DNS only, no engine) is timed, and its time divided by DELAY is the
# number of round trips: the floor is 2 (the list, then every record at once), plus one per
# level walked. Also prints peak RSS. The last row is `--inherit` over L=2 levels
# (h.bench.test and bench.test): half the list and every record one level up; its floor is
# L + 2 at most.
#
#   tests/bench/dns_rounds.sh        (after tests/kit/setup.sh; builds the release binary)
# Environment: ROUNDS_SIZES ("1 50 300"), ROUNDS_DELAY (0.05), ROUNDS_RUNS (3).
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=${ROUNDS_SIZES:-1 50 300}
delay=${ROUNDS_DELAY:-0.05}
runs=${ROUNDS_RUNS:-3}
cargo build --release --locked -q
bin=$PWD/target/x86_64-unknown-linux-gnu/release/docker-dns-provision
command -v python3 >/dev/null || { . tests/kit/lib.sh; apt_install python3; }
work=$(mktemp -d /tmp/ddp-rounds.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

printf '%6s %10s %12s %10s\n' N seconds round-trips peak-RSS
runs_of() { # runs_of N FLAGS...: best of $runs runs of show against the delayed server
    local n=$1 best= out
    shift
    for _ in $(seq 1 "$runs"); do
        out=$( { /usr/bin/time -f '%e %M' "$bin" show --hostname h.bench.test \
            --nameserver "127.0.0.1:$front" --timeout 60s --log-level error --output json "$@" \
            >/dev/null; } 2>&1 | tail -n 1)
        if [ -z "$best" ] || awk -v a="${out% *}" -v b="${best% *}" 'BEGIN { exit !(a < b) }'; then
            best=$out
        fi
    done
    secs=${best% *}
    rss=${best#* }
    printf '%6s %10s %12s %8s KB\n' "$n" "$secs" "$(awk -v s="$secs" -v d="$delay" 'BEGIN { printf "%.1f", s / d }')" "$rss"
}
serve() { # serve CONF: dnsmasq for CONF behind the delay proxy on $front
    up=$(free_port)
    /usr/sbin/dnsmasq --keep-in-foreground --no-daemon --conf-file="$1" --no-resolv --no-hosts \
        --bind-interfaces --listen-address=127.0.0.1 --port="$up" 2>/dev/null &
    pids+=($!)
    front=$(free_port)
    python3 tests/bench/udp_delay.py "$front" "$up" "$delay" &
    pids+=($!)
    sleep 1
}
# list LEVEL FIRST LAST: the list entries cFIRST..cLAST at LEVEL, 20 names a string, several
# strings: a long list goes over UDP and then TCP as a real one would.
list() {
    local i k names=()
    for i in $(seq "$2" "$3"); do names+=("c$i"); done
    for ((k = 0; k < ${#names[@]}; k += 20)); do
        echo "txt-record=containers.docker.$1,\"${names[*]:k:20}\""
    done
}
# records LEVEL N: the records of c1..cN at LEVEL.
records() {
    local i
    for i in $(seq 1 "$2"); do
        echo "txt-record=c$i.containers.docker.$1,\"ddp-test/busybox sleep $i\""
    done
}
for n in $sizes; do
    conf=$work/dnsmasq-$n.conf
    { echo "local=/bench.test/"; list h.bench.test 1 "$n"; records h.bench.test "$n"; } >"$conf"
    serve "$conf"
    runs_of "$n"
done
n=${sizes##* }
conf=$work/dnsmasq-inherit.conf
{
    echo "local=/bench.test/"
    list h.bench.test 1 $((n / 2))
    list bench.test $((n / 2 + 1)) "$n"
    records bench.test "$n"
} >"$conf"
serve "$conf"
printf '%s\n' "--inherit, L=2 (the list on both levels, every record on the upper one):"
runs_of "$n" --inherit
