"""test_contract.py TMI_CONSOLE - one owner per JSON shape: for the same data
the CLI's --json and the JSON API print the same document, key for key and
value for value (README, "JSON contract changes"): the page wrapper
{"items", "next_before"} with audit rows and file history rows, the alert
list, and the audit-verify report, intact and broken. Both read one store: the server's.
"""
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import Server, check, expect_status, finish  # noqa: E402

EXE = sys.argv[1]


def cli_json(srv, *args):
    r = subprocess.run([EXE, "--data", srv.data] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        check(False, "%s: stdout is not JSON alone: %r %s" % (" ".join(args), r.stdout[:300],
                                                             r.stderr))
        return r.returncode, None


def api_json(srv, path):
    r = srv.request("GET", path, token=True)
    expect_status(r, 200, "GET " + path)
    return r.json()


def shape(x):
    """The keys of a document, all the way down (lists: the shapes of their items)."""
    if isinstance(x, dict):
        return {k: shape(v) for k, v in x.items()}
    if isinstance(x, list):
        return [shape(v) for v in x]
    return None


def same(what, cli, api):
    check(cli is not None and api is not None and shape(cli) == shape(api),
          "%s: the keys differ:\n  CLI %r\n  API %r" % (what, shape(cli), shape(api)))
    check(cli == api, "%s: the values differ:\n  CLI %s\n  API %s"
          % (what, json.dumps(cli)[:600], json.dumps(api)[:600]))


def tamper(data, sql):
    """Edit the database behind the console's back, triggers dropped first."""
    db = sqlite3.connect(os.path.join(data, "tmi-console.db"))
    for (name,) in db.execute("SELECT name FROM sqlite_schema WHERE type = 'trigger'").fetchall():
        db.execute('DROP TRIGGER "%s"' % name)
    db.execute(sql)
    db.commit()
    db.close()


srv = Server(EXE, "contract")
try:
    # a scan from each side, so that the pages hold rows of both
    srv.cli("scan", "--root", srv.sandbox, check_rc=False)
    expect_status(srv.request("POST", "/api/scan", body={}, token=True), 201, "POST /api/scan")

    # ---- the audit trail: pages pinned below the newest row, two sizes, then the next page
    top = (api_json(srv, "/api/audit?limit=1") or {}).get("items", [{}])[0].get("seq", 0)
    check(top >= 3, "the audit trail has %r rows, want 3 or more" % top)
    for limit in (2, 500):
        rc, cli = cli_json(srv, "audit", "--json", "--limit", str(limit), "--before", str(top + 1))
        api = api_json(srv, "/api/audit?limit=%d&before=%d" % (limit, top + 1))
        check(rc == 0, "audit --json: exit %d" % rc)
        check(isinstance(cli, dict) and set(cli) == {"items", "next_before"},
              "audit --json is not a page: %r" % (cli if not isinstance(cli, dict) else set(cli)))
        same("audit page of %d" % limit, cli, api)
        nxt = (cli or {}).get("next_before")
        check((nxt is not None) == (limit == 2), "audit next_before with limit %d: %r"
              % (limit, nxt))
        if nxt is not None:
            _, cli2 = cli_json(srv, "audit", "--json", "--limit", "2", "--before", str(nxt))
            same("audit next page", cli2, api_json(srv, "/api/audit?limit=2&before=%d" % nxt))
    _, cli = cli_json(srv, "audit", "--json", "--action", "scan", "--before", str(top + 1))
    same("audit of the scans", cli, api_json(srv, "/api/audit?action=scan&before=%d" % (top + 1)))

    # ---- the history of one file
    hist = api_json(srv, "/api/files/mrf.exe/history?limit=1") or {}
    hid = (hist.get("items") or [{}])[0].get("id", 0)
    check(hid > 0, "no history of mrf.exe: %r" % hist)
    _, cli = cli_json(srv, "history", "--file", "mrf.exe", "--json", "--limit", "1",
                      "--before", str(hid + 1))
    same("history page", cli,
         api_json(srv, "/api/files/mrf.exe/history?limit=1&before=%d" % (hid + 1)))

    # ---- the alert list: open alerts and a page of recent ones
    for q, args in (("?limit=2", ("--limit", "2")), ("", ())):
        rc, cli = cli_json(srv, "alerts", "--json", *args)
        api = api_json(srv, "/api/alerts" + q)
        check(rc in (0, 1), "alerts --json: exit %d" % rc)
        check(isinstance(cli, dict) and set(cli) == {"open", "recent"}
              and set(cli["recent"]) == {"items", "next_before"},
              "alerts --json is not the alert list: %r" % cli)
        same("alert list" + q, cli, api)

    # ---- the verify report, intact: the same keys (the server may append between the calls)
    rc, cli = cli_json(srv, "audit", "verify", "--json")
    api = api_json(srv, "/api/audit/verify")
    check(rc == 0 and cli and cli.get("intact") is True, "verify --json: %d %r" % (rc, cli))
    check(shape(cli) == shape(api), "verify report keys: CLI %r, API %r"
          % (sorted(cli or {}), sorted(api or {})))
    check(cli and "break" in cli and "reason" not in cli and cli["break"] == "intact"
          and cli["broken_seq"] is None, "the intact report: %r" % cli)

    # ---- broken at row 2: a report that no append changes, the same on both sides
    tamper(srv.data, "UPDATE audit_log SET time_ns = time_ns + 1 WHERE seq = 2")
    rc, cli = cli_json(srv, "audit", "verify", "--json")
    api = api_json(srv, "/api/audit/verify")
    check(rc == 1, "verify --json of a broken chain: exit %d" % rc)
    same("the broken report", cli, api)
    check(cli and cli.get("break") == "hash mismatch" and cli.get("broken_seq") == 2,
          "the broken report: %r" % cli)
except Exception:  # an unexpected error is a failure; the server is still stopped
    import traceback
    check(False, "unexpected error:\n" + traceback.format_exc())
finish(srv, "integration/contract")
