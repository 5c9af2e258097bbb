/*
 * txn-wire.h — the job form of a transaction (txn_apply, txn_rollback, txn_complete): a forked
 * worker runs it and reports each step as it starts and ends; the parent gets the outcome
 * (return code, cause, struct txn_result) without blocking. The transaction itself is txn.c's;
 * this only carries it over the job's pipe. For the TUI's fix wizard and History rollback.
 */
#ifndef TT_TXN_WIRE_H
#define TT_TXN_WIRE_H

#include <stddef.h>

#include "txn.h"

struct job;
struct job_outcome;
struct job_runner;

enum txn_wire_op {
    TXN_WIRE_APPLY,
    TXN_WIRE_ROLLBACK,
    TXN_WIRE_COMPLETE,
};

struct txn_job_cbs {
    /* A step started (done 0) or ended (1 ok, -1 failed); msg raw (sanitize to show). */
    void (*step)(enum txn_step step, int done, const char *msg, void *arg);
    /* rc as txn_apply returns it (TXN_ERR when the worker died: cause says how); res and
     * cause belong to the callee (txn_result_free, free). */
    void (*done)(int rc, struct txn_result *res, char *cause, void *arg);
    void *arg;
};

/* Starts a worker running op: for APPLY the changes ch[0..n) under o (o->verify is run in
 * the worker); for ROLLBACK / COMPLETE the transaction id (NULL for rollback: the newest).
 * o->progress is replaced by step records. Everything is the child's copy. Returns the job,
 * or NULL with *cause. */
struct job *txn_wire_job_start(struct job_runner *jr, enum txn_wire_op op, const struct txn_opts *o,
                               const struct txn_change *ch, size_t n, const char *id,
                               const struct txn_job_cbs *cbs, char **cause);

#endif
