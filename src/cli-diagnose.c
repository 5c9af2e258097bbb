/*
 * cli-diagnose.c — `tlstriage diagnose [--format text|json]`: for each upstream TLS
 * incident in the error log, the block nginx used (file:line), the effective proxy_ssl_*
 * values with their origin, a probe under those settings, the cause in plain words and the
 * candidate fixes, each proven by a probe (remedy.c), all found by triage.c and printed
 * through fmt-remedy.c; an incident the config cannot place is one of them ("not placed in
 * the config" and why). Also what the fix verb shares (cli.h): the warnings. Exit 0 when
 * the log holds no upstream TLS incident, else 1.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "buf.h"
#include "cli.h"
#include "fmt-remedy.h"
#include "json.h"
#include "sanitize.h"
#include "triage.h"

static void
warn(const char *verb, const char *what, const char *why)
{
    fprintf(stderr, "tlstriage: %s: ", verb);
    cli_put_sanitized(stderr, what);
    if (why != NULL) {
        fputs(": ", stderr);
        cli_put_sanitized(stderr, why);
    }
    fputc('\n', stderr);
}

void
cli_triage_warnings(const char *verb, const struct triage_warnings *w)
{
    for (size_t i = 0; i < w->n; i++) {
        const struct triage_warning *x = &w->v[i];
        switch (x->kind) {
        case TW_CONFIG:
            warn(verb, "config warning", x->message);
            break;
        case TW_LOG:
            warn(verb, x->file, x->message);
            break;
        case TW_PROBE_SKIPPED:
            warn(verb, x->subject, x->message);
            break;
        }
    }
}

/* diagnose and fix: the triage of the config and logs, its warnings on stderr. Returns 0,
 * or EXIT_USAGE after printing why (the triage is then freed). */
int
cli_triage_collect(struct app *app, const char *verb, const char *upstream,
                   const struct remedy_opts *ro, struct triage *t)
{
    struct triage_opts o;
    char *cause = NULL;

    memset(&o, 0, sizeof(o));
    o.conf = app->conf;
    o.prefix = app->prefix;
    o.nginx = app->nginx;
    o.logs = app->logs;
    o.nlogs = app->nlogs;
    o.upstream = upstream;
    o.ro = *ro;
    if (o.ro.cert_dir == NULL)
        o.ro.cert_dir = app->cert_dir; /* settings file */
    if (triage_collect(&o, t, &cause) != 0) {
        cli_triage_warnings(verb, &t->warnings);
        warn(verb, cause, NULL);
        free(cause);
        triage_free(t);
        return EXIT_USAGE;
    }
    cli_triage_warnings(verb, &t->warnings);
    return 0;
}

static const char diagnose_help[] =
    "usage: tlstriage [GLOBAL] diagnose [--format text|json]\n"
    "                 [--upstream HOST:PORT[@SERVER/LOCATION]] [--cert-dir DIR] [--ca FILE]\n"
    "                 [--client-cert FILE --client-key FILE]\n"
    "For each upstream TLS incident in the error log (--log, default: the config's\n"
    "error_log): the block and file:line, the effective proxy_ssl_* values, a probe, the\n"
    "cause and the candidate fixes, each proven by a probe under the changed settings.\n"
    "An incident no block of the config matches is listed as \"not placed in the config\"\n"
    "with the reason.\n"
    "Exit status: 0 no incident, 1 incidents found (placed or not), 2 usage or input error.\n";

enum { OPT_FORMAT = 256, OPT_UPSTREAM, OPT_CERT_DIR, OPT_CA, OPT_CCERT, OPT_CKEY, OPT_HELP };

static const struct option diagnose_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"upstream", required_argument, NULL, OPT_UPSTREAM},
    {"cert-dir", required_argument, NULL, OPT_CERT_DIR},
    {"ca", required_argument, NULL, OPT_CA},
    {"client-cert", required_argument, NULL, OPT_CCERT},
    {"client-key", required_argument, NULL, OPT_CKEY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int
cli_diagnose(struct app *app, int argc, char **argv)
{
    enum cli_format fmt = FMT_TEXT;
    struct remedy_opts ro;
    const char *upstream = NULL;
    struct triage r;
    int c, rc;

    memset(&ro, 0, sizeof(ro));
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", diagnose_options, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (cli_parse_format(argv[0], optarg, FMT_TEXT | FMT_JSON, &fmt) != 0)
                return EXIT_USAGE;
            break;
        case OPT_UPSTREAM:
            upstream = optarg;
            break;
        case OPT_CERT_DIR:
            ro.cert_dir = optarg;
            break;
        case OPT_CA:
            ro.ca_file = optarg;
            break;
        case OPT_CCERT:
            ro.client_cert = optarg;
            break;
        case OPT_CKEY:
            ro.client_key = optarg;
            break;
        case OPT_HELP:
            fputs(diagnose_help, stdout);
            return EXIT_ALL_WELL;
        default:
            return cli_usage_error(argv[0], "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    rc = cli_triage_collect(app, argv[0], upstream, &ro, &r);
    if (rc != 0)
        return rc;
    triage_plan(&r);
    if (fmt == FMT_JSON)
        fmt_remedy_json(stdout, &r);
    else if (r.n == 0 && r.nunplaced == 0)
        puts("no upstream TLS incident in the log");
    else {
        for (size_t i = 0; i < r.n; i++) {
            if (i > 0)
                fputc('\n', stdout);
            fmt_remedy_text(stdout, &r.items[i], false);
        }
        for (size_t i = 0; i < r.nunplaced; i++) {
            if (i > 0 || r.n > 0)
                fputc('\n', stdout);
            fmt_remedy_unplaced_text(stdout, &r.unplaced[i]);
        }
    }
    rc = r.n > 0 || r.nunplaced > 0 ? EXIT_FINDINGS : EXIT_ALL_WELL;
    triage_free(&r);
    return rc;
}
