#!/bin/bash
# probe.sh — for every lab scenario, a real front nginx (proxy_ssl_session_reuse off) proxies
# to a real TLS upstream; the message nginx logs must equal the probe's nginx_message, and
# the verdict and exit status must say the same. Plus hostile peers: stalling, garbage,
# plain HTTP, nothing listening, an enormous chain. Ports 20300-20340 (or 20350-20390), 127.0.0.1 only.
. "$TT_SRCDIR/tests/tap.sh"
. "${LAB:-$TT_SRCDIR/tests/lab}/lab.sh" # lab_ports_busy

NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
unset NGINX # nginx reads $NGINX as inherited listening sockets
[ -x "$NGINX_BIN" ] || skip_all "no nginx"
command -v openssl >/dev/null || skip_all "no openssl"
command -v curl >/dev/null || skip_all "no curl"

# Ports B..B+40: B=20300, or 20350 when another run (another worktree's make check) holds them.
B=20300
lab_ports_busy $B 41 && B=20350
lab_ports_busy $B 41 && skip_all "ports 20300-20390 are in use"

T=$(mktemp -d)
PIDS=()
cleanup() {
    [ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
    for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

C=$T/c
mkdir -p "$C"
ossl() { openssl "$@" >/dev/null 2>&1 || bail "openssl $*"; }
# mkcert NAME SUBJECT ISSUER(NAME or self) DAYS EXT...
mkcert() {
    local name=$1 subj=$2 issuer=$3 days=$4
    shift 4
    printf '%s\n' "$@" > "$C/$name.ext"
    ossl req -new -newkey rsa:2048 -nodes -keyout "$C/$name.key" -out "$C/$name.csr" -subj "$subj"
    if [ "$issuer" = self ]; then
        ossl x509 -req -in "$C/$name.csr" -signkey "$C/$name.key" -days "$days" \
            -extfile "$C/$name.ext" -out "$C/$name.pem"
    else
        ossl x509 -req -in "$C/$name.csr" -CA "$C/$issuer.pem" -CAkey "$C/$issuer.key" \
            -CAcreateserial -days "$days" -extfile "$C/$name.ext" -out "$C/$name.pem"
    fi
}
CA_EXT="basicConstraints=critical,CA:TRUE"
mkcert root "/O=Lab/CN=Lab Root" self 30 "$CA_EXT" "keyUsage=keyCertSign,cRLSign"
mkcert inter "/O=Lab/CN=Lab Intermediate" root 30 "$CA_EXT" "keyUsage=keyCertSign,cRLSign"
mkcert inter2 "/O=Lab/CN=Lab Intermediate 2" inter 30 "$CA_EXT" "keyUsage=keyCertSign,cRLSign"
mkcert leaf "/CN=api.lab.test" inter 30 "subjectAltName=DNS:api.lab.test"
mkcert deep "/CN=deep.lab.test" inter2 30 "subjectAltName=DNS:deep.lab.test"
mkcert ss "/CN=lab.test" self 30 "subjectAltName=DNS:lab.test,IP:127.0.0.1"
mkcert expired "/CN=exp.lab.test" root -1 "subjectAltName=DNS:exp.lab.test"
mkcert sni "/CN=sni.lab.test" root 30 "subjectAltName=DNS:sni.lab.test"
mkcert client "/CN=client" root 30 "extendedKeyUsage=clientAuth"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/evil.key" \
    -out "$C/evil.pem" -days 30 -utf8 -subj "/CN=evil$(printf '\033')[31mred" \
    -addext "subjectAltName=DNS:evil.test"
cat "$C/inter.pem" > "$C/chain1.pem"
cat "$C/inter2.pem" "$C/inter.pem" > "$C/chain2.pem"
: > "$C/huge.pem"
for i in $(seq 1 40); do cat "$C/inter.pem" >> "$C/huge.pem"; done

# Upstreams: openssl s_server, one per port.
srv() { # PORT ARGS...
    local port=$1
    shift
    openssl s_server -quiet -www -accept "127.0.0.1:$port" "$@" >/dev/null 2>&1 &
    PIDS+=($!)
}
srv $((B + 1)) -cert "$C/ss.pem" -key "$C/ss.key"
srv $((B + 2)) -cert "$C/leaf.pem" -key "$C/leaf.key" -cert_chain "$C/chain1.pem"
srv $((B + 3)) -cert "$C/deep.pem" -key "$C/deep.key" -cert_chain "$C/chain2.pem"
srv $((B + 4)) -cert "$C/leaf.pem" -key "$C/leaf.key"
srv $((B + 5)) -cert "$C/expired.pem" -key "$C/expired.key"
srv $((B + 7)) -tls1_2 -cert "$C/leaf.pem" -key "$C/leaf.key" -cert_chain "$C/chain1.pem"
srv $((B + 8)) -Verify 1 -CAfile "$C/root.pem" -cert "$C/leaf.pem" -key "$C/leaf.key" \
    -cert_chain "$C/chain1.pem"
srv $((B + 9)) -cert "$C/ss.pem" -key "$C/ss.key" -servername sni.lab.test \
    -cert2 "$C/sni.pem" -key2 "$C/sni.key"
srv $((B + 11)) -cert "$C/ss.pem" -key "$C/ss.key"
STALL_PID=${PIDS[-1]}
srv $((B + 13)) -cert "$C/leaf.pem" -key "$C/leaf.key" -cert_chain "$C/huge.pem"
srv $((B + 15)) -cert "$C/evil.pem" -key "$C/evil.key"

# Scenarios: NAME|PORT|nginx directives|probe options
SCEN=(
"self_signed_untrusted|$((B + 1))|proxy_ssl_trusted_certificate $C/root.pem;|--trusted $C/root.pem"
"self_signed_ip_literal|$((B + 1))|proxy_ssl_trusted_certificate $C/ss.pem;|--trusted $C/ss.pem"
"self_signed_with_name|$((B + 1))|proxy_ssl_trusted_certificate $C/ss.pem; proxy_ssl_name lab.test;|--trusted $C/ss.pem --name lab.test"
"ca_chain_with_name|$((B + 2))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name api.lab.test; proxy_ssl_verify_depth 2;|--trusted $C/root.pem --name api.lab.test --depth 2"
"ca_chain_default_depth|$((B + 2))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name api.lab.test;|--trusted $C/root.pem --name api.lab.test"
"deep_chain_within_depth|$((B + 3))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name deep.lab.test; proxy_ssl_verify_depth 2;|--trusted $C/root.pem --name deep.lab.test --depth 2"
"deep_chain_over_depth|$((B + 3))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name deep.lab.test;|--trusted $C/root.pem --name deep.lab.test"
"missing_intermediate|$((B + 4))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name api.lab.test; proxy_ssl_verify_depth 2;|--trusted $C/root.pem --name api.lab.test --depth 2"
"expired|$((B + 5))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name exp.lab.test;|--trusted $C/root.pem --name exp.lab.test"
"plain_http|$((B + 6))|proxy_ssl_trusted_certificate $C/root.pem;|--trusted $C/root.pem"
"tls13_client_tls12_upstream|$((B + 7))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_protocols TLSv1.3;|--trusted $C/root.pem --protocols TLSv1.3"
"mtls_without_cert|$((B + 8))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name api.lab.test; proxy_ssl_verify_depth 2;|--trusted $C/root.pem --name api.lab.test --depth 2"
"mtls_without_cert_tls13|$((B + 8))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name api.lab.test; proxy_ssl_verify_depth 2; proxy_ssl_protocols TLSv1.3;|--trusted $C/root.pem --name api.lab.test --depth 2 --protocols TLSv1.3"
"mtls_with_cert|$((B + 8))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name api.lab.test; proxy_ssl_verify_depth 2; proxy_ssl_certificate $C/client.pem; proxy_ssl_certificate_key $C/client.key;|--trusted $C/root.pem --name api.lab.test --depth 2 --cert $C/client.pem --key $C/client.key"
"sni_off|$((B + 9))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name sni.lab.test;|--trusted $C/root.pem --name sni.lab.test"
"sni_on|$((B + 9))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name sni.lab.test; proxy_ssl_server_name on;|--trusted $C/root.pem --name sni.lab.test --sni"
"nothing_listening|$((B + 10))|proxy_ssl_trusted_certificate $C/root.pem;|--trusted $C/root.pem"
"stalling_peer|$((B + 11))|proxy_ssl_trusted_certificate $C/root.pem; proxy_connect_timeout 1s;|--trusted $C/root.pem --timeout 1"
"garbage_bytes|$((B + 12))|proxy_ssl_trusted_certificate $C/root.pem;|--trusted $C/root.pem"
"peer_closes_at_once|$((B + 14))|proxy_ssl_trusted_certificate $C/root.pem;|--trusted $C/root.pem"
"sni_required_off|$((B + 18))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name sni.lab.test;|--trusted $C/root.pem --name sni.lab.test"
"sni_required_on|$((B + 18))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name sni.lab.test; proxy_ssl_server_name on;|--trusted $C/root.pem --name sni.lab.test --sni"
"enormous_chain|$((B + 13))|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_name api.lab.test; proxy_ssl_verify_depth 2;|--trusted $C/root.pem --name api.lab.test --depth 2"
)

{
    [ "$(id -u)" = 0 ] && echo "user root;"
    cat <<CONF
daemon on;
pid $T/nginx.pid;
error_log $T/error.log info;
worker_processes 1;
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
events { worker_connections 256; }
stream {
    server { listen 127.0.0.1:$((B + 12)); return "garbage \x01\x02\x03 not tls at all\r\n\r\n"; }
    server { listen 127.0.0.1:$((B + 14)); ssl_preread on; return ""; }
    server { listen 127.0.0.1:$((B + 16)); proxy_pass 127.0.0.1:$((B + 1)); proxy_ssl on;
             proxy_ssl_verify on; proxy_ssl_trusted_certificate $C/root.pem;
             proxy_ssl_session_reuse off; }
}
http {
    access_log off;
    client_body_temp_path $T/body; proxy_temp_path $T/proxy;
    fastcgi_temp_path $T/fcgi; uwsgi_temp_path $T/uwsgi; scgi_temp_path $T/scgi;
    server { listen 127.0.0.1:$((B + 6)); location / { return 200 "plain\n"; } }
    # An SNI-routed upstream: without SNI the handshake is rejected.
    server { listen 127.0.0.1:$((B + 18)) ssl default_server; ssl_reject_handshake on;
             location / { return 200 "sni\n"; } }
    server { listen 127.0.0.1:$((B + 18)) ssl; server_name sni.lab.test;
             ssl_certificate $C/sni.pem; ssl_certificate_key $C/sni.key;
             location / { return 200 "sni\n"; } }
    server {
        listen 127.0.0.1:$((B + 0));
        server_name front.lab.test;
CONF
    for s in "${SCEN[@]}"; do
        IFS='|' read -r name port dirs _ <<< "$s"
        echo "        location /$name { proxy_pass https://127.0.0.1:$port; proxy_ssl_verify on;"
        echo "            proxy_ssl_session_reuse off; $dirs }"
    done
    echo "    }"
    echo "}"
} > "$T/nginx.conf"

# Wait until every upstream listens (s_server takes a moment to load its key).
listening() { # PORT: is it in LISTEN state in /proc/net/tcp?
    grep -qiE "^ *[0-9]+: 0100007F:$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp
}
for port in $((B + 1)) $((B + 2)) $((B + 3)) $((B + 4)) $((B + 5)) $((B + 7)) $((B + 8)) $((B + 9)) $((B + 11)) $((B + 13)) $((B + 15)); do
    for i in $(seq 100); do listening "$port" && break; sleep 0.05; done
    listening "$port" || bail "s_server on $port did not start"
done
"$NGINX_BIN" -p "$T" -c "$T/nginx.conf" -e "$T/error.log" 2>"$T/start.err" ||
    bail "nginx did not start: $(cat "$T/start.err")"
for i in $(seq 50); do
    curl -s -o /dev/null http://127.0.0.1:$((B + 6))/ && break
    sleep 0.1
done
kill -STOP "$STALL_PID"

# The message of the first upstream [error]/[crit] line logged since offset $1, and what
# nginx says it was doing ("SSL handshaking to upstream").
nginx_line() {
    tail -c +"$(($1 + 1))" "$T/error.log" | grep -a -E '\[(error|crit)\]' | head -1
}
nginx_said() {
    nginx_line "$1" | sed -E 's/^[^*]*\*[0-9]+ //; s/ while (SSL handshaking|connecting|reading response header).*$//'
}
nginx_while() {
    nginx_line "$1" | sed -n -E 's/^.* while ([a-zA-Z ]+ (to|from) upstream), client: .*$/\1/p'
}

declare -A VERDICT MESSAGE
for s in "${SCEN[@]}"; do
    IFS='|' read -r name port _ popts <<< "$s"
    off=$(stat -c %s "$T/error.log")
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$((B + 0))/$name")
    sleep 0.05
    want=$(nginx_said "$off")
    want_while=$(nginx_while "$off")
    # shellcheck disable=SC2086
    out=$("$TLSTRIAGE" --nginx "$NGINX_BIN" probe "127.0.0.1:$port" $popts)
    rc=$?
    got=$(printf '%s\n' "$out" | sed -n 's/^  nginx logs: //p')
    is "$got" "$want" "$name: the probe's nginx_message is what nginx logs"
    is "$(printf '%s\n' "$out" | sed -n 's/^    \.\.\. while //p')" "$want_while" \
        "$name: and the phase nginx names after 'while'"
    if [ "$code" = 200 ]; then
        is "$rc" 0 "$name: nginx answered 200 and the probe exits 0"
    else
        is "$rc" 1 "$name: nginx answered $code and the probe exits 1"
    fi
    printf '# %-28s %s -> %s\n' "$name" "$code" "${want:-(ok)}"
    VERDICT[$name]=$(printf '%s\n' "$out" | sed -n '1s/^[^ ]*: \(FAIL \)\{0,1\}//p'); [ "${VERDICT[$name]}" = OK ] && VERDICT[$name]=ok
    MESSAGE[$name]=$want
done

# The stream module logs the same messages.
off=$(stat -c %s "$T/error.log")
curl -s -o /dev/null --max-time 5 http://127.0.0.1:$((B + 16))/
sleep 0.05
want=$(nginx_said "$off")
got=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 1)) --trusted "$C/root.pem" | sed -n 's/^  nginx logs: //p')
is "$got" "$want" "stream proxy_ssl: the probe's nginx_message is what nginx logs"

# Hostile peers and limits, beyond message equality.
start=$(date +%s%N)
"$TLSTRIAGE" probe 127.0.0.1:$((B + 11)) --timeout 0.5 >/dev/null
el=$((($(date +%s%N) - start) / 1000000))
ok "a stalling peer is given up after the time-out (${el} ms)" test "$el" -lt 2500

if command -v python3 >/dev/null; then
    # A peer that sends a record header, then one byte every 100 ms, never finishes.
    PEER_PORT=$((B + 17)) python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(__import__("os").environ["PEER_PORT"]))); s.listen(4)
