#!/bin/bash
# run_smoke.sh - a short libFuzzer run of every fuzz target in a fuzz build.
#
#   run_smoke.sh FUZZ_BUILD_DIR [SECONDS]      (SECONDS per target, default 30)
#
# FUZZ_BUILD_DIR is a build folder configured with
#   cmake -S . -B FUZZ_BUILD_DIR -DCMAKE_C_COMPILER=clang -DTMI_FUZZ=ON
# and built. Every executable named fuzz_* under it is run for SECONDS with
# -max_len=65536, starting from a seed corpus FUZZ_BUILD_DIR/corpus/<target>
# (rebuilt on each run) and a working corpus FUZZ_BUILD_DIR/corpus-run/<target>
# (kept between runs, so coverage grows). Any crash, sanitizer report, leak,
# timeout or contract abort fails the run: the log's tail is printed and the
# input is kept under FUZZ_BUILD_DIR/fuzz-artifacts/<target>/. Otherwise the
# script prints one line per target. Targets run two at a time on two or more
# cores (FUZZ_JOBS sets it).
#
# Adding a fuzz target:
#   1. write tests/fuzz/fuzz_NAME.c defining LLVMFuzzerTestOneInput and add
#      `tmi_fuzz_target(fuzz_NAME fuzz_NAME.c)` to tests/fuzz/CMakeLists.txt;
#   2. optionally define a function `seed_fuzz_NAME DIR` below that writes seed
#      inputs into DIR (it may use $BUILD, $SRC and $PE_FIXTURE); a target
#      without one starts from an empty corpus;
#   3. optionally add tests/fuzz/fuzz_NAME.dict (libFuzzer dictionary), which
#      is passed with -dict= when present.
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 FUZZ_BUILD_DIR [SECONDS]" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd) || exit 2
SECS=${2:-30}
case "$SECS" in
'' | *[!0-9]*)
    echo "run_smoke: SECONDS must be a whole number: '$SECS'" >&2
    exit 2
    ;;
esac
SRC=$(cd "$(dirname "$0")" && pwd)
PE_FIXTURE=$(find "$BUILD" -path '*/CMakeFiles' -prune -o -type f -name pe-fixture -perm -u+x -print |
    head -n 1)

# ---- seed corpora: one function per target ----------------------------------

# PE images of every kind the fixture writer makes, plus a few near-misses.
seed_fuzz_pe_version() {
    local dir=$1
    if [ -z "$PE_FIXTURE" ]; then
        echo "run_smoke: pe-fixture not built in $BUILD" >&2
        return 1
    fi
    local i=0 plus dll
    for plus in "" --pe32plus; do
        for dll in "" --dll; do
            i=$((i + 1))
            "$PE_FIXTURE" --out "$dir/full-$i" $plus $dll --version 1.12.0.1266 \
                --product-version 6.0.0.3 --string "CompanyName=Trend Micro Inc." \
                --string "FileDescription=Management Infrastructure" \
                --string FileVersion=1.12.0.1266 --string "ProductName=トレンドマイクロ" \
                --string "ProductVersion=6.0 😀" || return 1
            "$PE_FIXTURE" --out "$dir/bare-$i" $plus $dll --version 1.12.0.1156 || return 1
            "$PE_FIXTURE" --out "$dir/none-$i" $plus $dll --no-version || return 1
        done
    done
    "$PE_FIXTURE" --out "$dir/padded" --version 1.2.3.4 --pad 8192 --seed 7 || return 1
    "$PE_FIXTURE" --out "$dir/manifest" --pe32plus --version 0.1.0.0 \
        --manifest '<assembly xmlns="urn:schemas-microsoft-com:asm.v1" manifestVersion="1.0"/>' ||
        return 1
    "$PE_FIXTURE" --out "$dir/long" --string "FileDescription=$(printf 'x%.0s' $(seq 1 600))" ||
        return 1
    printf 'MZ' > "$dir/mz"
    head -c 200 "$dir/full-1" > "$dir/cut-headers"
    head -c 1100 "$dir/full-4" > "$dir/cut-rsrc"
}

