/*
 * tail.c — owns following log files (`tail -F`): positioning at start (end, backfill, --since
 * where logread.c says), opening a path as logread.c does (regular files only, never blocking),
 * splitting complete lines, detecting rotation by device/inode, size shrink and a changed
 * first-bytes signature, draining rotated-away files, inotify with a stat() safety net, and the
 * display ring; also streams (standard input from `docker logs -f`), read as they arrive. It
 * does not parse lines or print; the follow verb (cli-scan-follow.c) and later the TUI drive
 * it through the event loop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/inotify.h>
#define TAIL_HAVE_INOTIFY 1
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TAIL_VECTOR_SPLIT 1 /* SSE2 always, AVX2 when the CPU has it */
#endif

#include "buf.h"
#include "evloop.h"
#include "logread.h"
#include "path.h"
#include "tail.h"
#include "xmalloc.h"

#define RBUF_SIZE (1024 * 1024)
#define SIG_LEN 256                        /* first bytes compared to spot a rewrite */
#define BUDGET_PER_CHECK (4 * 1024 * 1024) /* bytes per file per pass, then yield */
#define MAX_RETIRING 8 /* rotated-away files kept open per path; beyond, the oldest is let go */
#define COUNT_LINES_MAX ((off_t)512 * 1024 * 1024) /* beyond: line numbers are relative */

#define RBUF_PAD 64     /* readable (zeroed) bytes after the largest read: see SPLIT_BLOCKS */
#define BATCH_LINES 512 /* lines per delivery at least (see batch_deliver) */

enum src_mode {
    MODE_NORMAL,    /* collecting a line */
    MODE_ALIGN,     /* discarding up to the next newline (start inside a line) */
    MODE_SKIP_LONG, /* discarding the rest of a line longer than TAIL_MAX_LINE */
};

/* One open generation of a file: the current one, or a rotated-away one being drained. */
struct tsrc {
    int fd;
    int wd;
    dev_t dev;
    ino_t ino;
    off_t pos; /* next byte to read */
    unsigned long lineno;
    unsigned gen;
    enum src_mode mode;
    struct buf partial;
    unsigned char sig[SIG_LEN];
    size_t siglen;
    uint64_t last_data_ms;
};

struct tfile {
    char *path;
    struct tsrc cur;  /* cur.fd < 0: the path is not open (absent so far) */
    struct tsrc *old; /* rotated away, still read until idle for retire_ms */
    size_t nold;
    unsigned next_gen;
    bool opened_once; /* a file that appears later is read from its first byte */
    int dir_wd;
    /* A stream (a pipe, standard input): read as it arrives, no rotation, until EOF. */
    bool stream;
    bool ended;
    struct tail *owner;
};

struct ring_slot {
    const char *path;
    unsigned long lineno;
    char *p;
    size_t len;
    bool truncated;
};

struct tail {
    struct evloop *loop;
    struct tail_opts o;
    tail_line_cb cb;        /* per line, or: */
    tail_lines_cb lines_cb; /* per batch (one of the two is set) */
    void *arg;
    enum { SPLIT_MEMCHR, SPLIT_SSE2, SPLIT_AVX2 } split;
    struct tail_line *batch; /* see batch_deliver */
    size_t nbatch, hist, stop, batch_cap;
    unsigned long long in_read; /* lines delivered from the current read */
    struct tfile **files;
    size_t nfiles;
    char *rbuf;
    int ifd; /* inotify, or -1 */
    int stat_timer;
    int more_timer; /* armed when a pass stopped on its budget */
    int soon_timer; /* armed when inotify fired within coalesce_ms of the last pass */
    uint64_t last_check_ms;
    struct tail_stats st;
    struct ring_slot *ring;
    size_t ring_head, ring_count;
};

static void
src_init(struct tsrc *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->wd = -1;
}

/* ---- the ring ---- */

static void
ring_push(struct tail *t, const char *path, unsigned long lineno, const char *p, size_t len)
{
    struct ring_slot *r;
    size_t idx = t->ring_head + t->ring_count;
    size_t keep = len < t->o.ring_line_max ? len : t->o.ring_line_max;

    if (idx >= t->o.ring_lines)
        idx -= t->o.ring_lines;
    if (t->ring_count == t->o.ring_lines) {
        idx = t->ring_head;
        if (++t->ring_head == t->o.ring_lines)
            t->ring_head = 0;
    } else {
        t->ring_count++;
    }
    r = &t->ring[idx];
    if (r->p == NULL)
        r->p = xmalloc(t->o.ring_line_max + 1);
    memcpy(r->p, p, keep);
    r->p[keep] = '\0';
    r->len = keep;
    r->truncated = keep < len;
    r->path = path;
    r->lineno = lineno;
}

