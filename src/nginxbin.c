/*
 * nginxbin.c — knows the nginx binary: runs `nginx -V`, parses its version and OpenSSL,
 * and answers version-dependent questions (does it verify IP SANs?). It does not read
 * configs (ngxconf.c) or run nginx -t / reload (txn.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "nginxbin.h"
#include "spawn.h"
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
