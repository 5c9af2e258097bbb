/*
 * check.c — the config rules TT001–TT010 over every TLS upstream use, loading each
 * certificate and CRL file once (OpenSSL). It renders nothing (fmt-check.c does) and decides
 * nothing about exit codes or where output goes: cli-check.c does.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "addr.h"
#include "buf.h"
#include "certinfo.h"
#include "check.h"
#include "nginxbin.h"
#include "pemload.h"
#include "resolve.h"
#include "tlserr.h"
#include "xmalloc.h"

const struct check_rule check_rules[] = {
    {"TT001", "error", "proxy_ssl_verify off (explicit) on an https/ssl upstream"},
    {"TT002", "warning",
     "an https/ssl upstream with verification never turned on (the default "
     "is off)"},
    {"TT003", "error",
     "proxy_ssl_verify on without proxy_ssl_trusted_certificate (nginx -t "
     "refuses it)"},
    {"TT004", "error",
     "verification on, upstream given as an IP literal, no proxy_ssl_name: "
     "nginx checks names with DNS SANs only, so it will fail"},
    {"TT005", "error",
     "proxy_ssl_trusted_certificate file missing, unreadable, empty, or holds "
     "no certificate"},
    {"TT006", "warning/error",
     "a certificate in the trusted file expires within 30 days "
     "(warning) or has expired (error)"},
    {"TT007", "error",
     "proxy_ssl_certificate without proxy_ssl_certificate_key, or the key "
     "does not match"},
    {"TT008", "warning",
     "proxy_ssl_name set to a DNS name but proxy_ssl_server_name off: "
     "upstreams that pick their certificate by SNI will present the wrong "
     "one"},
    {"TT009", "warning/error",
     "an ssl_* directive of nginx's own TLS server (ssl_trusted_certificate, "
     "ssl_verify_depth, ssl_client_certificate, ssl_verify_client, ssl_certificate, ...) "
     "where a use verifies its upstream and the proxy_ssl_* twin is not set: it does not "
     "apply to the upstream (error when it stands in for a missing "
     "proxy_ssl_trusted_certificate)"},
    {"TT010", "warning/error",
     "proxy_ssl_crl file nginx cannot load, a CRL expired or not yet valid, or none issued "
     "by a CA of the trusted file (error); a CRL whose next update is within 3 days "
     "(warning)"},
    {"TT011", "error",
     "a proxy_ssl_* (grpc_ssl_*, uwsgi_ssl_*) directive or grpc_pass older than the nginx -V "
     "in use: nginx -t refuses it as an unknown directive"},
};
const size_t check_nrules = sizeof(check_rules) / sizeof(check_rules[0]);

/* ---- certificate files, each loaded once ---- */

struct trusted_file {
    char *path;
    char *problem; /* TT005 message, or NULL */
    int ncerts;
    int nexpired, nexpiring;
    char *first_bad; /* subject and date of the first expired / expiring certificate */
};

struct keypair {
    char *cert, *key;
    char *pw;            /* proxy_ssl_password_file (full path), or NULL */
    char *problem;       /* TT007 message, or NULL */
    enum pss_family fam; /* whose directives problem names */
};

/* A proxy_ssl_crl file, loaded as nginx loads it; with the trusted file it was last judged
 * against (TT010's issuer test depends on both). */
struct crl_file {
    char *path;
    char *problem;             /* nginx's [emerg], or NULL */
    STACK_OF(X509_CRL) * crls; /* NULL when problem */
};

struct check_state {
    const struct ngxconf *conf;
    const struct check_opts *opts;
    struct check_report *r;
    time_t now;
    struct trusted_file *tf;
    size_t ntf;
    struct keypair *kp;
    size_t nkp;
    struct crl_file *cf;
    size_t ncf;
    bool have_version;
    struct nginx_version version;
    int dir_version; /* TT011: 0 not read yet, 1 dversion read from nginx -V, -1 unknown */
    struct nginx_version dversion;
    enum pss_family fam; /* of the use being checked: the spelling of the fixes */
};

static char *
subject_of(X509 *x)
{
    char tmp[256];
    X509_NAME_oneline(X509_get_subject_name(x), tmp, sizeof(tmp));
    return xstrdup(tmp);
}

static char *
subject_of_name(const X509_NAME *n)
{
    char tmp[256];
    X509_NAME_oneline(n, tmp, sizeof(tmp));
    return xstrdup(tmp);
}

static char *
asn1_time_str(const ASN1_TIME *t)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *s;
    long n;

    ASN1_TIME_print(b, t);
    n = BIO_get_mem_data(b, &p);
    s = xstrndup(p, (size_t)(n > 0 ? n : 0));
    BIO_free(b);
    return s;
}

