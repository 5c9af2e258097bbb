/* test_probe.c — nginx's messages, the SNI and name rules, the error-queue formatter and the
 * certificate facts, on certificates made here with the OpenSSL API. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "certinfo.h"
#include "fmt-probe.h"
#include "json.h"
#include "probe.h"
#include "procenv.h"
#include "sanitize.h"
#include "sslconf.h"
#include "tlserr.h"
#include "xmalloc.h"

/* A certificate with subject CN=cn, the given SAN ("DNS:a,IP:1.2.3.4" or NULL), valid from
 * now+from_days to now+to_days, signed by issuer/ikey or self-signed when issuer is NULL. */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, const char *san, long from_days, long to_days,
          X509 *issuer, EVP_PKEY *ikey, bool ca)
{
    X509 *x = X509_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x,
                         issuer != NULL ? X509_get_subject_name(issuer) : X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    if (san != NULL) {
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
        assert_non_null(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    ext =
        X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) > 0);
    return x;
}

static EVP_PKEY *
ec_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    return k;
}

static void
verify_error_18_maps_to_self_signed(void **state)
{
    char *m = probe_msg_verify_error(18);
    assert_string_equal(m, "upstream SSL certificate verify error: (18:self-signed certificate)");
    free(m);
    m = probe_msg_verify_error(X509_V_ERR_CERT_HAS_EXPIRED);
    assert_string_equal(m, "upstream SSL certificate verify error: (10:certificate has expired)");
    free(m);
}

static void
name_mismatch_message_quotes_the_name(void **state)
{
    char *m = probe_msg_name_mismatch("10.0.2.88");
    assert_string_equal(m, "upstream SSL certificate does not match \"10.0.2.88\"");
    free(m);
}

static void
error_queue_is_drained_into_nginx_form(void **state)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    char *m;

    tlserr_clear();
    assert_int_equal(SSL_CTX_set_cipher_list(ctx, "NO-SUCH-CIPHER"), 0);
    m = tlserr_message("SSL_CTX_set_cipher_list(\"NO-SUCH-CIPHER\") failed", 0);
    assert_string_equal(m, "SSL_CTX_set_cipher_list(\"NO-SUCH-CIPHER\") failed "
                           "(SSL: error:0A0000B9:SSL routines::no cipher match)");
    assert_int_equal(ERR_peek_error(), 0); /* drained */
    free(m);
    m = tlserr_message("SSL_do_handshake() failed", 0);
    assert_string_equal(m, "SSL_do_handshake() failed (SSL:)"); /* nginx's form, empty queue */
    free(m);
    SSL_CTX_free(ctx);
}

static void
errno_suffix_is_nginx_form(void **state)
{
    char *m = tlserr_errno_message("connect() failed", 111);
    assert_string_equal(m, "connect() failed (111: Connection refused)");
    free(m);
    m = tlserr_errno_message("upstream timed out", 110);
    assert_string_equal(m, "upstream timed out (110: Connection timed out)");
    free(m);
    m = tlserr_errno_message("peer closed connection in SSL handshake", 0);
    assert_string_equal(m, "peer closed connection in SSL handshake");
    free(m);
}

static void
sni_is_never_sent_for_ip_literals_or_when_off(void **state)
{
    assert_true(probe_sends_sni("api.example", true));
    assert_false(probe_sends_sni("api.example", false));
    assert_false(probe_sends_sni("10.0.2.88", true));
    assert_false(probe_sends_sni("[::1]", true));
    assert_false(probe_sends_sni("", true));
}

static void
ssl_name_strips_the_port_like_nginx(void **state)
{
    char *n = probe_ssl_name("api.example:8443");
    assert_string_equal(n, "api.example");
    free(n);
    n = probe_ssl_name("[::1]:443");
    assert_string_equal(n, "[::1]");
    free(n);
    n = probe_ssl_name("10.0.2.88");
    assert_string_equal(n, "10.0.2.88");
    free(n);
}

static void
ip_literal_never_matches_ip_san_under_the_1_22_rule(void **state)
{
    EVP_PKEY *k = ec_key();
    X509 *x = make_cert(k, "lab", "DNS:lab.test,IP:10.0.2.88", -1, 30, NULL, NULL, false);

    assert_false(probe_name_matches(x, "10.0.2.88", false));
    assert_true(probe_name_matches(x, "10.0.2.88", true)); /* nginx >= 1.31.0 */
    assert_true(probe_name_matches(x, "lab.test", false));
    assert_false(probe_name_matches(x, "other.test", false));
    assert_false(probe_name_matches(x, "", false));
    X509_free(x);
    EVP_PKEY_free(k);
}

static void
common_name_counts_only_without_dns_sans(void **state)
{
    EVP_PKEY *k = ec_key();
    X509 *no_san = make_cert(k, "cn.test", NULL, -1, 30, NULL, NULL, false);
    X509 *with_san = make_cert(k, "cn.test", "DNS:san.test", -1, 30, NULL, NULL, false);

    assert_true(probe_name_matches(no_san, "cn.test", false));
    assert_false(probe_name_matches(with_san, "cn.test", false));
    X509_free(no_san);
    X509_free(with_san);
    EVP_PKEY_free(k);
}

