#!/bin/bash
# tests/compare-scan.sh OLD NEW [LOG...] — `scan` of two builds compared byte for byte: stdout,
# stderr and the exit status of --format text/json/jsonl, without and with --since (a time
# inside each log, one before it and one after it). Default logs: the lab fixtures, the hostile
# unit log and the sample. Prints one line per difference; exit 1 if any.
set -u
old=$1 new=$2
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- "$src"/tests/lab/fixtures/*.log "$src/tests/unit/scan-hostile.errlog" \
    "$src/share/tlstriage/samples/error.log"
t=$(mktemp -d) && trap 'rm -rf "$t"' EXIT
bad=0 n=0
for log in "$@"; do
    # a time from the middle of the log, as written (YYYY/MM/DD HH:MM:SS)
    mid=$(grep -aoE '^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}' "$log" |
          awk '{a[NR]=$0} END {if (NR) print a[int((NR+1)/2)]}')
    for since in "" "${mid:+$mid}" "2000-01-01 00:00" "2099-01-01 00:00" "1h"; do
        for fmt in text json jsonl; do
            args=(scan --format "$fmt")
            [ -n "$since" ] && args+=(--since "$since")
            for b in old new; do
                bin=$old; [ $b = new ] && bin=$new
                TZ=UTC "$bin" --no-color "${args[@]}" "$log" >"$t/$b.out" 2>"$t/$b.err"
                echo $? >"$t/$b.rc"
            done
            n=$((n + 1))
            for k in out err rc; do
                if ! cmp -s "$t/old.$k" "$t/new.$k"; then
                    echo "DIFF ($k): ${args[*]} $log"
                    bad=1
                fi
            done
        done
    done
done
echo "$n comparisons, $([ $bad = 0 ] && echo 'all identical' || echo 'differences above')"
exit $bad
