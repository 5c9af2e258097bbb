/*
 * buf.c — a growable byte buffer used to assemble output (text, JSON, diffs) and to hold
 * file contents. It owns only memory; formatting of particular things lives with them.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

void
buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;

    if (need <= b->cap)
        return;
    if (need < b->len)
        fatal("buffer size overflow");
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap * 2 > cap ? cap * 2 : need;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
    b->p[b->len] = '\0'; /* a fresh buffer is a valid empty string */
}

void
buf_add(struct buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len > 0)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

void
buf_addu(struct buf *b, unsigned long long v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    buf_add(b, tmp + sizeof(tmp) - n, n);
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        fatal("buf_addf: bad format \"%s\"", fmt);
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->p != NULL)
        b->p[0] = '\0';
}

void
buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

char *
buf_detach(struct buf *b)
{
    char *p;

    if (b->p == NULL)
        return xstrdup("");
    p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

const char *
buf_str(const struct buf *b)
{
    return b->p != NULL ? b->p : "";
}
