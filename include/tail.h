/*
 * tail.h — `tail -F` for one or many log files on the event loop: complete lines only, in
 * order per file generation, through rotation (rename + create, copytruncate, delete and
 * recreate, not-yet-existing files, symlink retargets), and streams such as standard input. A
 * fixed ring keeps the most recent raw lines for display. No terminal I/O, no parsing: what a line
 * means is the caller's business.
 */
#ifndef TT_TAIL_H
#define TT_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "evloop.h"

#include "logscan.h"

/* The one long-line rule of every log reader (logread.h): longer lines are skipped (counted
 * in skipped_long). */
#define TAIL_MAX_LINE LOGSCAN_MAX_LINE

struct tail;

/* One complete line, without its newline. Valid only during the callback. */
struct tail_line {
    const char *path;     /* the path as given to tail_add() */
    unsigned long lineno; /* 1-based within the file generation */
    unsigned generation;  /* 0 for the file as first opened, +1 per rotation or truncation */
    const char *p;        /* the bytes (not NUL-terminated) */
    size_t len;
};

typedef void (*tail_line_cb)(const struct tail_line *line, void *arg);
/* The same, n lines at a time in file order (all of one read, or up to a few hundred): one call
 * instead of one per line for a caller that loops anyway. Valid only during the callback. */
typedef void (*tail_lines_cb)(const struct tail_line *lines, size_t n, void *arg);

/* Gives the time written at the start of a line, or (time_t)-1 if it has none; used to find
 * where --since starts (logread_since_offset: the log in time order, up to its slack). */
typedef time_t (*tail_time_fn)(const char *line, size_t len);

enum tail_start {
    TAIL_START_END = 0,   /* only what is written from now on (default) */
    TAIL_START_BACKFILL,  /* the last backfill_bytes, from the next line start */
    TAIL_START_SINCE,     /* from logread_since_offset(): a line start before the first line
                             with time >= since, by at most LOGREAD_SINCE_SLACK of disorder;
                             the caller keeps events by their own time (logread_keep) */
    TAIL_START_BEGINNING, /* the whole file */
};

enum tail_split {
    TAIL_SPLIT_BEST = 0, /* AVX2 when the CPU has it, else SSE2 (x86-64), else memchr */
    TAIL_SPLIT_SSE2,     /* SSE2 on x86-64, else memchr */
    TAIL_SPLIT_MEMCHR,   /* memchr per line (the portable way) */
};

struct tail_opts {
    enum tail_start start;
    off_t backfill_bytes;  /* TAIL_START_BACKFILL */
    time_t since;          /* TAIL_START_SINCE */
    tail_time_fn time_fn;  /* TAIL_START_SINCE */
    size_t ring_lines;     /* lines kept for display; 0 gives 256 */
    size_t ring_line_max;  /* bytes kept per ring line; 0 gives 4096 */
    unsigned stat_ms;      /* stat() safety net period; 0 gives 250 */
    bool no_inotify;       /* stat() only (the fallback, also for tests) */
    unsigned retire_ms;    /* keep a rotated-away file open this long after its last data so
                              late writes by the old writer are read; 0 gives 2000 */
    unsigned coalesce_ms;  /* under a steady stream, inotify-driven passes are at least this far
                              apart (the first change after a quiet spell is read at once);
                              0 gives 20 */
    enum tail_split split; /* how reads are split into lines (tests: each gives the same) */
    bool no_ring;          /* nothing shows the ring: keep none (tail_ring_count stays 0) */
};

struct tail_stats {
    unsigned long long lines;           /* complete lines delivered */
    unsigned long long bytes;           /* bytes read */
    unsigned long long skipped_long;    /* lines over TAIL_MAX_LINE, skipped */
    unsigned long long rotations;       /* new file generations (rename, delete, symlink) */
    unsigned long long truncations;     /* shrinks or changed first bytes on the same inode */
    unsigned long long dropped_partial; /* unterminated line fragments lost to a truncation */
};

/* The follower registers its inotify fd and timers on loop. opts may be NULL (defaults). */
struct tail *tail_new(struct evloop *loop, const struct tail_opts *opts, tail_line_cb cb,
                      void *arg);
/* The same with lines delivered in batches. */
struct tail *tail_new_batched(struct evloop *loop, const struct tail_opts *opts, tail_lines_cb cb,
                              void *arg);
/* Follows path (which need not exist yet). Returns 0, or -1 with *cause set for an error
 * other than the file being absent (e.g. permission denied). */
int tail_add(struct tail *t, const char *path, char **cause);
/* Follows a stream (a pipe or terminal, e.g. standard input) as it arrives, under name,
 * until EOF; no rotation, no start position. fd is duplicated, not taken. Returns 0, or -1
 * with *cause set. */
int tail_add_stream(struct tail *t, int fd, const char *name, char **cause);
/* true when everything followed is a stream and every one has reached EOF. */
bool tail_ended(const struct tail *t);
/* Reads everything available now and checks every file for rotation (the timers and inotify
 * call this too). Returns the number of lines delivered. */
size_t tail_check(struct tail *t);
/* Reads what is left in every open file (including rotated-away ones) and delivers the last
 * unterminated fragments too: for a clean shutdown. */
void tail_drain(struct tail *t);
/* Unregisters from the loop and closes everything. */
void tail_free(struct tail *t);

void tail_get_stats(const struct tail *t, struct tail_stats *out);
/* Whether a read pass is still queued (a budget ran out: more is readable now), e.g. while
 * the backlog since the start time is being read. */
bool tail_pending(const struct tail *t);
/* Whether inotify is in use (false: stat() polling only). */
bool tail_uses_inotify(const struct tail *t);

/* The display ring: i = 0 is the oldest line kept, count-1 the newest. Text is at most
 * ring_line_max bytes (truncated flag set when cut), raw (the caller sanitizes), NUL-terminated.
 * It takes a read's lines after they were all delivered (not while the callback runs). */
struct tail_ring_line {
    const char *path;
    unsigned long lineno;
    const char *p;
    size_t len;
    bool truncated;
};
size_t tail_ring_count(const struct tail *t);
int tail_ring_get(const struct tail *t, size_t i, struct tail_ring_line *out);

#endif
