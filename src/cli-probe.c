/*
 * cli-probe.c — the `probe` verb: parses HOST:PORT targets and options that mirror the
 * proxy_ssl_* directives, runs probe.c on them concurrently, and prints the verdict,
 * nginx's message, the chain and the what-ifs as text, JSON or Prometheus textfile.
 * All probing is in probe.c; every certificate or config byte printed goes through sanitize.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "app.h"
#include "buf.h"
#include "certinfo.h"
#include "cli.h"
#include "json.h"
#include "nginxbin.h"
#include "ngxconf.h"
#include "probe.h"
#include "resolve.h"
#include "sanitize.h"
#include "xmalloc.h"

enum {
    OPT_TRUSTED = 256,
    OPT_DEPTH,
    OPT_NAME,
    OPT_SNI,
    OPT_NO_SNI,
    OPT_PROTOCOLS,
    OPT_CIPHERS,
    OPT_CERT,
    OPT_KEY,
    OPT_TIMEOUT,
    OPT_FORMAT,
    OPT_PARALLEL,
    OPT_CONF,
    OPT_LOCATION_OF,
    OPT_SERVER,
    OPT_URI,
    OPT_ALL,
    OPT_NO_WHATIF,
    OPT_HELP,
};

static const struct option probe_options[] = {
    {"trusted", required_argument, NULL, OPT_TRUSTED},
    {"depth", required_argument, NULL, OPT_DEPTH},
    {"name", required_argument, NULL, OPT_NAME},
    {"sni", no_argument, NULL, OPT_SNI},
    {"no-sni", no_argument, NULL, OPT_NO_SNI},
    {"protocols", required_argument, NULL, OPT_PROTOCOLS},
    {"ciphers", required_argument, NULL, OPT_CIPHERS},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"conf", required_argument, NULL, OPT_CONF},
    {"location-of", required_argument, NULL, OPT_LOCATION_OF},
    {"server", required_argument, NULL, OPT_SERVER},
    {"uri", required_argument, NULL, OPT_URI},
    {"all", no_argument, NULL, OPT_ALL},
    {"no-what-if", no_argument, NULL, OPT_NO_WHATIF},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char probe_usage[] =
    "usage: tlstriage probe HOST:PORT [HOST:PORT...] [--trusted FILE] [--depth N]\n"
    "         [--name NAME] [--sni|--no-sni] [--protocols \"TLSv1.2 TLSv1.3\"] [--ciphers LIST]\n"
    "         [--cert FILE --key FILE] [--timeout SECONDS] [--parallel N]\n"
    "         [--format text|json|prometheus] [--no-what-if]\n"
    "       tlstriage probe --conf PATH (--location-of URL | --server NAME --uri PATH | --all)\n"
    "Handshakes as nginx would (proxy_ssl_verify on) and prints nginx's verdict and message.\n"
    "Exit status: 0 nginx would succeed, 1 it would fail, 2 usage or input error.\n";

/* "host:port", "[v6]:port", or "host" (port 443). */
static int
parse_target(const char *arg, char **host, int *port)
{
    unsigned p;

    if (addr_split(arg, strlen(arg), 443, host, &p) != 0)
        return -1;
    if ((*host)[0] == '\0') {
        free(*host);
        *host = NULL;
        return -1;
    }
    *port = (int)p;
    return 0;
}

static bool
needs_nginx_rule(const struct probe_opts *o)
{
    const char *n = o->name != NULL ? o->name : o->host;
    size_t len = strlen(n);

    return strchr(n, ':') != NULL || n[0] == '[' || addr_is_ipv4(n, len);
}

/* ---- text ---- */

static void
put_sanitized(FILE *fp, const char *label, const char *s)
{
    char *t = sanitize_str(s);
    fprintf(fp, "%s%s\n", label, t);
    free(t);
}

/* What a what-if verdict means, in words; name is a proxy_ssl_name that would pass, when
 * the same leaf is kept (so a remaining name mismatch has a fix too). */
static void
put_would(FILE *fp, enum probe_verdict v, const char *name)
{
    char *n;

    switch (v) {
    case PROBE_OK:
        fputs("nginx would then succeed\n", fp);
        break;
    case PROBE_NAME_MISMATCH:
        if (name == NULL) {
            fputs("the chain would verify, but the name would still not match\n", fp);
            break;
        }
        n = sanitize_str(name);
        fprintf(fp,
                "the chain would verify; with proxy_ssl_name %s as well, nginx would "
                "succeed\n",
                n);
        free(n);
        break;
    case PROBE_VERIFY_ERROR:
        fputs("still a verify error\n", fp);
        break;
    default:
        fprintf(fp, "%s\n", probe_verdict_name(v) != NULL ? probe_verdict_name(v) : "not tried");
    }
}

