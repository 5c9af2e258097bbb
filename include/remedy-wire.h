/*
 * remedy-wire.h — struct remedy_case over a job's pipe, and the job form of remedy_plan: the
 * worker plans (probing each candidate, reporting "probing candidate 3 of at most 24: pin+name"),
 * the parent receives the planned case without blocking.
 */
#ifndef TT_REMEDY_WIRE_H
#define TT_REMEDY_WIRE_H

#include <stddef.h>

#include "remedy.h"

struct buf;
struct job;
struct job_outcome;
struct job_runner;
struct wire_rd;

/* Appends c: every owned field (fixes, sets, files, diff, sha256, summary, probe result),
 * and file, line and block_name to find the block again. */
void remedy_wire_put(struct buf *b, const struct remedy_case *c);
/*
 * Reads a case into *c (free with remedy_case_free). The borrowed fields are re-derived from
 * the parent's own parsed conf: the block is found by file, line and block_name
 * (remedy_find_block); c->file and c->block_name then point into conf, and c->effective is
 * resolve_settings() of that block — so conf must outlive c, as with remedy_plan. Returns 0,
 * or -1 with *cause (malformed bytes, or the block is not in conf).
 */
int remedy_wire_get(struct wire_rd *rd, const struct ngxconf *conf, struct remedy_case *c,
                    char **cause);

struct remedy_job_cbs {
    void (*progress)(const char *msg, void *arg); /* raw config bytes: sanitize to show */
    /* c (NULL unless o->status is JOB_OK) belongs to the callee: remedy_case_free + free. */
    void (*done)(struct remedy_case *c, const struct job_outcome *o, void *arg);
    void *arg;
};

/* Starts a worker running remedy_plan(conf, use, ti, o) with o->progress sent as progress
 * records (o's own progress is not called). conf, use and o are the child's copies; conf
 * must stay alive in the parent until done (the case is decoded against it). */
struct job *remedy_wire_job_start(struct job_runner *jr, const struct ngxconf *conf,
                                  const struct tls_use *use, size_t ti, const struct remedy_opts *o,
                                  const struct remedy_job_cbs *cbs, char **cause);

#endif
