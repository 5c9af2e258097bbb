/* test_check.c — each rule TT001–TT011 fires once on its fixture, the clean config has no
 * finding, and the renderings hold the fields. Certificates and CRLs are made here with exact
 * dates. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "check.h"
#include "fmt-check.h"
#include "ngxconf.h"
#include "resolve.h"
#include "spawn.h"
#include "xmalloc.h"

static char tmpdir[64];

static EVP_PKEY *
make_key(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    EVP_PKEY *k = NULL;

    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1), 1);
    assert_int_equal(EVP_PKEY_keygen(ctx, &k), 1);
    EVP_PKEY_CTX_free(ctx);
    return k;
}

/* Writes certs/NAME.pem (self-signed, valid from -1 day to days_left) and certs/NAME.key. */
static void
make_cert(const char *name, long days_left, EVP_PKEY *key)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    char *path;
    FILE *fp;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -2L * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x), days_left * 86400);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, key);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    path = xasprintf("%s/conf/certs/%s.pem", tmpdir, name);
    assert_non_null(fp = fopen(path, "w"));
    PEM_write_X509(fp, x);
    fclose(fp);
    free(path);
    path = xasprintf("%s/conf/certs/%s.key", tmpdir, name);
    assert_non_null(fp = fopen(path, "w"));
    PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
    fclose(fp);
    free(path);
    X509_NAME_free(n);
    X509_free(x);
}

/* Writes certs/NAME.pem: a CRL issued by CN=issuer (signed with key), lastUpdate and
 * nextUpdate that many days from now, revoking serial 7. */
static void
make_crl(const char *name, const char *issuer, EVP_PKEY *key, long last_days, long next_days)
{
    X509_CRL *crl = X509_CRL_new();
    X509_NAME *n = X509_NAME_new();
    X509_REVOKED *rev = X509_REVOKED_new();
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    ASN1_TIME *t = ASN1_TIME_new();
    char *path;
    FILE *fp;

    X509_CRL_set_version(crl, 1);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)issuer, -1, -1, 0);
    X509_CRL_set_issuer_name(crl, n);
    X509_gmtime_adj(t, last_days * 86400);
    X509_CRL_set1_lastUpdate(crl, t);
    X509_gmtime_adj(t, next_days * 86400);
    X509_CRL_set1_nextUpdate(crl, t);
    ASN1_INTEGER_set(serial, 7);
    X509_REVOKED_set_serialNumber(rev, serial);
    X509_gmtime_adj(t, -86400);
    X509_REVOKED_set_revocationDate(rev, t);
    X509_CRL_add0_revoked(crl, rev);
    X509_CRL_sort(crl);
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    path = xasprintf("%s/conf/certs/%s.pem", tmpdir, name);
    assert_non_null(fp = fopen(path, "w"));
    PEM_write_X509_CRL(fp, crl);
    fclose(fp);
    free(path);
    ASN1_TIME_free(t);
    ASN1_INTEGER_free(serial);
    X509_NAME_free(n);
    X509_CRL_free(crl);
}

static int
run(const char *a0, const char *a1, const char *a2, const char *a3)
{
    char *argv[] = {(char *)a0, (char *)a1, (char *)a2, (char *)a3, NULL};
    struct spawn_result res;
    char *cause = NULL;

    if (spawn_run(argv, NULL, 10000, &res, &cause) < 0) {
        free(cause);
        return -1;
    }
    return res.exited && res.status == 0 ? 0 : -1;
}

static int
setup(void **state)
{
    const char *src = getenv("TT_SRCDIR");
    char *from = xasprintf("%s/tests/unit/conf", src != NULL ? src : "."), *to, *certs, *empty;
    EVP_PKEY *k1, *k2;

    const char *t = getenv("TMPDIR");
    if (t == NULL || t[0] != '/' || strlen(t) > 40)
        t = "/tmp";
    snprintf(tmpdir, sizeof(tmpdir), "%s/tt-check.XXXXXX", t);
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    to = xasprintf("%s/conf", tmpdir);
    certs = xasprintf("%s/conf/certs", tmpdir);
    if (run("cp", "-R", from, to) < 0 || run("chmod", "-R", "u+w", to) < 0 ||
        run("mkdir", "-p", certs, NULL) < 0)
        return -1;
    k1 = make_key();
    k2 = make_key();
    make_cert("ca", 3650, k1);
    make_cert("client", 3650, k1);
    make_cert("other", 3650, k2);
    make_cert("expired", -1, k2);
    make_cert("soon", 10, k2);
    make_crl("crl-ok", "ca", k1, -1, 7);
    make_crl("crl-expired", "ca", k1, -10, -1);
    make_crl("crl-soon", "ca", k1, -6, 1);
    make_crl("crl-future", "ca", k1, 1, 8);
    make_crl("crl-foreign", "other", k2, -1, 7);
    empty = xasprintf("%s/empty.pem", certs);
    FILE *fp = fopen(empty, "w");
    if (fp == NULL)
        return -1;
    fclose(fp);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    free(from);
    free(to);
    free(certs);
    free(empty);
    return 0;
}

