# watch.sh — the interactive screen in a real pty (tmux) against the lab's real nginx (ports
# 21300-21329): a 502 appears live on the Incidents screen; a hostile log line cannot drive
# the terminal; NO_COLOR has no colour; resizes redraw (and a too-small terminal gets one
# line); help and history screens; every way of quitting leaves the terminal as it was.
. "$TT_SRCDIR/tests/tap.sh"
command -v tmux >/dev/null || skip_all "no tmux"
command -v curl >/dev/null || skip_all "no curl"
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
[ -x "$NGINX_BIN" ] || skip_all "no nginx binary"
unset NGINX
. "$LAB/lab.sh"
. "$TT_SRCDIR/tests/tui/tui-lib.sh"

lab_init ${TUI_PORT_BASE:-21300} || bail "lab_init failed"
trap 'tui_cleanup; lab_cleanup' EXIT
B=$LAB_BASE
lab_upstream $((B + 10)) selfsigned.pem selfsigned.key
lab_front_location classic $((B + 10)) "proxy_ssl_verify on; proxy_ssl_trusted_certificate $LAB_SYSTEM_CA;"
lab_start || bail "the lab did not start"
CONF=$(lab_front_conf)
LOG=$(lab_error_log)
STATE=$LAB_DIR/state
ENVV=(env -u NO_COLOR TERM=screen-256color LANG=C.UTF-8 LC_ALL=C.UTF-8)
TT=("$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" --state-dir "$STATE")

# --- a failure appears live ---
tui_start live 120 40 "${ENVV[@]}" "${TT[@]}" watch --debug "$LAB_DIR/ui.debug"
ok "the Incidents screen opens" tui_wait live "Incidents"
ok "the followed log is named with its state" tui_wait live "$LOG (following)"
ok "the footer lists the keys" tui_wait live "? help"
is "$(lab_curl /s/classic)" 502 "the front answers 502"
ok "the 502 appears live as an incident row" tui_wait live "127.0.0.1:$((B + 10))"
ok "with nginx's cause, as scan words it" tui_wait live "verify_error 18 (self-signed certificate)"
ok "and the server nginx logged" tui_wait live "front.lab"
for i in 1 2 3; do lab_curl /s/classic >/dev/null; done
ok "the count ticks as requests fail" tui_wait live "      4 "

# --- a hostile log line cannot drive the terminal ---
printf '%s [error] 99#99: *1 upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream, client: 127.0.0.1, server: \033]0;pwned\007evil\033[2J, request: "GET / HTTP/1.1", upstream: "https://127.0.0.1:9/", host: "x"\n' \
    "$(date '+%Y/%m/%d %H:%M:%S')" >>"$LOG"
ok "the hostile line's incident is shown escaped" tui_wait live '\x1b]0;pwned'
title=$(tmx display-message -p -t live '#{pane_title}')
ok "the pane title was not changed by the log line ($title)" test "${title#*pwned}" = "$title"
ok "the screen was not cleared by the log line" tui_wait live "127.0.0.1:$((B + 10))"

# --- keys and screens ---
tui_keys live '?'
ok "? opens help with every key" tui_wait live "Ctrl-L"
ok "help says why verify off is never offered" tui_wait live "proxy_ssl_verify off is never offered"
tui_keys live q
ok "q goes back to Incidents" tui_wait live "UPSTREAM"
tui_keys live H
ok "H opens the history (empty journal)" tui_wait live "No fix in the journal yet."
tui_keys live Tab
ok "Tab goes to the next screen" tui_wait live "UPSTREAM"
tui_keys live / p w n e d Enter
ok "/ filters the rows" tui_wait_gone live "127.0.0.1:$((B + 10))"
ok "the filter is shown" tui_wait live "filter: pwned"
tui_keys live / Escape
ok "Esc in the prompt clears the filter" tui_wait live "127.0.0.1:$((B + 10))"
tui_keys live j
ok "j moves the selection down" tui_wait live ">127.0.0.1:9 "

# --- resizes ---
tmx resize-window -t live -x 80 -y 24
ok "at 80x24 the footer fits" tui_wait live "q quit"
scr=$(tui_screen live)
ok "at 80x24 no line is wider than 80" test "$(echo "$scr" | LC_ALL=C.UTF-8 wc -L)" -le 80
ok "the selection survived the resize" tui_wait live ">127.0.0.1:9 "
tmx resize-window -t live -x 60 -y 20
ok "smaller than 80x24: one notice line" tui_wait live "terminal too small"
sleep 1.5 # the clock ticks meanwhile: it must not draw the title over the notice
ok "smaller than 80x24: the notice stays through a clock tick" tui_wait live "terminal too small" 1
is "$(tui_screen live | grep -c .)" 1 "and nothing else on the screen"
tmx resize-window -t live -x 120 -y 40
ok "back at 120x40 the screen is whole again" tui_wait live "CAUSE"
tui_keys live q
ok "q on the home screen quits" tui_wait_dead live

