/*
 * drill-score.c — the drills' score history: STATE/drill-scores.yaml, a YAML list of
 * {scenario, date, seconds, hints, keystrokes (the drill's screen only), unsafe}, rewritten
 * atomically with one more entry per passed drill and read back for `drill --scores`. Prints
 * nothing; called by cli-drill.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "buf.h"
#include "drill.h"
#include "xmalloc.h"
#include "yamlio.h"
#include "yamlschema.h"

static const struct yschema score_schema[] = {
    {"scenario", YS_STR, true}, {"date", YS_STR, true},        {"seconds", YS_INT, true},
    {"hints", YS_INT, true},    {"keystrokes", YS_INT, false}, {"unsafe", YS_INT, false},
    {NULL, 0, false},
};

void
drill_scores_free(struct drill_score *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].scenario);
        free(s[i].date);
    }
    free(s);
}

int
drill_score_read(const char *state_dir, struct drill_score **out, size_t *n, char **cause)
{
    char *path = xasprintf("%s/drill-scores.yaml", state_dir);
    struct buf b = BUF_INIT;
    struct yamlio_doc doc;
    bool exists;
    int rc = -1;

    *out = NULL;
    *n = 0;
    memset(&doc, 0, sizeof(doc));
    if (atomicfile_read(path, &b, &exists, cause) != 0)
        goto out;
    if (!exists || b.len == 0) {
        rc = 0;
        goto out;
    }
    if (yamlio_load(&doc, path, buf_str(&b), b.len, cause) != 0)
        goto out;
    if (doc.root == NULL || doc.root->type != YAML_SEQUENCE_NODE) {
        char *w = yamlio_where(&doc, doc.root);
        *cause = xasprintf("%s: the score history must be a list", w);
        free(w);
        goto out;
    }
    size_t len = yamlio_seq_len(doc.root);
    *out = xcalloc(len + 1, sizeof(**out));
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *m = yamlio_seq_at(&doc, doc.root, i);
        struct drill_score *s = &(*out)[i];
        s->keys = -1;
        if (yschema_check(&doc, m, score_schema, "score", cause) != 0 ||
            yschema_int(&doc, m, "seconds", 0, 100000000, &s->seconds, cause) != 0 ||
            yschema_int(&doc, m, "hints", 0, 1000, &s->hints, cause) != 0 ||
            yschema_int(&doc, m, "keystrokes", 0, 100000000, &s->keys, cause) != 0 ||
            yschema_int(&doc, m, "unsafe", 0, 100000000, &s->unsafe, cause) != 0) {
            drill_scores_free(*out, i);
            *out = NULL;
            goto out;
        }
        s->scenario = yamlio_dup(&doc, m, "scenario");
        s->date = yamlio_dup(&doc, m, "date");
        *n = i + 1;
    }
    rc = 0;
out:
    yamlio_doc_free(&doc);
    buf_free(&b);
    free(path);
    return rc;
}

int
drill_score_add(const char *state_dir, const struct drill_score *add, char **cause)
{
    struct drill_score *all;
    struct yamlio_emitter em;
    struct buf b = BUF_INIT;
    char *path;
    size_t n;
    int rc = -1;

    if (atomicfile_mkdir_p(state_dir, cause) != 0)
        return -1;
    if (drill_score_read(state_dir, &all, &n, cause) != 0)
        return -1;
    if (yamlio_emit_begin(&em, &b) != 0) {
        *cause = xstrdup("cannot start a YAML document");
        goto out;
    }
    yamlio_open(&em, false);
    for (size_t i = 0; i <= n; i++) {
        const struct drill_score *s = i < n ? &all[i] : add;
        yamlio_open(&em, true);
        yamlio_kv(&em, "scenario", s->scenario);
        yamlio_kv(&em, "date", s->date);
        yamlio_kulong(&em, "seconds", (unsigned long)s->seconds, false);
        yamlio_kulong(&em, "hints", (unsigned long)s->hints, false);
        if (s->keys >= 0)
            yamlio_kulong(&em, "keystrokes", (unsigned long)s->keys, false);
        yamlio_kulong(&em, "unsafe", (unsigned long)s->unsafe, false);
        yamlio_close(&em, true);
    }
    yamlio_close(&em, false);
    if (yamlio_emit_end(&em) != 0) {
        *cause = xstrdup("cannot write the score history");
        goto out;
    }
    path = xasprintf("%s/drill-scores.yaml", state_dir);
    rc = atomicfile_write(path, b.p, b.len, 0644, cause);
    free(path);
out:
    drill_scores_free(all, n);
    buf_free(&b);
    return rc;
}