/* Why path cannot be used as a file, or NULL. */
static char *
file_problem(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return xasprintf("\"%s\" cannot be opened (%d: %s)", path, errno, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return xasprintf("\"%s\" is a directory", path);
    if (st.st_size == 0)
        return xasprintf("\"%s\" is empty", path);
    return NULL;
}

static struct trusted_file *
trusted_load(struct check_state *st, const char *written)
{
    char *path = ngxconf_full_path(st->conf, written);
    struct trusted_file *t;
    BIO *bio;
    X509 *x;

    for (size_t i = 0; i < st->ntf; i++) {
        if (strcmp(st->tf[i].path, path) == 0) {
            free(path);
            return &st->tf[i];
        }
    }
    st->tf = xreallocarray(st->tf, st->ntf + 1, sizeof(*st->tf));
    t = &st->tf[st->ntf++];
    memset(t, 0, sizeof(*t));
    t->path = path;
    if ((t->problem = file_problem(path)) != NULL)
        return t;
    tlserr_clear();
    if ((bio = BIO_new_file(path, "r")) == NULL) {
        char *why = tlserr_reason();
        t->problem = xasprintf("\"%s\" cannot be read (%s)", path, why);
        free(why);
        return t;
    }
    time_t soon =
        st->now + (time_t)(st->opts->expiry_days > 0 ? st->opts->expiry_days : 30) * 86400;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        const ASN1_TIME *na = X509_get0_notAfter(x);
        t->ncerts++;
        if (X509_cmp_time(na, &st->now) < 0) {
            if (t->nexpired++ == 0) {
                char *s = subject_of(x), *d = asn1_time_str(na);
                free(t->first_bad);
                t->first_bad = xasprintf("%s expired %s", s, d);
                free(s);
                free(d);
            }
        } else if (X509_cmp_time(na, &soon) < 0) {
            if (t->nexpiring++ == 0 && t->nexpired == 0) {
                char *s = subject_of(x), *d = asn1_time_str(na);
                t->first_bad = xasprintf("%s expires %s", s, d);
                free(s);
                free(d);
            }
        }
        X509_free(x);
    }
    tlserr_clear();
    BIO_free(bio);
    if (t->ncerts == 0)
        t->problem = xasprintf("\"%s\" holds no PEM certificate", path);
    return t;
}

static struct keypair *
keypair_load(struct check_state *st, enum pss_family fam, const char *cert_w, const char *key_w,
             const char *pw_w)
{
    char *cert = ngxconf_full_path(st->conf, cert_w), *key = ngxconf_full_path(st->conf, key_w);
    char *pw = pw_w != NULL ? ngxconf_full_path(st->conf, pw_w) : NULL;
    struct pemload_pass pass = {NULL, NULL, NULL};
    struct keypair *k;
    X509 *x = NULL;
    EVP_PKEY *pk = NULL;
    char *why;

    for (size_t i = 0; i < st->nkp; i++) {
        if (st->kp[i].fam == fam && strcmp(st->kp[i].cert, cert) == 0 &&
            strcmp(st->kp[i].key, key) == 0 &&
            (pw == NULL ? st->kp[i].pw == NULL
                        : st->kp[i].pw != NULL && strcmp(st->kp[i].pw, pw) == 0)) {
            free(cert);
            free(key);
            free(pw);
            return &st->kp[i];
        }
    }
    st->kp = xreallocarray(st->kp, st->nkp + 1, sizeof(*st->kp));
    k = &st->kp[st->nkp++];
    k->cert = cert;
    k->key = key;
    k->pw = pw;
    k->problem = NULL;
    k->fam = fam;
    if ((k->problem = file_problem(cert)) != NULL || (k->problem = file_problem(key)) != NULL)
        return k;
    if (pemload_cert(cert, &x, NULL, NULL) != PEMLOAD_OK) {
        why = tlserr_reason();
        k->problem = xasprintf("\"%s\" holds no readable certificate (%s)", cert, why);
        free(why);
        goto out;
    }
    if (pw != NULL && pemload_pass_file(pw, &pass, &why) != 0) {
        k->problem = xasprintf("%s: %s", sslconf_directive(fam, PSS_PASSWORD_FILE), why);
        free(why);
        goto out;
    }
    char *kcause = NULL;
    int krc = pemload_key(key, &pass, &pk, pw != NULL ? &kcause : NULL);
    switch (krc) {
    case PEMLOAD_OK:
        break;
    case PEMLOAD_ERR_ENCRYPTED:
        free(kcause);
        k->problem = xasprintf("\"%s\" is encrypted with a passphrase and no "
                               "%s is set: nginx -t refuses it",
                               key, sslconf_directive(fam, PSS_PASSWORD_FILE));
        goto out;
    default:
        if (kcause != NULL) { /* names the password file when a passphrase was tried */
            k->problem = kcause;
            goto out;
        }
        why = tlserr_reason();
        k->problem = xasprintf("\"%s\" holds no readable private key (%s)", key, why);
        free(why);
        goto out;
    }
    if (X509_check_private_key(x, pk) != 1)
        k->problem = xasprintf("the key \"%s\" does not match the certificate \"%s\"", key, cert);
out:
    pemload_pass_free(&pass);
    tlserr_clear();
    X509_free(x);
    EVP_PKEY_free(pk);
    return k;
}

/* ---- findings ---- */

static void
add(struct check_state *st, const char *rule, enum check_severity sev, const char *file,
    unsigned line, const char *context, char *message, const char *fix)
{
    struct check_report *r = st->r;
    struct check_finding *f;

    if ((r->nfindings & (r->nfindings - 1)) == 0) /* grow at powers of two */
        r->findings =
            xreallocarray(r->findings, r->nfindings ? r->nfindings * 2 : 16, sizeof(*r->findings));
    f = &r->findings[r->nfindings++];
    f->rule = rule;
    f->severity = sev;
    f->file = xstrdup(file != NULL ? file : "");
    f->line = line;
    f->context = xstrdup(context != NULL ? context : "");
    f->message = message;
    f->fix = sslconf_respell(st->fam, fix); /* the fixes are written in the proxy spelling */
}

