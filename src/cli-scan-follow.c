/*
 * cli-scan-follow.c — `tlstriage scan --follow`: wires the follower (tail.c) to the event
 * parser (logscan.c), the incident store (incident.c) and the renderers (scanout.c) on the one
 * event loop. jsonl streams one object per event; text reprints the incident table every
 * second. SIGINT/SIGTERM/SIGHUP drain what is readable and end with exit 0, as does the end of
 * standard input when that is all it follows. Called by
 * cli-scan.c for --follow; owns no parsing or rendering of its own.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "buf.h"
#include "cli.h"
#include "evloop.h"
#include "incident.h"
#include "logread.h"
#include "logscan.h"
#include "scan.h"
#include "scanout.h"
#include "tail.h"
#include "xmalloc.h"

#define OUT_FLUSH_AT (256 * 1024) /* write(2) once this much is batched, else once per pass */

struct follow {
    struct evloop *loop;
    struct tail *tail;
    struct incident_store store;
    enum cli_format format;
    bool color;
    bool tty;
    struct buf out;
    struct scanout_jsonl_end end; /* ,"file":"..."}\n of the file last written about */
    unsigned long long lines_read;
    bool write_failed;
    /* The marker search rejects most lines of an ordinary log for a fraction of a parse; in an
     * outage nearly every line is an event and it only adds to each. Every WINDOW lines the
     * share of events decides whether the next WINDOW go through it (same answers either way:
     * logscan_parse_line refuses what the search would). */
    unsigned window_lines, window_events;
    bool prefilter;
    struct logread_opts since; /* the --since rule, the same as the batch scan's */
};

#define WINDOW 256

static void
out_flush(struct follow *fw)
{
    if (fw->out.len == 0)
        return;
    if (!fw->write_failed && scanout_write(STDOUT_FILENO, &fw->out) < 0) {
        fw->write_failed = true; /* reader went away (EPIPE): stop quietly */
        evloop_stop(fw->loop);
    }
    buf_reset(&fw->out);
}

/* A batch of lines (tail_new_batched): one call per read rather than per line, with the
 * window state in registers across the loop. */
static void
on_lines(const struct tail_line *l, size_t n, void *arg)
{
    struct follow *fw = arg;
    unsigned window_lines = fw->window_lines, window_events = fw->window_events;
    bool prefilter = fw->prefilter;

    fw->lines_read += n;
    for (const struct tail_line *last = l + n; l < last; l++) {
        struct ls_event ev;

        if (++window_lines == WINDOW) {
            prefilter = window_events < WINDOW / 2;
            window_lines = window_events = 0;
        }
        if ((prefilter && !logscan_may_match(l->p, l->len)) ||
            !logscan_parse_line(l->p, l->len, l->lineno, &ev))
            continue;
        window_events++;
        if (!logread_keep(&ev, &fw->since)) /* the start was up to the slack early */
            continue;
        if (fw->format == FMT_TEXT) /* only the table shows incidents */
            incident_store_add(&fw->store, &ev, l->path);
        else {
            scanout_event_jsonl_file(&fw->out, &ev, l->path, &fw->end);
            if (fw->out.len >= OUT_FLUSH_AT)
                out_flush(fw);
        }
    }
    fw->window_lines = window_lines;
    fw->window_events = window_events;
    fw->prefilter = prefilter;
}

static void
render_table(struct follow *fw, bool final)
{
    if (fw->tty && !final)
        buf_adds(&fw->out, "\033[H\033[2J");
    else if (!fw->tty) {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
        buf_addf(&fw->out, "---- %s%s ----\n", stamp, final ? " (final)" : "");
    }
    scanout_incidents_text(&fw->out, &fw->store, fw->lines_read, time(NULL), fw->color);
    out_flush(fw);
}

static void
on_tick(struct evloop *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    render_table(arg, false);
}

static void
on_signal(struct evloop *loop, int signo, void *arg)
{
    (void)signo;
    (void)arg;
    evloop_stop(loop);
}

/* "65536", "64k", "10M", "1G" (binary units). */
static int
parse_size(const char *s, off_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    switch (*end) {
    case '\0':
        break;
    case 'k': case 'K':
        v <<= 10;
        end++;
        break;
    case 'm': case 'M':
        v <<= 20;
        end++;
        break;
    case 'g': case 'G':
        v <<= 30;
        end++;
        break;
    default:
        return -1;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end != '\0' || v > (1ull << 50))
        return -1;
    *out = (off_t)v;
    return 0;
}

