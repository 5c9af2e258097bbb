/*
 * incident.h — groups upstream TLS events into incidents (one per upstream host:port, kind,
 * verify code or reason, and server) with counts, first/last seen, a 60-minute per-minute
 * ring, distinct clients and sample requests; and the const table of plain-words
 * explanations. Bounded memory; no I/O. Fed by logread.c (scan, diagnose) and the follower.
 */
#ifndef TT_INCIDENT_H
#define TT_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "logscan.h"

#define INCIDENT_MAX_DEFAULT 512 /* distinct incidents kept; more go to the "other" count */
#define INCIDENT_MINUTES 60      /* per-minute ring length */
#define INCIDENT_MAX_CLIENTS 64  /* distinct clients remembered (more are only counted) */
#define INCIDENT_MAX_SAMPLES 3   /* sample requests kept (raw; escape when printing) */
#define INCIDENT_FIELD_MAX 512   /* longer key/sample fields are truncated when stored */

struct incident {
    /* The key. Strings are owned copies of log bytes (untrusted: sanitize when printing). */
    char *upstream; /* "host:port"; "" when the line names none (config errors) */
    enum ev_kind kind;
    int verify_code; /* -1 if absent */
    char *reason;    /* OpenSSL / errno text, or NULL; part of the key */
    char *server;    /* nginx server name (http) or listen address (stream); NULL if absent */

    /* Extra facts from the latest event. */
    char *name;      /* expected name (name_mismatch), NULL otherwise */
    char *host;      /* the Host header nginx logged (`host: "..."`), NULL if absent; its
                        port tells servers without server_name apart (resolve) */
    char *ssl_error; /* "error:0A000086", NULL if absent */
    int alert;       /* SSL alert number, -1 if absent */
    bool stream;     /* stream-module event */

    unsigned long long count;
    time_t first_seen, last_seen; /* log times (local), -1 if unparsable */
    char first_time[20];          /* "2026/11/27 03:17:01" as written ("" if unknown) */
    char last_time[20];

    /* Per-minute counts by log time: slot (minute % 60), valid when slot_minute matches. */
    uint32_t per_minute[INCIDENT_MINUTES];
    int64_t slot_minute[INCIDENT_MINUTES];

    char *clients[INCIDENT_MAX_CLIENTS];
    size_t nclients;
    bool clients_overflow; /* more distinct clients than INCIDENT_MAX_CLIENTS */

    char *samples[INCIDENT_MAX_SAMPLES]; /* distinct sample requests, first ones seen */
    size_t nsamples;

    char *file;         /* log file of the latest event (NULL for stdin / unknown) */
    unsigned long line; /* its line number */
    bool ambiguous;     /* some event of this incident had forged-looking field markers */
    unsigned long long ambiguous_count;
    char *scheme; /* the upstream's scheme as first logged ("https", "grpcs", "suwsgi"), or NULL
                     (stream, config errors): which module's directives apply */
};

struct incident_store {
    struct incident **items; /* in order of creation */
    size_t n;
    size_t max;    /* cap on n */
    size_t *slots; /* hash table of indexes + 1 (0 = empty) */
    size_t nslots;
    unsigned long long other;  /* events not stored because the cap was reached */
    unsigned long long events; /* events added (stored or other) */
    time_t newest;             /* latest event time seen, -1 if none */
};

/* max == 0 means INCIDENT_MAX_DEFAULT. */
void incident_store_init(struct incident_store *st, size_t max);
void incident_store_free(struct incident_store *st);

/* Adds one event (kind != EV_NONE). file may be NULL. Returns the incident it went to, or
 * NULL when the cap was reached and the event was counted in st->other. */
struct incident *incident_store_add(struct incident_store *st, const struct ls_event *ev,
                                    const char *file);

/* Finds the incident of this key (reason may be NULL; ignored when verify_code >= 0). */
struct incident *incident_store_find(const struct incident_store *st, const char *upstream,
                                     enum ev_kind kind, int verify_code, const char *reason,
                                     const char *server);

/* Returns a newly allocated array of st->n pointers, most events first (ties: latest last_seen
 * first). Caller frees the array only. */
struct incident **incident_store_sorted(const struct incident_store *st);

/* Fills out[0..INCIDENT_MINUTES-1] with the counts of minutes now-59 .. now (oldest first),
 * by log time. Pass st->newest as now to chart the log's own last hour. */
void incident_minutes(const struct incident *inc, time_t now, uint32_t out[INCIDENT_MINUTES]);

/* Events in the last `minutes` minutes up to now (by log time). */
unsigned long incident_recent(const struct incident *inc, time_t now, int minutes);

/* Plain-words explanation of a cause. */
struct incident_explanation {
    enum ev_kind kind;  /* EV_NONE = any kind */
    int verify_code;    /* -1 = any */
    const char *reason; /* substring of the reason (case-insensitive), NULL = any */
    const char *plain;  /* what happened, in plain words */
    const char *means;  /* what it usually means / where to look */
};

/* The best entry for this cause; never NULL (falls back to a per-kind entry). reason may be
 * NULL. */
const struct incident_explanation *incident_explain(enum ev_kind kind, int verify_code,
                                                    const char *reason);
/* The whole table (for docs and tests), terminated by an entry with plain == NULL. */
extern const struct incident_explanation incident_explanations[];

#endif
