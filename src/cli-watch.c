/*
 * cli-watch.c — `tlstriage watch` (and `tlstriage` with no verb): parses --since, --debug
 * and --ascii and opens the interface (ui.c). Argument parsing and exit codes only.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "app.h"
#include "cli.h"
#include "cli-scan.h"
#include "ui.h"

enum { OPT_SINCE = 256, OPT_DEBUG, OPT_ASCII, OPT_HELP };

static const struct option watch_options[] = {
    {"since", required_argument, NULL, OPT_SINCE},
    {"debug", required_argument, NULL, OPT_DEBUG},
    {"ascii", no_argument, NULL, OPT_ASCII},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char watch_usage[] =
    "usage: tlstriage [GLOBAL] [watch] [--since TIME] [--ascii] [--debug FILE]\n"
    "\n"
    "The interactive screen: incidents live from the error logs (the last hour first, or\n"
    "since TIME), the upstreams, the detail of one (chain, settings, fixes), the fix wizard\n"
    "with the blast radius, the journal of fixes, and help. Keys (? lists them all):\n"
    "  Up/Down j/k, PgUp/PgDn, Home/End g/G   move      Enter   open\n"
    "  Tab next screen   u upstreams   H history   p probe   f fix   r roll back\n"
    "  / filter   ? help   Ctrl-L redraw   Ctrl-Z suspend   q/Esc back (quit from home)\n"
    "  y/n confirm/cancel; in the fix wizard c a CA file, m a client certificate (Tab completes)\n"
    "\n"
    "  --since TIME   start from TIME instead of one hour ago (as scan --since)\n"
    "  --ascii        no UTF-8 glyphs (also when the locale is not UTF-8, or TERM is linux)\n"
    "  --debug FILE   write diagnostics to FILE (nothing is printed while the screen is up)\n"
    "Honours --no-color and NO_COLOR. Needs a terminal; for scripts use scan --follow.\n";

int
cli_watch(struct app *app, int argc, char **argv)
{
    struct ui_opts o = {0};
    char *cause = NULL;
    int c, rc;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", watch_options, NULL)) != -1) {
        switch (c) {
        case OPT_SINCE:
            if (cli_scan_parse_since(optarg, time(NULL), &o.since) < 0)
                return cli_usage_error("watch",
                                       "cannot read --since '%s' (use '2026-11-27 "
                                       "03:00', ISO 8601, or 15m, 2h, 1d)",
                                       optarg);
            o.since_given = true;
            break;
        case OPT_DEBUG:
            o.debug_file = optarg;
            break;
        case OPT_ASCII:
            o.ascii = true;
            break;
        case OPT_HELP:
        case 'h':
            fputs(watch_usage, stdout);
            return EXIT_ALL_WELL;
        default:
            return cli_usage_error("watch", "unknown or incomplete option '%s' (see watch --help)",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("watch", "unexpected argument '%s'", argv[optind]);
    rc = ui_run(app, &o, &cause);
    if (cause != NULL) {
        fprintf(stderr, "tlstriage: watch: %s\n", cause);
        free(cause);
    }
    return rc;
}
