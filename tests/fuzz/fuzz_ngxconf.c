/*
 * fuzz_ngxconf.c — libFuzzer target for the config reader: the bytes are parsed as a main
 * config file (includes are not followed) and as `nginx -T` output; the tree is then
 * walked by resolve (every TLS use, one request) and the edit helper: every use's block is
 * edited, the result read again and compared (no new error, the directive in that very
 * block, every other byte kept). Seeds: the .conf fixtures in tests/unit/conf.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngxconf.h"
#include "resolve.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The index path of block among block kids, root down; -1 when deeper than max. */
static int
bpath(const struct ngx_node *b, size_t *idx, int max)
{
    int n = 0;
    for (const struct ngx_node *x = b; x->parent != NULL; x = x->parent)
        n++;
    if (n > max)
        return -1;
    int i = n;
    for (const struct ngx_node *x = b; x->parent != NULL; x = x->parent) {
        size_t k = 0;
        for (const struct ngx_node *s = x->parent->kids; s != x; s = s->next)
            k += s->block;
        idx[--i] = k;
    }
    return n;
}

static const struct ngx_node *
bfind(const struct ngx_node *root, const size_t *idx, int n)
{
    const struct ngx_node *b = root;
    for (int i = 0; i < n && b != NULL; i++) {
        size_t k = 0;
        const struct ngx_node *s;
        for (s = b->kids; s != NULL; s = s->next) {
            if (s->block && k++ == idx[i])
                break;
        }
        b = s;
    }
    return b;
}

static bool
blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* a without [a0, a1) equals b without [b0, b1), blanks ignored? */
static bool
same_but_blanks(const char *a, size_t alen, size_t a0, size_t a1, const char *b, size_t blen,
                size_t b0, size_t b1)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < alen && ((i >= a0 && i < a1) || blank(a[i])))
            i++;
        while (j < blen && ((j >= b0 && j < b1) || blank(b[j])))
            j++;
        if (i == alen || j == blen)
            return i == alen && j == blen;
        if (a[i++] != b[j++])
            return false;
    }
}

/* Edits block, reads the edited file again and checks what an edit promises. */
static void
edit_and_compare(const struct ngxconf *c, const struct ngx_node *block, const char *name,
                 const char *value)
{
    const char *args[] = {value};
    const struct ngx_file *f = NULL;
    char *out = NULL, *cause = NULL;
    size_t len = 0, idx[64];
    int depth = bpath(block, idx, 64);

    if (ngxconf_edit_set(c, block, name, args, 1, &f, &out, &len, &cause) != 0) {
        free(cause);
        return;
    }
    if (c->nerrors == 0 && f == c->files[0] && depth >= 0) {
        struct ngxconf *d = ngxconf_parse_mem(f->path, out, len);
        CHECK(d->nerrors == 0);
        const struct ngx_node *b = bfind(d->root, idx, depth), *n;
        CHECK(b != NULL && strcmp(b->name, block->name) == 0);
        for (n = b->kids; n != NULL && (n->block || strcmp(n->name, name) != 0); n = n->next)
            ;
        CHECK(n != NULL && !n->block && strcmp(n->value, value) == 0);
        /* the rest is the old text: out without the statement equals the old text without
         * the directive it replaced, blanks and line breaks aside */
        const struct ngx_node *o;
        for (o = block->kids; o != NULL && (o->block || strcmp(o->name, name) != 0); o = o->next)
            ;
        CHECK(same_but_blanks(out, len, n->start, n->end, f->text, f->len,
                              o != NULL && o->file == f ? o->start : 0,
                              o != NULL && o->file == f ? o->end : 0));
        ngxconf_free(d);
    }
    free(out);
}

static void
walk(const struct ngxconf *c)
{
    struct tls_use *uses;
    size_t n = resolve_uses(c, &uses);
    struct resolve_query q = {false,
                              "api.example",
                              "127.0.0.1:443",
                              "/api/v1/x.png",
                              "https://127.0.0.1:8443/",
                              "api.example:443"};
    struct resolve_result r;
    char *cause = NULL;

    for (size_t i = 0; i < n && i < 8; i++) {
        const struct ngx_node *b = uses[i].block;
        while (b->parent != NULL && strcmp(b->name, "if") == 0)
            b = b->parent;
        edit_and_compare(c, b, "proxy_ssl_verify", "on");
        edit_and_compare(c, b, "proxy_ssl_name", "a b;{}#");
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
