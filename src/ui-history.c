/*
 * ui-history.c — the History screen: the journal of fixes (txn_list), newest first, with
 * state and summary; Enter shows the selected transaction's diff, scrollable. Reads the
 * journal only; drawn by ui.c's loop.
 */
#include "config.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "txn.h"
#include "ui-draw.h"
#include "ui-keys.h"
#include "ui.h"
#include "xmalloc.h"

void
ui_history_load(struct ui *ui)
{
    char *cause = NULL;

    if (ui->txns != NULL)
        txn_info_free(ui->txns, ui->ntxns);
    ui->txns = NULL;
    ui->ntxns = 0;
    free(ui->history_error);
    ui->history_error = NULL;
    if (txn_list(app_state_dir(ui->app), &ui->txns, &ui->ntxns, &cause) != 0) {
        ui->history_error = cause;
        ui->ntxns = 0;
    }
    ui->history.n = ui->ntxns;
    if (ui->history.sel >= ui->ntxns)
        ui->history.sel = ui->ntxns > 0 ? ui->ntxns - 1 : 0;
    ui->history_diff = false;
}

static size_t
count_lines(const char *s)
{
    size_t n = 0;

    for (; s != NULL && *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static void
history_draw_diff(struct ui *ui, int top, int rows)
{
    const struct txn_info *t = &ui->txns[ui->history.sel];
    const char *p = t->diff != NULL ? t->diff : "";
    size_t skip = ui->history_scroll;
    int y = top;

    ui_draw_fmt(ui, y++, 0, ui->w, "diff of %s (%s, %s)  Up/Down scroll, q back", t->id, t->kind,
                txn_state_name(t->state));
    if (*p == '\0')
        ui_draw_str(ui, y, 2, "(no diff journaled)", ui->w - 2);
    while (*p != '\0' && skip > 0) {
        const char *nl = strchr(p, '\n');
        p = nl != NULL ? nl + 1 : p + strlen(p);
        skip--;
    }
    while (*p != '\0' && y < top + rows) {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        enum ui_color c = p[0] == '+' ? UI_C_GOOD : p[0] == '-' ? UI_C_BAD : UI_C_NORMAL;
        ui_draw_attr_on(ui, c, false);
        ui_draw_text(ui, y++, 0, p, len, ui->w);
        ui_draw_attr_off(ui, c, false);
        p += len + (nl != NULL);
    }
}

static void
history_draw(struct ui *ui, int top, int rows)
{
    int y = top, w = ui->w;
    struct ui_list *l = &ui->history;

    if (ui->history_diff && ui->ntxns > 0) {
        history_draw_diff(ui, top, rows);
        return;
    }
    ui_draw_fmt(ui, y++, 0, w, "journal: %s", app_state_dir(ui->app));
    if (ui->history_error != NULL) {
        ui_draw_attr_on(ui, UI_C_BAD, true);
        ui_draw_str(ui, y++, 0, "cannot read the journal: ", w);
        ui_draw_attr_off(ui, UI_C_BAD, true);
        ui_draw_str(ui, y++, 2, ui->history_error, w - 2);
        return;
    }
    ui_draw_attr_on(ui, UI_C_DIM, true);
    ui_draw_fmt(ui, y++, 0, w, " %-19s %-22s %-8s %-12s %s", "TIME", "ID", "KIND", "STATE",
                "SUMMARY");
    ui_draw_attr_off(ui, UI_C_DIM, true);
    rows -= 2;
    if (ui->ntxns == 0) {
        ui_draw_str(ui, y + 1, 2, "No fix in the journal yet.", w - 2);
        return;
    }
    if (l->sel < l->top)
        l->top = l->sel;
    if (rows > 0 && l->sel >= l->top + (size_t)rows)
        l->top = l->sel - (size_t)rows + 1;
    for (size_t i = l->top; i < ui->ntxns && y < top + 2 + rows; i++, y++) {
        const struct txn_info *t = &ui->txns[i];
        bool sel = i == l->sel;
        const char *summary = t->summary != NULL ? t->summary : "";
        size_t slen = strcspn(summary, "\n");

        if (sel) {
            ui_draw_attr_on(ui, UI_C_SEL, false);
            move(y, 0);
            hline(' ', w);
        }
        ui_draw_fmt(ui, y, 0, w, "%s%-19.19s %-22.22s %-8.8s %-12.12s", sel ? ">" : " ",
                    t->time != NULL ? t->time : "?", t->id, t->kind != NULL ? t->kind : "?",
                    txn_state_name(t->state));
        ui_draw_text(ui, y, 66, summary, slen, w - 66);
        if (sel)
            ui_draw_attr_off(ui, UI_C_SEL, false);
    }
}

static int
history_action(struct ui *ui, enum ui_action a)
{
    if (ui->history_diff) {
        size_t lines = ui->ntxns > 0 ? count_lines(ui->txns[ui->history.sel].diff) : 0;
        size_t page = ui->h > 8 ? (size_t)ui->h - 6 : 1;
        switch (a) {
        case UA_UP:
            ui->history_scroll -= ui->history_scroll > 0;
            return UI_HANDLED | UI_REDRAW;
        case UA_DOWN:
            ui->history_scroll += ui->history_scroll + 1 < lines;
            return UI_HANDLED | UI_REDRAW;
        case UA_PGUP:
            ui->history_scroll = ui->history_scroll > page ? ui->history_scroll - page : 0;
            return UI_HANDLED | UI_REDRAW;
        case UA_PGDN:
            ui->history_scroll =
                ui->history_scroll + page < lines ? ui->history_scroll + page : ui->history_scroll;
            return UI_HANDLED | UI_REDRAW;
        case UA_HOME:
            ui->history_scroll = 0;
            return UI_HANDLED | UI_REDRAW;
        case UA_BACK:
            ui->history_diff = false;
            return UI_HANDLED | UI_REDRAW;
        default:
            return 0;
        }
    }
    switch (a) {
    case UA_UP:
    case UA_DOWN:
    case UA_PGUP:
    case UA_PGDN:
    case UA_HOME:
    case UA_END:
        return UI_HANDLED | ui_list_move(&ui->history, a, ui->h - 6);
    case UA_OPEN:
        if (ui->ntxns > 0) {
            ui->history_diff = true;
            ui->history_scroll = 0;
        }
        return UI_HANDLED | UI_REDRAW;
    case UA_ROLLBACK:
        if (ui->ntxns == 0)
            return UI_HANDLED;
        ui->history_confirm = true;
        ui_message(ui, "roll back %s? y/n (its files byte for byte, nginx -t, reload)",
                   ui->txns[ui->history.sel].id);
        return UI_HANDLED | UI_REDRAW;
    case UA_YES:
        if (!ui->history_confirm || ui->ntxns == 0)
            return UI_HANDLED;
        ui->history_confirm = false;
        ui_fix_rollback(ui, ui->txns[ui->history.sel].id);
        return UI_HANDLED | UI_REDRAW;
    case UA_NO:
        ui->history_confirm = false;
        ui_message(ui, "nothing rolled back");
        return UI_HANDLED | UI_REDRAW;
    default:
        return 0;
    }
}

const struct ui_screen ui_screen_history = {
    UI_SCREEN_HISTORY,
    "History",
    UI_KM_HISTORY,
    history_draw,
    history_action,
    "The journal of fixes, newest first: time, id, kind (apply or rollback), state and "
    "summary. Enter shows the diff of the selected transaction.",
};
