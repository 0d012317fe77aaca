#!/usr/bin/python3
"""pefile_check.py - cross-check `tmi-console inspect --json` against pefile.

Usage: pefile_check.py [--pe-only] [--list FILE] TMI_CONSOLE [PATH...]

Every file given, found under a folder given (recursively), or named one per
line in the --list file is read twice: by `tmi-console inspect --json`
(batched) and by Debian's python3-pefile, an independent reader. For each
file they must agree on:

  - file_version and product_version: "a.b.c.d" from VS_FIXEDFILEINFO
    (dwFileVersionMS/LS, dwProductVersionMS/LS), or null when there is none;
  - the strings CompanyName, FileDescription, FileVersion, ProductName and
    ProductVersion of the first StringTable pefile finds (present or absent,
    and the value, which tmi-console truncates to 255 bytes of UTF-8 at a
    character boundary and where it turns unpaired surrogates into U+FFFD);
  - a file that pefile cannot parse as a PE must carry a non-null `error`.

--pe-only skips files that do not start with "MZ" (for folders of mixed
content). Prints "pefile-check: N files agree, M disagree" and the details of
each disagreement; exits 1 on any disagreement or when no file was checked,
2 on a usage or tool error.
"""

import json
import os
import re
import subprocess
import sys

try:
    import pefile
except ImportError:  # pragma: no cover - reported to the driver
    sys.stderr.write("pefile-check: python3-pefile is not installed\n")
    sys.exit(77)

KEYS = ["CompanyName", "FileDescription", "FileVersion", "ProductName", "ProductVersion"]
STR_MAX_BYTES = 255  # PE_STR_MAX - 1
BATCH = 200
VS_FIXED_SIGNATURE = 0xFEEF04BD
MAX_DETAILS = 40


def fmt_version(ms, ls):
    return "%d.%d.%d.%d" % (ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF)


_SURROGATE_ESCAPE = re.compile(r"\\u(d[89a-f][0-9a-f]{2})")


def pefile_text(raw):
    """pefile's value bytes -> the text tmi-console reports.

    pefile turns each UTF-16 unit into a character on its own and escapes
    surrogates as a literal \\udXXX; join the pairs again and replace the
    unpaired ones with U+FFFD, as the C reader does."""
    text = raw.decode("utf-8", "replace")
    text = _SURROGATE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    encoded = text.encode("utf-8")
    if len(encoded) > STR_MAX_BYTES:
        encoded = encoded[:STR_MAX_BYTES].decode("utf-8", "ignore").encode("utf-8")
    return encoded.decode("utf-8")


def pefile_view(path):
    """What pefile reads: None when it is not a PE, else a dict."""
    try:
        pe = pefile.PE(path, fast_load=True)
        pe.parse_data_directories(
            directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]]
        )
    except pefile.PEFormatError:
        return None
    view = {"file_version": None, "product_version": None, "strings": {}}
    fixed = getattr(pe, "VS_FIXEDFILEINFO", None)
    if fixed and fixed[0].Signature == VS_FIXED_SIGNATURE:
        f = fixed[0]
        view["file_version"] = fmt_version(f.FileVersionMS, f.FileVersionLS)
        view["product_version"] = fmt_version(f.ProductVersionMS, f.ProductVersionLS)
    file_info = getattr(pe, "FileInfo", None)
    if file_info:
        for block in file_info[0]:
            if block.Key != b"StringFileInfo":
                continue
            tables = getattr(block, "StringTable", None)
            if not tables:
                continue
            entries = tables[0].entries
            for key in KEYS:
                raw = entries.get(key.encode("ascii"))
                if raw is not None:
                    view["strings"][key] = pefile_text(raw)
            break
    pe.close()
    return view


def inspect(tool, paths):
    """Run `tool inspect --json` on paths; returns the list of objects."""
    out = []
    for i in range(0, len(paths), BATCH):
        batch = paths[i : i + BATCH]
        proc = subprocess.run(
            [tool, "inspect", "--json"] + batch,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
        if proc.returncode not in (0, 2):
            sys.stderr.write(
                "pefile-check: '%s inspect' exited %d: %s\n"
                % (tool, proc.returncode, proc.stderr.decode("utf-8", "replace").strip())
            )
            sys.exit(2)
        try:
            objs = json.loads(proc.stdout.decode("utf-8"))
        except ValueError as e:
            sys.stderr.write("pefile-check: inspect printed no JSON array: %s\n" % e)
            sys.exit(2)
        if not isinstance(objs, list) or len(objs) != len(batch):
            sys.stderr.write("pefile-check: inspect returned %s objects for %d files\n"
                             % (len(objs) if isinstance(objs, list) else "no", len(batch)))
            sys.exit(2)
        for path, obj in zip(batch, objs):
            if obj.get("path") != path:
                sys.stderr.write("pefile-check: inspect answered out of order at %s\n" % path)
                sys.exit(2)
        out.extend(objs)
    return out


def compare(ours, theirs):
    """List of human-readable differences (empty when they agree)."""
    diffs = []
    if theirs is None:
        if ours.get("error") is None:
            diffs.append("pefile cannot parse it as a PE, but tmi-console reports no error")
        return diffs
    strings = ours.get("strings") or {}
    for field in ("file_version", "product_version"):
        if ours.get(field) != theirs[field]:
            diffs.append("%s: tmi-console %r, pefile %r" % (field, ours.get(field), theirs[field]))
    for key in KEYS:
        if strings.get(key) != theirs["strings"].get(key):
            diffs.append("strings.%s: tmi-console %r, pefile %r"
                         % (key, strings.get(key), theirs["strings"].get(key)))
    if diffs and ours.get("error") is not None:
        diffs.append("(tmi-console error: %s)" % ours["error"])
    return diffs


def collect(args, list_file, pe_only):
    files = []
    for p in args:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                for n in sorted(names):
                    full = os.path.join(root, n)
                    if os.path.isfile(full) and not os.path.islink(full):
                        files.append(full)
        elif os.path.isfile(p):
            files.append(p)
        else:
            sys.stderr.write("pefile-check: no such file or folder: %s\n" % p)
            sys.exit(2)
    if list_file is not None:
        with open(list_file, encoding="utf-8") as f:
            files.extend(line.rstrip("\n") for line in f if line.strip())
    if pe_only:
        kept = []
        for p in files:
            with open(p, "rb") as f:
                if f.read(2) == b"MZ":
                    kept.append(p)
        files = kept
    return files


def main(argv):
    pe_only = False
    list_file = None
    rest = []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--pe-only":
            pe_only = True
        elif a == "--list" and i + 1 < len(argv):
            list_file = argv[i + 1]
            i += 1
        elif a.startswith("--"):
            sys.stderr.write(__doc__)
            return 2
        else:
            rest.append(a)
        i += 1
    if not rest:
        sys.stderr.write(__doc__)
        return 2
    tool, paths = rest[0], rest[1:]
    files = collect(paths, list_file, pe_only)
    ours = inspect(tool, files) if files else []
    agree = 0
    disagree = 0
    for path, obj in zip(files, ours):
        diffs = compare(obj, pefile_view(path))
        if diffs:
            disagree += 1
            if disagree <= MAX_DETAILS:
                print("DISAGREE %s" % path)
                for d in diffs:
                    print("    " + d)
        else:
            agree += 1
    if disagree > MAX_DETAILS:
        print("... %d more disagreements not shown" % (disagree - MAX_DETAILS))
    print("pefile-check: %d files agree, %d disagree" % (agree, disagree))
    if disagree or agree == 0:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
