/*
 * fmt-txn.h — the renderers of transactions (fmt-txn.c). Text is sanitized for a terminal.
 */
#ifndef TT_FMT_TXN_H
#define TT_FMT_TXN_H

#include <stdio.h>

#include "txn.h"

/* Prints the outcome of txn_apply/txn_rollback/txn_complete (sanitized) to fp: on success
 * to the id, state, reload and watch; on failure "tlstriage: VERB: cause" and what is left. */
void fmt_txn_result_text(FILE *fp, const char *verb, int rc, const struct txn_result *res,
                         const char *cause);

#endif