/* add() for the rules written in the proxy_ssl_* spelling (TT009, TT010): the message and
 * the fix name the directives of the use's family (st->fam). */
static void
add_fam(struct check_state *st, const char *rule, enum check_severity sev, const char *file,
        unsigned line, const char *context, char *message, const char *fix)
{
    char *m = sslconf_respell(st->fam, message);

    free(message);
    add(st, rule, sev, file, line, context, m, fix);
}

static bool
is_on(const struct pss_value *v)
{
    return v->value != NULL && strcmp(v->value, "on") == 0;
}

static char *
targets_str(const struct tls_use *u)
{
    struct buf b = BUF_INIT;
    if (u->kind == RESOLVE_VARIABLE) {
        buf_addf(&b, "%s (a variable)", u->proxy_host);
        return buf_detach(&b);
    }
    for (size_t i = 0; i < u->ntargets && i < 3; i++)
        buf_addf(&b, "%s%s:%u", i ? ", " : "", u->targets[i].host, u->targets[i].port);
    if (u->ntargets > 3)
        buf_addf(&b, " and %zu more", u->ntargets - 3);
    if (u->ntargets == 0)
        buf_adds(&b, u->proxy_host != NULL ? u->proxy_host : "?");
    return buf_detach(&b);
}

static const char *
where_block(const struct pss_value *v, const struct tls_use *u)
{
    return v->origin == PSS_INHERITED && v->block != NULL ? v->block : u->context;
}

static void
ip_rule(struct check_state *st)
{
    char *cause = NULL;

    if (st->have_version)
        return;
    st->have_version = true;
    if (st->opts->nginx != NULL && nginxbin_version(st->opts->nginx, &st->version, &cause) == 0) {
        st->r->ip_rule =
            xasprintf("nginx %s: %s", st->version.version, nginxbin_ip_rule(&st->version));
        return;
    }
    memset(&st->version, 0, sizeof(st->version));
    st->version.major = 1;
    st->version.minor = 22;
    st->version.patch = 1;
    snprintf(st->version.version, sizeof(st->version.version), "1.22.1");
    st->r->ip_rule = xasprintf("%s%s; applied the nginx 1.22 rule: %s",
                               st->opts->nginx != NULL ? "could not read the nginx version: "
                                                       : "no nginx binary given",
                               cause != NULL ? cause : "", nginxbin_ip_rule(&st->version));
    free(cause);
}

static char *twin_hint(const struct tls_use *u);