static void
print_cert(FILE *fp, size_t i, const struct cert_info *ci)
{
    char *san = certinfo_san_text(ci);

    fprintf(fp, "  [%zu]", i);
    put_sanitized(fp, " subject: ", ci->subject);
    put_sanitized(fp, "      issuer:  ", ci->issuer);
    put_sanitized(fp, "      SAN:     ", san[0] != '\0' ? san : "(none)");
    fprintf(fp, "      valid:   %s .. %s (%ld days %s)\n", ci->not_before_s, ci->not_after_s,
            ci->days_left < 0 ? -ci->days_left : ci->days_left,
            ci->days_left < 0 ? "ago: EXPIRED" : "left");
    put_sanitized(fp, "      serial:  ", ci->serial);
    fprintf(fp, "      key:     %s, signed with %s\n", ci->key, ci->sig_alg);
    fprintf(fp, "      sha256:  %s\n", ci->sha256);
    fprintf(fp, "      CA: %s, self-signed: %s, in the trusted file: %s\n",
            ci->is_ca ? "yes" : "no", ci->self_signed ? "yes" : "no", ci->trusted ? "yes" : "no");
    free(san);
}

static void
print_fixes(FILE *fp, const struct probe_result *r, const struct probe_opts *o)
{
    const struct probe_whatif *w = &r->what_if;

    if (!w->computed || r->verdict == PROBE_OK)
        return;
    fprintf(fp, "what would change the verdict:\n");
    const char *name = w->nnames > 0 && strchr(w->names[0], '*') == NULL ? w->names[0] : NULL;
    if (w->unlimited_depth != PROBE_NOT_TRIED && r->verdict == PROBE_VERIFY_ERROR) {
        fprintf(fp, "  - a larger proxy_ssl_verify_depth (now %d): ", o->depth);
        put_would(fp, w->unlimited_depth, name);
    }
    if (w->with_sni != PROBE_NOT_TRIED) {
        fputs("  - proxy_ssl_server_name on (the upstream may pick its certificate by SNI): ", fp);
        put_would(fp, w->with_sni, NULL);
    }
    if (w->trust_leaf != PROBE_NOT_TRIED) {
        fputs("  - pin the presented self-signed certificate in proxy_ssl_trusted_certificate: ",
              fp);
        put_would(fp, w->trust_leaf, name);
    }
    if (w->trust_root != PROBE_NOT_TRIED) {
        fputs("  - add the presented root to proxy_ssl_trusted_certificate: ", fp);
        put_would(fp, w->trust_root, name);
    }
    if (w->intermediate_note != NULL)
        put_sanitized(fp, "  - intermediate: ", w->intermediate_note);
    if (w->add_intermediate != PROBE_NOT_TRIED) {
        fputs("  - add that intermediate to proxy_ssl_trusted_certificate: ", fp);
        put_would(fp, w->add_intermediate, name);
    }
    if (w->system_store != PROBE_NOT_TRIED) {
        fputs("  - the system CA store as proxy_ssl_trusted_certificate: ", fp);
        put_would(fp, w->system_store, name);
    }
    if (r->verdict == PROBE_NAME_MISMATCH || w->nnames > 0) {
        if (w->nnames == 0)
            fprintf(fp, "  - no name in the certificate would pass as proxy_ssl_name\n");
        for (size_t i = 0; i < w->nnames; i++) {
            char *n = sanitize_str(w->names[i]);
            fprintf(fp, "  - proxy_ssl_name %s; would pass the name check\n", n);
            free(n);
        }
    }
    fprintf(fp, "  (proxy_ssl_verify off is never a fix: it hands every request to whoever "
                "answers on that address)\n");
}

