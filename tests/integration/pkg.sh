#!/usr/bin/env bash
# tests/integration/pkg.sh — what make install ships, checked from the tree: the sample
# settings file documents every setting, --version names the libraries in use, the hidden
# `complete` verb and the bash completion built on it, the systemd units (systemd-analyze
# verify, ExecStart pointed at this build's binary), and `probe --all --format prometheus
# --textfile` on a live lab, read back by Prometheus's own text-format parser (Debian's
# python3-prometheus-client) and matched by the example alert rules. Ports 22600-22629
# (or 22640-22669 when another run holds them).
TT_SRCDIR=${TT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TT_SRCDIR/tests/tap.sh"
LAB=${LAB:-$TT_SRCDIR/tests/lab}
. "$LAB/lab.sh"

lab_require
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
$PY -c 'import prometheus_client.parser' 2>/dev/null ||
    skip_all "no prometheus_client for $PY (apt-get install python3-prometheus-client)"
command -v systemd-analyze >/dev/null || skip_all "no systemd-analyze (apt-get install systemd)"
[ -f /usr/share/bash-completion/bash_completion ] ||
    skip_all "no bash-completion (apt-get install bash-completion)"

T=$(mktemp -d "${TMPDIR:-/tmp}/tt-pkg.XXXXXX")
SAMPLE=$TT_SRCDIR/contrib/config.yaml

# ---- the sample settings file: every setting, each commented out, each valid ----
keys=$("$TLSTRIAGE" --config /dev/null --show-settings | sed -n '2,$s/ .*//p' | sort)
listed=$(sed -n 's/^#\([a-z_]*\):.*/\1/p' "$SAMPLE" | sort)
is "$listed" "$keys" "the sample config.yaml shows every setting --show-settings knows"
out=$("$TLSTRIAGE" --config "$SAMPLE" --show-settings 2>&1)
ok "installed as is (all commented out) it loads and sets nothing" \
    bash -c '[ $? = 0 ] && ! grep -q "config.yaml:" <<<"$1"' _ "$out"
sed 's/^#\([a-z_]*:\)/\1/' "$SAMPLE" > "$T/config.yaml"
out=$("$TLSTRIAGE" --config "$T/config.yaml" --show-settings 2>&1)
is "$(grep -c "($T/config.yaml:[0-9]*:[0-9]*)" <<<"$out")" "$(wc -l <<<"$keys")" \
    "uncommented, every example value is valid and comes from the file"

# ---- --version ----
v=$("$TLSTRIAGE" --version)
ok "--version: tlstriage and configure's version first" \
    grep -qx "tlstriage $(sed -n 's/^AC_INIT(\[tlstriage\], \[\([^]]*\)\].*/\1/p' "$TT_SRCDIR/configure.ac")" <<<"$(head -1 <<<"$v")"
ok "--version names the OpenSSL in use" grep -qE '^  OpenSSL [0-9]+\.[0-9]+\.[0-9]+' <<<"$v"
ok "--version names ncurses" grep -qE '^  ncurses [0-9]+\.[0-9]+' <<<"$v"
ok "--version names libyaml" grep -qE '^  libyaml [0-9]+\.[0-9]+\.[0-9]+$' <<<"$v"
ok "--version names PCRE2" grep -qE '^  PCRE2 [0-9]+\.[0-9]+' <<<"$v"
is "$(sed -n 's/^  OpenSSL \([^ ]*\).*/\1/p' <<<"$v")" "$(openssl version | awk '{print $2}')" \
    "the OpenSSL version is the one the openssl tool (same libssl) reports"

# ---- the lab, its config, complete upstreams ----
base=22600
lab_ports_busy $base 30 && base=22640
lab_ports_busy $base 30 && skip_all "ports 22600-22669 are in use"
lab_init $base || bail "lab_init failed"
lab_scenarios_standard
lab_start || bail "the lab did not start: $(tail -5 "$(lab_error_log)" 2>&1)"
CONF=$(lab_front_conf)

is "$("$TLSTRIAGE" complete verbs | tr '\n' ' ')" \
    "$("$TLSTRIAGE" --help | sed -n '/^Verbs:/,/^$/s/^  \([a-z]*\) .*/\1/p' | tr '\n' ' ')" \
    "complete verbs lists the verbs of --help"
ups=$("$TLSTRIAGE" --conf "$CONF" complete upstreams)
want=$(for n in "${LAB_SCENARIOS[@]}"; do echo "127.0.0.1:${LAB_S_PORT[$n]}"; done | sort -u)
is "$(sort <<<"$ups")" "$want" "complete upstreams lists every TLS upstream of the config, once"
is "$("$TLSTRIAGE" --conf /nonexistent complete upstreams 2>&1; echo "rc=$?")" "rc=0" \
    "complete upstreams with an unreadable config: no words, no message, exit 0"

# bash completion, driven as bash does (COMP_WORDS/COMP_CWORD) with tlstriage on PATH.
complete_words() { # WORDS... (the last is the one being completed)
    PATH="$(dirname "$TLSTRIAGE"):$PATH" bash -c '
        . /usr/share/bash-completion/bash_completion
        . "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _tlstriage tlstriage "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$TT_SRCDIR/contrib/bash-completion/tlstriage" "$@"
}
is "$(complete_words tlstriage d | tr '\n' ' ')" "diagnose drill " "completion: verbs"
is "$(complete_words tlstriage --n | tr '\n' ' ')" "--nginx --no-color " "completion: global options"
ok "completion: probe's options, from probe --help" \
    grep -qx -- --textfile <<<"$(complete_words tlstriage probe --t)"
is "$(complete_words tlstriage probe --format '' | tr '\n' ' ')" "json prometheus text " \
    "completion: --format values of the verb"
is "$(complete_words tlstriage --conf "$CONF" fix --upstream '' | sort -u)" "$want" \
    "completion: fix --upstream offers the config's upstreams"

# ---- systemd units ----
sed "s|@bindir@|$(dirname "$TLSTRIAGE")|" "$TT_SRCDIR/contrib/systemd/tlstriage-probe.service.in" \
    > "$T/tlstriage-probe.service"
cp "$TT_SRCDIR/contrib/systemd/tlstriage-probe.timer" "$T/"
out=$(cd "$T" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
    "$T/tlstriage-probe.service" "$T/tlstriage-probe.timer" 2>&1)
is "$?:$out" "0:" "systemd-analyze verify passes both units (ExecStart: this build's binary)"
ok "the timer runs every 5 minutes" grep -qx 'OnUnitActiveSec=5min' "$T/tlstriage-probe.timer"
exec_line=$(sed -n 's/^ExecStart=//p' "$T/tlstriage-probe.service")
ok "the service runs probe --all --format prometheus --textfile" \
    grep -q -- ' probe --all --format prometheus --textfile ${TEXTFILE_DIR}/tlstriage.prom$' <<<"$exec_line"

# ---- the textfile: the service's command on the lab, read by Prometheus's parser ----
mkdir "$T/textfile"
"$TLSTRIAGE" --conf "$CONF" probe --all --timeout 1 --format prometheus \
    --textfile "$T/textfile/tlstriage.prom" > "$T/stdout" 2> "$T/stderr"
rc=$?
is "$rc" 1 "probe --all --textfile exits 1: the lab has failing upstreams"
ok "nothing on stdout with --textfile" test ! -s "$T/stdout"
is "$(ls -A "$T/textfile")" "tlstriage.prom" "only the textfile is left in the directory (no temp file)"
is "$(stat -c %a "$T/textfile/tlstriage.prom")" 644 "the textfile is mode 0644 (node_exporter reads it)"
parsed=$($PY - "$T/textfile/tlstriage.prom" <<'PYEOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        print(fam.name, fam.type, s.labels["upstream"], int(s.value) if fam.name.endswith("_ok") else int(s.value > 0))
PYEOF
)
is "$?" 0 "Prometheus's text-format parser reads the textfile"
nok=$(grep -c '^tlstriage_upstream_verify_ok gauge ' <<<"$parsed")
is "$nok" "$("$TLSTRIAGE" --conf "$CONF" probe --all --timeout 1 --format json | jq length)" \
    "one tlstriage_upstream_verify_ok gauge sample per probed use"
bad=0
for n in "${LAB_SCENARIOS[@]}"; do
    [ "${LAB_S_KIND[$n]}" = http ] || continue
    want_v=0
    [ "${LAB_S_VERDICT[$n]}" = ok ] && want_v=1
    got=$(awk -v u="127.0.0.1:${LAB_S_PORT[$n]}" '$1 == "tlstriage_upstream_verify_ok" && $3 == u {print $4}' <<<"$parsed" | sort -u | tr '\n' ,)
    case ",$got" in *",$want_v,"*) ;; *) echo "# $n: verify_ok $got, want $want_v"; bad=$((bad + 1)) ;; esac
