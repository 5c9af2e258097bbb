/*
 * cli-txn.h — front-end helpers for the verbs that run or report transactions (rollback,
 * history, fix): the unfinished-transaction report every such verb prints at start, the
 * y/N question, the progress printer and txn options built from struct app.
 * Implemented in src/cli-rollback.c.
 */
#ifndef TT_CLI_ROLLBACK_H
#define TT_CLI_ROLLBACK_H

#include <stdbool.h>
#include <stdio.h>

#include "app.h"
#include "txn.h"

/* Prints one paragraph per unfinished transaction in the state dir to fp, saying how far
 * it got and the two commands that finish or undo it. Returns how many there are. */
int cli_rollback_report_pending(struct app *app, FILE *fp);

/* Asks QUESTION [y/N] on the terminal. Returns 1 for yes, 0 for no; with yes already
 * given returns 1 without asking; without a terminal prints "VERB: no terminal to ask
 * on: pass --yes" and returns -1 (the verb then exits 2). */
int cli_rollback_confirm(const char *verb, const char *question, bool yes);

/* Progress callback for txn_opts: one line per step on stderr ("  nginx -t ... ok"). */
void cli_rollback_progress(void *arg, enum txn_step step, int done, const char *msg);

/* Fills o from the global options: state dir, nginx binary, -c (only when --conf was
 * given, else NULL so rollback reuses the journal's), -p; reload_cmd as given. */
void cli_rollback_txn_opts(struct app *app, struct txn_opts *o, const char *reload_cmd);

#endif
