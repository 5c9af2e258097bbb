/*
 * certinfo.c — decodes one X.509 certificate into the facts tlstriage prints, loads PEM
 * trusted files, and finds a certificate's issuer in the system CA store. It never prints
 * (callers sanitize the raw text fields) and never verifies chains (probe.c does). Called
 * by probe.c, and by check/remedy for the trusted anchors and the system-store issuer.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "tlserr.h"
#include "xmalloc.h"

static char *
name_text(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    unsigned long flags = (XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB & ~ASN1_STRFLGS_ESC_CTRL) |
                          ASN1_STRFLGS_UTF8_CONVERT;
    char *data, *s;
    long n;

    if (bio == NULL)
        return xstrdup("unknown");
    if (X509_NAME_print_ex(bio, name, 0, flags) < 0) {
        BIO_free(bio);
        return xstrdup("unknown");
    }
    n = BIO_get_mem_data(bio, &data);
    s = xstrndup(data, n > 0 ? (size_t)n : 0);
    BIO_free(bio);
    return s;
}

static void
time_text(const ASN1_TIME *t, time_t *out, char *s, size_t len)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        *out = 0;
        snprintf(s, len, "unknown");
        return;
    }
    *out = timegm(&tm);
    strftime(s, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
add_sans(X509 *x, struct cert_info *ci)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int n = names != NULL ? sk_GENERAL_NAME_num(names) : 0;

    for (int i = 0; i < n; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        struct cert_san san;

        if (g->type == GEN_DNS) {
            san.type = SAN_DNS;
            san.value = xstrndup((const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                 (size_t)ASN1_STRING_length(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            char txt[64] = "invalid";
            const unsigned char *ip = ASN1_STRING_get0_data(g->d.iPAddress);
            int len = ASN1_STRING_length(g->d.iPAddress);
            if (len == 4)
                snprintf(txt, sizeof(txt), "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
            else if (len == 16) {
                char *p = txt;
                for (int k = 0; k < 16; k += 2)
                    p += sprintf(p, "%s%x", k ? ":" : "", (unsigned)(ip[k] << 8 | ip[k + 1]));
            }
            san.type = SAN_IP;
            san.value = xstrdup(txt);
        } else
            continue;
        ci->nsan_total++;
        if (ci->nsan >= CERTINFO_MAX_SAN) {
            free(san.value);
            continue;
        }
        ci->san = xreallocarray(ci->san, ci->nsan + 1, sizeof(*ci->san));
        ci->san[ci->nsan++] = san;
    }
    GENERAL_NAMES_free(names);
}

static char *
key_text(X509 *x)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    char group[80] = "";
    const char *type;

    if (pk == NULL)
        return xstrdup("unknown");
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        type = "RSA";
        break;
    case EVP_PKEY_EC: {
        size_t glen = 0;
        type = "EC";
        if (EVP_PKEY_get_utf8_string_param(pk, "group", group + 2, sizeof(group) - 3, &glen) == 1) {
            group[0] = ' ';
            group[1] = '(';
            strcat(group, ")");
        } else
            group[0] = '\0';
        break;
    }
    case EVP_PKEY_ED25519:
        type = "ED25519";
        break;
    case EVP_PKEY_ED448:
        type = "ED448";
        break;
    case EVP_PKEY_DSA:
        type = "DSA";
        break;
    default:
        type = OBJ_nid2sn(EVP_PKEY_get_base_id(pk));
        if (type == NULL)
            type = "unknown";
    }
    return xasprintf("%s %d%s", type, EVP_PKEY_get_bits(pk), group);
}

static bool
is_self_signed(X509 *x)
{
    EVP_PKEY *pk;
    int ok;

    if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0)
        return false;
    if ((pk = X509_get0_pubkey(x)) == NULL)
        return false;
    ok = X509_verify(x, pk) == 1;
    tlserr_clear();
    return ok;
}

bool
certinfo_in_stack(X509 *x, STACK_OF(X509) * sk)
{
    for (int i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
        if (X509_cmp(x, sk_X509_value(sk, i)) == 0)
            return true;
    }
    return false;
}

int
certinfo_from_x509(X509 *x, STACK_OF(X509) * trusted, time_t now, struct cert_info *ci)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    BIGNUM *bn = serial != NULL ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    int nid;

    memset(ci, 0, sizeof(*ci));
    ci->subject = name_text(X509_get_subject_name(x));
    ci->issuer = name_text(X509_get_issuer_name(x));
    ci->serial = xstrdup(hex != NULL ? hex : "unknown");
    OPENSSL_free(hex);
    BN_free(bn);
    add_sans(x, ci);
    time_text(X509_get0_notBefore(x), &ci->not_before, ci->not_before_s, sizeof(ci->not_before_s));
    time_text(X509_get0_notAfter(x), &ci->not_after, ci->not_after_s, sizeof(ci->not_after_s));
    {
        double secs = difftime(ci->not_after, now);
        long d = (long)(secs / 86400);
        if (secs < 0 && secs != (double)d * 86400)
            d--; /* floor: an hour after expiry is day -1 */
        ci->days_left = d;
    }
    ci->key = key_text(x);
    nid = X509_get_signature_nid(x);
    ci->sig_alg =
        xstrdup(nid != NID_undef && OBJ_nid2ln(nid) != NULL ? OBJ_nid2ln(nid) : "unknown");
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
        char *p = ci->sha256;
        for (unsigned i = 0; i < mdlen && i < 32; i++)
            p += sprintf(p, "%s%02X", i ? ":" : "", md[i]);
    } else
        snprintf(ci->sha256, sizeof(ci->sha256), "unknown");
    ci->is_ca = X509_check_ca(x) >= 1 && (X509_get_extension_flags(x) & EXFLAG_CA);
    ci->self_signed = is_self_signed(x);
    ci->trusted = certinfo_in_stack(x, trusted);
    tlserr_clear();
    return 0;
}

