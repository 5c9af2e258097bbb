/*
 * test_logread.c — the one log reader: what it refuses to open (without blocking), where
 * --since starts (bisection on line times) and that starting there loses no event a full read
 * would keep, with lines out of order, clock steps, CRLF, long lines across bisection points,
 * no timestamps at all, tiny files, and TIME before the first or after the last line.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "incident.h"
#include "logread.h"
#include "logscan.h"
#include "xmalloc.h"

#define BASE ((time_t)1795000000) /* 2026-11-18 (UTC): the tests run with TZ=UTC */

static char dir[64];

static int
setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(dir, sizeof(dir), "/tmp/test_logread.XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *
path_of(const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

/* One line at time t: an event (request /r/N) when ev, else an ordinary error; eol "\n" or
 * "\r\n"; pad adds that many bytes to the request (long lines). */
static void
put_line(FILE *fp, time_t t, int n, bool ev, const char *eol, size_t pad)
{
    char ts[32];
    struct tm tm;
    char *padding = xmalloc(pad + 1);

    memset(padding, 'x', pad);
    padding[pad] = '\0';
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y/%m/%d %H:%M:%S", &tm);
    if (ev)
        fprintf(fp,
                "%s [error] 77#77: *%d upstream SSL certificate verify error: "
                "(18:self-signed certificate) while SSL handshaking to upstream, client: "
                "127.0.0.1, server: t.test, request: \"GET /r/%d%s HTTP/1.1\", upstream: "
                "\"https://127.0.0.1:9443/r/%d\", host: \"t.test\"%s",
                ts, n, n, padding, n, eol);
    else
        fprintf(fp,
                "%s [error] 77#77: *%d open() \"/usr/share/nginx/html/x/%d%s\" failed (2: No "
                "such file or directory), client: 127.0.0.1, server: t.test, request: \"GET "
                "/x/%d HTTP/1.1\", host: \"t.test\"%s",
                ts, n, n, padding, n, eol);
    free(padding);
}

/* Event line numbers and times, as read. */
struct seen {
    unsigned long line[65536];
    time_t when[65536];
    size_t n;
};

static void
on_event(const struct ls_event *ev, const char *file, void *arg)
{
    struct seen *s = arg;

    (void)file;
    if (s->n < 65536) {
        s->line[s->n] = ev->line;
        s->when[s->n] = ev->when;
        s->n++;
    }
}

/* Reads path with --since (since_given) and returns what was kept. */
static struct seen *
read_log(const char *path, bool since_given, time_t since, struct logread_stats *st)
{
    struct seen *s = xcalloc(1, sizeof(*s));
    struct logread_opts o = {since_given, since};
    struct logread_warnings w = {NULL, 0};
    char *cause = NULL;

    assert_int_equal(logread_files(&path, 1, &o, on_event, s, st, &w, &cause), 0);
    assert_null(cause);
    assert_int_equal(w.n, 0); /* small files: line numbers are absolute */
    logread_warnings_free(&w);
    return s;
}

/* What a full read keeps for since: every event with a time >= since. */
static struct seen *
truth(const char *path, time_t since)
{
    struct seen *all = read_log(path, false, 0, NULL), *s = xcalloc(1, sizeof(*s));

    for (size_t i = 0; i < all->n; i++) {
        if (all->when[i] != (time_t)-1 && all->when[i] >= since) {
            s->line[s->n] = all->line[i];
            s->when[s->n++] = all->when[i];
        }
    }
    free(all);
    return s;
}

static void
assert_same_events(const struct seen *a, const struct seen *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_int_equal(a->line[i], b->line[i]);
}

static off_t
since_offset_of(const char *path, time_t since)
{
    int fd;
    struct stat sb;
    char *cause = NULL;
    off_t off;

    assert_int_equal(logread_open(path, &fd, &sb, &cause), 0);
    off = logread_since_offset(fd, sb.st_size, since, logscan_line_time);
    close(fd);
    return off;
}

/* The byte offset of the first line whose time is >= t, written by a generator that records
 * offsets: here, recomputed by reading the file. */
static off_t
first_line_at(const char *path, time_t t)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    off_t off = 0, found = -1;

    assert_non_null(fp);
    while ((n = getline(&line, &cap, fp)) != -1) {
        time_t w = logscan_line_time(line, (size_t)n);
        if (w != (time_t)-1 && w >= t) {
            found = off;
            break;
        }
        off += n;
    }
    free(line);
    fclose(fp);
    return found;
}

/* n lines, one second apart from BASE, every fifth an event. */
static char *
ordered_log(const char *name, int n, const char *eol)
{
    char *p = path_of(name);
    FILE *fp = fopen(p, "w");

    assert_non_null(fp);
    for (int i = 0; i < n; i++)
        put_line(fp, BASE + i, i, i % 5 == 0, eol, 0);
    fclose(fp);
    return p;
}

static void
open_refuses_what_is_not_a_regular_file_without_blocking(void **state)
{
    char *missing = path_of("missing.log"), *d = path_of("d.log"), *fifo = path_of("fifo");
    char *cause = NULL;
    struct stat sb;
    int fd;

    (void)state;
    assert_int_equal(logread_open(missing, &fd, &sb, &cause), -1);
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(cause, "missing.log: No such file or directory"));
    free(cause);
    cause = NULL;
    assert_int_equal(mkdir(d, 0700), 0);
    assert_int_equal(logread_open(d, &fd, &sb, &cause), -1);
    assert_non_null(strstr(cause, "d.log: is a directory"));
    free(cause);
    cause = NULL;
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(5); /* a blocking open would hang here: fail loudly instead */
    assert_int_equal(logread_open(fifo, &fd, &sb, &cause), -1);
    alarm(0);
    assert_non_null(strstr(cause, "fifo: is a FIFO, not a regular file"));
    free(cause);
    cause = NULL;
    assert_int_equal(logread_open("/dev/null", &fd, &sb, &cause), -1);
    assert_non_null(strstr(cause, "/dev/null: is a device"));
    free(cause);
    free(missing);
    free(d);
    free(fifo);
}

