# triage.sh — the triage model's refusals and choices through the verbs, against the lab's
# real nginx (ports 20800-20829): proxy_pass https://$backend does not crash diagnose or fix;
# an upstream used by a snippet that two servers include makes `fix --upstream H:P` exit 2
# listing both H:P@server/location spellings, and one spelling picks one use; a --log that
# is missing, a directory or a FIFO is exit 2 for scan, diagnose and fix (never blocks); a
# config nginx -t refuses gets no plan, exit 2, and the file keeps its bytes; an incident
# the config cannot place is in diagnose's and fix's output as "not placed", exit 1.
. "$TT_SRCDIR/tests/tap.sh"
command -v curl >/dev/null || skip_all "no curl"
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
[ -x "$NGINX_BIN" ] || skip_all "no nginx binary"
unset NGINX
. "$LAB/lab.sh"

lab_init 20800 || bail "lab_init failed"
B=$LAB_BASE
SYS=$LAB_SYSTEM_CA
lab_upstream $((B + 10)) selfsigned.pem selfsigned.key
lab_upstream $((B + 11)) selfsigned.pem selfsigned.key
lab_upstream $((B + 12)) selfsigned.pem selfsigned.key
verify="proxy_ssl_verify on; proxy_ssl_trusted_certificate $SYS; proxy_ssl_session_reuse off;"
# a variable set from a literal, one from a request header, and the literal upstream
lab_front_raw "        location /v/ { set \$backend 127.0.0.1:$((B + 10)); proxy_pass https://\$backend; $verify }"
lab_front_raw "        location /h/ { proxy_pass https://\$http_x_backend; $verify }"
lab_front_raw "        location /g/ { proxy_pass https://127.0.0.1:$((B + 12)); $verify }"
# one snippet, two servers (the second without server_name)
SNIPPET=$LAB_DIR/front/api.inc
lab_front_raw "        include $SNIPPET;"
lab_front_http_raw "    server { listen 127.0.0.1:$((B + 1)); include $SNIPPET; location / { return 404; } }"
mkdir -p "$LAB_DIR/front"
cat >"$SNIPPET" <<EOF
        location /api/ {
            proxy_pass https://127.0.0.1:$((B + 11));
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $SYS;
        }
EOF
lab_start || bail "the lab did not start"

CONF=$(lab_front_conf)
STATE=$LAB_DIR/state
tt() {
    "$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" \
        --state-dir "$STATE" "$@" </dev/null
}

is "$(lab_curl /v/x)" 502 "/v/ (set \$backend literal) answers 502: self-signed upstream"
is "$(lab_curl /h/x -H "X-Backend: 127.0.0.1:$((B + 12))")" 502 "/h/ (\$http_x_backend) answers 502"
is "$(lab_curl /api/x)" 502 "/api/ in front.lab answers 502"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((B + 1))/api/x")" 502 \
    "/api/ in the server without server_name answers 502"
cp "$CONF" "$LAB_DIR/orig.conf"
cp "$SNIPPET" "$LAB_DIR/orig.inc"

# --- proxy_pass https://$backend: no crash, the case is shown ---
tt diagnose >"$LAB_DIR/diag.out" 2>"$LAB_DIR/diag.err"
rc=$?
is "$rc" 1 "diagnose exits 1 (incidents found), not a crash, with \$backend locations in the log"
ok "diagnose shows the /h/ case as not resolvable statically, naming /g/ as the candidate" \
    grep -q "cannot plan: proxy_pass https://\$http_x_backend: cannot resolve statically; candidates: 127.0.0.1:$((B + 12))@front.lab/g/" "$LAB_DIR/diag.out"
ok "diagnose shows the /v/ case (placed in location /v/)" \
    grep -q "where:  location /v/ in server front.lab" "$LAB_DIR/diag.out"