c, _ = s.accept()
c.send(b"\x16\x03\x03\x40\x00")
for i in range(100):
    c.send(b"\x02"); time.sleep(0.1)
' 2>/dev/null &
    PIDS+=($!)
    for i in $(seq 100); do listening $((B + 17)) && break; sleep 0.05; done
    start=$(date +%s%N)
    out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 17)) --timeout 0.5)
    el=$((($(date +%s%N) - start) / 1000000))
    ok "a peer dribbling bytes still meets the time-out (${el} ms)" test "$el" -lt 2000
    ok "and the verdict is nginx's time-out" grep -q 'upstream timed out (110: Connection timed out)' <<< "$out"
fi

out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 13)) --trusted "$C/root.pem" --name api.lab.test --depth 2 \
    --format json)
ok "an enormous chain is capped in the JSON output" \
    test "$(printf '%s' "$out" | grep -o '"sha256"' | wc -l)" -le 32
ok "an enormous chain still reports its real length" \
    grep -q '"chain_length":41' <<< "$out"

out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 1)) --trusted "$C/ss.pem" --format json)
if command -v jq >/dev/null; then
    valid_json() { jq -e . >/dev/null <<< "$1"; }
    ok "JSON output is valid JSON" valid_json "$out"
    is "$(jq -r .verdict <<< "$out")" name_mismatch "an IP literal is a name mismatch (the 1.22 rule)"
    is "$(jq -r '.what_if.names[0]' <<< "$out")" lab.test "what-if names the SAN that would pass"