done
is "$bad" 0 "verify_ok is 1 exactly where the lab's nginx passes the request"
ok "an expiry gauge for the upstreams that sent a certificate" \
    grep -q '^tlstriage_upstream_cert_expiry_seconds gauge ' <<<"$parsed"
for m in $(grep -oE 'tlstriage_[a-z_]+' "$TT_SRCDIR/contrib/prometheus/tlstriage.rules.yml" | sort -u); do
    ok "the alert rules' metric $m is in the textfile" grep -q "^$m{" "$T/textfile/tlstriage.prom"
done
ok "the rules alert on verify_ok == 0 and expiry under 14 days" \
    bash -c 'grep -q "expr: tlstriage_upstream_verify_ok == 0" "$1" &&
             grep -q "expr: tlstriage_upstream_cert_expiry_seconds < 14 \* 86400" "$1"' _ \
    "$TT_SRCDIR/contrib/prometheus/tlstriage.rules.yml"

# a second run replaces the file; a failed write leaves the old one and says why
before=$(stat -c %i "$T/textfile/tlstriage.prom")
"$TLSTRIAGE" --conf "$CONF" probe --all --timeout 1 --format prometheus \
    --textfile "$T/textfile/tlstriage.prom" >/dev/null 2>&1
ok "a second run renames a new file over it (new inode)" \
    test "$(stat -c %i "$T/textfile/tlstriage.prom")" != "$before"
out=$("$TLSTRIAGE" --conf "$CONF" probe --all --timeout 1 --format prometheus \
    --textfile "$T/missing/tlstriage.prom" 2>&1 >/dev/null)
is "$?" 2 "--textfile into a missing directory: exit 2"
ok "and the message names the file" grep -q "$T/missing/tlstriage.prom" <<<"$out"
"$TLSTRIAGE" --conf "$CONF" probe --all --textfile "$T/x.prom" >/dev/null 2>&1
is "$?" 2 "--textfile without --format prometheus is a usage error"
printf 'events {}\nhttp { server { listen 127.0.0.1:%s; } }\n' $((base + 29)) > "$T/empty.conf"
"$TLSTRIAGE" --conf "$T/empty.conf" probe --all --format prometheus --textfile "$T/textfile/empty.prom"
is "$?" 0 "a config without TLS upstreams: exit 0"
$PY -c 'import sys; from prometheus_client.parser import text_string_to_metric_families as p; list(p(open(sys.argv[1]).read()))' \
    "$T/textfile/empty.prom"
is "$?" 0 "and still a textfile the parser reads (the families, no samples)"

rm -rf "$T"
done_testing
