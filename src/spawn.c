/*
 * spawn.c — runs external programs (nginx, systemctl) from argv arrays with fork/execvp,
 * collecting their combined output through a pipe under poll() with a deadline. No shell
 * is ever involved, so text from logs, certificates or configs cannot become a command.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "evloop.h"
#include "procenv.h"
#include "spawn.h"
#include "xmalloc.h"

int
spawn_run(char *const argv[], struct buf *out, int timeout_ms, struct spawn_result *res,
          char **cause)
{
    int pfd[2] = {-1, -1};
    int errpipe[2] = {-1, -1};
    pid_t pid;
    int rc = -1, st = 0, child_errno = 0;
    long long deadline = timeout_ms > 0 ? (long long)evloop_now_ms() + timeout_ms : 0;
    char chunk[4096];

    memset(res, 0, sizeof(*res));
    if (pipe2(pfd, O_CLOEXEC) == -1 || pipe2(errpipe, O_CLOEXEC) == -1) {
        *cause = xasprintf("cannot run %s: pipe: %s", argv[0], strerror(errno));
        goto out;
    }
    if ((pid = fork()) == -1) {
        *cause = xasprintf("cannot run %s: fork: %s", argv[0], strerror(errno));
        goto out;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull != -1)
            dup2(devnull, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        setpgid(0, 0);
        /* SIGPIPE is ignored in tlstriage (procenv.c); the program gets the defaults. */
        procenv_child_defaults();
        execvp(argv[0], argv);
        child_errno = errno;
        (void)!write(errpipe[1], &child_errno, sizeof(child_errno));
        _exit(127);
    }
    close(pfd[1]);
    pfd[1] = -1;
    close(errpipe[1]);
    errpipe[1] = -1;

    for (;;) {
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int wait_ms = -1;
        if (deadline != 0) {
            long long left = deadline - (long long)evloop_now_ms();
            if (left <= 0) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                res->timed_out = 1;
                break;
            }
            wait_ms = (int)left;
        }
        int n = poll(&p, 1, wait_ms);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            continue;
        ssize_t r = read(pfd[0], chunk, sizeof(chunk));
        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (out != NULL)
            buf_add(out, chunk, (size_t)r);
    }
    while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
        ;
    if (read(errpipe[0], &child_errno, sizeof(child_errno)) == (ssize_t)sizeof(child_errno)) {
        *cause = xasprintf("cannot run %s: %s", argv[0], strerror(child_errno));
        goto out;
    }
    if (WIFEXITED(st)) {
        res->exited = 1;
        res->status = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        res->status = WTERMSIG(st);
    }
    rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (pfd[i] != -1)
            close(pfd[i]);
        if (errpipe[i] != -1)
            close(errpipe[i]);
    }
    return rc;
}
