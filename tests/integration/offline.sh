#!/usr/bin/env bash
# offline.sh — `fix --block` and `check --block`, the offline fast path (ports 22300-22349):
# blocks cut from the lab's front config and chains captured from its upstreams with
# `openssl s_client -showcerts`; the offline plan must name the same strategy and the same
# directive lines as the online `fix --plan` for the same upstream, while running no nginx,
# connecting nowhere (strace) and writing nothing (checksums of the tree and the state dir,
# strace of file syscalls). Also: stdin, CRLF, one-line blocks, the log line, bad input,
# and check --block against check --conf on the config fixtures.
. "$TT_SRCDIR/tests/tap.sh"
command -v openssl >/dev/null || skip_all "no openssl"
command -v python3 >/dev/null || skip_all "no python3"
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
[ -x "$NGINX_BIN" ] || skip_all "no nginx binary"
unset NGINX
. "$LAB/lab.sh"

lab_init 22300 || bail "lab_init failed"
C=$LAB_CERTS
B=$LAB_BASE
SYS=$LAB_SYSTEM_CA
loc() {
    local name=$1 port=$2 lines="" d
    shift 2
    for d in "$@"; do lines+="$d;"$'\n            '; done
    lab_front_location "$name" "$port" "$lines"
}
lab_upstream $((B + 10)) selfsigned.pem selfsigned.key
lab_upstream $((B + 12)) api-chain.pem api.key
lab_upstream $((B + 13)) api-chain.pem api.key
lab_upstream $((B + 14)) api-chain.pem api.key
lab_upstream $((B + 16)) deep-chain.pem deep.key
lab_upstream $((B + 20)) selfsigned.pem selfsigned.key
loc classic $((B + 10)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $SYS"
loc ca $((B + 12)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $SYS" "proxy_ssl_name api.lab"
loc name $((B + 13)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $C/root.pem"
loc fine $((B + 14)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $C/root.pem" \
    "proxy_ssl_name api.lab"
loc depth $((B + 16)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $C/root2.pem" \
    "proxy_ssl_name deep.lab"
loc verifyoff $((B + 20)) "proxy_ssl_verify off"
lab_start || bail "the lab did not start"

CONF=$(lab_front_conf)
STATE=$LAB_DIR/state
W=$LAB_DIR/work
CD=$LAB_DIR/front/certs
mkdir -p "$STATE" "$W"
tt() {
    "$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" \
        --state-dir "$STATE" "$@" </dev/null
}
# the offline verb: no --conf, no nginx; the state dir is given so that a write would show
off() { "$TLSTRIAGE" --state-dir "$STATE" "$@"; }
port_of() { case $1 in classic) echo $((B + 10)) ;; ca) echo $((B + 12)) ;; name) echo $((B + 13)) ;;
    fine) echo $((B + 14)) ;; depth) echo $((B + 16)) ;; verifyoff) echo $((B + 20)) ;; esac; }