static int
teardown(void **state)
{
    return run("rm", "-rf", tmpdir, NULL);
}

/* Runs check on the fixture; returns the report (caller frees) and the rules as "A B". */
static char *
rules_of(const char *fixture, struct check_report *rep)
{
    char *path = xasprintf("%s/conf/%s", tmpdir, fixture), *cause = NULL;
    struct ngxconf *c = NULL;
    struct check_opts o = {NULL, 0, 0};
    struct buf b = BUF_INIT;

    assert_int_equal(ngxconf_load(path, NULL, &c, &cause), 0);
    assert_int_equal(c->nerrors, 0);
    check_run(c, &o, rep);
    for (size_t i = 0; i < rep->nfindings; i++)
        buf_addf(&b, "%s%s", i ? " " : "", rep->findings[i].rule);
    ngxconf_free(c);
    free(path);
    return buf_detach(&b);
}

#define assert_rules(fixture, want)                                                                \
    do {                                                                                           \
        struct check_report rep_;                                                                  \
        char *got_ = rules_of(fixture, &rep_);                                                     \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
        check_report_free(&rep_);                                                                  \
    } while (0)

static void
clean_config_has_no_findings(void **state)
{
    struct check_report rep;
    char *got = rules_of("clean.conf", &rep);

    assert_string_equal(got, "");
    assert_int_equal(rep.nuses, 3); /* two https locations and the stream server */
    assert_null(rep.ip_rule);       /* nothing needed the nginx version */
    free(got);
    check_report_free(&rep);
}

static void
tt001_fires_on_explicit_verify_off(void **state)
{
    struct check_report rep;
    char *got = rules_of("tt001.conf", &rep);

    assert_string_equal(got, "TT001");
    assert_int_equal(rep.findings[0].severity, CHECK_ERROR);
    assert_int_equal(rep.findings[0].line, 10);
    assert_string_equal(rep.findings[0].context, "location / in server tt001.example");
    assert_null(strstr(rep.findings[0].fix, "verify off"));
    assert_non_null(strstr(rep.findings[0].fix, "proxy_ssl_verify on"));
    free(got);
    check_report_free(&rep);
}

static void
tt002_warns_when_verification_is_never_turned_on(void **state)
{
    struct check_report rep;
    char *got = rules_of("tt002.conf", &rep);

    assert_string_equal(got, "TT002");
    assert_int_equal(rep.findings[0].severity, CHECK_WARNING);
    assert_int_equal(rep.findings[0].line, 10); /* the proxy_pass */
    assert_int_equal(rep.nerrors, 0);
    free(got);
    check_report_free(&rep);
}

static void
tt003_fires_on_verify_without_trusted_certificate(void **state)
{
    assert_rules("tt003.conf", "TT003");
}

static void
tt004_fires_on_an_ip_literal_under_the_1_22_rule(void **state)
{
    struct check_report rep;
    char *got = rules_of("tt004.conf", &rep);

    assert_string_equal(got, "TT004");
    assert_non_null(strstr(rep.findings[0].message, "127.0.0.1"));
    assert_non_null(strstr(rep.ip_rule, "applied the nginx 1.22 rule"));
    free(got);
    check_report_free(&rep);
}

static void
tt005_fires_on_a_trusted_file_without_certificates(void **state)
{
    struct check_report rep;
    char *got = rules_of("tt005.conf", &rep);

    assert_string_equal(got, "TT005");
    assert_non_null(strstr(rep.findings[0].message, "is empty"));
    free(got);
    check_report_free(&rep);
}

static void
tt006_is_an_error_when_expired_and_a_warning_when_expiring(void **state)
{
    struct check_report rep;
    char *got = rules_of("tt006.conf", &rep);

    assert_string_equal(got, "TT006 TT006");
    assert_int_equal(rep.findings[0].severity, CHECK_ERROR);
    assert_non_null(strstr(rep.findings[0].message, "expired"));
    assert_int_equal(rep.findings[1].severity, CHECK_WARNING);
    assert_non_null(strstr(rep.findings[1].message, "within 30 days"));
    free(got);
    check_report_free(&rep);
}

