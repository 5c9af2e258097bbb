# tests/lab/scenarios.sh — the standard scenario set, sourced by lab_scenarios_standard in
# lab.sh. Every message below was read from nginx 1.22.1 / OpenSSL 3.0 logs (see README.md);
# the integration test tests/integration/lab.sh asserts them all against a live nginx.
# Ports: LAB_BASE+0 front http, +1..+2 stream front, +10..+26 upstreams and peers.

_lab_scenarios_standard() {
    local b=$LAB_BASE
    local P_SELF=$((b + 10)) P_LEAF=$((b + 11)) P_CHAIN=$((b + 12)) P_EXPIRED=$((b + 13))
    local P_SOON=$((b + 14)) P_WRONG=$((b + 15)) P_DEEP=$((b + 16)) P_TLS12=$((b + 17))
    local P_MTLS=$((b + 18)) P_SNI=$((b + 19)) P_PLAIN=$((b + 20)) P_STALL=$((b + 21))
    local P_GARBAGE=$((b + 22)) P_CLOSE=$((b + 23)) P_NOTHING=$((b + 24)) P_RESET=$((b + 25))
    local P_MTLS_STRICT=$((b + 26)) P_MTLS13_STRICT=$((b + 27))
    local HS="while SSL handshaking to upstream"
    local PKI="trusted=root.pem name=api.lab"

    # --- upstreams and peers ---
    lab_upstream $P_SELF selfsigned.pem selfsigned.key
    lab_upstream $P_LEAF api.pem api.key
    lab_upstream $P_CHAIN api-chain.pem api.key
    lab_upstream $P_EXPIRED expired-chain.pem expired.key
    lab_upstream $P_SOON soon-chain.pem soon.key
    lab_upstream $P_WRONG wrongname-chain.pem wrongname.key
    lab_upstream $P_DEEP deep-chain.pem deep.key
    lab_upstream $P_TLS12 api-chain.pem api.key "ssl_protocols TLSv1.2;"
    lab_upstream $P_MTLS api-chain.pem api.key \
        "ssl_verify_client on; ssl_client_certificate $LAB_CERTS/client-ca.pem;"
    lab_upstream $P_SNI sni-default-chain.pem sni-default.key "server_name default.lab;" \
        default_server
    lab_upstream $P_SNI sni-named-chain.pem sni-named.key "server_name sni.lab;"
    lab_upstream_plain $P_PLAIN
    lab_peer stall $P_STALL
    lab_peer garbage $P_GARBAGE
    lab_peer close $P_CLOSE
    lab_peer reset $P_RESET
    lab_sserver $P_MTLS_STRICT -tls1_2 -cert "$LAB_CERTS/api.pem" -cert_chain "$LAB_CERTS/inter.pem" \
        -key "$LAB_CERTS/api.key" -Verify 1 -CAfile "$LAB_CERTS/client-ca.pem"
    lab_sserver $P_MTLS13_STRICT -tls1_3 -cert "$LAB_CERTS/api.pem" \
        -cert_chain "$LAB_CERTS/inter.pem" -key "$LAB_CERTS/api.key" -Verify 1 \
        -CAfile "$LAB_CERTS/client-ca.pem"

    # --- scenarios: name port status verdict message while settings ---
    lab_scenario selfsigned_untrusted $P_SELF 502 verify_error \
        "upstream SSL certificate verify error: (18:self-signed certificate)" "$HS" \
        trusted="$LAB_SYSTEM_CA" desc="self-signed leaf, trusted = system CA bundle"
    lab_scenario selfsigned_ip $P_SELF 502 name_mismatch \
        'upstream SSL certificate does not match "127.0.0.1"' "$HS" \
        trusted=selfsigned.pem desc="self-signed leaf trusted, reached by IP literal"
    lab_scenario selfsigned_name $P_SELF 200 ok "" "" \
        trusted=selfsigned.pem name=selfsigned.lab desc="self-signed leaf trusted, proxy_ssl_name"
    lab_scenario chain_ok $P_CHAIN 200 ok "" "" $PKI desc="leaf + intermediate, root trusted"
    lab_scenario ipsan_ip $P_CHAIN 502 name_mismatch \
        'upstream SSL certificate does not match "127.0.0.1"' "$HS" trusted=root.pem \
        desc="leaf with SAN IP:127.0.0.1, reached by IP literal (nginx checks DNS names only)"
    lab_scenario chain_untrusted $P_CHAIN 502 verify_error \
        "upstream SSL certificate verify error: (20:unable to get local issuer certificate)" \
        "$HS" trusted="$LAB_SYSTEM_CA" name=api.lab \
        desc="leaf + intermediate, private root not in the system bundle"
    lab_scenario leaf_only $P_LEAF 502 verify_error \
        "upstream SSL certificate verify error: (21:unable to verify the first certificate)" \
        "$HS" $PKI desc="leaf without its intermediate"
    lab_scenario deep_depth $P_DEEP 502 verify_error \
        "upstream SSL certificate verify error: (20:unable to get local issuer certificate)" \
        "$HS" \
        trusted=root2.pem name=deep.lab desc="two intermediates, default depth 1"
    lab_scenario deep_ok $P_DEEP 200 ok "" "" trusted=root2.pem name=deep.lab depth=2 \
        desc="two intermediates, depth 2"
    lab_scenario expired $P_EXPIRED 502 verify_error \
        "upstream SSL certificate verify error: (10:certificate has expired)" "$HS" $PKI \
        desc="leaf expired in 2021"
    lab_scenario soon $P_SOON 200 ok "" "" $PKI desc="leaf expiring in 10 days"
    lab_scenario wrongname $P_WRONG 502 name_mismatch \
        'upstream SSL certificate does not match "api.lab"' "$HS" $PKI \
        desc="leaf for other.lab only"
    lab_scenario plain_http $P_PLAIN 502 handshake_error \
        "SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number)" \
        "$HS" $PKI desc="https:// to a plain-HTTP port"
    lab_scenario tls13_vs_tls12 $P_TLS12 502 handshake_error \
        "SSL_do_handshake() failed (SSL: error:0A00042E:SSL routines::tlsv1 alert protocol version:SSL alert number 70)" \
        "$HS" $PKI protocols=TLSv1.3 desc="TLSv1.3-only front, TLSv1.2-only upstream"
    lab_scenario mtls_nocert $P_MTLS 400 ok "" "" $PKI \
        desc="nginx upstream with ssl_verify_client on, no client certificate (upstream answers 400)"
    lab_scenario mtls_cert $P_MTLS 200 ok "" "" $PKI cert=client.pem key=client.key \
        desc="same, with proxy_ssl_certificate"
    lab_scenario mtls_strict_nocert $P_MTLS_STRICT 502 handshake_error \
        "SSL_do_handshake() failed (SSL: error:0A000410:SSL routines::sslv3 alert handshake failure:SSL alert number 40)" \
        "$HS" $PKI desc="s_server -Verify 1 (TLSv1.2) that requires a client certificate"
    lab_scenario mtls_strict_cert $P_MTLS_STRICT 200 ok "" "" $PKI cert=client.pem \
        key=client.key desc="same, with proxy_ssl_certificate"
    # TLS 1.3: the client's handshake is over before the server checks the certificate, so
    # nginx meets the alert when it reads the response, and logs it at [crit].
    lab_scenario mtls13_strict_nocert $P_MTLS13_STRICT 502 handshake_error \
        "SSL_read() failed (SSL: error:0A00045C:SSL routines::tlsv13 alert certificate required:SSL alert number 116)" \
        "while reading response header from upstream" $PKI protocols="TLSv1.2 TLSv1.3" \
        level=crit desc="s_server -Verify 1 (TLSv1.3 only) that requires a client certificate"
    lab_scenario mtls13_strict_cert $P_MTLS13_STRICT 200 ok "" "" $PKI \
        protocols="TLSv1.2 TLSv1.3" cert=client.pem key=client.key \
        desc="same, with proxy_ssl_certificate"
    lab_scenario sni_off $P_SNI 502 name_mismatch \
        'upstream SSL certificate does not match "sni.lab"' "$HS" \
        trusted=root.pem name=sni.lab desc="SNI-selected certificate, SNI not sent"
    lab_scenario sni_on $P_SNI 200 ok "" "" trusted=root.pem name=sni.lab sni=on \
        desc="SNI-selected certificate, proxy_ssl_server_name on"
    lab_scenario refused $P_NOTHING 502 connect_error \
        "connect() failed (111: Connection refused)" "while connecting to upstream" $PKI \
        desc="nothing listening"
    lab_scenario stall $P_STALL 504 timeout \
        "upstream timed out (110: Connection timed out)" "$HS" $PKI timeout=1s \
        desc="peer accepts and never answers"
    lab_scenario garbage $P_GARBAGE 502 handshake_error \
        "SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number)" \
        "$HS" $PKI desc="peer answers bytes that are not TLS"
    lab_scenario closed $P_CLOSE 502 handshake_error \
        "peer closed connection in SSL handshake" "$HS" $PKI \
        desc="peer reads the ClientHello and closes"
    lab_scenario reset $P_RESET 502 handshake_error \
        "peer closed connection in SSL handshake (104: Connection reset by peer)" "$HS" $PKI \
        desc="peer resets the connection"
    lab_stream_scenario stream_ok $((b + 1)) $P_CHAIN 200 ok "" "" $PKI \
        desc="stream proxy_ssl to the chain upstream"
    lab_stream_scenario stream_selfsigned $((b + 2)) $P_SELF 000 verify_error \
        "upstream SSL certificate verify error: (18:self-signed certificate)" "$HS" \
        trusted="$LAB_SYSTEM_CA" desc="stream proxy_ssl to the self-signed upstream"
}