# --- NO_COLOR: no colour escapes ---
tui_start nocolor 100 30 env TERM=screen-256color LANG=C.UTF-8 NO_COLOR=1 "${TT[@]}" watch
tui_wait nocolor "verify_error 18" >/dev/null
esc=$(tmx capture-pane -p -e -t nocolor | grep -cE $'\e\\[[0-9;]*(3[0-7]|4[0-7]|38;|48;)[0-9;]*m')
is "$esc" 0 "NO_COLOR: the captured pane holds no colour escape"
tui_keys nocolor q
tui_start color 100 30 "${ENVV[@]}" "${TT[@]}" watch
tui_wait color "verify_error 18" >/dev/null
esc=$(tmx capture-pane -p -e -t color | grep -cE $'\e\\[[0-9;]*(3[0-7]|4[0-7]|38;|48;)[0-9;]*m')
ok "with colour allowed, colour is used ($esc lines)" test "$esc" -gt 0
tui_keys color q

# --- ASCII when the locale is not UTF-8 ---
tui_start ascii 100 30 env TERM=xterm LANG=C LC_ALL=C "${TT[@]}" watch
ok "C locale: ASCII title rule" tui_wait ascii "tlstriage - Incidents"
tui_keys ascii q

# --- every way out leaves the terminal as it was ---
quit_test() {
    local how=$1 screen_key=$2 n=$3
    tui_start "sane$n" 100 30 "${ENVV[@]}" bash --norc --noprofile
    # the marker is printed as DO""NE: the typed line itself never shows what is waited for
    # (it reappears when the screen ends, before stty has run)
    tui_keys "sane$n" "stty -a > $LAB_DIR/stty.before.$n; ${TT[*]} watch; stty -a > $LAB_DIR/stty.after.$n; echo DO\"\"NE$n" Enter
    tui_wait "sane$n" "Incidents" >/dev/null
    if [ -n "$screen_key" ]; then
        tui_keys "sane$n" "$screen_key"
        # the screen it asked for is drawn before the way out is taken
        case $screen_key in
        H) tui_wait "sane$n" "journal:" >/dev/null ;;
        "?") tui_wait "sane$n" "Why proxy_ssl_verify off is never offered" >/dev/null ;;
        esac
    fi
    case $how in
    q) tui_keys "sane$n" q ;;
    C-c) tui_keys "sane$n" C-c ;;
    TERM) pkill -TERM -f -- "^$TLSTRIAGE .*--state-dir $STATE watch" ;;
    HUP) pkill -HUP -f -- "^$TLSTRIAGE .*--state-dir $STATE watch" ;;
    esac
    tui_wait "sane$n" "DONE$n" >/dev/null
    ok "quit by $how from ${screen_key:-Incidents}: stty -a unchanged" \
        cmp -s "$LAB_DIR/stty.before.$n" "$LAB_DIR/stty.after.$n"
    cmp -s "$LAB_DIR/stty.before.$n" "$LAB_DIR/stty.after.$n" ||
        diff "$LAB_DIR/stty.before.$n" "$LAB_DIR/stty.after.$n" 2>&1 | sed 's/^/# /' | head -20
    tmx kill-session -t "sane$n"
}
# Ctrl-Z suspends (the shell gets the terminal back), fg resumes with a whole screen
tui_start susp 100 30 "${ENVV[@]}" bash --norc --noprofile
tui_keys susp "stty -a > $LAB_DIR/stty.before.z; ${TT[*]} watch" Enter
tui_wait susp "Incidents" >/dev/null
tui_keys susp C-z
ok "Ctrl-Z suspends: the shell says so" tui_wait susp "Stopped"
tui_keys susp "stty -a > $LAB_DIR/stty.suspended.z; fg" Enter
ok "fg resumes with the screen redrawn" tui_wait susp "UPSTREAM"
ok "while suspended the terminal was the shell's (stty -a as before)" \
    cmp -s "$LAB_DIR/stty.before.z" "$LAB_DIR/stty.suspended.z"
tui_keys susp q
tui_keys susp "echo GONE" Enter
ok "q after the resume quits" tui_wait susp "GONE"
tmx kill-session -t susp

quit_test q "" 1
quit_test C-c "?" 2
quit_test TERM "H" 3
quit_test HUP "" 4

ok "nothing was written to the debug file's place on the terminal (debug file exists)" test -s "$LAB_DIR/ui.debug"
done_testing
