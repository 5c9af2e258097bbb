/* test_tail.c — the event loop (fds, timers, signals) and the follower (partial lines,
 * truncation, rename + create, rewrite signature, delete + recreate, late files, symlinks,
 * backfill, --since, the ring, long lines), on real files in a mktemp directory. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evloop.h"
#include "logread.h"
#include "tail.h"
#include "xmalloc.h"

/* ---- fixture: a temp dir, a loop, a follower that records lines ---- */

struct got {
    char *text[4096];
    unsigned long lineno[4096];
    unsigned gen[4096];
    size_t n;
};

struct fx {
    char dir[64];
    char path[128];
    struct evloop *loop;
    struct tail *tail;
    struct got got;
};

static void
record(const struct tail_line *l, void *arg)
{
    struct got *g = arg;

    if (g->n < 4096) {
        g->text[g->n] = xstrndup(l->p, l->len);
        g->lineno[g->n] = l->lineno;
        g->gen[g->n] = l->generation;
        g->n++;
    }
}

static void
got_clear(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->text[i]);
    g->n = 0;
}

static int
fx_setup(void **state)
{
    struct fx *fx = xcalloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");

    snprintf(fx->dir, sizeof(fx->dir), "%s/tttail.XXXXXX",
             tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->path, sizeof(fx->path), "%s/error.log", fx->dir);
    fx->loop = evloop_new();
    *state = fx;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *fx = *state;
    char cmd[256];

    tail_free(fx->tail);
    evloop_free(fx->loop);
    got_clear(&fx->got);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0)
        return -1;
    free(fx);
    return 0;
}

static void
fx_follow(struct fx *fx, const struct tail_opts *o)
{
    char *cause = NULL;

    fx->tail = tail_new(fx->loop, o, record, &fx->got);
    assert_int_equal(tail_add(fx->tail, fx->path, &cause), 0);
    assert_null(cause);
}

static void
put(const char *path, const char *mode, const char *s)
{
    FILE *fp = fopen(path, mode);

    assert_non_null(fp);
    fputs(s, fp);
    fclose(fp);
}

static struct tail_opts
opts_stat_only(void)
{
    struct tail_opts o;

    memset(&o, 0, sizeof(o));
    o.no_inotify = true;
    o.retire_ms = 50;
    return o;
}

/* ---- the event loop ---- */

static int fired;

static void
count_timer(struct evloop *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
    fired++;
}

static void
loop_runs_one_shot_timers_once_and_periodic_ones_repeatedly(void **state)
{
    struct evloop *loop = evloop_new();
    uint64_t t0 = evloop_now_ms();
    int periodic;

    (void)state;
    fired = 0;
    evloop_timer_add(loop, 10, 0, count_timer, NULL);
    while (fired < 1)
        evloop_run_once(loop, 1000);
    assert_true(evloop_now_ms() - t0 >= 10);
    evloop_run_once(loop, 30);
    assert_int_equal(fired, 1); /* the one-shot timer is gone */
    fired = 0;
    periodic = evloop_timer_add(loop, 5, 5, count_timer, NULL);
    while (fired < 3)
        evloop_run_once(loop, 1000);
    assert_int_equal(evloop_timer_del(loop, periodic), 0);
    fired = 0;
    evloop_run_once(loop, 30);
    assert_int_equal(fired, 0);
    evloop_free(loop);
}

static void
on_pipe(struct evloop *loop, int fd, short revents, void *arg)
{
    char c;

    (void)revents;
    assert_int_equal(read(fd, &c, 1), 1);
    *(char *)arg = c;
    evloop_fd_del(loop, fd);
}

static void
loop_calls_the_fd_callback_when_data_arrives_and_blocks_when_idle(void **state)
{
    struct evloop *loop = evloop_new();
    int p[2];
    char c = 0;
    uint64_t t0;

    (void)state;
    assert_int_equal(pipe(p), 0);
    evloop_fd_add(loop, p[0], POLLIN, on_pipe, &c);
    t0 = evloop_now_ms();
    assert_int_equal(evloop_run_once(loop, 50), 0); /* nothing ready: it slept in poll */
    assert_true(evloop_now_ms() - t0 >= 45);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(evloop_run_once(loop, 1000), 1);
    assert_int_equal(c, 'x');
    assert_int_equal(evloop_fd_del(loop, p[0]), -1); /* the callback unregistered it */
    close(p[0]);
    close(p[1]);
    evloop_free(loop);
}