static void
tt007_fires_when_the_key_does_not_match(void **state)
{
    struct check_report rep;
    char *got = rules_of("tt007.conf", &rep);

    assert_string_equal(got, "TT007");
    assert_non_null(strstr(rep.findings[0].message, "does not match"));
    assert_int_equal(rep.findings[0].line, 13); /* the key line */
    free(got);
    check_report_free(&rep);
}

static void
tt007_fires_when_the_key_is_missing(void **state)
{
    const char *t = "http { server { location / { proxy_ssl_verify on;\n"
                    "proxy_ssl_trusted_certificate /nonexistent/ca.pem;\n"
                    "proxy_ssl_name a.internal; proxy_ssl_server_name on;\n"
                    "proxy_ssl_certificate /nonexistent/c.pem;\n"
                    "proxy_pass https://backend.internal; } } }\n";
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, strlen(t));
    struct check_opts o = {NULL, 0, 0};
    struct check_report rep;

    check_run(c, &o, &rep);
    assert_int_equal(rep.nfindings, 2);
    assert_string_equal(rep.findings[0].rule, "TT005"); /* line 2: the missing CA */
    assert_string_equal(rep.findings[1].rule, "TT007");
    assert_int_equal(rep.findings[1].line, 4);
    assert_non_null(strstr(rep.findings[1].message, "without proxy_ssl_certificate_key"));
    check_report_free(&rep);
    ngxconf_free(c);
}

static void
tt008_warns_on_a_name_not_sent_as_sni(void **state)
{
    assert_rules("tt008.conf", "TT008");
}

static void
tt009_names_http_level_ssl_directives_meant_for_the_upstream(void **state)
{
    struct check_report rep;
    char *got = rules_of("tt009.conf", &rep);

    assert_string_equal(got, "TT009 TT009 TT003");
    /* ssl_trusted_certificate stands in for the missing proxy_ssl_trusted_certificate */
    assert_int_equal(rep.findings[0].severity, CHECK_ERROR);
    assert_int_equal(rep.findings[0].line, 8);
    assert_string_equal(rep.findings[0].context, "http");
    assert_non_null(strstr(rep.findings[0].message, "ssl_trusted_certificate ("));
    assert_non_null(strstr(rep.findings[0].message, "tt009.conf:8, in http"));
    assert_non_null(strstr(rep.findings[0].message, "no proxy_ssl_trusted_certificate applies"));
    assert_non_null(strstr(rep.findings[0].fix, "\"proxy_ssl_trusted_certificate certs/ca.pem;\""));
    /* ssl_verify_depth: a warning, with the default that applies instead */
    assert_int_equal(rep.findings[1].severity, CHECK_WARNING);
    assert_int_equal(rep.findings[1].line, 9);
    assert_non_null(strstr(rep.findings[1].message, "proxy_ssl_verify_depth 1 applies"));
    assert_non_null(strstr(rep.findings[1].fix, "\"proxy_ssl_verify_depth 3;\""));
    /* TT003 says why nginx -t refuses it */
    assert_non_null(strstr(rep.findings[2].message, "the ssl_trusted_certificate at "));
    assert_non_null(strstr(rep.findings[2].message, "tt009.conf:8 applies to nginx's own clients"));
    free(got);
    check_report_free(&rep);
}

static void
tt009_fires_in_one_line_blocks(void **state)
{
    struct check_report rep;
    char *got = rules_of("tt009-depth.conf", &rep);

    assert_string_equal(got, "TT009");
    assert_int_equal(rep.findings[0].line, 6);
    assert_int_equal(rep.nerrors, 0);
    /* two directives on one line: one finding naming both */
    assert_non_null(strstr(rep.findings[0].message, "ssl_verify_depth ("));
    assert_non_null(strstr(rep.findings[0].message, "; ssl_protocols ("));
    assert_non_null(strstr(rep.findings[0].fix, "\"proxy_ssl_protocols TLSv1.2;\""));
    free(got);
    check_report_free(&rep);
}

static void
tt009_leaves_a_tls_server_that_verifies_its_clients_alone(void **state)
{
    assert_rules("tt009-clean.conf", "");
}

static void
tt009_reports_a_snippet_once_and_not_where_it_serves_clients(void **state)
{
    struct check_report rep;
    char *got = rules_of("tt009-snippet.conf", &rep);

    assert_string_equal(got, "TT009");
    assert_int_equal(rep.nuses, 3);
    assert_non_null(strstr(rep.findings[0].file, "inc/tt009-api.inc"));
    assert_int_equal(rep.findings[0].line, 2);
    free(got);
    check_report_free(&rep);
}