static void
check_use(struct check_state *st, const struct tls_use *u)
{
    const struct proxy_ssl_settings *s = &u->ssl;
    const struct pss_value *verify = &s->v[PSS_VERIFY], *trusted = &s->v[PSS_TRUSTED_CERTIFICATE];
    const struct pss_value *name = &s->v[PSS_NAME], *sni = &s->v[PSS_SERVER_NAME];
    const struct pss_value *cert = &s->v[PSS_CERTIFICATE], *key = &s->v[PSS_CERTIFICATE_KEY];
    const char *ppfile = u->proxy_pass->file->path;
    unsigned ppline = u->proxy_pass->line;
    char *tg = targets_str(u);
    enum pss_family fam = s->family;
    const char *d_verify = sslconf_directive(fam, PSS_VERIFY);
    const char *d_trusted = sslconf_directive(fam, PSS_TRUSTED_CERTIFICATE);
    const char *d_name = sslconf_directive(fam, PSS_NAME);
    const char *d_cert = sslconf_directive(fam, PSS_CERTIFICATE);
    const char *d_key = sslconf_directive(fam, PSS_CERTIFICATE_KEY);
    const char *d_sni = sslconf_directive(fam, PSS_SERVER_NAME);

    st->fam = fam;

    /* TT001 / TT002 / TT003 */
    if (verify->origin != PSS_DEFAULT && !is_on(verify)) {
        add(st, "TT001", CHECK_ERROR, verify->file, verify->line, where_block(verify, u),
            xasprintf("%s %s for the TLS upstream %s: nginx accepts any "
                      "certificate, so whoever answers on that address gets the requests",
                      d_verify, verify->value, tg),
            "set \"proxy_ssl_verify on;\" with \"proxy_ssl_trusted_certificate\" naming the CA "
            "(or the pinned certificate) that issued the upstream's certificate");
    } else if (verify->origin == PSS_DEFAULT) {
        add(st, "TT002", CHECK_WARNING, ppfile, ppline, u->context,
            xasprintf("the TLS upstream %s is used without certificate verification "
                      "(%s is off by default)",
                      tg, d_verify),
            "add \"proxy_ssl_verify on;\" and \"proxy_ssl_trusted_certificate FILE;\" with the "
            "CA that issued the upstream's certificate");
    } else if (trusted->origin == PSS_DEFAULT) {
        char *hint = twin_hint(u);
        add(st, "TT003", CHECK_ERROR, verify->file, verify->line, where_block(verify, u),
            xasprintf("%s on without %s: nginx -t refuses it (\"no %s for %s\")%s", d_verify,
                      d_trusted, d_trusted, d_verify, hint),
            "add \"proxy_ssl_trusted_certificate FILE;\" naming the CA that issued the "
            "upstream's certificate");
        free(hint);
    }

    /* TT004 */
    if (is_on(verify)) {
        const char *n = NULL;
        bool explicit_name = name->origin != PSS_DEFAULT;
        if (explicit_name)
            n = strchr(name->value, '$') == NULL ? name->value : NULL;
        else if (u->kind == RESOLVE_LITERAL)
            n = u->proxy_host;
        if (n != NULL && addr_is_ip(n)) {
            ip_rule(st);
            if (!nginxbin_checks_ip_san(&st->version)) {
                add(st, "TT004", CHECK_ERROR, explicit_name ? name->file : ppfile,
                    explicit_name ? name->line : ppline,
                    explicit_name ? where_block(name, u) : u->context,
                    xasprintf("verification is on and the name checked is the IP literal %s%s%s): "
                              "nginx %s checks names against DNS SANs only, so the "
                              "handshake will fail with 'upstream SSL certificate does not "
                              "match \"%s\"'",
                              n, explicit_name ? " (" : " (no ", d_name, st->version.version, n),
                    "set \"proxy_ssl_name NAME;\" to a DNS name in the upstream certificate's "
                    "SAN, and \"proxy_ssl_server_name on;\" if the upstream picks its "
                    "certificate by SNI");
            }
        }
    }

    /* TT005 / TT006 */
    if (trusted->origin != PSS_DEFAULT && trusted->value != NULL &&
        strchr(trusted->value, '$') == NULL) {
        struct trusted_file *t = trusted_load(st, trusted->value);
        if (t->problem != NULL) {
            add(st, "TT005", CHECK_ERROR, trusted->file, trusted->line, where_block(trusted, u),
                xasprintf("%s %s", d_trusted, t->problem),
                "point proxy_ssl_trusted_certificate at a readable PEM file holding the CA "
                "that issued the upstream's certificate");
        } else if (t->nexpired > 0) {
            add(st, "TT006", CHECK_ERROR, trusted->file, trusted->line, where_block(trusted, u),
                xasprintf("%d of %d certificates in \"%s\" have expired (%s)", t->nexpired,
                          t->ncerts, t->path, t->first_bad),
                "replace the expired certificate in the trusted file with the CA's current one");
        } else if (t->nexpiring > 0) {
            add(st, "TT006", CHECK_WARNING, trusted->file, trusted->line, where_block(trusted, u),
                xasprintf("%d of %d certificates in \"%s\" expire within %d days (%s)",
                          t->nexpiring, t->ncerts, t->path,
                          st->opts->expiry_days > 0 ? st->opts->expiry_days : 30, t->first_bad),
                "add the CA's renewed certificate to the trusted file before the old one "
                "expires");
        }
    }

    /* TT007 */
    if (cert->origin != PSS_DEFAULT && strchr(cert->value, '$') == NULL &&
        strncmp(cert->value, "data:", 5) != 0) {
        if (key->origin == PSS_DEFAULT) {
            add(st, "TT007", CHECK_ERROR, cert->file, cert->line, where_block(cert, u),
                xasprintf("%s %s without %s: nginx -t refuses it", d_cert, cert->value, d_key),
                "add \"proxy_ssl_certificate_key FILE;\" naming the client certificate's "
                "private key");
        } else if (strchr(key->value, '$') == NULL && strncmp(key->value, "data:", 5) != 0) {
            const struct pss_value *pwf = &s->v[PSS_PASSWORD_FILE];
            struct keypair *k = keypair_load(
                st, fam, cert->value, key->value,
                pwf->origin != PSS_DEFAULT && strchr(pwf->value, '$') == NULL ? pwf->value : NULL);
            if (k->problem != NULL)
                add(st, "TT007", CHECK_ERROR, key->file, key->line, where_block(key, u),
                    xasprintf("%s: %s", d_key, k->problem),
                    "point proxy_ssl_certificate_key at the private key of the client "
                    "certificate (openssl x509 -noout -pubkey and openssl pkey -pubout must "
                    "agree)");
        }
    }

    /* TT008 */
    if (name->origin != PSS_DEFAULT && name->value != NULL && strchr(name->value, '$') == NULL &&
        !addr_is_ip(name->value) && !is_on(sni)) {
        add(st, "TT008", CHECK_WARNING, name->file, name->line, where_block(name, u),
            xasprintf("%s %s is a DNS name but %s is off: the "
                      "name is checked but not sent as SNI, so an upstream that picks its "
                      "certificate by SNI presents its default one",
                      d_name, name->value, d_sni),
            "add \"proxy_ssl_server_name on;\" next to proxy_ssl_name");
    }
    free(tg);
    st->fam = PSS_FAM_PROXY;
}

/* ---- TT009: nginx's own TLS server directives taken for the upstream's ---- */

enum twin_kind {
    TWIN_CLIENT_VERIFY, /* serves nginx's own server only while it verifies its clients */
    TWIN_SERVER,        /* serves nginx's own TLS server (a listen ... ssl) */
    TWIN_VERIFY,        /* ssl_verify_client: verifies clients, never the upstream */
};

