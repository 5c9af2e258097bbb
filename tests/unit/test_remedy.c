/* test_remedy.c — the fix strategy chosen from probe evidence (verdict, verify code, chain,
 * what-if answers), edit placement in the owning block (replace, never duplicate; inherited
 * values overridden in the narrow block), and proxy_ssl_verify off never produced. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/x509_vfy.h>

#include "ngxconf.h"
#include "procenv.h"
#include "remedy.h"
#include "resolve.h"
#include "xmalloc.h"

/* A probe result as the probe would fill it: n certificates sent, self-signed flags. */
struct fake {
    struct probe_result r;
    struct cert_info chain[3];
    char *names[2];
};

static void
fake_init(struct fake *f, enum probe_verdict v, long code, size_t n, bool leaf_self, bool top_self)
{
    memset(f, 0, sizeof(*f));
    f->r.verdict = v;
    f->r.verify_code = code;
    f->r.chain = f->chain;
    f->r.nchain = n;
    f->r.chain_total = n;
    if (n > 0)
        f->chain[0].self_signed = leaf_self;
    if (n > 1)
        f->chain[n - 1].self_signed = top_self;
    f->r.name = (char *)"127.0.0.1";
    f->r.what_if.computed = true;
    f->r.what_if.unlimited_depth = f->r.what_if.with_sni = f->r.what_if.trust_leaf =
        f->r.what_if.trust_root = f->r.what_if.add_intermediate = f->r.what_if.system_store =
            PROBE_NOT_TRIED;
    f->r.what_if.names = f->names;
}

static void
fake_name(struct fake *f, const char *name)
{
    f->names[f->r.what_if.nnames++] = (char *)name;
}

static struct remedy_cand
cand(unsigned applied)
{
    struct remedy_cand c;
    memset(&c, 0, sizeof(c));
    c.applied = applied;
    c.depth = 1;
    return c;
}

static void
self_signed_leaf_is_pinned(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_VERIFY_ERROR, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 1, true, false);
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), RS_PIN);
}

/* A revoked certificate (or a CRL that is missing or out of date) is never fixed by trusting
 * the upstream differently: no pin, ca or chain, even where every what-if would pass. */
static void
revocation_and_crl_codes_get_no_trust_fix(void **state)
{
    static const long codes[] = {X509_V_ERR_CERT_REVOKED, X509_V_ERR_UNABLE_TO_GET_CRL,
                                 X509_V_ERR_CRL_HAS_EXPIRED};
    (void)state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        for (size_t n = 1; n <= 2; n++) {
            struct fake f;
            struct remedy_cand c = cand(0);
            c.have_ca = true;
            fake_init(&f, PROBE_VERIFY_ERROR, codes[i], n, n == 1, true);
            f.r.what_if.trust_leaf = f.r.what_if.trust_root = f.r.what_if.add_intermediate =
                f.r.what_if.system_store = PROBE_OK;
            assert_int_equal(remedy_next(&f.r, &c, RS_ALL), -1);
        }
    }
}

/* A revoked upstream certificate whose issuer is in the trusted file: the cause says it is
 * revoked and what to do, and nothing about an intermediate (the chain is complete). */
