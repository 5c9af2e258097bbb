/*
 * resolve.c — interprets the config tree (ngxconf.h) the way nginx does at request time:
 * server selection, location matching, the proxy_pass target and the effective proxy_ssl_*
 * values with their origin, variable upstreams (set / map) where they are static; and the
 * list of every TLS upstream use (proxy_pass https://, grpc_pass grpcs:// with grpc_ssl_*,
 * uwsgi_pass suwsgi:// with uwsgi_ssl_*, stream proxy_ssl on). Regexes are PCRE2, compiled and
 * matched as nginx does. It reads no files and prints nothing. Called by check (every use),
 * probe (--location-of, --all), diagnose (placing each incident) and remedy (settings of an
 * edited block).
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"
#include "resolve.h"
#include "xmalloc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

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

/* The proxy_ssl_* (grpc_ssl_*, uwsgi_ssl_*) directives in force in one block, and the block
 * each was set in, per family. Computed top-down when walking the whole tree, so a block with
 * thousands of kids (http with 10,000 servers) is scanned once, not once per location. */
struct eff {
    const struct ngx_node *d[PSS_FAM__COUNT][PSS__COUNT], *where[PSS_FAM__COUNT][PSS__COUNT];
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
    bool seen[PSS_FAM__COUNT][PSS__COUNT] = {{false}}, seen_ssl = false;
    for (const struct ngx_node *k = block->kids; k != NULL; k = k->next) {
        if (k->block)
            continue;
        if (strncmp(k->name, "proxy_ssl", 9) != 0 && strncmp(k->name, "grpc_ssl_", 9) != 0 &&
            strncmp(k->name, "uwsgi_ssl_", 10) != 0)
            continue;
        if (streq(k->name, "proxy_ssl")) {
            if (!seen_ssl) {
                e->ssl = k;
                e->ssl_where = block;
                seen_ssl = true;
            }
            continue;
        }
        enum pss_family f;
        int i = sslconf_key_of(k->name, &f);
        if (i >= 0 && !seen[f][i]) {
            e->d[f][i] = k;
            e->where[f][i] = block;
            seen[f][i] = true;
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
eff_settings(const struct eff *e, enum pss_family fam, const struct ngx_node *block,
             struct proxy_ssl_settings *out)
{
    out->family = fam;
    for (int i = 0; i < PSS__COUNT; i++) {
        struct pss_value *v = &out->v[i];
        const struct ngx_node *d = e->d[fam][i], *where = e->where[fam][i];
        if (d == NULL) {
            v->value = pss_defs[i].default_value;
            v->origin = PSS_DEFAULT;
            v->file = NULL;
            v->line = 0;
            v->block = NULL;
        } else {
            v->value = d->value;
            v->origin = where == block ? PSS_SET : PSS_INHERITED;
            v->file = d->file->path;
            v->line = d->line;
            v->block = where->label;
        }
    }
}

/* The pass directive of an http block (location, if, limit_except) and its family: its own
 * proxy_pass / grpc_pass / uwsgi_pass (nginx allows one), or NULL. */
static const struct ngx_node *
pass_find(const struct ngx_node *block, enum pss_family *fam)
{
    for (const struct ngx_node *k = block->kids; k != NULL; k = k->next) {
        int f;
        if (!k->block && (f = sslconf_family_of_pass(k->name)) >= 0) {
            *fam = (enum pss_family)f;
            return k;
        }
    }
    *fam = PSS_FAM_PROXY;
    return NULL;
}

enum pss_family
resolve_block_family(const struct ngx_node *block)
{
    enum pss_family fam = PSS_FAM_PROXY;

    for (const struct ngx_node *b = block; b != NULL && b->parent != NULL; b = b->parent) {
        if (streq(b->name, "server") || streq(b->name, "http") || streq(b->name, "stream"))
            break;
        if (pass_find(b, &fam) != NULL)
            return fam;
    }
    return PSS_FAM_PROXY;
}

void
resolve_settings(const struct ngx_node *block, struct proxy_ssl_settings *out)
{
    resolve_settings_family(block, resolve_block_family(block), out);
}

void
resolve_settings_family(const struct ngx_node *block, enum pss_family fam,
                        struct proxy_ssl_settings *out)
{
    struct eff e;
    eff_of(&e, block);
    eff_settings(&e, fam, block, out);
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

/* ---- regexes (PCRE2, compiled as nginx's ngx_regex_compile does) ---- */

/* One compiled regex, cached per config node (a location, or a server_name directive and
 * the index of the name in it). code is NULL when the pattern does not compile. */
struct rx_slot {
    const void *key;
    size_t idx;
    pcre2_code *code;
};

struct resolve_ctx {
    const struct ngxconf *conf;
    struct rx_slot *slots; /* open addressing, cap a power of two */
    size_t cap, n;
    /* per query: the captures of the regexes that matched so far */
    struct resolve_capture *caps;
    size_t ncaps;
};

struct resolve_ctx *
resolve_ctx_new(const struct ngxconf *conf)
{
    struct resolve_ctx *c = xcalloc(1, sizeof(*c));
    c->conf = conf;
    return c;
}

static void
caps_clear(struct resolve_capture **caps, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free((*caps)[i].name);
        free((*caps)[i].value);
    }
    free(*caps);
    *caps = NULL;
    *n = 0;
}

void
resolve_ctx_free(struct resolve_ctx *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->cap; i++)
        pcre2_code_free(c->slots[i].code);
    free(c->slots);
    caps_clear(&c->caps, &c->ncaps);
    free(c);
}

static size_t
rx_hash(const void *key, size_t idx, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15ULL + idx * 0x85ebca6bULL;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct rx_slot *
rx_slot(struct resolve_ctx *c, const void *key, size_t idx)
{
    size_t h = rx_hash(key, idx, c->cap);
    while (c->slots[h].key != NULL && (c->slots[h].key != key || c->slots[h].idx != idx))
        h = (h + 1) & (c->cap - 1);
    return &c->slots[h];
}

static void
rx_grow(struct resolve_ctx *c)
{
    struct rx_slot *old = c->slots;
    size_t oldcap = c->cap;

    c->cap = oldcap != 0 ? oldcap * 2 : 64;
    c->slots = xcalloc(c->cap, sizeof(*c->slots));
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].key != NULL)
            *rx_slot(c, old[i].key, old[i].idx) = old[i];
    }
    free(old);
}

/* The compiled form of pattern for (key, idx), compiling it on first use: PCRE2 with no
 * option but PCRE2_CASELESS (nginx 1.21.5+ passes only that and MULTILINE, never UTF),
 * so `(?i)`, lookarounds, backreferences and named groups mean what they mean to nginx.
 * NULL (note set) when it does not compile: nginx -t refuses such a config. */
