"""tmi_fleet_report.py - the action that writes the fleet report of the
tmi_console role on the control node, from what each host's tmi_report fact
holds (see tasks/report.yml).

    tmi_fleet_report:
      dir: PATH      the report folder (made if missing)
      hosts: [...]   the hosts of the run, in order
      mode: check | report | repair
      pin: VERSION   the tmi-console version the run asked for

It writes DIR/fleet-report.json and DIR/fleet-report.csv (each to a temporary
file first, then renamed over the old one) and returns `lines`, one line of
text per host. The report is output, not a change to any host: it is written
in check mode too and the task never counts as changed. It runs here, in the
controller's process, whatever host the task is for.

What comes from a host (its scan, its job, its audit head: JSON that
tmi-console printed there) is checked before it is used: only the keys the
report names are taken, each of the type it should be, strings cut at
FIELD_MAX characters, at most FILES_MAX files per host. A value of another
type becomes null, so a damaged or hostile host cannot change the shape of
the report or of another host's row.
"""

import csv
import datetime
import io
import json
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

FIELD_MAX = 2048
FILES_MAX = 64
FILE_KEYS = ("name", "version", "status", "sha256")

# outcome of each state a host can end a run in
OUTCOMES = {
    "unreachable": "unreachable",
    "error": "error",
    "healthy": "healthy",
    "not_installed": "not_installed",
    "would_repair": "would_repair",
    "cannot_repair": "cannot_repair",
    "pending": "not_attempted",
    "repaired": "repaired",
    "failed": "failed",
}

CSV_COLUMNS = ("host", "outcome", "verdict", "verdict_after", "repair_source",
               "repair_variant", "job_id", "job_status", "rolled_back", "backup",
               "audit_head", "audit_intact", "tmi_console_version", "reason")


def _text(value):
    """A string from a host, cut to FIELD_MAX; anything else is None."""
    if not isinstance(value, str):
        return None
    return value[:FIELD_MAX]


def _flag(value):
    return value if isinstance(value, bool) else None


