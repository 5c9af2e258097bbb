/*
 * cli-check.c — `tlstriage check`: loads the config (files or nginx -T output), runs the
 * rules (check.c) and prints text, JSON or SARIF, then (live config only) the warnings of
 * uses the next reload breaks (triage_reload_risks; not rules, no exit code). Exit 1 on an
 * error finding, 2 on a parse error or unreadable input, else 0.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "buf.h"
#include "check.h"
#include "cli-offline.h"
#include "cli.h"
#include "fmt-check.h"
#include "ngxconf.h"
#include "offline.h"
#include "sanitize.h"
#include "triage.h"
#include "xmalloc.h"

static const char check_help[] =
    "usage: tlstriage [GLOBAL] check [--format text|json|sarif] [--conf PATH]\n"
    "                                [--from-nginx-T FILE|-]\n"
    "Lints every TLS upstream (proxy_pass https://, grpc_pass grpcs://, uwsgi_pass suwsgi://,\n"
    "stream proxy_ssl on) for rules TT001-TT011.\n"
    "  --format F          text (default), json or sarif (SARIF 2.1.0)\n"
    "  --conf PATH         the main nginx config (as the global --conf)\n"
    "  --from-nginx-T F    read the output of `nginx -T` from F, or stdin with -\n"
    "  --block F           a pasted location/server/upstream block (or stdin with -), read\n"
    "                      in the context nginx gives it; findings name F's own lines\n"
    "Exit status: 0 no error finding, 1 an error finding, 2 a parse or usage error.\n";

enum { OPT_FORMAT = 256, OPT_CONF, OPT_FROM_T, OPT_BLOCK, OPT_HELP };

static const struct option check_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"conf", required_argument, NULL, OPT_CONF},
    {"from-nginx-T", required_argument, NULL, OPT_FROM_T},
    {"block", required_argument, NULL, OPT_BLOCK},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int
read_input(const char *path, struct buf *out, char **cause)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char tmp[65536];
    size_t n;

    if (fp == NULL) {
        *cause = xasprintf("cannot open \"%s\" (%d: %s)", path, errno, strerror(errno));
        return -1;
    }
    while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
        buf_add(out, tmp, n);
    if (ferror(fp)) {
        *cause = xasprintf("cannot read \"%s\"", path);
        if (fp != stdin)
            fclose(fp);
        return -1;
    }
    if (fp != stdin)
        fclose(fp);
    buf_add(out, "", 0);
    return 0;
}

/* The uses the next reload breaks; false (nothing to show) when that cannot be found out. */
bool
cli_reload_risks(struct app *app, const char *conf_path, struct triage_reload_risks *rw)
{
    struct triage_opts o;
    char *cause = NULL;

    memset(&o, 0, sizeof(o));
    o.conf = conf_path;
    o.prefix = app->prefix;
    o.nginx = app->nginx;
    o.logs = app->logs;
    o.nlogs = app->nlogs;
    if (triage_reload_risks(&o, rw, &cause) != 0) {
        free(cause);
        triage_reload_risks_free(rw);
        return false;
    }
    return true;
}

int
cli_check(struct app *app, int argc, char **argv)
{
    enum cli_format fmt = FMT_TEXT;
    const char *conf_path = app->conf, *from_t = NULL, *block = NULL;
    struct ngxconf *conf = NULL;
    struct offline_block ob = {0};
    struct check_report rep;
    struct check_opts opts;
    struct buf out = BUF_INIT;
    char *cause = NULL;
    int c, rc;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", check_options, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (cli_parse_format("check", optarg, FMT_TEXT | FMT_JSON | FMT_SARIF, &fmt) < 0)
                return EXIT_USAGE;
            break;
        case OPT_CONF:
            conf_path = optarg;
            break;
        case OPT_FROM_T:
            from_t = optarg;
            break;
        case OPT_BLOCK:
            block = optarg;
            break;
        case OPT_HELP:
            fputs(check_help, stdout);
            return EXIT_ALL_WELL;
        default:
            return cli_usage_error("check", "unknown or incomplete option '%s' (see check --help)",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("check", "unexpected argument '%s'", argv[optind]);

    if (block != NULL && from_t != NULL)
        return cli_usage_error("check", "give --block or --from-nginx-T, not both");
    if (block != NULL) {
        int lrc = cli_offline_load("check", block, &ob);
        if (lrc != 0)
            return lrc;
        conf = ob.conf;
        ob.conf = NULL; /* freed below with the rest */
    } else if (from_t != NULL) {
        struct buf in = BUF_INIT;
        if (read_input(from_t, &in, &cause) < 0 ||
            ngxconf_load_nginx_T(from_t, in.p, in.len, app->prefix, &conf, &cause) < 0) {
            buf_free(&in);
            goto fail;
        }
        buf_free(&in);
    } else if (ngxconf_load(conf_path, app->prefix, &conf, &cause) < 0) {
        goto fail;
    }

    memset(&opts, 0, sizeof(opts));
    /* --block runs no nginx (nginx -V would read the version of one that may not be it) */
    opts.nginx = block != NULL ? NULL : app->nginx;
    if (app->expiry_set) /* settings file */
        opts.expiry_days = app->expiry_days;
    check_run(conf, &opts, &rep);
    /* Live config only: a use the next reload breaks (a file changed since nginx loaded it). */
    struct triage_reload_risks rw;
    bool have_rw = from_t == NULL && cli_reload_risks(app, conf_path, &rw);
    if (fmt == FMT_JSON)
        fmt_check_json_reload(conf, &rep, have_rw ? &rw : NULL, &out);
    else if (fmt == FMT_SARIF)
        fmt_check_sarif(conf, &rep, &out);
    else
        fmt_check_text(conf, &rep, &out);
    if (fmt == FMT_TEXT && have_rw)
        fmt_check_reload_text(&rw, &out);
    if (have_rw)
        triage_reload_risks_free(&rw);
    if (out.len > 0) /* an empty buf has no storage: fwrite(NULL, ...) is undefined */
        fwrite(out.p, 1, out.len, stdout);
    if (conf->nerrors > 0) {
        const struct ngx_error *e = &conf->errors[0];
        char *f = sanitize_str(e->file), *m = sanitize_str(e->message);
        fprintf(stderr, "tlstriage: check: %s:%u: %s\n", f, e->line, m);
        free(f);
        free(m);
        rc = EXIT_USAGE;
    } else {
        rc = rep.nerrors > 0 ? EXIT_FINDINGS : EXIT_ALL_WELL;
    }
    check_report_free(&rep);
    buf_free(&out);
    ngxconf_free(conf);
    offline_block_free(&ob);
    return rc;

fail : {
    char *s = sanitize_str(cause);
    fprintf(stderr, "tlstriage: check: %s\n", s);
    free(s);
    free(cause);
    return EXIT_USAGE;
}
}
