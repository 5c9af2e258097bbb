#!/bin/bash
# follow.sh — `scan --follow --format jsonl` while a writer appends numbered upstream-TLS lines
# (one unique request URI each) and the log is rotated in every style: rename + create,
# copytruncate, delete + recreate later, a file that does not exist yet, a symlink retarget;
# then a real nginx writing its error.log, rotated with mv + `nginx -s reopen`. After SIGINT,
# every numbered event must appear exactly once. Last, nginx in the foreground logging to
# stderr, piped into `scan --follow -` (a container's log stream).
#
# Copytruncate can lose lines written between the copy and the truncate (inherent to
# copytruncate: logrotate documents it). The writer pauses across that window, as logrotate
# users accept; everything else must be exactly-once.
. "$TT_SRCDIR/tests/tap.sh"

[ -x "${TLSTRIAGE:-}" ] || skip_all "TLSTRIAGE not set"
"$TLSTRIAGE" scan --follow --format jsonl /nonexistent/dir/x.log </dev/null >/dev/null 2>&1 &
probe=$!
sleep 0.3
if ! kill -0 "$probe" 2>/dev/null; then
    wait "$probe" 2>/dev/null
    skip_all "scan --follow is not in this build"
fi
kill -INT "$probe"; wait "$probe"

T=$(mktemp -d "${TMPDIR:-/tmp}/ttfollow.XXXXXX") || bail "mktemp"
NGINX_PID_FILE=
cleanup() {
    if [ -n "$NGINX_PID_FILE" ] && [ -s "$NGINX_PID_FILE" ]; then
        kill -QUIT "$(cat "$NGINX_PID_FILE")" 2>/dev/null
        sleep 0.3
    fi
    [ -s "$T/nginx/nginx2.pid" ] && kill -QUIT "$(cat "$T/nginx/nginx2.pid")" 2>/dev/null
    [ -n "${S_SERVER_PID:-}" ] && kill "$S_SERVER_PID" 2>/dev/null
    [ -n "${FOLLOW_PID:-}" ] && kill "$FOLLOW_PID" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$T" # KEEP=1 keeps the files for a post-mortem
}
trap cleanup EXIT

# One realistic nginx error line for request number $1.
line() {
    printf '%s [error] 4242#4242: *%d upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream, client: 127.0.0.1, server: api.example, request: "GET /follow/%d HTTP/1.1", upstream: "https://127.0.0.1:20199/follow/%d", host: "api.example"\n' \
        "$(date '+%Y/%m/%d %H:%M:%S')" "$1" "$1" "$1"
}
noise() {
    printf '%s [notice] 4242#4242: signal process started\n' "$(date '+%Y/%m/%d %H:%M:%S')"
}
# write FILE FROM TO: appends lines FROM..TO, reopening FILE for each (like a fresh writer).
write() {
    local f=$1 i
    for ((i = $2; i <= $3; i++)); do
        line "$i" >>"$f"
        ((i % 25 == 0)) && noise >>"$f"
    done
}

# start_follow OUT FILE...: starts the follower, waits until it reads the ready file.
start_follow() {
    local out=$1; shift
    : >"$T/ready.log"
    "$TLSTRIAGE" scan --follow --format jsonl "$T/ready.log" "$@" >"$out" 2>"$out.err" &
    FOLLOW_PID=$!
    local n=0
    while ! grep -q '/ready/' "$out" 2>/dev/null; do
        line 0 | sed 's,/follow/0,/ready/0,g' >>"$T/ready.log"
        sleep 0.1
        n=$((n + 1))
        [ $n -gt 100 ] && return 1
    done
    return 0
}

# stop_follow: SIGINT, and the exit status must be 0.
stop_follow() {
    sleep 0.4
    kill -INT "$FOLLOW_PID"
    wait "$FOLLOW_PID"
    local rc=$?
    FOLLOW_PID=
    return $rc
}

# check OUT N DESC: /follow/1../follow/N each exactly once.
check() {
    local out=$1 n=$2 desc=$3
    grep -o '/follow/[0-9]*' "$out" | sed 's,.*/,,' | sort -n >"$out.got"
    seq 1 "$n" >"$out.want"
    is "$(uniq -d <"$out.got" | head -5 | tr '\n' ' ')" "" "$desc: no event repeated"
    is "$(comm -13 <(sort -u "$out.got") <(sort "$out.want") | head -5 | tr '\n' ' ')" "" \
        "$desc: no event missing"
    is "$(wc -l <"$out.got" | tr -d ' ')" "$n" "$desc: exactly $n events"
}

