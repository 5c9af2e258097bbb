/*
 * yamlio.h — libyaml made short: a block-style emitter that writes into a buf (text that is
 * not UTF-8 becomes \xNN), and a document loader with lookups by key whose errors name
 * FILE:LINE:COLUMN from libyaml's marks. Used by the journal, and by the drills, runbooks
 * and --config settings to come. (Not "yaml.h": that name is libyaml's own header.)
 */
#ifndef TT_YAMLIO_H
#define TT_YAMLIO_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

struct buf;

/* ---- emitting ---- */

struct yamlio_emitter {
    yaml_emitter_t e;
    bool bad; /* an event was refused: the rest are skipped, yamlio_emit_end says -1 */
};

/* Starts a document (UTF-8, unicode, no line folding) that is appended to out. Returns 0,
 * or -1 when libyaml cannot start (nothing to end then). */
int yamlio_emit_begin(struct yamlio_emitter *em, struct buf *out);
/* Ends the document and frees the emitter. Returns 0, or -1 when any event failed. */
int yamlio_emit_end(struct yamlio_emitter *em);

/* A scalar in the given style (YAML_PLAIN_SCALAR_STYLE, _ANY_, _LITERAL_, ...); NULL is
 * the empty string. */
void yamlio_str(struct yamlio_emitter *em, const char *s, yaml_scalar_style_t style);
/* "key: value" in a mapping; nothing at all when value is NULL. */
void yamlio_kv(struct yamlio_emitter *em, const char *key, const char *value);
/* "key: 42", or "key: 0644" with octal. */
void yamlio_kulong(struct yamlio_emitter *em, const char *key, unsigned long v, bool octal);
/* Opens / closes a block mapping (map) or block sequence. */
void yamlio_open(struct yamlio_emitter *em, bool map);
void yamlio_close(struct yamlio_emitter *em, bool map);

/* ---- loading ---- */

struct yamlio_doc {
    yaml_document_t d;
    bool loaded;
    const yaml_node_t *root;     /* NULL for an empty document */
    char *name;                  /* the file name errors are reported under */
    size_t err_line, err_column; /* 1-based, where loading failed */
    char *err_problem;           /* libyaml's problem text, where loading failed */
};

/* Parses one document from text (len bytes); name is the file it came from. Returns 0, or
 * -1 with *cause "NAME:LINE:COLUMN: PROBLEM (CONTEXT)" and doc's err_* fields set. Free
 * the doc with yamlio_doc_free either way. */
int yamlio_load(struct yamlio_doc *doc, const char *name, const char *text, size_t len,
                char **cause);
void yamlio_doc_free(struct yamlio_doc *doc);

/* The value of key in mapping map, or NULL (map NULL or not a mapping, key missing). */
const yaml_node_t *yamlio_get(const struct yamlio_doc *doc, const yaml_node_t *map,
                              const char *key);
/* The scalar text of key (allocated), or NULL when missing or not a scalar. */
char *yamlio_dup(const struct yamlio_doc *doc, const yaml_node_t *map, const char *key);
/* Whether key's scalar is exactly "true". */
bool yamlio_bool(const struct yamlio_doc *doc, const yaml_node_t *map, const char *key);
/* strtoul of key's scalar in base; 0 when missing. */
unsigned long yamlio_ulong(const struct yamlio_doc *doc, const yaml_node_t *map, const char *key,
                           int base);
/* The number of items of a sequence node (0 for NULL or another kind), and item i. */
size_t yamlio_seq_len(const yaml_node_t *seq);
const yaml_node_t *yamlio_seq_at(const struct yamlio_doc *doc, const yaml_node_t *seq, size_t i);
/* "NAME:LINE:COLUMN" of where node starts, for a message about it. Caller frees. */
char *yamlio_where(const struct yamlio_doc *doc, const yaml_node_t *node);

#endif
