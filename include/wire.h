/*
 * wire.h — the byte encoding of the records a job worker sends its parent (job.c): big-endian
 * integers, strings that keep NULL apart from "", byte strings. The writer appends to a
 * struct buf; the reader never reads past its bytes and remembers the first error, so a
 * decoder checks once at the end. Used by probe-wire.c and remedy-wire.c.
 */
#ifndef TT_WIRE_H
#define TT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

void wire_put_u8(struct buf *b, unsigned v);
void wire_put_u32(struct buf *b, uint32_t v);
void wire_put_i64(struct buf *b, int64_t v);
void wire_put_bool(struct buf *b, bool v);
/* A C string, or NULL (read back as NULL). */
void wire_put_str(struct buf *b, const char *s);
/* len bytes (any content). */
void wire_put_bytes(struct buf *b, const void *p, size_t len);

struct wire_rd {
    const unsigned char *p;
    size_t len;
    size_t off;
    bool bad; /* set by the first read past the end or a malformed field; sticky */
};

void wire_rd_init(struct wire_rd *r, const void *p, size_t len);
unsigned wire_get_u8(struct wire_rd *r);
uint32_t wire_get_u32(struct wire_rd *r);
int64_t wire_get_i64(struct wire_rd *r);
bool wire_get_bool(struct wire_rd *r);
/* An allocated copy (NUL-terminated), or NULL for a NULL string or when r is bad. */
char *wire_get_str(struct wire_rd *r);
/* An allocated copy of the bytes plus a NUL after them, *len their count; NULL when bad. */
void *wire_get_bytes(struct wire_rd *r, size_t *len);
/* Copies exactly size bytes written by wire_put_bytes into dst (bad if the length differs). */
void wire_get_fixed(struct wire_rd *r, void *dst, size_t size);
/* An array count, bad when the remaining bytes cannot hold count entries of at least
 * min_size bytes each (so a corrupt count never makes the decoder allocate gigabytes). */
size_t wire_get_count(struct wire_rd *r, size_t min_size);
/* Whether every byte was read and nothing was malformed. */
bool wire_rd_done(const struct wire_rd *r);

#endif
