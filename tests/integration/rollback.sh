# rollback.sh — rollback of any transaction against a real nginx (ports 20540-20549): two
# pins in one file, the older rolled back keeps the later one (byte for byte, nginx -t
# passes); a change whose context a later one edited is refused naming it; a rollback is
# rolled back; pin files and the certs/ directory a fix created go only when nothing names
# them; `rollback ID --yes`; history states after each; and a config nginx -t already
# refuses is neither backed up nor written.
. "$TT_SRCDIR/tests/tap.sh"
. "$TT_SRCDIR/tests/integration/txn-lib.sh"
command -v curl >/dev/null || skip_all "no curl"
command -v openssl >/dev/null || skip_all "no openssl"

txn_nginx_start 20540 20541
CERTS=$P/conf/certs

# conf PIN_A PIN_B XBODY: the lab config, with a pin in /a/ and/or /b/ (1 = present)
conf() {
    local a="" b=""
    [ "$1" = 1 ] && a="
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $CERTS/pin-a.pem;"
    [ "$2" = 1 ] && b="
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $CERTS/pin-b.pem;"
    cat <<CONF
pid logs/nginx.pid;
error_log logs/error.log notice;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    server {
        listen 127.0.0.1:20540;
        location /a/ {
            proxy_pass https://127.0.0.1:20545;$a
        }
        location /x/ { return 200 "$3\n"; }
        location /y/ { return 200 "y\n"; }
        location /z/ { return 200 "z\n"; }
        location /b/ {
            proxy_pass https://127.0.0.1:20546;$b
        }
        location / { return 200 "lab\n"; }
    }
}
CONF
}
conf 0 0 x > "$T/v1"        # as found
conf 1 0 x > "$T/v2"        # fix A: pin a
conf 1 1 x > "$T/v3"        # fix B: pin b
conf 1 1 x3 > "$T/v4"       # change C: edits a line within A's context
conf 0 1 x > "$T/v13"       # v3 without A
for n in a b; do
    openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=pin-$n" -days 2 \
        -keyout "$T/$n.key" -out "$T/$n.pem" 2>/dev/null || bail "openssl req failed"
done

cp "$T/v1" "$CONF"
"$NGINX_BIN" -p "$P/" -c "$CONF" -s reload || bail "reload of the lab config failed"
is "$(txn_get_until 20540 lab)" lab "the lab nginx serves the config as found"

txn_id() { sed -n 's/^rc=0 state=done id=//p' <<<"$1"; }
nginx_t() { "$NGINX_BIN" -p "$P/" -c "$CONF" -t >/dev/null 2>&1; }
# history_states ID...: "STATE[/rolled_back_by][<reverts]" per id
history_states() {
    tt history --format json | python3 -c 'import json,sys
t={x["id"]:x for x in json.load(sys.stdin)["transactions"]}
out=[]
for i in sys.argv[1:]:
    x=t.get(i)
    if x is None: out.append("missing"); continue
    s=x["state"]
    if x["rolled_back_by"]: s+="/"+x["rolled_back_by"]
    if x["reverts"]: s+="<"+x["reverts"]
    out.append(s)
print(" ".join(out))' "$@"
}
entries() { ls -A "$1" 2>/dev/null | wc -l; }

# 1. three changes to one file: A (pin a, certs/ created), B (pin b), C (a line near A)
out=$(txn_apply "$CONF" "$T/v2" "$CERTS/pin-a.pem" "$T/a.pem" 2>"$T/err")
A=$(txn_id "$out")
ok "fix A applied ($out)" test -n "$A"
ok "A created certs/ for its pin" test -d "$CERTS" -a -f "$CERTS/pin-a.pem"
out=$(txn_apply "$CONF" "$T/v3" "$CERTS/pin-b.pem" "$T/b.pem" 2>"$T/err")
B=$(txn_id "$out")
ok "fix B applied ($out)" test -n "$B"
out=$(txn_apply "$CONF" "$T/v4" 2>"$T/err")
C=$(txn_id "$out")
ok "change C applied ($out)" test -n "$C"
is "$(txn_get_until 20540/x/ x3)" x3 "nginx serves C"

# 2. A's context was edited by C: refused, naming C, nothing written or journaled
njournal=$(entries "$STATE/journal")
nbackups=$(entries "$STATE/backups")
tt rollback "$A" --yes </dev/null >"$T/out" 2>"$T/err"
is "$?" 1 "rollback of A under C is refused"
ok "the refusal names C to roll back first" grep -q "roll back first: $C" "$T/err"
ok "and not B, which is not in the way" test -z "$(grep -F "$B" "$T/err")"
ok "and the line of A's change" grep -q "the change at line 11 is not there any more" "$T/err"
ok "nothing was written" cmp -s "$CONF" "$T/v4"
is "$(entries "$STATE/journal") $(entries "$STATE/backups")" "$njournal $nbackups" \
    "nothing was journaled or backed up"