static void
on_signal(struct evloop *loop, int signo, void *arg)
{
    *(int *)arg = signo;
    evloop_stop(loop);
}

static void
loop_turns_sighup_into_a_callback_and_stops(void **state)
{
    struct evloop *loop = evloop_new();
    int got = 0;

    (void)state;
    assert_int_equal(evloop_signal_add(loop, SIGHUP, on_signal, &got), 0);
    raise(SIGHUP);
    assert_int_equal(evloop_run(loop), 0);
    assert_int_equal(got, SIGHUP);
    assert_true(evloop_stopped(loop));
    evloop_free(loop);
}

/* ---- the follower ---- */

static void
partial_line_is_held_until_its_newline_arrives(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();

    put(fx->path, "w", "old line\n");
    fx_follow(fx, &o);
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 0); /* starts at the end */
    put(fx->path, "a", "new li");
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 0);
    put(fx->path, "a", "ne\nsecond");
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 1);
    assert_string_equal(fx->got.text[0], "new line");
    assert_int_equal(fx->got.lineno[0], 2);
    put(fx->path, "a", "\n");
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 2);
    assert_string_equal(fx->got.text[1], "second");
    assert_int_equal(fx->got.lineno[1], 3);
}

static void
copytruncate_restarts_at_line_one_of_a_new_generation(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    struct tail_stats st;

    put(fx->path, "w", "");
    fx_follow(fx, &o);
    put(fx->path, "a", "one\ntwo\nthree\n");
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 3);
    assert_int_equal(truncate(fx->path, 0), 0);
    put(fx->path, "a", "four\n");
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 4);
    assert_string_equal(fx->got.text[3], "four");
    assert_int_equal(fx->got.lineno[3], 1);
    assert_true(fx->got.gen[3] > fx->got.gen[2]);
    tail_get_stats(fx->tail, &st);
    assert_int_equal(st.truncations, 1);
}

static void
rewrite_of_same_inode_past_old_size_is_caught_by_the_first_bytes(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    struct tail_stats st;

    put(fx->path, "w", "");
    fx_follow(fx, &o);
    put(fx->path, "a", "alpha 1\n");
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 1);
    /* truncated and refilled beyond the old size between two checks: size does not shrink */
    put(fx->path, "w", "bravo 1\nbravo 2\nbravo 3\n");
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 4);
    assert_string_equal(fx->got.text[1], "bravo 1");
    assert_string_equal(fx->got.text[3], "bravo 3");
    assert_int_equal(fx->got.lineno[1], 1);
    tail_get_stats(fx->tail, &st);
    assert_int_equal(st.truncations, 1);
}

static void
rename_and_create_reads_the_old_file_to_its_end_then_the_new_one(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    char rotated[160];
    struct tail_stats st;

    snprintf(rotated, sizeof(rotated), "%s.1", fx->path);
    put(fx->path, "w", "");
    fx_follow(fx, &o);
    put(fx->path, "a", "a1\n");
    tail_check(fx->tail);
    put(fx->path, "a", "a2\n"); /* not yet read when the rename happens */
    assert_int_equal(rename(fx->path, rotated), 0);
    put(rotated, "a", "a3\n"); /* the old writer has not reopened yet */
    put(fx->path, "w", "b1\n");
    tail_check(fx->tail);
    put(rotated, "a", "a4\n"); /* a late write, inside the retire window */
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 5);
    assert_string_equal(fx->got.text[0], "a1");
    assert_string_equal(fx->got.text[1], "a2");
    assert_string_equal(fx->got.text[2], "a3");
    assert_string_equal(fx->got.text[3], "b1");
    assert_int_equal(fx->got.lineno[3], 1);
    assert_string_equal(fx->got.text[4], "a4");
    assert_int_equal(fx->got.lineno[4], 4);
    tail_get_stats(fx->tail, &st);
    assert_int_equal(st.rotations, 1);
}

