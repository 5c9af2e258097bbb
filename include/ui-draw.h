/*
 * ui-draw.h — drawing helpers every screen uses: untrusted text through the one sanitizer,
 * cut to a width in cells; the glyph set (UTF-8 or ASCII); colour pairs that never carry
 * meaning alone; the title, status and footer lines; sparklines.
 */
#ifndef TT_UI_DRAW_H
#define TT_UI_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include "ui.h"

enum ui_color {
    UI_C_NORMAL = 0,
    UI_C_TITLE,
    UI_C_BAD, /* failures: always with a word or a symbol too */
    UI_C_GOOD,
    UI_C_DIM,
    UI_C_SEL,
};

/* Sets the glyph set and colours for the terminal curses opened (call after initscr). */
void ui_draw_init(struct ui *ui);

/* Draws untrusted bytes at (y, x), sanitized and cut to at most width cells; returns the
 * cells drawn. s may be NULL (draws nothing). */
int ui_draw_text(struct ui *ui, int y, int x, const char *s, size_t len, int width);
int ui_draw_str(struct ui *ui, int y, int x, const char *s, int width);
/* Text a fmt-*.c renderer already sanitized, cut to width cells (not escaped again). */
int ui_draw_plain(struct ui *ui, int y, int x, const char *s, int width);
/* Trusted text of the tool's own (printf-style), cut to width cells. */
int ui_draw_fmt(struct ui *ui, int y, int x, int width, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

void ui_draw_attr_on(struct ui *ui, enum ui_color c, bool bold);
void ui_draw_attr_off(struct ui *ui, enum ui_color c, bool bold);

/* A sparkline of n counts (oldest first) in n cells. */
void ui_draw_sparkline(struct ui *ui, int y, int x, const uint32_t *v, size_t n);

/* The title line (row 0), the status message line (h-2) and the footer (h-1, from the key
 * table for the current screen). */
void ui_draw_title(struct ui *ui);
void ui_draw_footer(struct ui *ui);

/* The horizontal rule glyph ("─" or "-"). */
const char *ui_draw_hline(const struct ui *ui);

#endif
