/* test_offline.c — the offline fast path's readers: the peer chain (PEM, s_client text as
 * pasted), the block in its nginx context (lines of the input, CRLF, stream servers, broken
 * blocks), and probe_verify_chain's verdicts on certificates made here by OpenSSL. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "offline.h"
#include "probe.h"
#include "xmalloc.h"

/* A self-signed certificate for CN=cn with DNS SAN cn, made by OpenSSL. */
static X509 *
make_cert(const char *cn)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *n = X509_get_subject_name(x);
    X509V3_CTX ctx;
    char *san = xasprintf("DNS:%s", cn);

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, k);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    X509_sign(x, k, EVP_sha256());
    EVP_PKEY_free(k);
    free(san);
    return x;
}

static char *
pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    long n;

    PEM_write_bio_X509(b, x);
    n = BIO_get_mem_data(b, &p);
    char *out = xstrndup(p, (size_t)n);
    BIO_free(b);
    return out;
}

static char *
subject_cn(X509 *x)
{
    char buf[256];
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));
    return xstrdup(buf);
}

static void
pem_certificates_are_read_leaf_first_in_the_order_given(void **state)
{
    X509 *a = make_cert("leaf.lab"), *b = make_cert("other.lab");
    char *pa = pem(a), *pb = pem(b), *text = xasprintf("%s%s", pa, pb), *cause = NULL;
    STACK_OF(X509) *sk = NULL;

    (void)state;
    assert_int_equal(offline_read_chain("c.pem", text, strlen(text), &sk, &cause), 0);
    assert_int_equal(sk_X509_num(sk), 2);
    char *cn0 = subject_cn(sk_X509_value(sk, 0)), *cn1 = subject_cn(sk_X509_value(sk, 1));
    assert_string_equal(cn0, "leaf.lab");
    assert_string_equal(cn1, "other.lab");
    free(cn0);
    free(cn1);
    sk_X509_pop_free(sk, X509_free);
    X509_free(a);
    X509_free(b);
    free(pa);
    free(pb);
    free(text);
}

static void
s_client_output_pasted_with_crlf_and_indentation_is_read(void **state)
{
    X509 *a = make_cert("api.lab");
    char *pa = pem(a), *cause = NULL;
    struct buf t = BUF_INIT;
    STACK_OF(X509) *sk = NULL;

    (void)state;
    buf_adds(&t, "CONNECTED(00000003)\r\ndepth=0 CN = api.lab\r\n---\r\nCertificate chain\r\n"
                 " 0 s:CN = api.lab\r\n   i:CN = api.lab\r\n");
    for (const char *p = pa; *p != '\0'; p++) { /* a mail client's indent and CRLF */
        if (p == pa || p[-1] == '\n')
            buf_adds(&t, "  ");
        if (*p == '\n')
            buf_addc(&t, '\r');
        buf_addc(&t, *p);
    }
    buf_adds(&t, "---\r\nServer certificate\r\nsubject=CN = api.lab\r\n"
                 "Verify return code: 18 (self-signed certificate)\r\n");
    assert_int_equal(offline_read_chain("-", t.p, t.len, &sk, &cause), 0);
    assert_int_equal(sk_X509_num(sk), 1);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 0), a), 0);
    sk_X509_pop_free(sk, X509_free);
    X509_free(a);
    free(pa);
    buf_free(&t);
}

static void
text_without_a_certificate_is_refused_naming_the_file(void **state)
{
    const char *t = "CONNECTED(00000003)\nno peer certificate available\n";
    STACK_OF(X509) *sk = NULL;
    char *cause = NULL;

    (void)state;
    assert_int_equal(offline_read_chain("chain.txt", t, strlen(t), &sk, &cause), -1);
    assert_non_null(strstr(cause, "chain.txt: no certificate in it"));
    assert_null(sk);
    free(cause);
}

static void
a_certificate_without_its_end_line_names_the_line(void **state)
{
    const char *t = "junk\n\n-----BEGIN CERTIFICATE-----\nMIIB\n";
    STACK_OF(X509) *sk = NULL;
    char *cause = NULL;

    (void)state;
    assert_int_equal(offline_read_chain("c.txt", t, strlen(t), &sk, &cause), -1);
    assert_string_equal(cause, "c.txt:3: a PEM certificate without its END line");
    free(cause);
}

static void
a_broken_certificate_names_its_line(void **state)
{
    const char *t = "x\n-----BEGIN CERTIFICATE-----\n!!!notbase64!!!\n-----END CERTIFICATE-----\n";
    STACK_OF(X509) *sk = NULL;
    char *cause = NULL;

    (void)state;
    assert_int_equal(offline_read_chain("c.txt", t, strlen(t), &sk, &cause), -1);
    assert_non_null(strstr(cause, "c.txt:2: a broken PEM certificate"));
    free(cause);
}

