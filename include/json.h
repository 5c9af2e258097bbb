/*
 * json.h — a small streaming JSON writer into a struct buf. Strings are always emitted
 * as valid JSON: control bytes escaped, invalid UTF-8 bytes replaced by U+FFFD.
 */
#ifndef TT_JSON_H
#define TT_JSON_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

#define JW_MAX_DEPTH 32

struct jw {
    struct buf *b;
    int depth;
    bool first[JW_MAX_DEPTH]; /* nothing written yet at this depth */
    bool after_key;           /* a key was written; the value needs no comma */
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj_open(struct jw *w);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w);
void jw_arr_close(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);              /* NULL writes null */
void jw_strn(struct jw *w, const char *s, size_t len); /* NULL writes null */
void jw_int(struct jw *w, long long v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Convenience: key + value. */
void jw_kstr(struct jw *w, const char *key, const char *s);
void jw_kint(struct jw *w, const char *key, long long v);
void jw_kbool(struct jw *w, const char *key, bool v);
void jw_knull(struct jw *w, const char *key);

/* Appends s as a quoted JSON string. */
void json_add_string(struct buf *b, const char *s, size_t len);

#endif
