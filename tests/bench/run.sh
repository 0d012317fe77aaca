#!/usr/bin/env bash
# run.sh BUILD_DIR - run every benchmark; each prints "name value" lines that
# compare against a reference measured in the same run.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for b in "$here"/bench_*.sh; do
    echo "== $(basename "$b")"
    bash "$b" "$build" || status=1
done
for exe in "$build"/tests/bench/bench_*; do
    [ -x "$exe" ] && [ -f "$exe" ] || continue
    echo "== $(basename "$exe")"
    "$exe" || status=1
done
exit $status
