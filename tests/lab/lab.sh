# tests/lab/lab.sh — a bash library (source it) that runs real nginx on 127.0.0.1 for tests:
# one upstream nginx hosting many TLS server blocks, one front nginx proxying /s/NAME to them
# (plus an optional stream front), non-nginx peers (python3, openssl s_server), and the
# standard scenario set whose exact nginx messages are recorded in tests/lab/README.md.
# It owns only the temp dir made by lab_init and the processes it starts there; the caller
# owns the port range (lab_init BASE uses BASE..BASE+29 for the standard set).
#
#   . "$LAB/lab.sh"; lab_init 20600; lab_scenarios_standard; lab_start
#   lab_request selfsigned_untrusted   # prints 502
#   grep -F "${LAB_S_MSG[selfsigned_untrusted]}" "$(lab_error_log)"

# shellcheck disable=SC2034  # the LAB_* variables are this library's outputs

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_NGINX=${TT_NGINX:-${NGINX:-/usr/sbin/nginx}}
[ -x "$LAB_NGINX" ] || LAB_NGINX=/usr/sbin/nginx
LAB_STREAM_MODULE=${LAB_STREAM_MODULE:-/usr/lib/nginx/modules/ngx_stream_module.so}
LAB_PYTHON=${LAB_PYTHON:-python3}
LAB_OPENSSL=${LAB_OPENSSL:-openssl}
LAB_SYSTEM_CA=${LAB_SYSTEM_CA:-/etc/ssl/certs/ca-certificates.crt}

# lab_init BASEPORT [CERTDIR] — make the lab dir, generate (or reuse) certificates, set the
# EXIT trap. Sets LAB_DIR, LAB_CERTS, LAB_BASE, LAB_FRONT_PORT (= BASEPORT).
# lab_require: skip the calling TAP test (tests/tap.sh's skip_all) unless nginx, the stream
# module, python3, curl and the system CA bundle the scenarios use are all there.
lab_require() {
    [ -x "$LAB_NGINX" ] || skip_all "no nginx at $LAB_NGINX"
    [ -f "$LAB_STREAM_MODULE" ] || skip_all "no stream module at $LAB_STREAM_MODULE"
    command -v "$LAB_PYTHON" >/dev/null || skip_all "no $LAB_PYTHON"
    command -v curl >/dev/null || skip_all "no curl"
    [ -f "$LAB_SYSTEM_CA" ] || skip_all "no system CA bundle at $LAB_SYSTEM_CA"
}

# lab_ports_busy FIRST COUNT: true when any 127.0.0.1 port of FIRST..FIRST+COUNT-1 listens.
lab_ports_busy() {
    local p
    for p in $(seq "$1" $(($1 + $2 - 1))); do
        grep -qiE "^ *[0-9]+: 0100007F:$(printf '%04X' "$p") 00000000:0000 0A" /proc/net/tcp &&
            return 0
    done
    return 1
}

lab_init() {
    LAB_BASE=${1:?lab_init BASEPORT}
    LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tt-lab.XXXXXX") || return 1
    chmod 0755 "$LAB_DIR" # nginx workers run as nobody when tests run as root
    LAB_CERTS=${2:-${LAB_CERTS_DIR:-$LAB_DIR/certs}}
    LAB_FRONT_PORT=$LAB_BASE
    LAB_UP_SERVERS=""
    LAB_FRONT_LOCS=""
    LAB_FRONT_HTTP=""
    LAB_STREAM_SERVERS=""
    LAB_PEERS=()
    LAB_SSERVERS=()
    LAB_SCENARIOS=()
    declare -gA LAB_S_KIND=() LAB_S_PORT=() LAB_S_FRONT=() LAB_S_STATUS=() LAB_S_MSG=() \
        LAB_S_WHILE=() LAB_S_VERDICT=() LAB_S_DESC=() LAB_S_TRUSTED=() LAB_S_NAME=() \
        LAB_S_DEPTH=() LAB_S_SNI=() LAB_S_PROTOCOLS=() LAB_S_CERT=() LAB_S_KEY=() \
        LAB_S_TIMEOUT=() LAB_S_DIRECTIVES=() LAB_S_LEVEL=()
    mkdir -p "$LAB_DIR/front/logs" "$LAB_DIR/front/tmp" "$LAB_DIR/up/logs" "$LAB_DIR/up/tmp" \
        "$LAB_DIR/peers"
    trap lab_cleanup EXIT
    trap 'exit 130' INT TERM
    bash "$LAB_SRC/mkcerts.sh" "$LAB_CERTS" || return 1
}

