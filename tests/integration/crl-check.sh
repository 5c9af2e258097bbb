#!/bin/bash
# crl-check.sh — check's TT010 (the proxy_ssl_crl file) and TT009 (nginx's own ssl_* directives
# taken for the upstream's), and the revocation facts of the probe, against real nginx and
# real openssl: an expired CRL, a CRL of another CA and an unloadable file give what nginx
# logs (or what nginx -t says); a revoked leaf shows the CRL's own revocation date and reason;
# ssl_verify_depth at server level leaves proxy_ssl_verify_depth at 1 (nginx fails the chain),
# and ssl_trusted_certificate does not make diagnose's verify-on probe pass.
# Ports 22210-22239, 127.0.0.1 only.
. "$TT_SRCDIR/tests/tap.sh"
. "${LAB:-$TT_SRCDIR/tests/lab}/lab.sh" # lab_ports_busy

NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
unset NGINX
[ -x "$NGINX_BIN" ] || skip_all "no nginx"
command -v openssl >/dev/null || skip_all "no openssl"
command -v curl >/dev/null || skip_all "no curl"
command -v python3 >/dev/null || skip_all "no python3"
B=22210
lab_ports_busy $B 30 && skip_all "ports 22210-22239 are in use"

T=$(mktemp -d)
PIDS=()
cleanup() {
    [ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# ---- a CA with `openssl ca` (an index to revoke from), and a foreign one ----
C=$T/c
mkdir -p "$C"
ossl() { openssl "$@" >/dev/null 2>&1 || bail "openssl $*"; }
mkca() { # DIR CN
    mkdir -p "$1/newcerts"
    : > "$1/index.txt"
    echo 1000 > "$1/serial"
    echo 1000 > "$1/crlnumber"
    cat > "$1/ca.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
default_ca = cc
[cc]
dir = $1
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $1/root.pem
private_key = $1/root.key
default_md = sha256
default_days = 30
default_crl_days = 7
policy = pol
unique_subject = no
[pol]
commonName = supplied
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[srv]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
subjectAltName = DNS:\${ENV::SAN}
CNF
    ossl req -x509 -config "$1/ca.cnf" -extensions v3_ca -newkey ec \
        -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/root.key" -out "$1/root.pem" \
        -days 30 -subj "/CN=$2"
}
export SAN=unused
mkca "$C/ca" "CRL Check Root"
mkca "$C/other" "Other Root"
leaf() { # NAME CN
    SAN=$2 ossl req -new -config "$C/ca/ca.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -nodes -keyout "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$2"
    SAN=$2 ossl ca -batch -config "$C/ca/ca.cnf" -extensions srv -in "$C/$1.csr" \
        -out "$C/$1.pem" -notext
}
leaf good good.crl.test
leaf revoked revoked.crl.test
ossl ca -config "$C/ca/ca.cnf" -revoke "$C/revoked.pem" -crl_reason keyCompromise
ossl ca -config "$C/ca/ca.cnf" -gencrl -out "$C/crl.pem"
ossl ca -config "$C/ca/ca.cnf" -gencrl -crl_lastupdate 20200101000000Z \
    -crl_nextupdate 20200201000000Z -out "$C/crl-expired.pem"
ossl ca -config "$C/ca/ca.cnf" -gencrl -crlhours 20 -out "$C/crl-soon.pem"
ossl ca -config "$C/other/ca.cnf" -gencrl -out "$C/crl-foreign.pem"
echo "not a crl" > "$C/crl-garbage.pem"

# a chain with two intermediates: deeper than nginx's default proxy_ssl_verify_depth 1
D=$T/d
mkdir -p "$D"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > "$D/ca.ext"
printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:deep.crl.test\n' > "$D/leaf.ext"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/root.key" \
    -out "$D/root.pem" -days 30 -subj "/CN=Deep Root" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
sign() { # NAME CN ISSUER EXT
    ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/$1.key" \
        -out "$D/$1.csr" -subj "/CN=$2"
    ossl x509 -req -in "$D/$1.csr" -CA "$D/$3.pem" -CAkey "$D/$3.key" -CAcreateserial \
        -days 30 -extfile "$D/$4" -out "$D/$1.pem"
}
sign int1 "Deep Int 1" root ca.ext
sign int2 "Deep Int 2" int1 ca.ext
sign leaf deep.crl.test int2 leaf.ext
cat "$D/int2.pem" "$D/int1.pem" > "$D/chain.pem"

srv() { # PORT ARGS...
    local port=$1
    shift
    openssl s_server -quiet -www -accept "127.0.0.1:$port" "$@" >/dev/null 2>&1 &
    PIDS+=($!)
}
srv $((B + 11)) -cert "$C/revoked.pem" -key "$C/revoked.key"
srv $((B + 12)) -cert "$C/good.pem" -key "$C/good.key"
srv $((B + 14)) -cert "$C/good.pem" -key "$C/good.key"
srv $((B + 15)) -cert "$D/leaf.pem" -key "$D/leaf.key" -cert_chain "$D/chain.pem"

# name|port|crl file|verify
SCEN=(
"revoked|$((B + 11))|crl.pem|on"
"good|$((B + 12))|crl.pem|on"
"expired|$((B + 12))|crl-expired.pem|on"
"foreign|$((B + 12))|crl-foreign.pem|on"
"soon|$((B + 12))|crl-soon.pem|on"
"off|$((B + 12))|crl-garbage.pem|off"
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
    proxy_ssl_session_reuse off;
    server {
        listen 127.0.0.1:$B;
        server_name front.crl.test;
CONF
    for s in "${SCEN[@]}"; do
        IFS='|' read -r name port crl verify <<< "$s"
        sni=good.crl.test
        [ "$name" = revoked ] && sni=revoked.crl.test
        echo "        location /$name { proxy_pass https://127.0.0.1:$port;"
        echo "            proxy_ssl_verify $verify; proxy_ssl_name $sni;"
        echo "            proxy_ssl_trusted_certificate $C/ca/root.pem;"
        echo "            proxy_ssl_crl $C/$crl; }"
    done
    cat <<CONF
    }
    server {
        listen 127.0.0.1:$((B + 1));
        server_name twin.crl.test;
        ssl_trusted_certificate $C/ca/root.pem;
        location /twin { proxy_pass https://127.0.0.1:$((B + 14)); proxy_ssl_name good.crl.test; }
    }
    server {
        listen 127.0.0.1:$((B + 2));
        server_name deep.crl.test;
        ssl_verify_depth 3;
        location /deep { proxy_pass https://127.0.0.1:$((B + 15)); proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $D/root.pem; proxy_ssl_name deep.crl.test; }
    }
}
CONF
} > "$T/nginx.conf"

listening() {
    grep -qiE "^ *[0-9]+: 0100007F:$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp
}
for port in $((B + 11)) $((B + 12)) $((B + 14)) $((B + 15)); do
    for i in $(seq 100); do listening "$port" && break; sleep 0.05; done
    listening "$port" || bail "s_server on $port did not start"
done
"$NGINX_BIN" -p "$T" -c "$T/nginx.conf" -e "$T/error.log" 2>"$T/start.err" ||
    bail "nginx did not start: $(cat "$T/start.err")"
for i in $(seq 50); do listening $B && listening $((B + 2)) && break; sleep 0.1; done
ok "nginx starts with an unloadable proxy_ssl_crl under proxy_ssl_verify off" \
    test -f "$T/nginx.pid"

nginx_said() { # the first upstream [error]/[crit] message logged since offset $1
    tail -c +"$(($1 + 1))" "$T/error.log" | grep -a -E '\[(error|crit)\]' | head -1 |
        sed -E 's/^[^*]*\*[0-9]+ //; s/ while (SSL handshaking|connecting|reading response header).*$//'
}
get() { # PORT PATH -> "CODE|what nginx logged"
    local off code
    off=$(stat -c %s "$T/error.log")
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$1$2")
    sleep 0.1
    echo "$code|$(nginx_said "$off")"
}

# check, once, as JSON: "LINE RULE SEVERITY MESSAGE" per finding of nginx.conf
"$TLSTRIAGE" check --format json --conf "$T/nginx.conf" > "$T/check.json"
finding() { # RULE LINE -> "severity|message" of that finding, or ""
    python3 - "$T/check.json" "$1" "$2" <<'PY'
import json, sys
for f in json.load(open(sys.argv[1]))["findings"]:
    if f["rule"] == sys.argv[2] and str(f["line"]) == sys.argv[3]:
        print(f["severity"] + "|" + f["message"]); break
PY
}
crl_line() { grep -n "proxy_ssl_crl $C/$1;" "$T/nginx.conf" | head -1 | cut -d: -f1; }

# ---- TT010 against what nginx does with each CRL ----
r=$(get $B /expired)
is "$r" "502|upstream SSL certificate verify error: (12:CRL has expired)" \
    "expired CRL: nginx answers 502 with code 12"
f=$(finding TT010 "$(crl_line crl-expired.pem)")
is "${f%%|*}" error "expired CRL: TT010 is an error"
case $f in *"${r#*verify error: }"*) ok "expired CRL: TT010 names nginx's (12:CRL has expired)" true ;;
*) ok "expired CRL: TT010 names nginx's (12:CRL has expired)" false; echo "# $f" ;; esac

r=$(get $B /foreign)
is "$r" "502|upstream SSL certificate verify error: (3:unable to get certificate CRL)" \
    "a CRL of another CA only: nginx answers 502 with code 3"
f=$(finding TT010 "$(crl_line crl-foreign.pem)")
is "${f%%|*}" error "CRL of another CA: TT010 is an error"
case $f in *"${r#*verify error: }"*) ok "CRL of another CA: TT010 names nginx's code 3" true ;;
*) ok "CRL of another CA: TT010 names nginx's code 3" false; echo "# $f" ;; esac

