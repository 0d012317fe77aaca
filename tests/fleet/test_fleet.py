"""test_fleet.py TMI_CONSOLE - deploy/ansible/site.yml run by Debian's
ansible-playbook against sandbox hosts on this machine (ansible_connection
local, each with its own sandbox root and data folder made by `tmi-console
demo --no-serve`), plus hosts that cannot be reached (SSH and WinRM to a
closed port of 127.0.0.1):

  a  affected, complete source       b  healthy (repaired once when made)
  c  affected, no source             gone / gone-win  unreachable
  stale  pinned to another version   liar  prints scan JSON of another shape

1. check mode: every host reported correctly, nothing on any host changed;
   (and in 2.) a host that runs another version than the pin fails before
   its scan; a host whose scan prints JSON of another shape fails, and is
   never asked to repair
2. repair: a repaired (its audit head verifies with `audit verify --head`),
   b left alone, c failed with the reason, the unreachable hosts listed
3. the same repair again: changed=0 on every host
4. rollback: e (its TMI service's program is missing, so the service cannot
   start after the files were replaced) rolls back and stops the rollout
   before f, which is left untouched; the binary is copied by the role here
5. the report's checks of what a host sends (damaged JSON from a host)

Quiet on success; on failure prints each failed check and the play output.
Exit 77 (skip) when ansible-playbook is not installed.
"""
import csv
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

EXE = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))
SITE = os.path.join(HERE, "..", "..", "deploy", "ansible", "site.yml")
ROLE = os.path.join(HERE, "..", "..", "deploy", "ansible", "roles", "tmi_console")
TMI_REL = os.path.join("Program Files (x86)", "Trend Micro", "COMMON", "TMI")
SVC = os.path.join(".services", "TrendMicro Infrastructure")

_failures = []
_logs = []


def check(cond, what):
    if not cond:
        _failures.append(what)
    return bool(cond)


