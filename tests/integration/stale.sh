# stale.sh — nginx running on files older than those on disk (issue 16 part 1), against the
# lab's real nginx (ports 22400-22429): (a) a trusted file corrected on disk without a reload
# keeps the 502; diagnose names the file and the reload; `fix --apply --yes` reloads (no file
# written) → 200; history shows it; rollback has nothing to restore. (b) a rotated client
# certificate for an mTLS upstream; (c) a CRL renewed on disk after nginx's copy expired;
# (d) a file broken on disk under a working nginx is a warning in check and probe --all.
# File times are compared with whole-second load times: the test waits past a second.
. "$TT_SRCDIR/tests/tap.sh"
command -v curl >/dev/null || skip_all "no curl"
command -v openssl >/dev/null || skip_all "no openssl"
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
[ -x "$NGINX_BIN" ] || skip_all "no nginx binary"
unset NGINX
. "$LAB/lab.sh"

lab_init 22400 || bail "lab_init failed"
C=$LAB_CERTS
B=$LAB_BASE
D=$LAB_DIR/pki # the files the front reads (what a PKI agent rotates)
mkdir -p "$D"

# ---- (c)'s CA: `openssl ca`, a good leaf, an expired and a current CRL ----
mkdir -p "$D/ca/newcerts"
: >"$D/ca/index.txt"
echo 1000 >"$D/ca/serial"
echo 1000 >"$D/ca/crlnumber"
cat >"$D/ca.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
default_ca = cc
[cc]
dir = $D/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $D/crl-root.pem
private_key = $D/crl-root.key
default_md = sha256
default_days = 30
default_crl_days = 7
policy = pol
unique_subject = no
[pol]
commonName = supplied
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[srv]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
subjectAltName = DNS:good.crl.test
CNF
ossl() { openssl "$@" >/dev/null 2>&1 || bail "openssl $*"; }
ossl req -x509 -config "$D/ca.cnf" -extensions v3_ca -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -nodes -keyout "$D/crl-root.key" -out "$D/crl-root.pem" -days 30 -subj "/CN=Stale CRL Root"
ossl req -new -config "$D/ca.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$D/good.key" -out "$D/good.csr" -subj "/CN=good.crl.test"
ossl ca -batch -config "$D/ca.cnf" -extensions srv -in "$D/good.csr" -out "$D/good.pem" -notext
ossl ca -config "$D/ca.cnf" -gencrl -out "$D/crl-current.pem"
ossl ca -config "$D/ca.cnf" -gencrl -crl_lastupdate 20200101000000Z \
    -crl_nextupdate 20200201000000Z -out "$D/crl.pem" # nginx loads the expired one

# ---- the files as nginx first loads them ----
cp "$C/root2.pem" "$D/trust.pem"         # (a) lacks the upstream's root
cp "$C/selfsigned.pem" "$D/client.pem"   # (b) not issued by the client CA
cp "$C/selfsigned.key" "$D/client.key"
cp "$C/root.pem" "$D/trust-d.pem"        # (d) right, for now
cp "$C/root2.pem" "$D/trust-e.pem"       # (e) wrong until (e)

lab_upstream $((B + 10)) api-chain.pem api.key
lab_sserver $((B + 11)) -cert "$C/api.pem" -cert_chain "$C/inter.pem" -key "$C/api.key" \
    -Verify 1 -verify_return_error -CAfile "$C/client-ca.pem"
