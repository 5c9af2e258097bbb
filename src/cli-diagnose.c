/*
 * cli-diagnose.c — `tlstriage diagnose [--format text|json]`: for each upstream TLS
 * incident in the error log, the block nginx used (file:line), the effective proxy_ssl_*
 * values with their origin, a probe under those settings, the cause in plain words and the
 * candidate fixes, each proven by a probe (remedy.c). Also the collection shared with the
 * fix verb (cli-remedy.h). Exit 0 when the log holds no upstream TLS incident, else 1.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "buf.h"
#include "cli-remedy.h"
#include "cli.h"
#include "json.h"
#include "logread.h"
#include "logscan.h"
#include "nginxbin.h"
#include "sanitize.h"
#include "xmalloc.h"


/* The events of one log into st (logread.c: regular files only, the long-line rule).
 * Returns 0, or -1 with *cause naming the file. */
static int
scan_log(struct incident_store *st, const char *path, char **cause)
{
    return logread_store(st, &path, 1, NULL, NULL, NULL, cause);
}

/* The error_log files of the main context (nginx resolves them against the prefix). */
static size_t
default_logs(struct app *app, const struct ngxconf *conf, char ***out)
{
    size_t n = 0;

    *out = NULL;
    for (const struct ngx_node *e = ngxconf_find(conf->root, "error_log"); e != NULL;
         e = ngxconf_find_next(e)) {
        if (e->nargs < 1 || strcmp(e->args[0], "stderr") == 0 ||
            strncmp(e->args[0], "syslog:", 7) == 0 || strncmp(e->args[0], "memory:", 7) == 0)
            continue;
        char *p;
        if (e->args[0][0] == '/')
            p = xstrdup(e->args[0]);
        else if (app->prefix != NULL)
            p = xasprintf("%s%s%s", app->prefix,
                          app->prefix[strlen(app->prefix) - 1] == '/' ? "" : "/", e->args[0]);
        else
            p = ngxconf_full_path(conf, e->args[0]);
        *out = xreallocarray(*out, n + 1, sizeof(**out));
        (*out)[n++] = p;
    }
    return n;
}

static bool
target_is(const struct resolve_target *t, const char *hostport)
{
    char *s = xasprintf("%s:%u", t->host, t->port);
    bool eq = strcmp(s, hostport) == 0;

    free(s);
    return eq;
}

static size_t
target_index(const struct tls_use *use, const char *upstream)
{
    for (size_t i = 0; upstream != NULL && i < use->ntargets; i++) {
        if (target_is(&use->targets[i], upstream))
            return i;
    }
    return 0;
}

/* "GET /s/x?y HTTP/1.1" → "/s/x?y" (allocated), or NULL. */
static char *
request_uri(const char *req)
{
    const char *sp = req != NULL ? strchr(req, ' ') : NULL;
    if (sp == NULL)
        return NULL;
    sp++;
    return xstrndup(sp, strcspn(sp, " "));
}

static bool
already(const struct cli_remedy *r, const struct tls_use *use, size_t ti)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct cli_remedy_item *it = &r->items[i];
        const struct tls_use *u = it->have_rr ? &it->rr.use : it->use; /* rr moves on realloc */
        if (u->block == use->block && it->ti == ti)
            return true;
    }
    return false;
}

static struct cli_remedy_item *
add_item(struct cli_remedy *r)
{
    r->items = xreallocarray(r->items, r->n + 1, sizeof(*r->items));
    memset(&r->items[r->n], 0, sizeof(r->items[0]));
    return &r->items[r->n++];
}

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

