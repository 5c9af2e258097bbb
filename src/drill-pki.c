/*
 * drill-pki.c — a drill's certificates made with the OpenSSL API (no openssl subprocess):
 * keys (EC P-256 or RSA 2048 through EVP_PKEY_Q_keygen), X.509 v3 certificates with
 * subject, SANs, CA or leaf constraints, client or server usage and any validity window
 * (expired ones too), signed by an earlier certificate of the scenario or by themselves.
 * Called by drill-sandbox.c; prints nothing.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "drill.h"
#include "tlserr.h"
#include "xmalloc.h"

struct made {
    X509 *cert;
    EVP_PKEY *key;
};

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
        return -1;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

static int
write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, key != NULL ? 0600 : 0644);
    FILE *fp;
    int ok;

    if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    ok = key != NULL ? PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL)
                     : PEM_write_X509(fp, cert);
    return fclose(fp) == 0 && ok == 1 ? 0 : -1;
}

static int
make_one(const struct drill_cert *c, const struct made *issuer, struct made *out, char **cause)
{
    X509_NAME *name;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    char *san = NULL;
    int rc = -1;

    out->key = c->rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                      : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (out->key == NULL || (out->cert = X509_new()) == NULL)
        goto out;
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    serial[0] &= 0x7f;
    if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(out->cert)) == NULL)
        goto out;
    X509_set_version(out->cert, 2);
    if (X509_gmtime_adj(X509_getm_notBefore(out->cert), c->start_days * 86400L) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(out->cert), (c->start_days + c->days) * 86400L) == NULL)
        goto out;
    name = X509_get_subject_name(out->cert);
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   (const unsigned char *)"tlstriage drill", -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)c->subject, -1,
                                   -1, 0) != 1)
        goto out;
    if (X509_set_issuer_name(out->cert,
                             issuer != NULL ? X509_get_subject_name(issuer->cert) : name) != 1 ||
        X509_set_pubkey(out->cert, out->key) != 1)
        goto out;
    X509 *icert = issuer != NULL ? issuer->cert : out->cert;
    if (add_ext(out->cert, icert, NID_basic_constraints, c->ca ? "critical,CA:TRUE" : "CA:FALSE") ||
        add_ext(out->cert, icert, NID_key_usage,
                c->ca ? "critical,keyCertSign,cRLSign"
                      : "critical,digitalSignature,keyEncipherment") ||
        add_ext(out->cert, icert, NID_subject_key_identifier, "hash") ||
        (issuer != NULL && add_ext(out->cert, icert, NID_authority_key_identifier, "keyid:always")))
        goto out;
    if (!c->ca &&
        add_ext(out->cert, icert, NID_ext_key_usage, c->client ? "clientAuth" : "serverAuth"))
        goto out;
    if (c->sans[0] != NULL) {
        size_t len = 1;
        for (size_t i = 0; c->sans[i] != NULL; i++)
            len += strlen(c->sans[i]) + 1;
        san = xcalloc(1, len);
        for (size_t i = 0; c->sans[i] != NULL; i++) {
            if (i > 0)
                strcat(san, ",");
            strcat(san, c->sans[i]);
        }
        if (add_ext(out->cert, icert, NID_subject_alt_name, san))
            goto out;
    }
    if (X509_sign(out->cert, issuer != NULL ? issuer->key : out->key, EVP_sha256()) == 0)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        *cause = tlserr_message(c->name, 0);
    free(san);
    BN_free(bn);
    return rc;
}

int
drill_pki_make(const struct drill_scenario *sc, const char *dir, char **cause)
{
    struct made *m = xcalloc(sc->ncerts + 1, sizeof(*m));
    int rc = -1;

    tlserr_clear();
    for (size_t i = 0; i < sc->ncerts; i++) {
        const struct drill_cert *c = &sc->certs[i];
        const struct made *issuer = NULL;
        char *p;

        for (size_t k = 0; k < i && c->issuer != NULL; k++) {
            if (strcmp(sc->certs[k].name, c->issuer) == 0)
                issuer = &m[k];
        }
        if (make_one(c, issuer, &m[i], cause) != 0)
            goto out;
        p = xasprintf("%s/%s.pem", dir, c->name);
        rc = write_pem(p, m[i].cert, NULL);
        free(p);
        if (rc == 0) {
            p = xasprintf("%s/%s.key", dir, c->name);
            rc = write_pem(p, NULL, m[i].key);
            free(p);
        }
        if (rc != 0) {
            *cause = xasprintf("%s/%s: cannot write the certificate or key", dir, c->name);
            goto out;
        }
        rc = -1;
    }
    rc = 0;
out:
    for (size_t i = 0; i < sc->ncerts; i++) {
        X509_free(m[i].cert);
        EVP_PKEY_free(m[i].key);
    }
    free(m);
    return rc;
}
