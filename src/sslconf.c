/*
 * sslconf.c — the table of proxy_ssl_* directives tlstriage tracks and nginx's defaults
 * for them, their grpc_ssl_* / uwsgi_ssl_* spellings, and their file paths made absolute as nginx
 * reads them (for probe's and remedy's handshakes). The values themselves are computed by
 * resolve.c.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "ngxconf.h"
#include "sslconf.h"

const struct pss_def pss_defs[PSS__COUNT] = {
    [PSS_VERIFY] = {"proxy_ssl_verify", "off"},
    [PSS_TRUSTED_CERTIFICATE] = {"proxy_ssl_trusted_certificate", NULL},
    [PSS_VERIFY_DEPTH] = {"proxy_ssl_verify_depth", "1"},
    [PSS_NAME] = {"proxy_ssl_name", NULL}, /* the host of proxy_pass */
    [PSS_SERVER_NAME] = {"proxy_ssl_server_name", "off"},
    [PSS_PROTOCOLS] = {"proxy_ssl_protocols", "TLSv1 TLSv1.1 TLSv1.2"},
    [PSS_CIPHERS] = {"proxy_ssl_ciphers", "DEFAULT"},
    [PSS_CERTIFICATE] = {"proxy_ssl_certificate", NULL},
    [PSS_CERTIFICATE_KEY] = {"proxy_ssl_certificate_key", NULL},
    [PSS_SESSION_REUSE] = {"proxy_ssl_session_reuse", "on"},
    [PSS_CRL] = {"proxy_ssl_crl", NULL},
    [PSS_PASSWORD_FILE] = {"proxy_ssl_password_file", NULL},
};

/* nginx's ngx_http_{proxy,grpc,uwsgi}_module.c name the same settings per module; the table
 * below is their spelling (checked against nginx's command tables). */
static const char *const family_directives[PSS_FAM__COUNT][PSS__COUNT] = {
    [PSS_FAM_PROXY] =
        {
            [PSS_VERIFY] = "proxy_ssl_verify",
            [PSS_TRUSTED_CERTIFICATE] = "proxy_ssl_trusted_certificate",
            [PSS_VERIFY_DEPTH] = "proxy_ssl_verify_depth",
            [PSS_NAME] = "proxy_ssl_name",
            [PSS_SERVER_NAME] = "proxy_ssl_server_name",
            [PSS_PROTOCOLS] = "proxy_ssl_protocols",
            [PSS_CIPHERS] = "proxy_ssl_ciphers",
            [PSS_CERTIFICATE] = "proxy_ssl_certificate",
            [PSS_CERTIFICATE_KEY] = "proxy_ssl_certificate_key",
            [PSS_SESSION_REUSE] = "proxy_ssl_session_reuse",
            [PSS_CRL] = "proxy_ssl_crl",
            [PSS_PASSWORD_FILE] = "proxy_ssl_password_file",
        },
    [PSS_FAM_GRPC] =
        {
            [PSS_VERIFY] = "grpc_ssl_verify",
            [PSS_TRUSTED_CERTIFICATE] = "grpc_ssl_trusted_certificate",
            [PSS_VERIFY_DEPTH] = "grpc_ssl_verify_depth",
            [PSS_NAME] = "grpc_ssl_name",
            [PSS_SERVER_NAME] = "grpc_ssl_server_name",
            [PSS_PROTOCOLS] = "grpc_ssl_protocols",
            [PSS_CIPHERS] = "grpc_ssl_ciphers",
            [PSS_CERTIFICATE] = "grpc_ssl_certificate",
            [PSS_CERTIFICATE_KEY] = "grpc_ssl_certificate_key",
            [PSS_SESSION_REUSE] = "grpc_ssl_session_reuse",
            [PSS_CRL] = "grpc_ssl_crl",
            [PSS_PASSWORD_FILE] = "grpc_ssl_password_file",
        },
    [PSS_FAM_UWSGI] =
        {
            [PSS_VERIFY] = "uwsgi_ssl_verify",
            [PSS_TRUSTED_CERTIFICATE] = "uwsgi_ssl_trusted_certificate",
            [PSS_VERIFY_DEPTH] = "uwsgi_ssl_verify_depth",
            [PSS_NAME] = "uwsgi_ssl_name",
            [PSS_SERVER_NAME] = "uwsgi_ssl_server_name",
            [PSS_PROTOCOLS] = "uwsgi_ssl_protocols",
            [PSS_CIPHERS] = "uwsgi_ssl_ciphers",
            [PSS_CERTIFICATE] = "uwsgi_ssl_certificate",
            [PSS_CERTIFICATE_KEY] = "uwsgi_ssl_certificate_key",
            [PSS_SESSION_REUSE] = "uwsgi_ssl_session_reuse",
            [PSS_CRL] = "uwsgi_ssl_crl",
            [PSS_PASSWORD_FILE] = "uwsgi_ssl_password_file",
        },
};

