#!/bin/bash
# gen.sh DIR [N] — a CA, one leaf it signs, and an nginx config with N (default 200) TLS
# server blocks on 127.0.0.1:20300.. (the probe work's port range), for bench/probe/run.sh.
# KEY=rsa (default, RSA 2048) or KEY=ec (P-256) chooses the upstream's leaf key.
set -eu
D=$1
N=${2:-200}
mkdir -p "$D"
cd "$D"
o() { openssl "$@" >/dev/null 2>&1; }
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n' > ca.ext
printf 'subjectAltName=DNS:bench.lab.test\n' > leaf.ext
o req -new -newkey rsa:2048 -nodes -keyout root.key -out root.csr -subj "/CN=Bench Root"
o x509 -req -in root.csr -signkey root.key -days 365 -extfile ca.ext -out root.pem
if [ "${KEY:-rsa}" = ec ]; then NEWKEY=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); else NEWKEY=(-newkey rsa:2048); fi
o req -new "${NEWKEY[@]}" -nodes -keyout leaf.key -out leaf.csr -subj "/CN=bench.lab.test"
o x509 -req -in leaf.csr -CA root.pem -CAkey root.key -CAcreateserial -days 365 \
    -extfile leaf.ext -out leaf.pem
{
    [ "$(id -u)" = 0 ] && echo "user root;"
    cat <<CONF
daemon on;
pid $D/nginx.pid;
error_log $D/error.log;
worker_processes 2;
events { worker_connections 1024; }
http {
    access_log off;
    ssl_certificate $D/leaf.pem;
    ssl_certificate_key $D/leaf.key;
    ssl_session_cache off;
    ssl_session_tickets off;
CONF
    for i in $(seq 0 $((N - 1))); do
        echo "    server { listen 127.0.0.1:$((20300 + i)) ssl; return 200 \"ok\\n\"; }"
    done
    echo "}"
} > nginx.conf
seq 0 $((N - 1)) | awk '{print "127.0.0.1:" 20300 + $1}' > targets
# The front config that proxies to them (read by `probe --all`; it is never started).
{
    echo "events {}"
    echo "http { server { listen 127.0.0.1:8080;"
    for i in $(seq 0 $((N - 1))); do
        echo "  location /u$i { proxy_pass https://127.0.0.1:$((20300 + i));"
        echo "    proxy_ssl_verify on; proxy_ssl_trusted_certificate $D/root.pem;"
        echo "    proxy_ssl_name bench.lab.test; proxy_ssl_session_reuse off; }"
    done
    echo "} }"
} > front.conf
