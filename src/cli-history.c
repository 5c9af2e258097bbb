/*
 * cli-history.c — `tlstriage history [--format text|json]`: the transaction journal, newest
 * first (id, time, user, kind, files, state, summary). Reads through txn_list(); changes
 * nothing. Reports unfinished transactions on stderr first.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "buf.h"
#include "cli-txn.h"
#include "cli.h"
#include "json.h"
#include "sanitize.h"
#include "txn.h"

enum { OPT_FORMAT = 256, OPT_DIFF, OPT_HELP };

static const struct option history_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"diff", no_argument, NULL, OPT_DIFF},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void
history_json(const struct txn_info *v, size_t n, bool with_diff)
{
    struct buf b = BUF_INIT;
    struct jw w;

    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "transactions");
    jw_arr_open(&w);
    for (size_t i = 0; i < n; i++) {
        jw_obj_open(&w);
        jw_kstr(&w, "id", v[i].id);
        jw_kstr(&w, "time", v[i].time);
        jw_kstr(&w, "user", v[i].user);
        jw_kstr(&w, "kind", v[i].kind);
        jw_kstr(&w, "state", txn_state_name(v[i].state));
        jw_kbool(&w, "confirmed", v[i].confirmed);
        jw_kstr(&w, "summary", v[i].summary);
        jw_key(&w, "files");
        jw_arr_open(&w);
        for (size_t k = 0; k < v[i].nfiles; k++)
            jw_str(&w, v[i].files[k]);
        jw_arr_close(&w);
        jw_kstr(&w, "reverts", v[i].reverts);
        jw_kstr(&w, "rolled_back_by", v[i].rolled_back_by);
        jw_kstr(&w, "last_step", v[i].last_step);
        jw_kstr(&w, "error", v[i].error);
        if (with_diff)
            jw_kstr(&w, "diff", v[i].diff);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_obj_close(&w);
    buf_addc(&b, '\n');
    fwrite(b.p, 1, b.len, stdout);
    buf_free(&b);
}

static void
put(const char *s)
{
    char *c = sanitize_str(s);

    fputs(c, stdout);
    free(c);
}

static void
history_text(const struct txn_info *v, size_t n, bool with_diff)
{
    if (n == 0) {
        puts("no transactions");
        return;
    }
    printf("%-19s  %-20s  %-12s  %-8s  %s\n", "ID", "TIME", "STATE", "USER", "SUMMARY / FILES");
    for (size_t i = 0; i < n; i++) {
        char *user = sanitize_str(v[i].user);
        printf("%-19s  %-20s  %-12s  %-8s  ", v[i].id, v[i].time != NULL ? v[i].time : "?",
               txn_state_name(v[i].state), user);
        free(user);
        put(v[i].summary != NULL ? v[i].summary : v[i].kind);
        if (v[i].rolled_back_by != NULL)
            printf(" (rolled back by %s)", v[i].rolled_back_by);
        putchar('\n');
        for (size_t k = 0; k < v[i].nfiles; k++) {
            printf("%67s", "");
            put(v[i].files[k]);
            putchar('\n');
        }
        if (v[i].error != NULL) {
            printf("%67s", "error: ");
            put(v[i].error);
            putchar('\n');
        }
        if (with_diff && v[i].diff != NULL) {
            for (const char *p = v[i].diff; *p != '\0';) {
                const char *e = strchr(p, '\n');
                size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
                char *c = sanitize_mem(p, len);
                printf("    %s\n", c);
                free(c);
                p += len + (e != NULL);
            }
        }
    }
}

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
        history_json(v, n, with_diff);
    else
        history_text(v, n, with_diff);
    txn_info_free(v, n);
    return EXIT_ALL_WELL;
}