r=$(get $B /soon)
is "$r" "200|" "a CRL valid for 20 more hours: nginx answers 200"
f=$(finding TT010 "$(crl_line crl-soon.pem)")
is "${f%%|*}" warning "a CRL expiring within 3 days: TT010 warns"

r=$(get $B /good)
is "$r" "200|" "current CRL, good leaf: nginx answers 200"
is "$(finding TT010 "$(crl_line crl.pem)")" "" "current CRL from the trusted CA: no TT010"
r=$(get $B /off)
is "$r" "200|" "verify off: nginx never loads the garbage CRL and answers 200"
is "$(finding TT010 "$(crl_line crl-garbage.pem)")" "" "verify off: no TT010 for the garbage CRL"
out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of "http://127.0.0.1:$B/off" 2>&1)
ok "verify off: the probe does not call the CRL a config_error (nginx loads none)" \
    bash -c '! grep -q config_error <<< "$1"' _ "$out"

# ---- an unloadable CRL, as nginx -t says it ----
for bad in crl-garbage.pem no-such.pem; do
    sed "s|proxy_ssl_crl $C/crl.pem;|proxy_ssl_crl $C/$bad;|; s|^pid .*|pid $T/t.pid;|" \
        "$T/nginx.conf" > "$T/bad.conf"
    "$NGINX_BIN" -t -q -p "$T" -c "$T/bad.conf" -e stderr > "$T/t.out" 2>&1
    ok "nginx -t refuses $bad under verify on" test $? -ne 0
    emerg=$(sed -n 's/.*\[emerg\] [0-9#]*: //p' "$T/t.out" | head -1)
    got=$("$TLSTRIAGE" check --format json --conf "$T/bad.conf" | python3 -c '
import json, sys
print("\n".join(f["message"] for f in json.load(sys.stdin)["findings"] if f["rule"] == "TT010"))' |
        grep -F "$C/$bad" | head -1)
    is "$got" "proxy_ssl_crl: nginx -t refuses it: $emerg" "TT010 for $bad is nginx -t's [emerg]"
