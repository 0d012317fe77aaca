#!/usr/bin/env python3
"""integration/jobs - the repair jobs over HTTP on a demo sandbox: the plan
and its digest, body validation, a refused stale plan, a repair followed
step by step while a second job is refused as busy, the service running and
the scan healthy afterwards, backups and a restore, the audit trail with
every step and the chain intact, and a stop that waits for a running job."""
import os
import re
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
          and steps.get("restore") == ["preflight", "backup", "stop", "restore", "rollback"],
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
        j, _ = wait_job(srv, (r.json() or {}).get("id", 0))
        check(j.get("status") == "succeeded", "restore: %r" % j)
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
except Exception:  # noqa: BLE001 - report, then clean up
    import traceback
    check(False, "exception: " + traceback.format_exc())
finish(srv, "jobs")
