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

#include "incident.h"
#include "logscan.h"

struct buf;

/* Appends one JSON object and '\n'. Keys, in order: line, time, level, kind, verify_code,
 * reason, ssl_error, name, client, server, request, upstream, host (null where absent), then
 * "file" only when file != NULL (the follower passes it). */
void scanout_event_jsonl(struct buf *out, const struct ls_event *ev, const char *file);

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
