#!/usr/bin/env bash
# run.sh BUILD_WIN_DIR [LINUX_BUILD_DIR] - the Windows tests, under wine, of a
# cross-built tree (cmake/dev.sh windows makes one); LINUX_BUILD_DIR (default:
# build beside BUILD_WIN_DIR) is a Linux build of the same sources, whose
# tmi-console and pe-resource read the cross-built exe in section 6:
#
#   1. the cmocka unit tests, cross-built, through ctest (wine as emulator);
#   2. the PE version reader against GetFileVersionInfoW / VerQueryValueW on
#      every PE file in the prefix's system32 (and syswow64);
#   3. end to end: a TMI folder with the old set and a good set in
#      is_backup\filegroup100, the test service (tests/windows/
#      tmi_test_service.c) as its mrf.exe registered with the SCM; then
#      `tmi-console serve` under wine, driven from here with curl and the API
#      token: scan says affected, a repair job succeeds, the SCM shows the
#      service RUNNING and it stays up, scan says healthy, the audit chain is
#      intact;
#   4. a replace while a TMI file is held open by another process: refused or
#      rolled back, and reported as "file in use"; then links planted at the
#      staging names (Unix links: see 4b for what wine cannot do);
#   5. `tmi-console service install`: serve as a Windows service of its own,
#      and its event source "tmi-console" (EventMessageFile, TypesSupported
#      in the registry; gone after `service uninstall`);
#   6. the shipped exe (dist/tmi-console.exe, which sections 3-5 run too): its
#      version resource as `inspect --json` reports it on Linux and under wine
#      (the exe reading itself) and as GetFileVersionInfoW reads it, the same
#      number as `--version`; its manifest (read with pe-resource); no debug
#      sections, under 2 MiB, the debug file matching it (debuglink CRC,
#      build ID) and symbolising an address; non-ASCII arguments with no
#      UTF-8 code page; signed with a test certificate made here
#      (cmake/sign-windows.sh), verified by osslsigncode against the test
#      root (and refused against another root and after a change), and still
#      running under wine; its message table (RT_MESSAGETABLE, read with
#      pe-resource) holds each alert kind's event ID and the text of
#      server/alerts/tmi_messages.mc, as the README's table lists them;
#   7. signatures: the signed fixtures of tests/tools/sig_fixtures.sh (those
#      the POSIX build's tests made, else made here with its tools) read by
#      the Windows build (WinVerifyTrust, CryptoAPI) and by the POSIX build
#      (OpenSSL): tests/windows/sig_compare.py says what must agree and
#      which cases wine cannot decide;
#   8. the alert outputs' Windows backends (Winsock client, UDP and TCP)
#      against collectors started here: tests/integration/test_alerts.py
#      --wine with the cross-built alert-send.exe;
#   9. data folders others can change (open to Everyone, owned by another
#      user, a token others can write): refused, with the icacls fix.
# Under wine the event log is a stub (ReportEventW succeeds and keeps
# nothing), so no test here reads a record back or sees the Event Viewer
# format a text from the message table.
#
# The prefix is made once (wineboot, kept as BUILD_WIN_DIR/wine-pristine) and
# copied fresh for each run; every wine command runs under `timeout`, and the
# wine server is killed at the end whatever happens.
set -euo pipefail

bw=$(cd "${1:?usage: run.sh BUILD_WIN_DIR [LINUX_BUILD_DIR]}" && pwd)
lb=$(cd "${2:-$bw/../build}" 2>/dev/null && pwd) || {
    echo "run.sh: no Linux build at ${2:-$bw/../build}: build it first (cmake/dev.sh build)" >&2
    exit 2
}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exe="$bw/dist/tmi-console.exe" # the shipped exe: stripped (cmake/WindowsShip.cmake)
tw="$bw/tests/windows"
for f in "$exe" "$bw/dist/tmi-console.debug" "$bw/server/tmi-console.exe" \
    "$tw/tmi_test_service_1156.exe" "$tw/tmi_test_service_1266.exe" \
    "$tw/verinfo_check.exe" "$tw/hold_file.exe" "$tw/acl_check.exe" "$bw/tests/pe-fixture.exe" \
    "$bw/tests/alert-send.exe"; do
    [ -f "$f" ] || {
        echo "run.sh: $f is missing: build $bw first (cmake/dev.sh windows)" >&2
        exit 2
    }
done
for f in "$lb/server/tmi-console" "$lb/tests/pe-resource"; do
    [ -x "$f" ] || {
        echo "run.sh: $f is missing: build $lb first (cmake/dev.sh build)" >&2
        exit 2
    }