static int
open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    if (d == NULL)
        return 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n - 2; /* . and .. */
}

static void
many_fast_rotations_keep_every_line_and_bound_open_files(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    char rotated[192], line[32];
    int base = open_fds();

    o.retire_ms = 60000; /* nothing retires by time: the cap has to act */
    put(fx->path, "w", "");
    fx_follow(fx, &o);
    for (int r = 0; r < 20; r++) {
        snprintf(line, sizeof(line), "r%d\n", r);
        put(fx->path, "a", line);
        tail_check(fx->tail);
        snprintf(rotated, sizeof(rotated), "%s.%d", fx->path, r);
        assert_int_equal(rename(fx->path, rotated), 0);
        put(rotated, "a", "late\n"); /* the old writer's last line */
        put(fx->path, "w", "");
        tail_check(fx->tail);
    }
    assert_true(open_fds() - base <= 1 + 8); /* the current file and at most 8 retiring */
    tail_drain(fx->tail);
    assert_int_equal(fx->got.n, 40);
    for (int r = 0; r < 20; r++) {
        snprintf(line, sizeof(line), "r%d", r);
        assert_string_equal(fx->got.text[2 * r], line);
        assert_string_equal(fx->got.text[2 * r + 1], "late");
    }
}

static void
deleted_file_recreated_later_is_read_from_its_start(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();

    put(fx->path, "w", "");
    fx_follow(fx, &o);
    put(fx->path, "a", "x1\n");
    tail_check(fx->tail);
    assert_int_equal(unlink(fx->path), 0);
    tail_check(fx->tail);
    usleep(80 * 1000);
    tail_check(fx->tail);
    put(fx->path, "w", "y1\ny2\n");
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 3);
    assert_string_equal(fx->got.text[1], "y1");
    assert_int_equal(fx->got.lineno[2], 2);
}

static void
file_that_does_not_exist_yet_is_read_from_its_first_line(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();

    fx_follow(fx, &o);
    tail_check(fx->tail);
    put(fx->path, "w", "first\nsecond\n");
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 2);
    assert_string_equal(fx->got.text[0], "first");
    assert_int_equal(fx->got.lineno[0], 1);
}

static void
symlink_retarget_switches_to_the_new_target(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    char a[160], b[160], tmp[160];

    snprintf(a, sizeof(a), "%s/a.log", fx->dir);
    snprintf(b, sizeof(b), "%s/b.log", fx->dir);
    snprintf(tmp, sizeof(tmp), "%s/link.tmp", fx->dir);
    put(a, "w", "old a\n");
    assert_int_equal(symlink(a, fx->path), 0);
    fx_follow(fx, &o);
    put(a, "a", "a line\n");
    tail_check(fx->tail);
    put(b, "w", "b line\n");
    assert_int_equal(symlink(b, tmp), 0);
    assert_int_equal(rename(tmp, fx->path), 0);
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 2);
    assert_string_equal(fx->got.text[0], "a line");
    assert_string_equal(fx->got.text[1], "b line");
    assert_int_equal(fx->got.lineno[1], 1);
}

static void
backfill_starts_at_the_next_line_start_with_true_line_numbers(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();

    put(fx->path, "w", "line one\nline two\nline three\n");
    o.start = TAIL_START_BACKFILL;
    o.backfill_bytes = 15; /* lands inside "line two" */
    fx_follow(fx, &o);
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 1);
    assert_string_equal(fx->got.text[0], "line three");
    assert_int_equal(fx->got.lineno[0], 3);
}

static void
backfill_on_a_line_boundary_keeps_that_line(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();

    put(fx->path, "w", "line one\nline two\nline three\n");
    o.start = TAIL_START_BACKFILL;
    o.backfill_bytes = 20; /* exactly "line two\nline three\n" */
    fx_follow(fx, &o);
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 2);
    assert_string_equal(fx->got.text[0], "line two");
    assert_int_equal(fx->got.lineno[0], 2);
}

static time_t
leading_number(const char *line, size_t len)
{
    if (len == 0 || line[0] < '0' || line[0] > '9')
        return (time_t)-1;
    return (time_t)strtol(line, NULL, 10);
}

