/*
 * cli-scan.c — `tlstriage scan`: has the logs read by logread.c (which applies --since and the
 * long-line rule) and prints events (jsonl) or incidents (text, json). No per-line allocation
 * or stdio. --follow is handed to cli_scan_follow() (cli-scan-follow.c); --since parsing lives here
 * and is shared through scan.h.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "incident.h"
#include "logread.h"
#include "logscan.h"
#include "cli-scan.h"
#include "scanout.h"
#include "xmalloc.h"

#define SCAN_FLUSH_AT (64u * 1024)

struct scan_ctx {
    enum cli_format format;
    struct incident_store st;
    struct buf out;
    int write_error; /* errno of a failed write to stdout, 0 if none */
};

static void
flush_out(struct scan_ctx *ctx)
{
    if (ctx->out.len == 0)
        return;
    if (ctx->write_error == 0 && scanout_write(STDOUT_FILENO, &ctx->out) < 0)
        ctx->write_error = errno;
    buf_reset(&ctx->out);
}

/* One event the reader kept (after --since). */
static void
on_event(const struct ls_event *ev, const char *file, void *arg)
{
    struct scan_ctx *ctx = arg;

    if (ctx->format == FMT_JSONL) {
        scanout_event_jsonl(&ctx->out, ev, NULL);
        if (ctx->out.len >= SCAN_FLUSH_AT)
            flush_out(ctx);
    } else {
        incident_store_add(&ctx->st, ev, file);
    }
}

/* Parses N[smhd] or an absolute date and time (local, or UTC with Z / an offset). */
int
cli_scan_parse_since(const char *s, time_t now, time_t *out)
{
    struct tm tm;
    char *e;
    int v[6] = {0, 0, 0, 0, 0, 0}, nfields = 0;
    const char *p = s;
    long off = 0;
    bool utc = false;

    if (s == NULL || *s == '\0')
        return -1;
    if (s[0] >= '0' && s[0] <= '9') {
        errno = 0;
        long long n = strtoll(s, &e, 10);
        if (errno == 0 && e != s && e[0] != '\0' && e[1] == '\0' && n >= 0 &&
            n < 100LL * 365 * 86400) {
            long long mult = e[0] == 's'   ? 1
                             : e[0] == 'm' ? 60
                             : e[0] == 'h' ? 3600
                             : e[0] == 'd' ? 86400
                                           : 0;
            if (mult != 0) {
                *out = now - (time_t)(n * mult);
                return 0;
            }
        }
    }
    /* YYYY[-/]MM[-/]DD[( |T)HH:MM[:SS[.frac]]][Z|(+|-)HH[:]MM] */
    static const char seps[] = {'-', '-', ' ', ':', ':'};
    for (int i = 0; i < 6; i++) {
        int width = i == 0 ? 4 : 2, x = 0;
        for (int j = 0; j < width; j++) {
            if (p[j] < '0' || p[j] > '9')
                return -1;
            x = x * 10 + (p[j] - '0');
        }
        v[i] = x;
        p += width;
        nfields = i + 1;
        if (i == 5 || *p == '\0' || *p == 'Z' || *p == '+' || (*p == '-' && i >= 3) || *p == '.')
            break;
        char sep = *p;
        if (i < 2    ? (sep != '-' && sep != '/')
            : i == 2 ? (sep != ' ' && sep != 'T')
                     : sep != seps[i])
            return -1;
        p++;
    }
    if (nfields != 3 && nfields < 5)
        return -1;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z') {
        utc = true;
        p++;
    } else if ((*p == '+' || *p == '-') && nfields >= 5) {
        int sign = *p == '-' ? -1 : 1, hh, mm;
        p++;
        if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9'))
            return -1;
        hh = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (*p == ':')
            p++;
        if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9'))
            return -1;
        mm = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        off = sign * (hh * 3600L + mm * 60L);
        utc = true;
    }
    if (*p != '\0')
        return -1;
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    tm.tm_isdst = -1;
    *out = utc ? timegm(&tm) - (time_t)off : mktime(&tm);
    return *out == (time_t)-1 ? -1 : 0;
}

enum { OPT_FORMAT = 'f', OPT_SINCE = 256, OPT_FOLLOW, OPT_BACKFILL, OPT_HELP = 'h' };

static const struct option scan_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"since", required_argument, NULL, OPT_SINCE},
    {"follow", no_argument, NULL, OPT_FOLLOW},
    {"backfill", required_argument, NULL, OPT_BACKFILL},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char scan_usage[] =
    "usage: tlstriage scan [--format text|jsonl|json] [--since TIME] [--follow] FILE...\n"
    "  FILE          nginx error log ('-' = stdin; default: the --log paths)\n"
    "  --format F    text (incidents, default), jsonl (one event per line), json (incidents)\n"
    "  --since TIME  only events at or after TIME: '2026-11-27 03:00', ISO 8601, or 15m/2h/1d\n"
    "  --follow      keep reading as the logs grow (tail -F); --backfill SIZE reads back first\n"
    "Exit: 0 nothing matched, 1 failures found, 2 usage or unreadable input.\n";

