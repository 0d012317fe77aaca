#!/usr/bin/env python3
"""check_function_length.py [--max N] DIR... - no C function longer than N
lines (default 80): the lines of its body between the `{` and the `}` that
open and close it at column 0, as clang-format lays out every function here
(braces of structs, enums and initialised tables stay on their first line,
so they are not counted; a `{` at column 0 after a line ending in `=` is a
table and is skipped too). Prints each function over the limit as
FILE:LINE: NAME: N lines, longest first; exit 1 if there is one.
"""
import os
import re
import sys

SIGNATURE = re.compile(r"([A-Za-z_]\w*)\s*\(")


def signature_name(lines, brace):
    """The function's name: the identifier before the first '(' of the
    signature, which starts at the nearest line above the brace that begins
    at column 0 with neither a comment nor a preprocessor line."""
    text = ""
    for i in range(brace - 1, max(brace - 12, -1), -1):
        line = lines[i]
        text = line + " " + text
        if line[:1] not in ("", " ", "\t", "*", "/", "#", "}"):
            break
    m = SIGNATURE.search(text)
    return m.group(1) if m else "?"


def long_functions(path, limit):
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().split("\n")
    found = []
    start = None
    for i, line in enumerate(lines):
        if line.startswith("{"):
            prev = next((p for p in reversed(lines[:i]) if p.strip()), "")
            start = None if prev.rstrip().endswith("=") else i
        elif line.startswith("}") and start is not None:
            body = i - start - 1
            if body > limit:
                found.append((body, path, start + 1, signature_name(lines, start)))
            start = None
    return found


def main(argv):
    limit = 80
    if len(argv) > 2 and argv[1] == "--max":
        limit = int(argv[2])
        argv = argv[2:]
    roots = argv[1:]
    if not roots:
        sys.stderr.write(__doc__)
        return 2
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(".c"):
                    found += long_functions(os.path.join(dirpath, name), limit)
    if not found:
        return 0
    sys.stderr.write("check_function_length: %d function(s) over %d lines; cut them into "
                     "named steps:\n" % (len(found), limit))
    for body, path, line, name in sorted(found, reverse=True):
        sys.stderr.write("  %s:%d: %s: %d lines\n" % (path, line, name, body))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
