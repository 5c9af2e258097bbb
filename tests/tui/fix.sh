# fix.sh — from the first 502 to a verified fix and back, in the interactive screen in a real
# pty (tmux) against the lab's real nginx (ports 21330-21359): Enter shows the chain and
# nginx's message, f the candidates, Enter the plan with its diff and blast radius, y runs the
# checklist to green and the front answers 200; r in History restores the original bytes (cmp)
# and the 502. Also: the upstreams screen, a non-root user sees the plan and the sudo line and
# writes nothing, and a transaction cut by SIGHUP leaves the config whole and is offered at the
# next start.
. "$TT_SRCDIR/tests/tap.sh"
command -v tmux >/dev/null || skip_all "no tmux"
command -v curl >/dev/null || skip_all "no curl"
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
[ -x "$NGINX_BIN" ] || skip_all "no nginx binary"
unset NGINX
. "$LAB/lab.sh"
. "$TT_SRCDIR/tests/tui/tui-lib.sh"

lab_init ${TUI_PORT_BASE:-21330} || bail "lab_init failed"
trap 'tui_cleanup; lab_cleanup' EXIT
B=$LAB_BASE
lab_upstream $((B + 10)) selfsigned.pem selfsigned.key
lab_upstream $((B + 11)) api-chain.pem api.key
lab_front_location classic $((B + 10)) "proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $LAB_SYSTEM_CA;"
lab_front_location healthy $((B + 11)) "proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $LAB_CERTS/root.pem;
            proxy_ssl_name api.lab;"
lab_start || bail "the lab did not start"
CONF=$(lab_front_conf)
STATE=$LAB_DIR/state
cp "$CONF" "$LAB_DIR/orig.conf"
ENVV=(env -u NO_COLOR TERM=screen-256color LANG=C.UTF-8 LC_ALL=C.UTF-8)
TT=("$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" --state-dir "$STATE")
get_until() {
    local got=""
    for _ in $(seq 1 60); do
        got=$(lab_curl "/s/$1")
        [ "$got" = "$2" ] && break
        sleep 0.1
    done
    echo "$got"
}

is "$(lab_curl /s/classic)" 502 "before: /s/classic answers 502"
is "$(lab_curl /s/healthy)" 200 "before: /s/healthy answers 200"

for size in "120 40" "80 24"; do
    set -- $size
    S="w$1"
    tui_start "$S" "$1" "$2" "${ENVV[@]}" "${TT[@]}" watch --debug "$LAB_DIR/ui-$1.debug"
    ok "$1x$2: the 502 is on the Incidents screen" tui_wait "$S" "127.0.0.1:$((B + 10))"
    tui_keys "$S" Enter
    ok "$1x$2: Enter shows the chain the upstream sent" tui_wait "$S" "chain as the upstream sent it" 20
    ok "$1x$2: and where verification breaks" tui_wait "$S" "verification breaks here"
    ok "$1x$2: and the runbook of the cause" tui_wait "$S" "runbook (tlstriage explain verify-18)"
    tui_keys "$S" End
    ok "$1x$2: and nginx's message from the probe" tui_wait "$S" "self-signed certificate"
    tui_keys "$S" f
    ok "$1x$2: f lists the candidates, verified first" tui_wait "$S" "verified by probe"
    ok "$1x$2: and the runbook of the cause" tui_wait "$S" "runbook (tlstriage explain verify-18)"
    tui_keys "$S" Enter
    ok "$1x$2: Enter shows the plan with its blast radius" tui_wait "$S" "blast radius"
    tui_keys "$S" End
    ok "$1x$2: and the diff" tui_wait "$S" "+++ "
    if [ "$1" = 120 ]; then
        tmx resize-window -t "$S" -x 80 -y 24
        ok "resized to 80x24 mid-wizard: the plan is still drawn" tui_wait "$S" "+++ "
        tmx resize-window -t "$S" -x 120 -y 40
        ok "and back to 120x40" tui_wait "$S" "+++ "
        tui_keys "$S" q q q q q
        tui_wait_dead "$S"
    fi
