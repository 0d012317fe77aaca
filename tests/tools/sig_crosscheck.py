#!/usr/bin/python3
"""sig_crosscheck.py - cross-check tmi-console's Authenticode reader against
`osslsigncode verify`.

Usage: sig_crosscheck.py TMI_CONSOLE FIXTURE_DIR

(a) Every *.exe / *.dll of FIXTURE_DIR (made by sig_fixtures.sh, whose
    trust.pem is the trust store of both tools) is checked by
    `tmi-console inspect --json --trust trust.pem` and by
    `osslsigncode verify -CAfile trust.pem -TSA-CAfile trust.pem`. They must
    agree on the verdict (osslsigncode "Succeeded" = valid; "No signature
    found" without a signature it refused = unsigned; anything else =
    invalid) and, where both compute one, on the image digest. Where
    tmi-console is stricter by design the fixture is listed in STRICTER with
    both verdicts, which must hold as listed.
(b) Every PE file under the folders of Windows binaries that Debian's wine
    and mingw-w64 packages install: both must agree on signed / not signed.

Prints one line per disagreement and a summary; exit 0 when all agree, 1
otherwise (or when nothing was checked), 2 on a tool error.
"""

import json
import os
import re
import subprocess
import sys

BATCH = 200
FOLDERS = ["/usr/lib/x86_64-linux-gnu/wine", "/usr/lib/i386-linux-gnu/wine", "/usr/lib/wine",
           "/usr/share/win32", "/usr/share/win64", "/usr/lib/gcc/x86_64-w64-mingw32",
           "/usr/x86_64-w64-mingw32/lib", "/usr/i686-w64-mingw32/lib"]
MAX_SIZE = 64 * 1024 * 1024  # the scanner's default read limit

# fixture -> (osslsigncode's verdict, ours, our reason): where tmi-console
# refuses what osslsigncode accepts, as Windows does.
STRICTER = {
    # MD5 image digests are forgeable; Windows no longer trusts them either
    "signed-md5.exe": ("valid", "invalid", "unsupported_algorithm"),
    # a timestamp whose signature fails: osslsigncode drops it and checks the
    # chain now; WinVerifyTrust answers TRUST_E_TIME_STAMP
    "ts-tampered.exe": ("valid", "invalid", "bad_timestamp"),
}

DIGEST_RE = re.compile(r"^Calculated message digest\s*:\s*([0-9A-Fa-f]+)", re.M)


def osslsigncode(path, trust):
    """(verdict, digest or None) as osslsigncode sees the file."""
    args = ["osslsigncode", "verify"]
    if trust:
        args += ["-CAfile", trust, "-TSA-CAfile", trust]
    proc = subprocess.run(args + ["-in", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          check=False)
    out = proc.stdout.decode("utf-8", "replace")
    m = DIGEST_RE.search(out)
    digest = m.group(1).lower() if m else None
    if re.search(r"^Succeeded$", out, re.M):
        return "valid", digest
    if "No signature found" in out and "signature not at the end" not in out:
        return "unsigned", digest
    return "invalid", digest


def inspect(tool, paths, trust):
    """tmi-console's signature objects for paths (None for a non-PE file)."""
    out = []
    for i in range(0, len(paths), BATCH):
        batch = paths[i:i + BATCH]
        args = [tool, "inspect", "--json"] + (["--trust", trust] if trust else []) + batch
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        try:
            objs = json.loads(proc.stdout.decode("utf-8"))
        except ValueError:
            sys.stderr.write("sig-crosscheck: inspect printed no JSON (exit %d): %s\n"
                             % (proc.returncode, proc.stderr.decode("utf-8", "replace")))
            sys.exit(2)
        if len(objs) != len(batch):
            sys.stderr.write("sig-crosscheck: inspect answered %d of %d files\n"
                             % (len(objs), len(batch)))
            sys.exit(2)
        out.extend(o.get("signature") for o in objs)
    return out


def fixtures(tool, folder):
    trust = os.path.join(folder, "trust.pem")
    names = sorted(n for n in os.listdir(folder) if n.endswith((".exe", ".dll")))
    ours = inspect(tool, [os.path.join(folder, n) for n in names], trust)
    bad = 0
    for name, sig in zip(names, ours):
        theirs, digest = osslsigncode(os.path.join(folder, name), trust)
        status = sig["status"] if sig else "not-pe"
        reason = sig["reason"] if sig else None
        problems = []
        if name in STRICTER:
            want = STRICTER[name]
            if (theirs, status, reason) != want:
                problems.append("expected osslsigncode %s and ours %s (%s)" % want)
        elif status != theirs:
            problems.append("verdict")
        if digest is not None and sig is not None and sig["digest"] is not None \
                and digest != sig["digest"]:
            problems.append("digest %s vs %s" % (digest, sig["digest"]))
        if problems:
            bad += 1
            print("DISAGREE %s: osslsigncode %s, tmi-console %s (%s): %s"
                  % (name, theirs, status, reason, "; ".join(problems)))
    print("sig-crosscheck: fixtures: %d checked, %d agree (%d of them as listed stricter), "
          "%d disagree" % (len(names), len(names) - bad, len(STRICTER), bad))
    return len(names), bad


def real_world(tool):
    files = []
    for d in FOLDERS:
        for root, dirs, names in os.walk(d):
            dirs.sort()
            for n in sorted(names):
                p = os.path.join(root, n)
                if not n.lower().endswith((".dll", ".exe")) or os.path.islink(p):
                    continue
                if not os.path.isfile(p) or os.path.getsize(p) >= MAX_SIZE:
                    continue
                with open(p, "rb") as f:
                    if f.read(2) == b"MZ":
                        files.append(p)
    files = sorted(set(files))
    ours = inspect(tool, files, None)
    bad = signed = 0
    for path, sig in zip(files, ours):
        theirs, _ = osslsigncode(path, None)
        their_signed = theirs != "unsigned"
        our_signed = sig is not None and sig["status"] != "unsigned"
        signed += our_signed
        if their_signed != our_signed:
            bad += 1
            print("DISAGREE %s: osslsigncode %s, tmi-console %s"
                  % (path, theirs, sig["status"] if sig else "not a PE image"))
    print("sig-crosscheck: wine/mingw-w64 PE files: %d checked, %d agree (%d signed), "
          "%d disagree" % (len(files), len(files) - bad, signed, bad))
    return len(files), bad


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    n1, bad1 = fixtures(argv[1], argv[2])
    n2, bad2 = real_world(argv[1])
    if n1 == 0 or bad1 or bad2:
        return 1
    if n2 == 0:
        print("sig-crosscheck: no wine or mingw-w64 PE files on this machine")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
