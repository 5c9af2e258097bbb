/*
 * cli-fix.c — `tlstriage fix`: picks the failing upstream (from the log or --upstream),
 * shows the verified fix remedy.c planned (--plan: the diff and the files it would write)
 * or applies it as a transaction (--apply: txn_apply with the planned hashes, re-probe
 * after the reload as the verify hook, then the watch). Never applies an unverified fix.
 * The choice and the change list come from triage.c; a config nginx -t refuses already
 * and an upstream used in several places (without @SERVER/LOCATION) get no plan.
 * Incidents of the log the config cannot place are printed with the plan ("not placed in
 * the config"); when they are all there is, nothing is planned and the exit is 1.
 * Exit 0 fixed or nothing to fix, 1 failure (rolled back) or only unplaced incidents, 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "cli-offline.h"
#include "cli-rollback.h"
#include "cli.h"
#include "fmt-remedy.h"
#include "fmt-txn.h"
#include "sanitize.h"
#include "triage.h"
#include "txn.h"
#include "xmalloc.h"

static const char fix_help[] =
    "usage: tlstriage [GLOBAL] fix [--upstream HOST:PORT[@SERVER/LOCATION]] [--strategy S]\n"
    "                 [--plan | --apply]\n"
    "                 [--yes] [--cert-dir DIR] [--ca FILE] [--client-cert FILE --client-key FILE]\n"
    "                 [--reload-cmd CMD] [--watch SECONDS]\n"
    "       tlstriage fix --block FILE|- [--peer-chain FILE] [--log-line TEXT]\n"
    "                 [--format text|json] [--strategy S] [--cert-dir DIR] [--ca FILE]\n"
    "Plans (default) or applies the verified fix of a failing TLS upstream. Strategies:\n"
    "pin ca chain name depth sni mtls reload (combine with '+': pin+name). --apply backs up,\n"
    "writes atomically, runs nginx -t, reloads, confirms, re-probes and watches the log;\n"
    "any failure restores the old bytes. proxy_ssl_verify off is never a fix.\n"
    "--block: offline, for a pasted location/server/upstream block (or a whole file): the\n"
    "corrected block and its diff, verified against --peer-chain (PEM, or openssl s_client\n"
    "-showcerts output as is); no nginx run, no connection, nothing written.\n"
    "Exit status: 0 fixed (or nothing to fix), 1 failure (or the log's incidents are not\n"
    "placed in the config: listed with the reason), 2 usage error.\n";

enum {
    OPT_UPSTREAM = 256,
    OPT_STRATEGY,
    OPT_PLAN,
    OPT_APPLY,
    OPT_YES,
    OPT_CERT_DIR,
    OPT_CA,
    OPT_CCERT,
    OPT_CKEY,
    OPT_RELOAD_CMD,
    OPT_WATCH,
    OPT_BLOCK,
    OPT_PEER_CHAIN,
    OPT_LOG_LINE,
    OPT_FORMAT,
    OPT_HELP
};

static const struct option fix_options[] = {
    {"upstream", required_argument, NULL, OPT_UPSTREAM},
    {"strategy", required_argument, NULL, OPT_STRATEGY},
    {"plan", no_argument, NULL, OPT_PLAN},
    {"apply", no_argument, NULL, OPT_APPLY},
    {"yes", no_argument, NULL, OPT_YES},
    {"cert-dir", required_argument, NULL, OPT_CERT_DIR},
    {"ca", required_argument, NULL, OPT_CA},
    {"client-cert", required_argument, NULL, OPT_CCERT},
    {"client-key", required_argument, NULL, OPT_CKEY},
    {"reload-cmd", required_argument, NULL, OPT_RELOAD_CMD},
    {"watch", required_argument, NULL, OPT_WATCH},
    {"block", required_argument, NULL, OPT_BLOCK},
    {"peer-chain", required_argument, NULL, OPT_PEER_CHAIN},
    {"log-line", required_argument, NULL, OPT_LOG_LINE},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

struct verify_ctx {
    struct app *app;
    const char *conf;
    const struct remedy_case *rc;
    const struct remedy_opts *ro;
    const struct remedy_fix *fix;
};

static int
verify_hook(void *arg, char **cause)
{
    struct verify_ctx *v = arg;

    if (remedy_recheck(v->conf, v->app->prefix, v->rc, v->ro, cause) != 0)
        return -1;
    return remedy_recheck_radius(v->conf, v->app->prefix, v->fix, v->ro, cause);
}

static char *
absolute(const char *path)
{
    char rp[PATH_MAX];

    if (path == NULL)
        return NULL;
    if (realpath(path, rp) != NULL)
        return xstrdup(rp);
    return xstrdup(path);
}

/* The log's incidents the config cannot place, on stdout with the plan (one output). */
static void
print_unplaced(const struct triage *r, bool before_plan)
{
    for (size_t i = 0; i < r->nunplaced; i++) {
        if (i > 0)
            fputc('\n', stdout);
        fmt_remedy_unplaced_text(stdout, &r->unplaced[i]);
    }
    if (before_plan && r->nunplaced > 0)
        fputs("\n(not placed, so not fixed here; the plan below is for the incident that "
              "is)\n\n",
              stdout);
}

