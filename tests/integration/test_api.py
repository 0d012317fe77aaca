#!/usr/bin/env python3
"""integration/api - the JSON API end to end: scan then status, scans and
their pagination, files and history, audit and its verification, the four
exports (parsed), the OpenAPI document against the live routes, and a clean
stop on SIGTERM."""
import csv
import http.client
import io
import json
import os
import re
import signal
import subprocess
import sys
import traceback
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import (Server, check, expect_problem, expect_security_headers,  # noqa: E402
                       expect_status, finish)

srv = Server(sys.argv[1], "api")
try:
    # the server's start scan is the first one (the watcher's)
    r = srv.request("GET", "/api/status", token=True)
    expect_status(r, 200, "status at start")
    st = r.json() or {}
    check((st.get("scan") or {}).get("verdict") == "affected" and st.get("scan_id") == 1,
          "status at start: %r" % {k: st.get(k) for k in ("scan_id", "watch")})
    w = st.get("watch") or {}
    check(w.get("mode") == "notify" and w.get("ok") is True and w.get("folders", 0) >= 2
          and (w.get("last_scan") or {}).get("reason") == "start",
          "watch state at start: %r" % w)
    # the demo's service started and stopped at once, as the real one does
    svc = st.get("service", {})
    check(svc.get("state") == "stopped" and svc.get("exit_code") == 1 and svc.get("detail"),
          "status service: %r" % svc)
    ev = st.get("events") or []
    check(len(ev) == 1 and ev[0].get("id") == 800 and "errcode=-107" in ev[0].get("message", "")
          and ev[0].get("provider") == "Trend Micro Control Manager",
          "status events: %r" % st.get("events"))

    # scan -> status shows it
    r = srv.request("POST", "/api/scan", token=True, body={})
    expect_status(r, 201, "scan")
    sc = r.json() or {}
    sid = sc.get("scan_id")
    check(isinstance(sid, int) and sid > 0, "scan id %r" % sid)
    check(r.header("location") == "/api/scans/%s" % sid, "scan Location %r" % r.header("location"))
    check((sc.get("scan") or {}).get("verdict") == "affected", "demo scan verdict: %r" % sc)
    r = srv.request("GET", "/api/status", token=True)
    st = r.json() or {}
    check(st.get("scan_id") == sid, "status scan_id %r, want %r" % (st.get("scan_id"), sid))
    check((st.get("scan") or {}).get("verdict") == "affected", "status scan: %r" % st.get("scan"))
    check(len((st.get("scan") or {}).get("files", [])) == 8, "status files: %r" % st.get("scan"))
    r = srv.request("GET", "/api/scans/%d" % sid, token=True)
    expect_status(r, 200, "scan by id")
    check((r.json() or {}).get("scan", {}).get("verdict") == "affected", "scan by id: %r" % r.body)
    r = srv.request("GET", "/api/scans/999999", token=True)
    expect_problem(r, 404, "unknown scan")
    r = srv.request("GET", "/api/scans/abc", token=True)
    expect_problem(r, 400, "scan id abc")

    # pagination of scans
    for _ in range(3):
        expect_status(srv.request("POST", "/api/scan", token=True), 201, "more scans")
    seen, before, pages = [], None, 0
    while pages < 10:
        q = "/api/scans?limit=2" + ("&before=%d" % before if before else "")
        page = srv.request("GET", q, token=True).json() or {}
        seen += [i["id"] for i in page.get("items", [])]
        before = page.get("next_before")
        pages += 1
        if before is None:
            break
    check(len(seen) == 5 and seen == sorted(seen, reverse=True) and len(set(seen)) == 5,
          "scan pages: %r" % seen)

    # files and history
    r = srv.request("GET", "/api/files?limit=500", token=True)
    expect_status(r, 200, "files")
    files = (r.json() or {}).get("items", [])
    check(len(files) == 16, "files: expected 16 paths (8 TMI + 8 source), got %d" % len(files))
    r = srv.request("GET", "/api/files/mrf.exe/history", token=True)
    expect_status(r, 200, "history")
    hist = (r.json() or {}).get("items", [])
    check(hist and all(h.get("name", "").lower() == "mrf.exe" for h in hist), "history: %r" % hist)
    check(any(h.get("version") == "1.12.0.1156" for h in hist), "history has no old version")
    r = srv.request("GET", "/api/files/MRF.EXE/history?limit=1", token=True)
    check(len((r.json() or {}).get("items", [])) == 1, "history limit=1: %r" % r.body[:200])
    r = srv.request("GET", "/api/files/no-such.dll/history", token=True)
    check(r.status == 200 and (r.json() or {}).get("items") == [], "history of an unknown file")

    # audit and verification
    r = srv.request("GET", "/api/audit", token=True)
    expect_status(r, 200, "audit")
    actions = [i.get("action") for i in (r.json() or {}).get("items", [])]
    check("scan" in actions and "server_start" in actions, "audit actions: %r" % actions)
    r = srv.request("GET", "/api/audit?action=scan&limit=2", token=True)
    a = r.json() or {}
    check(len(a.get("items", [])) == 2 and a.get("next_before"), "audit scan page: %r" % a)
    r = srv.request("GET", "/api/audit?since=2200-01-01", token=True)
    check((r.json() or {}).get("items") == [], "audit since the future: %r" % r.body[:200])
    r = srv.request("GET", "/api/audit/verify", token=True)
    expect_status(r, 200, "verify")
    v = r.json() or {}
    check(v.get("intact") is True and v.get("rows", 0) > 0, "verify: %r" % v)
    r = srv.request("GET", "/api/audit/verify?head=" + v.get("head", "x"), token=True)
    check((r.json() or {}).get("intact") is True, "verify with head: %r" % r.body[:300])
    r = srv.request("GET", "/api/audit/verify?head=nonsense", token=True)
    expect_problem(r, 400, "verify with a bad head")

    # exports: attachments, chunked, parseable
    for name in ("history.csv", "history.json", "audit.csv", "audit.json"):
        r = srv.request("GET", "/api/export/" + name, token=True)
        if not expect_status(r, 200, "export " + name):
            continue
        expect_security_headers(r, "export " + name)
        check(r.header("transfer-encoding") == "chunked", "export %s not chunked" % name)
        check((r.header("content-disposition") or "").startswith("attachment"),
              "export %s disposition %r" % (name, r.header("content-disposition")))
        if name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(r.body.decode("utf-8"), newline="")))
            check(len(rows) >= 2 and len(set(len(x) for x in rows)) == 1,
                  "export %s: %d rows, widths %r" % (name, len(rows), set(len(x) for x in rows)))
            key = "path" if name.startswith("history") else "hash"
            check(rows and key in rows[0], "export %s header %r" % (name, rows[:1]))
        else:
            try:
                data = json.loads(r.body.decode("utf-8"))
            except ValueError as e:
                data = None
                check(False, "export %s is not JSON: %s" % (name, e))
            check(isinstance(data, list) and len(data) > 0 and all(isinstance(x, dict) for x in data),
                  "export %s: not a non-empty array of objects" % name)
    r = srv.request("GET", "/api/export/history.csv?since=2200-01-01", token=True)
    rows = list(csv.reader(io.StringIO(r.body.decode("utf-8"), newline="")))
    check(r.status == 200 and len(rows) == 1, "empty history export: %r" % rows)
    r = srv.request("GET", "/api/export/history.xml", token=True)
    expect_problem(r, 404, "export xml")

    # the OpenAPI document and the live routes agree
    r = srv.request("GET", "/api/openapi.json")
    expect_status(r, 200, "openapi")
    doc = r.json() or {}
    check(str(doc.get("openapi", "")).startswith("3."), "openapi version %r" % doc.get("openapi"))
    subst = {"{id}": "1", "{dir}": "js", "{name}": "openapi.json"}
    paths = doc.get("paths", {})
    check(len(paths) >= 15, "openapi documents only %d paths" % len(paths))
    for path, ops in paths.items():
        concrete = path
        for k, v in subst.items():
            concrete = concrete.replace(k, v)
        if concrete.startswith("/api/files/"):
            concrete = concrete.replace("openapi.json", "mrf.exe")
        for method in ops:
            if method in ("parameters", "summary", "description"):
                continue
            body = {} if method == "post" else None
            r = srv.request(method.upper(), concrete, token=True, body=body)
            j = r.json() if r.status == 404 else None
            routed = r.status != 405 and not (
                r.status == 404 and j and str(j.get("detail", "")).startswith("no such resource"))
            check(routed, "documented %s %s is not routed: %r" % (method.upper(), path, r))
        for method in ("PUT", "PATCH"):
            if method.lower() in ops:
                continue
            r = srv.request(method, concrete, token=True)
            check(r.status == 405, "undocumented %s %s: expected 405, got %d" % (method, path,
                                                                                  r.status))
    r = srv.request("GET", "/assets/openapi.json")
    expect_status(r, 200, "asset")
    check(r.header("content-type") == "application/json", "asset type %r" % r.header("content-type"))
    r = srv.request("GET", "/assets/nothing.js")
    expect_problem(r, 404, "missing asset")

    # the page: no inline script, one module entry point, and every module
    # it imports (transitively) embedded and served as JavaScript
    r = srv.request("GET", "/")
    page = r.body.decode("utf-8", "replace")
    scripts = re.findall(r"<script\b([^>]*)>", page)
    check(scripts == [' type="module" src="/assets/js/main.js"'], "page scripts: %r" % scripts)
    todo, seen = ["/assets/js/main.js"], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        r = srv.request("GET", path)
        expect_status(r, 200, "module " + path)
        check(r.header("content-type") == "text/javascript; charset=utf-8",
              "module %s type %r" % (path, r.header("content-type")))
        for dep in re.findall(r'^import [^;]*?from "\./([a-z]+\.js)";', r.body.decode(), re.M):
            todo.append("/assets/js/" + dep)
    check(len(seen) >= 9, "modules reached from main.js: %r" % sorted(seen))
    r = srv.request("GET", "/assets/js/../app.css")
    check(r.status in (400, 404), "a dot-dot asset path: %r" % r)
    r = srv.request("GET", "/assets/js/nothing.js")
    expect_problem(r, 404, "missing module")

    # shutdown: a keep-alive connection gets 503 (or is closed) once SIGTERM
    # arrived; the store stays intact (checked again by a fresh process)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15)
    conn.request("GET", "/api/health")
    r1 = conn.getresponse()
    r1.read()
    check(r1.status == 200, "keep-alive health: %d" % r1.status)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    try:
        conn.request("GET", "/api/health")
        r2 = conn.getresponse()
        body = r2.read()
        check(r2.status == 503 and b"shutting down" in body,
              "request after SIGTERM: %d %r" % (r2.status, body[:200]))
    except (ConnectionError, http.client.HTTPException, OSError):
        pass  # closed by the stopping server: fine too
    conn.close()
    srv.stop()
    r = subprocess.run([srv.exe, "--data", srv.data, "login-url"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    check(r.returncode == 2 and "no 'tmi-console serve' is running" in r.stderr,
          "login-url without a server: %d %r %r" % (r.returncode, r.stdout, r.stderr))
except Exception:  # an unexpected error is a failure; the server is still stopped
    check(False, "unexpected error:\n" + traceback.format_exc())
finish(srv, "integration/api")
