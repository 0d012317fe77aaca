#!/bin/bash
# pefile_check.sh - cross-check tmi-console's PE version reader against
# Debian's python3-pefile (tests/tools/pefile_check.py does the comparing).
#
#   pefile_check.sh BUILD_DIR
#   pefile_check.sh TMI_CONSOLE PE_FIXTURE
#
# (a) writes a varied corpus of fixtures with pe-fixture (PE32 and PE32+,
#     EXE and DLL, no version resource, odd and non-ASCII strings, version
#     strings that disagree with the fixed version, padded files) plus a few
#     non-PE files into a temporary folder, and checks it;
# (b) checks every real PE (*.dll, *.exe) under the folders of Windows
#     binaries that Debian packages install (wine, mingw-w64), when present.
# Exit: 0 all agree, 1 a disagreement (or nothing checked), 77 when
# python3-pefile is missing (ctest reports the test as skipped).
set -u

PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)

if [ $# -eq 1 ]; then
    TOOL=$(find "$1" -maxdepth 3 -type f -name tmi-console -perm -u+x | head -n 1)
    FIXTURE=$(find "$1" -maxdepth 3 -type f -name pe-fixture -perm -u+x | head -n 1)
elif [ $# -eq 2 ]; then
    TOOL=$1
    FIXTURE=$2
else
    echo "usage: $0 BUILD_DIR | $0 TMI_CONSOLE PE_FIXTURE" >&2
    exit 2
fi
if [ -z "$TOOL" ] || [ ! -x "$TOOL" ] || [ -z "$FIXTURE" ] || [ ! -x "$FIXTURE" ]; then
    echo "pefile-check: tmi-console or pe-fixture not found (build them first)" >&2
    exit 2
fi
if [ ! -x "$PY" ] || ! "$PY" -c 'import pefile' 2>/dev/null; then
    echo "pefile-check: skipped: python3-pefile is not installed (apt-get install python3-pefile)"
    exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pefile-check.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
CORPUS=$WORK/fixtures
mkdir -p "$CORPUS"

n=0
# fx NAME ARGS...: one fixture; any failure to write one fails the check.
fx() {
    local name=$1
    shift
    if ! "$FIXTURE" --out "$CORPUS/$name" "$@"; then
        echo "pefile-check: pe-fixture failed for $name" >&2
        exit 1
    fi
    n=$((n + 1))
}

TM="CompanyName=Trend Micro Inc."
LONG=$(printf 'L%.0s' $(seq 1 1024))
MID=$(printf 'abcdefghij%.0s' $(seq 1 30))
JP=$(printf 'トレンドマイクロ%.0s' $(seq 1 20))

# Every kind, with and without strings.
for plus in "" --pe32plus; do
    for dll in "" --dll; do
        tag=pe32${plus:+plus}${dll:+-dll}
        fx "$tag-good.exe" $plus $dll --version 1.12.0.1266 --string "$TM" \
            --string FileVersion=1.12.0.1266 --string "ProductName=Management Infrastructure"
        fx "$tag-bad.exe" $plus $dll --version 1.12.0.1156 --string "$TM" \
            --string FileVersion=1.12.0.1156
        fx "$tag-nostrings.bin" $plus $dll --version 2.3.4.5
        fx "$tag-noversion.bin" $plus $dll --no-version
    done
done
# Versions at the edges, and product versions apart from file versions.
fx zero.exe --version 0.0.0.0
fx max.dll --dll --version 65535.65535.65535.65535 --product-version 65535.0.0.65535
fx product.dll --dll --pe32plus --version 1.12.0.1266 --product-version 6.0.0.3 \
    --string ProductVersion=6.0
# Version strings that disagree with VS_FIXEDFILEINFO.
fx mismatch1.exe --version 1.12.0.1156 --string FileVersion=1.12.0.1266
fx mismatch2.dll --dll --version 1.12.0.1266 --string "FileVersion=1, 12, 0, 1156"
fx mismatch3.exe --pe32plus --version 1.12.0.1266 --string "FileVersion=1.12.0.1266 (built by: release)" \
    --string "ProductVersion=7.0 SP1"
# Odd strings.
fx empty.exe --string CompanyName= --string FileDescription= --string FileVersion= \
    --string ProductName= --string ProductVersion=
fx equals.exe --string "FileDescription=a=b=c"
fx quotes.exe --string 'FileDescription=He said "hi" \ back\slash {"json":1} %s %n'
fx tabs.exe --string "FileDescription=tab	and spaces   end"
fx long.exe --string "FileDescription=$LONG"
fx mid.dll --dll --string "ProductName=$MID"
fx alllong.exe --pe32plus --string "CompanyName=$LONG" --string "FileDescription=$LONG" \
    --string "FileVersion=$LONG" --string "ProductName=$LONG" --string "ProductVersion=$LONG"
# Non-ASCII.
fx japanese.exe --string "CompanyName=トレンドマイクロ株式会社" --string "ProductName=管理インフラストラクチャ"
fx japanese-long.dll --dll --string "FileDescription=$JP"
fx greek.exe --string "FileDescription=Ελληνικά και Русский"
fx emoji.exe --pe32plus --string "ProductName=𝄞 music 😀 and more 😀"
fx accents.dll --dll --string "CompanyName=Société Générale Ünïcødé"
# Padded (overlay of seeded bytes).
fx pad1.exe --version 1.12.0.1266 --pad 65536 --seed 1
fx pad2.exe --version 1.12.0.1266 --pad 65536 --seed 2
fx pad3.dll --dll --pe32plus --version 1.12.0.1156 --pad 300000 --seed 3 --string "$TM"
fx pad4.dll --dll --version 1.12.0.1266 --pad 1048576 --seed 4294967295

# Files that are not PE images: every reader must refuse them.
printf 'plain text, not a PE file\n' > "$CORPUS/text.dll"
printf 'MZ' > "$CORPUS/mz-only.exe"
head -c 4096 /dev/zero > "$CORPUS/zeros.exe"
head -c 300 "$CORPUS/pe32-good.exe" > "$CORPUS/truncated-300.exe"
head -c 100 "$CORPUS/pe32plus-dll-good.exe" > "$CORPUS/truncated-100.dll"
n=$((n + 5))

echo "pefile-check: fixture corpus: $n files"
rc=0
"$PY" "$HERE/pefile_check.py" "$TOOL" "$CORPUS" || rc=1

# Real-world corpus.
LIST=$WORK/real-world.txt
folders=()
for d in /usr/lib/x86_64-linux-gnu/wine /usr/lib/i386-linux-gnu/wine /usr/lib/wine \
    /usr/share/win32 /usr/share/win64 /usr/lib/gcc/x86_64-w64-mingw32 \
    /usr/x86_64-w64-mingw32/lib /usr/i686-w64-mingw32/lib; do
    [ -d "$d" ] && folders+=("$d")
done
: > "$LIST.all"
if [ ${#folders[@]} -gt 0 ]; then
    # Files over the scanner's 64 MiB read limit are left out; a file reached
    # through two of the folders is checked once.
    find "${folders[@]}" -type f \( -iname '*.dll' -o -iname '*.exe' \) -size -64M -print |
        sort -u > "$LIST.all"
fi
# Only real PE files ("MZ" first).
"$PY" - "$LIST.all" > "$LIST" <<'PY'
import sys
for line in open(sys.argv[1], encoding="utf-8"):
    path = line.rstrip("\n")
    with open(path, "rb") as f:
        if f.read(2) == b"MZ":
            print(path)
PY
real=$(wc -l < "$LIST")
echo "pefile-check: real-world corpus: $real PE files in ${#folders[@]} folders"
if [ "$real" -gt 0 ]; then
    "$PY" "$HERE/pefile_check.py" --list "$LIST" "$TOOL" || rc=1
fi
echo "pefile-check: $n fixtures and $real real-world files checked"
exit $rc