static void
a_location_keeps_the_lines_of_the_input_and_its_crlf(void **state)
{
    const char *t =
        "# pasted\r\nlocation /api/ {\r\n    proxy_pass https://10.0.0.1:8443;\r\n}\r\n";
    struct offline_block b;
    struct tls_use *uses = NULL;
    char *cause = NULL;

    (void)state;
    assert_int_equal(offline_block_load("-", t, strlen(t), &b, &cause), 0);
    assert_string_equal(b.kind, "location");
    assert_true(b.crlf);
    size_t n = resolve_uses(b.conf, &uses);
    assert_int_equal(n, 1);
    assert_string_equal(uses[0].block->file->path, "-");
    assert_int_equal(uses[0].block->line, 2);
    assert_int_equal(uses[0].proxy_pass->line, 3);
    assert_int_equal(uses[0].targets[0].port, 8443);
    resolve_uses_free(uses, n);
    offline_block_free(&b);
}

static void
a_server_with_proxy_ssl_on_and_host_port_is_a_stream_server(void **state)
{
    const char *t = "server {\n  listen 8443;\n  proxy_pass 10.0.0.2:9443;\n  proxy_ssl on;\n}\n";
    struct offline_block b;
    struct tls_use *uses = NULL;
    char *cause = NULL;

    (void)state;
    assert_int_equal(offline_block_load("s.conf", t, strlen(t), &b, &cause), 0);
    assert_string_equal(b.kind, "stream server");
    size_t n = resolve_uses(b.conf, &uses);
    assert_int_equal(n, 1);
    assert_true(uses[0].stream);
    resolve_uses_free(uses, n);
    offline_block_free(&b);
}

static void
a_broken_block_names_the_line_of_the_input(void **state)
{
    const char *t = "location / {\n  proxy_pass https://a;\n}\n}\n";
    struct offline_block b;
    char *cause = NULL;

    (void)state;
    assert_int_equal(offline_block_load("-", t, strlen(t), &b, &cause), -1);
    assert_string_equal(cause, "-:4: unexpected \"}\"");
    free(cause);
}

static void
an_include_in_a_whole_file_is_named_as_not_in_the_input(void **state)
{
    const char *t = "events {}\nhttp {\n    include snippets/api.conf;\n}\n";
    struct offline_block b;
    char *cause = NULL;

    (void)state;
    assert_int_equal(offline_block_load("nginx.conf", t, strlen(t), &b, &cause), -1);
    assert_string_equal(cause, "nginx.conf:3: the file this include names is not in the input "
                               "(paste its blocks in place of the include)");
    free(cause);
}

/* probe_verify_chain: the verdicts nginx would reach, with no connection */
static void
verify_chain_gives_nginx_s_verdicts_for_a_self_signed_certificate(void **state)
{
    X509 *a = make_cert("api.lab");
    char *pa = pem(a), path[] = "/tmp/tt-test-offline-XXXXXX", *cause = NULL;
    int fd = mkstemp(path);
    STACK_OF(X509) *sk = sk_X509_new_null();
    struct probe_opts o;
    struct probe_result r;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pa, strlen(pa)), (ssize_t)strlen(pa));
    close(fd);
    X509_up_ref(a);
    sk_X509_push(sk, a);
    probe_opts_init(&o);
    o.host = "10.0.0.1";
    o.port = 8443;
    o.name = "api.lab";

    o.trusted = NULL; /* trusts nothing */
    assert_int_equal(probe_verify_chain(&o, sk, &r, &cause), 0);
    assert_int_equal(r.verdict, PROBE_VERIFY_ERROR);
    assert_int_equal(r.verify_code, 18);
    assert_string_equal(r.nginx_message,
                        "upstream SSL certificate verify error: (18:self-signed certificate)");
    probe_result_free(&r);

    o.trusted = path; /* pinned */
    assert_int_equal(probe_verify_chain(&o, sk, &r, &cause), 0);
    assert_int_equal(r.verdict, PROBE_OK);
    probe_result_free(&r);

    o.name = NULL; /* the IP literal under nginx 1.22's rule */
    assert_int_equal(probe_verify_chain(&o, sk, &r, &cause), 0);
    assert_int_equal(r.verdict, PROBE_NAME_MISMATCH);
    assert_string_equal(r.nginx_message, "upstream SSL certificate does not match \"10.0.0.1\"");
    probe_result_free(&r);

    o.trusted = "/nonexistent/ca.pem"; /* nginx would refuse it */
    assert_int_equal(probe_verify_chain(&o, sk, &r, &cause), 0);
    assert_int_equal(r.verdict, PROBE_CONFIG_ERROR);
    probe_result_free(&r);

    unlink(path);
    sk_X509_pop_free(sk, X509_free);
    X509_free(a);
    free(pa);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pem_certificates_are_read_leaf_first_in_the_order_given),
        cmocka_unit_test(s_client_output_pasted_with_crlf_and_indentation_is_read),
        cmocka_unit_test(text_without_a_certificate_is_refused_naming_the_file),
        cmocka_unit_test(a_certificate_without_its_end_line_names_the_line),
        cmocka_unit_test(a_broken_certificate_names_its_line),
        cmocka_unit_test(a_location_keeps_the_lines_of_the_input_and_its_crlf),
        cmocka_unit_test(a_server_with_proxy_ssl_on_and_host_port_is_a_stream_server),
        cmocka_unit_test(a_broken_block_names_the_line_of_the_input),
        cmocka_unit_test(an_include_in_a_whole_file_is_named_as_not_in_the_input),
        cmocka_unit_test(verify_chain_gives_nginx_s_verdicts_for_a_self_signed_certificate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
