/*
 * scanout.h — the renderers shared by `scan` and `scan --follow`: one event as one JSON
 * line, the incident table as text, and the incidents JSON document. They only append to
 * a struct buf (no I/O); every untrusted byte goes through sanitize_* (text) or the JSON
 * writer (json/jsonl).
 */
#ifndef TT_SCANOUT_H
#define TT_SCANOUT_H

#include <stdbool.h>
#include <time.h>

#include "buf.h"
#include "incident.h"
#include "logscan.h"

/* Appends one JSON object and '\n'. Keys, in order: line, time, level, kind, verify_code,
 * reason, ssl_error, name, client, server, request, upstream, host (null where absent), then
 * "file" only when file != NULL (the follower passes it). */
void scanout_event_jsonl(struct buf *out, const struct ls_event *ev, const char *file);

/* What ends a follower's lines for one file, ,"file":"..."}\n, rendered once per file (the
 * name through the JSON writer) and copied into each line. Start with SCANOUT_JSONL_END_INIT. */
struct scanout_jsonl_end {
    const char *file; /* the pointer it was rendered for: compared, never read again */
    struct buf text;
};
#define SCANOUT_JSONL_END_INIT                                                                     \
    {                                                                                              \
        NULL, BUF_INIT                                                                             \
    }

/* The same line as scanout_event_jsonl(out, ev, file), with the end kept in *end and rendered
 * again only when file is another pointer: a name must not change while its pointer is in use
 * (the follower's paths live as long as its tail). */
void scanout_event_jsonl_file(struct buf *out, const struct ls_event *ev, const char *file,
                              struct scanout_jsonl_end *end);
void scanout_jsonl_end_free(struct scanout_jsonl_end *end);

/* Appends the incident table as text: per incident, count, first/last seen, the reason in
 * plain words and what it usually means, clients, one sample request, the latest file:line.
 * now: the time the "last 60 min" sparkline ends at (st->newest for a finished scan, the
 * wall clock when following); color: ANSI colours for a terminal. */
void scanout_incidents_text(struct buf *out, const struct incident_store *st,
                            unsigned long long lines_read, time_t now, bool color);

/* Appends {"incidents":[{"upstream","kind","verify_code","reason","server","count",
 * "first_seen","last_seen","clients","sample_request"}...],"lines_read":N,"events":N}
 * plus "other_events" (events beyond the incident cap) and per incident "ambiguous".
 * Times are "YYYY-MM-DDTHH:MM:SS" (log local time) or null; clients is a count. */
void scanout_incidents_json(struct buf *out, const struct incident_store *st,
                            unsigned long long lines_read);

/* Writes all of b to fd (retrying short writes); returns 0 or -1 (errno set). */
int scanout_write(int fd, const struct buf *b);

#endif
