#!/usr/bin/env python3
"""integration/auth - the browser login and its session: one-time login URL
(from serve and from login-url), the port's cookie and the page secret
(the cookie alone is worth nothing, whatever else is sent), logout, two
servers on two ports, token rotation, audit records, and the brake on
repeated failures (wrong tokens, login codes and session cookies), which
also holds failing requests for a bounded time."""
import os
import re
import sys
import threading
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import (Server, check, expect_problem, expect_security_headers,  # noqa: E402
                       expect_status, finish)

# as server/auth.h
HOLD_MAX_S = 1.0
HOLD_MAX_HELD = 4
SECRET_HEADER = "X-TMI-Secret"
HEX64 = re.compile(rb"[0-9a-f]{64}")

srv = Server(sys.argv[1], "auth")
srv2 = Server(sys.argv[1], "auth2")  # a second console on another port
P = srv.port
ORIGIN = "http://127.0.0.1:%d" % P


def login(s, url, what):
    """GET the login URL; return (cookie name, cookie value, page secret)."""
    u = urllib.parse.urlsplit(url)
    r = s.request("GET", u.path + "?" + u.query)
    if not expect_status(r, 303, what):
        return None, None, None
    expect_security_headers(r, what)
    loc = r.header("location") or ""
    m = re.fullmatch(r"/#secret=([0-9a-f]{64})", loc)
    check(m, "%s: Location is %r, want /#secret=<64 hex>" % (what, loc))
    cookies = r.all("set-cookie")
    check(len(cookies) == 1, "%s: expected one Set-Cookie, got %r" % (what, cookies))
    c = cookies[0] if cookies else ""
    attrs = [a.strip() for a in c.split(";")]
    check("HttpOnly" in attrs, "%s: cookie without HttpOnly: %r" % (what, c))
    check("SameSite=Strict" in attrs, "%s: cookie without SameSite=Strict: %r" % (what, c))
    check("Path=/" in attrs, "%s: cookie without Path=/: %r" % (what, c))
    name, _, value = attrs[0].partition("=")
    check(name == "tmi_session_%d" % s.port and len(value) == 64,
          "%s: odd cookie %r (want tmi_session_%d=<64 hex>)" % (what, c, s.port))
    check(u.query.split("=", 1)[1] not in c, "%s: the login code is in the cookie" % what)
    secret = m.group(1) if m else ""
    check(secret and secret not in c, "%s: the page secret is in the cookie" % what)
    check(secret != value, "%s: the page secret is the session id" % what)
    return name, value, secret


def reveals_nothing(r, secrets, what):
    """The answer holds none of the secrets and no 64-hex value at all."""
    body = r.body + "".join(v for _, v in r.headers).encode()
    check(not any(x and x.encode() in body for x in secrets),
          "%s: the answer reveals a secret: %r" % (what, r))
    check(not HEX64.search(r.body), "%s: the answer holds a 64-hex value: %r" % (what, r))


def job_count():
    r = srv.request("GET", "/api/jobs", token=True)
    return len((r.json() or {}).get("jobs", [])) if r.status == 200 else -1


def scan_count():
    r = srv.request("GET", "/api/scans?limit=100", token=True)
    return len((r.json() or {}).get("items", [])) if r.status == 200 else -1


def timed(s, method, path, headers):
    t0 = time.monotonic()
    r = s.request(method, path, headers=headers)
    return r, time.monotonic() - t0