int
cli_remedy_collect(struct app *app, const char *verb, const char *upstream,
                   const struct remedy_opts *ro, struct cli_remedy *out)
{
    char *cause = NULL, **logs = NULL;
    size_t nlogs = 0;
    char rp[PATH_MAX];
    struct nginx_version v;

    memset(out, 0, sizeof(*out));
    incident_store_init(&out->store, 0);
    if (ngxconf_load(app->conf, app->prefix, &out->conf, &cause) != 0) {
        warn(verb, cause, NULL);
        free(cause);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < out->conf->nerrors; i++)
        warn(verb, "config warning", out->conf->errors[i].message);
    out->conf_abs = xstrdup(realpath(app->conf, rp) != NULL ? rp : app->conf);
    out->ro = *ro;
    if (ro->cert_dir == NULL && app->cert_dir != NULL)
        out->cert_dir = xstrdup(app->cert_dir); /* settings file */
    else if (ro->cert_dir == NULL) {
        char *slash = strrchr(out->conf_abs, '/');
        out->cert_dir = slash != NULL
                            ? xasprintf("%.*s/certs", (int)(slash - out->conf_abs), out->conf_abs)
                            : xstrdup("certs");
    } else if (ro->cert_dir[0] != '/') {
        char cwd[PATH_MAX];
        out->cert_dir =
            xasprintf("%s/%s", getcwd(cwd, sizeof(cwd)) != NULL ? cwd : ".", ro->cert_dir);
    } else
        out->cert_dir = xstrdup(ro->cert_dir);
    out->ro.cert_dir = out->cert_dir;
    if (nginxbin_version(app->nginx, &v, &cause) == 0)
        out->ro.check_ip_san = nginxbin_checks_ip_san(&v);
    free(cause);
    cause = NULL;

    /* the incidents */
    if (app->nlogs > 0) {
        for (size_t i = 0; i < app->nlogs; i++) {
            if (scan_log(&out->store, app->logs[i], &cause) != 0) {
                warn(verb, cause, NULL); /* a --log given must be a readable log: exit 2 */
                free(cause);
                cli_remedy_free(out);
                return EXIT_USAGE;
            }
        }
    } else {
        nlogs = default_logs(app, out->conf, &logs);
        for (size_t i = 0; i < nlogs; i++) {
            if (scan_log(&out->store, logs[i], &cause) != 0)
                warn(verb, cause, NULL);
            free(cause);
            cause = NULL;
            free(logs[i]);
        }
        free(logs);
    }
    struct incident **sorted = incident_store_sorted(&out->store);
    for (size_t i = 0; i < out->store.n; i++) {
        const struct incident *inc = sorted[i];
        struct resolve_query q;
        char *uri = NULL;

        if (inc->kind == EV_CONFIG_ERROR || inc->upstream == NULL || inc->upstream[0] == '\0')
            continue;
        if (upstream != NULL && strcmp(inc->upstream, upstream) != 0)
            continue;
        memset(&q, 0, sizeof(q));
        q.stream = inc->stream;
        q.upstream = inc->upstream;
        if (inc->stream)
            q.listen = inc->server;
        else {
            q.server = inc->server;
            uri = inc->nsamples > 0 ? request_uri(inc->samples[0]) : NULL;
            q.uri = uri;
        }
        struct resolve_result rr;
        int frc = resolve_find(out->conf, &q, &rr, &cause);
        if (frc != 0 || !rr.has_use) {
            char *what = xasprintf("%s (%s): no TLS upstream block found", inc->upstream,
                                   logscan_kind_name(inc->kind));
            warn(verb, what, cause);
            free(what);
            free(cause);
            cause = NULL;
            if (frc == 0)
                resolve_result_free(&rr);
            free(uri);
            continue;
        }
        free(uri);
        size_t ti = target_index(&rr.use, inc->upstream);
        if (already(out, &rr.use, ti)) {
            resolve_result_free(&rr);
            continue;
        }
        struct cli_remedy_item *it = add_item(out);
        it->rr = rr;
        it->have_rr = true;
        it->use = &it->rr.use;
        it->ti = ti;
        it->inc = inc;
        it->kind = xstrdup(logscan_kind_name(inc->kind));
    }
    free(sorted);
    /* --upstream without an incident: every use targeting it */
    if (upstream != NULL && out->n == 0) {
        out->nuses = resolve_uses(out->conf, &out->uses);
        for (size_t u = 0; u < out->nuses; u++) {
            for (size_t t = 0; t < out->uses[u].ntargets; t++) {
                if (!target_is(&out->uses[u].targets[t], upstream) ||
                    already(out, &out->uses[u], t))
                    continue;
                struct cli_remedy_item *it = add_item(out);
                it->use = &out->uses[u];
                it->ti = t;
            }
        }
    }
    /* items point into rr of the array: fix the pointers after the last realloc */
    for (size_t i = 0; i < out->n; i++) {
        if (out->items[i].have_rr)
            out->items[i].use = &out->items[i].rr.use;
    }
    for (size_t i = 0; i < out->n; i++) {
        struct cli_remedy_item *it = &out->items[i];
        if (remedy_plan(out->conf, it->use, it->ti, &out->ro, &it->rc, &cause) != 0) {
            it->plan_error = cause;
            cause = NULL;
            continue;
        }
        it->planned = true;
        if (it->kind == NULL)
            it->kind = xstrdup(it->rc.verification_disabled && it->rc.probe.verdict == PROBE_OK
                                   ? "verification_disabled"
                                   : probe_verdict_name(it->rc.probe.verdict));
    }
    return 0;
}

void
cli_remedy_free(struct cli_remedy *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct cli_remedy_item *it = &r->items[i];
        if (it->planned)
            remedy_case_free(&it->rc);
        if (it->have_rr)
            resolve_result_free(&it->rr);
        free(it->kind);
        free(it->plan_error);
    }
    free(r->items);
    if (r->uses != NULL)
        resolve_uses_free(r->uses, r->nuses);
    incident_store_free(&r->store);
    ngxconf_free(r->conf);
    free(r->cert_dir);
    free(r->conf_abs);
    memset(r, 0, sizeof(*r));
}

static const char *
origin_words(enum pss_origin o)
{
    return o == PSS_SET ? "set here" : o == PSS_INHERITED ? "inherited" : "nginx's default";
}

void
cli_remedy_print(FILE *fp, const struct cli_remedy_item *it, bool with_diff)
{
    const struct tls_use *use = it->use;

    fputs("upstream ", fp);
    cli_put_sanitized(fp, use->targets[it->ti].host);
    fprintf(fp, ":%u — ", use->targets[it->ti].port);
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
    "usage: tlstriage [GLOBAL] diagnose [--format text|json] [--upstream HOST:PORT]\n"
    "                 [--cert-dir DIR] [--ca FILE] [--client-cert FILE --client-key FILE]\n"
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
print_json(FILE *fp, const struct cli_remedy *r)
{
    struct buf b = {0};
    struct jw w;

    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "incidents");
    jw_arr_open(&w);
    for (size_t i = 0; i < r->n; i++) {
        const struct cli_remedy_item *it = &r->items[i];
        char *up = xasprintf("%s:%u", it->use->targets[it->ti].host, it->use->targets[it->ti].port);
        jw_obj_open(&w);
        jw_kstr(&w, "upstream", up);
        free(up);
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
    struct cli_remedy r;
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
    rc = cli_remedy_collect(app, argv[0], upstream, &ro, &r);
    if (rc != 0)
        return rc;
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
    cli_remedy_free(&r);
    return rc;
}
