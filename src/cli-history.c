/*
 * cli-history.c — `tlstriage history [--format text|json]`: the transaction journal, newest
 * first (id, time, user, kind, files, state, summary). Reads through txn_list() and prints
 * through fmt-txn.c; changes nothing. Reports unfinished transactions on stderr first.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli-rollback.h"
#include "cli.h"
#include "fmt-txn.h"
#include "txn.h"

enum { OPT_FORMAT = 256, OPT_DIFF, OPT_HELP };

static const struct option history_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"diff", no_argument, NULL, OPT_DIFF},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int
cli_history(struct app *app, int argc, char **argv)
{
    enum cli_format fmt = FMT_TEXT;
    bool with_diff = false;
    struct txn_info *v;
    size_t n;
    char *cause = NULL;
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", history_options, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (cli_parse_format(argv[0], optarg, FMT_TEXT | FMT_JSON, &fmt) == -1)
                return EXIT_USAGE;
            break;
        case OPT_DIFF:
            with_diff = true;
            break;
        case OPT_HELP:
            printf("usage: tlstriage [GLOBAL] history [--format text|json] [--diff]\n");
            return EXIT_ALL_WELL;
        default:
            return cli_usage_error(argv[0], "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    if (txn_list(app_state_dir(app), &v, &n, &cause) == -1) {
        int rc = cli_usage_error(argv[0], "%s", cause);
        free(cause);
        return rc;
    }
    if (fmt == FMT_JSON)
        fmt_txn_history_json(stdout, v, n, with_diff);
    else
        fmt_txn_history_text(stdout, v, n, with_diff);
    txn_info_free(v, n);
    return EXIT_ALL_WELL;
}
