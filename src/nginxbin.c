/*
 * nginxbin.c — knows the nginx binary: runs `nginx -V`, parses its version and OpenSSL,
 * and answers version-dependent questions (does it verify IP SANs? its default
 * proxy_ssl_protocols? does it know a directive?). It does not read configs (ngxconf.c) or
 * run nginx -t / reload (txn.c). The rules are listed in nginxbin_rules (the man page's
 * NGINX VERSIONS table).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "nginxbin.h"
#include "spawn.h"
#include "sslconf.h"
#include "xmalloc.h"

int
nginxbin_parse_version(const char *text, struct nginx_version *v, char **cause)
{
    const char *p;

    memset(v, 0, sizeof(*v));
    if ((p = strstr(text, "nginx version: ")) == NULL ||
        (p = strchr(p + strlen("nginx version: "), '/')) == NULL ||
        sscanf(p + 1, "%d.%d.%d", &v->major, &v->minor, &v->patch) != 3) {
        *cause = xstrdup("cannot find 'nginx version: nginx/X.Y.Z' in the output of nginx -V");
        return -1;
    }
    snprintf(v->version, sizeof(v->version), "%d.%d.%d", v->major, v->minor, v->patch);
    if ((p = strstr(text, "built with ")) != NULL) {
        size_t n = strcspn(p + strlen("built with "), "\n");
        const char *s = p + strlen("built with ");
        const char *paren = memchr(s, '(', n); /* "OpenSSL 3.0.2 15 Mar 2022 (running with ...)" */
        if (paren != NULL)
            n = (size_t)(paren - s);
        while (n > 0 && s[n - 1] == ' ')
            n--;
        if (n >= sizeof(v->openssl))
            n = sizeof(v->openssl) - 1;
        memcpy(v->openssl, s, n);
        v->openssl[n] = '\0';
    }
    return 0;
}

int
nginxbin_version(const char *nginx, struct nginx_version *v, char **cause)
{
    char *argv[] = {(char *)nginx, (char *)"-V", NULL};
    struct buf out = BUF_INIT;
    struct spawn_result res;
    int rc = -1;

    if (spawn_run(argv, &out, 10000, &res, cause) != 0)
        goto out;
    if (!res.exited || res.status != 0) {
        *cause =
            xasprintf("%s -V failed (%s %d)", nginx, res.exited ? "exit" : "signal", res.status);
        goto out;
    }
    rc = nginxbin_parse_version(buf_str(&out), v, cause);
out:
    buf_free(&out);
    return rc;
}

bool
nginxbin_checks_ip_san(const struct nginx_version *v)
{
    return v->major > 1 || (v->major == 1 && v->minor >= 31);
}

const char *
nginxbin_ip_rule(const struct nginx_version *v)
{
    return nginxbin_checks_ip_san(v)
               ? "nginx >= 1.31.0: an IP-literal proxy_ssl_name is checked against IP SANs"
               : "nginx < 1.31.0: names are checked with X509_check_host (DNS SANs only); "
                 "an IP literal never matches";
}

bool
nginxbin_at_least(const struct nginx_version *v, int major, int minor, int patch)
{
    if (v->major != major)
        return v->major > major;
    if (v->minor != minor)
        return v->minor > minor;
    return v->patch >= patch;
}

const char *
nginxbin_default_protocols(const struct nginx_version *v)
{
    if (v != NULL && nginxbin_at_least(v, 1, 23, 4))
        return "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3";
    return "TLSv1 TLSv1.1 TLSv1.2";
}

void
nginxbin_settings_defaults(const struct nginx_version *v, struct proxy_ssl_settings *s)
{
    if (s->v[PSS_PROTOCOLS].origin == PSS_DEFAULT)
        s->v[PSS_PROTOCOLS].value = nginxbin_default_protocols(v);
}

/* The first version of each directive family whose availability differs among the nginx
 * versions in use (nginx's CHANGES); the longest matching prefix decides. */
static const struct {
    const char *prefix;
    const char *since;
} directive_since[] = {
    {"proxy_ssl_conf_command", "1.19.4"},
    {"grpc_ssl_conf_command", "1.19.4"},
    {"uwsgi_ssl_conf_command", "1.19.4"},
    {"proxy_ssl_certificate", "1.7.8"}, /* and _certificate_key */
    {"proxy_ssl_password_file", "1.7.8"},
    {"uwsgi_ssl_certificate", "1.7.8"},
    {"uwsgi_ssl_password_file", "1.7.8"},
    {"uwsgi_ssl_", "1.5.8"},
    {"grpc_ssl_", "1.13.10"},
    {"grpc_pass", "1.13.10"},
};

const char *
nginxbin_directive_since(const char *directive)
{
    const char *best = NULL;
    size_t best_len = 0;

    for (size_t i = 0; i < sizeof(directive_since) / sizeof(directive_since[0]); i++) {
        size_t n = strlen(directive_since[i].prefix);
        if (strncmp(directive, directive_since[i].prefix, n) == 0 && n > best_len) {
            best = directive_since[i].since;
            best_len = n;
        }
    }
    return best;
}

bool
nginxbin_has_directive(const struct nginx_version *v, const char *directive)
{
    const char *since = nginxbin_directive_since(directive);
    int ma, mi, pa;

    if (v == NULL || since == NULL || sscanf(since, "%d.%d.%d", &ma, &mi, &pa) != 3)
        return true;
    return nginxbin_at_least(v, ma, mi, pa);
}

const struct nginxbin_rule nginxbin_rules[] = {
    {"1.5.8", "uwsgi_pass suwsgi:// and the uwsgi_ssl_* directives exist (uwsgi_ssl_certificate, "
              "_certificate_key and _password_file from 1.7.8)"},
    {"1.7.8", "proxy_ssl_certificate, proxy_ssl_certificate_key and proxy_ssl_password_file "
              "exist"},
    {"1.13.10", "grpc_pass grpcs:// and the grpc_ssl_* directives exist"},
    {"1.19.4", "proxy_ssl_conf_command (and grpc_/uwsgi_ssl_conf_command) exists"},
    {"1.23.4", "the default proxy_ssl_protocols adds TLSv1.3: \"TLSv1 TLSv1.1 TLSv1.2 TLSv1.3\" "
               "(before: \"TLSv1 TLSv1.1 TLSv1.2\")"},
    {"1.31.0", "an IP-literal proxy_ssl_name is checked against the certificate's IP SANs "
               "(before: X509_check_host, DNS names only: an IP never matches)"},
};
const size_t nginxbin_nrules = sizeof(nginxbin_rules) / sizeof(nginxbin_rules[0]);
