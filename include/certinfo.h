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

/* Revocation status of one certificate against the configured CRLs (proxy_ssl_crl). */
enum cert_revocation {
    CERT_REV_UNCHECKED = 0, /* no CRL configured: nothing to show */
    CERT_REV_GOOD,          /* the issuer's CRL does not list it */
    CERT_REV_REVOKED,       /* the issuer's CRL lists it */
    CERT_REV_NO_CRL,        /* no CRL from its issuer (nginx: 3, unable to get CRL) */
};

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
    /* Revocation (certinfo_revocation), CERT_REV_UNCHECKED unless a CRL is configured. */
    enum cert_revocation revocation;
    char revoked_at[32];      /* CERT_REV_REVOKED: the revocation date */
    char *revoked_reason;     /* CERT_REV_REVOKED: "keyCompromise", or NULL (none given) */
    char *crl_issuer;         /* GOOD / REVOKED: the issuer of the CRL checked */
    char crl_next_update[32]; /* GOOD / REVOKED: that CRL's nextUpdate ("none" if absent) */
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

/* Loads a CRL file as nginx's ngx_ssl_crl() does (X509_LOOKUP_load_file, PEM: every CRL and
 * certificate in it; a file with neither fails). Returns 0 and *crls (its CRLs, possibly
 * none; free with sk_X509_CRL_pop_free(.., X509_CRL_free)), or -1 with nginx's [emerg] text
 * in *cause: X509_LOOKUP_load_file("PATH") failed (SSL: ...). */
int certinfo_load_crl(const char *path, STACK_OF(X509_CRL) * *crls, char **cause);

/* The CRLs held by store, each up-referenced (free as above); NULL when it holds none. */
STACK_OF(X509_CRL) * certinfo_store_crls(X509_STORE *store);

/* Fills ci's revocation fields for x from crls (NULL: nothing is configured, the fields stay
 * CERT_REV_UNCHECKED). issuer, when known, is x's issuer certificate: a CRL whose signature
 * its key verifies is preferred; among the rest the latest lastUpdate wins. */
void certinfo_revocation(X509 *x, X509 *issuer, STACK_OF(X509_CRL) * crls, struct cert_info *ci);

/* The text of a CRL reason code ("keyCompromise"), or "unknown". */
const char *certinfo_crl_reason(long code);

#endif
