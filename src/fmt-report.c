/*
 * fmt-report.c — renders the postmortem model (report.h) as Markdown for a ticket
 * (headings, a timeline table, fenced diffs) or as JSON (schema: docs/report-schema.json).
 * Every string from a log, the journal or a config goes through the sanitizer (Markdown)
 * or the JSON writer; redaction was done by the model. Called by cli-report.c and ui.c.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fmt-report.h"
#include "json.h"
#include "redact.h"
#include "report.h"
#include "sanitize.h"

/* ---- Markdown ---- */

/* Untrusted text in Markdown prose or a table cell: sanitized, then Markdown's own
 * characters escaped so that nothing in a log line becomes a link, a cell or HTML. */
static void
md_text(struct buf *b, const char *s)
{
    struct buf t = BUF_INIT;

    if (s == NULL) {
        buf_adds(b, "-");
        return;
    }
    sanitize_add(&t, s, strlen(s));
    for (size_t i = 0; i < t.len; i++) {
        char c = t.p[i];
        /* emphasis, code, cells, HTML, strike-through; "](" would close a link text */
        if (strchr("\\`*_<>|~", c) != NULL || (c == ']' && i + 1 < t.len && t.p[i + 1] == '('))
            buf_addc(b, '\\');
        buf_addc(b, c);
    }
    buf_free(&t);
}

static void
md_time(struct buf *b, time_t t)
{
    char s[21];

    report_time(t, s);
    buf_adds(b, s);
}

static void
md_duration(struct buf *b, long s)
{
    if (s < 0) {
        buf_adds(b, "unknown");
        return;
    }
    if (s >= 3600)
        buf_addf(b, "%ldh %02ldm %02lds", s / 3600, (s / 60) % 60, s % 60);
    else if (s >= 60)
        buf_addf(b, "%ldm %02lds", s / 60, s % 60);
    else
        buf_addf(b, "%lds", s);
}

/* A diff in a fence longer than any run of backticks in it; lines as cli_put_diff keeps
 * them (printable ASCII and tabs as they are, the rest through the sanitizer). */
static void
md_diff(struct buf *b, const char *s)
{
    size_t run = 0, best = 0;

    for (const char *p = s; *p != '\0'; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > best)
            best = run;
    }
    size_t fence = best >= 3 ? best + 1 : 3;
    for (size_t i = 0; i < fence; i++)
        buf_addc(b, '`');
    buf_adds(b, "diff\n");
    while (*s != '\0') {
        const char *e = strchr(s, '\n');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        for (size_t i = 0; i < len;) {
            size_t j = i;
            while (j < len && ((s[j] >= 0x20 && s[j] < 0x7f) || s[j] == '\t'))
                j++;
            buf_add(b, s + i, j - i);
            i = j;
            while (j < len && !((s[j] >= 0x20 && s[j] < 0x7f) || s[j] == '\t'))
                j++;
            if (j > i) {
                sanitize_add(b, s + i, j - i);
                i = j;
            }
        }
        buf_addc(b, '\n');
        s += len + (e != NULL);
    }
    for (size_t i = 0; i < fence; i++)
        buf_addc(b, '`');
    buf_addc(b, '\n');
}

static void
md_summary(struct buf *b, const struct report *rep)
{
    unsigned long long events = 0;

    for (size_t i = 0; i < rep->nincidents; i++)
        events += rep->incidents[i].count;
    buf_adds(b, "## Summary\n\n| | |\n|---|---|\n| First failure | ");
    md_time(b, rep->first_failure);
    buf_adds(b, " |\n| First tlstriage action | ");
    md_time(b, rep->first_action);
    if (rep->first_action_id != NULL) {
        buf_adds(b, " (transaction ");
        md_text(b, rep->first_action_id);
        buf_adds(b, ")");
    }
    buf_adds(b, " |\n| Time to detect | ");
    md_duration(b, rep->ttd);
    buf_adds(b, " |\n| Verified fix | ");
    md_time(b, rep->fixed);
    buf_adds(b, " |\n| Time to fix | ");
    md_duration(b, rep->ttf);
    buf_addf(b, " |\n| Incidents | %zu (%llu events) |\n| Transactions | %zu |\n\n",
             rep->nincidents, events, rep->ntxns);
}