# --- rename + create (logrotate default), with the old writer still writing to the old file
d=$T/rename; mkdir "$d"; : >"$d/error.log"
ok "rename+create: follower started" start_follow "$d/out" "$d/error.log"
write "$d/error.log" 1 100
mv "$d/error.log" "$d/error.log.1"
write "$d/error.log.1" 101 120      # writes before the writer reopens go to the renamed file
write "$d/error.log" 121 200 &      # the new file, while the old one still gets lines
w=$!
write "$d/error.log.1" 201 210
wait $w
mv "$d/error.log" "$d/error.log.2"   # a second rotation right away
write "$d/error.log" 211 300
ok "rename+create: exit status 0 on SIGINT" stop_follow
check "$d/out" 300 "rename+create"
ok "rename+create: the file key names the log" grep -q "\"file\":\"$d/error.log\"" "$d/out"

# --- copytruncate: the writer pauses across the copy/truncate window
d=$T/copytruncate; mkdir "$d"; : >"$d/error.log"
ok "copytruncate: follower started" start_follow "$d/out" "$d/error.log"
write "$d/error.log" 1 150
sleep 0.5                           # the pause: the follower has read everything
cp "$d/error.log" "$d/error.log.1"
: >"$d/error.log"                   # truncate in place (same inode)
write "$d/error.log" 151 200
sleep 0.5
cp "$d/error.log" "$d/error.log.2"
truncate -s 0 "$d/error.log"
write "$d/error.log" 201 400        # refills past the old size quickly: the signature catches it
ok "copytruncate: exit status 0 on SIGINT" stop_follow
check "$d/out" 400 "copytruncate"

# --- delete, and recreate later
d=$T/delete; mkdir "$d"; : >"$d/error.log"
ok "delete+recreate: follower started" start_follow "$d/out" "$d/error.log"
write "$d/error.log" 1 100
rm "$d/error.log"
sleep 0.6
write "$d/error.log" 101 200
ok "delete+recreate: exit status 0 on SIGINT" stop_follow
check "$d/out" 200 "delete+recreate"

# --- a file that does not exist yet (and a directory created later)
d=$T/late; mkdir "$d"
ok "not-yet-existing: follower started" start_follow "$d/out" "$d/error.log" "$d/later/error.log"
sleep 0.3
write "$d/error.log" 1 100
mkdir "$d/later"
write "$d/later/error.log" 101 200
ok "not-yet-existing: exit status 0 on SIGINT" stop_follow
check "$d/out" 200 "not-yet-existing"

# --- a symlink whose target changes
d=$T/symlink; mkdir "$d"; : >"$d/a.log"
ln -s "$d/a.log" "$d/error.log"
ok "symlink: follower started" start_follow "$d/out" "$d/error.log"
write "$d/error.log" 1 100
: >"$d/b.log"
ln -s "$d/b.log" "$d/link.tmp" && mv -T "$d/link.tmp" "$d/error.log"
write "$d/a.log" 101 110            # a late write to the old target is still read
write "$d/error.log" 111 200
ok "symlink: exit status 0 on SIGINT" stop_follow
check "$d/out" 200 "symlink retarget"

# --- a real nginx writing its error.log, rotated with mv + nginx -s reopen
NGINX=${TT_NGINX:-/usr/sbin/nginx}
# nginx reads an NGINX environment variable as inherited listening sockets (binary upgrade)
# and then stays in the foreground: start and signal it without that variable, whatever the
# caller's environment holds.
if [ ! -x "$NGINX" ] || ! command -v curl >/dev/null || ! command -v openssl >/dev/null; then
    ok "nginx case skipped: no nginx, curl or openssl # SKIP" true
    done_testing
    exit $?
fi
d=$T/nginx; mkdir -p "$d/logs" "$d/tmp"
chmod 755 "$T" "$d" "$d/logs" # workers (user nobody when root) reopen the log here
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=upstream.test \
    -keyout "$d/up.key" -out "$d/up.crt" >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca.test \
    -keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1
openssl s_server -quiet -accept 127.0.0.1:20101 -cert "$d/up.crt" -key "$d/up.key" -www \
    </dev/null >/dev/null 2>&1 &
S_SERVER_PID=$!
cat >"$d/nginx.conf" <<CONF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log error;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp;
    uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
    server {
        listen 127.0.0.1:20100;
        server_name follow.test;
        location / {
            proxy_pass https://127.0.0.1:20101;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $d/ca.crt;
        }
    }
}
CONF
NGINX_PID_FILE=$d/nginx.pid
if ! timeout 20 env -u NGINX "$NGINX" -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" 2>"$d/nginx.err"; then
    ok "nginx started # SKIP $(head -1 "$d/nginx.err")" true
    done_testing
    exit $?