size_t
tail_ring_count(const struct tail *t)
{
    return t->ring_count;
}

int
tail_ring_get(const struct tail *t, size_t i, struct tail_ring_line *out)
{
    const struct ring_slot *r;

    if (i >= t->ring_count)
        return -1;
    r = &t->ring[(t->ring_head + i) % t->o.ring_lines];
    out->path = r->path;
    out->lineno = r->lineno;
    out->p = r->p;
    out->len = r->len;
    out->truncated = r->truncated;
    return 0;
}

/* ---- splitting lines ---- */

/* Lines go to the caller in batches (one call per batch, not per line) and the ring takes only
 * the last ring_lines of a read at its end: pushing every line meant a copy each, most of
 * them pushed out again within the same read. The batch array is circular, two halves of at
 * least ring_lines: a batch is delivered when a half fills, so the half before still holds the
 * lines the ring may need (they point into rbuf or s->partial, both untouched until the read
 * is done). batch[hist, nbatch) wait for delivery; the next delivery is at stop. */
static void
batch_deliver(struct tail *t)
{
    size_t n = t->nbatch - t->hist;

    t->st.lines += n;
    t->in_read += n;
    if (t->lines_cb != NULL) {
        if (n > 0)
            t->lines_cb(t->batch + t->hist, n, t->arg);
    } else {
        for (size_t i = t->hist; i < t->nbatch; i++)
            t->cb(&t->batch[i], t->arg);
    }
    t->hist = t->nbatch;
}

/* A half filled in the middle of a read. */
static __attribute__((noinline)) void
batch_stop(struct tail *t)
{
    batch_deliver(t);
    if (t->nbatch == t->batch_cap)
        t->nbatch = t->hist = 0;
    t->stop = t->nbatch + t->batch_cap / 2;
}

/* The read is done: deliver, then the ring takes the last lines (before rbuf or the partial
 * line they point into change). */
static void
batch_end(struct tail *t)
{
    size_t k;

    batch_deliver(t);
    k = t->in_read < t->o.ring_lines ? (size_t)t->in_read : t->o.ring_lines;
    if (t->o.no_ring)
        k = 0;
    for (size_t i = 0; i < k; i++) {
        const struct tail_line *l = &t->batch[(t->nbatch + t->batch_cap - k + i) % t->batch_cap];
        ring_push(t, l->path, l->lineno, l->p, l->len);
    }
    t->nbatch = t->hist = 0;
    t->in_read = 0;
    t->stop = t->batch_cap / 2;
}

/* One line outside the fast loop (a joined partial line, an unterminated last one). */
static void
batch_add(struct tail *t, struct tfile *f, struct tsrc *s, const char *p, size_t len)
{
    struct tail_line *l;

    s->lineno++;
    if (len > TAIL_MAX_LINE) {
        t->st.skipped_long++;
        return;
    }
    l = &t->batch[t->nbatch];
    l->path = f->path;
    l->lineno = s->lineno;
    l->generation = s->gen;
    l->p = p;
    l->len = len;
    if (++t->nbatch == t->stop)
        batch_stop(t);
}

/* The fast loop's state, in registers (the struct never leaves the splitter). Lines skipped
 * for their length are counted at the end: numbered but not added. */
struct splitter {
    struct tail *t;
    const char *path;
    unsigned gen;
    unsigned long lineno, lineno0;
    unsigned long long added0;    /* lines of this read added before the split */
    struct tail_line *cur, *stop; /* the next batch slot; the next delivery */
    const char *ls;               /* where the current line starts */
};

#define SPLIT_INLINE static inline __attribute__((always_inline))

SPLIT_INLINE void
split_begin(struct splitter *sp, struct tail *t, struct tfile *f, struct tsrc *s, const char *p)
{
    sp->t = t;
    sp->path = f->path;
    sp->gen = s->gen;
    sp->lineno = sp->lineno0 = s->lineno;
    sp->cur = t->batch + t->nbatch;
    sp->stop = t->batch + t->stop;
    sp->ls = p;
    sp->added0 = t->in_read + (t->nbatch - t->hist);
}