static void
tt009_ssl_verify_client_in_a_plain_server_does_not_verify_the_upstream(void **state)
{
    const char *t = "http {\n ssl_verify_client on;\n ssl_client_certificate /x/ca.pem;\n"
                    " server { listen 80;\n"
                    "  location / { proxy_pass https://a.internal; } } }\n";
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, strlen(t));
    struct check_opts o = {NULL, 0, 0};
    struct check_report rep;

    check_run(c, &o, &rep);
    assert_int_equal(rep.nfindings, 2);
    assert_string_equal(rep.findings[0].rule, "TT009");
    assert_int_equal(rep.findings[0].line, 2);
    assert_non_null(strstr(rep.findings[0].message, "proxy_ssl_verify off (nginx's default)"));
    assert_non_null(strstr(rep.findings[0].fix, "proxy_ssl_verify on"));
    assert_string_equal(rep.findings[1].rule, "TT002");
    check_report_free(&rep);
    ngxconf_free(c);
}

static void
tt009_twin_is_none_when_the_proxy_directive_is_set(void **state)
{
    const char *t = "http { ssl_trusted_certificate /x/a.pem;\n"
                    " server { location / { proxy_ssl_verify on;\n"
                    " proxy_ssl_trusted_certificate /x/b.pem; proxy_pass https://a.internal; }\n"
                    " location /b { proxy_pass https://b.internal; } } }\n";
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, strlen(t));
    struct tls_use *uses;
    size_t n = resolve_uses(c, &uses);

    assert_int_equal(n, 2);
    assert_null(check_server_twin(&uses[0], PSS_TRUSTED_CERTIFICATE));
    assert_non_null(check_server_twin(&uses[1], PSS_TRUSTED_CERTIFICATE));
    assert_int_equal(check_server_twin(&uses[1], PSS_TRUSTED_CERTIFICATE)->line, 1);
    assert_null(check_server_twin(&uses[1], PSS_VERIFY_DEPTH));
    resolve_uses_free(uses, n);
    ngxconf_free(c);
}

static void
tt009_leaves_an_http_level_certificate_of_the_tls_servers_alone(void **state)
{
    const char *shared = "http {\n ssl_certificate /x/c.pem; ssl_certificate_key /x/c.key;\n"
                         " server { listen 443 ssl; }\n"
                         " server { listen 80; location / { proxy_ssl_verify on;\n"
                         "  proxy_ssl_trusted_certificate /x/ca.pem; proxy_ssl_name a.internal;\n"
                         "  proxy_ssl_server_name on; proxy_pass https://a.internal; } } }\n";
    const char *alone = "http {\n ssl_certificate /x/c.pem; ssl_certificate_key /x/c.key;\n"
                        " server { listen 80; location / { proxy_ssl_verify on;\n"
                        "  proxy_ssl_trusted_certificate /x/ca.pem; proxy_ssl_name a.internal;\n"
                        "  proxy_ssl_server_name on; proxy_pass https://a.internal; } } }\n";
    struct check_opts o = {NULL, 0, 0};
    struct check_report rep;
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", shared, strlen(shared));

    check_run(c, &o, &rep);
    assert_int_equal(rep.nfindings, 1); /* TT005: /x/ca.pem does not exist */
    assert_string_equal(rep.findings[0].rule, "TT005");
    check_report_free(&rep);
    ngxconf_free(c);
    /* no TLS server: the certificate and key serve nobody, the upstream gets no client cert */
    c = ngxconf_parse_mem("/x/nginx.conf", alone, strlen(alone));
    check_run(c, &o, &rep);
    assert_int_equal(rep.nfindings, 2); /* both directives of line 2 in one TT009 */
    assert_string_equal(rep.findings[0].rule, "TT009");
    assert_int_equal(rep.findings[0].severity, CHECK_WARNING);
    assert_non_null(strstr(rep.findings[0].message, "no proxy_ssl_certificate applies"));
    assert_non_null(strstr(rep.findings[0].fix, "\"proxy_ssl_certificate_key /x/c.key;\""));
    assert_string_equal(rep.findings[1].rule, "TT005");
    check_report_free(&rep);
    ngxconf_free(c);
}