static pcre2_code *
rx_get(struct resolve_ctx *c, const void *key, size_t idx, const char *pattern, bool caseless,
       char **note)
{
    struct rx_slot *s;
    int err;
    PCRE2_SIZE off;

    if (c->n * 2 >= c->cap)
        rx_grow(c);
    s = rx_slot(c, key, idx);
    if (s->key == NULL) {
        s->key = key;
        s->idx = idx;
        s->code = pcre2_compile((PCRE2_SPTR)pattern, strlen(pattern), caseless ? PCRE2_CASELESS : 0,
                                &err, &off, NULL);
        c->n++;
        if (s->code == NULL && *note == NULL) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(err, msg, sizeof(msg));
            *note = xasprintf("regex \"%s\" does not compile (pcre2_compile(): %s at offset "
                              "%zu): nginx -t refuses it",
                              pattern, (const char *)msg, (size_t)off);
        }
    }
    return s->code;
}

static void
caps_set(struct resolve_capture **caps, size_t *n, const char *name, const char *v, size_t vlen)
{
    for (size_t i = 0; i < *n; i++) {
        if (streq((*caps)[i].name, name)) {
            free((*caps)[i].value);
            (*caps)[i].value = xstrndup(v, vlen);
            return;
        }
    }
    *caps = xreallocarray(*caps, *n + 1, sizeof(**caps));
    (*caps)[*n].name = xstrdup(name);
    (*caps)[*n].value = xstrndup(v, vlen);
    (*n)++;
}

/* Matches subject against code as ngx_http_regex_exec does: the whole subject, offset 0,
 * no options. On a match, a regex with groups replaces $1..$9 and sets its named groups in
 * c->caps. Returns 1 match, 0 no match, -1 cannot evaluate (note set). */
static int
rx_exec(struct resolve_ctx *c, pcre2_code *code, const char *pattern, const char *subject,
        char **note)
{
    pcre2_match_data *md;
    uint32_t ncap = 0, nnames = 0, esize = 0;
    PCRE2_SPTR table = NULL;
    int rc;

    if (code == NULL)
        return -1;
    md = pcre2_match_data_create_from_pattern(code, NULL);
    rc = pcre2_match(code, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH) {
        pcre2_match_data_free(md);
        return 0;
    }
    if (rc < 0) {
        if (*note == NULL) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(rc, msg, sizeof(msg));
            *note = xasprintf("regex \"%s\" could not be evaluated (pcre2_match(): %s)", pattern,
                              (const char *)msg);
        }
        pcre2_match_data_free(md);
        return -1;
    }
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &ncap);
    if (ncap > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t pairs = pcre2_get_ovector_count(md);
        /* $1..$9 of an earlier regex are gone once this one matched */
        for (size_t i = 0; i < c->ncaps;) {
            if (c->caps[i].name[0] >= '0' && c->caps[i].name[0] <= '9' &&
                c->caps[i].name[1] == '\0') {
                free(c->caps[i].name);
                free(c->caps[i].value);
                c->caps[i] = c->caps[--c->ncaps];
            } else {
                i++;
            }
        }
        for (uint32_t g = 0; g <= ncap && g <= 9 && g < pairs; g++) {
            char name[2] = {(char)('0' + g), '\0'};
            if (ov[2 * g] == PCRE2_UNSET)
                caps_set(&c->caps, &c->ncaps, name, "", 0);
            else
                caps_set(&c->caps, &c->ncaps, name, subject + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
        }
        pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &nnames);
        pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &esize);
        pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
        for (uint32_t i = 0; i < nnames && table != NULL; i++) {
            PCRE2_SPTR e = table + (size_t)i * esize;
            uint32_t g = ((uint32_t)e[0] << 8) | e[1];
            const char *nm = (const char *)e + 2;
            if (g < pairs && ov[2 * g] != PCRE2_UNSET)
                caps_set(&c->caps, &c->ncaps, nm, subject + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
            else
                caps_set(&c->caps, &c->ncaps, nm, "", 0);
        }
    }
    pcre2_match_data_free(md);
    return 1;
}

/* ---- the URI nginx matches (r->uri) ---- */

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The path nginx matches locations against, from a request target as logged: an absolute
 * "http://host/p" reduced to "/p"; query string and fragment cut; %XX decoded; "." and ".."
 * segments resolved; runs of '/' merged unless merge is false (merge_slashes off). NULL
 * where nginx answers 400 without choosing a location (not starting with '/', ".." above
 * the root). Caller frees. */
static char *
uri_normalize(const char *raw, bool merge)
{
    const char *p = raw, *sch = strstr(raw, "://");
    struct buf dec = BUF_INIT, out = BUF_INIT;
    size_t *stack = NULL, nstack = 0, len;

    if (p[0] != '/' && sch != NULL && strcspn(p, "/?") > (size_t)(sch - p)) {
        p = sch + 3;
        p += strcspn(p, "/?#");
        if (*p != '/')
            return xstrdup("/");
    }
    if (*p != '/')
        return NULL;
    len = strcspn(p, "?#");
    for (size_t i = 0; i < len; i++) {
        int h, l;
        if (p[i] == '%' && i + 2 < len && (h = hexval(p[i + 1])) >= 0 &&
            (l = hexval(p[i + 2])) >= 0) {
            buf_addc(&dec, (char)(h * 16 + l));
            i += 2;
        } else {
            buf_addc(&dec, p[i]);
        }
    }
    const char *d = buf_str(&dec);
    size_t dl = dec.len;
    stack = xreallocarray(NULL, dl + 1, sizeof(*stack));
    for (size_t i = 0; i < dl;) {
        size_t j = i + 1, k;
        if (merge) {
            while (j < dl && d[j] == '/')
                j++;
        }
        for (k = j; k < dl && d[k] != '/'; k++)
            ;
        bool last = k >= dl;
        size_t sl = k - j;
        if (sl == 1 && d[j] == '.') {
            if (last)
                buf_addc(&out, '/');
        } else if (sl == 2 && d[j] == '.' && d[j + 1] == '.') {
            if (nstack == 0) {
                buf_free(&dec);
                buf_free(&out);
                free(stack);
                return NULL;
            }
            out.len = stack[--nstack];
            if (out.p != NULL)
                out.p[out.len] = '\0';
            if (last)
                buf_addc(&out, '/');
        } else {
            stack[nstack++] = out.len;
            buf_addc(&out, '/');
            buf_add(&out, d + j, sl);
        }
        i = k;
    }
    if (out.len == 0)
        buf_addc(&out, '/');
    buf_free(&dec);
    free(stack);
    return buf_detach(&out);
}

/* ---- server selection (ngx_http_find_virtual_server) ---- */

/* One listen of a server: the address:port it binds, and whether it is that socket's
 * default_server. A server without listen listens on *:80. */
struct listen_ent {
    struct addr a;
    bool def;
};

static size_t
server_listen_list(const struct ngx_node *srv, struct listen_ent **out)
{
    struct listen_ent *v = NULL;
    size_t n = 0;

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
        v = xreallocarray(v, n + 1, sizeof(*v));
        v[n].a = a;
        v[n++].def = def;
    }
    if (n == 0) {
        v = xmalloc(sizeof(*v));
        strcpy(v[0].a.host, "*");
        v[0].a.port = 80;
        v[0].def = false;
        n = 1;
    }
    *out = v;
    return n;
}

/* The host name as nginx validates it (ngx_http_validate_host): lowercased, without the
 * port and a trailing dot; "[v6]" kept with its brackets. */