static void
md_incident(struct buf *b, size_t n, const struct report_incident *ri)
{
    buf_addf(b, "### %zu. ", n);
    md_text(b, ri->upstream[0] != '\0' ? ri->upstream : "(no upstream: config error)");
    buf_adds(b, " — ");
    md_text(b, ri->kind);
    if (ri->verify_code >= 0)
        buf_addf(b, " %d", ri->verify_code);
    if (ri->reason != NULL) {
        buf_adds(b, " (");
        md_text(b, ri->reason);
        buf_adds(b, ")");
    }
    buf_adds(b, "\n\n- **Cause:** ");
    md_text(b, ri->cause);
    buf_adds(b, " — ");
    md_text(b, ri->means);
    buf_adds(b, "\n- **Server:** ");
    md_text(b, ri->server);
    buf_adds(b, " · **Host:** ");
    md_text(b, ri->host);
    buf_adds(b, "\n- **First seen:** ");
    md_time(b, ri->first);
    buf_adds(b, " · **Last seen:** ");
    md_time(b, ri->last);
    buf_addf(b, "\n- **Events:** %llu · **Rate:** %.2f/min (busiest minute: %u)\n", ri->count,
             ri->rate, ri->peak);
    buf_adds(b, "- **Time to detect:** ");
    md_duration(b, ri->ttd);
    buf_adds(b, " · **Time to fix:** ");
    md_duration(b, ri->ttf);
    buf_addf(b, "\n- **Clients (%zu%s):** ", ri->nclients, ri->clients_more ? "+" : "");
    for (size_t i = 0; i < ri->nclients; i++) {
        if (i > 0)
            buf_adds(b, ", ");
        md_text(b, ri->clients[i]);
    }
    if (ri->nclients == 0)
        buf_adds(b, "-");
    buf_adds(b, "\n");
    for (size_t i = 0; i < ri->nsamples; i++) {
        buf_adds(b, i == 0 ? "- **Sample requests:** " : ", ");
        md_text(b, ri->samples[i]);
    }
    if (ri->nsamples > 0)
        buf_adds(b, "\n");
    buf_adds(b, "- **Probe:** ");
    if (!ri->probed) {
        buf_adds(b, "not run (the report is offline; --probe probes live)");
    } else {
        md_text(b, ri->probe_verdict != NULL ? ri->probe_verdict : "could not probe");
        if (ri->probe_message != NULL) {
            buf_adds(b, ": ");
            md_text(b, ri->probe_message);
        }
        if (ri->probe_cause != NULL) {
            buf_adds(b, " — ");
            md_text(b, ri->probe_cause);
        }
    }
    buf_adds(b, "\n");
    if (ri->file != NULL) {
        buf_adds(b, "- **Logged in:** ");
        md_text(b, ri->file);
        buf_addf(b, ":%lu\n", ri->line);
    }
    buf_adds(b, "\n");
}

