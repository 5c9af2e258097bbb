/*
 * runbook.c — runbooks: YAML files (one per cause) loaded and checked whole with
 * yamlschema (FILE:LINE:COLUMN errors), the directories searched (operators' override
 * the installed ones by file name), lookup by code or kind. Prints nothing; called by
 * cli-explain.c (and the TUI's detail screen).
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "atomicfile.h"
#include "buf.h"
#include "path.h"
#include "runbook.h"
#include "xmalloc.h"
#include "yamlio.h"
#include "yamlschema.h"

static const struct yschema schema[] = {
    {"id", YS_STR, true},
    {"title", YS_STR, true},
    {"matches", YS_STR_OR_SEQ, true},
    {"meaning", YS_STR, true},
    {"why_not_verify_off", YS_STR, true},
    {"steps", YS_SEQ, true},
    {"longer_term", YS_STR, true},
    {NULL, 0, false},
};

void
runbook_free(struct runbook *rb)
{
    free(rb->file);
    free(rb->id);
    free(rb->title);
    yschema_strv_free(rb->matches);
    free(rb->meaning);
    free(rb->why_not_verify_off);
    yschema_strv_free(rb->steps);
    free(rb->longer_term);
    memset(rb, 0, sizeof(*rb));
}

int
runbook_parse(struct runbook *rb, const char *name, const char *text, size_t len, char **cause)
{
    struct yamlio_doc doc;
    const yaml_node_t *steps;
    int rc = -1;

    memset(rb, 0, sizeof(*rb));
    if (yamlio_load(&doc, name, text, len, cause) != 0 ||
        yschema_check(&doc, doc.root, schema, "runbook", cause) != 0)
        goto out;
    steps = yamlio_get(&doc, doc.root, "steps");
    for (size_t i = 0; i < yamlio_seq_len(steps); i++) {
        const yaml_node_t *s = yamlio_seq_at(&doc, steps, i);
        if (s == NULL || s->type != YAML_SCALAR_NODE) {
            char *w = yamlio_where(&doc, s);
            *cause = xasprintf("%s: a step must be a string", w);
            free(w);
            goto out;
        }
    }
    rb->file = xstrdup(name);
    rb->id = yamlio_dup(&doc, doc.root, "id");
    rb->title = yamlio_dup(&doc, doc.root, "title");
    rb->matches = yschema_strv(&doc, yamlio_get(&doc, doc.root, "matches"), NULL);
    rb->meaning = yamlio_dup(&doc, doc.root, "meaning");
    rb->why_not_verify_off = yamlio_dup(&doc, doc.root, "why_not_verify_off");
    rb->steps = yschema_strv(&doc, steps, &rb->nsteps);
    rb->longer_term = yamlio_dup(&doc, doc.root, "longer_term");
    rc = 0;
out:
    yamlio_doc_free(&doc);
    if (rc != 0) {
        char *keep = *cause;
        runbook_free(rb);
        *cause = keep;
    }
    return rc;
}

int
runbook_load(struct runbook *rb, const char *path, char **cause)
{
    struct buf b = BUF_INIT;
    bool exists;
    int rc = -1;

    memset(rb, 0, sizeof(*rb));
    if (atomicfile_read(path, &b, &exists, cause) != 0)
        goto out;
    if (!exists) {
        *cause = xasprintf("%s: no such file", path);
        goto out;
    }
    rc = runbook_parse(rb, path, b.len > 0 ? buf_str(&b) : "", b.len, cause);
out:
    buf_free(&b);
    return rc;
}

static void
push(char ***v, size_t *n, char *s)
{
    struct stat st;

    if (stat(s, &st) != 0 || !S_ISDIR(st.st_mode)) {
        free(s);
        return;
    }
    *v = xreallocarray(*v, *n + 2, sizeof(**v));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

char **
runbook_dirs(const struct app *app)
{
    char **v = xcalloc(1, sizeof(*v)), self[PATH_MAX];
    size_t n = 0;
    ssize_t len;

    if (app->runbooks_dir != NULL)
        push(&v, &n, xstrdup(app->runbooks_dir));
    push(&v, &n, xstrdup(TT_SYSCONFDIR "/runbooks"));
    push(&v, &n, xstrdup(TT_DATADIR "/runbooks"));
    if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
        self[len] = '\0';
        char *d = path_dirname(self);
        push(&v, &n, xasprintf("%s/share/tlstriage/runbooks", d));
        free(d);
    }
    if (getenv("TT_SRCDIR") != NULL)
        push(&v, &n, xasprintf("%s/share/tlstriage/runbooks", getenv("TT_SRCDIR")));
    return v;
}

void
runbook_dirs_free(char **dirs)
{
    yschema_strv_free(dirs);
}

static bool
is_yaml(const char *f)
{
    size_t l = strlen(f);
    return f[0] != '.' && l > 5 && strcmp(f + l - 5, ".yaml") == 0;
}

/* Calls fn on each runbook file, first dir wins by file name; stops when fn returns != 0. */
static int
each_file(char **dirs, int (*fn)(const char *path, void *arg), void *arg)
{
    char **seen = xcalloc(1, sizeof(*seen));
    size_t nseen = 0;
    int rc = 0;

    for (size_t d = 0; dirs[d] != NULL && rc == 0; d++) {
        struct dirent **ents;
        int ne = scandir(dirs[d], &ents, NULL, alphasort);
        for (int i = 0; i < ne; i++) {
            bool dup = false;
            for (size_t k = 0; k < nseen; k++)
                dup = dup || strcmp(seen[k], ents[i]->d_name) == 0;
            if (rc == 0 && !dup && is_yaml(ents[i]->d_name)) {
                char *p = xasprintf("%s/%s", dirs[d], ents[i]->d_name);
                seen = xreallocarray(seen, nseen + 2, sizeof(*seen));
                seen[nseen++] = xstrdup(ents[i]->d_name);
                seen[nseen] = NULL;
                rc = fn(p, arg);
                free(p);
            }
            free(ents[i]);
        }
        if (ne >= 0)
            free(ents);
    }
    yschema_strv_free(seen);
    return rc;
}

