/*
 * runbook.h — remediation runbooks, one YAML file per cause (share/tlstriage/runbooks,
 * overridden by /etc/tlstriage/runbooks and the settings' runbooks_dir): what the cause
 * means, why turning verification off is wrong, the steps with the tool, the longer-term
 * fix. Loaded and checked whole; `tlstriage explain` (cli-explain.c) prints them.
 */
#ifndef TT_RUNBOOK_H
#define TT_RUNBOOK_H

#include <stddef.h>

struct app;

struct runbook {
    char *file;
    char *id; /* "verify-18", "name-mismatch" */
    char *title;
    char **matches; /* what `explain` accepts: "18", "self-signed", ... NULL-terminated */
    char *meaning;
    char *why_not_verify_off;
    char **steps; /* NULL-terminated */
    size_t nsteps;
    char *longer_term;
};

int runbook_parse(struct runbook *rb, const char *name, const char *text, size_t len, char **cause);
int runbook_load(struct runbook *rb, const char *path, char **cause);
void runbook_free(struct runbook *rb);

/* The runbook directories, first wins: app->runbooks_dir, /etc/tlstriage/runbooks, the
 * installed ones, the build and source trees'. Caller frees with runbook_dirs_free. */
char **runbook_dirs(const struct app *app);
void runbook_dirs_free(char **dirs);
/* The runbook whose id or one of whose matches equals key (case-insensitive). A file
 * that does not load is an error (-1, *cause naming FILE:LINE:COLUMN); not found: 1. */
int runbook_find(char **dirs, const char *key, struct runbook *rb, char **cause);
/* Every runbook (first dir wins by file name), for `explain --list`. */
size_t runbook_list(char **dirs, struct runbook **out, char **cause);

#endif
