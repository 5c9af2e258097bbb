#!/bin/bash
# bench/scan/since.sh — `scan --since` (the start found by bisecting the file on its line
# timestamps, logread.c) against a full `scan` of the same large error.log.
#   bench/scan/since.sh [TLSTRIAGE] [SIZE_MIB]     (defaults: ./build/tlstriage, 3072)
# The generated log (bench/scan/gen-errorlog.c, in $TMPDIR or /tmp, deleted at the end) spans
# about 4.6 days of 2026/11/20-24, so two cases:
#   quiet:     --since 1h           nothing in the last hour before now: the bisection ends at
#                                   the end of the file;
#   last-hour: --since LAST-1h      the log's own last hour (one hour before its last line):
#                                   ~1/110 of the file is read.
# Each command runs 5 times from the page cache (median wall time); the pread/read calls of
# one run are counted with strace when it is there. Needs SIZE_MIB free in the temp dir.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tt=$(realpath "${1:-$here/../../build/tlstriage}")
size=${2:-3072}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-since.XXXXXX")
trap 'rm -rf "$work"' EXIT

cc -O2 -o "$work/gen" "$here/gen-errorlog.c"
"$work/gen" "$size" >"$work/error.log"
log="$work/error.log"
last=$(tail -n 1 "$log" | cut -c1-19)
lasth=$(date -u -d "$(echo "$last" | tr / -) UTC -1 hour" '+%Y-%m-%d %H:%M:%S')
echo "# log: $(du -h "$log" | cut -f1), $(wc -l <"$log") lines, last line at $last;" \
     "last-hour case: --since '$lasth' (TZ=UTC)"
cat "$log" >/dev/null # warm the page cache

export TZ=UTC
python3 - "$tt" "$log" "$lasth" <<'PY'
import shutil, statistics, subprocess, sys, time
tt, log, lasth = sys.argv[1:4]
cases = [
    ("full", [tt, "scan", "--format", "json", log]),
    ("quiet (--since 1h)", [tt, "scan", "--format", "json", "--since", "1h", log]),
    ("last-hour (--since LAST-1h)", [tt, "scan", "--format", "json", "--since", lasth, log]),
]
med, out = {}, {}
for name, argv in cases:
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        runs.append(time.perf_counter() - t)
    med[name] = statistics.median(runs)
    out[name] = r.stdout.decode()
def reads(argv):
    if shutil.which("strace") is None:
        return "-"
    r = subprocess.run(["strace", "-f", "-c", "-e", "trace=read,pread64"] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    n = 0
    for line in r.stderr.splitlines():
        f = line.split()
        if len(f) >= 5 and f[-1] in ("read", "pread64"):
            n += int(f[3])
    return str(n)
def lines_read(s):
    import json
    try:
        d = json.loads(s)
        return f'{d["lines_read"]} lines, {d["events"]} events'
    except Exception:
        return "?"
print("| case | median wall (s) | vs full | read()+pread() calls | scanned |")
print("|---|---:|---:|---:|---|")
for name, argv in cases:
    print(f"| {name} | {med[name]:.4f} | {med[name] / med['full']:.4f} | {reads(argv)} "
          f"| {lines_read(out[name])} |")
PY