fi
out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 1)) --trusted "$C/root.pem" --format json)
ok "what-if: pinning the self-signed leaf fixes the chain" \
    grep -q '"trust_presented_leaf":"name_mismatch"' <<< "$out"
out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 9)) --trusted "$C/root.pem" --name sni.lab.test --format json)
ok "what-if: turning SNI on would make nginx succeed" grep -q '"with_sni":"ok"' <<< "$out"
out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 18)) --trusted "$C/root.pem" --name sni.lab.test --format json)
ok "what-if: SNI on also fixes an upstream that rejects handshakes without SNI" \
    grep -q '"with_sni":"ok"' <<< "$out"
out=$(SSL_CERT_FILE="$C/chain1.pem" SSL_CERT_DIR="$T/none" "$TLSTRIAGE" probe 127.0.0.1:$((B + 4)) \
    --trusted "$C/root.pem" --name api.lab.test --depth 2 --format json)
ok "what-if: the intermediate the upstream omits, found in the system store, would fix it" \
    grep -q '"add_intermediate":"ok"' <<< "$out"
out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 4)) --trusted "$C/root.pem" --name api.lab.test --depth 2)
ok "what-if: the missing intermediate is named" \
    grep -q 'did not send the issuer of its last certificate (O = Lab, CN = Lab Intermediate)' <<< "$out"