done

# (80x24 session, in the plan) apply it
tui_keys w80 y
ok "y runs the checklist to the end" tui_wait w80 "transaction finished" 60
ok "every step green: done and confirmed" tui_wait w80 "done: "
is "$(get_until classic 200)" 200 "after the fix: /s/classic answers 200"
is "$(lab_curl /s/healthy)" 200 "after the fix: the bystander /s/healthy still answers 200"
ok "the config changed" sh -c "! cmp -s '$CONF' '$LAB_DIR/orig.conf'"
tui_keys w80 q
tui_keys w80 H
ok "History lists the apply" tui_wait w80 "apply"
tui_keys w80 r
ok "r asks before rolling back" tui_wait w80 "y/n"
tui_keys w80 y
ok "the rollback runs to the end" tui_wait w80 "rolled back:" 60
ok "the original bytes are back (cmp)" cmp -s "$CONF" "$LAB_DIR/orig.conf"
is "$(get_until classic 502)" 502 "after the rollback: /s/classic answers 502 again"
tui_keys w80 q q q q
tui_wait_dead w80

# --- the upstreams screen ---
tui_start ups 120 40 "${ENVV[@]}" "${TT[@]}" watch
tui_wait ups "Incidents" >/dev/null
tui_keys ups u
ok "u lists every TLS upstream" tui_wait ups "2 TLS upstream uses"
ok "with the failing one's verdict" tui_wait ups "verify_error" 20
ok "and the healthy one's" tui_wait ups " ok "
tui_keys ups Enter
ok "Enter on an upstream opens its detail (the chain it sent)" tui_wait ups "chain as the upstream sent it" 20
tui_keys ups q
ok "q goes back to Upstreams" tui_wait ups "TLS upstream uses"
tui_keys ups q q
tui_wait_dead ups

# --- the wizard asks for a file with Tab completion (ca, chain, mtls) ---
tui_start ca 120 40 "${ENVV[@]}" "${TT[@]}" watch
tui_wait ca "127.0.0.1:$((B + 10))" >/dev/null
tui_keys ca Enter
tui_wait ca "verification breaks here" 20 >/dev/null
tui_keys ca f
tui_wait ca "verified by probe" 20 >/dev/null
tui_keys ca c
ok "c opens a prompt for a CA file" tui_wait ca "CA or intermediate file (PEM): _"
tui_keys ca -l "$LAB_CERTS/inter.p"
tui_keys ca Tab
ok "Tab completes the path" tui_wait ca "CA or intermediate file (PEM): $LAB_CERTS/inter.pem_"
tui_keys ca Enter
ok "the file is kept and the item planned again with it" tui_wait ca "(now $LAB_CERTS/inter.pem)" 20
tui_keys ca q q q q q
tui_wait_dead ca

# --- not allowed to write: the plan and the sudo line, nothing written ---
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    chmod 0755 "$LAB_DIR" "$LAB_DIR/front" 2>/dev/null
    chmod o+r "$CONF" "$LAB_DIR/front/logs/error.log"
    mkdir -p "$LAB_DIR/nstate" && chown nobody "$LAB_DIR/nstate"
    NT=("$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" --state-dir "$LAB_DIR/nstate")
    tui_start nonroot 100 30 setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/tmp \
        TERM=screen-256color LANG=C.UTF-8 "${NT[@]}" watch
    tui_wait nonroot "127.0.0.1:$((B + 10))" 20 >/dev/null
    tui_keys nonroot Enter
    tui_wait nonroot "verification breaks here" 20 >/dev/null
    tui_keys nonroot f
    tui_wait nonroot "verified by probe" 20 >/dev/null
    tui_keys nonroot Enter
    ok "not root: the plan says which file it cannot write" tui_wait nonroot "you cannot write"
    ok "and shows the sudo line" tui_wait nonroot "sudo tlstriage"
    tui_keys nonroot y
    sleep 1
    ok "y writes nothing" cmp -s "$CONF" "$LAB_DIR/orig.conf"
    tui_keys nonroot q q q q q
