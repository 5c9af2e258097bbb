/*
 * cli-remedy.h — what the diagnose and fix verbs share: the failing upstream uses found
 * from the error log (or named with --upstream), each planned by remedy.c (fmt-remedy.h
 * renders them). Implemented in src/cli-diagnose.c.
 */
#ifndef TT_CLI_REMEDY_H
#define TT_CLI_REMEDY_H

#include <stdbool.h>
#include <stdio.h>

#include "app.h"
#include "incident.h"
#include "remedy.h"

struct cli_remedy_item {
    const struct tls_use *use; /* points into rr or into the uses list */
    size_t ti;                 /* the target of use that failed */
    struct resolve_result rr;
    bool have_rr;
    const struct incident *inc; /* the incident it came from (NULL: --upstream) */
    char *kind;                 /* the incident's kind ("verify_error"), or the probe's */
    struct remedy_case rc;
    bool planned;
    char *plan_error; /* remedy_plan failed: why */
};

struct cli_remedy {
    struct ngxconf *conf;
    struct incident_store store;
    struct tls_use *uses;
    size_t nuses;
    struct cli_remedy_item *items;
    size_t n;
    struct remedy_opts ro;
    char *cert_dir;
    char *conf_abs;
};

/* Loads the config, scans the logs (--log, else the config's error_log files), resolves
 * each incident's block and plans its fixes. With upstream ("HOST:PORT"), only the uses
 * targeting it (taken from the config when the log has no incident for it). ro gives the
 * strategy options (cert_dir NULL: certs/ next to the config). Warnings go to stderr.
 * Returns 0, or EXIT_USAGE after printing why. Free with cli_remedy_free. */
int cli_remedy_collect(struct app *app, const char *verb, const char *upstream,
                       const struct remedy_opts *ro, struct cli_remedy *out);
void cli_remedy_free(struct cli_remedy *r);

#endif
