#!/usr/bin/env bash
# bench_alerts.sh BUILD_DIR - how long sending an alert takes the caller with
# a syslog collector that is down or stalled, as ratios to a healthy one
# measured in the same run, and the shutdown time with a stalled collector
# (tests/integration/test_alerts.py --bench, through the alert-send tool).
set -euo pipefail
build=${1:?usage: bench_alerts.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
/usr/bin/python3 "$here/integration/test_alerts.py" "$build/tests/alert-send" --bench
