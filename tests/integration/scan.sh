#!/bin/bash
# scan.sh — `tlstriage scan` on the lab's real nginx log and on hostile input: exit codes,
# jsonl valid per line, json document shape, no raw ESC byte in text output.
. "$TT_SRCDIR/tests/tap.sh"
command -v python3 >/dev/null || skip_all "python3 is needed to check JSON"
tmp=$(mktemp -d) || bail "mktemp"
trap 'rm -rf "$tmp"' EXIT

fixture="$LAB/fixtures/nginx-1.22.1-error.log"
hostile="$TT_SRCDIR/tests/unit/scan-hostile.errlog"

valid_jsonl() {
    python3 -c '
import json, sys
keys = ["line","time","level","kind","verify_code","reason","ssl_error","name","client",
        "server","request","upstream","host"]
n = 0
for raw in open(sys.argv[1], "rb"):
    o = json.loads(raw)
    assert list(o.keys()) == keys, list(o.keys())
    n += 1
sys.exit(0 if n > 0 else 1)' "$1"
}

if [ -r "$fixture" ]; then
    "$TLSTRIAGE" scan --format jsonl "$fixture" >"$tmp/f.jsonl"
    is "$?" 1 "scan of the real nginx log exits 1 (failures found)"
    ok "every jsonl line of the real nginx log is a JSON object with the documented keys" \
        valid_jsonl "$tmp/f.jsonl"
    ok "the real log's verify errors are found" grep -q '"kind":"verify_error"' "$tmp/f.jsonl"
    ok "the TLS 1.3 client-certificate refusal ([crit] SSL_read) is found in a file scan" \
        grep -q '"reason":"tlsv13 alert certificate required"' "$tmp/f.jsonl"
    is "$("$TLSTRIAGE" scan --format jsonl - <"$fixture" | wc -l)" "$(wc -l <"$tmp/f.jsonl")" \
        "stdin and file scans find the same events"
    "$TLSTRIAGE" scan "$fixture" >"$tmp/f.txt"
    is "$?" 1 "text scan of the real log exits 1"
    ok "text output explains the failures in plain words" grep -q '^  what: ' "$tmp/f.txt"
    ok "forged request and Host text never become the upstream" python3 -c '
import json, sys
ups = [json.loads(l)["upstream"] for l in open(sys.argv[1])]
assert ups and all(u is None or u.startswith("127.0.0.1:") for u in ups), ups' "$tmp/f.jsonl"
    "$TLSTRIAGE" scan --format json "$LAB/fixtures/nginx-1.22.1-emerg.log" >"$tmp/e.json"
    is "$?" 1 "the real nginx -t [emerg] output is a finding (exit 1)"
    ok "every [emerg] line of nginx -t is a config_error event" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
n = sum(1 for l in open(sys.argv[2], errors="replace") if "[emerg] " in l)
assert d["events"] == n and all(i["kind"] == "config_error" for i in d["incidents"]), (d["events"], n)' \
        "$tmp/e.json" "$LAB/fixtures/nginx-1.22.1-emerg.log"
else
    echo "# no lab fixture at $fixture: real-log checks skipped"
fi

"$TLSTRIAGE" scan --format jsonl "$hostile" >"$tmp/h.jsonl"
is "$?" 1 "hostile input still yields its genuine events (exit 1)"
ok "jsonl of hostile input is valid JSON on every line" valid_jsonl "$tmp/h.jsonl"
ok "a forged upstream never becomes the upstream field" \
    python3 -c 'import json,sys; sys.exit(any(json.loads(l)["upstream"] not in ("10.0.2.88:8443","127.0.0.1:9441") for l in open(sys.argv[1])))' "$tmp/h.jsonl"
"$TLSTRIAGE" scan "$hostile" >"$tmp/h.txt"
is "$?" 1 "text scan of hostile input exits 1"
ok "no raw ESC byte reaches text output" python3 -c 'import sys; sys.exit(b"\x1b" in open(sys.argv[1],"rb").read())' "$tmp/h.txt"
ok "no raw BEL byte reaches text output" python3 -c 'import sys; sys.exit(b"\x07" in open(sys.argv[1],"rb").read())' "$tmp/h.txt"
ok "escape sequences are shown escaped" grep -qF '\x1b' "$tmp/h.txt"