static const struct {
    enum pss k;
    const char *ssl;
    enum twin_kind kind;
    const char *does; /* what the ssl_* directive sets */
} twins[] = {
    {PSS_TRUSTED_CERTIFICATE, "ssl_trusted_certificate", TWIN_CLIENT_VERIFY,
     "the CA certificates nginx's own TLS server checks its clients' certificates (and OCSP "
     "responses) with"},
    {PSS_TRUSTED_CERTIFICATE, "ssl_client_certificate", TWIN_CLIENT_VERIFY,
     "the CA certificates nginx's own TLS server checks its clients' certificates with"},
    {PSS_VERIFY_DEPTH, "ssl_verify_depth", TWIN_CLIENT_VERIFY,
     "how deep nginx's own TLS server checks its clients' certificate chains"},
    {PSS_CRL, "ssl_crl", TWIN_CLIENT_VERIFY,
     "the CRL nginx's own TLS server checks its clients' certificates against"},
    {PSS_VERIFY, "ssl_verify_client", TWIN_VERIFY,
     "whether nginx's own TLS server checks its clients' certificates"},
    {PSS_CERTIFICATE, "ssl_certificate", TWIN_SERVER,
     "the certificate nginx's own TLS server presents to its clients"},
    {PSS_CERTIFICATE_KEY, "ssl_certificate_key", TWIN_SERVER,
     "the key of the certificate nginx's own TLS server presents"},
    {PSS_PASSWORD_FILE, "ssl_password_file", TWIN_SERVER,
     "the passphrases of nginx's own TLS server keys"},
    {PSS_PROTOCOLS, "ssl_protocols", TWIN_SERVER,
     "the protocols nginx's own TLS server accepts from its clients"},
    {PSS_CIPHERS, "ssl_ciphers", TWIN_SERVER,
     "the ciphers nginx's own TLS server accepts from its clients"},
};

/* The directive name in force at block: set in it or the nearest enclosing block (nginx's
 * inheritance; included files are transparent), or NULL. */
static const struct ngx_node *
scope_find(const struct ngx_node *block, const char *name)
{
    for (const struct ngx_node *b = block; b != NULL; b = b->parent) {
        for (const struct ngx_node *k = b->kids; k != NULL; k = k->next) {
            if (!k->block && strcmp(k->name, name) == 0)
                return k;
        }
    }
    return NULL;
}

static bool
value_on(const struct ngx_node *d)
{
    return d != NULL && strcmp(d->value, "off") != 0;
}

/* Whether server block srv is a TLS server (listen ... ssl, or ssl on in force). */
static bool
server_is_tls(const struct ngx_node *srv)
{
    const struct ngx_node *ssl = scope_find(srv, "ssl");

    if (ssl != NULL && strcmp(ssl->value, "on") == 0)
        return true;
    for (const struct ngx_node *l = ngxconf_find(srv, "listen"); l != NULL;
         l = ngxconf_find_next(l)) {
        for (size_t i = 0; i < l->nargs; i++) {
            if (strcmp(l->args[i], "ssl") == 0)
                return true;
        }
    }
    return false;
}

/* Whether the ssl_* directive d, in force in server srv, does something for it there: srv
 * is a TLS server and, for the client-verification directives, verifies its clients (or
 * OCSP responses, for ssl_trusted_certificate). */
static bool
serves_server(const struct ngx_node *srv, const struct ngx_node *d, enum twin_kind kind)
{
    if (scope_find(srv, d->name) != d || !server_is_tls(srv))
        return false;
    if (kind != TWIN_CLIENT_VERIFY || value_on(scope_find(srv, "ssl_verify_client")))
        return true;
    return strcmp(d->name, "ssl_trusted_certificate") == 0 &&
           value_on(scope_find(srv, "ssl_stapling_verify"));
}

/* Whether d serves nginx's own TLS server anywhere: its own server, or, set at http / stream
 * level, any server there that inherits it. Then it is no confusion (a shared http-level
 * ssl_certificate of the TLS servers is not meant for an upstream). */
static bool
serves_own_server(const struct ngx_node *d, enum twin_kind kind)
{
    const struct ngx_node *p = d->parent;

    if (p == NULL)
        return false;
    if (strcmp(p->name, "server") == 0)
        return serves_server(p, d, kind);
    for (const struct ngx_node *k = p->kids; k != NULL; k = k->next) {
        if (k->block && strcmp(k->name, "server") == 0 && serves_server(k, d, kind))
            return true;
    }
    return false;
}

const struct ngx_node *
check_server_twin(const struct tls_use *u, enum pss k)
{
    if (k < 0 || k >= PSS__COUNT || u->ssl.v[k].origin != PSS_DEFAULT)
        return NULL;
    for (size_t i = 0; i < sizeof(twins) / sizeof(twins[0]); i++) {
        const struct ngx_node *d;
        if (twins[i].k == k && (d = scope_find(u->block, twins[i].ssl)) != NULL)
            return d;
    }
    return NULL;
}

/* " ssl_trusted_certificate (FILE:LINE) ..." for TT003's message, or "". Caller frees. */
static char *
twin_hint(const struct tls_use *u)
{
    const struct ngx_node *d = check_server_twin(u, PSS_TRUSTED_CERTIFICATE);

    if (d == NULL)
        return xstrdup("");
    return xasprintf("; the %s at %s:%u applies to nginx's own clients, not to the upstream: "
                     "write \"%s %s;\" (TT009)",
                     d->name, d->file->path, d->line,
                     sslconf_directive(u->ssl.family, PSS_TRUSTED_CERTIFICATE), d->value);
}

