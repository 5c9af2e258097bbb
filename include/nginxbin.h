/*
 * nginxbin.h — what the nginx binary is: its version and the OpenSSL it was built with,
 * read from `nginx -V`, and the version-dependent rules the tool applies (IP SANs, the
 * default proxy_ssl_protocols, which directives exist).
 */
#ifndef TT_NGINXBIN_H
#define TT_NGINXBIN_H

#include <stdbool.h>
#include <stddef.h>

#include "sslconf.h"

struct nginx_version {
    int major, minor, patch; /* 1.22.1 */
    char version[32];        /* "1.22.1" */
    char openssl[64];        /* "OpenSSL 3.0.22 25 Aug 2026", or "" */
};

/* Parses the text nginx -V prints. Returns 0, or -1 with *cause. */
int nginxbin_parse_version(const char *text, struct nginx_version *v, char **cause);
/* Runs `NGINX -V` and parses it. */
int nginxbin_version(const char *nginx, struct nginx_version *v, char **cause);
/* Whether this nginx checks IP SANs for an IP-literal proxy_ssl_name (1.31.0 and later,
 * as nginx-tests proxy_ssl_verify.t expects). Older ones use X509_check_host only. */
bool nginxbin_checks_ip_san(const struct nginx_version *v);
/* One line saying which rule is applied, e.g. "nginx 1.22.1 checks DNS names only (before 1.31.0)".
 */
const char *nginxbin_ip_rule(const struct nginx_version *v);

/* Whether v is major.minor.patch or later. */
bool nginxbin_at_least(const struct nginx_version *v, int major, int minor, int patch);

/* nginx's default proxy_ssl_protocols (and grpc_/uwsgi_/stream's) for v: "TLSv1 TLSv1.1
 * TLSv1.2", with TLSv1.3 added from 1.23.4 (CHANGES: "now TLSv1.3 protocol is enabled by
 * default"). v NULL (version not known): 1.22's, the tool's reference. A static string. */
const char *nginxbin_default_protocols(const struct nginx_version *v);

/* Puts v's defaults into the settings nginx's default applies to (origin PSS_DEFAULT):
 * proxy_ssl_protocols. Values set in the config are left alone. */
void nginxbin_settings_defaults(const struct nginx_version *v, struct proxy_ssl_settings *s);

/* The first nginx version that knows directive (proxy_ssl_conf_command: 1.19.4, the
 * grpc_ssl_* family: 1.13.10, ...), or NULL when the tool knows no limit for it. */
const char *nginxbin_directive_since(const char *directive);
/* Whether v knows directive (true when the version or the directive's limit is unknown). */
bool nginxbin_has_directive(const struct nginx_version *v, const char *directive);

/* The version-dependent rules the tool applies, for the man page's NGINX VERSIONS table and
 * its test: since which version, and what changes. */
struct nginxbin_rule {
    const char *since; /* "1.23.4" */
    const char *what;
};
extern const struct nginxbin_rule nginxbin_rules[];
extern const size_t nginxbin_nrules;

#endif
