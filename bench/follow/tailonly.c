/* tailonly.c — the follower alone (tail.c on evloop.c, no parsing or output): counts lines of
 * FILE until SIGINT and prints them, so run.sh can tell the follower's own CPU cost from the
 * parser's and the JSON writer's. Built by run.sh against the build tree's libtt.a. */
#include "config.h"

#include <signal.h>
#include <stdio.h>

#include "evloop.h"
#include "tail.h"

static void
count(const struct tail_line *l, void *arg)
{
    (void)l;
    ++*(unsigned long long *)arg;
}

static void
stop(struct evloop *loop, int signo, void *arg)
{
    (void)signo;
    (void)arg;
    evloop_stop(loop);
}

int
main(int argc, char **argv)
{
    struct evloop *loop = evloop_new();
    unsigned long long n = 0;
    struct tail *t = tail_new(loop, NULL, count, &n);
    char *cause = NULL;

    if (argc != 2 || tail_add(t, argv[1], &cause) < 0) {
        fprintf(stderr, "usage: tailonly FILE (%s)\n", cause != NULL ? cause : "");
        return 2;
    }
    evloop_signal_add(loop, SIGINT, stop, NULL);
    evloop_run(loop);
    tail_drain(t);
    printf("%llu\n", n);
    tail_free(t);
    evloop_free(loop);
    return 0;
}