done

export WINEPREFIX="$bw/wineprefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono / Gecko install prompts
pristine="$bw/wine-pristine"
work="$bw/wine-test"
log() { printf '== windows: %s\n' "$*" >&2; }
fail() {
    printf 'windows tests: FAILED: %s\n' "$*" >&2
    exit 1
}

bg_pids=()
cleanup() {
    set +e
    for p in "${bg_pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    timeout 30 wineserver -k 2>/dev/null
    for p in "${bg_pids[@]}"; do
        wait "$p" 2>/dev/null
    done
}
trap cleanup EXIT

# Run a Windows program: `W SECONDS prog args...`; stdout without CRs.
W() {
    local t=$1
    shift
    timeout "$t" wine "$@" | tr -d '\r'
    return "${PIPESTATUS[0]}"
}
# Same, the exit status kept, output to a file: `WF SECONDS OUT prog args...`.
WF() {
    local t=$1 out=$2
    shift 2
    set +e
    timeout "$t" wine "$@" >"$out.raw" 2>&1
    local rc=$?
    set -e
    tr -d '\r' <"$out.raw" >"$out"
    rm -f "$out.raw"
    return $rc
}

json() { # FILE PYTHON-EXPR (d is the parsed document)
    /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

t0=$(date +%s)

# ---- the prefix: made once, copied fresh for every run ----
timeout 30 wineserver -k 2>/dev/null || true
if [ ! -f "$pristine/.tmi-ready" ]; then
    log "making the wine prefix (once; kept in $pristine)"
    rm -rf "$pristine"
    WINEPREFIX="$pristine" timeout 300 wineboot --init >/dev/null 2>&1 ||
        fail "wineboot --init"
    WINEPREFIX="$pristine" timeout 30 wineserver -k 2>/dev/null || true
    touch "$pristine/.tmi-ready"
fi
rm -rf "$WINEPREFIX" "$work"
cp -a "$pristine" "$WINEPREFIX"
mkdir -p "$work"
timeout 30 wineserver -p # persistent: services outlive single commands
W 120 cmd /c exit >/dev/null 2>&1 || fail "wine does not start"
log "prefix ready ($(($(date +%s) - t0)) s)"

# ---- 1. unit tests ----
log "unit tests (ctest under wine)"
(cd "$bw" && ctest --output-on-failure -j2 --timeout 120) >"$work/ctest.log" 2>&1 || {
    tail -60 "$work/ctest.log" >&2
    fail "unit tests"
}
unit_summary=$(grep -E 'tests passed' "$work/ctest.log" | tail -1)
log "$unit_summary"

# ---- 2. the PE reader against the Win32 version API ----
log "PE reader vs GetFileVersionInfoW on system32 and syswow64"
dirs=('C:\windows\system32')
[ -d "$WINEPREFIX/drive_c/windows/syswow64" ] && dirs+=('C:\windows\syswow64')
WF 600 "$work/verinfo.log" "$tw/verinfo_check.exe" "${dirs[@]}" || {
    grep DISAGREE "$work/verinfo.log" | head -20 >&2
    tail -1 "$work/verinfo.log" >&2
    fail "PE reader disagrees with GetFileVersionInfoW (or found no PE file)"
}
verinfo_summary=$(tail -1 "$work/verinfo.log")
log "$verinfo_summary"

# ---- 3. end to end ----
files=(mrf.exe MRF_CM.dll libTMI_DataMarshal.dll libMRF_Entity.dll libMRF_DM.dll
       libMRF_Common.dll libMRF_CM.dll libMRF_AP.dll)
tmi_win='C:\Program Files (x86)\Trend Micro\COMMON\TMI'
tmi="$WINEPREFIX/drive_c/Program Files (x86)/Trend Micro/COMMON/TMI"
src="$tmi/is_backup/filegroup100"
svc="TrendMicro Infrastructure"
data_win='C:\tmi-data'
data="$WINEPREFIX/drive_c/tmi-data"
mkdir -p "$src" "$work/old" "$work/new"

log "TMI folder with the old set (1.12.0.1156), good set in is_backup\\filegroup100"
cp "$tw/tmi_test_service_1156.exe" "$work/old/mrf.exe"
cp "$tw/tmi_test_service_1266.exe" "$work/new/mrf.exe"
seed=1
for f in "${files[@]:1}"; do
    for v in old new; do
        ver=1.12.0.1156
        [ $v = new ] && ver=1.12.0.1266
        W 60 "$bw/tests/pe-fixture.exe" --out "Z:$work/$v/$f" --dll --version "$ver" \
            --pad 200000 --seed $((seed++)) >/dev/null || fail "pe-fixture $f"
    done
done
cp "$work"/old/* "$tmi/"
cp "$work"/new/* "$src/"
old_hashes=$(cd "$tmi" && sha256sum "${files[@]}")
new_hashes=$(cd "$src" && sha256sum "${files[@]}")
hashes_now() { (cd "$tmi" && sha256sum "${files[@]}"); }

# HomeDirectory in the 32-bit registry view, as on a 64-bit server
W 30 reg add 'HKLM\SOFTWARE\TrendMicro\TMI' /v HomeDirectory /t REG_SZ /d "$tmi_win" \
    /reg:32 /f >/dev/null || fail "reg add HomeDirectory"
W 30 sc create "$svc" binPath= "\"$tmi_win\\mrf.exe\"" \
    DisplayName= "Trend Micro Management Infrastructure" start= demand >/dev/null ||
    fail "sc create"

svc_state() {
    W 30 sc query "$svc" | sed -n 's/.*STATE *: *[0-9]* *\([A-Z_]*\).*/\1/p'
}

