/*
 * report.c — the postmortem model (include/report.h): reads the error logs through
 * logread.c into an incident store, the journal through journal.c, and the config (names
 * and secret files only) through ngxconf.c; teaches the redactor what to keep and hide,
 * then copies every shown string through it. Offline: no probe, no network. Prints
 * nothing. Called by cli-report.c and the TUI (ui.c's R).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "incident.h"
#include "journal.h"
#include "logread.h"
#include "logscan.h"
#include "ngxconf.h"
#include "redact.h"
#include "report.h"
#include "probe.h"
#include "triage.h"
#include "txn.h"
#include "xmalloc.h"

void
report_time(time_t t, char out[21])
{
    struct tm tm;

    if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL) {
        strcpy(out, "-");
        return;
    }
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The journal's "2026-11-27T03:17:01Z", or -1. */
static time_t
parse_iso(const char *s)
{
    struct tm tm;
    const char *e;

    if (s == NULL)
        return (time_t)-1;
    memset(&tm, 0, sizeof(tm));
    e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (e == NULL || *e != '\0')
        return (time_t)-1;
    return timegm(&tm);
}

static void
warn(struct report *rep, char *msg)
{
    rep->warnings = xreallocarray(rep->warnings, rep->nwarnings + 1, sizeof(*rep->warnings));
    rep->warnings[rep->nwarnings++] = msg;
}

/* ---- the config: what to keep, hide, and never show ---- */

/* The host of a proxy_pass/server argument: "https://h:p/x" → "h:p" (allocated). */
static char *
url_hostport(const char *u)
{
    const char *s = strstr(u, "://"), *e;

    s = s != NULL ? s + 3 : u;
    if (strncmp(s, "unix:", 5) == 0 || *s == '$')
        return NULL;
    e = s + strcspn(s, "/?#");
    return e > s ? xstrndup(s, (size_t)(e - s)) : NULL;
}

static void
learn_conf(struct redact *r, const struct ngx_node *n, bool keep_pass)
{
    for (const struct ngx_node *k = n->kids; k != NULL; k = k->next) {
        const char *name = k->name;
        if (keep_pass &&
            (strcmp(name, "proxy_pass") == 0 || strcmp(name, "grpc_pass") == 0 ||
             strcmp(name, "uwsgi_pass") == 0) &&
            k->nargs > 0) {
            char *hp = url_hostport(k->args[0]);
            redact_keep(r, hp);
            free(hp);
        } else if (keep_pass &&
                   (strcmp(name, "proxy_ssl_name") == 0 ||
                    (strcmp(name, "server") == 0 && !k->block)) &&
                   k->nargs > 0) {
            redact_keep(r, k->args[0]); /* an upstream group's servers are upstreams */
        } else if (!keep_pass && strcmp(name, "server_name") == 0) {
            for (size_t i = 0; i < k->nargs; i++)
                redact_learn_host(r, k->args[i]);
        } else if (!keep_pass &&
                   (strcmp(name, "ssl_password_file") == 0 ||
                    strcmp(name, "proxy_ssl_password_file") == 0 ||
                    strcmp(name, "ssl_certificate_key") == 0 ||
                    strcmp(name, "proxy_ssl_certificate_key") == 0 ||
                    strcmp(name, "grpc_ssl_certificate_key") == 0 ||
                    strcmp(name, "auth_basic_user_file") == 0) &&
                   k->nargs > 0) {
            redact_learn_secret_file(r, k->args[0]);
        }
        if (k->block)
            learn_conf(r, k, keep_pass);
    }
}

