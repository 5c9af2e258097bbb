# report.sh — `tlstriage report` after a real outage and fix on the lab's nginx (ports
# 22500-22549): the front answers 502 for a self-signed upstream, `fix --apply --yes` makes it
# 200, and the report's timeline holds the first failure and every journaled step of that
# transaction with its time, time to detect and to fix, the diff (fenced), and the client
# address and server name redacted while the upstream stays. After `rollback --last` the
# rollback is in the report and the fix no longer counts as the verified fix.
. "$TT_SRCDIR/tests/tap.sh"
command -v curl >/dev/null || skip_all "no curl"
command -v jq >/dev/null || skip_all "no jq"
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
[ -x "$NGINX_BIN" ] || skip_all "no nginx binary"
unset NGINX
. "$LAB/lab.sh"

lab_init 22500 || bail "lab_init failed"
B=$LAB_BASE
SYS=$LAB_SYSTEM_CA
lab_upstream $((B + 10)) selfsigned.pem selfsigned.key
lab_front_location classic $((B + 10)) "proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $SYS;"
lab_start || bail "the lab did not start"

CONF=$(lab_front_conf)
STATE=$LAB_DIR/state
tt() {
    "$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" \
        --state-dir "$STATE" "$@" </dev/null
}
UP=127.0.0.1:$((B + 10))
jqok() { jq -e "$@" >/dev/null; }

is "$(lab_curl /s/classic)" 502 "/s/classic answers 502 before the fix"
is "$(lab_curl /s/classic)" 502 "and again (two events)"
tt report --format json >"$LAB_DIR/before.json" 2>"$LAB_DIR/before.err"
is "$?" 0 "report before any fix exits 0"
is "$(jq -r '.incidents | length' "$LAB_DIR/before.json")" 1 "one incident from the front's error log"
is "$(jq -r '.incidents[0].upstream, .incidents[0].count' "$LAB_DIR/before.json" | tr '\n' ' ')" \
    "$UP 2 " "its upstream (kept) and count"
is "$(jq -r '.summary.time_to_fix_s, (.transactions | length)' "$LAB_DIR/before.json" | tr '\n' ' ')" \
    "null 0 " "no transaction yet: no time to fix"

ok "offline by default: no probe" jqok '.incidents[0].probe == null' "$LAB_DIR/before.json"
tt report --probe --format json >"$LAB_DIR/probe.json" 2>"$LAB_DIR/probe.err"
is "$?" 0 "report --probe exits 0"
is "$(jq -r '.incidents[0].probe.verdict' "$LAB_DIR/probe.json")" verify_error \
    "--probe: the live probe gives nginx's verdict"
ok "and nginx's message" jqok '.incidents[0].probe.message | test("self-signed certificate")' \
    "$LAB_DIR/probe.json"
sleep 1 # the fix starts a second after the first failure at least
tt fix --apply --yes --watch 0 --upstream "$UP" >"$LAB_DIR/fix.out" 2>"$LAB_DIR/fix.err"
is "$?" 0 "fix --apply --yes succeeds"
is "$(lab_curl /s/classic)" 200 "/s/classic answers 200 after the fix"
ID=$(jq -r '.transactions[0].id' <(tt history --format json))

tt report --format json >"$LAB_DIR/r.json" 2>"$LAB_DIR/r.err"
is "$?" 0 "report --format json exits 0 after the fix"
ok "it parses" jqok . "$LAB_DIR/r.json"
is "$(jq -r '.transactions[0].id, .transactions[0].state, .transactions[0].upstream' "$LAB_DIR/r.json" | tr '\n' ' ')" \
    "$ID done $UP " "the journal's transaction is in the report: id, state, upstream"
is "$(jq -r '.transactions[0].steps | length' "$LAB_DIR/r.json")" \
    "$(grep -c '^- step: ' "$STATE/journal/$ID.yaml")" \
    "every step record of the journal is in the report"