/* Returns where the unterminated rest starts. */
SPLIT_INLINE const char *
split_end(struct splitter *sp, struct tsrc *s)
{
    struct tail *t = sp->t;

    t->nbatch = (size_t)(sp->cur - t->batch);
    s->lineno = sp->lineno;
    t->st.skipped_long +=
        (sp->lineno - sp->lineno0) - (t->in_read + (t->nbatch - t->hist) - sp->added0);
    return sp->ls;
}

/* A newline at nl ends the line at sp->ls. */
SPLIT_INLINE void
split_line(struct splitter *sp, const char *nl)
{
    size_t len = (size_t)(nl - sp->ls);

    sp->lineno++;
    if (len <= TAIL_MAX_LINE) {
        struct tail_line *l = sp->cur++;
        l->path = sp->path;
        l->lineno = sp->lineno;
        l->generation = sp->gen;
        l->p = sp->ls;
        l->len = len;
        if (sp->cur == sp->stop) {
            sp->t->nbatch = (size_t)(sp->cur - sp->t->batch);
            batch_stop(sp->t);
            sp->cur = sp->t->batch + sp->t->nbatch;
            sp->stop = sp->t->batch + sp->t->stop;
        }
    }
    sp->ls = nl + 1;
}

/* Every complete line in [p, end) into the batch, one memchr per line (any platform). */
static const char *
split_memchr(struct tail *t, struct tfile *f, struct tsrc *s, const char *p, const char *end)
{
    struct splitter sp;
    const char *nl;

    split_begin(&sp, t, f, s, p);
    while ((nl = memchr(sp.ls, '\n', (size_t)(end - sp.ls))) != NULL)
        split_line(&sp, nl);
    return split_end(&sp, s);
}

#if defined(TAIL_VECTOR_SPLIT)
/* The vector splitters find the newlines of 64 bytes at a time as a bitmap and walk its bits:
 * a memchr call per line cost more than the rest of the line's splitting. Blocks may read up to
 * 63 bytes past end; rbuf has RBUF_PAD bytes more than a read fills, and their bits are
 * masked off. */
#define SPLIT_BLOCKS(NL_BITS)                                                                      \
    const char *b = p;                                                                             \
    uint64_t m;                                                                                    \
    for (; end - b >= 64; b += 64) {                                                               \
        for (m = NL_BITS(b); m != 0; m &= m - 1)                                                   \
            split_line(&sp, b + (unsigned)__builtin_ctzll(m));                                     \
    }                                                                                              \
    if (b < end) {                                                                                 \
        for (m = NL_BITS(b) & (((uint64_t)1 << (end - b)) - 1); m != 0; m &= m - 1)                \
            split_line(&sp, b + (unsigned)__builtin_ctzll(m));                                     \
    }

SPLIT_INLINE uint64_t
nl_bits_sse2(const char *b)
{
    const __m128i c_nl = _mm_set1_epi8('\n');
    __m128i e0 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)b), c_nl);
    __m128i e1 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(b + 16)), c_nl);
    __m128i e2 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(b + 32)), c_nl);
    __m128i e3 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(b + 48)), c_nl);

    /* most blocks hold no newline: one movemask says so */
    if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(e0, e1), _mm_or_si128(e2, e3))) == 0)
        return 0;
    return (uint64_t)(unsigned)_mm_movemask_epi8(e0) |
           (uint64_t)(unsigned)_mm_movemask_epi8(e1) << 16 |
           (uint64_t)(unsigned)_mm_movemask_epi8(e2) << 32 |
           (uint64_t)(unsigned)_mm_movemask_epi8(e3) << 48;
}

static const char *
split_sse2(struct tail *t, struct tfile *f, struct tsrc *s, const char *p, const char *end)
{
    struct splitter sp;

    split_begin(&sp, t, f, s, p);
    SPLIT_BLOCKS(nl_bits_sse2)
    return split_end(&sp, s);
}

__attribute__((target("avx2"))) SPLIT_INLINE uint64_t
nl_bits_avx2(const char *b)
{
    const __m256i c_nl = _mm256_set1_epi8('\n');
    __m256i v0 = _mm256_loadu_si256((const __m256i *)b);
    __m256i v1 = _mm256_loadu_si256((const __m256i *)(b + 32));

    return (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, c_nl)) |
           (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, c_nl)) << 32;
}

