#!/bin/bash
# capture-shapes.sh — regenerates shapes.errlog: runs a real nginx on shapes.conf (ports
# 20700-20751 of 127.0.0.1; take the lab lock: flock /tmp/tt-lab.lock ./capture-shapes.sh),
# sends every request of shapes.expect (tagged &t=N so test_resolve can pair them) and
# keeps the error lines nginx logs for them. Needs nginx, curl and openssl.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
nginx_bin=${TT_NGINX:-/usr/sbin/nginx}
unset NGINX
T=$(mktemp -d)
chmod 0755 "$T"
trap '[ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")"; rm -rf "$T"' EXIT
cp -R "$here" "$T/conf"
mkdir -p "$T/conf/certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ca \
    -keyout "$T/conf/certs/ca.key" -out "$T/conf/certs/ca.pem" 2>/dev/null
{
    [ "$(id -u)" = 0 ] && echo "user root;"
    echo "daemon on; pid $T/nginx.pid; error_log $T/error.log error; worker_processes 1;"
    sed "s|^http {|http {\n    client_body_temp_path $T/body; proxy_temp_path $T/proxy;\n    fastcgi_temp_path $T/fcgi; uwsgi_temp_path $T/uwsgi; scgi_temp_path $T/scgi;|" \
        "$T/conf/shapes.conf"
} > "$T/conf/nginx.conf"
"$nginx_bin" -p "$T" -c "$T/conf/nginx.conf" -e "$T/error.log"
sleep 0.5
while read -r n method hostport uri _; do
    case $n in '#'* | '') continue ;; esac
    case $uri in *'?'*) tag="&t=$n" ;; *) tag="?t=$n" ;; esac
    curl -s -o /dev/null -X "$method" --path-as-is -H "Host: $hostport" \
        "http://127.0.0.1:${hostport##*:}$uri$tag"
done < "$here/shapes.expect"
sleep 0.5
grep 'while connecting to upstream' "$T/error.log" > "$here/shapes.errlog"
wc -l "$here/shapes.errlog"
