/*
 * job.c — owns the job runner: forks a worker per job, reads its length-prefixed records
 * from a non-blocking pipe on the evloop, reaps it with waitpid(pid, WNOHANG), cancels it
 * (SIGTERM, then SIGKILL to its process group) and the "run a program" worker. It knows no
 * record's content and draws nothing. Called by the job forms of the long operations
 * (probe-wire.c, remedy-wire.c); the TUI (issue 13) is to drive its work through it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "evloop.h"
#include "job.h"
#include "procenv.h"
#include "spawn.h"
#include "wire.h"
#include "xmalloc.h"

#define JOB_READ_CHUNK 65536
#define JOB_READ_BUDGET (1u << 20) /* bytes read per callback: other fds get their turn */
#define JOB_REAP_POLL_MS 20
#define JOB_LINE_MAX 65536

struct job {
    struct job_runner *jr;
    struct job *next;
    char *name;
    pid_t pid;
    int fd;        /* read end of the record pipe; -1 once closed */
    struct buf in; /* bytes read and not yet parsed (a partial frame at most) */
    struct buf result;
    bool has_result;
    char *error; /* an ERROR record, or what went wrong with the pipe */
    bool broken; /* the records were malformed */
    bool eof, reaped, status_lost, cancelled, finished;
    int wstatus;
    int kill_timer;
    job_progress_cb on_progress;
    job_done_cb on_done;
    void *arg;
};

struct job_runner {
    struct evloop *loop;
    struct job *jobs;
    size_t njobs;
    unsigned grace_ms;
    int reap_timer;
};

struct job_ctx {
    int fd;
};

static void runner_scan(struct job_runner *jr);

/* ---- parent side ---- */

static void
sigchld_cb(struct evloop *loop, int signo, void *arg)
{
    (void)loop;
    (void)signo;
    runner_scan(arg);
}

static void
sigchld_ignore(struct evloop *loop, int signo, void *arg)
{
    (void)loop;
    (void)signo;
    (void)arg;
}

struct job_runner *
job_runner_new(struct evloop *loop)
{
    struct job_runner *jr = xcalloc(1, sizeof(*jr));

    jr->loop = loop;
    jr->grace_ms = JOB_DEFAULT_GRACE_MS;
    evloop_signal_add(loop, SIGCHLD, sigchld_cb, jr); /* on failure the reap timer serves */
    return jr;
}

void
job_runner_set_grace(struct job_runner *jr, unsigned grace_ms)
{
    jr->grace_ms = grace_ms;
}

size_t
job_runner_count(const struct job_runner *jr)
{
    return jr->njobs;
}

static void
job_free(struct job *j)
{
    if (j->fd >= 0) {
        evloop_fd_del(j->jr->loop, j->fd);
        close(j->fd);
    }
    if (j->kill_timer > 0)
        evloop_timer_del(j->jr->loop, j->kill_timer);
    buf_free(&j->in);
    buf_free(&j->result);
    free(j->error);
    free(j->name);
    free(j);
}

/* Ends the runner: each job still listed is unlinked, killed when kill_them (SIGKILL to its
 * group, reaped) or left running, and its on_done called with JOB_CANCELLED so that its
 * owner frees what it gave the job (a wire module's context); then the runner is freed. */
static void
runner_end(struct job_runner *jr, bool kill_them)
{
    struct job *j;

    if (jr == NULL)
        return;
    while ((j = jr->jobs) != NULL) {
        struct job_outcome o;
        jr->jobs = j->next;
        jr->njobs--;
        if (kill_them && !j->reaped) {
            int st;
            if (kill(-j->pid, SIGKILL) != 0)
                kill(j->pid, SIGKILL);
            while (waitpid(j->pid, &st, 0) == -1 && errno == EINTR)
                ;
        }
        j->finished = true;
        memset(&o, 0, sizeof(o));
        o.status = JOB_CANCELLED;
        o.error = kill_them ? "cancelled: the job runner was freed"
                            : "left running: the job runner was freed";
        if (j->on_done != NULL)
            j->on_done(j, &o, j->arg);
        job_free(j);
    }
    if (jr->reap_timer > 0)
        evloop_timer_del(jr->loop, jr->reap_timer);
    evloop_signal_add(jr->loop, SIGCHLD, sigchld_ignore, NULL); /* jr is gone */
    free(jr);
}

