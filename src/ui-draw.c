/*
 * ui-draw.c — the drawing helpers of the interface (include/ui-draw.h): every untrusted
 * byte goes through sanitize_fit() before it reaches curses; glyphs fall back to ASCII when
 * the locale is not UTF-8 or the terminal is linux/vt100; colour only adds to a word or a
 * symbol. Called by the ui-*.c screens; knows nothing of the model.
 */
#include "config.h"

#include <curses.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "sanitize.h"
#include "ui-draw.h"
#include "ui-keys.h"
#include "xmalloc.h"

static const char *const spark_utf8[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char *const spark_ascii[] = {" ", ".", ".", ":", ":", "=", "=", "#", "#"};

void
ui_draw_init(struct ui *ui)
{
    ui->color = false;
    if (!ui->app->no_color && has_colors() && start_color() == OK) {
        use_default_colors();
        init_pair(UI_C_TITLE, COLOR_BLACK, COLOR_CYAN);
        init_pair(UI_C_BAD, COLOR_RED, -1);
        init_pair(UI_C_GOOD, COLOR_GREEN, -1);
        init_pair(UI_C_DIM, COLOR_BLUE, -1);
        init_pair(UI_C_SEL, COLOR_BLACK, COLOR_WHITE);
        ui->color = true;
    }
}

void
ui_draw_attr_on(struct ui *ui, enum ui_color c, bool bold)
{
    if (c == UI_C_SEL || (c == UI_C_TITLE && !ui->color))
        attron(A_REVERSE);
    else if (ui->color && c != UI_C_NORMAL)
        attron(COLOR_PAIR(c));
    if (bold)
        attron(A_BOLD);
}

void
ui_draw_attr_off(struct ui *ui, enum ui_color c, bool bold)
{
    if (c == UI_C_SEL || (c == UI_C_TITLE && !ui->color))
        attroff(A_REVERSE);
    else if (ui->color && c != UI_C_NORMAL)
        attroff(COLOR_PAIR(c));
    if (bold)
        attroff(A_BOLD);
}

int
ui_draw_text(struct ui *ui, int y, int x, const char *s, size_t len, int width)
{
    struct buf b = BUF_INIT;
    int used;

    (void)ui;
    if (s == NULL || width <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + width > COLS)
        width = COLS - x;
    used = sanitize_fit(&b, s, len, width);
    mvaddnstr(y, x, b.p, (int)b.len);
    buf_free(&b);
    return used;
}

int
ui_draw_str(struct ui *ui, int y, int x, const char *s, int width)
{
    return s == NULL ? 0 : ui_draw_text(ui, y, x, s, strlen(s), width);
}

int
ui_draw_fmt(struct ui *ui, int y, int x, int width, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    s = xvasprintf(fmt, ap);
    va_end(ap);
    n = ui_draw_str(ui, y, x, s, width);
    free(s);
    return n;
}

void
ui_draw_sparkline(struct ui *ui, int y, int x, const uint32_t *v, size_t n)
{
    const char *const *g = ui->utf8 ? spark_utf8 : spark_ascii;
    uint32_t max = 0;

    for (size_t i = 0; i < n; i++)
        max = v[i] > max ? v[i] : max;
    move(y, x);
    for (size_t i = 0; i < n && x + (int)i < COLS; i++) {
        int lvl = v[i] == 0 ? 0 : 1 + (int)((uint64_t)(v[i] - 1) * 8 / (max == 0 ? 1 : max));
        addstr(g[lvl > 8 ? 8 : lvl]);
    }
}

const char *
ui_draw_hline(const struct ui *ui)
{
    return ui->utf8 ? "─" : "-";
}

void
ui_draw_title(struct ui *ui)
{
    char clock[16];
    time_t now = time(NULL);
    struct tm tm;
    int x;

    localtime_r(&now, &tm);
    strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
    ui->clock_shown = now;
    ui_draw_attr_on(ui, UI_C_TITLE, true);
    move(0, 0);
    hline(' ', ui->w);
    x = ui_draw_fmt(ui, 0, 0, ui->w - 10, "tlstriage %s %s ", ui_draw_hline(ui), ui->screen->name);
    if (ui->nginx_version != NULL)
        x += ui_draw_fmt(ui, 0, x, ui->w - 10 - x, " nginx %s", ui->nginx_version);
    if (ui->master_pid > 0)
        x += ui_draw_fmt(ui, 0, x, ui->w - 10 - x, " pid %ld", ui->master_pid);
    ui_draw_str(ui, 0, ui->w - 9, clock, 9);
    ui_draw_attr_off(ui, UI_C_TITLE, true);
}

void
ui_draw_footer(struct ui *ui)
{
    int y = ui->h - 1, x = 0;
    unsigned mask = 1u << ui->screen->id;
    bool seen[UA_SUSPEND + 1];

    memset(seen, 0, sizeof(seen));
    move(y - 1, 0);
    clrtoeol();
    if (ui->prompt.open) {
        int x0 = ui_draw_fmt(ui, y - 1, 0, ui->w, "%s: ", ui->prompt.label);
        x0 += ui_draw_str(ui, y - 1, x0, ui->prompt.text, ui->w - x0 - 1);
        ui_draw_str(ui, y - 1, x0, "_", 1);
    } else if (ui->message != NULL)
        ui_draw_str(ui, y - 1, 0, ui->message, ui->w);
    move(y, 0);
    clrtoeol();
    for (const struct ui_key *k = ui_keys; k->label != NULL; k++) {
        if (k->footer == NULL || (k->screens & mask) == 0 || seen[k->action])
            continue;
        seen[k->action] = true;
        const char *word = k->footer;
        if (k->action == UA_BACK && ui->screen->id != UI_SCREEN_INCIDENTS)
            word = "back";
        int need = (int)(strlen(k->label) + strlen(word) + 2);
        if (x + need > ui->w)
            break;
        ui_draw_attr_on(ui, UI_C_TITLE, false);
        ui_draw_str(ui, y, x, k->label, ui->w - x);
        ui_draw_attr_off(ui, UI_C_TITLE, false);
        ui_draw_fmt(ui, y, x + (int)strlen(k->label), ui->w - x, " %s", word);
        x += need;
    }
}

void
ui_doc_draw(struct ui *ui, const struct ui_doc *d, size_t *scroll, int top, int rows)
{
    if (rows <= 0)
        return;
    if (*scroll + (size_t)rows > d->n)
        *scroll = d->n > (size_t)rows ? d->n - (size_t)rows : 0;
    for (size_t i = *scroll; i < d->n && (int)(i - *scroll) < rows; i++) {
        const struct ui_doc_line *l = &d->v[i];
        int y = top + (int)(i - *scroll);
        ui_draw_attr_on(ui, (enum ui_color)l->color, false);
        if (l->raw)
            ui_draw_str(ui, y, 0, l->text, ui->w);
        else
            ui_draw_plain(ui, y, 0, l->text, ui->w);
        ui_draw_attr_off(ui, (enum ui_color)l->color, false);
    }
    if (d->n > (size_t)rows) /* where we are, in words */
        ui_draw_fmt(ui, top + rows - 1, ui->w - 16, 16, " [%zu-%zu of %zu]", *scroll + 1,
                    *scroll + (size_t)rows < d->n ? *scroll + (size_t)rows : d->n, d->n);
}

int
ui_doc_scroll(const struct ui_doc *d, size_t *scroll, enum ui_action a, int rows)
{
    size_t old = *scroll, page = rows > 2 ? (size_t)rows - 1 : 1;
    size_t max = d->n > (size_t)rows ? d->n - (size_t)rows : 0;

    switch (a) {
    case UA_UP:
        *scroll -= *scroll > 0;
        break;
    case UA_DOWN:
        *scroll += *scroll < max;
        break;
    case UA_PGUP:
        *scroll = *scroll > page ? *scroll - page : 0;
        break;
    case UA_PGDN:
        *scroll = *scroll + page < max ? *scroll + page : max;
        break;
    case UA_HOME:
        *scroll = 0;
        break;
    case UA_END:
        *scroll = max;
        break;
    default:
        return 0;
    }
    return *scroll != old ? UI_REDRAW : 0;
}

int
ui_draw_plain(struct ui *ui, int y, int x, const char *s, int width)
{
    /* Already sanitized text (a fmt-*.c renderer's): cut to cells, never escaped again; a
     * control byte, which a renderer never leaves, is shown as '?' all the same. */
    struct buf b = BUF_INIT;
    int used = 0;
    size_t i = 0, len = strlen(s);

    (void)ui;
    if (y < 0 || y >= LINES || x >= COLS || width <= 0)
        return 0;
    if (x + width > COLS)
        width = COLS - x;
    while (i < len && used < width) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            buf_addf(&b, "%c", c < 0x20 || c == 0x7f ? '?' : (char)c);
            used++;
            i++;
            continue;
        }
        size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);
        int w = n > 0 ? sanitize_width(s + i, n) : 1;
        if (n == 0 || w > 2) { /* an escape would be needed: not sanitized text */
            buf_adds(&b, "?");
            used++;
            i++;
            continue;
        }
        if (used + w > width)
            break;
        buf_add(&b, s + i, n);
        used += w;
        i += n;
    }
    mvaddnstr(y, x, b.p != NULL ? b.p : "", (int)b.len);
    buf_free(&b);
    return used;
}