done

# ---- revocation facts of the chain certificates ----
out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of "http://127.0.0.1:$B/revoked")
want_at=$(openssl crl -in "$C/crl.pem" -noout -text | sed -n 's/^ *Revocation Date: //p' | head -1)
want_at=$(date -u -d "$want_at" +%Y-%m-%dT%H:%M:%SZ)
is "$(sed -n 's/^ *revocation: //p' <<< "$out" | head -1)" "revoked at $want_at (keyCompromise)" \
    "probe text: the leaf is revoked at the CRL's revocation date, with its reason"
j=$("$TLSTRIAGE" probe --format json --conf "$T/nginx.conf" \
    --location-of "http://127.0.0.1:$B/revoked" | python3 -c '
import json, sys
d = json.load(sys.stdin); d = d[0] if isinstance(d, list) else d
r = d["chain"][0]["revocation"]
print(r["status"], r["reason"], r["revoked_at"], r["crl_issuer"])')
is "$j" "revoked keyCompromise $want_at CN = CRL Check Root" "probe JSON: chain[0].revocation"
want_next=$(date -u -d "$(openssl crl -in "$C/crl.pem" -noout -nextupdate | cut -d= -f2)" \
    +%Y-%m-%dT%H:%M:%SZ)
out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of "http://127.0.0.1:$B/good")
is "$(sed -n 's/^ *revocation: //p' <<< "$out" | head -1)" \
    "not revoked (CRL from CN = CRL Check Root, next update $want_next)" \
    "probe text: the good leaf is not revoked, with the CRL's issuer and next update"
