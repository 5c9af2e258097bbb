/*
 * txn-wire.c — owns the job form of a transaction (include/txn-wire.h): the worker runs
 * txn_apply / txn_rollback / txn_complete and sends every step as a record and the outcome as
 * the result; the parent decodes them. txn.c decides and journals; this only carries. Called
 * by the TUI (ui-fix.c, ui-history.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "job.h"
#include "txn-wire.h"
#include "wire.h"
#include "xmalloc.h"

#define TXN_WIRE_STEP (JOB_REC_USER + 3) /* {u32 step, u8 done+1, str msg} */

struct txn_worker {
    enum txn_wire_op op;
    struct txn_opts o;
    const struct txn_change *ch;
    size_t n;
    const char *id;
};

struct txn_job {
    struct txn_job_cbs cbs;
};

static void
worker_step(void *arg, enum txn_step step, int done, const char *msg)
{
    struct job_ctx *ctx = arg;
    struct buf b = BUF_INIT;

    wire_put_u32(&b, (uint32_t)step);
    wire_put_u8(&b, (unsigned)(done + 1));
    wire_put_str(&b, msg);
    job_ctx_send(ctx, TXN_WIRE_STEP, b.p, b.len);
    buf_free(&b);
}

static int
txn_worker_run(struct job_ctx *ctx, void *arg)
{
    struct txn_worker *w = arg;
    struct txn_result res;
    struct buf b = BUF_INIT;
    char *cause = NULL;
    int rc;

    memset(&res, 0, sizeof(res));
    w->o.progress = worker_step;
    w->o.progress_arg = ctx;
    if (w->op == TXN_WIRE_APPLY)
        rc = txn_apply(&w->o, w->ch, w->n, &res, &cause);
    else if (w->op == TXN_WIRE_ROLLBACK)
        rc = txn_rollback(&w->o, w->id, &res, &cause);
    else
        rc = txn_complete(&w->o, w->id, &res, &cause);
    wire_put_i64(&b, rc);
    wire_put_str(&b, cause);
    wire_put_str(&b, res.id);
    wire_put_u32(&b, (uint32_t)res.state);
    wire_put_str(&b, res.diff);
    wire_put_str(&b, res.nginx_output);
    wire_put_bool(&b, res.reloaded);
    wire_put_bool(&b, res.confirmed);
    wire_put_str(&b, res.note);
    wire_put_i64(&b, res.watch_failures);
    wire_put_str(&b, res.watch_first);
    job_ctx_result(ctx, b.p, b.len);
    buf_free(&b);
    txn_result_free(&res);
    free(cause);
    return 0;
}

static void
txn_job_progress(struct job *job, int kind, const void *data, size_t len, void *arg)
{
    struct txn_job *tj = arg;
    struct wire_rd rd;

    (void)job;
    if (kind != TXN_WIRE_STEP || tj->cbs.step == NULL)
        return;
    wire_rd_init(&rd, data, len);
    uint32_t step = wire_get_u32(&rd);
    int done = (int)wire_get_u8(&rd) - 1;
    char *msg = wire_get_str(&rd);
    if (!rd.bad)
        tj->cbs.step((enum txn_step)step, done, msg, tj->cbs.arg);
    free(msg);
}

static void
txn_job_done(struct job *job, const struct job_outcome *o, void *arg)
{
    struct txn_job *tj = arg;
    struct txn_result *res = xcalloc(1, sizeof(*res));
    char *cause = NULL;
    int rc = TXN_ERR;

    (void)job;
    if (o->status == JOB_OK && o->result != NULL) {
        struct wire_rd rd;
        wire_rd_init(&rd, o->result, o->result_len);
        rc = (int)wire_get_i64(&rd);
        cause = wire_get_str(&rd);
        res->id = wire_get_str(&rd);
        res->state = (enum txn_state)wire_get_u32(&rd);
        res->diff = wire_get_str(&rd);
        res->nginx_output = wire_get_str(&rd);
        res->reloaded = wire_get_bool(&rd);
        res->confirmed = wire_get_bool(&rd);
        res->note = wire_get_str(&rd);
        res->watch_failures = (int)wire_get_i64(&rd);
        res->watch_first = wire_get_str(&rd);
        if (!wire_rd_done(&rd)) {
            rc = TXN_ERR;
            free(cause);
            cause = xstrdup("the transaction's worker sent a malformed outcome (see history)");
        }
    } else
        cause = xasprintf("the transaction's worker ended early: %s (see history; the journal "
                          "says where it stopped)",
                          o->error != NULL ? o->error : "no outcome");
    tj->cbs.done(rc, res, cause, tj->cbs.arg);
    free(tj);
}

struct job *
txn_wire_job_start(struct job_runner *jr, enum txn_wire_op op, const struct txn_opts *o,
                   const struct txn_change *ch, size_t n, const char *id,
                   const struct txn_job_cbs *cbs, char **cause)
{
    struct txn_worker w;
    struct txn_job *tj = xcalloc(1, sizeof(*tj));
    struct job *j;

    w.op = op;
    w.o = *o;
    w.ch = ch;
    w.n = n;
    w.id = id;
    tj->cbs = *cbs;
    j = job_start(jr,
                  op == TXN_WIRE_APPLY      ? "apply"
                  : op == TXN_WIRE_ROLLBACK ? "rollback"
                                            : "complete",
                  txn_worker_run, &w, txn_job_progress, txn_job_done, tj, cause);
    if (j == NULL)
        free(tj);
    return j;
}
