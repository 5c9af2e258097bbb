#!/usr/bin/env bash
# tests/lab/capture-fixtures.sh OUTDIR [BASEPORT] — regenerates the parser's real fixtures from
# the nginx on this machine: OUTDIR/nginx-VERSION-error.log (the front's error.log, level info,
# after every standard scenario, a few hostile requests and one failed reload) and
# OUTDIR/nginx-VERSION-emerg.log (what `nginx -t` prints for broken upstream TLS settings).
# The lab's temp dir is rewritten to /srv/lab so the files do not change with each run.
# Uses ports BASEPORT..BASEPORT+29 (default 20660).
set -euo pipefail
out=${1:?usage: capture-fixtures.sh OUTDIR [BASEPORT]}
base=${2:-20660}
mkdir -p "$out"
out=$(cd "$out" && pwd)
. "$(dirname "${BASH_SOURCE[0]}")/lab.sh"

version=$("$LAB_NGINX" -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
[ -n "$version" ] || { echo "capture-fixtures: cannot read the version of $LAB_NGINX" >&2; exit 1; }

LAB_LOG_LEVEL=info
lab_init "$base"
lab_scenarios_standard
lab_start
P=$LAB_FRONT_PORT

for n in "${LAB_SCENARIOS[@]}"; do
    echo "$n $(lab_request "$n")"
done

# Hostile requests. nginx 1.22 refuses spaces and control bytes in the request line and in
# Host (400, logged at info as "client sent invalid ..."), but accepts quotes and bytes >= 0x80,
# which then appear raw in the upstream TLS error lines.
raw() { echo "hostile $(lab_raw "$P" "$1")"; }
raw 'GET /s/selfsigned_untrusted?x=",upstream:"https://evil/" HTTP/1.1\r\nHost: front.lab\r\nConnection: close\r\n\r\n'
raw 'GET /s/wrongname?q=\xff\xfe\xc3\x28%1b%5b31m HTTP/1.1\r\nHost: front.lab\r\nConnection: close\r\n\r\n'
raw 'GET /s/expired HTTP/1.1\r\nHost: x",upstream:"evil\r\nConnection: close\r\n\r\n'
raw 'GET /s/selfsigned_ip HTTP/1.0\r\n\r\n'
raw 'GET /s/selfsigned_untrusted?x=", upstream: "https://evil/" HTTP/1.1\r\nHost: front.lab\r\n\r\n'
raw 'GET /s/selfsigned_untrusted?x=\x1b[31mred\x1b]0;title\x07 HTTP/1.1\r\nHost: front.lab\r\n\r\n'
raw 'GET /s/selfsigned_untrusted HTTP/1.1\r\nHost: evil\x1b[2J.lab\r\n\r\n'
raw 'GET /s/selfsigned_untrusted HTTP/1.1\r\nHost: a, upstream: "https://evil/\r\n\r\n'
long=$(printf 'A%.0s' $(seq 1 3000))
raw "GET /s/leaf_only?$long HTTP/1.1\r\nHost: front.lab\r\nConnection: close\r\n\r\n"

# A reload with verification on and no trusted file: nginx logs [emerg] and keeps the old config.
conf=$(lab_front_conf)
cp "$conf" "$conf.good"
sed -i 's|location / { return 404; }|location /broken { proxy_pass https://127.0.0.1:1; proxy_ssl_verify on; }\n        location / { return 404; }|' "$conf"
kill -HUP "$(cat "$LAB_DIR/front/nginx.pid")"
_lab_wait_grep 'emerg' "$(lab_error_log)" || echo "capture-fixtures: no [emerg] after the broken reload" >&2
cp "$conf.good" "$conf"
lab_reload
echo "after reload $(lab_request selfsigned_untrusted)"

sed "s|$LAB_DIR|/srv/lab|g" "$(lab_error_log)" >"$out/nginx-$version-error.log"

# nginx -t on broken upstream TLS settings, one config each.
e=$LAB_DIR/emerg
mkdir -p "$e/logs"
# Without -e, nginx reports on its compiled-in error log (stderr on Debian: timestamped lines);
# with EMERG_E=FILE (-e FILE) it prints the "nginx: [emerg] ..." form to stderr.
emerg_case() { # emerg_case TITLE HTTP_LOCATION_BODY [STREAM_SERVER_BODY]
    local title=$1 body=$2 sbody=${3:-} eopt=()
    [ -n "${EMERG_E:-}" ] && eopt=(-e "$EMERG_E")
    {
        [ -n "$sbody" ] && echo "load_module $LAB_STREAM_MODULE;"
        echo "error_log $e/logs/error.log; pid $e/nginx.pid; events { }"
        if [ -n "$sbody" ]; then
            echo "stream { server { listen 127.0.0.1:$((base + 29)); proxy_pass 127.0.0.1:$((base + 10)); $sbody } }"
        else
            echo "http {"
            echo "    server {"
            echo "        listen 127.0.0.1:$((base + 29));"
            echo "        location / { proxy_pass https://127.0.0.1:$((base + 10)); $body }"
            echo "    }"
            echo "}"
        fi
    } >"$e/nginx.conf"
    echo "# $title"
    env -u NGINX "$LAB_NGINX" -t -p "$e/" -c "$e/nginx.conf" "${eopt[@]}" 2>&1 || true
}
{
    emerg_case "http: proxy_ssl_verify on without proxy_ssl_trusted_certificate" \
        "proxy_ssl_verify on;"
    emerg_case "stream: proxy_ssl_verify on without proxy_ssl_trusted_certificate" "" \
        "proxy_ssl on; proxy_ssl_verify on;"
    emerg_case "http: proxy_ssl_trusted_certificate that does not exist" \
        "proxy_ssl_verify on; proxy_ssl_trusted_certificate $LAB_DIR/certs/missing-ca.pem;"
    printf 'not a certificate\n' >"$e/garbage-ca.pem"
    emerg_case "http: proxy_ssl_trusted_certificate without any certificate in it" \
        "proxy_ssl_verify on; proxy_ssl_trusted_certificate $e/garbage-ca.pem;"
    emerg_case "http: proxy_ssl_certificate without proxy_ssl_certificate_key" \
        "proxy_ssl_certificate $LAB_CERTS/client.pem;"
    emerg_case "http: proxy_ssl_certificate that does not exist" \
        "proxy_ssl_certificate $LAB_DIR/certs/missing-client.pem; proxy_ssl_certificate_key $LAB_CERTS/client.key;"
    emerg_case "http: proxy_ssl_certificate_key that does not exist" \
        "proxy_ssl_certificate $LAB_CERTS/client.pem; proxy_ssl_certificate_key $LAB_DIR/certs/missing-client.key;"
    emerg_case "http: proxy_ssl_certificate_key that does not match the certificate" \
        "proxy_ssl_certificate $LAB_CERTS/client.pem; proxy_ssl_certificate_key $LAB_CERTS/api.key;"
    emerg_case "stream: proxy_ssl_certificate without proxy_ssl_certificate_key" "" \
        "proxy_ssl on; proxy_ssl_certificate $LAB_CERTS/client.pem;"
    EMERG_E=$e/logs/startup.log emerg_case \
        "http, nginx -e FILE: proxy_ssl_verify on without proxy_ssl_trusted_certificate" \
        "proxy_ssl_verify on;"
    EMERG_E=$e/logs/startup.log emerg_case \
        "http, nginx -e FILE: proxy_ssl_trusted_certificate that does not exist" \
        "proxy_ssl_verify on; proxy_ssl_trusted_certificate $LAB_DIR/certs/missing-ca.pem;"
} | sed "s|$LAB_DIR|/srv/lab|g" >"$out/nginx-$version-emerg.log"

echo "wrote $out/nginx-$version-error.log $out/nginx-$version-emerg.log"
