#!/usr/bin/env python3
"""integration/hostile - the real server against a hostile local client, over
loopback, bounded in time: ambiguous HTTP framing (RFC 9112) is refused with
400 and the connection closed, nothing reaches a handler; slow clients do not
starve the server (50 connections dribbling their heads, /api/health still
answered within 1 s); an unauthenticated flood of connections is capped.
The health latency under the slow clients is printed for the benchmark with
--bench."""
import os
import re
import socket
import sqlite3
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import Server, check, expect_problem, expect_status, finish  # noqa: E402

BENCH = "--bench" in sys.argv
srv = Server(sys.argv[1], "hostile")
P = srv.port
HOST = b"Host: 127.0.0.1:%d\r\n" % P
AUTH = b"Authorization: Bearer " + srv.token.encode() + b"\r\n"


def scans():
    db = sqlite3.connect(os.path.join(srv.data, "tmi-console.db"))
    n = db.execute("SELECT count(*) FROM scans").fetchone()[0]
    db.close()
    return n


def exchange(data, timeout=5):
    """Send data, read until the server closes; return (all bytes, closed)."""
    s = socket.create_connection(("127.0.0.1", P), timeout=timeout)
    out, closed = b"", False
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR) if data.endswith(b"#EOF") else None
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            out += chunk
    finally:
        s.close()
    return out, closed


def statuses(data):
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", data)]


def refused(raw, want, what, timeout=5):
    """raw must get exactly one answer `want` and a closed connection."""
    out, closed = exchange(raw, timeout)
    got = statuses(out)
    check(got[:1] == [want], "%s: expected one %d, got %r (%r)" % (what, want, got, out[:200]))
    check(len(got) == 1, "%s: more than one answer: %r" % (what, got))
    check(closed, "%s: the connection stayed open" % what)
    return out


def framing():
    before = scans()
    body = b'{}'
    post = b"POST /api/scan HTTP/1.1\r\n" + HOST + AUTH + b"Content-Type: application/json\r\n"
    # Content-Length together with Transfer-Encoding: one request, not two
    refused(post + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            b"GET /api/health HTTP/1.1\r\n" + HOST + b"\r\n", 400, "CL with TE")
    for cl in (b"2abc", b"0x40", b"2, 40", b"+2", b" ", b"-1", b"99999999999999999999"):
        refused(post + b"Content-Length: " + cl + b"\r\n\r\n" + body, 400, "Content-Length %r" % cl)
    refused(post + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n" + body, 400, "two CL")
    refused(post + b"Transfer-Encoding: gzip, chunked\r\n\r\n", 501, "TE gzip")
    # bad chunks, a body that ends early: never handled as complete
    for bad in (b"zz\r\n{}\r\n0\r\n\r\n", b"2;ext=1\r\n{}\r\n0\r\n\r\n", b"2\r\n{}0\r\n\r\n",
                b"2\n{}\r\n0\r\n\r\n", b"2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n"):
        refused(post + b"Transfer-Encoding: chunked\r\n\r\n" + bad, 400, "chunks %r" % bad)
    out, _ = exchange(post + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n", timeout=15)
    check(statuses(out) in ([], [400], [408]), "unterminated chunks answered %r" % out[:200])
    out, _ = exchange(post + b"Content-Length: 10\r\n\r\n{}", timeout=15)
    check(statuses(out) in ([], [400], [408]), "short body answered %r" % out[:200])
    check(scans() == before, "a malformed request stored a scan (%d -> %d)" % (before, scans()))
    # a well-formed chunked body works
    out, _ = exchange(post + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                      b"1\r\n{\r\n1\r\n}\r\n0\r\n\r\n", timeout=30)
    check(statuses(out) == [201], "a good chunked body: %r" % out[:300])
    # headers past the 64th are counted, not dropped: the Origin there is seen
    many = b"".join(b"X-Pad-%d: x\r\n" % i for i in range(64))
    refused(b"GET /api/health HTTP/1.1\r\n" + HOST + many + b"Origin: http://evil.example\r\n\r\n",
            431, "65 headers")
    out, _ = exchange(b"GET /api/health HTTP/1.1\r\n" + HOST + many[:-12 * 1]
                      + b"Origin: http://evil.example\r\nConnection: close\r\n\r\n")
    check(statuses(out) in ([403], [431]), "Origin late in the head ignored: %r" % out[:200])
    # request lines that are not METHOD SP target SP HTTP/1.x
    for line in (b"GET  /api/health HTTP/1.1", b"GET /api/health  HTTP/1.1",
                 b"GET /api/health HTTP/1.1 ", b"GET http://x/api/health HTTP/1.1",
                 b"GET /api/health", b"GET /a\x01b HTTP/1.1", b"G\xc3T /api/health HTTP/1.1"):
        out = refused(line + b"\r\n" + HOST + b"\r\n", 400, "request line %r" % line)
        status_line = out.split(b"\r\n", 1)[0]
        check(b"Host" not in status_line and b"127.0.0.1" not in status_line,
              "raw request bytes echoed in the status line: %r" % status_line)
    refused(b"GET /api/health HTTP/2.0\r\n" + HOST + b"\r\n", 505, "HTTP/2.0")
    refused(b"GET /api/health HTTP/1.1\n" + HOST + b"\n", 400, "bare LF")
    refused(b"GET /api/health HTTP/1.1\r\n" + HOST + b"X-A : b\r\n\r\n", 400, "space before :")
    refused(b"GET /api/health HTTP/1.1\r\n" + HOST + b"X-A: b\r\n c\r\n\r\n", 400, "obs-fold")
    refused(b"GET /api/health HTTP/1.1\r\n" + HOST + b"X-A: b\x00c\r\n\r\n", 400, "NUL")
    refused(b"GET /api/health HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n",
            431, "a head over 16 KiB")
    # JSON bodies: a repeated key, a NUL inside a string
    for bad in (b'{"action":"backup","action":"repair"}', b'{"action":"back\\u0000up"}'):
        r = srv.request("POST", "/api/jobs", token=True, body=bad,
                        headers={"Content-Type": "application/json"})
        expect_problem(r, 400, "JSON body %r" % bad)
    # correct reason phrases; HEAD on a GET route
    out, _ = exchange(b"GET /api/health HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 200 OK\r\n"), "status line %r" % out[:40])
    out, _ = exchange(b"HEAD /api/health HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\n"),
          "HEAD on a GET route: %r" % out[:200])
    # pipelined requests are answered in order on one connection
    two = (b"GET /api/health HTTP/1.1\r\n" + HOST + b"\r\n" + b"GET /nothing HTTP/1.1\r\n" + HOST
           + b"Connection: close\r\n\r\n")
    out, _ = exchange(two)
    check(statuses(out) == [200, 404], "pipelined answers %r" % statuses(out))


