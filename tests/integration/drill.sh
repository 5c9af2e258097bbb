#!/usr/bin/env bash
# tests/integration/drill.sh — every drill scenario on real nginx: --detach builds it, the
# front answers as broken (502, or 200 with verification off) and logs the expected line,
# --check says 1, --solve, --check says 0, --down leaves no process and no directory. The
# scenarios with an nginx-side fix are fixed a second time by `tlstriage --config
# D/tlstriage.yaml fix --apply --yes`. Also: Ctrl-C on an attached drill cleans up, the score
# history, hints. Ports BASE..BASE+3 (default 21400). Run under the lab lock.
set -u
T=${TLSTRIAGE:-./tlstriage}
base=${DRILL_PORT_BASE:-21400}
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }
t() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

# scenario -> status while broken | a text of the front's error.log while broken
declare -A want_status=(
    [classic]=502 [missing-intermediate]=502 [expired]=502 [name-mismatch]=502
    [deep-chain]=502 [sni]=502 [mtls]=502 [plain-http]=502 [verify-off]=200)
declare -A want_log=(
    [classic]='upstream SSL certificate verify error: (18:self-signed certificate)'
    [missing-intermediate]='upstream SSL certificate verify error: (21:unable to verify the first certificate)'
    [expired]='upstream SSL certificate verify error: (10:certificate has expired)'
    [name-mismatch]='upstream SSL certificate does not match "billing_backend"'
    [deep-chain]='upstream SSL certificate verify error: (20:unable to get local issuer certificate)'
    [sni]='upstream SSL certificate does not match "accounts.internal"'
    [mtls]='upstream prematurely closed connection'
    [plain-http]='SSL routines::wrong version number'
    [verify-off]='')
# the scenarios `tlstriage fix` can fix on the nginx side
tool_fix="classic name-mismatch deep-chain sni verify-off"

scenarios=$("$T" drill --list | awk '{print $1}' | sort | tr '\n' ' ')
t "drill --list names the nine scenarios" \
    [ "$scenarios" = "classic deep-chain expired missing-intermediate mtls name-mismatch plain-http sni verify-off " ]

