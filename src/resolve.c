/*
 * resolve.c — interprets the config tree (ngxconf.h) the way nginx does at request time:
 * server selection, location matching, the proxy_pass target and the effective proxy_ssl_*
 * values with their origin; and the list of every TLS upstream use. It reads no files and
 * prints nothing. Called by check (every use), probe (--location-of, --all) and diagnose.
 */
#include "config.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"
#include "resolve.h"
#include "xmalloc.h"

/* ---- small helpers ---- */

static bool
streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* The nearest enclosing block named name (the block itself included), or NULL. */
static const struct ngx_node *
ancestor(const struct ngx_node *n, const char *name)
{
    for (; n != NULL; n = n->parent) {
        if (n->block && streq(n->name, name))
            return n;
    }
    return NULL;
}

char *
resolve_context(const struct ngx_node *block)
{
    struct buf b = BUF_INIT;

    for (const struct ngx_node *n = block; n != NULL && n->parent != NULL; n = n->parent) {
        if (n != block)
            buf_adds(&b, " in ");
        buf_adds(&b, n->label != NULL ? n->label : n->name);
        if (streq(n->name, "server"))
            break;
    }
    return buf_detach(&b);
}

/* ---- effective settings ---- */

/* The proxy_ssl_* directives in force in one block, and the block each was set in.
 * Computed top-down when walking the whole tree, so a block with thousands of kids
 * (http with 10,000 servers) is scanned once, not once per location. */
struct eff {
    const struct ngx_node *d[PSS__COUNT], *where[PSS__COUNT];
    const struct ngx_node *ssl, *ssl_where; /* stream: proxy_ssl on|off */
};

/* eff of block from the eff of its parent (NULL: nothing inherited). */
static void
eff_derive(struct eff *e, const struct eff *parent, const struct ngx_node *block)
{
    if (parent != NULL)
        *e = *parent;
    else
        memset(e, 0, sizeof(*e));
    bool seen[PSS__COUNT] = {false}, seen_ssl = false;
    for (const struct ngx_node *k = block->kids; k != NULL; k = k->next) {
        if (k->block || strncmp(k->name, "proxy_ssl", 9) != 0)
            continue;
        if (k->name[9] == '\0') {
            if (!seen_ssl) {
                e->ssl = k;
                e->ssl_where = block;
                seen_ssl = true;
            }
            continue;
        }
        for (int i = 0; i < PSS__COUNT; i++) {
            if (!seen[i] && strcmp(k->name, pss_defs[i].directive) == 0) {
                e->d[i] = k;
                e->where[i] = block;
                seen[i] = true;
                break;
            }
        }
    }
}

/* eff of block by walking up to the root (for a single query). */
static void
eff_of(struct eff *e, const struct ngx_node *block)
{
    const struct ngx_node *chain[64];
    int n = 0;

    for (const struct ngx_node *b = block; b != NULL && b->parent != NULL && n < 64; b = b->parent)
        chain[n++] = b;
    memset(e, 0, sizeof(*e));
    while (n-- > 0) {
        struct eff up = *e;
        eff_derive(e, &up, chain[n]);
    }
}

static void
eff_settings(const struct eff *e, const struct ngx_node *block, struct proxy_ssl_settings *out)
{
    for (int i = 0; i < PSS__COUNT; i++) {
        struct pss_value *v = &out->v[i];
        if (e->d[i] == NULL) {
            v->value = pss_defs[i].default_value;
            v->origin = PSS_DEFAULT;
            v->file = NULL;
            v->line = 0;
            v->block = NULL;
        } else {
            v->value = e->d[i]->value;
            v->origin = e->where[i] == block ? PSS_SET : PSS_INHERITED;
            v->file = e->d[i]->file->path;
            v->line = e->d[i]->line;
            v->block = e->where[i]->label;
        }
    }
}

void
resolve_settings(const struct ngx_node *block, struct proxy_ssl_settings *out)
{
    struct eff e;
    eff_of(&e, block);
    eff_settings(&e, block, out);
}

/* ---- addresses ---- */

struct addr {
    char host[256]; /* "*" for any */
    unsigned port;
};