# Signed PE files and their signatures alone (DER), from the signature
# fixtures; the fuzz target uses their test root as its trust store.
seed_fuzz_authenticode() {
    local dir=$1 fx=$BUILD/sigfixtures-seed
    local countersign
    countersign=$(find "$BUILD" -path '*/CMakeFiles' -prune -o -type f -name countersign \
        -perm -u+x -print | head -n 1)
    if [ -z "$PE_FIXTURE" ] || [ -z "$countersign" ]; then
        echo "run_smoke: pe-fixture or countersign not built in $BUILD" >&2
        return 1
    fi
    bash "$SRC/../tools/sig_fixtures.sh" "$fx" "$PE_FIXTURE" "$countersign" || return 1
    export TMI_FUZZ_TRUST=$fx/trust.pem
    cp "$fx/signed-sha512.exe" "$fx/truncated.exe" "$dir/" || return 1
    local f
    for f in signed-ts.exe expired-cs.exe unknown-root-inc.dll signed-sha1.dll noeku.exe; do
        osslsigncode extract-signature -in "$fx/$f" -out "$dir/${f%.*}.p7" >/dev/null || return 1
    done
}

# The built-in playbook, and variations around the keys the loader knows.
seed_fuzz_playbook() {
    local dir=$1
    cat > "$dir/minimal" <<'JSON'
{"id":"t","title":"T","expected_version":"2.0.0.0","known_bad_versions":["1.0.0.0"],"files":["a.dll","b.exe"],"tmi_folders":["X/TMI"],"registry":{"key":"K","value":"V"},"sources":[{"glob":"bak*","variant":"v"}],"service":{"display_name":"S","image_name":"b.exe","short_name":null},"event":{"provider":"P","id":800,"tokens":["errcode=-107"]},"max_file_size":1024}
JSON
    cat > "$dir/policy" <<'JSON'
{"id":"t","title":"T","expected_version":"2.0.0.0","files":["a.dll"],"tmi_folders":["X/TMI"],"sources":[{"glob":"bak*","variant":"v"}],"service":{"display_name":"S","image_name":"a.dll"},"signer":{"organization":"Trend Micro, Inc.","thumbprints":["00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"]},"allow_unsigned":false,"trust_store":"/etc/ssl/certs/ca-certificates.crt"}
JSON
    printf '%s' '{"id":"t","signer":{"organization":"","thumbprints":["zz",1]},"allow_unsigned":"yes","trust_store":"rel.pem"}' > "$dir/policy-bad"
    printf '%s' '{"id":"x","files":["../a"],"tmi_folders":["a/../../b"]}' > "$dir/escape"
    printf '%s' '[1,2,{"id":"x"}]' > "$dir/array"
}

