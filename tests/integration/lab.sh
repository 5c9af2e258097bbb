#!/usr/bin/env bash
# tests/integration/lab.sh — proves the lab: starts the standard scenario set on real nginx,
# requests every scenario once, and checks the HTTP status and the exact message nginx logged.
# Ports 20600..20629, or 20630..20659 when those are busy (the lab helper's range).
TT_SRCDIR=${TT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TT_SRCDIR/tests/tap.sh"
LAB=${LAB:-$TT_SRCDIR/tests/lab}
. "$LAB/lab.sh"

lab_require

# Every helper's worktree runs this test during development, so the lab may find its ports
# taken: try the two bases of this range, a few rounds, generating the certificates once.
certs=$(mktemp -d) || bail "mktemp failed"
trap 'rm -rf "$certs"' EXIT
bash "$LAB/mkcerts.sh" "$certs" || bail "mkcerts.sh failed"
started=0
for round in 1 2 3 4; do
    for base in 20600 20630; do
        lab_init "$base" "$certs" || bail "lab_init failed"
        trap 'lab_cleanup; rm -rf "$certs"' EXIT
        lab_scenarios_standard
        if lab_start 2>"$certs/start.err"; then
            started=1
            break 2
        fi
        lab_cleanup
    done
    sleep $((round * 2))
done
[ $started = 1 ] || bail "the lab did not start: $(tail -n 5 "$certs/start.err")"
echo "# lab on ports $LAB_BASE..$((LAB_BASE + 29))"

# has_line LEVEL TEXT... — the error.log section just written has one [LEVEL] line holding
# every TEXT.
has_line() {
    local level=$1 t line
    shift
    while IFS= read -r line; do
        [[ $line == *"[$level]"* ]] || continue
        for t in "$@"; do
            [[ $line == *"$t"* ]] || continue 2
        done
        return 0
    done <<<"$section"
    return 1
}
no_error() { ! grep -qE '\[(error|crit)\]' <<<"$section"; }

for n in "${LAB_SCENARIOS[@]}"; do
    mark=$(lab_log_mark)
    status=$(lab_request "$n")
    section=$(lab_log_since "$mark")
    is "$status" "${LAB_S_STATUS[$n]}" "$n: the front answers ${LAB_S_STATUS[$n]}"
    is "$(lab_logged_message "$mark")" "${LAB_S_MSG[$n]}" "$n: lab_logged_message reads nginx's message"
    if [ -z "${LAB_S_MSG[$n]}" ]; then
        ok "$n: the front logs no [error] or [crit]" no_error
    elif [ "${LAB_S_KIND[$n]}" = stream ]; then
        ok "$n: nginx logs [${LAB_S_LEVEL[$n]}] '${LAB_S_MSG[$n]}'" has_line "${LAB_S_LEVEL[$n]}" " ${LAB_S_MSG[$n]} ${LAB_S_WHILE[$n]}, " \
            "server: 127.0.0.1:${LAB_S_FRONT[$n]}, upstream: \"127.0.0.1:${LAB_S_PORT[$n]}\""
    else
        ok "$n: nginx logs [${LAB_S_LEVEL[$n]}] '${LAB_S_MSG[$n]}'" has_line "${LAB_S_LEVEL[$n]}" " ${LAB_S_MSG[$n]} ${LAB_S_WHILE[$n]}, " \
            "upstream: \"https://127.0.0.1:${LAB_S_PORT[$n]}/s/$n\""
    fi
done

# The committed fixture was captured from these scenarios: every expected message is in it
# (rerun tests/lab/capture-fixtures.sh when a scenario changes).
fixture=$LAB/fixtures/nginx-1.22.1-error.log
missing=""
for n in "${LAB_SCENARIOS[@]}"; do
    [ -n "${LAB_S_MSG[$n]}" ] || continue
    grep -qF "[${LAB_S_LEVEL[$n]}]" <(grep -aF " ${LAB_S_MSG[$n]} ${LAB_S_WHILE[$n]}, " "$fixture") ||
        missing+=" $n"
done
is "$missing" "" "the fixture error.log holds every scenario's message"

# The probe arguments mirror the scenario's settings.
mapfile -t args < <(lab_probe_args sni_on)
is "${args[*]}" "127.0.0.1:$((LAB_BASE + 19)) --trusted $LAB_CERTS/root.pem --depth 1 --name sni.lab --sni" \
    "lab_probe_args spells the scenario's settings as probe options"

# Reload picks up an edited config: fix chain_untrusted by trusting the private root.
sed -i "s|proxy_ssl_trusted_certificate $LAB_SYSTEM_CA; proxy_ssl_name api.lab;|proxy_ssl_trusted_certificate $LAB_CERTS/root.pem; proxy_ssl_name api.lab;|" \
    "$(lab_front_conf)"
ok "lab_reload reloads the edited front" lab_reload
is "$(lab_request chain_untrusted)" 200 "after the reload chain_untrusted answers 200"

pids="$(cat "$LAB_DIR"/front/nginx.pid "$LAB_DIR"/up/nginx.pid "$LAB_DIR"/peers/*.pid)"
dir=$LAB_DIR
lab_cleanup
alive() { local p; for p in $pids; do lab_alive "$p" && return 0; done; return 1; }
ok "lab_cleanup stops every process the lab started" eval '! alive'
ok "lab_cleanup removes the lab dir" test ! -e "$dir"

done_testing
