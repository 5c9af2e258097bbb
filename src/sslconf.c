/*
 * sslconf.c — the table of proxy_ssl_* directives tlstriage tracks and nginx's defaults
 * for them, and their file paths made absolute as nginx reads them (for probe's and
 * remedy's handshakes). The values themselves are computed by resolve.c.
 */
#include "config.h"

#include <stddef.h>

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
