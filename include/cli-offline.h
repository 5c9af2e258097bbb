/*
 * cli-offline.h — `fix --block` (and the reading `check --block` shares): the offline
 * fast path's options, output (text, JSON) and exit codes; the model is offline.c.
 */
#ifndef TT_CLI_OFFLINE_H
#define TT_CLI_OFFLINE_H

#include "cli.h"
#include "remedy.h"

struct app;
struct offline_block;

struct cli_offline_args {
    const char *block;      /* FILE or "-" */
    const char *peer_chain; /* FILE or NULL */
    const char *log_line;   /* TEXT or NULL */
    enum cli_format fmt;
};

/* Reads --block into *b; on error prints "tlstriage: VERB: file:line: why" and returns
 * EXIT_USAGE, else 0. */
int cli_offline_load(const char *verb, const char *block, struct offline_block *b);

/* fix --block: plans offline and prints the corrected block and its diff. ro carries
 * --ca, --client-cert/--client-key, --strategy, --cert-dir. Exit 0: nothing fails or a
 * verified fix for each failing use; 1: a use fails with no verified fix (or nothing could be
 * judged); 2: input or usage error. */
int cli_fix_offline(struct app *app, const char *verb, const struct cli_offline_args *a,
                    struct remedy_opts *ro);

#endif
