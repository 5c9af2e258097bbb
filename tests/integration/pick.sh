#!/bin/bash
# pick.sh — probe picks the server nginx picks (issue 17): an http front with two name-based
# servers on one port (one proxies to a good TLS upstream, one to an untrusted one), the
# default for names nobody gives, a `listen PORT` server without server_name, and two stream
# servers with proxy_ssl on. Each request goes through the real front (curl with a Host
# header or --resolve, or a plain connection to the stream port); what nginx answers and logs
# must be what `probe --location-of URL` / `probe --server ADDR:PORT --stream` says, and the
# settings it used must be those of the server nginx named in its log line. And the default
# proxy_ssl_protocols follows the nginx version (TLSv1.3 from 1.23.4) against a TLSv1.3-only
# upstream: real nginx for its own version, stub `nginx -V`s for the others. Stream spellings:
# an upstream block's name as the default proxy_ssl_name, proxy_ssl_conf_command.
# Ports 22150-22169, 127.0.0.1 only.
. "$TT_SRCDIR/tests/tap.sh"
. "${LAB:-$TT_SRCDIR/tests/lab}/lab.sh" # lab_ports_busy

NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
unset NGINX
STREAM_MODULE=${LAB_STREAM_MODULE:-/usr/lib/nginx/modules/ngx_stream_module.so}
[ -x "$NGINX_BIN" ] || skip_all "no nginx"
[ -f "$STREAM_MODULE" ] || skip_all "no stream module"
command -v openssl >/dev/null || skip_all "no openssl"
command -v curl >/dev/null || skip_all "no curl"
B=22150
lab_ports_busy $B 20 && skip_all "ports 22150-22169 are in use"

