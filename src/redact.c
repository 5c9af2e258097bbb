/*
 * redact.c — the redactor of reports (include/redact.h): one left-to-right scan of free
 * text that replaces secrets (headers, tokens, queries, userinfo, passwords, private keys)
 * and maps names and addresses to stable placeholders, plus the diff form that also hides
 * key and password files. Reads only the --redact-map; never a key or password file.
 * Prints nothing. Called by report.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "buf.h"
#include "redact.h"
#include "xmalloc.h"
#include "yamlio.h"

struct entry {
    char *real; /* lower-case for names */
    char *ph;   /* placeholder; equal to real when kept */
};

struct table {
    struct entry *v;
    size_t n;
};

struct redact {
    bool enabled;
    struct table names;   /* hosts and addresses with their placeholders */
    struct table keep;    /* kept names (ph unused) */
    struct table hide;    /* names to look for in free text (ph unused) */
    struct table secrets; /* secret file paths, without a leading '/' (ph unused) */
    unsigned nhost, naddr;
    unsigned long count[RK__COUNT];
};

static const char *const kind_names[RK__COUNT] = {
    [RK_ADDRESS] = "address",
    [RK_HOST] = "host",
    [RK_HEADER] = "header",
    [RK_TOKEN] = "token",
    [RK_QUERY] = "query",
    [RK_USERINFO] = "userinfo",
    [RK_PASSWORD] = "password",
    [RK_PRIVATE_KEY] = "private_key",
    [RK_SECRET_FILE] = "secret_file",
};

const char *
redact_kind_name(enum redact_kind k)
{
    return (unsigned)k < RK__COUNT ? kind_names[k] : "?";
}

/* ---- tables ---- */

static char *
lower_dup(const char *s, size_t len)
{
    char *d = xstrndup(s, len);

    for (char *p = d; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    len = strlen(d);
    while (len > 1 && d[len - 1] == '.') /* "host." is "host" */
        d[--len] = '\0';
    return d;
}

static struct entry *
table_find(const struct table *t, const char *s, size_t len)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strlen(t->v[i].real) == len && strncasecmp(t->v[i].real, s, len) == 0)
            return &t->v[i];
    }
    return NULL;
}

static struct entry *
table_add(struct table *t, const char *s, size_t len, const char *ph)
{
    struct entry *e = table_find(t, s, len);

    if (e != NULL)
        return e;
    t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
    e = &t->v[t->n++];
    e->real = lower_dup(s, len);
    e->ph = ph != NULL ? xstrdup(ph) : NULL;
    return e;
}

static void
table_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].real);
        free(t->v[i].ph);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

struct redact *
redact_new(bool enabled)
{
    struct redact *r = xcalloc(1, sizeof(*r));

    r->enabled = enabled;
    return r;
}

void
redact_free(struct redact *r)
{
    if (r == NULL)
        return;
    table_free(&r->names);
    table_free(&r->keep);
    table_free(&r->hide);
    table_free(&r->secrets);
    free(r);
}

bool
redact_enabled(const struct redact *r)
{
    return r->enabled;
}

unsigned long
redact_count(const struct redact *r, enum redact_kind k)
{
    return (unsigned)k < RK__COUNT ? r->count[k] : 0;
}

unsigned long
redact_total(const struct redact *r)
{
    unsigned long n = 0;

    for (int k = 0; k < RK__COUNT; k++)
        n += r->count[k];
    return n;
}

/* "host:port" and "[v6]:port" give "host" / "v6" in [*s, *s + *len). */
static void
strip_port(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;

    if (n > 0 && p[0] == '[') {
        const char *e = memchr(p, ']', n);
        if (e != NULL) {
            *s = p + 1;
            *len = (size_t)(e - p - 1);
        }
        return;
    }
    const char *c = memchr(p, ':', n);
    if (c != NULL && memchr(c + 1, ':', n - (size_t)(c + 1 - p)) == NULL)
        *len = (size_t)(c - p);
}

void
redact_keep(struct redact *r, const char *name)
{
    size_t len;

    if (name == NULL || *name == '\0')
        return;
    len = strlen(name);
    table_add(&r->keep, name, len, NULL);
    strip_port(&name, &len);
    if (len > 0)
        table_add(&r->keep, name, len, NULL);
}

static bool
is_kept(const struct redact *r, const char *s, size_t len)
{
    struct entry *e = table_find(&r->names, s, len);

    if (e != NULL)
        return strcmp(e->ph, e->real) == 0;
    return table_find(&r->keep, s, len) != NULL;
}

