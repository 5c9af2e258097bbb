/*
 * yamlio.c — the libyaml helpers: a block-style emitter into a buf and a document loader
 * with key lookups and FILE:LINE:COLUMN error texts. Knows no schema: the journal (and the
 * drills, runbooks and settings to come) say what the keys mean. Reads and writes no file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sanitize.h"
#include "xmalloc.h"
#include "yamlio.h"

/* ---- emitting ---- */

/* Text for YAML: libyaml wants UTF-8, so any other byte becomes \xNN text. */
static char *
utf8_clean(const char *s)
{
    struct buf b = BUF_INIT;
    size_t len = strlen(s);

    buf_add(&b, "", 0);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);
        if (n == 0) {
            buf_addf(&b, "\\x%02x", (unsigned char)s[i]);
            i++;
        } else {
            buf_add(&b, s + i, n);
            i += n;
        }
    }
    return buf_detach(&b);
}

static void
emit(struct yamlio_emitter *em, yaml_event_t *ev)
{
    if (!yaml_emitter_emit(&em->e, ev))
        em->bad = true;
}

static int
out_fn(void *data, unsigned char *buffer, size_t size)
{
    buf_add(data, buffer, size);
    return 1;
}

int
yamlio_emit_begin(struct yamlio_emitter *em, struct buf *out)
{
    yaml_event_t ev;

    memset(em, 0, sizeof(*em));
    if (!yaml_emitter_initialize(&em->e))
        return -1;
    yaml_emitter_set_output(&em->e, out_fn, out);
    yaml_emitter_set_unicode(&em->e, 1);
    yaml_emitter_set_width(&em->e, -1);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    emit(em, &ev);
    if (!em->bad) {
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
        emit(em, &ev);
    }
    return 0;
}

int
yamlio_emit_end(struct yamlio_emitter *em)
{
    yaml_event_t ev;

    if (!em->bad) {
        yaml_document_end_event_initialize(&ev, 1);
        emit(em, &ev);
    }
    if (!em->bad) {
        yaml_stream_end_event_initialize(&ev);
        emit(em, &ev);
    }
    yaml_emitter_delete(&em->e);
    return em->bad ? -1 : 0;
}

void
yamlio_str(struct yamlio_emitter *em, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    char *c;

    if (em->bad)
        return;
    c = utf8_clean(s != NULL ? s : "");
    if (yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)c, (int)strlen(c), 1, 1,
                                     style))
        emit(em, &ev);
    else
        em->bad = true;
    free(c);
}

void
yamlio_kv(struct yamlio_emitter *em, const char *key, const char *value)
{
    if (value == NULL)
        return;
    yamlio_str(em, key, YAML_PLAIN_SCALAR_STYLE);
    yamlio_str(em, value, YAML_ANY_SCALAR_STYLE);
}

void
yamlio_kulong(struct yamlio_emitter *em, const char *key, unsigned long v, bool octal)
{
    char s[64];

    snprintf(s, sizeof(s), octal ? "%04lo" : "%lu", v);
    yamlio_kv(em, key, s);
}

void
yamlio_open(struct yamlio_emitter *em, bool map)
{
    yaml_event_t ev;

    if (em->bad)
        return;
    if (map)
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    else
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    emit(em, &ev);
}

void
yamlio_close(struct yamlio_emitter *em, bool map)
{
    yaml_event_t ev;

    if (em->bad)
        return;
    if (map)
        yaml_mapping_end_event_initialize(&ev);
    else
        yaml_sequence_end_event_initialize(&ev);
    emit(em, &ev);
}

/* ---- loading ---- */

int
yamlio_load(struct yamlio_doc *doc, const char *name, const char *text, size_t len, char **cause)
{
    yaml_parser_t p;
    int rc = -1;

    memset(doc, 0, sizeof(*doc));
    doc->name = xstrdup(name);
    if (!yaml_parser_initialize(&p)) {
        *cause = xasprintf("%s: cannot start the YAML parser", name);
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc->d)) {
        doc->err_line = p.problem_mark.line + 1;
        doc->err_column = p.problem_mark.column + 1;
        doc->err_problem = xstrdup(p.problem != NULL ? p.problem : "YAML error");
        if (p.context != NULL)
            *cause = xasprintf("%s:%zu:%zu: %s (%s)", name, doc->err_line, doc->err_column,
                               doc->err_problem, p.context);
        else
            *cause =
                xasprintf("%s:%zu:%zu: %s", name, doc->err_line, doc->err_column, doc->err_problem);
        goto out;
    }
    doc->loaded = true;
    doc->root = yaml_document_get_root_node(&doc->d);
    rc = 0;
out:
    yaml_parser_delete(&p);
    return rc;
}

void
yamlio_doc_free(struct yamlio_doc *doc)
{
    if (doc->loaded)
        yaml_document_delete(&doc->d);
    free(doc->name);
    free(doc->err_problem);
    memset(doc, 0, sizeof(*doc));
}

const yaml_node_t *
yamlio_get(const struct yamlio_doc *doc, const yaml_node_t *map, const char *key)
{
    yaml_document_t *d = (yaml_document_t *)&doc->d; /* libyaml's lookups are not const */

    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k != NULL && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

char *
yamlio_dup(const struct yamlio_doc *doc, const yaml_node_t *map, const char *key)
{
    const yaml_node_t *n = yamlio_get(doc, map, key);

    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return NULL;
    return xstrndup((const char *)n->data.scalar.value, n->data.scalar.length);
}

bool
yamlio_bool(const struct yamlio_doc *doc, const yaml_node_t *map, const char *key)
{
    char *s = yamlio_dup(doc, map, key);
    bool v = s != NULL && strcmp(s, "true") == 0;

    free(s);
    return v;
}

unsigned long
yamlio_ulong(const struct yamlio_doc *doc, const yaml_node_t *map, const char *key, int base)
{
    char *s = yamlio_dup(doc, map, key);
    unsigned long v = s != NULL ? strtoul(s, NULL, base) : 0;

    free(s);
    return v;
}

size_t
yamlio_seq_len(const yaml_node_t *seq)
{
    if (seq == NULL || seq->type != YAML_SEQUENCE_NODE)
        return 0;
    return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

const yaml_node_t *
yamlio_seq_at(const struct yamlio_doc *doc, const yaml_node_t *seq, size_t i)
{
    if (i >= yamlio_seq_len(seq))
        return NULL;
    return yaml_document_get_node((yaml_document_t *)&doc->d, seq->data.sequence.items.start[i]);
}

char *
yamlio_where(const struct yamlio_doc *doc, const yaml_node_t *node)
{
    if (node == NULL)
        return xstrdup(doc->name != NULL ? doc->name : "?");
    return xasprintf("%s:%zu:%zu", doc->name != NULL ? doc->name : "?", node->start_mark.line + 1,
                     node->start_mark.column + 1);
}