void
job_runner_free(struct job_runner *jr)
{
    runner_end(jr, true);
}

void
job_runner_release(struct job_runner *jr)
{
    runner_end(jr, false);
}

pid_t
job_pid(const struct job *job)
{
    return job->pid;
}

const char *
job_name(const struct job *job)
{
    return job->name;
}

static void
job_reap(struct job *j)
{
    pid_t r;
    int st = 0;

    if (j->reaped)
        return;
    do
        r = waitpid(j->pid, &st, WNOHANG);
    while (r == -1 && errno == EINTR);
    if (r == j->pid) {
        j->reaped = true;
        j->wstatus = st;
    } else if (r == -1 && errno == ECHILD) { /* reaped by a waitpid(-1) elsewhere */
        j->reaped = true;
        j->status_lost = true;
    }
}

static char *
outcome_error(const struct job *j, struct job_outcome *o)
{
    if (j->cancelled)
        return xasprintf("%s: cancelled", j->name);
    if (j->broken || j->error != NULL)
        return xasprintf("%s: %s", j->name, j->error != NULL ? j->error : "broken records");
    if (j->status_lost)
        return xasprintf("%s: the worker's exit status was collected elsewhere", j->name);
    if (!o->exited)
        return xasprintf("%s: the worker was killed by signal %d (%s)", j->name, o->signo,
                         strsignal(o->signo));
    if (o->exit_status == JOB_EXIT_FATAL)
        return xasprintf("%s: the worker stopped on a fatal error (exit status %d)", j->name,
                         o->exit_status);
    if (o->exit_status != 0)
        return xasprintf("%s: the worker exited with status %d", j->name, o->exit_status);
    if (!j->has_result)
        return xasprintf("%s: the worker ended without a result", j->name);
    return NULL;
}

static void
job_finish(struct job *j)
{
    struct job_runner *jr = j->jr;
    struct job_outcome o;
    char *err;

    j->finished = true;
    for (struct job **pp = &jr->jobs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            jr->njobs--;
            break;
        }
    }
    memset(&o, 0, sizeof(o));
    if (!j->status_lost && WIFEXITED(j->wstatus)) {
        o.exited = true;
        o.exit_status = WEXITSTATUS(j->wstatus);
    } else if (!j->status_lost && WIFSIGNALED(j->wstatus)) {
        o.signo = WTERMSIG(j->wstatus);
    }
    err = outcome_error(j, &o);
    o.status = j->cancelled ? JOB_CANCELLED : err != NULL ? JOB_FAILED : JOB_OK;
    o.error = err;
    if (j->has_result) {
        o.result = j->result.p != NULL ? j->result.p : "";
        o.result_len = j->result.len;
    }
    if (j->on_done != NULL)
        j->on_done(j, &o, j->arg);
    free(err);
    job_free(j);
}

static void
reap_timer_cb(struct evloop *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    runner_scan(arg);
}

/* Reaps what has died, finishes the jobs whose pipe is closed and worker reaped, and keeps
 * the reap timer while a closed job waits for its exit status. */
static void
runner_scan(struct job_runner *jr)
{
    bool waiting = false;

again:
    for (struct job *j = jr->jobs; j != NULL; j = j->next) {
        job_reap(j);
        if (j->eof && j->reaped && !j->finished) {
            job_finish(j); /* may change the list */
            goto again;
        }
    }
    for (struct job *j = jr->jobs; j != NULL; j = j->next)
        waiting |= j->eof && !j->reaped;
    if (waiting && jr->reap_timer == 0) {
        jr->reap_timer =
            evloop_timer_add(jr->loop, JOB_REAP_POLL_MS, JOB_REAP_POLL_MS, reap_timer_cb, jr);
    } else if (!waiting && jr->reap_timer > 0) {
        evloop_timer_del(jr->loop, jr->reap_timer);
        jr->reap_timer = 0;
    }
}

