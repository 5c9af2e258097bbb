/*
 * radius.c — who an edit reaches: reads the edited texts back into a second tree (the
 * `nginx -T` round trip, every other file unchanged), resolves both trees and compares the
 * effective proxy_ssl_* of every use and target. Owns no I/O and no probing (remedy.c does
 * that for the items listed here). Called by remedy.c and the unit tests.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "radius.h"
#include "xmalloc.h"

struct ngxconf *
radius_reparse(const struct ngxconf *conf, const struct radius_text *texts, size_t n, char **cause)
{
    struct buf dump = BUF_INIT;
    struct ngxconf *out = NULL;

    for (size_t i = 0; i < conf->nfiles; i++) {
        const struct ngx_file *g = conf->files[i];
        const char *data = g->text;
        size_t len = g->len;
        for (size_t k = 0; k < n; k++) {
            if (strcmp(texts[k].path, g->path) == 0) {
                data = texts[k].data;
                len = texts[k].len;
            }
        }
        buf_addf(&dump, "# configuration file %s:\n", g->path);
        buf_add(&dump, data, len);
        buf_addc(&dump, '\n');
    }
    if (ngxconf_load_nginx_T("edit", dump.p, dump.len, NULL, &out, cause) != 0)
        out = NULL;
    buf_free(&dump);
    return out;
}

static bool
str_same(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

unsigned
radius_diff_settings(const struct proxy_ssl_settings *a, const struct proxy_ssl_settings *b)
{
    unsigned m = 0;

    for (int k = 0; k < PSS__COUNT; k++) {
        if (!str_same(a->v[k].value, b->v[k].value))
            m |= 1u << k;
    }
    return m;
}

char *
radius_mask_names(unsigned changed)
{
    return radius_mask_names_family(changed, PSS_FAM_PROXY);
}

char *
radius_mask_names_family(unsigned changed, enum pss_family fam)
{
    struct buf b = BUF_INIT;

    for (int k = 0; k < PSS__COUNT; k++) {
        if (changed & (1u << k)) {
            if (b.len > 0)
                buf_adds(&b, ", ");
            buf_adds(&b, sslconf_directive(fam, (enum pss)k));
        }
    }
    if (b.len == 0)
        buf_adds(&b, "nothing");
    return buf_detach(&b);
}

size_t
radius_find_use(const struct tls_use *uses, size_t n, const struct tls_use *u)
{
    for (size_t i = 0; i < n; i++) {
        if (uses[i].block == u->block && uses[i].proxy_pass == u->proxy_pass)
            return i;
    }
    return (size_t)-1;
}

/* The same use in both trees: same kind of block, same proxy_pass words, same targets. */
static bool
same_use(const struct tls_use *a, const struct tls_use *b)
{
    if (a->stream != b->stream || a->ntargets != b->ntargets ||
        strcmp(a->block->name, b->block->name) != 0 ||
        strcmp(a->proxy_pass->value, b->proxy_pass->value) != 0)
        return false;
    for (size_t t = 0; t < a->ntargets; t++) {
        if (a->targets[t].port != b->targets[t].port ||
            strcmp(a->targets[t].host, b->targets[t].host) != 0)
            return false;
    }
    return true;
}

int
radius_compute(const struct ngxconf *conf, const struct radius_text *texts, size_t n,
               struct radius *out, char **cause)
{
    size_t na, nb;

    memset(out, 0, sizeof(*out));
    for (size_t k = 0; k < n; k++) {
        bool known = false;
        for (size_t i = 0; i < conf->nfiles && !known; i++)
            known = strcmp(conf->files[i]->path, texts[k].path) == 0;
        if (!known) {
            *cause = xasprintf("%s: not a file of this configuration", texts[k].path);
            return -1;
        }
    }
    out->edited = radius_reparse(conf, texts, n, cause);
    if (out->edited == NULL)
        return -1;
    if (out->edited->nerrors > 0) {
        const struct ngx_error *e = &out->edited->errors[0];
        *cause = xasprintf("%s:%u: the edited config does not parse: %s",
                           e->file != NULL ? e->file : "?", e->line, e->message);
        goto fail;
    }
    na = resolve_uses(conf, &out->before);
    nb = resolve_uses(out->edited, &out->after);
    out->nuses = na;
    if (na != nb) {
        resolve_uses_free(out->after, nb);
        out->after = NULL;
        *cause = xasprintf("the edit changes which TLS upstreams are used (%zu before, %zu "
                           "after)",
                           na, nb);
        goto fail;
    }
    for (size_t i = 0; i < na; i++) {
        const struct tls_use *a = &out->before[i], *b = &out->after[i];
        if (!same_use(a, b)) {
            *cause = xasprintf("%s:%u: the edit changes the TLS upstream use %s",
                               a->proxy_pass->file->path, a->proxy_pass->line, a->context);
            goto fail;
        }
        unsigned m = radius_diff_settings(&a->ssl, &b->ssl);
        if (m == 0)
            continue;
        for (size_t t = 0; t < a->ntargets; t++) {
            out->items = xreallocarray(out->items, out->n + 1, sizeof(*out->items));
            out->items[out->n].use = i;
            out->items[out->n].ti = t;
            out->items[out->n].changed = m;
            out->n++;
        }
    }
    return 0;
fail:
    radius_free(out);
    return -1;
}

void
radius_free(struct radius *r)
{
    if (r->before != NULL)
        resolve_uses_free(r->before, r->nuses);
    if (r->after != NULL)
        resolve_uses_free(r->after, r->nuses);
    ngxconf_free(r->edited);
    free(r->items);
    memset(r, 0, sizeof(*r));
}
