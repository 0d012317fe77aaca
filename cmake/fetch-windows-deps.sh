#!/usr/bin/env bash
# fetch-windows-deps.sh - fetch the sources of the Windows build's third-party
# libraries from Debian's source packages and prepare them for the
# cross-build (cmake/WindowsDeps.cmake compiles them).
#
#   cmake/fetch-windows-deps.sh DEPS_DIR
#
# For each of sqlite3, cjson and cmocka: `apt-get source` into
# DEPS_DIR/src/, unpacked (Debian's patches applied). sqlite3 is then
# configured for the build machine and `make sqlite3.c` makes the
# amalgamation, copied to DEPS_DIR/sqlite/. Each step leaves a stamp file, so
# a second run does nothing. When the apt sources have no `deb-src` entry, one
# is added (same URIs, suites and components as debian.sources) and the lists
# are updated. Needs root (or sudo) only for that and for installing the
# tools it uses (dpkg-dev, tcl, build-essential).
#
# Prints the folder of each library as NAME=PATH lines on stdout at the end
# (WindowsDeps.cmake reads them).
set -euo pipefail

deps=${1:?usage: fetch-windows-deps.sh DEPS_DIR}
mkdir -p "$deps/src"
deps=$(cd "$deps" && pwd)
log() { printf '== windows deps: %s\n' "$*" >&2; }
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

# The packages whose sources are used; versions are whatever the suite has.
pkgs=(sqlite3 cjson cmocka)

have_all() {
    for p in "${pkgs[@]}"; do
        [ -f "$deps/src/.$p.stamp" ] || return 1
    done
    [ -f "$deps/sqlite/.stamp" ]
}

print_dirs() {
    for p in "${pkgs[@]}"; do
        printf '%s=%s\n' "$p" "$(cat "$deps/src/.$p.stamp")"
    done
    printf 'sqlite_amalgamation=%s\n' "$deps/sqlite"
}

if have_all; then
    print_dirs
    exit 0
fi

need_tools() {
    local missing=()
    for p in dpkg-dev tcl build-essential; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# A deb-src entry for every deb entry of debian.sources (or sources.list).
ensure_deb_src() {
    if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        return 0
    fi
    local out=/etc/apt/sources.list.d/tmi-console-deb-src.sources
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        log "adding deb-src entries ($out)"
        sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
            $sudo tee "$out" >/dev/null
    elif [ -f /etc/apt/sources.list ]; then
        out=/etc/apt/sources.list.d/tmi-console-deb-src.list
        log "adding deb-src entries ($out)"
        sed -nE 's/^deb (.*)/deb-src \1/p' /etc/apt/sources.list | $sudo tee "$out" >/dev/null
    else
        echo "fetch-windows-deps: no apt sources found to derive deb-src entries from" >&2
        exit 1
    fi
    $sudo apt-get update -qq
}

need_tools
ensure_deb_src

for p in "${pkgs[@]}"; do
    [ -f "$deps/src/.$p.stamp" ] && continue
    log "apt-get source $p"
    work="$deps/src/$p.tmp"
    rm -rf "$work"
    mkdir -p "$work"
    if ! (cd "$work" && apt-get source -qq "$p" >"$work.log" 2>&1); then
        # the lists may be stale or lack the sources: update once and retry
        $sudo apt-get update -qq
        (cd "$work" && apt-get source -qq "$p" >"$work.log" 2>&1) || {
            cat "$work.log" >&2
            exit 1
        }
    fi
    dir=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
    [ -n "$dir" ] || {
        echo "fetch-windows-deps: apt-get source $p unpacked nothing" >&2
        exit 1
    }
    rm -rf "$deps/src/$p"
    mv "$dir" "$deps/src/$p"
    rm -rf "$work" "$work.log"
    echo "$deps/src/$p" >"$deps/src/.$p.stamp"
done

if [ ! -f "$deps/sqlite/.stamp" ]; then
    log "making the sqlite3 amalgamation (make sqlite3.c)"
    bld="$deps/sqlite-host"
    rm -rf "$bld"
    mkdir -p "$bld"
    # the amalgamation is generated with build-machine tools: the host's
    # compiler, whatever the cross-build put into the environment
    (cd "$bld" && env -u CFLAGS -u CPPFLAGS -u LDFLAGS CC=cc \
        "$deps/src/sqlite3/configure" --disable-tcl >configure.log 2>&1 &&
        env -u CFLAGS -u CPPFLAGS -u LDFLAGS make -j2 sqlite3.c >make.log 2>&1) || {
        tail -n 30 "$bld"/*.log >&2
        exit 1
    }
    mkdir -p "$deps/sqlite"
    cp "$bld/sqlite3.c" "$bld/sqlite3.h" "$deps/sqlite/"
    [ -f "$bld/sqlite3ext.h" ] && cp "$bld/sqlite3ext.h" "$deps/sqlite/"
    rm -rf "$bld"
    touch "$deps/sqlite/.stamp"
fi

print_dirs