static void
md_txn(struct buf *b, const struct report_txn *t)
{
    buf_adds(b, "### ");
    md_text(b, t->id);
    buf_adds(b, " — ");
    md_text(b, t->kind);
    buf_adds(b, ", ");
    md_text(b, t->state);
    buf_adds(b, "\n\n- **Summary:** ");
    md_text(b, t->summary);
    buf_adds(b, "\n- **User:** ");
    md_text(b, t->user);
    buf_adds(b, " · **Started:** ");
    md_time(b, t->start);
    buf_adds(b, " · **Verified:** ");
    md_time(b, t->verified);
    buf_addf(b, " · **Reload confirmed:** %s\n", t->confirmed ? "yes" : "no");
    if (t->reverts != NULL) {
        buf_adds(b, "- **Reverts:** ");
        md_text(b, t->reverts);
        buf_adds(b, "\n");
    }
    if (t->rolled_back_by != NULL) {
        buf_adds(b, "- **Rolled back by:** ");
        md_text(b, t->rolled_back_by);
        buf_adds(b, "\n");
    }
    if (t->error != NULL) {
        buf_adds(b, "- **Error:** ");
        md_text(b, t->error);
        buf_adds(b, "\n");
    }
    for (size_t i = 0; i < t->nfiles; i++) {
        buf_adds(b, i == 0 ? "- **Files:** " : ", ");
        md_text(b, t->files[i]);
    }
    buf_adds(b, "\n\n| Time (UTC) | Step | Status | Message |\n|---|---|---|---|\n");
    for (size_t i = 0; i < t->nsteps; i++) {
        const struct report_step *s = &t->steps[i];
        buf_adds(b, "| ");
        md_time(b, s->when);
        buf_adds(b, " | ");
        md_text(b, s->step);
        buf_adds(b, " | ");
        md_text(b, s->status);
        buf_adds(b, " | ");
        md_text(b, s->msg != NULL ? s->msg : "");
        buf_adds(b, " |\n");
    }
    buf_adds(b, "\n");
    if (t->diff != NULL && t->diff[0] != '\0') {
        md_diff(b, t->diff);
        buf_adds(b, "\n");
    }
}

void
fmt_report_md(struct buf *b, const struct report *rep)
{
    buf_adds(b, "# tlstriage incident report\n\n- **Generated:** ");
    md_time(b, rep->generated);
    if (rep->since_given) {
        buf_adds(b, " · **Since:** ");
        md_time(b, rep->since);
    }
    buf_adds(b, "\n- **Logs:** ");
    for (size_t i = 0; i < rep->nlogs; i++) {
        if (i > 0)
            buf_adds(b, ", ");
        md_text(b, rep->logs[i]);
    }
    if (rep->nlogs == 0)
        buf_adds(b, "none");
    buf_adds(b, "\n- **Config:** ");
    md_text(b, rep->conf != NULL ? rep->conf : "not read");
    buf_addf(b, "\n- **Redaction:** %s\n\n",
             rep->redacted ? "on (see the end of the report)"
                           : "**OFF** (--no-redact): this report may hold secrets");
    md_summary(b, rep);

    buf_adds(b, "## Timeline\n\n| Time (UTC) | Event | Subject | Detail |\n|---|---|---|---|\n");
    for (size_t i = 0; i < rep->nrows; i++) {
        const struct report_row *row = &rep->rows[i];
        buf_adds(b, "| ");
        md_time(b, row->when);
        buf_adds(b, " | ");
        md_text(b, row->what);
        buf_adds(b, " | ");
        md_text(b, row->subject);
        buf_adds(b, " | ");
        md_text(b, row->detail);
        buf_adds(b, " |\n");
    }
    if (rep->nrows == 0)
        buf_adds(b, "| - | nothing in the logs or the journal | | |\n");
    buf_adds(b, "\n## Incidents\n\n");
    for (size_t i = 0; i < rep->nincidents; i++)
        md_incident(b, i + 1, &rep->incidents[i]);
    if (rep->nincidents == 0)
        buf_adds(b, "No upstream TLS failures in the logs read.\n\n");
    buf_adds(b, "## Transactions\n\n");
    for (size_t i = 0; i < rep->ntxns; i++)
        md_txn(b, &rep->txns[i]);
    if (rep->ntxns == 0)
        buf_adds(b, "No transactions in the journal.\n\n");
    if (rep->nwarnings > 0) {
        buf_adds(b, "## Warnings\n\n");
        for (size_t i = 0; i < rep->nwarnings; i++) {
            buf_adds(b, "- ");
            md_text(b, rep->warnings[i]);
            buf_adds(b, "\n");
        }
        buf_adds(b, "\n");
    }
    buf_adds(b, "## Redaction\n\n");
    if (!rep->redacted) {
        buf_adds(b, "Redaction was **off** (--no-redact): nothing was replaced.\n");
        return;
    }
    unsigned long total = 0;
    for (int k = 0; k < RK__COUNT; k++)
        total += rep->redactions[k];
    buf_addf(b,
             "Done on this host before anything was written: %lu values replaced. Names and "
             "addresses map to stable placeholders (host-N, ip-N, or the --redact-map's "
             "names); secrets read [redacted]; private keys and password files were never "
             "read.\n\n| Kind | Replaced |\n|---|---|\n",
             total);
    for (int k = 0; k < RK__COUNT; k++)
        buf_addf(b, "| %s | %lu |\n", redact_kind_name((enum redact_kind)k), rep->redactions[k]);
}

