# drill.sh — the classic drill in the interactive screen, in a real pty (tmux), ports
# 21800-21829: `tlstriage drill classic` builds the sandbox and opens the screen with the
# briefing; the trainee's 502 appears, Enter → f → Enter → y fixes it with verification on;
# q quits to the score, and the sandbox is gone (no directory, no process).
. "$TT_SRCDIR/tests/tap.sh"
command -v tmux >/dev/null || skip_all "no tmux"
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
[ -x "$NGINX_BIN" ] || skip_all "no nginx binary"
unset NGINX
. "$TT_SRCDIR/tests/tui/tui-lib.sh"
trap tui_cleanup EXIT
work=$(mktemp -d)
trap 'tui_cleanup; rm -rf "$work"' EXIT

tui_start d 120 40 env TERM=screen-256color LANG=C.UTF-8 TMPDIR="$work" bash --norc --noprofile
tui_keys d "'$TLSTRIAGE' --nginx '$NGINX_BIN' --state-dir '$work/state' drill classic --port-base 21800; echo EXIT=\$?" Enter
ok "the drill opens the screen with its briefing" tui_wait d "DRILL classic:" 30
ok "the trainee's 502 appears as an incident" tui_wait d "verify_error 18 (self-signed certificate)" 30
sandbox=$(ls -d "$work"/tlstriage-drill-classic-* 2>/dev/null | head -1)
ok "the sandbox is a directory of its own ($sandbox)" test -d "$sandbox"
tui_keys d Enter
ok "Enter shows the chain" tui_wait d "verification breaks here" 30
tui_keys d f
ok "f lists a verified fix" tui_wait d "verified by probe" 10
tui_keys d Enter
ok "the plan" tui_wait d "blast radius"
tui_keys d y
ok "the fix runs to the end" tui_wait d "done: " 60
tui_keys d q q q
ok "q shows the score: solved" tui_wait d "drill classic: solved in" 30
ok "and the sandbox is removed" tui_wait d "removed" 30
ok "the drill exits 0" tui_wait d "EXIT=0" 30
ok "no sandbox directory is left" test ! -e "$sandbox"
left=$(pgrep -fa -- "[n]ginx.*$sandbox|[d]rill --traffic.*$sandbox" || true)
is "$left" "" "no process of the sandbox is left (nginx, traffic)"
ok "the score is in the state dir" grep -q "classic" "$work/state/drill-scores.yaml"
ok "with the keystrokes of the screen" grep -qE "keystrokes: [1-9]" "$work/state/drill-scores.yaml"
ok "drill --scores lists them" sh -c "'$TLSTRIAGE' --state-dir '$work/state' drill --scores | grep -q 'keystroke'"
done_testing