static const struct {
    const char *name, *pass, *scheme;
} families[PSS_FAM__COUNT] = {
    [PSS_FAM_PROXY] = {"proxy", "proxy_pass", "https://"},
    [PSS_FAM_GRPC] = {"grpc", "grpc_pass", "grpcs://"},
    [PSS_FAM_UWSGI] = {"uwsgi", "uwsgi_pass", "suwsgi://"},
};

static enum pss_family
fam_ok(enum pss_family fam)
{
    return (unsigned)fam < PSS_FAM__COUNT ? fam : PSS_FAM_PROXY;
}

const char *
sslconf_directive(enum pss_family fam, enum pss k)
{
    if ((unsigned)k >= PSS__COUNT)
        return "?";
    return family_directives[fam_ok(fam)][k];
}

const char *
sslconf_family_name(enum pss_family fam)
{
    return families[fam_ok(fam)].name;
}

const char *
sslconf_pass_directive(enum pss_family fam)
{
    return families[fam_ok(fam)].pass;
}

const char *
sslconf_tls_scheme(enum pss_family fam)
{
    return families[fam_ok(fam)].scheme;
}

enum pss_family
sslconf_family_of_scheme(const char *scheme)
{
    for (int f = 0; scheme != NULL && f < PSS_FAM__COUNT; f++) {
        size_t n = strlen(families[f].scheme) - 3; /* without "://" */
        if (strlen(scheme) == n && strncasecmp(scheme, families[f].scheme, n) == 0)
            return (enum pss_family)f;
    }
    return PSS_FAM_PROXY;
}

int
sslconf_family_of_pass(const char *name)
{
    for (int f = 0; f < PSS_FAM__COUNT; f++) {
        if (strcmp(name, families[f].pass) == 0)
            return f;
    }
    return -1;
}

int
sslconf_key_of(const char *directive, enum pss_family *fam)
{
    for (int f = 0; f < PSS_FAM__COUNT; f++) {
        for (int k = 0; k < PSS__COUNT; k++) {
            if (strcmp(directive, family_directives[f][k]) == 0) {
                if (fam != NULL)
                    *fam = (enum pss_family)f;
                return k;
            }
        }
    }
    return -1;
}

char *
sslconf_respell(enum pss_family fam, const char *text)
{
    const char *from[] = {"proxy_ssl_", "proxy_pass", "https://", "proxy_connect_timeout"};
    const char *to[] = {NULL, sslconf_pass_directive(fam), sslconf_tls_scheme(fam), NULL};
    char prefix[16], timeout[32];
    struct buf b = BUF_INIT;

    if (text == NULL)
        return NULL;
    snprintf(prefix, sizeof(prefix), "%s_ssl_", sslconf_family_name(fam));
    snprintf(timeout, sizeof(timeout), "%s_connect_timeout", sslconf_family_name(fam));
    to[0] = prefix;
    to[3] = timeout;
    while (*text != '\0') {
        size_t i;
        for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
            size_t n = strlen(from[i]);
            if (fam_ok(fam) != PSS_FAM_PROXY && strncmp(text, from[i], n) == 0) {
                buf_adds(&b, to[i]);
                text += n;
                break;
            }
        }
        if (i == sizeof(from) / sizeof(from[0]))
            buf_addc(&b, *text++);
    }
    return buf_detach(&b);
}

const char *
sslconf_since(enum pss_family fam, enum pss k)
{
    switch (fam_ok(fam)) {
    case PSS_FAM_GRPC:
        return "1.13.10"; /* the module, with all of its grpc_ssl_* */
    case PSS_FAM_UWSGI:
        /* uwsgi_ssl_* came in 1.5.8; verify, trusted, crl, name, server_name in 1.7.0;
         * certificate, key, password_file in 1.7.8 */
        if (k == PSS_CERTIFICATE || k == PSS_CERTIFICATE_KEY || k == PSS_PASSWORD_FILE)
            return "1.7.8";
        return k == PSS_PROTOCOLS || k == PSS_CIPHERS || k == PSS_SESSION_REUSE ? "1.5.8" : "1.7.0";
    default:
        return NULL;
    }
}

void
sslconf_full_paths(const struct ngxconf *conf, struct proxy_ssl_settings *s,
                   char *owned[SSLCONF_NPATHS])
{
    static const enum pss keys[SSLCONF_NPATHS] = {PSS_TRUSTED_CERTIFICATE, PSS_CERTIFICATE,
                                                  PSS_CERTIFICATE_KEY, PSS_CRL, PSS_PASSWORD_FILE};

    for (int k = 0; k < SSLCONF_NPATHS; k++) {
        owned[k] = NULL;
        if (s->v[keys[k]].value != NULL && s->v[keys[k]].origin != PSS_DEFAULT) {
            owned[k] = ngxconf_full_path(conf, s->v[keys[k]].value);
            s->v[keys[k]].value = owned[k];
        }
    }
}
