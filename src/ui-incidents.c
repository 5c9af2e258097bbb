/*
 * ui-incidents.c — the home screen: the followed logs and their state, then one row per
 * incident (upstream, cause in scan's words, events, a 30-minute sparkline, last seen,
 * server), live from the follower (tail.c → logscan.c → incident.c on the ui's evloop).
 * The selection stays on its incident as rows arrive and re-sort. Drawn by ui.c's loop.
 */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "incident.h"
#include "logscan.h"
#include "ngxconf.h"
#include "sanitize.h"
#include "tail.h"
#include "txn.h"
#include "ui-draw.h"
#include "ui-keys.h"
#include "ui.h"
#include "xmalloc.h"

#define DEFAULT_ERROR_LOG "/var/log/nginx/error.log"

#define RAW_SLOTS 1024 /* > 2 x INCIDENT_MAX_DEFAULT: open addressing stays short */
#define RAW_MAX 4096   /* bytes of a raw line kept for the detail screen */

/* The slot of inc in the raw-line table (pointer hash, linear probing). */
static struct ui_raw *
raw_slot(struct ui *ui, const struct incident *inc)
{
    uintptr_t h = (uintptr_t)inc;

    if (ui->raw == NULL) {
        ui->raw = xcalloc(RAW_SLOTS, sizeof(*ui->raw));
        ui->nraw = RAW_SLOTS;
    }
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15ull;
    for (size_t i = (size_t)(h >> 40) % RAW_SLOTS;; i = (i + 1) % RAW_SLOTS) {
        if (ui->raw[i].inc == inc || ui->raw[i].inc == NULL)
            return &ui->raw[i];
    }
}

static void
raw_keep(struct ui *ui, const struct incident *inc, const char *p, size_t len)
{
    struct ui_raw *r = raw_slot(ui, inc);

    if (len > RAW_MAX)
        len = RAW_MAX;
    if (r->inc == NULL) {
        r->inc = inc;
        r->line = xmalloc(RAW_MAX + 1);
    }
    memcpy(r->line, p, len);
    r->line[len] = '\0';
}

const char *
ui_incidents_raw(struct ui *ui, const struct incident *inc)
{
    struct ui_raw *r = raw_slot(ui, inc);

    return r->inc == inc ? r->line : NULL;
}

static void
on_lines(const struct tail_line *l, size_t n, void *arg)
{
    struct ui *ui = arg;
    bool changed = false;

    ui->lines_read += n;
    for (size_t i = 0; i < n; i++) {
        struct ls_event ev;
        if (!logscan_parse_line(l[i].p, l[i].len, l[i].lineno, &ev))
            continue;
        if (ev.when != (time_t)-1 && ev.when < ui->opts.since)
            continue; /* the follower starts up to the --since slack early */
        struct incident *inc = incident_store_add(&ui->store, &ev, l[i].path);
        if (inc != NULL)
            raw_keep(ui, inc, l[i].p, l[i].len);
        changed = true;
    }
    if (changed) {
        ui->rows_stale = true;  /* re-sorted when drawn, not per read */
        ui->dirty |= UI_REDRAW; /* drawn by the frame timer: at most 4 times a second */
    }
}

/* The logs to follow: --log, else the config's error_log files, else nginx's default. */
static void
incidents_logs(struct ui *ui)
{
    struct app *app = ui->app;
    struct ngxconf *conf = NULL;
    char *cause = NULL;

    if (app->nlogs > 0) {
        for (size_t i = 0; i < app->nlogs; i++) {
            ui->logs = xreallocarray(ui->logs, ui->nlogs + 1, sizeof(*ui->logs));
            ui->logs[ui->nlogs++].path = xstrdup(app->logs[i]);
        }
        return;
    }
    if (ngxconf_load(app->conf, app->prefix, &conf, &cause) == 0) {
        for (const struct ngx_node *e = ngxconf_find(conf->root, "error_log"); e != NULL;
             e = ngxconf_find_next(e)) {
            if (e->nargs < 1 || strcmp(e->args[0], "stderr") == 0 ||
                strncmp(e->args[0], "syslog:", 7) == 0 || strncmp(e->args[0], "memory:", 7) == 0)
                continue;
            ui->logs = xreallocarray(ui->logs, ui->nlogs + 1, sizeof(*ui->logs));
            ui->logs[ui->nlogs++].path =
                e->args[0][0] == '/' ? xstrdup(e->args[0]) : ngxconf_full_path(conf, e->args[0]);
        }
        /* the master's pid, for the title line */
        const struct ngx_node *pid = ngxconf_find(conf->root, "pid");
        char *pidpath = pid != NULL && pid->nargs == 1
                            ? (pid->args[0][0] == '/' ? xstrdup(pid->args[0])
                                                      : ngxconf_full_path(conf, pid->args[0]))
                            : xstrdup("/run/nginx.pid");
        FILE *fp = fopen(pidpath, "r");
        long p;
        if (fp != NULL && fscanf(fp, "%ld", &p) == 1 && p > 0) {
            char proc[64];
            struct stat st;
            snprintf(proc, sizeof(proc), "/proc/%ld", p);
            if (stat(proc, &st) == 0)
                ui->master_pid = p;
        }
        if (fp != NULL)
            fclose(fp);
        free(pidpath);
        ngxconf_free(conf);
    } else {
        ui_debug(ui, "config: %s", cause);
        free(cause);
    }
    if (ui->nlogs == 0) {
        ui->logs = xcalloc(1, sizeof(*ui->logs));
        ui->logs[0].path = xstrdup(DEFAULT_ERROR_LOG);
        ui->nlogs = 1;
    }
}

