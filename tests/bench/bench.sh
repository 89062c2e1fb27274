#!/bin/bash
# Benchmark: docker-dns-provision against docker-compose converging the same N containers.
#
#   tests/bench/bench.sh          (as root, after tests/kit/setup.sh; builds the release binary)
#
# For each N it serves N container records from a dnsmasq on loopback and writes the
# equivalent compose file, then times (median of BENCH_RUNS runs) a cold converge (no
# containers), a no-op resync and one changed record, for both tools, and a no-op that pulls
# (`--pull always` against `compose pull && compose up -d`, the image in a registry of its own
# on loopback: Debian's docker-registry, from tests/kit/registry.sh). It also reports the
# Engine API calls of a no-op (from the tool's closing log line), the DNS phase
# (`show`) at the smallest and largest N, peak RSS, the threads a no-op and a cold converge
# start, the no-op's floor measured in the same run (curl of `_ping` and the list, one `dig`
# round), DNS round trips under an injected delay (tests/bench/dns_rounds.sh) and the
# static binary's size.
#
# It runs on a private engine (BENCH_DOCKER_HOST, default unix:///run/ddp-bench.sock, started
# by tests/kit/docker.sh and stopped again if this script started it), because `apply` removes
# every container carrying the ownership label that its records do not list, tests' included.
# Environment: BENCH_SIZES ("1 10 50 200"), BENCH_RUNS (3), BENCH_TIMEOUT (the tool's
# --timeout, 30s), BENCH_CMD_TIMEOUT (seconds any one measured command may take, 600),
# BENCH_BIN (default: build the release binary), BENCH_SETTLE (the tool's --settle, default
# the tool's own; run once with 0s and once without to see what verification adds),
# BENCH_COMPOSE=no and BENCH_ALWAYS=no (skip docker-compose, skip the `--pull always` part).
set -euo pipefail
cd "$(dirname "$0")/../.."