/* 128 bytes a step, tested at once for a newline (in a busy log most steps have none, a line
 * being a few hundred bytes), then the tail of the read 64 bytes at a time. */
__attribute__((target("avx2"))) static const char *
split_avx2(struct tail *t, struct tfile *f, struct tsrc *s, const char *p, const char *end)
{
    const __m256i c_nl = _mm256_set1_epi8('\n');
    struct splitter sp;

    split_begin(&sp, t, f, s, p);
    for (size_t steps = (size_t)(end - p) / 128; steps > 0; steps--, p += 128) {
        __m256i e0 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)p), c_nl);
        __m256i e1 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + 32)), c_nl);
        __m256i e2 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + 64)), c_nl);
        __m256i e3 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + 96)), c_nl);
        __m256i any = _mm256_or_si256(_mm256_or_si256(e0, e1), _mm256_or_si256(e2, e3));
        uint64_t m;

        if (_mm256_testz_si256(any, any))
            continue;
        m = (uint64_t)(uint32_t)_mm256_movemask_epi8(e0) |
            (uint64_t)(uint32_t)_mm256_movemask_epi8(e1) << 32;
        for (; m != 0; m &= m - 1)
            split_line(&sp, p + (unsigned)__builtin_ctzll(m));
        m = (uint64_t)(uint32_t)_mm256_movemask_epi8(e2) |
            (uint64_t)(uint32_t)_mm256_movemask_epi8(e3) << 32;
        for (; m != 0; m &= m - 1)
            split_line(&sp, p + 64 + (unsigned)__builtin_ctzll(m));
    }
    {
        SPLIT_BLOCKS(nl_bits_avx2)
    }
    return split_end(&sp, s);
}
#endif

/* Splits the len bytes just read into t->rbuf, delivers the complete lines and keeps the
 * unterminated rest in s->partial. */
static void
feed(struct tail *t, struct tfile *f, struct tsrc *s, size_t len)
{
    const char *p = t->rbuf, *end = t->rbuf + len;

    /* The first newline ends what the previous read left: a line start to find, an over-long
     * line being skipped, or a partial line. */
    if (s->mode != MODE_NORMAL || s->partial.len > 0) {
        const char *nl = memchr(p, '\n', len);
        size_t chunk = nl != NULL ? (size_t)(nl - p) : len;

        if (nl == NULL) {
            if (s->mode != MODE_NORMAL)
                return;
            if (s->partial.len + chunk > TAIL_MAX_LINE) {
                buf_reset(&s->partial);
                s->mode = MODE_SKIP_LONG;
            } else {
                buf_add(&s->partial, p, chunk);
            }
            goto out;
        }
        if (s->mode == MODE_ALIGN) {
            s->lineno++;
        } else if (s->mode == MODE_SKIP_LONG || s->partial.len + chunk > TAIL_MAX_LINE) {
            s->lineno++;
            t->st.skipped_long++;
            buf_reset(&s->partial);
        } else {
            buf_add(&s->partial, p, chunk);
            batch_add(t, f, s, s->partial.p, s->partial.len);
        }
        s->mode = MODE_NORMAL;
        p = nl + 1;
    }
    switch (t->split) {
#if defined(TAIL_VECTOR_SPLIT)
    case SPLIT_AVX2:
        p = split_avx2(t, f, s, p, end);
        break;
    case SPLIT_SSE2:
        p = split_sse2(t, f, s, p, end);
        break;
#endif
    default:
        p = split_memchr(t, f, s, p, end);
        break;
    }
    batch_end(t);
    buf_reset(&s->partial); /* only now: a joined line in it was delivered and copied */
    if ((size_t)(end - p) > TAIL_MAX_LINE)
        s->mode = MODE_SKIP_LONG;
    else if (p < end)
        buf_add(&s->partial, p, (size_t)(end - p));
out:
    /* a long partial line must not pin its memory after it completes */
    if (s->partial.len == 0 && s->partial.cap > 2 * RBUF_SIZE)
        buf_free(&s->partial);
}

