"""test_datadir.py TMI_CONSOLE - a data folder that someone else could change
is refused at the start of every command that uses it, `serve` included:
exit 2, and a message that names the folder, what is wrong and the command
that fixes it; running that command makes the folder usable again. A folder
tmi-console makes itself is private. Cases: mode 0777, owned by another user
(as root: chowned to nobody), a group-writable token file, a link inside;
and a good folder works.
"""
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmiserver import check  # noqa: E402

EXE = sys.argv[1]
TMI_REL = os.path.join("Program Files (x86)", "Trend Micro", "COMMON", "TMI")


def run(data, *args, timeout=60):
    return subprocess.run([EXE, "--data", data] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def refused(data, what, must_name, *args):
    """The command is refused: exit 2, the folder and the wrong path named,
    a fix given; returns the fix command (or None)."""
    r = run(data, *(args or ("audit",)))
    check(r.returncode == 2, "%s: %s exit %d, want 2 (stderr %r)"
          % (what, " ".join(args or ("audit",)), r.returncode, r.stderr[:300]))
    check("refusing the data folder %s:" % data in r.stderr,
          "%s: the message does not name the folder: %r" % (what, r.stderr[:300]))
    check(must_name in r.stderr, "%s: the message does not say %r: %r"
          % (what, must_name, r.stderr[:300]))
    m = re.search(r"fix \([^)]*\): (.*)$", r.stderr.splitlines()[0] if r.stderr else "")
    check(m is not None, "%s: no fix command in %r" % (what, r.stderr[:300]))
    return m.group(1) if m else None


def apply_fix(cmd, what):
    r = subprocess.run(["sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    check(r.returncode == 0, "%s: the fix %r failed: %s" % (what, cmd, r.stderr))


def works(data, what):
    r = run(data, "token")
    check(r.returncode == 0 and len(r.stdout.strip()) == 64,
          "%s: token exit %d (stderr %r)" % (what, r.returncode, r.stderr[:300]))


base = os.environ.get("TMI_TEST_TMP") or tempfile.gettempdir()
os.makedirs(base, exist_ok=True)
tmp = tempfile.mkdtemp(prefix="it-datadir-", dir=base)
try:
    box = os.path.join(tmp, "sandbox")

    # a good folder: made by tmi-console, private, used
    good = os.path.join(tmp, "good", "data")
    works(good, "a new data folder")
    mode = stat.S_IMODE(os.stat(good).st_mode)
    check(mode == 0o700, "the data folder tmi-console made has mode %04o, want 0700" % mode)
    r = run(good, "demo", "--no-serve", "--dir", box)
    check(r.returncode == 0, "demo: exit %d %s" % (r.returncode, r.stderr))
    works(good, "a good folder")

    # mode 0777: refused by the CLI and by serve, nothing written into it
    open_dir = os.path.join(tmp, "open")
    os.mkdir(open_dir)
    os.chmod(open_dir, 0o777)
    fix = refused(open_dir, "mode 0777", "writable by its group and others (mode 0777)")
    refused(open_dir, "mode 0777 (serve)", "mode 0777", "serve", "--port", "0", "--root", box)
    check(os.listdir(open_dir) == [], "a refused folder was written into: %r"
          % os.listdir(open_dir))
    if fix:
        apply_fix(fix, "mode 0777")
        works(open_dir, "mode 0777 after the fix")

    # a group-writable token file
    tok_dir = os.path.join(tmp, "token-data")
    shutil.copytree(good, tok_dir)
    token = os.path.join(tok_dir, "api-token")
    os.chmod(token, 0o620)
    fix = refused(tok_dir, "group-writable token", "%s is writable by its group" % token,
                  "token")
    refused(tok_dir, "group-writable token (serve)", token, "serve", "--port", "0",
            "--root", box)
    if fix:
        apply_fix(fix, "group-writable token")
        works(tok_dir, "group-writable token after the fix")

    # a link inside (tmi-console makes none)
    link_dir = os.path.join(tmp, "link-data")
    shutil.copytree(good, link_dir)
    os.symlink("/etc/hostname", os.path.join(link_dir, "server.json"))
    fix = refused(link_dir, "a link inside", "server.json is a link")
    if fix:
        apply_fix(fix, "a link inside")
        works(link_dir, "a link inside, after the fix")

    # owned by another user: root can hand it to nobody
    if os.geteuid() == 0:
        foreign = os.path.join(tmp, "foreign")
        shutil.copytree(good, foreign)
        nobody = pwd.getpwnam("nobody")
        for d, dirs, files in os.walk(foreign):
            for n in [d] + [os.path.join(d, x) for x in dirs + files]:
                os.lchown(n, nobody.pw_uid, nobody.pw_gid)
        os.chmod(foreign, 0o700)
        fix = refused(foreign, "owned by nobody", "%s is owned by nobody, not by root" % foreign)
        refused(foreign, "owned by nobody (serve)", "owned by nobody", "serve", "--port", "0",
                "--root", box)
        if fix:
            apply_fix(fix, "owned by nobody")
            works(foreign, "owned by nobody, after the fix")
    else:
        sys.stderr.write("test_datadir: not root: the foreign-owner case needs root: skipped\n")

    # a command that never uses the data folder is not stopped by one
    other = os.path.join(tmp, "other")
    os.mkdir(other)
    os.chmod(other, 0o777)
    r = run(other, "inspect", os.path.join(box, TMI_REL, "mrf.exe"))
    check(r.returncode == 0, "inspect with an open data folder: exit %d %s"
          % (r.returncode, r.stderr[:300]))
except Exception:  # an unexpected error is a failure
    import traceback
    check(False, "unexpected error:\n" + traceback.format_exc())
finally:
    shutil.rmtree(tmp, ignore_errors=True)

import tmiserver  # noqa: E402
if tmiserver._failures:
    sys.stderr.write("integration/datadir: %d check(s) failed:\n" % len(tmiserver._failures))
    for f in tmiserver._failures:
        sys.stderr.write("  - %s\n" % f)
    sys.exit(1)