static void
print_text(FILE *fp, const struct probe_result *r, const struct probe_opts *o)
{
    char *up = sanitize_str(r->upstream), *name = sanitize_str(r->name);

    if (r->verdict == PROBE_OK)
        fprintf(fp, "%s: OK\n", up);
    else
        fprintf(fp, "%s: FAIL %s\n", up, probe_verdict_name(r->verdict));
    if (r->nginx_message != NULL) {
        put_sanitized(fp, "  nginx logs: ", r->nginx_message);
        if (r->phase != NULL)
            fprintf(fp, "    ... while %s\n", r->phase);
    } else
        fprintf(fp, "  nginx would complete the handshake and pass the request on\n");
    if (probe_hint(r) != NULL)
        fprintf(fp, "  likely: %s\n", probe_hint(r));
    fprintf(fp, "  name \"%s\", SNI %s, depth %d, %s%s%s, %ld ms\n", name,
            r->sni != NULL ? "sent" : "not sent", o->depth,
            r->protocol != NULL ? r->protocol : "no handshake", r->cipher != NULL ? " " : "",
            r->cipher != NULL ? r->cipher : "", r->elapsed_ms);
    fprintf(fp, "  name rule: %s\n", r->name_rule);
    if (r->anchor_not_after != 0)
        fprintf(fp, "  trusted file: its earliest certificate expiry is %ld days %s\n",
                r->anchor_days_left < 0 ? -r->anchor_days_left : r->anchor_days_left,
                r->anchor_days_left < 0 ? "ago (EXPIRED)" : "away");
    if (o->verify && o->trusted == NULL)
        fprintf(fp, "  note: no trusted file given: nothing is trusted (nginx -t refuses "
                    "proxy_ssl_verify on without proxy_ssl_trusted_certificate)\n");
    if (r->chain_total > 0) {
        fprintf(fp, "chain as sent (%zu certificate%s%s):\n", r->chain_total,
                r->chain_total == 1 ? "" : "s",
                r->chain_total > r->nchain ? ", only the first shown" : "");
        for (size_t i = 0; i < r->nchain; i++)
            print_cert(fp, i, &r->chain[i]);
    }
    if (r->nverified > 0) {
        fprintf(fp, "verified chain:\n");
        for (size_t i = 0; i < r->nverified; i++) {
            fprintf(fp, "  [%zu]", i);
            put_sanitized(fp, " ", r->verified[i].subject);
        }
    }
    print_fixes(fp, r, o);
    free(up);
    free(name);
}

/* ---- prometheus textfile ---- */

/* A label value: sanitized (no control bytes), then escaped as the text format wants. */
static void
prom_label(struct buf *b, const char *s)
{
    char *t = sanitize_str(s != NULL ? s : "");

    for (const char *p = t; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"')
            buf_addf(b, "\\%c", *p);
        else
            buf_addc(b, *p);
    }
    free(t);
}

static void
print_prometheus(FILE *fp, const struct probe_result *res, size_t n, const char *const *locations)
{
    struct buf b = BUF_INIT;
    time_t now = time(NULL);

    buf_adds(&b, "# HELP tlstriage_upstream_verify_ok 1 when nginx would complete the TLS "
                 "handshake with the upstream and pass the request on\n"
                 "# TYPE tlstriage_upstream_verify_ok gauge\n");
    for (size_t i = 0; i < n; i++) {
        buf_adds(&b, "tlstriage_upstream_verify_ok{upstream=\"");
        prom_label(&b, res[i].upstream);
        buf_adds(&b, "\",location=\"");
        prom_label(&b, locations != NULL ? locations[i] : "");
        buf_addf(&b, "\"} %d\n", res[i].verdict == PROBE_OK);
    }
    buf_adds(&b, "# HELP tlstriage_upstream_cert_expiry_seconds seconds until the upstream's "
                 "leaf certificate expires\n"
                 "# TYPE tlstriage_upstream_cert_expiry_seconds gauge\n");
    for (size_t i = 0; i < n; i++) {
        if (res[i].nchain == 0)
            continue;
        buf_adds(&b, "tlstriage_upstream_cert_expiry_seconds{upstream=\"");
        prom_label(&b, res[i].upstream);
        buf_adds(&b, "\",location=\"");
        prom_label(&b, locations != NULL ? locations[i] : "");
        buf_addf(&b, "\"} %.0f\n", difftime(res[i].chain[0].not_after, now));
    }
    fputs(buf_str(&b), fp);
    buf_free(&b);
}

static int
parse_seconds(const char *s, int *ms)
{
    char *end;
    double d = strtod(s, &end);

    if (*s == '\0' || *end != '\0' || !(d > 0) || d > 3600)
        return -1;
    *ms = (int)(d * 1000 + 0.5);
    if (*ms < 1)
        *ms = 1;
    return 0;
}