static void
since_starts_within_the_slack_before_the_time_with_absolute_numbers(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    FILE *fp = fopen(fx->path, "w");

    assert_non_null(fp);
    for (int i = 0; i < 20000; i++) /* ~600 KB: the binary search has work to do */
        fprintf(fp, "%d %s\n", 1000 + i / 4, i % 7 == 0 ? "" : "some padding text here");
    fclose(fp);
    o.start = TAIL_START_SINCE;
    o.since = 5000;
    o.time_fn = leading_number;
    o.ring_lines = 8;
    fx_follow(fx, &o);
    tail_check(fx->tail);
    assert_true(fx->got.n > 0);
    /* logread_since_offset: a line before since - slack, bisected down to 64 KiB (~2300 lines
     * of these, 600 of their seconds); the caller then keeps lines by their own time */
    long first = (long)leading_number(fx->got.text[0], strlen(fx->got.text[0]));
    assert_true(first < 5000 - LOGREAD_SINCE_SLACK);
    assert_true(first >= 5000 - LOGREAD_SINCE_SLACK - 700);
    assert_int_equal(fx->got.lineno[0], (unsigned long)(first - 1000) * 4 + 1);
    bool seen = false;
    for (size_t i = 0; i < fx->got.n; i++) {
        if (fx->got.lineno[i] == 4000 * 4 + 1) {
            assert_int_equal(leading_number(fx->got.text[i], strlen(fx->got.text[i])), 5000);
            seen = true;
        }
    }
    assert_true(seen);
}

static void
ring_keeps_only_the_most_recent_lines_and_cuts_long_ones(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    struct tail_ring_line rl;
    char line[64];

    put(fx->path, "w", "");
    o.ring_lines = 4;
    o.ring_line_max = 6;
    fx_follow(fx, &o);
    for (int i = 1; i <= 10; i++) {
        snprintf(line, sizeof(line), "line %d\n", i);
        put(fx->path, "a", line);
    }
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 10);
    assert_int_equal(tail_ring_count(fx->tail), 4);
    assert_int_equal(tail_ring_get(fx->tail, 0, &rl), 0);
    assert_string_equal(rl.p, "line 7");
    assert_int_equal(rl.lineno, 7);
    assert_int_equal(tail_ring_get(fx->tail, 3, &rl), 0);
    assert_string_equal(rl.p, "line 1"); /* "line 10" cut to 6 bytes */
    assert_true(rl.truncated);
    assert_int_equal(rl.lineno, 10);
    assert_int_equal(tail_ring_get(fx->tail, 4, &rl), -1);
}

static void
no_ring_delivers_every_line_and_keeps_none(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    struct tail_ring_line rl;

    put(fx->path, "w", "");
    o.no_ring = true;
    fx_follow(fx, &o);
    put(fx->path, "a", "one\ntwo\nthree\n");
    tail_check(fx->tail);
    assert_int_equal(fx->got.n, 3);
    assert_string_equal(fx->got.text[2], "three");
    assert_int_equal(tail_ring_count(fx->tail), 0);
    assert_int_equal(tail_ring_get(fx->tail, 0, &rl), -1);
}

static void
assert_ring(const struct tail *t, const char *const *want, size_t n)
{
    struct tail_ring_line rl;

    assert_int_equal(tail_ring_count(t), n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(tail_ring_get(t, i, &rl), 0);
        assert_string_equal(rl.p, want[i]);
    }
}

/* The follower copies into the ring only the lines of a read that stay there: the result must
 * be the same as pushing every line, also when a skipped over-long line or a joined partial
 * line is among the last ones. */
