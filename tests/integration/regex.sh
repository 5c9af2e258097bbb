#!/bin/bash
# regex.sh — the location and server_name matching of tests/unit/conf/regex.conf, asked of a
# real nginx: every "HOST:PORT URI LABEL" line of regex.expect is requested with curl
# (--path-as-is, so nginx sees the URI as written) and the first word of the answer must be
# LABEL. test_resolve checks the same file against resolve_find, so the two cannot drift.
# Ports 20600-20601, 127.0.0.1 only (run under flock /tmp/tt-lab.lock).
. "$TT_SRCDIR/tests/tap.sh"
. "${LAB:-$TT_SRCDIR/tests/lab}/lab.sh" # lab_ports_busy

NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
unset NGINX # nginx reads $NGINX as inherited listening sockets
[ -x "$NGINX_BIN" ] || skip_all "no nginx"
command -v curl >/dev/null || skip_all "no curl"
lab_ports_busy 20600 2 && skip_all "ports 20600-20601 are in use"

T=$(mktemp -d)
chmod 0755 "$T"
cleanup() {
    [ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

{
    [ "$(id -u)" = 0 ] && echo "user root;"
    echo "daemon on; pid $T/nginx.pid; error_log $T/error.log info; worker_processes 1;"
    sed "s|^http {|http {\n    client_body_temp_path $T/body; proxy_temp_path $T/proxy;\n    fastcgi_temp_path $T/fcgi; uwsgi_temp_path $T/uwsgi; scgi_temp_path $T/scgi;|" \
        "$TT_SRCDIR/tests/unit/conf/regex.conf"
} > "$T/nginx.conf"
"$NGINX_BIN" -p "$T" -c "$T/nginx.conf" -e "$T/error.log" 2>"$T/start.err" ||
    bail "nginx did not start: $(cat "$T/start.err")"
for i in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:20601/" && break
    sleep 0.1
done

n=0
while read -r hostport uri want; do
    case $hostport in '#'* | '') continue ;; esac
    port=${hostport##*:}
    host=${hostport%:*}
    got=$(curl -s --path-as-is -H "Host: $host" "http://127.0.0.1:$port$uri" | head -1)
    is "${got%% *}" "$want" "nginx answers $want for Host $host and $uri"
    n=$((n + 1))
done < "$TT_SRCDIR/tests/unit/conf/regex.expect"
ok "regex.expect holds the cases ($n)" test "$n" -ge 40
done_testing
