#!/usr/bin/env bash
# tests/integration/report-redact.sh — `tlstriage report` on fixtures full of secrets: an
# error log (client IPv4/IPv6, internal Host names, tokens and basic-auth URLs in requests,
# query strings), a config (server names, proxy_set_header credentials, a password file and
# a private key next to it) and a journal whose diff holds a private-key block and a
# password file. Redacted (the default) none of the secrets appears, in Markdown or JSON;
# with --no-redact each does (so every grep can fail); --redact-map gives stable names.
# No nginx, no network.
TT_SRCDIR=${TT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TT_SRCDIR/tests/tap.sh"
TLSTRIAGE=${TLSTRIAGE:-$TT_SRCDIR/tlstriage}
command -v openssl >/dev/null || skip_all "no openssl"
command -v jq >/dev/null || skip_all "no jq"
export TZ=UTC

d=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$d"' EXIT # KEEP=1 keeps the files to look at
mkdir -p "$d/conf/secret" "$d/logs" "$d/state/journal" "$d/state/backups/20261127-031900"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/conf/private.key" 2>/dev/null ||
    bail "openssl genpkey failed"
KEYLINE=$(sed -n 2p "$d/conf/private.key")
PASSWORD=hunter2-Pa55file-Secret
printf '%s\n' "$PASSWORD" >"$d/conf/secret/keys.pass"

BEARER=sk_live_AbCdEf1234567890XyZq
COOKIE=c00k1e-v4lue-9f8e7d
APIKEY=9f2b7c4e1a77
HEXSECRET=3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a
PROXYAUTH=YWxpY2U6cGFzc3dvcmQ=
JWT=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldA
BASICPW=Sup3rS3cretPw
IPV4=203.0.113.77
IPV6=2001:db8:85a3::8a2e:370:7334
HOST1=billing.corp.internal
HOST2=admin-portal.example.org
HOST3=intranet.corp.internal
QUERY=customer=4711
STEPPW=CorrectHorseBattery

cat >"$d/conf/nginx.conf" <<EOF
error_log $d/logs/error.log;
events {}
http {
    server {
        listen 127.0.0.1:22580;
        server_name $HOST1 $HOST2;
        ssl_password_file $d/conf/secret/keys.pass;
        ssl_certificate_key $d/conf/private.key;
        location /api/ {
            proxy_pass https://10.0.2.88:8443;
            proxy_set_header Authorization "Bearer $BEARER";
            proxy_set_header Cookie "sessionid=$COOKIE";
            proxy_set_header X-Upstream-Auth "api_key=$APIKEY";
            proxy_set_header X-Signature $HEXSECRET;
            proxy_ssl_verify on;
        }
    }
}
EOF

line() { # TIME CLIENT REQUEST HOST
    printf '2026/11/27 %s [error] 811#811: *%d upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream, client: %s, server: %s, request: "%s", upstream: "https://10.0.2.88:8443/api/", host: "%s"\n' \
        "$1" "$RANDOM" "$2" "$HOST1" "$3" "$4"
}
{
    line 03:17:01 "$IPV4" "GET /api/v1/orders?$QUERY&api_key=$APIKEY HTTP/1.1" "$HOST1"
    line 03:17:05 "$IPV6" "GET /api/login?id_token=$JWT HTTP/1.1" "$HOST1:8443"
    line 03:17:09 "$IPV4" "GET http://alice:$BASICPW@$HOST3/api/admin HTTP/1.1" "$HOST3"
    line 03:18:30 "$IPV6" "POST /api/pay?password=$STEPPW HTTP/1.1" "$HOST1"
} >"$d/logs/error.log"

# A journal as txn.c writes it (journal.c's keys), with a diff that shows the server block,
# a private-key block and the password file.
ind() { sed 's/^/    /'; }
{
    cat <<EOF
id: 20261127-031900
kind: apply
state: done
time: 2026-11-27T03:19:00Z
user: oncall
summary: 'fix 10.0.2.88:8443: pin+name in location /api/ in server $HOST1'
confirmed: true
files:
- path: $d/conf/nginx.conf
  target: $d/conf/nginx.conf
  existed: true
diff: |
EOF
    {
        echo "--- a${d}/conf/nginx.conf"
        echo "+++ b${d}/conf/nginx.conf"
        echo "@@ -5,6 +5,7 @@"
        echo "         server_name $HOST1 $HOST2;"
        echo "             proxy_pass https://10.0.2.88:8443;"
        echo "             proxy_set_header Authorization \"Bearer $BEARER\";"
        echo "             proxy_set_header Cookie \"sessionid=$COOKIE\";"
        echo "             proxy_set_header X-Upstream-Auth \"api_key=$APIKEY\";"
        echo "             proxy_set_header X-Signature $HEXSECRET;"
        echo "+            proxy_ssl_name selfsigned.lab;"
        echo "--- a${d}/conf/stray.pem"
        echo "+++ b${d}/conf/stray.pem"
        echo "@@ -0,0 +1,5 @@"
        sed 's/^/+/' "$d/conf/private.key"
        echo "--- a${d}/conf/secret/keys.pass"
        echo "+++ b${d}/conf/secret/keys.pass"
        echo "@@ -0,0 +1 @@"
        echo "+$PASSWORD"
    } | ind
    cat <<EOF
steps:
- step: plan
  status: done
  time: 2026-11-27T03:19:00Z
- step: test
  status: done
  time: 2026-11-27T03:19:02Z
  message: 'proxy_set_header Proxy-Authorization "Basic $PROXYAUTH"; password=$STEPPW from $IPV4'
- step: reload
  status: done
  time: 2026-11-27T03:19:03Z
- step: confirm
  status: done
  time: 2026-11-27T03:19:04Z
  message: new worker processes
- step: verify
  status: done
  time: 2026-11-27T03:19:06Z
EOF
} >"$d/state/journal/20261127-031900.yaml"

tt() { "$TLSTRIAGE" --conf "$d/conf/nginx.conf" --state-dir "$d/state" report "$@"; }
SECRETS="BEGIN.PRIVATE.KEY KEYLINE PASSWORD BEARER COOKIE APIKEY HEXSECRET PROXYAUTH JWT BASICPW IPV4 IPV6 HOST1 HOST2 HOST3 QUERY STEPPW"
absent() { ! grep -qF -- "$1" "$2"; }
present() { grep -qF -- "$1" "$2"; }
jqok() { jq -e "$@" >/dev/null; }

tt >"$d/red.md" 2>"$d/err"
is "$?" 0 "report (Markdown, redacted by default) exits 0"
tt --format json >"$d/red.json" 2>>"$d/err"
is "$?" 0 "report --format json exits 0"
tt --no-redact >"$d/raw.md" 2>>"$d/err"
tt --no-redact --format json >"$d/raw.json" 2>>"$d/err"
for v in $SECRETS; do
    case $v in BEGIN.PRIVATE.KEY) s="BEGIN PRIVATE KEY" ;; *) s=${!v} ;; esac
    ok "redacted Markdown holds no $v" absent "$s" "$d/red.md"
    ok "redacted JSON holds no $v" absent "$s" "$d/red.json"
