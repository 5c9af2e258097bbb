/*
 * cli.h — the verb table and the helpers every cli-*.c verb shares (usage errors,
 * --format parsing). main.c parses the global options and dispatches through the table.
 */
#ifndef TT_CLI_H
#define TT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "app.h"

struct cli_verb {
    const char *name;
    int (*run)(struct app *app, int argc, char **argv); /* argv[0] is the verb */
    const char *usage;                                  /* after "tlstriage [GLOBAL] " */
    const char *help;                                   /* one line */
};

extern const struct cli_verb cli_verbs[];

const struct cli_verb *cli_verb_find(const char *name);
void cli_print_usage(FILE *fp);

enum cli_format {
    FMT_TEXT = 1 << 0,
    FMT_JSON = 1 << 1,
    FMT_JSONL = 1 << 2,
    FMT_SARIF = 1 << 3,
    FMT_PROMETHEUS = 1 << 4,
};

/* Parses NAME into *out if it is one of the formats in allowed (a mask). On error prints
 * "tlstriage: VERB: unknown --format NAME (expected ...)" and returns -1. */
int cli_parse_format(const char *verb, const char *name, unsigned allowed, enum cli_format *out);

/* Untrusted text (log, certificate, config, nginx output) to a stream, through the one
 * sanitizer; NULL prints nothing. cli_put_lines prints each line after indent. */
void cli_put_sanitized(FILE *fp, const char *s);
void cli_put_lines(FILE *fp, const char *indent, const char *s);
/* A unified diff after indent, line by line, so that `patch -p1` applies it: tabs,
 * backslashes and a line's final CR are kept; other control bytes and invalid UTF-8 go
 * through the sanitizer. */
void cli_put_diff(FILE *fp, const char *indent, const char *s);

/* Prints "tlstriage: VERB: message" to stderr and returns EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* diagnose and fix (cli-diagnose.c): the triage's warnings on stderr as
 * "tlstriage: VERB: what: why"; the collection with them printed (EXIT_USAGE after
 * printing why it failed, 0 else); one case as text (sanitized): where, effective values,
 * probe, cause, fixes. */
struct remedy_opts;
struct triage;
struct triage_item;
struct triage_warnings;
void cli_triage_warnings(const char *verb, const struct triage_warnings *w);
int cli_triage_collect(struct app *app, const char *verb, const char *upstream,
                       const struct remedy_opts *ro, struct triage *t);
/* The uses the next reload of the running nginx breaks (cli-check.c; check and probe
 * --all show them): false when that cannot be found out (free rw only when true). */
struct triage_reload_risks;
bool cli_reload_risks(struct app *app, const char *conf_path, struct triage_reload_risks *rw);

/* Verbs. Each lives in src/cli-VERB.c, gets argv[0] == the verb name, and parses its own
 * options with getopt_long after setting optind = 0 (glibc: full re-initialisation). */
int cli_scan(struct app *app, int argc, char **argv);
int cli_check(struct app *app, int argc, char **argv);
int cli_probe(struct app *app, int argc, char **argv);
int cli_diagnose(struct app *app, int argc, char **argv);
int cli_fix(struct app *app, int argc, char **argv);
int cli_rollback(struct app *app, int argc, char **argv);
int cli_history(struct app *app, int argc, char **argv);
int cli_drill(struct app *app, int argc, char **argv);
int cli_explain(struct app *app, int argc, char **argv);
int cli_report(struct app *app, int argc, char **argv);
int cli_watch(struct app *app, int argc, char **argv);
/* Hidden (not in the table or --help): words for the bash completion (cli-complete.c). */
int cli_complete(struct app *app, int argc, char **argv);
/* Stand-in for verbs not in this build yet: says so and exits 2. */
int cli_not_yet(struct app *app, int argc, char **argv);

#endif
