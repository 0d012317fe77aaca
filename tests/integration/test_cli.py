"""test_cli.py TMI_CONSOLE - the command line as scripts and auditors use it:
exit codes, --json that is JSON alone on stdout, the confirmation prompt,
history/audit/export, `audit verify` catching a database edited behind the
console's back (raw SQL on the real file), `audit reanchor`, and the CLI and
a running server writing to one store at once without losing a row.
"""
import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import (Server, check, expect_status, finish,  # noqa: E402
                       folder_bytes, stop_sandbox_service)

EXE = sys.argv[1]
TMI_REL = os.path.join("Program Files (x86)", "Trend Micro", "COMMON", "TMI")


def run(data, *args, stdin=None):
    return subprocess.run([EXE, "--data", data] + list(args), input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


def as_json(r, what):
    try:
        return json.loads(r.stdout)
    except ValueError:
        check(False, "%s: stdout is not JSON alone: %r" % (what, r.stdout[:300]))
        return None




def tamper(data, sql):
    """Edit the database behind the console's back, triggers dropped first."""
    db = sqlite3.connect(os.path.join(data, "tmi-console.db"))
    for (name,) in db.execute("SELECT name FROM sqlite_schema WHERE type = 'trigger'").fetchall():
        db.execute('DROP TRIGGER "%s"' % name)
    db.execute(sql)
    db.commit()
    db.close()


srv = Server(EXE, "cli")
try:
    # ---- a store of its own for the single-process checks ----
    data = os.path.join(srv.tmp, "cli-data")
    box = os.path.join(srv.tmp, "cli-sandbox")
    tmi = os.path.join(box, TMI_REL)
    r = run(data, "demo", "--no-serve", "--dir", box)
    check(r.returncode == 0 and "AFFECTED" in r.stdout, "demo --no-serve: exit %d %r %s"
          % (r.returncode, r.stdout[:200], r.stderr))
    r = run(data, "scan", "--root", box, "--json")
    scan = as_json(r, "scan --json")
    check(r.returncode == 1 and scan and scan["verdict"] == "affected",
          "scan: exit %d verdict %r" % (r.returncode, scan and scan.get("verdict")))
    if scan:
        check([f["status"] for f in scan["files"]] == ["old"] * 8, "scan statuses: %r"
              % [f["status"] for f in scan["files"]])
        check(scan["repair"]["possible"] and scan["repair"]["source"].endswith("filegroup100"),
              "scan repair: %r" % scan["repair"])
    r = run(data, "scan", "--root", os.path.join(srv.tmp, "no-such-root"))
    check(r.returncode == 2 and "no such" in r.stderr, "scan of a missing root: %d %r"
          % (r.returncode, r.stderr))
    r = run(data, "scan", "--bogus")
    check(r.returncode == 2 and r.stderr, "unknown option: exit %d" % r.returncode)

    # inspect: JSON in argument order, exit 2 when one is not a PE file
    text = os.path.join(srv.tmp, "notes.txt")
    with open(text, "w") as fh:
        fh.write("plain text\n")
    r = run(data, "inspect", "--json", os.path.join(tmi, "mrf.exe"), text)
    ins = as_json(r, "inspect --json")
    check(r.returncode == 2, "inspect with a non-PE file: exit %d, want 2" % r.returncode)
    if ins:
        check(ins[0]["file_version"] == "1.12.0.1156" and ins[0]["error"] is None,
              "inspect mrf.exe: %r" % ins[0])
        check(ins[1]["file_version"] is None and ins[1]["error"], "inspect text: %r" % ins[1])

    # the prompt: declined, nothing changes; with --json it stays off stdout
    before = folder_bytes(tmi)
    r = run(data, "repair", "--root", box, "--json", stdin="n\n")
    check(r.returncode == 1 and r.stdout == "" and "Proceed?" in r.stderr
          and "nothing was changed" in r.stderr,
          "declined repair --json: exit %d stdout %r stderr %r"
          % (r.returncode, r.stdout[:200], r.stderr[-300:]))
    check(folder_bytes(tmi) == before, "a declined repair changed the TMI folder")
    r = run(data, "repair", "--root", box, stdin="n\n")
    check("Plan: replace 8 files" in r.stdout and "is_backup" in r.stdout,
          "the plan shown before the prompt: %r" % r.stdout[:400])

    # the repair with --json: stdout is the job document alone
    r = run(data, "repair", "--root", box, "--yes", "--json", "--stay-seconds", "1")
    job = as_json(r, "repair --yes --json")
    check(r.returncode == 0 and job and job["status"] == "succeeded",
          "repair: exit %d %r %s" % (r.returncode, job and job.get("message"), r.stderr[-300:]))
    check("preflight" in r.stderr and "commit" in r.stderr, "no progress on stderr: %r"
          % r.stderr[-300:])
    r = run(data, "scan", "--root", box)
    check(r.returncode == 0 and r.stdout.startswith("HEALTHY"), "scan after the repair: %d %r"
          % (r.returncode, r.stdout[:200]))
    r = run(data, "repair", "--root", box, "--yes")
    check(r.returncode == 1 and "Nothing to do" in r.stdout, "repair of a healthy system: %d %r"
          % (r.returncode, r.stdout[:200]))
    # a restore shows what it will put back
    r = run(data, "backups", "--json")
    backups = as_json(r, "backups --json") or []
    check(len(backups) == 1, "backups after one repair: %r" % backups)
    if backups:
        r = run(data, "restore", backups[0]["id"], "--root", box, stdin="n\n")
        check("1.12.0.1156" in r.stdout and "mrf.exe" in r.stdout and "sha256" in r.stdout,
              "the restore plan: %r" % r.stdout[:500])
    r = run(data, "restore", "no-such-backup", "--root", box, "--yes")
    check(r.returncode == 2 and "no such backup" in r.stderr, "restore of a missing backup: %d %r"
          % (r.returncode, r.stderr))

    # history: the file's versions over time, newest first
    r = run(data, "history", "--file", "mrf.exe", "--json")
    rows = (as_json(r, "history --json") or {}).get("items") or []
    tmi_rows = [x for x in rows if x["kind"] != "source"]
    check([x["version"] for x in tmi_rows][:2] == ["1.12.0.1266", "1.12.0.1156"],
          "mrf.exe history: %r" % [(x["kind"], x["version"]) for x in rows])

    # audit and export agree, and the chain verifies
    r = run(data, "audit", "--json", "--limit", "500")
    audit_rows = (as_json(r, "audit --json") or {}).get("items") or []
    actions = {x["action"] for x in audit_rows}
    check({"scan", "repair", "repair.backup", "repair.commit", "repair.start"} <= actions,
          "audit actions: %r" % sorted(actions))
    # the step that changed the files records their hashes and versions before and after
    commit = [x for x in audit_rows if x["action"] == "repair.commit"]
    d = commit[0]["details"].get("details") if commit else None
    check(d and [f["version"] for f in d["before"]] == ["1.12.0.1156"] * 8
          and [f["version"] for f in d["after"]] == ["1.12.0.1266"] * 8
          and all(len(f["sha256"] or "") == 64 for f in d["before"] + d["after"])
          and all(a["sha256"] != b["sha256"] for a, b in zip(d["before"], d["after"])),
          "repair.commit audit details: %r" % (commit[:1],))
    r = run(data, "export", "--what", "audit", "--format", "csv")
    table = list(csv.reader(io.StringIO(r.stdout, newline="")))
    check(r.returncode == 0 and table and table[0][:3] == ["seq", "time", "time_ns"]
          and len(table) - 1 == len(audit_rows),
          "export csv: %d rows for %d audit rows" % (len(table) - 1, len(audit_rows)))
    r = run(data, "export", "--what", "history", "--format", "json", "--since", "2000-01-01")
    check(r.returncode == 0 and as_json(r, "export history json") is not None,
          "export history json: %d" % r.returncode)
    r = run(data, "export", "--what", "audit", "--format", "xml")
    check(r.returncode == 2, "export --format xml: exit %d" % r.returncode)
    # --out: a new file (created exclusively, then renamed), no temporary left
    out_dir = os.path.join(data, "exports")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "audit-é.json")
    r = run(data, "export", "--what", "audit", "--format", "json", "--out", out)
    try:
        with open(out, encoding="utf-8") as fh:
            exported = json.load(fh)
    except (OSError, ValueError) as e:
        exported = None
        check(False, "export --out: %s" % e)
    check(r.returncode == 0 and r.stdout == "" and isinstance(exported, list)
          and len(exported) == len(audit_rows) and os.listdir(out_dir) == ["audit-é.json"],
          "export --out: exit %d, %r, files %r" % (r.returncode, r.stderr, os.listdir(out_dir)))
    r = run(data, "audit", "verify")
    check(r.returncode == 0 and "intact" in r.stdout, "verify: %d %r" % (r.returncode, r.stdout))

    # edited behind the console's back: caught, with the row named
    n = len(audit_rows)
    tamper(data, "UPDATE audit_log SET outcome = (SELECT outcome FROM audit_log WHERE seq = 1) "
                 "WHERE seq = 3")
    tamper(data, "UPDATE audit_log SET time_ns = time_ns + 1 WHERE seq = 3")
    r = run(data, "audit", "verify", "--json")
    v = as_json(r, "audit verify --json") or {}
    check(r.returncode == 1 and v.get("intact") is False and v.get("broken_seq") == 3,
          "verify after an edit of row 3: %d %r" % (r.returncode, v))
    r = run(data, "audit", "reanchor")
    check(r.returncode == 1 and "broken" in r.stderr, "reanchor of a broken chain: %d %r"
          % (r.returncode, r.stderr))
    # a deleted anchor stays missing after more work, until re-anchored
    data2 = os.path.join(srv.tmp, "cli-data2")
    run(data2, "scan", "--root", box)
    os.remove(os.path.join(data2, "audit-head"))
    run(data2, "scan", "--root", box)
    r = run(data2, "audit", "verify")
    check(r.returncode == 1 and "anchor" in r.stdout, "verify without audit-head: %d %r"
          % (r.returncode, r.stdout))
    r = run(data2, "audit", "reanchor")
    check(r.returncode == 0 and "re-anchored" in r.stdout, "reanchor: %d %r %r"
          % (r.returncode, r.stdout, r.stderr))
    r = run(data2, "audit", "verify")
    check(r.returncode == 0, "verify after reanchor: %d %r" % (r.returncode, r.stdout))
    r = run(data2, "audit", "--action", "audit_reanchor", "--json")
    rr = (as_json(r, "audit --action audit_reanchor") or {}).get("items") or []
    check(len(rr) == 1 and (rr[0].get("details") or {}).get("was") == "anchor missing",
          "the reanchor row: %r" % rr)

    # ---- the CLI and the running server write to one store at once ----
    cli_scans, api_scans = 12, 12
    errors = []

    def cli_worker():
        for _ in range(cli_scans):
            r = subprocess.run([EXE, "--data", srv.data, "scan", "--root", srv.sandbox],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               timeout=60)
            if r.returncode != 1:
                errors.append("cli scan: exit %d %s" % (r.returncode, r.stderr))

    def api_worker():
        for _ in range(api_scans):
            r = srv.request("POST", "/api/scan", body={}, token=True)
            if r.status != 201:
                errors.append("api scan: HTTP %d %r" % (r.status, r.body[:200]))

    before = srv.request("GET", "/api/scans?limit=500", token=True).json() or {}
    n_before = len(before.get("items") or before.get("scans") or [])
    ts = [threading.Thread(target=cli_worker), threading.Thread(target=api_worker)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errors, "concurrent writers: %r" % errors[:3])
    after = srv.request("GET", "/api/scans?limit=500", token=True)
    expect_status(after, 200, "scans after the concurrent writers")
    items = (after.json() or {}).get("items") or (after.json() or {}).get("scans") or []
    check(len(items) - n_before == cli_scans + api_scans,
          "scans stored: %d new, want %d" % (len(items) - n_before, cli_scans + api_scans))
    r = run(srv.data, "audit", "--action", "scan", "--json", "--limit", "500")
    scan_rows = (as_json(r, "audit of the scans") or {}).get("items") or []
    check(len(scan_rows) >= cli_scans + api_scans, "scan audit rows: %d" % len(scan_rows))
    r = run(srv.data, "audit", "verify")
    check(r.returncode == 0, "verify after concurrent writers: %d %r" % (r.returncode, r.stdout))
except Exception:  # an unexpected error is a failure; the server is still stopped
    import traceback
    check(False, "unexpected error:\n" + traceback.format_exc())
stop_sandbox_service(os.path.join(srv.tmp, "cli-sandbox"))
finish(srv, "integration/cli")