extra_of() { [ "$1" = ca ] && echo "--ca $C/root.pem"; }
# the location block as written in the front config
cut_block() { awk -v s="location = /s/$1 {" 'index($0, s) { on = 1 } on { print } on && /^        }$/ { exit }' "$CONF"; }
# "directive value" of each proxy_ssl_ line a diff adds or removes, sorted
diff_lines() { grep -E '^[+-] *proxy_ssl_' | sed -E 's/^([+-]) */\1/; s/;$//' | sort; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

NAMES="classic ca name fine depth verifyoff"
for n in $NAMES; do
    cut_block "$n" >"$W/$n.conf"
    openssl s_client -showcerts -noservername -connect "127.0.0.1:$(port_of "$n")" \
        </dev/null >"$W/$n.chain" 2>/dev/null
done
is "$(grep -c 'BEGIN CERTIFICATE' "$W/depth.chain")" 3 "s_client -showcerts captured the 3 certificates of the deep chain"
is "$(head -1 "$W/classic.conf" | sed 's/^ *//')" "location = /s/classic {" "the block is cut from the front config"

# the whole lab tree but nginx's logs and pids and what this script writes (outputs in $W)
snap() {
    local not=(-path ./front/logs -prune -o -path ./up/logs -prune -o -path ./peers -prune -o
        -name '*.pid' -prune -o -path './work/*.json' -prune -o -path './work/*.err' -prune -o
        -path './work/*.online' -prune -o -path './work/*.txt' -prune -o
        -path './work/*.trace' -prune -o)
    (cd "$LAB_DIR" && find . "${not[@]}" -print | sort &&
        find . "${not[@]}" -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum
}
# the online plans first (they probe; nginx may touch its own files meanwhile)
declare -A ORC
for n in $NAMES; do
    # shellcheck disable=SC2046
    tt fix --upstream "127.0.0.1:$(port_of "$n")" --plan --cert-dir "$CD" $(extra_of "$n") \
        >"$W/$n.online" 2>&1
    ORC[$n]=$?
done
before=$(snap)

# --- offline against online, scenario by scenario ---
for n in $NAMES; do
    orc=${ORC[$n]}
    # shellcheck disable=SC2046
    off fix --block "$W/$n.conf" --peer-chain "$W/$n.chain" --cert-dir "$CD" $(extra_of "$n") \
        --format json >"$W/$n.json" 2>"$W/$n.err"
    frc=$?
    online_id=$(sed -n 's/^fix \([a-z+]*\):$/\1/p' "$W/$n.online")
    if [ "$n" = fine ]; then
        is "$online_id" "" "fine: online, nothing to fix"
        is "$frc" 0 "fine: offline exit 0"
        is "$(json "print(d['uses'][0]['verdict'], len(d['uses'][0]['fixes']))" <"$W/$n.json")" "ok 0" \
            "fine: judged ok offline, no fix"
        continue
    fi
    ok "$n: the online plan has a fix ($online_id)" test -n "$online_id"
    is "$(json "print(d['uses'][0]['fixes'][0]['fix']['id'])" <"$W/$n.json")" "$online_id" \
        "$n: offline proposes the same strategy as online ($online_id)"
    is "$(json "print(d['uses'][0]['fixes'][0]['fix']['verified'])" <"$W/$n.json")" True \
        "$n: offline verified it against the captured chain"
    is "$(json "print(d['uses'][0]['fixes'][0]['input_diff'])" <"$W/$n.json" | diff_lines)" \
        "$(diff_lines <"$W/$n.online")" "$n: the same directive lines as the online plan"
    is "$frc/$orc" 0/0 "$n: both exit 0"
done
is "$(json "print(d['uses'][0]['nginx_message'])" <"$W/classic.json")" \
    "upstream SSL certificate verify error: (18:self-signed certificate)" \
    "classic: the offline verdict is nginx's own message"
is "$(json "print(d['uses'][0]['fixes'][0]['new_files'][0]['written'])" <"$W/classic.json")" False \
    "classic: the pin file is shown, not written"
cmp -s <(json "print(d['uses'][0]['fixes'][0]['new_files'][0]['content'], end='')" <"$W/classic.json") \
    <(openssl x509 -in "$C/selfsigned.pem")
is "$?" 0 "classic: the pin file's content is the upstream's certificate"

# --- nothing written, nothing connected ---
is "$(snap)" "$before" "the lab tree, the work dir and the state dir are byte for byte unchanged"
is "$(find "$STATE" -mindepth 1 | wc -l)" 0 "the state dir is still empty (no journal)"
ok "no certificate directory was created" test ! -e "$CD"
if command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null; then
    # LeakSanitizer cannot run under ptrace (an ASan build): it would fail, and write its
    # report, which the file trace would then see. (A sanitizer's log_path makes it mkdir
    # the directories that exist: a mkdir failing with EEXIST creates nothing.)
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    strace -f -qq -e trace=connect,sendto -o "$W/net.trace" "$TLSTRIAGE" --state-dir "$STATE" fix \
        --block "$W/classic.conf" --peer-chain "$W/classic.chain" --cert-dir "$CD" >/dev/null 2>&1
    is "$(grep -c -E 'connect\(|sendto\(' "$W/net.trace")" 0 "strace: no connect() (nor sendto)"
    strace -f -qq -e trace=%file -o "$W/file.trace" "$TLSTRIAGE" --state-dir "$STATE" fix \
        --block "$W/classic.conf" --peer-chain "$W/classic.chain" --cert-dir "$CD" >/dev/null 2>&1
    is "$(grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|(^|[ ])(creat|mkdir|mkdirat|unlink|unlinkat|rename|renameat2?|link|linkat|symlink|symlinkat|truncate)\(' "$W/file.trace" | grep -v '"/dev/null"' | grep -v '= -1 EEXIST' | head -3)" \
        "" "strace: no file opened for writing, created, renamed or removed"
    ok "strace saw the file syscalls" test -s "$W/file.trace"
else
    ok "# SKIP strace cannot trace here" true
fi

# --- stdin, CRLF, one-line blocks, several blocks, the log line ---
off fix --block - --peer-chain "$W/classic.chain" --cert-dir "$CD" --format json \
    <"$W/classic.conf" >"$W/stdin.json"
is "$(json "u=d['uses'][0]; print(d['input'], u['file'], u['line'], u['fixes'][0]['fix']['id'])" \
    <"$W/stdin.json")" "- - 1 $(json "print(d['uses'][0]['fixes'][0]['fix']['id'])" <"$W/classic.json")" \
    "stdin (-): the same plan, file:line naming the input"
sed 's/$/\r/' "$W/name.conf" >"$W/crlf.conf"
off fix --block "$W/crlf.conf" --peer-chain "$W/name.chain" --format json >"$W/crlf.json"
is "$(json "b=d['uses'][0]['fixes'][0]['corrected_block']; print(d['crlf'], b.count('\r\n') == b.count('\n'), 'proxy_ssl_name api.lab;' in b)" <"$W/crlf.json")" \
    "True True True" "CRLF input: the corrected block keeps CRLF line ends and names api.lab"
tr -s ' \n' ' ' <"$W/depth.conf" >"$W/oneline.conf"
echo >>"$W/oneline.conf"
is "$(wc -l <"$W/oneline.conf")" 1 "the one-line block is one line"
off fix --block "$W/oneline.conf" --peer-chain "$W/depth.chain" --format json >"$W/oneline.json"
is "$(json "f=d['uses'][0]['fixes'][0]; print(f['fix']['id'], f['fix']['verified'], 'proxy_ssl_verify_depth 2;' in f['corrected_block'])" <"$W/oneline.json")" \
    "depth True True" "a one-line block: fixed on its line, verified"
cat "$W/fine.conf" "$W/name.conf" >"$W/two.conf"
off fix --block "$W/two.conf" --peer-chain "$W/name.chain" --format json >"$W/two.json"
is "$(json "print([(u['line'], u['verdict']) for u in d['uses']])" <"$W/two.json")" \
    "[(1, 'ok'), ($(($(wc -l <"$W/fine.conf") + 1)), 'name_mismatch')]" \
    "two blocks pasted together: each judged, lines of the input"
# the log line nginx writes for the depth scenario (as in the lab's fixture)
LINE='2026/12/04 21:00:00 [error] 77#77: *5 upstream SSL certificate verify error: (22:certificate chain too long) while SSL handshaking to upstream, client: 127.0.0.1, server: front.lab, request: "GET /s/depth HTTP/1.1", upstream: "https://127.0.0.1:'$((B + 16))'/s/depth", host: "front.lab"'
cat "$W/fine.conf" "$W/depth.conf" >"$W/three.conf"
off fix --block "$W/three.conf" --log-line "$LINE" --format json >"$W/log.json"
rc=$?
is "$(json "f=d['uses'][0]['fixes'][0]; print(d['log_upstream'], len(d['uses']), f['fix']['id'], f['fix']['not_verified_because'], 'proxy_ssl_verify_depth 2;' in f['corrected_block'])" <"$W/log.json")" \
    "127.0.0.1:$((B + 16)) 1 depth not verified: no chain given True" \
    "--log-line picks the use it names; without a chain: depth, not verified: no chain given"
is "$rc" 1 "unverified: exit 1"
LINE='2026/12/04 21:00:00 [error] 77#77: *5 upstream SSL certificate does not match "127.0.0.1" while SSL handshaking to upstream, client: 127.0.0.1, server: front.lab, request: "GET /s/name HTTP/1.1", upstream: "https://127.0.0.1:'$((B + 13))'/s/name", host: "front.lab"'
off fix --block "$W/two.conf" --log-line "$LINE" --peer-chain "$W/name.chain" >"$W/log.txt"
like() { case $1 in *"$2"*) ok "$3" true ;; *) ok "$3" false; echo "# got: $1" | head -20 ;; esac; }
like "$(cat "$W/log.txt")" "fix name: verified offline against the given chain" \
    "--log-line with the chain: the name fix, verified"
