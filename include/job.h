/*
 * job.h — blocking work (probes, candidate planning, nginx -t, the reload) run in a forked
 * worker on the one evloop, so a front end never freezes. The worker reports progress
 * records and one result over a pipe; the parent reads them from an fd callback (never
 * blocking), collects the exit status (SIGCHLD through evloop_signal_add, waitpid WNOHANG on
 * the worker's own pid only) and can cancel it. No threads: logscan keeps process caches.
 *
 * What a worker (the child) may do: compute, open and read files, make its own network
 * connections, fork and wait for its own children, and send records with job_ctx_*. Its
 * stdin, stdout and stderr are /dev/null, its signal dispositions are the defaults, it is the
 * leader of its own process group, and fatal() in it ends it with _exit (the front end's
 * terminal hook is never run there). It must not touch the terminal (curses, /dev/tty), must
 * not write to file descriptors it inherited, and ends by returning from its function: job.c
 * then calls _exit, so no atexit handler and no stdio buffer of the parent runs twice.
 */
#ifndef TT_JOB_H
#define TT_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct evloop;
struct job;
struct job_ctx;
struct job_runner;
struct spawn_result;

/* Record kinds on the pipe. A frame is {u32 kind, u32 len, len bytes}, big-endian. */
enum job_rec {
    JOB_REC_RESULT = 1,  /* the final result (the last one sent counts) */
    JOB_REC_ERROR = 2,   /* why the worker failed, in words; the job ends failed */
    JOB_REC_TEXT = 16,   /* progress in words: "probing candidate 3 of at most 24: pin+name" */
    JOB_REC_STDOUT = 17, /* one line of a program's stdout (job_run_program), no newline */
    JOB_REC_STDERR = 18, /* one line of its stderr */
    JOB_REC_USER = 64,   /* first kind free for a worker's own progress records */
};

#define JOB_MAX_RECORD (256u << 20) /* a longer frame is a broken worker */
#define JOB_DEFAULT_GRACE_MS 2000   /* SIGTERM to SIGKILL on cancel */
#define JOB_EXIT_FATAL 70           /* the exit status of a worker that hit fatal() */

enum job_status {
    JOB_OK,        /* a result arrived and the worker exited 0 */
    JOB_FAILED,    /* an error record, a non-zero exit, a signal, or no result */
    JOB_CANCELLED, /* job_cancel() was called (even if a result arrived first) */
};

struct job_outcome {
    enum job_status status;
    bool exited;        /* the worker exited (else it was killed by signo) */
    int exit_status;    /* when exited */
    int signo;          /* when killed */
    const void *result; /* the result record's bytes (NULL when none); valid during on_done */
    size_t result_len;
    const char *error; /* JOB_FAILED / JOB_CANCELLED: what happened, in words */
};

/* The worker's function: runs in the child, returns its exit status (0: success). */
typedef int (*job_fn)(struct job_ctx *ctx, void *arg);
/* A progress record (any kind but RESULT and ERROR), in the order the worker sent them.
 * data is borrowed (NUL-terminated after len bytes for convenience). Not called after
 * job_cancel(). */
typedef void (*job_progress_cb)(struct job *job, int kind, const void *data, size_t len, void *arg);
/* Called once, when the pipe is closed and the worker reaped; the job is freed after it
 * returns. May start new jobs. */
typedef void (*job_done_cb)(struct job *job, const struct job_outcome *o, void *arg);

/* The jobs of one loop. Registers SIGCHLD on loop (evloop_signal_add); a pipe EOF also
 * checks, and while a closed job is not yet reaped a 20 ms timer polls, so jobs end even
 * when someone else owns SIGCHLD. */
struct job_runner *job_runner_new(struct evloop *loop);
/* Kills the workers still running (SIGKILL to their groups), reaps them, and calls each one's
 * on_done with JOB_CANCELLED (so its owner frees what it gave the job); then frees the
 * runner. job_runner_release does the same but leaves the workers running (a transaction
 * that must finish on its own after the screen quits). Not from inside a job callback. */
void job_runner_free(struct job_runner *jr);
void job_runner_release(struct job_runner *jr);
void job_runner_set_grace(struct job_runner *jr, unsigned grace_ms);
/* Jobs started and not yet done. */
size_t job_runner_count(const struct job_runner *jr);

/* Forks a worker running fn(ctx, fn_arg). fn_arg and everything it points to are the
 * child's copies (fork): the parent may free them once this returns. name is for messages
 * ("probe 3 upstreams"). Returns the job, or NULL with *cause (pipe or fork failed). */
struct job *job_start(struct job_runner *jr, const char *name, job_fn fn, void *fn_arg,
                      job_progress_cb on_progress, job_done_cb on_done, void *arg, char **cause);
/* SIGTERM to the worker's process group, SIGKILL after the grace time if it is still not
 * reaped; on_done then says JOB_CANCELLED. No effect on a finished job. */
void job_cancel(struct job *job);
pid_t job_pid(const struct job *job);
const char *job_name(const struct job *job);

/* Worker side. Each writes one frame (blocking in the child until the parent reads);
 * returns 0, or -1 when the parent is gone. */
int job_ctx_send(struct job_ctx *ctx, int kind, const void *data, size_t len);
int job_ctx_progress(struct job_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int job_ctx_result(struct job_ctx *ctx, const void *data, size_t len);
int job_ctx_error(struct job_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A progress function for model code taking "void (*)(void *, const char *)": arg is the ctx. */
void job_ctx_progress_cb(void *ctx, const char *msg);

/* The "run a program" job: argv[0] looked up in PATH, never a shell, stdin /dev/null; each
 * stdout / stderr line arrives as a JOB_REC_STDOUT / JOB_REC_STDERR record (a line longer
 * than 64 KiB in pieces). Killed after timeout_ms (0: no limit). The job is JOB_OK when the
 * program ran, whatever its exit status; read that with job_program_status. A program that
 * cannot be run makes the job fail ("cannot run nginx: No such file or directory"). */
struct job *job_run_program(struct job_runner *jr, char *const argv[], int timeout_ms,
                            job_progress_cb on_progress, job_done_cb on_done, void *arg,
                            char **cause);
/* Decodes a job_run_program result. Returns 0, or -1 when o carries none. */
int job_program_status(const struct job_outcome *o, struct spawn_result *res);

#endif
