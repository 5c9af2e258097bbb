#!/bin/bash
# grpc.sh — the grpc and uwsgi families (issue 17) against real nginx and real openssl: a
# front nginx with `grpc_pass grpcs://` to an upstream nginx (`listen ... ssl http2`), one
# without http2 (ALPN "h2" refused: alert 120), an `openssl s_server -alpn http/1.1`, and
# `uwsgi_pass suwsgi://` to `openssl s_server`s (the cases of nginx-tests uwsgi_ssl_verify.t:
# SAN, wildcard, CN, mismatches, untrusted). For each: nginx's 502 and log line must equal
# the probe's verdict and message; check names grpc_ssl_* / uwsgi_ssl_*; diagnose places
# every logged event on its location; fix --apply writes the family's directives and the
# front answers. Ports 22000-22029, 127.0.0.1 only.
. "$TT_SRCDIR/tests/tap.sh"
. "${LAB:-$TT_SRCDIR/tests/lab}/lab.sh" # lab_ports_busy

NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
unset NGINX
[ -x "$NGINX_BIN" ] || skip_all "no nginx"
command -v openssl >/dev/null || skip_all "no openssl"
command -v curl >/dev/null || skip_all "no curl"
"$NGINX_BIN" -V 2>&1 | grep -q -- --with-http_v2_module || skip_all "nginx without http2"
B=22000
lab_ports_busy $B 30 && skip_all "ports 22000-22029 are in use"

T=$(mktemp -d)
PIDS=()
cleanup() {
    for d in "$T" "$T/up"; do [ -f "$d/nginx.pid" ] && kill "$(cat "$d/nginx.pid")" 2>/dev/null; done
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

C=$T/c
mkdir -p "$C" "$T/up" "$T/certs" "$T/state"
ossl() { openssl "$@" >/dev/null 2>&1 || bail "openssl $*"; }
ca() { # NAME CN
    ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$1.key" \
        -out "$C/$1.pem" -days 30 -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
}
leaf() { # NAME CN ISSUER [SAN]
    ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$1.key" \
        -out "$C/$1.csr" -subj "/CN=$2"
    : > "$C/$1.ext"
    [ -n "${4:-}" ] && echo "subjectAltName=$4" > "$C/$1.ext"
    ossl x509 -req -in "$C/$1.csr" -CA "$C/$3.pem" -CAkey "$C/$3.key" -CAcreateserial -days 30 \
        -extfile "$C/$1.ext" -out "$C/$1.pem"
}
selfsigned() { # NAME CN [SAN]
    if [ -n "${3:-}" ]; then
        ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$1.key" \
            -out "$C/$1.pem" -days 30 -subj "/CN=$2" -addext "subjectAltName=$3"
    else
        ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$1.key" \
            -out "$C/$1.pem" -days 30 -subj "/CN=$2"
    fi
}
ca root "Grpc Lab Root"
ca other "Some Other Root"
leaf grpc grpc.lab.test root DNS:grpc.lab.test
# uwsgi_ssl_verify.t's certificates: 1.example.com with SANs, 2.example.com with its CN only
selfsigned ex1 1.example.com "DNS:example.com,DNS:*.example.com"
selfsigned ex2 2.example.com

# ---- the upstreams ----
cat > "$T/up/nginx.conf" <<CONF
daemon on;
pid $T/up/nginx.pid;
error_log $T/up/error.log info;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $T/up/body; proxy_temp_path $T/up/proxy;
    fastcgi_temp_path $T/up/fcgi; uwsgi_temp_path $T/up/uwsgi; scgi_temp_path $T/up/scgi;
    ssl_certificate $C/grpc.pem;
    ssl_certificate_key $C/grpc.key;
    server { listen 127.0.0.1:$((B + 10)) ssl http2; location / { return 200 "h2 ok\n"; } }
    server { listen 127.0.0.1:$((B + 11)) ssl; location / { return 200 "h1 ok\n"; } }
}
CONF
"$NGINX_BIN" -p "$T/up" -c "$T/up/nginx.conf" -e "$T/up/error.log" 2>"$T/up/start.err" ||
    bail "the upstream nginx did not start: $(cat "$T/up/start.err")"
