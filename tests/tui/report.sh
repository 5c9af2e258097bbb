# report.sh — R in the interface writes the postmortem (Markdown, redacted) under the state
# dir and the status line gives its path; the help screen lists R from the key table. No
# nginx, no ports: a written error.log, tlstriage in tmux.
. "$TT_SRCDIR/tests/tap.sh"
command -v tmux >/dev/null || skip_all "no tmux"
. "$TT_SRCDIR/tests/tui/tui-lib.sh"

D=$(mktemp -d "${TMPDIR:-/tmp}/tt-report.XXXXXX")
trap 'tui_cleanup; rm -rf "$D"' EXIT
LOG=$D/error.log
printf '%s [error] 7#7: *1 upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream, client: 198.51.100.23, server: payroll.corp.internal, request: "GET /pay?session=77aa HTTP/1.1", upstream: "https://10.9.9.2:8443/pay", host: "payroll.corp.internal"\n' \
    "$(date -d '5 minutes ago' '+%Y/%m/%d %H:%M:%S')" >"$LOG"
ENVV=(env -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8)

tui_start rep 160 30 "${ENVV[@]}" "$TLSTRIAGE" --conf "$D/none.conf" --state-dir "$D/state" \
    --log "$LOG" watch
ok "the incident is shown" tui_wait rep "10.9.9.2:8443"
tui_keys rep R
ok "R says where the report went" tui_wait rep "report written (redacted): $D/state/reports/report-"
F=$(ls "$D"/state/reports/report-*.md 2>/dev/null | head -1)
ok "the file is there" test -f "$F"
is "$(stat -c %a "$F" 2>/dev/null)" 600 "mode 0600"
ok "it is the Markdown report with the incident" grep -q '^### 1\. 10.9.9.2:8443' "$F"
ok "the client address is redacted" sh -c "! grep -q '198\.51\.100\.23' '$F'"
ok "the internal host name is redacted" sh -c "! grep -q 'payroll' '$F'"
ok "the query string is redacted" sh -c "! grep -q '77aa' '$F'"
tui_keys rep '?'
ok "the help screen lists R" tui_wait rep "write the postmortem report"
tui_keys rep q
tui_keys rep q
ok "q quits" tui_wait_dead rep
done_testing
