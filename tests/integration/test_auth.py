#!/usr/bin/env python3
"""integration/auth - the browser login and its session: one-time login URL
(from serve and from login-url), cookie flags, CSRF on changes, logout,
token rotation, audit records, and the brake on repeated failures."""
import os
import sys
import traceback
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import (Server, check, expect_problem, expect_security_headers,  # noqa: E402
                       expect_status, finish)

srv = Server(sys.argv[1], "auth")
P = srv.port
ORIGIN = "http://127.0.0.1:%d" % P


def login(url, what):
    """GET the login URL; return the session cookie value (or None)."""
    u = urllib.parse.urlsplit(url)
    r = srv.request("GET", u.path + "?" + u.query)
    if not expect_status(r, 303, what):
        return None
    expect_security_headers(r, what)
    check(r.header("location") == "/", "%s: Location is %r, want /" % (what, r.header("location")))
    cookies = r.all("set-cookie")
    check(len(cookies) == 1, "%s: expected one Set-Cookie, got %r" % (what, cookies))
    c = cookies[0] if cookies else ""
    attrs = [a.strip() for a in c.split(";")]
    check("HttpOnly" in attrs, "%s: cookie without HttpOnly: %r" % (what, c))
    check("SameSite=Strict" in attrs, "%s: cookie without SameSite=Strict: %r" % (what, c))
    check("Path=/" in attrs, "%s: cookie without Path=/: %r" % (what, c))
    name, _, value = attrs[0].partition("=")
    check(name == "tmi_session" and len(value) == 64, "%s: odd cookie %r" % (what, c))
    check(u.query.split("=", 1)[1] not in c, "%s: the login code is in the cookie" % what)
    return value


try:
    # the URL printed by serve logs a browser in, once
    cookie = login(srv.login_url, "login with the URL from serve")
    u = urllib.parse.urlsplit(srv.login_url)
    r = srv.request("GET", u.path + "?" + u.query)
    expect_problem(r, 403, "the same login URL a second time")
    check(not r.all("set-cookie"), "a refused login set a cookie")
    r = srv.request("GET", "/login?code=" + "ab" * 32)
    expect_problem(r, 403, "an unknown login code")
    r = srv.request("GET", "/login")
    expect_problem(r, 400, "login without a code")

    ck = {"Cookie": "tmi_session=" + (cookie or "")}
    r = srv.request("GET", "/api/session", headers=ck)
    expect_status(r, 200, "session with the cookie")
    sess = r.json() or {}
    csrf = sess.get("csrf") or ""
    check(len(csrf) == 64 and sess.get("auth") == "session" and sess.get("user"),
          "session document %r" % sess)
    r = srv.request("GET", "/api/status", headers=ck)
    expect_status(r, 200, "status with the cookie")

    # changes by cookie need the CSRF header; by bearer token they do not
    r = srv.request("POST", "/api/scan", headers=dict(ck), body={})
    expect_problem(r, 403, "cookie POST without X-CSRF-Token")
    r = srv.request("POST", "/api/scan", headers=dict(ck, **{"X-CSRF-Token": "0" * 64}), body={})
    expect_problem(r, 403, "cookie POST with a wrong X-CSRF-Token")
    r = srv.request("POST", "/api/scan", headers=dict(ck, **{"X-CSRF-Token": csrf, "Origin": ORIGIN}),
                    body={})
    expect_status(r, 201, "cookie POST with X-CSRF-Token")
    r = srv.request("POST", "/api/scan",
                    headers=dict(ck, **{"X-CSRF-Token": csrf, "Origin": "http://evil.example"}),
                    body={})
    expect_problem(r, 403, "cookie POST with the CSRF token from a foreign Origin")
    r = srv.request("POST", "/api/scan", token=True, body={})
    expect_status(r, 201, "bearer POST without X-CSRF-Token")
    r = srv.request("GET", "/api/session", token=True)
    expect_status(r, 200, "session with the token")
    check((r.json() or {}).get("csrf", "x") is None, "bearer session has a csrf token: %r" % r.body)
    r = srv.request("GET", "/api/status", headers={"Cookie": "tmi_session=" + "0" * 64})
    expect_problem(r, 401, "a made-up session cookie")

    # login-url: a fresh code from another process, accepted once
    url = srv.cli("login-url").strip()
    check(url.startswith("http://127.0.0.1:%d/login?code=" % P), "login-url printed %r" % url)
    cookie2 = login(url, "login with the URL from login-url")
    check(cookie2 and cookie2 != cookie, "second login gave the same session")
    u = urllib.parse.urlsplit(url)
    r = srv.request("GET", u.path + "?" + u.query)
    expect_problem(r, 403, "the login-url URL a second time")

    # logout ends the session
    ck2 = {"Cookie": "tmi_session=" + (cookie2 or "")}
    r = srv.request("DELETE", "/api/session", headers=ck2)
    expect_problem(r, 403, "logout without X-CSRF-Token")
    r = srv.request("GET", "/api/session", headers=ck2)
    csrf2 = (r.json() or {}).get("csrf", "")
    r = srv.request("DELETE", "/api/session", headers=dict(ck2, **{"X-CSRF-Token": csrf2}))
    expect_status(r, 204, "logout")
    check(any("Max-Age=0" in c for c in r.all("set-cookie")), "logout did not clear the cookie")
    r = srv.request("GET", "/api/session", headers=ck2)
    expect_problem(r, 401, "session after logout")
    r = srv.request("GET", "/api/session", headers=ck)
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

    # repeated failures are slowed down: wrong tokens get 429 while the brake
    # holds, but it never locks out the holder of the right token
    got429 = None
    for i in range(12):
        r = srv.request("GET", "/api/status", token="f" * 64)
        if r.status == 429:
            got429 = r
            break
        expect_problem(r, 401, "failure %d" % i)
    check(got429 is not None, "no 429 after 12 failed tokens")
    if got429 is not None:
        expect_problem(got429, 429, "throttled")
        check((got429.header("retry-after") or "").isdigit(), "429 without Retry-After")
        expect_security_headers(got429, "429")
    r = srv.request("GET", "/api/status", token="f" * 64)
    expect_problem(r, 429, "a wrong token while the brake holds")
    r = srv.request("GET", "/api/status", token=True)
    expect_status(r, 200, "the right token while the brake holds")
    r = srv.request("GET", "/api/health")
    expect_status(r, 200, "health while throttled")
    r = srv.request("GET", "/api/audit?action=auth_throttle", headers={"Cookie": "tmi_session=" + (cookie or "")})
    expect_status(r, 200, "a web session is not paused by the brake")
    check(len((r.json() or {}).get("items", [])) >= 1, "no auth_throttle audit row: %r" % r.body[:300])
except Exception:  # an unexpected error is a failure; the server is still stopped
    check(False, "unexpected error:\n" + traceback.format_exc())
finish(srv, "integration/auth")
