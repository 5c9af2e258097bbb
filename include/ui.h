/*
 * ui.h — the on-call terminal interface (`tlstriage`, `tlstriage watch`): the state every
 * screen shares (struct ui), the screen table and the entry point. Screens live in
 * ui-SCREEN.c; drawing helpers in ui-draw.c; the key table in ui-keys.c; the terminal, the
 * loop and redraw from dirty flags in ui.c. The model modules know nothing of this layer.
 */
#ifndef TT_UI_H
#define TT_UI_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "app.h"
#include "incident.h"

struct evloop;
struct txn_info;
struct tail;
struct ui;

struct ui_opts {
    bool since_given;
    time_t since;           /* --since (default: the last hour) */
    const char *debug_file; /* --debug FILE: diagnostics while curses owns the terminal */
    bool ascii;             /* --ascii: no UTF-8 box drawing or sparklines */
};

/* What a key handler asks of the loop (tmux/htop style): redraw, quit, or nothing. */
enum {
    UI_HANDLED = 1 << 0,
    UI_REDRAW = 1 << 1,
    UI_QUIT = 1 << 2,
};

enum ui_screen_id {
    UI_SCREEN_INCIDENTS,
    UI_SCREEN_HISTORY,
    UI_SCREEN_HELP,
    UI_SCREEN__COUNT
};

/* Abstract actions: keys map to them through the one table (ui-keys.c). */
enum ui_action {
    UA_NONE,
    UA_UP,
    UA_DOWN,
    UA_PGUP,
    UA_PGDN,
    UA_HOME,
    UA_END,
    UA_OPEN,
    UA_BACK,
    UA_NEXT,
    UA_UPSTREAMS,
    UA_HISTORY,
    UA_PROBE,
    UA_FIX,
    UA_YES,
    UA_NO,
    UA_ROLLBACK,
    UA_FILTER,
    UA_HELP,
    UA_REDRAW,
    UA_SUSPEND,
};

/* A screen: what it draws and how it answers actions. Rows are the screen's own business
 * (a view-model built from the model), drawn from dirty flags. */
struct ui_screen {
    enum ui_screen_id id;
    const char *name;  /* "Incidents" in the title line */
    unsigned key_mask; /* which key-table entries apply (UI_KM_*) */
    void (*draw)(struct ui *ui, int top, int rows);
    int (*action)(struct ui *ui, enum ui_action a);
    const char *what; /* one paragraph for the help screen */
};

/* Selection and scrolling of a list, shared by the list screens. */
struct ui_list {
    size_t sel, top, n;
};

struct ui_follow_state {
    char *path;
    const char *state; /* "following", "rotated", "missing", "unreadable" */
};

struct ui {
    struct app *app;
    struct ui_opts opts;
    struct evloop *loop;
    FILE *debug;
    bool utf8;  /* UTF-8 glyphs (else ASCII) */
    bool color; /* colour pairs in use */
    int w, h;   /* terminal size */
    unsigned dirty; /* UI_REDRAW when something shown changed */
    bool quit;

    const struct ui_screen *screen; /* current */
    const struct ui_screen *prev;   /* where Esc/q goes back to (NULL: home) */

    /* The model the home screen shows: the follower's incidents. */
    struct tail *tail;
    struct incident_store store;
    unsigned long long lines_read;
    struct ui_follow_state *logs;
    size_t nlogs;
    char *nginx_version;
    long master_pid;
    time_t clock_shown;
    bool reading_backlog; /* the --since part is still being read */

    struct ui_list incidents;
    struct incident **sorted; /* the rows, rebuilt when the store changes */
    size_t nsorted;
    const struct incident *selected; /* kept selected across re-sorts */
    char *filter;                    /* `/` filter (substring of upstream, cause, server) */
    bool filtering;                  /* the prompt line is open */

    struct ui_list history;
    struct txn_info *txns;
    size_t ntxns;
    char *history_error;
    bool history_diff;      /* Enter: the selected transaction's diff is shown */
    size_t history_scroll;  /* first diff line shown */

    size_t help_scroll;

    char *message; /* one-line status shown above the footer, or NULL */
};

extern const struct ui_screen ui_screen_incidents;
extern const struct ui_screen ui_screen_history;
extern const struct ui_screen ui_screen_help;

/* Runs the interface until the operator quits. Returns an exit code of the command-line
 * contract; on a setup failure returns EXIT_USAGE with *cause set (nothing drawn). */
int ui_run(struct app *app, const struct ui_opts *o, char **cause);

/* Switches screens (the previous one is where q/Esc returns). */
void ui_show(struct ui *ui, const struct ui_screen *s);
/* A one-line status message (printf-style), shown until the next key. */
void ui_message(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Diagnostics to the --debug file (never to the terminal). */
void ui_debug(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Moves a list's selection by an action; returns UI_REDRAW when it moved. */
int ui_list_move(struct ui_list *l, enum ui_action a, int rows);

/* The home screen's model: start following the logs; rebuild the rows. */
int ui_incidents_start(struct ui *ui, char **cause);
void ui_incidents_stop(struct ui *ui);
void ui_incidents_rows(struct ui *ui);
/* The history screen's model: reload the journal. */
void ui_history_load(struct ui *ui);

#endif