/* Names a diff mentions: server_name words are hidden, proxy_pass hosts kept. */
static void
learn_diff(struct redact *r, const char *diff, bool keep_pass)
{
    const char *s = diff;

    while (s != NULL && *s != '\0') {
        const char *e = strchr(s, '\n');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        char *line = xstrndup(s, len), *save = NULL, *w;
        bool sn = false, pp = false, sf = false;
        for (w = strtok_r(line + (len > 0), " \t;", &save); w != NULL;
             w = strtok_r(NULL, " \t;", &save)) {
            if (sn && !keep_pass)
                redact_learn_host(r, w);
            else if (pp && keep_pass) {
                char *hp = url_hostport(w);
                redact_keep(r, hp);
                free(hp);
                pp = false;
            } else if (sf && !keep_pass) {
                redact_learn_secret_file(r, w);
                sf = false;
            }
            if (strcmp(w, "server_name") == 0)
                sn = true;
            else if (strcmp(w, "proxy_pass") == 0 || strcmp(w, "proxy_ssl_name") == 0)
                pp = true;
            else if (strstr(w, "password_file") != NULL || strstr(w, "certificate_key") != NULL)
                sf = true;
        }
        free(line);
        s += len + (e != NULL);
    }
}

/* ---- incidents ---- */

static void
add_row(struct report *rep, time_t when, const char *what, const char *subject, char *detail)
{
    struct report_row *row;

    rep->rows = xreallocarray(rep->rows, rep->nrows + 1, sizeof(*rep->rows));
    row = &rep->rows[rep->nrows++];
    row->when = when;
    row->what = what;
    row->subject = xstrdup(subject != NULL ? subject : "");
    row->detail = detail;
}

static char *
red(struct redact *r, const char *s)
{
    return s != NULL ? redact_text(r, s, strlen(s)) : NULL;
}

static void
fill_incident(struct redact *r, const struct incident *inc, struct report_incident *ri)
{
    uint32_t mins[INCIDENT_MINUTES];

    ri->upstream = xstrdup(inc->upstream != NULL ? inc->upstream : "");
    ri->kind = logscan_kind_name(inc->kind);
    ri->verify_code = inc->verify_code;
    ri->reason = red(r, inc->reason);
    ri->server = red(r, inc->server);
    if (inc->host != NULL) {
        char *h = xstrdup(inc->host);
        char *c = strrchr(h, ':');
        if (c != NULL && strchr(h, ']') == NULL && strchr(h, ':') == c) {
            *c = '\0';
            ri->host = xasprintf("%s:%s", redact_host(r, h), c + 1);
        } else {
            ri->host = red(r, inc->host);
        }
        free(h);
    }
    const struct incident_explanation *x =
        incident_explain(inc->kind, inc->verify_code, inc->reason);
    ri->cause = x->plain;
    ri->means = x->means;
    ri->count = inc->count;
    ri->first = inc->first_seen;
    ri->last = inc->last_seen;
    if (ri->first != (time_t)-1 && ri->last != (time_t)-1) {
        double minutes = (double)(ri->last - ri->first) / 60.0;
        ri->rate = (double)inc->count / (minutes < 1.0 ? 1.0 : minutes);
        incident_minutes(inc, inc->last_seen, mins);
        for (size_t i = 0; i < INCIDENT_MINUTES; i++)
            if (mins[i] > ri->peak)
                ri->peak = mins[i];
    }
    ri->clients = xcalloc(inc->nclients + 1, sizeof(*ri->clients));
    for (size_t i = 0; i < inc->nclients; i++) {
        /* a client is hidden even when it shares the upstream's address (loopback) */
        ri->clients[ri->nclients++] = xstrdup(redact_address(r, inc->clients[i]));
    }
    ri->clients_more = inc->clients_overflow;
    ri->samples = xcalloc(inc->nsamples + 1, sizeof(*ri->samples));
    for (size_t i = 0; i < inc->nsamples; i++)
        ri->samples[ri->nsamples++] = red(r, inc->samples[i]);
    ri->file = inc->file != NULL ? xstrdup(inc->file) : NULL;
    ri->line = inc->line;
    ri->ttd = ri->ttf = -1;
}

/* ---- transactions ---- */