log "the fault: the service starts and stops at once"
W 30 sc start "$svc" >/dev/null 2>&1 || true
for _ in $(seq 1 50); do
    [ "$(svc_state)" = STOPPED ] && break
    sleep 0.2
done
[ "$(svc_state)" = STOPPED ] || fail "the old mrf.exe did not stop by itself ($(svc_state))"
W 30 sc query "$svc" | grep -q 'SERVICE_EXIT_CODE *: *107' ||
    fail "the old mrf.exe did not stop with the service-specific exit code 107"

log "tmi-console serve under wine"
# in Tokyo's zone (UTC+09:00, no DST): the page shows the server's local time
TZ=Asia/Tokyo timeout 900 wine "$exe" --data "$data_win" serve --port 0 >"$work/serve.log" 2>&1 &
bg_pids+=($!)
port=""
for _ in $(seq 1 150); do
    if [ -f "$data/server.json" ]; then
        port=$(json "$data/server.json" 'd["port"]' 2>/dev/null || true)
        [ -n "$port" ] && break
    fi
    sleep 0.2
done
[ -n "$port" ] || {
    cat "$work/serve.log" >&2
    fail "serve did not start"
}
token=$(W 60 "$exe" --data "$data_win" token)
[ ${#token} -eq 64 ] || fail "no API token ($token)"
# the token file is private: no entry for Everyone (WD), Users (BU),
# Authenticated Users (AU) or Interactive (IU); a file written without
# care (audit-head) shows what an open one looks like here
acl=$(W 60 "$tw/acl_check.exe" "$data_win\\api-token") || fail "acl_check api-token"
open_acl=$(W 60 "$tw/acl_check.exe" "$data_win\\audit-head") || fail "acl_check audit-head"
case "$open_acl" in *";;;WD)"*) ;; *) fail "the control file's DACL has no Everyone entry: $open_acl" ;; esac
case "$acl" in
*";;;WD)"* | *";;;BU)"* | *";;;AU)"* | *";;;IU)"* | "") fail "the API token is readable by others: $acl" ;;
esac
log "the API token's DACL: $acl"
base="http://127.0.0.1:$port"
api() { # METHOD PATH OUT [BODY] -> prints the HTTP status
    local m=$1 p=$2 out=$3 body=${4:-}
    local args=(-sS -m 120 -o "$out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $token")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
    curl "${args[@]}" "$base$p"
}
log "serving on port $port"
code=$(api GET /api/session "$work/session.json")
offset=$(json "$work/session.json" 'd["utc_offset_minutes"]')
[ "$code" = 200 ] && [ "$offset" = 540 ] ||
    fail "GET /api/session: HTTP $code, utc_offset_minutes $offset (want 540 for Asia/Tokyo)"

code=$(api POST /api/scan "$work/scan1.json" '{}')
case "$code" in 2??) ;; *) fail "POST /api/scan: HTTP $code $(head -c 300 "$work/scan1.json")" ;; esac
verdict=$(json "$work/scan1.json" 'd["scan"]["verdict"]')
[ "$verdict" = affected ] || fail "first scan: verdict $verdict, expected affected"
origin=$(json "$work/scan1.json" 'd["scan"]["tmi_dir_origin"]')
log "scan: affected (TMI folder from: $origin)"
[ "$origin" = registry ] || fail "the TMI folder was not found through the registry (32-bit view)"

