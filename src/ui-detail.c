/*
 * ui-detail.c — the Detail screen (Enter on an incident): the latest raw log line, the block
 * nginx used and its effective proxy_ssl_* values, the live probe as a chain diagram with
 * where verification breaks, nginx's exact message, the what-ifs, the cause and the candidate
 * fixes, each verified by probe or not. Placing is triage's (triage_place); planning runs as a
 * job (remedy_wire_job_start) with a spinner, so the screen never freezes. The text parts are
 * fmt-remedy.c's, the same words as `tlstriage diagnose`.
 */
#include "config.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fmt-probe.h"
#include "fmt-remedy.h"
#include "job.h"
#include "logscan.h"
#include "remedy-wire.h"
#include "runbook.h"
#include "sslconf.h"
#include "triage.h"
#include "ui-draw.h"
#include "ui-keys.h"
#include "ui.h"
#include "xmalloc.h"

static const char *const spin_utf8[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
static const char *const spin_ascii[] = {"|", "/", "-", "\\"};

void
ui_doc_clear(struct ui_doc *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].text);
    free(d->v);
    memset(d, 0, sizeof(*d));
}

void
ui_doc_add(struct ui_doc *d, int c, bool raw, const char *fmt, ...)
{
    va_list ap;
    char *s, *p;

    va_start(ap, fmt);
    s = xvasprintf(fmt, ap);
    va_end(ap);
    /* one entry per line */
    for (p = s;;) {
        char *nl = strchr(p, '\n');
        d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
        d->v[d->n].text = nl != NULL ? xstrndup(p, (size_t)(nl - p)) : xstrdup(p);
        d->v[d->n].color = c;
        d->v[d->n].raw = raw;
        d->n++;
        if (nl == NULL || nl[1] == '\0')
            break;
        p = nl + 1;
    }
    free(s);
}

/* Text a fmt-*.c renderer already sanitized: added as it is (never escaped twice). */
static void
doc_add_rendered(struct ui_doc *d, const char *text)
{
    const char *p = text;

    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        enum ui_color c = UI_C_NORMAL;
        if (strncmp(p, "  probe now: FAIL", 17) == 0 || strstr(p, "NOT verified") != NULL ||
            strstr(p, "not verified") != NULL)
            c = UI_C_BAD;
        else if (strstr(p, "verified") != NULL || strncmp(p, "  probe now: ok", 15) == 0)
            c = UI_C_GOOD;
        d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
        d->v[d->n].text = xstrndup(p, len);
        d->v[d->n].color = c;
        d->v[d->n].raw = false;
        d->n++;
        p += len + (nl != NULL);
    }
}

/* Where verification breaks in the presented chain, from nginx's verify code. */
static size_t
breaks_at(const struct probe_result *r)
{
    if (r->nchain == 0)
        return (size_t)-1;
    if (r->verdict == PROBE_NAME_MISMATCH)
        return 0;
    if (r->verdict != PROBE_VERIFY_ERROR)
        return (size_t)-1;
    switch (r->verify_code) {
    case 10: /* expired */
    case 9:  /* not yet valid */
        for (size_t i = 0; i < r->nchain; i++) {
            if (r->chain[i].days_left < 0)
                return i;
        }
        return 0;
    case 18: /* self-signed leaf */
        return 0;
    case 19: /* self-signed in chain */
    case 20: /* issuer not found */
    case 21: /* unable to verify the first */
    case 2:
        return r->nchain - 1;
    case 22: /* chain too long (depth) */
        return r->nchain > 1 ? 1 : 0;
    default:
        return 0;
    }
}

