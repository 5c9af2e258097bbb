#!/usr/bin/env bash
# tests/integration/fmt-sanitize.sh — bytes from a config reach the terminal only through the
# sanitizer in `probe --conf`: an upstream host and an include path holding an ESC sequence
# (the upstream's trusted file is missing, so the probe stops at nginx's config error before
# any name lookup or connection). No nginx, no lab, no network.
TT_SRCDIR=${TT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TT_SRCDIR/tests/tap.sh"
TLSTRIAGE=${TLSTRIAGE:-$TT_SRCDIR/tlstriage}

d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
esc=$'\e[31m'
mkdir "$d/inc"
printf '}\n' >"$d/inc/bad${esc}.conf" # "unexpected }": a warning naming this file
cat >"$d/nginx.conf" <<EOF
events {}
http {
    include inc/bad*.conf;
    server {
        listen 127.0.0.1:8080;
        location / {
            proxy_pass https://evil${esc}host:443;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $d/missing.pem;
        }
    }
}
EOF

"$TLSTRIAGE" probe --conf "$d/nginx.conf" --all --timeout 1 >"$d/out" 2>"$d/err"
is "$?" 2 "a trusted file nginx cannot load is a config error: exit 2"
no_esc() { ! grep -qF $'\e' "$1"; }
ok "no raw ESC byte on stdout" no_esc "$d/out"
ok "no raw ESC byte on stderr" no_esc "$d/err"
ok "the upstream's name is shown sanitized in the config error" \
    grep -qF 'tlstriage: probe: evil\x1b[31mhost:443: nginx would refuse these settings: ' "$d/err"
ok "the include path is shown sanitized in the config warning" \
    grep -qF "tlstriage: probe: warning: $d/inc/bad\\x1b[31m.conf:1: " "$d/err"
ok "the table shows the upstream sanitized too" grep -qF 'evil\x1b[31mhost:443' "$d/out"

done_testing
