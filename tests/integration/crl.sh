#!/bin/bash
# crl.sh — revocation (proxy_ssl_crl) and encrypted client keys (proxy_ssl_password_file)
# against real nginx and real openssl (issue 17): a CA made with `openssl ca`, a revoked
# leaf, a current, an expired and a foreign CRL; nginx's 502 and log line must equal the
# probe's verdict and message, and a CRL file nginx refuses must read as nginx's [emerg].
# An encrypted client key whose password file's second line is right: check reports no
# TT007, and an `openssl s_server -Verify 1` upstream gets the client certificate.
# Ports 21500-21529, 127.0.0.1 only.
. "$TT_SRCDIR/tests/tap.sh"
. "${LAB:-$TT_SRCDIR/tests/lab}/lab.sh" # lab_ports_busy

NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
unset NGINX
[ -x "$NGINX_BIN" ] || skip_all "no nginx"
command -v openssl >/dev/null || skip_all "no openssl"
command -v curl >/dev/null || skip_all "no curl"
B=21500
lab_ports_busy $B 30 && skip_all "ports 21500-21529 are in use"

T=$(mktemp -d)
PIDS=()
cleanup() {
    [ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# ---- the CA, with `openssl ca` so that it keeps an index to revoke from ----
C=$T/c
mkdir -p "$C/ca/newcerts"
: > "$C/ca/index.txt"
echo 1000 > "$C/ca/serial"
echo 1000 > "$C/ca/crlnumber"
cat > "$C/ca.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
default_ca = cc
[cc]
dir = $C/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $C/root.pem
private_key = $C/root.key
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
[cli]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF
export SAN=unused
ossl() { openssl "$@" >/dev/null 2>&1 || bail "openssl $*"; }
ossl req -x509 -config "$C/ca.cnf" -extensions v3_ca -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -nodes -keyout "$C/root.key" -out "$C/root.pem" -days 30 -subj "/CN=CRL Lab Root"
leaf() { # NAME CN EXTENSIONS
    SAN=$2 ossl req -new -config "$C/ca.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$2"
    SAN=$2 ossl ca -batch -config "$C/ca.cnf" -extensions "$3" -in "$C/$1.csr" -out "$C/$1.pem" \
        -notext
}
leaf good good.crl.test srv
leaf revoked revoked.crl.test srv
leaf client client cli
ossl ca -config "$C/ca.cnf" -revoke "$C/revoked.pem" -crl_reason keyCompromise
ossl ca -config "$C/ca.cnf" -gencrl -out "$C/crl.pem"
ossl ca -config "$C/ca.cnf" -gencrl -crl_lastupdate 20200101000000Z \
    -crl_nextupdate 20200201000000Z -out "$C/crl-expired.pem"
# a CRL file that holds no CRL of this CA (only its certificate): code 3
cp "$C/root.pem" "$C/crl-none.pem"
echo "not a crl" > "$C/crl-garbage.pem"
# the client key, encrypted; the password file's second line is the passphrase
ossl pkey -in "$C/client.key" -aes256 -passout pass:s3cret -out "$C/client-enc.key"
printf 'wrong\ns3cret\n' > "$C/pw"
printf 'wrong\nalso wrong\n' > "$C/pw-bad"
ok "the encrypted key is encrypted" grep -q ENCRYPTED "$C/client-enc.key"

srv() { # PORT ARGS...
    local port=$1
    shift
    openssl s_server -quiet -www -accept "127.0.0.1:$port" "$@" >/dev/null 2>&1 &
    PIDS+=($!)
}
srv $((B + 11)) -cert "$C/revoked.pem" -key "$C/revoked.key"
srv $((B + 12)) -cert "$C/good.pem" -key "$C/good.key"
srv $((B + 13)) -Verify 1 -CAfile "$C/root.pem" -cert "$C/good.pem" -key "$C/good.key"

# name|port|directives|probe options
SCEN=(
"revoked|$((B + 11))|proxy_ssl_name revoked.crl.test; proxy_ssl_crl $C/crl.pem;|--name revoked.crl.test --crl $C/crl.pem"
"good|$((B + 12))|proxy_ssl_name good.crl.test; proxy_ssl_crl $C/crl.pem;|--name good.crl.test --crl $C/crl.pem"
"crl_expired|$((B + 12))|proxy_ssl_name good.crl.test; proxy_ssl_crl $C/crl-expired.pem;|--name good.crl.test --crl $C/crl-expired.pem"
"crl_missing|$((B + 12))|proxy_ssl_name good.crl.test; proxy_ssl_crl $C/crl-none.pem;|--name good.crl.test --crl $C/crl-none.pem"
"mtls_encrypted|$((B + 13))|proxy_ssl_name good.crl.test; proxy_ssl_certificate $C/client.pem; proxy_ssl_certificate_key $C/client-enc.key; proxy_ssl_password_file $C/pw;|--name good.crl.test --cert $C/client.pem --key $C/client-enc.key --password-file $C/pw"
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
    server {
        listen 127.0.0.1:$B;
        server_name front.crl.test;
CONF
    for s in "${SCEN[@]}"; do
        IFS='|' read -r name port dirs _ <<< "$s"
        echo "        location /$name { proxy_pass https://127.0.0.1:$port; proxy_ssl_verify on;"
        echo "            proxy_ssl_trusted_certificate $C/root.pem;"
        echo "            proxy_ssl_session_reuse off; $dirs }"
    done
    echo "    }"
    echo "}"
} > "$T/nginx.conf"

listening() {
    grep -qiE "^ *[0-9]+: 0100007F:$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp
}
for port in $((B + 11)) $((B + 12)) $((B + 13)); do
    for i in $(seq 100); do listening "$port" && break; sleep 0.05; done
    listening "$port" || bail "s_server on $port did not start"
done
"$NGINX_BIN" -p "$T" -c "$T/nginx.conf" -e "$T/error.log" 2>"$T/start.err" ||
    bail "nginx did not start: $(cat "$T/start.err")"
for i in $(seq 50); do listening $B && break; sleep 0.1; done

nginx_said() { # the first upstream [error]/[crit] message logged since offset $1
    tail -c +"$(($1 + 1))" "$T/error.log" | grep -a -E '\[(error|crit)\]' | head -1 |
        sed -E 's/^[^*]*\*[0-9]+ //; s/ while (SSL handshaking|connecting|reading response header).*$//'
}

declare -A WANT=(
    [revoked]="upstream SSL certificate verify error: (23:certificate revoked)"
    [good]=""
    [crl_expired]="upstream SSL certificate verify error: (12:CRL has expired)"
    [crl_missing]="upstream SSL certificate verify error: (3:unable to get certificate CRL)"
    [mtls_encrypted]=""
)
for s in "${SCEN[@]}"; do
    IFS='|' read -r name port _ popts <<< "$s"
    off=$(stat -c %s "$T/error.log")
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$B/$name")
    sleep 0.05
    said=$(nginx_said "$off")
    is "$said" "${WANT[$name]}" "$name: nginx logs what OpenSSL's CRL check says"
    if [ -z "${WANT[$name]}" ]; then
        is "$code" 200 "$name: nginx answers 200"
    else
        is "$code" 502 "$name: nginx answers 502"
    fi
    # shellcheck disable=SC2086
    out=$("$TLSTRIAGE" probe "127.0.0.1:$port" --trusted "$C/root.pem" $popts)
    rc=$?
    is "$(printf '%s\n' "$out" | sed -n 's/^  nginx logs: //p')" "$said" \
        "$name: probe (command line) says what nginx logs"
    is "$rc" "$([ "$code" = 200 ] && echo 0 || echo 1)" "$name: probe's exit status agrees"
    out=$("$TLSTRIAGE" probe --conf "$T/nginx.conf" --location-of "http://127.0.0.1:$B/$name")
    is "$(printf '%s\n' "$out" | sed -n 's/^  nginx logs: //p')" "$said" \
        "$name: probe --location-of (the config's settings) says what nginx logs"
done

# The probe without the CRL would say ok: the CRL is what makes the difference.
out=$("$TLSTRIAGE" probe "127.0.0.1:$((B + 11))" --trusted "$C/root.pem" --name revoked.crl.test)
ok "without --crl the revoked upstream passes (so --crl is what the probe checks)" \
    test $? -eq 0

# The JSON of a probe from the config keeps the revocation code.
out=$("$TLSTRIAGE" probe --format json --conf "$T/nginx.conf" \
    --location-of "http://127.0.0.1:$B/revoked")
ok "probe --format json: verify_code 23" grep -q '"verify_code": *23' <<< "$out"

# diagnose / fix: a revoked certificate is never "fixed" by trusting it differently.
out=$("$TLSTRIAGE" --conf "$T/nginx.conf" --log "$T/error.log" diagnose 2>&1)
printf "%s\n" "$out" | head -30 | sed "s/^/# /"
ok "diagnose explains the revocation and does not offer a trust fix" \
    grep -q "never fixed by trusting it differently" <<< "$out"
ok "diagnose offers no pin/ca/chain fix for the revoked upstream" \
    bash -c '! grep -qiE "strategy: *(pin|ca|chain)|\[(pin|ca|chain)\]" <<< "$1"' _ "$out"
ok "the revocation's cause says nothing about an intermediate (the chain is complete)" \
    bash -c '! grep -q "intermediate" <<< "$1"' _ "$(grep -A8 "^upstream 127.0.0.1:$((B + 11)) " <<< "$out")"

# A CRL file nginx cannot load: nginx -t's [emerg] is the probe's config_error.
sed "s|proxy_ssl_crl $C/crl.pem;|proxy_ssl_crl $C/crl-garbage.pem;|" "$T/nginx.conf" |
    sed "s|^pid .*|pid $T/t.pid;|" > "$T/bad.conf"
"$NGINX_BIN" -t -p "$T" -c "$T/bad.conf" -e "$T/t.log" > "$T/t.out" 2>&1
ok "nginx -t refuses a garbage CRL file" test $? -ne 0
emerg=$(grep -a -o 'X509_LOOKUP_load_file([^)]*) failed (SSL: [^)]*)' "$T/t.out" | head -1)
ok "nginx -t names X509_LOOKUP_load_file" test -n "$emerg"
out=$("$TLSTRIAGE" probe "127.0.0.1:$((B + 12))" --trusted "$C/root.pem" --name good.crl.test \
    --crl "$C/crl-garbage.pem" 2>/dev/null)
ok "probe --crl GARBAGE exits 2 (settings nginx refuses)" test $? -eq 2
ok "probe --crl GARBAGE: config_error" grep -q "FAIL config_error" <<< "$out"
is "$(printf '%s\n' "$out" | sed -n 's/^  nginx logs: //p')" "$emerg" \
    "probe --crl GARBAGE says what nginx -t says"

# Encrypted client keys: check reads the password file (no TT007), never prompts.
out=$(timeout 20 "$TLSTRIAGE" --conf "$T/nginx.conf" check </dev/null 2>&1)
ok "check: no TT007 for the encrypted key with proxy_ssl_password_file" \
    bash -c '! grep -q TT007 <<< "$1"' _ "$out"
ok "check never prints OpenSSL's prompt" bash -c '! grep -q "pass phrase" <<< "$1"' _ "$out"
sed "s|proxy_ssl_password_file $C/pw;|proxy_ssl_password_file $C/pw-bad;|" "$T/nginx.conf" \
    > "$T/pwbad.conf"
out=$(timeout 20 "$TLSTRIAGE" --conf "$T/pwbad.conf" check </dev/null 2>&1)
ok "check: a wrong password file is TT007" grep -q TT007 <<< "$out"
ok "check: and the message names the password file" grep -qF "$C/pw-bad" <<< "$out"
"$NGINX_BIN" -t -p "$T" -c "$T/pwbad.conf" -e "$T/t.log" > "$T/t.out" 2>&1
ok "nginx -t refuses the wrong password file too" test $? -ne 0
out=$(timeout 20 "$TLSTRIAGE" probe "127.0.0.1:$((B + 13))" --trusted "$C/root.pem" \
    --name good.crl.test --cert "$C/client.pem" --key "$C/client-enc.key" \
    --password-file "$C/pw-bad" </dev/null 2>&1)
ok "probe --password-file WRONG exits 2 (settings nginx refuses)" test $? -eq 2
ok "probe --password-file WRONG names the password file" grep -qF "$C/pw-bad" <<< "$out"
out=$(timeout 20 "$TLSTRIAGE" probe "127.0.0.1:$((B + 13))" --trusted "$C/root.pem" \
    --name good.crl.test --cert "$C/client.pem" --key "$C/client-enc.key" </dev/null 2>&1)
ok "probe without a password file exits 2, without a prompt" test $? -eq 2
ok "and says the key is encrypted" grep -q "encrypted" <<< "$out"
printf "%s\n" "$out" | head -5 | sed "s/^/# /"
ok "and never prints OpenSSL's prompt" bash -c '! grep -q "pass phrase" <<< "$1"' _ "$out"

done_testing
