# Shared helpers for the test kit; sourced, never run. Quiet unless something is wrong.

# apt_install PKG...: install the Debian packages that are missing. Tries the current package
# index first and runs `apt-get update` only when that fails (a fresh container has no index,
# an old one may point at versions the mirror no longer has); an update per call is slow.
apt_install() {
    local missing=() p log
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log=$(mktemp /tmp/ddp-kit-apt.XXXXXX)
    mkdir -p /run/lock
    # Serialise kit scripts run in parallel: dpkg's own lock fails instead of waiting.
    if ! (
        flock 8
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1 \
            || { apt-get update -q >>"$log" 2>&1 \
                 && apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; }
    ) 8>/run/lock/ddp-kit-apt.lock; then
        echo "kit: apt-get install ${missing[*]} failed:" >&2
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}