static void
revoked_cause_has_no_note_about_an_intermediate(void **state)
{
    struct fake f;
    struct pss_value verify = {"on", PSS_SET, "nginx.conf", 12, "location /"};
    char *cause;
    (void)state;
    fake_init(&f, PROBE_VERIFY_ERROR, X509_V_ERR_CERT_REVOKED, 1, false, false);
    f.r.nginx_message = (char *)"upstream SSL certificate verify error: (23:certificate revoked)";
    f.r.what_if.intermediate_note =
        (char *)"the issuer of the last certificate sent (CN = Root) is in the trusted file";
    cause = remedy_cause(&f.r, false, PSS_FAM_PROXY, &verify);
    assert_non_null(strstr(cause, "(23:certificate revoked)"));
    assert_non_null(strstr(cause, "revoked"));
    assert_null(strstr(cause, "intermediate"));
    free(cause);
    /* the same note stays where it explains the failure: an issuer not found (20) */
    fake_init(&f, PROBE_VERIFY_ERROR, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1, false,
              false);
    f.r.nginx_message = (char *)"upstream SSL certificate verify error: (20:unable to get local "
                                "issuer certificate)";
    f.r.what_if.intermediate_note = (char *)"the upstream did not send the issuer";
    cause = remedy_cause(&f.r, false, PSS_FAM_PROXY, &verify);
    assert_non_null(strstr(cause, "About the intermediate: the upstream did not send the issuer"));
    free(cause);
    /* nor for a name mismatch */
    fake_init(&f, PROBE_NAME_MISMATCH, 0, 1, false, false);
    f.r.nginx_message = (char *)"upstream SSL certificate does not match \"x\"";
    f.r.what_if.intermediate_note = (char *)"the issuer of the last certificate sent is in it";
    cause = remedy_cause(&f.r, false, PSS_FAM_PROXY, &verify);
    assert_null(strstr(cause, "intermediate"));
    free(cause);
}

static void
ip_literal_after_pin_gets_a_dns_name(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(RS_MASK(RS_PIN));
    (void)state;
    fake_init(&f, PROBE_NAME_MISMATCH, 0, 1, true, false);
    fake_name(&f, "selfsigned.lab");
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), RS_NAME);
}

static void
ip_sans_are_never_offered_as_proxy_ssl_name(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_NAME_MISMATCH, 0, 1, true, false);
    fake_name(&f, "10.0.0.1");
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), -1);
}

static void
names_with_nginx_syntax_are_never_offered(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_NAME_MISMATCH, 0, 1, true, false);
    fake_name(&f, "$http_host");
    fake_name(&f, "a.lab;include");
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), -1);
}

static void
sni_is_preferred_when_sni_alone_passes(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_NAME_MISMATCH, 0, 2, false, false);
    fake_name(&f, "default.lab");
    f.r.what_if.with_sni = PROBE_OK;
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), RS_SNI);
}

static void
too_deep_chain_raises_the_depth(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_VERIFY_ERROR, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 3, false,
              false);
    f.r.what_if.unlimited_depth = PROBE_OK;
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), RS_DEPTH);
}

static void
missing_intermediate_uses_chain_only_with_a_file(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_VERIFY_ERROR, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, 1, false, false);
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), -1);
    c.have_ca = true;
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), RS_CHAIN);
}

static void
root_sent_in_the_chain_is_trusted_as_ca(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_VERIFY_ERROR, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, 3, false, true);
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), RS_CA);
}

static void
private_root_from_a_file_when_pin_is_not_allowed(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_VERIFY_ERROR, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 1, true, false);
    c.have_ca = true;
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL & ~RS_MASK(RS_PIN)), RS_CA);
}

static void
expired_leaf_has_no_nginx_side_fix(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_VERIFY_ERROR, X509_V_ERR_CERT_HAS_EXPIRED, 2, false, false);
    f.r.what_if.system_store = PROBE_OK;
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), -1);
}

static void
client_certificate_demand_needs_the_operators_files(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_HANDSHAKE_ERROR, -1, 0, false, false);
    f.r.nginx_message = (char *)"SSL_do_handshake() failed (SSL: error:0A000410:SSL "
                                "routines::sslv3 alert handshake failure:SSL alert number 40)";
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), -1);
    c.have_client = true;
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), RS_MTLS);
}

static void
a_passing_probe_needs_nothing(void **state)
{
    struct fake f;
    struct remedy_cand c = cand(0);
    (void)state;
    fake_init(&f, PROBE_OK, 0, 1, true, false);
    assert_int_equal(remedy_next(&f.r, &c, RS_ALL), -1);
}

