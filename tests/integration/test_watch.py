#!/usr/bin/env python3
"""integration/watch - the watcher of a real `serve` on the demo sandbox:
a file changed outside tmi-console is seen within 2 s (status affected,
history "outside", an alert row in the audit trail); a repair through the
console raises no "outside" alert; a change made while no server ran is
reported at the next start as made "while not watched"; with --auto-repair
the folder is healthy again within 10 s and the audit names the policy."""
import os
import shutil
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import Server, check, finish  # noqa: E402

TMI = os.path.join("Program Files (x86)", "Trend Micro", "COMMON", "TMI")


def status(srv):
    return srv.request("GET", "/api/status", token=True).json() or {}


def wait_for(cond, seconds, step=0.1):
    end = time.time() + seconds
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def alerts(srv, kind=None):
    rows = (srv.request("GET", "/api/audit?action=alert&limit=100", token=True).json()
            or {}).get("items") or []
    return [r for r in rows if kind is None or r.get("target") == kind]


def repair(srv):
    r = srv.request("POST", "/api/jobs", token=True, body={"action": "repair"})
    jid = (r.json() or {}).get("id", 0)
    job = wait_for(lambda: (lambda j: j if j.get("status") not in (None, "running") else None)(
        srv.request("GET", "/api/jobs/%d" % jid, token=True).json() or {}), 60, 0.2) or {}
    check(job.get("status") == "succeeded", "console repair: %r" % job)
    return jid


def put_old(srv, old):
    shutil.copyfile(old, os.path.join(srv.sandbox, TMI, "mrf.exe"))


srv = Server(sys.argv[1], "watch", serve_args=("--stay-seconds", "1"))
old = os.path.join(srv.tmp, "old-mrf.exe")
try:
    shutil.copyfile(os.path.join(srv.sandbox, TMI, "mrf.exe"), old)
    st = status(srv)
    check((st.get("watch") or {}).get("mode") == "notify", "watching: %r" % st.get("watch"))

    # a repair through the console: its own writes are no outside change
    jid = repair(srv)
    healthy = wait_for(lambda: (status(srv).get("scan") or {}).get("verdict") == "healthy", 5)
    check(healthy, "status after the console repair: %r" % status(srv).get("scan", {}).get("verdict"))
    time.sleep(1.0)  # the watcher sees the job's writes and scans: no outside change
    check(alerts(srv, "outside_change") == [], "outside alert for the console's own repair: %r"
          % alerts(srv, "outside_change"))
    hist = (srv.request("GET", "/api/files/mrf.exe/history?limit=20", token=True).json()
            or {}).get("items") or []
    tmi_rows = [h for h in hist if h.get("kind") == "tmi"]
    check(tmi_rows and tmi_rows[0].get("changed_by", {}).get("kind") == "job"
          and tmi_rows[0]["changed_by"].get("job") == jid,
          "history of the console's repair: %r" % (tmi_rows[:1],))

    # a change outside tmi-console, seen within 2 s
    t0 = time.time()
    put_old(srv, old)
    seen = wait_for(lambda: (status(srv).get("scan") or {}).get("verdict") == "affected", 2.0,
                    0.05)
    check(seen, "the outside change was not seen within 2 s")
    hist = (srv.request("GET", "/api/files/mrf.exe/history?limit=20", token=True).json()
            or {}).get("items") or []
    top = next((h for h in hist if h.get("kind") == "tmi"), {})
    cb = top.get("changed_by") or {}
    check(top.get("version") == "1.12.0.1156" and cb.get("kind") == "outside"
          and cb.get("since") and cb.get("until") and cb.get("seen_by") == "watch",
          "history of the outside change: %r" % top)
    out = wait_for(lambda: alerts(srv, "outside_change"), 2)
    check(len(out) == 1 and "1.12.0.1266 -> 1.12.0.1156" in out[0].get("details", {}).get(
        "message", ""), "outside alert: %r" % out)
    check(len(alerts(srv, "verdict_change")) >= 1, "no verdict alert: %r" % alerts(srv))
    if "--bench" in sys.argv:
        print("watch: change to status 'affected' in %.0f ms" % (1000 * (time.time() - t0)))

    # a change while no server ran: reported at the next start
    srv.stop()
    srv.cli("repair", "--root", srv.sandbox, "--yes", "--stay-seconds", "1")
    put_old(srv, old)
    srv.restart(("--stay-seconds", "1"))
    out = wait_for(lambda: [a for a in alerts(srv, "outside_change")
                            if "while not watched" in (a.get("details") or {}).get("message", "")],
                   3)
    check(any("while not watched" in (a.get("details") or {}).get("message", "") for a in out),
          "change while not watched: %r" % out)
    srv.stop()

    # auto-repair: healthy again within 10 s, the policy in the audit
    srv.restart(("--stay-seconds", "1", "--auto-repair", "1"))
    check((status(srv).get("scan") or {}).get("verdict") == "affected", "affected before")
    healthy = wait_for(lambda: (status(srv).get("scan") or {}).get("verdict") == "healthy", 10,
                       0.2)
    check(healthy, "auto-repair: not healthy within 10 s: %r" % status(srv).get("watch"))
    rows = (srv.request("GET", "/api/audit?action=auto_repair&limit=20", token=True).json()
            or {}).get("items") or []
    check(any(r.get("actor") == "policy" and r.get("outcome") == "ran" for r in rows),
          "auto-repair audit rows: %r" % rows)
    jobs = wait_for(lambda: [j for j in (srv.request("GET", "/api/jobs?limit=1", token=True).json()
                                         or {}).get("jobs") or [] if j.get("status") != "running"],
                    20, 0.2) or []
    check(jobs and jobs[0].get("actor") == "policy" and jobs[0].get("status") == "succeeded",
          "the policy's job: %r" % jobs[:1])
except Exception:
    check(False, "exception: " + traceback.format_exc())
finish(srv, "integration/watch")