static void
ring_holds_the_last_lines_of_a_large_read(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    struct tail_ring_line rl;
    size_t big = TAIL_MAX_LINE + 10;
    char *s = xmalloc(big + 64);
    const char *want1[] = {"b7", "b8", "b9 end", "c1"};
    const char *want2[] = {"d8", "d9", "z1", "z2"};

    put(fx->path, "w", "");
    o.ring_lines = 4;
    fx_follow(fx, &o);
    put(fx->path, "a", "a1\na2\nb");
    tail_check(fx->tail); /* "b" waits for its newline */
    put(fx->path, "a", "1\nb2\nb3\nb4\nb5\nb6\nb7\nb8\nb9 end\nc1\nc2 partial");
    tail_check(fx->tail);
    assert_ring(fx->tail, want1, 4);
    /* d1..d9, a line over the limit, z1, z2: the ring skips the long one and keeps d8, d9 */
    put(fx->path, "a", "\nd1\nd2\nd3\nd4\nd5\nd6\nd7\nd8\nd9\n");
    memset(s, 'x', big);
    memcpy(s + big, "\nz1\nz2\n", 8);
    s[big + 8] = '\0';
    put(fx->path, "a", s);
    tail_check(fx->tail);
    free(s);
    assert_ring(fx->tail, want2, 4);
    assert_int_equal(tail_ring_get(fx->tail, 3, &rl), 0);
    assert_int_equal(rl.lineno, 25); /* a1 a2 b1..b9 c1 c2 d1..d9 long z1 z2 */
}

/* A stream (standard input): lines as they arrive, split across writes, the unterminated last
 * one delivered at EOF, and tail_ended once it closed. */
static void
a_stream_is_read_as_it_arrives_until_eof(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    char *cause = NULL;
    int p[2];

    assert_int_equal(pipe(p), 0);
    fx->tail = tail_new(fx->loop, &o, record, &fx->got);
    assert_int_equal(tail_add_stream(fx->tail, p[0], "-", &cause), 0);
    close(p[0]); /* the follower holds its own copy */
    assert_false(tail_ended(fx->tail));
    assert_int_equal(write(p[1], "one\ntw", 6), 6);
    while (fx->got.n < 1)
        evloop_run_once(fx->loop, 1000);
    assert_int_equal(write(p[1], "o\nthree", 7), 7);
    while (fx->got.n < 2)
        evloop_run_once(fx->loop, 1000);
    assert_false(tail_ended(fx->tail));
    close(p[1]);
    while (!tail_ended(fx->tail))
        evloop_run_once(fx->loop, 1000);
    assert_int_equal(fx->got.n, 3);
    assert_string_equal(fx->got.text[0], "one");
    assert_string_equal(fx->got.text[1], "two");
    assert_string_equal(fx->got.text[2], "three");
    assert_int_equal(fx->got.lineno[2], 3);
}

/* ---- every way of splitting a read gives the same lines ---- */

struct want {
    const char *data;  /* everything written */
    size_t *off, *len; /* the lines the follower must deliver, in order */
    unsigned long *lineno;
    size_t n, next;
    bool bad;
};

static void
check_lines(const struct tail_line *l, size_t n, void *arg)
{
    struct want *w = arg;

    for (size_t i = 0; i < n; i++, w->next++) {
        if (w->next >= w->n || l[i].len != w->len[w->next] || l[i].lineno != w->lineno[w->next] ||
            memcmp(l[i].p, w->data + w->off[w->next], l[i].len) != 0) {
            if (!w->bad)
                print_error("line %zu (number %lu, %zu bytes) is not the one expected\n", w->next,
                            l[i].lineno, l[i].len);
            w->bad = true;
        }
    }
}

static uint64_t
rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Random lines of every length that matters to the splitters (empty, around the 64-byte
 * blocks, thousands of bytes, just under and over TAIL_MAX_LINE, a megabyte), with every byte
 * value but '\n', written in pieces cut anywhere (lines split across reads and across the
 * 1 MiB read buffer), then a few short lines so the ring spans reads. The first lines are
 * tiny: the newlines they leave in the read buffer catch a splitter looking past a read. Each
 * way of splitting (AVX2 if the CPU has it, SSE2, memchr) and both callback kinds must give
 * exactly the lines and numbers a plain split gives, and the ring its last lines. */
