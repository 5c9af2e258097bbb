/*
 * procenv.c — the one place that changes process-wide state: TZ, the SIGPIPE disposition
 * and the held signals of a transaction (see procenv.h for why each). Called by main.c
 * (procenv_init) and txn.c (hold/release); nothing else sets a disposition except the
 * event loop's own signal handlers, which a front end asks for.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "procenv.h"
#include "xmalloc.h"

void
procenv_init(void)
{
    struct sigaction ign;

    if (getenv("TZ") == NULL)
        setenv("TZ", ":/etc/localtime", 0);
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, NULL);
}

static const int held_signals[] = {SIGHUP, SIGINT, SIGTERM};
#define NHELD (sizeof(held_signals) / sizeof(held_signals[0]))
/* The one piece of state a signal handler needs. */
static volatile sig_atomic_t held_signal;

struct procenv_held {
    struct sigaction old[NHELD];
};

static void
note_signal(int sig)
{
    held_signal = sig;
}

struct procenv_held *
procenv_signals_hold(void)
{
    struct procenv_held *h = xcalloc(1, sizeof(*h));
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = note_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NHELD; i++)
        sigaction(held_signals[i], &sa, &h->old[i]);
    return h;
}

void
procenv_signals_release(struct procenv_held *h)
{
    int sig = held_signal;

    if (h == NULL)
        return;
    for (size_t i = 0; i < NHELD; i++)
        sigaction(held_signals[i], &h->old[i], NULL);
    free(h);
    held_signal = 0;
    if (sig != 0)
        raise(sig);
}

void
procenv_child_defaults(void)
{
    struct sigaction sa;
    sigset_t none;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int s = 1; s < NSIG; s++) {
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL); /* fails harmlessly for the libc-reserved ones */
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}
