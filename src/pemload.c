/*
 * pemload.c — reads PEM certificates and private keys as nginx's ngx_ssl_certificate()
 * does, with nginx's [emerg] texts, and owns the passphrase hook: OpenSSL's default prompt
 * ("Enter PEM pass phrase:") is never reached. Holds no TLS state. Called by probe.c (the
 * client certificate of a handshake), check.c (TT007) and remedy.c (--client-cert/-key).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "pemload.h"
#include "tlserr.h"
#include "xmalloc.h"

#define PEMLOAD_PASS_MAX 4096 /* nginx's NGX_SSL_PASSWORD_BUFFER_SIZE */

/* The passphrase of one attempt: the first is fetched from the hook when OpenSSL asks for
 * it (so the hook is never called for a key that is not encrypted), the later ones before
 * the key is read again. */
struct pass_state {
    const struct pemload_pass *pass;
    const char *path;
    unsigned attempt;
    bool fetched, asked;
    int len; /* -1: none */
    char pw[PEMLOAD_PASS_MAX];
};

static void
pass_fetch(struct pass_state *ps)
{
    ps->len = -1;
    if (ps->pass != NULL && ps->pass->fn != NULL)
        ps->len = ps->pass->fn(ps->path, ps->attempt, ps->pw, (int)sizeof(ps->pw), ps->pass->arg);
    if (ps->len > (int)sizeof(ps->pw))
        ps->len = (int)sizeof(ps->pw);
    ps->fetched = true;
}

/* OpenSSL's pem_password_cb: hands over the passphrase, or fails (never a prompt). */
static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
    struct pass_state *ps = u;

    (void)rwflag;
    ps->asked = true;
    if (!ps->fetched)
        pass_fetch(ps);
    if (ps->len < 0 || size <= 0)
        return -1;
    int n = ps->len < size ? ps->len : size;
    memcpy(buf, ps->pw, (size_t)n);
    return n;
}

/* Sets *cause (when wanted) to "TEXT "PATH": CALL failed (SSL: ...)", draining the queue. */
static void
fail(char **cause, const char *what, const char *path, const char *call)
{
    char *text;

    if (cause == NULL)
        return;
    text = xasprintf("%s \"%s\": %s() failed", what, path, call);
    *cause = tlserr_message(text, 0);
    free(text);
}

int
pemload_cert(const char *path, X509 **leaf, STACK_OF(X509) * *chain, char **cause)
{
    BIO *bio;
    X509 *x;
    int rc = PEMLOAD_ERR_OPEN, err = 0;

    *leaf = NULL;
    if (chain != NULL)
        *chain = NULL;
    tlserr_clear();
    if ((bio = BIO_new_file(path, "r")) == NULL) {
        err = errno;
        fail(cause, "cannot load certificate", path, "BIO_new_file");
        goto out;
    }
    rc = PEMLOAD_ERR_READ;
    if ((*leaf = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) == NULL) {
        fail(cause, "cannot load certificate", path, "PEM_read_bio_X509_AUX");
        goto out;
    }
    if (chain != NULL) {
        *chain = sk_X509_new_null();
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            if (*chain == NULL || sk_X509_push(*chain, x) == 0)
                X509_free(x);
        }
        tlserr_clear(); /* the end of the chain reads as "no start line" */
    }
    rc = PEMLOAD_OK;
out:
    BIO_free(bio);
    if (rc == PEMLOAD_ERR_OPEN)
        errno = err;
    return rc;
}

int
pemload_key(const char *path, const struct pemload_pass *pass, EVP_PKEY **key, char **cause)
{
    struct pass_state *ps = xcalloc(1, sizeof(*ps));
    BIO *bio;
    int rc = PEMLOAD_ERR_OPEN, err = 0;

    *key = NULL;
    ps->pass = pass;
    ps->path = path;
    tlserr_clear();
    if ((bio = BIO_new_file(path, "r")) == NULL) {
        err = errno;
        fail(cause, "cannot load certificate key", path, "BIO_new_file");
        goto out;
    }
    rc = PEMLOAD_ERR_READ;
    /* nginx tries each passphrase in turn (ngx_ssl_load_certificate_key); a failed try's
     * errors stay queued when the hook has no more. */
    for (ps->attempt = 0;; ps->attempt++) {
        ps->fetched = false;
        if (ps->attempt > 0) {
            pass_fetch(ps);
            if (ps->len < 0 || BIO_reset(bio) != 0)
                break;
        }
        ps->asked = false;
        tlserr_clear();
        if ((*key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, ps)) != NULL) {
            rc = PEMLOAD_OK;
            goto out;
        }
        if (!ps->asked)
            break; /* not a passphrase matter: the file holds no key */
        if (ps->len < 0) {
            rc = PEMLOAD_ERR_ENCRYPTED;
            tlserr_clear();
            if (cause != NULL)
                *cause = xasprintf("cannot load certificate key \"%s\": "
                                   "PEM_read_bio_PrivateKey() failed (the key is encrypted and "
                                   "no passphrase is configured: tlstriage never prompts for "
                                   "one, and does not read proxy_ssl_password_file yet)",
                                   path);
            goto out;
        }
    }
    fail(cause, "cannot load certificate key", path, "PEM_read_bio_PrivateKey");
out:
    OPENSSL_cleanse(ps, sizeof(*ps));
    free(ps);
    BIO_free(bio);
    if (rc == PEMLOAD_ERR_OPEN)
        errno = err;
    return rc;
}
