#!/usr/bin/env python3
"""check_shipped.py - checks of the shipped tmi-console.exe for run.sh.

    check_shipped.py version VERSION INSPECT.json...
        each `tmi-console inspect --json` output (one file each) reports the
        version resource of tmi-console.exe: fixed file and product version
        VERSION padded to four parts, FileVersion the same, ProductVersion
        VERSION itself, the descriptive strings present; all outputs agree.
    check_shipped.py manifest VERSION MANIFEST.xml
        the application manifest: asInvoker, the supportedOS IDs of Windows
        8.1 and of Windows 10/11 (Server 2012 R2 - 2025), longPathAware, the
        version in assemblyIdentity.
    check_shipped.py debuglink DEBUGLINK.bin DEBUG_FILE
        the exe's .gnu_debuglink section names DEBUG_FILE and holds its CRC32.
    check_shipped.py msgtable MSGTABLE.bin MESSAGES.mc README.md
        the exe's message table (RT_MESSAGETABLE, as pe-resource copies it):
        each MESSAGE_RESOURCE_DATA block and entry within bounds, and exactly
        the event IDs of MESSAGES.mc, each with its text; the README's table
        of event IDs lists the same IDs, each with its kind and its first line.

Standard library only. Exit 0 when every check holds, 1 with one line per
failed check on stderr otherwise.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET
import zlib

ASM_V1 = "urn:schemas-microsoft-com:asm.v1"
ASM_V3 = "urn:schemas-microsoft-com:asm.v3"
COMPAT = "urn:schemas-microsoft-com:compatibility.v1"
WS2016 = "http://schemas.microsoft.com/SMI/2016/WindowsSettings"
# Windows 8.1 / Server 2012 R2; Windows 10 and 11 / Server 2016 - 2025
SUPPORTED_OS = {
    "{1f676c76-80e1-4239-95bb-83d0f6d0da78}",
    "{8e0f7a12-bfb3-4fe8-b9a5-48fd50a15a9a}",
}

problems = []


def check(cond, what):
    if not cond:
        problems.append(what)


def four_parts(version):
    parts = version.split(".")
    if not 1 <= len(parts) <= 4 or not all(p.isdigit() for p in parts):
        sys.exit("check_shipped: bad version '%s'" % version)
    return ".".join(parts + ["0"] * (4 - len(parts)))


def check_version(version, paths):
    v4 = four_parts(version)
    seen = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            items = json.load(f)
        check(isinstance(items, list) and len(items) == 1, "%s: not one inspect result" % path)
        if not items:
            continue
        o = items[0]
        s = o.get("strings") or {}
        check(o.get("error") is None, "%s: error %r" % (path, o.get("error")))
        check(
            o.get("file_version") == v4,
            "%s: file_version %r, want %s" % (path, o.get("file_version"), v4),
        )
        check(
            o.get("product_version") == v4,
            "%s: product_version %r, want %s" % (path, o.get("product_version"), v4),
        )
        check(
            s.get("FileVersion") == v4,
            "%s: FileVersion string %r, want %s" % (path, s.get("FileVersion"), v4),
        )
        check(
            s.get("ProductVersion") == version,
            "%s: ProductVersion string %r, want %s (--version)"
            % (path, s.get("ProductVersion"), version),
        )
        check(
            s.get("ProductName") == "tmi-console",
            "%s: ProductName %r" % (path, s.get("ProductName")),
        )
        for key in ("CompanyName", "FileDescription"):
            check(bool(s.get(key)), "%s: no %s" % (path, key))
        seen.append(
            (o.get("size"), o.get("sha256"), o.get("file_version"), o.get("product_version"), s)
        )
    check(all(x == seen[0] for x in seen), "the inspect outputs disagree: %r" % seen)


def check_manifest(version, path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        problems.append("%s: not XML: %s" % (path, e))
        return
    check(root.tag == "{%s}assembly" % ASM_V1, "root element %s" % root.tag)
    check(root.get("manifestVersion") == "1.0", "manifestVersion %r" % root.get("manifestVersion"))
    ident = root.findall("{%s}assemblyIdentity" % ASM_V1)
    check(
        len(ident) == 1
        and ident[0].get("name") == "tmi-console"
        and ident[0].get("version") == four_parts(version),
        "assemblyIdentity: %r" % [i.attrib for i in ident],
    )
    levels = root.findall(
        "{%s}trustInfo/{%s}security/{%s}requestedPrivileges/{%s}requestedExecutionLevel"
        % (ASM_V3, ASM_V3, ASM_V3, ASM_V3)
    )
    check(
        len(levels) == 1
        and levels[0].get("level") == "asInvoker"
        and levels[0].get("uiAccess") == "false",
        "requestedExecutionLevel: %r" % [x.attrib for x in levels],
    )
    oses = {
        e.get("Id")
        for e in root.findall(
            "{%s}compatibility/{%s}application/{%s}supportedOS" % (COMPAT, COMPAT, COMPAT)
        )
    }
    check(oses == SUPPORTED_OS, "supportedOS %r, want %r" % (sorted(oses), sorted(SUPPORTED_OS)))
    lpa = root.findall(
        "{%s}application/{%s}windowsSettings/{%s}longPathAware" % (ASM_V3, ASM_V3, WS2016)
    )
    check(
        len(lpa) == 1 and (lpa[0].text or "").strip() == "true",
        "longPathAware: %r" % [(x.text or "") for x in lpa],
    )


def check_debuglink(section_path, debug_path):
    with open(section_path, "rb") as f:
        sec = f.read()
    with open(debug_path, "rb") as f:
        crc = zlib.crc32(f.read())
    nul = sec.find(b"\0")
    if nul <= 0 or len(sec) < ((nul + 4) & ~3) + 4:
        problems.append(".gnu_debuglink: malformed (%d bytes)" % len(sec))
        return
    name = sec[:nul].decode("utf-8", "replace")
    stored = int.from_bytes(sec[(nul + 4) & ~3 : ((nul + 4) & ~3) + 4], "little")
    check(
        name == os.path.basename(debug_path),
        ".gnu_debuglink names %r, not %r" % (name, os.path.basename(debug_path)),
    )
    check(stored == crc, ".gnu_debuglink CRC32 %08x, the debug file's is %08x" % (stored, crc))


def read_mc(path):
    """{id: (symbolic name, text)} from a .mc file (one text per message)."""
    out, cur, text = {}, {}, None
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if text is not None:
                if line == ".":
                    out[cur["MessageId"]] = (cur.get("SymbolicName"), "\n".join(text))
                    cur, text = {}, None
                else:
                    text.append(line)
            elif line.startswith(";") or not line.strip():
                continue
            elif "=" in line:
                k, v = line.split("=", 1)
                if k == "MessageId":
                    cur = {"MessageId": int(v)}
                elif k in ("SymbolicName", "Language"):
                    cur[k] = v
                    if k == "Language":
                        text = []
    return out


def parse_msgtable(data):
    """{id: text} from MESSAGE_RESOURCE_DATA bytes; every offset checked."""
    def u32(off):
        if off + 4 > len(data):
            raise ValueError("truncated at %d" % off)
        return int.from_bytes(data[off:off + 4], "little")

    out, nblocks = {}, u32(0)
    if nblocks > 1024 or 4 + 12 * nblocks > len(data):
        raise ValueError("%d blocks do not fit in %d bytes" % (nblocks, len(data)))
    for b in range(nblocks):
        low, high, off = u32(4 + 12 * b), u32(8 + 12 * b), u32(12 + 12 * b)
        if high < low or high - low > 65535:
            raise ValueError("block %d: IDs %d..%d" % (b, low, high))
        for mid in range(low, high + 1):
            if off + 4 > len(data):
                raise ValueError("entry %d outside the table" % mid)
            length = int.from_bytes(data[off:off + 2], "little")
            flags = int.from_bytes(data[off + 2:off + 4], "little")
            if length < 4 or off + length > len(data):
                raise ValueError("entry %d: length %d" % (mid, length))
            raw = data[off + 4:off + length]
            text = raw.decode("utf-16-le") if flags & 1 else raw.decode("latin-1")
            if mid in out:
                raise ValueError("ID %d twice" % mid)
            out[mid] = text.rstrip("\0").rstrip("\r\n")
            off += length
    return out


def check_msgtable(table_path, mc_path, readme_path):
    with open(table_path, "rb") as f:
        data = f.read()
    try:
        table = parse_msgtable(data)
    except ValueError as e:
        problems.append("message table: malformed: %s" % e)
        return
    mc = read_mc(mc_path)
    check(sorted(table) == sorted(mc),
          "message table IDs %s, the .mc file's %s" % (sorted(table), sorted(mc)))
    for mid, (_, text) in sorted(mc.items()):
        check(table.get(mid) == text,
              "event %d: the exe's text %r, the .mc file's %r" % (mid, table.get(mid), text))
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    rows = {}
    for line in readme.split("\n"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit() and int(cells[0]) in mc:
            rows[int(cells[0])] = cells
    for mid, (sym, text) in sorted(mc.items()):
        kind = (sym or "")[len("MSG_"):].lower()
        first = text.split("%n")[0]
        cells = rows.get(mid)
        check(cells is not None, "README: no row for event %d" % mid)
        if cells:
            check(cells[1].strip("`") == kind, "README: event %d is %r, not %r" % (mid, cells[1], kind))
            check(cells[2] == first, "README: event %d text %r, not %r" % (mid, cells[2], first))


def main():
    args = sys.argv[1:]
    if len(args) >= 3 and args[0] == "version":
        check_version(args[1], args[2:])
    elif len(args) == 3 and args[0] == "manifest":
        check_manifest(args[1], args[2])
    elif len(args) == 3 and args[0] == "debuglink":
        check_debuglink(args[1], args[2])
    elif len(args) == 4 and args[0] == "msgtable":
        check_msgtable(args[1], args[2], args[3])
    else:
        sys.exit(__doc__.split("\n\n")[1])
    for p in problems:
        print("check_shipped: %s" % p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
