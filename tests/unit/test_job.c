/* test_job.c — the job runner on a real evloop with real forked workers: records in order,
 * results past the pipe buffer, frames split across reads, cancel (TERM, then KILL), a
 * crashing worker, many jobs at once, the loop's timers firing while a worker sleeps, and
 * the "run a program" job. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "evloop.h"
#include "job.h"
#include "spawn.h"
#include "xmalloc.h"

struct seen {
    int nprogress;
    struct buf texts; /* progress records joined by '|' */
    bool done;
    enum job_status status;
    bool exited;
    int exit_status, signo;
    struct buf result;
    bool has_result;
    char *error;
    pid_t pid;
    int order; /* for the many-jobs test */
};

static void
seen_free(struct seen *s)
{
    buf_free(&s->texts);
    buf_free(&s->result);
    free(s->error);
}

static void
on_progress(struct job *job, int kind, const void *data, size_t len, void *arg)
{
    struct seen *s = arg;

    (void)job;
    s->nprogress++;
    if (s->texts.len > 0)
        buf_addc(&s->texts, '|');
    if (kind != JOB_REC_TEXT)
        buf_addf(&s->texts, "%d:", kind);
    buf_add(&s->texts, data, len);
    assert_int_equal(((const char *)data)[len], '\0');
}

static void
on_done(struct job *job, const struct job_outcome *o, void *arg)
{
    struct seen *s = arg;

    s->done = true;
    s->pid = job_pid(job);
    s->status = o->status;
    s->exited = o->exited;
    s->exit_status = o->exit_status;
    s->signo = o->signo;
    s->has_result = o->result != NULL;
    if (o->result != NULL)
        buf_add(&s->result, o->result, o->result_len);
    s->error = o->error != NULL ? xstrdup(o->error) : NULL;
}

/* Runs the loop until *flag or 20 s. */
static void
run_until(struct evloop *loop, const bool *flag)
{
    uint64_t end = evloop_now_ms() + 20000;

    while (!*flag && evloop_now_ms() < end)
        assert_true(evloop_run_once(loop, 100) >= 0);
    assert_true(*flag);
}