code=$(api POST /api/jobs "$work/job.json" '{"action":"repair"}' || true)
[ "$code" = 202 ] || fail "POST /api/jobs: HTTP $code $(head -c 300 "$work/job.json")"
id=$(json "$work/job.json" 'd["id"]')
log "repair job $id started through the API"
state=""
for _ in $(seq 1 240); do
    api GET "/api/jobs/$id" "$work/jobstate.json" >/dev/null || true
    state=$(json "$work/jobstate.json" 'd["status"]' 2>/dev/null || true)
    case "$state" in
    running | "") sleep 0.5 ;;
    *) break ;;
    esac
done
[ "$state" = succeeded ] || {
    cat "$work/jobstate.json" >&2
    fail "the repair job ended as '$state'"
}
log "repair job $id succeeded"
[ "$(hashes_now)" = "$new_hashes" ] || fail "the TMI folder does not hold the good set after the repair"
[ "$(svc_state)" = RUNNING ] || fail "the SCM does not report the service RUNNING ($(svc_state))"
sleep 5
[ "$(svc_state)" = RUNNING ] || fail "the service did not stay up ($(svc_state))"
log "the SCM reports the service RUNNING, and it stays up"

code=$(api POST /api/scan "$work/scan2.json" '{}')
case "$code" in 2??) ;; *) fail "POST /api/scan: HTTP $code $(head -c 300 "$work/scan2.json")" ;; esac
verdict=$(json "$work/scan2.json" 'd["scan"]["verdict"]')
[ "$verdict" = healthy ] || fail "scan after the repair: verdict $verdict, expected healthy"
code=$(api GET /api/audit/verify "$work/verify.json")
intact=$(json "$work/verify.json" 'd.get("intact")')
[ "$code" = 200 ] && [ "$intact" = True ] || fail "audit verify: HTTP $code $(cat "$work/verify.json")"
log "scan: healthy; audit chain intact"
e2e_summary="affected -> repair (POST /api/jobs) -> service RUNNING and stayed up -> healthy, audit intact"

# ---- 4. a TMI file in use ----
log "file in use: put the old set back, hold one file open, replace"
W 60 sc stop "$svc" >/dev/null 2>&1 || true
for _ in $(seq 1 50); do
    [ "$(svc_state)" = STOPPED ] && break
    sleep 0.2
