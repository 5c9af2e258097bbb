/*
 * tlserr.h — the one place OpenSSL errors become text. Clears stale errors before each TLS
 * call and drains the error queue into exactly the text nginx's ngx_ssl_error() logs:
 * "TEXT (SSL: error:0A00010B:SSL routines::wrong version number)", plus nginx's
 * " (ERRNO: strerror)" suffix when a system error is involved.
 */
#ifndef TT_TLSERR_H
#define TT_TLSERR_H

struct buf;

/* Forget errors left by earlier calls (nginx's ngx_ssl_clear_error). Call before each
 * SSL_do_handshake/SSL_read/... whose errors will be reported. */
void tlserr_clear(void);

/* Whether the error queue holds anything (nginx's ERR_peek_error() != 0 test). */
int tlserr_pending(void);

/* Appends "TEXT (SSL: error:... error:...:DATA)" built from the error queue, draining it,
 * then " (ERR: strerror)" when err != 0 — nginx's ngx_ssl_error() + ngx_log_error() form,
 * capped at nginx's 1024-byte error buffer. */
void tlserr_add(struct buf *out, const char *text, int err);

/* The same, returned as an allocated string. */
char *tlserr_message(const char *text, int err);

/* Drains the error queue and returns the text of its last error alone
 * ("error:0480006C:PEM routines::no start line"), or "no details" when it is empty. For a
 * short reason inside a sentence of the caller's (check's findings). Caller frees. */
char *tlserr_reason(void);

/* Appends nginx's errno suffix " (111: Connection refused)"; nothing when err == 0. */
void tlserr_add_errno(struct buf *out, int err);

/* "TEXT (111: Connection refused)" or "TEXT" when err == 0 (ngx_connection_error's form). */
char *tlserr_errno_message(const char *text, int err);

#endif