int
ui_incidents_start(struct ui *ui, char **cause)
{
    struct tail_opts to;

    incident_store_init(&ui->store, 0);
    incidents_logs(ui);
    memset(&to, 0, sizeof(to));
    to.start = TAIL_START_SINCE;
    if (!ui->opts.since_given)
        ui->opts.since = time(NULL) - 3600;
    to.since = ui->opts.since;
    to.time_fn = logscan_line_time;
    to.no_ring = true;
    ui->tail = tail_new_batched(ui->loop, &to, on_lines, ui);
    for (size_t i = 0; i < ui->nlogs; i++) {
        char *why = NULL;
        if (tail_add(ui->tail, ui->logs[i].path, &why) != 0) {
            *cause = xasprintf("%s: %s", ui->logs[i].path, why != NULL ? why : "cannot follow");
            free(why);
            return -1;
        }
    }
    tail_check(ui->tail);
    return 0;
}

void
ui_incidents_stop(struct ui *ui)
{
    if (ui->tail != NULL)
        tail_free(ui->tail);
    ui->tail = NULL;
    for (size_t i = 0; i < ui->nlogs; i++)
        free(ui->logs[i].path);
    free(ui->logs);
    ui->logs = NULL;
    ui->nlogs = 0;
    free(ui->sorted);
    ui->sorted = NULL;
    for (size_t i = 0; i < ui->nraw; i++)
        free(ui->raw[i].line);
    free(ui->raw);
    ui->raw = NULL;
    ui->nraw = 0;
    incident_store_free(&ui->store);
}

/* The cause as scan words it: kind, verify code, (reason). */
static char *
cause_words(const struct incident *inc)
{
    struct buf b = BUF_INIT;

    buf_adds(&b, logscan_kind_name(inc->kind));
    if (inc->verify_code >= 0)
        buf_addf(&b, " %d", inc->verify_code);
    if (inc->reason != NULL)
        buf_addf(&b, " (%s)", inc->reason);
    return buf_detach(&b);
}

static bool
row_matches(const struct incident *inc, const char *filter)
{
    if (filter == NULL || filter[0] == '\0')
        return true;
    char *c = cause_words(inc);
    bool m = strstr(inc->upstream, filter) != NULL || strstr(c, filter) != NULL ||
             (inc->server != NULL && strstr(inc->server, filter) != NULL);
    free(c);
    return m;
}

void
ui_incidents_rows(struct ui *ui)
{
    ui->rows_stale = false;
    struct incident **all = incident_store_sorted(&ui->store);
    size_t n = 0;

    for (size_t i = 0; i < ui->store.n; i++) {
        if (row_matches(all[i], ui->filter))
            all[n++] = all[i];
    }
    free(ui->sorted);
    ui->sorted = all;
    ui->nsorted = n;
    ui->incidents.n = n;
    /* keep the selection on the same incident */
    if (ui->selected != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (all[i] == ui->selected) {
                ui->incidents.sel = i;
                return;
            }
        }
    }
    if (ui->incidents.sel >= n)
        ui->incidents.sel = n > 0 ? n - 1 : 0;
    ui->selected = n > 0 ? all[ui->incidents.sel] : NULL;
}

