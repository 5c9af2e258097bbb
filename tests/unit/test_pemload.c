/* test_pemload.c — the PEM certificate and key loader: nginx's [emerg] texts, the chain after
 * the leaf, and the passphrase hook (an encrypted key fails cleanly, never prompts); plus
 * tlserr_reason and the system-store issuer lookup it sits beside. Keys and certificates
 * are made here with the OpenSSL API and written to a fresh temporary directory. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certinfo.h"
#include "pemload.h"
#include "tlserr.h"
#include "xmalloc.h"

struct fx {
    char dir[64];
    EVP_PKEY *key;
    X509 *cert;
};

static X509 *
self_signed(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();

    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

static char *
path_in(const struct fx *f, const char *name)
{
    return xasprintf("%s/%s", f->dir, name);
}

static FILE *
open_w(const struct fx *f, const char *name)
{
    char *p = path_in(f, name);
    FILE *fp = fopen(p, "w");

    assert_non_null(fp);
    free(p);
    return fp;
}

static int
setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    FILE *fp;

    snprintf(f->dir, sizeof(f->dir), "/tmp/tt-pemload-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->key = EVP_EC_gen("P-256");
    assert_non_null(f->key);
    f->cert = self_signed(f->key, "client.test");
    /* cert.pem: the leaf and one more certificate after it */
    fp = open_w(f, "chain.pem");
    EVP_PKEY *k2 = EVP_EC_gen("P-256");
    X509 *x2 = self_signed(k2, "intermediate.test");
    PEM_write_X509(fp, f->cert);
    PEM_write_X509(fp, x2);
    fclose(fp);
    X509_free(x2);
    EVP_PKEY_free(k2);
    fp = open_w(f, "plain.key");
    PEM_write_PrivateKey(fp, f->key, NULL, NULL, 0, NULL, NULL);
    fclose(fp);
    /* PKCS#8 "ENCRYPTED PRIVATE KEY" and the traditional "Proc-Type: 4,ENCRYPTED" form */
    fp = open_w(f, "enc.key");
    PEM_write_PKCS8PrivateKey(fp, f->key, EVP_aes_256_cbc(), NULL, 0, NULL, "secret");
    fclose(fp);
    char *tp = path_in(f, "enc-trad.key");
    BIO *b = BIO_new_file(tp, "w");
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PrivateKey_traditional(b, f->key, EVP_aes_128_cbc(),
                                                          (unsigned char *)"secret", 6, NULL, NULL),
                     1);
    BIO_free(b);
    free(tp);
    fp = open_w(f, "text.pem");
    fputs("not a certificate\n", fp);
    fclose(fp);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    static const char *const names[] = {"chain.pem", "plain.key", "enc.key", "enc-trad.key",
                                        "text.pem"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *p = path_in(f, names[i]);
        unlink(p);
        free(p);
    }
    rmdir(f->dir);
    X509_free(f->cert);
    EVP_PKEY_free(f->key);
    free(f);
    return 0;
}

static void
certificate_and_the_chain_after_it_are_loaded(void **state)
{
    struct fx *f = *state;
    char *p = path_in(f, "chain.pem"), *cause = NULL;
    STACK_OF(X509) *chain = NULL;
    X509 *x = NULL;

    assert_int_equal(pemload_cert(p, &x, &chain, &cause), PEMLOAD_OK);
    assert_null(cause);
    assert_int_equal(X509_cmp(x, f->cert), 0);
    assert_int_equal(sk_X509_num(chain), 1);
    assert_false(tlserr_pending()); /* the end of the chain left nothing queued */
    X509_free(x);
    sk_X509_pop_free(chain, X509_free);
    /* without a chain pointer, only the leaf */
    assert_int_equal(pemload_cert(p, &x, NULL, NULL), PEMLOAD_OK);
    assert_int_equal(X509_cmp(x, f->cert), 0);
    X509_free(x);
    free(p);
}

static void
missing_certificate_file_is_nginx_emerg_with_errno(void **state)
{
    char *cause = NULL;
    X509 *x = NULL;

    (void)state;
    assert_int_equal(pemload_cert("/nonexistent/c.pem", &x, NULL, &cause), PEMLOAD_ERR_OPEN);
    assert_int_equal(errno, ENOENT);
    assert_null(x);
    assert_non_null(strstr(cause, "cannot load certificate \"/nonexistent/c.pem\": "
                                  "BIO_new_file() failed (SSL: error:"));
    assert_false(tlserr_pending());
    free(cause);
}