# A manifest as backup_create writes it.
seed_fuzz_manifest() {
    local dir=$1
    cat > "$dir/manifest" <<'JSON'
{"format":1,"id":"2026-11-25T10-00-00-000Z-job1","created":"2026-11-25T10:00:00.000Z","tmi_dir":"C:\Program Files (x86)\Trend Micro\COMMON\TMI","files":[{"name":"mrf.exe","file":"MRF.EXE","present":true,"size":1024,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","version":"1.12.0.1156"},{"name":"MRF_CM.dll","file":"MRF_CM.dll","present":false,"size":0,"sha256":null,"version":null}]}
JSON
}

# Request paths, query strings, JSON bodies and headers the HTTP server parses.
seed_fuzz_http_parse() {
    local dir=$1
    printf '%s' '/api/files/mrf.exe/history' > "$dir/path"
    printf '%s' '/api/%2e%2e/x%00' > "$dir/path-bad"
    printf '%s' 'limit=50&before=12&action=scan&since=2026-01-01T00%3A00%3A00Z' > "$dir/query"
    printf '%s' '{"a":[1,2,{"b":null}],"c":"\u00e9"}' > "$dir/json"
    printf '%s' 'a=1; tmi_session=0123456789abcdef; b=2' > "$dir/cookie"
    printf '%s' 'Bearer 0123456789abcdef0123456789abcdef' > "$dir/bearer"
    printf '%s' 'application/json; charset=utf-8' > "$dir/ctype"
}

seed_fuzz_httpd_parse() {
    local dir=$1
    printf 'GET /api/status?limit=5 HTTP/1.1\r\nHost: 127.0.0.1:8917\r\nCookie: a=b\r\n\r\n' > "$dir/get"
    printf 'POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}' > "$dir/post"
    printf 'POST /api/scan HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n' > "$dir/te"
    printf '\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' > "$dir/http10"
    printf '5\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n' > "$dir/chunks"
}

seed_fuzz_store_text() {
    local dir=$1
    printf '%s' '2026-11-25' > "$dir/date"
    printf '%s' '2026-11-25T10:00:00Z' > "$dir/utc"
    printf '%s' '2026-11-25t10:00:00.123456789+09:00' > "$dir/offset"
    printf '%s' '2024-02-29T23:59:59-12:00' > "$dir/leap"
    printf '%s' '12:00000000000000000000000000000000000000000000000000000000000000ab' > "$dir/head"
}

# Exported audit trails (the first byte picks the expected head): two rows
# that verify, one with an edited outcome, one cut short.
seed_fuzz_audit_file() {
    local dir=$1 r1 r2
    r1='{"seq":1,"time":"2026-12-02T11:27:51.125Z","time_ns":"1796210871125270266","actor":"root","auth":"cli","action":"token_change","target":"api-token","params":null,"outcome":"ok","details":"{\"reason\":\"created\"}","prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","hash":"0ed276a217977ef8d1e236ec1c62d1c3cad20901b4f553dc0257ae478d3ca86f"}'
    r2='{"seq":2,"time":"2026-12-02T11:27:51.195Z","time_ns":"1796210871195776965","actor":"root","auth":"cli","action":"token_change","target":"api-token","params":null,"outcome":"ok","details":"{\"reason\":\"rotated\"}","prev_hash":"0ed276a217977ef8d1e236ec1c62d1c3cad20901b4f553dc0257ae478d3ca86f","hash":"62242d05af10f94ef2bd6c73d0af3ee6d55b79c20586010decfaa337b21b039a"}'
    printf '\x00[\n%s,\n%s\n]\n' "$r1" "$r2" > "$dir/intact"
    printf '\x0a[\n%s,\n%s\n]\n' "$r1" "$r2" > "$dir/head"
    printf '\x00[\n%s\n]\n' "${r1/\"ok\"/\"failed\"}" > "$dir/edited"
    printf '\x00[\n%s,\n%s' "$r1" "${r2:0:100}" > "$dir/cut"
}

# Syslog URLs, and alert text with the bytes RFC 5424 escapes or refuses
# (pieces separated by NUL: URL, message, TMI folder, file).
seed_fuzz_alert_format() {
    local dir=$1
    printf 'udp://127.0.0.1:514\0verdict changed\0C:\\TMI\0mrf.exe' > "$dir/udp"
    printf 'tcp://log-1.example.com:6514\0quote " backslash \\ bracket ]\0D:\\a]b"c\0\xe6\x97\xa5.dll' > "$dir/escapes"
    printf 'udp://[::1]:514\0bad \xff\xc0\xaf bytes\r\n\0\xed\xa0\x80\0\x7f' > "$dir/bad-utf8"
    printf 'tls://h:0514/x?y#z\0\0\0' > "$dir/bad-url"
}

# EVENTLOGRECORD buffers built from the documented layout (evlog_parse.h):
# first byte = length of the message template that follows, then the records.
seed_fuzz_evlog_parse() {
    local dir=$1
    python3 - "$dir" <<'PY' || return 1
import struct, sys
def rec(source, strings, event_id=800, etype=1, nstr=None, soff=None):
    head = (source + "\0" + "SRV-01\0").encode("utf-16-le", "surrogatepass")
    while (56 + len(head)) % 4:
        head += b"\0"
    off = 56 + len(head)
    body = b"".join((s + "\0").encode("utf-16-le", "surrogatepass") for s in strings)
    n = 56 + len(head) + len(body)
    n += (-n) % 4 + 4
    fixed = struct.pack("<IIIIIIHHHHIIIIII", n, 0x654C664C, 1, 1764590400, 1764590400,
                        event_id, etype, len(strings) if nstr is None else nstr, 0, 0, 0,
                        off if soff is None else soff, 0, 0, 0, 0)
    r = fixed + head + body
    r += b"\0" * (n - 4 - len(r)) + struct.pack("<I", n)
    return r
d = sys.argv[1]
tmpl = b"MRF failed (%1) in %2!S!, version %3.%n100%% %0"
fault = ["errcode=-107", "MRFServer.cpp", "1266"]
open(d + "/plain", "wb").write(b"\0" + rec("TMI", fault))
open(d + "/formatted", "wb").write(bytes([len(tmpl)]) + tmpl + rec("TMI", fault))
open(d + "/two", "wb").write(b"\0" + rec("TMI", fault) + rec("Service Control Manager", ["x"], 7036, 4))
open(d + "/truncated", "wb").write(b"\0" + rec("TMI", fault)[:-9])
open(d + "/hostile", "wb").write(b"\0" + rec("TMI", fault, nstr=0xFFFF) + rec("P", ["a"], soff=0xFFFFFFF0))
open(d + "/surrogates", "wb").write(b"\0" + rec("\ud83d\ude00", ["\u00e9\ud800"]))
PY
}

# ---- the runs ---------------------------------------------------------------

mapfile -t TARGETS < <(find "$BUILD" -path '*/CMakeFiles' -prune -o -path "$BUILD/corpus*" -prune \
    -o -type f -name 'fuzz_*' -perm -u+x -print | sort)
if [ ${#TARGETS[@]} -eq 0 ]; then
    echo "run_smoke: no fuzz_* executable under $BUILD (configure with -DTMI_FUZZ=ON and build)" >&2
    exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# One target's run; its line (and on failure the log's tail) goes to
# fuzz-logs/NAME.result, which the end prints in the targets' order.
run_one() {
    local exe=$1 name seeds work artifacts log result nseeds rc runs
    name=$(basename "$exe")
    seeds=$BUILD/corpus/$name
    work=$BUILD/corpus-run/$name
    artifacts=$BUILD/fuzz-artifacts/$name
    log=$BUILD/fuzz-logs/$name.log
    result=$BUILD/fuzz-logs/$name.result
    rm -rf "$seeds"
    mkdir -p "$seeds" "$work" "$artifacts" "$(dirname "$log")"
    if declare -F "seed_$name" > /dev/null; then
        if ! "seed_$name" "$seeds" > "$log" 2>&1; then
            { echo "$name: FAILED to build the seed corpus"; tail -n 20 "$log"; } > "$result"
            return
        fi
    fi
    nseeds=$(find "$seeds" -type f | wc -l)
    local dict=()
    if [ -f "$SRC/$name.dict" ]; then
        dict=("-dict=$SRC/$name.dict")
    fi
    "$exe" -max_len=65536 -max_total_time="$SECS" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${dict[@]}" "$work" "$seeds" > "$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tail -n 1)
    if [ $rc -eq 0 ] && ! grep -q -e '^==[0-9]*==ERROR' -e 'runtime error:' "$log"; then
        echo "$name: ok, ${runs:-? runs} ($nseeds seeds)" > "$result"
    else
        { echo "$name: FAILED (exit $rc), log $log; inputs kept in $artifacts"; tail -n 40 "$log"; } \
            > "$result"
    fi
}

# Targets run side by side, FUZZ_JOBS at a time (default: the cores, at most 2).
par=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$par" -gt 2 ] && par=2
mkdir -p "$BUILD/fuzz-logs"
for exe in "${TARGETS[@]}"; do
    rm -f "$BUILD/fuzz-logs/$(basename "$exe").result"
    while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do
        wait -n
    done
    run_one "$exe" &
done
wait

status=0
for exe in "${TARGETS[@]}"; do
    result=$BUILD/fuzz-logs/$(basename "$exe").result
    if [ -f "$result" ]; then
        cat "$result"
        head -n 1 "$result" | grep -q ': ok, ' || status=1
    else
        echo "$(basename "$exe"): FAILED (no result: the run was cut off)"
        status=1
    fi
done
exit $status
