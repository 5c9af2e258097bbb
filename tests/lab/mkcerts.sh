#!/usr/bin/env bash
# tests/lab/mkcerts.sh DIR — generates every certificate the lab needs, with the openssl CLI
# (EC P-256 keys, fast). Idempotent: when DIR already holds a complete set (DIR/.complete)
# nothing is regenerated. Owns only DIR; called by lab.sh (lab_init) and usable by hand.
#
# Files (all PEM): selfsigned, root, inter, api (+ api-chain), expired, soon, wrongname,
# root2 -> inter2a -> inter2b -> deep (+ deep-chain), sni-default, sni-named, client-ca, client.
# Every leaf has a .key next to its .pem; CA keys are kept too (root.key, inter.key, ...).
set -euo pipefail

dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -f "$dir/.complete" ] && exit 0

OPENSSL=${OPENSSL:-openssl}
work="$dir/.work"
rm -rf "$work"
mkdir -p "$work/ca/newcerts"
: >"$work/ca/index.txt"

# One minimal config for every extension set: the lab does not depend on /etc/ssl/openssl.cnf.
cnf="$work/lab.cnf"
cat >"$cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[self_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:selfsigned.lab, IP:127.0.0.1
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \${ENV::LAB_SAN}
[ca]
default_ca = labca
[labca]
dir = $work/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
EOF
export LAB_SAN="DNS:unused.lab"

newkey() { # newkey FILE
    "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
    chmod 0644 "$1" # nginx workers run as nobody when the tests run as root
}

serial() { echo "0x$("$OPENSSL" rand -hex 8)"; }

# sign NAME CN ISSUER EXT DAYS [SAN]: NAME.key + NAME.pem signed by ISSUER.pem/.key
sign() {
    local name=$1 cn=$2 issuer=$3 ext=$4 days=$5 san=${6:-DNS:unused.lab}
    newkey "$dir/$name.key"
    "$OPENSSL" req -new -config "$cnf" -key "$dir/$name.key" -subj "/CN=$cn" \
        -out "$work/$name.csr"
    LAB_SAN=$san "$OPENSSL" x509 -req -in "$work/$name.csr" -CA "$dir/$issuer.pem" \
        -CAkey "$dir/$issuer.key" -set_serial "$(serial)" -days "$days" -sha256 \
        -extfile "$cnf" -extensions "$ext" -out "$dir/$name.pem" 2>/dev/null
}

# selfroot NAME CN EXT: self-signed certificate (a root CA, or the self-signed leaf)
selfroot() {
    local name=$1 cn=$2 ext=$3
    newkey "$dir/$name.key"
    "$OPENSSL" req -new -x509 -config "$cnf" -key "$dir/$name.key" -subj "/CN=$cn" \
        -set_serial "$(serial)" -days 3650 -sha256 -extensions "$ext" -out "$dir/$name.pem"
}

# Self-signed leaf (not a CA).
selfroot selfsigned selfsigned.lab self_ext

# Private PKI: root -> inter -> leaves.
selfroot root "Lab Root CA" ca_ext
sign inter "Lab Intermediate CA" root ca_ext 3650
sign api api.lab inter server_ext 825 "DNS:api.lab, DNS:api.internal.lab, IP:127.0.0.1"
cat "$dir/api.pem" "$dir/inter.pem" >"$dir/api-chain.pem"
sign soon soon.lab inter server_ext 10 "DNS:soon.lab, DNS:api.lab, IP:127.0.0.1"
cat "$dir/soon.pem" "$dir/inter.pem" >"$dir/soon-chain.pem"
sign wrongname other.lab inter server_ext 825 "DNS:other.lab"
cat "$dir/wrongname.pem" "$dir/inter.pem" >"$dir/wrongname-chain.pem"
sign sni-default default.lab inter server_ext 825 "DNS:default.lab"
cat "$dir/sni-default.pem" "$dir/inter.pem" >"$dir/sni-default-chain.pem"
sign sni-named sni.lab inter server_ext 825 "DNS:sni.lab"
cat "$dir/sni-named.pem" "$dir/inter.pem" >"$dir/sni-named-chain.pem"

# Expired: validity entirely in the past. OpenSSL 3.0 x509 has no -not_before, so `openssl ca`.
newkey "$dir/expired.key"
"$OPENSSL" req -new -config "$cnf" -key "$dir/expired.key" -subj "/CN=expired.lab" \
    -out "$work/expired.csr"
"$OPENSSL" rand -hex 8 >"$work/ca/serial"
LAB_SAN="DNS:expired.lab, DNS:api.lab, IP:127.0.0.1" "$OPENSSL" ca -batch -notext \
    -config "$cnf" -cert "$dir/inter.pem" -keyfile "$dir/inter.key" \
    -startdate 20200101000000Z -enddate 20210101000000Z -md sha256 \
    -extfile "$cnf" -extensions server_ext -in "$work/expired.csr" -out "$dir/expired.pem" \
    2>/dev/null
cat "$dir/expired.pem" "$dir/inter.pem" >"$dir/expired-chain.pem"

# Deep chain: root2 -> inter2a -> inter2b -> deep (for proxy_ssl_verify_depth).
selfroot root2 "Lab Root 2" ca_ext
sign inter2a "Lab Intermediate 2A" root2 ca_ext 3650
sign inter2b "Lab Intermediate 2B" inter2a ca_ext 3650
sign deep deep.lab inter2b server_ext 825 "DNS:deep.lab, IP:127.0.0.1"
cat "$dir/deep.pem" "$dir/inter2b.pem" "$dir/inter2a.pem" >"$dir/deep-chain.pem"

# mTLS: a separate client CA and one client certificate.
selfroot client-ca "Lab Client CA" ca_ext
sign client client.lab client-ca client_ext 825

chmod 0644 "$dir"/*.pem
rm -rf "$work"
touch "$dir/.complete"