done
cp "$work"/old/* "$tmi/"
held="$tmi_win\\libMRF_AP.dll" # the last one the commit replaces

hold() { # MODE -> starts the holder, waits until it holds
    rm -f "$work/release"
    timeout 300 wine "$tw/hold_file.exe" "$held" "$1" "Z:$work/release" 240 >"$work/hold.log" 2>&1 &
    bg_pids+=($!)
    hold_pid=$!
    for _ in $(seq 1 100); do
        grep -q holding "$work/hold.log" 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$work/hold.log" >&2
    fail "hold_file did not open the file"
}
release() {
    touch "$work/release"
    wait "$hold_pid" 2>/dev/null || true
}

# a) no sharing at all: the file cannot even be read, so nothing is changed
hold none
rc=0
WF 300 "$work/replace1.log" "$exe" --data "$data_win" replace --yes || rc=$?
release
[ $rc -ne 0 ] || fail "replace succeeded while a file was held without sharing"
grep -qi 'in use' "$work/replace1.log" || {
    cat "$work/replace1.log" >&2
    fail "replace (no sharing): not reported as a file in use"
}
[ "$(hashes_now)" = "$old_hashes" ] || fail "replace (no sharing) changed the TMI folder"
log "held without sharing: refused, nothing changed, reported as a file in use"

# b) read sharing: the job gets as far as the commit, fails at the held file
#    and restores the files it had replaced
hold read
rc=0
WF 300 "$work/replace2.log" "$exe" --data "$data_win" replace --yes --json || rc=$?
release
[ $rc -ne 0 ] || fail "replace succeeded while a file was held open"
grep -qi 'file in use' "$work/replace2.log" || {
    cat "$work/replace2.log" >&2
    fail "replace (read sharing): not reported as a file in use"
}
grep -q '"rolled_back":[[:space:]]*true' "$work/replace2.log" || {
    cat "$work/replace2.log" >&2
    fail "replace (read sharing): not rolled back"
}
[ "$(hashes_now)" = "$old_hashes" ] || fail "the rollback did not restore the old set"
ls -A "$tmi" | grep -q 'tmi-new' && fail "staged files left in the TMI folder"
inuse_summary="held without sharing: refused; held with read sharing: rolled back; both 'file in use'"
log "held with read sharing: commit failed at the held file, rolled back, reported as a file in use"

# ---- 4b. a link planted at a staging name ----
# The attack: a link at ".mrf.exe.tmi-new" pointing where the attacker wants
# a file. Wine 8 makes no Windows links (CreateSymbolicLinkW reports success
# and makes nothing; FSCTL_SET_REPARSE_POINT, for a junction, is refused), so
# the link is a Unix one, made from outside. Wine is not Windows with them: it
# follows a Unix link for every call, DeleteFileW included (which deletes the
# file the link points to, where Windows deletes the link itself), and shows
# it as a plain file, never as a reparse point. So only a dangling link is
# faithful here: wine can neither list nor delete it, a CREATE_ALWAYS creates
# the file it points to (the old code did), and the exclusive create
# (CREATE_NEW) meets the name and stops the job before any change. A link to
# an existing file, and a TMI file that is a link, are covered through the
# plat table (test_detect) and with real links on POSIX (test_plat,
# test_repair).
log "a dangling link planted at a staging name: never created through, the job stops before any change"
nowhere="$WINEPREFIX/drive_c/created-through-a-link"
rm -f "$nowhere"
ln -s "$nowhere" "$tmi/.mrf.exe.tmi-new"
rc=0
WF 300 "$work/replace3.log" "$exe" --data "$data_win" replace --yes || rc=$?
[ ! -e "$nowhere" ] || fail "the replace created a file through a link planted at a staging name"
[ $rc -ne 0 ] || fail "replace went on over a link it could not remove"
grep -q 'already exists' "$work/replace3.log" || {
    cat "$work/replace3.log" >&2
    fail "replace over a planted link: not stopped by the exclusive create"
}
[ "$(hashes_now)" = "$old_hashes" ] || fail "replace over a planted link changed the TMI folder"
rm -f "$tmi/.mrf.exe.tmi-new"
links_summary="a link planted at a staging name: nothing created through it, the job stopped before any change"
log "$links_summary"

# ---- 5. serve as a Windows service of its own ----
log "tmi-console as a service of its own"
kill "${bg_pids[0]}" 2>/dev/null || true # the foreground serve: its data folder is reused
wait "${bg_pids[0]}" 2>/dev/null || true
svc_data_win='C:\tmi-svc-data'
svc_data="$WINEPREFIX/drive_c/tmi-svc-data"
W 60 "$exe" --data "$svc_data_win" service install --port 0 >/dev/null || fail "service install"
# the event source of the alerts: this exe as its message file, three types
evkey='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\tmi-console'
W 30 reg query "$evkey" >"$work/evsrc.txt" 2>&1 || fail "service install registered no event source"
emf=$(sed -n 's/^ *EventMessageFile *REG_EXPAND_SZ *//p' "$work/evsrc.txt")
types=$(sed -n 's/^ *TypesSupported *REG_DWORD *//p' "$work/evsrc.txt")
want_emf="Z:$(printf '%s' "$exe" | tr / '\\')"
[ "${emf,,}" = "${want_emf,,}" ] || fail "EventMessageFile is '$emf', want '$want_emf'"
[ "$types" = 0x7 ] || fail "TypesSupported is '$types', want 0x7 (error, warning, information)"
W 60 sc start tmi-console >/dev/null 2>&1 || true
port=""
for _ in $(seq 1 150); do
    if [ -f "$svc_data/server.json" ]; then
        port=$(json "$svc_data/server.json" 'd["port"]' 2>/dev/null || true)
        [ -n "$port" ] && break
    fi
    sleep 0.2
done
[ -n "$port" ] || fail "the tmi-console service did not start serving"
token=$(W 60 "$exe" --data "$svc_data_win" token)
base="http://127.0.0.1:$port"
code=$(api GET /api/status "$work/status.json")
[ "$code" = 200 ] || fail "GET /api/status from the service: HTTP $code"
[ "$(W 30 sc query tmi-console | sed -n 's/.*STATE *: *[0-9]* *\([A-Z_]*\).*/\1/p')" = RUNNING ] ||
    fail "the tmi-console service is not RUNNING"
W 60 sc stop tmi-console >/dev/null 2>&1 || true
for _ in $(seq 1 100); do
    [ -f "$svc_data/server.json" ] || break
    sleep 0.2