/* ---- targets from the nginx config (ngxconf + resolve) ---- */

struct conf_plan {
    struct ngxconf *conf;
    struct tls_use *uses; /* --all: every TLS use; else the one resolve_find chose */
    size_t nuses;
    struct resolve_result rr;
    bool have_rr;
    char **owned;       /* strings the probe options borrow */
    bool timeout_given; /* --timeout overrides proxy_connect_timeout */
    size_t nowned;
};

static const char *
plan_keep(struct conf_plan *p, char *s)
{
    p->owned = xreallocarray(p->owned, p->nowned + 1, sizeof(*p->owned));
    p->owned[p->nowned++] = s;
    return s;
}

static void
plan_free(struct conf_plan *p)
{
    for (size_t i = 0; i < p->nowned; i++)
        free(p->owned[i]);
    free(p->owned);
    if (p->uses != NULL)
        resolve_uses_free(p->uses, p->nuses);
    if (p->have_rr)
        resolve_result_free(&p->rr);
    if (p->conf != NULL)
        ngxconf_free(p->conf);
}

/* nginx's time value ("500ms", "1s", "2m", "1h", "10"): milliseconds, or -1. */
static long
nginx_msec(const char *v)
{
    static const struct {
        const char *suffix;
        long ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
    long total = 0;

    if (*v == '\0')
        return -1;
    while (*v != '\0') {
        char *end;
        long n = strtol(v, &end, 10);
        size_t i;
        if (end == v || n < 0)
            return -1;
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t len = strlen(units[i].suffix);
            if (strncmp(end, units[i].suffix, len) == 0 &&
                (len > 0 || *end == '\0' || *end == ' ')) {
                total += n * units[i].ms;
                v = end + len;
                break;
            }
        }
        if (i == sizeof(units) / sizeof(units[0]))
            return -1;
        while (*v == ' ')
            v++;
    }
    return total;
}

/* proxy_connect_timeout effective in block (set there or in an enclosing block), or -1. */
static long
conf_connect_timeout(const struct ngx_node *block)
{
    for (const struct ngx_node *b = block; b != NULL; b = b->parent) {
        const struct ngx_node *d = ngxconf_find(b, "proxy_connect_timeout");
        if (d != NULL)
            return nginx_msec(d->value);
    }
    return -1;
}

/* Adds one probe per target of use; labels[i] says where the settings come from. */
static int
plan_add_use(struct conf_plan *p, const struct tls_use *use, const struct probe_opts *base,
             struct probe_opts **opts, const char ***labels, size_t *n)
{
    if (use->kind == RESOLVE_VARIABLE)
        return 0; /* proxy_pass with a variable: nothing to probe statically */
    for (size_t t = 0; t < use->ntargets; t++) {
        struct proxy_ssl_settings ssl = use->ssl;
        struct probe_opts o;
        char *cause = NULL, *owned[SSLCONF_NPATHS];

        sslconf_full_paths(p->conf, &ssl, owned);
        for (int k = 0; k < SSLCONF_NPATHS; k++) {
            if (owned[k] != NULL)
                plan_keep(p, owned[k]);
        }
        if (probe_opts_from_settings(&o, &ssl, use->targets[t].host, (int)use->targets[t].port,
                                     &cause) != 0) {
            char *ctx = sanitize_str(use->context);
            char *why = sanitize_str(cause);
            fprintf(stderr, "tlstriage: probe: %s: %s (skipped)\n", ctx, why);
            free(ctx);
            free(why);
            free(cause);
            continue;
        }
        o.name = resolve_ssl_name(use); /* proxy_ssl_name, else $proxy_host as nginx */
        o.timeout_ms = base->timeout_ms;
        if (!p->timeout_given) { /* nginx's proxy_connect_timeout, when the config sets one */
            long ms = conf_connect_timeout(use->block);
            if (ms > 0)
                o.timeout_ms = ms > 3600000 ? 3600000 : (int)ms;
        }
        o.what_if = base->what_if;
        *opts = xreallocarray(*opts, *n + 1, sizeof(**opts));
        *labels = xreallocarray(*labels, *n + 1, sizeof(**labels));
        (*opts)[*n] = o;
        (*labels)[*n] = plan_keep(p, xasprintf("%s (%s:%u)", use->context,
                                               use->proxy_pass->file->path, use->proxy_pass->line));
        (*opts)[*n].location = (*labels)[*n];
        (*n)++;
    }
    return 0;
}

