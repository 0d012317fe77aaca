"""test_signatures.py TMI_CONSOLE SIG_FIXTURES - the playbook's signature
policy on real signed files: the demo's sandbox with its good copies signed
by the test PKI (tests/tools/sig_fixtures.sh made it: SIG_FIXTURES/pki and
SIG_FIXTURES/trust.pem) through osslsigncode, then

- a signed good set: scan --json shows every signature, the source is
  complete, the repair succeeds and the history keeps the signatures;
- one tampered DLL (a byte changed inside the signed range): the source is
  "untrusted", the repair is refused before anything is touched, naming the
  file and the reason, and --accept-untrusted-root does not change that;
- a chain to a root outside the trust store: refused, then accepted with
  --accept-untrusted-root, which the job's params and audit record keep;
  the same through the API's job parameter;
- a publisher other than the playbook's, a thumbprint not pinned, an
  unsigned copy for a signed file, an unusable trust store: refused;
- the digests kept in the store (sig_digests.h): a second scan takes them
  (digest_cached), --no-cache does not; a tampered file is never served by
  the digest of its untampered self; and a digest planted in the store can
  mislead a scan but never a repair, which checks the bytes it copies.
"""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import (FILES, Server, check, expect_status, finish,  # noqa: E402
                       folder_bytes, stop_sandbox_service)

EXE = sys.argv[1]
FIX = sys.argv[2]
PKI = os.path.join(FIX, "pki")
TRUST = os.path.join(FIX, "trust.pem")
TMI_REL = os.path.join("Program Files (x86)", "Trend Micro", "COMMON", "TMI")
SRC_REL = os.path.join(TMI_REL, "is_backup", "filegroup100")
PUBLISHER = "TMI Test Publisher, Inc."


def playbook(path, **policy):
    pb = {
        "id": "sig-test", "title": "signature policy test", "expected_version": "1.12.0.1266",
        "known_bad_versions": ["1.12.0.1156"], "files": FILES,
        "tmi_folders": ["Program Files (x86)/Trend Micro/COMMON/TMI"],
        "sources": [{"glob": "is_backup/filegroup100", "variant": "test"}],
        "service": {"display_name": "Trend Micro Management Infrastructure",
                    "image_name": "mrf.exe"},
        "signer": {"organization": PUBLISHER}, "allow_unsigned": False, "trust_store": TRUST}
    pb.update(policy)
    with open(path, "w") as fh:
        json.dump(pb, fh)
    return path