fi
for _ in $(seq 50); do [ -s "$d/nginx.pid" ] && break; sleep 0.1; done
get() { curl -s -o /dev/null --max-time 5 "http://127.0.0.1:20100/follow/$1"; }
: >"$T/ready.log"
"$TLSTRIAGE" scan --follow --format jsonl "$d/logs/error.log" >"$d/out" 2>"$d/out.err" &
FOLLOW_PID=$!
n=0
until grep -q '/follow/0 ' "$d/out" 2>/dev/null; do # request 0 doubles as the ready marker
    get 0; sleep 0.2; n=$((n + 1)); [ $n -gt 50 ] && break
done
ok "nginx: a real 502 line reaches the follower" grep -q '/follow/0 ' "$d/out"
for i in $(seq 1 40); do get "$i"; done
( for i in $(seq 41 80); do get "$i"; done ) &
w=$!
sleep 0.1
mv "$d/logs/error.log" "$d/logs/error.log.1"
timeout 20 env -u NGINX "$NGINX" -p "$d" -c "$d/nginx.conf" -s reopen 2>>"$d/nginx.err"
wait $w
for i in $(seq 81 120); do get "$i"; done
ok "nginx: reopen created a new error.log" test -s "$d/logs/error.log"
sleep 0.3
kill -INT "$FOLLOW_PID"; wait "$FOLLOW_PID"; rc=$?; FOLLOW_PID=
is "$rc" 0 "nginx: exit status 0 on SIGINT"
# nginx logs each failed request once; count the ones nginx wrote and the ones we streamed
grep -o 'request: "GET /follow/[0-9]* ' "$d/logs/error.log.1" "$d/logs/error.log" |
    grep -o '/follow/[0-9]*' | grep -v '/follow/0$' | sed 's,.*/,,' | sort -n >"$d/nginx.want"
grep -o '/follow/[0-9]* ' "$d/out" | grep -v '/follow/0 ' | sed 's,.*/,,; s, ,,' | sort -n >"$d/out.got"
is "$(wc -l <"$d/nginx.want" | tr -d ' ')" 120 "nginx: nginx logged one error per request"
is "$(uniq -d <"$d/out.got" | head -3 | tr '\n' ' ')" "" "nginx: no event repeated"
is "$(diff <(sort -u "$d/out.got") <(sort -u "$d/nginx.want") | head -3 | tr '\n' ' ')" "" \
    "nginx: every line nginx wrote was streamed once, across the reopen"

# --- nginx in the foreground logging to stderr (as in a container), piped into `-`; nginx also
# writes the same errors to a file, to compare with
sed -e "s,pid $d/nginx.pid,pid $d/nginx2.pid," -e "s,127.0.0.1:20100,127.0.0.1:20102," \
    -e "s,error_log $d/logs/error.log error;,error_log stderr error; error_log $d/logs/copy.log error;," \
    "$d/nginx.conf" >"$d/nginx2.conf"
( env -u NGINX "$NGINX" -p "$d" -c "$d/nginx2.conf" -e stderr -g 'daemon off; master_process off;' 2>&1 |
    "$TLSTRIAGE" scan --follow --format jsonl - >"$d/out2" 2>"$d/out2.err"
  echo $? >"$d/out2.rc" ) &
PIPE_PID=$!
for _ in $(seq 50); do [ -s "$d/nginx2.pid" ] && break; sleep 0.1; done
for i in $(seq 1 20); do curl -s -o /dev/null --max-time 5 "http://127.0.0.1:20102/stdin/$i"; done
for _ in $(seq 50); do [ "$(grep -c '/stdin/' "$d/out2" 2>/dev/null)" -ge 20 ] && break; sleep 0.1; done
is "$(grep -c '/stdin/' "$d/out2")" 20 "stdin: every 502 of the piped nginx is an event"
kill -QUIT "$(cat "$d/nginx2.pid")"
wait "$PIPE_PID"
is "$(cat "$d/out2.rc")" 0 "stdin: exit 0 by itself when nginx stops and the pipe closes"
is "$(grep -o '/stdin/[0-9]* ' "$d/out2" | sort -u | wc -l | tr -d ' ')" 20 "stdin: no event repeated"
is "$(grep -o 'request: "GET /stdin/[0-9]* ' "$d/logs/copy.log" | grep -o '/stdin/[0-9]*' | sort)" \
    "$(grep -o '/stdin/[0-9]*' "$d/out2" | sort)" "stdin: the same requests nginx wrote to its file"
ok "stdin: the kind is nginx's verify error" grep -q '"kind":"verify_error","verify_code":18' "$d/out2"
done_testing