static void
doc_chain(struct ui *ui, struct ui_doc *d, const struct probe_result *r)
{
    size_t brk = breaks_at(r);
    const char *down = ui->utf8 ? "   │ issued by" : "   | issued by";

    if (r->nchain == 0) {
        ui_doc_add(d, UI_C_DIM, false, "chain: the upstream sent no certificate");
        return;
    }
    ui_doc_add(d, UI_C_NORMAL, false,
               "chain as the upstream sent it (%zu certificate%s), leaf "
               "first:",
               r->chain_total, r->chain_total == 1 ? "" : "s");
    for (size_t i = 0; i < r->nchain; i++) {
        const struct cert_info *ci = &r->chain[i];
        bool bad = i == brk;
        struct buf sans = BUF_INIT;
        for (size_t k = 0; k < ci->nsan && k < 6; k++)
            buf_addf(&sans, "%s%s:%s", k > 0 ? ", " : "", ci->san[k].type == SAN_IP ? "IP" : "DNS",
                     ci->san[k].value);
        if (ci->nsan_total > 6)
            buf_addf(&sans, ", +%zu more", ci->nsan_total - 6);
        ui_doc_add(d, bad ? UI_C_BAD : UI_C_NORMAL, true, "  [%zu] %s%s", i, ci->subject,
                   i == 0            ? "  (leaf)"
                   : ci->self_signed ? "  (root)"
                                     : "  (intermediate)");
        ui_doc_add(d, UI_C_NORMAL, true, "      SAN: %s", sans.len > 0 ? buf_str(&sans) : "(none)");
        ui_doc_add(d, ci->days_left < 0 ? UI_C_BAD : UI_C_NORMAL, false,
                   "      expires %s (%ld days %s), in the trusted file: %s%s", ci->not_after_s,
                   ci->days_left < 0 ? -ci->days_left : ci->days_left,
                   ci->days_left < 0 ? "ago: EXPIRED" : "left", ci->trusted ? "yes" : "no",
                   ci->self_signed ? ", self-signed" : "");
        char *rev = fmt_probe_revocation_text(ci);
        if (rev != NULL)
            ui_doc_add(d, ci->revocation == CERT_REV_GOOD ? UI_C_NORMAL : UI_C_BAD, true,
                       "      revocation: %s", rev);
        free(rev);
        if (bad)
            ui_doc_add(d, UI_C_BAD, false, "      %s verification breaks here",
                       ui->utf8 ? "✗" : "X");
        if (i + 1 < r->nchain)
            ui_doc_add(d, UI_C_DIM, false, "%s", down);
        else if (!ci->self_signed)
            ui_doc_add(d, UI_C_DIM, true, "%s %s (not sent)", down, ci->issuer);
        buf_free(&sans);
    }
}

/* The runbook of the incident's cause (share/tlstriage/runbooks, as `tlstriage explain`):
 * its title and steps. Keys tried: the verify code, the kind, then the usual names. */
void
ui_doc_runbook(struct ui *ui, struct ui_doc *d, const struct incident *inc)
{
    char code[16], kind[64], *cause = NULL;
    const char *keys[6];
    size_t nk = 0;
    char **dirs = runbook_dirs(ui->app);
    struct runbook rb;
    int rc = 1;

    if (inc->verify_code >= 0) {
        snprintf(code, sizeof(code), "%d", inc->verify_code);
        keys[nk++] = code;
    }
    snprintf(kind, sizeof(kind), "%s", logscan_kind_name(inc->kind));
    for (char *p = kind; *p != '\0'; p++)
        *p = *p == '_' ? '-' : *p;
    keys[nk++] = kind;
    if (inc->reason != NULL && strstr(inc->reason, "wrong version") != NULL)
        keys[nk++] = "wrong-version";
    if (inc->alert >= 0)
        keys[nk++] = "alert";
    if (strstr(kind, "timeout") != NULL)
        keys[nk++] = "timeout";
    if (strstr(kind, "connect") != NULL)
        keys[nk++] = "refused";
    for (size_t i = 0; i < nk && rc == 1; i++)
        rc = runbook_find(dirs, keys[i], &rb, &cause);
    runbook_dirs_free(dirs);
    if (rc < 0) {
        ui_doc_add(d, UI_C_BAD, true, "runbook: %s", cause != NULL ? cause : "unreadable");
        free(cause);
        return;
    }
    if (rc != 0)
        return;
    ui_doc_add(d, UI_C_NORMAL, true, "runbook (tlstriage explain %s): %s", rb.id, rb.title);
    for (size_t i = 0; i < rb.nsteps; i++)
        ui_doc_add(d, UI_C_NORMAL, true, "  %zu. %s", i + 1, rb.steps[i]);
    runbook_free(&rb);
}

