/* buf.h — growable byte buffer, always NUL-terminated after its bytes. */
#ifndef TT_BUF_H
#define TT_BUF_H

#include <stddef.h>

struct buf {
    char *p;    /* the bytes; p[len] == '\0' once anything was added */
    size_t len; /* bytes in use, not counting the terminator */
    size_t cap; /* bytes allocated */
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addu(struct buf *b, unsigned long long v); /* decimal, no printf */
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Returns the bytes (NUL-terminated, never NULL) and leaves b empty; caller frees. */
char *buf_detach(struct buf *b);
/* The bytes as a C string (never NULL). */
const char *buf_str(const struct buf *b);

#endif