def _count(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _obj(value):
    return value if isinstance(value, dict) else {}


def _files(scan):
    files = scan.get("files")
    if not isinstance(files, list):
        return []
    out = []
    for f in files[:FILES_MAX]:
        if isinstance(f, dict):
            out.append({k: _text(f.get(k)) for k in FILE_KEYS})
    return out


def _job(job):
    if not isinstance(job, dict):
        return None
    return {"id": _count(job.get("id")), "status": _text(job.get("status")),
            "rolled_back": _flag(job.get("rolled_back")), "backup": _text(job.get("backup")),
            "step": _text(job.get("step")), "message": _text(job.get("message"))}


ROW_KEYS = ("host", "outcome", "reason", "os", "tmi_console_version", "verdict",
            "verdict_after", "tmi_dir", "expected_version", "files", "files_before",
            "repair_source", "repair_variant", "job", "backup", "audit_head", "audit_intact",
            "audit_error", "attempted")


def _row(host, report):
    """One host's row from its tmi_report fact (None: no result at all)."""
    row = dict.fromkeys(ROW_KEYS)
    row.update(host=host, files=[], attempted=False)
    if not isinstance(report, dict):
        row.update(outcome="error", reason="no result: the host failed before it was scanned")
        return row
    state = report.get("state")
    if state not in OUTCOMES:
        row.update(outcome="error", reason="unknown state %r" % (_text(state) or state,))
        return row
    row.update(outcome=OUTCOMES[state], reason=_text(report.get("reason")),
               attempted=report.get("attempted") is True)
    if state == "unreachable":
        return row
    scan = _obj(report.get("scan"))
    after = _obj(report.get("scan_after")) or scan
    repair = _obj(scan.get("repair"))
    audit = _obj(report.get("audit"))
    job = _job(report.get("job"))
    windows = _flag(report.get("windows"))
    if row["outcome"] == "failed" and job is not None and job["rolled_back"]:
        row["outcome"] = "rolled_back"
    row.update(
        os=None if windows is None else ("windows" if windows else "posix"),
        tmi_console_version=_text(report.get("version")),
        verdict=_text(scan.get("verdict")),
        verdict_after=_text(after.get("verdict")),
        tmi_dir=_text(after.get("tmi_dir")),
        expected_version=_text(scan.get("expected_version")),
        files=_files(after),
        files_before=_files(scan) if after is not scan else None,
        repair_source=_text(repair.get("source")),
        repair_variant=_text(repair.get("variant")),
        job=job,
        backup=job["backup"] if job else None,
        audit_head=_text(audit.get("head")),
        audit_intact=_flag(audit.get("intact")),
        audit_error=_text(audit.get("error")),
    )
    return row


def fleet_rows(hostvars, hosts):
    """One row per host of `hosts`, in order; hosts queued for repair but not
    reached say where the rollout stopped."""
    rows = []
    for host in hosts:
        try:
            report = hostvars[host].get("tmi_report")
        except (KeyError, AttributeError):
            report = None
        rows.append(_row(str(host), report))
    stopped = [r["host"] for r in rows if r["attempted"] and r["outcome"] != "repaired"]
    for r in rows:
        if r["outcome"] == "not_attempted":
            r["reason"] = ("the rollout stopped at %s" % ", ".join(stopped) if stopped
                           else "the run ended before this host")
    for r in rows:
        r["summary"] = _line(r)
    return rows


def _line(r):
    head = r.get("audit_head") or "none"
    job = r.get("job") or {}
    o = r["outcome"]
    if o == "unreachable":
        text = "UNREACHABLE: %s" % r["reason"]
    elif o == "error":
        text = "ERROR: %s" % r["reason"]
    elif o in ("healthy", "not_installed"):
        text = "%s, nothing to do" % o
    elif o == "would_repair":
        text = "affected, would repair from %s" % r["repair_source"]
    elif o == "cannot_repair":
        text = "affected, CANNOT REPAIR: %s" % r["reason"]
    elif o == "not_attempted":
        text = "affected, NOT ATTEMPTED: %s" % r["reason"]
    elif o == "repaired":
        text = "REPAIRED by job %s (backup %s), now %s" % (job.get("id"), r["backup"],
                                                          r["verdict_after"])
    else:
        text = "REPAIR %s: %s" % ("ROLLED BACK" if o == "rolled_back" else "FAILED", r["reason"])
    if o != "unreachable":
        text += "; audit head %s" % head
        if r.get("audit_intact") is False:
            text += " (AUDIT CHAIN BROKEN)"
    return "%s: %s" % (r["host"], text)


def fleet_json(rows, mode, pin):
    """The report as JSON text: when, in which mode, and the rows."""
    counts = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    doc = {
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": str(mode),
        "tmi_console_version": str(pin),
        "counts": counts,
        "hosts": rows,
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def _cell(value):
    """A CSV cell as the console's own export writes it (db/export.h): text
    that a spreadsheet would read as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def fleet_csv(rows):
    """One CSV line per host: the columns of CSV_COLUMNS, then one column per
    file name (its version after the run), in the order first seen."""
    names = []
    for r in rows:
        for f in r.get("files") or []:
            if f["name"] is not None and f["name"] not in names:
                names.append(f["name"])
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(list(CSV_COLUMNS) + names)
    for r in rows:
        job = r.get("job") or {}
        flat = dict(r, job_id=job.get("id"), job_status=job.get("status"),
                    rolled_back=job.get("rolled_back"))
        versions = {f["name"]: f["version"] for f in r.get("files") or []}
        w.writerow([_cell(flat.get(c)) for c in CSV_COLUMNS] +
                   [_cell(versions.get(n)) for n in names])
    return out.getvalue()


def _write(path, text):
    """Write text to path through a temporary file in the same folder."""
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".fleet-report-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dir", "hosts", "mode", "pin"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        folder, hosts = args.get("dir"), args.get("hosts")
        if not isinstance(folder, str) or not folder:
            raise AnsibleActionFail("tmi_fleet_report: dir must be a path")
        if not isinstance(hosts, list):
            raise AnsibleActionFail("tmi_fleet_report: hosts must be a list")
        rows = fleet_rows(task_vars["hostvars"], hosts)
        folder = os.path.abspath(folder)
        try:
            os.makedirs(folder, mode=0o755, exist_ok=True)
            _write(os.path.join(folder, "fleet-report.json"),
                   fleet_json(rows, args.get("mode"), args.get("pin")))
            _write(os.path.join(folder, "fleet-report.csv"), fleet_csv(rows))
        except OSError as e:
            raise AnsibleActionFail("cannot write the fleet report in %s: %s" % (folder, e))
        result.update(changed=False, path=folder, lines=[r["summary"] for r in rows])
        return result
