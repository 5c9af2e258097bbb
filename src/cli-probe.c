/*
 * cli-probe.c — the `probe` verb: parses HOST:PORT targets and options that mirror the
 * proxy_ssl_* directives, runs probe.c on them concurrently, and prints the results through
 * fmt-probe.c as text, JSON or Prometheus textfile. The probes of a config (--all,
 * --location-of, --server) are planned by triage.c; all probing is in probe.c; every
 * certificate or config byte printed goes through sanitize.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "app.h"
#include "atomicfile.h"
#include "buf.h"
#include "cli.h"
#include "fmt-check.h"
#include "fmt-probe.h"
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
    OPT_PASSWORD_FILE,
    OPT_CRL,
    OPT_TIMEOUT,
    OPT_FORMAT,
    OPT_PARALLEL,
    OPT_CONF,
    OPT_LOCATION_OF,
    OPT_SERVER,
    OPT_URI,
    OPT_ALL,
    OPT_STREAM,
    OPT_GRPC,
    OPT_UWSGI,
    OPT_NO_WHATIF,
    OPT_TEXTFILE,
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
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"crl", required_argument, NULL, OPT_CRL},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"conf", required_argument, NULL, OPT_CONF},
    {"location-of", required_argument, NULL, OPT_LOCATION_OF},
    {"server", required_argument, NULL, OPT_SERVER},
    {"uri", required_argument, NULL, OPT_URI},
    {"all", no_argument, NULL, OPT_ALL},
    {"stream", no_argument, NULL, OPT_STREAM},
    {"grpc", no_argument, NULL, OPT_GRPC},
    {"uwsgi", no_argument, NULL, OPT_UWSGI},
    {"no-what-if", no_argument, NULL, OPT_NO_WHATIF},
    {"textfile", required_argument, NULL, OPT_TEXTFILE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char probe_usage[] =
    "usage: tlstriage probe HOST:PORT [HOST:PORT...] [--trusted FILE] [--depth N]\n"
    "         [--name NAME] [--sni|--no-sni] [--protocols \"TLSv1.2 TLSv1.3\"] [--ciphers LIST]\n"
    "         [--cert FILE --key FILE [--password-file FILE]] [--crl FILE]\n"
    "         [--timeout SECONDS] [--parallel N]\n"
    "         [--format text|json|prometheus [--textfile FILE]] [--no-what-if]\n"
    "         [--grpc|--uwsgi]   (as grpc_pass grpcs:// (ALPN h2) / uwsgi_pass suwsgi://)\n"
    "       tlstriage probe --conf PATH (--location-of URL | --server NAME --uri PATH | --all)\n"
    "       tlstriage probe --conf PATH (--location-of tcp://ADDR:PORT | --server ADDR:PORT "
    "--stream)\n"
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

/* Prometheus text to stdout, or with textfile to that file atomically (temp file beside
 * it, fsync, rename: node_exporter never reads half a file). Returns 0, or -1 said. */
