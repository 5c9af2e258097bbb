/*
 * fuzz_ngxconf.c — libFuzzer target for the config reader: the bytes are parsed as a main
 * config file (includes are not followed) and as `nginx -T` output; the tree is then
 * walked by resolve (every TLS use, one request) and the edit helper. Seeds:
 * the .conf fixtures in tests/unit/conf.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngxconf.h"
#include "resolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(const struct ngxconf *c)
{
    struct tls_use *uses;
    size_t n = resolve_uses(c, &uses);
    struct resolve_query q = {false, "api.example", "127.0.0.1:443", "/api/v1/x.png",
                              "https://127.0.0.1:8443/", "api.example:443"};
    struct resolve_result r;
    char *cause = NULL;

    if (n > 0) {
        const char *args[] = {"on"};
        const struct ngx_file *f;
        char *out = NULL;
        size_t len;
        if (ngxconf_edit_set(c, uses[0].block, "proxy_ssl_verify", args, 1, &f, &out, &len,
                             &cause) == 0)
            free(out);
        else
            free(cause);
        cause = NULL;
    }
    resolve_uses_free(uses, n);
    if (resolve_find(c, &q, &r, &cause) == 0)
        resolve_result_free(&r);
    else
        free(cause);
    q.stream = true;
    cause = NULL;
    if (resolve_find(c, &q, &r, &cause) == 0)
        resolve_result_free(&r);
    else
        free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ngxconf *c = ngxconf_parse_mem("/fuzz/nginx.conf", (const char *)data, size);
    char *cause = NULL;

    walk(c);
    ngxconf_free(c);
    c = NULL;
    if (ngxconf_load_nginx_T("-", (const char *)data, size, NULL, &c, &cause) == 0) {
        walk(c);
        ngxconf_free(c);
    } else {
        free(cause);
    }
    return 0;
}