for s in test confirm verify; do
    ok "the $s step is there with a time" \
        jqok --arg s "$s" '[.transactions[0].steps[] | select(.step == $s and .status == "done")
            | .time | test("^20[0-9-]+T[0-9:]+Z$")] | any' "$LAB_DIR/r.json"
    ok "and in the timeline" \
        jqok --arg s "$s" '[.timeline[] | select(.event == "step" and (.detail | startswith($s + " done")))] | length == 1' \
        "$LAB_DIR/r.json"
done
ok "the reload was sent (its start is journaled; the confirm step ends it)" \
    jqok '[.transactions[0].steps[] | select(.step == "reload")] | length >= 1' "$LAB_DIR/r.json"
ok "the timeline starts with the first failure and holds the verified fix" \
    jqok '.timeline[0].event == "first failure" and ([.timeline[] | select(.event == "verified fix")] | length == 1)' \
    "$LAB_DIR/r.json"
ok "the timeline is in time order" jqok '[.timeline[].time] as $t | $t == ($t | sort)' \
    "$LAB_DIR/r.json"
ok "time to detect is at least a second and time to fix not less" \
    jqok '.summary.time_to_detect_s >= 1 and .summary.time_to_fix_s >= .summary.time_to_detect_s' \
    "$LAB_DIR/r.json"
ok "the first action is the fix" jqok --arg id "$ID" '.summary.first_action_id == $id' \
    "$LAB_DIR/r.json"
ok "the incident's own time to fix is the report's" \
    jqok '.incidents[0].time_to_fix_s == .summary.time_to_fix_s' "$LAB_DIR/r.json"
is "$(jq -c '.incidents[0].clients' "$LAB_DIR/r.json")" '["ip-1"]' "the client (127.0.0.1) is a placeholder"
ok "the server name front.lab appears nowhere" sh -c "! grep -q 'front\\.lab' '$LAB_DIR/r.json'"
tt report --no-redact --format json >"$LAB_DIR/raw.json"
ok "with --no-redact it does" grep -q 'front\.lab' "$LAB_DIR/raw.json"

tt report -o "$LAB_DIR/r.md" 2>"$LAB_DIR/md.err"
is "$?" 0 "report -o FILE (Markdown) exits 0"
is "$(stat -c %a "$LAB_DIR/r.md")" 600 "the file is 0600"
ok "the Markdown has the timeline table" grep -q '^| Time (UTC) | Event | Subject | Detail |$' "$LAB_DIR/r.md"
ok "a row for the confirmed reload, with its time" \
    grep -qE "^\| 20[0-9-]+T[0-9:]+Z \| step \| $ID \| confirm done" "$LAB_DIR/r.md"
ok "the diff is fenced" grep -q '^```diff$' "$LAB_DIR/r.md"
ok "and holds the edit as it is" grep -q '^+ *proxy_ssl_name selfsigned.lab;$' "$LAB_DIR/r.md"
ok "the pinned certificate's body is shortened" grep -q 'lines of the certificate not shown' "$LAB_DIR/r.md"

tt rollback --last --yes >/dev/null 2>&1
is "$?" 0 "rollback --last --yes succeeds"
tt report --format json >"$LAB_DIR/rb.json"
is "$(jq -r '.transactions | map(.kind) | join(",")' "$LAB_DIR/rb.json")" "apply,rollback" \
    "the rollback follows the fix in the report"
is "$(jq -r --arg id "$ID" '.transactions[1].reverts == $id, .summary.time_to_fix_s' "$LAB_DIR/rb.json" | tr '\n' ' ')" \
    "true null " "it names the fix it undid, and a rolled-back fix is no time to fix"
tt report --since 1m --format json >"$LAB_DIR/since.json"
tt report --since "2099-01-01 00:00" --format json >"$LAB_DIR/future.json"
is "$(jq -r '(.incidents | length), (.transactions | length)' "$LAB_DIR/future.json" | tr '\n' ' ')" \
    "0 0 " "--since after everything: no incidents, no transactions"

done_testing
