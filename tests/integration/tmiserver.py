"""tmiserver.py - start a real `tmi-console serve` on loopback for the
integration tests, and talk HTTP to it (standard library only).

A test file makes one Server (one serve process per file), runs its checks
with check()/expect_*(), and calls finish(), which stops the server and exits
non-zero with a list of failures if any check failed. Nothing is printed on
success.
"""
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

SECURITY_HEADERS = {
    "content-security-policy":
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}

_failures = []


def check(cond, what):
    """Record a failure (with the calling test's description) unless cond."""
    if not cond:
        _failures.append(what)
    return bool(cond)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (lower-case name, value)
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def __repr__(self):
        return "HTTP %d %r %r" % (self.status, self.headers, self.body[:300])


def parse_raw_response(data):
    """Parse the first HTTP/1.x response in data (bytes) into a Response."""
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0]) if lines else None
    if not m:
        return Response(0, [], data)
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip().lower(), v.strip()))
    return Response(int(m.group(1)), headers, rest)


class Server:
    def __init__(self, exe, name, serve_args=()):
        self.exe = exe
        base = os.environ.get("TMI_TEST_TMP") or tempfile.gettempdir()
        os.makedirs(base, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="it-%s-" % name, dir=base)
        self.data = os.path.join(self.tmp, "data")
        self.sandbox = os.path.join(self.tmp, "sandbox")
        self.proc = None
        self.stdout_lines = []
        self.cli("demo", "--no-serve", "--dir", self.sandbox)
        atexit.register(self.cleanup)  # never leave a server behind
        self.restart(serve_args)

    def restart(self, serve_args=()):
        """Start serve (again) on the same data folder and sandbox."""
        self.proc = subprocess.Popen(
            [self.exe, "--data", self.data, "serve", "--port", "0", "--root", self.sandbox]
            + list(serve_args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = None
        self.login_url = None
        deadline = time.time() + 20
        while time.time() < deadline and (self.url is None or self.login_url is None):
            line = self.proc.stdout.readline()
            if not line:
                break
            self.stdout_lines.append(line)
            m = re.search(r"serving (http://127\.0\.0\.1:(\d+)/)", line)
            if m:
                self.url, self.port = m.group(1), int(m.group(2))
            m = re.search(r"(http://127\.0\.0\.1:\d+/login\?code=[0-9a-f]+)", line)
            if m:
                self.login_url = m.group(1)
        if self.url is None or self.login_url is None:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.proc.kill()
            raise SystemExit("server did not start: %r %s" % (self.stdout_lines, err))
        self.token = self.cli("token").strip()

    def cli(self, *args, check_rc=True):
        r = subprocess.run([self.exe, "--data", self.data] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        if check_rc and r.returncode != 0:
            raise SystemExit("tmi-console %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                                 r.stderr))
        return r.stdout

    def request(self, method, path, headers=None, body=None, token=None):
        """One request on a fresh connection; token=True sends the API token."""
        h = dict(headers or {})
        if token is True:
            h["Authorization"] = "Bearer " + self.token
        elif token:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, [(k.lower(), v) for k, v in r.getheaders()], data)
        finally:
            conn.close()

    def raw(self, data, timeout=5):
        """Send raw bytes, return the parsed first response (reads until close)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        out = b""
        try:
            s.sendall(data)
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                out += chunk
                r = parse_raw_response(out)
                cl = r.header("content-length")
                if cl is not None and len(r.body) >= int(cl):
                    break
        finally:
            s.close()
        return parse_raw_response(out)

    def stop(self):
        """SIGTERM, wait; returns the exit code and the remaining stdout."""
        if self.proc is None:
            return self.exit_code, self.rest_out
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            _failures.append("server did not stop within 30 s of SIGTERM")
        self.stderr = err
        self.exit_code = self.proc.returncode
        self.rest_out = out
        self.proc = None
        return self.exit_code, out

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def expect_status(r, want, what):
    if isinstance(want, int):
        want = (want,)
    return check(r.status in want, "%s: expected HTTP %s, got %r" % (what, want, r))


def expect_problem(r, want, what):
    ok = expect_status(r, want, what)
    ct = r.header("content-type") or ""
    j = r.json()
    ok &= check(ct.startswith("application/problem+json"),
                "%s: content type %r is not problem+json" % (what, ct))
    ok &= check(isinstance(j, dict) and all(k in j for k in ("title", "status", "detail"))
                and j.get("status") == r.status and j.get("detail"),
                "%s: bad problem document %r" % (what, r.body[:300]))
    return ok


def expect_security_headers(r, what):
    ok = True
    for k, v in SECURITY_HEADERS.items():
        ok &= check(r.header(k) == v, "%s: header %s is %r, want %r" % (what, k, r.header(k), v))
    ok &= check(not any(k.startswith("access-control-allow") for k, _ in r.headers),
                "%s: an Access-Control-Allow-* header was sent: %r" % (what, r.headers))
    return ok


def finish(srv, name):
    """Stop the server (checking a clean exit), clean up, report, exit. Called
    from a `finally:`, it also reports an exception the test body raised (which
    its sys.exit would otherwise swallow)."""
    if sys.exc_info()[0] is not None:
        check(False, "%s: the test stopped on an exception:\n%s"
              % (name, traceback.format_exc().rstrip()))
    rc, out = srv.stop()
    check(rc == 0, "%s: serve exited with %r after SIGTERM (stderr: %s)"
          % (name, rc, getattr(srv, "stderr", "")))
    check("stopping" in out, "%s: serve did not say it was stopping: %r" % (name, out))
    check(not os.path.exists(os.path.join(srv.data, "server.json")),
          "%s: server.json left behind after a clean stop" % name)
    try:
        db = sqlite3.connect(os.path.join(srv.data, "tmi-console.db"))
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.close()
    except sqlite3.Error as e:
        ok = str(e)
    check(ok == "ok", "%s: the store after the stop: %s" % (name, ok))
    srv.cleanup()
    if _failures:
        sys.stderr.write("%s: %d check(s) failed:\n" % (name, len(_failures)))
        for f in _failures:
            sys.stderr.write("  - %s\n" % f)
        sys.exit(1)
    sys.exit(0)


# ---- helpers the tests share ----------------------------------------------

# The eight TMI files of the default playbook.
FILES = ["mrf.exe", "MRF_CM.dll", "libTMI_DataMarshal.dll", "libMRF_Entity.dll",
         "libMRF_DM.dll", "libMRF_Common.dll", "libMRF_CM.dll", "libMRF_AP.dll"]


def wait_for(cond, seconds, step=0.1):
    """cond()'s first true value within seconds, else its last value."""
    end = time.time() + seconds
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def folder_bytes(d):
    """{name: bytes} of the eight files in folder d."""
    out = {}
    for f in FILES:
        with open(os.path.join(d, f), "rb") as fh:
            out[f] = fh.read()
    return out


def stop_sandbox_service(root):
    """The repair leaves the sandbox's TMI service running: stop it."""
    try:
        with open(os.path.join(root, ".services", "TrendMicro Infrastructure.pid")) as fh:
            os.kill(int(fh.read().strip()), signal.SIGTERM)
    except (OSError, ValueError):
        pass
