/*
 * logread.c — owns reading nginx error logs: opening a path as a log (regular files only, never
 * blocking on a FIFO), the batch read (large read()s, the marker search over whole blocks,
 * lines over LOGSCAN_MAX_LINE skipped), the --since rule and its start offset (bisection on the
 * line timestamps). It does not follow files (tail.c, which takes its --since start and long
 * line rule from here) or print. Called by cli-scan.c, cli-diagnose.c (and triage) and tail.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incident.h"
#include "logread.h"
#include "logscan.h"
#include "xmalloc.h"

#define READ_SIZE (1u << 20)                          /* bytes per read() of the batch scan */
#define PROBE_READ (16u * 1024)                       /* bytes per pread() of a bisection probe */
#define PROBE_MAX (LOGSCAN_MAX_LINE + 2 * PROBE_READ) /* a probe gives up after this much */
#define BISECT_STOP ((off_t)64 * 1024)                /* bisect down to this window, then read it */

void
logread_warnings_free(struct logread_warnings *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->items[i].file);
        free(w->items[i].message);
    }
    free(w->items);
    w->items = NULL;
    w->n = 0;
}

static void
warn_add(struct logread_warnings *w, const char *file, unsigned long line, char *message)
{
    if (w == NULL) {
        free(message);
        return;
    }
    w->items = xreallocarray(w->items, w->n + 1, sizeof(*w->items));
    w->items[w->n].file = file != NULL ? xstrdup(file) : NULL;
    w->items[w->n].line = line;
    w->items[w->n].message = message;
    w->n++;
}

int
logread_open(const char *path, int *fdp, struct stat *sbp, char **cause)
{
    struct stat sb;
    const char *what;
    int fd, fl, saved;

    /* O_NONBLOCK: open(2) of a FIFO without a writer would wait for one */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
        saved = errno;
        *cause = xasprintf("%s: %s", path, strerror(saved));
        errno = saved;
        return -1;
    }
    if (fstat(fd, &sb) < 0) {
        saved = errno;
        *cause = xasprintf("%s: %s", path, strerror(saved));
        close(fd);
        errno = saved;
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        if (S_ISDIR(sb.st_mode))
            what = "is a directory";
        else if (S_ISFIFO(sb.st_mode))
            what = "is a FIFO, not a regular file";
        else if (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode))
            what = "is a device, not a regular file";
        else if (S_ISSOCK(sb.st_mode))
            what = "is a socket, not a regular file";
        else
            what = "is not a regular file";
        *cause = xasprintf("%s: %s", path, what);
        close(fd);
        errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    if ((fl = fcntl(fd, F_GETFL)) >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fdp = fd;
    *sbp = sb;
    return 0;
}

/* ---- --since: where to start ---- */

/* The first line that starts in [off, lim) and has a time: its offset in *at and its time.
 * (time_t)-1 when there is none before lim or within PROBE_MAX bytes of off (a line longer
 * than that, or a stretch of lines without times). */
static time_t
probe(int fd, off_t off, off_t lim, logread_time_fn time_fn, char *buf, off_t *at)
{
    off_t pos = off > 0 ? off - 1 : 0; /* from the byte before off: is off a line start? */
    bool at_start = off == 0;          /* the byte at pos starts a line */

    while (pos < lim && pos - off < (off_t)PROBE_MAX) {
        ssize_t n = pread(fd, buf, PROBE_READ, pos);
        const char *p = buf, *e;
        size_t used;

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        e = buf + n;
        used = (size_t)n;
        while (p < e) {
            const char *nl;
            if (!at_start) {
                if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
                    break;
                p = nl + 1;
                at_start = true;
                continue;
            }
            if (pos + (p - buf) >= lim)
                return (time_t)-1;
            if (e - p < 32 && (size_t)n == PROBE_READ && p > buf) {
                used = (size_t)(p - buf); /* read the line's head again, whole */
                break;
            }
            nl = memchr(p, '\n', (size_t)(e - p));
            time_t when = time_fn(p, nl != NULL ? (size_t)(nl - p) : (size_t)(e - p));
            if (when != (time_t)-1) {
                *at = pos + (p - buf);
                return when;
            }
            if (nl == NULL) {
                at_start = false;
                break;
            }
            p = nl + 1;
        }
        pos += (off_t)used;
    }
    return (time_t)-1;
}

