#!/bin/bash
# run.sh [TLSTRIAGE] — probe 200 TLS upstreams on loopback in one tlstriage run vs a loop of
# openssl s_client over the same upstreams; one probe vs one s_client; the upstream nginx's
# CPU time alongside; how often each tool opens the trusted file. Needs hyperfine, strace.
set -eu
TT=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/tlstriage}
NGINX=${NGINX:-/usr/sbin/nginx}
D=$(mktemp -d)
trap 'kill "$(cat "$D/nginx.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$D"' EXIT
bash "$(dirname "$0")/gen.sh" "$D" 200
env -u NGINX "$NGINX" -p "$D" -c "$D/nginx.conf" -e "$D/error.log"
sleep 0.5
mapfile -t TARGETS < "$D/targets"

nginx_cpu_ms() { # utime+stime of the upstream nginx master and workers, in ms
    local master t=0 p
    master=$(cat "$D/nginx.pid")
    for p in $master $(pgrep -P "$master"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo $((t * 1000 / $(getconf CLK_TCK)))
}

cat > "$D/sclient-loop.sh" <<LOOP
for t in ${TARGETS[*]}; do
    openssl s_client -connect "\$t" -noservername -CAfile "$D/root.pem" \
        -verify_hostname bench.lab.test -verify_return_error -brief </dev/null >/dev/null 2>&1 || exit 1
done
LOOP

echo "== sanity"
"$TT" probe "${TARGETS[@]}" --trusted "$D/root.pem" --name bench.lab.test | tail -1
"$TT" probe --conf "$D/front.conf" --all | tail -1
bash "$D/sclient-loop.sh" && echo "s_client loop: all 200 verified"
echo "== trusted-file opens (strace)"
echo "tlstriage, 200 upstreams: $(strace -f -e trace=openat "$TT" probe "${TARGETS[@]}" \
    --trusted "$D/root.pem" --name bench.lab.test 2>&1 >/dev/null | grep -c 'root.pem')"
echo "s_client loop, 200 upstreams: $(strace -f -e trace=openat bash "$D/sclient-loop.sh" 2>&1 |
    grep -c 'root.pem')"

run() { # NAME RUNS CMD...
    local name=$1 runs=$2 before after
    shift 2
    before=$(nginx_cpu_ms)
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$D/$name.json" "$@" >/dev/null 2>&1
    after=$(nginx_cpu_ms)
    # mean and stddev (ms), and the upstream nginx CPU per run (ms; warmup included)
    jq -r --arg n "$name" --argjson cpu $(((after - before) / (runs + 1))) \
        '.results[0] | "\($n): mean \(.mean*1000|floor) ms ± \(.stddev*1000|floor) ms (min \(.min*1000|floor), user \(.user*1000|floor) ms, sys \(.system*1000|floor) ms); upstream nginx CPU \($cpu) ms/run"' \
        "$D/$name.json"
}

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (shared with parallel work)"
echo "== timings (hyperfine)"
run probe_200 10 "$TT probe ${TARGETS[*]} --trusted $D/root.pem --name bench.lab.test"
run probe_all_200 10 "$TT probe --conf $D/front.conf --all"
run sclient_loop_200 3 "bash $D/sclient-loop.sh"
run probe_1 30 "$TT probe ${TARGETS[0]} --trusted $D/root.pem --name bench.lab.test"
run sclient_1 30 "openssl s_client -connect ${TARGETS[0]} -noservername -CAfile $D/root.pem -verify_hostname bench.lab.test -verify_return_error -brief"