"$TLSTRIAGE" scan --format json - <"$hostile" >"$tmp/h.json"
is "$?" 1 "json document from stdin exits 1"
ok "json document has incidents, lines_read and events" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert set(["incidents","lines_read","events"]) <= set(d)
i = d["incidents"][0]
for k in ["upstream","kind","verify_code","reason","server","count","first_seen","last_seen","clients","sample_request"]:
    assert k in i, k
assert d["lines_read"] == sum(1 for _ in open(sys.argv[2], "rb"))' "$tmp/h.json" "$hostile"

printf '2026/11/27 03:17:01 [notice] 1#1: signal process started\n\n\0garbage\n' >"$tmp/quiet.log"
"$TLSTRIAGE" scan "$tmp/quiet.log" >"$tmp/q.txt"
is "$?" 0 "a log without upstream TLS failures exits 0"
"$TLSTRIAGE" scan "$tmp/does-not-exist.log" >"$tmp/out" 2>"$tmp/err"
is "$?" 2 "an unreadable file exits 2"
ok "the message names the file" grep -q 'does-not-exist.log' "$tmp/err"
is "$(wc -l <"$tmp/err")" 1 "the message is one line"
"$TLSTRIAGE" scan --format yaml "$hostile" >/dev/null 2>&1
is "$?" 2 "an unknown format exits 2"
"$TLSTRIAGE" scan --since yesterday "$hostile" >/dev/null 2>&1
is "$?" 2 "an unreadable --since exits 2"
"$TLSTRIAGE" scan --since '2026-11-27 03:17:03' --format jsonl "$hostile" >"$tmp/s.jsonl"
ok "--since keeps only later events" python3 -c '
import json, sys
ts = [json.loads(l)["time"] for l in open(sys.argv[1])]
assert ts and all(t >= "2026/11/27 03:17:03" for t in ts), ts' "$tmp/s.jsonl"
"$TLSTRIAGE" scan --since 1h --format jsonl "$hostile" >"$tmp/r.jsonl"
is "$?" 0 "--since 1h on an old log matches nothing (exit 0)"

# A line over 64 KiB holding the marker is skipped; the following line is still read.
python3 -c '
import sys
sys.stdout.write("2026/11/27 03:17:01 [error] 1#1: *1 upstream SSL certificate verify error: (18:x) while SSL handshaking to upstream, client: 1.1.1.1, server: a, request: \"GET /" + "a"*70000 + " HTTP/1.1\", upstream: \"https://10.9.9.9:443/\", host: \"a\"\n")
sys.stdout.write("2026/11/27 03:17:02 [error] 1#1: *2 upstream SSL certificate verify error: (18:x) while SSL handshaking to upstream, client: 1.1.1.1, server: a, request: \"GET / HTTP/1.1\", upstream: \"https://10.0.2.88:8443/\", host: \"a\"\n")' >"$tmp/long.log"
"$TLSTRIAGE" scan --format jsonl "$tmp/long.log" >"$tmp/long.jsonl"
is "$(wc -l <"$tmp/long.jsonl")" 1 "a line over 64 KiB is skipped, the next one is read"
ok "the line number after a long line is right" grep -q '"line":2,' "$tmp/long.jsonl"

# What is not a regular file is refused at once with its name, by scan and by the verbs that
# read --log (diagnose, fix): a FIFO is never waited on (it would block open(2) for a writer).
mkfifo "$tmp/fifo"
mkdir "$tmp/dir.log"
conf="$TT_SRCDIR/tests/unit/conf/clean.conf"
for bad in "$tmp/fifo" "$tmp/dir.log" /dev/null "$tmp/missing.log"; do
    timeout 10 "$TLSTRIAGE" scan "$bad" >/dev/null 2>"$tmp/bad.err"
    is "$?" 2 "scan ${bad##*/} exits 2"
    ok "scan ${bad##*/}: the message names it" grep -qF "$bad: " "$tmp/bad.err"
    for verb in diagnose fix; do
        timeout 10 "$TLSTRIAGE" --conf "$conf" --nginx /bin/false --log "$bad" "$verb" \
            >"$tmp/bad.out" 2>"$tmp/bad.err"
        is "$?" 2 "$verb --log ${bad##*/} exits 2"
        ok "$verb --log ${bad##*/}: the message names it" grep -qF "$bad: " "$tmp/bad.err"
    done
done

done_testing