int
cli_scan(struct app *app, int argc, char **argv)
{
    struct scan_opts opts;
    struct scan_ctx ctx;
    struct logread_opts lo;
    struct logread_stats stats = {0, 0};
    struct logread_warnings warnings = {NULL, 0};
    const char *since_arg = NULL;
    bool follow = false;
    int c, rc = EXIT_USAGE;
    char *cause = NULL;
    static const char *default_log[] = {"/var/log/nginx/error.log", NULL};

    memset(&opts, 0, sizeof(opts));
    memset(&ctx, 0, sizeof(ctx));
    memset(&lo, 0, sizeof(lo));
    opts.format = FMT_TEXT;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+f:h", scan_options, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (cli_parse_format("scan", optarg, FMT_TEXT | FMT_JSON | FMT_JSONL, &opts.format) < 0)
                return EXIT_USAGE;
            break;
        case OPT_SINCE:
            since_arg = optarg;
            break;
        case OPT_FOLLOW:
            follow = true;
            break;
        case OPT_BACKFILL:
            opts.backfill = optarg;
            break;
        case OPT_HELP:
            fputs(scan_usage, stdout);
            return EXIT_ALL_WELL;
        default:
            return cli_usage_error("scan", "unknown or incomplete option '%s' (see scan --help)",
                                   argv[optind - 1]);
        }
    }
    if (since_arg != NULL) {
        if (cli_scan_parse_since(since_arg, time(NULL), &opts.since) < 0)
            return cli_usage_error("scan",
                                   "cannot read --since '%s' (use '2026-11-27 03:00', "
                                   "ISO 8601, or 15m, 2h, 1d)",
                                   since_arg);
        opts.since_given = true;
    }
    if (optind < argc) {
        opts.files = (const char **)argv + optind;
        opts.nfiles = (size_t)(argc - optind);
    } else if (app->nlogs > 0) {
        opts.files = app->logs;
        opts.nfiles = app->nlogs;
    } else {
        opts.files = default_log;
        opts.nfiles = 1;
    }
    opts.color = !app->no_color && isatty(STDOUT_FILENO);
    if (follow) {
        if (opts.format == FMT_JSON)
            return cli_usage_error("scan", "--format json needs a finished scan; with --follow "
                                           "use text or jsonl");
        return cli_scan_follow(app, &opts);
    }
    if (opts.backfill != NULL)
        return cli_usage_error("scan", "--backfill goes with --follow");

    /* The reader opens every file before it reads any: an unreadable file stops the scan
     * before any output. */
    ctx.format = opts.format;
    incident_store_init(&ctx.st, 0);
    lo.since_given = opts.since_given;
    lo.since = opts.since;
    if (logread_files(opts.files, opts.nfiles, &lo, on_event, &ctx, &stats, &warnings, &cause) <
        0) {
        flush_out(&ctx);
        fprintf(stderr, "tlstriage: scan: %s\n", cause);
        rc = EXIT_USAGE;
        goto done;
    }
    for (size_t i = 0; i < warnings.n; i++) {
        fputs("tlstriage: scan: ", stderr);
        cli_put_sanitized(stderr, warnings.items[i].file != NULL ? warnings.items[i].file : "-");
        fputs(": ", stderr);
        cli_put_sanitized(stderr, warnings.items[i].message);
        fputc('\n', stderr);
    }
    if (opts.format == FMT_JSON)
        scanout_incidents_json(&ctx.out, &ctx.st, stats.lines);
    else if (opts.format == FMT_TEXT) {
        if (ctx.st.n == 0)
            buf_addf(&ctx.out, "no upstream TLS failures in %llu lines read\n", stats.lines);
        else
            scanout_incidents_text(&ctx.out, &ctx.st, stats.lines, ctx.st.newest, opts.color);
    }
    flush_out(&ctx);
    if (ctx.write_error != 0 && ctx.write_error != EPIPE) {
        fprintf(stderr, "tlstriage: scan: writing the output: %s\n", strerror(ctx.write_error));
        rc = EXIT_USAGE;
    } else {
        rc = stats.events > 0 ? EXIT_FINDINGS : EXIT_ALL_WELL;
    }
done:
    incident_store_free(&ctx.st);
    buf_free(&ctx.out);
    logread_warnings_free(&warnings);
    free(cause);
    return rc;
}