int
cli_fix(struct app *app, int argc, char **argv)
{
    const char *upstream = NULL, *reload_cmd = NULL;
    bool apply = false, plan = false, yes = false;
    unsigned want = 0;
    int watch = 30, c, rc = EXIT_FINDINGS;
    struct remedy_opts ro;
    struct triage r;
    char *ca = NULL, *ccert = NULL, *ckey = NULL, *cause = NULL;
    bool collected = false, format_given = false;
    struct cli_offline_args off = {NULL, NULL, NULL, FMT_TEXT};

    memset(&ro, 0, sizeof(ro));
    if (app->watch_set)
        watch = app->watch_seconds; /* settings file */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", fix_options, NULL)) != -1) {
        switch (c) {
        case OPT_UPSTREAM:
            upstream = optarg;
            break;
        case OPT_STRATEGY:
            if (remedy_strategy_parse(optarg, &want) != 0)
                return cli_usage_error(argv[0],
                                       "unknown --strategy '%s' (pin ca chain name "
                                       "depth sni mtls reload, joined with +)",
                                       optarg);
            break;
        case OPT_PLAN:
            plan = true;
            break;
        case OPT_APPLY:
            apply = true;
            break;
        case OPT_YES:
            yes = true;
            break;
        case OPT_CERT_DIR:
            ro.cert_dir = optarg;
            break;
        case OPT_CA:
            ca = absolute(optarg);
            break;
        case OPT_CCERT:
            ccert = absolute(optarg);
            break;
        case OPT_CKEY:
            ckey = absolute(optarg);
            break;
        case OPT_RELOAD_CMD:
            reload_cmd = optarg;
            break;
        case OPT_WATCH: {
            char *end;
            long w = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || w < 0 || w > 3600) {
                rc = cli_usage_error(argv[0], "--watch wants seconds (0-3600), not '%s'", optarg);
                goto out;
            }
            watch = (int)w;
            break;
        }
        case OPT_BLOCK:
            off.block = optarg;
            break;
        case OPT_PEER_CHAIN:
            off.peer_chain = optarg;
            break;
        case OPT_LOG_LINE:
            off.log_line = optarg;
            break;
        case OPT_FORMAT:
            if (cli_parse_format(argv[0], optarg, FMT_TEXT | FMT_JSON, &off.fmt) < 0) {
                rc = EXIT_USAGE;
                goto out;
            }
            format_given = true;
            break;
        case OPT_HELP:
            fputs(fix_help, stdout);
            rc = EXIT_ALL_WELL;
            goto out;
        default:
            rc = cli_usage_error(argv[0], "unknown or incomplete option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (plan && apply) {
        rc = cli_usage_error(argv[0], "give --plan or --apply, not both");
        goto out;
    }
    if ((ccert == NULL) != (ckey == NULL)) {
        rc = cli_usage_error(argv[0], "--client-cert and --client-key go together");
        goto out;
    }

    ro.ca_file = ca;
    ro.client_cert = ccert;
    ro.client_key = ckey;
    if (want != 0) {
        unsigned trust = RS_MASK(RS_PIN) | RS_MASK(RS_CA) | RS_MASK(RS_CHAIN);
        ro.allowed = (want & trust) != 0 ? (want | (RS_ALL & ~trust)) : RS_ALL;
    }
    if (off.block == NULL && (off.peer_chain != NULL || off.log_line != NULL || format_given)) {
        rc = cli_usage_error(argv[0], "--peer-chain, --log-line and --format go with --block");
        goto out;
    }
    if (off.block != NULL) {
        if (apply || upstream != NULL || reload_cmd != NULL) {
            rc = cli_usage_error(argv[0], "--block plans offline: no --apply, --upstream or "
                                          "--reload-cmd with it");
            goto out;
        }
        rc = cli_fix_offline(app, argv[0], &off, &ro);
        goto out;
    }
    rc = cli_triage_collect(app, argv[0], upstream, &ro, &r);
    if (rc != 0)
        goto out;
    collected = true;
    if (triage_ambiguous(&r)) {
        fprintf(stderr, "tlstriage: fix: ");
        cli_put_sanitized(stderr, upstream);
        fprintf(stderr, " is used in %zu places; pick one with --upstream:\n", r.nrefs);
        for (size_t i = 0; i < r.nrefs; i++) {
            fputs("  ", stderr);
            cli_put_sanitized(stderr, r.refs[i].spelling);
            fputs("  ", stderr);
            cli_put_sanitized(stderr, r.refs[i].context);
            fputc('\n', stderr);
        }
        rc = EXIT_USAGE;
        goto out;
    }
    triage_plan(&r);

    /* the one case to fix */
    const struct triage_item *it = NULL;
    const struct remedy_fix *f = NULL;
    size_t nfailing = 0;
    enum triage_choice choice = triage_choose(&r, want, &nfailing, &it, &f);
    if (choice == TC_NOTHING && r.nunplaced > 0) {
        /* the log has failures; that the config cannot place them is the answer */
        print_unplaced(&r, false);
        printf("fix: nothing can be planned: %zu incident%s of the log %s not placed in the "
               "config\n",
               r.nunplaced, r.nunplaced == 1 ? "" : "s", r.nunplaced == 1 ? "is" : "are");
        rc = EXIT_FINDINGS;
        goto out;
    }
    if (choice == TC_NOTHING) {
        printf("fix: nothing to fix%s%s\n", upstream != NULL ? " for " : "",
               upstream != NULL ? upstream : "");
        if (upstream != NULL && r.n == 0) {
            rc = cli_usage_error(argv[0], "no TLS upstream %s in the config", upstream);
            goto out;
        }
        rc = EXIT_ALL_WELL;
        goto out;
    }
    if (choice == TC_SEVERAL) {
        fprintf(stderr, "tlstriage: fix: %zu failing upstream uses; pick one with --upstream:\n",
                nfailing);
        for (size_t i = 0; i < r.n; i++) {
            fputs("  ", stderr);
            cli_put_sanitized(stderr, r.items[i].spelling);
            fputs("  ", stderr);
            cli_put_sanitized(stderr, r.items[i].use->context);
            fputc('\n', stderr);
        }
        rc = EXIT_USAGE;
        goto out;
    }
    if (choice == TC_NOT_PLANNED) {
        fmt_remedy_text(stderr, it, false);
        rc = EXIT_FINDINGS;
        goto out;
    }
    /* Refuse before writing: a config nginx already refuses gets no plan. */
    if (triage_preflight(r.conf, app->nginx, app->prefix != NULL ? app->conf : r.conf_abs,
                         app->conf_given, app->prefix, &cause) != 0) {
        fprintf(stderr, "tlstriage: %s: ", argv[0]);
        cli_put_sanitized(stderr, cause);
        fputc('\n', stderr);
        rc = EXIT_USAGE;
        goto out;
    }
    print_unplaced(&r, true);
    fmt_remedy_text(stdout, it, false);
    if (choice == TC_NO_FIX) {
        char *m = remedy_mask_name(want);
        fprintf(stderr, "tlstriage: fix: no fix%s%s for this upstream\n",
                want != 0 ? " with strategy " : "", want != 0 ? m : "");
        free(m);
        rc = EXIT_FINDINGS;
        goto out;
    }
    printf("\nfix %s:\n", f->id);
    if (f->nfiles == 0) {
        puts("(no file changes: nginx -t, reload, confirm the new workers, re-probe, watch)");
    } else {
        fputs("(paths relative to ", stdout);
        cli_put_sanitized(stdout, f->diff_root);
        fputs(": cd there and patch -p1 applies this diff)\n", stdout);
        cli_put_diff(stdout, "", f->diff);
    }
    for (size_t k = 0; k < f->nfiles; k++) {
        fputs(apply ? "writes " : "would write ", stdout);
        cli_put_sanitized(stdout, f->files[k].path);
        fputc('\n', stdout);
    }
    if (choice == TC_UNVERIFIED) {
        fputs("tlstriage: fix: this fix is not verified (the probe of its target or of its blast "
              "radius failed, see above); it is not applied\n",
              stderr);
        rc = EXIT_FINDINGS;
        goto out;
    }
    if (!apply) {
        puts("(plan only: run with --apply to make the change)");
        rc = EXIT_ALL_WELL;
        goto out;
    }
    fflush(stdout);
    switch (cli_rollback_confirm(argv[0],
                                 f->nfiles == 0 ? "Test and reload nginx?"
                                                : "Apply this change, test and reload nginx?",
                                 yes)) {
    case -1:
        rc = EXIT_USAGE;
        goto out;
    case 0:
        fprintf(stderr, "fix: nothing done\n");
        rc = EXIT_FINDINGS;
        goto out;
    }
    /* The certificate directory, when missing, is created by the transaction (and
     * journaled, so its rollback removes it again). */
    {
        struct txn_opts o;
        struct txn_result res;
        struct txn_change *ch;
        const char **sha;
        char *summary;
        struct verify_ctx vc = {app, r.conf_abs, &it->rc, &r.ro, f};

        triage_changes(it, f, &ch, &sha, &summary);
        cli_rollback_txn_opts(app, &o, reload_cmd);
        o.summary = summary;
        o.planned_sha256 = sha;
        o.verify = verify_hook;
        o.verify_arg = &vc;
        o.watch_seconds = watch;
        o.watch_match = it->rc.upstream;
        memset(&res, 0, sizeof(res));
        int trc = txn_apply(&o, ch, f->nfiles, &res, &cause);
        fmt_txn_result_text(trc == TXN_OK ? stdout : stderr, argv[0], trc, &res, cause);
        rc = trc == TXN_OK ? EXIT_ALL_WELL : trc == TXN_ERR_BROKEN ? EXIT_USAGE : EXIT_FINDINGS;
        txn_result_free(&res);
        free(ch);
        free(sha);
        free(summary);
    }
out:
    if (collected)
        triage_free(&r);
    free(ca);
    free(ccert);
    free(ckey);
    free(cause);
    return rc;
}
