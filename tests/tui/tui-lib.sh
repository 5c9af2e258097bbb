# tui-lib.sh — drive the real tlstriage binary in a real pty through tmux, and read the screen.
# Sourced by tests/tui/*.sh after tests/tap.sh. Each test file gets its own tmux server
# (socket tt-tui-PID), killed on exit.
#   tui_start NAME COLS ROWS CMD...   start CMD in a new session (environment as given)
#   tui_screen NAME                   the pane's text
#   tui_wait NAME TEXT [SECONDS]      until the pane shows TEXT (fixed string); 1 on time-out
#   tui_keys NAME KEYS...             tmux send-keys
TUI_SOCK="tt-tui-$$"
tmx() { tmux -L "$TUI_SOCK" "$@"; }
tui_cleanup() { tmx kill-server >/dev/null 2>&1 || true; }

tui_start() {
    local name=$1 cols=$2 rows=$3
    shift 3
    # a session that outlives the others, so the server never exits between tests
    tmx has-session -t _keep 2>/dev/null || tmx -f /dev/null new-session -d -s _keep "sleep 3600"
    tmx -f /dev/null new-session -d -s "$name" -x "$cols" -y "$rows" "$@"
}

tui_screen() { tmx capture-pane -p -t "$1" 2>/dev/null; }

tui_wait() {
    local name=$1 text=$2 secs=${3:-10} i
    for i in $(seq 1 $((secs * 20))); do
        tui_screen "$name" | grep -qF -- "$text" && return 0
        sleep 0.05
    done
    echo "# timed out waiting for '$text'; the screen was:" >&2
    tui_screen "$name" | sed 's/^/#   /' >&2
    return 1
}

# tui_wait_gone NAME TEXT [SECONDS] — until the pane no longer shows TEXT.
tui_wait_gone() {
    local name=$1 text=$2 secs=${3:-10} i
    for i in $(seq 1 $((secs * 20))); do
        tui_screen "$name" | grep -qF -- "$text" || return 0
        sleep 0.05
    done
    return 1
}

tui_keys() {
    local name=$1
    shift
    tmx send-keys -t "$name" "$@"
}

# tui_dead NAME — true once the pane's command has exited (its session is gone).
tui_dead() { ! tmx has-session -t "$1" 2>/dev/null; }
tui_wait_dead() {
    local i
    for i in $(seq 1 100); do tui_dead "$1" && return 0; sleep 0.05; done
    return 1
}
