#!/bin/bash
# gen.sh DIR [N] — a CA, one leaf it signs, and an nginx config with N (default 200) TLS
# server blocks on 127.0.0.1:20300.. (the probe work's port range), for bench/probe/run.sh.
set -eu
D=$1
N=${2:-200}
mkdir -p "$D"
cd "$D"
o() { openssl "$@" >/dev/null 2>&1; }
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n' > ca.ext
printf 'subjectAltName=DNS:bench.lab.test\n' > leaf.ext
o req -new -newkey rsa:2048 -nodes -keyout root.key -out root.csr -subj "/CN=Bench Root"
o x509 -req -in root.csr -signkey root.key -days 30 -extfile ca.ext -out root.pem
o req -new -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=bench.lab.test"
o x509 -req -in leaf.csr -CA root.pem -CAkey root.key -CAcreateserial -days 30 \
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
seq 0 $((N - 1)) | sed 's/^/127.0.0.1:/; s/:\(.*\)/:\1/' | awk -F: '{print $1 ":" 20300 + $2}' > targets