static void
strategy_names_parse_and_join(void **state)
{
    unsigned m = 0;
    char *s;
    (void)state;
    assert_int_equal(remedy_strategy_parse("pin+name", &m), 0);
    assert_int_equal(m, RS_MASK(RS_PIN) | RS_MASK(RS_NAME));
    assert_int_equal(remedy_strategy_parse("sni,depth", &m), 0);
    assert_int_equal(m, RS_MASK(RS_SNI) | RS_MASK(RS_DEPTH));
    assert_int_equal(remedy_strategy_parse("off", &m), -1);
    assert_int_equal(remedy_strategy_parse("", &m), -1);
    s = remedy_mask_name(RS_MASK(RS_NAME) | RS_MASK(RS_PIN));
    assert_string_equal(s, "pin+name");
    free(s);
}

/* ---- edits ---- */

static const char conf_text[] =
    "http {\n"
    "    proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;\n"
    "    server {\n"
    "        listen 127.0.0.1:8080;\n"
    "        location /api {\n"
    "            proxy_pass https://10.0.0.5:8443;\n"
    "            proxy_ssl_verify off;\n"
    "        }\n"
    "    }\n"
    "}\n";

static const struct ngx_node *
api_location(const struct ngxconf *c)
{
    const struct ngx_node *http = ngxconf_find(c->root, "http");
    const struct ngx_node *srv = ngxconf_find(http, "server");
    return ngxconf_find(srv, "location");
}