/* Parses "host:port", "[v6]:port", "port", "host" (default_port), "https://h:p/x". */
static int
addr_parse(const char *s, unsigned default_port, struct addr *a)
{
    const char *p = strstr(s, "://");
    char *host;
    size_t hl;

    if (p != NULL)
        s = p + 3;
    if (strncmp(s, "unix:", 5) == 0)
        return -1;
    if (addr_split(s, strcspn(s, "/?"), 0, &host, &a->port) != 0)
        return -1;
    hl = strlen(host);
    if (hl >= sizeof(a->host)) {
        free(host);
        return -1;
    }
    memcpy(a->host, host, hl + 1);
    free(host);
    if (a->port == 0) {
        a->port = default_port;
        if (a->host[0] != '[' && hl > 0 && strspn(a->host, "0123456789") == hl) {
            /* "listen 8443": a port alone */
            a->port = (unsigned)strtoul(a->host, NULL, 10);
            strcpy(a->host, "*");
        }
    }
    if (a->host[0] == '\0')
        strcpy(a->host, "*");
    return 0;
}

static bool
addr_wild(const char *h)
{
    return streq(h, "*") || streq(h, "0.0.0.0") || streq(h, "[::]");
}

/* Does a listen address (conf) accept a connection to q? */
static bool
addr_accepts(const struct addr *conf, const struct addr *q)
{
    if (conf->port != q->port)
        return false;
    return addr_wild(conf->host) || addr_wild(q->host) || strcasecmp(conf->host, q->host) == 0 ||
           (streq(conf->host, "localhost") && streq(q->host, "127.0.0.1"));
}

/* ---- regexes (POSIX ERE after translating common PCRE) ---- */

/* Translates a PCRE pattern to POSIX ERE. Returns NULL when it uses something we cannot
 * translate faithfully (lookarounds, backreferences, ...). */
static char *
pcre_to_ere(const char *re, bool *icase)
{
    struct buf b = BUF_INIT;
    bool in_class = false;

    if (strncmp(re, "(?i)", 4) == 0) {
        *icase = true;
        re += 4;
    }
    for (const char *p = re; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0') {
            char c = *++p;
            const char *rep = NULL;
            switch (c) {
            case 'd':
                rep = in_class ? "0-9" : "[0-9]";
                break;
            case 'D':
                rep = in_class ? NULL : "[^0-9]";
                break;
            case 'w':
                rep = in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]";
                break;
            case 'W':
                rep = in_class ? NULL : "[^A-Za-z0-9_]";
                break;
            case 's':
                rep = in_class ? " \t\n\r\f\v" : "[ \t\n\r\f\v]";
                break;
            case 'S':
                rep = in_class ? NULL : "[^ \t\n\r\f\v]";
                break;
            case 'b':
                rep = in_class ? NULL : "\\b";
                break;
            default:
                if (isalnum((unsigned char)c)) { /* \1, \A, \z, \Q ...: not translatable */
                    buf_free(&b);
                    return NULL;
                }
                if (in_class) {
                    if (c == ']' || c == '^' || c == '-') { /* keep as literal in a class */
                        buf_free(&b);
                        return NULL;
                    }
                    buf_addc(&b, c);
                } else {
                    buf_addc(&b, '\\');
                    buf_addc(&b, c);
                }
                continue;
            }
            if (rep == NULL) {
                buf_free(&b);
                return NULL;
            }
            buf_adds(&b, rep);
            continue;
        }
        if (in_class) {
            if (*p == ']')
                in_class = false;
            buf_addc(&b, *p);
            continue;
        }
        if (*p == '[') {
            in_class = true;
            buf_addc(&b, '[');
            if (p[1] == '^')
                buf_addc(&b, *++p);
            if (p[1] == ']')
                buf_addc(&b, *++p);
            continue;
        }
        if (*p == '(' && p[1] == '?') {
            if (p[2] == ':') {
                p += 2;
            } else if (p[2] == '<' && p[3] != '=' && p[3] != '!') {
                p = strchr(p, '>');
            } else if (p[2] == 'P' && p[3] == '<') {
                p = strchr(p, '>');
            } else {
                buf_free(&b);
                return NULL;
            }
            if (p == NULL) {
                buf_free(&b);
                return NULL;
            }
            buf_addc(&b, '(');
            continue;
        }
        if ((*p == '?' || *p == '+') && p > re &&
            (p[-1] == '*' || p[-1] == '+' || p[-1] == '?' || p[-1] == '}') &&
            !(p - 1 > re && p[-2] == '\\')) {
            continue; /* lazy or possessive quantifier: same match/no-match */
        }
        buf_addc(&b, *p);
    }
    return buf_detach(&b);
}