/* Delivers an unterminated last fragment (the file is going away). */
static void
flush_partial(struct tail *t, struct tfile *f, struct tsrc *s)
{
    if (s->mode == MODE_NORMAL && s->partial.len > 0) {
        batch_add(t, f, s, s->partial.p, s->partial.len);
        batch_end(t);
    }
    buf_reset(&s->partial);
}

/* ---- reading ---- */

/* Records the first bytes once they exist, so a rewrite of the same inode can be seen. */
static void
sig_update(struct tsrc *s)
{
    size_t want;
    ssize_t n;

    if (s->siglen >= SIG_LEN || s->pos <= (off_t)s->siglen)
        return;
    want = s->pos < SIG_LEN ? (size_t)s->pos : SIG_LEN;
    n = pread(s->fd, s->sig, want, 0);
    s->siglen = n > 0 ? (size_t)n : 0;
}

static bool
sig_changed(const struct tsrc *s)
{
    unsigned char now[SIG_LEN];
    ssize_t n;

    if (s->siglen == 0)
        return false;
    n = pread(s->fd, now, s->siglen, 0);
    return n != (ssize_t)s->siglen || memcmp(now, s->sig, s->siglen) != 0;
}

/* Reads from s until EOF or the budget. Returns true if data may remain. */
static bool
src_read(struct tail *t, struct tfile *f, struct tsrc *s)
{
    size_t budget = BUDGET_PER_CHECK;
    bool got = false;

    while (budget > 0) {
        ssize_t n = pread(s->fd, t->rbuf, RBUF_SIZE, s->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        s->pos += n;
        t->st.bytes += (unsigned long long)n;
        got = true;
        feed(t, f, s, (size_t)n);
        budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
    }
    if (got) {
        s->last_data_ms = evloop_now_ms();
        sig_update(s);
    }
    return budget == 0;
}

/* Same inode, but shrunk or rewritten from the start (copytruncate): read from byte 0 as a
 * new generation. The fragment of a line cut by the truncation is gone with the copy. */
static void
src_restart(struct tail *t, struct tfile *f, struct tsrc *s)
{
    if (s->partial.len > 0 || s->mode != MODE_NORMAL)
        t->st.dropped_partial += s->partial.len > 0 ? 1 : 0;
    buf_reset(&s->partial);
    s->mode = MODE_NORMAL;
    s->pos = 0;
    s->lineno = 0;
    s->siglen = 0;
    s->gen = f->next_gen++;
    t->st.truncations++;
}

static void
src_close(struct tail *t, struct tsrc *s)
{
#ifdef TAIL_HAVE_INOTIFY
    if (s->wd >= 0 && t->ifd >= 0)
        inotify_rm_watch(t->ifd, s->wd);
#else
    (void)t;
#endif
    if (s->fd >= 0)
        close(s->fd);
    buf_free(&s->partial);
    src_init(s);
}

static void
watch_fd(struct tail *t, struct tsrc *s, const char *path)
{
#ifdef TAIL_HAVE_INOTIFY
    char proc[64];
    const uint32_t mask = IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB;

    if (t->ifd < 0)
        return;
    /* watch the inode we opened, not whatever the path names by now */
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", s->fd);
    s->wd = inotify_add_watch(t->ifd, proc, mask);
    if (s->wd < 0)
        s->wd = inotify_add_watch(t->ifd, path, mask);
#else
    (void)t;
    (void)s;
    (void)path;
#endif
}

/* Counts newlines in [0, end) for absolute line numbers. */
static unsigned long
count_lines(struct tail *t, int fd, off_t end)
{
    unsigned long n = 0;
    off_t off = 0;

    if (end > COUNT_LINES_MAX)
        return 0; /* too costly at start-up: numbers are relative to the start point */
    while (off < end) {
        size_t want = end - off < RBUF_SIZE ? (size_t)(end - off) : RBUF_SIZE;
        ssize_t r = pread(fd, t->rbuf, want, off);
        const char *p, *e;
        if (r <= 0)
            break;
        for (p = t->rbuf, e = t->rbuf + r; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
            n++;
        off += r;
    }
    return n;
}

/* Opens f->path as a new current source. Returns 0, -1 if absent or unreadable. */
static int
open_current(struct tail *t, struct tfile *f, char **cause)
{
    struct tsrc *s = &f->cur;
    struct stat sb;
    off_t start = 0;
    char *why = NULL;
    int fd;

    /* logread's rule: a regular file, opened without blocking; absent is waited for */
    if (logread_open(f->path, &fd, &sb, &why) < 0) {
        if (cause != NULL && errno != ENOENT && errno != ENOTDIR)
            *cause = why;
        else
            free(why);
        return -1;
    }
    src_init(s);
    s->fd = fd;
    s->dev = sb.st_dev;
    s->ino = sb.st_ino;
    s->gen = f->next_gen++;
    s->last_data_ms = evloop_now_ms();
    if (!f->opened_once) {
        switch (t->o.start) {
        case TAIL_START_END:
            start = sb.st_size;
            break;
        case TAIL_START_BACKFILL:
            start = sb.st_size > t->o.backfill_bytes ? sb.st_size - t->o.backfill_bytes : 0;
            break;
        case TAIL_START_SINCE:
            start = logread_since_offset(fd, sb.st_size, t->o.since, t->o.time_fn);
            break;
        case TAIL_START_BEGINNING:
            start = 0;
            break;
        }
    }
    f->opened_once = true;
    if (start > 0) { /* begin one byte early: MODE_ALIGN eats through the next newline */
        s->pos = start - 1;
        s->lineno = count_lines(t, fd, start - 1);
        s->mode = MODE_ALIGN;
        sig_update(s);
    }
    watch_fd(t, s, f->path);
    return 0;
}

static void
retire_current(struct tail *t, struct tfile *f)
{
    if (f->nold == MAX_RETIRING) { /* rotations faster than retire_ms: bound the fds */
        while (src_read(t, f, &f->old[0]))
            ;
        flush_partial(t, f, &f->old[0]);
        src_close(t, &f->old[0]);
        memmove(&f->old[0], &f->old[1], (f->nold - 1) * sizeof(*f->old));
        f->nold--;
    }
    f->old = xreallocarray(f->old, f->nold + 1, sizeof(*f->old));
    f->old[f->nold++] = f->cur;
    f->old[f->nold - 1].last_data_ms = evloop_now_ms();
    src_init(&f->cur);
    t->st.rotations++;
}

/* One file: truncation check, read, rotation check, drain of rotated-away generations.
 * Returns true if a budget ran out (call again soon). */
static bool
check_file(struct tail *t, struct tfile *f)
{
    bool more = false;
    struct stat sb;
    uint64_t now;

    if (f->stream)
        return false; /* read when the loop says it is readable */
    if (f->cur.fd >= 0) {
        struct stat fsb;
        if (fstat(f->cur.fd, &fsb) == 0 && (fsb.st_size < f->cur.pos || sig_changed(&f->cur)))
            src_restart(t, f, &f->cur);
        more |= src_read(t, f, &f->cur);
    }
    if (stat(f->path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        if (f->cur.fd >= 0 && (sb.st_dev != f->cur.dev || sb.st_ino != f->cur.ino))
            retire_current(t, f);
        if (f->cur.fd < 0 && open_current(t, f, NULL) == 0)
            more |= src_read(t, f, &f->cur);
    }
    for (size_t i = 0; i < f->nold;) {
        struct tsrc *s = &f->old[i];
        bool left = src_read(t, f, s);
        more |= left;
        now = evloop_now_ms(); /* after the read: it may have moved last_data_ms */
        if (!left && now >= s->last_data_ms + t->o.retire_ms) {
            flush_partial(t, f, s);
            src_close(t, s);
            f->nold--; /* keep the rest oldest first */
            memmove(&f->old[i], &f->old[i + 1], (f->nold - i) * sizeof(*f->old));
            continue;
        }
        i++;
    }
    return more;
}

static void on_more(struct evloop *loop, int id, void *arg);

size_t
tail_check(struct tail *t)
{
    unsigned long long before = t->st.lines;
    bool more = false;

    t->last_check_ms = evloop_now_ms();
    for (size_t i = 0; i < t->nfiles; i++)
        more |= check_file(t, t->files[i]);
    if (more && t->more_timer == 0)
        t->more_timer = evloop_timer_add(t->loop, 0, 0, on_more, t);
    return (size_t)(t->st.lines - before);
}

static void
on_more(struct evloop *loop, int id, void *arg)
{
    struct tail *t = arg;

    (void)loop;
    (void)id;
    t->more_timer = 0;
    tail_check(t);
}

static void
on_stat_timer(struct evloop *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    tail_check(arg);
}

static void
on_soon(struct evloop *loop, int id, void *arg)
{
    struct tail *t = arg;

    (void)loop;
    (void)id;
    t->soon_timer = 0;
    if (t->ifd >= 0) /* listen again: events queued meanwhile wake the next pass */
        evloop_fd_events(t->loop, t->ifd, POLLIN);
    tail_check(t);
}

#ifdef TAIL_HAVE_INOTIFY
static void
on_inotify(struct evloop *loop, int fd, short revents, void *arg)
{
    struct tail *t = arg;
    char evbuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

    (void)loop;
    (void)revents;
    /* which watch fired does not matter: every file is checked, which is cheap */
    while (read(fd, evbuf, sizeof(evbuf)) > 0)
        ;
    /* the first write after a quiet spell is read at once; under a steady stream, passes are
     * at least coalesce_ms apart so each read(2) and write(2) carries a batch */
    if (t->soon_timer == 0) {
        uint64_t now = evloop_now_ms();
        if (now >= t->last_check_ms + t->o.coalesce_ms)
            tail_check(t);
        else {
            t->soon_timer =
                evloop_timer_add(loop, t->last_check_ms + t->o.coalesce_ms - now, 0, on_soon, t);
            evloop_fd_events(loop, fd, 0); /* no wake-ups until the pass is due */
        }
    }
}
#endif

/* One read(2) of what the stream has (poll said it is readable, so it does not block; the
 * descriptor is left blocking: O_NONBLOCK would be shared with whoever else holds the pipe or
 * terminal). EOF or an error ends the stream, with its last unterminated line delivered. */
static void
stream_read(struct tail *t, struct tfile *f)
{
    ssize_t n = read(f->cur.fd, t->rbuf, RBUF_SIZE);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n > 0) {
        t->st.bytes += (unsigned long long)n;
        feed(t, f, &f->cur, (size_t)n);
        return;
    }
    flush_partial(t, f, &f->cur);
    evloop_fd_del(t->loop, f->cur.fd);
    src_close(t, &f->cur);
    f->ended = true;
}

static void
on_stream(struct evloop *loop, int fd, short revents, void *arg)
{
    struct tfile *f = arg;

    (void)loop;
    (void)fd;
    (void)revents;
    stream_read(f->owner, f);
}

int
tail_add_stream(struct tail *t, int fd, const char *name, char **cause)
{
    struct tfile *f;
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);

    if (own < 0) {
        if (cause != NULL)
            *cause = xasprintf("%s: %s", name, strerror(errno));
        return -1;
    }
    f = xcalloc(1, sizeof(*f));
    f->path = xstrdup(name);
    src_init(&f->cur);
    f->cur.fd = own;
    f->stream = true;
    f->dir_wd = -1;
    f->owner = t;
    evloop_fd_add(t->loop, own, POLLIN, on_stream, f);
    t->files = xreallocarray(t->files, t->nfiles + 1, sizeof(*t->files));
    t->files[t->nfiles++] = f;
    return 0;
}

bool
tail_ended(const struct tail *t)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        if (!t->files[i]->stream || !t->files[i]->ended)
            return false;
    }
    return t->nfiles > 0;
}