static const char *
log_state(struct ui *ui, const char *path)
{
    struct stat st;
    struct tail_stats ts;

    if (stat(path, &st) != 0)
        return errno == ENOENT ? "file missing" : "unreadable";
    if (!S_ISREG(st.st_mode))
        return "not a regular file";
    tail_get_stats(ui->tail, &ts);
    return ts.rotations > 0 || ts.truncations > 0 ? "following, rotated" : "following";
}

static void
incidents_draw(struct ui *ui, int top, int rows)
{
    if (ui->rows_stale)
        ui_incidents_rows(ui);
    int w = ui->w, y = top, x = 0;
    int spark = w >= 140 ? 30 : w >= 120 ? 15 : 10;
    int cw_up = 21, cw_cause = w >= 120 ? 42 : 22, cw_ev = 7, cw_last = 8;
    time_t now = time(NULL);

    if (ui->pending_shown && ui->pending.n > 0) {
        const struct txn_info *t = &ui->pending.v[0];
        enum triage_advice a = ui->pending.advice[0];
        ui_draw_attr_on(ui, UI_C_BAD, true);
        ui_draw_fmt(ui, y, 0, w, "unfinished transaction %s (%s, last step: %s)", t->id,
                    txn_state_name(t->state), t->last_step != NULL ? t->last_step : "?");
        ui_draw_attr_off(ui, UI_C_BAD, true);
        ui_draw_str(ui, y + 1, 2,
                    a == TA_FINISH_ROLLBACK ? "an interrupted rollback: y complete it, r roll "
                                              "back again, n later"
                    : a == TA_RESTORE       ? "nothing confirmed: r roll back (restore the old "
                                              "bytes), y complete it, n later"
                                            : "written: r undo it, y complete it (nginx -t, "
                                              "reload), n later",
                    w - 2);
        y += 2;
        rows -= 2;
    }
    if (ui->opts.banner != NULL) { /* a drill's briefing: two lines at most */
        ui_draw_attr_on(ui, UI_C_BAD, true);
        size_t len = strlen(ui->opts.banner), off = 0;
        struct buf b = BUF_INIT;
        sanitize_fit_n(&b, ui->opts.banner, len, w, &off); /* what the first line holds */
        mvaddnstr(y, 0, b.p, (int)b.len);
        buf_free(&b);
        ui_draw_attr_off(ui, UI_C_BAD, true);
        if (off < len)
            ui_draw_text(ui, y + 1, 0, ui->opts.banner + off, len - off, w);
        y += 2;
        rows -= 2;
    }
    /* the logs and their state */
    x = ui_draw_str(ui, y, 0, "logs: ", w);
    for (size_t i = 0; i < ui->nlogs && x < w; i++) {
        x += ui_draw_text(ui, y, x, ui->logs[i].path, strlen(ui->logs[i].path), w - x);
        x += ui_draw_fmt(ui, y, x, w - x, " (%s)%s",
                         ui->tail != NULL ? log_state(ui, ui->logs[i].path) : "opening",
                         i + 1 < ui->nlogs ? ", " : "");
    }
    y++;
    ui_draw_fmt(ui, y, 0, w, "%zu incident%s, %llu event%s, %llu lines read%s%s%s", ui->store.n,
                ui->store.n == 1 ? "" : "s", (unsigned long long)ui->store.events,
                ui->store.events == 1 ? "" : "s", ui->lines_read,
                ui->reading_backlog ? "  reading the last hour..." : "",
                ui->filter != NULL ? "  filter: " : "", ui->filter != NULL ? ui->filter : "");
    if (ui->filtering)
        ui_draw_fmt(ui, y, 0, w, "filter: %s_", ui->filter != NULL ? ui->filter : "");
    y++;
    ui_draw_attr_on(ui, UI_C_DIM, true);
    ui_draw_fmt(ui, y, 0, w, "%-*s %-*s %*s %-*s %-*s %s", cw_up, "UPSTREAM", cw_cause, "CAUSE",
                cw_ev, "EVENTS", spark, spark >= 30 ? "LAST 30 MIN" : "30 MIN", cw_last, "LAST",
                "SERVER");
    ui_draw_attr_off(ui, UI_C_DIM, true);
    y++;
    rows -= 3;
    if (ui->nsorted == 0) {
        ui_draw_str(ui, y + 1, 2,
                    ui->store.n == 0 ? "No upstream TLS failure in the logs since the start "
                                       "time. Following..."
                                     : "No incident matches the filter.",
                    w - 2);
        return;
    }
    struct ui_list *l = &ui->incidents;
    if (l->sel < l->top)
        l->top = l->sel;
    if (rows > 0 && l->sel >= l->top + (size_t)rows)
        l->top = l->sel - (size_t)rows + 1;
    for (size_t i = l->top; i < ui->nsorted && y < top + 3 + rows; i++, y++) {
        const struct incident *inc = ui->sorted[i];
        bool sel = i == l->sel;
        uint32_t minutes[INCIDENT_MINUTES], v[30];
        char *cause = cause_words(inc);
        int cx = 0;

        if (sel) {
            ui_draw_attr_on(ui, UI_C_SEL, false);
            move(y, 0);
            hline(' ', w);
        }
        ui_draw_str(ui, y, 0, sel ? ">" : " ", 1);
        cx = 1;
        ui_draw_text(ui, y, cx, inc->upstream[0] ? inc->upstream : "(none)",
                     inc->upstream[0] ? strlen(inc->upstream) : 6, cw_up - 1);
        cx = cw_up + 1;
        if (!sel)
            ui_draw_attr_on(ui, UI_C_BAD, false);
        ui_draw_str(ui, y, cx, cause, cw_cause);
        if (!sel)
            ui_draw_attr_off(ui, UI_C_BAD, false);
        cx += cw_cause + 1;
        ui_draw_fmt(ui, y, cx, cw_ev, "%*llu", cw_ev, (unsigned long long)inc->count);
        cx += cw_ev + 1;
        /* the last 30 minutes by wall clock, in `spark` cells */
        incident_minutes(inc, now, minutes);
        int per = 30 / spark;
        for (int c = 0; c < spark; c++) {
            v[c] = 0;
            for (int m = 0; m < per; m++)
                v[c] += minutes[INCIDENT_MINUTES - 30 + c * per + m];
        }
        ui_draw_sparkline(ui, y, cx, v, (size_t)spark);
        cx += spark + 1;
        ui_draw_str(ui, y, cx, inc->last_time[0] ? inc->last_time + 11 : "?", cw_last);
        cx += cw_last + 1;
        if (inc->server != NULL && inc->server[0] != '\0')
            ui_draw_str(ui, y, cx, inc->server, w - cx);
        else
            ui_draw_str(ui, y, cx, inc->stream ? "(stream)" : "(no server_name)", w - cx);
        if (sel)
            ui_draw_attr_off(ui, UI_C_SEL, false);
        free(cause);
    }
}