out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 3)) --trusted "$C/root.pem" --name deep.lab.test --format json)
ok "what-if: unlimited depth is offered for a too-short depth" \
    grep -q '"unlimited_depth":"ok"' <<< "$out"

"$TLSTRIAGE" probe 127.0.0.1:$((B + 1)) --trusted "$T/nope.pem" >/dev/null 2>&1
is "$?" 2 "a missing trusted file is an input error (exit 2)"
"$TLSTRIAGE" probe not-a-port:x >/dev/null 2>&1
is "$?" 2 "a malformed HOST:PORT is a usage error (exit 2)"
"$TLSTRIAGE" probe 127.0.0.1:1 --timeout soon >/dev/null 2>&1
is "$?" 2 "a malformed --timeout is a usage error (exit 2)"
"$TLSTRIAGE" probe 127.0.0.1:1 --cert "$C/client.pem" >/dev/null 2>&1
is "$?" 2 "--cert without --key is a usage error (exit 2)"
"$TLSTRIAGE" probe --help >/dev/null
is "$?" 0 "probe --help exits 0"
if command -v jq >/dev/null; then
    out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 1)) 127.0.0.1:$((B + 10)) --trusted "$C/root.pem" \
        --format json)
    is "$(jq -r '[.[].verdict] | join(",")' <<< "$out")" "verify_error,connect_error" \
        "several upstreams in JSON: one array, results in argument order"
