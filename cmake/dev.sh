#!/usr/bin/env bash
# dev.sh - set up, build, run and test tmi-console on Debian 12.
#
#   cmake/dev.sh demo [ARGS]   install what is missing, build, run `tmi-console demo`
#   cmake/dev.sh test [--quick] install, build and run every test suite
#                              (--quick: skip the sanitizer build and the fuzz smoke run)
#   cmake/dev.sh bench         build in release mode and run the benchmarks
#   cmake/dev.sh build         install and build only
#
# Build folders: build/ (main), build-asan/ (ASan+UBSan), build-fuzz/ (clang, libFuzzer).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 2 ] && jobs=2

log() { printf '== %s\n' "$*" >&2; }

# Debian packages each job needs.
pkgs_build=(build-essential cmake pkg-config libssl-dev libsqlite3-dev libcjson-dev
            libcivetweb-dev libcmocka-dev python3)
pkgs_test=(clang libclang-rt-14-dev python3-pefile curl)
pkgs_bench=(wrk nginx-light openssl)

apt_updated=0
need_pkgs() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    log "installing: ${missing[*]}"
    if [ $apt_updated -eq 0 ]; then
        $sudo apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

configure_build() { # DIR [cmake args...]
    local dir=$1
    shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.configure.log" 2>&1 || {
        cat "$dir.configure.log" >&2
        return 1
    }
    cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1 || {
        grep -E -B2 -A6 'error|Error' "$dir.build.log" | head -80 >&2
        return 1
    }
}

run_ctest() { # DIR
    (cd "$1" && ctest --output-on-failure -j "$jobs" --timeout 600)
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
build)
    need_pkgs "${pkgs_build[@]}"
    configure_build build
    ;;
demo)
    need_pkgs "${pkgs_build[@]}"
    configure_build build -DTMI_TESTS=OFF
    exec build/server/tmi-console demo "$@"
    ;;
test)
    quick=0
    [ "${1:-}" = "--quick" ] && quick=1
    need_pkgs "${pkgs_build[@]}" "${pkgs_test[@]}"
    log "build and test (build/)"
    configure_build build
    run_ctest build
    if [ $quick -eq 0 ]; then
        log "build and test with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
        configure_build build-asan -DTMI_SANITIZE=ON
        ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build-asan
        if [ -f tests/fuzz/run_smoke.sh ]; then
            log "fuzz smoke run (build-fuzz/)"
            CC=clang configure_build build-fuzz -DTMI_FUZZ=ON -DTMI_TESTS=ON
            bash tests/fuzz/run_smoke.sh build-fuzz "${TMI_FUZZ_SECONDS:-20}"
        fi
    fi
    log "all tests passed"
    ;;
bench)
    need_pkgs "${pkgs_build[@]}" "${pkgs_bench[@]}"
    configure_build build-bench -DCMAKE_BUILD_TYPE=Release
    bash tests/bench/run.sh build-bench
    ;;
*)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