static void
host_normalize(const char *in, char *out, size_t size)
{
    size_t n = 0;
    if (in[0] == '[') {
        size_t rb = strcspn(in, "]");
        snprintf(out, size, "%.*s", (int)(in[rb] == ']' ? rb + 1 : rb), in);
        return;
    }
    for (; in[n] != '\0' && in[n] != ':' && n + 1 < size; n++)
        out[n] = (char)tolower((unsigned char)in[n]);
    out[n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[n - 1] = '\0';
}

/* Scores how a server_name matches host: 4 exact, 3 leading wildcard, 2 trailing wildcard,
 * 1 regex (PCRE2, caseless as nginx compiles server names); *len is the wildcard length
 * (longest wins). sn and i identify the name for the regex cache. */
static int
name_match(struct resolve_ctx *c, const struct ngx_node *sn, size_t i, const char *host,
           size_t *len, char **note)
{
    const char *name = sn->args[i];
    size_t nl = strlen(name), hl = strlen(host);

    if (name[0] == '~') {
        pcre2_code *code = rx_get(c, sn, i, name + 1, true, note);
        return rx_exec(c, code, name + 1, host, note) == 1 ? 1 : 0;
    }
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

/* The name nginx logs as `server:` for srv: its first server_name ("" when none). */
static const char *
server_first_name(const struct ngx_node *srv)
{
    const struct ngx_node *sn = ngxconf_find(srv, "server_name");
    return sn != NULL && sn->nargs > 0 ? sn->args[0] : "";
}

/* Whether a server_name spelled as written is what nginx logs as logged. */
static bool
spelled_as(const char *name, const char *logged)
{
    if (name[0] == '~')
        return streq(name, logged);
    if (name[0] == '.')
        name++;
    return strcasecmp(name, logged) == 0;
}

static bool
addr_same_host(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0 || (streq(a, "localhost") && streq(b, "127.0.0.1")) ||
           (streq(b, "localhost") && streq(a, "127.0.0.1"));
}

/* The servers of one listening socket that may have taken the request. */
struct sgroup {
    char key[300]; /* "host:port" ("*:port" for a wildcard address) */
    bool wild;
    const struct ngx_node **m;
    size_t n;
    const struct ngx_node *def; /* listen ... default_server on this socket */
};

/* A socket's choice: rank 6 the first name as logged, 5 another name as logged, 4 exact
 * host, 3 leading wildcard, 2 trailing wildcard, 1 regex, 0 the socket's default. */
struct pick {
    const struct ngx_node *srv;
    int rank;
    size_t len;
    bool explicit_def;
};

static struct pick
group_pick(struct resolve_ctx *c, const struct sgroup *g, const struct resolve_query *q,
           const char *host, char **note)
{
    struct pick best = {NULL, -1, 0, false};

    for (size_t k = 0; k < g->n; k++) {
        const struct ngx_node *s = g->m[k];
        int r = -1;
        size_t len = 0;
        if (q->server != NULL) {
            if (spelled_as(server_first_name(s), q->server))
                r = 6;
            for (const struct ngx_node *sn = ngxconf_find(s, "server_name");
                 r < 0 && q->server[0] != '\0' && sn != NULL; sn = ngxconf_find_next(sn)) {
                for (size_t i = 0; i < sn->nargs && r < 0; i++) {
                    if (streq(sn->args[i], q->server))
                        r = 5;
                }
            }
        }
        for (const struct ngx_node *sn = ngxconf_find(s, "server_name");
             r < 0 && host[0] != '\0' && sn != NULL; sn = ngxconf_find_next(sn)) {
            for (size_t i = 0; i < sn->nargs; i++) {
                size_t l = 0;
                int sc = name_match(c, sn, i, host, &l, note);
                if (sc > r || (sc == r && (sc == 2 || sc == 3) && l > len)) {
                    r = sc;
                    len = l;
                }
            }
        }
        if (r <= 0)
            continue;
        if (r > best.rank || (r == best.rank && (r == 2 || r == 3) && len > best.len)) {
            best.srv = s;
            best.rank = r;
            best.len = len;
        }
    }
    if (best.srv == NULL) {
        best.srv = g->def != NULL ? g->def : g->m[0];
        best.rank = 0;
        best.explicit_def = g->def != NULL;
    }
    return best;
}

/*
 * The servers nginx may have given the request to, best first: one per listening socket
 * the query allows (the listen address:port, else the Host port, else any), each socket
 * choosing by name as nginx does; then only the sockets whose choice ranks best. More than
 * one means the query cannot decide. Returns the count; *out is allocated.
 */
static size_t
select_servers(struct resolve_ctx *c, const struct ngx_node *http, const struct resolve_query *q,
               const struct ngx_node ***out, char **note)
{
    struct addr qa;
    bool port_known = false, addr_known = false, any_specific = false;
    unsigned port = 0;
    char qhost[256] = "", name[256] = "";
    struct sgroup *g = NULL;
    size_t ng = 0, n = 0;
    struct pick *picks;
    const struct ngx_node **tier;

    if (q->listen != NULL && addr_parse(q->listen, 80, &qa) == 0) {
        port_known = true;
        port = qa.port;
        if (!addr_wild(qa.host)) {
            addr_known = true;
            snprintf(qhost, sizeof(qhost), "%s", qa.host);
        }
    } else if (q->host != NULL && addr_parse(q->host, 0, &qa) == 0 && qa.port != 0 &&
               !streq(qa.host, "*")) {
        port_known = true;
        port = qa.port;
    }
    if (q->host != NULL && q->host[0] != '\0')
        host_normalize(q->host, name, sizeof(name));
    else if (q->server != NULL && q->server[0] != '\0')
        host_normalize(q->server, name, sizeof(name));

    for (const struct ngx_node *s = ngxconf_find(http, "server"); s != NULL;
         s = ngxconf_find_next(s)) {
        struct listen_ent *ls;
        size_t nl;
        if (!s->block)
            continue;
        nl = server_listen_list(s, &ls);
        for (size_t i = 0; i < nl; i++) {
            bool wild = addr_wild(ls[i].a.host);
            char key[300];
            size_t k;
            if (port_known && ls[i].a.port != port)
                continue;
            if (addr_known && !wild && !addr_same_host(ls[i].a.host, qhost))
                continue;
            snprintf(key, sizeof(key), "%s:%u", wild ? "*" : ls[i].a.host, ls[i].a.port);
            for (k = 0; k < ng && strcasecmp(g[k].key, key) != 0; k++)
                ;
            if (k == ng) {
                g = xreallocarray(g, ng + 1, sizeof(*g));
                memset(&g[ng], 0, sizeof(*g));
                snprintf(g[ng].key, sizeof(g[ng].key), "%s", key);
                g[ng++].wild = wild;
            }
            if (g[k].n == 0 || g[k].m[g[k].n - 1] != s) {
                g[k].m = xreallocarray(g[k].m, g[k].n + 1, sizeof(*g[k].m));
                g[k].m[g[k].n++] = s;
            }
            if (ls[i].def && g[k].def == NULL)
                g[k].def = s;
            if (!wild)
                any_specific = true;
        }
        free(ls);
    }
    picks = xreallocarray(NULL, ng + 1, sizeof(*picks));
    int best = -1;
    size_t best_len = 0;
    for (size_t k = 0; k < ng; k++) {
        /* a connection to a specific address goes to the socket bound to it */
        if (addr_known && any_specific && g[k].wild)
            continue;
        struct pick p = group_pick(c, &g[k], q, name, note);
        picks[n++] = p;
        if (p.rank > best || (p.rank == best && p.len > best_len)) {
            best = p.rank;
            best_len = p.len;
        }
    }
    tier = xreallocarray(NULL, n + 1, sizeof(*tier));
    size_t nt = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < n; k++) {
            bool dup = false;
            if (picks[k].rank != best || picks[k].len != best_len)
                continue;
            /* among sockets' defaults, explicit default_server ones first */
            if (best == 0 && picks[k].explicit_def != (pass == 0))
                continue;
            if (best != 0 && pass == 1)
                continue;
            for (size_t t = 0; t < nt; t++)
                dup = dup || tier[t] == picks[k].srv;
            if (!dup)
                tier[nt++] = picks[k].srv;
        }
    }
    for (size_t k = 0; k < ng; k++)
        free(g[k].m);
    free(g);
    free(picks);
    *out = tier;
    return nt;
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

/* ngx_http_core_find_location on one level: an exact match ends the search; else the
 * longest prefix, whose nested locations are searched; then, unless that prefix is `^~`,
 * the regexes of this level in order (a match searches its nested locations). */
static int
find_location(struct resolve_ctx *c, const struct ngx_node *level, const char *uri,
              const struct ngx_node **result, char **note)
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
        if (find_location(c, best, uri, result, note) == FIND_OK)
            return FIND_OK;
    }
    if (!noregex) {
        for (const struct ngx_node *l = ngxconf_find(level, "location"); l != NULL;
             l = ngxconf_find_next(l)) {
            const char *re;
            enum loc_kind k = loc_parse(l, &re);
            if (!l->block || (k != LOC_REGEX && k != LOC_REGEX_ICASE))
                continue;
            pcre2_code *code = rx_get(c, l, 0, re, k == LOC_REGEX_ICASE, note);
            if (rx_exec(c, code, re, uri, note) == 1) {
                *result = l;
                find_location(c, l, uri, result, note);
                return FIND_OK;
            }
        }
    }
    return rc;
}

