#!/usr/bin/env python3
"""integration/guard - every request check of the real server, over loopback:
Host, Origin, CORS preflight, authentication, URL checks, methods, bodies,
pagination values, and the security headers on 200, 401 and 404."""
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import (Server, check, expect_problem, expect_security_headers,  # noqa: E402
                       expect_status, finish)

srv = Server(sys.argv[1], "guard")
P = srv.port
try:
    # health: no auth, says nothing else
    r = srv.request("GET", "/api/health")
    expect_status(r, 200, "health")
    check(r.json() == {"status": "ok"}, "health says more than ok: %r" % r.body)
    expect_security_headers(r, "200 health")

    # authentication
    r = srv.request("GET", "/api/status")
    expect_problem(r, 401, "no token")
    expect_security_headers(r, "401 no token")
    check((r.header("www-authenticate") or "").startswith("Bearer"), "401 without WWW-Authenticate")
    r = srv.request("GET", "/api/status", token="0" * 64)
    expect_problem(r, 401, "wrong token")
    r = srv.request("GET", "/api/status", headers={"Authorization": "Basic YTpi"})
    expect_problem(r, 401, "basic auth")
    r = srv.request("GET", "/api/status", token=True)
    expect_status(r, 200, "right token")
    expect_security_headers(r, "200 status")

    # unknown route, wrong method
    r = srv.request("GET", "/api/nothing", token=True)
    expect_problem(r, 404, "unknown route")
    expect_security_headers(r, "404 unknown route")
    r = srv.request("GET", "/nothing")
    expect_problem(r, 404, "unknown route, no auth")
    r = srv.request("DELETE", "/api/status", token=True)
    expect_problem(r, 405, "wrong method")
    check(r.header("allow") == "GET, HEAD", "405 Allow is %r" % r.header("allow"))
    r = srv.request("PUT", "/api/scan", token=True, body={})
    expect_problem(r, 405, "PUT on scan")
    check(r.header("allow") == "POST", "405 Allow is %r" % r.header("allow"))

    # Host (DNS rebinding): only 127.0.0.1:PORT and localhost:PORT
    for host, want in (("evil.example:%d" % P, (421, 400)), ("127.0.0.1:%d" % (P + 1), (421, 400)),
                       ("localhost.evil.example:%d" % P, (421, 400)), ("127.0.0.1", (421, 400))):
        r = srv.raw(b"GET /api/health HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n")
        expect_problem(r, want, "Host %s" % host)
        expect_security_headers(r, "Host %s" % host)
    r = srv.raw(b"GET /api/health HTTP/1.1\r\n\r\n")
    expect_problem(r, 400, "no Host")
    r = srv.raw(b"GET /api/health HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % P)
    expect_status(r, 200, "Host localhost")
    r = srv.raw(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nHost: evil.example\r\n\r\n" % P)
    expect_problem(r, 400, "two Host headers")
    # the credential headers too: which copy counts must never be a question
    for name, value in ((b"X-TMI-Secret", b"0" * 64), (b"Cookie", b"a=1"),
                        (b"Authorization", b"Bearer x")):
        head = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % P
        line = name + b": " + value + b"\r\n"
        r = srv.raw(head + line + b"\r\n")
        expect_status(r, 200, "one %s header on a public route" % name.decode())
        r = srv.raw(head + line + line + b"\r\n")
        expect_problem(r, 400, "two %s headers" % name.decode())

    # Origin: a present one must be ours exactly
    for origin in ("http://evil.example", "null", "http://127.0.0.1:%d" % (P + 1),
                   "https://127.0.0.1:%d" % P):
        r = srv.request("GET", "/api/status", token=True, headers={"Origin": origin})
        expect_problem(r, 403, "Origin %s" % origin)
        expect_security_headers(r, "Origin %s" % origin)
    for origin in ("http://127.0.0.1:%d" % P, "http://localhost:%d" % P):
        r = srv.request("GET", "/api/status", token=True, headers={"Origin": origin})
        expect_status(r, 200, "own Origin %s" % origin)
    r = srv.request("GET", "/api/status", token=True, headers={"Sec-Fetch-Site": "cross-site"})
    expect_problem(r, 403, "Sec-Fetch-Site cross-site")
    # a page on another port of localhost is "same-site" with us
    r = srv.request("GET", "/api/status", token=True, headers={"Sec-Fetch-Site": "same-site"})
    expect_problem(r, 403, "Sec-Fetch-Site same-site")
    r = srv.request("GET", "/api/status", token=True, headers={"Sec-Fetch-Site": "same-origin"})
    expect_status(r, 200, "Sec-Fetch-Site same-origin")

    # CORS preflight from another origin: refused, no Access-Control-Allow-*
    r = srv.request("OPTIONS", "/api/scan", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-tmi-secret"})
    expect_status(r, (403, 405), "CORS preflight")
    expect_security_headers(r, "CORS preflight")
    r = srv.request("OPTIONS", "/api/scan", headers={
        "Origin": "http://127.0.0.1:%d" % P, "Access-Control-Request-Method": "POST"})
    expect_status(r, (403, 405), "same-origin OPTIONS")
    expect_security_headers(r, "same-origin OPTIONS")
    r = srv.raw(b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://evil.example\r\n"
                b"Access-Control-Request-Method: POST\r\n\r\n" % P)
    check(r.status != 200 and not any(k.startswith("access-control-allow") for k, _ in r.headers),
          "OPTIONS * answered with 200 or Access-Control-Allow-*: %r" % r)

    # URL: traversal, encoded NUL, backslash, encoded slash, length
    for path in ("/api/../api/status", "/api/%2e%2e/api/status", "/api/%2E%2e/x", "/api/./status",
                 "/api/status%00", "/api/%00", "/api\\status", "/api/%5cstatus", "/api%2fstatus",
                 "//api/status", "/api/st%zzatus", "/api/%ff"):
        r = srv.raw(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    b"Authorization: Bearer " % P + srv.token.encode() + b"\r\n\r\n")
        check(r.status in (400, 404), "path %s: expected 400/404, got %r" % (path, r))
        check(r.status != 200, "path %s was served" % path)
        expect_security_headers(r, "path %s" % path)
    r = srv.request("GET", "/api/status?limit=%00", token=True)
    expect_problem(r, 400, "encoded NUL in query")
    r = srv.request("GET", "/api/" + "a" * 1100, token=True)
    expect_problem(r, 414, "long path")
    r = srv.request("GET", "/api/scans?limit=1&x=" + "a" * 2100, token=True)
    expect_problem(r, 414, "long query")
    r = srv.raw(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Big: " % P
                + b"a" * 20000 + b"\r\n\r\n")
    check(r.status in (400, 413, 431) or r.status == 0,
          "oversized headers: expected a 4xx or a closed connection, got %r" % r)
    r = srv.raw(b"GET x HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % P)
    expect_status(r, 400, "request target not starting with /")
    expect_security_headers(r, "the engine's own 400")

    # pagination values: digits only, bounded; unknown parameters refused
    for q in ("limit=0", "limit=501", "limit=abc", "limit=-1", "limit=+5", "limit=1e2",
              "limit=%201", "before=0", "before=-5", "before=99999999999999999999", "limit=1&limit=2",
              "bogus=1"):
        r = srv.request("GET", "/api/scans?" + q, token=True)
        expect_problem(r, 400, "query %s" % q)
    r = srv.request("GET", "/api/scans?limit=500&before=9223372036854775807", token=True)
    expect_status(r, 200, "limit 500")
    r = srv.request("GET", "/api/audit?since=yesterday", token=True)
    expect_problem(r, 400, "bad since")
    r = srv.request("GET", "/api/audit?since=2026-01-02&until=2026-01-01", token=True)
    expect_problem(r, 400, "until before since")

    # bodies: type, size, syntax
    r = srv.request("POST", "/api/scan", token=True, body=b"{}",
                    headers={"Content-Type": "text/plain"})
    expect_problem(r, 415, "text/plain body")
    r = srv.request("POST", "/api/scan", token=True, body=b"a=1",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect_problem(r, 415, "form body")
    r = srv.request("POST", "/api/scan", token=True, body=b"{}")
    expect_problem(r, 415, "body without a content type")
    r = srv.request("POST", "/api/scan", token=True, body=b"{\"a\":",
                    headers={"Content-Type": "application/json"})
    expect_problem(r, 400, "malformed JSON")
    r = srv.request("POST", "/api/scan", token=True, body=b"[" * 40 + b"]" * 40,
                    headers={"Content-Type": "application/json"})
    expect_problem(r, 400, "deep JSON")
    r = srv.request("POST", "/api/scan", token=True, body={"unexpected": 1})
    expect_problem(r, 400, "unknown field")
    big = b"{\"a\":\"" + b"x" * 70000 + b"\"}"
    r = srv.request("POST", "/api/scan", token=True, body=big,
                    headers={"Content-Type": "application/json"})
    expect_problem(r, 413, "oversized body")
    r = srv.raw(b"POST /api/scan HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"
                % (P, srv.token.encode()))
    expect_problem(r, 413, "huge Content-Length (not sent)")
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    r = srv.raw(b"POST /api/scan HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                % (P, srv.token.encode()) + body)
    expect_problem(r, 413, "oversized chunked body")
    r = srv.raw(b"POST /api/scan HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"2\r\n{}\r\n0\r\n\r\n" % (P, srv.token.encode()))
    expect_status(r, 201, "small chunked body")
    r = srv.request("GET", "/api/status", token=True, body=b"{}",
                    headers={"Content-Type": "application/json"})
    expect_problem(r, 400, "body on a GET route")
    r = srv.request("POST", "/api/scan", token=True)
    expect_status(r, 201, "POST without body")
except Exception:  # an unexpected error is a failure; the server is still stopped
    check(False, "unexpected error:\n" + traceback.format_exc())
finish(srv, "integration/guard")
