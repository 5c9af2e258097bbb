#!/bin/bash
# no-prompt.sh — a client key encrypted with a passphrase (proxy_ssl_certificate_key) never
# makes tlstriage prompt ("Enter PEM pass phrase:") or wait: probe and check say the key is
# encrypted and go on, with stdin a pipe, with no controlling terminal (setsid), and on a
# real terminal (script's pty). Every run is bounded by timeout; nothing listens or connects.
. "$TT_SRCDIR/tests/tap.sh"

command -v openssl >/dev/null || skip_all "no openssl"
command -v timeout >/dev/null || skip_all "no timeout"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ossl() { openssl "$@" >/dev/null 2>&1 || bail "openssl $*"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/plain.key" \
    -out "$T/client.pem" -subj /CN=client.test -days 30
ossl pkey -in "$T/plain.key" -aes256 -passout pass:secret -out "$T/enc.key"
cat >"$T/nginx.conf" <<CONF
events {}
http {
    server {
        listen 127.0.0.1:20297;
        location / {
            proxy_pass https://127.0.0.1:1;
            proxy_ssl_certificate $T/client.pem;
            proxy_ssl_certificate_key $T/enc.key;
        }
    }
}
CONF

WANT='the key is encrypted and no passphrase is configured'
# run NAME MODE ARGS...: MODE pipe (stdin a pipe that holds a passphrase), setsid (no
# controlling terminal), pty (a real terminal, from script(1)).
run() {
    local name=$1 mode=$2 rc
    shift 2
    case $mode in
    pipe) echo secret | timeout 20 "$TLSTRIAGE" "$@" >"$T/out" 2>&1 ;;
    setsid) echo secret | timeout 20 setsid "$TLSTRIAGE" "$@" >"$T/out" 2>&1 ;;
    pty) timeout 20 script -qec "$(printf '%q ' "$TLSTRIAGE" "$@")" /dev/null \
        </dev/null >"$T/out" 2>&1 ;;
    esac
    rc=$?
    ok "$name ($mode): finishes without waiting for a passphrase" test "$rc" -ne 124
    ok "$name ($mode): never prompts" bash -c "! grep -qi 'pass phrase' '$T/out'"
    ok "$name ($mode): says the key is encrypted" grep -q "$WANT" "$T/out"
}

for mode in pipe setsid pty; do
    [ "$mode" = pty ] && ! command -v script >/dev/null && continue
    run "probe --cert --key" $mode probe 127.0.0.1:1 --cert "$T/client.pem" --key "$T/enc.key"
    run "probe --all" $mode --conf "$T/nginx.conf" probe --all
done
# check's TT007 says it in its own words
echo | timeout 20 setsid "$TLSTRIAGE" --conf "$T/nginx.conf" check >"$T/out" 2>&1
ok "check (setsid): finishes" test $? -ne 124
ok "check: TT007 says the key is encrypted" \
    grep -q "TT007.*enc.key\" is encrypted with a passphrase" "$T/out"
ok "check: never prompts" bash -c "! grep -qi 'pass phrase' '$T/out'"
# diagnose/fix take --client-key for the mTLS strategy: remedy checks the pair first
printf '%s\n' '2026/11/27 03:00:00 [error] 99#99: *1 upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", upstream: "https://127.0.0.1:1/", host: "x"' >"$T/error.log"
for mode in setsid pty; do
    [ "$mode" = pty ] && ! command -v script >/dev/null && continue
    if [ $mode = setsid ]; then
        echo secret | timeout 20 setsid "$TLSTRIAGE" --conf "$T/nginx.conf" --log "$T/error.log" \
            --state-dir "$T/state" diagnose --client-cert "$T/client.pem" \
            --client-key "$T/enc.key" >"$T/out" 2>&1
    else
        timeout 20 script -qec "$(printf '%q ' "$TLSTRIAGE" --conf "$T/nginx.conf" --log \
            "$T/error.log" --state-dir "$T/state" diagnose --client-cert "$T/client.pem" \
            --client-key "$T/enc.key")" /dev/null </dev/null >"$T/out" 2>&1
    fi
    ok "diagnose --client-key ($mode): finishes" test $? -ne 124
    ok "diagnose --client-key ($mode): never prompts" bash -c "! grep -qi 'pass phrase' '$T/out'"
    ok "diagnose --client-key ($mode): says the key is encrypted" \
        grep -q "enc.key: the key is encrypted with a passphrase" "$T/out"
done
# the unencrypted key still loads: the probe gets as far as connecting
echo | timeout 20 setsid "$TLSTRIAGE" probe 127.0.0.1:1 --cert "$T/client.pem" \
    --key "$T/plain.key" >"$T/out" 2>&1
ok "an unencrypted key loads (the probe reaches connect())" grep -q "connect() failed" "$T/out"
done_testing
