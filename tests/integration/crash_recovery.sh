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
    "$bin" --data "$data" demo --no-serve --dir "$root" --file-size 4000000 >/dev/null
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
    "$bin" --data "$data" jobs --json >"$work/jobs.json" 2>/dev/null || true
    if grep -q '"status":[[:space:]]*"running"' "$work/jobs.json"; then
        echo "run $i: a job is still marked running after recovery" >&2
        fail=1
    fi
    # a job that was cut is closed as recovered, with its audit row; one
    # that finished before the kill is succeeded; none at all if the kill
    # came before the job began
    status=$({ grep -m1 '"status":' "$work/jobs.json" || true; } |
        sed 's/.*"status":[[:space:]]*"\([a-z]*\)".*/\1/')
    case "$status" in
    recovered)
        "$bin" --data "$data" audit --action recover --json | grep -q '"outcome":[[:space:]]*"ok"' || {
            echo "run $i: recovered, but no 'recover' audit row" >&2
            fail=1
        }
        ;;
    succeeded | "") ;;
    *)
        echo "run $i: the job ended as '$status' after recovery" >&2
        fail=1
        ;;
    esac
    "$bin" --data "$data" audit verify >/dev/null || {
        echo "run $i: the audit chain does not verify after recovery" >&2
        fail=1
    }
    step=$({ grep -m1 '"step":' "$work/jobs.json" || true; } | sed 's/.*"step":[[:space:]]*"\{0,1\}\([a-z]*\).*/\1/')
    steps+="${step:-none} "
    outcomes+="$state "
    pkill -f -- "sandbox-service --scope $root" 2>/dev/null || true
done
# Exact crash points inside the commit: strace kills the job at its K-th
# rename (the first is the backup manifest, then one per file replaced), so
# every position in the commit is hit, not just the ones timing happens to.
# These runs use `replace` (the same commit, the service left stopped): a
# started sandbox service is a traced child strace would wait for.
exact=0
command -v strace >/dev/null 2>&1 || {
    echo "crash-recovery: strace is needed for the exact kills (apt-get install strace)" >&2
    exit 1
}
# calibrate: which renames of a repair are the commit's (into the TMI folder)
cal=$work/cal
"$bin" --data "$cal/data" demo --no-serve --dir "$cal/root" --file-size 200000 >/dev/null
strace -f -qq -o "$cal/trace" -e trace=rename,renameat,renameat2 \
    "$bin" --data "$cal/data" replace --root "$cal/root" --yes >/dev/null 2>&1 ||
    true
pkill -f -- "sandbox-service --scope $cal/root" 2>/dev/null || true
mapfile -t commits < <(grep -E 'rename' "$cal/trace" | grep -n 'tmi-new", ' |
    grep 'COMMON/TMI/[^/"]*"' | grep -v '"[^"]*\.tmi-new")' | cut -d: -f1)
if [ ${#commits[@]} -ne 8 ]; then
    echo "crash-recovery: calibration found ${#commits[@]} commit renames, expected 8" >&2
    fail=1
    commits=()
fi
for k in "${commits[@]}"; do
    data=$work/sdata$k
    root=$work/sroot$k
    "$bin" --data "$data" demo --no-serve --dir "$root" --file-size 200000 >/dev/null
    tmi=$root/$tmi_rel
    old=$(set_hash "$tmi")
    { strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 \
        -e inject=rename,renameat,renameat2:signal=KILL:when=$k \
        "$bin" --data "$data" replace --root "$root" --yes >/dev/null 2>&1; } \
        2>/dev/null || true
    mixed_before=$(set_hash "$tmi")
    "$bin" --data "$data" recover --root "$root" >/dev/null 2>&1 || {
        echo "rename $k: recover failed" >&2
        fail=1
    }
    now=$(set_hash "$tmi")
    if [ "$now" != "$old" ]; then
        echo "rename $k: not recovered to the old set" >&2
        fail=1
    fi
    if [ "$k" != "${commits[0]}" ] && [ "$mixed_before" = "$old" ]; then
        echo "rename $k: the kill did not land inside the commit" >&2
        fail=1
    fi
    pkill -f -- "sandbox-service --scope $root" 2>/dev/null || true
    exact=$((exact + 1))
done

n_old=$({ grep -o old <<<"$outcomes" || true; } | wc -l)
n_new=$({ grep -o new <<<"$outcomes" || true; } | wc -l)
if [ $fail -ne 0 ]; then
    echo "crash-recovery: FAILED ($runs runs: $n_old old, $n_new new)" >&2
    exit 1
fi
points=$(tr ' ' '\n' <<<"$steps" | grep -v '^$' | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
echo "crash-recovery: $runs runs killed in step: $points"
echo "crash-recovery: $n_old rolled back to the old set, $n_new ended with the full new set, 0 mixed"
echo "crash-recovery: $exact kills at exact renames inside the commit, all recovered to the old set"