srv() { # PORT ARGS...
    local port=$1
    shift
    openssl s_server -quiet -www -accept "127.0.0.1:$port" "$@" >/dev/null 2>&1 &
    PIDS+=($!)
}
srv $((B + 12)) -cert "$C/grpc.pem" -key "$C/grpc.key" -alpn http/1.1
srv $((B + 13)) -cert "$C/grpc.pem" -key "$C/grpc.key"
srv $((B + 14)) -cert "$C/ex1.pem" -key "$C/ex1.key"
srv $((B + 15)) -cert "$C/ex2.pem" -key "$C/ex2.key"

# ---- the front ----
# name|family|port|directives (besides verify on and session reuse off)
SCEN=(
"ok|grpc|$((B + 10))|grpc_ssl_trusted_certificate $C/root.pem; grpc_ssl_name grpc.lab.test;"
"untrusted|grpc|$((B + 10))|grpc_ssl_trusted_certificate $C/other.pem; grpc_ssl_name grpc.lab.test;"
"name|grpc|$((B + 10))|grpc_ssl_trusted_certificate $C/root.pem;"
"noh2|grpc|$((B + 11))|grpc_ssl_trusted_certificate $C/root.pem; grpc_ssl_name grpc.lab.test;"
"h11|grpc|$((B + 12))|grpc_ssl_trusted_certificate $C/root.pem; grpc_ssl_name grpc.lab.test;"
"u|uwsgi|$((B + 13))|uwsgi_ssl_trusted_certificate $C/other.pem; uwsgi_ssl_name grpc.lab.test;"
"verify|uwsgi|$((B + 14))|uwsgi_ssl_name example.com; uwsgi_ssl_trusted_certificate $C/ex1.pem;"
"wildcard|uwsgi|$((B + 14))|uwsgi_ssl_name foo.example.com; uwsgi_ssl_trusted_certificate $C/ex1.pem;"
"fail|uwsgi|$((B + 14))|uwsgi_ssl_name no.match.example.com; uwsgi_ssl_trusted_certificate $C/ex1.pem;"
"cn|uwsgi|$((B + 15))|uwsgi_ssl_name 2.example.com; uwsgi_ssl_trusted_certificate $C/ex2.pem;"
"cnfail|uwsgi|$((B + 15))|uwsgi_ssl_name bad.example.com; uwsgi_ssl_trusted_certificate $C/ex2.pem;"
"utrusted|uwsgi|$((B + 15))|uwsgi_ssl_name 2.example.com; uwsgi_ssl_trusted_certificate $C/ex1.pem;"
)
{
    [ "$(id -u)" = 0 ] && echo "user root;"
    cat <<CONF
daemon on;
pid $T/nginx.pid;
error_log $T/error.log info;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $T/body; proxy_temp_path $T/proxy;
    fastcgi_temp_path $T/fcgi; uwsgi_temp_path $T/uwsgi; scgi_temp_path $T/scgi;
    grpc_ssl_session_reuse off;
    grpc_ssl_verify on;
    server {
        listen 127.0.0.1:$B http2;
        uwsgi_ssl_session_reuse off;
        uwsgi_read_timeout 1s;
        location /plain/ { grpc_pass grpc://127.0.0.1:$((B + 20)); }
CONF
    for s in "${SCEN[@]}"; do
        IFS='|' read -r name fam port dirs <<< "$s"
        if [ "$fam" = grpc ]; then
            echo "        location /$name/ { grpc_pass grpcs://127.0.0.1:$port;"
        else
            echo "        location /$name/ { uwsgi_pass suwsgi://127.0.0.1:$port; uwsgi_ssl_verify on;"
        fi
        echo "            $dirs }"
    done
    echo "    }"
    echo "}"
} > "$T/nginx.conf"
cp "$T/nginx.conf" "$T/orig.conf"

listening() {
    grep -qiE "^ *[0-9]+: 0100007F:$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp
}
for port in $((B + 10)) $((B + 11)) $((B + 12)) $((B + 13)) $((B + 14)) $((B + 15)); do
    for i in $(seq 100); do listening "$port" && break; sleep 0.05; done
    listening "$port" || bail "the upstream on $port did not start"
done
"$NGINX_BIN" -p "$T" -c "$T/nginx.conf" -e "$T/error.log" 2>"$T/start.err" ||
    bail "nginx did not start: $(cat "$T/start.err")"
for i in $(seq 50); do listening $B && break; sleep 0.1; done

tt() {
    "$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$T/nginx.conf" --prefix "$T/" \
        --state-dir "$T/state" "$@" </dev/null
}
req() { # PATH: the front's status for a gRPC-style HTTP/2 request
    curl -s -o /dev/null -w '%{http_code}' --http2-prior-knowledge --max-time 10 \
        "http://127.0.0.1:$B$1"
}
nginx_tls_said() { # the first upstream TLS failure nginx logged since offset $1
    tail -c +"$(($1 + 1))" "$T/error.log" | grep -a -E '\[(error|crit)\]' |
        grep -a -E 'SSL_do_handshake|upstream SSL certificate' | head -1 |
        sed -E 's/^[^*]*\*[0-9]+ //; s/ while SSL handshaking to upstream.*$//'
}
logged_upstream() { # the upstream field of that line
    tail -c +"$(($1 + 1))" "$T/error.log" | grep -a -E 'SSL_do_handshake|upstream SSL certificate' |
        head -1 | sed -nE 's/.*upstream: "([^"]*)".*/\1/p'
}

declare -A WANT=(
    [ok]=""
    [untrusted]="upstream SSL certificate verify error: (21:unable to verify the first certificate)"
    [name]='upstream SSL certificate does not match "127.0.0.1"'
    [noh2]="SSL_do_handshake() failed (SSL: error:0A000460:SSL routines::tlsv1 alert no application protocol:SSL alert number 120)"
    [h11]="SSL_do_handshake() failed (SSL: error:0A000460:SSL routines::tlsv1 alert no application protocol:SSL alert number 120)"
    [u]="upstream SSL certificate verify error: (21:unable to verify the first certificate)"
    [verify]=""
    [wildcard]=""
    [fail]='upstream SSL certificate does not match "no.match.example.com"'
    [cn]=""
    [cnfail]='upstream SSL certificate does not match "bad.example.com"'
    [utrusted]="upstream SSL certificate verify error: (18:self-signed certificate)"
)
for s in "${SCEN[@]}"; do
    IFS='|' read -r name fam port _ <<< "$s"
    off=$(stat -c %s "$T/error.log")
    code=$(req "/$name/pkg.Svc/Call")
    sleep 0.1
    said=$(nginx_tls_said "$off")
    is "$said" "${WANT[$name]}" "$fam $name: nginx logs the expected TLS failure (or none)"
    if [ "$name" = ok ]; then
        is "$code" 200 "$fam $name: the front answers 200 through grpcs"
    elif [ -z "${WANT[$name]}" ]; then
        # the handshake passed; s_server speaks no uwsgi, so uwsgi_read_timeout ends it
        is "$code" 504 "$fam $name: past the handshake, the front times out on uwsgi (504)"
    else
        is "$code" 502 "$fam $name: the front answers 502"
    fi
    if [ -n "$said" ]; then
        scheme=$([ "$fam" = grpc ] && echo grpcs || echo suwsgi)
        is "$(logged_upstream "$off")" "$scheme://127.0.0.1:$port" \
            "$fam $name: nginx logs the upstream as $scheme://"
    fi
    out=$(tt probe --location-of "http://127.0.0.1:$B/$name/pkg.Svc/Call")
    rc=$?
    is "$(printf '%s\n' "$out" | sed -n 's/^  nginx logs: //p')" "$said" \
        "$fam $name: probe --location-of says what nginx logs"
    is "$rc" "$([ -z "$said" ] && echo 0 || echo 1)" "$fam $name: probe's exit status agrees"
done

out=$(tt probe --location-of "http://127.0.0.1:$B/noh2/x")
ok "noh2: the probe's hint says to enable http2 on the upstream" \
    grep -q "likely: .*enable http2 on the upstream's TLS listener" <<< "$out"
ok "noh2: the hint never suggests turning verification off" \
    bash -c '! grep -q "likely:.*verify off" <<< "$1"' _ "$out"
out=$(tt probe --format json --location-of "http://127.0.0.1:$B/ok/x")
ok "ok: probe JSON says family grpc and ALPN h2" \
    bash -c 'grep -q "\"family\": *\"grpc\"" <<< "$1" && grep -q "\"alpn\": *\"h2\"" <<< "$1"' _ "$out"
# an upstream that ignores ALPN: the handshake passes, and the probe says what it cannot check
out=$("$TLSTRIAGE" probe "127.0.0.1:$((B + 13))" --trusted "$C/root.pem" --name grpc.lab.test)
ok "a command-line probe (proxy family) sends no ALPN" bash -c '! grep -q "ALPN" <<< "$1"' _ "$out"
# probe HOST:PORT --grpc offers h2 as grpc_pass grpcs:// does: the http/1.1-only s_server
# refuses it with alert 120 (what nginx logged for /s11/), the plain probe of it passes
out=$("$TLSTRIAGE" probe "127.0.0.1:$((B + 12))" --grpc --trusted "$C/root.pem" --name grpc.lab.test)
rc=$?
is "$rc" 1 "probe --grpc of an http/1.1-only upstream fails (exit 1)"
ok "probe --grpc says what nginx logs: alert 120, no application protocol" \
    grep -q "no application protocol" <<< "$out"
"$TLSTRIAGE" probe "127.0.0.1:$((B + 12))" --trusted "$C/root.pem" --name grpc.lab.test >/dev/null
is "$?" 0 "the same upstream without --grpc (no ALPN offered): the handshake passes"
out=$("$TLSTRIAGE" probe --format json "127.0.0.1:$((B + 10))" --grpc --trusted "$C/root.pem" --name grpc.lab.test 2>&1)
ok "probe --grpc of the h2 upstream: family grpc, ALPN h2 agreed" \
    bash -c 'grep -q "\"family\": *\"grpc\"" <<< "$1" && grep -q "\"alpn\": *\"h2\"" <<< "$1"' _ "$out"

out=$("$TLSTRIAGE" scan "$T/error.log")
ok "scan explains alert 120 on a grpcs upstream: enable http2 on the upstream" \
    grep -q "usually: enable http2 on the upstream's TLS listener" <<< "$out"

# ---- check ----
out=$(tt check)
ok "check counts the 12 grpcs/suwsgi uses (not the plain grpc:// one)" \
    grep -q "^12 TLS upstream uses checked" <<< "$out"
ok "check: TT004 on the grpc location without grpc_ssl_name" \
    grep -q "TT004 \[location /name/ .*(no grpc_ssl_name)" <<< "$out"
ok "check: the fix names grpc_ssl_name, never proxy_ssl_" \
    bash -c 'grep -q "fix: set \"grpc_ssl_name NAME;\"" <<< "$1" && ! grep -q proxy_ssl_ <<< "$1"' _ "$out"
# TT003 agrees with nginx -t on a grpc location without a trusted file
sed 's|grpc_ssl_trusted_certificate [^;]*; grpc_ssl_name grpc.lab.test; }|grpc_ssl_name grpc.lab.test; }|' \
    "$T/nginx.conf" > "$T/tt003.conf"
emerg=$("$NGINX_BIN" -t -p "$T" -c "$T/tt003.conf" 2>&1 | grep -o 'no grpc_ssl_trusted_certificate for grpc_ssl_verify')
is "$emerg" "no grpc_ssl_trusted_certificate for grpc_ssl_verify" "nginx -t refuses grpc_ssl_verify on without a trusted file"
out=$("$TLSTRIAGE" --conf "$T/tt003.conf" check)
ok "check TT003 quotes nginx's own words" \
    grep -q "TT003 .*(\"no grpc_ssl_trusted_certificate for grpc_ssl_verify\")" <<< "$out"

# ---- diagnose: every logged event placed on its location, one answer ----
out=$(tt --log "$T/error.log" diagnose 2>"$T/diag.err")
is "$?" 1 "diagnose finds incidents (exit 1)"
ok "diagnose: nothing on stderr (no 'no TLS upstream block found')" test ! -s "$T/diag.err"
for name in untrusted name noh2 h11 u fail cnfail utrusted; do
    ok "diagnose places $name on location /$name/" grep -q "^  where:  location /$name/ " <<< "$out"
done
ok "diagnose shows grpc_ssl_* effective settings" \
    grep -q "grpc_ssl_session_reuse *off  (inherited" <<< "$out"
ok "diagnose: the ALPN cause says to enable http2 on the upstream" \
    grep -q "cause: .*no application protocol.*enable http2 on the upstream's TLS listener" <<< "$out"

# ---- fix: the family's directives, verified, applied ----
out=$(tt fix --plan --upstream "127.0.0.1:$((B + 10))@127.0.0.1:$B/untrusted/" --ca "$C/root.pem" \
    --cert-dir "$T/certs")
ok "fix --plan (grpc untrusted) writes grpc_ssl_trusted_certificate" \
    grep -q "^+ *grpc_ssl_trusted_certificate $T/certs/[^ ]*; grpc_ssl_name grpc.lab.test; }" <<< "$out"
ok "fix --plan (grpc untrusted) never writes proxy_ssl_" bash -c '! grep -q "^+.*proxy_ssl_" <<< "$1"' _ "$out"
ok "the what-ifs name the family too" bash -c '! grep -q "proxy_ssl_" <<< "$1"' _ "$out"
ok "the config is untouched by --plan" cmp -s "$T/nginx.conf" "$T/orig.conf"

fixcase() { # NAME PORT PATH [fix args...]
    local name=$1 port=$2 path=$3
    shift 3
    tt fix --apply --yes --watch 0 --cert-dir "$T/certs" \
        --upstream "127.0.0.1:$port@127.0.0.1:$B/$name/" "$@" >"$T/$name.fix" 2>&1
    is "$?" 0 "$name: fix --apply --yes succeeds"
    off=$(stat -c %s "$T/error.log")
    code=$(req "$path")
    sleep 0.1
    is "$(nginx_tls_said "$off")" "" "$name: nginx logs no TLS failure after the fix"
    out=$(tt probe --location-of "http://127.0.0.1:$B$path")
    is "$?" 0 "$name: the probe passes after the fix"
    ok "$name: the fix wrote no proxy_ssl_ directive" bash -c '! grep -q proxy_ssl_ "$1"' _ "$T/nginx.conf"
    LAST_CODE=$code
}
fixcase untrusted $((B + 10)) /untrusted/pkg.Svc/Call --ca "$C/root.pem"
is "$LAST_CODE" 200 "untrusted: the front answers 200 over HTTP/2 after the fix"
loc() { grep -A1 "location /$1/ " "$T/nginx.conf" | tr '\n' ' '; }
ok "untrusted: grpc_ssl_trusted_certificate in the location" \
    grep -q "grpc_ssl_trusted_certificate $T/certs/" <<< "$(loc untrusted)"
fixcase name $((B + 10)) /name/pkg.Svc/Call
is "$LAST_CODE" 200 "name: the front answers 200 over HTTP/2 after the fix"
ok "name: grpc_ssl_name grpc.lab.test and grpc_ssl_server_name on in the location" \
    grep -q "grpc_ssl_name grpc.lab.test; grpc_ssl_server_name on;" <<< "$(loc name)"
fixcase u $((B + 13)) /u/x --ca "$C/root.pem"
ok "u: uwsgi_ssl_trusted_certificate in the location" \
    grep -q "uwsgi_ssl_trusted_certificate $T/certs/" <<< "$(loc u)"
fixcase fail $((B + 14)) /fail/x
ok "fail: uwsgi_ssl_name set to a name of the certificate" \
    grep -qE "uwsgi_ssl_name [a-z0-9.]*example.com;" <<< "$(loc fail)"

# the ALPN failure has no fix on the nginx side
out=$(tt fix --plan --upstream "127.0.0.1:$((B + 11))@127.0.0.1:$B/noh2/" 2>&1)
ok "noh2: fix offers nothing on the nginx side" grep -q "fixes:  none on the nginx side" <<< "$out"
ok "noh2: and never grpc_ssl_verify off" bash -c '! grep -q "^+.*grpc_ssl_verify off" <<< "$1"' _ "$out"

done_testing