status_of() { # status_of D -> the front's answer to the scenario's request
    local port host uri
    port=$(sed -n 's/^front_port: //p' "$1/drill.state")
    curl -s -o /dev/null -m 5 -w '%{http_code}' -H 'Host: shop.example' \
        "http://127.0.0.1:$port$(sed -n 's/.*GET \(\/[^ ]*\) HTTP.*/\1/p' "$1/front/logs/access.log" | head -1)"
}
wait_log() { # wait_log FILE TEXT
    for _ in $(seq 50); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
wait_access() { for _ in $(seq 50); do [ -s "$1/front/logs/access.log" ] && return 0; sleep 0.1; done; return 1; }
pids_of() { # the sandbox's processes: masters, workers, traffic
    local d=$1 p
    for p in $(cat "$d/front/nginx.pid" "$d/upstream/nginx.pid" "$d/run/traffic.pid" 2>/dev/null); do
        echo "$p"; ps -o pid= --ppid "$p" 2>/dev/null
    done
}
no_process_matching() { ! pgrep -f "$1" >/dev/null; }
none_alive() { local p; for p in "$@"; do [ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && return 1; done; return 0; }

for s in classic missing-intermediate expired name-mismatch deep-chain sni mtls plain-http verify-off; do
    out=$("$T" --state-dir "$state" drill "$s" --detach --port-base "$base" 2>"$state/err")
    t "$s: --detach prints one directory" [ -d "$out" ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ]
    D=$out
    [ -d "$D" ] || { cat "$state/err" >&2; continue; }
    wait_access "$D"
    st=$(status_of "$D")
    t "$s: the front answers ${want_status[$s]} while broken (got $st)" [ "$st" = "${want_status[$s]}" ]
    if [ -n "${want_log[$s]}" ]; then
        t "$s: the error log shows '${want_log[$s]}'" wait_log "$D/front/logs/error.log" "${want_log[$s]}"
    fi
    "$T" --state-dir "$state" drill --check "$D" >"$state/check" 2>&1
    t "$s: --check exits 1 while broken" [ $? = 1 ]
    if [ "$s" = verify-off ]; then
        t "verify-off: --check names the disabled verification" grep -q 'proxy_ssl_verify is off' "$state/check"
    fi
    t "$s: --solve" bash -c "'$T' drill --solve '$D' >/dev/null"
    "$T" --state-dir "$state" drill --check "$D" >"$state/check" 2>&1
    t "$s: --check exits 0 after the reference solution" [ $? = 0 ]
    pids=$(pids_of "$D")
    t "$s: --down" "$T" drill --down "$D"
    t "$s: --down removed the directory" [ ! -e "$D" ]
    # shellcheck disable=SC2086
    t "$s: --down left no process (masters, workers, traffic)" none_alive $pids
done

for s in $tool_fix; do
    D=$("$T" --state-dir "$state" drill "$s" --detach --port-base "$base" 2>"$state/err")
    [ -d "$D" ] || { nok "$s: --detach for the tool's fix"; continue; }
    wait_access "$D"
    mapfile -t cmd < <("$T" drill --fix-command "$D")
    t "$s: drill --fix-command gives tlstriage --config D/tlstriage.yaml fix --apply --yes" \
        [ "${cmd[*]:0:6}" = "tlstriage --config $D/tlstriage.yaml fix --apply --yes" ]
    "$T" "${cmd[@]:1}" >"$state/fix" 2>&1
    rc=$?
    t "$s: ${cmd[*]:3} exits 0 (got $rc)" [ $rc = 0 ]
    [ $rc = 0 ] || sed 's/^/# /' "$state/fix"
    "$T" --state-dir "$state" drill --check "$D" >"$state/check" 2>&1
    t "$s: --check exits 0 after the tool's fix" [ $? = 0 ]
    "$T" drill --down "$D"
done

# A hint counts; the score history lists every passed drill.
D=$("$T" --state-dir "$state" drill classic --detach --port-base "$base")
t "--hint prints the first hint" bash -c "'$T' drill --hint '$D' | grep -q '^hint 1 of'"
t "the state file counts the hint" grep -q '^hints_used: 1' "$D/drill.state"
"$T" drill --solve "$D" >/dev/null
"$T" --state-dir "$state" drill --check "$D" >/dev/null
"$T" drill --down "$D"
t "--scores lists the passed drills with their hints" bash -c \
    "[ \$('$T' --state-dir '$state' drill --scores | wc -l) -ge 15 ] && '$T' --state-dir '$state' drill --scores | tail -1 | grep -q 'classic .* 1 hint  0 unsafe\$'"

# Turning verification off to make the 502 go away is an unsafe action: counted, never a fix.
D=$("$T" --state-dir "$state" drill classic --detach --port-base "$base")
sed -i 's/proxy_ssl_verify on;/proxy_ssl_verify off;/' "$D/front/nginx.conf"
"${TT_NGINX:-/usr/sbin/nginx}" -p "$D/front/" -c "$D/front/nginx.conf" -s reload 2>/dev/null
sleep 1
"$T" --state-dir "$state" drill --check "$D" >"$state/unsafe" 2>&1
t "verify off: --check says UNSAFE" grep -q 'UNSAFE: proxy_ssl_verify is off' "$state/unsafe"
t "verify off: and it is not solved" grep -q 'not solved yet' "$state/unsafe"
t "verify off: the state counts the unsafe action" grep -q '^unsafe: 1' "$D/drill.state"
"$T" drill --solve "$D" >/dev/null
"$T" --state-dir "$state" drill --check "$D" >"$state/unsafe2" 2>&1
t "verify off: the score says it" grep -q 'and 1 unsafe action' "$state/unsafe2"
"$T" drill --down "$D"

# Attached (no --detach): the briefing, then Ctrl-C removes everything.
"$T" drill classic --port-base "$base" >"$state/attached" 2>&1 &
bg=$!
wait_log "$state/attached" "Press Ctrl-C"
D=$(sed -n 's/^The sandbox is \([^ ]*\) .*/\1/p' "$state/attached")
pids=$(pids_of "$D")
kill -INT $bg
wait $bg
t "attached: Ctrl-C exits 0" [ $? = 0 ]
t "attached: Ctrl-C removed the sandbox" [ -n "$D" ] && [ ! -e "$D" ]
# shellcheck disable=SC2086
t "attached: no process left" none_alive $pids

# SIGTERM during setup: whatever was built is stopped and removed (sandboxes go to a private
# TMPDIR here, so "nothing left" is checkable). A signal that comes after setup finished
# leaves a sandbox that --down removes.
mkdir -p "$state/tmp"
for delay in 0.05 0.15 0.3; do
    TMPDIR="$state/tmp" "$T" drill classic --detach --port-base "$base" >"$state/sig" 2>&1 &
    bg=$!
    sleep "$delay"
    kill -TERM $bg
    wait $bg
    rc=$?
    if [ $rc = 0 ]; then
        "$T" drill --down "$(head -1 "$state/sig")"
        ok "SIGTERM after ${delay}s: setup had finished; --down removed it # (race not hit)"
    else
        t "SIGTERM after ${delay}s during setup: exit $rc, no directory left" \
            [ -z "$(ls -A "$state/tmp")" ]
    fi
    sleep 0.5
    t "SIGTERM after ${delay}s: no process of the sandbox left" no_process_matching "$state/tmp"
done

t "--down refuses a directory that is not a sandbox" bash -c "! '$T' drill --down '$state' 2>/dev/null && [ -d '$state' ]"
D=$("$T" drill expired --detach --port-base "$base")
t "--fix-command exits 1 for a scenario without an nginx-side fix" bash -c "! '$T' drill --fix-command '$D' >/dev/null"
"$T" drill --down "$D"
t "an unknown scenario is a usage error" bash -c "'$T' drill nosuch --detach 2>/dev/null; [ \$? = 2 ]"
echo "1..$n"
