/*
 * certinfo.h — the facts of one X.509 certificate as tlstriage shows them (subject, issuer,
 * SANs, validity, key, fingerprint, CA/self-signed/trusted flags), and loading a PEM
 * trusted file. Shared by probe, check and remedy. Text fields are raw certificate bytes:
 * fmt-probe.c renders them (sanitize_* for text; the JSON writer escapes them itself).
 */
#ifndef TT_CERTINFO_H
#define TT_CERTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#define CERTINFO_MAX_SAN 256 /* SAN entries kept per certificate; more are counted, not kept */

enum cert_san_type { SAN_DNS, SAN_IP };

struct cert_san {
    enum cert_san_type type;
    char *value; /* "api.example", "10.0.2.88", "::1" */
};

struct cert_info {
    char *subject; /* one line: "C = US, O = Lab, CN = api.example" */
    char *issuer;
    char *serial; /* hex, upper case */
    struct cert_san *san;
    size_t nsan;
    size_t nsan_total; /* including those beyond CERTINFO_MAX_SAN */
    time_t not_before, not_after;
    char not_before_s[32], not_after_s[32]; /* "2026-11-27T08:00:00Z" */
    long days_left;   /* whole days from now to not_after; negative once expired */
    char *key;        /* "RSA 2048", "EC 256 (prime256v1)", "ED25519 256" */
    char *sig_alg;    /* "sha256WithRSAEncryption" */
    char sha256[96];  /* "AB:CD:..." as openssl x509 -fingerprint -sha256 prints it */
    bool is_ca;       /* basicConstraints CA:TRUE */
    bool self_signed; /* subject == issuer and its own key verifies its signature */
    bool trusted;     /* the same certificate is in the trusted file */
};

/* Fills *ci from x; trusted (may be NULL) is the trusted file's certificates, now the time
 * days_left counts from. Returns 0 (the fields it cannot decode read "unknown"). */
int certinfo_from_x509(X509 *x, STACK_OF(X509) * trusted, time_t now, struct cert_info *ci);
void certinfo_free(struct cert_info *ci);

/* Whether the same certificate (X509_cmp) is in sk. */
bool certinfo_in_stack(X509 *x, STACK_OF(X509) * sk);

/* The issuer of x in the system CA store (a distribution may carry intermediates), or NULL.
 * The tool never fetches AIA URLs: this store is all it looks in. Caller frees. */
X509 *certinfo_system_issuer(X509 *x);

/* Loads every certificate of a PEM file. Returns 0 and *out (caller frees with
 * sk_X509_pop_free(.., X509_free)), or -1 with *cause naming the file. */
int certinfo_load_pem(const char *path, STACK_OF(X509) * *out, char **cause);

#endif