/* Returns 1 match, 0 no match, -1 cannot evaluate (note set). */
static int
regex_match(const char *re, bool icase, const char *subject, char **note)
{
    regex_t rx;
    char *ere = pcre_to_ere(re, &icase);
    int rc;

    if (ere == NULL) {
        if (*note == NULL)
            *note = xasprintf("regex \"%s\" uses PCRE features tlstriage cannot evaluate", re);
        return -1;
    }
    if (regcomp(&rx, ere, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)) != 0) {
        if (*note == NULL)
            *note = xasprintf("regex \"%s\" could not be compiled as POSIX ERE", re);
        free(ere);
        return -1;
    }
    rc = regexec(&rx, subject, 0, NULL, 0) == 0 ? 1 : 0;
    regfree(&rx);
    free(ere);
    return rc;
}

/* ---- server selection ---- */

static void
server_listens(const struct ngx_node *srv,
               void (*fn)(const struct ngx_node *l, struct addr *a, bool def, void *arg), void *arg)
{
    bool any = false;
    for (const struct ngx_node *l = ngxconf_find(srv, "listen"); l != NULL;
         l = ngxconf_find_next(l)) {
        struct addr a;
        bool def = false;
        if (l->nargs == 0 || addr_parse(l->args[0], 80, &a) < 0)
            continue;
        for (size_t i = 1; i < l->nargs; i++) {
            if (streq(l->args[i], "default_server") || streq(l->args[i], "default"))
                def = true;
        }
        any = true;
        fn(l, &a, def, arg);
    }
    if (!any) {
        struct addr a = {"*", 80};
        fn(NULL, &a, false, arg);
    }
}

struct listen_probe {
    const struct addr *q;
    bool accepts;
    bool is_default;
};

static void
listen_probe_fn(const struct ngx_node *l, struct addr *a, bool def, void *arg)
{
    struct listen_probe *lp = arg;
    (void)l;
    if (lp->q == NULL || addr_accepts(a, lp->q)) {
        lp->accepts = true;
        if (def)
            lp->is_default = true;
    }
}

