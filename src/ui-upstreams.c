/*
 * ui-upstreams.c — the Upstreams screen (u): every TLS upstream use of the config (probe
 * --all's set, from triage_probe_plan) with its live verdict, days to expiry of the leaf and
 * of the trusted file, and the `check` findings (TT001-TT011) against it — the outage that has
 * not happened yet. The probes run as one job (32 in flight, results in batches) and the list
 * fills in as they answer. Draws and drives only.
 */
#include "config.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "job.h"
#include "probe-wire.h"
#include "triage.h"
#include "ui-draw.h"
#include "ui-keys.h"
#include "ui.h"
#include "xmalloc.h"

#define UP_BATCH 8

static void
up_free_results(struct ui_upstreams *u)
{
    for (size_t i = 0; u->reload_warn != NULL && i < u->n; i++)
        free(u->reload_warn[i]);
    free(u->reload_warn);
    u->reload_warn = NULL;
    if (u->res != NULL)
        probe_wire_free_all(u->res, u->n);
    u->res = NULL;
    free(u->got);
    u->got = NULL;
}

void
ui_upstreams_close(struct ui *ui)
{
    struct ui_upstreams *u = &ui->up;

    if (u->job != NULL)
        job_cancel(u->job);
    u->job = NULL;
    up_free_results(u);
    if (u->planned)
        triage_probe_plan_free(&u->plan);
    if (u->checked)
        check_report_free(&u->check);
    free(u->error);
    memset(u, 0, sizeof(*u));
}

static void
up_result(size_t i, const struct probe_result *r, void *arg)
{
    struct ui *ui = arg;

    (void)r;
    if (i < ui->up.n)
        ui->up.got[i] = true;
    ui->up.answered++;
    ui->dirty |= UI_REDRAW;
}

static void
up_done(struct probe_result *res, size_t n, const struct probe_stats *stats,
        const struct job_outcome *o, void *arg)
{
    struct ui *ui = arg;
    struct ui_upstreams *u = &ui->up;

    (void)stats;
    u->job = NULL;
    for (size_t i = 0; u->reload_warn != NULL && i < u->n; i++)
        free(u->reload_warn[i]);
    free(u->reload_warn);
    u->reload_warn = NULL;
    if (u->res != NULL)
        probe_wire_free_all(u->res, u->n);
    u->res = res;
    u->n = n;
    for (size_t i = 0; i < n && u->got != NULL; i++)
        u->got[i] = res[i].verdict != PROBE_NOT_TRIED;
    if (ui->tri_open && res != NULL && n == u->plan.n) {
        /* A failing probe of a use nginx serves well: the next reload breaks it (the load
         * time comes from nginx -V and /proc, once per probe round). */
        struct stale_load l;
        staleness_load(ui->app->nginx, ui->tri.conf, ui->tri.conf_abs, ui->app->prefix, &l);
        u->reload_warn = xcalloc(n + 1, sizeof(*u->reload_warn));
        for (size_t i = 0; i < n && l.known; i++)
            u->reload_warn[i] = triage_reload_break(ui->tri.conf, &l, &ui->store, &u->plan.opts[i],
                                                    &res[i], u->plan.labels[i]);
        stale_load_free(&l);
    }
    if (o->status != JOB_OK)
        ui_message(ui, "probes: %s", o->error != NULL ? o->error : "failed");
    ui->dirty |= UI_REDRAW;
}

/* Probes every use again, in the background. */
static void
up_probe(struct ui *ui)
{
    struct ui_upstreams *u = &ui->up;
    struct probe_job_cbs cbs = {NULL, up_result, up_done, ui};
    char *cause = NULL;

    if (!u->planned || u->job != NULL || u->plan.n == 0)
        return;
    up_free_results(u);
    u->got = xcalloc(u->plan.n, sizeof(*u->got));
    u->n = u->plan.n;
    u->answered = 0;
    u->job = probe_wire_job_start(ui->jobs, u->plan.opts, u->plan.n, PROBE_DEFAULT_PARALLEL,
                                  UP_BATCH, &cbs, &cause);
    if (u->job == NULL) {
        free(u->error);
        u->error = cause;
    }
}

