"""test_alerts.py ALERT_SEND [--wine] - the alert outputs (server/alerts)
against real collectors started here, driven through the alert-send tool
(tests/tools/alert_send.c); with --wine, ALERT_SEND is the Windows build,
run under wine (the syslog checks only: the Winsock backend):

  - syslog over UDP and TCP: every message parses as RFC 5424 with the strict
    parser of rfc5424.py (TCP: RFC 6587 octet counting), the structured data
    gives back exactly the values sent (quotes, backslashes, ']' and
    non-ASCII text included), MSG is UTF-8 after a BOM, a datagram stays
    within 2048 bytes whatever the message's length;
  - a TCP collector killed with SIGKILL: the alerts sent meanwhile wait in the
    queue (4), the rest are dropped and counted (6), and when a collector
    listens on the port again the queued ones arrive in order; one report of
    each change on stderr;
  - a UDP collector that is not there: reported once, then once when it is;
  - the JSON-lines file: created private (0600), an existing file's mode and
    content kept; /dev/full: reported once, the alerts counted as dropped,
    the program goes on and exits 0.
Quiet on success; the failed checks are listed at the end.

With --bench (cmake/dev.sh bench) it measures instead how long
alert_outputs_send takes the caller (median and p99 over 20000 alerts)
with a TCP collector that reads everything, one that is down, and one that
accepts and never reads, and prints the last two as ratios to the first
(goal: about 1, the caller never waits for a collector), and how long the
shutdown takes with the stalled collector against its bound.
"""
import json
import os
import selectors
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rfc5424  # noqa: E402

SEND = sys.argv[1]
WINE = "--wine" in sys.argv[2:]
BENCH = "--bench" in sys.argv[2:]
WAIT = 10.0
_failures = []
SHA_A = "0123456789abcdef" * 4
SHA_B = "fedcba9876543210" * 4


def check(cond, what):
    if not cond:
        _failures.append(what)
    return bool(cond)


# A collector in a process of its own (so that it can be killed): TCP appends
# the bytes it receives to OUT; UDP writes each datagram as 4-byte length +
# bytes. It prints its port when it listens.
COLLECTOR = r"""
import socket, struct, sys
proto, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
if proto == "tcp":
    s.listen(4)
print(s.getsockname()[1], flush=True)
with open(out, "ab", buffering=0) as f:
    if proto == "udp":
        while True:
            d = s.recv(65535)
            f.write(struct.pack(">I", len(d)) + d)
    while True:
        c, _ = s.accept()
        while True:
            d = c.recv(65536)
            if not d:
                break
            f.write(d)
        c.close()
"""