sizes=${BENCH_SIZES:-1 10 50 200}
runs=${BENCH_RUNS:-3}
timeout=${BENCH_TIMEOUT:-30s}
export DOCKER_HOST=${BENCH_DOCKER_HOST:-unix:///run/ddp-bench.sock}
image=ddp-test/busybox:latest
host=benchhost
prefix=containers.docker
ddp_names=ddpb     # containers ddpb-1..N, created by the tool
compose_names=ddpbc  # containers ddpbc-1..N, created by compose (project ddpbc)

if [ -z "${BENCH_BIN:-}" ]; then
    cargo build --release --locked -q
    bin=$PWD/target/x86_64-unknown-linux-gnu/release/docker-dns-provision
else
    bin=$BENCH_BIN
fi
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing: run tests/kit/setup.sh" >&2; exit 1; }
# dig for the DNS floor, strace to count the threads a run starts.
. tests/kit/lib.sh
apt_install bind9-dnsutils strace
# docker-compose v1 deadlocks (observed here at N=200, 60 containers in) when its thread pool
# limit (default 64) is below the nested tasks of an up: docker/compose#7486, #8161.
export COMPOSE_PARALLEL_LIMIT=${COMPOSE_PARALLEL_LIMIT:-1000}
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null; then
    compose=(docker-compose)
else
    echo "bench: neither 'docker compose' nor docker-compose is installed" >&2
    exit 1
fi

sock=${DOCKER_HOST#unix://}
engine_was_up=no
curl -fsS --max-time 5 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1 && engine_was_up=yes
tests/kit/docker.sh 2>/dev/null
tests/kit/images.sh
tests/kit/dnsmasq.sh

work=$(mktemp -d /tmp/ddp-bench.XXXXXX)
dns_pid=
port=
reg_pid=
reg_image=

# In batches: one `docker rm -f` of 200 containers at once once left the 20.10 engine hung.
remove_all() { # remove_all NAME_PREFIX: only containers named exactly PREFIX-<number>
    docker ps -a --format '{{.ID}} {{.Names}}' \
        | awk -v re="^$1-[0-9]+\$" '$2 ~ re { print $1 }' \
        | xargs -r -n 20 docker rm -f >/dev/null
}

cleanup() {
    # `|| true`: under set -e, a killed child's status from wait would end the cleanup here.
    [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null || true
    remove_all "$ddp_names" || true
    remove_all "$compose_names" || true
    [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null || true
    [ -n "$reg_image" ] && docker image rm "$reg_image" >/dev/null 2>&1 || true
    if [ "$engine_was_up" = no ]; then
        pidfile=/run/ddp-test-$(basename "$sock" .sock).pid
        if [ -s "$pidfile" ]; then
            pid=$(cat "$pidfile")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        fi
        # The network namespace the kit made for it, once nothing is left in it.
        kill -0 "${pid:-0}" 2>/dev/null || ip netns del "ddp-test-$(basename "$sock" .sock)" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The containers' command: busybox sleep as PID 1 ignores SIGTERM, so every stop would wait
# the daemon's 10 s grace and swamp what we measure; this one exits on SIGTERM.
command_for() { # command_for SECONDS
    echo "sh -c 'trap exit TERM; sleep $1 & wait'"
}

generate() { # generate N SECONDS_OF_CONTAINER_1: records and compose file for N containers
    local n=$1 first=$2 i secs
    {
        for i in $(seq 1 "$n"); do
            echo "txt-record=$prefix.$host,$ddp_names-$i"
        done
        for i in $(seq 1 "$n"); do
            secs=3600
            [ "$i" -eq 1 ] && secs=$first
            echo "txt-record=$ddp_names-$i.$prefix.$host,\"--network none $image $(command_for "$secs")\""
        done
    } >"$work/records.conf"
    {
        echo 'version: "2.4"'
        echo 'services:'
        for i in $(seq 1 "$n"); do
            secs=3600
            [ "$i" -eq 1 ] && secs=$first
            echo "  c$i:"
            echo "    image: $image"
            echo "    container_name: $compose_names-$i"
            echo "    network_mode: none"
            echo "    command: [\"sh\", \"-c\", \"trap exit TERM; sleep $secs & wait\"]"
        done
    } >"$work/compose.yml"
}

dns_start() { # (re)start dnsmasq on a free loopback port with the current records
    local try
    if [ -n "$dns_pid" ]; then
        kill "$dns_pid" 2>/dev/null || true
        wait "$dns_pid" 2>/dev/null || true
        dns_pid=
    fi
    for try in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 40000))
        : >"$work/dnsmasq.log"
        dnsmasq --keep-in-foreground --conf-file="$work/records.conf" --port="$port" \
            --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
            --local="/$host/" --pid-file= --log-facility=- 2>>"$work/dnsmasq.log" &
        dns_pid=$!
        for _ in $(seq 1 50); do
            grep -q 'started' "$work/dnsmasq.log" && return 0
            kill -0 "$dns_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$dns_pid" 2>/dev/null || true
        wait "$dns_pid" 2>/dev/null || true
        dns_pid=
    done
    echo "bench: dnsmasq did not start:" >&2
    cat "$work/dnsmasq.log" >&2
    exit 1
}

# ddp_cmd SUBCOMMAND [ARGS]: set cmd to the tool against the bench records and engine (an
# array, not a function: /usr/bin/time runs programs).
ddp_cmd() {
    local sub=$1
    shift
    cmd=("$bin" "$sub" --hostname "$host" --prefix "$prefix" --nameserver "127.0.0.1:$port"
        --timeout "$timeout" --docker-host "$DOCKER_HOST" "$@")
}
apply_cmd() { ddp_cmd apply --lock-file "$work/lock" ${BENCH_SETTLE:+--settle "$BENCH_SETTLE"} "$@"; }
compose_cmd() { cmd=("${compose[@]}" -p "$compose_names" -f "$work/compose.yml" up -d); }

# timed VAR CMD...: run CMD, append its wall time (ms) to $work/VAR.ms and its peak RSS (KiB)
# to $work/VAR.rss; a failing command ends the benchmark: its time would mean nothing.
timed() {
    local var=$1 start end status=0
    shift
    start=$(date +%s%N)
    # Bounded: a hung run (see COMPOSE_PARALLEL_LIMIT) must end the benchmark, not stall it.
    timeout --kill-after=10 "${BENCH_CMD_TIMEOUT:-600}" \
        /usr/bin/time -f %M -o "$work/rss.last" "$@" >"$work/out.last" 2>&1 || status=$?
    end=$(date +%s%N)
    if [ "$status" -ne 0 ]; then
        echo "bench: '$*' failed with status $status; its output:" >&2
        tail -n 40 "$work/out.last" >&2
        exit 1
    fi
    echo $(((end - start) / 1000000)) >>"$work/$var.ms"
    tail -n 1 "$work/rss.last" >>"$work/$var.rss"
}

median() { [ -s "$1" ] || { echo -; return; }; sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
maximum() { [ -s "$1" ] || { echo -; return; }; sort -n "$1" | tail -n 1; }

expect_running() { # expect_running NAME_PREFIX N WHAT: a converge that did not converge is no result
    local got
    got=$(docker ps --filter status=running --format '{{.Names}}' | grep -cE "^$1-[0-9]+\$" || true)
    if [ "$got" -ne "$2" ]; then
        echo "bench: after $3, $got of $2 $1-* containers run" >&2
        tail -n 40 "$work/out.last" >&2
        exit 1
    fi
}

expect_command() { # expect_command CONTAINER SECONDS: the changed record reached the container
    local cmd
    cmd=$(docker inspect -f '{{join .Config.Cmd " "}}' "$1")
    case "$cmd" in
        *"sleep $2 "*) ;;
        *) echo "bench: $1 runs '$cmd', not the changed command (sleep $2)" >&2; exit 1 ;;
    esac
}

remove_all "$ddp_names"
remove_all "$compose_names"
for n in $sizes; do
    generate "$n" 3600
    dns_start

    for _ in $(seq 1 "$runs"); do
        remove_all "$ddp_names"
        apply_cmd
        timed "ddp.cold.$n" "${cmd[@]}"
        expect_running "$ddp_names" "$n" "tool cold converge"
    done
    for _ in $(seq 1 "$runs"); do
        apply_cmd
        timed "ddp.noop.$n" "${cmd[@]}"
        expect_running "$ddp_names" "$n" "tool no-op"
    done
    # The tool's closing log line counts them: "... (engine calls: N, exit status S)".
    apply_cmd --log-level info
    "${cmd[@]}" >"$work/noop.log" 2>&1
    grep -o 'engine calls: [0-9]*' "$work/noop.log" | tail -n 1 | cut -d' ' -f3 >"$work/ddp.calls.$n"
    # Threads a no-op starts (each clone is one; the main thread is not counted).
    apply_cmd
    strace -f -qq -e trace=clone,clone3 -o "$work/strace.noop" "${cmd[@]}" >/dev/null 2>&1
    grep -c 'clone' "$work/strace.noop" >"$work/ddp.threads.noop.$n" || true
    # The floor of a no-op, in the same run: what any tool must ask the engine (a ping and
    # the list, one curl) and DNS (one round of one query; the tool needs two, overlapped
    # with the engine).
    for _ in $(seq 1 "$runs"); do
        cmd=(curl -fsS --unix-socket "$sock" -o /dev/null http://localhost/_ping
            -o /dev/null "http://localhost/containers/json?all=1")
        timed "floor.engine.$n" "${cmd[@]}"
        cmd=(dig +tries=1 +time=2 -p "$port" @127.0.0.1 TXT "$prefix.$host")
        timed "floor.dns.$n" "${cmd[@]}"
        # What starting each program costs, to take out of its figure.
        timed "start.curl.$n" curl --version
        timed "start.dig.$n" dig -v
        timed "start.ddp.$n" "$bin" --version
    done
    for r in $(seq 1 "$runs"); do
        secs=$((3600 + r % 2))
        generate "$n" "$secs"
        dns_start
        apply_cmd
        timed "ddp.change.$n" "${cmd[@]}"
        expect_running "$ddp_names" "$n" "tool change"
        expect_command "$ddp_names-1" "$secs"
    done
    for _ in $(seq 1 "$runs"); do
        ddp_cmd show
        timed "ddp.show.$n" "${cmd[@]}"
    done
    remove_all "$ddp_names"
    # Threads a cold converge starts (untimed: strace slows it).
    apply_cmd
    strace -f -qq -e trace=clone,clone3 -o "$work/strace.cold" "${cmd[@]}" >/dev/null 2>&1
    grep -c 'clone' "$work/strace.cold" >"$work/ddp.threads.cold.$n" || true
    expect_running "$ddp_names" "$n" "tool cold converge under strace"
    remove_all "$ddp_names"

    [ "${BENCH_COMPOSE:-yes}" = no ] && continue
    generate "$n" 3600
    for _ in $(seq 1 "$runs"); do
        remove_all "$compose_names"
        compose_cmd
        timed "compose.cold.$n" "${cmd[@]}"
        expect_running "$compose_names" "$n" "compose cold converge"
    done
    for _ in $(seq 1 "$runs"); do
        compose_cmd
        timed "compose.noop.$n" "${cmd[@]}"
        expect_running "$compose_names" "$n" "compose no-op"
    done
    for r in $(seq 1 "$runs"); do
        secs=$((3600 + r % 2))
        generate "$n" "$secs"
        compose_cmd
        timed "compose.change.$n" "${cmd[@]}"
        expect_running "$compose_names" "$n" "compose change"
        expect_command "$compose_names-1" "$secs"
    done
    remove_all "$compose_names"
done

# The no-op cost of always pulling: a registry of our own on loopback (127.0.0.0/8 is an
# insecure registry to dockerd by default), the image pushed to it and its local name removed.
# The registry listens in the engine's network namespace (the kit's private engine has one
# of its own), since the engine, not this script, pulls from it.
netns=/run/netns/ddp-test-$(basename "$sock" .sock)
in_engine_net() { if [ -e "$netns" ]; then nsenter --net="$netns" "$@"; else "$@"; fi; }
if [ "${BENCH_ALWAYS:-yes}" != no ]; then
tests/kit/registry.sh
reg_start() {
    local try
    mkdir -p "$work/registry" "$work/cli"
    for try in 1 2 3 4 5; do
        reg_port=$((20000 + RANDOM % 40000))
        printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
            "$work/registry" "$reg_port" >"$work/registry.yml"
        # Not through in_engine_net: $! must be the registry itself (nsenter execs it), or
        # the clean-up would kill a subshell and leave the registry running.
        if [ -e "$netns" ]; then
            nsenter --net="$netns" docker-registry serve "$work/registry.yml" >>"$work/registry.log" 2>&1 &
        else
            docker-registry serve "$work/registry.yml" >>"$work/registry.log" 2>&1 &
        fi
        reg_pid=$!
        for _ in $(seq 1 50); do
            in_engine_net curl -fsS --max-time 1 "http://127.0.0.1:$reg_port/v2/" >/dev/null 2>&1 && return 0
            kill -0 "$reg_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$reg_pid" 2>/dev/null || true
        wait "$reg_pid" 2>/dev/null || true
        reg_pid=
    done
    echo "bench: docker-registry did not start:" >&2
    cat "$work/registry.log" >&2
    exit 1
}
reg_start
reg_image=127.0.0.1:$reg_port/ddp/busybox:bench
docker tag "$image" "$reg_image"
docker --config "$work/cli" push "$reg_image" >/dev/null
docker image rm "$reg_image" >/dev/null
image=$reg_image
for n in $sizes; do
    generate "$n" 3600
    dns_start
    apply_cmd --pull always
    "${cmd[@]}" >"$work/out.last" 2>&1 || { cat "$work/out.last" >&2; exit 1; }
    expect_running "$ddp_names" "$n" "tool cold converge from the registry"
    for _ in $(seq 1 "$runs"); do
        apply_cmd --pull always
        timed "ddp.always.$n" "${cmd[@]}"
        expect_running "$ddp_names" "$n" "tool no-op with --pull always"
    done
    apply_cmd --pull always --log-level info
    "${cmd[@]}" >"$work/noop.log" 2>&1
    grep -o 'engine calls: [0-9]*' "$work/noop.log" | tail -n 1 | cut -d' ' -f3 >"$work/ddp.always.calls.$n"
    if grep -q 'replaced=[1-9]' "$work/noop.log"; then
        echo "bench: a no-op with --pull always replaced something:" >&2
        cat "$work/noop.log" >&2
        exit 1
    fi
    remove_all "$ddp_names"

    [ "${BENCH_COMPOSE:-yes}" = no ] && continue
    compose_cmd
    "${cmd[@]}" >"$work/out.last" 2>&1 || { cat "$work/out.last" >&2; exit 1; }
    for _ in $(seq 1 "$runs"); do
        c="${compose[*]} -p $compose_names -f $work/compose.yml"
        cmd=(bash -c "$c pull -q && $c up -d")
        timed "compose.always.$n" "${cmd[@]}"
        expect_running "$compose_names" "$n" "compose pull && up -d"
    done
    remove_all "$compose_names"
done
fi

printf '\ndocker-dns-provision vs %s: median of %s runs, wall ms; peak RSS KiB (max of runs)\n' \
    "${compose[*]}" "$runs"
printf '%5s  %-7s %9s %11s %12s %9s %12s\n' N phase ddp_ms compose_ms compose/ddp ddp_rss compose_rss
for n in $sizes; do
    for phase in cold noop change always; do
        d=$(median "$work/ddp.$phase.$n.ms")
        c=$(median "$work/compose.$phase.$n.ms")
        printf '%5s  %-7s %9s %11s %12s %9s %12s\n' "$n" "$phase" "$d" "$c" \
            "$(awk -v c="$c" -v d="$d" 'BEGIN { printf (d > 0 && c != "-") ? "%.1fx" : "-", c / (d > 0 ? d : 1) }')" \
            "$(maximum "$work/ddp.$phase.$n.rss")" \
            "$(maximum "$work/compose.$phase.$n.rss")"
    done
done
echo
printf 'Engine API calls of a no-op apply:'
for n in $sizes; do printf '  N=%s: %s' "$n" "$(cat "$work/ddp.calls.$n")"; done
echo
printf 'Engine API calls of a no-op apply --pull always (one image):'
for n in $sizes; do printf '  N=%s: %s' "$n" "$(cat "$work/ddp.always.calls.$n" 2>/dev/null || echo -)"; done
echo
echo "(always: the tool with --pull always; compose: pull && up -d; both ask the registry each run)"
first=${sizes%% *}
last=${sizes##* }
printf 'DNS phase (show, median ms): N=%s: %s  N=%s: %s\n' \
    "$first" "$(median "$work/ddp.show.$first.ms")" "$last" "$(median "$work/ddp.show.$last.ms")"
printf 'Static binary: %s bytes (%s)\n' "$(stat -c %s "$bin")" "$(file -b "$bin" | cut -d, -f1-4)"
echo
echo "The floor of a no-op, measured in this run: curl of _ping + the list, and one dig round;"
echo "each program's start (--version, -v) is taken out of its figure, ours included"
printf '%5s %9s %10s %9s %9s %10s %14s %14s\n' N ddp_ms engine_ms dns_ms floor_ms ddp/floor threads_noop threads_cold
for n in $sizes; do
    d=$(($(median "$work/ddp.noop.$n.ms") - $(median "$work/start.ddp.$n.ms")))
    e=$(($(median "$work/floor.engine.$n.ms") - $(median "$work/start.curl.$n.ms")))
    q=$(($(median "$work/floor.dns.$n.ms") - $(median "$work/start.dig.$n.ms")))
    printf '%5s %9s %10s %9s %9s %10s %14s %14s\n' "$n" "$d" "$e" "$q" "$((e + q))" \
        "$(awk -v d="$d" -v f="$((e + q))" 'BEGIN { printf (f > 0) ? "%.1fx" : "-", d / (f > 0 ? f : 1) }')" \
        "$(cat "$work/ddp.threads.noop.$n")" "$(cat "$work/ddp.threads.cold.$n")"
done
echo "(milliseconds, median of the runs; threads: started by the run, the main thread not counted)"
# DNS round trips under an injected delay, at this run's largest size and beyond.
echo
ROUNDS_SIZES=${ROUNDS_SIZES:-"1 $last 300"} tests/bench/dns_rounds.sh