/* ---- variables in proxy_pass ---- */

/* What the request tells about variables (NULL when listing every use: nothing known). */
struct reqvars {
    const struct resolve_capture *caps;
    size_t ncaps;
    const char *host; /* $host, or NULL */
};

struct val {
    char *s;
    const struct ngx_node *origin; /* the set / map entry it comes from, or NULL */
};

/* The values an expression can take; partial when some cannot be known statically. */
struct vals {
    struct val *v;
    size_t n;
    bool partial;
};

#define VALS_MAX 64
#define VARS_DEPTH 4

static void
vals_add(struct vals *vs, const char *s, size_t len, const struct ngx_node *origin)
{
    for (size_t i = 0; i < vs->n; i++) {
        if (strlen(vs->v[i].s) == len && strncmp(vs->v[i].s, s, len) == 0)
            return;
    }
    if (vs->n == VALS_MAX) {
        vs->partial = true;
        return;
    }
    vs->v = xreallocarray(vs->v, vs->n + 1, sizeof(*vs->v));
    vs->v[vs->n].s = xstrndup(s, len);
    vs->v[vs->n++].origin = origin;
}

static void
vals_free(struct vals *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        free(vs->v[i].s);
    free(vs->v);
    memset(vs, 0, sizeof(*vs));
}

static void eval_template(const struct ngx_node *block, const struct reqvars *rv, const char *tpl,
                          const struct ngx_node *origin, struct vals *out, int depth);

/* The literal-or-evaluable `set $name value` directives among the kids of b and of the `if`
 * blocks in it; *direct tells whether one is a direct (unconditional) kid. */
static void
sets_in(const struct ngx_node *b, const struct ngx_node *use_block, const struct reqvars *rv,
        const char *name, struct vals *out, bool *found, bool *direct, int depth)
{
    for (const struct ngx_node *k = b->kids; k != NULL; k = k->next) {
        if (k->block && streq(k->name, "if")) {
            sets_in(k, use_block, rv, name, out, found, NULL, depth);
            continue;
        }
        if (k->block || !streq(k->name, "set") || k->nargs != 2 || k->args[0][0] != '$' ||
            !streq(k->args[0] + 1, name))
            continue;
        *found = true;
        if (direct != NULL)
            *direct = true;
        eval_template(use_block, rv, k->args[1], k, out, depth + 1);
    }
}

/* The values $name can take where use_block runs. */
static void
var_values(const struct ngx_node *use_block, const struct reqvars *rv, const char *name,
           struct vals *out, int depth)
{
    const struct ngx_node *loc = use_block, *srv, *module;
    bool found = false, direct = false;

    if (depth > VARS_DEPTH) {
        out->partial = true;
        return;
    }
    if (rv != NULL) {
        for (size_t i = 0; i < rv->ncaps; i++) {
            if (streq(rv->caps[i].name, name)) {
                vals_add(out, rv->caps[i].value, strlen(rv->caps[i].value), NULL);
                return;
            }
        }
        if (name[0] >= '1' && name[0] <= '9' && name[1] == '\0') {
            vals_add(out, "", 0, NULL); /* no regex group gave it: empty in nginx */
            return;
        }
        if (streq(name, "host") && rv->host != NULL) {
            vals_add(out, rv->host, strlen(rv->host), NULL);
            return;
        }
    }
    while (loc != NULL && loc->block &&
           (streq(loc->name, "if") || streq(loc->name, "limit_except")))
        loc = loc->parent;
    srv = ancestor(use_block, "server");
    /* rewrite-phase `set`s: the location's (and its ifs'), and the server's unless the
     * location sets it unconditionally */
    if (loc != NULL && loc != srv)
        sets_in(loc, use_block, rv, name, out, &found, &direct, depth);
    if (srv != NULL && !direct)
        sets_in(srv, use_block, rv, name, out, &found, NULL, depth);
    module = ancestor(use_block, "http");
    if (module == NULL)
        module = ancestor(use_block, "stream");
    for (const struct ngx_node *m = module != NULL ? ngxconf_find(module, "map") : NULL; m != NULL;
         m = ngxconf_find_next(m)) {
        if (!m->block || m->nargs < 2 || m->args[1][0] != '$' || !streq(m->args[1] + 1, name))
            continue;
        found = true;
        for (const struct ngx_node *k = m->kids; k != NULL; k = k->next) {
            if (k->block || k->nargs == 0 || streq(k->name, "include") ||
                streq(k->name, "hostnames") || streq(k->name, "volatile"))
                continue;
            eval_template(use_block, rv, k->args[0], k, out, depth + 1);
        }
    }
    if (!found)
        out->partial = true; /* a built-in, geo, split_clients, a request header, ... */
}