void
redact_learn_host(struct redact *r, const char *name)
{
    size_t len;

    if (name == NULL)
        return;
    len = strlen(name);
    strip_port(&name, &len);
    /* "_" and "" are nginx's catch-all spellings, "~..." a regex: no name to hide */
    if (len == 0 || (len == 1 && name[0] == '_') || name[0] == '~' || name[0] == '*' ||
        name[0] == '.' || is_kept(r, name, len))
        return;
    table_add(&r->hide, name, len, NULL);
}

void
redact_learn_secret_file(struct redact *r, const char *path)
{
    if (path == NULL || *path == '\0')
        return;
    while (*path == '/')
        path++;
    table_add(&r->secrets, path, strlen(path), NULL);
}

static const char *
placeholder(struct redact *r, const char *s, size_t len, bool address)
{
    struct entry *e = table_find(&r->names, s, len);

    if (e == NULL) {
        char ph[32];
        if (address)
            snprintf(ph, sizeof(ph), "ip-%u", ++r->naddr);
        else
            snprintf(ph, sizeof(ph), "host-%u", ++r->nhost);
        e = table_add(&r->names, s, len, ph);
    }
    if (strcmp(e->ph, e->real) != 0)
        r->count[address ? RK_ADDRESS : RK_HOST]++;
    return e->ph;
}

const char *
redact_host(struct redact *r, const char *name)
{
    if (!r->enabled || name == NULL || *name == '\0' || is_kept(r, name, strlen(name)))
        return name;
    return placeholder(r, name, strlen(name), false);
}

const char *
redact_address(struct redact *r, const char *addr)
{
    /* only the map keeps a client: an upstream's address seen as a client (loopback) is
     * still a client's */
    if (!r->enabled || addr == NULL || *addr == '\0')
        return addr;
    return placeholder(r, addr, strlen(addr), true);
}

int
redact_load_map(struct redact *r, const char *path, char **cause)
{
    struct buf b = BUF_INIT;
    struct yamlio_doc d;
    const yaml_node_t *names, *keep;
    int rc = -1;

    memset(&d, 0, sizeof(d));
    if (atomicfile_read(path, &b, NULL, cause) == -1)
        goto out;
    if (yamlio_load(&d, path, b.p != NULL ? b.p : "", b.len, cause) == -1)
        goto out;
    if (d.root != NULL && d.root->type != YAML_MAPPING_NODE) {
        char *w = yamlio_where(&d, d.root);
        *cause = xasprintf("%s: a redact map is a mapping (names:, keep:)", w);
        free(w);
        goto out;
    }
    names = yamlio_get(&d, d.root, "names");
    if (names != NULL) {
        if (names->type != YAML_MAPPING_NODE) {
            char *w = yamlio_where(&d, names);
            *cause = xasprintf("%s: names: is a mapping of real name to placeholder", w);
            free(w);
            goto out;
        }
        for (yaml_node_pair_t *p = names->data.mapping.pairs.start;
             p < names->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&d.d, p->key);
            yaml_node_t *v = yaml_document_get_node((yaml_document_t *)&d.d, p->value);
            if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE ||
                v->type != YAML_SCALAR_NODE || k->data.scalar.length == 0) {
                char *w = yamlio_where(&d, k != NULL ? k : names);
                *cause = xasprintf("%s: each entry of names: is NAME: PLACEHOLDER", w);
                free(w);
                goto out;
            }
            const char *ks = (const char *)k->data.scalar.value;
            size_t kl = k->data.scalar.length;
            char *vs = xstrndup((const char *)v->data.scalar.value, v->data.scalar.length);
            char *low = lower_dup(ks, kl);
            struct entry *e = table_find(&r->names, ks, kl);
            if (e == NULL) {
                e = table_add(&r->names, ks, kl, strcmp(vs, "keep") == 0 ? low : vs);
            } else {
                free(e->ph);
                e->ph = xstrdup(strcmp(vs, "keep") == 0 ? low : vs);
            }
            if (strcmp(e->ph, e->real) != 0 && strchr(e->real, ':') == NULL &&
                !isdigit((unsigned char)e->real[0]))
                table_add(&r->hide, ks, kl, NULL);
            free(low);
            free(vs);
        }
    }
    keep = yamlio_get(&d, d.root, "keep");
    for (size_t i = 0; keep != NULL && i < yamlio_seq_len(keep); i++) {
        const yaml_node_t *n = yamlio_seq_at(&d, keep, i);
        if (n != NULL && n->type == YAML_SCALAR_NODE) {
            char *low = lower_dup((const char *)n->data.scalar.value, n->data.scalar.length);
            struct entry *e = table_add(&r->names, low, strlen(low), low);
            free(e->ph);
            e->ph = xstrdup(e->real);
            free(low);
        }
    }
    rc = 0;
