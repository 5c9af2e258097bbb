/*
 * cli-report.c — `tlstriage report [--format md|json] [--since TIME] [--redact|--no-redact]
 * [--redact-map FILE] [-o FILE]`: builds the postmortem (report.c, redacted by default)
 * and prints it through fmt-report.c, to standard output or atomically to FILE (0600).
 * Argument parsing, output and exit codes only.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "atomicfile.h"
#include "buf.h"
#include "cli-scan.h"
#include "cli.h"
#include "fmt-report.h"
#include "report.h"

enum { OPT_FORMAT = 256, OPT_SINCE, OPT_REDACT, OPT_NO_REDACT, OPT_MAP, OPT_PROBE, OPT_HELP };

static const struct option report_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"since", required_argument, NULL, OPT_SINCE},
    {"redact", no_argument, NULL, OPT_REDACT},
    {"no-redact", no_argument, NULL, OPT_NO_REDACT},
    {"redact-map", required_argument, NULL, OPT_MAP},
    {"output", required_argument, NULL, 'o'},
    {"probe", no_argument, NULL, OPT_PROBE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char report_usage[] =
    "usage: tlstriage [GLOBAL] report [--format md|json] [--since TIME] [--redact | --no-redact]\n"
    "                                 [--redact-map FILE] [-o FILE] [--probe]\n"
    "  --format md|json   Markdown for a ticket (default) or JSON (schema tlstriage-report/1)\n"
    "  --since TIME       only events and transactions at or after TIME (as scan --since)\n"
    "  --redact           replace client addresses, names, credentials, tokens, query strings,\n"
    "                     passwords and private keys (the default)\n"
    "  --no-redact        show everything as logged and journaled\n"
    "  --redact-map FILE  YAML: names: {real: placeholder}, keep: [name...]\n"
    "  -o FILE            write the report to FILE (atomically, mode 0600)\n"
    "  --probe            also probe each incident's upstream live, with nginx's settings\n"
    "                     (the default is offline: what the logs and the journal hold)\n";

int
cli_report(struct app *app, int argc, char **argv)
{
    struct report_opts o;
    struct report rep;
    struct buf out = BUF_INIT;
    const char *output = NULL;
    bool json = false;
    char *cause = NULL;
    int c, rc = EXIT_USAGE;

    memset(&o, 0, sizeof(o));
    o.redact = true;
    o.now = time(NULL);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+o:", report_options, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (strcmp(optarg, "md") == 0 || strcmp(optarg, "markdown") == 0)
                json = false;
            else if (strcmp(optarg, "json") == 0)
                json = true;
            else
                return cli_usage_error(argv[0], "unknown --format '%s' (expected md|json)", optarg);
            break;
        case OPT_SINCE:
            if (cli_scan_parse_since(optarg, o.now, &o.since) < 0)
                return cli_usage_error(argv[0], "--since: cannot read '%s' as a time", optarg);
            o.since_given = true;
            break;
        case OPT_REDACT:
            o.redact = true;
            break;
        case OPT_NO_REDACT:
            o.redact = false;
            break;
        case OPT_MAP:
            o.redact_map = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_PROBE:
            o.probe = true;
            break;
        case OPT_HELP:
            fputs(report_usage, stdout);
            return EXIT_ALL_WELL;
        default:
            return cli_usage_error(argv[0], "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    if (!o.redact && o.redact_map != NULL)
        return cli_usage_error(argv[0], "--redact-map has no use with --no-redact");
    o.logs = app->logs;
    o.nlogs = app->nlogs;
    o.conf = app->conf;
    o.prefix = app->prefix;
    o.nginx = app->nginx;
    o.state_dir = app_state_dir(app);
    if (report_build(&o, &rep, &cause) == -1) {
        rc = cli_usage_error(argv[0], "%s", cause);
        free(cause);
        return rc;
    }
    if (json)
        fmt_report_json(&out, &rep);
    else
        fmt_report_md(&out, &rep);
    report_free(&rep);
    if (output != NULL) {
        if (atomicfile_write(output, out.p, out.len, 0600, &cause) == -1) {
            rc = cli_usage_error(argv[0], "%s", cause);
            free(cause);
            goto out;
        }
    } else if ((out.len > 0 && fwrite(out.p, 1, out.len, stdout) != out.len) ||
               fflush(stdout) != 0) {
        rc = cli_usage_error(argv[0], "cannot write the report to standard output");
        goto out;
    }
    rc = EXIT_ALL_WELL;
out:
    buf_free(&out);
    return rc;
}