off fix --block "$W/classic.conf" >"$W/nochain.txt"
like "$(cat "$W/nochain.txt")" "not judged: no chain given" "no chain, no log line: not judged"
sed "s#$SYS#/nonexistent/ca-bundle.pem#" "$W/classic.conf" >"$W/missing.conf"
off fix --block "$W/missing.conf" --peer-chain "$W/classic.chain" --cert-dir "$CD" >"$W/missing.txt"
like "$(cat "$W/missing.txt")" "/nonexistent/ca-bundle.pem ($W/missing.conf:5): the file is not here" "a trusted file that is not here is named"
like "$(cat "$W/missing.txt")" "judged as trusting nothing" "... and judged as trusting nothing"
like "$(cat "$W/missing.txt")" "would create $CD/pin-" "... and the pin creates a new trust file (shown)"

printf 'upstream pool {\n    server 127.0.0.1:%s;\n}\n' $((B + 10)) >"$W/up.conf"
out=$(off fix --block "$W/up.conf" --peer-chain "$W/classic.chain")
rc=$?
like "$out" "read as upstream block(s) inside http { ... }" "an upstream block alone is read in http"
like "$out" "paste that block with it" "... and it says the proxy_ssl_* go in the block that proxies to it"
is "$rc" 0 "... exit 0 (nothing fails)"
printf 'upstream pool {\n    server 127.0.0.1:%s;\n}\n' $((B + 10)) | cat - "$W/classic.conf" |
    sed 's#proxy_pass https://127.0.0.1:[0-9]*;#proxy_pass https://pool;#' >"$W/pool.conf"