done
# the same greps find them when redaction is off (the private key's own file is never
# read; its block in the journal's diff is what shows)
for v in $SECRETS; do
    case $v in BEGIN.PRIVATE.KEY) s="BEGIN PRIVATE KEY" ;; *) s=${!v} ;; esac
    ok "--no-redact Markdown shows $v" present "$s" "$d/raw.md"
done
ok "the JSON parses" jqok . "$d/red.json"
if python3 -c 'import jsonschema' 2>/dev/null; then
    for f in red raw; do
        ok "the $f JSON follows docs/report-schema.json" python3 -c '
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
            "$TT_SRCDIR/docs/report-schema.json" "$d/$f.json"
    done
else
    ok "# SKIP no python3 jsonschema to check docs/report-schema.json" true
fi
ok "the upstream is kept" present "10.0.2.88:8443" "$d/red.md"
ok "the path of the request is kept without its query" present "/api/v1/orders?[redacted]" "$d/red.md"
ok "the path of a secret file may be shown" present "conf/secret/keys.pass" "$d/red.md"
ok "the private-key block says it was redacted" present "[redacted private key]" "$d/red.md"
ok "the password file's lines are replaced" present "line(s) of a key or password file" "$d/red.md"
is "$(jq -r '.incidents[0].clients | length' "$d/red.json")" 2 "two distinct clients, as placeholders"
is "$(jq -r '.incidents[0].clients | map(test("^ip-[0-9]+$")) | all' "$d/red.json")" true \
    "clients are ip-N placeholders"
