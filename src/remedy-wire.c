/*
 * remedy-wire.c — owns the wire form of struct remedy_case and the remedy job: a worker runs
 * remedy_plan and sends its progress and the planned case; the parent decodes the case and
 * re-derives the fields that borrow from the config tree from its own parsed config. Plans
 * nothing itself (remedy.c). For the TUI (detail screen, fix wizard); nothing calls it yet.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "job.h"
#include "probe-wire.h"
#include "remedy-wire.h"
#include "resolve.h"
#include "wire.h"
#include "xmalloc.h"

static void
put_fix(struct buf *b, const struct remedy_fix *f)
{
    wire_put_str(b, f->id);
    wire_put_u32(b, f->strategies);
    wire_put_str(b, f->summary);
    wire_put_bool(b, f->verified);
    wire_put_str(b, f->verdict_note);
    wire_put_u32(b, (uint32_t)f->nsets);
    for (size_t i = 0; i < f->nsets; i++) {
        wire_put_u32(b, f->sets[i].key);
        wire_put_str(b, f->sets[i].value);
        wire_put_str(b, f->sets[i].note);
        wire_put_str(b, f->sets[i].block_label);
    }
    wire_put_u32(b, (uint32_t)f->nfiles);
    for (size_t i = 0; i < f->nfiles; i++) {
        wire_put_str(b, f->files[i].path);
        wire_put_bool(b, f->files[i].data != NULL);
        if (f->files[i].data != NULL)
            wire_put_bytes(b, f->files[i].data, f->files[i].len);
        wire_put_u32(b, f->files[i].mode);
        wire_put_bool(b, f->files[i].config);
    }
    wire_put_str(b, f->diff);
    wire_put_bool(b, f->sha256 != NULL);
    if (f->sha256 != NULL) {
        for (size_t i = 0; i < f->nfiles; i++)
            wire_put_bytes(b, f->sha256[i], sizeof(f->sha256[i]));
    }
    /* the blast radius */
    wire_put_str(b, f->diff_root);
    wire_put_bool(b, f->radius_whole);
    wire_put_u32(b, f->family);
    wire_put_u32(b, (uint32_t)f->naffected);
    for (size_t i = 0; i < f->naffected; i++) {
        const struct remedy_affected *a = &f->affected[i];
        wire_put_str(b, a->context);
        wire_put_str(b, a->file);
        wire_put_u32(b, a->line);
        wire_put_str(b, a->upstream);
        wire_put_str(b, a->changed);
        wire_put_bool(b, a->target);
        wire_put_bool(b, a->probed);
        wire_put_i64(b, a->before);
        wire_put_i64(b, a->after);
        wire_put_str(b, a->before_message);
        wire_put_str(b, a->after_message);
    }
}

