# stale.sh — stale loads in the interactive screen, in a real pty (tmux) against the lab's real
# nginx (ports 22450-22479): a trusted file corrected on disk without a reload: Detail's fix
# wizard offers the reload (no file written) and y makes the front answer 200; a trusted file
# broken on disk under a working nginx: the Upstreams screen marks the use RELOAD and says
# which file the next reload loads. File times count from a second after nginx's load.
. "$TT_SRCDIR/tests/tap.sh"
command -v tmux >/dev/null || skip_all "no tmux"
command -v curl >/dev/null || skip_all "no curl"
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
[ -x "$NGINX_BIN" ] || skip_all "no nginx binary"
unset NGINX
. "$LAB/lab.sh"
. "$TT_SRCDIR/tests/tui/tui-lib.sh"

lab_init 22450 || bail "lab_init failed"
trap 'tui_cleanup; lab_cleanup' EXIT
B=$LAB_BASE
C=$LAB_CERTS
cp "$C/root2.pem" "$LAB_DIR/trust.pem" # lacks the upstream's root
cp "$C/root.pem" "$LAB_DIR/works.pem"  # right, for now
lab_upstream $((B + 10)) api-chain.pem api.key
lab_upstream $((B + 11)) api-chain.pem api.key
lab_front_location trust $((B + 10)) "proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $LAB_DIR/trust.pem;
            proxy_ssl_name api.lab;"
lab_front_location works $((B + 11)) "proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $LAB_DIR/works.pem;
            proxy_ssl_name api.lab;"
lab_start || bail "the lab did not start"
CONF=$(lab_front_conf)
ENVV=(env -u NO_COLOR TERM=screen-256color LANG=C.UTF-8 LC_ALL=C.UTF-8)
TT=("$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" --state-dir "$LAB_DIR/state")

is "$(lab_curl /s/trust)" 502 "before: /s/trust answers 502"
sleep 1.2
cp "$C/root.pem" "$LAB_DIR/trust.pem"
is "$(lab_curl /s/trust)" 502 "the file corrected on disk, nginx still answers 502"

tui_start s 120 40 "${ENVV[@]}" "${TT[@]}" watch
ok "the 502 is on the Incidents screen" tui_wait s "127.0.0.1:$((B + 10))"
tui_keys s Enter
ok "Detail plans the case" tui_wait s "reload" 20
tui_keys s f
ok "f lists the reload, verified" tui_wait s "verified by probe"
tui_keys s Enter
ok "the plan is the reload" tui_wait s "plan: reload"
ok "it writes no file" tui_wait s "files written: none (a reload loads the files as they are on disk)"
ok "y applies it without a write" tui_wait s "no file written: nginx -t, reload"
tui_keys s y
ok "y runs the checklist to the end" tui_wait s "transaction finished" 60
ok "done and confirmed" tui_wait s "done: "
got=""
for _ in $(seq 1 60); do got=$(lab_curl /s/trust); [ "$got" = 200 ] && break; sleep 0.1; done
is "$got" 200 "the front answers 200 after the reload"
tui_keys s q q q
tmx kill-session -t s 2>/dev/null

sleep 1.2
cp "$C/root2.pem" "$LAB_DIR/works.pem"
is "$(lab_curl /s/works)" 200 "a file broken on disk, nginx still answers 200"
tui_start u 300 40 "${ENVV[@]}" "${TT[@]}" watch # the warning line is long
tui_wait u "Incidents" >/dev/null
tui_keys u u
ok "Upstreams marks the use RELOAD" tui_wait u "RELOAD" 20
tui_keys u End
ok "and says the next reload breaks it, naming the file" \
    tui_wait u "warning: the next reload breaks location = /s/works in server front.lab"
ok "with the file" tui_wait u "$LAB_DIR/works.pem (proxy_ssl_trusted_certificate) changed at"
tmx kill-session -t u 2>/dev/null
done_testing
