/*
 * sslconf.h — the effective proxy_ssl_* settings of one block, each with its origin, and the
 * module family they belong to (proxy_ssl_*, grpc_ssl_*, uwsgi_ssl_*).
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

/* The nginx module that talks TLS to the upstream: each has its own spelling of the same
 * settings (proxy_ssl_verify, grpc_ssl_verify, uwsgi_ssl_verify) with the same defaults and
 * the same inheritance (http, server, location, if). The stream module's are proxy_ssl_*. */
enum pss_family {
    PSS_FAM_PROXY, /* proxy_pass https:// (http), proxy_pass + proxy_ssl on (stream) */
    PSS_FAM_GRPC,  /* grpc_pass grpcs:// */
    PSS_FAM_UWSGI, /* uwsgi_pass suwsgi:// */
    PSS_FAM__COUNT
};

struct proxy_ssl_settings {
    struct pss_value v[PSS__COUNT];
    enum pss_family family; /* whose directives these are (PSS_FAM_PROXY when zeroed) */
};

struct pss_def {
    const char *directive;     /* "proxy_ssl_verify" */
    const char *default_value; /* nginx's default, NULL when derived */
};

/* Indexed by enum pss; defaults as in nginx 1.22 (DESIGN.md). directive is the proxy
 * spelling: use sslconf_directive() for a use of another family. */
extern const struct pss_def pss_defs[PSS__COUNT];

/* The directive for setting k in family fam: sslconf_directive(PSS_FAM_GRPC, PSS_VERIFY) is
 * "grpc_ssl_verify". Static text. */
const char *sslconf_directive(enum pss_family fam, enum pss k);
/* "proxy", "grpc", "uwsgi" (the directives' prefix, and the JSON "family" value). */
const char *sslconf_family_name(enum pss_family fam);
/* The directive that passes the request: "proxy_pass", "grpc_pass", "uwsgi_pass". */
const char *sslconf_pass_directive(enum pss_family fam);
/* The scheme that makes it TLS, as written and as logged: "https://", "grpcs://",
 * "suwsgi://". */
const char *sslconf_tls_scheme(enum pss_family fam);
/* The family of a logged upstream's scheme ("grpcs" grpc, "suwsgi" uwsgi, else proxy). */
enum pss_family sslconf_family_of_scheme(const char *scheme);
/* The family whose pass directive is name ("grpc_pass"), or -1. */
int sslconf_family_of_pass(const char *name);
/* The setting and family a directive name spells ("uwsgi_ssl_crl" -> PSS_CRL, UWSGI), or -1.
 * The bare "proxy_ssl" (stream's on/off) is no setting: -1. */
int sslconf_key_of(const char *directive, enum pss_family *fam);
/* A static text of tlstriage's own (a cause, a hint) in fam's spelling: "proxy_ssl_" becomes
 * "grpc_ssl_", "proxy_pass" "grpc_pass", "https://" "grpcs://", proxy_connect_timeout
 * grpc_connect_timeout. Never for text from a config or
 * log. Caller frees. */
char *sslconf_respell(enum pss_family fam, const char *text);
/* The first nginx version that has directive k of fam ("1.13.10" for every grpc_ssl_*), for
 * messages that depend on the running version; NULL when every supported version has it. */
const char *sslconf_since(enum pss_family fam, enum pss k);

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