out:
    yamlio_doc_free(&d);
    buf_free(&b);
    return rc;
}

/* ---- the scan of free text ---- */

static bool
is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static bool
is_b64(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '/' || c == '=' || c == '_' || c == '-';
}

static bool
is_hostc(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

/* s[0..len) starts with lit, case-insensitively. */
static bool
ci_at(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);

    return len >= n && strncasecmp(s, lit, n) == 0;
}

static const char *const header_names[] = {
    "proxy-authorization", "authorization", "set-cookie", "cookie",
    "x-api-key",           "x-auth-token",  NULL};

/* A header name at s followed by a separator: the value is replaced. Returns the bytes
 * consumed (0: no match). */
static size_t
match_header(struct redact *r, const char *s, size_t len, struct buf *out)
{
    for (size_t h = 0; header_names[h] != NULL; h++) {
        size_t n = strlen(header_names[h]), i;
        bool colon = false;

        if (!ci_at(s, len, header_names[h]) || (n < len && is_word(s[n])))
            continue;
        i = n;
        if (i < len && (s[i] == '"' || s[i] == '\''))
            i++; /* "Authorization" quoted as a config word */
        size_t sep = i;
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ':' || s[i] == '=')) {
            colon |= s[i] == ':';
            i++;
        }
        if (i == sep || i >= len || s[i] == '\n' || s[i] == ';')
            continue;
        buf_add(out, s, i);
        if (s[i] == '$') { /* a variable ($http_authorization) names no secret */
            size_t j = i;
            while (j < len && !isspace((unsigned char)s[j]) && s[j] != ';' && s[j] != '"')
                j++;
            buf_add(out, s + i, j - i);
            return j;
        }
        size_t j = i;
        if (s[i] == '"' || s[i] == '\'') {
            char q = s[i];
            j = i + 1;
            while (j < len && s[j] != q && s[j] != '\n')
                j++;
            buf_addc(out, q);
            buf_adds(out, "[redacted]");
            if (j < len && s[j] == q) {
                buf_addc(out, q);
                j++;
            }
        } else {
            while (j < len && s[j] != '\n' && s[j] != '"' && (colon || s[j] != ';'))
                j++;
            buf_adds(out, "[redacted]");
        }
        r->count[RK_HEADER]++;
        return j;
    }
    return 0;
}

/* "Bearer TOKEN" / "Basic B64". */
static size_t
match_scheme_token(struct redact *r, const char *s, size_t len, struct buf *out)
{
    static const char *const schemes[] = {"bearer ", "basic ", "token ", NULL};

    for (size_t k = 0; schemes[k] != NULL; k++) {
        size_t n = strlen(schemes[k]), j;
        if (!ci_at(s, len, schemes[k]))
            continue;
        j = n;
        while (j < len && (isalnum((unsigned char)s[j]) || strchr("._~+/=-", s[j]) != NULL))
            j++;
        if (j - n < 8)
            continue;
        buf_add(out, s, n);
        buf_adds(out, "[redacted]");
        r->count[RK_TOKEN]++;
        return j;
    }
    return 0;
}

static const struct {
    const char *key;
    enum redact_kind kind;
    bool colon; /* "key: value" counts too (else only key=value) */
} secret_keys[] = {
    {"password", RK_PASSWORD, true},
    {"passwd", RK_PASSWORD, true},
    {"passphrase", RK_PASSWORD, true},
    {"pwd", RK_PASSWORD, false},
    {"pass", RK_PASSWORD, false},
    {"client_secret", RK_TOKEN, true},
    {"secret", RK_TOKEN, true},
    {"api_key", RK_TOKEN, true},
    {"api-key", RK_TOKEN, true},
    {"apikey", RK_TOKEN, true},
    {"access_token", RK_TOKEN, true},
    {"refresh_token", RK_TOKEN, true},
    {"id_token", RK_TOKEN, true},
    {"token", RK_TOKEN, true},
    {"auth", RK_TOKEN, false},
    {"session", RK_TOKEN, false},
    {"sessionid", RK_TOKEN, false},
    {"sid", RK_TOKEN, false},
    {"key", RK_TOKEN, false},
    {"sig", RK_TOKEN, false},
    {"signature", RK_TOKEN, false},
    {"x-amz-signature", RK_TOKEN, false},
    {"x-amz-credential", RK_TOKEN, false},
};