/* Evaluates a value with $var / ${var} references into the strings it can give. */
static void
eval_template(const struct ngx_node *block, const struct reqvars *rv, const char *tpl,
              const struct ngx_node *origin, struct vals *out, int depth)
{
    struct vals cur = {NULL, 0, false};

    vals_add(&cur, "", 0, origin);
    for (const char *p = tpl; *p != '\0' && cur.n > 0;) {
        size_t lit = strcspn(p, "$");
        if (lit > 0) {
            for (size_t i = 0; i < cur.n; i++) {
                char *s = xasprintf("%s%.*s", cur.v[i].s, (int)lit, p);
                free(cur.v[i].s);
                cur.v[i].s = s;
            }
            p += lit;
            continue;
        }
        /* $name, ${name}, $1 */
        char name[128];
        size_t nl = 0;
        p++;
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (e == NULL || (size_t)(e - p - 1) >= sizeof(name)) {
                cur.partial = true;
                break;
            }
            nl = (size_t)(e - p - 1);
            memcpy(name, p + 1, nl);
            p = e + 1;
        } else if (*p >= '0' && *p <= '9') {
            name[nl++] = *p++;
        } else {
            while ((isalnum((unsigned char)*p) || *p == '_') && nl + 1 < sizeof(name))
                name[nl++] = *p++;
        }
        name[nl] = '\0';
        if (nl == 0) {
            cur.partial = true;
            break;
        }
        struct vals vv = {NULL, 0, false}, next = {NULL, 0, false};
        var_values(block, rv, name, &vv, depth);
        for (size_t i = 0; i < cur.n; i++) {
            for (size_t j = 0; j < vv.n; j++) {
                char *s = xasprintf("%s%s", cur.v[i].s, vv.v[j].s);
                /* the first variable that comes from a set / map names the origin */
                vals_add(&next, s, strlen(s),
                         cur.v[i].origin != NULL && cur.v[i].origin != origin ? cur.v[i].origin
                         : vv.v[j].origin != NULL                             ? vv.v[j].origin
                                                                              : cur.v[i].origin);
                free(s);
            }
        }
        next.partial = cur.partial || vv.partial || next.partial;
        vals_free(&vv);
        vals_free(&cur);
        cur = next;
    }
    for (size_t i = 0; i < cur.n; i++)
        vals_add(out, cur.v[i].s, strlen(cur.v[i].s), cur.v[i].origin);
    out->partial = out->partial || cur.partial;
    vals_free(&cur);
}

/* ---- proxy_pass targets ---- */

static void
target_add(struct tls_use *u, const char *host, unsigned port, const struct ngx_node *origin,
           const char *name, bool guess)
{
    for (size_t i = 0; i < u->ntargets; i++) {
        if (u->targets[i].port == port && strcasecmp(u->targets[i].host, host) == 0)
            return; /* once per host:port (a variable's values may repeat one) */
    }
    u->targets = xreallocarray(u->targets, u->ntargets + 1, sizeof(*u->targets));
    u->targets[u->ntargets].host = xstrdup(host);
    u->targets[u->ntargets].port = port;
    u->targets[u->ntargets].origin = origin;
    u->targets[u->ntargets].name = name != NULL ? xstrdup(name) : NULL;
    u->targets[u->ntargets].guess = guess;
    u->ntargets++;
}

