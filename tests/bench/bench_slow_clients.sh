#!/usr/bin/env bash
# bench_slow_clients.sh BUILD_DIR - /api/health while 50 clients dribble their
# request heads (one header line every 2.5 s, reconnecting when cut): its
# latency, against the 1 s the server must answer within. The same run as
# the integration test tests/integration/test_hostile.py, printing figures.
set -euo pipefail
build=${1:?usage: bench_slow_clients.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
TMI_TEST_TMP=${TMPDIR:-/tmp} /usr/bin/python3 "$here/integration/test_hostile.py" \
    "$build/server/tmi-console" --bench