static void
certinfo_reads_the_facts_of_a_generated_chain(void **state)
{
    EVP_PKEY *rk = ec_key(), *lk = ec_key();
    X509 *root = make_cert(rk, "Lab Root", NULL, -1, 3650, NULL, NULL, true);
    X509 *leaf =
        make_cert(lk, "api.lab.test", "DNS:api.lab.test,IP:10.0.0.1", -1, 10, root, rk, false);
    STACK_OF(X509) *trusted = sk_X509_new_null();
    struct cert_info ci;
    time_t now = time(NULL);

    sk_X509_push(trusted, root);
    certinfo_from_x509(leaf, trusted, now, &ci);
    assert_string_equal(ci.subject, "CN = api.lab.test");
    assert_string_equal(ci.issuer, "CN = Lab Root");
    assert_string_equal(ci.serial, "1092"); /* 4242 */
    assert_int_equal(ci.nsan, 2);
    assert_int_equal(ci.san[0].type, SAN_DNS);
    assert_string_equal(ci.san[0].value, "api.lab.test");
    assert_int_equal(ci.san[1].type, SAN_IP);
    assert_string_equal(ci.san[1].value, "10.0.0.1");
    assert_true(ci.days_left == 9 || ci.days_left == 10);
    assert_string_equal(ci.key, "EC 256 (prime256v1)");
    assert_string_equal(ci.sig_alg, "ecdsa-with-SHA256");
    assert_int_equal(strlen(ci.sha256), 95);
    assert_false(ci.is_ca);
    assert_false(ci.self_signed);
    assert_false(ci.trusted);
    certinfo_free(&ci);

    certinfo_from_x509(root, trusted, now, &ci);
    assert_true(ci.is_ca);
    assert_true(ci.self_signed);
    assert_true(ci.trusted);
    assert_int_equal(ci.nsan, 0);
    certinfo_free(&ci);

    sk_X509_free(trusted);
    X509_free(leaf);
    X509_free(root);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(lk);
}

static void
expired_certificate_has_negative_days_left(void **state)
{
    EVP_PKEY *k = ec_key();
    X509 *x = make_cert(k, "old", NULL, -30, -2, NULL, NULL, false);
    struct cert_info ci;

    certinfo_from_x509(x, NULL, time(NULL), &ci);
    assert_true(ci.days_left <= -2 && ci.days_left >= -3);
    certinfo_free(&ci);
    X509_free(x);
    EVP_PKEY_free(k);
}

static void
control_bytes_in_a_subject_are_shown_escaped(void **state)
{
    EVP_PKEY *k = ec_key();
    X509 *x = make_cert(k, "evil\x1b[2Jname", "DNS:a\x07.test", -1, 30, NULL, NULL, false);
    struct cert_info ci;
    char *s, *san;
    struct buf b = BUF_INIT;
    struct jw w;

    certinfo_from_x509(x, NULL, time(NULL), &ci);
    s = sanitize_str(ci.subject);
    assert_string_equal(s, "CN = evil\\x1b[2Jname");
    free(s);
    san = fmt_probe_san_text(&ci);
    s = sanitize_str(san);
    assert_string_equal(s, "DNS:a\\x07.test");
    free(s);
    free(san);
    jw_init(&w, &b);
    fmt_probe_cert_json(&w, &ci);
    assert_null(memchr(b.p, 0x1b, b.len));
    assert_non_null(strstr(b.p, "\"subject\":\"CN = evil\\u001b[2Jname\""));
    buf_free(&b);
    certinfo_free(&ci);
    X509_free(x);
    EVP_PKEY_free(k);
}

static void
pem_file_with_two_certificates_loads_both(void **state)
{
    EVP_PKEY *k = ec_key();
    X509 *a = make_cert(k, "a", NULL, -1, 30, NULL, NULL, true);
    X509 *b = make_cert(k, "b", NULL, -1, 30, NULL, NULL, true);
    char dir[] = "/tmp/tt-probe-test.XXXXXX", path[64];
    STACK_OF(X509) *sk = NULL;
    char *cause = NULL;
    FILE *fp;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    assert_non_null(fp = fopen(path, "w"));
    PEM_write_X509(fp, a);
    PEM_write_X509(fp, b);
    fclose(fp);
    assert_int_equal(certinfo_load_pem(path, &sk, &cause), 0);
    assert_int_equal(sk_X509_num(sk), 2);
    assert_true(certinfo_in_stack(b, sk));
    sk_X509_pop_free(sk, X509_free);
    unlink(path);
    rmdir(dir);
    assert_int_equal(certinfo_load_pem(path, &sk, &cause), -1);
    assert_non_null(strstr(cause, path));
    free(cause);
    X509_free(a);
    X509_free(b);
    EVP_PKEY_free(k);
}

