/*
 * cli-explain.c — the explain verb: `tlstriage explain CODE|KIND` prints the runbook of a
 * cause (a verify code like 18, or a kind like name-mismatch, wrong-version, verify-off);
 * `explain --list` lists them. Formatting and exit codes only; runbook.c loads them.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "runbook.h"
#include "xmalloc.h"

static void
print_runbook(FILE *fp, const struct runbook *rb)
{
    cli_put_sanitized(fp, rb->title);
    fputs("\n\nWhat it means:\n", fp);
    cli_put_lines(fp, "  ", rb->meaning);
    fputs("\nWhy not proxy_ssl_verify off:\n", fp);
    cli_put_lines(fp, "  ", rb->why_not_verify_off);
    fputs("\nSteps:\n", fp);
    for (size_t i = 0; i < rb->nsteps; i++) {
        char num[32];
        snprintf(num, sizeof(num), "  %zu. ", i + 1);
        fputs(num, fp);
        /* continuation lines of a step are indented under its text */
        const char *s = rb->steps[i], *nl = strchr(s, '\n');
        if (nl == NULL || nl[1] == '\0') {
            cli_put_lines(fp, "", s);
        } else {
            char *first = xstrndup(s, (size_t)(nl - s));
            cli_put_lines(fp, "", first);
            free(first);
            cli_put_lines(fp, "     ", nl + 1);
        }
    }
    fputs("\nLonger term:\n", fp);
    cli_put_lines(fp, "  ", rb->longer_term);
    fputs("\n(", fp);
    cli_put_sanitized(fp, rb->file);
    fputs(")\n", fp);
}

int
cli_explain(struct app *app, int argc, char **argv)
{
    const char *verb = argv[0];
    char **dirs, *cause = NULL;
    struct runbook rb;
    int rc;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        puts("usage: tlstriage [GLOBAL] explain CODE|KIND | --list\n"
             "Prints the runbook of a cause: a verify code (18, 20, 10, ...) or a kind\n"
             "(name-mismatch, wrong-version, alert, timeout, refused, verify-off).");
        return EXIT_ALL_WELL;
    }
    if (argc != 2)
        return cli_usage_error(verb, "give one CODE or KIND (or --list)");
    dirs = runbook_dirs(app);
    if (strcmp(argv[1], "--list") == 0) {
        struct runbook *all;
        size_t n = runbook_list(dirs, &all, &cause);
        runbook_dirs_free(dirs);
        if (n == (size_t)-1) {
            fputs("tlstriage: explain: ", stderr);
            cli_put_sanitized(stderr, cause);
            fputc('\n', stderr);
            free(cause);
            return EXIT_USAGE;
        }
        for (size_t i = 0; i < n; i++) {
            printf("%-22s ", all[i].matches[0] != NULL ? all[i].matches[0] : all[i].id);
            cli_put_sanitized(stdout, all[i].title);
            fputc('\n', stdout);
            runbook_free(&all[i]);
        }
        free(all);
        return n > 0 ? EXIT_ALL_WELL : EXIT_USAGE;
    }
    rc = runbook_find(dirs, argv[1], &rb, &cause);
    runbook_dirs_free(dirs);
    if (rc < 0) {
        fputs("tlstriage: explain: ", stderr);
        cli_put_sanitized(stderr, cause);
        fputc('\n', stderr);
        free(cause);
        return EXIT_USAGE;
    }
    if (rc > 0)
        return cli_usage_error(verb, "no runbook for '%s' (see explain --list)", argv[1]);
    print_runbook(stdout, &rb);
    runbook_free(&rb);
    return EXIT_ALL_WELL;
}