tt diagnose --format json >"$LAB_DIR/diag.json" 2>/dev/null
is "$?" 1 "diagnose --format json exits 1"
ok "diagnose JSON is valid and lists every upstream once per use" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
where=[(x["upstream"], x["location"]["context"]) for x in d["incidents"]]
sys.exit(len(where) != len(set(where)) or len(where) < 4)' "$LAB_DIR/diag.json"
tt fix --upstream "127.0.0.1:$((B + 12))@front.lab/h/" >"$LAB_DIR/fixh.out" 2>&1
rc=$?
ok "fix on the \$http_x_backend use does not crash (exit $rc)" test "$rc" -eq 1
ok "and says why it cannot plan" grep -q "cannot resolve statically" "$LAB_DIR/fixh.out"

# --- one upstream, a snippet in two servers: pick one ---
tt fix --upstream "127.0.0.1:$((B + 11))" >"$LAB_DIR/amb.out" 2>"$LAB_DIR/amb.err"
is "$?" 2 "fix --upstream H:P used by two servers exits 2"
ok "it lists the front.lab use" grep -q "^  127.0.0.1:$((B + 11))@front.lab/api/  location /api/ in server front.lab$" "$LAB_DIR/amb.err"
ok "and the use in the server without server_name, by its listen" \
    grep -q "^  127.0.0.1:$((B + 11))@127.0.0.1:$((B + 1))/api/  location /api/ in server (listen 127.0.0.1:$((B + 1)))$" "$LAB_DIR/amb.err"
ok "and asks to pick one" grep -q "is used in 2 places; pick one with --upstream" "$LAB_DIR/amb.err"
ok "nothing printed as a plan" test ! -s "$LAB_DIR/amb.out"
tt fix --upstream "127.0.0.1:$((B + 11))@127.0.0.1:$((B + 1))/api/" >"$LAB_DIR/pick.out" 2>&1
is "$?" 0 "fix --upstream H:P@127.0.0.1:$((B + 1))/api/ plans one use"
ok "the plan is for the server without server_name" \
    grep -q "where:  location /api/ in server (listen 127.0.0.1:$((B + 1)))" "$LAB_DIR/pick.out"
is "$(grep -c '^upstream ' "$LAB_DIR/pick.out")" 1 "exactly one case in the plan"
ok "the plan changed no byte" cmp -s "$SNIPPET" "$LAB_DIR/orig.inc"
tt diagnose --upstream "127.0.0.1:$((B + 11))" >"$LAB_DIR/d11.out" 2>&1
is "$(grep -c '^upstream ' "$LAB_DIR/d11.out")" 2 "diagnose --upstream H:P shows each of the two uses once"

# --- an incident the config cannot place: one answer, in the output itself, exit 1 ---
# The config changed after the incidents (drift): /v/ now proxies elsewhere, and no block
# proxies to the upstream the log names. Not "no incident" on stdout with a warning on stderr.
sed "s|set \$backend 127.0.0.1:$((B + 10));|set \$backend 127.0.0.1:$((B + 13));|" "$CONF" \
    >"$LAB_DIR/front/drift.conf"
ok "the drifted config no longer names 127.0.0.1:$((B + 10))" \
    bash -c '! grep -q "127.0.0.1:$1" "$2"' _ $((B + 10)) "$LAB_DIR/front/drift.conf"
dt() {
    "$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$LAB_DIR/front/drift.conf" \
        --prefix "$LAB_DIR/front/" --log "$(lab_error_log)" --state-dir "$STATE" "$@" </dev/null
}
dt diagnose >"$LAB_DIR/un.out" 2>"$LAB_DIR/un.err"
is "$?" 1 "diagnose exits 1 when the log has an incident the config cannot place"
ok "diagnose lists it on stdout as not placed, with the reason" \
    grep -q "^  where:  not placed in the config: location /v/ in server front.lab does not proxy to 127.0.0.1:$((B + 10))" "$LAB_DIR/un.out"
ok "under its upstream and kind" grep -q "^upstream 127.0.0.1:$((B + 10)) — verify_error" "$LAB_DIR/un.out"
ok "stdout never says there is no incident" bash -c '! grep -q "no upstream TLS incident" "$1"' _ "$LAB_DIR/un.out"
ok "and stderr gives no second answer about it" \
    bash -c '! grep -q "127.0.0.1:$1" "$2"' _ $((B + 10)) "$LAB_DIR/un.err"