else
    ok "a nobody user and setpriv (util-linux) to test as a non-root user" false
fi

# --- SIGHUP mid-transaction ---
tui_start hup 100 30 "${ENVV[@]}" "${TT[@]}" watch --debug "$LAB_DIR/ui-hup.debug"
tui_wait hup "127.0.0.1:$((B + 10))" >/dev/null
tui_keys hup Enter
tui_wait hup "verification breaks here" 20 >/dev/null
tui_keys hup f
tui_wait hup "verified by probe" 20 >/dev/null
tui_keys hup Enter
tui_wait hup "blast radius" >/dev/null
tui_keys hup y
tui_wait hup "[..]" 10 >/dev/null
tmx kill-session -t hup # the pty closes: SIGHUP
for _ in $(seq 1 100); do pgrep -f -- "^$TLSTRIAGE .*--state-dir $STATE watch" >/dev/null || break; sleep 0.1; done
sleep 3 # the transaction's worker goes on to a journaled state
if cmp -s "$CONF" "$LAB_DIR/orig.conf"; then whole=old; else whole=new; fi
ok "after SIGHUP the config is wholly old or wholly new ($whole): nginx -t accepts it" \
    "$NGINX_BIN" -t -q -c "$CONF" -p "$LAB_DIR/front/"
ok "and the journal's newest entry is done, rolled back or pending (never lost)" \
    sh -c "'$TLSTRIAGE' --state-dir '$STATE' history | grep -qE 'done|rolled-back|pending|written|tested|reloading'"

# --- killed mid-transaction: the next start offers to complete or roll back ---
"${TT[@]}" rollback --last --yes >/dev/null 2>&1 # back to the original config if it was applied
cp "$LAB_DIR/orig.conf" "$CONF" && lab_reload >/dev/null 2>&1
tui_start kill9 100 30 "${ENVV[@]}" "${TT[@]}" watch
tui_wait kill9 "127.0.0.1:$((B + 10))" >/dev/null
tui_keys kill9 Enter
tui_wait kill9 "verification breaks here" 20 >/dev/null
tui_keys kill9 f
tui_wait kill9 "verified by probe" 20 >/dev/null
tui_keys kill9 Enter
tui_wait kill9 "blast radius" >/dev/null
tui_keys kill9 y
# the moment the worker has written the config, kill everything of this tool at once
for _ in $(seq 1 200); do cmp -s "$CONF" "$LAB_DIR/orig.conf" || break; sleep 0.02; done
pkill -KILL -f -- "^$TLSTRIAGE .*--state-dir $STATE watch"
tmx kill-session -t kill9
if cmp -s "$CONF" "$LAB_DIR/orig.conf"; then whole=old; else whole=new; fi
ok "killed mid-transaction: the config is whole ($whole)" "$NGINX_BIN" -t -q -c "$CONF" -p "$LAB_DIR/front/"
tui_start again 100 30 "${ENVV[@]}" "${TT[@]}" watch
newest=$("$TLSTRIAGE" --state-dir "$STATE" history --format json | jq -r '.transactions[0].state')
case $newest in done | rolled-back | aborted) pending=no ;; *) pending=yes ;; esac
if [ $pending = yes ]; then
    ok "the next start opens on the unfinished transaction" tui_wait again "unfinished transaction"
    tui_keys again r
    ok "r rolls it back from there" tui_wait again "rolled back:" 60
    ok "and the original bytes are back" cmp -s "$CONF" "$LAB_DIR/orig.conf"
else
    ok "the worker finished before the kill: nothing is left unfinished" true
fi
tui_keys again q q q q
done_testing
