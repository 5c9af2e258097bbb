/*
 * cli-diagnose.c — `tlstriage diagnose [--format text|json]`: for each upstream TLS
 * incident in the error log, the block nginx used (file:line), the effective proxy_ssl_*
 * values with their origin, a probe under those settings, the cause in plain words and the
 * candidate fixes, each proven by a probe (remedy.c), all found by triage.c. Also what the
 * fix verb shares (cli.h): the warnings and the text of one case. Exit 0 when the log holds
 * no upstream TLS incident, else 1.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "buf.h"
#include "cli.h"
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
        case TW_UNPLACED:
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

static const char *
origin_words(enum pss_origin o)
{
    return o == PSS_SET ? "set here" : o == PSS_INHERITED ? "inherited" : "nginx's default";
}

void
cli_remedy_print(FILE *fp, const struct triage_item *it, bool with_diff)
{
    const struct tls_use *use = it->use;

    fputs("upstream ", fp);
    cli_put_sanitized(fp, it->upstream);
    fputs(" — ", fp);
    cli_put_sanitized(fp, it->kind);
    if (it->inc != NULL) {
        fprintf(fp, " (%llu event%s, last ", it->inc->count, it->inc->count == 1 ? "" : "s");
        cli_put_sanitized(fp, it->inc->last_time);
        fputc(')', fp);
    }
    fputc('\n', fp);
    fputs("  where:  ", fp);
    cli_put_sanitized(fp, use->context);
    fputs(" (", fp);
    cli_put_sanitized(fp, use->block->file->path);
    fprintf(fp, ":%u)\n", use->block->line);
    if (!it->planned) {
        fputs("  cannot plan: ", fp);
        cli_put_sanitized(fp, it->plan_error);
        fputc('\n', fp);
        return;
    }
    const struct remedy_case *c = &it->rc;
    fputs("  effective settings:\n", fp);
    for (int k = 0; k < PSS__COUNT; k++) {
        const struct pss_value *v = &c->effective.v[k];
        if (v->origin == PSS_DEFAULT && k != PSS_VERIFY && k != PSS_NAME && k != PSS_VERIFY_DEPTH &&
            k != PSS_SERVER_NAME)
            continue;
        fprintf(fp, "    %-30s ", pss_defs[k].directive);
        cli_put_sanitized(fp, v->value != NULL ? v->value : (k == PSS_NAME ? use->proxy_host : "-"));
        fprintf(fp, "  (%s", origin_words(v->origin));
        if (v->origin != PSS_DEFAULT) {
            fputs(", ", fp);
            cli_put_sanitized(fp, v->file);
            fprintf(fp, ":%u", v->line);
            if (v->origin == PSS_INHERITED && v->block != NULL) {
                fputs(" in ", fp);
                cli_put_sanitized(fp, v->block);
            }
        }
        fputs(")\n", fp);
    }
    fprintf(fp, "  probe now: %s", probe_verdict_name(c->probe.verdict));
    if (c->probe.nginx_message != NULL) {
        fputs(": ", fp);
        cli_put_sanitized(fp, c->probe.nginx_message);
    }
    fputc('\n', fp);
    if (c->verification_disabled)
        fputs("  VULNERABLE: proxy_ssl_verify is off: nginx does not check who answers\n", fp);
    fputs("  cause:  ", fp);
    cli_put_sanitized(fp, c->cause);
    fputc('\n', fp);
    if (c->nfixes == 0) {
        fputs("  fixes:  none on the nginx side", fp);
        fputs(c->probe.verdict == PROBE_OK && !c->verification_disabled ? " needed\n" : "\n", fp);
        return;
    }
    fputs("  fixes:\n", fp);
    for (size_t i = 0; i < c->nfixes; i++) {
        const struct remedy_fix *f = &c->fixes[i];
        fprintf(fp, "    [%zu] %s — %s\n", i + 1, f->id,
                f->verified ? "verified: with this change nginx's handshake succeeds"
                            : "NOT verified (fix --apply refuses it)");
        if (f->verdict_note != NULL)
            cli_put_lines(fp, "        ", f->verdict_note);
        cli_put_lines(fp, "        ", f->summary);
        for (size_t k = 0; k < f->nfiles; k++) {
            fputs("        writes ", fp);
            cli_put_sanitized(fp, f->files[k].path);
            fputs(f->files[k].config ? "\n" : " (new certificate file, 0644)\n", fp);
        }
        if (with_diff)
            cli_put_lines(fp, "        ", f->diff);
    }
}

static const char diagnose_help[] =
    "usage: tlstriage [GLOBAL] diagnose [--format text|json]\n"
    "                 [--upstream HOST:PORT[@SERVER/LOCATION]] [--cert-dir DIR] [--ca FILE]\n"
    "                 [--client-cert FILE --client-key FILE]\n"
    "For each upstream TLS incident in the error log (--log, default: the config's\n"
    "error_log): the block and file:line, the effective proxy_ssl_* values, a probe, the\n"
    "cause and the candidate fixes, each proven by a probe under the changed settings.\n"
    "Exit status: 0 no incident, 1 incidents found, 2 usage or input error.\n";

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

static void
print_json(FILE *fp, const struct triage *r)
{
    struct buf b = {0};
    struct jw w;

    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "incidents");
    jw_arr_open(&w);
    for (size_t i = 0; i < r->n; i++) {
        const struct triage_item *it = &r->items[i];
        jw_obj_open(&w);
        jw_kstr(&w, "upstream", it->upstream);
        jw_kstr(&w, "kind", it->kind);
        if (it->inc != NULL)
            jw_kint(&w, "count", (long long)it->inc->count);
        else
            jw_knull(&w, "count");
        jw_key(&w, "location");
        jw_obj_open(&w);
        jw_kstr(&w, "file", it->use->block->file->path);
        jw_kint(&w, "line", it->use->block->line);
        jw_kstr(&w, "context", it->use->context);
        jw_obj_close(&w);
        jw_key(&w, "effective");
        remedy_effective_json(&w, &it->use->ssl);
        if (!it->planned) {
            jw_knull(&w, "probe");
            jw_kstr(&w, "cause", it->plan_error);
            jw_kbool(&w, "verification_disabled", false);
            jw_key(&w, "fixes");
            jw_arr_open(&w);
            jw_arr_close(&w);
        } else {
            jw_key(&w, "probe");
            probe_result_json(&w, &it->rc.probe);
            jw_kstr(&w, "cause", it->rc.cause);
            jw_kbool(&w, "verification_disabled", it->rc.verification_disabled);
            jw_key(&w, "fixes");
            jw_arr_open(&w);
            for (size_t k = 0; k < it->rc.nfixes; k++)
                remedy_fix_json(&w, &it->rc.fixes[k]);
            jw_arr_close(&w);
        }
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_obj_close(&w);
    buf_addc(&b, '\n');
    fwrite(b.p, 1, b.len, fp);
    buf_free(&b);
}

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
        print_json(stdout, &r);
    else if (r.n == 0)
        puts("no upstream TLS incident in the log");
    else {
        for (size_t i = 0; i < r.n; i++) {
            if (i > 0)
                fputc('\n', stdout);
            cli_remedy_print(stdout, &r.items[i], false);
        }
    }
    rc = r.n > 0 ? EXIT_FINDINGS : EXIT_ALL_WELL;
    triage_free(&r);
    return rc;
}