static void
check_twins(struct check_state *st, const struct tls_use *u)
{
    const struct pss_value *verify = &u->ssl.v[PSS_VERIFY];
    bool verifies = is_on(verify);
    size_t first = st->r->nfindings; /* this use's TT009 findings start here */

    st->fam = u->ssl.family;

    for (size_t i = 0; i < sizeof(twins) / sizeof(twins[0]); i++) {
        const struct ngx_node *d = scope_find(u->block, twins[i].ssl);
        const struct pss_value *v = &u->ssl.v[twins[i].k];
        const char *proxy = pss_defs[twins[i].k].directive;
        const char *where =
            d != NULL && d->parent != NULL && d->parent->label != NULL ? d->parent->label : "main";
        char *tg, *msg, *fix;

        if (d == NULL || v->origin != PSS_DEFAULT || serves_own_server(d, twins[i].kind))
            continue;
        /* ssl_verify_client: verification never turned on; the others: verification on */
        if (twins[i].kind == TWIN_VERIFY ? !value_on(d) : !verifies)
            continue;
        tg = targets_str(u);
        if (twins[i].kind == TWIN_VERIFY) {
            msg = xasprintf("%s %s (%s:%u, in %s) sets %s, not the upstream's: %s proxies to %s "
                            "with proxy_ssl_verify off (nginx's default), so the upstream's "
                            "certificate is never checked",
                            d->name, d->value, d->file->path, d->line, where, twins[i].does,
                            u->context, tg);
            fix = xstrdup("add \"proxy_ssl_verify on;\" and \"proxy_ssl_trusted_certificate "
                          "FILE;\" (the CA of the upstream's certificate) where the proxy_pass "
                          "is");
        } else {
            const char *dflt = pss_defs[twins[i].k].default_value;
            char *after = twins[i].k == PSS_TRUSTED_CERTIFICATE
                              ? xstrdup(": nginx -t refuses it (\"no "
                                        "proxy_ssl_trusted_certificate for proxy_ssl_verify\")")
                          : dflt != NULL ? xasprintf(": nginx's default %s %s applies", proxy, dflt)
                                         : xstrdup("");
            msg = xasprintf("%s (%s:%u, in %s) sets %s, not the upstream connection: %s "
                            "verifies %s with proxy_ssl_verify on, and no %s applies to it%s",
                            d->name, d->file->path, d->line, where, twins[i].does, u->context, tg,
                            proxy, after);
            fix = xasprintf("write \"%s %s;\" instead (next to proxy_ssl_verify, or in %s to "
                            "cover every location below it); keep %s only for nginx's own "
                            "clients",
                            proxy, d->value, where, d->name);
            free(after);
        }
        char *respelled = sslconf_respell(st->fam, msg); /* grpc_ssl_* in a grpc use */
        free(msg);
        msg = respelled;
        enum check_severity sev =
            twins[i].k == PSS_TRUSTED_CERTIFICATE && verifies ? CHECK_ERROR : CHECK_WARNING;
        /* one finding per file:line (findings are kept one per rule and place): directives
         * sharing a line (one-line blocks) are joined into it */
        struct check_finding *f = NULL;
        for (size_t j = first; j < st->r->nfindings; j++) {
            if (st->r->findings[j].line == d->line &&
                strcmp(st->r->findings[j].file, d->file->path) == 0)
                f = &st->r->findings[j];
        }
        if (f != NULL) {
            char *ff = sslconf_respell(st->fam, fix);
            char *m = xasprintf("%s; %s", f->message, msg), *x = xasprintf("%s; %s", f->fix, ff);
            free(ff);
            free(f->message);
            free(f->fix);
            f->message = m;
            f->fix = x;
            if (sev == CHECK_ERROR)
                f->severity = sev;
            free(msg);
        } else
            add(st, "TT009", sev, d->file->path, d->line, where, msg, fix);
        free(fix);
        free(tg);
    }
}

/* ---- TT010: the proxy_ssl_crl file ---- */

#define CRL_SOON_DAYS 3

static struct crl_file *
crl_load(struct check_state *st, const char *written)
{
    char *path = ngxconf_full_path(st->conf, written);
    struct crl_file *f;

    for (size_t i = 0; i < st->ncf; i++) {
        if (strcmp(st->cf[i].path, path) == 0) {
            free(path);
            return &st->cf[i];
        }
    }
    st->cf = xreallocarray(st->cf, st->ncf + 1, sizeof(*st->cf));
    f = &st->cf[st->ncf++];
    memset(f, 0, sizeof(*f));
    f->path = path;
    if (certinfo_load_crl(path, &f->crls, &f->problem) != 0)
        f->crls = NULL;
    return f;
}

/* Whether some CRL of crls is issued by (names, and is signed by) a certificate of the
 * trusted file: -1 when the trusted file cannot be read (TT005 says why). */