struct find_ctx {
    const char *key;
    struct runbook *rb;
    char **cause;
};

static int
find_one(const char *path, void *arg)
{
    struct find_ctx *f = arg;
    struct runbook rb;

    if (runbook_load(&rb, path, f->cause) != 0)
        return -1;
    bool hit = strcasecmp(rb.id, f->key) == 0;
    for (size_t i = 0; rb.matches[i] != NULL && !hit; i++)
        hit = strcasecmp(rb.matches[i], f->key) == 0;
    if (!hit) {
        runbook_free(&rb);
        return 0;
    }
    *f->rb = rb;
    return 1;
}

int
runbook_find(char **dirs, const char *key, struct runbook *rb, char **cause)
{
    struct find_ctx f = {key, rb, cause};

    memset(rb, 0, sizeof(*rb));
    switch (each_file(dirs, find_one, &f)) {
    case 1:
        return 0;
    case 0:
        return 1;
    default:
        return -1;
    }
}

struct list_ctx {
    struct runbook *out;
    size_t n;
    char **cause;
};

static int
list_one(const char *path, void *arg)
{
    struct list_ctx *l = arg;
    struct runbook rb;

    if (runbook_load(&rb, path, l->cause) != 0)
        return -1;
    l->out = xreallocarray(l->out, l->n + 1, sizeof(*l->out));
    l->out[l->n++] = rb;
    return 0;
}

size_t
runbook_list(char **dirs, struct runbook **out, char **cause)
{
    struct list_ctx l = {NULL, 0, cause};

    if (each_file(dirs, list_one, &l) != 0) {
        for (size_t i = 0; i < l.n; i++)
            runbook_free(&l.out[i]);
        free(l.out);
        *out = NULL;
        return (size_t)-1;
    }
    *out = l.out;
    return l.n;
}