void
ui_upstreams_open(struct ui *ui)
{
    struct ui_upstreams *u = &ui->up;
    struct triage_probe_query q;
    struct probe_opts base;
    char *cause = NULL;

    ui_show(ui, &ui_screen_upstreams);
    if (u->planned) {
        up_probe(ui);
        return;
    }
    memset(&q, 0, sizeof(q));
    q.all = true;
    probe_opts_init(&base);
    if (triage_probe_plan(ui->app->conf, ui->app->prefix, &q, &base, &u->plan, &cause) != 0 &&
        cause != NULL) {
        u->error = cause;
        triage_probe_plan_free(&u->plan);
        return;
    }
    free(cause);
    u->planned = true;
    if (ui->tri_open) {
        struct check_opts co;
        memset(&co, 0, sizeof(co));
        co.nginx = ui->app->nginx;
        check_run(ui->tri.conf, &co, &u->check);
        u->checked = true;
    }
    up_probe(ui);
}

/* The check findings that name this use's context. */
static size_t
up_findings(const struct ui_upstreams *u, const char *label, const char **first)
{
    size_t n = 0;

    *first = NULL;
    if (!u->checked || label == NULL)
        return 0;
    for (size_t i = 0; i < u->check.nfindings; i++) {
        const struct check_finding *f = &u->check.findings[i];
        if (f->context != NULL && strstr(label, f->context) != NULL) {
            if (n++ == 0)
                *first = f->rule;
        }
    }
    return n;
}

static void
upstreams_draw(struct ui *ui, int top, int rows)
{
    struct ui_upstreams *u = &ui->up;
    struct ui_list *l = &u->list;
    int y = top, w = ui->w;

    if (u->error != NULL) {
        ui_draw_attr_on(ui, UI_C_BAD, true);
        ui_draw_str(ui, y, 0, "cannot list the upstreams: ", w);
        ui_draw_attr_off(ui, UI_C_BAD, true);
        ui_draw_str(ui, y + 1, 2, u->error, w - 2);
        return;
    }
    ui_draw_fmt(ui, y++, 0, w, "%zu TLS upstream use%s in %s; %zu of %zu answered%s", u->plan.n,
                u->plan.n == 1 ? "" : "s", ui->app->conf, u->answered, u->plan.n,
                u->job != NULL ? " (probing...)" : "");
    ui_draw_attr_on(ui, UI_C_DIM, true);
    ui_draw_fmt(ui, y++, 0, w, " %-21s %-15s %5s %6s %-6s %s", "UPSTREAM", "VERDICT", "LEAF",
                "TRUST", "CHECK", "WHERE");
    ui_draw_attr_off(ui, UI_C_DIM, true);
    rows -= 2;
    bool warn = u->reload_warn != NULL && l->sel < u->n && u->reload_warn[l->sel] != NULL;
    if (warn && rows > 1)
        rows--; /* the last line says why the selected use shows RELOAD */
    l->n = u->plan.n;
    if (l->sel < l->top)
        l->top = l->sel;
    if (rows > 0 && l->sel >= l->top + (size_t)rows)
        l->top = l->sel - (size_t)rows + 1;
    for (size_t i = l->top; i < u->plan.n && y < top + 2 + rows; i++, y++) {
        const struct probe_opts *o = &u->plan.opts[i];
        const struct probe_result *r =
            u->res != NULL && u->got != NULL && u->got[i] ? &u->res[i] : NULL;
        bool sel = i == l->sel, ok = r != NULL && r->verdict == PROBE_OK;
        const char *rule;
        size_t nf = up_findings(u, u->plan.labels[i], &rule);
        char hp[300];

        snprintf(hp, sizeof(hp), "%s:%d", o->host, o->port);
        if (sel) {
            ui_draw_attr_on(ui, UI_C_SEL, false);
            move(y, 0);
            hline(' ', w);
        }
        ui_draw_str(ui, y, 0, sel ? ">" : " ", 1);
        ui_draw_str(ui, y, 1, hp, 21);
        if (!sel)
            ui_draw_attr_on(ui, ok ? UI_C_GOOD : UI_C_BAD, false);
        ui_draw_fmt(ui, y, 23, 15, "%s",
                    r == NULL ? "..."
                    : ok      ? "ok"
                              : probe_verdict_name(r->verdict));
        if (!sel)
            ui_draw_attr_off(ui, ok ? UI_C_GOOD : UI_C_BAD, false);
        if (r != NULL && r->nchain > 0)
            ui_draw_fmt(ui, y, 39, 5, "%4ldd", r->chain[0].days_left);
        if (r != NULL && r->anchor_not_after != 0)
            ui_draw_fmt(ui, y, 45, 6, "%5ldd", r->anchor_days_left);
        const char *rw = u->reload_warn != NULL && i < u->n ? u->reload_warn[i] : NULL;
        if (rw != NULL) /* the most urgent: the rules still show in Detail and check */
            ui_draw_fmt(ui, y, 52, 6, "RELOAD");
        else if (nf > 0)
            ui_draw_fmt(ui, y, 52, 6, "%s%s", rule, nf > 1 ? "+" : "");
        ui_draw_str(ui, y, 59, u->plan.labels[i], w - 59);
        if (sel)
            ui_draw_attr_off(ui, UI_C_SEL, false);
    }
    /* the selected use's reload warning, on the last line */
    if (warn) {
        ui_draw_attr_on(ui, UI_C_BAD, true);
        ui_draw_fmt(ui, top + 2 + rows, 0, w, "warning: ");
        ui_draw_str(ui, top + 2 + rows, 9, u->reload_warn[l->sel], w - 9); /* config bytes */
        ui_draw_attr_off(ui, UI_C_BAD, true);
    }
}