try:
    # the URL printed by serve logs a browser in, once
    cname, cookie, secret = login(srv, srv.login_url, "login with the URL from serve")
    u = urllib.parse.urlsplit(srv.login_url)
    r = srv.request("GET", u.path + "?" + u.query)
    expect_problem(r, 403, "the same login URL a second time")
    check(not r.all("set-cookie"), "a refused login set a cookie")
    r = srv.request("GET", "/login?code=" + "ab" * 32)
    expect_problem(r, 403, "an unknown login code")
    r = srv.request("GET", "/login")
    expect_problem(r, 400, "login without a code")  # not a credential: not counted

    ck = {"Cookie": "%s=%s" % (cname, cookie or "")}
    both = dict(ck, **{SECRET_HEADER: secret or ""})
    r = srv.request("GET", "/api/session", headers=both)
    expect_status(r, 200, "session with the cookie and the secret")
    sess = r.json() or {}
    check(sess.get("auth") == "session" and sess.get("user") and "csrf" not in sess,
          "session document %r" % sess)
    reveals_nothing(r, [secret, cookie], "GET /api/session with both")
    r = srv.request("GET", "/api/status", headers=both)
    expect_status(r, 200, "status with the cookie and the secret")
    r = srv.request("POST", "/api/scan", headers=dict(both, Origin=ORIGIN), body={})
    expect_status(r, 201, "POST with the cookie and the secret")
    r = srv.request("POST", "/api/scan",
                    headers=dict(both, Origin="http://evil.example"), body={})
    expect_problem(r, 403, "cookie and secret from a foreign Origin")
    r = srv.request("POST", "/api/scan", token=True, body={})
    expect_status(r, 201, "bearer POST")
    r = srv.request("GET", "/api/session", token=True)
    expect_status(r, 200, "session with the token")
    check((r.json() or {}).get("auth") == "token" and "csrf" not in (r.json() or {}),
          "bearer session document: %r" % r.body)
    # the secret alone is nothing either (and, with no cookie, not counted)
    r = srv.request("GET", "/api/status", headers={SECRET_HEADER: secret or ""})
    expect_problem(r, 401, "the secret without the cookie")
    # the old cookie name (no port) is not ours
    r = srv.request("GET", "/api/status",
                    headers={"Cookie": "tmi_session=" + (cookie or ""), SECRET_HEADER: secret})
    expect_problem(r, 401, "the session id under the old cookie name")

    # login-url: a fresh code from another process, accepted once; its
    # session has its own secret
    url = srv.cli("login-url").strip()
    check(url.startswith("http://127.0.0.1:%d/login?code=" % P), "login-url printed %r" % url)
    _, cookie2, secret2 = login(srv, url, "login with the URL from login-url")
    check(cookie2 and cookie2 != cookie and secret2 != secret, "second login gave the same session")
    u = urllib.parse.urlsplit(url)
    r = srv.request("GET", u.path + "?" + u.query)
    expect_problem(r, 403, "the login-url URL a second time")
    ck2 = {"Cookie": "%s=%s" % (cname, cookie2 or "")}
    both2 = dict(ck2, **{SECRET_HEADER: secret2 or ""})

    # logout ends the session (and needs the secret too)
    r = srv.request("DELETE", "/api/session", headers=both2)
    expect_status(r, 204, "logout")
    check(any(c.startswith(cname + "=;") and "Max-Age=0" in c for c in r.all("set-cookie")),
          "logout did not clear the port's cookie: %r" % r.all("set-cookie"))
    r = srv.request("GET", "/api/session", headers=both2)
    expect_problem(r, 401, "session after logout")
    r = srv.request("GET", "/api/session", headers=both)
    expect_status(r, 200, "the other session survives a logout")

    # the audit trail has the logins, the failure and the login codes
    r = srv.request("GET", "/api/audit?action=login&limit=50", token=True)
    items = (r.json() or {}).get("items", [])
    outcomes = sorted(i.get("outcome") for i in items)
    check(outcomes.count("ok") == 2 and outcomes.count("failed") >= 2,
          "audit login rows: %r" % outcomes)
    r = srv.request("GET", "/api/audit?action=login_code", token=True)
    check(len((r.json() or {}).get("items", [])) == 2, "audit login_code rows: %r" % r.body[:300])

    # token rotation: the old token stops working within about a second
    old = srv.token
    new = srv.cli("token", "--rotate").strip()
    check(len(new) == 64 and new != old, "token --rotate printed %r" % new)
    time.sleep(1.3)
    r = srv.request("GET", "/api/status", token=old)
    expect_problem(r, 401, "the old token after rotation")
    r = srv.request("GET", "/api/status", token=new)
    expect_status(r, 200, "the new token after rotation")
    srv.token = new
    r = srv.request("GET", "/api/audit?action=token_change", token=True)
    reasons = [((i.get("details") or {}).get("reason")) for i in (r.json() or {}).get("items", [])]
    check("rotated" in reasons and "created" in reasons, "audit token_change rows: %r" % reasons)

    # Two consoles on one machine: a browser sends both ports' cookies to
    # both servers; each takes only its own, a logout clears only its own.
    name_b, cookie_b, secret_b = login(srv2, srv2.login_url, "login on the second port")
    check(name_b != cname, "two ports share the cookie name %r" % cname)
    jar = {"Cookie": "%s=%s; %s=%s" % (cname, cookie, name_b, cookie_b)}
    r = srv.request("GET", "/api/session", headers=dict(jar, **{SECRET_HEADER: secret}))
    expect_status(r, 200, "port 1 with both cookies and its secret")
    r = srv2.request("GET", "/api/session", headers=dict(jar, **{SECRET_HEADER: secret_b}))
    expect_status(r, 200, "port 2 with both cookies and its secret")
    r = srv2.request("GET", "/api/session", headers=dict(jar, **{SECRET_HEADER: secret}))
    expect_problem(r, 401, "port 2 with port 1's secret")
    r = srv2.request("GET", "/api/session",
                     headers={"Cookie": "%s=%s" % (name_b, cookie), SECRET_HEADER: secret})
    expect_problem(r, 401, "port 1's session under port 2's cookie name")
    r = srv2.request("DELETE", "/api/session", headers=dict(jar, **{SECRET_HEADER: secret_b}))
    expect_status(r, 204, "logout on port 2")
    cleared = [c.split("=", 1)[0] for c in r.all("set-cookie")]
    check(cleared == [name_b], "logout on port 2 touched cookies %r" % cleared)
    r = srv.request("GET", "/api/session", headers=dict(jar, **{SECRET_HEADER: secret}))
    expect_status(r, 200, "port 1's session after a logout on port 2")

    # Port 2 has its own brake, untouched so far but for the two refusals
    # above: made-up session cookies (with some secret) alone engage it.
    got429 = None
    for i in range(12):
        r = srv2.request("GET", "/api/status", headers={
            "Cookie": "%s=%s" % (name_b, "%064x" % (i + 1)), SECRET_HEADER: "0" * 64})
        if r.status == 429:
            got429 = r
            break
        expect_problem(r, 401, "made-up session cookie %d" % i)
    check(got429 is not None, "no 429 after 12 made-up session cookies: wrong cookies not counted")
    r = srv2.request("GET", "/api/audit?action=auth_throttle", token=True)
    check(len((r.json() or {}).get("items", [])) >= 1,
          "port 2: no auth_throttle audit row: %r" % r.body[:300])
    r = srv2.request("GET", "/api/audit?action=auth", token=True)
    reasons = {(i.get("details") or {}).get("reason") for i in (r.json() or {}).get("items", [])}
    check("unknown session or wrong page secret" in reasons, "port 2 auth rows: %r" % reasons)

    # The cookie alone, whatever else comes with it, does nothing and tells
    # nothing (the attacker got it from a page on their own port: every
    # header they can make, no secret). Each attempt counts for the brake,
    # so most are 429: a refusal all the same (the brake answers only after
    # the credential was found wrong). They run a few at once, as the brake
    # holds failures for up to a second each.
    jobs0, scans0 = job_count(), scan_count()
    fakes = [{}, {"X-CSRF-Token": "0" * 64}, {SECRET_HEADER: ""}, {SECRET_HEADER: "0" * 64},
             {SECRET_HEADER: cookie}, {SECRET_HEADER: secret2}, {"Origin": ORIGIN},
             {"Sec-Fetch-Site": "same-origin", "Origin": ORIGIN, "X-Requested-With": "x"}]
    attempts = []
    for n, extra in enumerate(fakes):
        h = dict(ck, **extra)
        attempts += [("GET", "/api/session", h, None, "GET /api/session (%d)" % n),
                     ("POST", "/api/jobs", h, {"action": "backup"}, "POST /api/jobs (%d)" % n),
                     ("POST", "/api/scan", h, {}, "POST /api/scan (%d)" % n),
                     ("DELETE", "/api/session", h, None, "DELETE /api/session (%d)" % n),
                     ("GET", "/api/export/audit.csv", h, None, "audit export (%d)" % n)]
    answers = {}

    def attempt(a):
        answers[a[4]] = srv.request(a[0], a[1], headers=a[2], body=a[3])

    pending = list(attempts)
    while pending:
        batch, pending = pending[:20], pending[20:]
        threads = [threading.Thread(target=attempt, args=(a,)) for a in batch]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    for a in attempts:
        r = answers.get(a[4])
        if not check(r is not None, "cookie-only %s: no answer" % a[4]):
            continue
        expect_problem(r, (401, 403, 429), "cookie-only " + a[4])
        reveals_nothing(r, [secret, cookie], "cookie-only " + a[4])
        check(not r.all("set-cookie"), "cookie-only %s touched the cookie" % a[4])
    check(any(r.status == 401 for r in answers.values()), "no cookie-only attempt got 401")
    check(job_count() == jobs0, "a cookie-only request started a job")
    check(scan_count() == scans0, "a cookie-only request stored a scan")
    r = srv.request("GET", "/api/session", headers=both)
    expect_status(r, 200, "the session after the cookie-only attempts (still alive)")

    # The brake holds now: a failing request is answered only after a hold,
    # never longer than the cap. A 429 whose Retry-After says the block has
    # more than a second left is held for the whole cap; one with less is
    # held for the rest of the block, after which the next failure counts,
    # starts a longer block (over a second by now) and is held for the cap.
    held_for = None
    for i in range(10):
        r, took = timed(srv, "GET", "/api/status", dict(ck, **{SECRET_HEADER: "0" * 64}))
        check(took <= HOLD_MAX_S + 3, "a failure while the brake holds took %.2f s" % took)
        if r.status == 429:
            ra = r.header("retry-after") or ""
            check(ra.isdigit(), "429 without Retry-After")
            expect_security_headers(r, "429")
            if ra.isdigit() and int(ra) >= 2:
                held_for = took
                break
            continue
        expect_problem(r, 401, "a wrong secret after the block")
        held_for = took
        break
    check(held_for is not None and held_for >= 0.8 * HOLD_MAX_S,
          "a failure with the brake engaged was held %r s (want ~%.1f)" % (held_for, HOLD_MAX_S))
    r, took = timed(srv, "GET", "/api/status", both)
    expect_status(r, 200, "cookie and secret while the brake holds")
    check(took < 0.8 * HOLD_MAX_S, "the right session was held %.2f s" % took)
    r = srv.request("GET", "/api/status", token=True)
    expect_status(r, 200, "the right token while the brake holds")
    r = srv.request("GET", "/api/health")
    expect_status(r, 200, "health while throttled")

    # Many failures at once: at most HOLD_MAX_HELD are held, the rest are
    # answered at once, and the server keeps serving meanwhile.
    results = []
    lock = threading.Lock()

    def fail_once(i):
        rr, t = timed(srv, "GET", "/api/status",
                      {"Cookie": "%s=%064x" % (cname, 1000 + i), SECRET_HEADER: "1" * 64})
        with lock:
            results.append((rr.status, t))

    threads = [threading.Thread(target=fail_once, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    r = srv.request("GET", "/api/health")
    expect_status(r, 200, "health while failures are held")
    for t in threads:
        t.join(30)
    held = [t for _, t in results if t >= 0.4 * HOLD_MAX_S]
    check(len(results) == 12 and all(st in (401, 429) for st, _ in results),
          "concurrent failures: %r" % results)
    check(1 <= len(held) <= HOLD_MAX_HELD,
          "%d of 12 concurrent failures were held (want 1..%d): %r"
          % (len(held), HOLD_MAX_HELD, sorted(t for _, t in results)))
    check(all(t <= HOLD_MAX_S + 3 for _, t in results), "a failure was held too long: %r" % results)

    # wrong tokens feed the same brake
    r = srv.request("GET", "/api/status", token="f" * 64)
    expect_problem(r, (401, 429), "a wrong token")
    r = srv.request("GET", "/api/audit?action=auth_throttle", headers=both)
    expect_status(r, 200, "a web session is not paused by the brake")
    check(len((r.json() or {}).get("items", [])) >= 1, "no auth_throttle audit row: %r" % r.body[:300])
    r = srv.request("GET", "/api/audit?action=auth&limit=100", token=True)
    reasons = {(i.get("details") or {}).get("reason") for i in (r.json() or {}).get("items", [])}
    check({"session cookie without its page secret", "wrong API token"} <= reasons,
          "auth audit reasons: %r" % reasons)
except Exception:  # an unexpected error is a failure; the servers are still stopped
    check(False, "unexpected error:\n" + traceback.format_exc())
rc2, _ = srv2.stop()
check(rc2 == 0, "the second server exited with %r" % rc2)
srv2.cleanup()
finish(srv, "integration/auth")