static void
get_fix(struct wire_rd *rd, struct remedy_fix *f)
{
    memset(f, 0, sizeof(*f));
    f->id = wire_get_str(rd);
    f->strategies = wire_get_u32(rd);
    f->summary = wire_get_str(rd);
    f->verified = wire_get_bool(rd);
    f->verdict_note = wire_get_str(rd);
    f->nsets = wire_get_count(rd, 12);
    if (f->nsets > 0)
        f->sets = xcalloc(f->nsets, sizeof(*f->sets));
    for (size_t i = 0; i < f->nsets; i++) {
        uint32_t k = wire_get_u32(rd);
        if (k >= PSS__COUNT)
            rd->bad = true;
        f->sets[i].key = k < PSS__COUNT ? (enum pss)k : PSS_VERIFY;
        f->sets[i].value = wire_get_str(rd);
        f->sets[i].note = wire_get_str(rd);
        f->sets[i].block_label = wire_get_str(rd);
    }
    f->nfiles = wire_get_count(rd, 10);
    if (f->nfiles > 0)
        f->files = xcalloc(f->nfiles, sizeof(*f->files));
    for (size_t i = 0; i < f->nfiles; i++) {
        f->files[i].path = wire_get_str(rd);
        if (wire_get_bool(rd))
            f->files[i].data = wire_get_bytes(rd, &f->files[i].len);
        f->files[i].mode = (mode_t)wire_get_u32(rd);
        f->files[i].config = wire_get_bool(rd);
    }
    f->diff = wire_get_str(rd);
    if (wire_get_bool(rd)) {
        f->sha256 = xcalloc(f->nfiles > 0 ? f->nfiles : 1, sizeof(*f->sha256));
        for (size_t i = 0; i < f->nfiles; i++)
            wire_get_fixed(rd, f->sha256[i], sizeof(f->sha256[i]));
    }
    f->diff_root = wire_get_str(rd);
    f->radius_whole = wire_get_bool(rd);
    uint32_t fam = wire_get_u32(rd);
    if (fam >= PSS_FAM__COUNT)
        rd->bad = true;
    f->family = fam < PSS_FAM__COUNT ? (enum pss_family)fam : PSS_FAM_PROXY;
    f->naffected = wire_get_count(rd, 20);
    if (f->naffected > 0)
        f->affected = xcalloc(f->naffected, sizeof(*f->affected));
    for (size_t i = 0; i < f->naffected; i++) {
        struct remedy_affected *a = &f->affected[i];
        a->context = wire_get_str(rd);
        a->file = wire_get_str(rd);
        a->line = wire_get_u32(rd);
        a->upstream = wire_get_str(rd);
        a->changed = wire_get_str(rd);
        a->target = wire_get_bool(rd);
        a->probed = wire_get_bool(rd);
        int64_t before = wire_get_i64(rd), after = wire_get_i64(rd);
        if (before < PROBE_NOT_TRIED || before > PROBE_CONFIG_ERROR || after < PROBE_NOT_TRIED ||
            after > PROBE_CONFIG_ERROR)
            rd->bad = true;
        a->before = rd->bad ? PROBE_NOT_TRIED : (enum probe_verdict)before;
        a->after = rd->bad ? PROBE_NOT_TRIED : (enum probe_verdict)after;
        a->before_message = wire_get_str(rd);
        a->after_message = wire_get_str(rd);
    }
}

void
remedy_wire_put(struct buf *b, const struct remedy_case *c)
{
    wire_put_str(b, c->upstream);
    wire_put_str(b, c->host);
    wire_put_i64(b, c->port);
    wire_put_str(b, c->context);
    wire_put_str(b, c->file);
    wire_put_u32(b, c->line);
    wire_put_str(b, c->block_name);
    probe_wire_put(b, &c->probe);
    wire_put_bool(b, c->verification_disabled);
    wire_put_str(b, c->cause);
    wire_put_u32(b, (uint32_t)c->nfixes);
    for (size_t i = 0; i < c->nfixes; i++)
        put_fix(b, &c->fixes[i]);
}

int
remedy_wire_get(struct wire_rd *rd, const struct ngxconf *conf, struct remedy_case *c, char **cause)
{
    char *file = NULL, *block_name = NULL;
    const struct ngx_node *block;
    int rc = -1;

    memset(c, 0, sizeof(*c));
    c->upstream = wire_get_str(rd);
    c->host = wire_get_str(rd);
    c->port = (int)wire_get_i64(rd);
    c->context = wire_get_str(rd);
    file = wire_get_str(rd);
    c->line = wire_get_u32(rd);
    block_name = wire_get_str(rd);
    if (rd->bad || probe_wire_get(rd, &c->probe) != 0) {
        rd->bad = true;
        goto bad;
    }
    c->verification_disabled = wire_get_bool(rd);
    c->cause = wire_get_str(rd);
    c->nfixes = wire_get_count(rd, 30); /* the smallest encoded fix */
    if (c->nfixes > 0)
        c->fixes = xcalloc(c->nfixes, sizeof(*c->fixes));
    for (size_t i = 0; i < c->nfixes; i++)
        get_fix(rd, &c->fixes[i]);
    if (rd->bad || file == NULL || block_name == NULL)
        goto bad;
    block = remedy_find_block(conf, file, c->line, block_name);
    if (block == NULL) {
        *cause = xasprintf("%s:%u: the %s block of the planned case is not in the config", file,
                           c->line, block_name);
        goto out;
    }
    c->file = block->file->path;
    c->block_name = block->name;
    resolve_settings(block, &c->effective);
    rc = 0;
    goto out;
bad:
    *cause = xstrdup("a remedy case record does not decode");
out:
    free(file);
    free(block_name);
    if (rc != 0)
        remedy_case_free(c);
    return rc;
}

