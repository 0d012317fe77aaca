#!/usr/bin/env python3
"""integration/report - the incident reports, the login page and the offline
audit check, on a demo sandbox: a repair's report over HTTP (authentication
as for every API call: the session cookie alone is refused; 404 for an
unknown job; the files' versions and SHA-256 before and after, the backup,
the steps, the audit rows and the chain), the report of now, the same from
`tmi-console report` (stdout and --out), a reused login URL answered with a
page for a browser and problem+json for a script, /favicon.ico, and
`audit verify --file` on an export (intact, edited, cut short, wrong head)
without a data folder, and on an export written here from db/audit.h's
layout alone."""
import datetime
import hashlib
import html
import json
import os
import re
import struct
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import (Server, check, expect_problem, expect_security_headers,  # noqa: E402
                       expect_status, finish)

TMI_REL = os.path.join("Program Files (x86)", "Trend Micro", "COMMON", "TMI")
BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                  "image/webp,*/*;q=0.8")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def wait_job(srv, jid, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        j = srv.request("GET", "/api/jobs/%d" % jid, token=True).json() or {}
        if j.get("status") != "running":
            return j
        time.sleep(0.05)
    check(False, "job %d did not finish within %d s" % (jid, timeout))
    return {}


def text_of(body):
    """The document's text, tags out and entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", " ", body.decode("utf-8")))


def run(exe, *args):
    return subprocess.run([exe] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)


def check_document(body, what):
    doc = body.decode("utf-8")
    check(doc.startswith("<!DOCTYPE html>") and doc.rstrip().endswith("</html>"),
          "%s: not a whole HTML document: %r" % (what, doc[:200]))
    check("<script" not in doc and " style=" not in doc,
          "%s: a script or an inline style (the CSP forbids them)" % what)


def report_checks(srv, job, tmi, backup_dir):
    r = srv.request("GET", "/api/jobs/%d/report" % job["id"], token=True)
    expect_status(r, 200, "job report")
    expect_security_headers(r, "job report")
    check((r.header("content-type") or "").startswith("text/html"),
          "job report type %r" % r.header("content-type"))
    check(r.header("content-disposition") == 'inline; filename="tmi-console-job-%d.html"'
          % job["id"], "job report disposition %r" % r.header("content-disposition"))
    check_document(r.body, "job report")
    check('<link rel="stylesheet" href="/assets/report.css">' in r.body.decode(),
          "the job report does not link its stylesheet")
    t = text_of(r.body)
    for want, what in ((job["backup"], "backup id"),
                       (sha256(os.path.join(tmi, "mrf.exe")), "mrf.exe after"),
                       (sha256(os.path.join(backup_dir, "mrf.exe")), "mrf.exe before"),
                       ("1.12.0.1156", "old version"), ("1.12.0.1266", "new version"),
                       ("affected -> healthy", "verdicts"),
                       ("8 files: 1.12.0.1156 -> 1.12.0.1266", "summary"),
                       ("repair.commit", "an audit row of a step"),
                       ("Chain head after the job's last record", "chain head"),
                       ("yes: every record's hash", "chain verified"),
                       ("running", "service state"),
                       ("Signature before", "signature column"),
                       ("unsigned", "the demo files' signatures (unsigned)")):
        check(want in t, "job report: no %s (%r)" % (what, want))
    for step in ("preflight", "backup", "stop", "commit", "verify", "start", "rescan"):
        check(re.search(r"\b%s\b" % step, t), "job report: no step %s" % step)
    check(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d", t),
          "job report: no server time with its offset")
    head = re.search(r"Chain head after the job's last record\s+(\d+:[0-9a-f]{64})", t)
    return head.group(1) if head else None


def auth_checks(srv, job_id):
    path = "/api/jobs/%d/report" % job_id
    expect_status(srv.request("GET", path), 401, "job report without credentials")
    expect_status(srv.request("GET", "/api/report"), 401, "report now without credentials")
    # the browser's session: cookie and page secret pass, the cookie alone does not
    u = urllib.parse.urlsplit(srv.cli("login-url").strip())
    r = srv.request("GET", u.path + "?" + u.query)
    expect_status(r, 303, "login for the report")
    cookie = (r.header("set-cookie") or "").split(";")[0]
    secret = (r.header("location") or "").rpartition("=")[2]
    expect_problem(srv.request("GET", path, headers={"Cookie": cookie}), 401,
                   "job report with the session cookie alone")
    r = srv.request("GET", path, headers={"Cookie": cookie, "X-TMI-Secret": secret})
    expect_status(r, 200, "job report with cookie and page secret")
    expect_problem(srv.request("GET", "/api/jobs/999999/report", token=True), 404,
                   "report of an unknown job")
    expect_problem(srv.request("GET", "/api/jobs/abc/report", token=True), 400,
                   "report of a job id that is not a number")
    expect_problem(srv.request("GET", "/api/report?x=1", token=True), 400,
                   "report with an unknown query parameter")
    return u


def now_checks(srv, tmi):
    r = srv.request("GET", "/api/report", token=True)
    expect_status(r, 200, "report now")
    check(r.header("content-disposition") == 'inline; filename="tmi-console-report.html"',
          "report now disposition %r" % r.header("content-disposition"))
    check_document(r.body, "report now")
    t = text_of(r.body)
    for want, what in (("healthy", "verdict"), (sha256(os.path.join(tmi, "mrf.exe")), "hash"),
                       ("Last job", "last job"), ("Chain head now", "chain head")):
        check(want in t, "report now: no %s (%r)" % (what, want))


def cli_checks(srv, job, tmi):
    out = srv.cli("report", str(job["id"]))
    check(out.startswith("<!DOCTYPE html>") and "<style>" in out and job["backup"] in out
          and sha256(os.path.join(tmi, "mrf.exe")) in out and "/assets/report.css" not in out,
          "report JOB_ID on stdout: %r" % out[:300])
    dest = os.path.join(srv.tmp, "job.html")
    check(srv.cli("report", str(job["id"]), "--out", dest) == "", "report --out printed something")
    with open(dest, encoding="utf-8") as f:
        written = f.read()
    # the same document (the parts read now, the chain and the time, may move on)
    same = re.compile(r'<section class="(?:facts|files|steps)">.*?</section>', re.S)
    made = re.compile(r"Report made</dt><dd>[^<]*")
    check(same.findall(made.sub("", written)) == same.findall(made.sub("", out))
          and written.startswith("<!DOCTYPE html>") and "<style>" in written,
          "report --out differs from stdout")
    check(not [n for n in os.listdir(srv.tmp) if ".tmp-" in n], "report --out left a temp file")
    check("healthy" in srv.cli("report", "now"), "report now on stdout")
    for args, what in ((("report", "999999"), "unknown job"), (("report",), "no job id"),
                       (("report", "-1"), "negative id"), (("report", "1x"), "bad id"),
                       (("report", "1", "--out", ""), "empty --out")):
        r = run(srv.exe, "--data", srv.data, *args)
        check(r.returncode == 2 and r.stdout == "" and "tmi-console report:" in r.stderr,
              "report %s: rc %d, %r %r" % (what, r.returncode, r.stdout, r.stderr))
    r = run(srv.exe, "report", "--help")
    check(r.returncode == 0 and "JOB_ID|now" in r.stdout, "report --help: %r" % r.stdout)


def login_page_checks(srv, u):
    used = u.path + "?" + u.query  # used once by auth_checks
    r = srv.request("GET", used, headers={"Accept": BROWSER_ACCEPT})
    expect_status(r, 403, "a used login URL from a browser")
    expect_security_headers(r, "login page")
    check((r.header("content-type") or "").startswith("text/html"),
          "login page type %r" % r.header("content-type"))
    t = text_of(r.body)
    check("tmi-console login-url" in t and not r.all("set-cookie"), "login page: %r" % t[:300])
    check_document(r.body, "login page")
    r = srv.request("GET", "/login", headers={"Accept": BROWSER_ACCEPT})
    check(r.status == 400 and (r.header("content-type") or "").startswith("text/html"),
          "login without code from a browser: %r" % r)
    # a navigation without Accept is known by Sec-Fetch-Dest
    r = srv.request("GET", used, headers={"Sec-Fetch-Dest": "document"})
    check(r.status == 403 and (r.header("content-type") or "").startswith("text/html"),
          "login page by Sec-Fetch-Dest: %r" % r)
    for accept in ("application/json", "*/*", None, "text/html;q=0.5, application/json"):
        h = {"Accept": accept} if accept is not None else {}
        expect_problem(srv.request("GET", used, headers=h), 403,
                       "a used login URL with Accept %r" % accept)
    r = srv.request("GET", "/favicon.ico")
    check(r.status in (200, 204) and (r.status == 204 or
                                      r.header("content-type") == "image/svg+xml"),
          "favicon: %r" % r)


def independent_export(n):
    """An export of n rows made here from db/audit.h's layout alone (not by
    tmi-console): the check must accept it. Returns (text, "SEQ:HASH")."""
    def field(v):
        if v is None:
            return b"\xff\xff\xff\xff"
        b = v.encode("utf-8")
        return struct.pack(">I", len(b)) + b
    prev, rows = b"\0" * 32, []
    for seq in range(1, n + 1):
        ns = 1796210871125270266 + seq * 1234567
        f = {"actor": "J\u00fcrgen", "auth": "session", "action": "repair.commit",
             "target": None if seq % 3 else "C:\\TMI", "params": '{"a":[1,"\\u00e9"]}',
             "outcome": "ok", "details": '{"job":%d,"message":"x \\"y\\""}' % seq}
        h = hashlib.sha256(prev + b"TMIA1" + struct.pack(">Q", seq) + struct.pack(">q", ns)
                           + b"".join(field(f[k]) for k in ("actor", "auth", "action", "target",
                                                            "params", "outcome", "details")))
        t = datetime.datetime.fromtimestamp(ns // 10**9, datetime.timezone.utc)
        rows.append(dict(seq=seq, time=t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ"
                         % (ns // 10**6 % 1000), time_ns=str(ns), **f, prev_hash=prev.hex(),
                         hash=h.hexdigest()))
        prev = h.digest()
    text = "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n"
    return text, "%d:%s" % (n, prev.hex())


def verify_checks(srv):
    exe = srv.exe
    d = os.path.join(srv.tmp, "auditor")
    os.makedirs(d)
    export = os.path.join(d, "audit.json")
    # the head as the administrator notes it, then the export handed over
    head = json.loads(srv.cli("audit", "verify", "--json"))["head"]
    r = srv.request("GET", "/api/export/audit.json", token=True)
    expect_status(r, 200, "audit export")
    with open(export, "wb") as f:
        f.write(r.body)
    # an auditor's machine: no data folder at all (one that cannot be made)
    env = dict(os.environ, HOME="/nonexistent", XDG_STATE_HOME="/nonexistent")
    nodata = ["--data", "/nonexistent/tmi-data"]

    def verify(*args):
        return subprocess.run([exe] + nodata + ["audit", "verify", "--file"] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=60, env=env)
    r = verify(export)
    check(r.returncode == 0 and "intact" in r.stdout, "verify --file: %r %r" % (r.stdout, r.stderr))
    r = verify(export, "--head", head)
    check(r.returncode == 0 and "matches the given head" in r.stdout,
          "verify --file --head: %r %r" % (r.stdout, r.stderr))
    r = verify(export, "--head", head, "--json")
    j = json.loads(r.stdout) if r.returncode == 0 else {}
    check(j.get("intact") is True and j.get("head") == head and j.get("head_matched") is True,
          "verify --file --json: %r" % r.stdout)
    check(not os.path.exists("/nonexistent/tmi-data"), "verify --file made a data folder")
    with open(export, encoding="utf-8") as f:
        text = f.read()
    cases = (("edited", text.replace('"outcome":"ok"', '"outcome":"failed"', 1), (), 1),
             ("cut short", text[: len(text) // 2], (), 1),
             ("wrong head", text, ("--head", head[:-1] + ("0" if head[-1] != "0" else "1")), 1),
             ("not an export", "hello", (), 2))
    for what, body, extra, want in cases:
        p = os.path.join(d, what.replace(" ", "-") + ".json")
        with open(p, "w", encoding="utf-8") as f:
            f.write(body)
        r = verify(p, *extra)
        check(r.returncode == want, "verify --file, %s: rc %d (want %d) %r %r"
              % (what, r.returncode, want, r.stdout, r.stderr))
        if want == 1:
            check(re.search(r"BROKEN at seq \d+", r.stdout), "verify %s: %r" % (what, r.stdout))
    text, head = independent_export(50)
    p = os.path.join(d, "independent.json")
    with open(p, "w", encoding="utf-8") as f:
        f.write(text)
    r = verify(p, "--head", head)
    check(r.returncode == 0, "verify an export made from audit.h alone: %r %r"
          % (r.stdout, r.stderr))
    r = verify(os.path.join(d, "missing.json"))
    check(r.returncode == 2 and "cannot read" in r.stderr, "verify a missing file: %r" % r.stderr)
    r = verify(export, "--head", "nonsense")
    check(r.returncode == 2, "verify --head nonsense: %r" % r.stderr)


srv = Server(sys.argv[1], "report", serve_args=("--stay-seconds", "1"))
try:
    tmi = os.path.join(srv.sandbox, TMI_REL)
    plan = srv.request("GET", "/api/plan", token=True).json() or {}
    r = srv.request("POST", "/api/jobs", token=True,
                    body={"action": "repair", "confirm": plan.get("digest")})
    expect_status(r, 202, "repair")
    job = wait_job(srv, (r.json() or {}).get("id", 0))
    check(job.get("status") == "succeeded" and job.get("backup"), "repair: %r" % job)
    if job.get("backup"):
        backup_dir = os.path.join(srv.data, "backups", job["backup"])
        job_head = report_checks(srv, job, tmi, backup_dir)
        check(job_head is not None, "the job report names no chain head")
        u = auth_checks(srv, job["id"])
        now_checks(srv, tmi)
        cli_checks(srv, job, tmi)
        login_page_checks(srv, u)
    verify_checks(srv)
finally:
    finish(srv, "report")