is "$(jq -r '.redaction.enabled' "$d/red.json")" true "the JSON says redaction was on"
ok "the summary counts addresses, hosts, tokens, private keys and secret files" \
    jqok '.redaction.counts | .address > 0 and .host > 0 and .token > 0 and .private_key > 0
        and .secret_file > 0 and .header > 0 and .query > 0 and .userinfo > 0 and .password > 0' \
    "$d/red.json"
ok "the Markdown ends with the redaction summary" grep -q '^| private_key | [1-9]' "$d/red.md"
is "$(jq -r '.summary.time_to_detect_s, .summary.time_to_fix_s' "$d/red.json" | tr '\n' ' ')" \
    "119 125 " "time to detect (03:17:01 → 03:19:00) and to fix (→ verify done 03:19:06)"
is "$(jq -r '.transactions[0].steps | map(.time) | join(" ")' "$d/red.json")" \
    "2026-11-27T03:19:00Z 2026-11-27T03:19:02Z 2026-11-27T03:19:03Z 2026-11-27T03:19:04Z 2026-11-27T03:19:06Z" \
    "every journaled step keeps its time"
ok "the timeline table is in time order" \
    sh -c "sed -n '/^## Timeline/,/^## Incidents/p' '$d/red.md' | grep '^| 2026' | cut -d'|' -f2 | sort -c"

# the same name always gets the same placeholder, within a report and across runs
h=$(jq -r '.incidents[0].server' "$d/red.json")
ok "the server name became host-N" test "${h#host-}" != "$h"
ok "and every mention of it in the report uses the same placeholder" \
    sh -c "grep -c '$h' '$d/red.md' | grep -qv '^[01]$'"
tt --format json >"$d/red2.json"
ok "two runs give the same report but the time it was made" \
    cmp -s <(jq 'del(.generated)' "$d/red.json") <(jq 'del(.generated)' "$d/red2.json")

cat >"$d/map.yaml" <<EOF
names:
  $HOST1: billing-frontend
  $IPV4: office-nat
keep:
  - $HOST2
EOF
tt --redact-map "$d/map.yaml" --format json >"$d/map.json"
is "$?" 0 "--redact-map FILE is read"
is "$(jq -r '.incidents[0].server' "$d/map.json")" billing-frontend "a mapped name gets the map's placeholder"
ok "the mapped address too" jqok '.incidents[0].clients | index("office-nat") != null' "$d/map.json"
ok "a kept name stays" present "$HOST2" "$d/map.json"
ok "the map's real names do not appear" absent "$HOST1" "$d/map.json"
ok "other secrets are still redacted with a map" absent "$BEARER" "$d/map.json"
printf 'names: [a, b]\n' >"$d/bad.yaml"
tt --redact-map "$d/bad.yaml" >/dev/null 2>"$d/bad.err"
is "$?" 2 "a malformed --redact-map is a usage error"
ok "naming FILE:LINE" grep -q "bad.yaml:1:" "$d/bad.err"
tt --format text >/dev/null 2>&1
is "$?" 2 "an unknown --format is a usage error"

done_testing
