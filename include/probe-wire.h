/*
 * probe-wire.h — struct probe_result over a job's pipe, and the job form of probe_run_many:
 * the worker probes, the parent gets every result (strings, verdicts, what-ifs, cert_info
 * facts, and the presented chain as DER rebuilt into a STACK_OF(X509)) without blocking.
 */
#ifndef TT_PROBE_WIRE_H
#define TT_PROBE_WIRE_H

#include <stddef.h>

#include "probe.h"

struct buf;
struct job;
struct job_outcome;
struct job_runner;
struct wire_rd;

/* Appends r. */
void probe_wire_put(struct buf *b, const struct probe_result *r);
/* Reads one result into *r (free with probe_result_free). Returns 0, or -1 (r left empty)
 * when the bytes are malformed. */
int probe_wire_get(struct wire_rd *rd, struct probe_result *r);

/* The callbacks of a probe job; any may be NULL. Strings are raw (sanitize to show). */
struct probe_job_cbs {
    void (*progress)(const char *msg, void *arg);
    /* Result i arrived (borrowed: it stays in the array done receives). */
    void (*result)(size_t i, const struct probe_result *r, void *arg);
    /* The job ended. res (n entries) belongs to the callee: free with probe_wire_free_all.
     * Entries that never arrived (a failed or cancelled job) have verdict PROBE_NOT_TRIED. */
    void (*done)(struct probe_result *res, size_t n, const struct probe_stats *stats,
                 const struct job_outcome *o, void *arg);
    void *arg;
};

/* Starts a worker running probe_run_many over opts (n entries, parallel in flight). With
 * batch > 0 it probes batch upstreams at a time and sends each batch's results as they are
 * known (a list fills in; each batch builds its own SSL_CTXs); 0: all in one run, results at
 * the end. opts are the child's copies: the parent may free them when this returns. */
struct job *probe_wire_job_start(struct job_runner *jr, const struct probe_opts *opts, size_t n,
                                 int parallel, size_t batch, const struct probe_job_cbs *cbs,
                                 char **cause);
void probe_wire_free_all(struct probe_result *res, size_t n);

#endif