/* "https://host:port/path" or "host/path" into server, listen ("host:port", the scheme's
 * port when none is written) and uri, all owned by the plan. */
static void
split_url(struct conf_plan *p, const char *url, const char **server, const char **listen,
          const char **uri)
{
    const char *h = strstr(url, "://");
    int dport = strncmp(url, "https://", 8) == 0 ? 443 : 80;
    size_t hl, nl;

    h = h != NULL ? h + 3 : url;
    hl = strcspn(h, "/?#");
    nl = h[0] == '[' ? strcspn(h, "]/?#") + (h[strcspn(h, "]/?#")] == ']') : strcspn(h, ":/?#");
    if (nl > hl)
        nl = hl;
    *server = plan_keep(p, xstrndup(h, nl));
    if (nl < hl && h[nl] == ':')
        *listen = plan_keep(p, xstrndup(h, hl));
    else
        *listen = plan_keep(p, xasprintf("%.*s:%d", (int)nl, h, dport));
    *uri = plan_keep(p, xstrdup(h[hl] == '/' ? h + hl : "/"));
}

static int
plan_build(struct app *app, struct conf_plan *p, bool all, const char *location_of,
           const char *server, const char *uri, const struct probe_opts *base,
           struct probe_opts **opts, const char ***labels, size_t *n)
{
    char *cause = NULL;

    if (ngxconf_load(app->conf, app->prefix, &p->conf, &cause) != 0) {
        char *c = sanitize_str(cause);
        fprintf(stderr, "tlstriage: probe: %s\n", c);
        free(c);
        free(cause);
        return -1;
    }
    for (size_t i = 0; i < p->conf->nerrors; i++) {
        char *m = sanitize_str(p->conf->errors[i].message);
        fprintf(stderr, "tlstriage: probe: warning: %s:%u: %s\n",
                p->conf->errors[i].file != NULL ? p->conf->errors[i].file : app->conf,
                p->conf->errors[i].line, m);
        free(m);
    }
    if (all) {
        p->nuses = resolve_uses(p->conf, &p->uses);
        for (size_t i = 0; i < p->nuses; i++)
            plan_add_use(p, &p->uses[i], base, opts, labels, n);
        return 0;
    }
    struct resolve_query q;
    memset(&q, 0, sizeof(q));
    if (location_of != NULL)
        split_url(p, location_of, &q.server, &q.listen, &q.uri);
    else {
        q.server = server;
        q.uri = uri != NULL ? uri : "/";
    }
    if (resolve_find(p->conf, &q, &p->rr, &cause) != 0) {
        char *c = sanitize_str(cause);
        fprintf(stderr, "tlstriage: probe: %s\n", c);
        free(c);
        free(cause);
        return -1;
    }
    p->have_rr = true;
    if (!p->rr.has_use) {
        char *ctx = resolve_context(p->rr.block);
        char *c = sanitize_str(ctx);
        fprintf(stderr, "tlstriage: probe: %s does not proxy to a TLS upstream\n", c);
        free(c);
        free(ctx);
        return -1;
    }
    if (p->rr.use.kind == RESOLVE_VARIABLE) {
        fprintf(stderr, "tlstriage: probe: proxy_pass uses a variable: give HOST:PORT\n");
        return -1;
    }
    plan_add_use(p, &p->rr.use, base, opts, labels, n);
    return *n > 0 ? 0 : -1;
}

static void
print_table(FILE *fp, const struct probe_result *res, const struct probe_opts *opts,
            const char *const *labels, size_t n)
{
    fprintf(fp, "%-24s %-15s %9s %11s  %s\n", "UPSTREAM", "VERDICT", "LEAF_DAYS", "ANCHOR_DAYS",
            "WHERE / NGINX MESSAGE");
    for (size_t i = 0; i < n; i++) {
        char *up = sanitize_str(res[i].upstream), *where = sanitize_str(labels[i]);
        char leaf[24] = "-", anchor[24] = "-";
        if (res[i].nchain > 0)
            snprintf(leaf, sizeof(leaf), "%ld", res[i].chain[0].days_left);
        if (res[i].anchor_not_after != 0)
            snprintf(anchor, sizeof(anchor), "%ld", res[i].anchor_days_left);
        fprintf(fp, "%-24s %-15s %9s %11s  %s%s\n", up, probe_verdict_name(res[i].verdict), leaf,
                anchor, where, opts[i].verify ? "" : " [verification off (unsafe): not verified]");
        if (res[i].nginx_message != NULL) {
            char *m = sanitize_str(res[i].nginx_message);
            fprintf(fp, "%63s%s\n", "", m);
            free(m);
        }
        free(up);
        free(where);
    }
}

