/*
 * cli-complete.c — the hidden `complete` verb the bash completion calls: `complete verbs`
 * (the verb table) and `complete upstreams` (HOST:PORT of every TLS upstream the nginx
 * config names, as fix/diagnose --upstream take them). Reads the config only: no probe,
 * no nginx, no network; prints words that are safe to hand to compgen. Called by main.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "probe.h"
#include "triage.h"
#include "xmalloc.h"

/* A word bash may complete: printable ASCII without blanks, quotes or shell specials. */
static bool
safe_word(const char *s)
{
    if (*s == '\0')
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p <= ' ' || *p >= 0x7f || strchr("\"'`$\\;&|<>(){}*?!#~", *p) != NULL)
            return false;
    }
    return true;
}

static void
print_upstreams(struct app *app)
{
    struct triage_probe_query q;
    struct triage_probe_plan plan;
    struct probe_opts base;
    char **seen;
    size_t nseen = 0;
    char *cause = NULL;

    memset(&q, 0, sizeof(q));
    memset(&plan, 0, sizeof(plan));
    probe_opts_init(&base);
    q.all = true;
    if (triage_probe_plan(app->conf, app->prefix, &q, &base, &plan, &cause) != 0) {
        free(cause); /* a completion says nothing: no words */
        triage_probe_plan_free(&plan);
        return;
    }
    seen = xcalloc(plan.n + 1, sizeof(*seen));
    for (size_t i = 0; i < plan.n; i++) {
        const struct probe_opts *o = &plan.opts[i];
        bool v6 = strchr(o->host, ':') != NULL && o->host[0] != '[';
        char *w = xasprintf(v6 ? "[%s]:%d" : "%s:%d", o->host, o->port);
        bool dup = false;
        for (size_t j = 0; j < nseen && !dup; j++)
            dup = strcmp(seen[j], w) == 0;
        if (dup || !safe_word(w)) {
            free(w);
            continue;
        }
        puts(w);
        seen[nseen++] = w;
    }
    for (size_t j = 0; j < nseen; j++)
        free(seen[j]);
    free(seen);
    triage_probe_plan_free(&plan);
}

int
cli_complete(struct app *app, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "verbs") == 0) {
        for (const struct cli_verb *v = cli_verbs; v->name != NULL; v++)
            puts(v->name);
        return EXIT_ALL_WELL;
    }
    if (argc == 2 && strcmp(argv[1], "upstreams") == 0) {
        print_upstreams(app);
        return EXIT_ALL_WELL;
    }
    return cli_usage_error(argv[0], "expected 'verbs' or 'upstreams'");
}