static void
settings_become_probe_options(void **state)
{
    struct proxy_ssl_settings s;
    struct probe_opts o;
    char *cause = NULL;

    memset(&s, 0, sizeof(s));
    s.v[PSS_VERIFY].value = "on";
    s.v[PSS_TRUSTED_CERTIFICATE].value = "/etc/nginx/ca.pem";
    s.v[PSS_VERIFY_DEPTH].value = "3";
    s.v[PSS_SERVER_NAME].value = "on";
    s.v[PSS_NAME].value = "api.example";
    assert_int_equal(probe_opts_from_settings(&o, &s, "10.0.2.88", 8443, &cause), 0);
    assert_true(o.verify);
    assert_true(o.server_name);
    assert_int_equal(o.depth, 3);
    assert_string_equal(o.trusted, "/etc/nginx/ca.pem");
    assert_string_equal(o.name, "api.example");
    assert_int_equal(o.port, 8443);

    s.v[PSS_VERIFY_DEPTH].value = "deep";
    assert_int_equal(probe_opts_from_settings(&o, &s, "h", 1, &cause), -1);
    assert_non_null(strstr(cause, "proxy_ssl_verify_depth"));
    free(cause);
}

static void
nothing_listening_is_connect_refused(void **state)
{
    struct probe_opts o;
    struct probe_result r;
    char *cause = NULL;

    probe_opts_init(&o);
    o.host = "127.0.0.1";
    o.port = 20498; /* in this test's port range; nothing listens there */
    o.timeout_ms = 2000;
    assert_int_equal(probe_run(&o, &r, &cause), 0);
    assert_int_equal(r.verdict, PROBE_CONNECT_ERROR);
    assert_string_equal(probe_verdict_name(r.verdict), "connect_error");
    assert_non_null(r.nginx_message);
    assert_non_null(strstr(r.nginx_message, "(111: Connection refused)"));
    assert_int_equal(r.verify_code, -1);
    probe_result_free(&r);
}

static void
json_result_has_every_key_of_the_schema(void **state)
{
    static const char *const keys[] = {"\"upstream\":\"127.0.0.1:20498\"",
                                       "\"name\":\"127.0.0.1\"",
                                       "\"sni\":null",
                                       "\"verdict\":\"connect_error\"",
                                       "\"verify_code\":null",
                                       "\"nginx_message\":",
                                       "\"phase\":\"connecting to upstream\"",
                                       "\"protocol\":null",
                                       "\"cipher\":null",
                                       "\"chain\":[]",
                                       "\"verified_chain\":null",
                                       "\"what_if\":null",
                                       "\"elapsed_ms\":"};
    struct probe_opts o;
    struct probe_result r;
    struct buf b = BUF_INIT;
    struct jw w;
    char *cause = NULL;

    probe_opts_init(&o);
    o.host = "127.0.0.1";
    o.port = 20498;
    o.what_if = true;
    assert_int_equal(probe_run(&o, &r, &cause), 0);
    jw_init(&w, &b);
    fmt_probe_json(&w, &r);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strstr(buf_str(&b), keys[i]) == NULL)
            fail_msg("missing %s in %s", keys[i], buf_str(&b));
    }
    buf_free(&b);
    probe_result_free(&r);
}

static void
missing_trusted_file_is_nginx_emerg(void **state)
{
    struct probe_opts o;
    struct probe_result r;
    char *cause = NULL;

    probe_opts_init(&o);
    o.host = "127.0.0.1";
    o.port = 20498;
    o.trusted = "/nonexistent/ca.pem";
    assert_int_equal(probe_run(&o, &r, &cause), 0);
    assert_int_equal(r.verdict, PROBE_CONFIG_ERROR);
    assert_non_null(
        strstr(r.nginx_message, "SSL_CTX_load_verify_locations(\"/nonexistent/ca.pem\") failed"));
    probe_result_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verify_error_18_maps_to_self_signed),
        cmocka_unit_test(name_mismatch_message_quotes_the_name),
        cmocka_unit_test(error_queue_is_drained_into_nginx_form),
        cmocka_unit_test(errno_suffix_is_nginx_form),
        cmocka_unit_test(sni_is_never_sent_for_ip_literals_or_when_off),
        cmocka_unit_test(ssl_name_strips_the_port_like_nginx),
        cmocka_unit_test(ip_literal_never_matches_ip_san_under_the_1_22_rule),
        cmocka_unit_test(common_name_counts_only_without_dns_sans),
        cmocka_unit_test(certinfo_reads_the_facts_of_a_generated_chain),
        cmocka_unit_test(expired_certificate_has_negative_days_left),
        cmocka_unit_test(control_bytes_in_a_subject_are_shown_escaped),
        cmocka_unit_test(pem_file_with_two_certificates_loads_both),
        cmocka_unit_test(settings_become_probe_options),
        cmocka_unit_test(nothing_listening_is_connect_refused),
        cmocka_unit_test(missing_trusted_file_is_nginx_emerg),
        cmocka_unit_test(json_result_has_every_key_of_the_schema),
    };
    procenv_init(); /* SIGPIPE ignored, as in tlstriage */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