static void
file_without_certificate_is_a_read_error_that_names_the_call(void **state)
{
    struct fx *f = *state;
    char *p = path_in(f, "text.pem"), *cause = NULL, *want;
    X509 *x = NULL;

    assert_int_equal(pemload_cert(p, &x, NULL, &cause), PEMLOAD_ERR_READ);
    want = xasprintf("cannot load certificate \"%s\": PEM_read_bio_X509_AUX() failed (SSL: ", p);
    assert_non_null(strstr(cause, want));
    assert_non_null(strstr(cause, "no start line"));
    free(want);
    free(cause);
    /* with no cause wanted, the queue is left for the caller's own words */
    assert_int_equal(pemload_cert(p, &x, NULL, NULL), PEMLOAD_ERR_READ);
    char *why = tlserr_reason();
    assert_non_null(strstr(why, "no start line"));
    assert_false(tlserr_pending());
    free(why);
    free(p);
}

static void
plain_key_loads_and_matches_its_certificate(void **state)
{
    struct fx *f = *state;
    char *p = path_in(f, "plain.key"), *cause = NULL;
    EVP_PKEY *k = NULL;

    assert_int_equal(pemload_key(p, NULL, &k, &cause), PEMLOAD_OK);
    assert_int_equal(X509_check_private_key(f->cert, k), 1);
    EVP_PKEY_free(k);
    free(p);
}

static void
encrypted_key_without_passphrase_fails_cleanly(void **state)
{
    struct fx *f = *state;
    static const char *const names[] = {"enc.key", "enc-trad.key"};

    for (size_t i = 0; i < 2; i++) {
        char *p = path_in(f, names[i]), *cause = NULL;
        EVP_PKEY *k = NULL;
        assert_int_equal(pemload_key(p, NULL, &k, &cause), PEMLOAD_ERR_ENCRYPTED);
        assert_null(k);
        assert_non_null(strstr(cause, "the key is encrypted and no passphrase is configured"));
        assert_non_null(strstr(cause, p));
        assert_false(tlserr_pending());
        free(cause);
        free(p);
    }
}

struct tries {
    const char *const *pw; /* NULL-terminated */
    unsigned calls;
};

static int
list_pass(const char *path, unsigned attempt, char *buf, int size, void *arg)
{
    struct tries *t = arg;
    size_t n;

    (void)path;
    t->calls++;
    for (unsigned i = 0; i < attempt; i++) {
        if (t->pw[i] == NULL)
            return -1;
    }
    if (t->pw[attempt] == NULL)
        return -1;
    n = strlen(t->pw[attempt]);
    if ((int)n > size)
        return -1;
    memcpy(buf, t->pw[attempt], n);
    return (int)n;
}

static void
passphrases_are_tried_in_turn_as_nginx_does(void **state)
{
    struct fx *f = *state;
    static const char *const names[] = {"enc.key", "enc-trad.key"};
    static const char *const pws[] = {"wrong", "secret", NULL};

    for (size_t i = 0; i < 2; i++) {
        char *p = path_in(f, names[i]), *cause = NULL;
        struct tries t = {pws, 0};
        struct pemload_pass pass = {list_pass, &t, NULL};
        EVP_PKEY *k = NULL;
        assert_int_equal(pemload_key(p, &pass, &k, &cause), PEMLOAD_OK);
        assert_null(cause);
        assert_int_equal(t.calls, 2);
        assert_int_equal(X509_check_private_key(f->cert, k), 1);
        EVP_PKEY_free(k);
        free(p);
    }
}

static void
write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void
password_file_lines_are_tried_in_turn_and_a_wrong_file_is_named(void **state)
{
    struct fx *f = *state;
    char *key = path_in(f, "enc.key"), *good = path_in(f, "pw-good"), *bad = path_in(f, "pw-bad");
    char *cause = NULL, *want;
    struct pemload_pass pass;
    EVP_PKEY *k = NULL;

    write_text(good, "wrong\r\nsecret\n"); /* CRLF as nginx strips it */
    write_text(bad, "wrong\nalso-wrong");
    assert_int_equal(pemload_pass_file(good, &pass, &cause), 0);
    assert_int_equal(pemload_key(key, &pass, &k, &cause), PEMLOAD_OK);
    assert_null(cause);
    assert_int_equal(X509_check_private_key(f->cert, k), 1);
    EVP_PKEY_free(k);
    k = NULL;
    pemload_pass_free(&pass);

    assert_int_equal(pemload_pass_file(bad, &pass, &cause), 0);
    assert_int_equal(pemload_key(key, &pass, &k, &cause), PEMLOAD_ERR_READ);
    assert_null(k);
    want = xasprintf("no line of proxy_ssl_password_file \"%s\" decrypts it", bad);
    assert_non_null(strstr(cause, want));
    free(want);
    free(cause);
    cause = NULL;
    pemload_pass_free(&pass);

    assert_int_equal(pemload_pass_file("/nonexistent/pw", &pass, &cause), -1);
    assert_string_equal(cause, "open() \"/nonexistent/pw\" failed (2: No such file or directory)");
    free(cause);
    unlink(good);
    unlink(bad);
    free(key);
    free(good);
    free(bad);
}

