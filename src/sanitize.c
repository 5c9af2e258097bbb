/*
 * sanitize.c — the single sanitizer for untrusted bytes on their way to a terminal or a
 * text report. It escapes; it never drops or truncates. JSON output has its own escaping
 * (json.c); everything printed as text goes through here.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "buf.h"
#include "sanitize.h"
#include "xmalloc.h"

size_t
utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0; /* overlong or out of range */
    if (cp >= 0xd800 && cp <= 0xdfff)
        return 0; /* surrogate */
    return n;
}

static unsigned
utf8_decode(const unsigned char *s, size_t n)
{
    unsigned cp = n == 2 ? s[0] & 0x1f : n == 3 ? s[0] & 0x0f : s[0] & 0x07;

    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3f);
    return cp;
}

void
sanitize_add(struct buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    buf_reserve(out, len);
    while (i < len) {
        unsigned c = p[i];

        if (c >= 0x20 && c < 0x7f && c != '\\') {
            size_t j = i;
            while (j < len && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '\\')
                j++;
            buf_add(out, p + i, j - i);
            i = j;
            continue;
        }
        if (c == '\\') {
            buf_add(out, "\\\\", 2);
            i++;
            continue;
        }
        if (c < 0x80) { /* C0 control or DEL */
            buf_addf(out, "\\x%02x", c);
            i++;
            continue;
        }
        size_t n = utf8_seq_len(p + i, len - i);
        if (n == 0) {
            buf_addf(out, "\\x%02x", c);
            i++;
            continue;
        }
        unsigned cp = utf8_decode(p + i, n);
        /* C1 controls (8-bit CSI etc.), bidi overrides and isolates, BOM, line separators */
        if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f || cp == 0xfeff ||
            cp == 0x2028 || cp == 0x2029) {
            buf_addf(out, "\\u%04x", cp);
        } else {
            buf_add(out, p + i, n);
        }
        i += n;
    }
    if (out->p == NULL)
        buf_add(out, "", 0);
}

char *
sanitize_mem(const char *s, size_t len)
{
    struct buf b = BUF_INIT;

    sanitize_add(&b, s, len);
    return buf_detach(&b);
}

char *
sanitize_str(const char *s)
{
    if (s == NULL)
        return xstrdup("-");
    return sanitize_mem(s, strlen(s));
}

/* One unit of the input: a run that sanitizes as a whole (a printable byte, a valid UTF-8
 * character, or one escape), its sanitized text in u[], and its width in cells. Returns the
 * bytes of input it covers. */
static size_t
fit_unit(const unsigned char *p, size_t avail, char u[16], size_t *ulen, int *cells)
{
    unsigned c = p[0];
    size_t n;

    if (c >= 0x20 && c < 0x7f && c != '\\') {
        u[0] = (char)c;
        *ulen = 1;
        *cells = 1;
        return 1;
    }
    if (c == '\\') {
        memcpy(u, "\\\\", 2);
        *ulen = *cells = 2;
        return 1;
    }
    if (c < 0x80 || (n = utf8_seq_len(p, avail)) == 0) {
        *ulen = (size_t)snprintf(u, 16, "\\x%02x", c);
        *cells = (int)*ulen;
        return 1;
    }
    unsigned cp = utf8_decode(p, n);
    int w = wcwidth((wchar_t)cp);
    if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
        (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f || cp == 0xfeff ||
        cp == 0x2028 || cp == 0x2029 || w < 0) {
        *ulen = (size_t)snprintf(u, 16, "\\u%04x", cp);
        *cells = (int)*ulen;
        return n;
    }
    memcpy(u, p, n);
    *ulen = n;
    *cells = w;
    return n;
}

int
sanitize_fit(struct buf *out, const char *s, size_t len, int cells)
{
    return sanitize_fit_n(out, s, len, cells, NULL);
}

int
sanitize_fit_n(struct buf *out, const char *s, size_t len, int cells, size_t *consumed)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int used = 0;

    while (i < len && used < cells) {
        char u[16];
        size_t ulen;
        int w;
        size_t n = fit_unit(p + i, len - i, u, &ulen, &w);
        if (used + w > cells)
            break;
        buf_add(out, u, ulen);
        used += w;
        i += n;
    }
    if (consumed != NULL)
        *consumed = i;
    if (out->p == NULL)
        buf_add(out, "", 0);
    return used;
}

int
sanitize_width(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int used = 0;

    while (i < len) {
        char u[16];
        size_t ulen;
        int w;
        i += fit_unit(p + i, len - i, u, &ulen, &w);
        used += w;
    }
    return used;
}