/* ---- the remedy job ---- */

struct remedy_work {
    const struct ngxconf *conf;
    const struct tls_use *use;
    size_t ti;
    struct remedy_opts o;
};

static int
remedy_worker(struct job_ctx *ctx, void *arg)
{
    struct remedy_work *rw = arg;
    struct remedy_case c;
    struct buf b = BUF_INIT;
    char *cause = NULL;

    rw->o.progress = job_ctx_progress_cb;
    rw->o.progress_arg = ctx;
    if (remedy_plan(rw->conf, rw->use, rw->ti, &rw->o, &c, &cause) != 0) {
        job_ctx_error(ctx, "%s", cause);
        free(cause);
        return 1;
    }
    remedy_wire_put(&b, &c);
    job_ctx_result(ctx, b.p, b.len);
    buf_free(&b);
    remedy_case_free(&c);
    return 0;
}

struct remedy_job {
    struct remedy_job_cbs cbs;
    const struct ngxconf *conf;
};

static void
remedy_job_progress(struct job *job, int kind, const void *data, size_t len, void *arg)
{
    struct remedy_job *rj = arg;

    (void)job;
    (void)len;
    if (kind == JOB_REC_TEXT && rj->cbs.progress != NULL)
        rj->cbs.progress(data, rj->cbs.arg);
}

static void
remedy_job_done(struct job *job, const struct job_outcome *o, void *arg)
{
    struct remedy_job *rj = arg;
    struct job_outcome out = *o;
    struct remedy_case *c = NULL;
    char *cause = NULL, *err = NULL;

    if (o->status == JOB_OK) {
        struct wire_rd rd;
        c = xcalloc(1, sizeof(*c));
        wire_rd_init(&rd, o->result, o->result_len);
        if (remedy_wire_get(&rd, rj->conf, c, &cause) == 0 && !wire_rd_done(&rd))
            cause = xstrdup("trailing bytes after the case");
        if (cause != NULL) {
            remedy_case_free(c); /* safe on the emptied case of a failed decode */
            free(c);
            c = NULL;
            err = xasprintf("%s: %s", job_name(job), cause);
            out.status = JOB_FAILED;
            out.error = err;
        }
    }
    if (rj->cbs.done != NULL) {
        rj->cbs.done(c, &out, rj->cbs.arg);
    } else if (c != NULL) {
        remedy_case_free(c);
        free(c);
    }
    free(cause);
    free(err);
    free(rj);
}

struct job *
remedy_wire_job_start(struct job_runner *jr, const struct ngxconf *conf, const struct tls_use *use,
                      size_t ti, const struct remedy_opts *o, const struct remedy_job_cbs *cbs,
                      char **cause)
{
    struct remedy_work rw = {conf, use, ti, *o};
    struct remedy_job *rj = xcalloc(1, sizeof(*rj));
    char *name = xasprintf("plan %s", use->context != NULL ? use->context : "a fix");
    struct job *j;

    rj->cbs = *cbs;
    rj->conf = conf;
    j = job_start(jr, name, remedy_worker, &rw, remedy_job_progress, remedy_job_done, rj, cause);
    free(name);
    if (j == NULL)
        free(rj);
    return j;
}