out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of "http://127.0.0.1:$B/foreign")
is "$(sed -n 's/^ *revocation: //p' <<< "$out" | head -1)" "no CRL from its issuer" \
    "probe text: no CRL from the leaf's issuer (nginx's code 3)"
out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of "http://127.0.0.1:$((B + 1))/twin")
ok "no CRL configured: no revocation line" bash -c '! grep -q "revocation:" <<< "$1"' _ "$out"

# ---- diagnose: a revoked certificate's cause says what to do ----
out=$("$TLSTRIAGE" --conf "$T/nginx.conf" --log "$T/error.log" diagnose \
    --upstream "127.0.0.1:$((B + 11))" 2>&1)
ok "diagnose: the revoked upstream must get a new certificate" \
    grep -q "the upstream must get a new certificate and key" <<< "$out"
ok "diagnose: and it is never fixed by trusting it differently" \
    grep -q "never fixed by trusting it differently" <<< "$out"

# ---- TT009: ssl_verify_depth in the server does not reach the upstream (OpenSSL 3 reports
# the chain deeper than proxy_ssl_verify_depth 1 as code 20) ----
r=$(get $((B + 2)) /deep)
is "${r%%|*}" 502 "ssl_verify_depth 3 in the server: nginx still fails the 4-certificate chain"
ok "nginx logs a verify error for it" grep -q "verify error" <<< "$r"
dline=$(grep -n "ssl_verify_depth 3;" "$T/nginx.conf" | cut -d: -f1)
f=$(finding TT009 "$dline")
is "${f%%|*}" warning "TT009 warns at the ssl_verify_depth line"
case $f in *"proxy_ssl_verify_depth"*) ok "TT009 names proxy_ssl_verify_depth" true ;;
*) ok "TT009 names proxy_ssl_verify_depth" false; echo "# $f" ;; esac
out=$("$TLSTRIAGE" --conf "$T/nginx.conf" --log "$T/error.log" diagnose \
    --upstream "127.0.0.1:$((B + 15))" 2>&1)
ok "diagnose: the cause names ssl_verify_depth and its file:line" \
    grep -qF "ssl_verify_depth 3 at $T/nginx.conf:$dline is for nginx's own TLS server" <<< "$out"

# ---- diagnose: ssl_trusted_certificate in the server, verify never on ----
out=$("$TLSTRIAGE" --conf "$T/nginx.conf" --log "$T/error.log" diagnose \
    --upstream "127.0.0.1:$((B + 14))" 2>&1)
tline=$(grep -n "ssl_trusted_certificate $C/ca/root.pem;" "$T/nginx.conf" | grep -v proxy_ |
    head -1 | cut -d: -f1)
ok "diagnose: verification on would fail without proxy_ssl_trusted_certificate" \
    grep -q "With verification on: nginx says" <<< "$out"
ok "diagnose: the cause names ssl_trusted_certificate's file:line and what to write" \
    grep -qF "ssl_trusted_certificate $C/ca/root.pem at $T/nginx.conf:$tline is for nginx's own TLS server" <<< "$out"
ok "diagnose: and proxy_ssl_trusted_certificate as the directive to write" \
    grep -qF "write \"proxy_ssl_trusted_certificate $C/ca/root.pem;\" instead" <<< "$out"
if [ -n "${TT_DEBUG:-}" ]; then printf "%s\n" "$out" | sed "s/^/# /"; fi

done_testing