static void
files_stop_before_any_event_when_one_path_is_bad(void **state)
{
    char *good = ordered_log("good.log", 100, "\n"), *bad = path_of("nope.log");
    const char *files[] = {good, bad};
    struct seen *s = xcalloc(1, sizeof(*s));
    char *cause = NULL;

    (void)state;
    assert_int_equal(logread_files(files, 2, NULL, on_event, s, NULL, NULL, &cause), -1);
    assert_int_equal(s->n, 0);
    assert_non_null(strstr(cause, "nope.log"));
    free(cause);
    free(s);
    free(good);
    free(bad);
}

static void
since_in_order_starts_near_the_time_and_keeps_every_later_event(void **state)
{
    char *p = ordered_log("ordered.log", 40000, "\n"); /* ~9 MB */
    time_t since = BASE + 30000;
    off_t off = since_offset_of(p, since), want = first_line_at(p, since - LOGREAD_SINCE_SLACK);
    struct logread_stats st = {0, 0}, all = {0, 0};
    struct seen *got, *exp;

    (void)state;
    /* at or before the first line within the slack, and no more than the last window before */
    assert_true(off <= want);
    assert_true(off >= want - 64 * 1024 - 512); /* the window, and a line */
    got = read_log(p, true, since, &st);
    exp = truth(p, since);
    assert_int_equal(got->n, 2000);
    assert_same_events(got, exp);
    assert_int_equal(exp->line[0], 30001); /* absolute line numbers */
    free(read_log(p, false, 0, &all));
    assert_int_equal(st.lines, all.lines); /* the lines before the start are counted */
    assert_int_equal(st.lines, 40000);
    free(got);
    free(exp);
    free(p);
}

