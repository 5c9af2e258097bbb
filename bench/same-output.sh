#!/usr/bin/env bash
# bench/same-output.sh OLD_BINARY NEW_BINARY — runs both tlstriage binaries on the same inputs
# and compares stdout, stderr and the exit status of each case with cmp: check (text, json,
# sarif) on every tests/unit/conf/*.conf fixture and the lab's config; probe (text, json,
# prometheus; HOST:PORT per standard lab scenario, --location-of, --all); diagnose (text, json)
# and fix --plan on the lab and the fixtures; history (text, json, --diff) and rollback's
# listing on one journal; fix --apply / rollback --yes outputs on the lab. Prints each case and
# "same" or "DIFFERENT" (with the first lines of the diff); exits 1 on any difference.
#
# Normalised before comparing, because they vary from run to run and not with the code:
#   - "elapsed_ms":N (JSON) and the ", N ms" that ends the probe's settings line (text);
#   - the value of tlstriage_upstream_cert_expiry_seconds (seconds from "now" to notAfter);
#   - only in the fix --apply / rollback --yes cases (each binary makes its own transaction):
#     transaction ids (YYYYMMDD-HHMMSS-mmm) and ISO-8601 times.
# Nothing else. A lab case that differs is run again (twice at most) and reported "same
# (after N retries)" if it then agrees: probes of timing peers (stall, reset) race nginx-like
# timing, not the code. Both binaries see the same lab, at the same time, with the same certs.
#
# Starts real nginx on 127.0.0.1:20860..20896: run it under the shared lab lock:
#     flock /tmp/tt-lab.lock bench/same-output.sh /tmp/tlstriage-main ./tlstriage
# Needs nginx (TT_NGINX, else /usr/sbin/nginx), curl, python3 and openssl (the lab's).
# SAME_OUTPUT_KEEP=DIR keeps every case's raw and normalised outputs in DIR (NNN.old.out, ...).
set -u
[ $# -eq 2 ] || {
    echo "usage: $0 OLD_BINARY NEW_BINARY" >&2
    exit 2
}
OLD=$(realpath "$1") NEW=$(realpath "$2")
[ -x "$OLD" ] && [ -x "$NEW" ] || {
    echo "$0: both binaries must be executable" >&2
    exit 2
}
SRC=$(cd "$(dirname "$0")/.." && pwd)
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
WORK=$(mktemp -d)
KEEP=${SAME_OUTPUT_KEEP:-}
[ -n "$KEEP" ] && mkdir -p "$KEEP"
ncase=0 ndiff=0 nretried=0

norm_base() {
    sed -E 's/"elapsed_ms":[0-9]+/"elapsed_ms":N/g; s/, [0-9]+ ms$/, N ms/;
            s/^(tlstriage_upstream_cert_expiry_seconds\{.*\}) -?[0-9]+$/\1 N/'
}
norm_txn() {
    norm_base | sed -E 's/[0-9]{8}-[0-9]{6}-[0-9]{3}/ID/g;
        s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z?/TIME/g'
}
NORM=norm_base

# run_one BINARY TAG ARGS... — stdout, stderr and exit status into $WORK/TAG.{out,err,rc}
# (and a copy named after the case number in $KEEP)
run_one() {
    local bin=$1 tag=$2 x
    shift 2
    (cd "$WORK" && "$bin" "$@" </dev/null >"$WORK/$tag.raw.out" 2>"$WORK/$tag.raw.err")
    echo "exit $?" >"$WORK/$tag.rc"
    $NORM <"$WORK/$tag.raw.out" >"$WORK/$tag.out"
    $NORM <"$WORK/$tag.raw.err" >"$WORK/$tag.err"
    if [ -n "$KEEP" ]; then
        printf '%s\n' "$*" >"$KEEP/$(printf %03d $ncase).args"
        for x in raw.out raw.err rc out err; do
            cp "$WORK/$tag.$x" "$KEEP/$(printf %03d $ncase).$tag.$x"
        done
    fi
}

same_files() {
    cmp -s "$WORK/old.out" "$WORK/new.out" && cmp -s "$WORK/old.err" "$WORK/new.err" &&
        cmp -s "$WORK/old.rc" "$WORK/new.rc"
}

