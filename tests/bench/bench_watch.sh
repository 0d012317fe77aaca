#!/usr/bin/env bash
# bench_watch.sh BUILD_DIR - the watcher of `serve`: the time from a file
# changed outside tmi-console to its alert row (median and p99 over 50
# changes, against the debounce the watcher waits on purpose), and the CPU
# time serve uses over 60 s of idle watching (against the 60 s of wall time:
# the share of one core). BENCH_IDLE_SECONDS shortens the idle part.
set -euo pipefail
build=${1:?usage: bench_watch.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
TMI_TEST_TMP=${TMPDIR:-/tmp} /usr/bin/python3 "$here/bench_watch.py" "$build/server/tmi-console"