off fix --block "$W/pool.conf" --peer-chain "$W/classic.chain" --cert-dir "$CD" --format json >"$W/pool.json"
is "$(json "u=d['uses'][0]; print(d['read_as'], u['upstream'], u['line'], u['fixes'][0]['fix']['id'], u['fixes'][0]['fix']['verified'])" <"$W/pool.json")" \
    "location 127.0.0.1:$((B + 10)) 4 pin+name True" \
    "an upstream block pasted with its location: the group's server judged, the location fixed"

printf 'location /\033[31mred {\n    proxy_pass https://127.0.0.1:%s;\n    proxy_ssl_verify on;\n}\n' $((B + 10)) >"$W/esc.conf"
out=$(off fix --block "$W/esc.conf" --peer-chain "$W/classic.chain" --cert-dir "$CD"; off check --block "$W/esc.conf")
ok "control bytes of the block are shown escaped, never sent raw" test "${out//$'\033'/}" = "$out"
like "$out" '/\x1b[31mred' "... as \\x1b"

# --- bad input ---
printf 'location /x {\n    proxy_pass https://127.0.0.1:%s;\n    }\n}\n' $((B + 10)) >"$W/broken.conf"
err=$(off fix --block "$W/broken.conf" 2>&1 >/dev/null)
rc=$?
is "$rc:$err" "2:tlstriage: fix: $W/broken.conf:4: unexpected \"}\"" "a broken block: exit 2, the line named"
err=$(printf 'location /x {\n proxy_pass https://a;\n' | off fix --block - 2>&1 >/dev/null)
like "$err" "tlstriage: fix: -:" "a block without its end on stdin: the input named"
printf 'CONNECTED(00000003)\nno peer certificate available\n' >"$W/nocert.chain"
err=$(off fix --block "$W/classic.conf" --peer-chain "$W/nocert.chain" 2>&1 >/dev/null)
rc=$?
is "$rc:$err" "2:tlstriage: fix: $W/nocert.chain: no certificate in it (want PEM, or the output of \`openssl s_client -showcerts\` as is)" \
    "a chain file with no certificate: exit 2, a clear message"
err=$(off fix --block "$W/classic.conf" --log-line "not a log line" 2>&1 >/dev/null)
is "$?" 2 "a log line that is not an upstream TLS event: exit 2"
err=$(off fix --block "$W/classic.conf" --apply 2>&1 >/dev/null)
is "$?" 2 "--block with --apply: a usage error"

# --- check --block ---
out=$(off check --block - <"$W/verifyoff.conf")
like "$out" "-:4: error TT001" "check --block -: TT001 named at -:4 (the input's line)"
tmp=$LAB_DIR/fixtures
cp -R "$TT_SRCDIR/tests/unit/conf" "$tmp"
chmod -R u+w "$tmp"
for f in "$tmp"/tt00*.conf; do
    b=$(basename "$f")
    if grep -qE '^[[:space:]]*include[[:space:]]' "$f"; then
        # a pasted block cannot bring the files it includes: refused, the include's line named
        l=$(grep -nE '^[[:space:]]*include[[:space:]]' "$f" | head -1 | cut -d: -f1)
        err=$(cd "$tmp" && "$TLSTRIAGE" check --block "$b" 2>&1 >/dev/null)
        is "$?:$err" "2:tlstriage: check: $b:$l: the file this include names is not in the input (paste its blocks in place of the include)" \
            "check --block $b: its include is refused at line $l"
        continue
    fi
    a=$(cd "$tmp" && "$TLSTRIAGE" check --conf "$b" --format json | json "print(sorted((x['rule'], x['line']) for x in d['findings']))")
    o=$(cd "$tmp" && "$TLSTRIAGE" check --block "$b" --format json | json "print(sorted((x['rule'], x['line']) for x in d['findings']))")
    is "$o" "$a" "check --block $b finds what check --conf finds, at the same lines"
done
awk '/location/ { on = 1 } on { print } on && /^        }$/ { exit }' "$tmp/tt001.conf" >"$W/tt001-block.conf"
out=$(off check --block "$W/tt001-block.conf" --format json | json "print([(x['rule'], x['line']) for x in d['findings'] if x['rule'] == 'TT001'])")
is "$out" "[('TT001', 2)]" "a location cut from a fixture: TT001 at the block's own line 2"
off check --block "$W/tt001-block.conf" --format sarif | json "print(d['runs'][0]['results'][0]['locations'][0]['physicalLocation']['artifactLocation']['uri'])" >"$W/sarif.txt"
like "$(cat "$W/sarif.txt")" "tt001-block.conf" "check --block --format sarif names the input"

done_testing
