#!/usr/bin/env bash
# conf-fixtures.sh — keeps the config fixtures of tests/unit/conf real: runs the real
# `nginx -t` on each one and checks the verdict its first line announces ("# expect: ok",
# "# expect: refused TEXT", "# expect: skip ..."). Then runs `tlstriage check` on the
# same files (and on `nginx -T` output) and checks the rule each fixture is about fires.
. "$TT_SRCDIR/tests/tap.sh"

nginx_bin=${TT_NGINX:-/usr/sbin/nginx}
# nginx reads $NGINX itself (inherited listening sockets): keep it out of nginx's way.
unset NGINX
[ -x "$nginx_bin" ] || skip_all "no nginx binary"
command -v openssl >/dev/null || skip_all "no openssl"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -R "$TT_SRCDIR/tests/unit/conf" "$tmp/conf"
chmod -R u+w "$tmp/conf"
mkdir -p "$tmp/conf/certs" "$tmp/logs"
c=$tmp/conf/certs

# Certificates for the fixtures, made here (nothing private is committed). For nginx -t
# only their form matters; the unit tests make ones with exact dates for TT006.
gen() { # gen NAME DAYS
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$2" \
        -subj "/CN=$1" -keyout "$c/$1.key" -out "$c/$1.pem" 2>/dev/null
}
gen ca 3650 && gen client 3650 && gen other 3650 && gen expired 1 && gen soon 10 ||
    bail "openssl could not make the fixture certificates"
: > "$c/empty.pem"

# The stream module is dynamic in Debian: skip fixtures that need it when it is absent.
have_stream=yes
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || have_stream=no