# case_run RETRIES NAME -- ARGS... — runs both binaries, compares, prints one line.
case_run() {
    local retries=$1 name=$2 try=0
    shift 3
    ncase=$((ncase + 1))
    while :; do
        run_one "$OLD" old "$@"
        run_one "$NEW" new "$@"
        same_files && break
        [ $try -ge "$retries" ] && break
        try=$((try + 1))
    done
    if same_files; then
        if [ $try -gt 0 ]; then
            nretried=$((nretried + 1))
            printf '%-72s same (after %d retr%s)\n' "$name" $try "$([ $try = 1 ] && echo y || echo ies)"
        else
            printf '%-72s same\n' "$name"
        fi
        return 0
    fi
    ndiff=$((ndiff + 1))
    printf '%-72s DIFFERENT\n' "$name"
    for s in rc out err; do
        diff "$WORK/old.$s" "$WORK/new.$s" | head -8 | sed "s/^/    $s: /"
    done
}
fixture() { case_run 0 "$@"; }
labcase() { case_run 2 "$@"; }

# ---- check: every config fixture, three formats ----
for conf in "$SRC"/tests/unit/conf/*.conf; do
    for f in text json sarif; do
        fixture "check $(basename "$conf") --format $f" -- \
            --nginx "$NGINX_BIN" --conf "$conf" check --format "$f"
    done
done

# ---- diagnose / fix --plan on the fixtures (sample log; no incident places: warnings) ----
SAMPLE=$SRC/share/tlstriage/samples/error.log
for conf in "$SRC"/tests/unit/conf/*.conf; do
    b=$(basename "$conf")
    for f in text json; do
        fixture "diagnose $b (sample log) --format $f" -- \
            --nginx "$NGINX_BIN" --conf "$conf" --log "$SAMPLE" --state-dir "$WORK/st" \
            diagnose --format "$f"
    done
done
# an upstream named on the command line: planned from the config alone (nothing listens)
for up in localhost:20254 127.0.0.1:20254; do
    for conf in "$SRC"/tests/unit/conf/clean.conf "$SRC"/tests/unit/conf/tt004.conf; do
        b=$(basename "$conf")
        for f in text json; do
            fixture "diagnose $b --upstream $up --format $f" -- \
                --nginx "$NGINX_BIN" --conf "$conf" --log "$SAMPLE" --state-dir "$WORK/st" \
                diagnose --upstream "$up" --format "$f"
        done
        fixture "fix --plan $b --upstream $up" -- --nginx "$NGINX_BIN" --conf "$conf" \
            --log "$SAMPLE" --state-dir "$WORK/st" fix --upstream "$up"
    done
done

# ---- the lab ----
LAB=$SRC/tests/lab
. "$LAB/lab.sh"
lab_require
lab_ports_busy 20860 40 && {
    echo "$0: ports 20860-20899 are in use (run under flock /tmp/tt-lab.lock)" >&2
    exit 2
}
cleanup_all() {
    lab_cleanup
    rm -rf "$WORK"
}
lab_init 20860 || exit 2
trap cleanup_all EXIT
lab_scenarios_standard
# One upstream per fix strategy on a port of its own (the standard set shares ports between
# locations, and fix wants one use per upstream), one directive per line as configs are
# written: 20890 pin+name, 20891 chain, 20892 ca, 20893 depth, 20894 sni, 20895 verify off,
# 20896 expired leaf (no nginx-side fix).
C=$LAB_CERTS SYS=$LAB_SYSTEM_CA F=$((LAB_BASE + 30))
loc() {
    local name=$1 port=$2 lines="" d
    shift 2
    for d in "$@"; do lines+="$d;"$'\n            '; done
    lab_front_location "$name" "$port" "$lines"
}
lab_upstream $((F + 0)) selfsigned.pem selfsigned.key
lab_upstream $((F + 1)) api.pem api.key
lab_upstream $((F + 2)) api-chain.pem api.key
lab_upstream $((F + 3)) deep-chain.pem deep.key
lab_upstream $((F + 4)) sni-default-chain.pem sni-default.key "server_name default.lab;" default_server
lab_upstream $((F + 4)) sni-named-chain.pem sni-named.key "server_name sni.lab;"
lab_upstream $((F + 5)) selfsigned.pem selfsigned.key
lab_upstream $((F + 6)) expired-chain.pem expired.key
loc fix_pin $((F + 0)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $SYS"
loc fix_chain $((F + 1)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $C/root.pem" \
    "proxy_ssl_name api.lab"
loc fix_ca $((F + 2)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $SYS" "proxy_ssl_name api.lab"
loc fix_depth $((F + 3)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $C/root2.pem" \
    "proxy_ssl_name deep.lab"
loc fix_sni $((F + 4)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $C/root.pem" \
    "proxy_ssl_name sni.lab"
loc fix_verifyoff $((F + 5)) "proxy_ssl_verify off"
loc fix_expired $((F + 6)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $C/root.pem" \
    "proxy_ssl_name api.lab"
FIXES=(fix_pin fix_chain fix_ca fix_depth fix_sni fix_verifyoff fix_expired)
lab_start || {
    echo "$0: the lab did not start" >&2
    exit 2
}
CONF=$(lab_front_conf)
for n in "${LAB_SCENARIOS[@]}"; do
    lab_request "$n" >/dev/null # the incidents diagnose reads
done
for n in "${FIXES[@]}"; do
    lab_curl "/s/$n" >/dev/null
done
sleep 0.2

for n in "${LAB_SCENARIOS[@]}"; do
    mapfile -t args < <(lab_probe_args "$n")
    for f in text json; do
        labcase "probe $n --format $f" -- --nginx "$NGINX_BIN" probe "${args[@]}" --format "$f"
    done
done
# several targets in one run (the summary line and the JSON array)
labcase "probe three targets --format text" -- --nginx "$NGINX_BIN" probe \
    127.0.0.1:$((LAB_BASE + 0)) 127.0.0.1:$((LAB_BASE + 1)) 127.0.0.1:$((LAB_BASE + 2)) \
    --trusted "$(lab_cert root.pem)" --timeout 1
labcase "probe three targets --format json" -- --nginx "$NGINX_BIN" probe \
    127.0.0.1:$((LAB_BASE + 0)) 127.0.0.1:$((LAB_BASE + 1)) 127.0.0.1:$((LAB_BASE + 2)) \
    --trusted "$(lab_cert root.pem)" --timeout 1 --format json
for f in text json prometheus; do
    labcase "probe --all --format $f" -- --nginx "$NGINX_BIN" probe --conf "$CONF" --all \
        --timeout 1 --format "$f"
done
labcase "probe --all --no-what-if --format text" -- --nginx "$NGINX_BIN" probe --conf "$CONF" \
    --all --timeout 1 --no-what-if
for n in "${LAB_SCENARIOS[@]}"; do
    [ "${LAB_S_KIND[$n]}" = http ] || continue
    labcase "probe --server front.lab --uri /s/$n" -- --nginx "$NGINX_BIN" probe \
        --conf "$CONF" --server front.lab --uri "/s/$n" --timeout 1
done
labcase "probe --location-of http://127.0.0.1:PORT/s/fix_pin" -- --nginx "$NGINX_BIN" probe \
    --conf "$CONF" --location-of "http://127.0.0.1:$LAB_FRONT_PORT/s/fix_pin"
for f in text json sarif; do
    labcase "check lab front.conf --format $f" -- --nginx "$NGINX_BIN" --conf "$CONF" check \
        --format "$f"
done

tt_args=(--nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" --state-dir "$LAB_DIR/state")
for f in text json; do
    labcase "diagnose lab --format $f" -- "${tt_args[@]}" diagnose --format "$f"
done
for n in "${LAB_SCENARIOS[@]}"; do
    [ "${LAB_S_VERDICT[$n]}" = ok ] && continue
    up=127.0.0.1:${LAB_S_PORT[$n]}
    labcase "diagnose lab --upstream $up ($n) --format json" -- "${tt_args[@]}" diagnose \
        --upstream "$up" --format json
    labcase "fix --plan lab --upstream $up ($n)" -- "${tt_args[@]}" fix --upstream "$up"
done
labcase "fix lab (several failing: usage error)" -- "${tt_args[@]}" fix
fix_extra() { # the options a strategy needs (fix.sh)
    case $1 in
    fix_chain) printf '%s\n' --ca "$C/inter.pem" ;;
    fix_ca) printf '%s\n' --ca "$C/root.pem" ;;
    esac
}
for i in "${!FIXES[@]}"; do
    up=127.0.0.1:$((F + i))
    mapfile -t extra < <(fix_extra "${FIXES[$i]}")
    for f in text json; do
        labcase "diagnose lab --upstream $up (${FIXES[$i]}) --format $f" -- "${tt_args[@]}" \
            diagnose --upstream "$up" "${extra[@]}" --format "$f"
    done
    labcase "fix --plan lab --upstream $up (${FIXES[$i]})" -- "${tt_args[@]}" fix --plan \
        --upstream "$up" "${extra[@]}"
done
labcase "fix --plan --strategy ca --ca selfsigned.pem (fix_pin)" -- "${tt_args[@]}" fix \
    --plan --strategy ca --ca "$C/selfsigned.pem" --upstream 127.0.0.1:$((F + 0))
labcase "fix --plan (chain with the wrong --ca: not verified)" -- "${tt_args[@]}" fix \
    --plan --upstream 127.0.0.1:$((F + 1)) --ca "$C/inter2a.pem"

# ---- the journal: made once by OLD, listed by both ----
UP=127.0.0.1:$((F + 0)) # pin+name
UP2=127.0.0.1:$((F + 3)) # depth
cp "$CONF" "$WORK/front.conf.orig"
"$OLD" "${tt_args[@]}" fix --apply --yes --watch 0 --upstream "$UP" </dev/null >/dev/null 2>&1
"$OLD" "${tt_args[@]}" rollback --last --yes </dev/null >/dev/null 2>&1
"$OLD" "${tt_args[@]}" fix --apply --yes --watch 0 --upstream "$UP2" </dev/null >/dev/null 2>&1
[ "$(ls "$LAB_DIR/state/journal" 2>/dev/null | wc -l)" = 3 ] ||
    echo "    (the journal does not hold the 3 transactions the listings want)"
for f in text json; do
    labcase "history --format $f" -- "${tt_args[@]}" history --format "$f"
    labcase "history --diff --format $f" -- "${tt_args[@]}" history --diff --format "$f"
done
labcase "rollback --last (listing; no terminal to ask)" -- "${tt_args[@]}" rollback --last
labcase "rollback NOSUCHID" -- "${tt_args[@]}" rollback 20000101-000000-000
first=$(ls "$LAB_DIR/state/journal" | sort | head -1)
labcase "rollback --complete ${first%.yaml} (listing)" -- "${tt_args[@]}" rollback \
    --complete "${first%.yaml}"
"$OLD" "${tt_args[@]}" rollback --last --yes </dev/null >/dev/null 2>&1
cmp -s "$CONF" "$WORK/front.conf.orig" || echo "    (the config was not restored)"

# ---- apply and roll back with each binary: the transaction outcome text ----
NORM=norm_txn
apply_pair() { # NAME FIX_ARGS... — fix --apply then rollback --last, per binary, fresh state
    local name=$1 tag
    shift
    ncase=$((ncase + 2))
    for tag in old new; do
        local bin=$OLD
        [ $tag = new ] && bin=$NEW
        rm -rf "$LAB_DIR/state"
        run_one "$bin" "$tag-apply" "${tt_args[@]}" fix --apply --yes --watch 0 "$@"
        run_one "$bin" "$tag-rb" "${tt_args[@]}" rollback --last --yes
        cmp -s "$CONF" "$WORK/front.conf.orig" || echo "    (the rollback of $tag did not restore the config)"
    done
    for step in apply rb; do
        local label="fix --apply $name"
        [ $step = rb ] && label="rollback --last --yes after $name"
        if cmp -s "$WORK/old-$step.out" "$WORK/new-$step.out" &&
            cmp -s "$WORK/old-$step.err" "$WORK/new-$step.err" &&
            cmp -s "$WORK/old-$step.rc" "$WORK/new-$step.rc"; then
            printf '%-72s same\n' "$label"
        else
            ndiff=$((ndiff + 1))
            printf '%-72s DIFFERENT\n' "$label"
            for s in rc out err; do
                diff "$WORK/old-$step.$s" "$WORK/new-$step.$s" | head -8 | sed "s/^/    $s: /"
            done
        fi
    done
}
apply_pair "--upstream $UP (pin+name)" --upstream "$UP"
apply_pair "--upstream $UP2 (depth)" --upstream "$UP2"
apply_pair "--upstream 127.0.0.1:$((F + 6)) (expired: refused)" --upstream 127.0.0.1:$((F + 6))
apply_pair "--upstream $UP --strategy nosuch (usage)" --upstream "$UP" --strategy nosuch

echo "$ncase cases: $((ncase - ndiff)) same ($nretried after a retry), $ndiff DIFFERENT"
[ $ndiff -eq 0 ]