static uint32_t
be32(const char *p)
{
    const unsigned char *q = (const unsigned char *)p;

    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static void
job_kill(struct job *j, int signo)
{
    if (j->reaped)
        return;
    if (kill(-j->pid, signo) != 0)
        kill(j->pid, signo);
}

/* Delivers every complete frame in j->in; a partial one stays for the next read. */
static void
job_parse(struct job *j)
{
    size_t off = 0;

    while (!j->broken && j->in.len - off >= 8) {
        uint32_t kind = be32(j->in.p + off), len = be32(j->in.p + off + 4);
        char *data = j->in.p + off + 8;
        if (len > JOB_MAX_RECORD) {
            j->broken = true;
            free(j->error);
            j->error =
                xasprintf("the worker sent a record of %u bytes (limit %u)", len, JOB_MAX_RECORD);
            job_kill(j, SIGKILL);
            break;
        }
        if (j->in.len - off - 8 < len)
            break;
        off += 8 + (size_t)len;
        if (kind == JOB_REC_RESULT) {
            buf_reset(&j->result);
            buf_add(&j->result, data, len);
            j->has_result = true;
        } else if (kind == JOB_REC_ERROR) {
            free(j->error);
            j->error = xstrndup(data, len);
        } else if (!j->cancelled && j->on_progress != NULL) {
            char saved = data[len]; /* the next frame's first byte, or buf's terminator */
            data[len] = '\0';
            j->on_progress(j, (int)kind, data, len, j->arg);
            data[len] = saved;
        }
    }
    if (j->broken) {
        j->in.len = 0;
    } else if (off > 0) {
        memmove(j->in.p, j->in.p + off, j->in.len - off);
        j->in.len -= off;
    }
    if (j->in.p != NULL)
        j->in.p[j->in.len] = '\0';
}

static void
job_readable(struct evloop *loop, int fd, short revents, void *arg)
{
    struct job *j = arg;
    size_t got = 0;

    (void)revents;
    while (got < JOB_READ_BUDGET && !j->broken) {
        ssize_t n;
        buf_reserve(&j->in, JOB_READ_CHUNK);
        n = read(fd, j->in.p + j->in.len, JOB_READ_CHUNK);
        if (n > 0) {
            j->in.len += (size_t)n;
            j->in.p[j->in.len] = '\0';
            got += (size_t)n;
            continue;
        }
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n == -1 && j->error == NULL)
            j->error = xasprintf("reading the worker's records: %s", strerror(errno));
        j->eof = true;
        break;
    }
    job_parse(j);
    if (j->broken)
        j->eof = true;
    if (!j->eof)
        return;
    if (j->in.len > 0 && j->error == NULL && !j->cancelled) {
        j->broken = true;
        j->error =
            xasprintf("the worker's records end inside a record (%zu bytes left)", j->in.len);
    }
    evloop_fd_del(loop, fd);
    close(fd);
    j->fd = -1;
    runner_scan(j->jr);
}

static void
kill_timer_cb(struct evloop *loop, int id, void *arg)
{
    struct job *j = arg;

    (void)loop;
    (void)id;
    j->kill_timer = 0;
    job_kill(j, SIGKILL);
}

void
job_cancel(struct job *j)
{
    if (j->finished || j->cancelled)
        return;
    j->cancelled = true;
    job_reap(j);
    if (j->reaped)
        return;
    job_kill(j, SIGTERM);
    j->kill_timer = evloop_timer_add(j->jr->loop, j->jr->grace_ms, 0, kill_timer_cb, j);
}

/* ---- worker side ---- */

static void
child_fatal(void)
{
    _exit(JOB_EXIT_FATAL);
}

/* The worker's process state: default signals, nothing blocked, its own process group,
 * /dev/null as stdin/stdout/stderr, and fatal() ending it without atexit handlers. */
static void
child_setup(void)
{
    int nul;

    procenv_child_defaults();
    setpgid(0, 0);
    if ((nul = open("/dev/null", O_RDWR)) >= 0) {
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(nul, 2);
        if (nul > 2)
            close(nul);
    }
    xmalloc_set_fatal_hook(child_fatal);
}