def cookie_only():
    """The session cookie alone (what another port of 127.0.0.1 receives) is
    no credential: no change, and no secret revealed, whatever else is sent."""
    u = srv.login_url.split("/login", 1)[1]
    r = srv.request("GET", "/login" + u)
    expect_status(r, 303, "login")
    cookie = (r.header("set-cookie") or "").split(";")[0]
    secret = (r.header("location") or "").rpartition("=")[2]
    check(cookie.startswith("tmi_session_%d=" % P) and len(secret) == 64,
          "login: %r %r" % (cookie, r.header("location")))
    jobs_before = len((srv.request("GET", "/api/jobs?limit=500", token=True).json() or {})
                      .get("jobs") or [])
    tries = [{}, {"X-TMI-Secret": "0" * 64}, {"X-CSRF-Token": "0" * 64},
             {"Origin": "http://127.0.0.1:%d" % P, "Sec-Fetch-Site": "same-origin"}]
    for extra in tries:
        h = dict(extra, Cookie=cookie)
        r = srv.request("GET", "/api/session", headers=h)
        check(r.status in (401, 403, 429) and secret.encode() not in r.body,
              "cookie-only GET /api/session %r: %r" % (extra, r))
        r = srv.request("POST", "/api/jobs", headers=h, body={"action": "backup"})
        check(r.status in (401, 403, 429), "cookie-only POST /api/jobs %r: %r" % (extra, r))
    jobs_after = len((srv.request("GET", "/api/jobs?limit=500", token=True).json() or {})
                     .get("jobs") or [])
    check(jobs_after == jobs_before, "a cookie-only request started a job")
    r = srv.request("GET", "/api/session", headers={"Cookie": cookie, "X-TMI-Secret": secret})
    expect_status(r, 200, "cookie and secret")


class Dribbler(threading.Thread):
    """A slow client: one header line every 2.5 s, reconnecting when cut."""

    def __init__(self, stop):
        super().__init__(daemon=True)
        self.stop = stop
        self.cut = 0

    def run(self):
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", P), timeout=5)
                s.sendall(b"GET /api/health HTTP/1.1\r\n")
                i = 0
                while not self.stop.wait(2.5):
                    s.sendall(b"X-Slow-%d: y\r\n" % i)
                    i += 1
                s.close()
            except OSError:
                self.cut += 1
                self.stop.wait(0.05)


def slow_clients(n=50, seconds=8):
    stop = threading.Event()
    ds = [Dribbler(stop) for _ in range(n)]
    for d in ds:
        d.start()
    time.sleep(1.0)
    lat, fails = [], 0
    end = time.time() + seconds
    while time.time() < end:
        t0 = time.time()
        try:
            r = srv.request("GET", "/api/health")
            ok = r.status in (200, 503)
        except OSError:
            ok = False
        dt = time.time() - t0
        lat.append(dt)
        fails += (not ok) or dt > 1.0
        time.sleep(0.2)
    stop.set()
    cut = sum(d.cut for d in ds)
    lat.sort()
    check(fails == 0, "%d of %d health requests failed or took over 1 s with %d slow clients "
          "(latencies %r)" % (fails, len(lat), n, lat[-5:]))
    check(cut > 0, "the slow clients were never cut off (no deadline for the head?)")
    if BENCH:
        print("slow clients: %d connections dribbling their heads; /api/health p50 %.1f ms, "
              "max %.1f ms over %d requests; slow connections cut %d times"
              % (n, 1000 * lat[len(lat) // 2], 1000 * lat[-1], len(lat), cut))


def flood(n=300):
    """Many idle connections from one address: capped, and a real request
    still gets in (the longest-waiting connection makes room)."""
    socks = []
    try:
        for _ in range(n):
            try:
                socks.append(socket.create_connection(("127.0.0.1", P), timeout=2))
            except OSError:
                break
        time.sleep(0.3)
        r = srv.request("GET", "/api/health")
        expect_status(r, 200, "health beside %d idle connections" % len(socks))
        closed = 0
        for s in socks:
            s.setblocking(False)
            try:
                closed += s.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
        check(closed >= len(socks) - 64, "only %d of %d idle connections from one address were "
              "closed (cap 64 per address)" % (closed, len(socks)))
    finally:
        for s in socks:
            s.close()


try:
    framing()
    cookie_only()
    slow_clients()
    flood()
    r = srv.request("GET", "/api/health")
    expect_status(r, 200, "health after the attacks")
except Exception:
    check(False, "exception: " + traceback.format_exc())
finish(srv, "integration/hostile")
