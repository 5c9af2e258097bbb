# txn.sh — the transaction end to end against a real nginx (ports 20500-20509): apply →
# nginx -t → reload confirmed by new workers; nginx -t failure and a refused reload roll
# back by themselves; rollback --last restores byte for byte; history newest first.
. "$TT_SRCDIR/tests/tap.sh"
. "$TT_SRCDIR/tests/integration/txn-lib.sh"
command -v curl >/dev/null || skip_all "no curl"

txn_nginx_start 20500 20501
cp "$CONF" "$T/v1.conf"
is "$(txn_get_until 20500 v1)" v1 "the lab nginx answers with the first config"

# 1. a change that passes: written, tested, reloaded, confirmed by new workers
txn_main_conf 20500 v2 > "$T/v2.conf"
before=$(txn_workers)
out=$(txn_apply "$CONF" "$T/v2.conf" 2>"$T/err")
is "$out" "rc=0 state=done id=${out##*id=}" "apply reports done"
ok "the config holds the new bytes" cmp -s "$CONF" "$T/v2.conf"
after=$(txn_workers)
ok "nginx has new worker processes ($before -> $after)" test -n "$after" -a "$before" != "$after"
is "$(txn_get_until 20500 v2)" v2 "nginx serves the new config"
ok "the progress names the confirmation" grep -q "confirm  ok: new worker processes" "$T/err"
ok "no temp file is left next to the config" test -z "$(ls -A "$P/conf" | grep tlstriage)"

# 2. nginx -t fails (an unknown directive): rolled back, original bytes, no reload
sed 's/access_log off;/access_log off;\n    no_such_directive on;/' "$T/v2.conf" > "$T/bad.conf"
before=$(txn_workers)
out=$(txn_apply "$CONF" "$T/bad.conf" 2>"$T/err")
ok "nginx -t failure is reported as such ($out)" grep -q '^rc=-4 state=rolled-back' <<<"$out"
ok "the original bytes are back" cmp -s "$CONF" "$T/v2.conf"
ok "nginx's own message is shown" grep -q 'unknown directive "no_such_directive"' "$T/err"
is "$(txn_workers)" "$before" "nginx was not reloaded"

# 3. nginx -t fails because a certificate is missing: same
sed "s|listen 127.0.0.1:20500;|listen 127.0.0.1:20500; ssl_certificate $T/none.pem; ssl_certificate_key $T/none.key;|; s|listen 127.0.0.1:20500 |&|" "$T/v2.conf" \
    | sed 's|listen 127.0.0.1:20500;|listen 127.0.0.1:20500 ssl;|' > "$T/nocert.conf"
out=$(txn_apply "$CONF" "$T/nocert.conf" 2>"$T/err")
ok "an unreadable certificate fails nginx -t and rolls back ($out)" grep -q '^rc=-4 state=rolled-back' <<<"$out"
ok "the original bytes are back after the certificate failure" cmp -s "$CONF" "$T/v2.conf"

# 4. nginx -t passes but the reload is refused (the port is taken): rolled back and
#    reloaded again; nginx -s reload exits 0 all the same
python3 -c 'import socket,time,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1",20502)); s.listen(1); sys.stdout.write("ready\n"); sys.stdout.flush(); time.sleep(60)' > "$T/busy" &
TXN_BG_PIDS=$!
for _ in $(seq 1 40); do grep -q ready "$T/busy" 2>/dev/null && break; sleep 0.05; done
sed 's/include sites-enabled/server { listen 127.0.0.1:20502; return 200; }\n    include sites-enabled/' "$T/v2.conf" > "$T/busy.conf"
out=$(txn_apply "$CONF" "$T/busy.conf" 2>"$T/err")
ok "a refused reload is caught from the error log ($out)" grep -q '^rc=-5 state=rolled-back' <<<"$out"
ok "the log line is shown" grep -q 'bind() to 127.0.0.1:20502 failed' "$T/err"
ok "the original bytes are back after the refused reload" cmp -s "$CONF" "$T/v2.conf"
is "$(txn_get_until 20500 v2)" v2 "nginx still serves the config it had"
kill "$TXN_BG_PIDS" 2>/dev/null