done
[ ! -f "$svc_data/server.json" ] || fail "the tmi-console service did not stop cleanly"
W 60 "$exe" --data "$svc_data_win" service uninstall >/dev/null || fail "service uninstall"
W 30 "$exe" service status | grep -q 'not installed' || fail "the service is still installed"
! W 30 reg query "$evkey" >/dev/null 2>&1 || fail "service uninstall left the event source"
log "installed (with its event source), started by the SCM, answered, stopped cleanly, uninstalled"


# ---- 6. the shipped exe ----
t6=$(date +%s%N)
ship="$bw/dist"
mingw=x86_64-w64-mingw32
log "the shipped exe: version resource, manifest, debug file, non-ASCII arguments, signature"

# the version resource, from the number --version prints (one source: the
# CMake project version), read on Linux and by the exe itself under wine
version=$(W 30 "$exe" --version) || fail "tmi-console.exe --version"
[ "$version" = "$("$lb/server/tmi-console" --version)" ] ||
    fail "the Windows and Linux builds print different versions: $version"
version=${version#tmi-console }
"$lb/server/tmi-console" inspect --json "$exe" >"$work/inspect-linux.json" ||
    fail "inspect (Linux) of the shipped exe: $(cat "$work/inspect-linux.json")"
W 30 "$exe" inspect --json "Z:$exe" >"$work/inspect-wine.json" ||
    fail "inspect (wine) of the shipped exe: $(cat "$work/inspect-wine.json")"
/usr/bin/python3 "$here/check_shipped.py" version "$version" "$work/inspect-linux.json" \
    "$work/inspect-wine.json" || fail "the version resource (inspect --json)"
WF 60 "$work/verinfo-ship.log" "$tw/verinfo_check.exe" --strings "Z:$exe" || {
    cat "$work/verinfo-ship.log" >&2
    fail "GetFileVersionInfoW disagrees with the reader on the shipped exe's version resource"
}

# the manifest: RT_MANIFEST (24) through the project's PE reader
"$lb/tests/pe-resource" "$exe" 24 >"$work/manifest.xml" || fail "no RT_MANIFEST in the shipped exe"
/usr/bin/python3 "$here/check_shipped.py" manifest "$version" "$work/manifest.xml" ||
    fail "the application manifest"

# the message table: RT_MESSAGETABLE (11) through the project's PE reader,
# each event ID with the .mc file's text, as the README lists them
"$lb/tests/pe-resource" "$exe" 11 >"$work/msgtable.bin" || fail "no RT_MESSAGETABLE in the shipped exe"
/usr/bin/python3 "$here/check_shipped.py" msgtable "$work/msgtable.bin" \
    "$here/../../server/alerts/tmi_messages.mc" "$here/../../README.md" ||
    fail "the message table"

# stripped, small, and the debug file is its own
ship_size=$(stat -c %s "$exe")
[ "$ship_size" -lt $((2 * 1024 * 1024)) ] || fail "the shipped exe is $ship_size bytes (2 MiB at most)"
"$mingw-objdump" -h "$exe" >"$work/sections.txt" || fail "objdump -h"
! grep -q ' \.debug_' "$work/sections.txt" || fail "the shipped exe has debug sections"
"$mingw-nm" "$exe" 2>&1 | grep -q 'no symbols' || fail "the shipped exe has a symbol table"
"$mingw-objcopy" --dump-section .gnu_debuglink="$work/debuglink.bin" "$exe" "$work/objcopy.out" ||
    fail "the shipped exe has no .gnu_debuglink"
/usr/bin/python3 "$here/check_shipped.py" debuglink "$work/debuglink.bin" "$ship/tmi-console.debug" ||
    fail "the debug file does not match the shipped exe"
id_exe=$("$mingw-objdump" -p "$exe" | grep -o 'RSDS signature [0-9a-f]*' || true)
id_dbg=$("$mingw-objdump" -p "$ship/tmi-console.debug" | grep -o 'RSDS signature [0-9a-f]*' || true)
[ -n "$id_exe" ] && [ "$id_exe" = "$id_dbg" ] ||
    fail "build IDs differ: exe '$id_exe', debug file '$id_dbg'"
main_at=$("$mingw-nm" "$bw/server/tmi-console.exe" | awk '$3 == "main" { print $1 }')
"$mingw-addr2line" -f -e "$ship/tmi-console.debug" "0x$main_at" >"$work/addr2line.txt"
[ "$(head -1 "$work/addr2line.txt")" = main ] && grep -q 'main\.c:[0-9]' "$work/addr2line.txt" ||
    fail "the debug file does not symbolise main: $(cat "$work/addr2line.txt")"
dbg_size=$(stat -c %s "$ship/tmi-console.debug")

# arguments outside the ANSI code page (wine's is never UTF-8, and the
# manifest asks for no UTF-8 code page): a file name and an --out path
uname="é-テスト.exe"
cp "$exe" "$work/$uname"
W 30 "$exe" inspect --json "Z:$work/$uname" >"$work/inspect-u.json" ||
    fail "inspect of a non-ASCII file name: $(cat "$work/inspect-u.json")"
[ "$(json "$work/inspect-u.json" 'd[0]["error"], d[0]["file_version"] is not None')" = "None True" ] &&
    grep -q "$uname" "$work/inspect-u.json" || fail "inspect of a non-ASCII file name: $(cat "$work/inspect-u.json")"
W 60 "$exe" --data "$data_win" export --what audit --format json --out "$data_win\\監査-é.json" ||
    fail "export --out to a non-ASCII path"
json "$data/監査-é.json" 'len(d)' >/dev/null || fail "export --out: no JSON at the non-ASCII path"

# signed with a test root and code-signing certificate made here
pki="$work/pki"
mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/root.key" -out "$pki/root.pem" -days 2 \
    -subj "/CN=tmi-console test root" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$pki/log" || fail "openssl: test root"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/other.key" -out "$pki/other.pem" -days 2 \
    -subj "/CN=another root" -addext "basicConstraints=critical,CA:TRUE" 2>>"$pki/log" ||
    fail "openssl: second root"
openssl req -newkey rsa:2048 -nodes -keyout "$pki/signer.key" -out "$pki/signer.csr" \
    -subj "/CN=tmi-console test signer" 2>>"$pki/log" || fail "openssl: signer key"
printf '%s\n' basicConstraints=critical,CA:FALSE keyUsage=critical,digitalSignature \
    extendedKeyUsage=codeSigning >"$pki/signer.ext"
openssl x509 -req -in "$pki/signer.csr" -CA "$pki/root.pem" -CAkey "$pki/root.key" \
    -CAcreateserial -days 2 -extfile "$pki/signer.ext" -out "$pki/signer.pem" 2>>"$pki/log" ||
    fail "openssl: signer certificate"
signed="$work/signed/tmi-console.exe"
mkdir -p "$work/signed"
cp "$exe" "$signed"
bash "$here/../../cmake/sign-windows.sh" "$signed" "$pki/signer.pem" "$pki/signer.key" ||
    fail "cmake/sign-windows.sh"
bash "$here/../../cmake/sign-windows.sh" "$signed" "$pki/signer.pem" "$pki/signer.key" ||
    fail "cmake/sign-windows.sh on a signed exe"
osslsigncode verify -CAfile "$pki/root.pem" -in "$signed" >"$work/verify.log" 2>&1 || {
    cat "$work/verify.log" >&2
    fail "osslsigncode verify of the signed exe against the test root"
}
grep -q 'Signature verification: ok' "$work/verify.log" &&
    grep -q 'Number of verified signatures: 1' "$work/verify.log" ||
    fail "osslsigncode verify: not exactly one good signature: $(tail -5 "$work/verify.log")"
! osslsigncode verify -CAfile "$pki/other.pem" -in "$signed" >/dev/null 2>&1 ||
    fail "the signed exe verifies against a root that did not sign it"
/usr/bin/python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[0x1000] ^= 1  # a byte of .text
open(sys.argv[2], "wb").write(b)' "$signed" "$work/tampered.exe"
! osslsigncode verify -CAfile "$pki/root.pem" -in "$work/tampered.exe" >/dev/null 2>&1 ||
    fail "a changed signed exe still verifies"
# The project's own Authenticode reader goes here once it exists: it must
# report $signed as validly signed by "tmi-console test signer" (with
# $pki/root.pem trusted), $work/tampered.exe as invalid, and $exe as unsigned.
[ "$(W 30 "$signed" --version)" = "tmi-console $version" ] || fail "the signed exe does not run under wine"
W 30 "$signed" inspect --json "Z:$signed" >"$work/inspect-signed.json" ||
    fail "the signed exe cannot inspect itself"
json "$work/inspect-signed.json" 'd[0]["file_version"]' >/dev/null || fail "inspect of the signed exe"
signed_size=$(stat -c %s "$signed")
t6_ms=$((($(date +%s%N) - t6) / 1000000))
ship_summary="tmi-console.exe $version: $ship_size bytes shipped ($signed_size signed), debug file $dbg_size bytes; resource, manifest, debug link, non-ASCII arguments, signature checked in $t6_ms ms"
log "$ship_summary"

# ---- 7. signatures ----
log "signatures: the Windows build against the POSIX build on the signed fixtures"
fx="$lb/tests/sigfixtures"
if [ ! -f "$fx/fixtures.txt" ]; then
    fx="$work/sigfixtures"
    bash "$here/../tools/sig_fixtures.sh" "$fx" "$lb/tests/pe-fixture" \
        "$lb/tests/countersign" >"$work/sigfixtures.log" 2>&1 || {
        cat "$work/sigfixtures.log" >&2
        fail "making the signature fixtures"
    }
fi
mapfile -t sigfiles < <(cd "$fx" && ls -- *.exe *.dll)
"$lb/server/tmi-console" inspect --json --trust "$fx/trust.pem" "${sigfiles[@]/#/$fx/}" \
    >"$work/sig-posix.json" || fail "POSIX inspect of the signature fixtures"
WF 300 "$work/sig-win.json" "$exe" inspect --json "${sigfiles[@]/#/Z:$fx/}" ||
    fail "Windows inspect of the signature fixtures: $(head -c 300 "$work/sig-win.json")"
/usr/bin/python3 "$here/sig_compare.py" "$work/sig-posix.json" "$work/sig-win.json" \
    >"$work/sig-compare.log" 2>&1 || {
    cat "$work/sig-compare.log" >&2
    fail "the Windows and POSIX builds disagree on the signatures"
}
grep 'undecidable' "$work/sig-compare.log" >&2
sig_summary=$(tail -1 "$work/sig-compare.log")
log "$sig_summary"

# ---- 8. the alert outputs' Windows backends ----
log "alert outputs (syslog over UDP and TCP, Winsock) against collectors started here"
timeout 300 /usr/bin/python3 "$here/../integration/test_alerts.py" "$bw/tests/alert-send.exe" \
    --wine || fail "the alert outputs under wine"
alerts_summary="syslog RFC 5424 over UDP and TCP, a killed collector, an absent UDP collector"

# ---- 9. a data folder that others can change ----
# Wine shows Unix permissions as ACLs: "other" write becomes an Everyone ACE
# with write rights, and a file of another Unix user is owned by ANONYMOUS
# LOGON. It ignores the group bits, keeps no Administrators ACE or real
# inheritance, and has no icacls to run the fix with: those are not checked
# here (the POSIX side is tests/integration/test_datadir.py).
log "a data folder others can change: refused"
refused() { # NAME WHAT-MUST-BE-SAID COMMAND... -> exit 2, folder named, icacls fix given
    local name=$1 say=$2 rc=0
    shift 2
    WF 120 "$work/$name.log" "$exe" --data "C:\\$name" "$@" || rc=$?
    [ $rc -eq 2 ] && grep -qF "refusing the data folder C:\\$name:" "$work/$name.log" &&
        grep -qF "$say" "$work/$name.log" && grep -qF 'icacls "' "$work/$name.log" || {
        cat "$work/$name.log" >&2
        fail "data folder $name: not refused as it should be (exit $rc)"
    }
}
dd="$WINEPREFIX/drive_c"
rm -rf "$dd/dd-open" "$dd/dd-foreign" "$dd/dd-token"
mkdir "$dd/dd-open"
chmod 777 "$dd/dd-open"
refused dd-open "lets Everyone (S-1-1-0) change it" audit
refused dd-open "lets Everyone (S-1-1-0) change it" serve --port 0
[ -z "$(ls -A "$dd/dd-open")" ] || fail "a refused data folder was written into"
cp -a "$data" "$dd/dd-foreign"
chown -R nobody "$dd/dd-foreign"
refused dd-foreign "is owned by" token
cp -a "$data" "$dd/dd-token"
chmod 666 "$dd/dd-token/api-token"
refused dd-token 'dd-token\api-token lets Everyone' token
datadir_summary="open to Everyone, owned by another user, a token others can write: refused with the icacls fix"
log "$datadir_summary"

printf 'windows tests: passed in %s s\n  unit: %s\n  %s\n  end to end: %s\n  in use: %s\n  links: %s\n  shipped: %s\n  %s\n  alerts: %s\n  data folder: %s\n' \
    "$(($(date +%s) - t0))" "$unit_summary" "$verinfo_summary" "$e2e_summary" "$inuse_summary" \
    "$links_summary" "$ship_summary" "$sig_summary" "$alerts_summary" "$datadir_summary"
