#!/usr/bin/env bash
# bench_scan_sig.sh BUILD_DIR - what the signature check adds to a scan: a
# whole `tmi-console scan --json` process over sixteen ~1 MiB files (the eight
# TMI files and the eight good copies), recorded in the history as usual,
# with the same files three ways, measured in the same run:
#   unsigned     the check finds no certificate table;
#   signed cold  signed by a code-signing certificate under a root of this
#                run (the playbook's trust store), every Authenticode digest
#                recomputed (`scan --no-cache`: a second pass over each file,
#                on the scan's signature thread), the PKCS#7 signature and the
#                chain verified - a scan of files never seen before;
#   signed warm  the same, the digests taken from the store (the files'
#                SHA-256 were seen by an earlier scan): the signature and the
#                chain verified - every later scan of the same files, the
#                watcher's and the console's.
# Reports the medians of the wall times and their ratios to unsigned (goal:
# < 1.2), and the ratios of the CPU time (user + system) the same scans took,
# which other load on the machine disturbs less: the cold scan's digest pass
# runs beside the file's own hash, so its wall time hides it only when a
# second core is free.
set -euo pipefail
build=${1:?usage: bench_scan_sig.sh BUILD_DIR}
bin=$build/server/tmi-console
runs=${BENCH_RUNS:-41}
for tool in openssl osslsigncode python3; do
    command -v "$tool" >/dev/null || { echo "bench_scan_sig: $tool is not installed" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# a root and a code-signing leaf under it
pki=$work/pki
mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/root.key" -out "$pki/root.pem" -days 30 \
    -subj "/O=tmi-console bench/CN=Bench Root" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$pki/leaf.key" -out "$pki/leaf.csr" \
    -subj "/O=Bench Publisher/CN=Bench Publisher" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' \
    >"$pki/leaf.ext"
openssl x509 -req -in "$pki/leaf.csr" -CA "$pki/root.pem" -CAkey "$pki/root.key" \
    -CAcreateserial -days 30 -extfile "$pki/leaf.ext" -out "$pki/leaf.pem" 2>/dev/null

# the built-in playbook's set and folders, with this run's root and publisher
python3 - "$work/playbook.json" "$pki/root.pem" <<'EOF'
import json, sys
json.dump({
    "id": "bench-sig", "title": "signature benchmark", "expected_version": "1.12.0.1266",
    "known_bad_versions": ["1.12.0.1156"],
    "files": ["mrf.exe", "MRF_CM.dll", "libTMI_DataMarshal.dll", "libMRF_Entity.dll",
              "libMRF_DM.dll", "libMRF_Common.dll", "libMRF_CM.dll", "libMRF_AP.dll"],
    "tmi_folders": ["Program Files (x86)/Trend Micro/COMMON/TMI",
                    "Program Files/Trend Micro/COMMON/TMI"],
    "sources": [{"glob": "is_backup/filegroup100", "variant": "bench"}],
    "service": {"display_name": "Trend Micro Management Infrastructure",
                "image_name": "mrf.exe"},
    "signer": {"organization": "Bench Publisher"}, "allow_unsigned": True,
    "trust_store": sys.argv[2]}, open(sys.argv[1], "w"))
EOF

"$bin" --data "$work/data" demo --no-serve --dir "$work/unsigned" --file-size 1048576 >/dev/null
cp -a "$work/unsigned" "$work/signed"
mapfile -t files < <(find "$work/signed" -type f \( -name '*.dll' -o -name '*.exe' \) | sort)
[ ${#files[@]} -eq 16 ] || { echo "bench_scan_sig: expected 16 files, found ${#files[@]}" >&2; exit 1; }
for f in "${files[@]}"; do
    osslsigncode sign -certs "$pki/leaf.pem" -key "$pki/leaf.key" -h sha256 -in "$f" \
        -out "$f.signed" >/dev/null
    mv "$f.signed" "$f"
done
pb=$work/playbook.json
# the scan exits 1 (affected): the check is on its JSON
out=$("$bin" --data "$work/data" --playbook "$pb" scan --root "$work/signed" --json || true)
printf '%s' "$out" | python3 -c 'import json,sys; s=json.load(sys.stdin)
fs=s["files"]+[f for src in s["sources"] for f in src["files"]]
bad=[f["name"] for f in fs if (f["signature"] or {}).get("status")!="valid"]
sys.exit("bench_scan_sig: not valid: %r" % bad if bad or len(fs)!=16 else 0)'

# median of the wall times (ns) of $runs runs of each kind, taken in turn
# so that all see the same machine; one warm-up run of each first
declare -a t_unsigned t_cold t_warm
scan() { "$bin" --data "$work/data" --playbook "$pb" scan --root "$@" --json >/dev/null 2>&1 || true; }
scan "$work/unsigned"
scan "$work/signed" --no-cache
scan "$work/signed"
for ((i = 0; i < runs; i++)); do
    a=$(date +%s%N); scan "$work/unsigned"
    b=$(date +%s%N); scan "$work/signed" --no-cache
    c=$(date +%s%N); scan "$work/signed"
    d=$(date +%s%N)
    t_unsigned+=($((b - a)))
    t_cold+=($((c - b)))
    t_warm+=($((d - c)))
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(((runs + 1) / 2))p"; }
# CPU seconds (user + system) of ten scans of one kind
cpu_of() {
    /usr/bin/time -f '%U %S' -o "$work/cpu" bash -c \
        'for ((k = 0; k < 10; k++)); do "$0" --data "$1" --playbook "$2" scan --root "$3" $4 --json \
             >/dev/null 2>&1; done; true' "$bin" "$work/data" "$pb" "$1" "${2:-}"
    awk '{ print $1 + $2 }' "$work/cpu"
}
add() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
cpu_u=0
cpu_c=0
cpu_w=0
for ((i = 0; i < (runs + 9) / 10; i++)); do
    cpu_u=$(add "$cpu_u" "$(cpu_of "$work/unsigned")")
    cpu_c=$(add "$cpu_c" "$(cpu_of "$work/signed" --no-cache)")
    cpu_w=$(add "$cpu_w" "$(cpu_of "$work/signed")")
done
u=$(median "${t_unsigned[@]}")
cold=$(median "${t_cold[@]}")
warm=$(median "${t_warm[@]}")
ms() { awk -v a="$1" 'BEGIN { printf "%.2f", a / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf 'scan_sig.files %d x %d bytes\n' "${#files[@]}" "$(stat -c %s "${files[0]}")"
printf 'scan_sig.unsigned_median_ms %s\n' "$(ms "$u")"
printf 'scan_sig.signed_cold_median_ms %s\n' "$(ms "$cold")"
printf 'scan_sig.signed_warm_median_ms %s\n' "$(ms "$warm")"
printf 'scan_sig.ratio_cold_vs_unsigned %s (goal < 1.2)\n' "$(ratio "$cold" "$u")"
printf 'scan_sig.ratio_warm_vs_unsigned %s (goal < 1.2)\n' "$(ratio "$warm" "$u")"
printf 'scan_sig.cpu_ratio_cold_vs_unsigned %s\n' "$(ratio "$cpu_c" "$cpu_u")"
printf 'scan_sig.cpu_ratio_warm_vs_unsigned %s\n' "$(ratio "$cpu_w" "$cpu_u")"
