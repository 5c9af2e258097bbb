/*
 * pemload.h — loading a PEM certificate (and the chain after it) and a PEM private key as
 * nginx's ngx_ssl_certificate() does, with a passphrase hook that never prompts on the
 * terminal: without a passphrase source an encrypted key fails with a clear message.
 */
#ifndef TT_PEMLOAD_H
#define TT_PEMLOAD_H

#include <openssl/evp.h>
#include <openssl/x509.h>

enum pemload_status {
    PEMLOAD_OK = 0,
    PEMLOAD_ERR_OPEN = -1,      /* BIO_new_file() failed; errno says why */
    PEMLOAD_ERR_READ = -2,      /* no PEM certificate or key could be read from the file */
    PEMLOAD_ERR_ENCRYPTED = -3, /* the key is encrypted and the hook gave no passphrase */
};

/*
 * A source of passphrases (issue 17: proxy_ssl_password_file). Called only for an encrypted
 * key, with attempt = 0, 1, ... as nginx tries each line of its password file in turn: copies
 * at most size bytes of the passphrase into buf and returns its length, or -1 when it has
 * no (more) passphrases. It must not prompt.
 */
typedef int (*pemload_pass_fn)(const char *path, unsigned attempt, char *buf, int size, void *arg);

struct pemload_pass {
    pemload_pass_fn fn; /* NULL: no passphrases (an encrypted key fails) */
    void *arg;
    const char *source; /* what the passphrases come from, for messages
                           ("proxy_ssl_password_file \"/etc/nginx/pw\""), or NULL */
};

/*
 * Reads a password file as nginx's ngx_ssl_read_password_file() does: one passphrase a
 * line (a trailing CR dropped), tried in turn; an empty file gives one empty passphrase.
 * Fills *pass (fn, arg, source); release with pemload_pass_free(). Returns 0, or -1 with
 * nginx's text in *cause: open() "PATH" failed (2: No such file or directory).
 */
int pemload_pass_file(const char *path, struct pemload_pass *pass, char **cause);
void pemload_pass_free(struct pemload_pass *pass);

/*
 * Reads the first certificate of path (PEM_read_bio_X509_AUX, as nginx) into *leaf and,
 * when chain != NULL, the certificates after it into *chain (reading stops at the first
 * that does not parse). Returns PEMLOAD_OK, or a PEMLOAD_ERR_* code and, when cause is not
 * NULL, nginx's [emerg] text in *cause: cannot load certificate "PATH": BIO_new_file()
 * failed (SSL: ...). With cause NULL the OpenSSL error queue is left for the caller to
 * drain through tlserr.h. Caller frees *leaf and *chain (sk_X509_pop_free).
 */
int pemload_cert(const char *path, X509 **leaf, STACK_OF(X509) * *chain, char **cause);

/*
 * Reads the private key of path (PEM_read_bio_PrivateKey) into *key, taking passphrases
 * from pass (NULL: none). Never prompts. Returns and reports as pemload_cert, with nginx's
 * "cannot load certificate key" text; an encrypted key with no passphrase gives
 * PEMLOAD_ERR_ENCRYPTED and a message that says so (the queue is cleared then); when
 * none of the passphrases decrypts it, PEMLOAD_ERR_READ and nginx's text followed by the
 * name of pass->source.
 */
int pemload_key(const char *path, const struct pemload_pass *pass, EVP_PKEY **key, char **cause);

#endif