static void
host_normalize(const char *in, char *out, size_t size)
{
    size_t n = 0;
    if (in[0] == '[') {
        snprintf(out, size, "%s", in);
        return;
    }
    for (; in[n] != '\0' && in[n] != ':' && n + 1 < size; n++)
        out[n] = (char)tolower((unsigned char)in[n]);
    out[n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[n - 1] = '\0';
}

/* Scores how a server_name matches host: 4 exact, 3 leading wildcard, 2 trailing wildcard,
 * 1 regex; *len is the wildcard length (longest wins). */
static int
name_match(const char *name, const char *host, size_t *len, char **note)
{
    size_t nl = strlen(name), hl = strlen(host);

    if (name[0] == '~')
        return regex_match(name + 1, true, host, note) == 1 ? 1 : 0;
    if (strcasecmp(name, host) == 0)
        return 4;
    if (name[0] == '.' && strcasecmp(name + 1, host) == 0)
        return 4;
    if ((name[0] == '.' || (name[0] == '*' && name[1] == '.')) && hl > nl - (name[0] == '*')) {
        const char *suffix = name[0] == '*' ? name + 1 : name; /* ".example.com" */
        size_t sl = strlen(suffix);
        if (hl > sl && strcasecmp(host + hl - sl, suffix) == 0) {
            *len = sl;
            return 3;
        }
    }
    if (nl > 2 && name[nl - 1] == '*' && name[nl - 2] == '.') {
        if (hl > nl - 1 && strncasecmp(host, name, nl - 1) == 0) {
            *len = nl - 1;
            return 2;
        }
    }
    return 0;
}

static const struct ngx_node *
select_server(const struct ngx_node *parent, const struct resolve_query *q, char **note)
{
    struct addr qa, *qap = NULL;
    const struct ngx_node *best = NULL, *first = NULL, *def = NULL;
    int best_score = 0;
    size_t best_len = 0;
    char host[256] = "";

    if (q->listen != NULL && addr_parse(q->listen, 80, &qa) == 0)
        qap = &qa;
    if (q->server != NULL)
        host_normalize(q->server, host, sizeof(host));
    for (const struct ngx_node *s = ngxconf_find(parent, "server"); s != NULL;
         s = ngxconf_find_next(s)) {
        if (!s->block)
            continue;
        struct listen_probe lp = {qap, false, false};
        server_listens(s, listen_probe_fn, &lp);
        if (!lp.accepts)
            continue;
        if (first == NULL)
            first = s;
        if (lp.is_default && def == NULL)
            def = s;
        if (host[0] == '\0')
            continue;
        for (const struct ngx_node *sn = ngxconf_find(s, "server_name"); sn != NULL;
             sn = ngxconf_find_next(sn)) {
            for (size_t i = 0; i < sn->nargs; i++) {
                size_t len = 0;
                /* the log's "server:" is the block's first server_name as written, even
                 * a wildcard or a regex: that spelling identifies the block outright */
                int sc = strcmp(sn->args[i], q->server) == 0
                             ? 5
                             : name_match(sn->args[i], host, &len, note);
                if (sc > best_score || (sc == best_score && sc > 1 && sc < 4 && len > best_len)) {
                    best = s;
                    best_score = sc;
                    best_len = len;
                }
            }
        }
    }
    if (best != NULL)
        return best;
    return def != NULL ? def : first;
}

static const struct ngx_node *
select_stream_server(const struct ngx_node *stream, const struct resolve_query *q)
{
    struct addr qa;
    const struct ngx_node *wild = NULL;

    if (q->listen == NULL || addr_parse(q->listen, 0, &qa) < 0)
        return NULL;
    for (const struct ngx_node *s = ngxconf_find(stream, "server"); s != NULL;
         s = ngxconf_find_next(s)) {
        for (const struct ngx_node *l = ngxconf_find(s, "listen"); l != NULL;
             l = ngxconf_find_next(l)) {
            struct addr a;
            if (l->nargs == 0 || addr_parse(l->args[0], 0, &a) < 0 || a.port != qa.port)
                continue;
            if (strcasecmp(a.host, qa.host) == 0)
                return s; /* a specific address wins over a wildcard one */
            if (wild == NULL && addr_accepts(&a, &qa))
                wild = s;
        }
    }
    return wild;
}

/* ---- location matching (ngx_http_core_find_location) ---- */

enum loc_kind { LOC_PREFIX, LOC_EXACT, LOC_NOREGEX, LOC_REGEX, LOC_REGEX_ICASE, LOC_NAMED };

static enum loc_kind
loc_parse(const struct ngx_node *l, const char **path)
{
    if (l->nargs == 2) {
        const char *m = l->args[0];
        *path = l->args[1];
        if (streq(m, "="))
            return LOC_EXACT;
        if (streq(m, "^~"))
            return LOC_NOREGEX;
        if (streq(m, "~"))
            return LOC_REGEX;
        if (streq(m, "~*"))
            return LOC_REGEX_ICASE;
        return LOC_PREFIX;
    }
    if (l->nargs == 0) {
        *path = "";
        return LOC_PREFIX;
    }
    const char *a = l->args[0];
    if (a[0] == '@') {
        *path = a;
        return LOC_NAMED;
    }
    if (a[0] == '=') {
        *path = a + 1;
        return LOC_EXACT;
    }
    if (a[0] == '^' && a[1] == '~') {
        *path = a + 2;
        return LOC_NOREGEX;
    }
    if (a[0] == '~') {
        if (a[1] == '*') {
            *path = a + 2;
            return LOC_REGEX_ICASE;
        }
        *path = a + 1;
        return LOC_REGEX;
    }
    *path = a;
    return LOC_PREFIX;
}

enum { FIND_DECLINED, FIND_AGAIN, FIND_OK };

static int
find_location(const struct ngx_node *level, const char *uri, const struct ngx_node **result,
              char **note)
{
    const struct ngx_node *best = NULL;
    size_t best_len = 0;
    bool noregex = false;
    int rc = FIND_DECLINED;

    for (const struct ngx_node *l = ngxconf_find(level, "location"); l != NULL;
         l = ngxconf_find_next(l)) {
        const char *path;
        enum loc_kind k = loc_parse(l, &path);
        if (!l->block)
            continue;
        if (k == LOC_EXACT && streq(path, uri)) {
            *result = l;
            return FIND_OK;
        }
        if (k == LOC_PREFIX || k == LOC_NOREGEX) {
            size_t pl = strlen(path);
            if (strncmp(uri, path, pl) == 0 && (best == NULL || pl > best_len)) {
                best = l;
                best_len = pl;
            }
        }
    }
    if (best != NULL) {
        const char *path;
        *result = best;
        noregex = loc_parse(best, &path) == LOC_NOREGEX;
        rc = FIND_AGAIN;
        if (find_location(best, uri, result, note) == FIND_OK)
            return FIND_OK;
    }
    if (!noregex) {
        for (const struct ngx_node *l = ngxconf_find(level, "location"); l != NULL;
             l = ngxconf_find_next(l)) {
            const char *re;
            enum loc_kind k = loc_parse(l, &re);
            if (!l->block || (k != LOC_REGEX && k != LOC_REGEX_ICASE))
                continue;
            if (regex_match(re, k == LOC_REGEX_ICASE, uri, note) == 1) {
                *result = l;
                find_location(l, uri, result, note);
                return FIND_OK;
            }
        }
    }
    return rc;
}

/* ---- proxy_pass targets ---- */

static void
target_add(struct tls_use *u, const char *host, unsigned port)
{
    u->targets = xreallocarray(u->targets, u->ntargets + 1, sizeof(*u->targets));
    u->targets[u->ntargets].host = xstrdup(host);
    u->targets[u->ntargets].port = port;
    u->ntargets++;
}

static void
upstream_targets(struct tls_use *u, const struct ngx_node *up, unsigned default_port)
{
    for (const struct ngx_node *s = ngxconf_find(up, "server"); s != NULL;
         s = ngxconf_find_next(s)) {
        struct addr a;
        if (s->nargs > 0 && addr_parse(s->args[0], default_port, &a) == 0)
            target_add(u, a.host, a.port);
    }
}

/* The upstream{} blocks of one module (http or stream), listed once per walk. */
struct upstreams {
    const struct ngx_node **v;
    size_t n;
};

static void
upstreams_list(struct upstreams *ups, const struct ngx_node *module)
{
    ups->v = NULL;
    ups->n = 0;
    for (const struct ngx_node *up = ngxconf_find(module, "upstream"); up != NULL;
         up = ngxconf_find_next(up)) {
        if (up->block && up->nargs > 0) {
            ups->v = xreallocarray(ups->v, ups->n + 1, sizeof(*ups->v));
            ups->v[ups->n++] = up;
        }
    }
}

static const struct ngx_node *
find_upstream(const struct upstreams *ups, const char *name)
{
    for (size_t i = 0; i < ups->n; i++) {
        if (strcasecmp(ups->v[i]->args[0], name) == 0)
            return ups->v[i];
    }
    return NULL;
}

/* Fills u from the proxy_pass pp in block; returns false when it is not a TLS use. */
static bool
use_fill(struct tls_use *u, const struct ngx_node *block, const struct ngx_node *pp, bool stream,
         const struct eff *known, const struct upstreams *known_ups)
{
    const struct ngx_node *module = ancestor(block, stream ? "stream" : "http");
    const char *url;
    struct eff computed;
    const struct eff *e = known;
    struct upstreams own = {NULL, 0};
    const struct upstreams *ups = known_ups;
    bool tls;

    memset(u, 0, sizeof(*u));
    if (pp == NULL || pp->nargs == 0 || module == NULL)
        return false;
    if (e == NULL) {
        eff_of(&computed, block);
        e = &computed;
    }
    url = pp->args[0];
    if (stream) {
        const struct ngx_node *on = e->ssl;
        tls = on != NULL && on->nargs > 0 && streq(on->args[0], "on");
    } else {
        tls = strncasecmp(url, "https://", 8) == 0;
    }
    if (!tls)
        return false;
    if (ups == NULL) {
        upstreams_list(&own, module);
        ups = &own;
    }
    u->block = block;
    u->server = ancestor(block, "server");
    u->proxy_pass = pp;
    u->stream = stream;
    const char *hp = stream ? url : url + 8;
    size_t hl = strcspn(hp, "/?");
    char *hostport = xstrndup(hp, hl);
    if (strchr(hostport, '$') != NULL) {
        u->kind = RESOLVE_VARIABLE;
        u->proxy_host = hostport;
        for (size_t i = 0; i < ups->n; i++)
            upstream_targets(u, ups->v[i], stream ? 0 : 80);
    } else {
        /* an explicit port means nginx makes an implicit upstream, not the block */
        const struct ngx_node *up =
            strchr(hostport, ':') == NULL ? find_upstream(ups, hostport) : NULL;
        struct addr a;
        if (up != NULL) {
            u->kind = RESOLVE_UPSTREAM;
            u->upstream = up;
            u->proxy_host = hostport;
            upstream_targets(u, up, stream ? 0 : 80);
        } else {
            u->kind = RESOLVE_LITERAL;
            if (addr_parse(hostport, 443, &a) == 0) {
                u->proxy_host = xstrdup(a.host);
                target_add(u, a.host, a.port);
            } else {
                u->proxy_host = xstrdup(hostport);
            }
            free(hostport);
        }
    }
    u->context = resolve_context(block);
    eff_settings(e, block, &u->ssl);
    free(own.v);
    return true;
}

const char *
resolve_ssl_name(const struct tls_use *u)
{
    if (u->ssl.v[PSS_NAME].origin != PSS_DEFAULT && u->ssl.v[PSS_NAME].value != NULL)
        return u->ssl.v[PSS_NAME].value;
    return u->proxy_host;
}

void
resolve_use_clear(struct tls_use *u)
{
    for (size_t i = 0; i < u->ntargets; i++)
        free(u->targets[i].host);
    free(u->targets);
    free(u->proxy_host);
    free(u->context);
    memset(u, 0, sizeof(*u));
}

void
resolve_uses_free(struct tls_use *uses, size_t n)
{
    for (size_t i = 0; i < n; i++)
        resolve_use_clear(&uses[i]);
    free(uses);
}

struct use_list {
    struct tls_use *v;
    size_t n, cap;
};

static void
use_push(struct use_list *l, const struct tls_use *u)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    l->v[l->n++] = *u;
}