fi
out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 1)) 127.0.0.1:$((B + 2)) 127.0.0.1:$((B + 4)) --trusted "$C/root.pem" \
    --name api.lab.test --depth 2)
rc=$?
is "$rc" 1 "several upstreams at once: exit 1 when any fails"
ok "several upstreams share one TLS context" grep -q '1 TLS context built' <<< "$out"
out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 2)) 127.0.0.1:$((B + 5)) --trusted "$C/root.pem" \
    --name api.lab.test --depth 2 --format prometheus)
ok "prometheus output has verify_ok per upstream" \
    grep -q 'tlstriage_upstream_verify_ok{upstream="127.0.0.1:'"$((B + 2))"'",location=""} 1' <<< "$out"

out=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 15)) --trusted "$C/root.pem")
ok "control bytes from a certificate never reach the terminal raw" \
    bash -c '! grep -q "$(printf "\033")" <<< "$1"' _ "$out"
ok "control bytes from a certificate are shown escaped" grep -qF 'CN = evil\x1b[31mred' <<< "$out"

# The IP-SAN rule follows the nginx version (nginx -V of --nginx).
printf '#!/bin/sh\necho "nginx version: nginx/1.31.0" >&2\necho "built with OpenSSL 3.0.2" >&2\n' \
    > "$T/nginx-1.31"