def run(data, pb, *args):
    return subprocess.run([EXE, "--data", data, "--playbook", pb] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


def sign(path, chain="chain-leaf", key="leaf"):
    out = path + ".signed"
    subprocess.run(["osslsigncode", "sign", "-certs", os.path.join(PKI, chain + ".pem"),
                    "-key", os.path.join(PKI, key + ".key"), "-h", "sha256",
                    "-in", path, "-out", out], check=True, stdout=subprocess.DEVNULL)
    os.replace(out, path)


def sandbox(tmp, name):
    """A demo sandbox whose good copies are signed; its TMI folder and data."""
    box = os.path.join(tmp, name)
    data = os.path.join(tmp, name + "-data")
    r = subprocess.run([EXE, "--data", data, "demo", "--no-serve", "--dir", box],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    check(r.returncode == 0, "demo %s: %d %s" % (name, r.returncode, r.stderr))
    for f in FILES:
        sign(os.path.join(box, SRC_REL, f))
    return box, data




def tamper(path):
    """Change one byte inside the first section: inside the signed range."""
    with open(path, "r+b") as fh:
        fh.seek(0x400)
        b = fh.read(1)
        fh.seek(0x400)
        fh.write(bytes([b[0] ^ 0xFF]))


def scan(data, pb, box):
    r = run(data, pb, "scan", "--root", box, "--json")
    try:
        return json.loads(r.stdout)
    except ValueError:
        check(False, "scan --json is not JSON: %r %s" % (r.stdout[:200], r.stderr))
        return None


def audit_rows(data, pb):
    r = run(data, pb, "audit", "--json")
    try:
        return json.loads(r.stdout)["items"]
    except (ValueError, KeyError, TypeError):
        check(False, "audit --json: %r" % r.stdout[:200])
        return []


def expect_refused(data, pb, box, needle, what, *extra):
    """A repair that must be refused before it touches anything."""
    tmi = os.path.join(box, TMI_REL)
    before = folder_bytes(tmi)
    r = run(data, pb, "repair", "--root", box, "--yes", *extra)
    out = r.stdout + r.stderr
    check(r.returncode == 1, "%s: repair exit %d, want 1: %s" % (what, r.returncode, out))
    check(needle in out, "%s: the refusal does not say %r: %s" % (what, needle, out))
    check(folder_bytes(tmi) == before, "%s: the TMI folder changed" % what)
    backups = os.path.join(data, "backups")
    taken = os.listdir(backups) if os.path.isdir(backups) else []
    check(not taken, "%s: a backup was taken: %r" % (what, taken))


def good_set(tmp):
    box, data = sandbox(tmp, "good")
    pb = playbook(os.path.join(tmp, "good.json"))
    s = scan(data, pb, box)
    if s:
        src = s["sources"][0]
        check(src["state"] == "complete" and src["complete"], "good set: %r" % src["reason"])
        sigs = [f["signature"] for f in src["files"]]
        check(all(g and g["status"] == "valid" and g["signer"]["organization"] == PUBLISHER
                  for g in sigs), "good set signatures: %r" % sigs[:1])
        check(all(f["signature"]["status"] == "unsigned" for f in s["files"]),
              "the TMI folder's files: %r" % [f["signature"] for f in s["files"]][:1])
        check(s["signature_error"] is None, "signature_error: %r" % s["signature_error"])
    r = run(data, pb, "repair", "--root", box, "--yes", "--json", "--stay-seconds", "1")
    stop_sandbox_service(box)
    check(r.returncode == 0, "good set: repair exit %d %s %s" % (r.returncode, r.stdout[-300:],
                                                                r.stderr[-300:]))
    s = scan(data, pb, box)
    if s:
        check(s["verdict"] == "healthy", "after the repair: %r" % s["verdict"])
        check(all(f["signature"]["status"] == "valid" for f in s["files"]),
              "after the repair the TMI files are signed: %r" % s["files"][0]["signature"])
    # the history keeps the signature of what is there now
    r = run(data, pb, "history", "--json", "--file", os.path.join(box, TMI_REL, "mrf.exe"))
    try:
        hist = json.loads(r.stdout)
        items = hist["items"] if isinstance(hist, dict) else hist
        check(items and items[0]["signature"]["status"] == "valid" and
              items[0]["signature"]["signer"] == PUBLISHER, "history: %r" % items[:1])
    except (ValueError, KeyError, TypeError, IndexError):
        check(False, "history --json: %r %s" % (r.stdout[:300], r.stderr))


def tampered_set(tmp):
    box, data = sandbox(tmp, "tampered")
    pb = playbook(os.path.join(tmp, "tampered.json"))
    dll = os.path.join(box, SRC_REL, "libMRF_DM.dll")
    tamper(dll)
    s = scan(data, pb, box)
    if s:
        src = s["sources"][0]
        check(src["state"] == "untrusted" and not s["repair"]["possible"],
              "tampered: %r %r" % (src["state"], src["reason"]))
        check("libMRF_DM.dll" in src["reason"] and "digest_mismatch" in src["reason"],
              "tampered: the reason %r" % src["reason"])
        bad = [f for f in src["files"] if f["name"] == "libMRF_DM.dll"][0]["signature"]
        check(bad["status"] == "invalid" and bad["reason"] == "digest_mismatch", "%r" % bad)
    expect_refused(data, pb, box, "libMRF_DM.dll has an invalid signature (digest_mismatch",
                   "tampered")
    expect_refused(data, pb, box, "digest_mismatch", "tampered with --accept-untrusted-root",
                   "--accept-untrusted-root")


def source_sigs(s):
    return {f["name"]: f["signature"] for f in s["sources"][0]["files"]}


def digest_cache(tmp):
    box, data = sandbox(tmp, "cache")
    pb = playbook(os.path.join(tmp, "cache.json"))
    first, second = scan(data, pb, box), scan(data, pb, box)
    r = run(data, pb, "scan", "--root", box, "--json", "--no-cache")
    again = json.loads(r.stdout) if r.stdout.startswith("{") else None
    if first and second and again:
        a, b, c = source_sigs(first), source_sigs(second), source_sigs(again)
        check(not any(g["digest_cached"] for g in a.values()), "first scan: %r" % a)
        check(all(g["digest_cached"] and g["status"] == "valid" for g in b.values()),
              "second scan: %r" % b)
        check(all(b[n]["digest"] == a[n]["digest"] for n in a), "the kept digests differ")
        check(not any(g["digest_cached"] for g in c.values()), "--no-cache: %r" % c)
    # a tampered file has another SHA-256: its digest is computed, not found
    dll = os.path.join(box, SRC_REL, "libMRF_DM.dll")
    tamper(dll)
    s = scan(data, pb, box)
    if s:
        bad = source_sigs(s)["libMRF_DM.dll"]
        check(bad["status"] == "invalid" and bad["reason"] == "digest_mismatch" and
              not bad["digest_cached"], "tampered after a scan: %r" % bad)
        # plant the signed digest as the tampered bytes' own: the store is
        # believed by a scan...
        with open(dll, "rb") as fh:
            sha = hashlib.sha256(fh.read()).digest()
        db = sqlite3.connect(os.path.join(data, "tmi-console.db"))
        db.execute("INSERT OR REPLACE INTO sig_digests (sha256, alg, digest) VALUES (?, ?, ?)",
                   (sha, "sha256", bytes.fromhex(bad["signed_digest"])))
        db.commit()
        db.close()
        s = scan(data, pb, box)
        if s:
            fooled = source_sigs(s)["libMRF_DM.dll"]
            check(fooled["digest_cached"] and fooled["status"] == "valid",
                  "the planted digest was not used: %r" % fooled)
    # ...never by a repair, which recomputes what it would copy
    expect_refused(data, pb, box, "libMRF_DM.dll has an invalid signature (digest_mismatch",
                   "a planted digest")


def untrusted_root(tmp, srv):
    box, data = sandbox(tmp, "untrusted")
    # the trust store holds another root: the chain ends outside it
    pb = playbook(os.path.join(tmp, "untrusted.json"),
                  trust_store=os.path.join(PKI, "other-root.pem"))
    s = scan(data, pb, box)
    if s:
        src = s["sources"][0]
        check(src["state"] == "untrusted" and "untrusted_root" in src["reason"],
              "untrusted root: %r" % src["reason"])
    expect_refused(data, pb, box, "untrusted_root", "untrusted root")
    r = run(data, pb, "repair", "--root", box, "--yes", "--json", "--stay-seconds", "1",
            "--accept-untrusted-root")
    stop_sandbox_service(box)
    check(r.returncode == 0, "accepted root: exit %d %s %s" % (r.returncode, r.stdout[-300:],
                                                              r.stderr[-300:]))
    try:
        job = json.loads(r.stdout)
        params = job.get("params")
        if isinstance(params, str):
            params = json.loads(params)
        check(params and params.get("accept_untrusted_root") is True, "job params: %r" % params)
    except ValueError:
        check(False, "repair --json: %r" % r.stdout[:300])
    rows = [a for a in audit_rows(data, pb) if a.get("action") == "repair"]
    details = rows[0].get("details") if rows else None
    if isinstance(details, str):
        details = json.loads(details)
    check(details and details.get("accept_untrusted_root") is True and
          "mrf.exe" in details.get("untrusted_root_accepted", ""),
          "the repair's audit record: %r" % details)
    pre = [a for a in audit_rows(data, pb) if a.get("action") == "repair.preflight"]
    check(pre and "accepted by the admin's override" in json.dumps(pre[0]),
          "the preflight's audit record: %r" % pre[:1])

    # the API: the same override as a job parameter, checked and recorded
    r = srv.request("POST", "/api/jobs", body={"action": "repair",
                                               "accept_untrusted_root": "yes"}, token=True)
    expect_status(r, 400, "accept_untrusted_root must be a boolean")
    r = srv.request("POST", "/api/jobs", body={"action": "backup",
                                               "accept_untrusted_root": True}, token=True)
    expect_status(r, 400, "accept_untrusted_root with backup")
    r = srv.request("GET", "/api/plan?accept_untrusted_root=maybe", token=True)
    expect_status(r, 400, "plan: accept_untrusted_root=maybe")
    r = srv.request("GET", "/api/plan?accept_untrusted_root=true", token=True)
    expect_status(r, 200, "plan with the override")


def other_policies(tmp):
    box, data = sandbox(tmp, "policies")
    # another publisher
    pb = playbook(os.path.join(tmp, "publisher.json"),
                  signer={"organization": "Trend Micro, Inc."})
    expect_refused(data, pb, box, 'not by the expected publisher "Trend Micro, Inc."',
                   "another publisher")
    # pinned thumbprints that are not the leaf's
    pb = playbook(os.path.join(tmp, "pinned.json"),
                  signer={"organization": PUBLISHER, "thumbprints": ["00" * 32]})
    expect_refused(data, pb, box, "not one of the playbook's thumbprints", "pinned thumbprint")
    # the leaf's own thumbprint pinned: complete
    der = open(os.path.join(PKI, "leaf.der"), "rb").read()
    pb = playbook(os.path.join(tmp, "pinned-ok.json"),
                  signer={"organization": PUBLISHER,
                          "thumbprints": [hashlib.sha256(der).hexdigest()]})
    s = scan(data, pb, box)
    check(s and s["sources"][0]["complete"], "pinned leaf: %r" % (s and s["sources"][0]["reason"]))
    # an unusable trust store: nothing is complete, the scan says why
    pb = playbook(os.path.join(tmp, "nostore.json"), trust_store=os.path.join(tmp, "none.pem"))
    s = scan(data, pb, box)
    check(s and s["signature_error"] and not s["sources"][0]["complete"],
          "missing trust store: %r" % (s and s["signature_error"]))
    # unsigned copies: refused without allow_unsigned; with it, only for
    # unsigned targets (a signed file is never replaced by an unsigned one)
    tmi = os.path.join(box, TMI_REL)
    src = os.path.join(box, SRC_REL)
    plain = os.path.join(tmp, "plain-src")
    os.makedirs(plain)
    for f in FILES:
        subprocess.run(["osslsigncode", "remove-signature", "-in", os.path.join(src, f),
                        "-out", os.path.join(plain, f)], check=True, stdout=subprocess.DEVNULL)
    for f in FILES:
        shutil.copy(os.path.join(plain, f), os.path.join(src, f))
    pb = playbook(os.path.join(tmp, "signed-only.json"))
    expect_refused(data, pb, box, "accepts signed files only", "unsigned, allow_unsigned false")
    pb = playbook(os.path.join(tmp, "allow.json"), allow_unsigned=True)
    s = scan(data, pb, box)
    check(s and s["sources"][0]["complete"], "unsigned over unsigned: %r"
          % (s and s["sources"][0]["reason"]))
    sign(os.path.join(tmi, "libMRF_AP.dll"))
    expect_refused(data, pb, box, "libMRF_AP.dll is not signed, but the file it would replace is",
                   "unsigned over signed")


srv = Server(EXE, "signatures")
try:
    good_set(srv.tmp)
    tampered_set(srv.tmp)
    digest_cache(srv.tmp)
    untrusted_root(srv.tmp, srv)
    other_policies(srv.tmp)
finally:
    finish(srv, "signatures")
