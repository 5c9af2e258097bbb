/*
 * wire.c — owns the record field encoding between a job worker and its parent: big-endian
 * integers, NULL-aware strings and byte strings, and a bounds-checked reader. It knows no
 * record's layout (probe-wire.c, remedy-wire.c do) and does no I/O (job.c moves the bytes).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "wire.h"
#include "xmalloc.h"

#define WIRE_NULL 0xffffffffu /* the length that stands for a NULL string */

void
wire_put_u8(struct buf *b, unsigned v)
{
    buf_addc(b, (char)(unsigned char)v);
}

void
wire_put_u32(struct buf *b, uint32_t v)
{
    unsigned char o[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    buf_add(b, o, sizeof(o));
}

void
wire_put_i64(struct buf *b, int64_t v)
{
    uint64_t u = (uint64_t)v;

    wire_put_u32(b, (uint32_t)(u >> 32));
    wire_put_u32(b, (uint32_t)u);
}

void
wire_put_bool(struct buf *b, bool v)
{
    wire_put_u8(b, v ? 1 : 0);
}

void
wire_put_bytes(struct buf *b, const void *p, size_t len)
{
    if (len >= WIRE_NULL)
        fatal("wire: a field of %zu bytes is too long", len);
    wire_put_u32(b, (uint32_t)len);
    if (len > 0)
        buf_add(b, p, len);
}

void
wire_put_str(struct buf *b, const char *s)
{
    if (s == NULL)
        wire_put_u32(b, WIRE_NULL);
    else
        wire_put_bytes(b, s, strlen(s));
}

void
wire_rd_init(struct wire_rd *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->bad = false;
}

static const unsigned char *
take(struct wire_rd *r, size_t n)
{
    const unsigned char *q;

    if (r->bad || r->len - r->off < n) {
        r->bad = true;
        return NULL;
    }
    q = r->p + r->off;
    r->off += n;
    return q;
}

unsigned
wire_get_u8(struct wire_rd *r)
{
    const unsigned char *q = take(r, 1);

    return q != NULL ? q[0] : 0;
}

uint32_t
wire_get_u32(struct wire_rd *r)
{
    const unsigned char *q = take(r, 4);

    if (q == NULL)
        return 0;
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

int64_t
wire_get_i64(struct wire_rd *r)
{
    uint64_t hi = wire_get_u32(r);
    uint64_t lo = wire_get_u32(r);

    return (int64_t)(hi << 32 | lo);
}

bool
wire_get_bool(struct wire_rd *r)
{
    unsigned v = wire_get_u8(r);

    if (v > 1)
        r->bad = true;
    return v == 1;
}

void *
wire_get_bytes(struct wire_rd *r, size_t *len)
{
    uint32_t n = wire_get_u32(r);
    const unsigned char *q;
    char *out;

    *len = 0;
    if (n == WIRE_NULL) {
        r->bad = true;
        return NULL;
    }
    if ((q = take(r, n)) == NULL)
        return NULL;
    out = xmalloc((size_t)n + 1);
    memcpy(out, q, n);
    out[n] = '\0';
    *len = n;
    return out;
}

char *
wire_get_str(struct wire_rd *r)
{
    size_t off = r->off;
    size_t len;
    char *s;

    if (wire_get_u32(r) == WIRE_NULL)
        return NULL;
    r->off = off;
    if ((s = wire_get_bytes(r, &len)) != NULL && strlen(s) != len) {
        r->bad = true; /* a NUL inside: not a C string */
        free(s);
        s = NULL;
    }
    return s;
}

void
wire_get_fixed(struct wire_rd *r, void *dst, size_t size)
{
    uint32_t n = wire_get_u32(r);
    const unsigned char *q;

    if (n != size) {
        r->bad = true;
        return;
    }
    if ((q = take(r, n)) != NULL)
        memcpy(dst, q, n);
}

size_t
wire_get_count(struct wire_rd *r, size_t min_size)
{
    uint32_t n = wire_get_u32(r);

    if (r->bad)
        return 0;
    if (min_size == 0)
        min_size = 1;
    if (n > (r->len - r->off) / min_size) {
        r->bad = true;
        return 0;
    }
    return n;
}

bool
wire_rd_done(const struct wire_rd *r)
{
    return !r->bad && r->off == r->len;
}
