/*
 * cli-scan.c — `tlstriage scan`: reads nginx error logs with large read()s, finds candidate
 * lines with memmem, parses them with logscan, and prints events (jsonl) or incidents (text,
 * json). No per-line allocation or stdio. --follow is handed to scan_follow()
 * (cli-scan-follow.c); --since parsing lives here and is shared through scan.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "incident.h"
#include "logscan.h"
#include "scan.h"
#include "scanout.h"
#include "xmalloc.h"

#define SCAN_READ_SIZE (1u << 20) /* bytes per read() */
#define SCAN_FLUSH_AT (64u * 1024)

struct scan_ctx {
    enum cli_format format;
    bool since_given;
    time_t since;
    struct incident_store st;
    struct buf out;
    unsigned long long lines;   /* all files */
    unsigned long long matched; /* events kept (after --since) */
    int write_error;            /* errno of a failed write to stdout, 0 if none */
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

static void
handle_line(struct scan_ctx *ctx, const char *l, size_t n, unsigned long lineno,
            const char *file)
{
    struct ls_event ev;

    if (n > LOGSCAN_MAX_LINE || !logscan_parse_line(l, n, lineno, &ev))
        return;
    if (ctx->since_given && (ev.when == (time_t)-1 || ev.when < ctx->since))
        return;
    ctx->matched++;
    if (ctx->format == FMT_JSONL) {
        scanout_event_jsonl(&ctx->out, &ev, NULL);
        if (ctx->out.len >= SCAN_FLUSH_AT)
            flush_out(ctx);
    } else {
        incident_store_add(&ctx->st, &ev, file);
    }
}

/* Handles the complete lines in [buf, buf+len); returns the bytes consumed (up to and
 * including the last newline). *flines counts the file's lines. */
static size_t
scan_block(struct scan_ctx *ctx, const char *buf, size_t len, unsigned long *flines,
           const char *file)
{
    const char *p = buf, *lim, *last;

    last = memrchr(buf, '\n', len);
    if (last == NULL)
        return 0;
    lim = last + 1;
    while (p < lim) {
        size_t nl = 0;
        const char *hit = logscan_find_marker(p, lim, &nl), *ls, *le;

        *flines += nl;
        if (hit == NULL)
            break;
        ls = hit > p ? memrchr(p, '\n', (size_t)(hit - p)) : NULL;
        ls = ls != NULL ? ls + 1 : p;
        le = memchr(hit, '\n', (size_t)(lim - hit));
        handle_line(ctx, ls, (size_t)(le - ls), *flines + 1, file);
        (*flines)++;
        p = le + 1;
    }
    return (size_t)(lim - buf);
}

/* Reads one open file to its end. Returns 0, or -1 with *cause set. */
static int
scan_fd(struct scan_ctx *ctx, int fd, const char *name, char **cause)
{
    size_t cap = SCAN_READ_SIZE + LOGSCAN_MAX_LINE + 1, have = 0;
    char *buf = xmalloc(cap);
    unsigned long flines = 0;
    bool skipping = false; /* inside a line longer than LOGSCAN_MAX_LINE */
    const char *file = strcmp(name, "-") == 0 ? NULL : name;
    int rc = -1;

#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - have);
        size_t used, start = 0;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            *cause = xasprintf("%s: %s", name, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        if (skipping) {
            const char *nl = memchr(buf, '\n', have);
            if (nl == NULL) {
                have = 0;
                continue;
            }
            flines++;
            start = (size_t)(nl + 1 - buf);
            skipping = false;
        }
        used = start + scan_block(ctx, buf + start, have - start, &flines, file);
        have -= used;
        if (have > LOGSCAN_MAX_LINE) {
            skipping = true;
            have = 0;
        } else if (have > 0 && used > 0) {
            memmove(buf, buf + used, have);
        }
    }
    if (have > 0 && !skipping) { /* a last line without its newline */
        flines++;
        handle_line(ctx, buf, have, flines, file);
    } else if (skipping) {
        flines++;
    }
    rc = 0;
out:
    ctx->lines += flines;
    free(buf);
    return rc;
}

/* Parses N[smhd] or an absolute date and time (local, or UTC with Z / an offset). */
int
scan_parse_since(const char *s, time_t now, time_t *out)
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
            long long mult = e[0] == 's' ? 1 : e[0] == 'm' ? 60 : e[0] == 'h' ? 3600
                           : e[0] == 'd' ? 86400 : 0;
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
        if (i == 5 || *p == '\0' || *p == 'Z' || *p == '+' || (*p == '-' && i >= 3) ||
            *p == '.')
            break;
        char sep = *p;
        if (i < 2 ? (sep != '-' && sep != '/') : i == 2 ? (sep != ' ' && sep != 'T')
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
    const char *since_arg = NULL;
    bool follow = false;
    int c, rc = EXIT_USAGE, *fds = NULL;
    size_t nfiles = 0;
    char *cause = NULL;
    static const char *default_log[] = {"/var/log/nginx/error.log", NULL};

    memset(&opts, 0, sizeof(opts));
    memset(&ctx, 0, sizeof(ctx));
    opts.format = FMT_TEXT;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+f:h", scan_options, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (cli_parse_format("scan", optarg, FMT_TEXT | FMT_JSON | FMT_JSONL, &opts.format) <
                0)
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
        if (scan_parse_since(since_arg, time(NULL), &opts.since) < 0)
            return cli_usage_error("scan", "cannot read --since '%s' (use '2026-11-27 03:00', "
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
        return scan_follow(app, &opts);
    }
    if (opts.backfill != NULL)
        return cli_usage_error("scan", "--backfill goes with --follow");