/* ---- JSON ---- */

static void
j_time(struct jw *w, const char *key, time_t t)
{
    char s[21];

    if (t == (time_t)-1) {
        jw_knull(w, key);
        return;
    }
    report_time(t, s);
    jw_kstr(w, key, s);
}

static void
j_secs(struct jw *w, const char *key, long s)
{
    if (s < 0)
        jw_knull(w, key);
    else
        jw_kint(w, key, s);
}

static void
j_strv(struct jw *w, const char *key, char *const *v, size_t n)
{
    jw_key(w, key);
    jw_arr_open(w);
    for (size_t i = 0; i < n; i++)
        jw_str(w, v[i]);
    jw_arr_close(w);
}

static void
j_number(struct jw *w, const char *key, double v)
{
    jw_key(w, key);
    w->after_key = false;
    buf_addf(w->b, "%.2f", v);
}

void
fmt_report_json(struct buf *b, const struct report *rep)
{
    struct jw w;
    unsigned long long events = 0;
    unsigned long total = 0;

    for (size_t i = 0; i < rep->nincidents; i++)
        events += rep->incidents[i].count;
    jw_init(&w, b);
    jw_obj_open(&w);
    jw_kstr(&w, "schema", "tlstriage-report/1");
    j_time(&w, "generated", rep->generated);
    j_time(&w, "since", rep->since_given ? rep->since : (time_t)-1);
    j_strv(&w, "logs", rep->logs, rep->nlogs);
    jw_kstr(&w, "config", rep->conf);

    jw_key(&w, "summary");
    jw_obj_open(&w);
    j_time(&w, "first_failure", rep->first_failure);
    j_time(&w, "first_action", rep->first_action);
    jw_kstr(&w, "first_action_id", rep->first_action_id);
    j_time(&w, "verified_fix", rep->fixed);
    j_secs(&w, "time_to_detect_s", rep->ttd);
    j_secs(&w, "time_to_fix_s", rep->ttf);
    jw_kint(&w, "incidents", (long long)rep->nincidents);
    jw_kint(&w, "events", (long long)events);
    jw_kint(&w, "transactions", (long long)rep->ntxns);
    jw_obj_close(&w);

    jw_key(&w, "incidents");
    jw_arr_open(&w);
    for (size_t i = 0; i < rep->nincidents; i++) {
        const struct report_incident *ri = &rep->incidents[i];
        jw_obj_open(&w);
        jw_kstr(&w, "upstream", ri->upstream);
        jw_kstr(&w, "kind", ri->kind);
        if (ri->verify_code >= 0)
            jw_kint(&w, "verify_code", ri->verify_code);
        else
            jw_knull(&w, "verify_code");
        jw_kstr(&w, "reason", ri->reason);
        jw_kstr(&w, "server", ri->server);
        jw_kstr(&w, "host", ri->host);
        jw_kstr(&w, "cause", ri->cause);
        jw_kstr(&w, "means", ri->means);
        jw_kint(&w, "count", (long long)ri->count);
        j_time(&w, "first_seen", ri->first);
        j_time(&w, "last_seen", ri->last);
        j_number(&w, "rate_per_minute", ri->rate);
        jw_kint(&w, "peak_per_minute", ri->peak);
        j_strv(&w, "clients", ri->clients, ri->nclients);
        jw_kbool(&w, "clients_truncated", ri->clients_more);
        j_strv(&w, "samples", ri->samples, ri->nsamples);
        jw_kstr(&w, "log_file", ri->file);
        jw_kint(&w, "log_line", (long long)ri->line);
        j_secs(&w, "time_to_detect_s", ri->ttd);
        j_secs(&w, "time_to_fix_s", ri->ttf);
        if (!ri->probed) {
            jw_knull(&w, "probe");
        } else {
            jw_key(&w, "probe");
            jw_obj_open(&w);
            jw_kstr(&w, "verdict", ri->probe_verdict);
            jw_kstr(&w, "message", ri->probe_message);
            jw_kstr(&w, "cause", ri->probe_cause);
            jw_obj_close(&w);
        }
        jw_obj_close(&w);
    }
    jw_arr_close(&w);

    jw_key(&w, "transactions");
    jw_arr_open(&w);
    for (size_t i = 0; i < rep->ntxns; i++) {
        const struct report_txn *t = &rep->txns[i];
        jw_obj_open(&w);
        jw_kstr(&w, "id", t->id);
        jw_kstr(&w, "kind", t->kind);
        jw_kstr(&w, "state", t->state);
        jw_kstr(&w, "user", t->user);
        jw_kstr(&w, "summary", t->summary);
        jw_kstr(&w, "upstream", t->upstream);
        jw_kbool(&w, "confirmed", t->confirmed);
        jw_kstr(&w, "reverts", t->reverts);
        jw_kstr(&w, "rolled_back_by", t->rolled_back_by);
        jw_kstr(&w, "error", t->error);
        j_strv(&w, "files", t->files, t->nfiles);
        j_time(&w, "start", t->start);
        j_time(&w, "end", t->end);
        j_time(&w, "verified", t->verified);
        jw_key(&w, "steps");
        jw_arr_open(&w);
        for (size_t k = 0; k < t->nsteps; k++) {
            jw_obj_open(&w);
            j_time(&w, "time", t->steps[k].when);
            jw_kstr(&w, "step", t->steps[k].step);
            jw_kstr(&w, "status", t->steps[k].status);
            jw_kstr(&w, "message", t->steps[k].msg);
            jw_obj_close(&w);
        }
        jw_arr_close(&w);
        jw_kstr(&w, "diff", t->diff);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);

    jw_key(&w, "timeline");
    jw_arr_open(&w);
    for (size_t i = 0; i < rep->nrows; i++) {
        jw_obj_open(&w);
        j_time(&w, "time", rep->rows[i].when);
        jw_kstr(&w, "event", rep->rows[i].what);
        jw_kstr(&w, "subject", rep->rows[i].subject);
        jw_kstr(&w, "detail", rep->rows[i].detail);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    j_strv(&w, "warnings", rep->warnings, rep->nwarnings);

    jw_key(&w, "redaction");
    jw_obj_open(&w);
    jw_kbool(&w, "enabled", rep->redacted);
    jw_key(&w, "counts");
    jw_obj_open(&w);
    for (int k = 0; k < RK__COUNT; k++) {
        jw_kint(&w, redact_kind_name((enum redact_kind)k), (long long)rep->redactions[k]);
        total += rep->redactions[k];
    }
    jw_obj_close(&w);
    jw_kint(&w, "total", (long long)total);
    jw_obj_close(&w);
    jw_obj_close(&w);
    buf_addc(b, '\n');
}
