/*
 * report.h — the postmortem model: a timeline built from the error logs (first failure per
 * incident, counts, rates) and the transaction journal (every step with its time), the
 * time-to-detect and time-to-fix figures, all redacted through redact.c unless asked not to.
 * Builds data only: fmt-report.c renders it; cli-report.c and the TUI's R call it.
 */
#ifndef TT_REPORT_H
#define TT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "redact.h"

struct report_opts {
    const char *const *logs; /* error logs; none: the config's error_log files */
    size_t nlogs;
    const char *conf;   /* nginx config (names to hide/keep, secret files); may be absent */
    const char *prefix; /* as nginx -p; NULL if none */
    const char *state_dir;
    bool since_given;
    time_t since;
    bool probe;             /* --probe: probe each incident's upstream live (else offline) */
    const char *nginx;      /* the binary (its version decides the probe's name rule) */
    bool redact;            /* on by default in the front ends */
    const char *redact_map; /* YAML, or NULL */
    time_t now;             /* when the report is made */
};

struct report_incident {
    char *upstream; /* host:port, as logged (an upstream is never redacted) */
    const char *kind;
    int verify_code;           /* -1 if none */
    char *reason;              /* redacted */
    char *server;              /* redacted; NULL if none */
    char *host;                /* Host header, redacted; NULL if none */
    const char *cause, *means; /* plain words (incident_explain) */
    unsigned long long count;
    time_t first, last; /* -1 when unknown */
    double rate;        /* events per minute from first to last */
    unsigned peak;      /* the busiest minute */
    char **clients;     /* redacted */
    size_t nclients;
    bool clients_more;
    char **samples; /* sample requests, redacted */
    size_t nsamples;
    char *file; /* the log, and the line of the latest event */
    unsigned long line;
    long ttd, ttf; /* seconds from first failure to the first action / verified fix, or -1 */
    /* --probe only: the live probe with nginx's effective settings (triage.c). */
    bool probed;
    const char *probe_verdict; /* "ok", "verify_error", ...; NULL when the probe failed */
    char *probe_message;       /* what nginx would log (redacted), NULL when ok */
    char *probe_cause;         /* plain words, or why it could not probe (redacted) */
};

struct report_step {
    char *step, *status, *msg; /* msg redacted, NULL if none */
    time_t when;
};

struct report_txn {
    char *id, *kind, *user, *state, *summary, *error, *reverts, *rolled_back_by, *diff;
    char *upstream; /* from the summary "fix HOST:PORT: ..." (NULL if not a fix) */
    bool confirmed;
    char **files;
    size_t nfiles;
    struct report_step *steps;
    size_t nsteps;
    time_t start, end, verified; /* verified: the verify (else confirm) step done; -1 */
};

struct report_row {
    time_t when;
    const char *what; /* "first failure", "last failure", "step", ... */
    char *subject;    /* the upstream or the transaction id */
    char *detail;     /* redacted */
};

struct report {
    time_t generated;
    bool since_given;
    time_t since;
    char **logs;
    size_t nlogs;
    char *conf; /* NULL when no config was read */
    struct report_incident *incidents;
    size_t nincidents;
    struct report_txn *txns; /* oldest first */
    size_t ntxns;
    struct report_row *rows; /* the timeline, by time */
    size_t nrows;
    time_t first_failure, first_action, fixed; /* -1 when none */
    long ttd, ttf;                             /* seconds, -1 when unknown */
    char *first_action_id;                     /* the transaction of first_action */
    bool redacted;
    unsigned long redactions[RK__COUNT];
    char **warnings; /* unreadable config, journal entries skipped (redacted) */
    size_t nwarnings;
};

/* Builds the report. Returns 0, or -1 with *cause (a log that cannot be read, a bad
 * --redact-map, an unreadable state dir) naming the file. */
int report_build(const struct report_opts *o, struct report *rep, char **cause);
void report_free(struct report *rep);

/* "2026-11-27T03:17:01Z" into out (21 bytes), or "-" for -1. */
void report_time(time_t t, char out[21]);

#endif