    /* Open everything first: an unreadable file stops the scan before any output. */
    fds = xcalloc(opts.nfiles, sizeof(*fds));
    for (nfiles = 0; nfiles < opts.nfiles; nfiles++) {
        const char *f = opts.files[nfiles];
        struct stat sb;
        if (strcmp(f, "-") == 0) {
            fds[nfiles] = STDIN_FILENO;
            continue;
        }
        /* --log names a log file: a FIFO or socket there would block or read nothing. A
         * FILE argument may be one (scan <(zcat old.gz)). */
        if (opts.files == app->logs && stat(f, &sb) == 0 && !S_ISREG(sb.st_mode) &&
            !S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "tlstriage: scan: %s: not a regular file (%s)\n", f,
                    S_ISFIFO(sb.st_mode)   ? "a FIFO"
                    : S_ISSOCK(sb.st_mode) ? "a socket"
                                           : "a device");
            goto out;
        }
        if ((fds[nfiles] = open(f, O_RDONLY | O_CLOEXEC)) < 0) {
            fprintf(stderr, "tlstriage: scan: %s: %s\n", f, strerror(errno));
            goto out;
        }
        if (fstat(fds[nfiles], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "tlstriage: scan: %s: is a directory\n", f);
            close(fds[nfiles]);
            goto out;
        }
    }

    ctx.format = opts.format;
    ctx.since_given = opts.since_given;
    ctx.since = opts.since;
    incident_store_init(&ctx.st, 0);
    for (size_t i = 0; i < nfiles; i++) {
        if (scan_fd(&ctx, fds[i], opts.files[i], &cause) < 0) {
            flush_out(&ctx);
            fprintf(stderr, "tlstriage: scan: %s\n", cause);
            rc = EXIT_USAGE;
            goto done;
        }
    }
    if (opts.format == FMT_JSON)
        scanout_incidents_json(&ctx.out, &ctx.st, ctx.lines);
    else if (opts.format == FMT_TEXT) {
        if (ctx.st.n == 0)
            buf_addf(&ctx.out, "no upstream TLS failures in %llu lines read\n", ctx.lines);
        else
            scanout_incidents_text(&ctx.out, &ctx.st, ctx.lines, ctx.st.newest, opts.color);
    }
    flush_out(&ctx);
    if (ctx.write_error != 0 && ctx.write_error != EPIPE) {
        fprintf(stderr, "tlstriage: scan: writing the output: %s\n", strerror(ctx.write_error));
        rc = EXIT_USAGE;
    } else {
        rc = ctx.matched > 0 ? EXIT_FINDINGS : EXIT_ALL_WELL;
    }
done:
    incident_store_free(&ctx.st);
    buf_free(&ctx.out);
out:
    for (size_t i = 0; i < nfiles; i++) {
        if (fds[i] != STDIN_FILENO)
            close(fds[i]);
    }
    free(fds);
    free(cause);
    return rc;
}
