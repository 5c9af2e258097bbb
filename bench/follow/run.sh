#!/bin/bash
# bench/follow/run.sh — cost of `tlstriage scan --follow --format jsonl` under a fast writer.
#   bench/follow/run.sh [TLSTRIAGE] [RATE] [SECONDS]     (defaults: build/tlstriage 100000 10)
#   EVENTS_PCT=4 bench/follow/run.sh ...   share of upstream-TLS event lines (default 90)
# (BUILD=dir: the build tree whose libtt.a and config.h build tailonly; default: TLSTRIAGE's dir)
# 1. CPU: follower > /dev/null while the writer appends RATE lines/s for SECONDS; CPU seconds
#    (utime+stime from /proc/PID/stat) per million lines; VmRSS each second and VmHWM.
# 2. Lag: the same with the output piped into lagmeter (write time embedded by the writer vs
#    the time the JSON line arrives).
# 3. Idle: CPU of a follower on a quiet file for SECONDS.
# 4. The follower alone (tailonly: tail.c + evloop.c, no parser, no JSON) under the same writer.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
TLSTRIAGE=${1:-${TLSTRIAGE:-$here/../../build/tlstriage}}
RATE=${2:-100000}
SECS=${3:-10}
T=$(mktemp -d "${TMPDIR:-/tmp}/ttbench.XXXXXX")
FP=
trap '[ -n "$FP" ] && kill "$FP" 2>/dev/null; rm -rf "$T"' EXIT
cc -O2 -o "$T/writer" "$here/writer.c"
cc -O2 -o "$T/lagmeter" "$here/lagmeter.c"
BUILD=${BUILD:-$(dirname "$TLSTRIAGE")}
tailonly=
if [ -f "$BUILD/libtt.a" ] && [ -f "$BUILD/config.h" ] &&
    cc -O2 -I"$BUILD" -I"$here/../../include" -o "$T/tailonly" "$here/tailonly.c" "$BUILD/libtt.a"; then
    tailonly=$T/tailonly
fi
TCK=$(getconf CLK_TCK)

cpu_s() { # utime+stime of PID in seconds
    awk -v t="$TCK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"
}
mem_kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
caught_up() { # the follower has read at least the file's size
    local rchar size
    rchar=$(awk '$1 == "rchar:" { print $2 }' "/proc/$1/io")
    size=$(stat -c %s "$2")
    [ "$rchar" -ge "$size" ]
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. CPU and memory
: >"$T/a.log"
"$TLSTRIAGE" scan --follow --format jsonl "$T/a.log" >/dev/null &
FP=$!
sleep 0.5
rss=""
( while kill -0 "$FP" 2>/dev/null; do mem_kb "$FP" VmRSS; sleep 1; done ) >"$T/rss" 2>/dev/null &
sampler=$!
"$T/writer" "$T/a.log" "$RATE" "$SECS" >"$T/writer.out"
for _ in $(seq 100); do caught_up "$FP" "$T/a.log" && break; sleep 0.1; done
sleep 0.3
cpu=$(cpu_s "$FP")
hwm=$(mem_kb "$FP" VmHWM)
kill -INT "$FP"; wait "$FP" || true; FP=
wait "$sampler" 2>/dev/null || true
lines=$(awk '{ print $1 }' "$T/writer.out")
rss=$(tr '\n' ' ' <"$T/rss")
echo "writer: $(cat "$T/writer.out"), $(($(stat -c %s "$T/a.log") / 1048576)) MiB"
awk -v c="$cpu" -v l="$lines" 'BEGIN { printf "cpu: %.2f s for %d lines = %.3f CPU-s per million lines\n", c, l, c / (l / 1e6) }'
echo "memory: VmHWM ${hwm} kB; VmRSS each second (kB): $rss"
rm -f "$T/a.log"

# 2. Lag
: >"$T/b.log"
"$TLSTRIAGE" scan --follow --format jsonl "$T/b.log" | "$T/lagmeter" >"$T/lag" &
sleep 0.5
FP=$(pgrep -n -f "scan --follow --format jsonl $T/b.log")
"$T/writer" "$T/b.log" "$RATE" "$SECS" >/dev/null
for _ in $(seq 100); do caught_up "$FP" "$T/b.log" && break; sleep 0.1; done
sleep 0.5
kill -INT "$FP"; FP=
wait
echo "lag: $(cat "$T/lag")"
rm -f "$T/b.log"

# 3. Idle
printf 'quiet\n' >"$T/c.log"
"$TLSTRIAGE" scan --follow --format jsonl "$T/c.log" >/dev/null &
FP=$!
sleep 0.5
c0=$(cpu_s "$FP")
sleep "$SECS"
c1=$(cpu_s "$FP")
kill -INT "$FP"; wait "$FP" || true; FP=
awk -v a="$c0" -v b="$c1" -v s="$SECS" 'BEGIN { printf "idle: %.2f CPU-s over %d s\n", b - a, s }'

# 4. The follower alone
if [ -n "$tailonly" ]; then
    : >"$T/d.log"
    "$tailonly" "$T/d.log" >"$T/tailonly.out" &
    FP=$!
    sleep 0.5
    "$T/writer" "$T/d.log" "$RATE" "$SECS" >/dev/null
    for _ in $(seq 100); do caught_up "$FP" "$T/d.log" && break; sleep 0.1; done
    sleep 0.3
    cpu=$(cpu_s "$FP")
    kill -INT "$FP"; wait "$FP" || true; FP=
    awk -v c="$cpu" -v l="$(cat "$T/tailonly.out")" 'BEGIN { printf "follower alone: %.2f s for %d lines = %.3f CPU-s per million lines\n", c, l, c / (l / 1e6) }'
fi
