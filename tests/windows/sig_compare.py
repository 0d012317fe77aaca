#!/usr/bin/python3
"""sig_compare.py - the Windows build's signature verdicts (under wine) against
the POSIX build's, on the same signed fixtures (tests/tools/sig_fixtures.sh).

Usage: sig_compare.py POSIX.json WINDOWS.json

Both files are `tmi-console inspect --json` arrays over the same fixtures, in
the same order (POSIX with the fixtures' trust store, Windows with the
prefix's). For every fixture both builds must agree on:
  - signed or not, the digest algorithm, the recomputed and the signed
    digest (the portable reader, the platforms' own hash functions);
  - the signer: organization, common name, subject, issuer, thumbprints,
    validity (OpenSSL on one side, CryptoAPI on the other).
Where wine's WinVerifyTrust decides, the verdict and the reason must agree
too. Where it cannot (UNDECIDABLE: wine's Authenticode policy accepts a chain
that ends outside its stores and does not check validity periods, key usage,
the certificates' own signatures or timestamps), the script says so and
checks the rest. Wine reports no signing time (it does not expose
countersigners), so signing times are not compared.
Exit 0 when all agree, 1 otherwise, 2 on bad input.
"""

import json
import ntpath
import os
import sys

UNDECIDABLE = {
    "unknown-root.exe": "untrusted root (chain ends outside the store)",
    "unknown-root-inc.dll": "untrusted root (self-signed root in the signature)",
    "expired.exe": "an expired leaf and CA without a timestamp",
    "ts-before-leaf.exe": "a leaf not yet valid at its timestamp",
    "noeku.exe": "a leaf without the code-signing usage",
    "ts-tampered.exe": "a timestamp whose signature fails",
    "tampered-cert.exe": "a certificate whose CA signature fails",
}
SIGNER_KEYS = ["organization", "common_name", "subject", "issuer", "thumbprint_sha1",
               "thumbprint_sha256", "not_before", "not_after"]


def base(path):
    return ntpath.basename(path) if "\\" in path else os.path.basename(path)


def compare(name, p, w):
    """Differences between the POSIX (p) and Windows (w) signature objects."""
    diffs = []
    if (p is None) != (w is None):
        return ["one build reads a PE image, the other does not"]
    if p is None:
        return diffs
    if (p["status"] == "unsigned") != (w["status"] == "unsigned"):
        diffs.append("signed: POSIX %s, Windows %s" % (p["status"], w["status"]))
    for key in ("digest_algorithm", "digest", "signed_digest"):
        if p[key] != w[key]:
            diffs.append("%s: POSIX %s, Windows %s" % (key, p[key], w[key]))
    ps, ws = p["signer"], w["signer"]
    if (ps is None) != (ws is None):
        diffs.append("signer: POSIX %s, Windows %s" % (ps is not None, ws is not None))
    elif ps is not None:
        for key in SIGNER_KEYS:
            if ps[key] != ws[key]:
                diffs.append("signer.%s: POSIX %r, Windows %r" % (key, ps[key], ws[key]))
    if name not in UNDECIDABLE:
        if (p["status"], p["reason"]) != (w["status"], w["reason"]):
            diffs.append("verdict: POSIX %s/%s, Windows %s/%s (%s)"
                         % (p["status"], p["reason"], w["status"], w["reason"], w["detail"]))
        if p["status"] == "valid" and p["root"] != w["root"]:
            diffs.append("root: POSIX %r, Windows %r" % (p["root"], w["root"]))
    return diffs


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        posix = json.load(open(argv[1], encoding="utf-8"))
        win = json.load(open(argv[2], encoding="utf-8"))
    except (OSError, ValueError) as e:
        sys.stderr.write("sig-compare: %s\n" % e)
        return 2
    if len(posix) != len(win) or not posix:
        sys.stderr.write("sig-compare: %d POSIX results, %d Windows results\n"
                         % (len(posix), len(win)))
        return 2
    bad = decided = 0
    for p, w in zip(posix, win):
        name = base(p["path"])
        if base(w["path"]) != name:
            sys.stderr.write("sig-compare: out of order: %s / %s\n" % (p["path"], w["path"]))
            return 2
        diffs = compare(name, p.get("signature"), w.get("signature"))
        decided += name not in UNDECIDABLE
        if diffs:
            bad += 1
            print("DISAGREE %s: %s" % (name, "; ".join(diffs)))
    for name, what in sorted(UNDECIDABLE.items()):
        w = next((o["signature"] for o in win if base(o["path"]) == name), None)
        print("  undecidable under wine: %-22s %s: wine says %s"
              % (name, what, w["status"] if w else "(no such fixture)"))
    print("sig-compare: %d fixtures, %d agree, %d disagree (verdicts compared on the %d that "
          "wine decides; digest and signer only on %d)"
          % (len(posix), len(posix) - bad, bad, decided, len(posix) - decided))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