static void
tt009_applies_to_stream_servers_too(void **state)
{
    const char *t = "stream {\n ssl_verify_depth 3;\n"
                    " server { listen 9000; proxy_pass 127.0.0.1:9441; proxy_ssl on;\n"
                    "  proxy_ssl_verify on; proxy_ssl_trusted_certificate /x/ca.pem;\n"
                    "  proxy_ssl_name a.internal; proxy_ssl_server_name on; }\n"
                    " server { listen 9001 ssl; ssl_certificate /x/c.pem;\n"
                    "  ssl_certificate_key /x/c.key; ssl_verify_client on; ssl_verify_depth 2;\n"
                    "  proxy_pass 127.0.0.1:9442; proxy_ssl on;\n"
                    "  proxy_ssl_verify on; proxy_ssl_trusted_certificate /x/ca.pem;\n"
                    "  proxy_ssl_name a.internal; proxy_ssl_server_name on; } }\n";
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, strlen(t));
    struct check_opts o = {NULL, 0, 0};
    struct check_report rep;

    check_run(c, &o, &rep);
    assert_int_equal(rep.nuses, 2);
    /* the trusted file does not exist (TT005 twice); TT009 for the stream-level
     * ssl_verify_depth (the mTLS server has its own), not for the mTLS server's */
    assert_int_equal(rep.nfindings, 3);
    assert_string_equal(rep.findings[0].rule, "TT009");
    assert_int_equal(rep.findings[0].line, 2);
    assert_string_equal(rep.findings[0].context, "stream");
    assert_non_null(strstr(rep.findings[0].message, "server 9000"));
    check_report_free(&rep);
    ngxconf_free(c);
}

/* Runs check on one location with proxy_ssl_crl CRL (in certs/) and the trusted file ca.pem. */
static void
crl_check(const char *crl, const char *verify, struct check_report *rep)
{
    char *t = xasprintf("http { server { location / { proxy_ssl_verify %s;\n"
                        "proxy_ssl_trusted_certificate %s/conf/certs/ca.pem;\n"
                        "proxy_ssl_crl %s/conf/certs/%s;\n"
                        "proxy_ssl_name a.internal; proxy_ssl_server_name on;\n"
                        "proxy_pass https://a.internal; } } }\n",
                        verify, tmpdir, tmpdir, crl);
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, strlen(t));
    struct check_opts o = {NULL, 0, 0};

    check_run(c, &o, rep);
    ngxconf_free(c);
    free(t);
}

static void
tt010_is_quiet_for_a_current_crl_from_the_trusted_ca(void **state)
{
    struct check_report rep;

    crl_check("crl-ok.pem", "on", &rep);
    assert_int_equal(rep.nfindings, 0);
    check_report_free(&rep);
}

static void
tt010_an_expired_crl_fails_every_handshake_with_code_12(void **state)
{
    struct check_report rep;

    crl_check("crl-expired.pem", "on", &rep);
    assert_int_equal(rep.nfindings, 1);
    assert_string_equal(rep.findings[0].rule, "TT010");
    assert_int_equal(rep.findings[0].severity, CHECK_ERROR);
    assert_int_equal(rep.findings[0].line, 3);
    assert_non_null(strstr(rep.findings[0].message, "(12:CRL has expired)"));
    assert_non_null(strstr(rep.findings[0].message, "CN=ca"));
    check_report_free(&rep);
}

static void
tt010_a_crl_not_yet_valid_is_an_error(void **state)
{
    struct check_report rep;

    crl_check("crl-future.pem", "on", &rep);
    assert_int_equal(rep.nfindings, 1);
    assert_int_equal(rep.findings[0].severity, CHECK_ERROR);
    assert_non_null(strstr(rep.findings[0].message, "(11:CRL is not yet valid)"));
    check_report_free(&rep);
}

static void
tt010_a_crl_expiring_within_3_days_is_a_warning(void **state)
{
    struct check_report rep;

    crl_check("crl-soon.pem", "on", &rep);
    assert_int_equal(rep.nfindings, 1);
    assert_int_equal(rep.findings[0].severity, CHECK_WARNING);
    assert_non_null(strstr(rep.findings[0].message, "within 3 days"));
    check_report_free(&rep);
}

static void
tt010_a_crl_from_another_ca_gives_code_3(void **state)
{
    struct check_report rep;

    crl_check("crl-foreign.pem", "on", &rep);
    assert_int_equal(rep.nfindings, 1);
    assert_int_equal(rep.findings[0].severity, CHECK_ERROR);
    assert_non_null(strstr(rep.findings[0].message, "holds no CRL issued by a CA of the trusted"));
    assert_non_null(strstr(rep.findings[0].message, "(3:unable to get certificate CRL)"));
    check_report_free(&rep);
}

