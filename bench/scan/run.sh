#!/bin/bash
# bench/scan/run.sh — `tlstriage scan` against grep -cF and wc -l on a generated error.log.
#   bench/scan/run.sh [TLSTRIAGE] [SIZE_MIB]     (defaults: ./build/tlstriage, 1024)
# Generates the log in a temporary directory (deleted at the end), runs each command 5 times
# with hyperfine (median), and measures peak RSS from the kernel's rusage of the child
# (bench/scan/peakrss.c: /usr/bin/time is not everywhere).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tt=$(realpath "${1:-$here/../../build/tlstriage}")
size=${2:-1024}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/bench-scan.XXXXXX")
trap 'rm -rf "$work"' EXIT

cc -O2 -o "$work/gen" "$here/gen-errorlog.c"
cc -O2 -o "$work/peakrss" "$here/peakrss.c"
"$work/gen" "$size" >"$work/error.log"
log="$work/error.log"
echo "# log: $(du -h "$log" | cut -f1), $(wc -l <"$log") lines," \
     "$(grep -cF 'while SSL handshaking to upstream' "$log") 'while SSL handshaking to upstream'"
cat "$log" >/dev/null # warm the page cache so every command reads from memory

# --output=pipe: GNU grep stops at the first match when its stdout is /dev/null, so grep
# and wc write into a pipe; tlstriage's output goes to /dev/null explicitly.
hyperfine --runs 5 --warmup 1 --style basic --output=pipe --export-json "$work/h.json" \
    -n grep "grep -cF 'while SSL handshaking to upstream' $log" \
    -n wc "wc -l $log" \
    -n scan-text "$tt scan $log >/dev/null; test \$? -le 1" \
    -n scan-jsonl "$tt scan --format jsonl $log >/dev/null; test \$? -le 1" \
    -n scan-json "$tt scan --format json $log >/dev/null; test \$? -le 1" >&2

python3 - "$work/h.json" "$tt" "$log" "$work/peakrss" "$work/out" <<'PY'
import json, resource, subprocess, sys
h = json.load(open(sys.argv[1]))
med = {r["command"]: r["median"] for r in h["results"]}
cpu = {r["command"]: r["user"] + r["system"] for r in h["results"]}
def peak(argv):
    out = subprocess.run([sys.argv[4], sys.argv[5]] + argv, capture_output=True, text=True)
    return int(out.stdout) / 1024
tt, log = sys.argv[2], sys.argv[3]
rss = {
    "grep": peak(["grep", "-cF", "while SSL handshaking to upstream", log]),
    "wc": peak(["wc", "-l", log]),
    "scan-text": peak([tt, "scan", log]),
    "scan-jsonl": peak([tt, "scan", "--format", "jsonl", log]),
    "scan-json": peak([tt, "scan", "--format", "json", log]),
}
print("| command | median wall (s) | vs grep | CPU user+sys (s, mean) | peak RSS (MiB) |")
print("|---|---:|---:|---:|---:|")
for k in ["grep", "wc", "scan-text", "scan-jsonl", "scan-json"]:
    print(f"| {k} | {med[k]:.3f} | {med[k]/med['grep']:.2f}x | {cpu[k]:.3f} | {rss[k]:.1f} |")
PY
