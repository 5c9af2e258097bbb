/*
 * ngxconf.c — reads nginx configuration into a tree (ngxconf.h): nginx's tokenizer
 * (quotes, escapes, comments, ${var}, raw *_by_lua_block bodies), includes with globs,
 * the `nginx -T` dump format, and a pure edit helper. It knows no directive's meaning
 * beyond `include`; resolve.c interprets the tree. Called by check, probe and remedy.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ngxconf.h"
#include "xmalloc.h"

#define NGX_MAX_INCLUDE_DEPTH 32

/* ---- arena: every node and string of one tree, released at once ---- */

struct ngx_chunk {
    struct ngx_chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

struct ngx_arena {
    struct ngx_chunk *head;
};

static void *
arena_alloc(struct ngx_arena *a, size_t n)
{
    struct ngx_chunk *c = a->head;

    n = (n + 15) & ~(size_t)15;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = xmalloc(sizeof(*c) + cap);
        c->cap = cap;
        c->used = 0;
        if (n > 65536 && a->head != NULL) { /* a big one: keep filling the current chunk */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static char *
arena_strndup(struct ngx_arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *
arena_strdup(struct ngx_arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

static void
arena_free(struct ngx_arena *a)
{
    if (a == NULL)
        return;
    for (struct ngx_chunk *c = a->head, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

/* ---- loader state ---- */

struct dump_file {
    const char *path;
    const char *text;
    size_t len;
};

struct loader {
    struct ngxconf *conf;
    bool follow_includes;
    /* nginx -T: the files of the dump (else NULL) */
    struct dump_file *dump;
    size_t ndump;
    /* files being read, for cycles */
    const struct ngx_file *stack[NGX_MAX_INCLUDE_DEPTH + 1];
    int depth;
    /* scratch for one statement's words */
    struct buf words; /* the unescaped words, each NUL-terminated */
    size_t *woff;     /* offset of each word in words */
    size_t nwords, cwords;
    size_t first_off; /* byte offset of the first word */
    unsigned first_line;
};

static void conf_error(struct loader *ld, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
conf_error(struct loader *ld, const char *file, unsigned line, const char *fmt, ...)
{
    struct ngxconf *conf = ld->conf;
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    conf->errors = xreallocarray(conf->errors, conf->nerrors + 1, sizeof(*conf->errors));
    conf->errors[conf->nerrors].file = file != NULL ? arena_strdup(conf->arena, file) : NULL;
    conf->errors[conf->nerrors].line = line;
    conf->errors[conf->nerrors].message = arena_strdup(conf->arena, msg);
    conf->nerrors++;
    free(msg);
}

static struct ngx_file *
add_file(struct loader *ld, const char *path, const char *text, size_t len)
{
    struct ngxconf *conf = ld->conf;
    struct ngx_file *f = arena_alloc(conf->arena, sizeof(*f));

    f->path = arena_strdup(conf->arena, path);
    f->text = arena_strndup(conf->arena, text, len);
    f->len = len;
    conf->files = xreallocarray(conf->files, conf->nfiles + 1, sizeof(*conf->files));
    conf->files[conf->nfiles++] = f;
    return f;
}

static struct ngx_file *
find_file(struct loader *ld, const char *path)
{
    for (size_t i = 0; i < ld->conf->nfiles; i++) {
        if (strcmp(ld->conf->files[i]->path, path) == 0)
            return ld->conf->files[i];
    }
    return NULL;
}

/* Reads a whole file. Returns 0, or -1 with errno set. */
static int
read_whole(const char *path, struct buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char tmp[65536];
    ssize_t n;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        errno = EISDIR;
        return -1;
    }
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        buf_reserve(out, (size_t)st.st_size);
    while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        buf_add(out, tmp, (size_t)n);
    }
    close(fd);
    if (out->p == NULL)
        buf_add(out, "", 0);
    return 0;
}

/* ---- nodes ---- */

static struct ngx_node *
node_new(struct loader *ld, const struct ngx_file *file, struct ngx_node *parent)
{
    struct ngx_node *n = arena_alloc(ld->conf->arena, sizeof(*n));

    memset(n, 0, sizeof(*n));
    n->file = file;
    n->parent = parent;
    if (parent != NULL) {
        if (parent->last_kid != NULL)
            parent->last_kid->next = n;
        else
            parent->kids = n;
        parent->last_kid = n;
        parent->nkids++;
    }
    return n;
}

static void
node_set_words(struct loader *ld, struct ngx_node *n)
{
    struct ngx_arena *a = ld->conf->arena;
    size_t total = 0;

    n->name = arena_strdup(a, ld->words.p + ld->woff[0]);
    n->nargs = ld->nwords - 1;
    n->args = arena_alloc(a, (n->nargs + 1) * sizeof(char *));
    for (size_t i = 1; i < ld->nwords; i++) {
        n->args[i - 1] = arena_strdup(a, ld->words.p + ld->woff[i]);
        total += strlen(n->args[i - 1]) + 1;
    }
    n->args[n->nargs] = NULL;
    if (n->nargs == 0) {
        n->value = "";
    } else if (n->nargs == 1) {
        n->value = n->args[0];
    } else {
        char *v = arena_alloc(a, total), *p = v;
        for (size_t i = 0; i < n->nargs; i++) {
            size_t l = strlen(n->args[i]);
            memcpy(p, n->args[i], l);
            p += l;
            *p++ = i + 1 < n->nargs ? ' ' : '\0';
        }
        n->value = v;
    }
    n->line = ld->first_line;
    n->start = ld->first_off;
}

static void
node_set_label(struct loader *ld, struct ngx_node *n)
{
    struct ngx_arena *a = ld->conf->arena;
    char *s;

    if (strcmp(n->name, "server") == 0 && n->parent != NULL && n->parent->name != NULL &&
        strcmp(n->parent->name, "stream") == 0) {
        const struct ngx_node *l = ngxconf_find(n, "listen");
        s = xasprintf("stream server %s", l != NULL && l->nargs > 0 ? l->args[0] : "");
    } else if (strcmp(n->name, "server") == 0) {
        const struct ngx_node *sn = ngxconf_find(n, "server_name");
        const struct ngx_node *l = ngxconf_find(n, "listen");
        if (sn != NULL && sn->nargs > 0 && sn->args[0][0] != '\0')
            s = xasprintf("server %s", sn->args[0]);
        else if (l != NULL && l->nargs > 0)
            s = xasprintf("server (listen %s)", l->args[0]);
        else
            s = xstrdup("server");
    } else if (n->nargs > 0) {
        s = xasprintf("%s %s", n->name, n->value);
    } else {
        s = xstrdup(n->name);
    }
    n->label = arena_strdup(a, s);
    free(s);
}

/* ---- tokenizer (after nginx's ngx_conf_read_token) ---- */

enum tok_end { TOK_SEMI, TOK_BLOCK, TOK_CLOSE, TOK_EOF, TOK_ERROR };

struct lexer {
    const struct ngx_file *file;
    size_t pos;
    unsigned line;
};

static void
word_add(struct loader *ld, const char *s, size_t len)
{
    if (ld->nwords == ld->cwords) {
        ld->cwords = ld->cwords ? ld->cwords * 2 : 16;
        ld->woff = xreallocarray(ld->woff, ld->cwords, sizeof(*ld->woff));
    }
    ld->woff[ld->nwords++] = ld->words.len;
    buf_reserve(&ld->words, len + 1);
    /* unescape as nginx does: \" \' \\ \t \r \n; other backslashes stay */
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < len) {
            char d = s[i + 1];
            if (d == '"' || d == '\'' || d == '\\') {
                c = d;
                i++;
            } else if (d == 't' || d == 'r' || d == 'n') {
                c = d == 't' ? '\t' : d == 'r' ? '\r' : '\n';
                i++;
            }
        }
        ld->words.p[ld->words.len++] = c;
    }
    ld->words.p[ld->words.len++] = '\0';
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static enum tok_end
read_statement(struct loader *ld, struct lexer *lx)
{
    const char *p = lx->file->text;
    size_t len = lx->file->len, start = 0;
    bool last_space = true, sharp = false, quoted = false, s_quoted = false, d_quoted = false;
    bool need_space = false, variable = false;
    const char *fname = lx->file->path;

    ld->nwords = 0;
    buf_reset(&ld->words);
    for (;;) {
        if (lx->pos >= len) {
            if (ld->nwords > 0 || !last_space) {
                conf_error(ld, fname, lx->line, "unexpected end of file, expecting \";\" or \"}\"");
                return TOK_ERROR;
            }
            return TOK_EOF;
        }
        char ch = p[lx->pos++];
        if (ch == '\n') {
            lx->line++;
            sharp = false;
        }
        if (sharp)
            continue;
        if (quoted) {
            quoted = false;
            continue;
        }
        if (need_space) {
            if (is_space(ch)) {
                last_space = true;
                need_space = false;
                continue;
            }
            if (ch == ';')
                return TOK_SEMI;
            if (ch == '{')
                return TOK_BLOCK;
            if (ch == ')') {
                last_space = true;
                need_space = false;
            } else {
                conf_error(ld, fname, lx->line, "unexpected \"%c\"", ch);
                return TOK_ERROR;
            }
        }
        if (last_space) {
            start = lx->pos - 1;
            if (is_space(ch))
                continue;
            if (ld->nwords == 0) {
                ld->first_off = start;
                ld->first_line = lx->line;
            }
            switch (ch) {
            case ';':
            case '{':
                if (ld->nwords == 0) {
                    conf_error(ld, fname, lx->line, "unexpected \"%c\"", ch);
                    return TOK_ERROR;
                }
                return ch == ';' ? TOK_SEMI : TOK_BLOCK;
            case '}':
                if (ld->nwords != 0) {
                    conf_error(ld, fname, lx->line, "unexpected \"}\"");
                    return TOK_ERROR;
                }
                ld->first_off = start;
                return TOK_CLOSE;
            case '#':
                sharp = true;
                continue;
            case '\\':
                quoted = true;
                last_space = false;
                continue;
            case '"':
                start++;
                d_quoted = true;
                last_space = false;
                continue;
            case '\'':
                start++;
                s_quoted = true;
                last_space = false;
                continue;
            case '$':
                variable = true;
                last_space = false;
                continue;
            default:
                last_space = false;
                continue;
            }
        }
        if (ch == '{' && variable)
            continue;
        variable = false;
        if (ch == '\\') {
            quoted = true;
            continue;
        }
        if (ch == '$') {
            variable = true;
            continue;
        }
        bool found = false;
        if (d_quoted) {
            if (ch == '"') {
                d_quoted = false;
                need_space = true;
                found = true;
            }
        } else if (s_quoted) {
            if (ch == '\'') {
                s_quoted = false;
                need_space = true;
                found = true;
            }
        } else if (is_space(ch) || ch == ';' || ch == '{') {
            last_space = true;
            found = true;
        }
        if (found) {
            word_add(ld, p + start, lx->pos - 1 - start);
            if (ch == ';')
                return TOK_SEMI;
            if (ch == '{')
                return TOK_BLOCK;
        }
    }
}

/* Skips a raw Lua body starting just after its '{'; leaves pos just past the matching '}'.
 * Knows Lua strings, comments and long brackets so braces inside them do not count. */
static int
skip_lua_block(struct loader *ld, struct lexer *lx)
{
    const char *p = lx->file->text;
    size_t len = lx->file->len;
    int depth = 1;

    while (lx->pos < len) {
        char c = p[lx->pos];
        if (c == '\n') {
            lx->line++;
            lx->pos++;
        } else if (c == '{') {
            depth++;
            lx->pos++;
        } else if (c == '}') {
            lx->pos++;
            if (--depth == 0)
                return 0;
        } else if (c == '"' || c == '\'') {
            lx->pos++;
            while (lx->pos < len && p[lx->pos] != c && p[lx->pos] != '\n') {
                if (p[lx->pos] == '\\' && lx->pos + 1 < len) {
                    if (p[lx->pos + 1] == '\n')
                        lx->line++;
                    lx->pos++;
                }
                lx->pos++;
            }
            if (lx->pos < len && p[lx->pos] == c)
                lx->pos++;
        } else if (c == '-' && lx->pos + 1 < len && p[lx->pos + 1] == '-') {
            lx->pos += 2;
            if (lx->pos < len && p[lx->pos] == '[')
                goto long_bracket;
            while (lx->pos < len && p[lx->pos] != '\n')
                lx->pos++;
        } else if (c == '[') {
        long_bracket:;
            size_t q = lx->pos + 1, level = 0;
            while (q < len && p[q] == '=') {
                q++;
                level++;
            }
            if (q < len && p[q] == '[') {
                q++;
                /* find ]=*] with the same level */
                for (;;) {
                    if (q >= len) {
                        lx->pos = len;
                        break;
                    }
                    if (p[q] == '\n')
                        lx->line++;
                    if (p[q] == ']') {
                        size_t r = q + 1, l2 = 0;
                        while (r < len && p[r] == '=') {
                            r++;
                            l2++;
                        }
                        if (l2 == level && r < len && p[r] == ']') {
                            lx->pos = r + 1;
                            break;
                        }
                    }
                    q++;
                }
            } else {
                /* a comment line starting with "--[" that is not a long bracket */
                if (lx->pos > 1 && p[lx->pos - 1] == '-' && p[lx->pos - 2] == '-') {
                    while (lx->pos < len && p[lx->pos] != '\n')
                        lx->pos++;
                } else {
                    lx->pos++;
                }
            }
        } else {
            lx->pos++;
        }
    }
    return -1;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void parse_file(struct loader *ld, const struct ngx_file *file, struct ngx_node *parent,
                       const struct ngx_node *included_by);

static void include_one(struct loader *ld, const char *path, struct ngx_node *parent,
                        const struct ngx_node *inc, bool from_glob);

static int
path_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static void
do_include(struct loader *ld, struct ngx_node *inc, struct ngx_node *parent)
{
    char *full;

    if (inc->nargs != 1) {
        conf_error(ld, inc->file->path, inc->line,
                   "invalid number of arguments in \"include\" directive");
        return;
    }
    full = ngxconf_full_path(ld->conf, inc->args[0]);
    if (!has_glob(full)) {
        include_one(ld, full, parent, inc, false);
    } else if (ld->dump != NULL) {
        const char **match = xcalloc(ld->ndump + 1, sizeof(*match));
        size_t n = 0;
        for (size_t i = 0; i < ld->ndump; i++) {
            if (fnmatch(full, ld->dump[i].path, FNM_PATHNAME | FNM_PERIOD) == 0)
                match[n++] = ld->dump[i].path;
        }
        qsort(match, n, sizeof(*match), path_cmp);
        for (size_t i = 0; i < n; i++)
            include_one(ld, match[i], parent, inc, true);
        free(match);
    } else {
        glob_t g;
        int rc = glob(full, 0, NULL, &g);
        if (rc == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++) {
                struct stat st;
                /* glob also lists directories; nginx would fail to read them */
                if (stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode))
                    continue;
                include_one(ld, g.gl_pathv[i], parent, inc, true);
            }
            globfree(&g);
        } else if (rc != GLOB_NOMATCH) {
            conf_error(ld, inc->file->path, inc->line, "glob() \"%s\" failed", full);
        }
    }
    free(full);
}

static void
include_one(struct loader *ld, const char *path, struct ngx_node *parent,
            const struct ngx_node *inc, bool from_glob)
{
    struct ngx_file *f = find_file(ld, path);

    for (int i = 0; i < ld->depth; i++) {
        if (strcmp(ld->stack[i]->path, path) == 0) {
            conf_error(ld, inc->file->path, inc->line,
                       "include of \"%s\" forms a cycle: the file is already being read", path);
            return;
        }
    }
    if (ld->depth >= NGX_MAX_INCLUDE_DEPTH) {
        conf_error(ld, inc->file->path, inc->line, "includes nested more than %d deep at \"%s\"",
                   NGX_MAX_INCLUDE_DEPTH, path);
        return;
    }
    if (f == NULL && ld->dump != NULL) {
        for (size_t i = 0; i < ld->ndump; i++) {
            if (strcmp(ld->dump[i].path, path) == 0) {
                f = add_file(ld, path, ld->dump[i].text, ld->dump[i].len);
                break;
            }
        }
        if (f == NULL) {
            conf_error(ld, inc->file->path, inc->line,
                       "open() \"%s\" failed (the file is not in the nginx -T output)", path);
            return;
        }
    } else if (f == NULL) {
        struct buf b = BUF_INIT;
        if (read_whole(path, &b) < 0) {
            int e = errno;
            conf_error(ld, inc->file->path, inc->line, "open() \"%s\" failed (%d: %s)", path, e,
                       strerror(e));
            buf_free(&b);
            return;
        }
        f = add_file(ld, path, b.p, b.len);
        buf_free(&b);
    }
    (void)from_glob;
    parse_file(ld, f, parent, inc);
}

static void
parse_file(struct loader *ld, const struct ngx_file *file, struct ngx_node *parent,
           const struct ngx_node *included_by)
{
    struct lexer lx = {file, 0, 1};
    struct ngx_node *cur = parent;

    ld->stack[ld->depth++] = file;
    for (;;) {
        enum tok_end t = read_statement(ld, &lx);
        if (t == TOK_ERROR)
            break;
        if (t == TOK_EOF) {
            if (cur != parent)
                conf_error(ld, file->path, lx.line, "unexpected end of file, expecting \"}\"");
            break;
        }
        if (t == TOK_CLOSE) {
            if (cur == parent) {
                conf_error(ld, file->path, lx.line, "unexpected \"}\"");
                break;
            }
            cur->end_line = lx.line;
            cur->body_end = ld->first_off;
            cur->end = lx.pos;
            node_set_label(ld, cur);
            cur = cur->parent;
            continue;
        }
        struct ngx_node *n = node_new(ld, file, cur);
        node_set_words(ld, n);
        n->included_by = cur == parent ? included_by : NULL;
        if (t == TOK_SEMI) {
            n->end = lx.pos;
            n->end_line = lx.line;
            if (ld->follow_includes && strcmp(n->name, "include") == 0)
                do_include(ld, n, cur);
            continue;
        }
        /* a block */
        n->block = true;
        n->body_start = lx.pos;
        if (ends_with(n->name, "_by_lua_block") || strcmp(n->name, "lua_block") == 0) {
            n->raw = true;
            if (skip_lua_block(ld, &lx) < 0) {
                conf_error(ld, file->path, lx.line, "unexpected end of file, expecting \"}\"");
                break;
            }
            n->body_end = lx.pos - 1;
            n->end = lx.pos;
            n->end_line = lx.line;
            node_set_label(ld, n);
            continue;
        }
        cur = n;
    }
    /* close whatever a syntax error left open, so the tree stays well formed */
    while (cur != parent) {
        cur->end_line = lx.line;
        cur->body_end = cur->end = lx.pos;
        if (cur->body_end < cur->body_start)
            cur->body_end = cur->body_start;
        node_set_label(ld, cur);
        cur = cur->parent;
    }
    ld->depth--;
}

/* ---- public: loading ---- */

static struct ngxconf *
conf_new(void)
{
    struct ngxconf *conf = xcalloc(1, sizeof(*conf));
    conf->arena = xcalloc(1, sizeof(*conf->arena));
    return conf;
}

static void
set_prefix(struct ngxconf *conf, const char *main_path)
{
    const char *slash = strrchr(main_path, '/');
    if (slash == NULL)
        conf->conf_prefix = "";
    else
        conf->conf_prefix = arena_strndup(conf->arena, main_path, (size_t)(slash - main_path) + 1);
}

static struct ngx_node *
root_new(struct loader *ld, const struct ngx_file *f)
{
    struct ngx_node *root = node_new(ld, f, NULL);
    root->name = "main";
    root->args = arena_alloc(ld->conf->arena, sizeof(char *));
    root->args[0] = NULL;
    root->value = "";
    root->block = true;
    root->line = 1;
    root->label = "main";
    root->body_end = root->end = f->len;
    return root;
}

static void
loader_done(struct loader *ld)
{
    buf_free(&ld->words);
    free(ld->woff);
}

int
ngxconf_load(const char *path, const char *prefix, struct ngxconf **out, char **cause)
{
    struct loader ld;
    struct buf b = BUF_INIT;
    char *full;

    if (path[0] != '/' && prefix != NULL && prefix[0] != '\0')
        full = xasprintf("%s%s%s", prefix, ends_with(prefix, "/") ? "" : "/", path);
    else
        full = xstrdup(path);
    if (read_whole(full, &b) < 0) {
        *cause = xasprintf("open() \"%s\" failed (%d: %s)", full, errno, strerror(errno));
        free(full);
        buf_free(&b);
        return -1;
    }
    memset(&ld, 0, sizeof(ld));
    ld.conf = conf_new();
    ld.follow_includes = true;
    set_prefix(ld.conf, full);
    struct ngx_file *f = add_file(&ld, full, b.p, b.len);
    buf_free(&b);
    free(full);
    ld.conf->root = root_new(&ld, f);
    parse_file(&ld, f, ld.conf->root, NULL);
    loader_done(&ld);
    *out = ld.conf;
    return 0;
}

struct ngxconf *
ngxconf_parse_mem(const char *name, const char *text, size_t len)
{
    struct loader ld;

    memset(&ld, 0, sizeof(ld));
    ld.conf = conf_new();
    set_prefix(ld.conf, name);
    struct ngx_file *f = add_file(&ld, name, text, len);
    ld.conf->root = root_new(&ld, f);
    parse_file(&ld, f, ld.conf->root, NULL);
    loader_done(&ld);
    return ld.conf;
}

#define DUMP_MARK "# configuration file "

int
ngxconf_load_nginx_T(const char *name, const char *text, size_t len, const char *prefix,
                     struct ngxconf **out, char **cause)
{
    struct loader ld;
    struct dump_file *files = NULL;
    size_t nfiles = 0, pos = 0, marklen = strlen(DUMP_MARK);
    struct dump_file *cur = NULL;

    (void)prefix; /* the dump names absolute paths; the prefix is already applied */
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) + 1 : len;
        size_t linelen = end - pos;
        if (linelen > marklen && memcmp(text + pos, DUMP_MARK, marklen) == 0) {
            size_t e = end;
            while (e > pos && (text[e - 1] == '\n' || text[e - 1] == '\r'))
                e--;
            if (e > pos + marklen && text[e - 1] == ':') {
                if (cur != NULL) { /* nginx adds one line feed after each file */
                    size_t body = pos - (size_t)(cur->text - text);
                    cur->len = body > 0 ? body - 1 : 0;
                }
                files = xreallocarray(files, nfiles + 1, sizeof(*files));
                cur = &files[nfiles++];
                cur->path = xstrndup(text + pos + marklen, e - 1 - pos - marklen);
                cur->text = text + end;
                cur->len = 0;
                pos = end;
                continue;
            }
        }
        pos = end;
    }
    if (cur == NULL) {
        *cause = xasprintf("%s: no \"# configuration file PATH:\" line: not the output of nginx -T",
                           name);
        return -1;
    }
    cur->len = len - (size_t)(cur->text - text);
    if (cur->len > 0 && cur->text[cur->len - 1] == '\n')
        cur->len--;

    memset(&ld, 0, sizeof(ld));
    ld.conf = conf_new();
    ld.follow_includes = true;
    ld.dump = files;
    ld.ndump = nfiles;
    set_prefix(ld.conf, files[0].path);
    struct ngx_file *f = add_file(&ld, files[0].path, files[0].text, files[0].len);
    ld.conf->root = root_new(&ld, f);
    parse_file(&ld, f, ld.conf->root, NULL);
    loader_done(&ld);
    for (size_t i = 0; i < nfiles; i++)
        free((char *)files[i].path);
    free(files);
    *out = ld.conf;
    return 0;
}

void
ngxconf_free(struct ngxconf *conf)
{
    if (conf == NULL)
        return;
    free(conf->files);
    free(conf->errors);
    arena_free(conf->arena);
    free(conf);
}

/* ---- public: lookups ---- */

const struct ngx_node *
ngxconf_find(const struct ngx_node *block, const char *name)
{
    for (const struct ngx_node *n = block->kids; n != NULL; n = n->next) {
        if (strcmp(n->name, name) == 0)
            return n;
    }
    return NULL;
}

const struct ngx_node *
ngxconf_find_next(const struct ngx_node *n)
{
    for (const struct ngx_node *m = n->next; m != NULL; m = m->next) {
        if (strcmp(m->name, n->name) == 0)
            return m;
    }
    return NULL;
}

/* The deepest block under b holding path:line, or NULL when no node of path covers it. */
static const struct ngx_node *
block_at(const struct ngx_node *b, const char *path, unsigned line)
{
    for (const struct ngx_node *k = b->kids; k != NULL; k = k->next) {
        bool here = strcmp(k->file->path, path) == 0;
        if (here && k->line <= line && line <= k->end_line) {
            if (!k->block || k->raw)
                return b; /* a directive at that line: its enclosing block */
            const struct ngx_node *deeper = block_at(k, path, line);
            return deeper != NULL ? deeper : k;
        }
        if (!here && k->block && !k->raw) {
            /* a block from another file may include path */
            const struct ngx_node *in = block_at(k, path, line);
            if (in != NULL)
                return in;
        }
    }
    return NULL;
}

const struct ngx_node *
ngxconf_block_at(const struct ngxconf *conf, const char *path, unsigned line)
{
    const struct ngx_node *b = block_at(conf->root, path, line);
    if (b == NULL && strcmp(conf->root->file->path, path) == 0)
        return conf->root;
    return b;
}

char *
ngxconf_full_path(const struct ngxconf *conf, const char *path)
{
    if (path[0] == '/' || conf->conf_prefix == NULL)
        return xstrdup(path);
    return xasprintf("%s%s", conf->conf_prefix, path);
}

/* ---- public: the edit helper ---- */

static bool
needs_quotes(const char *s)
{
    if (s[0] == '\0')
        return true;
    for (const char *p = s; *p != '\0'; p++) {
        if (is_space(*p) || *p == ';' || *p == '{' || *p == '}' || *p == '"' || *p == '\'' ||
            *p == '\\' || *p == '#')
            return true;
    }
    return false;
}

static void
add_word(struct buf *b, const char *s)
{
    if (!needs_quotes(s)) {
        buf_adds(b, s);
        return;
    }
    buf_addc(b, '"');
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            buf_addc(b, '\\');
        buf_addc(b, *p);
    }
    buf_addc(b, '"');
}

static size_t
line_start(const char *t, size_t off)
{
    while (off > 0 && t[off - 1] != '\n')
        off--;
    return off;
}

/* The line ending of the line holding off ("\r\n" or "\n"); a last line without one takes
 * the file's first line ending. */
static const char *
line_eol(const char *t, size_t len, size_t off)
{
    while (off < len && t[off] != '\n')
        off++;
    if (off >= len) {
        const char *nl = memchr(t, '\n', len);
        if (nl == NULL)
            return "\n";
        off = (size_t)(nl - t);
    }
    return off > 0 && t[off - 1] == '\r' ? "\r\n" : "\n";
}

/* Nothing but blanks and maybe a comment from off to the end of its line? Sets *eol to
 * the offset just past that line's '\n' (or the end of the text). */
static bool
rest_of_line_free(const char *t, size_t len, size_t off, size_t *eol)
{
    size_t q = off;
    bool free_ = true;

    while (q < len && (t[q] == ' ' || t[q] == '\t'))
        q++;
    if (q < len && t[q] != '#' && t[q] != '\n' &&
        !(t[q] == '\r' && q + 1 < len && t[q + 1] == '\n'))
        free_ = false;
    while (q < len && t[q] != '\n')
        q++;
    *eol = q < len ? q + 1 : len;
    return free_;
}

/* The blanks that start the line holding off. */
static void
add_indent(struct buf *b, const char *t, size_t len, size_t off)
{
    for (size_t i = line_start(t, off); i < len && (t[i] == ' ' || t[i] == '\t'); i++)
        buf_addc(b, t[i]);
}

/* One indentation step for the body of block: the indentation of its first own kid that
 * starts a line, minus the block's; else a tab when the block's line is indented with tabs,
 * else four spaces. */
static void
add_body_indent(struct buf *b, const struct ngx_node *block)
{
    const char *t = block->file->text;
    size_t len = block->file->len, bl = line_start(t, block->start), bi = bl;

    while (bi < len && (t[bi] == ' ' || t[bi] == '\t'))
        bi++;
    for (const struct ngx_node *k = block->kids; k != NULL; k = k->next) {
        if (k->file != block->file || k->included_by != NULL)
            continue;
        size_t kl = line_start(t, k->start);
        bool blanks = kl != bl;
        for (size_t i = kl; i < k->start && blanks; i++)
            blanks = t[i] == ' ' || t[i] == '\t';
        if (blanks) {
            buf_add(b, t + kl, k->start - kl);
            return;
        }
    }
    buf_add(b, t + bl, bi - bl);
    buf_adds(b, memchr(t + bl, '\t', bi - bl) != NULL ? "\t" : "    ");
}

int
ngxconf_edit_set(const struct ngxconf *conf, const struct ngx_node *block, const char *name,
                 const char *const *args, size_t nargs, const struct ngx_file **file,
                 char **newtext, size_t *newlen, char **cause)
{
    const struct ngx_node *existing = NULL, *anchor = NULL;
    struct buf out = BUF_INIT, stmt = BUF_INIT;
    const char *t;
    size_t len, at, eol;

    (void)conf;
    if (!block->block || block->raw) {
        *cause = xasprintf("%s:%u: \"%s\" is not a block that holds directives", block->file->path,
                           block->line, block->name);
        return -1;
    }
    for (const struct ngx_node *n = block->kids; n != NULL; n = n->next) {
        if (strcmp(n->name, name) == 0 && !n->block) {
            if (existing == NULL) /* the one in force (nginx refuses a duplicate) */
                existing = n;
        } else if (!n->block && n->file == block->file && n->included_by == NULL &&
                   (strncmp(n->name, "proxy_ssl_", 10) == 0 || strcmp(n->name, "proxy_pass") == 0 ||
                    strncmp(n->name, "grpc_ssl_", 9) == 0 || strcmp(n->name, "grpc_pass") == 0 ||
                    strncmp(n->name, "uwsgi_ssl_", 10) == 0 || strcmp(n->name, "uwsgi_pass") == 0))
            anchor = n;
    }
    buf_adds(&stmt, name);
    for (size_t i = 0; i < nargs; i++) {
        buf_addc(&stmt, ' ');
        add_word(&stmt, args[i]);
    }
    buf_addc(&stmt, ';');

    if (existing != NULL) {
        /* replace exactly its bytes: whatever shares its lines stays as it was */
        t = existing->file->text;
        len = existing->file->len;
        *file = existing->file;
        buf_add(&out, t, existing->start);
        buf_add(&out, stmt.p, stmt.len);
        buf_add(&out, t + existing->end, len - existing->end);
        goto done;
    }
    t = block->file->text;
    len = block->file->len;
    *file = block->file;
    /* after the last proxy line, else just past the '{' */
    at = anchor != NULL ? anchor->end : block->body_start;
    if (at > block->body_end || block->body_end > len) {
        *cause = xasprintf("%s:%u: the block \"%s\" is not closed", block->file->path, block->line,
                           block->label != NULL ? block->label : block->name);
        buf_free(&stmt);
        return -1;
    }
    if (rest_of_line_free(t, len, at, &eol) && eol <= block->body_end) {
        /* a line of its own after that line, indented like it (or one step deeper) */
        buf_add(&out, t, eol);
        if (eol > 0 && t[eol - 1] != '\n')
            buf_adds(&out, line_eol(t, len, at));
        if (anchor != NULL)
            add_indent(&out, t, len, anchor->start);
        else
            add_body_indent(&out, block);
        buf_add(&out, stmt.p, stmt.len);
        buf_adds(&out, line_eol(t, len, at));
        buf_add(&out, t + eol, len - eol);
    } else {
        /* the line goes on (another directive, the closing brace, a one-line block):
         * the statement joins it, right after the anchor or the '{' */
        buf_add(&out, t, at);
        buf_addc(&out, ' ');
        buf_add(&out, stmt.p, stmt.len);
        if (at < len && t[at] != ' ' && t[at] != '\t')
            buf_addc(&out, ' ');
        buf_add(&out, t + at, len - at);
    }
done:
    buf_free(&stmt);
    *newlen = out.len;
    *newtext = buf_detach(&out);
    return 0;
}