/* Exit 1 also when a leaf or a trusted anchor expires within this many days (--all). */
#define PROBE_EXPIRY_WARN_DAYS 30

int
cli_probe(struct app *app, int argc, char **argv)
{
    const char *verb = "probe";
    struct probe_opts base, *opts = NULL;
    struct probe_result *res = NULL;
    enum cli_format fmt = FMT_TEXT;
    const char *location_of = NULL, *server = NULL, *uri = NULL;
    bool all = false, failed = false;
    char **hosts = NULL, *cause = NULL;
    size_t n = 0, nfailed = 0;
    struct conf_plan plan;
    const char **labels = NULL;
    bool from_conf;
    int c, parallel = PROBE_DEFAULT_PARALLEL, rc = EXIT_USAGE;
    struct probe_stats stats = {0, 0};
    /* settings file, else the default */
    int warn_days = app->expiry_set ? app->expiry_days : PROBE_EXPIRY_WARN_DAYS;

    memset(&plan, 0, sizeof(plan));
    probe_opts_init(&base);
    if (app->probe_timeout_ms > 0)
        base.timeout_ms = app->probe_timeout_ms; /* settings file */
    base.what_if = true;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", probe_options, NULL)) != -1) {
        char *end;
        long v;
        switch (c) {
        case OPT_TRUSTED:
            base.trusted = optarg;
            break;
        case OPT_DEPTH:
            v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 0 || v > 100)
                return cli_usage_error(verb, "--depth wants a number 0..100, not '%s'", optarg);
            base.depth = (int)v;
            break;
        case OPT_NAME:
            base.name = optarg;
            break;
        case OPT_SNI:
            base.server_name = true;
            break;
        case OPT_NO_SNI:
            base.server_name = false;
            break;
        case OPT_PROTOCOLS:
            base.protocols = optarg;
            break;
        case OPT_CIPHERS:
            base.ciphers = optarg;
            break;
        case OPT_CERT:
            base.cert = optarg;
            break;
        case OPT_KEY:
            base.key = optarg;
            break;
        case OPT_TIMEOUT:
            plan.timeout_given = true;
            if (parse_seconds(optarg, &base.timeout_ms) != 0)
                return cli_usage_error(verb, "--timeout wants seconds (0 < s <= 3600), not '%s'",
                                       optarg);
            break;
        case OPT_FORMAT:
            if (cli_parse_format(verb, optarg, FMT_TEXT | FMT_JSON | FMT_PROMETHEUS, &fmt) != 0)
                return EXIT_USAGE;
            break;
        case OPT_PARALLEL:
            v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 1024)
                return cli_usage_error(verb, "--parallel wants 1..1024, not '%s'", optarg);
            parallel = (int)v;
            break;
        case OPT_CONF:
            app->conf = optarg;
            app->conf_given = true;
            break;
        case OPT_LOCATION_OF:
            location_of = optarg;
            break;
        case OPT_SERVER:
            server = optarg;
            break;
        case OPT_URI:
            uri = optarg;
            break;
        case OPT_ALL:
            all = true;
            break;
        case OPT_NO_WHATIF:
            base.what_if = false;
            break;
        case OPT_HELP:
        case 'h':
            fputs(probe_usage, stdout);
            return EXIT_ALL_WELL;
        default:
            return cli_usage_error(verb, "unknown or incomplete option '%s' (see probe --help)",
                                   argv[optind - 1]);
        }
    }
    from_conf = location_of != NULL || server != NULL || all;
    if (from_conf) {
        if (optind < argc)
            return cli_usage_error(verb, "give HOST:PORT or --location-of/--server/--all, "
                                         "not both");
        if ((location_of != NULL) + (server != NULL) + all > 1)
            return cli_usage_error(verb, "--location-of, --server and --all exclude each other");
        if (plan_build(app, &plan, all, location_of, server, uri, &base, &opts, &labels, &n) != 0) {
            rc = EXIT_USAGE;
            goto out;
        }
        if (n == 0) {
            fprintf(stdout, "no TLS upstream to probe in %s\n", app->conf);
            rc = EXIT_ALL_WELL;
            goto out;
        }
        hosts = xcalloc(n, sizeof(*hosts));
    } else {
        if (uri != NULL)
            return cli_usage_error(verb, "--uri goes with --server");
        if (optind >= argc)
            return cli_usage_error(verb, "give at least one HOST:PORT (see probe --help)");
        if ((base.cert == NULL) != (base.key == NULL))
            return cli_usage_error(verb, "--cert and --key go together");
        n = (size_t)(argc - optind);
        opts = xcalloc(n, sizeof(*opts));
        hosts = xcalloc(n, sizeof(*hosts));
        for (size_t i = 0; i < n; i++) {
            opts[i] = base;
            if (parse_target(argv[optind + (int)i], &hosts[i], &opts[i].port) != 0) {
                rc = cli_usage_error(verb, "'%s' is not HOST:PORT", argv[optind + (int)i]);
                goto out;
            }
            opts[i].host = hosts[i];
        }
    }
    res = xcalloc(n, sizeof(*res));

    /* The IP-SAN rule depends on the nginx version; ask nginx only when a name is an IP. */
    struct nginx_version nv;
    {
        bool need = false;
        for (size_t i = 0; i < n; i++)
            need = need || needs_nginx_rule(&opts[i]);
        if (need && app->nginx != NULL) {
            char *why = NULL;
            if (nginxbin_version(app->nginx, &nv, &why) == 0) {
                for (size_t i = 0; i < n; i++) {
                    opts[i].check_ip_san = nginxbin_checks_ip_san(&nv);
                    opts[i].nginx_version = nv.version;
                }
            }
            free(why); /* no nginx: the 1.22 rule, said in name_rule */
        }
    }

    if (probe_run_many(opts, n, res, parallel, &stats, &cause) != 0) {
        fprintf(stderr, "tlstriage: probe: %s\n", cause);
        rc = EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (res[i].verdict == PROBE_CONFIG_ERROR) {
            char *m = sanitize_str(res[i].nginx_message);
            fprintf(stderr, "tlstriage: probe: %s: nginx would refuse these settings: %s\n",
                    res[i].upstream, m);
            free(m);
        }
        if (res[i].verdict != PROBE_OK ||
            (all && res[i].nchain > 0 && res[i].chain[0].days_left < warn_days) ||
            (all && res[i].anchor_not_after != 0 &&
             res[i].anchor_days_left < warn_days)) {
            failed = true;
            nfailed++;
        }
    }
    if (fmt == FMT_JSON) {
        struct buf b = BUF_INIT;
        struct jw w;
        jw_init(&w, &b);
        if (n > 1)
            jw_arr_open(&w);
        for (size_t i = 0; i < n; i++)
            probe_result_json(&w, &res[i]);
        if (n > 1)
            jw_arr_close(&w);
        buf_addc(&b, '\n');
        fputs(buf_str(&b), stdout);
        buf_free(&b);
    } else if (fmt == FMT_PROMETHEUS) {
        print_prometheus(stdout, res, n, labels);
    } else if (all) {
        print_table(stdout, res, opts, labels, n);
        printf("\n%zu upstream%s probed, %zu failing or expiring within %d days\n", n,
               n == 1 ? "" : "s", nfailed, warn_days);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                fputc('\n', stdout);
            if (labels != NULL)
                put_sanitized(stdout, "settings of ", labels[i]);
            print_text(stdout, &res[i], &opts[i]);
        }
        if (n > 1)
            printf("\n%zu upstreams probed, %zu failed; %u TLS context%s built (each trusted "
                   "file loaded once)\n",
                   n, nfailed, stats.contexts, stats.contexts == 1 ? "" : "s");
    }
    rc = failed ? EXIT_FINDINGS : EXIT_ALL_WELL;
    for (size_t i = 0; i < n; i++) {
        if (res[i].verdict == PROBE_CONFIG_ERROR)
            rc = EXIT_USAGE;
    }
out:
    for (size_t i = 0; i < n; i++) {
        if (res != NULL)
            probe_result_free(&res[i]);
        if (hosts != NULL)
            free(hosts[i]);
    }
    free(labels);
    plan_free(&plan);
    free(res);
    free(hosts);
    free(opts);
    free(cause);
    return rc;
}
