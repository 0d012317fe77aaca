#!/usr/bin/env bash
# bench_scan.sh BUILD_DIR - a whole `tmi-console scan` process against
# `openssl dgst -sha256` over the same sixteen files (the eight TMI files and
# the eight good copies, ~1 MiB each), measured in the same run.
# Reports the medians and their ratio (goal: scan / openssl <= 1.3).
set -euo pipefail
build=${1:?usage: bench_scan.sh BUILD_DIR}
bin=$build/server/tmi-console
runs=${BENCH_RUNS:-41}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" --data "$work/data" demo --no-serve --dir "$work/root" --file-size 1048576 >/dev/null
mapfile -t files < <(find "$work/root" -type f \( -name '*.dll' -o -name '*.exe' \) | sort)
[ ${#files[@]} -eq 16 ] || { echo "bench_scan: expected 16 files, found ${#files[@]}" >&2; exit 1; }

# median of the wall times (ns) of $runs runs of a command; one warm-up run first
median_ns() {
    "$@" >/dev/null 2>&1 || true
    local t=()
    for ((i = 0; i < runs; i++)); do
        local a b
        a=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        b=$(date +%s%N)
        t+=($((b - a)))
    done
    printf '%s\n' "${t[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

scan_ns=$(median_ns "$bin" --data "$work/data" scan --root "$work/root" --json)
ossl_ns=$(median_ns openssl dgst -sha256 "${files[@]}")
ratio=$(awk -v a="$scan_ns" -v b="$ossl_ns" 'BEGIN { printf "%.2f", a / b }')
printf 'scan.files %d x %d bytes\n' "${#files[@]}" "$(stat -c %s "${files[0]}")"
printf 'scan.process_median_ms %.2f\n' "$(awk -v a="$scan_ns" 'BEGIN { print a / 1e6 }')"
printf 'scan.openssl_dgst_median_ms %.2f\n' "$(awk -v a="$ossl_ns" 'BEGIN { print a / 1e6 }')"
printf 'scan.ratio_vs_openssl %s (goal <= 1.3)\n' "$ratio"
