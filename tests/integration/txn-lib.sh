# tests/integration/txn-lib.sh — sourced by txn.sh and txn-faults.sh: a real nginx in a
# temp prefix (ports given by the caller, all in the txn range 20500-20599), and helpers.
#   txn_nginx_start MAINPORT SITEPORT     sets T, P, CONF, STATE; stops nginx on exit
# nginx reads $NGINX as its inherited-sockets list (binary upgrade): keep it out of nginx's
# environment and hold the binary's path in NGINX_BIN.
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
unset NGINX
[ -x "$NGINX_BIN" ] || skip_all "no nginx binary"

txn_cleanup() {
    if [ -n "${P:-}" ] && [ -s "$P/logs/nginx.pid" ]; then
        local pid
        pid=$(cat "$P/logs/nginx.pid")
        kill -QUIT "$pid" 2>/dev/null
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null
    fi
    for p in ${TXN_BG_PIDS:-}; do kill "$p" 2>/dev/null; done
    [ -n "${T:-}" ] && rm -rf "$T"
}

# conf TEXT for the main file, with the body the server on MAINPORT returns
txn_main_conf() {
    cat <<CONF
pid logs/nginx.pid;
error_log logs/error.log notice;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    server { listen 127.0.0.1:$1; location / { return 200 "$2\n"; } }
    include sites-enabled/*;
}
CONF
}

txn_nginx_start() {
    T=$(mktemp -d)
    trap txn_cleanup EXIT
    P=$T/prefix
    CONF=$P/conf/nginx.conf
    STATE=$T/state
    MAINPORT=$1
    SITEPORT=$2
    mkdir -p "$P/conf/sites-available" "$P/conf/sites-enabled" "$P/logs"
    txn_main_conf "$MAINPORT" v1 > "$CONF"
    echo "server { listen 127.0.0.1:$SITEPORT; location / { return 200 \"site1\\n\"; } }" \
        > "$P/conf/sites-available/api"
    ln -s ../sites-available/api "$P/conf/sites-enabled/api"
    "$NGINX_BIN" -p "$P/" -c "$CONF" || bail "nginx did not start"
    for _ in $(seq 1 40); do [ -s "$P/logs/nginx.pid" ] && break; sleep 0.05; done
    [ -s "$P/logs/nginx.pid" ] || bail "nginx wrote no pid file"
}

# The worker PIDs of our nginx master, sorted, on one line.
txn_workers() {
    local master st ppid out=""
    master=$(cat "$P/logs/nginx.pid")
    for st in /proc/[0-9]*/stat; do
        ppid=$(sed 's/.*) [A-Za-z] \([0-9]*\).*/\1/' "$st" 2>/dev/null) || continue
        [ "$ppid" = "$master" ] && { out="$out ${st#/proc/}"; }
    done
    echo "$out" | tr ' ' '\n' | sed 's,/stat,,' | grep . | sort -n | tr '\n' ' '
}

# GET http://127.0.0.1:PORT/ until it answers WANT (old workers may answer for a moment).
txn_get_until() {
    local port=$1 want=$2 got=""
    for _ in $(seq 1 40); do
        got=$(curl -s --max-time 2 "http://127.0.0.1:$port/")
        [ "$got" = "$want" ] && break
        sleep 0.05
    done
    echo "$got"
}

# The tool with the globals pointing at our nginx and state dir.
tt() {
    "$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$P/" --state-dir "$STATE" "$@"
}

# The test driver: txn-apply F G [F G ...]
txn_apply() {
    "$TT_BUILDDIR/tests/txn-apply" --state-dir "$STATE" --nginx "$NGINX_BIN" --conf "$CONF" \
        --prefix "$P/" --confirm-ms 5000 "$@"
}
