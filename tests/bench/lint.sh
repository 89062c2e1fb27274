#!/bin/bash
# Benchmark: `lint` over a generated fleet zone, as a DNS repository's CI would run it.
#
#   tests/bench/lint.sh           (builds the release binary; needs no root, DNS or Docker)
#
# Writes a zone file of LINT_HOSTS hosts (default 10000) under LINT_DCS data centres of
# example.com, each host with its own list of LINT_CONTAINERS containers (default 5) and a
# record for each at its own level, plus a fleet-wide list and record at example.com merged in
# with --inherit. Then times LINT_RUNS runs (default 3) of `lint` on it, text and JSON, and
# prints the median wall time and peak RSS. The zone is clean: the run must exit 0.
# Environment: LINT_HOSTS, LINT_CONTAINERS, LINT_DCS (10), LINT_RUNS, BENCH_BIN (default:
# build the release binary), LINT_KEEP=1 keeps the generated zone.
set -euo pipefail
cd "$(dirname "$0")/../.."

hosts=${LINT_HOSTS:-10000}
per=${LINT_CONTAINERS:-5}
dcs=${LINT_DCS:-10}
runs=${LINT_RUNS:-3}

if [ -z "${BENCH_BIN:-}" ]; then
    cargo build --release --locked -q
    bin=$PWD/target/x86_64-unknown-linux-gnu/release/docker-dns-provision
else
    bin=$BENCH_BIN
fi
[ -x /usr/bin/time ] || { echo "lint bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d /tmp/ddp-lint-bench.XXXXXX)
[ "${LINT_KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
zone=$work/fleet.zone

# One host: its list (one string naming every container) and one record per container.
awk -v hosts="$hosts" -v per="$per" -v dcs="$dcs" 'BEGIN {
    print "$ORIGIN example.com."
    print "$TTL 300"
    print "@ IN SOA ns hostmaster 1 3600 600 86400 300"
    print "@ IN NS ns"
    print "containers.docker IN TXT \"node-exporter\""
    print "node-exporter.containers.docker IN TXT \"--net=host prom/node-exporter:v1.8.2\""
    for (h = 1; h <= hosts; h++) {
        host = sprintf("web%d.dc%d", h, h % dcs)
        names = ""
        for (c = 1; c <= per; c++) names = names sprintf("%sapp%d", c > 1 ? " " : "", c)
        printf "containers.docker.%s IN TXT \"%s\"\n", host, names
        for (c = 1; c <= per; c++)
            printf "app%d.containers.docker.%s IN TXT \"--restart=always -e HOST=%s -p %d:80 -v /srv/app%d:/data registry.example.com/app%d:1.%d --port 80\"\n", c, host, host, 8000 + c, c, c, h % 7
    }
}' >"$zone"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

lines=$(wc -l <"$zone")
bytes=$(stat -c %s "$zone")
printf 'lint bench: %d hosts x %d containers (+1 fleet-wide): %d lines, %d bytes\n' \
    "$hosts" "$per" "$lines" "$bytes"
for output in text json; do
    secs=() rss=()
    for _ in $(seq "$runs"); do
        status=0
        /usr/bin/time -f '%e %M' -o "$work/time" \
            "$bin" lint --records "$zone" --inherit --top-domain example.com \
            --output "$output" --log-level warn >"$work/out" || status=$?
        if [ "$status" != 0 ]; then
            echo "lint bench: lint exited $status on a clean zone:" >&2
            head -20 "$work/out" >&2
            exit 1
        fi
        read -r s m <"$work/time"
        secs+=("$s") rss+=("$m")
    done
    printf '  --output %-4s  median %s s of %d runs, peak RSS %s MB, %s bytes of output\n' \
        "$output" "$(printf '%s\n' "${secs[@]}" | median)" "$runs" \
        "$(( $(printf '%s\n' "${rss[@]}" | median) / 1024 ))" "$(stat -c %s "$work/out")"
done
