# blast.sh — a fix changes only what it says, on a real nginx (ports 20900-20949): three
# shapes where an edit reaches more than the failing location — one-line sibling blocks, an
# outer location with a child that inherits, an upstream group with one broken and one
# healthy server; and two that cannot be kept whole or reach further: proxy_pass inside `if`
# (the edit must go in the location, whose own path it would break: refused) and a snippet
# included by two servers (the radius names both). For each: every location is curled before and after `fix --apply --yes`;
# the target goes 200, every bystander keeps its status, and the plan's `affected` list is
# exactly the set of uses the edit reaches. The config is CRLF with tabs: the plan's diff
# applies with `patch -p1` to a copy.
. "$TT_SRCDIR/tests/tap.sh"
command -v curl >/dev/null || skip_all "no curl"
command -v patch >/dev/null || skip_all "no patch"
NGINX_BIN=${TT_NGINX:-/usr/sbin/nginx}
[ -x "$NGINX_BIN" ] || skip_all "no nginx binary"
unset NGINX
. "$LAB/lab.sh"

lab_init 20900 || bail "lab_init failed"
C=$LAB_CERTS
B=$LAB_BASE
# a self-signed certificate for api.lab: the broken server of the group (pinning it keeps
# the group's name)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj /CN=api.lab -addext "subjectAltName=DNS:api.lab" \
    -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" \
    -keyout "$LAB_DIR/selfapi.key" -out "$LAB_DIR/selfapi.pem" 2>/dev/null ||
    bail "openssl req failed"

lab_upstream $((B + 10)) selfsigned.pem selfsigned.key
lab_upstream $((B + 11)) api-chain.pem api.key
lab_upstream $((B + 12)) selfsigned.pem selfsigned.key
lab_upstream $((B + 13)) api-chain.pem api.key
lab_upstream $((B + 14)) "$LAB_DIR/selfapi.pem" "$LAB_DIR/selfapi.key"
lab_upstream $((B + 15)) api-chain.pem api.key
lab_upstream $((B + 16)) api-chain.pem api.key
lab_upstream $((B + 17)) selfsigned.pem selfsigned.key
lab_upstream $((B + 18)) selfsigned.pem selfsigned.key
lab_upstream $((B + 19)) api-chain.pem api.key
# every location inherits the trust of the private root and the name api.lab from http
lab_front_http_raw "	proxy_ssl_verify on;
	proxy_ssl_trusted_certificate $C/root.pem;
	proxy_ssl_name api.lab;
	proxy_ssl_session_reuse off;
	proxy_next_upstream off;
	upstream grp {
		server 127.0.0.1:$((B + 14)) max_fails=0;
		server 127.0.0.1:$((B + 15)) max_fails=0;
	}
	server {
		listen 127.0.0.1:$((B + 2));
		server_name other.lab;
		include snip.conf;
	}"
