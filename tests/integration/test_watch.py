#!/usr/bin/env python3
"""integration/watch - the watcher of a real `serve` on the demo sandbox:
a file changed outside tmi-console is seen within 2 s (status affected,
history "outside", an alert row in the audit trail); a repair through the
console raises no "outside" alert; a change made while no server ran is
reported at the next start as made "while not watched"; with --auto-repair
the folder is healthy again within 10 s and the audit names the policy."""
import json
import os
import shutil
import socket
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import Server, check, finish, wait_for  # noqa: E402
import rfc5424  # noqa: E402

TMI = os.path.join("Program Files (x86)", "Trend Micro", "COMMON", "TMI")


def status(srv):
    return srv.request("GET", "/api/status", token=True).json() or {}



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


class Collector(threading.Thread):
    """A syslog collector on loopback: UDP datagrams, or a TCP stream with
    octet-counting framing; keeps the parsed RFC 5424 messages."""

    def __init__(self, proto):
        super().__init__(daemon=True)
        self.proto = proto
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.bind(("127.0.0.1", 0))
        if proto == "tcp":
            self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.url = "%s://127.0.0.1:%d" % (proto, self.sock.getsockname()[1])
        self.msgs, self.errors, self.stop = [], [], False
        self.start()

    def run(self):
        conn, buf = None, b""
        while not self.stop:
            try:
                if self.proto == "udp":
                    self.take(self.sock.recv(65536))
                    continue
                if conn is None:
                    conn, _ = self.sock.accept()
                    conn.settimeout(0.2)
                data = conn.recv(65536)
                if not data:
                    conn = None
                    continue
                msgs, buf = rfc5424.split_octet_counted(buf + data)
                for m in msgs:
                    self.take(m)
            except socket.timeout:
                continue
            except (OSError, ValueError) as e:
                self.errors.append(repr(e))

    def take(self, data):
        try:
            self.msgs.append(rfc5424.parse(data))
        except ValueError as e:
            self.errors.append("not RFC 5424: %r: %s" % (data[:200], e))

    def kinds(self):
        return [dict(p).get("kind") for m in self.msgs for _, p in m.sd]


udp = Collector("udp")
srv = Server(sys.argv[1], "watch", serve_args=("--stay-seconds", "1", "--syslog", udp.url,
                                                "--alert-file", os.devnull))
jsonl = os.path.join(srv.tmp, "alerts.jsonl")
old = os.path.join(srv.tmp, "old-mrf.exe")
try:
    srv.stop()
    srv.restart(("--stay-seconds", "1", "--syslog", udp.url, "--alert-file", jsonl))
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
    got = wait_for(lambda: "outside_change" in udp.kinds(), 3)
    check(got and not udp.errors, "syslog over UDP: %r %r" % (udp.kinds(), udp.errors))
    lines = open(jsonl).read().splitlines() if os.path.exists(jsonl) else []
    recs = [json.loads(x) for x in lines]
    check(any(r.get("kind") == "outside_change" and r.get("new_version") == "1.12.0.1156"
              for r in recs), "alert file: %r" % lines[:3])
    if "--bench" in sys.argv:
        print("watch: change to status 'affected' in %.0f ms" % (1000 * (time.time() - t0)))

    # a change while no server ran: reported at the next start
    srv.stop()
    srv.cli("repair", "--root", srv.sandbox, "--yes", "--stay-seconds", "1")
    put_old(srv, old)
    tcp = Collector("tcp")
    srv.restart(("--stay-seconds", "1", "--syslog", tcp.url))
    out = wait_for(lambda: [a for a in alerts(srv, "outside_change")
                            if "while not watched" in (a.get("details") or {}).get("message", "")],
                   3)
    check(any("while not watched" in (a.get("details") or {}).get("message", "") for a in out),
          "change while not watched: %r" % out)
    got = wait_for(lambda: "outside_change" in tcp.kinds(), 3)
    check(got and not tcp.errors, "syslog over TCP: %r %r" % (tcp.kinds(), tcp.errors))
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
    srv.stop()

    # a full disk for the alert file, a collector that is down, the TMI
    # folder deleted and made again: the server goes on, each output's
    # failure is reported once, and the folder is watched again
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = "tcp://127.0.0.1:%d" % closed.getsockname()[1]
    closed.close()
    srv.restart(("--stay-seconds", "1", "--alert-file", "/dev/full", "--syslog", dead))
    tmi = os.path.join(srv.sandbox, TMI)
    moved = tmi + ".away"
    for i in range(2):
        os.rename(tmi, moved)
        gone = wait_for(lambda: (status(srv).get("scan") or {}).get("verdict") == "not_installed", 3)
        check(gone, "TMI folder removed (round %d): %r" % (i, (status(srv).get("scan") or {})
                                                            .get("verdict")))
        os.rename(moved, tmi)
        back = wait_for(lambda: (status(srv).get("scan") or {}).get("verdict") == "healthy", 3)
        check(back, "TMI folder made again (round %d): %r" % (i, (status(srv).get("scan") or {})
                                                               .get("verdict")))
    put_old(srv, old)
    check(wait_for(lambda: (status(srv).get("scan") or {}).get("verdict") == "affected", 3),
          "a change after the folder came back was not seen")
    outs = (status(srv).get("watch") or {}).get("alert_outputs") or {}
    check((outs.get("file") or {}).get("dropped", 0) >= 1, "alert file on a full disk: %r" % outs)
    rc, _ = srv.stop()
    err = srv.stderr or ""
    full = [x for x in err.splitlines() if "/dev/full" in x]
    check(len(full) == 1, "the full disk was reported %d times: %r" % (len(full), full))
    down = [x for x in err.splitlines() if dead.split("//")[1] in x]
    check(1 <= len(down) <= 2, "the collector being down was reported %d times: %r"
          % (len(down), down))
except Exception:
    check(False, "exception: " + traceback.format_exc())
finish(srv, "integration/watch")
