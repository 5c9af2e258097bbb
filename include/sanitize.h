/*
 * sanitize.h — the one way bytes from a log line, a certificate field or a config
 * reach a terminal: control bytes, escape sequences, invalid UTF-8 and bidi overrides
 * are shown as \xNN / \uNNNN text, and a backslash as \\.
 */
#ifndef TT_SANITIZE_H
#define TT_SANITIZE_H

#include <stddef.h>

struct buf;

void sanitize_add(struct buf *out, const char *s, size_t len);
/* Returns a newly allocated sanitized copy of s (NULL gives "-"). */
char *sanitize_str(const char *s);
char *sanitize_mem(const char *s, size_t len);
/* Appends the sanitized form of s cut to at most cells terminal cells: whole units only (an
 * escape such as \x1b is never split, a wide character never half shown); wide characters
 * count by wcwidth() under the current LC_CTYPE. Returns the cells used. */
int sanitize_fit(struct buf *out, const char *s, size_t len, int cells);
/* The same, with the input bytes it covered in *consumed (may be NULL). */
int sanitize_fit_n(struct buf *out, const char *s, size_t len, int cells, size_t *consumed);
/* The cells the sanitized form of s takes. */
int sanitize_width(const char *s, size_t len);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes are not one. */
size_t utf8_seq_len(const unsigned char *s, size_t avail);

#endif