static size_t
match_secret_key(struct redact *r, const char *s, size_t len, struct buf *out)
{
    for (size_t k = 0; k < sizeof(secret_keys) / sizeof(secret_keys[0]); k++) {
        size_t n = strlen(secret_keys[k].key), i, j;
        if (!ci_at(s, len, secret_keys[k].key) || n >= len)
            continue;
        i = n;
        if (s[i] == '"' || s[i] == '\'')
            i++;
        if (i < len && s[i] == '=') {
            i++;
        } else if (secret_keys[k].colon && i < len && s[i] == ':') {
            i++;
            while (i < len && (s[i] == ' ' || s[i] == '\t'))
                i++;
        } else {
            continue;
        }
        char q = 0;
        if (i < len && (s[i] == '"' || s[i] == '\''))
            q = s[i++];
        j = i;
        while (j < len && s[j] != '&' && s[j] != '"' && s[j] != '\'' && s[j] != ';' &&
               s[j] != ',' && !isspace((unsigned char)s[j]))
            j++;
        if (j == i || s[i] == '[')
            continue;
        buf_add(out, s, i);
        (void)q;
        buf_adds(out, "[redacted]");
        r->count[secret_keys[k].kind]++;
        return j;
    }
    return 0;
}

/* eyJ...(.)...(.)... */
static size_t
match_jwt(struct redact *r, const char *s, size_t len, struct buf *out)
{
    size_t j = 3, dots = 0;

    if (!ci_at(s, len, "eyJ") || strncmp(s, "eyJ", 3) != 0)
        return 0;
    while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '-' || s[j] == '.')) {
        dots += s[j] == '.';
        j++;
    }
    if (dots < 1 || j < 16)
        return 0;
    buf_adds(out, "[redacted]");
    r->count[RK_TOKEN]++;
    return j;
}

/* A long run of hex, or of base64 with upper, lower and digits. */
static size_t
match_long_secret(struct redact *r, const char *s, size_t len, struct buf *out)
{
    size_t j = 0;
    bool up = false, lo = false, dig = false, hex = true;

    if (s[0] == '/')
        return 0; /* a path */
    while (j < len && is_b64(s[j]) && s[j] != '=') {
        unsigned char c = (unsigned char)s[j];
        up |= isupper(c) != 0;
        lo |= islower(c) != 0;
        dig |= isdigit(c) != 0;
        hex &= isxdigit(c) != 0;
        j++;
    }
    while (j < len && s[j] == '=') /* padding ends it; "name=value" is two words */
        j++;
    if (j < 32 || !(hex || (up && lo && dig)))
        return 0;
    buf_adds(out, "[redacted]");
    r->count[RK_TOKEN]++;
    return j;
}

/* A dotted quad at s (not part of a longer number). */
static size_t
ipv4_len(const char *s, size_t len)
{
    size_t j = 0;

    for (int part = 0; part < 4; part++) {
        size_t d = 0;
        unsigned v = 0;
        while (j < len && isdigit((unsigned char)s[j]) && d < 3) {
            v = v * 10 + (unsigned)(s[j] - '0');
            j++;
            d++;
        }
        if (d == 0 || v > 255)
            return 0;
        if (part < 3) {
            if (j >= len || s[j] != '.')
                return 0;
            j++;
        }
    }
    if (j < len && (isalnum((unsigned char)s[j]) ||
                    (s[j] == '.' && j + 1 < len && isdigit((unsigned char)s[j + 1]))))
        return 0;
    return j;
}