static char *
summary_upstream(const char *summary)
{
    const char *p, *e;

    if (summary == NULL || strncmp(summary, "fix ", 4) != 0)
        return NULL;
    p = summary + 4;
    e = strstr(p, ": ");
    return e != NULL && e > p ? xstrndup(p, (size_t)(e - p)) : NULL;
}

static void
fill_txn(struct redact *r, const struct journal *j, struct report_txn *t)
{
    t->id = xstrdup(j->id);
    t->kind = xstrdup(j->kind != NULL ? j->kind : "apply");
    t->user = xstrdup(j->user != NULL ? j->user : "");
    t->state = xstrdup(journal_state_name(j->state));
    t->summary = red(r, j->summary);
    t->error = red(r, j->error);
    t->reverts = j->reverts != NULL ? xstrdup(j->reverts) : NULL;
    t->rolled_back_by = j->rolled_back_by != NULL ? xstrdup(j->rolled_back_by) : NULL;
    t->diff = j->diff != NULL ? redact_diff(r, j->diff) : NULL;
    t->upstream = summary_upstream(j->summary);
    t->confirmed = j->confirmed;
    t->files = xcalloc(j->nfiles + 1, sizeof(*t->files));
    for (size_t i = 0; i < j->nfiles; i++)
        t->files[t->nfiles++] = xstrdup(j->files[i].path); /* paths may be shown */
    t->start = parse_iso(j->time);
    t->end = t->verified = (time_t)-1;
    t->steps = xcalloc(j->nsteps + 1, sizeof(*t->steps));
    time_t confirmed = (time_t)-1;
    bool has_verify = false;
    for (size_t i = 0; i < j->nsteps; i++) {
        struct report_step *s = &t->steps[t->nsteps++];
        s->step = xstrdup(j->steps[i].step != NULL ? j->steps[i].step : "?");
        s->status = xstrdup(j->steps[i].status != NULL ? j->steps[i].status : "?");
        s->msg = red(r, j->steps[i].msg);
        s->when = parse_iso(j->steps[i].time);
        if (s->when != (time_t)-1) {
            if (t->start == (time_t)-1 || s->when < t->start)
                t->start = s->when;
            t->end = s->when;
        }
        bool done = strcmp(s->status, "done") == 0;
        if (strcmp(s->step, "verify") == 0) {
            has_verify = true;
            if (done)
                t->verified = s->when;
        } else if (strcmp(s->step, "confirm") == 0 && done) {
            confirmed = s->when;
        }
    }
    if (!has_verify && j->state == TXN_DONE && strcmp(t->kind, "apply") == 0)
        t->verified = confirmed;
    if (j->state != TXN_DONE && j->state != TXN_ROLLED_BACK)
        t->verified = (time_t)-1;
}

static int
cmp_row(const void *a, const void *b)
{
    const struct report_row *x = a, *y = b;

    if (x->when != y->when)
        return x->when < y->when ? -1 : 1;
    return 0;
}

static void
timeline(struct report *rep)
{
    for (size_t i = 0; i < rep->nincidents; i++) {
        struct report_incident *ri = &rep->incidents[i];
        if (ri->first != (time_t)-1)
            add_row(rep, ri->first, "first failure", ri->upstream,
                    xasprintf("%s%s%s", ri->kind, ri->reason != NULL ? ": " : "",
                              ri->reason != NULL ? ri->reason : ""));
        if (ri->last != (time_t)-1 && ri->last != ri->first)
            add_row(rep, ri->last, "last failure", ri->upstream,
                    xasprintf("%llu events in all", ri->count));
    }
    for (size_t i = 0; i < rep->ntxns; i++) {
        struct report_txn *t = &rep->txns[i];
        add_row(rep, t->start, strcmp(t->kind, "rollback") == 0 ? "rollback" : "fix", t->id,
                xstrdup(t->summary != NULL ? t->summary : t->kind));
        for (size_t k = 0; k < t->nsteps; k++) {
            struct report_step *s = &t->steps[k];
            if (strcmp(s->status, "start") == 0 && k + 1 < t->nsteps &&
                strcmp(t->steps[k + 1].step, s->step) == 0)
                continue; /* its "done" or "failed" row follows */
            add_row(rep, s->when, "step", t->id,
                    xasprintf("%s %s%s%s", s->step, s->status, s->msg != NULL ? ": " : "",
                              s->msg != NULL ? s->msg : ""));
        }
        if (t->verified != (time_t)-1)
            add_row(rep, t->verified, "verified fix", t->id,
                    xstrdup(t->upstream != NULL ? t->upstream : ""));
    }
    /* stable: rows of one time keep the order they were added in */
    for (size_t i = 1; i < rep->nrows; i++) {
        struct report_row v = rep->rows[i];
        size_t k = i;
        while (k > 0 && cmp_row(&rep->rows[k - 1], &v) > 0) {
            rep->rows[k] = rep->rows[k - 1];
            k--;
        }
        rep->rows[k] = v;
    }
}