static void
since_with_workers_out_of_order_within_the_slack_loses_nothing(void **state)
{
    char *p = path_of("workers.log");
    FILE *fp = fopen(p, "w");
    unsigned r = 12345;

    (void)state;
    assert_non_null(fp);
    for (int i = 0; i < 40000; i++) {
        r = r * 1103515245u + 12345u;
        /* four workers, each up to 4 minutes behind the clock */
        put_line(fp, BASE + i - (time_t)((r >> 16) % 240), i, i % 3 == 0, "\n", 0);
    }
    fclose(fp);
    for (time_t since = BASE + 1000; since < BASE + 40000; since += 7919) {
        struct seen *got = read_log(p, true, since, NULL), *exp = truth(p, since);
        assert_true(exp->n > 0);
        assert_same_events(got, exp);
        free(got);
        free(exp);
    }
    free(p);
}

/* 15000 lines to BASE+15000, then the clock goes back by step seconds for 25000 more. */
static char *
clock_step_log(const char *name, time_t step)
{
    char *p = path_of(name);
    FILE *fp = fopen(p, "w");

    assert_non_null(fp);
    for (int i = 0; i < 40000; i++)
        put_line(fp, BASE + i - (i >= 15000 ? step : 0), i, i % 4 == 0, "\n", 0);
    fclose(fp);
    return p;
}

static void
since_across_a_clock_step_back_within_the_slack_loses_nothing(void **state)
{
    char *p = clock_step_log("step-small.log", 3 * 60);

    (void)state;
    for (time_t since = BASE + 14000; since < BASE + 16000; since += 97) {
        struct seen *got = read_log(p, true, since, NULL), *exp = truth(p, since);
        assert_same_events(got, exp);
        free(got);
        free(exp);
    }
    free(p);
}

static void
since_across_a_clock_step_back_beyond_the_slack_misses_only_events_before_the_step(void **state)
{
    /* The documented bound: the clock went back an hour at line 15000. For TIME in the hour
     * written twice, the bisection lands after the step (its lines are older than TIME -
     * slack), so events before the step, though at or after TIME, are not read; every event
     * after the step is. (The step is before the middle of the file, so the first probe
     * lands after it.) */
    char *p = clock_step_log("step-big.log", 3600);
    time_t since = BASE + 14000; /* written before the step, and again after it */
    struct seen *got = read_log(p, true, since, NULL), *exp = truth(p, since);
    size_t after = 0, before = 0;

    (void)state;
    for (size_t i = 0; i < exp->n; i++) {
        if (exp->line[i] > 15000)
            after++;
        else
            before++;
    }
    assert_true(before > 0 && after > 0);
    assert_int_equal(got->n, after);
    for (size_t i = 0; i < got->n; i++)
        assert_true(got->line[i] > 15000);
    free(got);
    free(exp);
    free(p);
}

static void
since_on_a_log_without_timestamps_starts_at_the_beginning(void **state)
{
    char *p = path_of("notime.log");
    FILE *fp = fopen(p, "w");
    struct logread_stats st = {0, 0};

    (void)state;
    assert_non_null(fp);
    for (int i = 0; i < 20000; i++)
        fprintf(fp, "no time on this line, number %d, and some padding to make it long\n", i);
    fclose(fp);
    assert_int_equal(since_offset_of(p, BASE), 0);
    free(read_log(p, true, BASE, &st));
    assert_int_equal(st.lines, 20000);
    assert_int_equal(st.events, 0);
    free(p);
}

static void
since_on_a_file_smaller_than_one_read_needs_no_bisection(void **state)
{
    char *p = ordered_log("small.log", 50, "\n");
    struct seen *got, *exp;

    (void)state;
    assert_int_equal(since_offset_of(p, BASE + 40), 0);
    got = read_log(p, true, BASE + 40, NULL);
    exp = truth(p, BASE + 40);
    assert_int_equal(got->n, 2); /* lines 41 and 46 (times +40, +45) */
    assert_same_events(got, exp);
    free(got);
    free(exp);
    free(p);
}

static void
since_on_crlf_lines_finds_the_same_events(void **state)
{
    char *p = ordered_log("crlf.log", 30000, "\r\n");
    time_t since = BASE + 21111;
    struct seen *got = read_log(p, true, since, NULL), *exp = truth(p, since);

    (void)state;
    assert_true(since_offset_of(p, since) > 0);
    assert_true(exp->n > 0);
    assert_same_events(got, exp);
    free(got);
    free(exp);
    free(p);
}