/* Builds the document of the selected incident from the model. */
static void
detail_build(struct ui *ui)
{
    struct ui_detail *dt = &ui->detail;
    struct ui_doc *d = &dt->doc;
    const struct incident *inc = dt->inc;

    ui_doc_clear(d);
    if (inc != NULL) {
        ui_doc_add(d, UI_C_BAD, true, "%s  %s%s%s  (%llu events, last %s)",
                   inc->upstream[0] ? inc->upstream : "(no upstream)", logscan_kind_name(inc->kind),
                   inc->reason != NULL ? ": " : "", inc->reason != NULL ? inc->reason : "",
                   (unsigned long long)inc->count, inc->last_time);
        const char *raw = ui_incidents_raw(ui, inc);
        ui_doc_add(d, UI_C_DIM, true,
                   "latest log line (%s:%lu):", inc->file != NULL ? inc->file : "stdin", inc->line);
        if (raw != NULL)
            ui_doc_add(d, UI_C_NORMAL, true, "  %s", raw);
        const struct incident_explanation *e =
            incident_explain(inc->kind, inc->verify_code, inc->reason);
        enum pss_family fam = sslconf_family_of_scheme(inc->scheme); /* grpcs: grpc_ssl_* */
        char *plain = sslconf_respell(fam, e->plain), *means = sslconf_respell(fam, e->means);
        ui_doc_add(d, UI_C_NORMAL, false, "what: %s", plain);
        ui_doc_add(d, UI_C_NORMAL, false, "usually: %s", means);
        free(plain);
        free(means);
        ui_doc_runbook(ui, d, inc);
        ui_doc_add(d, UI_C_NORMAL, false, "%s", "");
    }
    if (dt->error != NULL) {
        ui_doc_add(d, UI_C_BAD, true, "%s", dt->error);
        return;
    }
    if (!dt->placed)
        return;
    const struct triage_item *it = &ui->tri.items[dt->item];
    if (dt->job != NULL) {
        ui_doc_add(d, UI_C_NORMAL, true, "%s", it->use->context);
        ui_doc_add(d, UI_C_NORMAL, true, "%s probing: %s",
                   ui->utf8 ? spin_utf8[dt->spin % 10] : spin_ascii[dt->spin % 4],
                   dt->progress != NULL ? dt->progress : "starting");
        return;
    }
    if (!it->planned) {
        ui_doc_add(d, UI_C_BAD, true, "not planned: %s",
                   it->plan_error != NULL ? it->plan_error : "unknown");
        return;
    }
    doc_chain(ui, d, &it->rc.probe);
    ui_doc_add(d, UI_C_NORMAL, false, "%s", "");
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    if (fp != NULL) {
        fmt_remedy_text(fp, it, false);
        fclose(fp);
        doc_add_rendered(d, text);
        free(text);
    }
}

void
ui_detail_refresh(struct ui *ui)
{
    detail_build(ui);
    ui->dirty |= UI_REDRAW;
}

static void
plan_progress(const char *msg, void *arg)
{
    struct ui *ui = arg;

    free(ui->detail.progress);
    ui->detail.progress = xstrdup(msg);
    ui->detail.spin++;
    ui_detail_refresh(ui);
}

static void
plan_done(struct remedy_case *c, const struct job_outcome *o, void *arg)
{
    struct ui *ui = arg;
    struct ui_detail *dt = &ui->detail;
    struct triage_item *it = &ui->tri.items[dt->item];

    dt->job = NULL;
    if (it->planned) {
        remedy_case_free(&it->rc);
        it->planned = false;
    }
    free(it->plan_error);
    it->plan_error = NULL;
    if (c != NULL) {
        it->rc = *c;
        it->planned = true;
        free(c);
        triage_item_stale(&ui->tri, dt->item); /* nginx on older files: the reload fix */
        if (it->kind == NULL)
            it->kind = xstrdup(probe_verdict_name(it->rc.probe.verdict));
    } else
        it->plan_error = xstrdup(o->error != NULL ? o->error : "the planning job failed");
    ui_debug(ui, "plan done: %s", it->planned ? "planned" : it->plan_error);
    ui_detail_refresh(ui);
    ui_fix_replanned(ui);
}

/* (Re)plans the shown item in the background. */
void
ui_detail_probe(struct ui *ui)
{
    struct ui_detail *dt = &ui->detail;
    struct remedy_job_cbs cbs = {plan_progress, plan_done, ui};
    char *cause = NULL;

    if (!dt->placed || dt->job != NULL)
        return;
    struct triage_item *it = &ui->tri.items[dt->item];
    if (!it->resolved)
        return; /* plan_error says why (a variable proxy_pass) */
    dt->job =
        remedy_wire_job_start(ui->jobs, ui->tri.conf, it->use, it->ti, &ui->tri.ro, &cbs, &cause);
    if (dt->job == NULL) {
        free(dt->error);
        dt->error = cause;
    }
    ui_detail_refresh(ui);
}