void
certinfo_free(struct cert_info *ci)
{
    free(ci->subject);
    free(ci->issuer);
    free(ci->serial);
    for (size_t i = 0; i < ci->nsan; i++)
        free(ci->san[i].value);
    free(ci->san);
    free(ci->key);
    free(ci->sig_alg);
    free(ci->revoked_reason);
    free(ci->crl_issuer);
    memset(ci, 0, sizeof(*ci));
}

int
certinfo_load_pem(const char *path, STACK_OF(X509) * *out, char **cause)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    BIO *bio;
    X509 *x;

    *out = NULL;
    tlserr_clear();
    if ((bio = BIO_new_file(path, "r")) == NULL) {
        char *text = xasprintf("cannot read certificate file \"%s\"", path);
        *cause = tlserr_message(text, errno);
        free(text);
        sk_X509_free(sk);
        return -1;
    }
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        sk_X509_push(sk, x);
    tlserr_clear(); /* the end of the file reads as "no start line" */
    BIO_free(bio);
    *out = sk;
    return 0;
}

X509 *
certinfo_system_issuer(X509 *x)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509 *issuer = NULL;

    if (x != NULL && st != NULL && ctx != NULL && X509_STORE_set_default_paths(st) == 1 &&
        X509_STORE_CTX_init(ctx, st, x, NULL) == 1) {
        if (X509_STORE_CTX_get1_issuer(&issuer, ctx, x) != 1)
            issuer = NULL;
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    tlserr_clear();
    return issuer;
}

/* ---- revocation (proxy_ssl_crl) ---- */

int
certinfo_load_crl(const char *path, STACK_OF(X509_CRL) * *crls, char **cause)
{
    X509_STORE *store = X509_STORE_new();
    X509_LOOKUP *lookup;
    int rc = -1;

    *crls = NULL;
    tlserr_clear();
    if (store == NULL || (lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file())) == NULL) {
        *cause = tlserr_message("X509_STORE_add_lookup() failed", 0);
        goto out;
    }
    if (X509_LOOKUP_load_file(lookup, path, X509_FILETYPE_PEM) == 0) {
        char *text = xasprintf("X509_LOOKUP_load_file(\"%s\") failed", path);
        *cause = tlserr_message(text, 0);
        free(text);
        goto out;
    }
    *crls = certinfo_store_crls(store);
    if (*crls == NULL)
        *crls = sk_X509_CRL_new_null();
    rc = 0;
out:
    X509_STORE_free(store);
    tlserr_clear();
    return rc;
}

STACK_OF(X509_CRL) * certinfo_store_crls(X509_STORE *store)
{
    STACK_OF(X509_OBJECT) *objs = store != NULL ? X509_STORE_get0_objects(store) : NULL;
    STACK_OF(X509_CRL) *out = NULL;

    for (int i = 0; objs != NULL && i < sk_X509_OBJECT_num(objs); i++) {
        X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
        if (crl == NULL)
            continue;
        if (out == NULL)
            out = sk_X509_CRL_new_null();
        X509_CRL_up_ref(crl);
        sk_X509_CRL_push(out, crl);
    }
    return out;
}

const char *
certinfo_crl_reason(long code)
{
    static const char *const names[] = {
        "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
        "superseded",    "cessationOfOperation", "certificateHold", "unknown",
        "removeFromCRL", "privilegeWithdrawn",   "aACompromise",
    };
    if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[code];
}

void
certinfo_revocation(X509 *x, X509 *issuer, STACK_OF(X509_CRL) * crls, struct cert_info *ci)
{
    X509_CRL *best = NULL;
    bool best_signed = false;
    X509_REVOKED *rev = NULL;
    time_t unused;

    if (crls == NULL)
        return;
    ci->revocation = CERT_REV_NO_CRL;
    for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
        X509_CRL *c = sk_X509_CRL_value(crls, i);
        bool sig;
        if (X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_issuer_name(x)) != 0)
            continue;
        sig = issuer != NULL && X509_get0_pubkey(issuer) != NULL &&
              X509_CRL_verify(c, X509_get0_pubkey(issuer)) == 1;
        if (best == NULL || (sig && !best_signed) ||
            (sig == best_signed &&
             ASN1_TIME_compare(X509_CRL_get0_lastUpdate(c), X509_CRL_get0_lastUpdate(best)) > 0)) {
            best = c;
            best_signed = sig;
        }
    }
    tlserr_clear();
    if (best == NULL)
        return;
    ci->crl_issuer = name_text(X509_CRL_get_issuer(best));
    if (X509_CRL_get0_nextUpdate(best) != NULL)
        time_text(X509_CRL_get0_nextUpdate(best), &unused, ci->crl_next_update,
                  sizeof(ci->crl_next_update));
    else
        snprintf(ci->crl_next_update, sizeof(ci->crl_next_update), "none");
    if (X509_CRL_get0_by_cert(best, &rev, x) == 1 && rev != NULL) {
        ASN1_ENUMERATED *reason;
        ci->revocation = CERT_REV_REVOKED;
        time_text(X509_REVOKED_get0_revocationDate(rev), &unused, ci->revoked_at,
                  sizeof(ci->revoked_at));
        reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
        if (reason != NULL) {
            ci->revoked_reason = xstrdup(certinfo_crl_reason(ASN1_ENUMERATED_get(reason)));
            ASN1_ENUMERATED_free(reason);
        }
    } else
        ci->revocation = CERT_REV_GOOD;
    tlserr_clear();
}
