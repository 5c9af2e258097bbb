/*
 * scan.h — what `tlstriage scan` hands to its follow mode. cli-scan.c parses the options
 * and, with --follow, calls cli_scan_follow() (src/cli-scan-follow.c, owned by the follow work).
 */
#ifndef TT_CLI_SCAN_H
#define TT_CLI_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "app.h"
#include "cli.h"

struct scan_opts {
    const char **files; /* NULL-terminated; "-" is stdin */
    size_t nfiles;
    enum cli_format format; /* FMT_TEXT or FMT_JSONL (FMT_JSON is refused with --follow) */
    bool since_given;
    time_t since;         /* --since, as an absolute time (valid when since_given) */
    const char *backfill; /* --backfill SIZE as given, NULL if absent (follow only) */
    bool color;           /* text to a terminal without --no-color */
};

/* Follows opts->files (tail -F). Returns an exit code (EXIT_ALL_WELL on SIGINT). */
int cli_scan_follow(struct app *app, const struct scan_opts *opts);

/* Parses --since: absolute "2026-11-27 03:00", "2026/11/27 03:00:00", ISO 8601
 * "2026-11-27T03:00:00" (local time; a trailing Z or +HH:MM is honoured), or relative
 * "90s", "15m", "2h", "1d" before now. Returns 0, or -1 if unparsable. */
int cli_scan_parse_since(const char *s, time_t now, time_t *out);

#endif
