#!/bin/bash
# tests/compare-verbs.sh OLD_BINARY NEW_BINARY [--lab] — runs the verbs that triage.c serves
# (scan, probe --all, diagnose text/json, fix --plan) with both binaries on every config
# fixture in tests/unit/conf and the captured nginx logs in tests/lab/fixtures, and diffs
# stdout, stderr and exit codes (probe timings masked). With --lab also on the lab's standard
# scenarios, live (real nginx on 127.0.0.1:20860-20889; hold /tmp/tt-lab.lock). Prints the
# differing runs and a count. Loopback only. Not part of make check.
set -u
OLD=$(realpath "${1:?old binary}")
NEW=$(realpath "${2:?new binary}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
: >"$W/empty.log"
runs=0 diffs=0
run() { # name args...
    local name=$1 b
    shift
    for b in old new; do
        local bin=$OLD
        [ $b = new ] && bin=$NEW
        (cd "$W" && "$bin" --nginx "$NGINX_BIN" --state-dir "$W/state" "$@" </dev/null \
            >"$W/$b.out" 2>"$W/$b.err"; echo "exit $?" >>"$W/$b.err")
        sed -i -E 's/[0-9]+ ms/N ms/g; s/"elapsed_ms":[0-9]+/"elapsed_ms":N/g' "$W/$b.out" "$W/$b.err"
    done
    runs=$((runs + 1))
    if ! cmp -s "$W/old.out" "$W/new.out" || ! cmp -s "$W/old.err" "$W/new.err"; then
        diffs=$((diffs + 1))
        echo "DIFFERS: $name"
        diff "$W/old.out" "$W/new.out" | head -${DIFF_LINES:-6}
        diff "$W/old.err" "$W/new.err" | head -${DIFF_LINES:-6}
    fi
}
LOGS=("$SRC"/tests/lab/fixtures/*.log)
for log in "${LOGS[@]}"; do
    run "scan $log" scan "$log"
    run "scan json $log" scan --format json "$log"
done
for c in "$SRC"/tests/unit/conf/*.conf; do
    n=$(basename "$c")
    run "probe --all $n" probe --all --conf "$c" --timeout 1
    for log in "${LOGS[@]}"; do
        l=$(basename "$log")
        run "diagnose $n $l" --conf "$c" --log "$log" diagnose
        run "diagnose json $n $l" --conf "$c" --log "$log" diagnose --format json
        run "fix $n $l" --conf "$c" --log "$log" fix --plan
    done
    for up in $(grep -ho 'https://[0-9.]*:[0-9]*' "$c" | sed 's|https://||' | sort -u); do
        run "fix --upstream $up $n" --conf "$c" --log "$W/empty.log" fix --plan --upstream "$up"
        run "diagnose --upstream $up $n" --conf "$c" --log "${LOGS[0]}" diagnose --upstream "$up"
    done
done
if [ "${3:-}" = --lab ]; then
    LAB=$SRC/tests/lab
    . "$LAB/lab.sh"
    lab_init 20860 || exit 1
    trap 'lab_cleanup; rm -rf "$W"' EXIT
    lab_scenarios_standard
    lab_start || exit 1
    for n in "${LAB_SCENARIOS[@]}"; do lab_request "$n" >/dev/null; done
    sleep 0.5
    conf=$(lab_front_conf)
    g=(--conf "$conf" --prefix "$LAB_DIR/front/")
    run "lab scan" scan "$(lab_error_log)"
    run "lab probe --all" "${g[@]}" probe --all
    run "lab diagnose" "${g[@]}" diagnose
    run "lab diagnose json" "${g[@]}" diagnose --format json
    run "lab fix" "${g[@]}" fix
    for up in $(grep -o 'https://127.0.0.1:[0-9]*' "$conf" | sed 's|https://||' | sort -u); do
        run "lab fix --upstream $up" "${g[@]}" fix --plan --upstream "$up"
    done
    cp "$conf" "$W/lab.conf"
    run "lab rollback (nothing)" rollback --last --yes
    cmp -s "$conf" "$W/lab.conf" || echo "the lab config changed"
fi
echo "$runs runs, $diffs differ"