static void
edits_replace_in_place_and_override_inherited_values_in_the_block(void **state)
{
    struct ngxconf *c = ngxconf_parse_mem("/etc/nginx/nginx.conf", conf_text, strlen(conf_text));
    struct remedy_set sets[3] = {
        {PSS_VERIFY, (char *)"on", NULL, NULL},
        {PSS_TRUSTED_CERTIFICATE, (char *)"/etc/nginx/certs/pin-0011223344556677.pem", NULL, NULL},
        {PSS_NAME, (char *)"api.internal", NULL, NULL},
    };
    struct remedy_file *files = NULL;
    size_t n = 0;
    char *cause = NULL;
    (void)state;

    assert_int_equal(remedy_edit(c, api_location(c), sets, 3, &files, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(files[0].path, "/etc/nginx/nginx.conf");
    const char *want =
        "http {\n"
        "    proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;\n"
        "    server {\n"
        "        listen 127.0.0.1:8080;\n"
        "        location /api {\n"
        "            proxy_pass https://10.0.0.5:8443;\n"
        "            proxy_ssl_verify on;\n"
        "            proxy_ssl_trusted_certificate /etc/nginx/certs/pin-0011223344556677.pem;\n"
        "            proxy_ssl_name api.internal;\n"
        "        }\n"
        "    }\n"
        "}\n";
    assert_int_equal(files[0].len, strlen(want));
    assert_memory_equal(files[0].data, want, strlen(want));
    free(files[0].path);
    free(files[0].data);
    free(files);
    ngxconf_free(c);
}

static void
setting_an_existing_directive_again_does_not_duplicate_it(void **state)
{
    struct ngxconf *c = ngxconf_parse_mem("/etc/nginx/nginx.conf", conf_text, strlen(conf_text));
    struct remedy_set sets[2] = {
        {PSS_SERVER_NAME, (char *)"on", NULL, NULL},
        {PSS_SERVER_NAME, (char *)"on", NULL, NULL},
    };
    struct remedy_file *files = NULL;
    size_t n = 0;
    char *cause = NULL;
    (void)state;

    assert_int_equal(remedy_edit(c, api_location(c), sets, 2, &files, &n, &cause), 0);
    const char *p = files[0].data, *first = strstr(p, "proxy_ssl_server_name on;");
    assert_non_null(first);
    assert_null(strstr(first + 1, "proxy_ssl_server_name"));
    free(files[0].path);
    free(files[0].data);
    free(files);
    ngxconf_free(c);
}

static void
verify_off_is_never_written(void **state)
{
    struct ngxconf *c = ngxconf_parse_mem("/etc/nginx/nginx.conf", conf_text, strlen(conf_text));
    struct remedy_set sets[1] = {{PSS_VERIFY, (char *)"off", NULL, NULL}};
    struct remedy_file *files = NULL;
    size_t n = 0;
    char *cause = NULL;
    (void)state;

    assert_int_equal(remedy_edit(c, api_location(c), sets, 1, &files, &n, &cause), -1);
    assert_non_null(strstr(cause, "proxy_ssl_verify"));
    assert_null(files);
    free(cause);
    ngxconf_free(c);
}

static void
edits_in_a_grpc_location_write_grpc_ssl_directives(void **state)
{
    const char *t = "http {\n"
                    "    server {\n"
                    "        location /pkg.Svc/ {\n"
                    "            grpc_pass grpcs://10.0.0.5:9441;\n"
                    "            grpc_ssl_verify on;\n"
                    "        }\n"
                    "    }\n"
                    "}\n";
    struct ngxconf *c = ngxconf_parse_mem("/etc/nginx/nginx.conf", t, strlen(t));
    const struct ngx_node *loc =
        ngxconf_find(ngxconf_find(ngxconf_find(c->root, "http"), "server"), "location");
    struct remedy_set sets[2] = {
        {PSS_TRUSTED_CERTIFICATE, (char *)"/etc/nginx/certs/ca-0011.pem", NULL, NULL},
        {PSS_NAME, (char *)"svc.internal", NULL, NULL},
    };
    struct remedy_file *files = NULL;
    size_t n = 0;
    char *cause = NULL;
    (void)state;

    assert_int_equal(remedy_edit(c, loc, sets, 2, &files, &n, &cause), 0);
    assert_int_equal(n, 1);
    const char *want = "http {\n"
                       "    server {\n"
                       "        location /pkg.Svc/ {\n"
                       "            grpc_pass grpcs://10.0.0.5:9441;\n"
                       "            grpc_ssl_verify on;\n"
                       "            grpc_ssl_trusted_certificate /etc/nginx/certs/ca-0011.pem;\n"
                       "            grpc_ssl_name svc.internal;\n"
                       "        }\n"
                       "    }\n"
                       "}\n";
    assert_int_equal(files[0].len, strlen(want));
    assert_memory_equal(files[0].data, want, strlen(want));
    free(files[0].path);
    free(files[0].data);
    free(files);

    /* and grpc_ssl_verify is never set to off */
    struct remedy_set off[1] = {{PSS_VERIFY, (char *)"off", NULL, NULL}};
    assert_int_equal(remedy_edit(c, loc, off, 1, &files, &n, &cause), -1);
    assert_non_null(strstr(cause, "refusing to set grpc_ssl_verify"));
    free(cause);
    ngxconf_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(self_signed_leaf_is_pinned),
        cmocka_unit_test(revocation_and_crl_codes_get_no_trust_fix),
        cmocka_unit_test(revoked_cause_has_no_note_about_an_intermediate),
        cmocka_unit_test(ip_literal_after_pin_gets_a_dns_name),
        cmocka_unit_test(ip_sans_are_never_offered_as_proxy_ssl_name),
        cmocka_unit_test(names_with_nginx_syntax_are_never_offered),
        cmocka_unit_test(sni_is_preferred_when_sni_alone_passes),
        cmocka_unit_test(too_deep_chain_raises_the_depth),
        cmocka_unit_test(missing_intermediate_uses_chain_only_with_a_file),
        cmocka_unit_test(root_sent_in_the_chain_is_trusted_as_ca),
        cmocka_unit_test(private_root_from_a_file_when_pin_is_not_allowed),
        cmocka_unit_test(expired_leaf_has_no_nginx_side_fix),
        cmocka_unit_test(client_certificate_demand_needs_the_operators_files),
        cmocka_unit_test(a_passing_probe_needs_nothing),
        cmocka_unit_test(strategy_names_parse_and_join),
        cmocka_unit_test(edits_replace_in_place_and_override_inherited_values_in_the_block),
        cmocka_unit_test(setting_an_existing_directive_again_does_not_duplicate_it),
        cmocka_unit_test(verify_off_is_never_written),
        cmocka_unit_test(edits_in_a_grpc_location_write_grpc_ssl_directives),
    };
    procenv_init(); /* SIGPIPE ignored, as in tlstriage */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
