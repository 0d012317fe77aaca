#!/usr/bin/env python3
"""bench_watch.py TMI_CONSOLE - see bench_watch.sh."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from tmiserver import Server  # noqa: E402

TMI = os.path.join("Program Files (x86)", "Trend Micro", "COMMON", "TMI")
DEBOUNCE_MS = 300  # server/watch/watcher.h WATCHER_DEBOUNCE_MS
CHANGES = 50


def alert_count(srv):
    r = srv.request("GET", "/api/audit?action=alert&limit=500", token=True).json() or {}
    return len([a for a in r.get("items") or [] if a.get("target") == "outside_change"])


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


srv = Server(sys.argv[1], "bench-watch", serve_args=("--stay-seconds", "1"))
try:
    mrf = os.path.join(srv.sandbox, TMI, "mrf.exe")
    src = os.path.join(srv.sandbox, TMI, "is_backup", "filegroup100", "mrf.exe")
    old = os.path.join(srv.tmp, "old.exe")
    shutil.copyfile(mrf, old)
    lat = []
    for i in range(CHANGES):
        before = alert_count(srv)
        t0 = time.monotonic()
        shutil.copyfile(src if i % 2 == 0 else old, mrf)
        while alert_count(srv) == before:
            if time.monotonic() - t0 > 10:
                raise SystemExit("bench_watch: no alert within 10 s of change %d" % i)
            time.sleep(0.01)
        lat.append(time.monotonic() - t0)
        time.sleep(0.4)
    lat.sort()
    p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print("watch.change_to_alert_p50_ms %.0f" % (1000 * p50))
    print("watch.change_to_alert_p99_ms %.0f" % (1000 * p99))
    print("watch.ratio_p50_vs_debounce %.2f (the debounce is %d ms; goal <= 3)"
          % (1000 * p50 / DEBOUNCE_MS, DEBOUNCE_MS))
    idle = int(os.environ.get("BENCH_IDLE_SECONDS", "60"))
    time.sleep(2)
    c0, t0 = cpu_seconds(srv.proc.pid), time.monotonic()
    time.sleep(idle)
    c1, t1 = cpu_seconds(srv.proc.pid), time.monotonic()
    share = (c1 - c0) / (t1 - t0)
    print("watch.idle_cpu_ms %.0f over %d s" % (1000 * (c1 - c0), idle))
    print("watch.idle_cpu_share %.5f of one core (goal < 0.001)" % share)
finally:
    srv.stop()
    srv.cleanup()
