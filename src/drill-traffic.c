/*
 * drill-traffic.c — a drill's traffic generator: a few requests a second to the front
 * nginx, round-robin over the scenario's requests, each a non-blocking connection on the
 * evloop, so the error log fills as in production. It runs as its own process (`tlstriage
 * drill --traffic D`, started detached by drill --detach and stopped by drill --down, or
 * when D's state file disappears). Prints nothing.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomicfile.h"
#include "drill.h"
#include "evloop.h"
#include "procenv.h"
#include "xmalloc.h"

#define MAX_CONNS 16

struct conn {
    int fd;
    char *req;
    size_t off;
    uint64_t started;
};

struct traffic {
    const struct drill_sandbox *sb;
    const struct drill_scenario *sc;
    struct evloop *loop;
    struct conn conns[MAX_CONNS];
    size_t next;
    char *state_file;
};

static void
conn_close(struct traffic *t, struct conn *c)
{
    evloop_fd_del(t->loop, c->fd);
    close(c->fd);
    free(c->req);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

static void
on_io(struct evloop *loop, int fd, short revents, void *arg)
{
    struct traffic *t = arg;
    struct conn *c = NULL;
    char buf[4096];

    (void)loop;
    for (size_t i = 0; i < MAX_CONNS; i++) {
        if (t->conns[i].fd == fd)
            c = &t->conns[i];
    }
    if (c == NULL)
        return;
    if (c->req != NULL && (revents & POLLOUT)) {
        ssize_t n = write(fd, c->req + c->off, strlen(c->req) - c->off);
        if (n < 0 && errno != EAGAIN) {
            conn_close(t, c);
            return;
        }
        if (n > 0)
            c->off += (size_t)n;
        if (c->off == strlen(c->req)) {
            free(c->req);
            c->req = NULL;
            evloop_fd_events(t->loop, fd, POLLIN);
        }
        return;
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EAGAIN))
            conn_close(t, c);
    }
}

static void
on_tick(struct evloop *loop, int id, void *arg)
{
    struct traffic *t = arg;
    const struct drill_request *r = &t->sc->traffic[t->next++ % t->sc->ntraffic];
    struct sockaddr_in a;
    struct conn *c = NULL;
    uint64_t now = evloop_now_ms();

    (void)id;
    for (size_t i = 0; i < MAX_CONNS; i++) {
        if (t->conns[i].fd >= 0 && now - t->conns[i].started > 10000)
            conn_close(t, &t->conns[i]); /* a stuck request */
        if (c == NULL && t->conns[i].fd < 0)
            c = &t->conns[i];
    }
    if (c == NULL)
        return;
    if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)t->sb->front_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return;
    }
    c->req = xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tlstriage-drill-traffic\r\n"
                       "Connection: close\r\n\r\n",
                       r->uri, r->host != NULL ? r->host : "localhost");
    c->off = 0;
    c->started = now;
    evloop_fd_add(loop, c->fd, POLLOUT, on_io, t);
}

static void
on_watch(struct evloop *loop, int id, void *arg)
{
    struct traffic *t = arg;

    (void)id;
    if (access(t->state_file, F_OK) != 0)
        evloop_stop(loop);
}

static void
on_signal(struct evloop *loop, int signo, void *arg)
{
    (void)signo;
    (void)arg;
    evloop_stop(loop);
}

int
drill_traffic_run(const struct drill_sandbox *sb, const struct drill_scenario *sc)
{
    struct traffic t;
    int rc;

    memset(&t, 0, sizeof(t));
    t.sb = sb;
    t.sc = sc;
    for (size_t i = 0; i < MAX_CONNS; i++)
        t.conns[i].fd = -1;
    t.state_file = xasprintf("%s/drill.state", sb->dir);
    if ((t.loop = evloop_new()) == NULL) {
        free(t.state_file);
        return -1;
    }
    evloop_signal_add(t.loop, SIGTERM, on_signal, &t);
    evloop_signal_add(t.loop, SIGINT, on_signal, &t);
    evloop_signal_add(t.loop, SIGHUP, on_signal, &t);
    evloop_timer_add(t.loop, 100, (uint64_t)(1000 / sc->rate), on_tick, &t);
    evloop_timer_add(t.loop, 1000, 1000, on_watch, &t);
    rc = evloop_run(t.loop);
    for (size_t i = 0; i < MAX_CONNS; i++) {
        if (t.conns[i].fd >= 0)
            conn_close(&t, &t.conns[i]);
    }
    evloop_free(t.loop);
    free(t.state_file);
    return rc;
}

int
drill_traffic_spawn(const struct drill_sandbox *sb, char **cause)
{
    char self[PATH_MAX], *pidf, pidtext[32];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    pid_t pid;

    if (len <= 0) {
        *cause = xasprintf("/proc/self/exe: %s", strerror(errno));
        return -1;
    }
    self[len] = '\0';
    if ((pid = fork()) < 0) {
        *cause = xasprintf("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        char *argv[] = {self, (char *)"drill", (char *)"--traffic", sb->dir, NULL};
        int fd = open("/dev/null", O_RDWR);
        if (fd < 0)
            _exit(127);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        setsid();
        procenv_child_defaults();
        execv(self, argv);
        _exit(127);
    }
    snprintf(pidtext, sizeof(pidtext), "%d\n", (int)pid);
    pidf = xasprintf("%s/run/traffic.pid", sb->dir);
    int rc = atomicfile_write(pidf, pidtext, strlen(pidtext), 0644, cause);
    free(pidf);
    return rc;
}
