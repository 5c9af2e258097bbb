/*
 * yamlschema.c — shape checks for the tool's YAML inputs (settings, drill scenarios,
 * runbooks) on top of yamlio's loader: known keys, node types, required keys, integer
 * ranges, all errors at FILE:LINE:COLUMN. Knows nothing of what the keys mean; called by
 * settings.c, drill-scenario.c and runbook.c.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "yamlschema.h"

static const char *
type_name(enum yschema_type t)
{
    static const char *const names[] = {"a string", "an integer", "true or false",
                                        "a list",   "a mapping",  "a string or a list"};
    return names[t];
}

static bool
scalar_is(const yaml_node_t *n, const char *s)
{
    return n->type == YAML_SCALAR_NODE && strlen(s) == n->data.scalar.length &&
           memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

static bool
is_int(const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    size_t i = 0;

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
        return false;
    if (s[0] == '-' || s[0] == '+')
        i++;
    if (i == n->data.scalar.length)
        return false;
    for (; i < n->data.scalar.length; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static bool
type_ok(const struct yamlio_doc *doc, const yaml_node_t *n, enum yschema_type t)
{
    switch (t) {
    case YS_STR:
        return n->type == YAML_SCALAR_NODE;
    case YS_INT:
        return is_int(n);
    case YS_BOOL:
        return scalar_is(n, "true") || scalar_is(n, "false");
    case YS_SEQ:
        return n->type == YAML_SEQUENCE_NODE;
    case YS_MAP:
        return n->type == YAML_MAPPING_NODE;
    case YS_STR_OR_SEQ:
        if (n->type == YAML_SCALAR_NODE)
            return true;
        if (n->type != YAML_SEQUENCE_NODE)
            return false;
        for (size_t i = 0; i < yamlio_seq_len(n); i++) {
            const yaml_node_t *x = yamlio_seq_at(doc, n, i);
            if (x == NULL || x->type != YAML_SCALAR_NODE)
                return false;
        }
        return true;
    }
    return false;
}

int
yschema_check(const struct yamlio_doc *doc, const yaml_node_t *node, const struct yschema *schema,
              const char *what, char **cause)
{
    yaml_document_t *d = (yaml_document_t *)&doc->d; /* libyaml's lookups are not const */
    char *w;

    if (node == NULL || node->type != YAML_MAPPING_NODE) {
        w = yamlio_where(doc, node);
        *cause = xasprintf("%s: a %s must be a mapping of keys to values", w, what);
        free(w);
        return -1;
    }
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        yaml_node_t *v = yaml_document_get_node(d, p->value);
        const struct yschema *s = NULL;

        if (k == NULL || v == NULL)
            continue;
        for (const struct yschema *x = schema; x->key != NULL && s == NULL; x++) {
            if (scalar_is(k, x->key))
                s = x;
        }
        if (s == NULL) {
            char *t = yschema_text(k);
            w = yamlio_where(doc, k);
            *cause = xasprintf("%s: unknown key '%s' in %s", w, t != NULL ? t : "?", what);
            free(t);
            free(w);
            return -1;
        }
        for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(d, q->key);
            if (k2 != NULL && scalar_is(k2, s->key)) {
                w = yamlio_where(doc, k);
                *cause = xasprintf("%s: '%s' given twice in %s", w, s->key, what);
                free(w);
                return -1;
            }
        }
        if (!type_ok(doc, v, s->type)) {
            w = yamlio_where(doc, v);
            *cause = xasprintf("%s: '%s' must be %s", w, s->key, type_name(s->type));
            free(w);
            return -1;
        }
    }
    for (const struct yschema *x = schema; x->key != NULL; x++) {
        if (x->required && yamlio_get(doc, node, x->key) == NULL) {
            w = yamlio_where(doc, node);
            *cause = xasprintf("%s: %s lacks the key '%s'", w, what, x->key);
            free(w);
            return -1;
        }
    }
    return 0;
}

int
yschema_int(const struct yamlio_doc *doc, const yaml_node_t *map, const char *key, long min,
            long max, long *out, char **cause)
{
    const yaml_node_t *n = yamlio_get(doc, map, key);
    long v;
    char *w;

    if (n == NULL)
        return 0;
    errno = 0;
    v = is_int(n) ? strtol((const char *)n->data.scalar.value, NULL, 10) : 0;
    if (!is_int(n) || errno != 0 || v < min || v > max) {
        w = yamlio_where(doc, n);
        *cause = xasprintf("%s: '%s' must be an integer from %ld to %ld", w, key, min, max);
        free(w);
        return -1;
    }
    *out = v;
    return 0;
}

char *
yschema_text(const yaml_node_t *node)
{
    if (node == NULL || node->type != YAML_SCALAR_NODE)
        return NULL;
    return xstrndup((const char *)node->data.scalar.value, node->data.scalar.length);
}

char **
yschema_strv(const struct yamlio_doc *doc, const yaml_node_t *node, size_t *n)
{
    char **v;
    size_t k = 0;

    if (node != NULL && node->type == YAML_SCALAR_NODE) {
        v = xcalloc(2, sizeof(*v));
        v[k++] = yschema_text(node);
    } else {
        size_t len = node != NULL ? yamlio_seq_len(node) : 0;
        v = xcalloc(len + 1, sizeof(*v));
        for (size_t i = 0; i < len; i++) {
            char *t = yschema_text(yamlio_seq_at(doc, node, i));
            if (t != NULL)
                v[k++] = t;
        }
    }
    if (n != NULL)
        *n = k;
    return v;
}

void
yschema_strv_free(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}
