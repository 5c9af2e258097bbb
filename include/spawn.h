/*
 * spawn.h — run a program from an argv array (never a shell), capture its output, with
 * a time limit. Used for nginx -V / -t / -s reload and other helpers.
 */
#ifndef TT_SPAWN_H
#define TT_SPAWN_H

struct buf;

struct spawn_result {
    int exited;    /* 1 if the program exited normally */
    int status;    /* its exit status when exited, else the signal number */
    int timed_out; /* 1 if it was killed after timeout_ms */
};

/*
 * Runs argv[0] (looked up in PATH) with argv, stdin from /dev/null, stdout and stderr
 * both appended to *out (if out is not NULL). Kills it after timeout_ms (0: no limit).
 * Returns 0 when it could be run (whatever its exit status), -1 with *cause otherwise.
 */
int spawn_run(char *const argv[], struct buf *out, int timeout_ms, struct spawn_result *res,
              char **cause);

#endif
