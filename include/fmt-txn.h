/*
 * fmt-txn.h — the renderers of transactions (fmt-txn.c): an outcome, and the journal listing.
 * Text is sanitized for a terminal; JSON is valid for any bytes.
 */
#ifndef TT_FMT_TXN_H
#define TT_FMT_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "txn.h"

/* Prints the outcome of txn_apply/txn_rollback/txn_complete (sanitized) to fp: on success
 * to the id, state, reload and watch; on failure "tlstriage: VERB: cause" and what is left. */
void fmt_txn_result_text(FILE *fp, const char *verb, int rc, const struct txn_result *res,
                         const char *cause);

/* The journal listing (txn_list order, newest first) as the history verb shows it: a table,
 * or {"transactions": [...]}; with_diff adds each transaction's diff. */
void fmt_txn_history_text(FILE *fp, const struct txn_info *v, size_t n, bool with_diff);
void fmt_txn_history_json(FILE *fp, const struct txn_info *v, size_t n, bool with_diff);

#endif