static int
put_prometheus(const char *textfile, const struct probe_result *res, size_t n,
               const char *const *labels)
{
    char *data = NULL, *cause = NULL;
    size_t len = 0;
    FILE *mf;
    int rc;

    if (textfile == NULL) {
        fmt_probe_prometheus(stdout, res, n, labels);
        return 0;
    }
    if ((mf = open_memstream(&data, &len)) == NULL) {
        fprintf(stderr, "tlstriage: probe: %s: out of memory\n", textfile);
        return -1;
    }
    fmt_probe_prometheus(mf, res, n, labels);
    fclose(mf);
    rc = atomicfile_write(textfile, data, len, 0644, &cause);
    if (rc != 0) {
        fputs("tlstriage: probe: --textfile: ", stderr);
        cli_put_sanitized(stderr, cause);
        fputc('\n', stderr);
    }
    free(data);
    free(cause);
    return rc;
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
            char *f = sanitize_str(x->file != NULL ? x->file : conf);
            fprintf(stderr, "tlstriage: probe: warning: %s:%u: %s\n", f, x->line, m);
            free(f);
        } else {
            char *ctx = sanitize_str(x->subject);
            fprintf(stderr, "tlstriage: probe: %s: %s (skipped)\n", ctx, m);
            free(ctx);
        }
        free(m);
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
    const char *location_of = NULL, *server = NULL, *uri = NULL, *textfile = NULL;
    bool all = false, stream = false, failed = false, family_given = false;
    char **hosts = NULL, *cause = NULL;
    size_t n = 0, nfailed = 0;
    struct triage_probe_plan plan;
    struct triage_probe_query q;
    const char **labels = NULL;
    bool from_conf, timeout_given = false;
    int c, parallel = PROBE_DEFAULT_PARALLEL, rc = EXIT_USAGE;
    struct probe_stats stats = {0, 0};
    /* settings file, else the default */
    int warn_days = app->expiry_set ? app->expiry_days : PROBE_EXPIRY_WARN_DAYS;

    memset(&plan, 0, sizeof(plan));
    memset(&q, 0, sizeof(q));
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
        case OPT_PASSWORD_FILE:
            base.password_file = optarg;
            break;
        case OPT_CRL:
            base.crl = optarg;
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
        case OPT_STREAM:
            stream = true;
            break;
        case OPT_GRPC:
        case OPT_UWSGI:
            if (family_given)
                return cli_usage_error(verb, "--grpc and --uwsgi exclude each other");
            family_given = true;
            base.family = c == OPT_GRPC ? PSS_FAM_GRPC : PSS_FAM_UWSGI;
            break;
        case OPT_NO_WHATIF:
            base.what_if = false;
            break;
        case OPT_TEXTFILE:
            textfile = optarg;
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
    if (textfile != NULL && fmt != FMT_PROMETHEUS)
        return cli_usage_error(verb, "--textfile goes with --format prometheus");
    /* The nginx version decides the IP-SAN rule and the default proxy_ssl_protocols. */
    struct nginx_version nv;
    bool have_nv = false;
    if (app->nginx != NULL) {
        char *why = NULL;
        have_nv = nginxbin_version(app->nginx, &nv, &why) == 0;
        free(why); /* no nginx: the 1.22 rules, said in name_rule */
    }
    if (have_nv && base.protocols == NULL)
        base.protocols = nginxbin_default_protocols(&nv);
    from_conf = location_of != NULL || server != NULL || all;
    if (from_conf) {
        if (optind < argc)
            return cli_usage_error(verb, "give HOST:PORT or --location-of/--server/--all, "
                                         "not both");
        if ((location_of != NULL) + (server != NULL) + all > 1)
            return cli_usage_error(verb, "--location-of, --server and --all exclude each other");
        if (stream && server == NULL)
            return cli_usage_error(verb, "--stream goes with --server ADDR:PORT");
        if (family_given)
            return cli_usage_error(verb, "--grpc and --uwsgi are for HOST:PORT (with --conf the "
                                         "config says which module proxies)");
        if (stream && uri != NULL)
            return cli_usage_error(verb, "--uri is for http servers, not with --stream");
        q.all = all;
        q.stream = stream;
        q.location_of = location_of;
        q.server = server;
        q.uri = uri;
        q.timeout_given = timeout_given;
        q.default_protocols = have_nv ? nginxbin_default_protocols(&nv) : NULL;
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
            rc = EXIT_ALL_WELL;
            if (fmt != FMT_PROMETHEUS)
                fprintf(stdout, "no TLS upstream to probe in %s\n", app->conf);
            else if (put_prometheus(textfile, NULL, 0, NULL) != 0) /* a valid, empty textfile */
                rc = EXIT_USAGE;
            goto out;
        }
        hosts = xcalloc(n, sizeof(*hosts));
    } else {
        if (uri != NULL)
            return cli_usage_error(verb, "--uri goes with --server");
        if (stream)
            return cli_usage_error(verb, "--stream goes with --server ADDR:PORT");
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

    /* The IP-SAN rule of that version, said where a name is an IP literal. */
    for (size_t i = 0; have_nv && i < n; i++) {
        if (needs_nginx_rule(&opts[i])) {
            opts[i].check_ip_san = nginxbin_checks_ip_san(&nv);
            opts[i].nginx_version = nv.version;
        }
    }

    if (probe_run_many(opts, n, res, parallel, &stats, &cause) != 0) {
        fputs("tlstriage: probe: ", stderr);
        cli_put_sanitized(stderr, cause);
        fputc('\n', stderr);
        rc = EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (res[i].verdict == PROBE_CONFIG_ERROR) {
            fputs("tlstriage: probe: ", stderr);
            cli_put_sanitized(stderr, res[i].upstream);
            fputs(": nginx would refuse these settings: ", stderr);
            cli_put_sanitized(stderr, res[i].nginx_message);
            fputc('\n', stderr);
        }
        if (res[i].verdict != PROBE_OK ||
            (all && res[i].nchain > 0 && res[i].chain[0].days_left < warn_days) ||
            (all && res[i].anchor_not_after != 0 && res[i].anchor_days_left < warn_days)) {
            failed = true;
            nfailed++;
        }
    }
    if (fmt == FMT_JSON) {
        fmt_probe_json_list(stdout, res, n);
    } else if (fmt == FMT_PROMETHEUS) {
        if (put_prometheus(textfile, res, n, labels) != 0) {
            rc = EXIT_USAGE;
            goto out;
        }
    } else if (all) {
        fmt_probe_table(stdout, res, opts, labels, n);
        printf("\n%zu upstream%s probed, %zu failing or expiring within %d days\n", n,
               n == 1 ? "" : "s", nfailed, warn_days);
        struct triage_reload_risks rw; /* what the next reload breaks (check does the same) */
        if (cli_reload_risks(app, app->conf, &rw)) {
            struct buf b = BUF_INIT;
            fmt_check_reload_text(&rw, &b);
            if (b.len > 0) /* an empty buf has no storage */
                fwrite(b.p, 1, b.len, stdout);
            buf_free(&b);
            triage_reload_risks_free(&rw);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                fputc('\n', stdout);
            if (labels != NULL) {
                fputs("settings of ", stdout);
                cli_put_sanitized(stdout, labels[i]);
                fputc('\n', stdout);
            }
            fmt_probe_text(stdout, &res[i], &opts[i]);
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