static void
tt010_an_unloadable_crl_reads_as_nginx_emerg(void **state)
{
    struct check_report rep;
    char *got = rules_of("tt010.conf", &rep);

    assert_string_equal(got, "TT010");
    assert_int_equal(rep.findings[0].line, 13);
    assert_non_null(strstr(rep.findings[0].message, "X509_LOOKUP_load_file(\""));
    assert_non_null(strstr(rep.findings[0].message, "certs/empty.pem\") failed (SSL: "));
    assert_non_null(strstr(rep.findings[0].message, "no certificate or crl found"));
    free(got);
    check_report_free(&rep);
    /* nginx loads proxy_ssl_crl only under proxy_ssl_verify on */
    crl_check("empty.pem", "off", &rep);
    assert_int_equal(rep.nfindings, 1);
    assert_string_equal(rep.findings[0].rule, "TT001");
    check_report_free(&rep);
    crl_check("no-such.pem", "on", &rep);
    assert_int_equal(rep.nfindings, 1);
    assert_non_null(strstr(rep.findings[0].message, "No such file or directory"));
    check_report_free(&rep);
}

static void
an_inherited_setting_is_reported_once_for_many_locations(void **state)
{
    const char *t = "http {\n proxy_ssl_verify off;\n server {\n"
                    "  location /a { proxy_pass https://a.internal; }\n"
                    "  location /b { proxy_pass https://b.internal; }\n"
                    "  location /c { proxy_pass https://c.internal; }\n }\n}\n";
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, strlen(t));
    struct check_opts o = {NULL, 0, 0};
    struct check_report rep;

    check_run(c, &o, &rep);
    assert_int_equal(rep.nuses, 3);
    assert_int_equal(rep.nfindings, 1);
    assert_string_equal(rep.findings[0].rule, "TT001");
    assert_int_equal(rep.findings[0].line, 2);
    assert_string_equal(rep.findings[0].context, "http");
    check_report_free(&rep);
    ngxconf_free(c);
}

static void
json_and_sarif_carry_every_field(void **state)
{
    char *path = xasprintf("%s/conf/tt001.conf", tmpdir), *cause = NULL;
    struct ngxconf *c = NULL;
    struct check_opts o = {NULL, 0, 0};
    struct check_report rep;
    struct buf j = BUF_INIT, s = BUF_INIT, t = BUF_INIT;

    assert_int_equal(ngxconf_load(path, NULL, &c, &cause), 0);
    check_run(c, &o, &rep);
    fmt_check_json(c, &rep, &j);
    fmt_check_sarif(c, &rep, &s);
    fmt_check_text(c, &rep, &t);
    assert_non_null(strstr(j.p, "{\"findings\":[{\"rule\":\"TT001\",\"severity\":\"error\","
                                "\"file\":\""));
    assert_non_null(strstr(j.p, "\"line\":10,\"context\":\"location / in server tt001.example\","
                                "\"message\":"));
    assert_non_null(strstr(j.p, "\"fix\":"));
    assert_non_null(strstr(s.p, "\"version\":\"2.1.0\""));
    assert_non_null(strstr(s.p, "\"ruleId\":\"TT001\""));
    assert_non_null(strstr(s.p, "\"startLine\":10"));
    assert_non_null(strstr(t.p, "tt001.conf:10: error TT001 [location / in server tt001.example]"));
    buf_free(&j);
    buf_free(&s);
    buf_free(&t);
    check_report_free(&rep);
    ngxconf_free(c);
    free(path);
}

static void
text_output_escapes_control_bytes_from_the_config(void **state)
{
    const char *t =
        "http { server { location \"/\x1b[2J\" { proxy_pass https://h.internal; } } }\n";
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, strlen(t));
    struct check_opts o = {NULL, 0, 0};
    struct check_report rep;
    struct buf b = BUF_INIT;

    check_run(c, &o, &rep);
    fmt_check_text(c, &rep, &b);
    assert_null(strchr(b.p, '\x1b'));
    assert_non_null(strstr(b.p, "\\x1b[2J"));
    buf_free(&b);
    check_report_free(&rep);
    ngxconf_free(c);
}

/* The remediation path: the edit helper adds the missing trusted certificate to the
 * fixture nginx refuses (TT003); real nginx -t then accepts the file and check is clean. */