off_t
logread_since_offset(int fd, off_t size, time_t since, logread_time_fn time_fn)
{
    time_t want = since - LOGREAD_SINCE_SLACK;
    off_t lo = 0, hi = size, at;
    char *buf;

    if (size <= BISECT_STOP || time_fn == NULL)
        return 0;
    if (want > since) /* overflow */
        want = since;
    buf = xmalloc(PROBE_READ);
    /* lo: 0, or the start of a line whose time is before want. Under the disorder bound every
     * line before it is before since. hi only ever moves left, so the start only moves
     * earlier when a probe finds no time. */
    while (hi - lo > BISECT_STOP) {
        off_t mid = lo + (hi - lo) / 2;
        time_t when = probe(fd, mid, hi, time_fn, buf, &at);
        if (when != (time_t)-1 && when < want)
            lo = at;
        else
            hi = mid;
    }
    free(buf);
    return lo;
}

/* Newlines in [0, end) of fd. */
static int
count_lines(int fd, off_t end, char *buf, unsigned long *out, char **cause, const char *name)
{
    unsigned long n = 0;
    off_t off = 0;

    while (off < end) {
        size_t want = end - off < (off_t)READ_SIZE ? (size_t)(end - off) : READ_SIZE;
        ssize_t r = pread(fd, buf, want, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *cause = xasprintf("%s: %s", name, strerror(errno));
            return -1;
        }
        if (r == 0)
            break;
        for (const char *p = buf, *e = buf + r; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
            n++;
        off += r;
    }
    *out = n;
    return 0;
}

/* ---- the batch read ---- */

struct reader {
    const struct logread_opts *o;
    logread_event_fn fn;
    void *arg;
    const char *file; /* NULL for standard input */
    unsigned long long events;
};

static void
handle_line(struct reader *rd, const char *l, size_t n, unsigned long lineno)
{
    struct ls_event ev;

    if (n > LOGSCAN_MAX_LINE || !logscan_parse_line(l, n, lineno, &ev) || !logread_keep(&ev, rd->o))
        return;
    rd->events++;
    rd->fn(&ev, rd->file, rd->arg);
}

/* Handles the complete lines in [buf, buf+len); returns the bytes consumed (up to and
 * including the last newline). *flines counts the file's lines. */
static size_t
read_block(struct reader *rd, const char *buf, size_t len, unsigned long *flines)
{
    const char *p = buf, *lim, *last;

    last = memrchr(buf, '\n', len);
    if (last == NULL)
        return 0;
    lim = last + 1;
    while (p < lim) {
        size_t nl = 0;
        const char *hit = logscan_find_marker(p, lim, &nl), *ls, *le;

        *flines += nl;
        if (hit == NULL)
            break;
        ls = hit > p ? memrchr(p, '\n', (size_t)(hit - p)) : NULL;
        ls = ls != NULL ? ls + 1 : p;
        le = memchr(hit, '\n', (size_t)(lim - hit));
        handle_line(rd, ls, (size_t)(le - ls), *flines + 1);
        (*flines)++;
        p = le + 1;
    }
    return (size_t)(lim - buf);
}

/* Reads fd from its current offset to the end; line numbers continue from *flines. */
static int
read_fd(struct reader *rd, int fd, const char *name, char *buf, size_t cap, unsigned long *flines,
        char **cause)
{
    size_t have = 0;
    bool skipping = false; /* inside a line longer than LOGSCAN_MAX_LINE */

    for (;;) {
        ssize_t n = read(fd, buf + have, cap - have);
        size_t used, start = 0;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            *cause = xasprintf("%s: %s", name, strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        if (skipping) {
            const char *nl = memchr(buf, '\n', have);
            if (nl == NULL) {
                have = 0;
                continue;
            }
            (*flines)++;
            start = (size_t)(nl + 1 - buf);
            skipping = false;
        }
        used = start + read_block(rd, buf + start, have - start, flines);
        have -= used;
        if (have > LOGSCAN_MAX_LINE) {
            skipping = true;
            have = 0;
        } else if (have > 0 && used > 0) {
            memmove(buf, buf + used, have);
        }
    }
    if (have > 0 && !skipping) { /* a last line without its newline */
        (*flines)++;
        handle_line(rd, buf, have, *flines);
    } else if (skipping) {
        (*flines)++;
    }
    return 0;
}

/* One open file: with --since, from its start offset. */
static int
read_file(struct reader *rd, int fd, off_t size, const char *name, bool stream, char *buf,
          size_t cap, struct logread_stats *st, struct logread_warnings *w, char **cause)
{
    unsigned long flines = 0;
    off_t start = 0;
    int rc;

    if (!stream && rd->o != NULL && rd->o->since_given)
        start = logread_since_offset(fd, size, rd->o->since, logscan_line_time);
    if (start > 0) {
        if (start <= LOGREAD_COUNT_MAX) {
            if (count_lines(fd, start, buf, &flines, cause, name) < 0)
                return -1;
        } else {
            warn_add(w, name, 0,
                     xasprintf("--since: reading from byte %lld, where the log is more than %d "
                               "minutes older than TIME; line numbers count from there, not "
                               "from the start of the file",
                               (long long)start, LOGREAD_SINCE_SLACK / 60));
        }
        if (lseek(fd, start, SEEK_SET) < 0) {
            *cause = xasprintf("%s: %s", name, strerror(errno));
            return -1;
        }
    }
#ifdef POSIX_FADV_SEQUENTIAL
    if (!stream)
        (void)posix_fadvise(fd, start, 0, POSIX_FADV_SEQUENTIAL);
#endif
    rc = read_fd(rd, fd, name, buf, cap, &flines, cause);
    if (st != NULL)
        st->lines += flines;
    return rc;
}

int
logread_files(const char *const *files, size_t nfiles, const struct logread_opts *o,
              logread_event_fn fn, void *arg, struct logread_stats *st, struct logread_warnings *w,
              char **cause)
{
    int *fds = xcalloc(nfiles > 0 ? nfiles : 1, sizeof(*fds));
    off_t *sizes = xcalloc(nfiles > 0 ? nfiles : 1, sizeof(*sizes));
    size_t nopen = 0, cap = READ_SIZE + LOGSCAN_MAX_LINE + 1;
    struct reader rd;
    char *buf = NULL;
    int rc = -1;

    memset(&rd, 0, sizeof(rd));
    rd.o = o;
    rd.fn = fn;
    rd.arg = arg;
    /* every file first: a bad path stops the read before any event */
    for (nopen = 0; nopen < nfiles; nopen++) {
        if (strcmp(files[nopen], "-") == 0) {
            fds[nopen] = STDIN_FILENO;
            continue;
        }
        struct stat sb;
        if (logread_open(files[nopen], &fds[nopen], &sb, cause) < 0)
            goto out;
        sizes[nopen] = sb.st_size;
    }
    buf = xmalloc(cap);
    for (size_t i = 0; i < nfiles; i++) {
        bool stream = fds[i] == STDIN_FILENO;
        rd.file = stream ? NULL : files[i];
        if (read_file(&rd, fds[i], sizes[i], files[i], stream, buf, cap, st, w, cause) < 0)
            goto out;
    }
    rc = 0;
out:
    if (st != NULL)
        st->events += rd.events;
    for (size_t i = 0; i < nopen; i++) {
        if (fds[i] != STDIN_FILENO)
            close(fds[i]);
    }
    free(buf);
    free(sizes);
    free(fds);
    return rc;
}

static void
store_event(const struct ls_event *ev, const char *file, void *arg)
{
    incident_store_add(arg, ev, file);
}

int
logread_store(struct incident_store *store, const char *const *files, size_t nfiles,
              const struct logread_opts *o, struct logread_stats *st, struct logread_warnings *w,
              char **cause)
{
    return logread_files(files, nfiles, o, store_event, store, st, w, cause);
}