static int
crl_from_trusted(const struct check_state *st, STACK_OF(X509_CRL) * crls, const char *trusted_w)
{
    char *path = ngxconf_full_path(st->conf, trusted_w), *cause = NULL;
    STACK_OF(X509) *sk = NULL;
    int found = 0;

    if (certinfo_load_pem(path, &sk, &cause) != 0 || sk_X509_num(sk) == 0) {
        free(cause);
        free(path);
        sk_X509_pop_free(sk, X509_free);
        return -1;
    }
    for (int i = 0; !found && i < sk_X509_num(sk); i++) {
        X509 *t = sk_X509_value(sk, i);
        for (int j = 0; !found && j < sk_X509_CRL_num(crls); j++) {
            X509_CRL *c = sk_X509_CRL_value(crls, j);
            found = X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_subject_name(t)) == 0 &&
                    X509_get0_pubkey(t) != NULL && X509_CRL_verify(c, X509_get0_pubkey(t)) == 1;
        }
    }
    tlserr_clear();
    sk_X509_pop_free(sk, X509_free);
    free(path);
    return found;
}

static void
check_crl(struct check_state *st, const struct tls_use *u)
{
    const struct pss_value *crl = &u->ssl.v[PSS_CRL], *tr = &u->ssl.v[PSS_TRUSTED_CERTIFICATE];
    struct buf err = BUF_INIT, warn = BUF_INIT;
    struct crl_file *f;
    time_t soon = st->now + (time_t)CRL_SOON_DAYS * 86400;

    st->fam = u->ssl.family;

    /* nginx loads proxy_ssl_crl only under proxy_ssl_verify on (and checks nothing else) */
    if (!is_on(&u->ssl.v[PSS_VERIFY]) || crl->origin == PSS_DEFAULT || crl->value == NULL ||
        strchr(crl->value, '$') != NULL)
        return;
    f = crl_load(st, crl->value);
    if (f->problem != NULL) {
        add_fam(st, "TT010", CHECK_ERROR, crl->file, crl->line, where_block(crl, u),
                xasprintf("proxy_ssl_crl: nginx -t refuses it: %s", f->problem),
                "point proxy_ssl_crl at a PEM file holding the current CRL of each CA in the "
                "upstream's chain");
        return;
    }
    for (int i = 0; i < sk_X509_CRL_num(f->crls); i++) {
        X509_CRL *c = sk_X509_CRL_value(f->crls, i);
        const ASN1_TIME *last = X509_CRL_get0_lastUpdate(c), *next = X509_CRL_get0_nextUpdate(c);
        char *iss = subject_of_name(X509_CRL_get_issuer(c));
        char *t;
        if (last != NULL && X509_cmp_time(last, &st->now) > 0) {
            t = asn1_time_str(last);
            buf_addf(&err,
                     "%sthe CRL from %s is not valid before %s: handshakes through a "
                     "certificate it covers fail with (11:CRL is not yet valid)",
                     err.len ? "; " : "", iss, t);
            free(t);
        } else if (next != NULL && X509_cmp_time(next, &st->now) < 0) {
            t = asn1_time_str(next);
            buf_addf(&err,
                     "%sthe CRL from %s expired %s (its next update): every handshake "
                     "through a certificate it covers fails with (12:CRL has expired)",
                     err.len ? "; " : "", iss, t);
            free(t);
        } else if (next != NULL && X509_cmp_time(next, &soon) < 0) {
            t = asn1_time_str(next);
            buf_addf(&warn,
                     "%sthe CRL from %s expires %s (its next update), within %d days: "
                     "then every handshake through a certificate it covers fails with "
                     "(12:CRL has expired)",
                     warn.len ? "; " : "", iss, t, CRL_SOON_DAYS);
            free(t);
        }
        free(iss);
    }
    if (tr->origin != PSS_DEFAULT && tr->value != NULL && strchr(tr->value, '$') == NULL &&
        crl_from_trusted(st, f->crls, tr->value) == 0)
        buf_addf(&err,
                 "%s\"%s\" holds no CRL issued by a CA of the trusted file \"%s\": nginx "
                 "checks the CRL of every certificate in the chain, so every handshake fails "
                 "with (3:unable to get certificate CRL)",
                 err.len ? "; " : "", f->path, tr->value);
    if (err.len > 0)
        add_fam(st, "TT010", CHECK_ERROR, crl->file, crl->line, where_block(crl, u),
                xasprintf("proxy_ssl_crl: %s", buf_str(&err)),
                "put the current CRL of each CA in the upstream's chain (the CA's latest one, "
                "fetched before its next update) into the proxy_ssl_crl file, then reload nginx");
    else if (warn.len > 0)
        add_fam(st, "TT010", CHECK_WARNING, crl->file, crl->line, where_block(crl, u),
                xasprintf("proxy_ssl_crl: %s", buf_str(&warn)),
                "fetch the CA's next CRL into the proxy_ssl_crl file and reload nginx before the "
                "current one expires (automate it: a cron job or the PKI's CRL distribution)");
    buf_free(&err);
    buf_free(&warn);
}

static int
finding_cmp(const void *a, const void *b)
{
    const struct check_finding *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    if (c != 0)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    c = strcmp(x->rule, y->rule);
    if (c != 0)
        return c;
    return (int)y->severity - (int)x->severity; /* errors first */
}

static void
finding_clear(struct check_finding *f)
{
    free(f->file);
    free(f->context);
    free(f->message);
    free(f->fix);
}

/* ---- TT011: directives the running nginx does not have ---- */

/* The version of opts->nginx, read once and only when a directive with a limit is set; NULL
 * when it cannot be known (no binary, nginx -V failed): then nginx -t is the judge. */