/* Shows Detail for item idx of the triage (placed == 0), or for the error of placing it:
 * the item is planned in the background unless it was already. */
static void
detail_show(struct ui *ui, const struct incident *inc, int placed, size_t idx, char *error)
{
    struct ui_detail *dt = &ui->detail;

    if (dt->job != NULL)
        job_cancel(dt->job);
    dt->job = NULL;
    free(dt->error);
    dt->error = error;
    dt->inc = inc;
    dt->placed = placed == 0;
    dt->scroll = 0;
    if (dt->placed) {
        dt->item = idx;
        if (!ui->tri.items[idx].planned)
            ui_detail_probe(ui);
    }
    ui_show(ui, &ui_screen_detail);
    ui_detail_refresh(ui);
}

static char *
detail_no_config(const struct ui *ui)
{
    return xasprintf("the config could not be read: %s",
                     ui->tri_error != NULL ? ui->tri_error : "unknown");
}

/* Opens the detail of a use of the config (Enter on Upstreams): no log line, the same probe,
 * what-ifs and fixes. */
void
ui_detail_open_use(struct ui *ui, const char *label, const char *host, unsigned port)
{
    char *cause = NULL;
    size_t idx = 0;

    if (!ui->tri_open)
        detail_show(ui, NULL, -1, 0, detail_no_config(ui));
    else if (triage_place_use(&ui->tri, label, host, port, &idx, &cause) != 0)
        detail_show(ui, NULL, -1, 0, cause);
    else
        detail_show(ui, NULL, 0, idx, NULL);
}

/* Opens the detail of an incident: place it, then plan it in the background. */
void
ui_detail_open(struct ui *ui, const struct incident *inc)
{
    char *cause = NULL;
    size_t idx = 0;

    if (!ui->tri_open)
        detail_show(ui, inc, -1, 0, detail_no_config(ui));
    else if (triage_place(&ui->tri, inc, &idx, &cause) != 0) {
        detail_show(ui, inc, -1, 0,
                    xasprintf("not placed in the config: %s", cause != NULL ? cause : "unknown"));
        free(cause);
    } else
        detail_show(ui, inc, 0, idx, NULL);
}

void
ui_detail_close(struct ui *ui)
{
    if (ui->detail.job != NULL)
        job_cancel(ui->detail.job);
    ui_doc_clear(&ui->detail.doc);
    free(ui->detail.progress);
    free(ui->detail.error);
    memset(&ui->detail, 0, sizeof(ui->detail));
}

static void
detail_draw(struct ui *ui, int top, int rows)
{
    if (ui->detail.job != NULL) /* the spinner turns at every frame */
        ui->detail.spin++, detail_build(ui);
    ui_doc_draw(ui, &ui->detail.doc, &ui->detail.scroll, top, rows);
}

static int
detail_action(struct ui *ui, enum ui_action a)
{
    switch (a) {
    case UA_UP:
    case UA_DOWN:
    case UA_PGUP:
    case UA_PGDN:
    case UA_HOME:
    case UA_END:
        return UI_HANDLED | ui_doc_scroll(&ui->detail.doc, &ui->detail.scroll, a, ui->h - 4);
    case UA_PROBE:
        if (ui->detail.job != NULL)
            return UI_HANDLED;
        ui_detail_probe(ui);
        return UI_HANDLED | UI_REDRAW;
    case UA_FIX:
        ui_fix_open(ui);
        return UI_HANDLED | UI_REDRAW;
    case UA_BACK: {
        bool from_upstreams = ui->detail.inc == NULL;
        ui_detail_close(ui);
        ui_show(ui, from_upstreams ? &ui_screen_upstreams : &ui_screen_incidents);
        ui->prev = NULL;
        return UI_HANDLED | UI_REDRAW;
    }
    default:
        return 0;
    }
}

const struct ui_screen ui_screen_detail = {
    UI_SCREEN_DETAIL,
    "Detail",
    UI_KM_DETAIL,
    detail_draw,
    detail_action,
    "The selected incident: the latest raw log line (escaped), where nginx placed it (block, "
    "file:line), the effective proxy_ssl_* values with their origin, a live probe under those "
    "settings as a chain diagram (leaf to root, each certificate's SANs and expiry, whether it "
    "is in the trusted file, where verification breaks), nginx's exact message, the what-ifs, "
    "the cause in plain words and the candidate fixes, each verified by probe or not. p "
    "probes again; f opens the fix wizard.",
};