lab_sserver $((B + 12)) -cert "$D/good.pem" -key "$D/good.key"
lab_upstream $((B + 13)) api-chain.pem api.key
lab_upstream $((B + 14)) api-chain.pem api.key
lab_upstream $((B + 15)) api-chain.pem api.key
loc() {
    local name=$1 port=$2 lines="" d
    shift 2
    for d in "$@"; do lines+="$d;"$'\n            '; done
    lab_front_location "$name" "$port" "$lines"
}
loc trust $((B + 10)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $D/trust.pem" \
    "proxy_ssl_name api.lab"
loc mtls $((B + 11)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $C/root.pem" \
    "proxy_ssl_name api.lab" "proxy_ssl_certificate $D/client.pem" \
    "proxy_ssl_certificate_key $D/client.key"
loc crl $((B + 12)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $D/crl-root.pem" \
    "proxy_ssl_name good.crl.test" "proxy_ssl_crl $D/crl.pem"
loc works $((B + 13)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $D/trust-d.pem" \
    "proxy_ssl_name api.lab"
loc late $((B + 15)) "proxy_ssl_verify on" "proxy_ssl_trusted_certificate $D/trust-e.pem" \
    "proxy_ssl_name api.lab"
# session reuse left at nginx's default (on) for the note of part 4
lab_front_raw "        location = /s/reuse {
            proxy_pass https://127.0.0.1:$((B + 14));
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $D/trust.pem;
            proxy_ssl_name api.lab;
        }"
lab_start || bail "the lab did not start"

CONF=$(lab_front_conf)
STATE=$LAB_DIR/state
cp "$CONF" "$LAB_DIR/orig.conf"
tt() {
    "$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" \
        --state-dir "$STATE" "$@" </dev/null
}
past_a_second() { sleep 1.2; }

is "$(lab_curl /s/trust)" 502 "(a) /s/trust answers 502: the trusted file lacks the upstream's root"
is "$(lab_curl /s/reuse)" 502 "(a) /s/reuse (session reuse on) answers 502 too"
is "$(lab_curl /s/mtls)" 502 "(b) /s/mtls answers 502: the upstream refuses the client certificate"
is "$(lab_curl /s/crl)" 502 "(c) /s/crl answers 502: nginx's CRL has expired"
is "$(lab_curl /s/works)" 200 "(d) /s/works answers 200"

# ---- (a) the trusted file corrected on disk, no reload ----
past_a_second
cp "$C/root.pem" "$D/trust.pem"
is "$(lab_curl /s/trust)" 502 "(a) nginx keeps answering 502 with the file corrected on disk"
is "$(lab_curl /s/reuse)" 502 "(a) and /s/reuse as well"
tt diagnose --upstream "127.0.0.1:$((B + 10))@front.lab=/s/trust" >"$LAB_DIR/a.diag" 2>&1
is "$?" 1 "(a) diagnose exits 1: the use still fails in nginx"
ok "(a) diagnose names the file and the reload" \
    grep -q "nginx is running on files it loaded at [0-9:]* (.*); $D/trust.pem (proxy_ssl_trusted_certificate) changed at [0-9:]* — a reload loads it" "$LAB_DIR/a.diag"
ok "(a) diagnose offers the reload fix, verified" \
    grep -q "\[1\] reload — verified" "$LAB_DIR/a.diag"
ok "(a) diagnose no longer says no fix is needed" \
    sh -c "! grep -q 'none on the nginx side needed' '$LAB_DIR/a.diag'"
ok "(a) proxy_ssl_session_reuse off: no session note for /s/trust" \
    sh -c "! grep -q 'proxy_ssl_session_reuse is on' '$LAB_DIR/a.diag'"
tt diagnose --upstream "127.0.0.1:$((B + 14))" >"$LAB_DIR/a2.diag" 2>&1
ok "(a) /s/reuse (reuse on): diagnose says resumed and fresh handshakes can differ" \
    grep -q "note:   proxy_ssl_session_reuse is on (nginx's default): nginx's workers resume TLS sessions" "$LAB_DIR/a2.diag"
tt diagnose --format json >"$LAB_DIR/a.json" 2>/dev/null
is "$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
i=[x for x in d["incidents"] if x["location"]["context"].startswith("location = /s/trust ")][0]
print(i["stale"]["files"][0]["path"] == sys.argv[2], i["stale"]["files"][0]["directive"],
      [f["id"] for f in i["fixes"]], i["fixes"][0]["files_written"])' "$LAB_DIR/a.json" "$D/trust.pem")" \
    "True proxy_ssl_trusted_certificate ['reload'] []" "(a) diagnose JSON: stale file, the reload fix, no file written"
tt fix --apply --yes --watch 0 --upstream "127.0.0.1:$((B + 10))@front.lab=/s/trust" \
    >"$LAB_DIR/a.fix" 2>"$LAB_DIR/a.fixerr"
is "$?" 0 "(a) fix --apply --yes succeeds"
ok "(a) the fix chosen is the reload" grep -q "^fix reload:" "$LAB_DIR/a.fix"
ok "(a) it writes no file" grep -q "no file changes" "$LAB_DIR/a.fix"
ok "(a) nginx reloaded, new workers confirmed" grep -q "nginx reloaded (new workers confirmed)" "$LAB_DIR/a.fix"
is "$(lab_curl /s/trust)" 200 "(a) the next request to /s/trust answers 200"
is "$(lab_curl /s/reuse)" 200 "(a) and /s/reuse too"
ok "(a) the config is byte-identical" cmp -s "$CONF" "$LAB_DIR/orig.conf"
ID=$(tt history --format json | python3 -c 'import json,sys
t=json.load(sys.stdin)["transactions"][0]
print(t["id"] if t["kind"]=="apply" and t["state"]=="done" and t["files"]==[] else "")')
ok "(a) history shows the reload: an apply, done, no files" test -n "$ID"
tt history >"$LAB_DIR/a.hist" 2>&1
ok "(a) history text names it" grep -q "$ID.*reload" "$LAB_DIR/a.hist"
tt rollback --yes "$ID" >"$LAB_DIR/a.rb" 2>&1
is "$?" 0 "(a) rollback of the reload succeeds"
ok "(a) and says there is nothing to restore" grep -q "nothing to restore: $ID changed no file" "$LAB_DIR/a.rb"
tt rollback --last --yes >"$LAB_DIR/a.rb2" 2>&1
is "$?" 2 "(a) rollback --last skips the reload (nothing to restore): exit 2"
ok "(a) saying there is nothing to roll back" grep -q "nothing to roll back in" "$LAB_DIR/a.rb2"
ok "(a) the config is still byte-identical" cmp -s "$CONF" "$LAB_DIR/orig.conf"
tt fix --upstream "127.0.0.1:$((B + 10))@front.lab=/s/trust" >"$LAB_DIR/a.again" 2>&1
ok "(a) after the reload there is nothing to fix" grep -q "^fix: nothing to fix" "$LAB_DIR/a.again"

# ---- (b) the client certificate rotated on disk ----
is "$(lab_curl /s/mtls)" 502 "(b) /s/mtls still 502 after the reload (the old certificate is on disk)"
past_a_second
cp "$C/client.pem" "$D/client.pem"
cp "$C/client.key" "$D/client.key"
is "$(lab_curl /s/mtls)" 502 "(b) nginx keeps the old client certificate: 502"
tt diagnose --upstream "127.0.0.1:$((B + 11))" >"$LAB_DIR/b.diag" 2>&1
is "$?" 1 "(b) diagnose exits 1"
ok "(b) diagnose names the rotated certificate" \
    grep -q "$D/client.pem (proxy_ssl_certificate) changed at" "$LAB_DIR/b.diag"
ok "(b) and the key" grep -q "$D/client.key (proxy_ssl_certificate_key) changed at" "$LAB_DIR/b.diag"
tt fix --apply --yes --watch 0 --upstream "127.0.0.1:$((B + 11))" >"$LAB_DIR/b.fix" 2>&1
is "$?" 0 "(b) fix --apply --yes (reload) succeeds"
is "$(lab_curl /s/mtls)" 200 "(b) /s/mtls answers 200"

# ---- (c) the CRL renewed on disk after nginx's copy expired ----
past_a_second
cp "$D/crl-current.pem" "$D/crl.pem"
is "$(lab_curl /s/crl)" 502 "(c) nginx keeps its expired CRL: 502"
ok "(c) nginx logged the expired CRL" grep -q "(12:CRL has expired)" "$(lab_error_log)"
tt diagnose --upstream "127.0.0.1:$((B + 12))" >"$LAB_DIR/c.diag" 2>&1
ok "(c) diagnose names the CRL" grep -q "$D/crl.pem (proxy_ssl_crl) changed at" "$LAB_DIR/c.diag"
tt fix --apply --yes --watch 0 --strategy reload --upstream "127.0.0.1:$((B + 12))" \
    >"$LAB_DIR/c.fix" 2>&1
is "$?" 0 "(c) fix --strategy reload --apply --yes succeeds"
is "$(lab_curl /s/crl)" 200 "(c) /s/crl answers 200"

# ---- (d) a file broken on disk under a working nginx ----
past_a_second
cp "$C/root2.pem" "$D/trust-d.pem"
is "$(lab_curl /s/works)" 200 "(d) nginx still answers 200 (it runs on the old file)"
tt check >"$LAB_DIR/d.check" 2>&1
is "$?" 0 "(d) check exits 0: a warning, not an error"
ok "(d) check warns that the next reload breaks /s/works" \
    grep -q "warning: the next reload breaks location = /s/works in server front.lab -> 127.0.0.1:$((B + 13)) ($D/trust-d.pem (proxy_ssl_trusted_certificate) changed at [0-9:]*): upstream SSL certificate verify error" "$LAB_DIR/d.check"
ok "(d) check does not warn about the uses that are fine" \
    sh -c "! grep -q 'next reload breaks location = /s/trust' '$LAB_DIR/d.check'"
tt check --format json >"$LAB_DIR/d.json" 2>/dev/null
is "$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print([(w["context"], w["upstream"]) for w in d["reload_warnings"]])' "$LAB_DIR/d.json")" \
    "[('location = /s/works in server front.lab', '127.0.0.1:$((B + 13))')]" "(d) check JSON: reload_warnings"
tt probe --all >"$LAB_DIR/d.probe" 2>&1
ok "(d) probe --all warns too" \
    grep -q "warning: the next reload breaks location = /s/works in server front.lab" "$LAB_DIR/d.probe"
is "$(lab_curl /s/works)" 200 "(d) and nothing was reloaded: still 200"

# ---- (e) a reload that would fix one use and break another is not verified ----
past_a_second
cp "$C/root.pem" "$D/trust-e.pem"
is "$(lab_curl /s/late)" 502 "(e) /s/late: corrected on disk, still 502 in nginx"
tt diagnose --upstream "127.0.0.1:$((B + 15))" >"$LAB_DIR/e.diag" 2>&1
ok "(e) the reload is offered but NOT verified" grep -q "\[1\] reload — NOT verified" "$LAB_DIR/e.diag"
ok "(e) naming the use it would break" \
    grep -q "not verified: the next reload breaks location = /s/works in server front.lab" "$LAB_DIR/e.diag"
ok "(e) listed in its blast radius" \
    grep -q "location = /s/works in server front.lab (.*) -> 127.0.0.1:$((B + 13)): ok -> verify_error" "$LAB_DIR/e.diag"
tt fix --apply --yes --watch 0 --upstream "127.0.0.1:$((B + 15))" >"$LAB_DIR/e.fix" 2>&1
is "$?" 1 "(e) fix --apply refuses the unverified reload"
is "$(lab_curl /s/works)" 200 "(e) nothing was reloaded: /s/works still 200"
done_testing