static void
upstream_targets(struct tls_use *u, const struct ngx_node *up, unsigned default_port,
                 const char *name, bool guess)
{
    for (const struct ngx_node *s = ngxconf_find(up, "server"); s != NULL;
         s = ngxconf_find_next(s)) {
        struct addr a;
        if (s->nargs > 0 && addr_parse(s->args[0], default_port, &a) == 0)
            target_add(u, a.host, a.port, s, name, guess);
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

/* Adds the targets one value of a variable proxy_pass gives ("10.0.0.1:8443", "pool",
 * "https://h:p/x"); false when it gives none (not TLS, not an address). */
static bool
value_targets(struct tls_use *u, const struct upstreams *ups, const char *value, bool stream,
              const struct ngx_node *origin)
{
    const char *hp = value, *scheme = sslconf_tls_scheme(u->ssl.family);
    char *hostport;
    struct addr a;
    bool ok = false;

    if (!stream) {
        if (strncasecmp(value, scheme, strlen(scheme)) != 0)
            return false;
        hp = value + strlen(scheme);
    }
    hostport = xstrndup(hp, strcspn(hp, "/?"));
    const struct ngx_node *up =
        strchr(hostport, ':') == NULL && hostport[0] != '[' ? find_upstream(ups, hostport) : NULL;
    if (up != NULL) {
        size_t before = u->ntargets;
        upstream_targets(u, up, stream ? 0 : 80, hostport, false);
        ok = u->ntargets > before || ngxconf_find(up, "server") != NULL;
    } else if (hostport[0] != '\0' && addr_parse(hostport, stream ? 0 : 443, &a) == 0 &&
               a.port != 0 && !streq(a.host, "*")) {
        target_add(u, a.host, a.port, origin, a.host, false);
        ok = true;
    }
    free(hostport);
    return ok;
}

/* The plain (not TLS) scheme of a family's pass: a value with it is no TLS use. */
static const char *
plain_scheme(enum pss_family fam)
{
    return fam == PSS_FAM_GRPC ? "grpc://" : fam == PSS_FAM_UWSGI ? "uwsgi://" : "http://";
}

/* Fills u from the pass directive pp (proxy_pass, grpc_pass, uwsgi_pass: family fam) in
 * block; returns false when it is not a TLS use. */
static bool
use_fill(struct tls_use *u, const struct ngx_node *block, const struct ngx_node *pp,
         enum pss_family fam, bool stream, const struct eff *known,
         const struct upstreams *known_ups, const struct reqvars *rv)
{
    const char *scheme = sslconf_tls_scheme(fam);
    size_t slen = strlen(scheme);

    const struct ngx_node *module = ancestor(block, stream ? "stream" : "http");
    const char *url;
    struct eff computed;
    const struct eff *e = known;
    struct upstreams own = {NULL, 0};
    const struct upstreams *ups = known_ups;
    struct vals vs = {NULL, 0, false};
    bool tls, literal_https;

    memset(u, 0, sizeof(*u));
    if (pp == NULL || pp->nargs == 0 || module == NULL)
        return false;
    if (e == NULL) {
        eff_of(&computed, block);
        e = &computed;
    }
    url = pp->args[0];
    literal_https = strncasecmp(url, scheme, slen) == 0;
    if (stream) {
        const struct ngx_node *on = e->ssl;
        tls = on != NULL && on->nargs > 0 && streq(on->args[0], "on");
    } else if (literal_https) {
        tls = true;
    } else {
        /* `proxy_pass $target;` with `set $target https://...`: TLS when a value is */
        tls = false;
        if (url[0] == '$') {
            eval_template(block, rv, url, pp, &vs, 0);
            for (size_t i = 0; i < vs.n && !tls; i++)
                tls = strncasecmp(vs.v[i].s, scheme, slen) == 0;
        }
    }
    if (!tls) {
        vals_free(&vs);
        return false;
    }
    if (ups == NULL) {
        upstreams_list(&own, module);
        ups = &own;
    }
    u->block = block;
    u->server = ancestor(block, "server");
    u->proxy_pass = pp;
    u->stream = stream;
    u->ssl.family = stream ? PSS_FAM_PROXY : fam;
    u->location = block;
    while (u->location != NULL &&
           (streq(u->location->name, "if") || streq(u->location->name, "limit_except")))
        u->location = u->location->parent;
    const char *hp = stream || !literal_https ? url : url + slen;
    size_t hl = strcspn(hp, "/?");
    char *hostport = xstrndup(hp, hl);
    if (strchr(url, '$') != NULL) {
        u->kind = RESOLVE_VARIABLE;
        u->proxy_host = hostport;
        if (vs.n == 0 && !vs.partial)
            eval_template(block, rv, url, pp, &vs, 0);
        bool all = !vs.partial && vs.n > 0;
        for (size_t i = 0; i < vs.n; i++) {
            if (!value_targets(u, ups, vs.v[i].s, stream, vs.v[i].origin) &&
                (stream ||
                 strncasecmp(vs.v[i].s, plain_scheme(fam), strlen(plain_scheme(fam))) != 0))
                all = false; /* a value that is no address: nginx resolves it at run time */
        }
        u->var_static = all && u->ntargets > 0;
        if (!u->var_static) {
            /* the old guess: any server of the module's upstream groups */
            for (size_t i = 0; i < ups->n; i++)
                upstream_targets(u, ups->v[i], stream ? 0 : 80, ups->v[i]->args[0], true);
        }
    } else {
        /* an explicit port means nginx makes an implicit upstream, not the block */
        const struct ngx_node *up =
            strchr(hostport, ':') == NULL ? find_upstream(ups, hostport) : NULL;
        struct addr a;
        if (up != NULL) {
            u->kind = RESOLVE_UPSTREAM;
            u->upstream = up;
            u->proxy_host = hostport;
            upstream_targets(u, up, stream ? 0 : 80, NULL, false);
        } else {
            u->kind = RESOLVE_LITERAL;
            if (addr_parse(hostport, 443, &a) == 0) {
                u->proxy_host = xstrdup(a.host);
                target_add(u, a.host, a.port, pp, NULL, false);
            } else {
                u->proxy_host = xstrdup(hostport);
            }
            free(hostport);
        }
    }
    u->context = resolve_context(block);
    eff_settings(e, u->ssl.family, block, &u->ssl);
    vals_free(&vs);
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

const char *
resolve_target_ssl_name(const struct tls_use *u, size_t ti)
{
    if (u->ssl.v[PSS_NAME].origin != PSS_DEFAULT && u->ssl.v[PSS_NAME].value != NULL)
        return u->ssl.v[PSS_NAME].value;
    if (ti < u->ntargets && u->targets[ti].name != NULL)
        return u->targets[ti].name;
    return u->proxy_host;
}

void
resolve_use_clear(struct tls_use *u)
{
    for (size_t i = 0; i < u->ntargets; i++) {
        free(u->targets[i].host);
        free(u->targets[i].name);
    }
    free(u->targets);
    free(u->proxy_host);
    free(u->context);
    memset(u, 0, sizeof(*u));
}

/* A deep copy of u (targets and strings duplicated; tree pointers shared). */
static void
use_copy(struct tls_use *dst, const struct tls_use *u)
{
    *dst = *u;
    dst->targets = NULL;
    dst->ntargets = 0;
    for (size_t i = 0; i < u->ntargets; i++) {
        const struct resolve_target *t = &u->targets[i];
        dst->targets = xreallocarray(dst->targets, dst->ntargets + 1, sizeof(*dst->targets));
        dst->targets[dst->ntargets].host = xstrdup(t->host);
        dst->targets[dst->ntargets].port = t->port;
        dst->targets[dst->ntargets].origin = t->origin;
        dst->targets[dst->ntargets].name = t->name != NULL ? xstrdup(t->name) : NULL;
        dst->targets[dst->ntargets].guess = t->guess;
        dst->ntargets++;
    }
    dst->proxy_host = u->proxy_host != NULL ? xstrdup(u->proxy_host) : NULL;
    dst->context = u->context != NULL ? xstrdup(u->context) : NULL;
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

    enum pss_family fam;
    const struct ngx_node *pp = pass_find(b, &fam);

    eff_derive(&e, parent, b);
    if (use_fill(&u, b, pp, fam, false, &e, ups, NULL))
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
                if (use_fill(&u, s, ngxconf_find(s, "proxy_pass"), PSS_FAM_PROXY, true, &es, &ups,
                             NULL))
                    use_push(&l, &u);
            }
        }
        free(ups.v);
    }
    *uses = l.v;
    return l.n;
}

/* ---- resolve_find ---- */

/* How well target t stands for the logged upstream a: 2 it is that address (or
 * "localhost" for 127.0.0.1 / [::1]), 1 it may be (a DNS name on that port, or a guess),
 * 0 it is not. */
static int
target_score(const struct resolve_target *t, const struct addr *a)
{
    if (t->port != a->port)
        return 0;
    if (strcasecmp(t->host, a->host) == 0 ||
        (strcasecmp(t->host, "localhost") == 0 &&
         (streq(a->host, "127.0.0.1") || streq(a->host, "[::1]"))))
        return t->guess ? 1 : 2;
    return addr_is_ip(t->host) ? 0 : 1;
}