static void
edit_helper_fix_for_tt003_is_accepted_by_nginx(void **state)
{
    const char *env = getenv("TT_NGINX");
    char *nginx = xstrdup(env != NULL && env[0] != '\0' ? env : "/usr/sbin/nginx");
    char *path = xasprintf("%s/conf/tt003-fixed.conf", tmpdir), *src, *cause = NULL, *out;
    char *prefix = xasprintf("%s/", tmpdir);
    struct ngxconf *c = NULL;
    struct tls_use *uses;
    const struct ngx_file *f;
    const char *args[] = {"certs/ca.pem"};
    size_t len, n;
    FILE *fp;

    if (nginx == NULL || nginx[0] == '\0' || access(nginx, X_OK) != 0)
        skip();
    unsetenv("NGINX"); /* nginx itself reads $NGINX (inherited sockets) */
    src = xasprintf("%s/conf/tt003.conf", tmpdir);
    assert_int_equal(ngxconf_load(src, NULL, &c, &cause), 0);
    n = resolve_uses(c, &uses);
    assert_int_equal(n, 1);
    assert_int_equal(ngxconf_edit_set(c, uses[0].block, "proxy_ssl_trusted_certificate", args, 1,
                                      &f, &out, &len, &cause),
                     0);
    assert_non_null(strstr(out, "            proxy_ssl_trusted_certificate certs/ca.pem;\n"
                                "        }"));
    assert_non_null(fp = fopen(path, "w"));
    assert_int_equal(fwrite(out, 1, len, fp), len);
    fclose(fp);
    {
        char *argv[] = {(char *)nginx, (char *)"-t",     (char *)"-q", (char *)"-p", prefix,
                        (char *)"-e",  (char *)"stderr", (char *)"-c", path,         NULL};
        struct spawn_result res;
        struct buf b = BUF_INIT;
        assert_int_equal(spawn_run(argv, &b, 20000, &res, &cause), 0);
        if (!res.exited || res.status != 0)
            fail_msg("nginx -t refused the edited file: %s", buf_str(&b));
        buf_free(&b);
    }
    assert_rules("tt003-fixed.conf", "");
    resolve_uses_free(uses, n);
    ngxconf_free(c);
    free(out);
    free(src);
    free(path);
    free(prefix);
    free(nginx);
}

static void
grpc_and_uwsgi_findings_name_their_own_directives(void **state)
{
    const char *t = "http { server { listen 8080;\n"
                    "location /g/ { grpc_pass grpcs://10.0.0.1:9441; grpc_ssl_verify on; }\n"
                    "location /u/ { uwsgi_pass suwsgi://svc.internal:9442; uwsgi_ssl_verify off;\n"
                    "  uwsgi_ssl_name svc.internal; }\n"
                    "location /p/ { grpc_pass grpc://10.0.0.1:9000; } } }\n";
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, strlen(t));
    struct check_opts o = {NULL, 0, 0};
    struct check_report rep;
    (void)state;

    check_run(c, &o, &rep);
    assert_int_equal(rep.nuses, 2); /* grpc:// is plain */
    assert_int_equal(rep.nfindings, 4);
    /* line 2: TT003 and TT004 for the grpc location, in grpc's words */
    assert_string_equal(rep.findings[0].rule, "TT003");
    assert_non_null(
        strstr(rep.findings[0].message, "grpc_ssl_verify on without grpc_ssl_trusted_certificate"));
    assert_non_null(
        strstr(rep.findings[0].message, "no grpc_ssl_trusted_certificate for grpc_ssl_verify"));
    assert_non_null(strstr(rep.findings[0].fix, "add \"grpc_ssl_trusted_certificate FILE;\""));
    assert_string_equal(rep.findings[1].rule, "TT004");
    assert_non_null(strstr(rep.findings[1].message, "(no grpc_ssl_name)"));
    assert_non_null(strstr(rep.findings[1].fix, "\"grpc_ssl_name NAME;\""));
    assert_non_null(strstr(rep.findings[1].fix, "\"grpc_ssl_server_name on;\""));
    /* line 3: TT001 for uwsgi; line 4: TT008 */
    assert_string_equal(rep.findings[2].rule, "TT001");
    assert_non_null(strstr(rep.findings[2].message, "uwsgi_ssl_verify off for the TLS upstream"));
    assert_non_null(strstr(rep.findings[2].fix, "set \"uwsgi_ssl_verify on;\""));
    assert_string_equal(rep.findings[3].rule, "TT008");
    assert_non_null(strstr(rep.findings[3].message,
                           "uwsgi_ssl_name svc.internal is a DNS name but uwsgi_ssl_server_name"));
    for (size_t i = 0; i < rep.nfindings; i++) {
        assert_null(strstr(rep.findings[i].message, "proxy_ssl"));
        assert_null(strstr(rep.findings[i].fix, "proxy_ssl"));
    }
    check_report_free(&rep);
    ngxconf_free(c);
}

