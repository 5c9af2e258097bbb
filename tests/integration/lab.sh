#!/usr/bin/env bash
# tests/integration/lab.sh — proves the lab: starts the standard scenario set on real nginx,
# requests every scenario once, and checks the HTTP status and the exact message nginx logged.
# Ports 20600..20629 (the lab helper's range).
TT_SRCDIR=${TT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TT_SRCDIR/tests/tap.sh"
LAB=${LAB:-$TT_SRCDIR/tests/lab}
. "$LAB/lab.sh"

[ -x "$LAB_NGINX" ] || skip_all "no nginx at $LAB_NGINX"
[ -f "$LAB_STREAM_MODULE" ] || skip_all "no stream module at $LAB_STREAM_MODULE"
command -v "$LAB_PYTHON" >/dev/null || skip_all "no $LAB_PYTHON"
command -v curl >/dev/null || skip_all "no curl"
[ -f "$LAB_SYSTEM_CA" ] || skip_all "no system CA bundle at $LAB_SYSTEM_CA"

lab_init 20600 || bail "lab_init failed"
lab_scenarios_standard
lab_start || bail "the lab did not start: $(tail -5 "$(lab_error_log)" "$(lab_upstream_error_log)" 2>&1)"

# has_line TEXT... — the error.log section just written has one [error] line holding every TEXT.
has_line() {
    local t line
    while IFS= read -r line; do
        [[ $line == *"[error]"* ]] || continue
        for t in "$@"; do
            [[ $line == *"$t"* ]] || continue 2
        done
        return 0
    done <<<"$section"
    return 1
}
no_error() { ! grep -qF '[error]' <<<"$section"; }

for n in "${LAB_SCENARIOS[@]}"; do
    mark=$(lab_log_mark)
    status=$(lab_request "$n")
    section=$(lab_log_since "$mark")
    is "$status" "${LAB_S_STATUS[$n]}" "$n: the front answers ${LAB_S_STATUS[$n]}"
    if [ -z "${LAB_S_MSG[$n]}" ]; then
        ok "$n: the front logs no [error]" no_error
    elif [ "${LAB_S_KIND[$n]}" = stream ]; then
        ok "$n: nginx logs '${LAB_S_MSG[$n]}'" has_line " ${LAB_S_MSG[$n]} ${LAB_S_WHILE[$n]}, " \
            "server: 127.0.0.1:${LAB_S_FRONT[$n]}, upstream: \"127.0.0.1:${LAB_S_PORT[$n]}\""
    else
        ok "$n: nginx logs '${LAB_S_MSG[$n]}'" has_line " ${LAB_S_MSG[$n]} ${LAB_S_WHILE[$n]}, " \
            "upstream: \"https://127.0.0.1:${LAB_S_PORT[$n]}/s/$n\""
    fi
done

# The probe arguments mirror the scenario's settings.
mapfile -t args < <(lab_probe_args sni_on)
is "${args[*]}" "127.0.0.1:20619 --trusted $LAB_CERTS/root.pem --depth 1 --name sni.lab --sni" \
    "lab_probe_args spells the scenario's settings as probe options"

# Reload picks up an edited config: fix chain_untrusted by trusting the private root.
sed -i "s|proxy_ssl_trusted_certificate $LAB_SYSTEM_CA; proxy_ssl_name api.lab;|proxy_ssl_trusted_certificate $LAB_CERTS/root.pem; proxy_ssl_name api.lab;|" \
    "$(lab_front_conf)"
ok "lab_reload reloads the edited front" lab_reload
is "$(lab_request chain_untrusted)" 200 "after the reload chain_untrusted answers 200"

pids="$(cat "$LAB_DIR"/front/nginx.pid "$LAB_DIR"/up/nginx.pid "$LAB_DIR"/peers/*.pid)"
dir=$LAB_DIR
lab_cleanup
alive() { local p; for p in $pids; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
ok "lab_cleanup stops every process the lab started" eval '! alive'
ok "lab_cleanup removes the lab dir" test ! -e "$dir"

done_testing
