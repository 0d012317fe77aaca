#!/usr/bin/env bash
# crash_recovery.sh TMI_CONSOLE [RUNS] - kill a running repair with SIGKILL at
# varied points and check that the next start recovers a consistent TMI
# folder: byte-identical to the old set or to the full new set, no staged
# leftovers, and a job marked recovered (or finished) in the journal.
set -euo pipefail
bin=${1:?usage: crash_recovery.sh TMI_CONSOLE [RUNS]}
runs=${2:-30}
work=$(mktemp -d)
cleanup() {
    pkill -f -- "sandbox-service --scope $work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

tmi_rel="Program Files (x86)/Trend Micro/COMMON/TMI"
files=(mrf.exe MRF_CM.dll libTMI_DataMarshal.dll libMRF_Entity.dll libMRF_DM.dll
       libMRF_Common.dll libMRF_CM.dll libMRF_AP.dll)

set_hash() { # DIR -> one line of the eight hashes
    local d=$1 out=""
    for f in "${files[@]}"; do
        if [ -f "$d/$f" ]; then out+="$(sha256sum "$d/$f" | cut -c1-64) "; else out+="- "; fi
    done
    printf '%s\n' "$out"
}

fail=0
outcomes=""
steps=""
for ((i = 0; i < runs; i++)); do
    data=$work/data$i
    root=$work/root$i
    "$bin" --data "$data" demo --dir "$root" --file-size 4000000 >/dev/null
    tmi=$root/$tmi_rel
    old=$(set_hash "$tmi")
    new=$(set_hash "$tmi/is_backup/filegroup100")
    # spread the kill over the whole job: early runs die in the backup and
    # staging, later ones in the commit, the service start and its watch
    if ((i < runs * 2 / 3)); then
        delay_ms=$((i * 240 / (runs * 2 / 3)))
    else
        delay_ms=$((240 + (i - runs * 2 / 3) * 1800 / (runs - runs * 2 / 3)))
    fi
    "$bin" --data "$data" repair --root "$root" --yes --stay-seconds 1 >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v m="$delay_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    "$bin" --data "$data" recover --root "$root" >"$work/recover.out" 2>&1 || {
        echo "run $i: recover failed: $(cat "$work/recover.out")" >&2
        fail=1
    }
    now=$(set_hash "$tmi")
    if [ "$now" = "$old" ]; then
        state=old
    elif [ "$now" = "$new" ]; then
        state=new
    else
        echo "run $i (kill after ${delay_ms} ms): the TMI folder is mixed" >&2
        fail=1
        state=mixed
    fi
    if ls -A "$tmi" | grep -q 'tmi-new'; then
        echo "run $i: staged files left behind" >&2
        fail=1
    fi
    if "$bin" --data "$data" jobs --json | grep -q '"status":[[:space:]]*"running"'; then
        echo "run $i: a job is still marked running after recovery" >&2
        fail=1
    fi
    step=$("$bin" --data "$data" jobs --json | { grep -m1 '"step":' || true; } | sed 's/.*"step":[[:space:]]*"\{0,1\}\([a-z]*\).*/\1/')
    steps+="${step:-none} "
    outcomes+="$state "
    pkill -f -- "sandbox-service --scope $root" 2>/dev/null || true
done
n_old=$(grep -o old <<<"$outcomes" | wc -l)
n_new=$(grep -o new <<<"$outcomes" | wc -l)
if [ $fail -ne 0 ]; then
    echo "crash-recovery: FAILED ($runs runs: $n_old old, $n_new new)" >&2
    exit 1
fi
points=$(tr ' ' '\n' <<<"$steps" | grep -v '^$' | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
echo "crash-recovery: $runs runs killed in step: $points"
echo "crash-recovery: $n_old rolled back to the old set, $n_new ended with the full new set, 0 mixed"
