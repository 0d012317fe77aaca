#!/usr/bin/env python3
"""firefox_smoke.py TMI_CONSOLE - the web console in Firefox (Debian's
firefox-esr, headless), driven over its built-in Marionette protocol with the
standard library only: log in through the one-time URL, see the fault, run
Repair from the page and watch it end healthy, then the audit view with the
chain verified and a file's timeline drawn. A JavaScript error on the page
fails the test. Chromium runs the full suite (ui.test.mjs); this checks that
the same page works in the other engine. Screenshots go to artifacts/.

Marionette: Firefox started with --marionette listens on 127.0.0.1 (port
from the profile's marionette.port); messages are "LEN:JSON", a command is
[0, id, name, params] and its answer [1, id, error, result].
"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.path.join(HERE, "artifacts")
FIREFOX = os.environ.get("TMI_FIREFOX", "/usr/bin/firefox-esr")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Marionette:
    def __init__(self, port, timeout=60):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("firefox-smoke: Marionette did not open port %d" % port)
                time.sleep(0.2)
        self.buf = b""
        self.next_id = 1
        self._read()  # the hello

    def _read(self):
        while b":" not in self.buf:
            self._more()
        n, _, rest = self.buf.partition(b":")
        n = int(n)
        self.buf = rest
        while len(self.buf) < n:
            self._more()
        msg, self.buf = self.buf[:n], self.buf[n:]
        return json.loads(msg.decode("utf-8"))

    def _more(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise SystemExit("firefox-smoke: Marionette closed the connection")
        self.buf += chunk

    def cmd(self, name, params=None):
        mid = self.next_id
        self.next_id += 1
        data = json.dumps([0, mid, name, params or {}]).encode("utf-8")
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            msg = self._read()
            if msg[0] == 1 and msg[1] == mid:
                if msg[2]:
                    raise RuntimeError("%s: %s" % (name, msg[2].get("message", msg[2])))
                return msg[3]

    def js(self, script, *args):
        r = self.cmd("WebDriver:ExecuteScript", {"script": script, "args": list(args)})
        return r.get("value") if isinstance(r, dict) else r

    def wait(self, script, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = self.js(script)
            if v:
                return v
            time.sleep(0.2)
        self.shot("firefox-failed")
        raise SystemExit("firefox-smoke: timed out waiting for %s" % what)

    def shot(self, name):
        r = self.cmd("WebDriver:TakeScreenshot", {"full": True})
        os.makedirs(ARTIFACTS, exist_ok=True)
        with open(os.path.join(ARTIFACTS, name + ".png"), "wb") as f:
            f.write(base64.b64decode(r["value"] if isinstance(r, dict) else r))


# errors thrown on the page after it loaded, kept for the end
WATCH = """
if (!window.__tmiErrors) {
  window.__tmiErrors = [];
  window.addEventListener("error", (e) => window.__tmiErrors.push(String(e.message)));
  window.addEventListener("unhandledrejection", (e) => window.__tmiErrors.push(String(e.reason)));
}
return true;
"""


def main():
    exe = os.path.abspath(sys.argv[1])
    if not os.access(FIREFOX, os.X_OK):
        raise SystemExit("firefox-smoke: %s is missing (apt-get install firefox-esr)" % FIREFOX)
    work = tempfile.mkdtemp(prefix="tmi-ff-")
    demo = ff = None
    try:
        demo = subprocess.Popen(
            [exe, "--data", os.path.join(work, "data"), "demo", "--dir",
             os.path.join(work, "sandbox"), "--file-size", "65536"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        url = None
        deadline = time.time() + 30
        while url is None and time.time() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            m = re.search(r"(http://127\.0\.0\.1:\d+/login\?code=[0-9a-f]+)", line)
            url = m.group(1) if m else None
        if url is None:
            err = demo.stderr.read() if demo.poll() is not None else ""
            raise SystemExit("firefox-smoke: the demo printed no login URL: %s" % err)

        profile = os.path.join(work, "profile")
        os.makedirs(profile)
        mport = free_port()
        with open(os.path.join(profile, "user.js"), "w") as f:
            for k, v in [("marionette.port", mport), ("app.update.enabled", False),
                         ("browser.shell.checkDefaultBrowser", False),
                         ("datareporting.policy.dataSubmissionEnabled", False),
                         ("toolkit.telemetry.enabled", False),
                         ("network.captive-portal-service.enabled", False),
                         ("browser.safebrowsing.malware.enabled", False),
                         ("browser.safebrowsing.phishing.enabled", False),
                         ("extensions.update.enabled", False)]:
                f.write("user_pref(%s, %s);\n" % (json.dumps(k), json.dumps(v)))
        env = dict(os.environ, HOME=work, MOZ_HEADLESS="1")
        ff = subprocess.Popen([FIREFOX, "--headless", "--marionette", "--no-remote",
                               "--profile", profile], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        m = Marionette(mport)
        m.cmd("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {}}})
        m.cmd("WebDriver:SetWindowRect", {"width": 1366, "height": 900})
        m.cmd("WebDriver:Navigate", {"url": url})
        m.js(WATCH)
        m.wait("return location.search === '' && "
               "document.getElementById('banner').dataset.verdict === 'affected' && "
               "document.querySelectorAll('#files-body tr').length === 8",
               "the status page to show the fault")
        m.shot("firefox-01-affected")

        # Repair from the page: the confirmation, then the steps until healthy
        m.js("document.getElementById('act-repair').click(); return true;")
        m.wait("return document.getElementById('confirm').open && "
               "document.getElementById('confirm-body').innerText.includes('filegroup100')",
               "the repair confirmation")
        m.js("document.getElementById('confirm-ok').click(); return true;")
        m.wait("return document.getElementById('banner').dataset.verdict === 'healthy'",
               "the repair to end healthy", timeout=90)
        m.shot("firefox-02-healthy")

        m.js("document.getElementById('tab-audit').click(); return true;")
        m.wait("return document.querySelector('#chain.badge-intact') !== null && "
               "document.querySelector('#audit-body tr[data-action=repair]') !== null",
               "the audit view with the chain verified")
        m.js("document.getElementById('tab-history').click(); return true;")
        m.wait("return document.querySelectorAll('#timeline svg g.tl-seg[data-lane=tmi]')"
               ".length >= 2", "the file's timeline")
        m.shot("firefox-03-timeline")
        errors = m.js("return window.__tmiErrors;")
        if errors:
            raise SystemExit("firefox-smoke: JavaScript errors on the page: %r" % errors)
        try:
            m.cmd("Marionette:Quit")
        except (RuntimeError, SystemExit, OSError):
            pass
    finally:
        for p in (ff, demo):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        pid_file = os.path.join(work, "sandbox", ".services", "TrendMicro Infrastructure.pid")
        try:
            with open(pid_file) as f:
                os.kill(int(f.read().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