static void
every_way_of_splitting_gives_the_same_lines_numbers_and_ring(void **state)
{
    struct fx *fx = *state;
    size_t cap = 6 * 1024 * 1024, len = 0, nlines = 0, start = 0, nlong = 0;
    char *data = xmalloc(cap);
    uint64_t x = 88172645463325252ull;
    struct want w;
    const enum tail_split splits[] = {TAIL_SPLIT_BEST, TAIL_SPLIT_SSE2, TAIL_SPLIT_MEMCHR};
    const size_t rings[] = {5, 300, 1500}; /* under, around and over the batch size */

    memset(&w, 0, sizeof(w));
    while (len < cap - 2 * 1024 * 1024) {
        uint64_t r = rnd(&x);
        size_t n = len < 900 * 1024 ? r % 4 /* newlines left in the buffer by this read */
                   : r % 1000 < 3   ? TAIL_MAX_LINE - 1 + (r >> 20) % 3
                   : r % 1000 < 4   ? 1024 * 1024 + (r >> 20) % 100
                   : r % 1000 < 100 ? 0
                   : r % 1000 < 300 ? 60 + (r >> 20) % 10
                   : r % 1000 < 310 ? (r >> 20) % 5000
                                    : (r >> 20) % 400;
        for (size_t i = 0; i < n; i++) {
            char c = (char)(rnd(&x) >> 56);
            data[len + i] = c == '\n' ? 'n' : c;
        }
        len += n;
        data[len++] = '\n';
        nlines++;
    }
    memcpy(data + len, "short 1\nshort 2\nshort 3\nunterminated", 36);
    len += 36;
    w.data = data;
    w.off = xcalloc(nlines + 3, sizeof(*w.off));
    w.len = xcalloc(nlines + 3, sizeof(*w.len));
    w.lineno = xcalloc(nlines + 3, sizeof(*w.lineno));
    for (size_t i = 0, ln = 0; i < len; i++) {
        if (data[i] != '\n')
            continue;
        ln++;
        if (i - start <= TAIL_MAX_LINE) {
            w.off[w.n] = start;
            w.len[w.n] = i - start;
            w.lineno[w.n++] = ln;
        } else {
            nlong++;
        }
        start = i + 1;
    }

    for (size_t run = 0; run < 2 * 3 * 3; run++) {
        struct tail_opts o = opts_stat_only();
        struct tail_ring_line rl;
        struct tail_stats st;
        char path[160];
        char *cause = NULL;
        FILE *fp;
        size_t k;

        o.split = splits[run % 3];
        o.ring_lines = rings[run / 3 % 3];
        o.ring_line_max = 100;
        snprintf(path, sizeof(path), "%s/split-%zu.log", fx->dir, run);
        put(path, "w", "");
        w.next = 0;
        fx->tail = run < 9 ? tail_new_batched(fx->loop, &o, check_lines, &w)
                           : tail_new(fx->loop, &o, record, &fx->got);
        assert_int_equal(tail_add(fx->tail, path, &cause), 0);
        fp = fopen(path, "a");
        assert_non_null(fp);
        for (size_t at = 0, piece; at < len; at += piece) {
            piece = rnd(&x) % 4 == 0 ? rnd(&x) % 2000 : rnd(&x) % (1536 * 1024);
            piece = piece < len - at ? piece : len - at;
            assert_int_equal(fwrite(data + at, 1, piece, fp), piece);
            fflush(fp);
            tail_check(fx->tail);
        }
        fclose(fp);
        if (run >= 9) { /* the per-line callback: compare what record kept */
            assert_int_equal(fx->got.n, 4096);
            for (size_t i = 0; i < fx->got.n; i++) {
                assert_int_equal(fx->got.lineno[i], w.lineno[i]);
                assert_true(strlen(fx->got.text[i]) <= w.len[i]); /* record stops at a NUL */
                assert_memory_equal(fx->got.text[i], data + w.off[i], strlen(fx->got.text[i]));
            }
            got_clear(&fx->got);
        } else {
            assert_false(w.bad);
            assert_int_equal(w.next, w.n);
        }
        tail_get_stats(fx->tail, &st);
        assert_int_equal(st.lines, w.n);
        assert_int_equal(st.skipped_long, nlong);
        k = w.n < o.ring_lines ? w.n : o.ring_lines;
        assert_int_equal(tail_ring_count(fx->tail), k);
        for (size_t i = 0; i < k; i++) {
            size_t j = w.n - k + i;
            assert_int_equal(tail_ring_get(fx->tail, i, &rl), 0);
            assert_int_equal(rl.lineno, w.lineno[j]);
            assert_int_equal(rl.len, w.len[j] < 100 ? w.len[j] : 100);
            assert_int_equal(rl.truncated, w.len[j] > 100);
            assert_memory_equal(rl.p, data + w.off[j], rl.len);
        }
        tail_free(fx->tail);
        fx->tail = NULL;
        unlink(path);
    }
    free(w.off);
    free(w.len);
    free(w.lineno);
    free(data);
}