static int
use_score(const struct tls_use *u, const struct addr *a)
{
    int best = 0;

    if (a->port == 0) {
        /* "upstream: \"https://g/x\"": nginx names the group when it has no live server */
        if (u->kind == RESOLVE_UPSTREAM && strcasecmp(u->proxy_host, a->host) == 0)
            return 2;
        for (size_t i = 0; i < u->ntargets; i++) {
            if (u->targets[i].name != NULL && strcasecmp(u->targets[i].name, a->host) == 0)
                best = u->targets[i].guess ? 1 : 2;
            if (best == 2)
                return 2;
        }
        struct addr a443 = *a;
        a443.port = 443; /* else an address without its port: https's */
        int s443 = use_score(u, &a443);
        return s443 > best ? s443 : best;
    }
    for (size_t i = 0; i < u->ntargets; i++) {
        int s = target_score(&u->targets[i], a);
        best = s > best ? s : best;
    }
    if (best == 0 && u->kind == RESOLVE_VARIABLE && !u->var_static)
        best = 1; /* the variable may give any address */
    return best;
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

/* Whether merge_slashes is off where srv is (server, else http). */
static bool
merge_slashes(const struct ngx_node *srv)
{
    for (const struct ngx_node *b = srv; b != NULL; b = b->parent) {
        const struct ngx_node *d = ngxconf_find(b, "merge_slashes");
        if (d != NULL && d->nargs > 0)
            return strcasecmp(d->args[0], "off") != 0;
    }
    return true;
}

/* The proxy_pass paths of the location nginx runs the request in: its own proxy_pass and
 * those of the `if` / `limit_except` blocks directly in it (their own proxy_pass replaces
 * the location's when they apply; one without proxy_pass uses the location's). */
static void
location_paths(struct use_list *l, const struct ngx_node *loc, bool stream,
               const struct reqvars *rv)
{
    struct tls_use u;
    struct eff e, ek;

    enum pss_family fam = PSS_FAM_PROXY;
    const struct ngx_node *pp = stream ? ngxconf_find(loc, "proxy_pass") : pass_find(loc, &fam);

    eff_of(&e, loc);
    if (use_fill(&u, loc, pp, fam, stream, &e, NULL, rv))
        use_push(l, &u);
    if (stream)
        return;
    for (const struct ngx_node *k = loc->kids; k != NULL; k = k->next) {
        if (!k->block || (!streq(k->name, "if") && !streq(k->name, "limit_except")))
            continue;
        eff_derive(&ek, &e, k);
        pp = pass_find(k, &fam);
        if (use_fill(&u, k, pp, fam, false, &ek, NULL, rv))
            use_push(l, &u);
    }
}

/* One server nginx may have chosen, with the location and its paths. */
struct placing {
    const struct ngx_node *server, *block;
    struct use_list paths;
    struct resolve_capture *caps;
    size_t ncaps;
};

static void
result_candidates(struct resolve_result *res, struct tls_use **v, size_t n)
{
    res->candidates = xreallocarray(NULL, n, sizeof(*res->candidates));
    for (size_t i = 0; i < n; i++)
        use_copy(&res->candidates[i], v[i]);
    res->ncandidates = n;
}

/* Chooses among the uses in v (n >= 1): one is placed; several are candidates. */
static void
result_choose(struct resolve_result *res, struct tls_use **v, size_t n, const char *why)
{
    use_copy(&res->use, v[0]);
    res->has_use = true;
    res->server = v[0]->server;
    res->block = v[0]->location;
    if (n > 1) {
        result_candidates(res, v, n);
        free(res->note);
        res->note = xasprintf("the log cannot decide among %zu uses (%s): candidates listed, "
                              "the first shown",
                              n, why);
    }
}

int
resolve_find_ctx(struct resolve_ctx *c, const struct resolve_query *q, struct resolve_result *res,
                 char **cause)
{
    const struct ngxconf *conf = c->conf;
    struct addr ua, *uap = NULL;
    const struct ngx_node *module = module_block(conf, q->stream ? "stream" : "http");
    const struct ngx_node **servers = NULL;
    struct placing *pl = NULL;
    size_t nservers = 0, npl = 0;
    struct tls_use **pick = NULL;
    size_t npick = 0;
    char host[256] = "";
    int rc = -1;

    memset(res, 0, sizeof(*res));
    /* port 0: the logged upstream has none (a group name, see use_score) */
    if (q->upstream != NULL && addr_parse(q->upstream, 0, &ua) == 0)
        uap = &ua;
    if (module == NULL) {
        *cause = xasprintf("%s: no %s block", conf->files[0]->path, q->stream ? "stream" : "http");
        return -1;
    }
    if (q->host != NULL)
        host_normalize(q->host, host, sizeof(host));
    if (q->stream) {
        const struct ngx_node *s = select_stream_server(module, q);
        if (s != NULL) {
            servers = xmalloc(sizeof(*servers));
            servers[nservers++] = s;
        }
    } else if (q->server != NULL || q->listen != NULL || q->host != NULL) {
        nservers = select_servers(c, module, q, &servers, &res->note);
    }

    /* each server: the location for the URI and its proxy_pass paths */
    pl = xcalloc(nservers + 1, sizeof(*pl));
    for (size_t i = 0; i < nservers; i++) {
        struct placing *p = &pl[npl++];
        struct reqvars rv;
        p->server = p->block = servers[i];
        caps_clear(&c->caps, &c->ncaps);
        if (!q->stream && host[0] != '\0') {
            /* a server_name regex's captures are the request's too */
            size_t len;
            for (const struct ngx_node *sn = ngxconf_find(servers[i], "server_name"); sn != NULL;
                 sn = ngxconf_find_next(sn)) {
                bool hit = false;
                for (size_t k = 0; k < sn->nargs && !hit; k++)
                    hit = sn->args[k][0] == '~' && name_match(c, sn, k, host, &len, &res->note);
                if (hit)
                    break;
            }
        }
        if (!q->stream && q->uri != NULL) {
            char *uri = uri_normalize(q->uri, merge_slashes(servers[i]));
            const struct ngx_node *loc = NULL;
            if (uri != NULL)
                find_location(c, servers[i], uri, &loc, &res->note);
            else if (res->note == NULL)
                res->note = xasprintf("request URI \"%s\" is one nginx answers 400", q->uri);
            free(uri);
            if (loc != NULL)
                p->block = loc;
        }
        rv.caps = c->caps;
        rv.ncaps = c->ncaps;
        rv.host = host[0] != '\0' ? host : NULL;
        if (q->stream || p->block != p->server)
            location_paths(&p->paths, p->block, q->stream, &rv);
        p->caps = c->caps;
        p->ncaps = c->ncaps;
        c->caps = NULL;
        c->ncaps = 0;
    }
    if (npl > 0) {
        res->server = pl[0].server;
        res->block = pl[0].block;
    }

    if (uap == NULL) {
        /* no upstream to cross-check: each server's location's own proxy_pass, else its
         * only path, else all of its paths */
        for (size_t i = 0; i < npl; i++) {
            struct use_list *ps = &pl[i].paths;
            size_t own = ps->n;
            for (size_t k = 0; k < ps->n && own == ps->n; k++) {
                if (ps->v[k].block == pl[i].block)
                    own = k;
            }
            for (size_t k = 0; k < ps->n; k++) {
                if (own != ps->n && k != own)
                    continue;
                pick = xreallocarray(pick, npick + 1, sizeof(*pick));
                pick[npick++] = &ps->v[k];
            }
        }
        if (npick > 0)
            result_choose(res, pick, npick,
                          npl > 1 ? "several servers may have taken the request"
                                  : "the location has several proxy_pass paths");
    } else {
        int best = 0;
        for (size_t i = 0; i < npl; i++) {
            for (size_t k = 0; k < pl[i].paths.n; k++) {
                int s = use_score(&pl[i].paths.v[k], uap);
                best = s > best ? s : best;
            }
        }
        for (size_t i = 0; best > 0 && i < npl; i++) {
            for (size_t k = 0; k < pl[i].paths.n; k++) {
                if (use_score(&pl[i].paths.v[k], uap) != best)
                    continue;
                pick = xreallocarray(pick, npick + 1, sizeof(*pick));
                pick[npick++] = &pl[i].paths.v[k];
            }
        }
        if (npick > 0) {
            result_choose(res, pick, npick, "each proxies to that upstream");
        } else {
            /* the request's location does not proxy there (or no server / URI was given):
             * the uses that do, within the servers nginx may have chosen */
            struct tls_use *uses;
            size_t n = resolve_uses(conf, &uses);
            for (int want = 2; want >= 1 && npick == 0; want--) {
                for (size_t i = 0; i < n; i++) {
                    bool in = npl == 0;
                    for (size_t k = 0; k < npl && !in; k++)
                        in = uses[i].server == pl[k].server ||
                             (q->stream && uses[i].block == pl[k].server);
                    if (!in || uses[i].stream != q->stream || use_score(&uses[i], uap) != want)
                        continue;
                    /* a variable that may give anything is no evidence for a block the
                     * request did not map to */
                    if (want == 1 && uses[i].kind == RESOLVE_VARIABLE && !uses[i].var_static)
                        continue;
                    pick = xreallocarray(pick, npick + 1, sizeof(*pick));
                    pick[npick++] = &uses[i];
                }
                /* without any server / URI in the query only an exact target places it */
                if (npl == 0)
                    break;
            }
            char up[300];
            snprintf(up, sizeof(up), uap->port != 0 ? "%s:%u" : "%s", uap->host, uap->port);
            if (npick > 0) {
                char *where = npl > 0 ? resolve_context(pl[0].block) : NULL;
                result_choose(res, pick, npick, "each proxies to that upstream");
                res->by_upstream = true;
                if (where != NULL && npick == 1) {
                    free(res->note);
                    res->note = xasprintf("%s does not proxy to %s; placed in %s, which does",
                                          where, up, res->use.context);
                }
                free(where);
            } else if (npl > 0) {
                char *where = resolve_context(pl[0].block);
                free(res->note);
                res->note = xasprintf("%s does not proxy to %s, nor does any block of that "
                                      "server: the event cannot be placed",
                                      where, up);
                free(where);
            }
            resolve_uses_free(uses, n);
        }
    }
    /* the chosen server's captures */
    for (size_t i = 0; i < npl; i++) {
        if (res->server == pl[i].server && res->captures == NULL) {
            res->captures = pl[i].caps;
            res->ncaptures = pl[i].ncaps;
            pl[i].caps = NULL;
            pl[i].ncaps = 0;
        }
    }

    if (res->block == NULL) {
        *cause = xasprintf("%s: no %s matches %s%s%s", conf->files[0]->path,
                           q->stream ? "stream server" : "server or location",
                           q->listen != NULL   ? q->listen
                           : q->server != NULL ? q->server
                           : q->host != NULL   ? q->host
                                               : "",
                           q->uri != NULL ? " " : "", q->uri != NULL ? q->uri : "");
        resolve_result_free(res);
        goto out;
    }
    if (res->has_use) {
        if (uap != NULL)
            res->upstream_matches = use_score(&res->use, uap) == 2;
        if (res->use.kind == RESOLVE_VARIABLE && !res->use.var_static && res->note == NULL)
            res->note = xasprintf("proxy_pass %s uses a variable: cannot resolve statically",
                                  res->use.proxy_pass->value);
    }
    rc = 0;
out:
    for (size_t i = 0; i < npl; i++) {
        for (size_t k = 0; k < pl[i].paths.n; k++)
            resolve_use_clear(&pl[i].paths.v[k]);
        free(pl[i].paths.v);
        caps_clear(&pl[i].caps, &pl[i].ncaps);
    }
    free(pl);
    free(pick);
    free(servers);
    return rc;
}

int
resolve_find(const struct ngxconf *conf, const struct resolve_query *q, struct resolve_result *res,
             char **cause)
{
    struct resolve_ctx *c = resolve_ctx_new(conf);
    int rc = resolve_find_ctx(c, q, res, cause);
    resolve_ctx_free(c);
    return rc;
}

void
resolve_result_free(struct resolve_result *res)
{
    if (res->has_use)
        resolve_use_clear(&res->use);
    for (size_t i = 0; i < res->ncandidates; i++)
        resolve_use_clear(&res->candidates[i]);
    free(res->candidates);
    caps_clear(&res->captures, &res->ncaptures);
    free(res->note);
    memset(res, 0, sizeof(*res));
}

/* ---- a request named as a URL (probe --location-of) ---- */

int
resolve_url_parse(const char *url, struct resolve_url *u, char **cause)
{
    static const struct {
        const char *scheme;
        unsigned port; /* 0: the port must be written */
        bool stream;
    } schemes[] = {{"http://", 80, false},
                   {"https://", 443, false},
                   {"tcp://", 0, true},
                   {"stream://", 0, true}};
    const char *h = NULL;
    char *host = NULL;
    unsigned port, dport = 80;
    bool stream = false;
    size_t hl;

    memset(u, 0, sizeof(*u));
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strncasecmp(url, schemes[i].scheme, strlen(schemes[i].scheme)) == 0) {
            h = url + strlen(schemes[i].scheme);
            dport = schemes[i].port;
            stream = schemes[i].stream;
            break;
        }
    }
    if (h == NULL && strstr(url, "://") != NULL) {
        *cause = xasprintf("%s: the scheme is not http://, https:// or tcp://", url);
        return -1;
    }
    if (h == NULL)
        h = url; /* "name:port/path": as http:// */
    hl = strcspn(h, "/?#");
    if (addr_split(h, hl, dport, &host, &port) != 0 || host[0] == '\0' || port == 0) {
        *cause = xasprintf(
            stream ? "%s: not tcp://ADDRESS:PORT" : "%s: not http(s)://NAME[:PORT]/PATH", url);
        free(host);
        return -1;
    }
    for (char *p = host; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    /* the address connected to: an IP literal, or localhost's */
    const char *addr = addr_is_ip(host) ? host : streq(host, "localhost") ? "127.0.0.1" : NULL;
    u->q.stream = stream;
    if (stream) {
        if (addr == NULL) {
            *cause = xasprintf("%s: a stream server is named by its listen address "
                               "(tcp://127.0.0.1:PORT), not by a host name",
                               url);
            free(host);
            return -1;
        }
        u->listen = xasprintf("%s:%u", addr, port);
        u->q.listen = u->listen;
        free(host);
        return 0;
    }
    if (addr != NULL) {
        u->listen = xasprintf("%s:%u", addr, port);
        u->q.listen = u->listen;
    }
    u->host = xasprintf("%s:%u", host, port); /* the Host header; its port is the listen port */
    u->q.host = u->host;
    u->uri = xstrdup(h[hl] == '/' ? h + hl : "/");
    u->q.uri = u->uri;
    free(host);
    return 0;
}

void
resolve_url_free(struct resolve_url *u)
{
    free(u->host);
    free(u->listen);
    free(u->uri);
    memset(u, 0, sizeof(*u));
}

/* ---- proxy_ssl_conf_command (an array directive: the nearest level that has any) ---- */

char *
resolve_conf_commands(const struct ngx_node *block)
{
    char name[32]; /* grpc_ssl_conf_command in a grpc location: each family has its own */

    snprintf(name, sizeof(name), "%s_ssl_conf_command",
             sslconf_family_name(resolve_block_family(block)));
    for (const struct ngx_node *b = block; b != NULL && b->parent != NULL; b = b->parent) {
        struct buf out = BUF_INIT;
        for (const struct ngx_node *k = b->kids; k != NULL; k = k->next) {
            if (k->block || !streq(k->name, name) || k->nargs < 1)
                continue;
            buf_addf(&out, "%s%s %s", out.len > 0 ? "\n" : "", k->args[0],
                     k->nargs > 1 ? k->args[1] : "");
        }
        if (out.len > 0)
            return buf_detach(&out);
        buf_free(&out);
    }
    return NULL;
}