for f in "$tmp"/conf/*.conf; do
    name=$(basename "$f")
    expect=$(head -1 "$f" | tr -d '\r' | sed -n 's/^# expect: //p') # crlf.conf: CRLF
    if grep -q ngx_stream_module "$f" && [ $have_stream = no ]; then
        echo "ok - $name # SKIP no stream module"
        continue
    fi
    out=$("$nginx_bin" -t -q -p "$tmp/" -e stderr -c "$f" 2>&1)
    rc=$?
    case $expect in
    ok)
        ok "nginx -t accepts $name" test $rc -eq 0
        [ $rc -eq 0 ] || echo "# $out" ;;
    refused*)
        want=${expect#refused}
        want=${want# }
        ok "nginx -t refuses $name" test $rc -ne 0
        if [ -n "$want" ]; then
            case $out in
            *"$want"*) ok "nginx -t says '$want' for $name" true ;;
            *) ok "nginx -t says '$want' for $name" false; echo "# $out" ;;
            esac
        fi ;;
    skip*) ;;
    *) ok "$name announces what nginx -t does with it" false ;;
    esac
done

# The rule each fixture is about fires, and fires alone.
rules_of() {
    "$TLSTRIAGE" --nginx "$nginx_bin" check --format json --conf "$1" |
        python3 -c 'import json,sys; print(" ".join(sorted(f["rule"] for f in json.load(sys.stdin)["findings"])))'
}
is "$(rules_of "$tmp/conf/clean.conf")" "" "check finds nothing in clean.conf"
"$TLSTRIAGE" check --conf "$tmp/conf/clean.conf" >/dev/null
is $? 0 "check exits 0 on the clean config"
for r in 1 2 3 4 5 7 8; do
    is "$(rules_of "$tmp/conf/tt00$r.conf")" "TT00$r" "check fires TT00$r alone on tt00$r.conf"
done
is "$(rules_of "$tmp/conf/tt006.conf")" "TT006 TT006" "check warns TT006 for trusted certificates valid 1 and 10 more days"
# TT009: nginx's own TLS server directives taken for the upstream's.
is "$(rules_of "$tmp/conf/tt009.conf")" "TT003 TT009 TT009" \
    "check names http-level ssl_trusted_certificate and ssl_verify_depth (TT009) beside TT003"
is "$(rules_of "$tmp/conf/tt009-depth.conf")" "TT009" "check fires TT009 alone in one-line blocks"
is "$(rules_of "$tmp/conf/tt009-clean.conf")" "" \
    "no TT009 for an mTLS server with its own proxy_ssl_trusted_certificate"
is "$(rules_of "$tmp/conf/tt009-snippet.conf")" "TT009" \
    "TT009 once for a snippet included by three servers"
# TT010: the CRL file nginx -t refuses, in nginx's own words.
is "$(rules_of "$tmp/conf/tt010.conf")" "TT010" "check fires TT010 alone on tt010.conf"
want=$("$nginx_bin" -t -q -p "$tmp/" -e stderr -c "$tmp/conf/tt010.conf" 2>&1 |
       sed -n 's/.*\[emerg\] [0-9#]*: //p' | head -1)
got=$("$TLSTRIAGE" check --format json --conf "$tmp/conf/tt010.conf" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["findings"][0]["message"])')
is "$got" "proxy_ssl_crl: nginx -t refuses it: $want" "TT010 quotes nginx -t's [emerg] for the CRL"
"$TLSTRIAGE" check --conf "$tmp/conf/tt001.conf" >/dev/null
is $? 1 "check exits 1 on an error finding"
"$TLSTRIAGE" check --conf "$tmp/conf/tt002.conf" >/dev/null
is $? 0 "check exits 0 on warnings only"
"$TLSTRIAGE" check --conf "$tmp/conf/missing.conf" >/dev/null 2>&1
is $? 2 "check exits 2 on a parse error"

# A parse error is reported in nginx's own words, at the include's file:line.
want=$("$nginx_bin" -t -q -p "$tmp/" -e stderr -c "$tmp/conf/missing.conf" 2>&1 |
       sed -n 's/.*\[emerg\] [0-9#]*: //p' | tail -1)
got=$("$TLSTRIAGE" check --format json --conf "$tmp/conf/missing.conf" |
      python3 -c 'import json,sys; e=json.load(sys.stdin)["errors"][0]; print("%s in %s:%d" % (e["message"], e["file"], e["line"]))')
is "$got" "$want" "check reports a missing include as nginx -t does"

# nginx -T output gives the same findings as the files.
"$nginx_bin" -T -q -p "$tmp/" -e stderr -c "$tmp/conf/includes.conf" > "$tmp/T.txt" 2>/dev/null
ok "nginx -T dumps includes.conf" test -s "$tmp/T.txt"
a=$("$TLSTRIAGE" check --format json --conf "$tmp/conf/includes.conf")
b=$("$TLSTRIAGE" check --format json --from-nginx-T - < "$tmp/T.txt")
is "$b" "$a" "check reads nginx -T output from stdin like the files themselves"
"$nginx_bin" -T -q -p "$tmp/" -e stderr -c "$tmp/conf/tt004.conf" > "$tmp/T4.txt" 2>&1
is "$("$TLSTRIAGE" check --format json --from-nginx-T "$tmp/T4.txt" |
      python3 -c 'import json,sys; print(" ".join(f["rule"] for f in json.load(sys.stdin)["findings"]))')" \
   "TT004" "check finds TT004 in nginx -T output with nginx's stderr mixed in"

# SARIF is valid JSON with the 2.1.0 version and one result per finding.
s=$("$TLSTRIAGE" check --format sarif --conf "$tmp/conf/tt001.conf" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["version"], len(d["runs"][0]["results"]), d["runs"][0]["results"][0]["ruleId"])')
is "$s" "2.1.0 1 TT001" "check --format sarif gives a SARIF 2.1.0 log"

# TT011: a directive older than the nginx in use. The nginx here (1.22.1) has every one, so a
# stub answers -V as 1.12.2 does; what nginx -t says of a directive it does not know is taken
# from the real one (an invented grpc_ssl_ spelling), and TT011 quotes it the same way.
printf '#!/bin/sh\necho "nginx version: nginx/1.12.2" >&2\n' > "$tmp/nginx-1.12.2"
chmod +x "$tmp/nginx-1.12.2"
printf 'events {}\nhttp {\n server { listen 127.0.0.1:20999;\n  location /g/ {\n   grpc_pass grpcs://127.0.0.1:20998;\n   grpc_ssl_nosuch on;\n  }\n }\n}\n' \
    > "$tmp/unknown.conf"
nt=$("$nginx_bin" -t -q -p "$tmp/" -e stderr -c "$tmp/unknown.conf" 2>&1)
has() { case $1 in *"$2"*) return 0 ;; *) printf '#   got: %s\n' "$1"; return 1 ;; esac; }
ok "nginx -t names a directive it does not know: unknown directive \"NAME\"" \
    has "$nt" 'unknown directive "grpc_ssl_nosuch"'
sed -i '/grpc_ssl_nosuch/d' "$tmp/unknown.conf"
got=$("$TLSTRIAGE" --nginx "$tmp/nginx-1.12.2" check --format json --conf "$tmp/unknown.conf" |
      python3 -c 'import json,sys; print(" ".join(f["rule"] + ":" + str(f["line"]) + ":" + f["message"] for f in json.load(sys.stdin)["findings"] if f["rule"] == "TT011"))')
is "$got" 'TT011:5:grpc_pass is in nginx from 1.13.10; nginx 1.12.2 does not have it: nginx -t refuses it: unknown directive "grpc_pass"' \
    "TT011 under a 1.12.2 nginx -V: grpc_pass named at its line in nginx -t's words"
is "$("$TLSTRIAGE" check --format json --conf "$tmp/unknown.conf" |
      python3 -c 'import json,sys; print(sum(f["rule"] == "TT011" for f in json.load(sys.stdin)["findings"]))')" \
   0 "no TT011 under the nginx here (1.22.1 has grpc_pass)"

done_testing