/* Walks a location (or if / limit_except) and those nested in it. */
static void
walk_http_block(struct use_list *l, const struct ngx_node *b, const struct eff *parent,
                const struct upstreams *ups)
{
    struct tls_use u;
    struct eff e;

    eff_derive(&e, parent, b);
    if (use_fill(&u, b, ngxconf_find(b, "proxy_pass"), false, &e, ups))
        use_push(l, &u);
    for (const struct ngx_node *k = b->kids; k != NULL; k = k->next) {
        if (k->block &&
            (streq(k->name, "location") || streq(k->name, "if") || streq(k->name, "limit_except")))
            walk_http_block(l, k, &e, ups);
    }
}

size_t
resolve_uses(const struct ngxconf *conf, struct tls_use **uses)
{
    struct use_list l = {NULL, 0, 0};

    for (const struct ngx_node *m = conf->root->kids; m != NULL; m = m->next) {
        if (!m->block)
            continue;
        struct eff em, es;
        struct upstreams ups;
        if (!streq(m->name, "http") && !streq(m->name, "stream"))
            continue;
        eff_derive(&em, NULL, m);
        upstreams_list(&ups, m);
        if (streq(m->name, "http")) {
            for (const struct ngx_node *s = ngxconf_find(m, "server"); s != NULL;
                 s = ngxconf_find_next(s)) {
                if (!s->block)
                    continue;
                eff_derive(&es, &em, s);
                for (const struct ngx_node *k = s->kids; k != NULL; k = k->next) {
                    if (k->block && (streq(k->name, "location") || streq(k->name, "if")))
                        walk_http_block(&l, k, &es, &ups);
                }
            }
        } else if (streq(m->name, "stream")) {
            for (const struct ngx_node *s = ngxconf_find(m, "server"); s != NULL;
                 s = ngxconf_find_next(s)) {
                struct tls_use u;
                if (!s->block)
                    continue;
                eff_derive(&es, &em, s);
                if (use_fill(&u, s, ngxconf_find(s, "proxy_pass"), true, &es, &ups))
                    use_push(&l, &u);
            }
        }
        free(ups.v);
    }
    *uses = l.v;
    return l.n;
}