static void
since_with_long_lines_straddling_bisection_points_loses_nothing(void **state)
{
    /* Lines of 40 KiB (kept) and 100 KiB (over LOGSCAN_MAX_LINE, skipped) every few lines:
     * most probes land inside one and must step over it (or give up and go left). */
    char *p = path_of("long.log");
    FILE *fp = fopen(p, "w");

    (void)state;
    assert_non_null(fp);
    for (int i = 0; i < 1500; i++) {
        size_t pad = i % 7 == 3 ? 100 * 1024 : i % 5 == 1 ? 40 * 1024 : 0;
        put_line(fp, BASE + i * 10, i, i % 2 == 1, "\n", pad);
    }
    fclose(fp);
    for (time_t since = BASE + 333; since < BASE + 15000; since += 2221) {
        struct seen *got = read_log(p, true, since, NULL), *exp = truth(p, since);
        assert_true(exp->n > 0);
        assert_same_events(got, exp);
        free(got);
        free(exp);
    }
    free(p);
}

static void
since_before_the_first_line_reads_all_and_after_the_last_reads_nothing(void **state)
{
    char *p = ordered_log("edges.log", 20000, "\n");
    off_t size;
    struct stat sb;
    struct seen *got, *exp;

    (void)state;
    assert_int_equal(stat(p, &sb), 0);
    size = sb.st_size;
    assert_int_equal(since_offset_of(p, BASE - 86400), 0);
    got = read_log(p, true, BASE - 86400, NULL);
    exp = read_log(p, false, 0, NULL);
    assert_int_equal(got->n, 4000);
    assert_same_events(got, exp);
    free(got);
    free(exp);
    /* after the last line: the start is in the last window, nothing is kept */
    assert_true(since_offset_of(p, BASE + 86400) >= size - 64 * 1024);
    got = read_log(p, true, BASE + 86400, NULL);
    assert_int_equal(got->n, 0);
    free(got);
    free(p);
}

static void
store_fills_incidents_from_logs_with_since(void **state)
{
    char *p = ordered_log("store.log", 1000, "\n");
    const char *files[] = {p};
    struct incident_store st;
    struct logread_opts o = {true, BASE + 500};
    struct logread_stats stats = {0, 0};
    char *cause = NULL;

    (void)state;
    incident_store_init(&st, 0);
    assert_int_equal(logread_store(&st, files, 1, &o, &stats, NULL, &cause), 0);
    assert_int_equal(st.n, 1);
    assert_int_equal(st.items[0]->count, 100);
    assert_int_equal(stats.events, 100);
    assert_int_equal(stats.lines, 1000);
    assert_string_equal(st.items[0]->file, p);
    incident_store_free(&st);
    free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_refuses_what_is_not_a_regular_file_without_blocking),
        cmocka_unit_test(files_stop_before_any_event_when_one_path_is_bad),
        cmocka_unit_test(since_in_order_starts_near_the_time_and_keeps_every_later_event),
        cmocka_unit_test(since_with_workers_out_of_order_within_the_slack_loses_nothing),
        cmocka_unit_test(since_across_a_clock_step_back_within_the_slack_loses_nothing),
        cmocka_unit_test(
            since_across_a_clock_step_back_beyond_the_slack_misses_only_events_before_the_step),
        cmocka_unit_test(since_on_a_log_without_timestamps_starts_at_the_beginning),
        cmocka_unit_test(since_on_a_file_smaller_than_one_read_needs_no_bisection),
        cmocka_unit_test(since_on_crlf_lines_finds_the_same_events),
        cmocka_unit_test(since_with_long_lines_straddling_bisection_points_loses_nothing),
        cmocka_unit_test(since_before_the_first_line_reads_all_and_after_the_last_reads_nothing),
        cmocka_unit_test(store_fills_incidents_from_logs_with_since),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