class Collector:
    def __init__(self, proto, out, port=0):
        self.proto, self.out = proto, out
        self.p = subprocess.Popen([sys.executable, "-c", COLLECTOR, proto, str(port), out],
                                  stdout=subprocess.PIPE, text=True)
        self.port = int(self.p.stdout.readline())

    def kill(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()

    def messages(self):
        try:
            with open(self.out, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        if self.proto == "tcp":
            return rfc5424.split_octet_counted(data)[0]
        msgs, pos = [], 0
        while pos + 4 <= len(data):
            n = int.from_bytes(data[pos:pos + 4], "big")
            msgs.append(data[pos + 4:pos + 4 + n])
            pos += 4 + n
        return msgs

    def wait_for(self, n):
        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            msgs = self.messages()
            if len(msgs) >= n:
                return msgs
            time.sleep(0.02)
        return self.messages()


class Sender:
    """alert-send with options; one JSON command a line, one JSON answer."""

    def __init__(self, *args):
        self.err = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen((["wine"] if WINE else []) + [SEND] + list(args),
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.p.stdout, selectors.EVENT_READ)

    def cmd(self, obj, timeout=30):
        self.p.stdin.write(json.dumps(obj) + "\n")
        self.p.stdin.flush()
        if not self.sel.select(timeout):
            raise RuntimeError("alert-send did not answer %r within %s s" % (obj, timeout))
        return json.loads(self.p.stdout.readline())

    def send(self, **alert):
        alert.setdefault("severity", 4)
        return self.cmd({"cmd": "send", "alert": alert})["rc"]

    def wait(self, output, handled):
        return self.cmd({"cmd": "wait", "output": output, "handled": handled,
                         "timeout_ms": int(WAIT * 1000)})

    def status(self, output):
        return self.cmd({"cmd": "status"})[output]

    def wait_working(self, output, want):
        end = time.monotonic() + WAIT
        st = self.status(output)
        while st["working"] is not want and time.monotonic() < end:
            time.sleep(0.02)
            st = self.status(output)
        return st

    def quit(self):
        r = self.cmd({"cmd": "quit"})
        rc = self.p.wait(30)
        self.err.seek(0)
        self.stderr = self.err.read()
        if WINE:  # wine's own messages (a missing wine32, no display) are not ours
            self.stderr = "".join(l for l in self.stderr.splitlines(True)
                                  if l.startswith(("tmi-console", "alert-send")))
        return rc, r

    def reports(self, needle):
        return [l for l in self.stderr.splitlines() if needle in l]


ALERTS = [
    dict(kind="verdict_change", severity=3, message="The TMI files are affected again",
         verdict="affected", tmi_dir="C:\\Program Files (x86)\\Trend Micro\\COMMON\\TMI",
         changed_by="outside", audit_seq=17),
    dict(kind="outside_change", severity=4, message='quote " backslash \\ bracket ] 日本語',
         verdict="affected", tmi_dir='D:\\TMI ]"\\ テスト', file='mrf "x"].exe',
         old_version="1.12.0.1266", new_version="1.12.0.1156", old_sha256=SHA_A,
         new_sha256=SHA_B, changed_by="outside", audit_seq=18),
    dict(kind="job_failed", severity=3, message="Repair job 12 was rolled back", job=12,
         changed_by="job", audit_seq=19),
    dict(kind="service_down", severity=3, message="The TMI service is stopped",
         verdict="healthy", audit_seq=20),
    dict(kind="chain_broken", severity=2, message="x" * 10000, audit_seq=21),
]
SD_KEYS = ["kind", "verdict", "tmi_dir", "file", "old_version", "new_version", "old_sha256",
           "new_sha256", "job", "changed_by", "audit_seq"]


def check_message(raw, a, pid, proto):
    what = "%s %s" % (proto, a["kind"])
    try:
        m = rfc5424.parse(raw)
    except ValueError as e:
        check(False, "%s: not RFC 5424: %s: %r" % (what, e, raw[:200]))
        return
    check(m.version == 1 and m.facility == 3 and m.severity == a["severity"],
          "%s: PRI/VERSION %d/%d" % (what, m.pri, m.version))
    check(m.hostname == "collector-test.example" and m.app_name == "tmi-console",
          "%s: HOSTNAME/APP-NAME %r %r" % (what, m.hostname, m.app_name))
    # under wine the Windows process id is not the one of the wine process
    check((m.procid.isdigit() if WINE else m.procid == str(pid)) and m.msgid == a["kind"],
          "%s: PROCID/MSGID %r %r" % (what, m.procid, m.msgid))
    check(m.timestamp is not None and abs(m.timestamp.timestamp() - a["time"] / 1e9) < 0.001,
          "%s: TIMESTAMP %r" % (what, m.timestamp))
    check([i for i, _ in m.sd] == ["tmi@32473"], "%s: SD-IDs %r" % (what, m.sd))
    want = {k: str(a[k]) for k in SD_KEYS if k in a}
    got = m.params("tmi@32473") or {}
    check(got == want, "%s: structured data %r, want %r" % (what, got, want))
    check(m.has_bom, "%s: no BOM before MSG" % what)
    if len(a["message"]) < 1000:
        check(m.msg == a["message"], "%s: MSG %r" % (what, m.msg))
    else:  # cut to fit, marked with an ellipsis
        check(isinstance(m.msg, str) and m.msg.endswith("\u2026") and
              a["message"].startswith(m.msg[:-1]), "%s: long MSG not cut cleanly" % what)
    if proto == "udp":
        check(len(raw) <= 2048, "%s: a datagram of %d bytes" % (what, len(raw)))


def syslog_rfc5424(tmp):
    for proto in ("udp", "tcp"):
        col = Collector(proto, os.path.join(tmp, "syslog-" + proto))
        s = Sender("--syslog", "%s://127.0.0.1:%d" % (proto, col.port),
                   "--hostname", "collector-test.example")
        now = time.time_ns()
        for i, a in enumerate(ALERTS):
            a["time"] = now + i * 1000000
            check(s.send(**a) == 0, "%s: send %s" % (proto, a["kind"]))
        st = s.wait("syslog", len(ALERTS))
        check(st["sent"] == len(ALERTS) and st["dropped"] == 0 and st["working"] is True,
              "%s: status after sending %r" % (proto, st))
        msgs = col.wait_for(len(ALERTS))
        check(len(msgs) == len(ALERTS), "%s: %d messages arrived" % (proto, len(msgs)))
        for raw, a in zip(msgs, ALERTS):
            check_message(raw, a, s.p.pid, proto)
        rc, _ = s.quit()
        check(rc == 0 and s.stderr == "", "%s: exit %d, stderr %r" % (proto, rc, s.stderr))
        col.kill()


def tcp_killed_collector(tmp):
    col = Collector("tcp", os.path.join(tmp, "killed-1"))
    port = col.port
    s = Sender("--syslog", "tcp://127.0.0.1:%d" % port, "--queue", "4",
               "--retry-min-ms", "50", "--retry-max-ms", "200")
    check(s.send(kind="verdict_change", message="before") == 0, "send before the kill")
    check(len(col.wait_for(1)) == 1, "the first alert did not arrive")
    col.kill()
    st = s.wait_working("syslog", False)
    check(st["working"] is False and "refused" in (st["error"] or ""),
          "status after the kill: %r" % st)
    for i in range(10):
        check(s.send(kind="outside_change", message="while down %d" % i) == 0,
              "send %d while the collector is down" % i)
    st = s.wait("syslog", 1 + 6)
    check(st["dropped"] == 6 and st["queued"] == 4 and st["sent"] == 1,
          "status with the collector down: %r" % st)
    col2 = Collector("tcp", os.path.join(tmp, "killed-2"), port)
    msgs = col2.wait_for(4)
    texts = [rfc5424.parse(m).msg for m in msgs]
    check(texts == ["while down %d" % i for i in range(4)],
          "after the restart: %r" % texts)
    st = s.wait("syslog", 11)
    check(st["sent"] == 5 and st["dropped"] == 6 and st["working"] is True,
          "status after the restart: %r" % st)
    rc, _ = s.quit()
    check(rc == 0, "alert-send exit %d" % rc)
    check(len(s.reports("alerts wait in the queue")) == 1 and
          len(s.reports("the queue is full (4 alerts)")) == 1 and
          len(s.reports("works again (6 alert(s) dropped meanwhile)")) == 1 and
          len(s.stderr.splitlines()) == 3,
          "reports on stderr (one per change): %r" % s.stderr)
    col2.kill()


def udp_absent_collector(tmp):
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    s = Sender("--syslog", "udp://127.0.0.1:%d" % port, "--retry-min-ms", "20")
    for i in range(6):
        check(s.send(kind="job_failed", message="nobody %d" % i) == 0, "udp send %d" % i)
        time.sleep(0.05)  # let the ICMP refusal come back
    st = s.wait("syslog", 6)
    check(st["working"] is False and "refused a datagram" in (st["error"] or ""),
          "UDP without a collector: %r" % st)
    col = Collector("udp", os.path.join(tmp, "udp-late"), port)
    for i in range(3):
        check(s.send(kind="job_failed", message="heard %d" % i) == 0, "udp send after")
        time.sleep(0.05)
    msgs = col.wait_for(3)
    texts = [rfc5424.parse(m).msg for m in msgs]
    check(texts == ["heard %d" % i for i in range(3)], "UDP after the collector came: %r" % texts)
    st = s.wait_working("syslog", True)
    check(st["working"] is True, "UDP status once the collector listens: %r" % st)
    rc, r = s.quit()
    check(rc == 0 and len(s.reports("refused a datagram")) == 1 and
          len(s.reports("works again (")) == 1 and len(s.stderr.splitlines()) == 2,
          "UDP reports (one failure, one recovery): exit %d %r %r" % (rc, r, s.stderr))
    col.kill()


def alert_file(tmp):
    path = os.path.join(tmp, "alerts.jsonl")
    old = os.umask(0o022)
    try:
        s = Sender("--file", path)
        for a in ALERTS[:3]:
            check(s.send(**a) == 0, "file: send")
        st = s.wait("file", 3)
        rc, _ = s.quit()
    finally:
        os.umask(old)
    check(rc == 0 and st["sent"] == 3 and st["working"] is True, "file: status %r" % st)
    mode = stat.S_IMODE(os.lstat(path).st_mode)
    check(mode == 0o600, "file: created with mode %o, want 600" % mode)
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    check(lines[-1] == "" and len(lines) == 4, "file: %d lines" % (len(lines) - 1))
    for line, a in zip(lines[:-1], ALERTS):
        o = json.loads(line)
        check(o["kind"] == a["kind"] and o["message"] == a["message"] and
              o["tmi_dir"] == a.get("tmi_dir") and o["audit_seq"] == a["audit_seq"],
              "file: line %r" % line[:200])
    # an existing file keeps its mode and its content
    keep = os.path.join(tmp, "existing.jsonl")
    with open(keep, "w") as f:
        f.write('{"kept":true}\n')
    os.chmod(keep, 0o644)
    s = Sender("--file", keep)
    s.send(**ALERTS[0])
    s.wait("file", 1)
    s.quit()
    with open(keep) as f:
        text = f.read()
    check(stat.S_IMODE(os.stat(keep).st_mode) == 0o644 and text.startswith('{"kept":true}\n')
          and text.count("\n") == 2, "file: the existing file was changed: %r" % text[:100])
    # a full disk
    s = Sender("--file", "/dev/full")
    for a in ALERTS:
        check(s.send(**a) == 0, "/dev/full: send")
    st = s.wait("file", len(ALERTS))
    rc, _ = s.quit()
    check(rc == 0 and st["dropped"] == len(ALERTS) and st["working"] is False and
          "no space left on device" in (st["error"] or ""), "/dev/full: %r (exit %d)" % (st, rc))
    check(len(s.reports("/dev/full")) == 1 and len(s.stderr.splitlines()) == 1,
          "/dev/full: reported %r" % s.stderr)


def bench_one(n, *args):
    s = Sender(*args)
    a = dict(ALERTS[1], time=time.time_ns())
    r = s.cmd({"cmd": "bench", "n": n, "alert": a}, timeout=300)
    st = s.status("syslog")
    rc, q = s.quit()
    check(rc == 0 and r["rc_errors"] == 0, "bench %r: exit %d, %r" % (args, rc, r))
    return r, st, q["free_ms"]


def bench(tmp):
    n, flush = 20000, 2000
    col = Collector("tcp", os.path.join(tmp, "bench"))
    ref, st_ref, _ = bench_one(n, "--syslog", "tcp://127.0.0.1:%d" % col.port)
    col.kill()
    down, st_down, _ = bench_one(n, "--syslog", "tcp://127.0.0.1:%d" % col.port)
    stall = socket.socket()
    stall.bind(("127.0.0.1", 0))
    stall.listen(1)  # accepts into the backlog, never reads
    slow, st_slow, free_ms = bench_one(n, "--syslog", "tcp://127.0.0.1:%d" % stall.getsockname()[1],
                                       "--flush-ms", str(flush))
    stall.close()
    us = lambda ns: ns / 1000.0  # noqa: E731
    print("alerts_send_median_us_healthy %.2f (reference: a TCP collector reading all; %d sent, "
          "%d dropped of %d)" % (us(ref["median_ns"]), st_ref["sent"], st_ref["dropped"], n))
    print("alerts_send_p99_us_healthy %.2f (reference)" % us(ref["p99_ns"]))
    for name, r, st in (("down", down, st_down), ("stalled", slow, st_slow)):
        print("alerts_send_p99_ratio_%s %.2f (goal <= 3: the caller never waits; p99 %.2f us, "
              "max %.0f us, %d dropped)" % (name, r["p99_ns"] / max(ref["p99_ns"], 1),
                                           us(r["p99_ns"]), us(r["max_ns"]), st["dropped"]))
    print("alerts_shutdown_ms_stalled %.0f (goal <= %d: the flush bound plus 1 s)"
          % (free_ms, flush + 1000))


def main():
    if BENCH:
        with tempfile.TemporaryDirectory(prefix="tmi-alerts-bench-") as tmp:
            bench(tmp)
        sys.exit(1 if _failures else 0)
    with tempfile.TemporaryDirectory(prefix="tmi-alerts-") as tmp:
        tests = [syslog_rfc5424, tcp_killed_collector, udp_absent_collector]
        for t in tests + ([] if WINE else [alert_file]):
            try:
                t(tmp)
            except Exception as e:  # an unexpected error is a failure
                import traceback
                check(False, "%s: %s\n%s" % (t.__name__, e, traceback.format_exc()))
    if _failures:
        sys.stderr.write("integration/alerts: %d check(s) failed:\n" % len(_failures))
        for f in _failures:
            sys.stderr.write("  - %s\n" % f)
        sys.exit(1)


main()