static int
write_all(int fd, const void *p, size_t len)
{
    const char *q = p;

    while (len > 0) {
        ssize_t n = write(fd, q, len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        q += n;
        len -= (size_t)n;
    }
    return 0;
}

int
job_ctx_send(struct job_ctx *ctx, int kind, const void *data, size_t len)
{
    unsigned char h[8];
    uint32_t k = (uint32_t)kind;

    if (len > JOB_MAX_RECORD)
        return -1;
    h[0] = (unsigned char)(k >> 24);
    h[1] = (unsigned char)(k >> 16);
    h[2] = (unsigned char)(k >> 8);
    h[3] = (unsigned char)k;
    h[4] = (unsigned char)(len >> 24);
    h[5] = (unsigned char)(len >> 16);
    h[6] = (unsigned char)(len >> 8);
    h[7] = (unsigned char)len;
    if (write_all(ctx->fd, h, sizeof(h)) != 0)
        return -1;
    return len > 0 ? write_all(ctx->fd, data, len) : 0;
}

static int
send_vf(struct job_ctx *ctx, int kind, const char *fmt, va_list ap)
{
    char *s = xvasprintf(fmt, ap);
    int rc = job_ctx_send(ctx, kind, s, strlen(s));

    free(s);
    return rc;
}

int
job_ctx_progress(struct job_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = send_vf(ctx, JOB_REC_TEXT, fmt, ap);
    va_end(ap);
    return rc;
}

int
job_ctx_error(struct job_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = send_vf(ctx, JOB_REC_ERROR, fmt, ap);
    va_end(ap);
    return rc;
}

int
job_ctx_result(struct job_ctx *ctx, const void *data, size_t len)
{
    return job_ctx_send(ctx, JOB_REC_RESULT, data, len);
}

void
job_ctx_progress_cb(void *ctx, const char *msg)
{
    job_ctx_send(ctx, JOB_REC_TEXT, msg, strlen(msg));
}

struct job *
job_start(struct job_runner *jr, const char *name, job_fn fn, void *fn_arg,
          job_progress_cb on_progress, job_done_cb on_done, void *arg, char **cause)
{
    int p[2];
    pid_t pid;
    struct job *j;

    if (pipe2(p, O_CLOEXEC) == -1) {
        *cause = xasprintf("%s: pipe: %s", name, strerror(errno));
        return NULL;
    }
    if ((pid = fork()) == -1) {
        *cause = xasprintf("%s: fork: %s", name, strerror(errno));
        close(p[0]);
        close(p[1]);
        return NULL;
    }
    if (pid == 0) {
        struct job_ctx ctx = {.fd = p[1]};
        close(p[0]);
        child_setup();
        _exit(fn(&ctx, fn_arg) & 0xff);
    }
    close(p[1]);
    setpgid(pid, pid); /* also here, so a cancel right away reaches the whole group */
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    j = xcalloc(1, sizeof(*j));
    j->jr = jr;
    j->name = xstrdup(name);
    j->pid = pid;
    j->fd = p[0];
    j->on_progress = on_progress;
    j->on_done = on_done;
    j->arg = arg;
    j->next = jr->jobs;
    jr->jobs = j;
    jr->njobs++;
    evloop_fd_add(jr->loop, j->fd, POLLIN, job_readable, j);
    return j;
}

/* ---- the "run a program" worker ---- */

struct program_arg {
    char *const *argv;
    int timeout_ms;
};

struct program_stream {
    int fd;
    int kind;
    struct buf line;
};

/* Sends the complete lines of s (and, at EOF, the rest); a line over JOB_LINE_MAX in pieces. */
static void
stream_flush(struct job_ctx *ctx, struct program_stream *s, bool eof)
{
    size_t start = 0;

    for (size_t i = 0; i < s->line.len; i++) {
        if (s->line.p[i] == '\n' || i - start == JOB_LINE_MAX) {
            job_ctx_send(ctx, s->kind, s->line.p + start, i - start);
            start = s->line.p[i] == '\n' ? i + 1 : i;
        }
    }
    if (eof && start < s->line.len) {
        job_ctx_send(ctx, s->kind, s->line.p + start, s->line.len - start);
        start = s->line.len;
    }
    if (start > 0) {
        memmove(s->line.p, s->line.p + start, s->line.len - start);
        s->line.len -= start;
    }
}

/* Reads what is there; returns false at EOF (or error). */
static bool
stream_read(struct job_ctx *ctx, struct program_stream *s)
{
    char chunk[4096];
    ssize_t n;

    while ((n = read(s->fd, chunk, sizeof(chunk))) == -1 && errno == EINTR)
        ;
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return true;
    if (n <= 0)
        return false;
    buf_add(&s->line, chunk, (size_t)n);
    stream_flush(ctx, s, false);
    return true;
}

static int
program_worker(struct job_ctx *ctx, void *arg)
{
    const struct program_arg *pa = arg;
    struct program_stream st[2] = {{-1, JOB_REC_STDOUT, BUF_INIT}, {-1, JOB_REC_STDERR, BUF_INIT}};
    int out[2], err[2], ep[2], child_errno = 0, ws = 0;
    uint64_t deadline = pa->timeout_ms > 0 ? evloop_now_ms() + (uint64_t)pa->timeout_ms : 0;
    bool exited = false, timed_out = false;
    struct buf res = BUF_INIT;
    pid_t pid;

    if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1) {
        job_ctx_error(ctx, "cannot run %s: pipe: %s", pa->argv[0], strerror(errno));
        return 1;
    }
    if ((pid = fork()) == -1) {
        job_ctx_error(ctx, "cannot run %s: fork: %s", pa->argv[0], strerror(errno));
        return 1;
    }
    if (pid == 0) { /* stays in the worker's process group: a cancel reaches it too */
        dup2(out[1], 1);
        dup2(err[1], 2);
        execvp(pa->argv[0], pa->argv);
        child_errno = errno;
        (void)!write(ep[1], &child_errno, sizeof(child_errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    close(ep[1]);
    st[0].fd = out[0];
    st[1].fd = err[0];
    for (int i = 0; i < 2; i++)
        fcntl(st[i].fd, F_SETFL, fcntl(st[i].fd, F_GETFL) | O_NONBLOCK);
    while (st[0].fd >= 0 || st[1].fd >= 0) {
        struct pollfd p[2];
        int wait_ms = 100; /* also notices a program that exits while a daemon keeps its pipes */
        if (deadline != 0) {
            uint64_t now = evloop_now_ms();
            if (now >= deadline) {
                kill(pid, SIGKILL);
                timed_out = true;
                break;
            }
            if (deadline - now < (uint64_t)wait_ms)
                wait_ms = (int)(deadline - now);
        }
        for (int i = 0; i < 2; i++) {
            p[i].fd = st[i].fd;
            p[i].events = POLLIN;
            p[i].revents = 0;
        }
        if (poll(p, 2, wait_ms) == -1 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (st[i].fd >= 0 && p[i].revents != 0 && !stream_read(ctx, &st[i])) {
                close(st[i].fd);
                st[i].fd = -1;
            }
        }
        if (!exited && waitpid(pid, &ws, WNOHANG) == pid) {
            exited = true;
            for (int i = 0; i < 2; i++) { /* drain what is there, then stop */
                while (st[i].fd >= 0 && stream_read(ctx, &st[i]) && poll(&p[i], 1, 0) > 0)
                    ;
            }
            break;
        }
    }
    if (!exited) {
        while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
            ;
    }
    for (int i = 0; i < 2; i++) {
        stream_flush(ctx, &st[i], true);
        buf_free(&st[i].line);
        if (st[i].fd >= 0)
            close(st[i].fd);
    }
    if (read(ep[0], &child_errno, sizeof(child_errno)) == (ssize_t)sizeof(child_errno)) {
        job_ctx_error(ctx, "cannot run %s: %s", pa->argv[0], strerror(child_errno));
        return 1;
    }
    wire_put_bool(&res, WIFEXITED(ws));
    wire_put_i64(&res, WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    wire_put_bool(&res, timed_out);
    job_ctx_result(ctx, res.p, res.len);
    buf_free(&res);
    return 0;
}

struct job *
job_run_program(struct job_runner *jr, char *const argv[], int timeout_ms,
                job_progress_cb on_progress, job_done_cb on_done, void *arg, char **cause)
{
    struct program_arg pa = {argv, timeout_ms};
    char *name = xasprintf("run %s", argv[0]);
    struct job *j = job_start(jr, name, program_worker, &pa, on_progress, on_done, arg, cause);

    free(name);
    return j;
}

int
job_program_status(const struct job_outcome *o, struct spawn_result *res)
{
    struct wire_rd r;

    memset(res, 0, sizeof(*res));
    if (o->result == NULL)
        return -1;
    wire_rd_init(&r, o->result, o->result_len);
    res->exited = wire_get_bool(&r);
    res->status = (int)wire_get_i64(&r);
    res->timed_out = wire_get_bool(&r);
    return wire_rd_done(&r) ? 0 : -1;
}
