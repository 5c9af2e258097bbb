/*
 * json.c — streaming JSON writer shared by every --format json/jsonl output. It owns
 * syntax (commas, nesting, string escaping) and nothing about any schema; the schemas
 * live with the verbs that print them and are documented in the man page.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "sanitize.h"
#include "xmalloc.h"

void
json_add_string(struct buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    buf_reserve(b, len + 2);
    buf_addc(b, '"');
    while (i < len) {
        unsigned c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            size_t j = i;
            while (j < len && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"' && p[j] != '\\')
                j++;
            buf_add(b, p + i, j - i);
            i = j;
            continue;
        }
        switch (c) {
        case '"':
            buf_add(b, "\\\"", 2);
            i++;
            continue;
        case '\\':
            buf_add(b, "\\\\", 2);
            i++;
            continue;
        case '\n':
            buf_add(b, "\\n", 2);
            i++;
            continue;
        case '\t':
            buf_add(b, "\\t", 2);
            i++;
            continue;
        case '\r':
            buf_add(b, "\\r", 2);
            i++;
            continue;
        default:
            break;
        }
        if (c < 0x80) {
            buf_addf(b, "\\u%04x", c);
            i++;
            continue;
        }
        size_t n = utf8_seq_len(p + i, len - i);
        if (n == 0) {
            buf_add(b, "\xef\xbf\xbd", 3); /* U+FFFD */
            i++;
        } else {
            buf_add(b, p + i, n);
            i += n;
        }
    }
    buf_addc(b, '"');
}

void
jw_init(struct jw *w, struct buf *b)
{
    memset(w, 0, sizeof(*w));
    w->b = b;
    w->first[0] = true;
}

static void
jw_pre_value(struct jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth])
        buf_addc(w->b, ',');
    w->first[w->depth] = false;
}

static void
jw_open(struct jw *w, char c)
{
    jw_pre_value(w);
    if (w->depth + 1 >= JW_MAX_DEPTH)
        fatal("json writer: nesting deeper than %d", JW_MAX_DEPTH);
    buf_addc(w->b, c);
    w->depth++;
    w->first[w->depth] = true;
}

static void
jw_close(struct jw *w, char c)
{
    if (w->depth == 0)
        fatal("json writer: close without open");
    buf_addc(w->b, c);
    w->depth--;
}

void
jw_obj_open(struct jw *w)
{
    jw_open(w, '{');
}

void
jw_obj_close(struct jw *w)
{
    jw_close(w, '}');
}

void
jw_arr_open(struct jw *w)
{
    jw_open(w, '[');
}

void
jw_arr_close(struct jw *w)
{
    jw_close(w, ']');
}

void
jw_key(struct jw *w, const char *key)
{
    if (!w->first[w->depth])
        buf_addc(w->b, ',');
    w->first[w->depth] = false;
    json_add_string(w->b, key, strlen(key));
    buf_addc(w->b, ':');
    w->after_key = true;
}

void
jw_strn(struct jw *w, const char *s, size_t len)
{
    jw_pre_value(w);
    if (s == NULL)
        buf_add(w->b, "null", 4);
    else
        json_add_string(w->b, s, len);
}

void
jw_str(struct jw *w, const char *s)
{
    jw_strn(w, s, s != NULL ? strlen(s) : 0);
}

void
jw_int(struct jw *w, long long v)
{
    jw_pre_value(w);
    buf_addf(w->b, "%lld", v);
}

void
jw_bool(struct jw *w, bool v)
{
    jw_pre_value(w);
    buf_adds(w->b, v ? "true" : "false");
}

void
jw_null(struct jw *w)
{
    jw_pre_value(w);
    buf_add(w->b, "null", 4);
}

void
jw_kstr(struct jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}

void
jw_kint(struct jw *w, const char *key, long long v)
{
    jw_key(w, key);
    jw_int(w, v);
}

void
jw_kbool(struct jw *w, const char *key, bool v)
{
    jw_key(w, key);
    jw_bool(w, v);
}

void
jw_knull(struct jw *w, const char *key)
{
    jw_key(w, key);
    jw_null(w);
}