static void
figures(struct report *rep)
{
    rep->first_failure = rep->first_action = rep->fixed = (time_t)-1;
    rep->ttd = rep->ttf = -1;
    for (size_t i = 0; i < rep->nincidents; i++) {
        time_t f = rep->incidents[i].first;
        if (f != (time_t)-1 && (rep->first_failure == (time_t)-1 || f < rep->first_failure))
            rep->first_failure = f;
    }
    if (rep->first_failure == (time_t)-1)
        return;
    for (size_t i = 0; i < rep->ntxns; i++) {
        const struct report_txn *t = &rep->txns[i];
        if (t->start == (time_t)-1 || t->start < rep->first_failure)
            continue;
        if (rep->first_action == (time_t)-1) {
            rep->first_action = t->start;
            rep->first_action_id = xstrdup(t->id);
        }
        if (rep->fixed == (time_t)-1 && strcmp(t->kind, "apply") == 0 &&
            t->verified != (time_t)-1 && t->rolled_back_by == NULL)
            rep->fixed = t->verified;
    }
    if (rep->first_action != (time_t)-1)
        rep->ttd = (long)(rep->first_action - rep->first_failure);
    if (rep->fixed != (time_t)-1)
        rep->ttf = (long)(rep->fixed - rep->first_failure);
    for (size_t i = 0; i < rep->nincidents; i++) {
        struct report_incident *ri = &rep->incidents[i];
        if (ri->first == (time_t)-1)
            continue;
        for (size_t k = 0; k < rep->ntxns; k++) {
            const struct report_txn *t = &rep->txns[k];
            if (t->start == (time_t)-1 || t->start < ri->first)
                continue;
            if (ri->ttd < 0)
                ri->ttd = (long)(t->start - ri->first);
            if (ri->ttf < 0 && t->upstream != NULL && strcmp(t->upstream, ri->upstream) == 0 &&
                strcmp(t->kind, "apply") == 0 && t->verified != (time_t)-1)
                ri->ttf = (long)(t->verified - ri->first);
        }
    }
}

/* --probe: the triage of diagnose (config, placing, a probe with the effective settings)
 * for every incident; its results go to the incident of the same upstream and kind. */