static int
incidents_action(struct ui *ui, enum ui_action a)
{
    int r;

    switch (a) {
    case UA_UP:
    case UA_DOWN:
    case UA_PGUP:
    case UA_PGDN:
    case UA_HOME:
    case UA_END:
        if (ui->rows_stale)
            ui_incidents_rows(ui);
        r = ui_list_move(&ui->incidents, a, ui->h - 6);
        ui->selected = ui->nsorted > 0 ? ui->sorted[ui->incidents.sel] : NULL;
        return UI_HANDLED | r;
    case UA_FILTER:
        ui->filtering = true;
        return UI_HANDLED | UI_REDRAW;
    case UA_YES:
    case UA_ROLLBACK:
    case UA_NO:
        if (!ui->pending_shown || ui->pending.n == 0)
            return 0;
        ui->pending_shown = false;
        if (a == UA_YES)
            ui_fix_complete(ui, ui->pending.v[0].id);
        else if (a == UA_ROLLBACK)
            ui_fix_rollback(ui, ui->pending.v[0].id);
        else
            ui_message(ui, "left as it is: tlstriage rollback %s, or complete it later",
                       ui->pending.v[0].id);
        return UI_HANDLED | UI_REDRAW;
    case UA_OPEN:
    case UA_PROBE:
    case UA_FIX:
        if (ui->selected == NULL) {
            ui_message(ui, "no incident selected");
            return UI_HANDLED | UI_REDRAW;
        }
        ui_detail_open(ui, ui->selected);
        if (a == UA_FIX)
            ui_fix_open(ui);
        return UI_HANDLED | UI_REDRAW;
    default:
        return 0;
    }
}

const struct ui_screen ui_screen_incidents = {
    UI_SCREEN_INCIDENTS,
    "Incidents",
    UI_KM_INCIDENTS,
    incidents_draw,
    incidents_action,
    "One row per incident (upstream, cause and server), live from the followed error logs: "
    "events, a sparkline of the last 30 minutes, the time of the latest event. The selection "
    "stays on its incident while rows arrive and re-sort.",
};