is "$(history_states "$A" "$B" "$C")" "done done done" "history: A, B, C still done"

# 3. rollback ID --yes (options after the id): C goes
tt rollback "$C" --yes </dev/null >"$T/out" 2>"$T/err"
is "$?" 0 "rollback C --yes succeeds"
ok "the file is B's bytes again" cmp -s "$CONF" "$T/v3"
is "$(txn_get_until 20540/x/ x)" x "nginx serves x again"

# 4. A out, B kept: byte for byte, pin a gone, pin b and certs/ kept, nginx -t passes
tt rollback "$A" --yes </dev/null >"$T/out" 2>"$T/err"
is "$?" 0 "rollback of the older fix A succeeds"
ok "B's change is still there, A's is gone (byte for byte)" cmp -s "$CONF" "$T/v13"
ok "pin a is removed" test ! -e "$CERTS/pin-a.pem"
ok "pin b is kept" cmp -s "$CERTS/pin-b.pem" "$T/b.pem"
ok "nginx -t passes" nginx_t
RA=$(sed -n 's/^rollback: transaction \([0-9-]*\) done.*/\1/p' "$T/out")
ok "the rollback is a transaction of its own ($RA)" test -n "$RA"
is "$(history_states "$A" "$B" "$RA")" "rolled-back/$RA done done<$A" \
    "history: A rolled back by its rollback, B done"

# 5. the rollback rolled back (old option order): A's lines and pin a are back
tt rollback --yes "$RA" </dev/null >"$T/out" 2>"$T/err"
is "$?" 0 "rollback of the rollback succeeds"
ok "the file is byte-identical to after B" cmp -s "$CONF" "$T/v3"
ok "pin a is back, byte for byte" cmp -s "$CERTS/pin-a.pem" "$T/a.pem"
RRA=$(sed -n 's/^rollback: transaction \([0-9-]*\) done.*/\1/p' "$T/out")
is "$(history_states "$A" "$RA" "$RRA")" "rolled-back/$RA rolled-back/$RRA<$A done<$RA" \
    "history: the rollback rolled back by a transaction of its own"
tt rollback "$A" --yes </dev/null >/dev/null 2>"$T/err"
ok "rolling A back again points at the rollback that put it back" grep -q "roll back $RRA" "$T/err"

# 6. --last: B; pin b goes, pin a stays (a line names it), nginx -t passes
tt rollback --last --yes </dev/null >"$T/out" 2>"$T/err"
is "$?" 0 "rollback --last succeeds"
ok "the file is byte-identical to after A" cmp -s "$CONF" "$T/v2"
ok "pin b is removed" test ! -e "$CERTS/pin-b.pem"
ok "pin a is kept" cmp -s "$CERTS/pin-a.pem" "$T/a.pem"
ok "nginx -t passes after --last" nginx_t
RB=$(sed -n 's/^rollback: transaction \([0-9-]*\) done.*/\1/p' "$T/out")
is "$(history_states "$B" "$RB")" "rolled-back/$RB done<$B" "history: B rolled back by --last"

# 7. the re-applied A out again: the very first bytes, pin a and certs/ gone
tt rollback "$RRA" --yes </dev/null >"$T/out" 2>"$T/err"
is "$?" 0 "rollback of the re-apply succeeds"
ok "the config is byte-identical to the one found" cmp -s "$CONF" "$T/v1"
ok "pin a is removed" test ! -e "$CERTS/pin-a.pem"
ok "the empty certs/ directory a fix created is removed" test ! -e "$CERTS"
ok "nginx -t passes at the end" nginx_t
is "$(txn_get_until 20540/ lab)" lab "nginx serves the config as found"
ok "nothing is reported unfinished" test -z "$(tt history 2>&1 >/dev/null)"

# 8. a config nginx -t already refuses: the fix stops with nginx's message, writes nothing
sed 's/access_log off;/access_log off;\n    no_such_directive on;/' "$T/v1" > "$T/bad"
cp "$T/bad" "$CONF"
njournal=$(entries "$STATE/journal")
nbackups=$(entries "$STATE/backups")
out=$(txn_apply "$CONF" "$T/v2" "$CERTS/pin-a.pem" "$T/a.pem" 2>"$T/err")
is "$out" "rc=-7 state=aborted id=-" "the apply stops before writing"
ok "with nginx's own message, file:line" \
    grep -q "unknown directive \"no_such_directive\" in $CONF:7" "$T/err"
ok "the config is untouched" cmp -s "$CONF" "$T/bad"
ok "no pin file, no certs/ directory" test ! -e "$CERTS"
is "$(entries "$STATE/journal") $(entries "$STATE/backups")" "$njournal $nbackups" \
    "no journal entry and no backup"
cp "$T/v1" "$CONF"

done_testing
