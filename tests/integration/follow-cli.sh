#!/bin/bash
# follow-cli.sh — `scan --follow` options: --backfill SIZE starts at a line start that many
# bytes back, --since TIME at the first line at or after TIME, text mode prints a table per
# second with a separator when not on a terminal and a final one on SIGTERM, '-' follows
# standard input until it closes, and bad option combinations are usage errors (exit 2).
. "$TT_SRCDIR/tests/tap.sh"

[ -x "${TLSTRIAGE:-}" ] || skip_all "TLSTRIAGE not set"
T=$(mktemp -d "${TMPDIR:-/tmp}/ttfollowcli.XXXXXX") || bail "mktemp"
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
"$TLSTRIAGE" scan --follow --format jsonl "$T/none.log" </dev/null >/dev/null 2>&1 &
PID=$!
sleep 0.3
if ! kill -0 "$PID" 2>/dev/null; then
    wait "$PID"
    PID=
    skip_all "scan --follow is not in this build"
fi
kill -INT "$PID"; wait "$PID"; PID=

# line N MINUTES-AGO: an event line for request /cli/N written MINUTES-AGO minutes ago
line() {
    printf '%s [error] 77#77: *%d upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream, client: 127.0.0.1, server: cli.test, request: "GET /cli/%d HTTP/1.1", upstream: "https://127.0.0.1:20198/cli/%d", host: "cli.test"\n' \
        "$(date -d "-$2 min" '+%Y/%m/%d %H:%M:%S')" "$1" "$1" "$1"
}
for i in $(seq 1 10); do line "$i" $((100 - i * 10)); done >"$T/e.log"   # 90 .. 0 minutes ago
size_last3=$(tail -n 3 "$T/e.log" | wc -c)

# run_follow OUT ARGS...: follow for a moment, then SIGINT; echoes the exit status
run_follow() {
    local out=$1; shift
    "$TLSTRIAGE" scan --follow "$@" >"$out" 2>"$out.err" &
    PID=$!
    sleep 0.6
    kill -INT "$PID"; wait "$PID"; local rc=$?; PID=
    echo "$rc"
}
reqs() { grep -o '/cli/[0-9]*' "$1" | sed 's,.*/,,' | sort -n | tr '\n' ' '; }

is "$(run_follow "$T/o1" --format jsonl "$T/e.log")" 0 "from the end: exit 0"
is "$(reqs "$T/o1")" "" "from the end: nothing old is read"

is "$(run_follow "$T/o2" --format jsonl --backfill "$size_last3" "$T/e.log")" 0 "backfill: exit 0"
is "$(reqs "$T/o2")" "8 9 10 " "backfill of exactly three lines' bytes gives those three"
is "$(run_follow "$T/o3" --format jsonl --backfill $((size_last3 + 5)) "$T/e.log")" 0 \
    "backfill inside a line: exit 0"
is "$(reqs "$T/o3")" "8 9 10 " "backfill inside a line starts at the next line"
is "$(grep -o '"line":[0-9]*' "$T/o3" | head -1)" '"line":8' "the first backfilled event is line 8"

since=$(date -d '-35 min' '+%Y-%m-%d %H:%M:%S')
is "$(run_follow "$T/o4" --format jsonl --since "$since" "$T/e.log")" 0 "since: exit 0"
is "$(reqs "$T/o4")" "7 8 9 10 " "since 35 minutes ago starts at the line 30 minutes ago"

# text mode: a table per second with a separator (not a terminal), a final one on SIGTERM
"$TLSTRIAGE" scan --follow --backfill 1M "$T/e.log" >"$T/text" 2>"$T/text.err" &
PID=$!
sleep 2.3
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
is "$rc" 0 "text: exit 0 on SIGTERM"
n=$(grep -c '^---- ' "$T/text")
ok "text: a table every second plus a final one ($n separators)" test "$n" -ge 3
ok "text: the last table is marked final" sh -c "grep '^---- ' '$T/text' | tail -1 | grep -q final"
ok "text: the table counts the ten events" grep -q '10 events' "$T/text"

"$TLSTRIAGE" scan --follow --backfill 12parsecs "$T/e.log" >/dev/null 2>"$T/err1"
is "$?" 2 "a bad --backfill size is a usage error"
"$TLSTRIAGE" scan --follow --backfill 1k --since 1h "$T/e.log" >/dev/null 2>"$T/err2"
is "$?" 2 "--backfill with --since is a usage error"
mkdir "$T/dir.log"
"$TLSTRIAGE" scan --follow "$T/dir.log" >/dev/null 2>"$T/err3"
is "$?" 2 "a directory is refused"
ok "the message names the file" grep -q "dir.log" "$T/err3"
# standard input (nginx in a container logging to stderr: docker logs -f nginx 2>&1 | ...)
line 1 1 | "$TLSTRIAGE" scan --follow --format jsonl - >"$T/s1" 2>"$T/s1.err"
is "$?" 0 "stdin: exit 0 when the input ends"
is "$(reqs "$T/s1")" "1 " "stdin: the event is read"
ok "stdin: file is '-'" grep -q '"file":"-"' "$T/s1"
# a slow sender through a FIFO: each line comes out while the input is still open
mkfifo "$T/fifo"
"$TLSTRIAGE" scan --follow --format jsonl - <"$T/fifo" >"$T/s2" 2>"$T/s2.err" &
PID=$!
exec 7>"$T/fifo"
line 2 1 >&7
for _ in $(seq 50); do [ -s "$T/s2" ] && break; sleep 0.1; done
is "$(reqs "$T/s2")" "2 " "stdin: a line is out before the input ends"
ok "stdin: still following while the input is open" kill -0 "$PID"
printf '%s' "$(line 3 1)" >&7 # the last line without its newline
sleep 0.3
is "$(reqs "$T/s2")" "2 " "stdin: an unterminated line waits for its newline"
exec 7>&-
wait "$PID"; is "$?" 0 "stdin: exit 0 when the sender closes"; PID=
is "$(reqs "$T/s2")" "2 3 " "stdin: the unterminated last line is read at the end"
# text mode: the final table when the input ends
{ line 4 1; line 5 1; } | "$TLSTRIAGE" scan --follow - >"$T/s3" 2>"$T/s3.err"
is "$?" 0 "stdin text: exit 0"
ok "stdin text: the final table counts both events" grep -q '2 events' "$T/s3"
"$TLSTRIAGE" scan --follow --since 1h - </dev/null >/dev/null 2>"$T/err4"
is "$?" 2 "--since with standard input is a usage error"
ok "the message says why" grep -q "read as it arrives" "$T/err4"
"$TLSTRIAGE" scan --follow - - </dev/null >/dev/null 2>"$T/err5"
is "$?" 2 "standard input twice is a usage error"
timeout 5 "$TLSTRIAGE" scan --follow - <&- >/dev/null 2>"$T/err6"
is "$?" 2 "a closed standard input is refused, not waited on"
done_testing
