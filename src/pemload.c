/*
 * pemload.c — reads PEM certificates and private keys as nginx's ngx_ssl_certificate()
 * does, with nginx's [emerg] texts, and owns the passphrase hook: OpenSSL's default prompt
 * ("Enter PEM pass phrase:") is never reached. Holds no TLS state. Called by probe.c (the
 * client certificate of a handshake), check.c (TT007) and remedy.c (--client-cert/-key).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
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
                                   "%s: tlstriage never prompts for one)",
                                   path,
                                   ps->attempt > 0 ? "no passphrase decrypts it"
                                                   : "no passphrase is configured "
                                                     "(proxy_ssl_password_file)");
            goto out;
        }
    }
    fail(cause, "cannot load certificate key", path, "PEM_read_bio_PrivateKey");
    if (cause != NULL && ps->attempt > 0 && pass != NULL && pass->source != NULL) {
        char *c = xasprintf("%s; no line of %s decrypts it", *cause, pass->source);
        free(*cause);
        *cause = c;
    }
out:
    OPENSSL_cleanse(ps, sizeof(*ps));
    free(ps);
    BIO_free(bio);
    if (rc == PEMLOAD_ERR_OPEN)
        errno = err;
    return rc;
}

/* ---- password files (proxy_ssl_password_file) ---- */

struct pass_list {
    char **pw;
    size_t n;
    char *source;
};

static int
pass_list_next(const char *path, unsigned attempt, char *buf, int size, void *arg)
{
    const struct pass_list *l = arg;
    size_t len;

    (void)path;
    if (attempt >= l->n || size <= 0)
        return -1;
    len = strlen(l->pw[attempt]);
    if (len > (size_t)size)
        len = (size_t)size;
    memcpy(buf, l->pw[attempt], len);
    return (int)len;
}

int
pemload_pass_file(const char *path, struct pemload_pass *pass, char **cause)
{
    struct pass_list *l = xcalloc(1, sizeof(*l));
    FILE *fp;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = -1;

    memset(pass, 0, sizeof(*pass));
    if ((fp = fopen(path, "r")) == NULL) {
        int err = errno;
        *cause = xasprintf("open() \"%s\" failed (%d: %s)", path, err, strerror(err));
        goto out;
    }
    while ((n = getline(&line, &cap, fp)) != -1) {
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len > PEMLOAD_PASS_MAX) {
            *cause = xasprintf("too long line in \"%s\"", path);
            goto out;
        }
        l->pw = xreallocarray(l->pw, l->n + 1, sizeof(*l->pw));
        l->pw[l->n++] = xstrndup(line, len);
    }
    if (ferror(fp)) {
        int err = errno;
        *cause = xasprintf("read() \"%s\" failed (%d: %s)", path, err, strerror(err));
        goto out;
    }
    if (l->n == 0) { /* nginx: an empty file is one empty passphrase */
        l->pw = xcalloc(1, sizeof(*l->pw));
        l->pw[l->n++] = xstrdup("");
    }
    l->source = xasprintf("proxy_ssl_password_file \"%s\"", path);
    pass->fn = pass_list_next;
    pass->arg = l;
    pass->source = l->source;
    l = NULL;
    rc = 0;
out:
    if (fp != NULL)
        fclose(fp);
    if (line != NULL) {
        OPENSSL_cleanse(line, cap);
        free(line);
    }
    if (l != NULL) {
        struct pemload_pass tmp = {pass_list_next, l, NULL};
        pemload_pass_free(&tmp);
    }
    return rc;
}

void
pemload_pass_free(struct pemload_pass *pass)
{
    struct pass_list *l;

    if (pass == NULL || pass->fn != pass_list_next || (l = pass->arg) == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        OPENSSL_cleanse(l->pw[i], strlen(l->pw[i]));
        free(l->pw[i]);
    }
    free(l->pw);
    free(l->source);
    free(l);
    memset(pass, 0, sizeof(*pass));
}