dt diagnose --format json >"$LAB_DIR/un.json" 2>/dev/null
is "$?" 1 "diagnose --format json exits 1 too"
ok "the JSON lists it with placed false and the reason" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
u=[x for x in d["incidents"] if x["upstream"] == sys.argv[2]]
sys.exit(not (len(u) == 1 and u[0]["placed"] is False and u[0]["location"] is None
         and "does not proxy to " + sys.argv[2] in u[0]["not_placed_because"]
         and u[0]["cause"].startswith("not placed in the config: ")
         and all(x["placed"] for x in d["incidents"] if x is not u[0])))' \
    "$LAB_DIR/un.json" "127.0.0.1:$((B + 10))"
dt fix --plan --upstream "127.0.0.1:$((B + 10))" >"$LAB_DIR/unfix.out" 2>"$LAB_DIR/unfix.err"
is "$?" 1 "fix --plan exits 1 when the upstream's only incident cannot be placed"
ok "fix --plan says so on stdout, with the reason" \
    grep -q "^  where:  not placed in the config: location /v/ in server front.lab" "$LAB_DIR/unfix.out"
ok "and that nothing can be planned" \
    grep -q "^fix: nothing can be planned: 1 incident of the log is not placed in the config$" "$LAB_DIR/unfix.out"
ok "fix --plan says nothing contradicting it (no 'nothing to fix', empty stderr)" \
    bash -c '! grep -q "nothing to fix" "$1" && test ! -s "$2"' _ "$LAB_DIR/unfix.out" "$LAB_DIR/unfix.err"
rm -f "$LAB_DIR/front/drift.conf"

# --- a --log that is not a readable regular file: exit 2 for every verb, at once ---
mkfifo "$LAB_DIR/fifo.log"
mkdir "$LAB_DIR/dir.log"
for what in missing dir fifo; do
    log=$LAB_DIR/$what.log
    for verb in scan diagnose "fix --plan" "fix --apply --yes"; do
        # shellcheck disable=SC2086  # the verb's words
        timeout 20 "$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" \
            --state-dir "$STATE" --log "$log" $verb </dev/null >"$LAB_DIR/log.out" 2>"$LAB_DIR/log.err"
        is "$?" 2 "--log $what: $verb exits 2"
        ok "--log $what: $verb names the file in one line" \
            test "$(grep -c "$log" "$LAB_DIR/log.err")" -eq 1 -a "$(wc -l <"$LAB_DIR/log.err")" -eq 1
    done
done
ok "no fix was applied through a bad --log" cmp -s "$CONF" "$LAB_DIR/orig.conf"
test -z "$(ls "$STATE/journal" 2>/dev/null)"
ok "and no transaction was journaled" test $? -eq 0

# --- a config nginx -t refuses before the edit: no plan, nothing written ---
sed -i "s/^\( *\)server_name front.lab;/&\n\1bogus_directive on;/" "$CONF"
cp "$CONF" "$LAB_DIR/bad.conf"
line=$(grep -n bogus_directive "$CONF" | cut -d: -f1)
for mode in --plan "--apply --yes"; do
    # shellcheck disable=SC2086
    tt fix $mode --upstream "127.0.0.1:$((B + 12))@front.lab/g/" >"$LAB_DIR/bad.out" 2>"$LAB_DIR/bad.err"
    is "$?" 2 "fix $mode on a config nginx -t refuses exits 2"
    is "$(cat "$LAB_DIR/bad.err")" \
        "tlstriage: fix: nginx -t refuses the config before any change: [emerg] unknown directive \"bogus_directive\" in $CONF:$line" \
        "fix $mode quotes nginx's own message with file:line"
    ok "fix $mode leaves the config byte-identical" cmp -s "$CONF" "$LAB_DIR/bad.conf"
done
ok "no certificate was written" test -z "$(ls "$LAB_DIR/front/certs" 2>/dev/null)"
cp "$LAB_DIR/orig.conf" "$CONF"
is "$(lab_curl /g/x)" 502 "the running nginx was not touched: /g/ still 502"

done_testing