static int
upstreams_action(struct ui *ui, enum ui_action a)
{
    switch (a) {
    case UA_UP:
    case UA_DOWN:
    case UA_PGUP:
    case UA_PGDN:
    case UA_HOME:
    case UA_END:
        return UI_HANDLED | ui_list_move(&ui->up.list, a, ui->h - 6);
    case UA_PROBE:
        up_probe(ui);
        return UI_HANDLED | UI_REDRAW;
    case UA_OPEN:
    case UA_FIX: {
        struct ui_upstreams *u = &ui->up;
        if (u->list.sel >= u->plan.n)
            return UI_HANDLED;
        const struct probe_opts *o = &u->plan.opts[u->list.sel];
        ui_detail_open_use(ui, u->plan.labels[u->list.sel], o->host, (unsigned)o->port);
        if (a == UA_FIX)
            ui_fix_open(ui);
        return UI_HANDLED | UI_REDRAW;
    }
    case UA_BACK:
        ui_show(ui, &ui_screen_incidents);
        return UI_HANDLED | UI_REDRAW;
    default:
        return 0;
    }
}

const struct ui_screen ui_screen_upstreams = {
    UI_SCREEN_UPSTREAMS,
    "Upstreams",
    UI_KM_UPSTREAMS,
    upstreams_draw,
    upstreams_action,
    "Every TLS upstream of the config (probe --all's set) with its live verdict, the days to "
    "expiry of the leaf (LEAF) and of the trusted file's earliest certificate (TRUST), and the "
    "check rule it trips (CHECK, TT001-TT011; RELOAD: a file changed on disk since nginx loaded it "
    "fails the probe while nginx still serves the use, so the next reload breaks it — the last "
    "line says which): the outage that has not happened yet. Probes "
    "run in the background, 32 in flight; the list fills in as they answer. p probes again.",
};
