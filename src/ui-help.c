/*
 * ui-help.c — the Help screen: every key from the one key table (so help cannot drift from
 * the keys), what each screen shows, and why `proxy_ssl_verify off` is never offered.
 */
#include "config.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "ui-draw.h"
#include "ui-keys.h"
#include "ui.h"
#include "xmalloc.h"

static const struct ui_screen *const help_screens[] = {
    &ui_screen_incidents, &ui_screen_upstreams, &ui_screen_detail,
    &ui_screen_fix,       &ui_screen_history,
};

static const char help_verify_off[] =
    "Why proxy_ssl_verify off is never offered: it makes nginx hand every request, with its "
    "cookies and tokens, to whoever answers on that address. A 502 from a failed verification "
    "is nginx refusing to talk to an upstream it cannot trust; the fixes here keep "
    "verification on and are proven by a probe before anything is written.";

/* The help text as lines (trusted text, wrapped to width), built for each draw. */
struct help_lines {
    char **v;
    size_t n;
};

static void
help_add(struct help_lines *h, const char *s, size_t n)
{
    h->v = xreallocarray(h->v, h->n + 1, sizeof(*h->v));
    h->v[h->n++] = xstrndup(s, n);
}

static void
help_wrap(struct help_lines *h, const char *indent, const char *s, int width)
{
    width -= (int)strlen(indent);
    while (*s != '\0') {
        int n = (int)strlen(s);
        if (n > width) {
            n = width;
            while (n > 0 && s[n] != ' ')
                n--;
            if (n == 0)
                n = width;
        }
        char *line = xasprintf("%s%.*s", indent, n, s);
        help_add(h, line, strlen(line));
        free(line);
        s += n;
        while (*s == ' ')
            s++;
    }
}

static void
help_build(struct ui *ui, struct help_lines *h)
{
    help_wrap(h, "", help_verify_off, ui->w);
    help_add(h, "", 0);
    help_add(h, "Keys", 4);
    for (const struct ui_key *k = ui_keys; k->label != NULL; k++) {
        if (k->help == NULL)
            continue;
        char *line = xasprintf("  %-8s %s", k->label, k->help);
        help_add(h, line, strlen(line));
        free(line);
    }
    for (size_t i = 0; i < sizeof(help_screens) / sizeof(help_screens[0]); i++) {
        help_add(h, "", 0);
        help_add(h, help_screens[i]->name, strlen(help_screens[i]->name));
        help_wrap(h, "  ", help_screens[i]->what, ui->w);
    }
}

static void
help_draw(struct ui *ui, int top, int rows)
{
    struct help_lines h = {NULL, 0};

    help_build(ui, &h);
    if (rows > 0 && ui->help_scroll + (size_t)rows > h.n)
        ui->help_scroll = h.n > (size_t)rows ? h.n - (size_t)rows : 0;
    for (size_t i = ui->help_scroll; i < h.n && (int)(i - ui->help_scroll) < rows; i++)
        ui_draw_str(ui, top + (int)(i - ui->help_scroll), 0, h.v[i], ui->w);
    for (size_t i = 0; i < h.n; i++)
        free(h.v[i]);
    free(h.v);
}

static int
help_action(struct ui *ui, enum ui_action a)
{
    switch (a) {
    case UA_UP:
        ui->help_scroll -= ui->help_scroll > 0;
        return UI_HANDLED | UI_REDRAW;
    case UA_DOWN:
        ui->help_scroll++; /* clamped when drawn */
        return UI_HANDLED | UI_REDRAW;
    case UA_PGUP:
        ui->help_scroll = ui->help_scroll > 10 ? ui->help_scroll - 10 : 0;
        return UI_HANDLED | UI_REDRAW;
    case UA_PGDN:
        ui->help_scroll += 10;
        return UI_HANDLED | UI_REDRAW;
    case UA_HOME:
        ui->help_scroll = 0;
        return UI_HANDLED | UI_REDRAW;
    default:
        return 0;
    }
}

const struct ui_screen ui_screen_help = {
    UI_SCREEN_HELP, "Help", UI_KM_HELP, help_draw, help_action, "Every key and every screen.",
};
