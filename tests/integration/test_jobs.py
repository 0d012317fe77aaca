#!/usr/bin/env python3
"""integration/jobs - the repair jobs over HTTP on a demo sandbox: the plan
and its digest, body validation, a refused stale plan, a repair followed
step by step while a second job is refused as busy, the service running and
the scan healthy afterwards, backups and a restore, the audit trail with
every step and the chain intact, and a stop that waits for a running job.
Job outcomes: the summary of a repair, a restore whose service does not
come back (succeeded_service_down, over HTTP and from the CLI with exit 1,
and in the job's own audit record), and a job's audit records alone
(GET /api/audit?job=N, `audit --job N --json`)."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import Server, check, expect_problem, expect_status, finish  # noqa: E402

STEPS = ["preflight", "backup", "stop", "stage", "commit", "verify", "start", "rescan"]


def wait_job(srv, jid, timeout=60):
    deadline = time.time() + timeout
    seen = set()
    while time.time() < deadline:
        j = srv.request("GET", "/api/jobs/%d" % jid, token=True).json() or {}
        for s in j.get("steps", []):
            seen.add(s.get("step"))
        if j.get("status") != "running":
            return j, seen
        time.sleep(0.05)
    check(False, "job %d did not finish within %d s" % (jid, timeout))
    return {}, seen


srv = Server(sys.argv[1], "jobs", serve_args=("--stay-seconds", "1"))
try:
    # the plan: what will be copied from where, and its digest
    r = srv.request("GET", "/api/plan", token=True)
    expect_status(r, 200, "plan")
    plan = r.json() or {}
    check(plan.get("possible") is True and re.fullmatch(r"[0-9a-f]{64}", plan.get("digest") or ""),
          "plan: %r" % plan)
    files = plan.get("files") or []
    check(len(files) == 8 and all(f.get("from_version") == "1.12.0.1156"
                                  and f.get("to_version") == "1.12.0.1266"
                                  and "filegroup100" in (f.get("source_path") or "")
                                  for f in files), "plan files: %r" % files)
    # each action's steps, as the job will report them; the playbook's files
    steps = plan.get("steps") or {}
    check(steps.get("repair") == STEPS + ["rollback"], "plan steps: %r" % steps)
    check(steps.get("backup") == ["preflight", "backup"]
          and steps.get("restart") == ["stop", "start"]
          and steps.get("replace") == STEPS[:6] + ["rollback"]
          and steps.get("restore") == ["preflight", "backup", "stop", "restore", "start",
                                       "rollback"],
          "plan steps: %r" % steps)
    check(plan.get("playbook_files") == [f.get("name") for f in files],
          "playbook_files %r, files %r" % (plan.get("playbook_files"), files))

    # bodies are validated
    for body, what in (({"action": "explode"}, "unknown action"),
                       ({"action": "repair", "force": True}, "unknown field"),
                       ({"action": "restore"}, "restore without backup"),
                       ({"action": "repair", "backup": "x"}, "backup with repair"),
                       ({"action": "repair", "confirm": "zz"}, "bad digest"),
                       ([1, 2], "not an object")):
        expect_problem(srv.request("POST", "/api/jobs", token=True, body=body), 400, what)
    expect_status(srv.request("POST", "/api/jobs", body={"action": "backup"}), 401, "no token")

    # a plan that is not the current one is refused by the job
    r = srv.request("POST", "/api/jobs", token=True,
                    body={"action": "repair", "confirm": "0" * 64})
    expect_status(r, 202, "stale plan accepted for checking")
    j, _ = wait_job(srv, (r.json() or {}).get("id", 0))
    check(j.get("status") == "failed" and "confirmed" in (j.get("message") or ""),
          "stale plan refused: %r" % j)

    # the repair, with a second job refused while it runs
    r = srv.request("POST", "/api/jobs", token=True,
                    body={"action": "repair", "confirm": plan.get("digest")})
    expect_status(r, 202, "repair")
    jid = (r.json() or {}).get("id", 0)
    check(r.header("location") == "/api/jobs/%d" % jid, "repair Location %r" % r.header("location"))
    busy = srv.request("POST", "/api/jobs", token=True, body={"action": "backup"})
    expect_problem(busy, 409, "second job while one runs")
    check("job %d" % jid in ((busy.json() or {}).get("detail") or ""),
          "busy answer names the running job: %r" % busy.body)
    j, seen = wait_job(srv, jid)
    check(j.get("status") == "succeeded", "repair: %r" % j)
    check([s.get("step") for s in j.get("steps", [])] == STEPS, "repair steps: %r" % j.get("steps"))
    check(all(s.get("outcome") == "ok" for s in j.get("steps", [])), "step outcomes: %r" % j)
    check(len(seen) >= 2, "progress was visible while the job ran: %r" % seen)
    # the change in one line, its backup, its report and its audit records
    summary = j.get("summary") or {}
    check(re.match(r"^8 files: 1\.12\.0\.1156 -> 1\.12\.0\.1266, backup \S+", summary.get("text", ""))
          and summary.get("files") == 8 and summary.get("from") == "1.12.0.1156"
          and summary.get("to") == "1.12.0.1266" and summary.get("backup") == j.get("backup")
          and "event" not in summary, "repair summary: %r" % summary)
    check(j.get("report") == "/api/jobs/%d/report" % jid, "report link: %r" % j.get("report"))
    span = j.get("audit") or {}
    check(0 < span.get("first_seq", 0) <= span.get("last_seq", 0), "audit span: %r" % span)
    mine = (srv.request("GET", "/api/audit?job=%d&limit=500" % jid, token=True).json()
            or {}).get("items", [])
    check(len(mine) >= len(STEPS) + 1 and all(i.get("job") == jid for i in mine)
          and {i["seq"] for i in mine} >= {span.get("first_seq"), span.get("last_seq")}
          and min(i["seq"] for i in mine) == span.get("first_seq")
          and max(i["seq"] for i in mine) == span.get("last_seq"),
          "audit of job %d: %r" % (jid, [(i.get("seq"), i.get("action"), i.get("job")) for i in mine]))
    check({"repair", "repair.commit", "scan"} <= {i.get("action") for i in mine},
          "the job's records include its steps and scans: %r" % [i.get("action") for i in mine])
    everything = (srv.request("GET", "/api/audit?limit=500", token=True).json() or {}).get("items", [])
    check(len([i for i in everything if i.get("job") == jid]) == len(mine)
          and any(i.get("job") is None for i in everything),
          "job column of the whole trail: %r" % [(i.get("seq"), i.get("job")) for i in everything])
    for bad in ("0", "-1", "abc", "1.5", "99999999999999999999", ""):
        expect_problem(srv.request("GET", "/api/audit?job=" + bad, token=True), 400,
                       "audit job %r" % bad)
    none = srv.request("GET", "/api/audit?job=999999", token=True).json() or {}
    check(none.get("items") == [] and none.get("next_before") is None, "audit of no job: %r" % none)
    cli_rows = json.loads(srv.cli("audit", "--job", str(jid), "--limit", "500", "--json"))
    check([i["seq"] for i in cli_rows.get("items", [])] == [i["seq"] for i in mine],
          "audit --job: %r" % cli_rows)
    r = subprocess.run([srv.exe, "--data", srv.data, "audit", "--job", "x"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and "--job" in r.stderr, "audit --job x: %d %r" % (r.returncode, r.stderr))

    st = srv.request("GET", "/api/status", token=True).json() or {}
    check((st.get("service") or {}).get("state") == "running", "service after repair: %r" % st)
    r = srv.request("POST", "/api/scan", token=True)
    check(((r.json() or {}).get("scan") or {}).get("verdict") == "healthy",
          "scan after repair: %r" % r.body[:200])
    plan2 = srv.request("GET", "/api/plan", token=True).json() or {}
    check(plan2.get("possible") is False and plan2.get("digest") is None, "plan when healthy")

    # replace refuses on a healthy system and changes nothing
    r = srv.request("POST", "/api/jobs", token=True, body={"action": "replace"})
    j, _ = wait_job(srv, (r.json() or {}).get("id", 0))
    check(j.get("status") == "failed" and "refused" in (j.get("message") or ""),
          "replace when healthy: %r" % j)

    # backups and a restore
    backups = (srv.request("GET", "/api/backups", token=True).json() or {}).get("backups") or []
    check(len(backups) >= 1 and len(backups[0].get("files", [])) == 8, "backups: %r" % backups)
    jobs = (srv.request("GET", "/api/jobs?limit=2", token=True).json() or {}).get("jobs") or []
    check(len(jobs) == 2 and jobs[0]["id"] > jobs[1]["id"], "job list: %r" % jobs)
    repair_backup = next((b for b in backups if b["id"].endswith("-job%d" % jid)), None)
    check(repair_backup is not None, "the repair's backup is listed: %r" % backups)
    if repair_backup:
        r = srv.request("POST", "/api/jobs", token=True,
                        body={"action": "restore", "backup": repair_backup["id"]})
        rid = (r.json() or {}).get("id", 0)
        j, _ = wait_job(srv, rid)
        # the old files are back, and with them the service does not start
        # (event 800): the files stay, the job says the service is down
        check(j.get("status") == "succeeded_service_down" and j.get("rolled_back") is False,
              "restore: %r" % j)
        steps = j.get("steps") or []
        check([s.get("step") for s in steps] == ["preflight", "backup", "stop", "restore", "start"]
              and steps[-1].get("outcome") == "failed", "restore steps: %r" % steps)
        summary = j.get("summary") or {}
        check(summary.get("text", "").startswith("8 files: 1.12.0.1266 -> 1.12.0.1156, backup ")
              and "did not start" in summary.get("text", "")
              and summary.get("restored") == repair_backup["id"]
              and "is not ready" in (summary.get("event") or "")
              and summary.get("event_id") == 800, "restore summary: %r" % summary)
        listed = (srv.request("GET", "/api/jobs?limit=1", token=True).json() or {}).get("jobs")
        check(listed and listed[0].get("status") == "succeeded_service_down"
              and listed[0].get("summary") == summary, "job list: %r" % listed)
        own = (srv.request("GET", "/api/audit?job=%d&action=restore" % rid, token=True).json()
               or {}).get("items", [])
        check(len(own) == 1 and own[0].get("outcome") == "service_down"
              and (own[0].get("details") or {}).get("status") == "succeeded_service_down"
              and "did not start" in (own[0].get("details") or {}).get("message", ""),
              "the restore's audit record: %r" % own)
        r = srv.request("POST", "/api/scan", token=True)
        check(((r.json() or {}).get("scan") or {}).get("verdict") == "affected",
              "scan after restoring the old files: %r" % r.body[:200])
    r = srv.request("POST", "/api/jobs", token=True,
                    body={"action": "restore", "backup": "../../etc"})
    j, _ = wait_job(srv, (r.json() or {}).get("id", 0))
    check(j.get("status") == "failed", "restore of a bad id: %r" % j)

    expect_problem(srv.request("GET", "/api/jobs/999999", token=True), 404, "unknown job")
    expect_problem(srv.request("GET", "/api/jobs/abc", token=True), 400, "job id abc")

    # the audit trail holds every step, and the chain is intact
    items = (srv.request("GET", "/api/audit?limit=500", token=True).json() or {}).get("items", [])
    actions = {i.get("action") for i in items}
    for a in ["repair.%s" % s for s in STEPS] + ["repair", "restore", "restore.restore"]:
        check(a in actions, "audit has %s: %r" % (a, sorted(actions)))
    v = srv.request("GET", "/api/audit/verify", token=True).json() or {}
    check(v.get("intact") is True, "audit verify: %r" % v)

    # a stop while a job runs waits for the job
    r = srv.request("POST", "/api/jobs", token=True, body={"action": "restart"})
    jid = (r.json() or {}).get("id", 0)
    time.sleep(0.2)
    rc, _ = srv.stop()
    check(rc == 0, "stop during a job: exit %r" % rc)
    out = srv.cli("jobs", str(jid), "--json")
    check('"running"' not in out.split('"status"')[1][:20], "job after stop: %s" % out[:300])

    # from the CLI: a repair (the service runs again), then the restore of
    # its backup, whose service does not come back: exit 1
    def cli_run(*args):
        return subprocess.run([srv.exe, "--data", srv.data] + list(args), capture_output=True,
                              text=True, timeout=120)
    r = cli_run("repair", "--root", srv.sandbox, "--yes", "--stay-seconds", "1", "--json")
    fixed = json.loads(r.stdout or "{}")
    check(r.returncode == 0 and fixed.get("status") == "succeeded", "CLI repair: %d %r %r"
          % (r.returncode, r.stdout[:300], r.stderr[-300:]))
    r = cli_run("restore", fixed.get("backup") or "-", "--root", srv.sandbox, "--yes",
                "--stay-seconds", "1")
    check(r.returncode == 1 and "THE SERVICE IS NOT RUNNING" in r.stdout
          and "did not start" in r.stdout, "CLI restore: %d %r %r"
          % (r.returncode, r.stdout, r.stderr[-500:]))
    listed = json.loads(srv.cli("jobs", "--json", "--limit", "1"))
    check(listed and listed[0].get("action") == "restore"
          and listed[0].get("status") == "succeeded_service_down", "jobs --json: %r" % listed)
    table = srv.cli("jobs", "--limit", "1")
    check("succeeded_service_down" in table, "jobs: %r" % table)
    rid = listed[0].get("id", 0) if listed else 0
    own = json.loads(srv.cli("audit", "--job", str(rid), "--action", "restore", "--json"))
    check([i.get("outcome") for i in own.get("items", [])] == ["service_down"],
          "the CLI restore's audit record: %r" % own)
except Exception:  # noqa: BLE001 - report, then clean up
    import traceback
    check(False, "exception: " + traceback.format_exc())
finish(srv, "jobs")
