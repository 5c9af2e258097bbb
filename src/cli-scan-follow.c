/*
 * cli-scan-follow.c — `tlstriage scan --follow`: runs the follower of triage.c (tail.c →
 * logscan.c → the incident store, or each event) on the one event loop and renders with
 * scanout.c. jsonl streams one object per event; text reprints the incident table every
 * second. SIGINT/SIGTERM/SIGHUP drain what is readable and end with exit 0, as does the end of
 * standard input when that is all it follows. Called by cli-scan.c for --follow; owns no
 * parsing or rendering of its own.
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
#include "logscan.h"
#include "cli-scan.h"
#include "scanout.h"
#include "tail.h"
#include "triage.h"
#include "xmalloc.h"

#define OUT_FLUSH_AT (256 * 1024) /* write(2) once this much is batched, else once per pass */

struct follow {
    struct evloop *loop;
    struct triage_follow *tf; /* tail → logscan → incidents (text) or on_event (jsonl) */
    enum cli_format format;
    bool color;
    bool tty;
    struct buf out;
    struct scanout_jsonl_end end; /* ,"file":"..."}\n of the file last written about */
    bool write_failed;
};

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

/* jsonl: one object per event, batched into one write(2) per OUT_FLUSH_AT bytes. */
static void
on_event(const struct ls_event *ev, const char *path, void *arg)
{
    struct follow *fw = arg;

    scanout_event_jsonl_file(&fw->out, ev, path, &fw->end);
    if (fw->out.len >= OUT_FLUSH_AT)
        out_flush(fw);
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
    scanout_incidents_text(&fw->out, triage_follow_store(fw->tf), triage_follow_lines(fw->tf),
                           time(NULL), fw->color);
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
    case 'k':
    case 'K':
        v <<= 10;
        end++;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        end++;
        break;
    case 'g':
    case 'G':
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
cli_scan_follow(struct app *app, const struct scan_opts *opts)
{
    struct follow fw;
    struct tail_opts to;
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

    /* TZ named once and SIGPIPE ignored (a closed reader shows as EPIPE from write(2)):
     * procenv_init() in main.c. */
    fw.format = opts->format;
    fw.color = opts->color;
    fw.tty = isatty(STDOUT_FILENO) == 1;
    fw.loop = evloop_new();
    if (evloop_signal_add(fw.loop, SIGINT, on_signal, &fw) < 0 ||
        evloop_signal_add(fw.loop, SIGTERM, on_signal, &fw) < 0 ||
        evloop_signal_add(fw.loop, SIGHUP, on_signal, &fw) < 0) {
        fprintf(stderr, "tlstriage: scan: cannot install signal handlers: %s\n", strerror(errno));
        rc = EXIT_USAGE;
        goto out;
    }
    /* only the table shows incidents; jsonl streams each event */
    fw.tf = triage_follow_new(fw.loop, &to, fw.format == FMT_TEXT ? NULL : on_event, &fw);
    for (size_t i = 0; i < opts->nfiles; i++) {
        if (triage_follow_add(fw.tf, opts->files[i], &cause) < 0) {
            fprintf(stderr, "tlstriage: scan: %s\n", cause);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    triage_follow_check(fw.tf); /* the backfill, before the first wait */
    if (fw.format == FMT_TEXT)
        tick = evloop_timer_add(fw.loop, 1000, 1000, on_tick, &fw);
    out_flush(&fw);
    while (!evloop_stopped(fw.loop)) {
        if (evloop_run_once(fw.loop, -1) < 0) {
            fprintf(stderr, "tlstriage: scan: poll: %s\n", strerror(errno));
            break;
        }
        out_flush(&fw);                 /* one write(2) per pass: prompt, and batched under load */
        if (triage_follow_ended(fw.tf)) /* only standard input, and it closed */
            evloop_stop(fw.loop);
    }
    if (!fw.write_failed) {
        triage_follow_drain(fw.tf);
        if (fw.format == FMT_TEXT)
            render_table(&fw, true);
        out_flush(&fw);
    }

out:
    if (tick != 0)
        evloop_timer_del(fw.loop, tick);
    free(cause);
    triage_follow_free(fw.tf);
    evloop_free(fw.loop);
    buf_free(&fw.out);
    scanout_jsonl_end_free(&fw.end);
    return rc;
}
