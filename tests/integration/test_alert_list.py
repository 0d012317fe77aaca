#!/usr/bin/env python3
"""integration/alert_list - the alert list of a real `serve` on the demo sandbox:
after a file is changed outside tmi-console, GET /api/alerts and
`tmi-console alerts --json` show the open alert (the TMI folder affected)
and the recent alerts (the outside change, with its versions), the same
document on both sides; a bad limit or before is a 400 problem, a bad
--limit exit 2, and the list needs a token."""
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import (Server, check, expect_problem, expect_status, finish,  # noqa: E402
                       wait_for)

TMI = os.path.join("Program Files (x86)", "Trend Micro", "COMMON", "TMI")
EXE = sys.argv[1]



def verdict(srv):
    return ((srv.request("GET", "/api/status", token=True).json() or {}).get("scan")
            or {}).get("verdict")


def api_alerts(srv, query=""):
    r = srv.request("GET", "/api/alerts" + query, token=True)
    expect_status(r, 200, "GET /api/alerts" + query)
    return r.json() or {}


def cli(srv, *args):
    return subprocess.run([EXE, "--data", srv.data, "alerts"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)


def open_verdicts(doc):
    return [a for a in doc.get("open") or [] if a.get("kind") == "verdict"]


srv = Server(EXE, "alerts", serve_args=("--stay-seconds", "1"))
old = os.path.join(srv.tmp, "old-mrf.exe")
try:
    shutil.copyfile(os.path.join(srv.sandbox, TMI, "mrf.exe"), old)
    r = srv.request("POST", "/api/jobs", token=True, body={"action": "repair"})
    expect_status(r, 202, "POST /api/jobs repair")
    check(wait_for(lambda: verdict(srv) == "healthy", 60, 0.2), "the repair did not heal")
    time.sleep(0.5)
    doc = wait_for(lambda: (lambda d: d if not open_verdicts(d) else None)(api_alerts(srv)), 3)
    check(doc and set(doc) == {"open", "recent"}
          and set(doc["recent"]) == {"items", "next_before"},
          "the alert list's shape: %r" % doc)
    check(doc and not open_verdicts(doc), "an open verdict alert while healthy: %r" % doc)
    rc = cli(srv, "--json").returncode
    check(rc in (0, 1), "alerts --json while healthy: exit %d" % rc)

    # a change outside tmi-console: the alert is open and listed
    shutil.copyfile(old, os.path.join(srv.sandbox, TMI, "mrf.exe"))
    check(wait_for(lambda: verdict(srv) == "affected", 3, 0.05), "the change was not seen")
    doc = wait_for(lambda: (lambda d: d if open_verdicts(d) and any(
        a.get("kind") == "outside_change" for a in d["recent"]["items"]) else None)(
            api_alerts(srv)), 3) or {}
    ov = open_verdicts(doc)
    check(len(ov) == 1 and ov[0].get("state") == "affected"
          and ov[0].get("subject", "").endswith("TMI") and ov[0].get("since")
          and ov[0].get("last_sent"), "the open verdict alert: %r" % ov)
    items = (doc.get("recent") or {}).get("items") or []
    out = [a for a in items if a.get("kind") == "outside_change"]
    check(len(out) == 1 and "1.12.0.1266 -> 1.12.0.1156" in out[0].get("message", "")
          and (out[0].get("details") or {}).get("new_version") == "1.12.0.1156"
          and (out[0].get("details") or {}).get("file", "").endswith("mrf.exe")
          and out[0].get("seq", 0) > 0 and out[0].get("time", "").endswith("Z"),
          "the outside change in the recent alerts: %r" % out)
    check(items and items[0].get("kind") == "verdict_change",
          "the newest alert is not the verdict change: %r" % items[:1])
    seqs = [a.get("seq") for a in items]
    check(seqs == sorted(seqs, reverse=True), "recent alerts not newest first: %r" % seqs)

    # the CLI prints the same document, and exits 1 (an alert is open)
    time.sleep(0.5)
    r = cli(srv, "--json", "--limit", "3")
    api = api_alerts(srv, "?limit=3")
    try:
        got = json.loads(r.stdout)
    except ValueError:
        got = None
    check(r.returncode == 1, "alerts --json with an open alert: exit %d (%s)"
          % (r.returncode, r.stderr))
    check(got == api, "CLI and API differ:\n  CLI %s\n  API %s" % (r.stdout[:600],
                                                                json.dumps(api)[:600]))
    nxt = (api.get("recent") or {}).get("next_before")
    if len(items) >= 3:
        check(isinstance(nxt, int) and nxt > 0, "a full page names the next: %r" % nxt)
        older = api_alerts(srv, "?limit=3&before=%d" % nxt)
        check(all(a["seq"] < nxt for a in older["recent"]["items"]),
              "the next page: %r" % older)
    r = cli(srv)
    check(r.returncode == 1 and "verdict" in r.stdout and "affected" in r.stdout
          and "outside_change" in r.stdout, "alerts (text): %d %r" % (r.returncode, r.stdout))

    # bad input: 400 problem, exit 2; no token: 401
    for q in ("?limit=0", "?limit=501", "?limit=abc", "?limit=-1", "?limit=1e3",
              "?before=0", "?before=x", "?limit=" + "9" * 40, "?since=2026-01-01"):
        expect_problem(srv.request("GET", "/api/alerts" + q, token=True), 400, "alerts" + q)
    for args in (("--limit", "0"), ("--limit", "501"), ("--limit", "x"), ("--before", "0"),
                 ("extra",)):
        r = cli(srv, *args)
        check(r.returncode == 2 and r.stdout == "" and r.stderr,
              "alerts %s: exit %d %r" % (" ".join(args), r.returncode, r.stdout[:100]))
    expect_status(srv.request("GET", "/api/alerts"), 401, "GET /api/alerts without a token")
except Exception:  # an unexpected error is a failure; the server is still stopped
    check(False, "unexpected error:\n" + traceback.format_exc())
finish(srv, "integration/alert_list")
