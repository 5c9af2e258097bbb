/*
 * evloop.c — owns the single poll() loop: the fd table, the timers and the self-pipe that turns
 * signals into callbacks. It knows nothing of what the fds are; the follower (tail.c), the
 * follow verb and later the TUI and the probes register on it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "xmalloc.h"

struct ev_fd {
    int fd;
    short events;
    evloop_fd_cb cb;
    void *arg;
    bool dead; /* unregistered during a dispatch; compacted after it */
};

struct ev_timer {
    int id;
    uint64_t due;
    uint64_t period;
    evloop_timer_cb cb;
    void *arg;
    bool dead;
};

#define EV_NSIG 65

struct ev_sig {
    evloop_signal_cb cb;
    void *arg;
    bool installed;
    struct sigaction old;
};

struct evloop {
    struct ev_fd *fds;
    size_t nfds, capfds;
    struct ev_timer *timers;
    size_t ntimers, captimers;
    int next_timer_id;
    struct pollfd *pfds;
    size_t cappfds;
    int sigpipe[2];
    struct ev_sig sigs[EV_NSIG];
    bool stop;
    bool dispatching;
};

/* The write end of the self-pipe for the signal handler (one loop per process owns it). */
static volatile sig_atomic_t sig_write_fd = -1;

uint64_t
evloop_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct evloop *
evloop_new(void)
{
    struct evloop *loop = xcalloc(1, sizeof(*loop));

    loop->sigpipe[0] = loop->sigpipe[1] = -1;
    loop->next_timer_id = 1;
    return loop;
}

void
evloop_free(struct evloop *loop)
{
    if (loop == NULL)
        return;
    for (int s = 1; s < EV_NSIG; s++) {
        if (loop->sigs[s].installed)
            sigaction(s, &loop->sigs[s].old, NULL);
    }
    if (loop->sigpipe[1] >= 0) {
        if (sig_write_fd == loop->sigpipe[1])
            sig_write_fd = -1;
        close(loop->sigpipe[0]);
        close(loop->sigpipe[1]);
    }
    free(loop->fds);
    free(loop->timers);
    free(loop->pfds);
    free(loop);
}

static struct ev_fd *
fd_find(struct evloop *loop, int fd)
{
    for (size_t i = 0; i < loop->nfds; i++) {
        if (loop->fds[i].fd == fd && !loop->fds[i].dead)
            return &loop->fds[i];
    }
    return NULL;
}

int
evloop_fd_add(struct evloop *loop, int fd, short events, evloop_fd_cb cb, void *arg)
{
    struct ev_fd *e;

    if (fd < 0)
        return -1;
    e = fd_find(loop, fd);
    if (e == NULL) {
        if (loop->nfds == loop->capfds) {
            loop->capfds = loop->capfds ? loop->capfds * 2 : 8;
            loop->fds = xreallocarray(loop->fds, loop->capfds, sizeof(*loop->fds));
        }
        e = &loop->fds[loop->nfds++];
    }
    e->fd = fd;
    e->events = events;
    e->cb = cb;
    e->arg = arg;
    e->dead = false;
    return 0;
}

int
evloop_fd_events(struct evloop *loop, int fd, short events)
{
    struct ev_fd *e = fd_find(loop, fd);

    if (e == NULL)
        return -1;
    e->events = events;
    return 0;
}

int
evloop_fd_del(struct evloop *loop, int fd)
{
    struct ev_fd *e = fd_find(loop, fd);

    if (e == NULL)
        return -1;
    e->dead = true;
    return 0;
}

int
evloop_timer_add(struct evloop *loop, uint64_t delay_ms, uint64_t period_ms, evloop_timer_cb cb,
                 void *arg)
{
    struct ev_timer *t;

    if (loop->ntimers == loop->captimers) {
        loop->captimers = loop->captimers ? loop->captimers * 2 : 8;
        loop->timers = xreallocarray(loop->timers, loop->captimers, sizeof(*loop->timers));
    }
    t = &loop->timers[loop->ntimers++];
    t->id = loop->next_timer_id++;
    if (loop->next_timer_id <= 0)
        loop->next_timer_id = 1;
    t->due = evloop_now_ms() + delay_ms;
    t->period = period_ms;
    t->cb = cb;
    t->arg = arg;
    t->dead = false;
    return t->id;
}

int
evloop_timer_del(struct evloop *loop, int id)
{
    for (size_t i = 0; i < loop->ntimers; i++) {
        if (loop->timers[i].id == id && !loop->timers[i].dead) {
            loop->timers[i].dead = true;
            return 0;
        }
    }
    return -1;
}

static void
sig_handler(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    int fd = sig_write_fd;

    if (fd >= 0) {
        ssize_t r = write(fd, &b, 1); /* a full pipe loses nothing useful: the loop wakes */
        (void)r;
    }
    errno = saved;
}