static void
live_probe(const struct report_opts *o, struct redact *r, struct report *rep)
{
    struct triage_opts to;
    struct triage t;
    char *why = NULL;

    memset(&to, 0, sizeof(to));
    memset(&t, 0, sizeof(t));
    to.conf = o->conf;
    to.prefix = o->prefix;
    to.nginx = o->nginx;
    to.logs = o->logs;
    to.nlogs = o->nlogs;
    if (triage_collect(&to, &t, &why) != 0) {
        char *w = red(r, why);
        warn(rep, xasprintf("--probe: %s", w));
        free(w);
        free(why);
        triage_free(&t);
        return;
    }
    triage_plan(&t);
    for (size_t i = 0; i < t.n; i++) {
        const struct triage_item *it = &t.items[i];
        if (it->inc == NULL)
            continue;
        for (size_t k = 0; k < rep->nincidents; k++) {
            struct report_incident *ri = &rep->incidents[k];
            if (ri->probed || strcmp(ri->upstream, it->inc->upstream) != 0 ||
                strcmp(ri->kind, logscan_kind_name(it->inc->kind)) != 0)
                continue;
            ri->probed = true;
            if (it->planned) {
                ri->probe_verdict = probe_verdict_name(it->rc.probe.verdict);
                ri->probe_message = red(r, it->rc.probe.nginx_message);
                ri->probe_cause = red(r, it->rc.cause);
            } else {
                ri->probe_cause = red(r, it->plan_error != NULL ? it->plan_error : "not probed");
            }
            break;
        }
    }
    triage_free(&t);
}

static int
cmp_incident(const void *a, const void *b)
{
    const struct incident *x = *(struct incident *const *)a, *y = *(struct incident *const *)b;

    if (x->first_seen != y->first_seen)
        return x->first_seen < y->first_seen ? -1 : 1;
    return strcmp(x->upstream != NULL ? x->upstream : "", y->upstream != NULL ? y->upstream : "");
}

int
report_build(const struct report_opts *o, struct report *rep, char **cause)
{
    struct redact *r = redact_new(o->redact);
    struct incident_store st;
    struct ngxconf *conf = NULL;
    struct journal *js = NULL;
    struct txn_info *infos = NULL;
    size_t ninfos = 0, njs = 0;
    struct logread_opts lo = {.since_given = o->since_given, .since = o->since};
    struct logread_warnings lw = {NULL, 0};
    struct incident **sorted = NULL;
    char *why = NULL;
    int rc = -1;

    memset(rep, 0, sizeof(*rep));
    incident_store_init(&st, 0);
    rep->generated = o->now;
    rep->since_given = o->since_given;
    rep->since = o->since;
    rep->redacted = o->redact;
    if (o->redact_map != NULL && redact_load_map(r, o->redact_map, cause) == -1)
        goto out;

    /* the config: only names and secret-file paths are taken from it */
    if (o->conf != NULL) {
        if (ngxconf_load(o->conf, o->prefix, &conf, &why) == 0) {
            rep->conf = xstrdup(o->conf);
        } else {
            warn(rep, xasprintf("config not read (names in it are not known to the "
                                "redactor): %s",
                                why));
            free(why);
            why = NULL;
        }
    }
    if (o->nlogs > 0) {
        for (size_t i = 0; i < o->nlogs; i++) {
            rep->logs = xreallocarray(rep->logs, rep->nlogs + 1, sizeof(*rep->logs));
            rep->logs[rep->nlogs++] = xstrdup(o->logs[i]);
        }
    } else if (conf != NULL) {
        rep->nlogs = triage_default_logs(o->prefix, conf, &rep->logs);
    }
    if (rep->nlogs > 0 &&
        logread_store(&st, (const char *const *)rep->logs, rep->nlogs, &lo, NULL, &lw, cause) == -1)
        goto out;

    /* the journal */
    if (journal_list(o->state_dir, false, &infos, &ninfos, cause) == -1)
        goto out;
    js = xcalloc(ninfos + 1, sizeof(*js));
    for (size_t i = ninfos; i-- > 0;) { /* oldest first */
        if (journal_load(o->state_dir, infos[i].id, &js[njs], &why) == -1) {
            warn(rep, why);
            why = NULL;
            continue;
        }
        time_t t = parse_iso(js[njs].time);
        if (o->since_given && t != (time_t)-1 && t < o->since) {
            journal_free(&js[njs]);
            continue;
        }
        njs++;
    }

    /* teach the redactor: upstreams are kept first, then names to hide are learned */
    for (size_t i = 0; i < st.n; i++)
        redact_keep(r, st.items[i]->upstream);
    for (size_t i = 0; i < njs; i++) {
        char *u = summary_upstream(js[i].summary);
        redact_keep(r, u);
        free(u);
        learn_diff(r, js[i].diff, true);
    }
    if (conf != NULL)
        learn_conf(r, conf->root, true);
    if (conf != NULL)
        learn_conf(r, conf->root, false);
    for (size_t i = 0; i < njs; i++)
        learn_diff(r, js[i].diff, false);
    for (size_t i = 0; i < st.n; i++) {
        const struct incident *inc = st.items[i];
        if (inc->server != NULL && !inc->stream)
            redact_learn_host(r, inc->server);
        redact_learn_host(r, inc->host);
    }

    sorted = xcalloc(st.n + 1, sizeof(*sorted));
    for (size_t i = 0; i < st.n; i++)
        sorted[i] = st.items[i];
    qsort(sorted, st.n, sizeof(*sorted), cmp_incident);
    rep->incidents = xcalloc(st.n + 1, sizeof(*rep->incidents));
    for (size_t i = 0; i < st.n; i++)
        fill_incident(r, sorted[i], &rep->incidents[rep->nincidents++]);
    rep->txns = xcalloc(njs + 1, sizeof(*rep->txns));
    for (size_t i = 0; i < njs; i++)
        fill_txn(r, &js[i], &rep->txns[rep->ntxns++]);
    if (o->probe)
        live_probe(o, r, rep);
    for (size_t i = 0; i < lw.n; i++)
        warn(rep, xasprintf("%s%s%s", lw.items[i].file != NULL ? lw.items[i].file : "",
                            lw.items[i].file != NULL ? ": " : "", lw.items[i].message));
    for (size_t i = 0; i < rep->nwarnings; i++) {
        char *w = red(r, rep->warnings[i]);
        free(rep->warnings[i]);
        rep->warnings[i] = w;
    }
    timeline(rep);
    figures(rep);
    for (int k = 0; k < RK__COUNT; k++)
        rep->redactions[k] = redact_count(r, (enum redact_kind)k);
    rc = 0;
out:
    if (rc == -1)
        report_free(rep);
    for (size_t i = 0; i < njs; i++)
        journal_free(&js[i]);
    free(js);
    txn_info_free(infos, ninfos);
    free(sorted);
    logread_warnings_free(&lw);
    incident_store_free(&st);
    if (conf != NULL)
        ngxconf_free(conf);
    redact_free(r);
    return rc;
}