static size_t
ipv6_len(const char *s, size_t len)
{
    size_t j = 0, colons = 0;
    bool hexd = false;
    char tmp[64];
    unsigned char bin[16];

    while (j < len && j < 45 && (isxdigit((unsigned char)s[j]) || s[j] == ':' || s[j] == '.')) {
        colons += s[j] == ':';
        hexd |= isxdigit((unsigned char)s[j]) != 0;
        j++;
    }
    if (colons < 2 || !hexd || (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_')))
        return 0;
    while (j > 0 && s[j - 1] == '.')
        j--;
    memcpy(tmp, s, j);
    tmp[j] = '\0';
    if (inet_pton(AF_INET6, tmp, bin) != 1)
        return 0;
    return j;
}

static bool
internal_tld(const char *s, size_t len)
{
    static const char *const tlds[] = {".internal",  ".corp",        ".local",
                                       ".lan",       ".intranet",    ".private",
                                       ".home.arpa", ".localdomain", NULL};
    for (size_t k = 0; tlds[k] != NULL; k++) {
        size_t n = strlen(tlds[k]);
        if (len > n && strncasecmp(s + len - n, tlds[k], n) == 0)
            return true;
    }
    return false;
}

/* A private-key block from "-----BEGIN" to the end of its "-----END ...-----" line. */
static size_t
match_private_key(struct redact *r, const char *s, size_t len, struct buf *out)
{
    const char *eol, *end;
    size_t j;

    if (len < 11 || strncmp(s, "-----BEGIN ", 11) != 0)
        return 0;
    eol = memchr(s, '\n', len);
    j = eol != NULL ? (size_t)(eol - s) : len;
    if (memmem(s, j, "PRIVATE KEY", 11) == NULL)
        return 0;
    end = memmem(s, len, "-----END ", 9);
    if (end == NULL) {
        j = len;
    } else {
        const char *e = memmem(end + 9, len - (size_t)(end + 9 - s), "-----", 5);
        j = e != NULL ? (size_t)(e + 5 - s) : len;
    }
    buf_adds(out, "[redacted private key]");
    r->count[RK_PRIVATE_KEY]++;
    return j;
}

char *
redact_text(struct redact *r, const char *s, size_t len)
{
    struct buf out = BUF_INIT;
    size_t i = 0, word = 0; /* word: where the current blank-separated word starts */

    if (s == NULL)
        return NULL;
    len = strnlen(s, len);
    if (!r->enabled)
        return xstrndup(s, len);
    buf_add(&out, "", 0);
    while (i < len) {
        const char *p = s + i;
        size_t n = len - i, m = 0;
        char prev = i > 0 ? s[i - 1] : ' ';
        bool start = !is_word(prev);

        if (isspace((unsigned char)*p) || *p == '"' || *p == '\'') {
            buf_addc(&out, *p);
            i++;
            word = i;
            continue;
        }
        if (*p == '-' && (m = match_private_key(r, p, n, &out)) > 0) {
            i += m;
            continue;
        }
        if (start &&
            ((m = match_header(r, p, n, &out)) > 0 || (m = match_scheme_token(r, p, n, &out)) > 0 ||
             (m = match_secret_key(r, p, n, &out)) > 0 || (m = match_jwt(r, p, n, &out)) > 0)) {
            i += m;
            continue;
        }
        if ((!is_b64(prev) || prev == '=') && (m = match_long_secret(r, p, n, &out)) > 0) {
            i += m;
            continue;
        }
        if (n >= 3 && strncmp(p, "://", 3) == 0) { /* userinfo of a URL */
            size_t j = 3;
            while (j < n && strchr("/?#@ \t\n\"'<>", p[j]) == NULL)
                j++;
            buf_adds(&out, "://");
            i += 3;
            if (j < n && p[j] == '@') {
                buf_adds(&out, "[redacted]@");
                r->count[RK_USERINFO]++;
                i += j - 2;
            }
            continue;
        }
        if (*p == '?' && (s[word] == '/' || memmem(s + word, i - word, "://", 3) != NULL)) {
            size_t j = 1;
            while (j < n && !isspace((unsigned char)p[j]) && strchr("\"'#;<>", p[j]) == NULL)
                j++;
            buf_addc(&out, '?');
            if (j > 1) {
                buf_adds(&out, "[redacted]");
                r->count[RK_QUERY]++;
            }
            i += j;
            continue;
        }
        if (start && isdigit((unsigned char)*p) && (m = ipv4_len(p, n)) > 0) {
            /* kept when it is an upstream's (with its port, or alone) */
            size_t pl = m;
            if (pl < n && p[pl] == ':')
                while (pl + 1 < n && isdigit((unsigned char)p[pl + 1]))
                    pl++;
            if (is_kept(r, p, m) || (pl > m && is_kept(r, p, pl + 1)))
                buf_add(&out, p, m);
            else
                buf_adds(&out, placeholder(r, p, m, true));
            i += m;
            continue;
        }
        if (prev != ':' && !isalnum((unsigned char)prev) && prev != '.' &&
            (isxdigit((unsigned char)*p) || *p == ':') && (m = ipv6_len(p, n)) > 0) {
            if (is_kept(r, p, m))
                buf_add(&out, p, m);
            else
                buf_adds(&out, placeholder(r, p, m, true));
            i += m;
            continue;
        }
        if (start && isalnum((unsigned char)*p)) { /* a name */
            size_t j = 0;
            while (j < n && is_hostc(p[j]))
                j++;
            m = j;
            while (m > 1 && p[m - 1] == '.')
                m--;
            struct entry *e = table_find(&r->names, p, m);
            if (!is_kept(r, p, m) &&
                ((e != NULL && strcmp(e->ph, e->real) != 0) || table_find(&r->hide, p, m) ||
                 (memchr(p, '.', m) != NULL && internal_tld(p, m)))) {
                buf_adds(&out, placeholder(r, p, m, false));
            } else {
                buf_add(&out, p, m);
            }
            i += m;
            continue;
        }
        buf_addc(&out, *p);
        i++;
    }
    return buf_detach(&out);
}

/* ---- diffs ---- */

static bool
secret_path(const struct redact *r, const char *path, size_t len)
{
    static const char *const ends[] = {".key", ".pass", ".password", ".passwd", ".pw", NULL};

    while (len > 0 && *path == '/') {
        path++;
        len--;
    }
    if (table_find(&r->secrets, path, len) != NULL)
        return true;
    for (size_t k = 0; ends[k] != NULL; k++) {
        size_t n = strlen(ends[k]);
        if (len >= n && strncasecmp(path + len - n, ends[k], n) == 0)
            return true;
    }
    return memmem(path, len, "password", 8) != NULL;
}

char *
redact_diff(struct redact *r, const char *diff)
{
    struct buf out = BUF_INIT;
    const char *s = diff;
    bool secret = false, in_key = false, in_cert = false;
    unsigned long hidden = 0, cert_lines = 0;

    if (diff == NULL)
        return NULL;
    if (!r->enabled)
        return xstrdup(diff);
    buf_add(&out, "", 0);
    while (*s != '\0') {
        const char *e = strchr(s, '\n');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        const char *body = len > 0 ? s + 1 : s; /* after the diff's ' ', '+' or '-' */
        size_t blen = len > 0 ? len - 1 : 0;
        char *t;

        if (len >= 4 && (strncmp(s, "--- ", 4) == 0 || strncmp(s, "+++ ", 4) == 0)) {
            if (hidden > 0) {
                buf_addf(&out, " [redacted: %lu line(s) of a key or password file]\n", hidden);
                hidden = 0;
            }
            if (s[0] == '+') {
                const char *pth = s + 4;
                size_t pl = len - 4;
                if (pl >= 2 && (strncmp(pth, "a/", 2) == 0 || strncmp(pth, "b/", 2) == 0)) {
                    pth += 2;
                    pl -= 2;
                }
                secret = secret_path(r, pth, pl);
                if (secret)
                    r->count[RK_SECRET_FILE]++;
            }
            in_key = in_cert = false;
        } else if (secret && !(len >= 2 && strncmp(s, "@@", 2) == 0)) {
            hidden++;
            goto next;
        } else if (secret && hidden > 0) {
            buf_addf(&out, " [redacted: %lu line(s) of a key or password file]\n", hidden);
            hidden = 0;
        }
        if (!secret && in_key) {
            if (memmem(body, blen, "-----END ", 9) != NULL)
                in_key = false;
            goto next;
        }
        if (!secret && in_cert) {
            if (memmem(body, blen, "-----END ", 9) == NULL) {
                cert_lines++;
                goto next;
            }
            buf_addf(&out, "%c(%lu lines of the certificate not shown)\n", len > 0 ? s[0] : ' ',
                     cert_lines);
            in_cert = false;
        } else if (!secret && blen >= 11 && memmem(body, blen, "-----BEGIN ", 11) != NULL) {
            if (memmem(body, blen, "PRIVATE KEY", 11) != NULL) {
                buf_addf(&out, "%c[redacted private key]\n", s[0]);
                r->count[RK_PRIVATE_KEY]++;
                in_key = memmem(body, blen, "-----END ", 9) == NULL;
                goto next;
            }
            if (memmem(body, blen, "CERTIFICATE-----", 16) != NULL &&
                memmem(body, blen, "-----END ", 9) == NULL) {
                in_cert = true;
                cert_lines = 0;
            }
        }
        t = redact_text(r, s, len);
        buf_adds(&out, t);
        if (e != NULL)
            buf_addc(&out, '\n');
        free(t);
    next:
        s += len + (e != NULL);
    }
    if (hidden > 0)
        buf_addf(&out, " [redacted: %lu line(s) of a key or password file]\n", hidden);
    return buf_detach(&out);
}