/* ---- resolve_find ---- */

static bool
use_targets(const struct tls_use *u, const struct addr *a)
{
    for (size_t i = 0; i < u->ntargets; i++) {
        if (u->targets[i].port == a->port && strcasecmp(u->targets[i].host, a->host) == 0)
            return true;
    }
    return false;
}

static const struct ngx_node *
module_block(const struct ngxconf *conf, const char *name)
{
    for (const struct ngx_node *m = conf->root->kids; m != NULL; m = m->next) {
        if (m->block && streq(m->name, name))
            return m;
    }
    return NULL;
}

int
resolve_find(const struct ngxconf *conf, const struct resolve_query *q, struct resolve_result *res,
             char **cause)
{
    struct addr ua, *uap = NULL;
    const struct ngx_node *module = module_block(conf, q->stream ? "stream" : "http");

    memset(res, 0, sizeof(*res));
    if (q->upstream != NULL && addr_parse(q->upstream, 443, &ua) == 0)
        uap = &ua;
    if (module == NULL) {
        *cause = xasprintf("%s: no %s block", conf->files[0]->path, q->stream ? "stream" : "http");
        return -1;
    }
    if (q->stream) {
        res->server = res->block = select_stream_server(module, q);
    } else if (q->server != NULL || q->listen != NULL) {
        res->server = select_server(module, q, &res->note);
        if (res->server != NULL && q->uri != NULL) {
            char *uri = xstrndup(q->uri, strcspn(q->uri, "?#"));
            const struct ngx_node *loc = NULL;
            find_location(res->server, uri, &loc, &res->note);
            free(uri);
            res->block = loc != NULL ? loc : res->server;
        } else {
            res->block = res->server;
        }
    }
    if (res->block != NULL && ngxconf_find(res->block, "proxy_pass") != NULL) {
        res->has_use = use_fill(&res->use, res->block, ngxconf_find(res->block, "proxy_pass"),
                                q->stream, NULL, NULL);
    } else if (uap != NULL) {
        /* no location decided: the TLS use(s) targeting that upstream (within the server) */
        struct tls_use *uses;
        size_t n = resolve_uses(conf, &uses), hits = 0, pick = 0;
        for (size_t i = 0; i < n; i++) {
            if (uses[i].stream == q->stream && use_targets(&uses[i], uap) &&
                (res->server == NULL || uses[i].server == res->server)) {
                if (hits++ == 0)
                    pick = i;
            }
        }
        if (hits > 0) {
            res->use = uses[pick];
            memset(&uses[pick], 0, sizeof(uses[pick]));
            res->has_use = true;
            res->block = res->use.block;
            res->server = res->use.server;
            if (hits > 1 && res->note == NULL)
                res->note = xasprintf("%zu blocks proxy to %s:%u; showing the first", hits,
                                      uap->host, uap->port);
        }
        resolve_uses_free(uses, n);
    }
    if (res->block == NULL) {
        *cause = xasprintf("%s: no %s matches %s%s%s", conf->files[0]->path,
                           q->stream ? "stream server" : "server or location",
                           q->listen != NULL   ? q->listen
                           : q->server != NULL ? q->server
                                               : "",
                           q->uri != NULL ? " " : "", q->uri != NULL ? q->uri : "");
        resolve_result_free(res);
        return -1;
    }
    if (res->has_use) {
        if (uap != NULL)
            res->upstream_matches = use_targets(&res->use, uap);
        if (res->use.kind == RESOLVE_VARIABLE && res->note == NULL)
            res->note = xasprintf("proxy_pass %s uses a variable: cannot resolve statically",
                                  res->use.proxy_pass->value);
    }
    return 0;
}

void
resolve_result_free(struct resolve_result *res)
{
    if (res->has_use)
        resolve_use_clear(&res->use);
    free(res->note);
    memset(res, 0, sizeof(*res));
}
