/*
 * sslconf.h — the effective proxy_ssl_* settings of one block, each with its origin.
 * resolve.c produces them from the config tree; probe.c turns them into a handshake
 * and remedy.c into candidate edits. Shared so those modules need not know each other.
 */
#ifndef TT_SSLCONF_H
#define TT_SSLCONF_H

enum pss {
    PSS_VERIFY,
    PSS_TRUSTED_CERTIFICATE,
    PSS_VERIFY_DEPTH,
    PSS_NAME,
    PSS_SERVER_NAME,
    PSS_PROTOCOLS,
    PSS_CIPHERS,
    PSS_CERTIFICATE,
    PSS_CERTIFICATE_KEY,
    PSS_SESSION_REUSE,
    PSS_CRL,           /* listed by the settings printers only when set */
    PSS_PASSWORD_FILE, /* the same */
    PSS__COUNT
};

/* Whether a setting is listed even when nginx's default applies (the printers keep the
 * outputs of configs without proxy_ssl_crl / _password_file as they were). */
#define PSS_LISTED_WHEN_DEFAULT(k) ((k) != PSS_CRL && (k) != PSS_PASSWORD_FILE)

enum pss_origin {
    PSS_DEFAULT,   /* not set anywhere: nginx's default applies */
    PSS_SET,       /* set in the block itself */
    PSS_INHERITED, /* set in an enclosing block */
};

struct pss_value {
    const char *value; /* the value as written (arguments joined by one space);
                          for PSS_DEFAULT the default ("off", "1", ...) or NULL
                          where the default is derived (proxy_ssl_name = host) */
    enum pss_origin origin;
    const char *file; /* where it was set (NULL for PSS_DEFAULT) */
    unsigned line;
    const char *block; /* the block it was set in: "http", "server api.example",
                          "location /api", "stream server 127.0.0.1:8443" */
};

struct proxy_ssl_settings {
    struct pss_value v[PSS__COUNT];
};

struct pss_def {
    const char *directive;     /* "proxy_ssl_verify" */
    const char *default_value; /* nginx's default, NULL when derived */
};

/* Indexed by enum pss; defaults as in nginx 1.22 (DESIGN.md). */
extern const struct pss_def pss_defs[PSS__COUNT];

struct ngxconf;

/* The settings that name files: proxy_ssl_trusted_certificate, _certificate, _key, _crl,
 * _password_file. */
#define SSLCONF_NPATHS 5

/* Makes the file paths of s absolute as nginx reads them (a relative one is taken against
 * the config's prefix, ngxconf_full_path); nginx's defaults are left alone. owned[k] gets
 * each new string, or NULL: the caller frees them once s is no longer used. */
void sslconf_full_paths(const struct ngxconf *conf, struct proxy_ssl_settings *s,
                        char *owned[SSLCONF_NPATHS]);

#endif