static void
lines_over_64k_are_skipped_and_counted_without_losing_numbering(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o = opts_stat_only();
    struct tail_stats st;
    size_t big = TAIL_MAX_LINE + 10;
    char *s = xmalloc(big + 2);

    put(fx->path, "w", "");
    fx_follow(fx, &o);
    memset(s, 'x', big);
    s[big] = '\n';
    s[big + 1] = '\0';
    put(fx->path, "a", "short\n");
    put(fx->path, "a", s);
    put(fx->path, "a", "after\n");
    tail_check(fx->tail);
    /* and a long one arriving in pieces */
    s[big] = '\0';
    put(fx->path, "a", s);
    tail_check(fx->tail);
    put(fx->path, "a", "tail of it\nlast\n");
    tail_check(fx->tail);
    free(s);
    assert_int_equal(fx->got.n, 3);
    assert_string_equal(fx->got.text[1], "after");
    assert_int_equal(fx->got.lineno[1], 3);
    assert_string_equal(fx->got.text[2], "last");
    assert_int_equal(fx->got.lineno[2], 5);
    tail_get_stats(fx->tail, &st);
    assert_int_equal(st.skipped_long, 2);
}

static void
inotify_wakes_the_loop_when_a_line_is_appended(void **state)
{
    struct fx *fx = *state;
    struct tail_opts o;
    uint64_t t0;

    memset(&o, 0, sizeof(o));
    o.stat_ms = 5000; /* the safety net is far away: only inotify can be this fast */
    put(fx->path, "w", "");
    fx_follow(fx, &o);
    if (!tail_uses_inotify(fx->tail))
        skip();
    put(fx->path, "a", "hello\n");
    t0 = evloop_now_ms();
    while (fx->got.n == 0 && evloop_now_ms() - t0 < 2000)
        evloop_run_once(fx->loop, 2000);
    assert_int_equal(fx->got.n, 1);
    assert_true(evloop_now_ms() - t0 < 1000);
}

#define FX(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loop_runs_one_shot_timers_once_and_periodic_ones_repeatedly),
        cmocka_unit_test(loop_calls_the_fd_callback_when_data_arrives_and_blocks_when_idle),
        cmocka_unit_test(loop_turns_sighup_into_a_callback_and_stops),
        FX(partial_line_is_held_until_its_newline_arrives),
        FX(copytruncate_restarts_at_line_one_of_a_new_generation),
        FX(rewrite_of_same_inode_past_old_size_is_caught_by_the_first_bytes),
        FX(rename_and_create_reads_the_old_file_to_its_end_then_the_new_one),
        FX(many_fast_rotations_keep_every_line_and_bound_open_files),
        FX(deleted_file_recreated_later_is_read_from_its_start),
        FX(file_that_does_not_exist_yet_is_read_from_its_first_line),
        FX(symlink_retarget_switches_to_the_new_target),
        FX(backfill_starts_at_the_next_line_start_with_true_line_numbers),
        FX(backfill_on_a_line_boundary_keeps_that_line),
        FX(since_starts_within_the_slack_before_the_time_with_absolute_numbers),
        FX(ring_keeps_only_the_most_recent_lines_and_cuts_long_ones),
        FX(ring_holds_the_last_lines_of_a_large_read),
        FX(no_ring_delivers_every_line_and_keeps_none),
        FX(a_stream_is_read_as_it_arrives_until_eof),
        FX(every_way_of_splitting_gives_the_same_lines_numbers_and_ring),
        FX(lines_over_64k_are_skipped_and_counted_without_losing_numbering),
        FX(inotify_wakes_the_loop_when_a_line_is_appended),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
