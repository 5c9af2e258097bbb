/*
 * tlserr.c — turns the OpenSSL error queue (and errno) into the exact text nginx logs.
 * Owns no TLS state; probe.c, certinfo.c, pemload.c, check.c and remedy.c call it after
 * every failing OpenSSL call: no other file touches the error queue.
 * Mirrors ngx_ssl_error()/ngx_ssl_clear_error() in nginx's src/event/ngx_event_openssl.c.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>

#include "buf.h"
#include "tlserr.h"
#include "xmalloc.h"

#define TLSERR_MAX 1024 /* nginx's NGX_MAX_CONF_ERRSTR: its error text buffer */

void
tlserr_clear(void)
{
    ERR_clear_error();
}

int
tlserr_pending(void)
{
    return ERR_peek_error() != 0;
}

void
tlserr_add_errno(struct buf *out, int err)
{
    if (err != 0)
        buf_addf(out, " (%d: %s)", err, strerror(err));
}

void
tlserr_add(struct buf *out, const char *text, int err)
{
    char s[TLSERR_MAX];
    size_t p, last = sizeof(s);
    const char *data;
    unsigned long n;
    int flags;

    p = (size_t)snprintf(s, last - 1, "%s", text);
    if (p > last - 2)
        p = last - 2;
    /* " (SSL:" then " error:..." for every queued error, each with ":DATA" when it has text */
    for (const char *q = " (SSL:"; *q != '\0' && p < last - 1; q++)
        s[p++] = *q;
    for (;;) {
        n = ERR_peek_error_data(&data, &flags);
        if (n == 0)
            break;
        if (p < last - 1) {
            s[p++] = ' ';
            ERR_error_string_n(n, s + p, last - p);
            p += strlen(s + p);
            if (p < last && data != NULL && *data != '\0' && (flags & ERR_TXT_STRING)) {
                s[p++] = ':';
                while (p < last - 1 && *data != '\0')
                    s[p++] = *data++;
            }
        }
        (void)ERR_get_error();
    }
    if (p < last)
        s[p++] = ')';
    buf_add(out, s, p);
    tlserr_add_errno(out, err);
}

char *
tlserr_message(const char *text, int err)
{
    struct buf b = BUF_INIT;

    tlserr_add(&b, text, err);
    return buf_detach(&b);
}

char *
tlserr_reason(void)
{
    unsigned long e, last = 0;
    char tmp[256];

    while ((e = ERR_get_error()) != 0)
        last = e;
    if (last == 0)
        return xstrdup("no details");
    ERR_error_string_n(last, tmp, sizeof(tmp));
    return xstrdup(tmp);
}

char *
tlserr_errno_message(const char *text, int err)
{
    struct buf b = BUF_INIT;

    buf_adds(&b, text);
    tlserr_add_errno(&b, err);
    return buf_detach(&b);
}
