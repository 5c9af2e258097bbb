/*
 * logread.h — the one way nginx error logs are read, batch and follow alike: which paths are
 * readable logs (a regular file; a directory, FIFO, device or socket is refused at once, never
 * waited on), the long-line rule (lines over LOGSCAN_MAX_LINE are skipped), the --since rule
 * (an event is kept when its own timestamp is at or after TIME) and where --since starts in a
 * file (a bisection on the line timestamps, bounded for lines out of order). No printing:
 * problems come back as a cause or as warnings (data).
 */
#ifndef TT_LOGREAD_H
#define TT_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "incident.h"
#include "logscan.h"

/* --since starts reading at a line whose time is before TIME - LOGREAD_SINCE_SLACK, then
 * keeps events by their own time: lines out of order by up to this much (workers writing at
 * once, a small clock step back) lose nothing. A clock stepped back by more can hide the
 * events written before the step (see logread_since_offset). */
#define LOGREAD_SINCE_SLACK (5 * 60)

/* Lines before a --since start are counted (so line numbers stay absolute) when the start is
 * at most this far into the file; beyond, numbers count from the start and a warning says so. */
#define LOGREAD_COUNT_MAX ((off_t)64 << 20)

struct logread_warning {
    char *file;         /* NULL when about no one file */
    unsigned long line; /* 0 when about no one line */
    char *message;
};

struct logread_warnings {
    struct logread_warning *items;
    size_t n;
};

void logread_warnings_free(struct logread_warnings *w);

struct logread_opts {
    bool since_given;
    time_t since; /* valid when since_given */
};

struct logread_stats {
    unsigned long long lines;  /* lines of every file (counted, whether or not parsed) */
    unsigned long long events; /* events kept (after --since) */
};

/* One event kept; file is the path as given, NULL for standard input ("-"). The event's spans
 * are valid only during the call. */
typedef void (*logread_event_fn)(const struct ls_event *ev, const char *file, void *arg);

/* The time written at the start of a line, or (time_t)-1 (logscan_line_time for nginx). */
typedef time_t (*logread_time_fn)(const char *line, size_t len);

/* Opens path for reading without blocking (a FIFO without a writer would block open(2)) and
 * refuses what is not a regular file, naming it. Returns 0 with *fd (close-on-exec, blocking
 * reads) and *sb set, or -1 with *cause ("PATH: No such file or directory", "PATH: is a
 * directory", "PATH: is a FIFO, not a regular file"); errno tells which (ENOENT, EISDIR,
 * EINVAL for another kind of file, ...): the follower waits for a file that is absent. */
int logread_open(const char *path, int *fd, struct stat *sb, char **cause);

/* The --since rule: keep ev when no --since was given, or its time is known and >= since. */
static inline bool
logread_keep(const struct ls_event *ev, const struct logread_opts *o)
{
    return o == NULL || !o->since_given || (ev->when != (time_t)-1 && ev->when >= o->since);
}

/* Where reading for --since starts in the first size bytes of fd: a line start, found by
 * bisection on byte offsets (a few dozen small pread()s, none for a file under 64 KiB) such
 * that the line there has a time before since - LOGREAD_SINCE_SLACK, or 0. Every line after
 * it with a time >= since is then read, provided no line is more than LOGREAD_SINCE_SLACK
 * later than a line after it. Lines without a time (time_fn gives -1) only move the start
 * earlier. A clock stepped back by more than the slack breaks that proviso: the bisection may
 * land after the step, and events at or after since written before the step are not read. */
off_t logread_since_offset(int fd, off_t size, time_t since, logread_time_fn time_fn);

/* Reads files ("-" is standard input, read as a stream) and calls fn for every event kept by
 * the --since rule (o may be NULL), with --since starting each regular file at
 * logread_since_offset. Every file is opened (logread_open) before any is read, so a bad path
 * stops before any event. Returns 0, or -1 with *cause set (an open or a read error; events
 * before a read error were delivered). st and w may be NULL; st is added to. */
int logread_files(const char *const *files, size_t nfiles, const struct logread_opts *o,
                  logread_event_fn fn, void *arg, struct logread_stats *st,
                  struct logread_warnings *w, char **cause);

/* The model's entry: fills store with the events of files as logread_files reads them. */
int logread_store(struct incident_store *store, const char *const *files, size_t nfiles,
                  const struct logread_opts *o, struct logread_stats *st,
                  struct logread_warnings *w, char **cause);

#endif