static void
free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void
report_free(struct report *rep)
{
    for (size_t i = 0; i < rep->nincidents; i++) {
        struct report_incident *ri = &rep->incidents[i];
        free(ri->upstream);
        free(ri->reason);
        free(ri->server);
        free(ri->host);
        free_strv(ri->clients, ri->nclients);
        free_strv(ri->samples, ri->nsamples);
        free(ri->file);
        free(ri->probe_message);
        free(ri->probe_cause);
    }
    free(rep->incidents);
    for (size_t i = 0; i < rep->ntxns; i++) {
        struct report_txn *t = &rep->txns[i];
        free(t->id);
        free(t->kind);
        free(t->user);
        free(t->state);
        free(t->summary);
        free(t->error);
        free(t->reverts);
        free(t->rolled_back_by);
        free(t->diff);
        free(t->upstream);
        free_strv(t->files, t->nfiles);
        for (size_t k = 0; k < t->nsteps; k++) {
            free(t->steps[k].step);
            free(t->steps[k].status);
            free(t->steps[k].msg);
        }
        free(t->steps);
    }
    free(rep->txns);
    for (size_t i = 0; i < rep->nrows; i++) {
        free(rep->rows[i].subject);
        free(rep->rows[i].detail);
    }
    free(rep->rows);
    free_strv(rep->logs, rep->nlogs);
    free(rep->conf);
    free(rep->first_action_id);
    free_strv(rep->warnings, rep->nwarnings);
    memset(rep, 0, sizeof(*rep));
}