int
scan_follow(struct app *app, const struct scan_opts *opts)
{
    struct follow fw;
    struct tail_opts to;
    struct sigaction ign;
    char *cause = NULL;
    int rc = EXIT_ALL_WELL, tick = 0;
    bool stdin_given = false;

    (void)app;
    memset(&fw, 0, sizeof(fw));
    memset(&to, 0, sizeof(to));
    to.no_ring = true; /* nothing here shows raw lines: no copy of a read's last ones */
    if (opts->nfiles == 0)
        return cli_usage_error("scan", "--follow needs at least one FILE");
    for (size_t i = 0; i < opts->nfiles; i++) {
        if (strcmp(opts->files[i], "-") != 0)
            continue;
        if (stdin_given)
            return cli_usage_error("scan", "'-' (standard input) can be followed once");
        stdin_given = true;
    }
    /* A closed fd 0 would be taken by the first descriptor the loop opens (its signal pipe),
     * which would then be followed forever. */
    if (stdin_given && fcntl(STDIN_FILENO, F_GETFD) < 0)
        return cli_usage_error("scan", "'-': standard input is closed");
    if (stdin_given && (opts->backfill != NULL || opts->since_given))
        return cli_usage_error("scan", "--since and --backfill apply to files; '-' is read as "
                                       "it arrives (use the sender's own option, e.g. docker "
                                       "logs --since)");
    if (opts->format != FMT_TEXT && opts->format != FMT_JSONL)
        return cli_usage_error("scan", "--follow writes text or jsonl only");
    if (opts->backfill != NULL && opts->since_given)
        return cli_usage_error("scan", "--since and --backfill cannot be combined");
    if (opts->backfill != NULL) {
        to.start = TAIL_START_BACKFILL;
        if (parse_size(opts->backfill, &to.backfill_bytes) < 0)
            return cli_usage_error("scan", "--backfill '%s' is not a size (e.g. 65536, 64k, 10M)",
                                   opts->backfill);
    } else if (opts->since_given) {
        to.start = TAIL_START_SINCE;
        to.since = opts->since;
        to.time_fn = logscan_line_time; /* the nginx prefix of any line */
    }

    /* With TZ unset, glibc's mktime()/localtime() stat /etc/localtime on every call (to see
     * whether it changed): 40% of the follow CPU at 100k lines/s. Naming the zone file once
     * keeps the same zone and drops the per-line stat. */
    if (getenv("TZ") == NULL)
        setenv("TZ", ":/etc/localtime", 0);

    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, NULL); /* a closed reader shows as EPIPE from write(2) */

    fw.format = opts->format;
    fw.prefilter = true;
    fw.since.since_given = opts->since_given;
    fw.since.since = opts->since;
    fw.color = opts->color;
    fw.tty = isatty(STDOUT_FILENO) == 1;
    incident_store_init(&fw.store, 0);
    fw.loop = evloop_new();
    if (evloop_signal_add(fw.loop, SIGINT, on_signal, &fw) < 0 ||
        evloop_signal_add(fw.loop, SIGTERM, on_signal, &fw) < 0 ||
        evloop_signal_add(fw.loop, SIGHUP, on_signal, &fw) < 0) {
        fprintf(stderr, "tlstriage: scan: cannot install signal handlers: %s\n", strerror(errno));
        rc = EXIT_USAGE;
        goto out;
    }
    fw.tail = tail_new_batched(fw.loop, &to, on_lines, &fw);
    for (size_t i = 0; i < opts->nfiles; i++) {
        bool is_stdin = strcmp(opts->files[i], "-") == 0;
        if ((is_stdin ? tail_add_stream(fw.tail, STDIN_FILENO, "-", &cause)
                      : tail_add(fw.tail, opts->files[i], &cause)) < 0) {
            fprintf(stderr, "tlstriage: scan: %s\n", cause);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    tail_check(fw.tail); /* the backfill, before the first wait */
    if (fw.format == FMT_TEXT)
        tick = evloop_timer_add(fw.loop, 1000, 1000, on_tick, &fw);
    out_flush(&fw);
    while (!evloop_stopped(fw.loop)) {
        if (evloop_run_once(fw.loop, -1) < 0) {
            fprintf(stderr, "tlstriage: scan: poll: %s\n", strerror(errno));
            break;
        }
        out_flush(&fw); /* one write(2) per pass: prompt, and batched under load */
        if (tail_ended(fw.tail)) /* only standard input, and it closed */
            evloop_stop(fw.loop);
    }
    if (!fw.write_failed) {
        tail_drain(fw.tail);
        if (fw.format == FMT_TEXT)
            render_table(&fw, true);
        out_flush(&fw);
    }

out:
    if (tick != 0)
        evloop_timer_del(fw.loop, tick);
    free(cause);
    tail_free(fw.tail);
    evloop_free(fw.loop);
    incident_store_free(&fw.store);
    buf_free(&fw.out);
    scanout_jsonl_end_free(&fw.end);
    return rc;
}
