/*
 * cli-rollback.c — `tlstriage rollback [--last | ID] [--complete ID] [--yes]` (options in
 * any order): takes a transaction's change back out (its backups, or its own diff reversed
 * when later changes are kept; nginx -t, reload, confirm), or completes an interrupted
 * one; plus the front-end helpers of cli-txn.h that the fix and history verbs share. All
 * the work is in txn.c and the outcome's text in fmt-txn.c; this file asks and prints.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "buf.h"
#include "cli-rollback.h"
#include "cli.h"
#include "fmt-txn.h"
#include "sanitize.h"
#include "triage.h"
#include "txn.h"
#include "xmalloc.h"

int
cli_rollback_report_pending(struct app *app, FILE *fp)
{
    struct triage_pending p;
    const struct txn_info *v;
    char *cause = NULL;

    if (triage_pending(app_state_dir(app), &p, &cause) == -1) {
        fputs("tlstriage: ", fp);
        cli_put_sanitized(fp, cause);
        fputc('\n', fp);
        free(cause);
        return 0;
    }
    v = p.v;
    for (size_t i = 0; i < p.n; i++) {
        fprintf(fp,
                "tlstriage: unfinished transaction %s (%s, state %s, last step: %s), "
                "started %s by ",
                v[i].id, v[i].kind != NULL ? v[i].kind : "apply", txn_state_name(v[i].state),
                v[i].last_step != NULL ? v[i].last_step : "none", v[i].time ? v[i].time : "?");
        cli_put_sanitized(fp, v[i].user != NULL ? v[i].user : "?");
        fputs("\n  files:", fp);
        for (size_t k = 0; k < v[i].nfiles; k++) {
            fputc(' ', fp);
            cli_put_sanitized(fp, v[i].files[k]);
        }
        fputc('\n', fp);
        if (p.advice[i] == TA_FINISH_ROLLBACK)
            fprintf(fp,
                    "  finish it: tlstriage rollback --complete %s --yes   (or: tlstriage "
                    "rollback --yes %s)\n",
                    v[i].id, v[i].reverts);
        else if (p.advice[i] == TA_RESTORE)
            fprintf(fp, "  restore it: tlstriage rollback --yes %s\n", v[i].id);
        else
            fprintf(fp,
                    "  undo it: tlstriage rollback --yes %s   or finish it (if nginx -t "
                    "passes): tlstriage rollback --complete %s --yes\n",
                    v[i].id, v[i].id);
    }
    int n = (int)p.n;
    triage_pending_free(&p);
    return n;
}

int
cli_rollback_confirm(const char *verb, const char *question, bool yes)
{
    char line[64];

    if (yes)
        return 1;
    if (!isatty(STDIN_FILENO)) {
        cli_usage_error(verb, "no terminal to ask on: pass --yes to go ahead");
        return -1;
    }
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL)
        return 0;
    return line[0] == 'y' || line[0] == 'Y';
}

void
cli_rollback_progress(void *arg, enum txn_step step, int done, const char *msg)
{
    (void)arg;
    if (done == 0)
        return;
    fprintf(stderr, "  %-8s %s", txn_step_name(step), done > 0 ? "ok" : "FAILED");
    if (msg != NULL) {
        fputs(": ", stderr);
        cli_put_sanitized(stderr, msg);
    }
    fputc('\n', stderr);
}

void
cli_rollback_txn_opts(struct app *app, struct txn_opts *o, const char *reload_cmd)
{
    memset(o, 0, sizeof(*o));
    o->state_dir = app_state_dir(app);
    o->nginx.binary = app->nginx;
    o->nginx.conf = app->conf_given ? app->conf : NULL;
    o->nginx.prefix = app->prefix;
    o->nginx.reload_cmd = reload_cmd != NULL ? reload_cmd : app->reload_cmd;
    o->progress = cli_rollback_progress;
}

enum { OPT_YES = 256, OPT_LAST, OPT_COMPLETE, OPT_RELOAD_CMD, OPT_HELP };

static const struct option rollback_options[] = {
    {"last", no_argument, NULL, OPT_LAST},
    {"yes", no_argument, NULL, OPT_YES},
    {"complete", required_argument, NULL, OPT_COMPLETE},
    {"reload-cmd", required_argument, NULL, OPT_RELOAD_CMD},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int
cli_rollback(struct app *app, int argc, char **argv)
{
    bool yes = false, last = false;
    const char *complete = NULL, *reload_cmd = NULL, *id = NULL;
    struct txn_opts o;
    struct txn_result res;
    struct txn_info *v = NULL;
    size_t nv = 0;
    char *cause = NULL, *question = NULL;
    int c, rc;

    optind = 0;
    opterr = 0;
    /* "-": options and the id in any order (rollback ID --yes, rollback --yes ID). */
    while ((c = getopt_long(argc, argv, "-", rollback_options, NULL)) != -1) {
        switch (c) {
        case 1:
            if (id != NULL)
                return cli_usage_error(argv[0], "one transaction id at most ('%s', '%s')", id,
                                       optarg);
            id = optarg;
            break;
        case OPT_LAST:
            last = true;
            break;
        case OPT_YES:
            yes = true;
            break;
        case OPT_COMPLETE:
            complete = optarg;
            break;
        case OPT_RELOAD_CMD:
            reload_cmd = optarg;
            break;
        case OPT_HELP:
            printf("usage: tlstriage [GLOBAL] rollback [--last | ID] [--yes] [--reload-cmd CMD]\n"
                   "       tlstriage [GLOBAL] rollback --complete ID [--yes]\n"
                   "ID may name a rollback: rolling that back puts its change back.\n");
            return EXIT_ALL_WELL;
        default:
            return cli_usage_error(argv[0], "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc && id == NULL) /* after "--" */
        id = argv[optind++];
    if (optind < argc)
        return cli_usage_error(argv[0], "one transaction id at most");
    if ((id != NULL) + last + (complete != NULL) > 1)
        return cli_usage_error(argv[0], "give one of --last, ID or --complete ID");
    cli_rollback_txn_opts(app, &o, reload_cmd);

    /* Say what will happen before asking. */
    if (txn_list(o.state_dir, &v, &nv, &cause) == -1) {
        rc = cli_usage_error(argv[0], "%s", cause);
        goto out;
    }
    const char *target = complete != NULL ? complete : id;
    const struct txn_info *t = NULL;
    for (size_t i = 0; i < nv && t == NULL; i++) {
        if (target != NULL ? strcmp(v[i].id, target) == 0
                           : (v[i].kind != NULL && strcmp(v[i].kind, "apply") == 0 &&
                              v[i].rolled_back_by == NULL && v[i].state != TXN_ABORTED &&
                              v[i].state != TXN_ROLLED_BACK &&
                              !(v[i].nfiles == 0 && v[i].state == TXN_DONE))) /* reload */
            t = &v[i];
    }
    if (t == NULL) {
        rc = target != NULL
                 ? cli_usage_error(argv[0], "no transaction %s in %s/journal", target, o.state_dir)
                 : cli_usage_error(argv[0], "nothing to roll back in %s/journal", o.state_dir);
        goto out;
    }
    fprintf(stderr, "%s %s (%s, %s", complete != NULL ? "complete" : "roll back", t->id,
            t->time != NULL ? t->time : "?", txn_state_name(t->state));
    if (t->summary != NULL) {
        fputs(", ", stderr);
        cli_put_sanitized(stderr, t->summary);
    }
    fputs("):\n", stderr);
    for (size_t k = 0; k < t->nfiles; k++) {
        fputs("  ", stderr);
        cli_put_sanitized(stderr, t->files[k]);
        fputc('\n', stderr);
    }
    question = t->nfiles == 0 && t->state == TXN_DONE && complete == NULL
                   ? xstrdup("It changed no file (a reload only): close it?")
                   : xasprintf("%s these files and reload nginx?",
                               complete != NULL ? "Write the new bytes of" : "Restore");
    switch (cli_rollback_confirm(argv[0], question, yes)) {
    case -1:
        rc = EXIT_USAGE;
        goto out;
    case 0:
        fprintf(stderr, "%s: nothing done\n", argv[0]);
        rc = EXIT_FINDINGS;
        goto out;
    }
    char *tid = xstrdup(t->id);
    if (complete != NULL)
        rc = txn_complete(&o, tid, &res, &cause);
    else
        rc = txn_rollback(&o, tid, &res, &cause);
    free(tid);
    fmt_txn_result_text(rc == TXN_OK ? stdout : stderr, argv[0], rc, &res, cause);
    rc = rc == TXN_OK ? EXIT_ALL_WELL : EXIT_FINDINGS;
    txn_result_free(&res);
out:
    txn_info_free(v, nv);
    free(cause);
    free(question);
    return rc;
}
