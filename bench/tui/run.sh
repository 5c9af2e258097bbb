#!/bin/bash
# bench/tui/run.sh — the interactive screen's speed (issue 13), through a real pty
# (bench/tui/ptydrive.py: 80x24 by TIOCSWINSZ, TERM=xterm-256color, LANG=C.UTF-8).
#   bench/tui/run.sh [TLSTRIAGE] [SIZE_MIB] [RATE]     (defaults: ./tlstriage, 2560, 100000)
#   PARTS="startup flood bytes" (default: all three)
#   OUTAGE_PER_S=150   failed requests per second in the outage's 40 minutes (default 150)
# 1. startup: a SIZE_MIB error.log from bench/scan/gen-errorlog.c (days old) with a last hour
#    appended whose last 40 minutes are an outage (ptydrive.py outage); `tlstriage --log FILE
#    watch`: time to the first frame ("Incidents"), to the "reading the last hour..." notice
#    gone, and to the whole hour on the screen (the follower's offset at the end of the file
#    and the count final); twice, the second from the page cache.
# 2. flood: bench/follow/writer.c at RATE lines/s (EVENTS_PCT=90) into a followed file:
#    redraws/s and the TUI's CPU over 10 s, then 20 times '?' → "Keys" on the screen → 'q';
#    then `scan --follow --format jsonl FILE >/dev/null` alone under the same flood, CPU over
#    10 s, and the same with --format text (which groups every event into incidents, as the
#    screen does).
# 3. bytes: to the terminal over 10 s idle, and over 10 s with a matching line each second.
# Needs SIZE_MIB + 200 MiB free in $TMPDIR (default /tmp); everything is deleted at the end.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tt=$(realpath "${1:-./tlstriage}")
size=${2:-2560}
rate=${3:-100000}
parts=${PARTS:-startup flood bytes}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-tui.XXXXXX")
trap 'rm -rf "$work"' EXIT
drive="python3 $here/ptydrive.py"

echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo);" \
    "tlstriage $("$tt" --version 2>/dev/null | head -n 1); load $(cut -d' ' -f1-3 /proc/loadavg)"
cc -O2 -o "$work/writer" "$here/../follow/writer.c"

for part in $parts; do
    case $part in
    startup)
        cc -O2 -o "$work/gen" "$here/../scan/gen-errorlog.c"
        "$work/gen" "$size" >"$work/error.log"
        echo "# outage hour: $($drive outage "$work/error.log" 40 "${OUTAGE_PER_S:-150}")"
        echo "# log: $(du -h "$work/error.log" | cut -f1), $(stat -c %s "$work/error.log") bytes"
        cat "$work/error.log" >/dev/null # the page cache, as on a live server's hot log
        for run in 1 2; do
            echo "startup[$run]: $($drive startup "$tt" "$work/error.log")"
        done
        rm -f "$work/error.log"
        ;;
    flood)
        echo "flood: $($drive flood "$tt" "$work" "$work/writer" "$rate")"
        ;;
    bytes)
        echo "bytes: $($drive bytes "$tt" "$work" 10)"
        ;;
    *)
        echo "unknown part '$part' (startup, flood, bytes)" >&2
        exit 2
        ;;
    esac
done