static void
only_wrong_passphrases_is_a_read_error_with_openssl_reason(void **state)
{
    struct fx *f = *state;
    static const char *const pws[] = {"wrong", "also-wrong", NULL};
    char *p = path_in(f, "enc.key"), *cause = NULL, *want;
    struct tries t = {pws, 0};
    struct pemload_pass pass = {list_pass, &t, NULL};
    struct pemload_pass none = {list_pass, &(struct tries){(const char *const[]){NULL}, 0}, NULL};
    EVP_PKEY *k = NULL;

    assert_int_equal(pemload_key(p, &pass, &k, &cause), PEMLOAD_ERR_READ);
    assert_null(k);
    assert_int_equal(t.calls, 3); /* two tries, then the hook said it has no more */
    want = xasprintf("cannot load certificate key \"%s\": PEM_read_bio_PrivateKey() failed "
                     "(SSL: ",
                     p);
    assert_non_null(strstr(cause, want));
    assert_false(tlserr_pending());
    free(want);
    free(cause);
    cause = NULL;
    assert_int_equal(pemload_key(p, &none, &k, &cause), PEMLOAD_ERR_ENCRYPTED);
    free(cause);
    free(p);
}

static void
the_hook_is_not_asked_for_a_key_that_is_not_encrypted(void **state)
{
    struct fx *f = *state;
    static const char *const pws[] = {"secret", NULL};
    char *p = path_in(f, "plain.key");
    struct tries t = {pws, 0};
    struct pemload_pass pass = {list_pass, &t, NULL};
    EVP_PKEY *k = NULL;

    assert_int_equal(pemload_key(p, &pass, &k, NULL), PEMLOAD_OK);
    assert_int_equal(t.calls, 0);
    EVP_PKEY_free(k);
    free(p);
}

static void
missing_key_file_is_nginx_emerg(void **state)
{
    char *cause = NULL;
    EVP_PKEY *k = NULL;

    (void)state;
    assert_int_equal(pemload_key("/nonexistent/k.pem", NULL, &k, &cause), PEMLOAD_ERR_OPEN);
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(cause, "cannot load certificate key \"/nonexistent/k.pem\": "
                                  "BIO_new_file() failed (SSL: error:"));
    free(cause);
}

static void
reason_is_the_last_queued_error_or_no_details(void **state)
{
    char *why;

    (void)state;
    tlserr_clear();
    why = tlserr_reason();
    assert_string_equal(why, "no details");
    free(why);
    ERR_raise(ERR_LIB_PEM, PEM_R_NO_START_LINE);
    ERR_raise(ERR_LIB_PEM, PEM_R_BAD_PASSWORD_READ);
    why = tlserr_reason();
    assert_non_null(strstr(why, "bad password read"));
    assert_null(strstr(why, "no start line"));
    assert_false(tlserr_pending());
    free(why);
}

static void
system_store_issuer_of_a_private_certificate_is_none(void **state)
{
    struct fx *f = *state;

    assert_null(certinfo_system_issuer(NULL));
    assert_null(certinfo_system_issuer(f->cert));
    assert_false(tlserr_pending());
}

static void
system_store_root_is_its_own_issuer(void **state)
{
    FILE *fp = fopen("/etc/ssl/certs/ca-certificates.crt", "r");
    X509 *root, *issuer;

    (void)state;
    if (fp == NULL)
        skip();
    root = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(root);
    issuer = certinfo_system_issuer(root);
    assert_non_null(issuer);
    assert_int_equal(X509_cmp(issuer, root), 0);
    X509_free(issuer);
    X509_free(root);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(certificate_and_the_chain_after_it_are_loaded),
        cmocka_unit_test(missing_certificate_file_is_nginx_emerg_with_errno),
        cmocka_unit_test(file_without_certificate_is_a_read_error_that_names_the_call),
        cmocka_unit_test(plain_key_loads_and_matches_its_certificate),
        cmocka_unit_test(encrypted_key_without_passphrase_fails_cleanly),
        cmocka_unit_test(passphrases_are_tried_in_turn_as_nginx_does),
        cmocka_unit_test(password_file_lines_are_tried_in_turn_and_a_wrong_file_is_named),
        cmocka_unit_test(only_wrong_passphrases_is_a_read_error_with_openssl_reason),
        cmocka_unit_test(the_hook_is_not_asked_for_a_key_that_is_not_encrypted),
        cmocka_unit_test(missing_key_file_is_nginx_emerg),
        cmocka_unit_test(reason_is_the_last_queued_error_or_no_details),
        cmocka_unit_test(system_store_issuer_of_a_private_certificate_is_none),
        cmocka_unit_test(system_store_root_is_its_own_issuer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