/* TT011: a directive older than the nginx -V in use (a stub nginx answers -V). */
static void
directives_newer_than_the_nginx_in_use_are_tt011(void **state)
{
    const char *t = "http { server { listen 8080;\n"
                    " location /g/ {\n"
                    "  grpc_pass grpcs://127.0.0.1:9441;\n"
                    "  grpc_ssl_verify on; grpc_ssl_trusted_certificate /x/ca.pem; }\n"
                    " location /p/ { proxy_pass https://127.0.0.1:9443;\n"
                    "  proxy_ssl_conf_command Options -SessionTicket; } } }\n";
    const char *versions[] = {"1.12.2", "1.22.1"};
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, strlen(t));
    (void)state;

    for (size_t i = 0; i < 2; i++) {
        char *stub = xasprintf("%s/nginx-%s", tmpdir, versions[i]);
        FILE *fp = fopen(stub, "w");
        assert_non_null(fp);
        fprintf(fp, "#!/bin/sh\necho 'nginx version: nginx/%s' >&2\n", versions[i]);
        fclose(fp);
        assert_int_equal(chmod(stub, 0755), 0);
        struct check_opts o = {stub, 0, 0};
        struct check_report rep;
        size_t n = 0;
        unsigned lines = 0;
        check_run(c, &o, &rep);
        for (size_t k = 0; k < rep.nfindings; k++) {
            if (strcmp(rep.findings[k].rule, "TT011") != 0)
                continue;
            n++;
            lines |= 1u << rep.findings[k].line;
            assert_non_null(strstr(rep.findings[k].message, "unknown directive"));
        }
        if (i == 0) { /* 1.12.2: grpc_pass (3), grpc_ssl_* (4), proxy_ssl_conf_command (6) */
            assert_int_equal(n, 3);
            assert_int_equal(lines, (1u << 3) | (1u << 4) | (1u << 6));
        } else {
            assert_int_equal(n, 0); /* 1.22.1 has them all */
        }
        check_report_free(&rep);
        free(stub);
    }
    /* no nginx to ask: nginx -t is the judge, no TT011 */
    struct check_opts none = {NULL, 0, 0};
    struct check_report rep;
    check_run(c, &none, &rep);
    for (size_t k = 0; k < rep.nfindings; k++)
        assert_string_not_equal(rep.findings[k].rule, "TT011");
    check_report_free(&rep);
    ngxconf_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_config_has_no_findings),
        cmocka_unit_test(tt001_fires_on_explicit_verify_off),
        cmocka_unit_test(tt002_warns_when_verification_is_never_turned_on),
        cmocka_unit_test(tt003_fires_on_verify_without_trusted_certificate),
        cmocka_unit_test(tt004_fires_on_an_ip_literal_under_the_1_22_rule),
        cmocka_unit_test(tt005_fires_on_a_trusted_file_without_certificates),
        cmocka_unit_test(tt006_is_an_error_when_expired_and_a_warning_when_expiring),
        cmocka_unit_test(tt007_fires_when_the_key_does_not_match),
        cmocka_unit_test(tt007_fires_when_the_key_is_missing),
        cmocka_unit_test(tt008_warns_on_a_name_not_sent_as_sni),
        cmocka_unit_test(tt009_names_http_level_ssl_directives_meant_for_the_upstream),
        cmocka_unit_test(tt009_fires_in_one_line_blocks),
        cmocka_unit_test(tt009_leaves_a_tls_server_that_verifies_its_clients_alone),
        cmocka_unit_test(tt009_reports_a_snippet_once_and_not_where_it_serves_clients),
        cmocka_unit_test(tt009_ssl_verify_client_in_a_plain_server_does_not_verify_the_upstream),
        cmocka_unit_test(tt009_twin_is_none_when_the_proxy_directive_is_set),
        cmocka_unit_test(tt009_applies_to_stream_servers_too),
        cmocka_unit_test(tt009_leaves_an_http_level_certificate_of_the_tls_servers_alone),
        cmocka_unit_test(tt010_is_quiet_for_a_current_crl_from_the_trusted_ca),
        cmocka_unit_test(tt010_an_expired_crl_fails_every_handshake_with_code_12),
        cmocka_unit_test(tt010_a_crl_not_yet_valid_is_an_error),
        cmocka_unit_test(tt010_a_crl_expiring_within_3_days_is_a_warning),
        cmocka_unit_test(tt010_a_crl_from_another_ca_gives_code_3),
        cmocka_unit_test(tt010_an_unloadable_crl_reads_as_nginx_emerg),
        cmocka_unit_test(an_inherited_setting_is_reported_once_for_many_locations),
        cmocka_unit_test(json_and_sarif_carry_every_field),
        cmocka_unit_test(text_output_escapes_control_bytes_from_the_config),
        cmocka_unit_test(edit_helper_fix_for_tt003_is_accepted_by_nginx),
        cmocka_unit_test(grpc_and_uwsgi_findings_name_their_own_directives),
        cmocka_unit_test(directives_newer_than_the_nginx_in_use_are_tt011),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