# 5. a symlinked site, in a 0640 root:www-data (or nogroup) file: link, mode, owner kept
site=$P/conf/sites-available/api
group=www-data
getent group www-data >/dev/null || group=nogroup
if [ "$(id -u)" = 0 ]; then chown "root:$group" "$site"; fi
chmod 0640 "$site"
cp "$site" "$T/site1"
sed 's/site1/site2/' "$T/site1" > "$T/site2"
before=$(txn_workers)
out=$(txn_apply "$P/conf/sites-enabled/api" "$T/site2" 2>"$T/err")
ok "the site change through its symlink is applied ($out)" grep -q '^rc=0 state=done' <<<"$out"
ok "sites-enabled/api is still a symlink" test -L "$P/conf/sites-enabled/api"
ok "its target holds the new bytes" cmp -s "$site" "$T/site2"
is "$(stat -c %a "$site")" 640 "the mode 0640 is kept"
if [ "$(id -u)" = 0 ]; then
    is "$(stat -c %U:%G "$site")" "root:$group" "the owner root:$group is kept"
else
    ok "# SKIP owner check needs root" true
fi
is "$(txn_get_until 20501 site2)" site2 "nginx serves the new site"

# 6. rollback --last: without --yes and without a terminal it refuses with exit 2
tt rollback --last </dev/null >/dev/null 2>"$T/err"
is "$?" 2 "rollback without --yes and no terminal exits 2"
ok "and says to pass --yes" grep -q -- "--yes" "$T/err"
before=$(txn_workers)
tt rollback --last --yes </dev/null >"$T/out" 2>"$T/err"
is "$?" 0 "rollback --last --yes succeeds"
ok "the site is byte-identical to before" cmp -s "$site" "$T/site1"
ok "and still a symlink with mode 0640" test -L "$P/conf/sites-enabled/api" -a "$(stat -c %a "$site")" = 640
ok "rollback reloaded nginx (new workers)" test "$(txn_workers)" != "$before"
ok "rollback says the reload was confirmed" grep -q "new workers confirmed" "$T/out"
is "$(txn_get_until 20501 site1)" site1 "nginx serves the old site again"

# 7. rollback by id of the first change
first=$(tt history --format json | python3 -c 'import json,sys
t=json.load(sys.stdin)["transactions"]
print([x["id"] for x in t if x["kind"]=="apply" and x["state"]=="done"][-1])')
tt rollback --yes "$first" </dev/null >/dev/null 2>"$T/err"
is "$?" 0 "rollback ID restores the first change"
ok "the main config is byte-identical to the very first" cmp -s "$CONF" "$T/v1.conf"
is "$(txn_get_until 20500 v1)" v1 "nginx serves v1 again"
tt rollback --yes "$first" </dev/null >/dev/null 2>"$T/err"
is "$?" 1 "rolling back the same change twice is refused"
ok "saying who rolled it back" grep -q "already rolled back" "$T/err"

# 8. history: newest first, text and JSON
tt history > "$T/hist.txt"
is "$?" 0 "history exits 0"
ids=$(grep -E '^[0-9]{8}-[0-9]{6}-[0-9]{3} ' "$T/hist.txt" | cut -d' ' -f1)
is "$(echo "$ids" | wc -l)" 7 "history lists the seven transactions"
is "$ids" "$(echo "$ids" | sort -r)" "newest first"
ok "the text names states and the rollback" grep -q "rolled-back.*rolled back by" "$T/hist.txt"
tt history --format json > "$T/hist.json"
json_valid() { python3 -m json.tool "$1" >/dev/null 2>&1; }
ok "history JSON is valid" json_valid "$T/hist.json"
is "$(python3 -c 'import json,sys
t=json.load(open(sys.argv[1]))["transactions"]
ids=[x["id"] for x in t]
print(len(t), ids==sorted(ids, reverse=True), t[0]["kind"], t[0]["state"], t[0]["reverts"]==sys.argv[2])' "$T/hist.json" "$first")" \
    "7 True rollback done True" "JSON: seven entries, newest first, the last is the rollback of the first change"
tt history --format yaml >/dev/null 2>&1
is "$?" 2 "an unknown format is a usage error"
ok "nothing is reported unfinished" test -z "$(tt history 2>&1 >/dev/null)"

done_testing
