/*
 * yamlschema.h — the shape checks every YAML loader of the tool shares (settings, drill
 * scenarios, runbooks): a mapping holds only known keys, each of the expected node type,
 * required ones present, integers in range; every error names FILE:LINE:COLUMN.
 */
#ifndef TT_YAMLSCHEMA_H
#define TT_YAMLSCHEMA_H

#include <stdbool.h>

#include "yamlio.h"

enum yschema_type {
    YS_STR,        /* a scalar */
    YS_INT,        /* a scalar that is a decimal integer (range checked by yschema_int) */
    YS_BOOL,       /* true or false */
    YS_SEQ,        /* a sequence */
    YS_MAP,        /* a mapping */
    YS_STR_OR_SEQ, /* a scalar or a sequence of scalars */
};

struct yschema {
    const char *key;
    enum yschema_type type;
    bool required;
};

/* Checks that node is a mapping (what names it in messages: "drill scenario") whose keys
 * are all in schema (terminated by a NULL key), each of its type, every required one
 * present. Returns 0, or -1 with *cause "FILE:LINE:COLUMN: ...". */
int yschema_check(const struct yamlio_doc *doc, const yaml_node_t *node,
                  const struct yschema *schema, const char *what, char **cause);
/* key's integer in [min, max] into *out; missing: *out untouched, 0. -1 with *cause. */
int yschema_int(const struct yamlio_doc *doc, const yaml_node_t *map, const char *key, long min,
                long max, long *out, char **cause);
/* A scalar or sequence of scalars as a NULL-terminated array of strings (caller frees
 * with yschema_strv_free); *n gets the count. NULL node: an empty array. */
char **yschema_strv(const struct yamlio_doc *doc, const yaml_node_t *node, size_t *n);
void yschema_strv_free(char **v);
/* The scalar text of a node (allocated) or NULL when not a scalar. */
char *yschema_text(const yaml_node_t *node);

#endif
