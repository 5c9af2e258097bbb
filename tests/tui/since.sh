# since.sh — the Incidents screen starts at the last hour (or --since): events older than
# the start time are not counted, also when the follower reads the whole (small) file or
# starts the --since slack early. No nginx needed: a written error.log, tlstriage in tmux.
. "$TT_SRCDIR/tests/tap.sh"
command -v tmux >/dev/null || skip_all "no tmux"
. "$TT_SRCDIR/tests/tui/tui-lib.sh"

D=$(mktemp -d "${TMPDIR:-/tmp}/tt-since.XXXXXX")
trap 'tui_cleanup; rm -rf "$D"' EXIT
LOG=$D/error.log
line() { # line TIME UPSTREAM_HOST
    printf '%s [error] 7#7: *1 upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream, client: 10.0.0.1, server: api.example, request: "GET / HTTP/1.1", upstream: "https://%s:8443/", host: "api.example"\n' \
        "$(date -d "$1" '+%Y/%m/%d %H:%M:%S')" "$2"
}
{
    line '3 hours ago' 10.9.9.1
    line '2 hours ago' 10.9.9.1
    line '10 minutes ago' 10.9.9.2
} >"$LOG"
ENVV=(env -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8)

tui_start hour 100 30 "${ENVV[@]}" "$TLSTRIAGE" --log "$LOG" watch
ok "the event of 10 minutes ago is shown" tui_wait hour "10.9.9.2:8443"
ok "the count line says 1 incident, 1 event" tui_wait hour "1 incident, 1 event,"
ok "the events of 2 and 3 hours ago are not" sh -c "! tmux -L '$TUI_SOCK' capture-pane -p -t hour | grep -qF 10.9.9.1"
tui_keys hour q
ok "q quits" tui_wait_dead hour

tui_start since 100 30 "${ENVV[@]}" "$TLSTRIAGE" --log "$LOG" watch --since 150m
ok "--since 150m shows the event of 2 hours ago" tui_wait since "10.9.9.1:8443"
ok "and counts 2 incidents, 2 events" tui_wait since "2 incidents, 2 events,"
tui_keys since q
ok "q quits" tui_wait_dead since
done_testing
