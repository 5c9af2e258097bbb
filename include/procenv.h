/*
 * procenv.h — the process-wide state tlstriage changes, owned here and nowhere else: the
 * time zone named once (TZ), SIGPIPE ignored, and the signals a transaction holds while
 * files hold new bytes. main() calls procenv_init() once before any verb; a front end that
 * owns the terminal (the TUI) installs its own handlers after that and knows these are the
 * only other changes. Model modules (probe, tail, txn) change no disposition themselves.
 */
#ifndef TT_PROCENV_H
#define TT_PROCENV_H

#include <stdbool.h>

/*
 * Once, at start:
 *  - TZ: with TZ unset, glibc's mktime()/localtime() stat /etc/localtime on every call (to
 *    see whether it changed): 40% of the follow CPU at 100k lines/s. Naming the zone file
 *    once (TZ=:/etc/localtime, only when TZ is unset) keeps the same zone and drops the
 *    per-line stat. Programs run meanwhile (nginx) inherit it: the same zone.
 *  - SIGPIPE ignored: a peer that resets while a probe writes, or a reader of our output
 *    that goes away, shows as EPIPE from write(2) (nginx ignores SIGPIPE too). spawn.c
 *    restores the default in the programs it runs.
 */
void procenv_init(void);

/*
 * SIGHUP (a dropped SSH session), SIGINT and SIGTERM held: a handler notes the signal and
 * procenv_signals_release() restores the previous handlers and raises it again, once the
 * step in progress has left the files consistent. Handlers rather than a blocked mask, so
 * the programs run meanwhile (nginx -t, the reload) start with the default dispositions.
 * Used by txn.c from the first write to the end of the confirmation. Not nested.
 */
/* In a child between fork() and exec(): every signal back to its default disposition and
 * none blocked, so a SIGTERM sent to the child before it execs ends it (it would otherwise
 * run the parent's handler, which only notes the signal) and the program starts as its own
 * would. Async-signal-safe. */
void procenv_child_defaults(void);

struct procenv_held;
struct procenv_held *procenv_signals_hold(void);
void procenv_signals_release(struct procenv_held *h);

#endif