static void
sig_pipe_ready(struct evloop *loop, int fd, short revents, void *arg)
{
    unsigned char b[64];
    ssize_t n;

    (void)revents;
    (void)arg;
    while ((n = read(fd, b, sizeof(b))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            struct ev_sig *s = b[i] < EV_NSIG ? &loop->sigs[b[i]] : NULL;
            if (s != NULL && s->cb != NULL)
                s->cb(loop, b[i], s->arg);
        }
    }
}

static int
set_cloexec_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int
evloop_signal_add(struct evloop *loop, int signo, evloop_signal_cb cb, void *arg)
{
    struct sigaction sa;

    if (signo <= 0 || signo >= EV_NSIG) {
        errno = EINVAL;
        return -1;
    }
    if (loop->sigpipe[0] < 0) {
        if (pipe(loop->sigpipe) < 0)
            return -1;
        if (set_cloexec_nonblock(loop->sigpipe[0]) < 0 ||
            set_cloexec_nonblock(loop->sigpipe[1]) < 0)
            return -1;
        sig_write_fd = loop->sigpipe[1];
        evloop_fd_add(loop, loop->sigpipe[0], POLLIN, sig_pipe_ready, NULL);
    }
    loop->sigs[signo].cb = cb;
    loop->sigs[signo].arg = arg;
    if (!loop->sigs[signo].installed) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = sig_handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (sigaction(signo, &sa, &loop->sigs[signo].old) < 0)
            return -1;
        loop->sigs[signo].installed = true;
    }
    return 0;
}

static void
compact(struct evloop *loop)
{
    size_t j = 0;

    for (size_t i = 0; i < loop->nfds; i++) {
        if (!loop->fds[i].dead)
            loop->fds[j++] = loop->fds[i];
    }
    loop->nfds = j;
    j = 0;
    for (size_t i = 0; i < loop->ntimers; i++) {
        if (!loop->timers[i].dead)
            loop->timers[j++] = loop->timers[i];
    }
    loop->ntimers = j;
}

/* Milliseconds until the earliest timer, capped to max_wait_ms (-1: no cap). */
static int
poll_timeout(struct evloop *loop, int max_wait_ms, uint64_t now)
{
    int64_t best = max_wait_ms;

    for (size_t i = 0; i < loop->ntimers; i++) {
        int64_t d;
        if (loop->timers[i].dead)
            continue;
        d = loop->timers[i].due > now ? (int64_t)(loop->timers[i].due - now) : 0;
        if (best < 0 || d < best)
            best = d;
    }
    if (best > 24 * 3600 * 1000)
        best = 24 * 3600 * 1000;
    return (int)best;
}

static int
run_timers(struct evloop *loop)
{
    uint64_t now = evloop_now_ms();
    size_t n = loop->ntimers; /* timers added by callbacks wait for the next pass */
    int ran = 0;

    for (size_t i = 0; i < n; i++) {
        struct ev_timer *t = &loop->timers[i];
        evloop_timer_cb cb;
        void *arg;
        int id;
        if (t->dead || t->due > now)
            continue;
        cb = t->cb;
        arg = t->arg;
        id = t->id;
        if (t->period > 0) {
            t->due += t->period;
            if (t->due <= now) /* fell behind (suspend, slow pass): no catch-up burst */
                t->due = now + t->period;
        } else {
            t->dead = true;
        }
        cb(loop, id, arg); /* may grow loop->timers: t is not used after this */
        ran++;
    }
    return ran;
}

int
evloop_run_once(struct evloop *loop, int max_wait_ms)
{
    size_t n = 0;
    int timeout, rc, ran = 0;

    compact(loop);
    if (loop->cappfds < loop->nfds) {
        loop->cappfds = loop->nfds;
        loop->pfds = xreallocarray(loop->pfds, loop->cappfds, sizeof(*loop->pfds));
    }
    for (size_t i = 0; i < loop->nfds; i++) {
        loop->pfds[n].fd = loop->fds[i].events != 0 ? loop->fds[i].fd : -1;
        loop->pfds[n].events = loop->fds[i].events;
        loop->pfds[n].revents = 0;
        n++;
    }
    timeout = poll_timeout(loop, max_wait_ms, evloop_now_ms());
    rc = poll(loop->pfds, (nfds_t)n, timeout);
    if (rc < 0 && errno != EINTR)
        return -1;
    loop->dispatching = true;
    for (size_t i = 0; rc > 0 && i < n; i++) {
        struct ev_fd *e;
        if (loop->pfds[i].revents == 0)
            continue;
        e = fd_find(loop, loop->pfds[i].fd);
        if (e == NULL) /* unregistered by an earlier callback of this pass */
            continue;
        e->cb(loop, e->fd, loop->pfds[i].revents, e->arg);
        ran++;
    }
    ran += run_timers(loop);
    loop->dispatching = false;
    compact(loop);
    return ran;
}

int
evloop_run(struct evloop *loop)
{
    while (!loop->stop) {
        if (evloop_run_once(loop, -1) < 0)
            return -1;
    }
    return 0;
}

void
evloop_stop(struct evloop *loop)
{
    loop->stop = true;
}

bool
evloop_stopped(const struct evloop *loop)
{
    return loop->stop;
}