static const struct nginx_version *
directive_version(struct check_state *st)
{
    char *cause = NULL;

    if (st->dir_version == 0) {
        st->dir_version = -1;
        if (st->opts->nginx != NULL &&
            nginxbin_version(st->opts->nginx, &st->dversion, &cause) == 0)
            st->dir_version = 1;
        free(cause);
    }
    return st->dir_version == 1 ? &st->dversion : NULL;
}

static void
check_versions(struct check_state *st, const struct tls_use *u)
{
    const struct nginx_version *v;
    const char *pass = u->proxy_pass != NULL ? u->proxy_pass->name : NULL;

    st->fam = u->ssl.family;
    if (pass != NULL && nginxbin_directive_since(pass) != NULL && (v = directive_version(st)) &&
        !nginxbin_has_directive(v, pass))
        add(st, "TT011", CHECK_ERROR, u->proxy_pass->file->path, u->proxy_pass->line, u->context,
            xasprintf("%s is in nginx from %s; nginx %s does not have it: nginx -t refuses it: "
                      "unknown directive \"%s\"",
                      pass, nginxbin_directive_since(pass), v->version, pass),
            "upgrade nginx, or proxy to this upstream with a module this nginx has");
    for (int k = 0; k < PSS__COUNT; k++) {
        const struct pss_value *pv = &u->ssl.v[k];
        const char *d = sslconf_directive(u->ssl.family, (enum pss)k);
        if (pv->origin == PSS_DEFAULT || pv->file == NULL || nginxbin_directive_since(d) == NULL ||
            (v = directive_version(st)) == NULL || nginxbin_has_directive(v, d))
            continue;
        add(st, "TT011", CHECK_ERROR, pv->file, pv->line, where_block(pv, u),
            xasprintf("%s is in nginx from %s; nginx %s does not have it: nginx -t refuses it: "
                      "unknown directive \"%s\"",
                      d, nginxbin_directive_since(d), v->version, d),
            "upgrade nginx, or remove the directive (its job cannot be done on this version)");
    }
    /* *_ssl_conf_command is no setting of the model (the probe applies it as it stands) */
    char *cc = sslconf_respell(u->ssl.family, "proxy_ssl_conf_command");
    const struct ngx_node *d = scope_find(u->block, cc);
    if (d != NULL && (v = directive_version(st)) != NULL && !nginxbin_has_directive(v, cc))
        add(st, "TT011", CHECK_ERROR, d->file->path, d->line, u->context,
            xasprintf("%s is in nginx from %s; nginx %s does not have it: nginx -t refuses it: "
                      "unknown directive \"%s\"",
                      cc, nginxbin_directive_since(cc), v->version, cc),
            "upgrade nginx, or remove the directive (its job cannot be done on this version)");
    free(cc);
}

void
check_run(const struct ngxconf *conf, const struct check_opts *opts, struct check_report *r)
{
    struct check_state st;
    struct tls_use *uses;
    size_t n, w = 0;

    memset(r, 0, sizeof(*r));
    memset(&st, 0, sizeof(st));
    st.conf = conf;
    st.opts = opts;
    st.r = r;
    st.now = opts->now != 0 ? opts->now : time(NULL);
    n = resolve_uses(conf, &uses);
    r->nuses = n;
    for (size_t i = 0; i < n; i++) {
        check_use(&st, &uses[i]);
        check_twins(&st, &uses[i]);
        check_crl(&st, &uses[i]);
        check_versions(&st, &uses[i]);
    }
    resolve_uses_free(uses, n);

    /* one finding per rule and place: inherited settings reach many locations */
    if (r->nfindings > 1)
        qsort(r->findings, r->nfindings, sizeof(*r->findings), finding_cmp);
    for (size_t i = 0; i < r->nfindings; i++) {
        if (w > 0 && strcmp(r->findings[w - 1].rule, r->findings[i].rule) == 0 &&
            r->findings[w - 1].line == r->findings[i].line &&
            strcmp(r->findings[w - 1].file, r->findings[i].file) == 0) {
            finding_clear(&r->findings[i]);
            continue;
        }
        r->findings[w++] = r->findings[i];
    }
    r->nfindings = w;
    for (size_t i = 0; i < r->nfindings; i++) {
        if (r->findings[i].severity == CHECK_ERROR)
            r->nerrors++;
    }
    for (size_t i = 0; i < st.ntf; i++) {
        free(st.tf[i].path);
        free(st.tf[i].problem);
        free(st.tf[i].first_bad);
    }
    free(st.tf);
    for (size_t i = 0; i < st.nkp; i++) {
        free(st.kp[i].cert);
        free(st.kp[i].key);
        free(st.kp[i].pw);
        free(st.kp[i].problem);
    }
    free(st.kp);
    for (size_t i = 0; i < st.ncf; i++) {
        free(st.cf[i].path);
        free(st.cf[i].problem);
        sk_X509_CRL_pop_free(st.cf[i].crls, X509_CRL_free);
    }
    free(st.cf);
}

void
check_report_free(struct check_report *r)
{
    for (size_t i = 0; i < r->nfindings; i++)
        finding_clear(&r->findings[i]);
    free(r->findings);
    free(r->ip_rule);
    memset(r, 0, sizeof(*r));
}
