/*
 * nginxbin.h — what the nginx binary is: its version and the OpenSSL it was built with,
 * read from `nginx -V`, and the version-dependent rules the tool applies (IP SANs).
 */
#ifndef TT_NGINXBIN_H
#define TT_NGINXBIN_H

#include <stdbool.h>

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

#endif
