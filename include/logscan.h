/*
 * logscan.h — one nginx error.log line in, one upstream-TLS event out. No I/O, no
 * allocation: the event's text fields are spans pointing into the caller's line.
 */
#ifndef TT_LOGSCAN_H
#define TT_LOGSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define LOGSCAN_MAX_LINE (64 * 1024) /* longer lines are skipped */

enum ev_kind {
    EV_NONE = 0,
    EV_VERIFY_ERROR,      /* upstream SSL certificate verify error: (N:reason) */
    EV_NAME_MISMATCH,     /* upstream SSL certificate does not match "NAME" */
    EV_HANDSHAKE_ERROR,   /* SSL_do_handshake() failed (SSL: ...) */
    EV_HANDSHAKE_TIMEOUT, /* upstream timed out (110: ...) while SSL handshaking */
    EV_PEER_CLOSED,       /* peer closed connection in SSL handshake */
    EV_CONNECT_ERROR,     /* connect() failed (...) while connecting to upstream */
    EV_CONFIG_ERROR,      /* [emerg] about upstream TLS configuration */
    EV__COUNT
};

enum ev_level {
    LV_UNKNOWN = 0,
    LV_DEBUG,
    LV_INFO,
    LV_NOTICE,
    LV_WARN,
    LV_ERROR,
    LV_CRIT,
    LV_ALERT,
    LV_EMERG
};

/* A piece of the caller's line; p == NULL means absent (JSON null). */
struct span {
    const char *p;
    size_t len;
};

struct ls_event {
    /* What the message says, decided by the message text alone (up to and including its
     * " while ... to upstream, client: "). logscan.c's message memo keeps this part whole for
     * a message seen again: a field added here is kept with it, and a span added here must be
     * listed in memo_spans[] in logscan.c (the build counts them). Spans stay last. */
    enum ev_kind kind;
    int verify_code;       /* X509 verify error number, -1 if absent */
    int alert;             /* "SSL alert number N", -1 if absent */
    struct span reason;    /* OpenSSL text: "self-signed certificate", "wrong version number" */
    struct span ssl_error; /* "error:0A00010B" */
    struct span name;      /* expected name of name_mismatch */
    struct span message;   /* the whole message text after "*conn " up to ", client:" */

    /* The line's header and the fields after the message. */
    enum ev_level level;
    unsigned long line; /* line number given by the caller */
    struct span time;   /* "2026/11/27 03:17:01" as written */
    time_t when;        /* the same, as local time; -1 if unparsable */
    long pid;           /* -1 if absent */
    long tid;           /* -1 if absent */
    long long conn;     /* connection id (*N), -1 if absent */
    struct span client;
    struct span server;
    struct span request;   /* client-controlled: data, never trusted */
    struct span upstream;  /* "host:port" */
    struct span scheme;    /* "https" (http) or absent (stream) */
    struct span uri;       /* "/api/v1" or absent */
    struct span host;      /* client-controlled */
    bool stream;           /* stream-module format (no request/host; upstream without scheme) */
    bool ambiguous;        /* the line holds more field markers than nginx writes: some
                              field text came from the client and may be forged */
    unsigned long msg_key; /* 0, or the same number for every event whose message (kind,
                              verify_code, alert, reason, ssl_error, name, message) is
                              byte for byte the same: a writer may reuse what it made of it */
};

/* Parses one line (without its newline). Returns true and fills *ev when the line is an
 * upstream TLS event; false for anything else (ev->kind == EV_NONE). Never reads past len. */
bool logscan_parse_line(const char *line, size_t len, unsigned long lineno, struct ls_event *ev);

/* The cheap reject before logscan_parse_line: every line it can accept holds one of its
 * markers ("to upstream, client: ", "[emerg] ", "SSL_read() failed ("). Returns the first
 * place in [p, lim) where a marker starts, or NULL, and adds to *nl the newlines before it
 * (or in the whole range when NULL): the batch scan runs it over whole blocks of lines. */
const char *logscan_find_marker(const char *p, const char *lim, size_t *nl);

/* false when the line holds no marker, so logscan_parse_line would refuse it. */
bool logscan_may_match(const char *line, size_t len);

/* The "YYYY/MM/DD HH:MM:SS" prefix of any nginx error-log line as local time, or -1 when
 * the line does not start with one. */
time_t logscan_line_time(const char *line, size_t len);

/* "verify_error", "name_mismatch", ... as in the JSON output; "none" for EV_NONE. */
const char *logscan_kind_name(enum ev_kind kind);
const char *logscan_level_name(enum ev_level level);

#endif
