/*
 * cli-probe.c — the `probe` verb: parses HOST:PORT targets and options that mirror the
 * proxy_ssl_* directives, runs probe.c on them concurrently, and prints the verdict,
 * nginx's message, the chain and the what-ifs as text, JSON or Prometheus textfile.
 * The probes of a config (--all, --location-of, --server) are planned by triage.c; all
 * probing is in probe.c; every certificate or config byte printed goes through sanitize.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
#include "triage.h"
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
    const char *colon;
    char *end;
    long p = 443;

    if (arg[0] == '[') {
        const char *rb = strchr(arg, ']');
        if (rb == NULL || rb == arg + 1)
            return -1;
        colon = rb[1] == ':' ? rb + 1 : NULL;
        if (rb[1] != '\0' && colon == NULL)
            return -1;
        *host = xstrndup(arg, (size_t)(rb - arg + 1));
    } else {
        colon = strrchr(arg, ':');
        if (colon != NULL && strchr(arg, ':') != colon)
            return -1; /* bare IPv6 needs brackets, as in proxy_pass */
        *host = colon != NULL ? xstrndup(arg, (size_t)(colon - arg)) : xstrdup(arg);
    }
    if (colon != NULL) {
        p = strtol(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
            p = -1;
    }
    if ((*host)[0] == '\0' || p < 0) {
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

    return strchr(n, ':') != NULL || n[0] == '[' || probe_is_ipv4_literal(n, len);
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

/* ---- targets from the nginx config: triage_probe_plan ---- */

/* The plan's warnings, as "tlstriage: probe: ..." lines (sanitized). */
static void
print_plan_warnings(const struct triage_warnings *w, const char *conf)
{
    for (size_t i = 0; i < w->n; i++) {
        const struct triage_warning *x = &w->v[i];
        char *m = sanitize_str(x->message);
        if (x->kind == TW_CONFIG) {
            fprintf(stderr, "tlstriage: probe: warning: %s:%u: %s\n",
                    x->file != NULL ? x->file : conf, x->line, m);
        } else {
            char *ctx = sanitize_str(x->subject);
            fprintf(stderr, "tlstriage: probe: %s: %s (skipped)\n", ctx, m);
            free(ctx);
        }
        free(m);
    }
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
    struct triage_probe_plan plan;
    struct triage_probe_query q;
    const char **labels = NULL;
    bool from_conf, timeout_given = false;
    int c, parallel = PROBE_DEFAULT_PARALLEL, rc = EXIT_USAGE;
    struct probe_stats stats = {0, 0};

    memset(&plan, 0, sizeof(plan));
    memset(&q, 0, sizeof(q));
    probe_opts_init(&base);
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
            timeout_given = true;
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
        q.all = all;
        q.location_of = location_of;
        q.server = server;
        q.uri = uri;
        q.timeout_given = timeout_given;
        int prc = triage_probe_plan(app->conf, app->prefix, &q, &base, &plan, &cause);
        print_plan_warnings(&plan.warnings, app->conf);
        if (prc != 0) {
            if (cause != NULL) {
                char *why = sanitize_str(cause);
                fprintf(stderr, "tlstriage: probe: %s\n", why);
                free(why);
            }
            rc = EXIT_USAGE;
            goto out;
        }
        /* the plan owns them; this verb reads and frees its own copies below */
        n = plan.n;
        opts = xcalloc(n > 0 ? n : 1, sizeof(*opts));
        labels = xcalloc(n > 0 ? n : 1, sizeof(*labels));
        for (size_t i = 0; i < n; i++) {
            opts[i] = plan.opts[i];
            labels[i] = plan.labels[i];
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
            (all && res[i].nchain > 0 && res[i].chain[0].days_left < PROBE_EXPIRY_WARN_DAYS) ||
            (all && res[i].anchor_not_after != 0 &&
             res[i].anchor_days_left < PROBE_EXPIRY_WARN_DAYS)) {
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
               n == 1 ? "" : "s", nfailed, PROBE_EXPIRY_WARN_DAYS);
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
    triage_probe_plan_free(&plan);
    free(res);
    free(hosts);
    free(opts);
    free(cause);
    return rc;
}