def tmi(data, *args):
    return subprocess.run([EXE, "--data", data] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


def closed_port():
    """A port of 127.0.0.1 that nothing listens on (bound, then let go)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tree_hashes(folder):
    """SHA-256 of every file under folder (path -> hash)."""
    out = {}
    for base, _dirs, files in os.walk(folder):
        for f in files:
            p = os.path.join(base, f)
            out[os.path.relpath(p, folder)] = file_hash(p)
    return out


def stop_service(root):
    """A repair leaves the sandbox's TMI service running: stop it."""
    try:
        with open(os.path.join(root, SVC + ".pid")) as fh:
            os.kill(int(fh.read().strip()), signal.SIGTERM)
    except (OSError, ValueError):
        pass


class Fleet:
    def __init__(self, work):
        self.work = work
        self.hosts = {}
        self.env = dict(os.environ)
        cfg = os.path.join(work, "ansible.cfg")
        with open(cfg, "w") as fh:
            fh.write("[defaults]\n")
        self.env.update(ANSIBLE_CONFIG=cfg, ANSIBLE_HOME=os.path.join(work, "ansible-home"),
                        ANSIBLE_LOCAL_TEMP=os.path.join(work, "ansible-tmp"),
                        ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                        ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_FORKS="10",
                        ANSIBLE_DEPRECATION_WARNINGS="0")

    def sandbox(self, name, copy_bin=True):
        """A host: a fresh sandbox root and data folder, and its own binary."""
        d = os.path.join(self.work, name)
        h = {"root": os.path.join(d, "root"), "data": os.path.join(d, "data"),
             "bin": os.path.join(d, "bin", "tmi-console")}
        r = tmi(h["data"], "demo", "--no-serve", "--dir", h["root"])
        check(r.returncode == 0, "%s: demo --no-serve: exit %d %s" % (name, r.returncode, r.stderr))
        if copy_bin:  # installed here: the role only checks its version
            os.makedirs(os.path.dirname(h["bin"]))
            shutil.copy2(EXE, h["bin"])
        else:  # the role copies it
            h["src"] = EXE
        self.hosts[name] = h
        return h

    def inventory(self, names, extra=None):
        hosts = {}
        for n in names:
            h = self.hosts[n]
            hosts[n] = {"tmi_console_bin": h["bin"], "tmi_root": h["root"], "tmi_data": h["data"]}
            if "src" in h:
                hosts[n]["tmi_console_src"] = h["src"]
        hosts.update(extra or {})
        inv = {"all": {"vars": {"ansible_connection": "local",
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                                "tmi_repair_options": ["--stay-seconds", "1"]},
                       "hosts": hosts}}
        path = os.path.join(self.work, "inventory-%d.json" % len(_logs))
        with open(path, "w") as fh:
            json.dump(inv, fh)
        return path

    def play(self, what, inventory, *args):
        """Run site.yml; return (exit code, recap {host: counts}, report)."""
        report_dir = os.path.join(self.work, "report-%d" % len(_logs))
        cmd = ["ansible-playbook", "-i", inventory, SITE, "-e", "tmi_report_dir=" + report_dir]
        r = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, env=self.env, cwd=self.work, timeout=300)
        _logs.append("---- %s: %s (exit %d)\n%s" % (what, " ".join(cmd + list(args)),
                                                     r.returncode, r.stdout))
        recap = {}
        for m in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", r.stdout, re.M):
            recap[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
        report = None
        try:
            with open(os.path.join(report_dir, "fleet-report.json")) as fh:
                report = json.load(fh)
            with open(os.path.join(report_dir, "fleet-report.csv"), newline="") as fh:
                report["csv"] = list(csv.DictReader(fh))
        except (OSError, ValueError) as e:
            check(False, "%s: no fleet report: %s" % (what, e))
        return r.returncode, recap, report, r.stdout


def brief(row):
    """A host's row for a failure message, without its file lists."""
    if not isinstance(row, dict):
        return row
    return {k: v for k, v in row.items() if k not in ("files", "files_before", "summary")}


def by_host(report):
    return {h["host"]: h for h in (report or {}).get("hosts", [])}


def scan(h):
    r = tmi(h["data"], "scan", "--root", h["root"], "--json", "--no-record")
    return json.loads(r.stdout) if r.returncode in (0, 1) else {}


def versions(s):
    return sorted({f["version"] for f in s.get("files", [])})


def jobs(h):
    r = tmi(h["data"], "jobs", "--json")
    return json.loads(r.stdout) if r.returncode == 0 else None


def file_hash(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def check_csv(what, report):
    """The CSV says what the JSON says, host by host."""
    rows = {r["host"]: r for r in report.get("csv", [])}
    for h in report["hosts"]:
        row = rows.get(h["host"], {})
        check(row.get("outcome") == h["outcome"] and row.get("audit_head", "") ==
              (h["audit_head"] or "") and row.get("backup", "") == (h["backup"] or ""),
              "%s: CSV row of %s differs from the JSON: %r" % (what, h["host"], row))
        for f in h["files"]:
            check(row.get(f["name"]) == f["version"],
                  "%s: CSV %s of %s: %r" % (what, f["name"], h["host"], row.get(f["name"])))


def version():
    r = subprocess.run([EXE, "--version"], stdout=subprocess.PIPE, text=True, timeout=60)
    return r.stdout.split()[-1]


def check_stale_and_liar(what, got, recap, liar):
    """stale fails on the pin before its scan; liar's scan JSON has another
    shape: it fails, and is never asked to repair."""
    gs, gl = got.get("stale", {}), got.get("liar", {})
    check(recap.get("stale", {}).get("failed") == 1 and gs.get("outcome") == "error" and
          "pin is tmi-console 0.0.1" in (gs.get("reason") or ""), "%s: stale: %r %r"
          % (what, recap.get("stale"), brief(gs)))
    check(recap.get("liar", {}).get("failed") == 1 and gl.get("outcome") == "error" and
          "not what tmi-console" in (gl.get("reason") or ""), "%s: liar: %r" % (what, brief(gl)))
    with open(liar + ".log") as fh:
        said = fh.read()
    check("scan" in said and "repair" not in said, "%s: liar was asked %r" % (what, said))


def test_check_and_repair(fl):
    a, b, c = fl.sandbox("a"), fl.sandbox("b"), fl.sandbox("c")
    r = tmi(b["data"], "repair", "--root", b["root"], "--yes", "--stay-seconds", "1")
    check(r.returncode == 0, "making b healthy: repair exit %d %s" % (r.returncode, r.stderr))
    shutil.rmtree(os.path.join(c["root"], TMI_REL, "is_backup"))
    gone = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1",
            "ansible_port": closed_port(), "ansible_timeout": 5}
    gone_win = {"ansible_connection": "winrm", "ansible_host": "127.0.0.1",
                "ansible_port": closed_port(), "ansible_user": "admin",
                "ansible_password": "unused", "ansible_winrm_transport": "ntlm",
                "ansible_winrm_scheme": "http", "ansible_winrm_connection_timeout": 5}
    # a host that runs another version than the pin (on a's sandbox: it fails
    # before it touches it), and one whose scan JSON is not tmi-console's
    liar = os.path.join(fl.work, "liar.sh")
    with open(liar, "w") as fh:
        fh.write('#!/bin/sh\necho "$*" >>"$0.log"\n'
                 'case "$*" in\n*--version*) echo "tmi-console %s" ;;\n'
                 '*scan*) echo \'{"verdict": "pending", "repair": {"possible": true}}\'; exit 1 ;;\n'
                 '*) exit 2 ;;\nesac\n' % version())
    os.chmod(liar, 0o755)
    stale = {"tmi_console_bin": a["bin"], "tmi_root": a["root"], "tmi_data": a["data"],
             "tmi_console_version": "0.0.1"}
    inv = fl.inventory(["a", "b", "c"], {"stale": stale, "liar": {"tmi_console_bin": liar},
                                         "gone": gone, "gone-win": gone_win})
    hosts = ["a", "b", "c"]

    # 1. check mode: reports all, changes nothing
    before = {n: (tree_hashes(fl.hosts[n]["root"]), tree_hashes(fl.hosts[n]["data"]))
              for n in hosts}
    rc, recap, rep, _ = fl.play("check", inv, "--check", "-e", "tmi_repair=true")
    check(rc != 0, "check: exit 0 with unreachable hosts")
    got = by_host(rep)
    check(rep and rep["mode"] == "check", "check: report mode %r" % (rep or {}).get("mode"))
    check(list(got) == ["a", "b", "c", "stale", "liar", "gone", "gone-win"],
          "check: hosts in the report: %r" % list(got))
    check_stale_and_liar("check", got, recap, liar)
    ga, gb, gc = got.get("a", {}), got.get("b", {}), got.get("c", {})
    check(ga.get("outcome") == "would_repair" and ga.get("verdict") == "affected" and
          (ga.get("repair_source") or "").endswith("is_backup/filegroup100"),
          "check: a: %r" % brief(ga))
    check(gb.get("outcome") == "healthy" and versions(gb) == ["1.12.0.1266"], "check: b: %r" % brief(gb))
    check(gc.get("outcome") == "cannot_repair" and
          "no backup folder" in (gc.get("reason") or ""), "check: c: %r" % brief(gc))
    for u in ("gone", "gone-win"):
        check(got.get(u, {}).get("outcome") == "unreachable" and got[u].get("reason"),
              "check: %s: %r" % (u, brief(got.get(u))))
        check(recap.get(u, {}).get("unreachable") == 1, "check: recap of %s: %r"
              % (u, recap.get(u)))
    for n in hosts:
        check(recap.get(n, {}).get("changed") == 0 and recap[n].get("failed") == 0,
              "check: recap of %s: %r" % (n, recap.get(n)))
        after = (tree_hashes(fl.hosts[n]["root"]), tree_hashes(fl.hosts[n]["data"]))
        check(after == before[n], "check: host %s changed: %r" % (n, sorted(
            k for i in (0, 1) for k in set(before[n][i]) ^ set(after[i]) |
            {k for k in before[n][i] if before[n][i].get(k) != after[i].get(k)})))
    if rep:
        check_csv("check", rep)

    # 2. repair
    b_jobs, b_root = jobs(b), tree_hashes(b["root"])
    rc, recap, rep, _ = fl.play("repair", inv, "-e", "tmi_repair=true")
    got = by_host(rep)
    ga, gb, gc = got.get("a", {}), got.get("b", {}), got.get("c", {})
    check(rc != 0, "repair: exit 0 with a failed and an unreachable host")
    check(rep and rep["mode"] == "repair", "repair: mode %r" % (rep or {}).get("mode"))
    job = ga.get("job") or {}
    check(ga.get("outcome") == "repaired" and ga.get("verdict") == "affected" and
          ga.get("verdict_after") == "healthy" and job.get("status") == "succeeded" and
          job.get("rolled_back") is False and ga.get("backup") == job.get("backup") and
          os.path.isdir(os.path.join(a["data"], "backups", job.get("backup") or "-")),
          "repair: a: %r" % brief(ga))
    check(versions(ga) == ["1.12.0.1266"] and
          versions({"files": ga.get("files_before") or []}) == ["1.12.0.1156"],
          "repair: a's files in the report: %r" % ga.get("files"))
    check(scan(a).get("verdict") == "healthy", "repair: a is not healthy: %r" % scan(a))
    check(recap.get("a", {}).get("changed") == 1 and recap["a"].get("failed") == 0,
          "repair: recap of a: %r" % recap.get("a"))
    # the audit head the report carries is the host's own, and verifies
    head = ga.get("audit_head") or ""
    r = tmi(a["data"], "audit", "verify", "--head", head)
    check(ga.get("audit_intact") is True and re.fullmatch(r"\d+:[0-9a-f]{64}", head) and
          r.returncode == 0, "repair: audit verify --head %s: exit %d %s"
          % (head, r.returncode, r.stderr))
    r = tmi(a["data"], "audit", "verify", "--json")
    check(r.returncode == 0 and json.loads(r.stdout).get("head") == head,
          "repair: a's audit head is not the one in the report: %s" % r.stdout)
    bad = head.split(":")[0] + ":" + "0" * 64
    check(tmi(a["data"], "audit", "verify", "--head", bad).returncode == 1,
          "repair: audit verify --head accepts a wrong hash")
    check(gb.get("outcome") == "healthy" and jobs(b) == b_jobs and tree_hashes(b["root"]) == b_root,
          "repair: b was touched: %r" % brief(gb))
    check(gc.get("outcome") == "cannot_repair" and recap.get("c", {}).get("failed") == 1 and
          "no backup folder" in (gc.get("reason") or ""), "repair: c: %r %r" % (brief(gc), recap.get("c")))
    check(jobs(c) == [], "repair: c has jobs: %r" % jobs(c))
    check_stale_and_liar("repair", got, recap, liar)
    check(got.get("gone", {}).get("outcome") == "unreachable" and
          got.get("gone-win", {}).get("outcome") == "unreachable", "repair: unreachable: %r"
          % [brief(got.get("gone")), brief(got.get("gone-win"))])
    if rep:
        check_csv("repair", rep)

    # 3. idempotent
    rc, recap, rep, _ = fl.play("repair again", inv, "-e", "tmi_repair=true")
    got = by_host(rep)
    for n in hosts:
        check(recap.get(n, {}).get("changed") == 0, "again: recap of %s: %r" % (n, recap.get(n)))
    check(got.get("a", {}).get("outcome") == "healthy" and
          got.get("c", {}).get("outcome") == "cannot_repair", "again: %r" % {k: brief(v) for k, v in got.items()})
    check(len(jobs(a) or []) == 1, "again: a has another job: %r" % jobs(a))


def test_rollback(fl):
    e, f = fl.sandbox("e", copy_bin=False), fl.sandbox("f", copy_bin=False)
    # a real fault: e's TMI service program is gone, so after the files are
    # replaced the service cannot start and the job rolls back
    svc = os.path.join(e["root"], SVC + ".svc")
    with open(svc) as fh:
        text = fh.read()
    with open(svc, "w") as fh:
        fh.write(re.sub(r"^arg=.*$", "arg=" + os.path.join(fl.work, "no-such-program"),
                        text, count=1, flags=re.M))
    e_old, f_root, f_scan = tree_hashes(os.path.join(e["root"], TMI_REL)), \
        tree_hashes(f["root"]), scan(f)
    inv = fl.inventory(["e", "f"])
    rc, recap, rep, _ = fl.play("rollback", inv, "-e", "tmi_repair=true")
    got = by_host(rep)
    ge, gf = got.get("e", {}), got.get("f", {})
    job = ge.get("job") or {}
    check(rc != 0 and recap.get("e", {}).get("failed") == 1, "rollback: recap %r" % recap)
    check(ge.get("outcome") == "rolled_back" and job.get("rolled_back") is True and
          job.get("status") == "failed" and "started and then stopped" in (ge.get("reason") or ""),
          "rollback: e: %r" % brief(ge))
    check(tree_hashes(os.path.join(e["root"], TMI_REL)) == e_old,
          "rollback: e's TMI folder is not as before the repair")
    check(ge.get("verdict_after") == "affected", "rollback: e after: %r" % ge.get("verdict_after"))
    check(gf.get("outcome") == "not_attempted" and "stopped at e" in (gf.get("reason") or ""),
          "rollback: f: %r" % brief(gf))
    check(jobs(f) == [] and tree_hashes(f["root"]) == f_root and scan(f).get("files") ==
          f_scan.get("files"), "rollback: f was touched")
    # the role installed the pinned binary on both
    for n in ("e", "f"):
        h = fl.hosts[n]
        check(os.path.isfile(h["bin"]) and file_hash(h["bin"]) == file_hash(EXE),
              "rollback: %s's binary was not copied" % n)


def test_report_input(work):
    """What a host sends is checked: wrong types become null, long strings
    are cut, a formula in a CSV cell is defused, and a host without any
    result is listed as an error."""
    path = os.path.join(ROLE, "action_plugins", "tmi_fleet_report.py")
    spec = importlib.util.spec_from_file_location("tmi_fleet_report", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    hostvars = {
        "x": {"tmi_report": {"state": "failed", "attempted": True, "reason": "=HYPERLINK(\"http://x\")",
                             "scan": {"verdict": ["affected"], "files": "all",
                                      "repair": {"source": "s" * 100000}},
                             "job": {"id": "1; rm", "rolled_back": "yes", "backup": 7},
                             "audit": {"head": {"seq": 1}, "intact": "true"}}},
        "y": {},
        "z": {"tmi_report": {"state": "pending", "scan": {"verdict": "affected"}}},
    }
    rows = mod.fleet_rows(hostvars, ["x", "y", "z"])
    x, y, z = rows
    check(x["outcome"] == "failed" and x["verdict"] is None and x["files"] == [] and
          len(x["repair_source"]) == mod.FIELD_MAX and x["job"]["id"] is None and
          x["job"]["rolled_back"] is None and x["backup"] is None and x["audit_head"] is None and
          x["audit_intact"] is None, "report input: damaged host row: %r" % x)
    check(y["outcome"] == "error" and "no result" in y["reason"], "report input: %r" % y)
    check(z["outcome"] == "not_attempted" and "stopped at x" in z["reason"],
          "report input: %r" % z)
    text = mod.fleet_csv(rows)
    cells = list(csv.reader(io.StringIO(text)))
    check(cells[1][0] == "x" and cells[1][-1].startswith("'=HYPERLINK"),
          "report input: CSV formula not defused: %r" % cells[1])
    doc = json.loads(mod.fleet_json(rows, "repair", "0.1.0"))
    check(doc["counts"] == {"failed": 1, "error": 1, "not_attempted": 1},
          "report input: counts %r" % doc["counts"])


def main():
    if shutil.which("ansible-playbook") is None:
        print("ansible-playbook is not installed (cmake/dev.sh test installs it)")
        return 77
    base = os.environ.get("TMI_TEST_TMP") or None
    if base:
        os.makedirs(base, exist_ok=True)
    work = tempfile.mkdtemp(prefix="fleet-", dir=base)
    fl = Fleet(work)
    try:
        test_report_input(work)
        test_check_and_repair(fl)
        test_rollback(fl)
    finally:
        for h in fl.hosts.values():
            stop_service(h["root"])
    if _failures:
        for log in _logs:
            sys.stderr.write(log + "\n")
        sys.stderr.write("test_fleet: %d check(s) failed:\n" % len(_failures))
        for f in _failures:
            sys.stderr.write("  - %s\n" % f)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
