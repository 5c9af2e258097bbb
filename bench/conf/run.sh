#!/usr/bin/env bash
# bench/conf/run.sh [TLSTRIAGE] — times `tlstriage check` (parse + resolve every location +
# every rule) on the generated tree against `nginx -t` on the same tree without the
# proxy_ssl_verify / proxy_ssl_trusted_certificate lines. Needs python3, openssl, nginx,
# hyperfine. Writes only under a mktemp -d directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tt=${1:-$here/../../build/tlstriage}
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
unset NGINX  # nginx reads $NGINX itself (inherited sockets)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$here/gen.py" "$tmp"
for t in full noverify; do
    mkdir -p "$tmp/$t/certs"
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=bench CA" -keyout "$tmp/full/certs/ca.key" -out "$tmp/full/certs/ca.pem" 2>/dev/null
cp "$tmp/full/certs/ca.pem" "$tmp/noverify/certs/"
echo "lines: $(cat "$tmp"/full/nginx.conf "$tmp"/full/servers/*.conf | wc -l) in" \
     "$(ls "$tmp"/full/servers | wc -l) include files + nginx.conf"
{ "$tt" --nginx "$nginx_bin" check --conf "$tmp/full/nginx.conf" || true; } | tail -1
"$nginx_bin" -t -q -p "$tmp/noverify/" -e stderr -c "$tmp/noverify/nginx.conf"

hyperfine -N -i -w 1 -r "${RUNS:-10}" \
    "$tt --nginx $nginx_bin check --conf $tmp/full/nginx.conf --format json" \
    "$tt --nginx $nginx_bin check --conf $tmp/full/nginx.conf --format sarif"
hyperfine -N -w 1 -r "${NGINX_RUNS:-3}" \
    "$nginx_bin -t -q -p $tmp/noverify/ -e stderr -c $tmp/noverify/nginx.conf"