chmod +x "$T/nginx-1.31"
out=$("$TLSTRIAGE" --nginx "$T/nginx-1.31" probe 127.0.0.1:$((B + 1)) --trusted "$C/ss.pem")
is "$?" 0 "nginx 1.31.0 checks IP SANs: the IP literal matches"
ok "the rule applied is said" grep -q 'name rule: an IP literal under nginx 1.31.0 (nginx -V) >= 1.31.0' <<< "$out"
"$TLSTRIAGE" --nginx "$NGINX_BIN" probe 127.0.0.1:$((B + 1)) --trusted "$C/ss.pem" >/dev/null
is "$?" 1 "nginx 1.22.1 (the real one) does not: name mismatch"

# Settings nginx refuses: the probe says what `nginx -t` says.
EMERG=(
"missing trusted file|proxy_ssl_trusted_certificate $T/nope.pem;|--trusted $T/nope.pem"
"missing client certificate|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_certificate $T/nope.pem; proxy_ssl_certificate_key $T/nope.key;|--trusted $C/root.pem --cert $T/nope.pem --key $T/nope.key"
"missing client key|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_certificate $C/client.pem; proxy_ssl_certificate_key $T/nope.key;|--trusted $C/root.pem --cert $C/client.pem --key $T/nope.key"
"client key of another certificate|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_certificate $C/client.pem; proxy_ssl_certificate_key $C/ss.key;|--trusted $C/root.pem --cert $C/client.pem --key $C/ss.key"
"unknown cipher list|proxy_ssl_trusted_certificate $C/root.pem; proxy_ssl_ciphers NO-SUCH-CIPHER;|--trusted $C/root.pem --ciphers NO-SUCH-CIPHER"
)
for e in "${EMERG[@]}"; do
    IFS='|' read -r what dirs popts <<< "$e"
    printf 'error_log %s/t.log; pid %s/t.pid; events {}\nhttp { server { listen 127.0.0.1:%s;\n location / { proxy_pass https://127.0.0.1:%s; proxy_ssl_verify on; %s } } }\n' \
        "$T" "$T" "$((B + 39))" "$((B + 1))" "$dirs" > "$T/t.conf"
    want=$("$NGINX_BIN" -t -p "$T" -c "$T/t.conf" 2>&1 | grep -a -m1 '\[emerg\]' |
        sed -E 's/^.*\[emerg\] [0-9]+#[0-9]+: //; s/^nginx: \[emerg\] //')
    # shellcheck disable=SC2086
    got=$("$TLSTRIAGE" probe 127.0.0.1:$((B + 1)) $popts 2>/dev/null | sed -n 's/^  nginx logs: //p')
    is "$got" "$want" "$what: the probe says what nginx -t says"
done

# The same settings taken from the front nginx's own config.
out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of http://127.0.0.1:$((B + 0))/expired)
rc=$?
is "$(printf '%s\n' "$out" | sed -n 's/^  nginx logs: //p')" "${MESSAGE[expired]}" \
    "--location-of finds the location and its settings: same message as nginx"
is "$rc" 1 "--location-of: exit 1 for a failing upstream"
"$TLSTRIAGE" probe --conf "$T/nginx.conf" --server front.lab.test --uri /self_signed_with_name \
    >/dev/null
is "$?" 0 "--server/--uri resolves proxy_ssl_name from the config (exit 0)"
out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --all --timeout 1 --no-what-if)
rc=$?
is "$rc" 1 "--all: exit 1 when any upstream fails"
mismatch=0
for s in "${SCEN[@]}"; do
    IFS='|' read -r name _ <<< "$s"
    line=$(grep -A1 "location /$name " <<< "$out" | head -1)
    v=$(awk '{print $2}' <<< "$line")
    [ "$v" = "${VERDICT[$name]}" ] || { echo "# --all $name: $v, single probe: ${VERDICT[$name]}"; mismatch=$((mismatch + 1)); }
done
is "$mismatch" 0 "--all gives every location the verdict of its single probe"
start=$(date +%s%N)
out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of http://127.0.0.1:$((B + 0))/stalling_peer)
el=$((($(date +%s%N) - start) / 1000000))
ok "--conf takes proxy_connect_timeout 1s from the location (gave up after ${el} ms)" \
    test "$el" -ge 900 -a "$el" -lt 3000
out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --all --timeout 1 --no-what-if --format prometheus)
ok "--all --format prometheus labels the location" \
    grep -q 'tlstriage_upstream_verify_ok{upstream="127.0.0.1:'"$((B + 5))"'",location="location /expired' <<< "$out"

done_testing
