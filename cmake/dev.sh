#!/usr/bin/env bash
# dev.sh - set up, build, run and test tmi-console on Debian 12.
#
#   cmake/dev.sh demo [ARGS]   install what is missing, build, run `tmi-console demo`
#   cmake/dev.sh test [--quick] install, build and run every test suite
#                              (--quick: skip the sanitizer build, the fuzz smoke run
#                              and the browser tests)
#   cmake/dev.sh bench         build in release mode and run the benchmarks
#   cmake/dev.sh build         install and build only
#   cmake/dev.sh windows [--sign CERT.pem KEY.pem [--timestamp URL] [--pass-file FILE]]
#                              cross-build (mingw-w64) build-win/dist/tmi-console.exe,
#                              stripped, with its debug information in
#                              build-win/dist/tmi-console.debug; --sign: Authenticode-sign
#                              it with osslsigncode (cmake/sign-windows.sh; no timestamp
#                              unless --timestamp names a server)
#
# `test` ends with the Windows stage (skipped by --quick): the cross-built
# tests under wine, tests/windows/run.sh.
#
# Build folders: build/ (main), build-asan/ (ASan+UBSan), build-fuzz/ (clang, libFuzzer),
# build-win/ (mingw-w64, with its wine prefix).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 2 ] && jobs=2

log() { printf '== %s\n' "$*" >&2; }

# Debian packages each job needs.
pkgs_build=(build-essential cmake pkg-config libssl-dev libsqlite3-dev libcjson-dev
            libcmocka-dev python3)
# ansible: the fleet tests (tests/fleet) run deploy/ansible with Debian's
# ansible-playbook and ansible-lint; python3-winrm for its WinRM connection
pkgs_test=(clang libclang-rt-14-dev python3-pefile curl strace openssl osslsigncode ansible
           ansible-lint python3-winrm)
pkgs_bench=(wrk nginx-light openssl osslsigncode)
pkgs_e2e=(chromium firefox-esr tzdata)
pkgs_windows=(mingw-w64 wine wine64 dpkg-dev tcl curl python3 osslsigncode openssl)

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

run_ctest() { # DIR [ctest args...]
    local dir=$1
    shift
    (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600 "$@")
}

# Browser end-to-end tests: Debian's Chromium driven by playwright-core (from
# npm, pinned by tests/e2e/package-lock.json) against `tmi-console demo`, then
# the main flow in Debian's Firefox ESR over its own Marionette protocol.
# First the OpenAPI document is linted (Spectral, pinned by the same lock
# file, rules in tests/e2e/spectral.yaml; offline, every warning fatal).
run_e2e() { # BIN
    need_pkgs "${pkgs_e2e[@]}"
    command -v node >/dev/null || need_pkgs nodejs npm
    command -v npm >/dev/null || need_pkgs npm
    # `npm ls` can pass while a package of the lock file is missing: the
    # tree is installed again whenever the lock file differs from the one it
    # was installed from (kept as a stamp beside it)
    if ! cmp -s tests/e2e/package-lock.json tests/e2e/node_modules/.tmi-installed-lock 2>/dev/null; then
        (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
            cp package-lock.json node_modules/.tmi-installed-lock)
    fi
    lint_openapi
    (cd tests/e2e && TMI_CONSOLE_BIN="$here/$1" node --test --test-reporter=dot ui.test.mjs outcomes.test.mjs)
    timeout 300 /usr/bin/python3 tests/e2e/firefox_smoke.py "$1"
}

lint_openapi() {
    local out
    out=$(cd tests/e2e && ./node_modules/.bin/spectral lint --ruleset spectral.yaml \
        --fail-severity=warn --display-only-failures ../../web/openapi.json 2>&1) || {
        printf '%s\n' "$out" >&2
        log "web/openapi.json: the lint failed"
        return 1
    }
}

# The Windows build: mingw-w64, the third-party libraries compiled from
# Debian's source packages (fetched into build-win/_deps/ once, see
# cmake/WindowsDeps.cmake).
build_windows() {
    need_pkgs "${pkgs_windows[@]}"
    configure_build build-win -DCMAKE_TOOLCHAIN_FILE="$here/cmake/mingw-w64-x86_64.cmake"
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
    if [ $quick -eq 0 ]; then
        # everything at once: one apt run, and the PE cross-check of the first
        # stage then also reads the Windows DLLs that wine and mingw-w64 ship
        need_pkgs "${pkgs_build[@]}" "${pkgs_test[@]}" "${pkgs_e2e[@]}" "${pkgs_windows[@]}"
    else
        need_pkgs "${pkgs_build[@]}" "${pkgs_test[@]}"
    fi
    log "build and test (build/)"
    configure_build build
    run_ctest build
    if [ $quick -eq 0 ]; then
        log "build and test with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
        configure_build build-asan -DTMI_SANITIZE=ON
        # fleet/*: Ansible driving the same CLI commands the integration tests
        # run here already; under the sanitizers it only adds minutes
        ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build-asan -E '^fleet/'
        if [ -f tests/fuzz/run_smoke.sh ]; then
            log "fuzz smoke run (build-fuzz/)"
            CC=clang configure_build build-fuzz -DTMI_FUZZ=ON -DTMI_TESTS=ON
            bash tests/fuzz/run_smoke.sh build-fuzz "${TMI_FUZZ_SECONDS:-20}"
        fi
        log "browser end-to-end tests (tests/e2e, headless Chromium)"
        run_e2e build/server/tmi-console
        log "Windows: cross-build (build-win/) and test under wine"
        build_windows
        bash tests/windows/run.sh build-win build
    fi
    log "all tests passed"
    ;;
windows)
    sign=()
    if [ "${1:-}" = "--sign" ]; then
        [ $# -ge 3 ] || {
            echo "usage: cmake/dev.sh windows --sign CERT.pem KEY.pem [--timestamp URL] [--pass-file FILE]" >&2
            exit 2
        }
        shift
        sign=("$@")
    elif [ $# -gt 0 ]; then
        echo "cmake/dev.sh windows: unknown option '$1'" >&2
        exit 2
    fi
    build_windows
    if [ ${#sign[@]} -gt 0 ]; then
        bash cmake/sign-windows.sh build-win/dist/tmi-console.exe "${sign[@]}"
        log "signed build-win/dist/tmi-console.exe"
    fi
    log "built build-win/dist/tmi-console.exe (debug information: build-win/dist/tmi-console.debug)"
    ;;
bench)
    need_pkgs "${pkgs_build[@]}" "${pkgs_bench[@]}"
    configure_build build-bench -DCMAKE_BUILD_TYPE=Release
    bash tests/bench/run.sh build-bench
    ;;
*)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