lab_front_raw "	location /a/ { proxy_pass https://127.0.0.1:$((B + 10)); }
	location /b/ { proxy_pass https://127.0.0.1:$((B + 11)); }
	location /n/ {
		proxy_pass https://127.0.0.1:$((B + 12));
		location /n/m/ {
			proxy_pass https://127.0.0.1:$((B + 13));
		}
	}
	location /g/ { proxy_pass https://grp; }
	location /c/ {
		proxy_pass https://127.0.0.1:$((B + 16));
	}
	location /v/ {
		if (\$arg_x) { proxy_pass https://127.0.0.1:$((B + 18)); }
		proxy_pass https://127.0.0.1:$((B + 19));
	}
	include snip.conf;"
printf 'location /s/ {\n\tproxy_pass https://127.0.0.1:%s;\n}\n' $((B + 17)) >"$LAB_DIR/front/snip.conf"
lab_start || bail "the lab did not start"

CONF=$(lab_front_conf)
STATE=$LAB_DIR/state
sed -i 's/$/\r/' "$CONF" # CRLF, as a config edited on Windows
lab_reload || bail "the lab did not reload the CRLF config"
tt() {
    "$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" \
        --state-dir "$STATE" "$@" </dev/null
}
# the status of every location, "/a/=502 /b/=200 ..."; /g/ twice (round robin over 2 servers)
statuses() {
    local p out=""
    for p in /a/ /b/ /n/ /n/m/ /c/ /g/ /g/; do out+="$p=$(lab_curl "${p}x") "; done
    echo "${out% }"
}
# GET until every status is WANT (old workers may answer for a moment after a reload)
statuses_until() {
    local got=""
    for _ in $(seq 1 40); do
        got=$(statuses)
        [ "$got" = "$1" ] && break
        sleep 0.05
    done
    echo "$got"
}
# the affected list of the first fix for upstream $1: "target|context|upstream|before>after"
affected() {
    tt diagnose --format json --upstream "$1" >"$LAB_DIR/d.json" 2>"$LAB_DIR/d.err"
    python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
f=d["incidents"][0]["fixes"][0]
for a in f["affected"]:
    print("%s|%s|%s|%s>%s" % ("T" if a["target"] else "-", a["context"], a["upstream"],
                              a["before"], a["after"]))
print("verified=%s whole=%s" % (f["verified"], f["radius_whole"]))' "$LAB_DIR/d.json"
}

S0="/a/=502 /b/=200 /n/=502 /n/m/=200 /c/=200 /g/=502 /g/=200"
got=$(statuses)
# round robin may start on either server of the group
[ "$got" = "/a/=502 /b/=200 /n/=502 /n/m/=200 /c/=200 /g/=200 /g/=502" ] && got=$S0
is "$got" "$S0" "before any fix: /a/ /n/ 502, the group half 502, the rest 200"

# --- proxy_pass inside if: the edit goes in the location and would break its own path ---
cp "$CONF" "$LAB_DIR/before-if.conf"
tt fix --apply --yes --watch 0 --upstream 127.0.0.1:$((B + 18)) >"$LAB_DIR/fix-v.out" 2>&1
is "$?" 1 "if: fix --apply refuses (exit 1)"
ok "if: the candidate is NOT verified" grep -q "NOT verified" "$LAB_DIR/fix-v.out"
ok "if: naming the use it would break" \
    grep -q "it would break location /v/ in server front.lab -> 127.0.0.1:$((B + 19)) (ok today" \
    "$LAB_DIR/fix-v.out"
ok "if: the config is untouched" cmp -s "$CONF" "$LAB_DIR/before-if.conf"
is "$(lab_curl /v/x) $(lab_curl '/v/x?x=1')" "200 502" "if: /v/ still 200, /v/?x=1 still 502"

# --- a snippet included by two servers: the radius names both ---
affected 127.0.0.1:$((B + 17)) >"$LAB_DIR/snip.aff"
is "$(sed 's/^[T-]|//' "$LAB_DIR/snip.aff" | sort)" \
    "location /s/ in server front.lab|127.0.0.1:$((B + 17))|verify_error>ok
location /s/ in server other.lab|127.0.0.1:$((B + 17))|verify_error>ok
verified=True whole=True" "snippet: affected is the location in both servers, both fixed by it"
is "$(grep -c '^T|' "$LAB_DIR/snip.aff")" 1 "snippet: one of them is the target"
ok "snippet: the summary says the file is included in 2 places" \
    grep -q "snip.conf is included in 2 places" "$LAB_DIR/d.json"

# --- one-line sibling block: the edit goes inside /a/'s braces, /b/ is not reached ---
is "$(affected 127.0.0.1:$((B + 10)))" \
    "T|location /a/ in server front.lab|127.0.0.1:$((B + 10))|verify_error>ok
verified=True whole=True" "one-line /a/: affected is /a/ alone"
tt fix --plan --upstream 127.0.0.1:$((B + 10)) >"$LAB_DIR/plan-a.out" 2>&1
is "$?" 0 "one-line /a/: fix --plan exits 0"
ok "the plan's diff joins the one-line block" \
    grep -q "^+	location /a/ { proxy_pass https://127.0.0.1:$((B + 10)); proxy_ssl_trusted_certificate [^;]*pin-[0-9a-f]*\.pem; proxy_ssl_name selfsigned.lab; proxy_ssl_server_name on; }"$'\r'"\$" \
    "$LAB_DIR/plan-a.out"
ok "the plan shows no \\x09 or \\x0d escapes" sh -c "! grep -q 'x09\\|x0d' '$LAB_DIR/plan-a.out'"
# the diff from the plan JSON applies with patch -p1 to a copy of its root
python3 -c 'import json,sys
f=json.load(open(sys.argv[1]))["incidents"][0]["fixes"][0]
open(sys.argv[2],"w",newline="").write(f["diff"])
print(f["diff_root"])' "$LAB_DIR/d.json" "$LAB_DIR/a.diff" >"$LAB_DIR/a.root"
is "$(cat "$LAB_DIR/a.root")" "$LAB_DIR/front/" "the diff's root is the config's directory"
rm -rf "$LAB_DIR/copy" && cp -a "$LAB_DIR/front" "$LAB_DIR/copy"
ok "patch -p1 --dry-run applies the plan's diff to a copy" \
    sh -c "cd '$LAB_DIR/copy' && patch -p1 --dry-run <'$LAB_DIR/a.diff' >'$LAB_DIR/patch.out' 2>&1"
ok "the text plan applies as well (patch skips the words around it)" \
    sh -c "cd '$LAB_DIR/copy' && patch -p1 <'$LAB_DIR/plan-a.out' >>'$LAB_DIR/patch.out' 2>&1"
tt fix --apply --yes --watch 0 --upstream 127.0.0.1:$((B + 10)) >"$LAB_DIR/fix-a.out" 2>&1
is "$?" 0 "one-line /a/: fix --apply --yes succeeds"
ok "the patched copy is the applied config, byte for byte" cmp -s "$LAB_DIR/copy/nginx.conf" "$CONF"
ok "every line of the config still ends in CRLF" python3 -c 'import sys
d=open(sys.argv[1],"rb").read()
sys.exit(d.count(b"\n")!=d.count(b"\r\n"))' "$CONF"
S1="/a/=200 /b/=200 /n/=502 /n/m/=200 /c/=200 /g/=502 /g/=200"
got=$(statuses_until "$S1")
[ "$got" = "/a/=200 /b/=200 /n/=502 /n/m/=200 /c/=200 /g/=200 /g/=502" ] && got=$S1
is "$got" "$S1" "one-line /a/: /a/ 200, every bystander unchanged (/b/ still 200)"

# --- outer location with a child: the child keeps its inherited trust and name ---
is "$(affected 127.0.0.1:$((B + 12)))" \
    "T|location /n/ in server front.lab|127.0.0.1:$((B + 12))|verify_error>ok
verified=True whole=True" "outer /n/: once the child is kept, the radius is /n/ alone"
tt diagnose --upstream 127.0.0.1:$((B + 12)) >"$LAB_DIR/diag-n.txt" 2>&1
ok "outer /n/: the plan says it keeps the child's values" \
    grep -q "in location /n/m/ in location /n/ in server front.lab" "$LAB_DIR/diag-n.txt"
ok "outer /n/: the kept trusted file is the inherited one" \
    grep -q "proxy_ssl_trusted_certificate $C/root.pem; keeps the value it has today" "$LAB_DIR/diag-n.txt"
tt fix --apply --yes --watch 0 --upstream 127.0.0.1:$((B + 12)) >"$LAB_DIR/fix-n.out" 2>&1
is "$?" 0 "outer /n/: fix --apply --yes succeeds"
S2="/a/=200 /b/=200 /n/=200 /n/m/=200 /c/=200 /g/=502 /g/=200"
got=$(statuses_until "$S2")
[ "$got" = "/a/=200 /b/=200 /n/=200 /n/m/=200 /c/=200 /g/=200 /g/=502" ] && got=$S2
is "$got" "$S2" "outer /n/: /n/ 200 and the child /n/m/ still 200"

# --- upstream group: one trusted file for both servers ---
is "$(affected 127.0.0.1:$((B + 14)))" \
    "T|location /g/ in server front.lab|127.0.0.1:$((B + 14))|verify_error>ok
-|location /g/ in server front.lab|127.0.0.1:$((B + 15))|ok>ok
verified=True whole=True" "group: affected is both servers; the healthy one stays ok"
tt fix --apply --yes --watch 0 --upstream 127.0.0.1:$((B + 14)) >"$LAB_DIR/fix-g.out" 2>&1
is "$?" 0 "group: fix --apply --yes succeeds"
ok "group: the trusted file holds the old root and the pinned certificate" \
    sh -c "f=\$(sed -n 's/.*location \\/g\\/ {.*proxy_ssl_trusted_certificate \\([^;]*\\);.*/\\1/p' '$CONF'); \
        test -n \"\$f\" && grep -c 'BEGIN CERTIFICATE' \"\$f\" | grep -qx 2"
S3="/a/=200 /b/=200 /n/=200 /n/m/=200 /c/=200 /g/=200 /g/=200"
is "$(statuses_until "$S3")" "$S3" "group: both servers of /g/ answer 200, the rest unchanged"
"$TLSTRIAGE" --nginx "$NGINX_BIN" --conf "$CONF" --prefix "$LAB_DIR/front/" probe --all \
    --format json >"$LAB_DIR/probe-all.json" 2>&1
is "$(python3 -c 'import json,sys
print(" ".join(sorted(set(x["upstream"] for x in json.load(open(sys.argv[1])) if x["verdict"] != "ok"))))' \
    "$LAB_DIR/probe-all.json")" "127.0.0.1:$((B + 17)) 127.0.0.1:$((B + 18))" \
    "probe --all: after the three fixes only the unfixed if and snippet upstreams fail"

done_testing