static struct tail *
tail_new_common(struct evloop *loop, const struct tail_opts *opts, tail_line_cb cb,
                tail_lines_cb lines_cb, void *arg)
{
    struct tail *t = xcalloc(1, sizeof(*t));

    t->loop = loop;
    if (opts != NULL)
        t->o = *opts;
    if (t->o.ring_lines == 0)
        t->o.ring_lines = 256;
    if (t->o.ring_line_max == 0)
        t->o.ring_line_max = 4096;
    if (t->o.stat_ms == 0)
        t->o.stat_ms = 250;
    if (t->o.retire_ms == 0)
        t->o.retire_ms = 2000;
    if (t->o.coalesce_ms == 0)
        t->o.coalesce_ms = 20;
    t->cb = cb;
    t->lines_cb = lines_cb;
    t->arg = arg;
    t->split = SPLIT_MEMCHR;
#if defined(TAIL_VECTOR_SPLIT)
    if (t->o.split != TAIL_SPLIT_MEMCHR)
        t->split = t->o.split == TAIL_SPLIT_BEST && __builtin_cpu_supports("avx2") ? SPLIT_AVX2
                                                                                   : SPLIT_SSE2;
#endif
    t->rbuf = xcalloc(1, RBUF_SIZE + RBUF_PAD);
    t->batch_cap = 2 * (t->o.ring_lines > BATCH_LINES ? t->o.ring_lines : BATCH_LINES);
    t->stop = t->batch_cap / 2;
    t->batch = xcalloc(t->batch_cap, sizeof(*t->batch));
    t->ring = xcalloc(t->o.ring_lines, sizeof(*t->ring));
    t->ifd = -1;
#ifdef TAIL_HAVE_INOTIFY
    if (!t->o.no_inotify) {
        t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (t->ifd >= 0)
            evloop_fd_add(loop, t->ifd, POLLIN, on_inotify, t);
    }
#endif
    t->stat_timer = evloop_timer_add(loop, t->o.stat_ms, t->o.stat_ms, on_stat_timer, t);
    return t;
}