/* The process is gone and not a zombie of ours. */
static void
assert_no_process(pid_t pid)
{
    int st;
    assert_int_equal(waitpid(pid, &st, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
    assert_int_equal(kill(pid, 0), -1);
}

static int
w_steps(struct job_ctx *ctx, void *arg)
{
    int n = *(int *)arg;

    for (int i = 1; i <= n; i++)
        job_ctx_progress(ctx, "step %d", i);
    job_ctx_send(ctx, JOB_REC_USER, "u", 1);
    job_ctx_result(ctx, "done", 4);
    return 0;
}

static void
progress_records_arrive_in_the_order_sent(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    struct buf want = BUF_INIT;
    char *cause = NULL;
    int n = 500;

    (void)state;
    assert_non_null(job_start(jr, "steps", w_steps, &n, on_progress, on_done, &s, &cause));
    assert_int_equal(job_runner_count(jr), 1);
    run_until(loop, &s.done);
    for (int i = 1; i <= n; i++)
        buf_addf(&want, "%sstep %d", i > 1 ? "|" : "", i);
    buf_addf(&want, "|%d:u", JOB_REC_USER);
    assert_string_equal(buf_str(&s.texts), buf_str(&want));
    assert_int_equal(s.status, JOB_OK);
    assert_null(s.error);
    assert_true(s.exited);
    assert_int_equal(s.exit_status, 0);
    assert_string_equal(buf_str(&s.result), "done");
    assert_int_equal(job_runner_count(jr), 0);
    assert_no_process(s.pid);
    buf_free(&want);
    seen_free(&s);
    job_runner_free(jr);
    evloop_free(loop);
}

#define BIG (1u << 20)

static int
w_big(struct job_ctx *ctx, void *arg)
{
    char *p = xmalloc(BIG);

    (void)arg;
    for (size_t i = 0; i < BIG; i++)
        p[i] = (char)(i * 7 + i / 251);
    job_ctx_progress(ctx, "before");
    job_ctx_send(ctx, JOB_REC_USER, p, 300000); /* a progress record past the pipe too */
    job_ctx_result(ctx, p, BIG);
    free(p);
    return 0;
}

static void
a_result_larger_than_the_pipe_buffer_arrives_whole(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    char *cause = NULL;

    (void)state;
    assert_non_null(job_start(jr, "big", w_big, NULL, on_progress, on_done, &s, &cause));
    run_until(loop, &s.done);
    assert_int_equal(s.status, JOB_OK);
    assert_int_equal(s.nprogress, 2);
    assert_int_equal(s.result.len, BIG);
    for (size_t i = 0; i < BIG; i++) {
        if (s.result.p[i] != (char)(i * 7 + i / 251))
            fail_msg("byte %zu differs", i);
    }
    seen_free(&s);
    job_runner_free(jr);
    evloop_free(loop);
}

/* Writes one frame a few bytes at a time, sleeping between the pieces. */
static int
w_trickle(struct job_ctx *ctx, void *arg)
{
    /* kind 16 (TEXT), length 11, "hello world", then the result frame the same way */
    static const unsigned char frames[] = {0,   0,   0,   16,  0,   0,   0,   11,  'h', 'e',
                                           'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', 0,
                                           0,   0,   1,   0,   0,   0,   2,   'o', 'k'};
    int fd = *(int *)arg;

    (void)ctx;
    for (size_t i = 0; i < sizeof(frames); i += 3) {
        size_t n = sizeof(frames) - i < 3 ? sizeof(frames) - i : 3;
        if (write(fd, frames + i, n) != (ssize_t)n)
            return 1;
        usleep(20000);
    }
    return 0;
}

struct ticker {
    int ticks;
};

static void
tick(struct evloop *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    ((struct ticker *)arg)->ticks++;
}

static int
w_ctx_fd(struct job_ctx *ctx, void *arg)
{
    (void)arg;
    /* struct job_ctx's only member is the record fd: the trickle worker writes raw bytes */
    int fd = *(int *)ctx;
    return w_trickle(ctx, &fd);
}

static void
frames_split_across_reads_lose_no_byte_and_never_block(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    struct ticker t = {0};
    char *cause = NULL;

    (void)state;
    evloop_timer_add(loop, 10, 10, tick, &t);
    assert_non_null(job_start(jr, "trickle", w_ctx_fd, NULL, on_progress, on_done, &s, &cause));
    run_until(loop, &s.done);
    assert_int_equal(s.status, JOB_OK);
    assert_string_equal(buf_str(&s.texts), "hello world");
    assert_string_equal(buf_str(&s.result), "ok");
    assert_true(t.ticks >= 5); /* ~200 ms of trickling; the loop kept turning */
    seen_free(&s);
    job_runner_free(jr);
    evloop_free(loop);
}

static int
w_sleep(struct job_ctx *ctx, void *arg)
{
    int ms = *(int *)arg;

    job_ctx_progress(ctx, "sleeping");
    usleep((useconds_t)ms * 1000);
    job_ctx_result(ctx, "woke", 4);
    return 0;
}

static void
timers_keep_firing_while_a_job_sleeps(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    struct ticker t = {0};
    char *cause = NULL;
    int ms = 500;
    uint64_t start;

    (void)state;
    evloop_timer_add(loop, 10, 10, tick, &t);
    start = evloop_now_ms();
    assert_non_null(job_start(jr, "sleep", w_sleep, &ms, on_progress, on_done, &s, &cause));
    run_until(loop, &s.done);
    assert_true(evloop_now_ms() - start >= 500);
    assert_int_equal(s.status, JOB_OK);
    /* a 10 ms timer over >= 500 ms: about 50 ticks; a blocked loop would show ~1 */
    assert_true(t.ticks >= 20); /* a loaded machine may drop some; a blocked loop shows 1 */
    seen_free(&s);
    job_runner_free(jr);
    evloop_free(loop);
}

static void
cancel(struct evloop *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    job_cancel(arg);
}

static void
cancel_ends_the_worker_and_says_cancelled(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    char *cause = NULL;
    int ms = 30000;
    struct job *j;
    uint64_t start = evloop_now_ms();

    (void)state;
    j = job_start(jr, "long", w_sleep, &ms, on_progress, on_done, &s, &cause);
    assert_non_null(j);
    evloop_timer_add(loop, 50, 0, cancel, j);
    run_until(loop, &s.done);
    assert_true(evloop_now_ms() - start < 2000); /* SIGTERM did it, no grace wait */
    assert_int_equal(s.status, JOB_CANCELLED);
    assert_false(s.exited);
    assert_int_equal(s.signo, SIGTERM);
    assert_non_null(strstr(s.error, "cancelled"));
    assert_no_process(s.pid);
    assert_int_equal(job_runner_count(jr), 0);
    seen_free(&s);
    job_runner_free(jr);
    evloop_free(loop);
}

static int
w_stubborn(struct job_ctx *ctx, void *arg)
{
    (void)arg;
    signal(SIGTERM, SIG_IGN);
    job_ctx_progress(ctx, "ignoring TERM");
    for (;;)
        pause();
    return 0;
}

static void
a_worker_ignoring_sigterm_is_killed_after_the_grace_time(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    char *cause = NULL;
    struct job *j;
    uint64_t start;

    (void)state;
    job_runner_set_grace(jr, 200);
    j = job_start(jr, "stubborn", w_stubborn, NULL, on_progress, on_done, &s, &cause);
    assert_non_null(j);
    while (s.nprogress == 0) /* SIG_IGN is in place once it says so */
        evloop_run_once(loop, 100);
    start = evloop_now_ms();
    job_cancel(j);
    run_until(loop, &s.done);
    assert_true(evloop_now_ms() - start >= 190);
    assert_int_equal(s.status, JOB_CANCELLED);
    assert_int_equal(s.signo, SIGKILL);
    assert_no_process(s.pid);
    seen_free(&s);
    job_runner_free(jr);
    evloop_free(loop);
}

static int
w_abort(struct job_ctx *ctx, void *arg)
{
    (void)arg;
    job_ctx_progress(ctx, "about to crash");
    abort();
}

static void
a_crashing_worker_is_a_failed_job_with_its_signal(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    char *cause = NULL;

    (void)state;
    assert_non_null(job_start(jr, "crash", w_abort, NULL, on_progress, on_done, &s, &cause));
    run_until(loop, &s.done);
    assert_int_equal(s.status, JOB_FAILED);
    assert_false(s.exited);
    assert_int_equal(s.signo, SIGABRT);
    assert_false(s.has_result);
    assert_string_equal(buf_str(&s.texts), "about to crash");
    assert_non_null(strstr(s.error, "crash: the worker was killed by signal 6"));
    assert_no_process(s.pid);
    seen_free(&s);
    job_runner_free(jr);
    evloop_free(loop);
}

static int
w_no_result(struct job_ctx *ctx, void *arg)
{
    (void)ctx;
    return *(int *)arg;
}

static int
w_error(struct job_ctx *ctx, void *arg)
{
    (void)arg;
    job_ctx_error(ctx, "probe: out of descriptors");
    return 1;
}

static int
w_fatal(struct job_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    fatal("simulated");
}

static int
w_half_frame(struct job_ctx *ctx, void *arg)
{
    static const unsigned char h[] = {0, 0, 0, 1, 0, 0, 1, 0, 'x'}; /* 256 bytes announced */
    (void)arg;
    return write(*(int *)ctx, h, sizeof(h)) == (ssize_t)sizeof(h) ? 0 : 1;
}

static void
workers_ending_without_a_result_fail_with_the_reason(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s[5];
    char *cause = NULL;
    int zero = 0, three = 3;

    (void)state;
    memset(s, 0, sizeof(s));
    assert_non_null(job_start(jr, "quiet", w_no_result, &zero, NULL, on_done, &s[0], &cause));
    assert_non_null(job_start(jr, "three", w_no_result, &three, NULL, on_done, &s[1], &cause));
    assert_non_null(job_start(jr, "err", w_error, NULL, NULL, on_done, &s[2], &cause));
    assert_non_null(job_start(jr, "fatal", w_fatal, NULL, NULL, on_done, &s[3], &cause));
    assert_non_null(job_start(jr, "half", w_half_frame, NULL, NULL, on_done, &s[4], &cause));
    for (int i = 0; i < 5; i++)
        run_until(loop, &s[i].done);
    for (int i = 0; i < 5; i++)
        assert_int_equal(s[i].status, JOB_FAILED);
    assert_string_equal(s[0].error, "quiet: the worker ended without a result");
    assert_string_equal(s[1].error, "three: the worker exited with status 3");
    assert_string_equal(s[2].error, "err: probe: out of descriptors");
    assert_int_equal(s[3].exit_status, JOB_EXIT_FATAL);
    assert_non_null(strstr(s[3].error, "fatal error"));
    assert_non_null(strstr(s[4].error, "end inside a record"));
    for (int i = 0; i < 5; i++)
        seen_free(&s[i]);
    job_runner_free(jr);
    evloop_free(loop);
}

/* What the child's world looks like: /dev/null on 0-2, its own group, default SIGPIPE. */
static int
w_world(struct job_ctx *ctx, void *arg)
{
    char l0[64] = "", l1[64] = "", l2[64] = "";
    struct sigaction sa;
    char *r;

    (void)arg;
    (void)!readlink("/proc/self/fd/0", l0, sizeof(l0) - 1);
    (void)!readlink("/proc/self/fd/1", l1, sizeof(l1) - 1);
    (void)!readlink("/proc/self/fd/2", l2, sizeof(l2) - 1);
    sigaction(SIGPIPE, NULL, &sa);
    r = xasprintf("%s %s %s %s %s", l0, l1, l2, getpgrp() == getpid() ? "leader" : "member",
                  sa.sa_handler == SIG_DFL ? "dfl" : "changed");
    printf("this goes nowhere\n");
    fflush(stdout);
    job_ctx_result(ctx, r, strlen(r));
    free(r);
    return 0;
}

static void
pipe_sig(struct evloop *loop, int signo, void *arg)
{
    (void)loop;
    (void)signo;
    (void)arg;
}

static void
the_worker_runs_detached_from_the_terminal_and_the_parents_signals(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    char *cause = NULL;

    (void)state;
    evloop_signal_add(loop, SIGPIPE, pipe_sig, NULL); /* a handler the worker must not keep */
    assert_non_null(job_start(jr, "world", w_world, NULL, NULL, on_done, &s, &cause));
    run_until(loop, &s.done);
    assert_int_equal(s.status, JOB_OK);
    assert_string_equal(buf_str(&s.result), "/dev/null /dev/null /dev/null leader dfl");
    seen_free(&s);
    job_runner_free(jr);
    evloop_free(loop);
}

static int
w_index(struct job_ctx *ctx, void *arg)
{
    int i = *(int *)arg;
    char msg[32];

    usleep((useconds_t)((i * 7919) % 50) * 1000);
    snprintf(msg, sizeof(msg), "job %d", i);
    job_ctx_progress(ctx, "%s running", msg);
    job_ctx_result(ctx, msg, strlen(msg));
    return 0;
}

#define MANY 60

static void
many_jobs_at_once_each_get_their_own_result(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen *s = xcalloc(MANY, sizeof(*s));
    char *cause = NULL;
    bool all = false;

    (void)state;
    for (int i = 0; i < MANY; i++) {
        char name[16];
        snprintf(name, sizeof(name), "j%d", i);
        assert_non_null(job_start(jr, name, w_index, &i, on_progress, on_done, &s[i], &cause));
    }
    assert_int_equal(job_runner_count(jr), MANY);
    while (!all) {
        assert_true(evloop_run_once(loop, 100) >= 0);
        all = true;
        for (int i = 0; i < MANY; i++)
            all &= s[i].done;
    }
    for (int i = 0; i < MANY; i++) {
        char want[32];
        snprintf(want, sizeof(want), "job %d", i);
        assert_int_equal(s[i].status, JOB_OK);
        assert_string_equal(buf_str(&s[i].result), want);
        snprintf(want, sizeof(want), "job %d running", i);
        assert_string_equal(buf_str(&s[i].texts), want);
        assert_no_process(s[i].pid);
        seen_free(&s[i]);
    }
    assert_int_equal(job_runner_count(jr), 0);
    free(s);
    job_runner_free(jr);
    evloop_free(loop);
}

static void
freeing_the_runner_kills_and_reaps_what_still_runs(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    char *cause = NULL;
    int ms = 30000;
    struct job *j;
    pid_t pid;

    (void)state;
    j = job_start(jr, "left", w_sleep, &ms, NULL, on_done, &s, &cause);
    assert_non_null(j);
    pid = job_pid(j);
    job_runner_free(jr);
    /* the owner hears JOB_CANCELLED, so a wire module frees the context it gave the job */
    assert_true(s.done);
    assert_int_equal(s.status, JOB_CANCELLED);
    assert_no_process(pid);
    free(s.error);
    buf_free(&s.texts);
    buf_free(&s.result);
    evloop_free(loop);
}

static void
releasing_the_runner_leaves_the_worker_running_and_says_cancelled(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    char *cause = NULL;
    int ms = 30000;
    struct job *j;
    pid_t pid;

    (void)state;
    j = job_start(jr, "kept", w_sleep, &ms, NULL, on_done, &s, &cause);
    assert_non_null(j);
    pid = job_pid(j);
    job_runner_release(jr);
    assert_true(s.done);
    assert_int_equal(s.status, JOB_CANCELLED);
    assert_int_equal(kill(pid, 0), 0); /* still running: release kills nothing */
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
        ;
    free(s.error);
    buf_free(&s.texts);
    buf_free(&s.result);
    evloop_free(loop);
}

static void
a_program_job_streams_stdout_and_stderr_lines_and_its_status(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0}, e = {0}, m = {0}, t = {0};
    char *cause = NULL;
    char *out_argv[] = {"printf", "one\ntwo\nno newline", NULL};
    char *err_argv[] = {"ls", "/nonexistent-tlstriage-job", NULL};
    char *missing_argv[] = {"/nonexistent/tlstriage-no-such-program", NULL};
    char *slow_argv[] = {"sleep", "10", NULL};
    struct spawn_result sr;

    (void)state;
    assert_non_null(job_run_program(jr, out_argv, 0, on_progress, on_done, &s, &cause));
    assert_non_null(job_run_program(jr, err_argv, 0, on_progress, on_done, &e, &cause));
    assert_non_null(job_run_program(jr, missing_argv, 0, on_progress, on_done, &m, &cause));
    assert_non_null(job_run_program(jr, slow_argv, 200, on_progress, on_done, &t, &cause));
    run_until(loop, &s.done);
    run_until(loop, &e.done);
    run_until(loop, &m.done);
    run_until(loop, &t.done);

    assert_int_equal(s.status, JOB_OK);
    assert_string_equal(buf_str(&s.texts), "17:one|17:two|17:no newline");
    assert_int_equal(
        job_program_status(&(struct job_outcome){.result = s.result.p, .result_len = s.result.len},
                           &sr),
        0);
    assert_true(sr.exited);
    assert_int_equal(sr.status, 0);

    assert_int_equal(e.status, JOB_OK);
    assert_non_null(strstr(buf_str(&e.texts), "18:ls: cannot access"));
    assert_int_equal(
        job_program_status(&(struct job_outcome){.result = e.result.p, .result_len = e.result.len},
                           &sr),
        0);
    assert_true(sr.exited);
    assert_int_equal(sr.status, 2);

    assert_int_equal(m.status, JOB_FAILED);
    assert_string_equal(m.error, "run /nonexistent/tlstriage-no-such-program: cannot run "
                                 "/nonexistent/tlstriage-no-such-program: No such file or "
                                 "directory");

    assert_int_equal(t.status, JOB_OK);
    assert_int_equal(
        job_program_status(&(struct job_outcome){.result = t.result.p, .result_len = t.result.len},
                           &sr),
        0);
    assert_true(sr.timed_out);
    assert_false(sr.exited);
    assert_int_equal(sr.status, SIGKILL);
    seen_free(&s);
    seen_free(&e);
    seen_free(&m);
    seen_free(&t);
    job_runner_free(jr);
    evloop_free(loop);
}

/* Processes of group pgid that are not zombies (an orphan's zombie waits for init). */
static int
live_in_group(pid_t pgid)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[512], state;
        int ppid, pgrp;
        FILE *f;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        if (fgets(buf, sizeof(buf), f) != NULL) {
            char *p = strrchr(buf, ')');
            if (p != NULL && sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
                pgrp == pgid && state != 'Z')
                n++;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

static void
cancelling_a_program_job_ends_the_program_too(void **state)
{
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct seen s = {0};
    char *cause = NULL;
    char *argv[] = {"sleep", "30", NULL};
    struct job *j;
    pid_t pgid;
    uint64_t start = evloop_now_ms();

    (void)state;
    j = job_run_program(jr, argv, 0, NULL, on_done, &s, &cause);
    assert_non_null(j);
    pgid = job_pid(j);
    evloop_timer_add(loop, 100, 0, cancel, j);
    run_until(loop, &s.done);
    assert_true(evloop_now_ms() - start < 2000);
    assert_int_equal(s.status, JOB_CANCELLED);
    usleep(50000);
    assert_int_equal(live_in_group(pgid), 0); /* the sleep in the worker's group is gone too */
    seen_free(&s);
    job_runner_free(jr);
    evloop_free(loop);
}

/* nginx -t as a job, as the fix wizard runs it: a good config, then one nginx refuses. */
static void
nginx_t_runs_as_a_job_and_its_emerg_line_arrives(void **state)
{
    const char *bin = getenv("TT_NGINX") != NULL && getenv("TT_NGINX")[0] != '\0'
                          ? getenv("TT_NGINX")
                          : "/usr/sbin/nginx";
    char dir[] = "/tmp/tt-job-XXXXXX";
    struct evloop *loop = evloop_new();
    struct job_runner *jr = job_runner_new(loop);
    struct spawn_result sr;
    char *conf, *cause = NULL;
    FILE *f;

    (void)state;
    if (access(bin, X_OK) != 0)
        skip();
    assert_non_null(mkdtemp(dir));
    conf = xasprintf("%s/nginx.conf", dir);
    for (int bad = 0; bad < 2; bad++) {
        struct seen s = {0};
        char *argv[] = {(char *)bin, "-t", "-p", dir, "-c", conf, "-e", "stderr", NULL};
        assert_non_null(f = fopen(conf, "w"));
        fprintf(f,
                "events {}\nerror_log stderr;\npid %s/nginx.pid;\nhttp {\n"
                "    server { listen 127.0.0.1:1; proxy_ssl_verify %s; }\n}\n",
                dir, bad ? "maybe" : "on");
        fclose(f);
        assert_non_null(job_run_program(jr, argv, 10000, on_progress, on_done, &s, &cause));
        run_until(loop, &s.done);
        assert_int_equal(s.status, JOB_OK);
        assert_int_equal(
            job_program_status(
                &(struct job_outcome){.result = s.result.p, .result_len = s.result.len}, &sr),
            0);
        assert_true(sr.exited);
        if (!bad) {
            assert_int_equal(sr.status, 0);
            assert_non_null(strstr(buf_str(&s.texts), "18:nginx: configuration file "));
            assert_non_null(strstr(buf_str(&s.texts), " test is successful"));
        } else {
            assert_int_equal(sr.status, 1);
            assert_non_null(strstr(buf_str(&s.texts), " [emerg] "));
            assert_non_null(strstr(buf_str(&s.texts), "invalid value \"maybe\""));
            assert_non_null(strstr(buf_str(&s.texts), "|18:nginx: configuration file "));
        }
        seen_free(&s);
    }
    char *pid = xasprintf("%s/nginx.pid", dir); /* nginx -t leaves it, empty */
    unlink(pid);
    free(pid);
    unlink(conf);
    assert_int_equal(rmdir(dir), 0);
    free(conf);
    job_runner_free(jr);
    evloop_free(loop);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(progress_records_arrive_in_the_order_sent),
        cmocka_unit_test(a_result_larger_than_the_pipe_buffer_arrives_whole),
        cmocka_unit_test(frames_split_across_reads_lose_no_byte_and_never_block),
        cmocka_unit_test(timers_keep_firing_while_a_job_sleeps),
        cmocka_unit_test(cancel_ends_the_worker_and_says_cancelled),
        cmocka_unit_test(a_worker_ignoring_sigterm_is_killed_after_the_grace_time),
        cmocka_unit_test(a_crashing_worker_is_a_failed_job_with_its_signal),
        cmocka_unit_test(workers_ending_without_a_result_fail_with_the_reason),
        cmocka_unit_test(the_worker_runs_detached_from_the_terminal_and_the_parents_signals),
        cmocka_unit_test(many_jobs_at_once_each_get_their_own_result),
        cmocka_unit_test(freeing_the_runner_kills_and_reaps_what_still_runs),
        cmocka_unit_test(releasing_the_runner_leaves_the_worker_running_and_says_cancelled),
        cmocka_unit_test(a_program_job_streams_stdout_and_stderr_lines_and_its_status),
        cmocka_unit_test(cancelling_a_program_job_ends_the_program_too),
        cmocka_unit_test(nginx_t_runs_as_a_job_and_its_emerg_line_arrives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