T=$(mktemp -d)
chmod 0755 "$T"
PIDS=()
cleanup() {
    [ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# ---- certificates: a root that signs good.pick.test; a self-signed one nobody trusts ----
C=$T/c
mkdir -p "$C"
ossl() { openssl "$@" >/dev/null 2>&1 || bail "openssl $*"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=Pick Lab Root" -keyout "$C/root.key" -out "$C/root.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=good.pick.test" \
    -keyout "$C/good.key" -out "$C/good.csr"
printf 'subjectAltName=DNS:good.pick.test\nbasicConstraints=critical,CA:FALSE\n' > "$C/ext"
ossl x509 -req -in "$C/good.csr" -CA "$C/root.pem" -CAkey "$C/root.key" -CAcreateserial \
    -days 30 -extfile "$C/ext" -out "$C/good.pem"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=good.pick.test" -addext "subjectAltName=DNS:good.pick.test" \
    -keyout "$C/rogue.key" -out "$C/rogue.pem"

srv() { # PORT CERT KEY [s_server options]
    openssl s_server -quiet -www -accept "127.0.0.1:$1" -cert "$2" -key "$3" "${@:4}" \
        >/dev/null 2>&1 &
    PIDS+=($!)
}
GOOD=$((B + 1))
ROGUE=$((B + 2))
TLS13=$((B + 3)) # speaks TLSv1.3 only
srv $GOOD "$C/good.pem" "$C/good.key"
srv $ROGUE "$C/rogue.pem" "$C/rogue.key"
srv $TLS13 "$C/good.pem" "$C/good.key" -tls1_3

FRONT=$B          # two name-based servers
ANY=$((B + 4))    # `listen PORT` (no address), no server_name
S_GOOD=$((B + 5)) # stream servers
S_ROGUE=$((B + 6))
S_GROUP=$((B + 7))
S_CC=$((B + 8))
{
    [ "$(id -u)" = 0 ] && echo "user root;"
    cat <<CONF
load_module $STREAM_MODULE;
daemon on;
pid $T/nginx.pid;
error_log $T/error.log info;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $T/body; proxy_temp_path $T/proxy;
    fastcgi_temp_path $T/fcgi; uwsgi_temp_path $T/uwsgi; scgi_temp_path $T/scgi;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate $C/root.pem;
    proxy_ssl_name good.pick.test;
    proxy_ssl_session_reuse off;
    server {
        listen 127.0.0.1:$FRONT;
        server_name good.pick.test;
        location / { proxy_pass https://127.0.0.1:$GOOD; }
    }
    server {
        listen 127.0.0.1:$FRONT;
        server_name bad.pick.test *.bad.pick.test;
        location / { proxy_pass https://127.0.0.1:$ROGUE; }
    }
    server {
        listen $ANY;
        location / { proxy_pass https://127.0.0.1:$ROGUE; }
        # default proxy_ssl_protocols: nginx 1.22's has no TLSv1.3 (NGINX VERSIONS)
        location /tls13/ { proxy_pass https://127.0.0.1:$TLS13; }
    }
}
stream {
    proxy_ssl on;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate $C/root.pem;
    proxy_ssl_session_reuse off;
    upstream sgrp { server 127.0.0.1:$GOOD; }
    server { listen 127.0.0.1:$S_GOOD; proxy_ssl_name good.pick.test; proxy_pass 127.0.0.1:$GOOD; }
    server { listen $S_ROGUE; proxy_ssl_name good.pick.test; proxy_pass 127.0.0.1:$ROGUE; }
    # an upstream block: the name checked is the group's name (no URI in stream)
    server { listen 127.0.0.1:$S_GROUP; proxy_pass sgrp; }
    # proxy_ssl_conf_command is applied after proxy_ssl_protocols, as nginx does
    server {
        listen 127.0.0.1:$S_CC;
        proxy_ssl_name good.pick.test;
        proxy_ssl_server_name on;
        proxy_ssl_protocols TLSv1.2 TLSv1.3;
        proxy_ssl_conf_command MaxProtocol TLSv1.2;
        proxy_pass 127.0.0.1:$TLS13;
    }
}
CONF
} > "$T/nginx.conf"

listening() {
    grep -qiE "^ *[0-9]+: (0100007F|00000000):$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp
}
for port in $GOOD $ROGUE $TLS13; do
    for i in $(seq 100); do listening "$port" && break; sleep 0.05; done
    listening "$port" || bail "s_server on $port did not start"
done
"$NGINX_BIN" -p "$T" -c "$T/nginx.conf" -e "$T/error.log" 2>"$T/start.err" ||
    bail "nginx did not start: $(cat "$T/start.err")"
for port in $FRONT $ANY $S_GOOD $S_ROGUE $S_GROUP $S_CC; do
    for i in $(seq 50); do listening "$port" && break; sleep 0.1; done
done

# The first upstream [error]/[crit] line logged since offset $1.
nginx_line() {
    local i
    for i in $(seq 20); do
        tail -c +"$(($1 + 1))" "$T/error.log" | grep -a -q -E '\[(error|crit)\]' && break
        sleep 0.05
    done
    tail -c +"$(($1 + 1))" "$T/error.log" | grep -a -E '\[(error|crit)\]' | head -1
}
nginx_said() { # its message, as the probe's "nginx logs:" spells it
    nginx_line "$1" | sed -E 's/^[^*]*\*[0-9]+ //; s/ while (SSL handshaking|connecting|reading response header).*$//'
}
probe_says() { sed -n 's/^  nginx logs: //p' <<< "$1"; }

# ---- http: the Host header picks the server; probe --location-of picks the same ----
# name|curl arguments|URL for probe|server nginx logs|status
CASES=(
"good|-H Host:good.pick.test http://127.0.0.1:$FRONT/|http://good.pick.test:$FRONT/|good.pick.test|200"
"bad|--resolve bad.pick.test:$FRONT:127.0.0.1 http://bad.pick.test:$FRONT/x|http://bad.pick.test:$FRONT/x|bad.pick.test|502"
"wildcard|-H Host:api.bad.pick.test http://127.0.0.1:$FRONT/|http://api.bad.pick.test:$FRONT/|bad.pick.test|502"
"default|-H Host:nobody.pick.test http://127.0.0.1:$FRONT/|http://nobody.pick.test:$FRONT/|good.pick.test|200"
"ip|http://127.0.0.1:$FRONT/|http://127.0.0.1:$FRONT/|good.pick.test|200"
"any_address|-H Host:whatever.test http://127.0.0.1:$ANY/|http://127.0.0.1:$ANY/|-|502"
)
for c in "${CASES[@]}"; do
    IFS='|' read -r name cargs url server want_code <<< "$c"
    off=$(stat -c %s "$T/error.log")
    # shellcheck disable=SC2086
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 $cargs)
    is "$code" "$want_code" "$name: nginx answers $want_code"
    out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of "$url")
    rc=$?
    if [ "$want_code" = 200 ]; then
        is "$(probe_says "$out")" "" "$name: probe --location-of $url says ok, as nginx did"
        is "$rc" 0 "$name: probe exits 0"
        label_server=$server
    else
        said=$(nginx_said "$off")
        line=$(nginx_line "$off")
        ok "$name: nginx logged the failure" test -n "$said"
        is "$(probe_says "$out")" "$said" "$name: probe --location-of $url says what nginx logs"
        is "$rc" 1 "$name: probe exits 1"
        # the server nginx names in its line (", server: NAME,"; empty without server_name)
        logged=$(sed -n -E 's/.*, server: ([^,]*), .*/\1/p' <<< "$line")
        [ "$server" = - ] && server=""
        is "$logged" "$server" "$name: nginx logs server: '$server'"
        label_server=${server:-""}
    fi
    if [ -n "$label_server" ]; then
        ok "$name: the settings probed are those of server $label_server" \
            grep -q "^settings of location / in server $label_server " <<< "$out"
    else
        ok "$name: the settings probed are those of the server without server_name" \
            grep -q "^settings of location / in server (listen $ANY) " <<< "$out"
    fi
done

# ---- stream: named by the listen address ----
# PORT|probe arguments|ok?
SCASES=(
"$S_GOOD|--location-of tcp://127.0.0.1:$S_GOOD|0"
"$S_ROGUE|--server 127.0.0.1:$S_ROGUE --stream|1"
"$S_GOOD|--server 127.0.0.1:$S_GOOD --stream|0"
"$S_ROGUE|--location-of tcp://localhost:$S_ROGUE|1"
"$S_GROUP|--server 127.0.0.1:$S_GROUP --stream|1"
"$S_CC|--server 127.0.0.1:$S_CC --stream|1"
)
for c in "${SCASES[@]}"; do
    IFS='|' read -r port pargs want_rc <<< "$c"
    off=$(stat -c %s "$T/error.log")
    # the stream server passes the bytes on to s_server -www once its handshake passed
    body=$(curl -s --max-time 10 --http1.0 "http://127.0.0.1:$port/" 2>/dev/null)
    # shellcheck disable=SC2086
    out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" $pargs)
    rc=$?
    is "$rc" "$want_rc" "stream $port ($pargs): probe exits $want_rc"
    ok "stream $port: the settings probed are the stream server's" \
        grep -q "^settings of stream server [0-9.]*:*$port " <<< "$out"
    if [ "$want_rc" = 0 ]; then
        ok "stream $port: nginx passed the connection on (s_server answered)" \
            grep -q "s_server" <<< "$body"
        is "$(probe_says "$out")" "" "stream $port: probe says ok"
    else
        said=$(nginx_said "$off")
        ok "stream $port: nginx logged the failure" test -n "$said"
        is "$(probe_says "$out")" "$said" "stream $port: probe says what nginx logs"
    fi
done

# ---- the default proxy_ssl_protocols follows nginx -V (TLSv1.3 from 1.23.4) ----
version=$("$NGINX_BIN" -V 2>&1 | sed -n 's|^nginx version: nginx/||p')
off=$(stat -c %s "$T/error.log")
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$ANY/tls13/")
case $version in
1.2[4-9].* | 1.[3-9][0-9].* | 1.23.[4-9]* | 1.23.[1-9][0-9]*) want_code=200 ;;
*) want_code=502 ;;
esac
is "$code" "$want_code" "nginx $version with the default proxy_ssl_protocols answers $want_code from a TLSv1.3-only upstream"
out=$("$TLSTRIAGE" --nginx "$NGINX_BIN" probe --conf "$T/nginx.conf" --location-of "http://127.0.0.1:$ANY/tls13/")
rc=$?
if [ "$want_code" = 502 ]; then
    said=$(nginx_said "$off")
    ok "nginx $version logged the failure" test -n "$said"
    is "$(probe_says "$out")" "$said" "probe under nginx $version's default says what nginx logs"
    is "$rc" 1 "and exits 1"
else
    is "$rc" 0 "probe under nginx $version's default passes, as nginx does"
fi
printf '#!/bin/sh\necho "nginx version: nginx/1.24.0" >&2\n' > "$T/nginx-1.24"
printf '#!/bin/sh\necho "nginx version: nginx/1.23.3" >&2\n' > "$T/nginx-1.23.3"
chmod +x "$T/nginx-1.24" "$T/nginx-1.23.3"
"$TLSTRIAGE" --nginx "$T/nginx-1.24" probe --conf "$T/nginx.conf" \
    --location-of "http://127.0.0.1:$ANY/tls13/" >/dev/null
is $? 0 "under nginx 1.24.0 (TLSv1.3 by default) the same block passes"
"$TLSTRIAGE" --nginx "$T/nginx-1.23.3" probe --conf "$T/nginx.conf" \
    --location-of "http://127.0.0.1:$ANY/tls13/" >/dev/null
is $? 1 "under nginx 1.23.3 it fails"
"$TLSTRIAGE" --nginx "$T/nginx-1.24" probe "127.0.0.1:$TLS13" --trusted "$C/root.pem" \
    --name good.pick.test >/dev/null
is $? 0 "probe HOST:PORT without --protocols takes nginx 1.24.0's default"
"$TLSTRIAGE" --nginx "$T/nginx-1.24" probe "127.0.0.1:$TLS13" --trusted "$C/root.pem" \
    --name good.pick.test --protocols "TLSv1.2" >/dev/null
is $? 1 "and --protocols still overrides it"

ok "stream upstream block: nginx checks the group's name" \
    grep -q 'upstream SSL certificate does not match "sgrp"' "$T/error.log"

# ---- proxy_ssl_conf_command: the probe applies it; one OpenSSL refuses is nginx's [emerg] ----
sed "s|proxy_ssl_conf_command MaxProtocol TLSv1.2;|proxy_ssl_conf_command NoSuchCommand x;|" \
    "$T/nginx.conf" | sed "s|^pid .*|pid $T/t.pid;|" > "$T/badcc.conf"
"$NGINX_BIN" -t -p "$T" -c "$T/badcc.conf" -e "$T/t.log" > "$T/t.out" 2>&1
ok "nginx -t refuses an unknown proxy_ssl_conf_command" test $? -ne 0
emerg=$(grep -a -o 'SSL_CONF_cmd("NoSuchCommand", "x") failed[^[]*' "$T/t.out" | head -1 |
    sed -E 's/ in [^ ]*:[0-9]+$//; s/[[:space:]]+$//')
ok "nginx -t names SSL_CONF_cmd" test -n "$emerg"
out=$("$TLSTRIAGE" probe --conf "$T/badcc.conf" --server "127.0.0.1:$S_CC" --stream 2>/dev/null)
is $? 2 "probe of that block exits 2 (settings nginx refuses)"
is "$(probe_says "$out")" "$emerg" "and says what nginx -t says"

# ---- usage ----
"$TLSTRIAGE" probe --conf "$T/nginx.conf" --stream >/dev/null 2>&1
is $? 2 "--stream without --server is a usage error"
err=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of "tcp://127.0.0.1:$((B + 9))" 2>&1)
is $? 2 "a stream address nothing listens on exits 2"
ok "and says no stream server matches" grep -q "no stream server matches 127.0.0.1:$((B + 9))" <<< "$err"
err=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of "tcp://front.test:$S_GOOD" 2>&1)
is $? 2 "a stream server named by a host name is refused"
ok "and the message says to give the listen address" grep -q "listen address" <<< "$err"

done_testing