struct tail *
tail_new(struct evloop *loop, const struct tail_opts *opts, tail_line_cb cb, void *arg)
{
    return tail_new_common(loop, opts, cb, NULL, arg);
}

struct tail *
tail_new_batched(struct evloop *loop, const struct tail_opts *opts, tail_lines_cb cb, void *arg)
{
    return tail_new_common(loop, opts, NULL, cb, arg);
}

static void
watch_dir(struct tail *t, struct tfile *f)
{
    f->dir_wd = -1;
#ifdef TAIL_HAVE_INOTIFY
    if (t->ifd >= 0) {
        char *dir = path_dirname(f->path);
        f->dir_wd =
            inotify_add_watch(t->ifd, dir, IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE);
        free(dir);
    }
#endif
}

int
tail_add(struct tail *t, const char *path, char **cause)
{
    struct tfile *f = xcalloc(1, sizeof(*f));

    f->path = xstrdup(path);
    src_init(&f->cur);
    if (open_current(t, f, cause) < 0 && cause != NULL && *cause != NULL) {
        free(f->path);
        free(f);
        return -1;
    }
    /* absent: opened_once stays false until it appears, then it is read from its start */
    if (f->cur.fd < 0)
        f->opened_once = true;
    watch_dir(t, f);
    t->files = xreallocarray(t->files, t->nfiles + 1, sizeof(*t->files));
    t->files[t->nfiles++] = f;
    return 0;
}