# lab_cleanup — stop every process the lab started (by its pid file) and remove LAB_DIR
# (kept when LAB_KEEP=1). Installed as the EXIT trap by lab_init; safe to call twice.
lab_cleanup() {
    [ -n "${LAB_DIR:-}" ] && [ -d "$LAB_DIR" ] || return 0
    local f pid n
    for f in "$LAB_DIR"/front/nginx.pid "$LAB_DIR"/up/nginx.pid "$LAB_DIR"/peers/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null)
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || continue
        for n in $(seq 1 100); do
            lab_alive "$pid" || break
            sleep 0.05
        done
        lab_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    done
    if [ "${LAB_KEEP:-0}" = 1 ]; then
        echo "# lab kept in $LAB_DIR" >&2
    else
        rm -rf "$LAB_DIR"
    fi
    LAB_DIR=""
}

# lab_alive PID — true while PID runs. A zombie counts as gone: daemonized nginx masters are
# children of PID 1, which may reap them late (seen in the CI VM).
lab_alive() {
    local st
    { read -r st </proc/"$1"/stat; } 2>/dev/null || return 1
    st=${st##*) }
    [[ $st != Z* && $st != X* ]]
}

# lab_cert NAME — absolute path of a generated file (lab_cert api-chain.pem).
lab_cert() { echo "$LAB_CERTS/$1"; }

# lab_upstream PORT CERT KEY [DIRECTIVES] [LISTEN_OPTS] — a TLS server block in the upstream
# nginx: listen 127.0.0.1:PORT ssl LISTEN_OPTS; it answers 200 "upstream PORT". CERT and KEY are
# file names in LAB_CERTS or absolute paths; DIRECTIVES is raw nginx text (e.g. server_name).
lab_upstream() {
    local port=$1 cert=$2 key=$3 extra=${4:-} lopts=${5:-}
    [[ $cert == /* ]] || cert=$LAB_CERTS/$cert
    [[ $key == /* ]] || key=$LAB_CERTS/$key
    LAB_UP_SERVERS+="
    server {
        listen 127.0.0.1:$port ssl $lopts;
        ssl_certificate $cert;
        ssl_certificate_key $key;
        $extra
        location / { return 200 \"upstream $port \$server_name\\n\"; }
    }
"
}

# lab_upstream_plain PORT — a plain-HTTP server block in the upstream nginx (the "https://
# to an http port" mistake).
lab_upstream_plain() {
    LAB_UP_SERVERS+="
    server {
        listen 127.0.0.1:$1;
        location / { return 200 \"plain $1\\n\"; }
    }
"
}

# lab_upstream_raw TEXT — append raw text inside the upstream nginx's http{} block.
lab_upstream_raw() { LAB_UP_SERVERS+="$1"$'\n'; }

# lab_peer KIND PORT — a python3 peer: stall | garbage | close | reset (see peers.py).
lab_peer() { LAB_PEERS+=("$1:$2"); }

# lab_sserver PORT ARGS... — an `openssl s_server -accept 127.0.0.1:PORT -www ARGS` peer.
lab_sserver() {
    local port=$1
    shift
    LAB_SSERVERS+=("$port $*")
}

# lab_front_location NAME TARGET [DIRECTIVES] — location = /s/NAME in the front:
# proxy_pass https://127.0.0.1:TARGET (or TARGET itself when it is not a bare port),
# proxy_ssl_session_reuse off, then DIRECTIVES (raw proxy_ssl_* / proxy_*_timeout lines).
lab_front_location() {
    local name=$1 target=$2 extra=${3:-}
    [[ $target =~ ^[0-9]+$ ]] && target="https://127.0.0.1:$target"
    LAB_FRONT_LOCS+="
        location = /s/$name {
            proxy_pass $target;
            proxy_ssl_session_reuse off;
            $extra
        }
"
}

# lab_front_raw TEXT — append raw text inside the front's server {} (extra locations).
lab_front_raw() { LAB_FRONT_LOCS+="$1"$'\n'; }

# lab_front_http_raw TEXT — append raw text inside the front's http {} (upstream {} blocks,
# more server {} blocks, includes).
lab_front_http_raw() { LAB_FRONT_HTTP+="$1"$'\n'; }

# lab_stream_server LISTEN_PORT UPSTREAM_PORT [DIRECTIVES] — a stream server in the front:
# listen 127.0.0.1:LISTEN_PORT; proxy_pass 127.0.0.1:UPSTREAM_PORT; proxy_ssl on.
lab_stream_server() {
    local lport=$1 uport=$2 extra=${3:-}
    LAB_STREAM_SERVERS+="
    server {
        listen 127.0.0.1:$lport;
        proxy_pass 127.0.0.1:$uport;
        proxy_ssl on;
        proxy_ssl_session_reuse off;
        $extra
    }
"
}

# lab_ssl_directives KEY=VALUE... — the proxy_ssl_* lines for these settings (used by
# lab_scenario; keys: trusted name depth sni protocols cert key timeout ciphers extra).
lab_ssl_directives() {
    local kv k v out=""
    for kv in "$@"; do
        k=${kv%%=*}
        v=${kv#*=}
        case $k in
        trusted) out+="proxy_ssl_verify on; proxy_ssl_trusted_certificate $v; " ;;
        name) out+="proxy_ssl_name $v; " ;;
        depth) out+="proxy_ssl_verify_depth $v; " ;;
        sni) [ "$v" = on ] && out+="proxy_ssl_server_name on; " ;;
        protocols) out+="proxy_ssl_protocols $v; " ;;
        ciphers) out+="proxy_ssl_ciphers $v; " ;;
        cert) out+="proxy_ssl_certificate $v; " ;;
        key) out+="proxy_ssl_certificate_key $v; " ;;
        timeout) out+="proxy_connect_timeout $v; " ;;
        extra) out+="$v " ;;
        *) echo "lab_ssl_directives: unknown key $k" >&2; return 1 ;;
        esac
    done
    printf '%s' "$out"
}

# lab_scenario NAME PORT STATUS VERDICT 'MESSAGE' 'WHILE' [KEY=VALUE...] — declare an http
# scenario: its front location /s/NAME and what nginx is expected to answer (STATUS) and log
# (MESSAGE, up to " while", and WHILE, the context after it; empty MESSAGE = nothing logged).
# VERDICT is the probe's verdict (ok verify_error name_mismatch handshake_error timeout
# connect_error). KEY=VALUE as in lab_ssl_directives; trusted/cert/key accept LAB_CERTS names;
# also desc=TEXT and level=crit (the level nginx logs MESSAGE at, default error).
lab_scenario() {
    local name=$1 port=$2 status=$3 verdict=$4 msg=$5 while=$6 kv k v
    shift 6
    local kvs=()
    LAB_S_LEVEL[$name]=error
    LAB_S_DEPTH[$name]=1
    LAB_S_NAME[$name]=127.0.0.1
    LAB_S_SNI[$name]=off
    LAB_S_TIMEOUT[$name]=60s
    for kv in "$@"; do
        k=${kv%%=*}
        v=${kv#*=}
        case $k in
        trusted | cert | key) [[ $v == /* ]] || v=$LAB_CERTS/$v ;;
        esac
        case $k in
        trusted) LAB_S_TRUSTED[$name]=$v ;;
        name) LAB_S_NAME[$name]=$v ;;
        depth) LAB_S_DEPTH[$name]=$v ;;
        sni) LAB_S_SNI[$name]=$v ;;
        protocols) LAB_S_PROTOCOLS[$name]=$v ;;
        cert) LAB_S_CERT[$name]=$v ;;
        key) LAB_S_KEY[$name]=$v ;;
        timeout) LAB_S_TIMEOUT[$name]=$v ;;
        desc) LAB_S_DESC[$name]=$v; continue ;;
        level) LAB_S_LEVEL[$name]=$v; continue ;;
        esac
        kvs+=("$k=$v")
    done
    LAB_SCENARIOS+=("$name")
    LAB_S_KIND[$name]=${LAB_S_KIND[$name]:-http}
    LAB_S_PORT[$name]=$port
    LAB_S_STATUS[$name]=$status
    LAB_S_VERDICT[$name]=$verdict
    LAB_S_MSG[$name]=$msg
    LAB_S_WHILE[$name]=$while
    LAB_S_DIRECTIVES[$name]=$(lab_ssl_directives "${kvs[@]}") || return 1
    if [ "${LAB_S_KIND[$name]}" = stream ]; then
        lab_stream_server "${LAB_S_FRONT[$name]}" "$port" "${LAB_S_DIRECTIVES[$name]}"
    else
        LAB_S_FRONT[$name]=$LAB_FRONT_PORT
        lab_front_location "$name" "$port" "${LAB_S_DIRECTIVES[$name]}"
    fi
}

# lab_stream_scenario NAME LISTEN_PORT PORT STATUS VERDICT 'MESSAGE' 'WHILE' [KEY=VALUE...] —
# the same for the stream front; STATUS is what lab_request prints (200 when the upstream's
# HTTP answer came through the tunnel, 000 when the connection was closed).
lab_stream_scenario() {
    local name=$1 lport=$2
    shift 2
    LAB_S_KIND[$name]=stream
    LAB_S_FRONT[$name]=$lport
    lab_scenario "$name" "$@"
}

# lab_probe_args NAME — the `tlstriage probe` arguments equivalent to the scenario's nginx
# settings (one per line, so: mapfile -t args < <(lab_probe_args NAME)).
lab_probe_args() {
    local n=$1 t
    echo "127.0.0.1:${LAB_S_PORT[$n]}"
    [ -n "${LAB_S_TRUSTED[$n]:-}" ] && printf '%s\n' --trusted "${LAB_S_TRUSTED[$n]}"
    printf '%s\n' --depth "${LAB_S_DEPTH[$n]}" --name "${LAB_S_NAME[$n]}"
    [ "${LAB_S_SNI[$n]}" = on ] && echo --sni
    [ -n "${LAB_S_PROTOCOLS[$n]:-}" ] && printf '%s\n' --protocols "${LAB_S_PROTOCOLS[$n]}"
    [ -n "${LAB_S_CERT[$n]:-}" ] && printf '%s\n' --cert "${LAB_S_CERT[$n]}" --key "${LAB_S_KEY[$n]}"
    t=${LAB_S_TIMEOUT[$n]%s}
    [ "$t" != 60 ] && printf '%s\n' --timeout "$t"
    return 0
}

# lab_front_conf / lab_upstream_conf / lab_error_log / lab_upstream_error_log — paths.
lab_front_conf() { echo "$LAB_DIR/front/nginx.conf"; }
lab_upstream_conf() { echo "$LAB_DIR/up/nginx.conf"; }
lab_error_log() { echo "$LAB_DIR/front/logs/error.log"; }
lab_upstream_error_log() { echo "$LAB_DIR/up/logs/error.log"; }

# _lab_head PREFIX — the main-context lines both nginx share.
_lab_head() {
    local p=$1
    cat <<EOF
worker_processes 1;
daemon on;
pid $p/nginx.pid;
error_log $p/logs/error.log ${LAB_LOG_LEVEL:-notice};
events { worker_connections 512; }
EOF
}

_lab_http_common() {
    local p=$1
    cat <<EOF
    access_log $p/logs/access.log;
    client_body_temp_path $p/tmp/body;
    proxy_temp_path $p/tmp/proxy;
    fastcgi_temp_path $p/tmp/fastcgi;
    uwsgi_temp_path $p/tmp/uwsgi;
    scgi_temp_path $p/tmp/scgi;
EOF
}

# lab_write_conf — (re)write both nginx.conf files from the declarations so far.
lab_write_conf() {
    local f=$LAB_DIR/front u=$LAB_DIR/up
    {
        [ -n "$LAB_STREAM_SERVERS" ] && echo "load_module $LAB_STREAM_MODULE;"
        _lab_head "$f"
        echo "http {"
        _lab_http_common "$f"
        echo "$LAB_FRONT_HTTP"
        cat <<EOF
    server {
        listen 127.0.0.1:$LAB_FRONT_PORT;
        server_name front.lab;
$LAB_FRONT_LOCS
        location / { return 404; }
    }
}
EOF
        if [ -n "$LAB_STREAM_SERVERS" ]; then
            echo "stream {"
            echo "$LAB_STREAM_SERVERS"
            echo "}"
        fi
    } >"$f/nginx.conf"
    {
        _lab_head "$u"
        echo "http {"
        _lab_http_common "$u"
        echo "$LAB_UP_SERVERS"
        echo "}"
    } >"$u/nginx.conf"
}

# lab_nginx PREFIX ARGS... — run the lab's nginx binary on PREFIX/nginx.conf.
lab_nginx() {
    local p=$1
    shift
    # nginx reads $NGINX as a list of inherited sockets (binary upgrade) and then neither
    # daemonizes nor listens as told: the test harness exports NGINX=/usr/sbin/nginx.
    env -u NGINX "$LAB_NGINX" -p "$p/" -c "$p/nginx.conf" -e "$p/logs/error.log" "$@"
}

# lab_start — write the configs and start the upstream nginx, the peers and the front nginx;
# returns once everything listens. Fails (non-zero, message on stderr) if anything does not.
lab_start() {
    local spec port i
    lab_write_conf
    if [ -n "$LAB_UP_SERVERS" ]; then
        lab_nginx "$LAB_DIR/up" -q || { echo "lab: upstream nginx failed to start" >&2; return 1; }
    fi
    if [ ${#LAB_PEERS[@]} -gt 0 ]; then
        "$LAB_PYTHON" "$LAB_SRC/peers.py" "$LAB_DIR/peers/py.pid" "${LAB_PEERS[@]}" \
            >"$LAB_DIR/peers/py.log" 2>&1 &
        _lab_wait_file "$LAB_DIR/peers/py.pid" || { echo "lab: peers did not start" >&2; return 1; }
    fi
    i=0
    for spec in "${LAB_SSERVERS[@]}"; do
        port=${spec%% *}
        # shellcheck disable=SC2086
        "$LAB_OPENSSL" s_server -accept "127.0.0.1:$port" -www ${spec#* } \
            </dev/null >"$LAB_DIR/peers/s_server$i.log" 2>&1 &
        echo $! >"$LAB_DIR/peers/s_server$i.pid"
        _lab_wait_grep ACCEPT "$LAB_DIR/peers/s_server$i.log" ||
            { echo "lab: s_server on $port did not start" >&2; return 1; }
        i=$((i + 1))
    done
    lab_nginx "$LAB_DIR/front" -q || { echo "lab: front nginx failed to start" >&2; return 1; }
}

_lab_wait_file() {
    local n
    for n in $(seq 1 100); do
        [ -s "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

_lab_wait_grep() {
    local n
    for n in $(seq 1 100); do
        grep -q "$1" "$2" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# lab_workers PID — the pids of PID's live child processes (nginx workers), one per line.
lab_workers() {
    local master=$1 d st rest
    for d in /proc/[0-9]*; do
        { read -r st <"$d/stat"; } 2>/dev/null || continue
        rest=${st##*) }
        # shellcheck disable=SC2086  # split "state ppid ..." into words
        set -- $rest
        [ "$2" = "$master" ] && [[ $1 != Z* ]] && echo "${d#/proc/}"
    done
    return 0
}

# lab_reload [front|up] — nginx -t then SIGHUP the front (default) or the upstream nginx, and
# wait until only new workers run (old ones leave once their requests are done: keep no
# request in flight across a reload, or the wait lasts until it ends, at most 10 s). Does not rewrite
# the config: edit lab_front_conf first, or call lab_write_conf to regenerate it from the
# declarations. Fails (with nginx -t's message) when the config does not pass nginx -t.
lab_reload() {
    local which=${1:-front} p master before now n w
    p=$LAB_DIR/$which
    lab_nginx "$p" -t -q 2>/dev/null || { lab_nginx "$p" -t >&2; return 1; }
    master=$(cat "$p/nginx.pid") || return 1
    before=$(lab_workers "$master" | sort)
    kill -HUP "$master" || return 1
    for n in $(seq 1 400); do
        sleep 0.025
        now=$(lab_workers "$master" | sort)
        [ -n "$now" ] || continue
        # done when every worker is new: the old ones no longer accept connections
        for w in $now; do
            grep -qx "$w" <<<"$before" && continue 2
        done
        return 0
    done
    echo "lab: $which nginx did not reload" >&2
    return 1
}

# lab_stop [front|up] — stop one nginx (fast shutdown) and wait for it to exit.
lab_stop() {
    local p=$LAB_DIR/${1:-front} pid n
    [ -f "$p/nginx.pid" ] || return 0
    pid=$(cat "$p/nginx.pid")
    kill -TERM "$pid" 2>/dev/null
    for n in $(seq 1 100); do
        lab_alive "$pid" || return 0
        sleep 0.05
    done
    return 1
}

# lab_curl PATH [CURL_ARGS...] — GET http://127.0.0.1:FRONT/PATH, print the HTTP status
# (000 when there was no HTTP answer).
lab_curl() {
    local path=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 15 "$@" \
        "http://127.0.0.1:$LAB_FRONT_PORT$path" || true
}

# lab_raw PORT BYTES — send BYTES to 127.0.0.1:PORT as they are (e.g. a request line curl
# would refuse); \r \n \t \\ \xNN escapes are decoded. Prints the HTTP status or 000.
lab_raw() {
    "$LAB_PYTHON" - "$1" "$2" <<'EOF'
import codecs, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
raw = sys.argv[2].encode("utf-8", "surrogateescape")
s.sendall(codecs.escape_decode(raw)[0])
data = b""
try:
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
line = data.split(b"\r\n", 1)[0].split()
print(line[1].decode() if len(line) > 1 and line[0].startswith(b"HTTP/") else "000", end="")
EOF
}

# lab_stream_poke PORT [HOST] — through a stream front port, send an HTTP/1.0 request and
# print the HTTP status that came back through the tunnel (000 when it was closed).
lab_stream_poke() {
    lab_raw "$1" "GET / HTTP/1.0\r\nHost: ${2:-api.lab}\r\n\r\n"
}

# lab_request NAME — request scenario NAME once (curl for http, lab_stream_poke for stream);
# prints the status.
lab_request() {
    local n=$1
    if [ "${LAB_S_KIND[$n]}" = stream ]; then
        lab_stream_poke "${LAB_S_FRONT[$n]}"
    else
        lab_curl "/s/$n"
    fi
}

# lab_log_mark — the current size of the front's error.log (for lab_log_since).
lab_log_mark() { stat -c %s "$(lab_error_log)"; }

# lab_log_since MARK — the front's error.log lines written after lab_log_mark printed MARK.
lab_log_since() { tail -c +"$(($1 + 1))" "$(lab_error_log)"; }

# lab_logged_message MARK — the message of the first [error] or [crit] line since MARK, from
# after "*N " up to " while" (what the probe's nginx_message must equal); empty when none.
lab_logged_message() {
    local line
    while IFS= read -r line; do
        [[ $line =~ ^[0-9/]+\ [0-9:]+\ \[(error|crit)\]\ [0-9]+#[0-9]+:\ \*[0-9]+\ (.*)$ ]] || continue
        line=${BASH_REMATCH[2]}
        printf '%s\n' "${line%% while *}"
        return 0
    done < <(lab_log_since "$1")
    return 0
}

# lab_scenarios_standard — declare the standard scenario set on LAB_BASE..LAB_BASE+29
# (see the table in tests/lab/README.md). Call after lab_init, before lab_start.
lab_scenarios_standard() {
    . "$LAB_SRC/scenarios.sh"
    _lab_scenarios_standard
}