void
tail_drain(struct tail *t)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tfile *f = t->files[i];
        if (f->stream) { /* what is readable now, without waiting for more */
            struct pollfd pfd = {.fd = f->cur.fd, .events = POLLIN};
            for (size_t budget = BUDGET_PER_CHECK / RBUF_SIZE + 1;
                 !f->ended && budget > 0 && poll(&pfd, 1, 0) > 0; budget--)
                stream_read(t, f);
            if (!f->ended)
                flush_partial(t, f, &f->cur);
            continue;
        }
        while (check_file(t, f))
            ;
        for (size_t j = 0; j < f->nold; j++) {
            while (src_read(t, f, &f->old[j]))
                ;
            flush_partial(t, f, &f->old[j]);
        }
        if (f->cur.fd >= 0)
            flush_partial(t, f, &f->cur);
    }
}

void
tail_free(struct tail *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tfile *f = t->files[i];
        if (f->stream && !f->ended)
            evloop_fd_del(t->loop, f->cur.fd);
        for (size_t j = 0; j < f->nold; j++)
            src_close(t, &f->old[j]);
        src_close(t, &f->cur);
        free(f->old);
        free(f->path);
        free(f);
    }
    free(t->files);
    if (t->ifd >= 0) {
        evloop_fd_del(t->loop, t->ifd);
        close(t->ifd);
    }
    evloop_timer_del(t->loop, t->stat_timer);
    if (t->more_timer != 0)
        evloop_timer_del(t->loop, t->more_timer);
    if (t->soon_timer != 0)
        evloop_timer_del(t->loop, t->soon_timer);
    for (size_t i = 0; i < t->o.ring_lines; i++)
        free(t->ring[i].p);
    free(t->ring);
    free(t->batch);
    free(t->rbuf);
    free(t);
}

void
tail_get_stats(const struct tail *t, struct tail_stats *out)
{
    *out = t->st;
}

bool
tail_pending(const struct tail *t)
{
    return t->more_timer != 0;
}

bool
tail_uses_inotify(const struct tail *t)
{
    return t->ifd >= 0;
}
