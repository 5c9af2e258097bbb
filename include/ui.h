/*
 * ui.h — the on-call terminal interface (`tlstriage`, `tlstriage watch`): the state every
 * screen shares (struct ui), the screen table and the entry point. Screens live in
 * ui-SCREEN.c; drawing helpers in ui-draw.c; the key table in ui-keys.c; the terminal, the
 * loop and redraw from dirty flags in ui.c. The model modules know nothing of this layer.
 */
#ifndef TT_UI_H
#define TT_UI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "app.h"
#include "incident.h"
#include "check.h"
#include "triage.h"

struct evloop;
struct job;
struct job_runner;
struct txn_info;
struct tail;
struct ui;

struct ui_opts {
    bool since_given;
    time_t since;              /* --since (default: the last hour) */
    const char *debug_file;    /* --debug FILE: diagnostics while curses owns the terminal */
    bool ascii;                /* --ascii: no UTF-8 box drawing or sparklines */
    const char *banner;        /* a line shown on top of Incidents (a drill's briefing), or NULL */
    unsigned long *keystrokes; /* counts the keys pressed (a drill's score), or NULL */
};

/* What a key handler asks of the loop (tmux/htop style): redraw, quit, or nothing. */
enum {
    UI_HANDLED = 1 << 0,
    UI_REDRAW = 1 << 1,
    UI_QUIT = 1 << 2,
};

enum ui_screen_id {
    UI_SCREEN_INCIDENTS,
    UI_SCREEN_UPSTREAMS,
    UI_SCREEN_DETAIL,
    UI_SCREEN_FIX,
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
    UA_CA_FILE,     /* fix wizard: give a CA / intermediate file */
    UA_CLIENT_CERT, /* fix wizard: give a client certificate and key */
    UA_REPORT,      /* write the postmortem report under the state dir */
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

/* A scrollable document of lines (detail, plan, diff). raw lines hold untrusted bytes and are
 * drawn through the sanitizer; the others are the tool's own words or text a fmt-*.c renderer
 * already sanitized. */
struct ui_doc_line {
    char *text;
    int color; /* enum ui_color */
    bool raw;
};
struct ui_doc {
    struct ui_doc_line *v;
    size_t n;
};

struct ui_detail {
    const struct incident *inc; /* the incident shown */
    bool placed;
    size_t item;     /* its item in ui->tri */
    struct job *job; /* planning (probes) in the background */
    char *progress;  /* the job's last progress message */
    unsigned spin;
    char *error;
    struct ui_doc doc;
    size_t scroll;
};

enum ui_fix_stage { FIX_PICK, FIX_PLAN, FIX_RUN, FIX_RESULT };

#define UI_FIX_STEPS 11 /* enum txn_step */
struct ui_fix {
    enum ui_fix_stage stage;
    size_t item;       /* in ui->tri */
    size_t pick;       /* the fix chosen (index into rc.fixes) */
    size_t sel;        /* selection on the pick list */
    struct ui_doc doc; /* plan / checklist / result */
    size_t scroll;
    bool writable;      /* every file of the plan can be written by this user */
    char *not_writable; /* the first file that cannot, or NULL */
    struct job *job;
    int step_state[UI_FIX_STEPS]; /* 0 not run, 1 running, 2 done, -1 failed */
    long step_ms[UI_FIX_STEPS];
    uint64_t step_start[UI_FIX_STEPS];
    char *step_msg[UI_FIX_STEPS];
    int rc;
    struct txn_result *res;
    char *cause;
    char *before;          /* the probe's verdict before the fix */
    bool rolling_back;     /* the job (or result) is a rollback */
    bool completing;       /* ... or the completion of an interrupted one */
    size_t servers;        /* distinct servers the plan's radius reaches */
    bool radius_confirmed; /* y once for a radius over several servers */
};

struct ui_upstreams {
    bool planned;
    struct triage_probe_plan plan; /* one probe per use x target, with its label */
    bool checked;
    struct check_report check;
    struct job *job;
    struct probe_result *res; /* plan.n entries once the job ended, else NULL */
    bool *got;                /* which have answered */
    size_t n, answered;
    char **reload_warn; /* n entries once the job ended: "the next reload breaks ..." or NULL */
    struct ui_list list;
    char *error;
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
    bool utf8;      /* UTF-8 glyphs (else ASCII) */
    bool color;     /* colour pairs in use */
    int w, h;       /* terminal size */
    unsigned dirty; /* UI_REDRAW when something shown changed */
    bool quit;
    bool quit_asked; /* q once while a transaction runs */

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
    struct incident **sorted; /* the rows, rebuilt when drawn after the store changed */
    bool rows_stale;
    size_t nsorted;
    const struct incident *selected; /* kept selected across re-sorts */
    char *filter;                    /* `/` filter (substring of upstream, cause, server) */
    bool filtering;                  /* the prompt line is open */

    struct ui_list history;
    struct txn_info *txns;
    size_t ntxns;
    char *history_error;
    bool history_confirm;  /* r asked "roll back ID? y/n" */
    bool history_diff;     /* Enter: the selected transaction's diff is shown */
    size_t history_scroll; /* first diff line shown */

    size_t help_scroll;

    /* The model behind Detail, the wizard and Upstreams: config, placing, planning. */
    struct triage tri;
    bool tri_open;
    char *tri_error;
    struct job_runner *jobs;
    struct ui_detail detail;
    struct ui_fix fix;
    struct ui_upstreams up;
    struct ui_raw *raw; /* the latest raw line of each incident */
    size_t nraw;

    struct triage_pending pending; /* unfinished transactions found at start */
    bool pending_shown;            /* the banner is up (y complete, r roll back, n later) */

    /* A one-line prompt for a path (Tab completes), opened by the fix wizard. */
    struct {
        bool open;
        const char *label;
        char text[4096];
        void (*done)(struct ui *ui, const char *text); /* Enter; Esc cancels */
    } prompt;
    char *ca_file, *client_cert, *client_key; /* given in the wizard (owned) */

    char *message; /* one-line status shown above the footer, or NULL */
};

struct ui_raw {
    const struct incident *inc;
    char *line;
};

extern const struct ui_screen ui_screen_incidents;
extern const struct ui_screen ui_screen_detail;
extern const struct ui_screen ui_screen_upstreams;
extern const struct ui_screen ui_screen_fix;
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

/* Opens the path prompt; done is called with the text on Enter. */
void ui_prompt_open(struct ui *ui, const char *label, void (*done)(struct ui *, const char *));
/* Completes a path prefix in place (Tab): the one match, or the matches' common prefix.
 * Returns the number of matches. */
size_t ui_complete_path(char *text, size_t size);

/* Moves a list's selection by an action; returns UI_REDRAW when it moved. */
int ui_list_move(struct ui_list *l, enum ui_action a, int rows);

/* The home screen's model: start following the logs; rebuild the rows. */
int ui_incidents_start(struct ui *ui, char **cause);
void ui_incidents_stop(struct ui *ui);
void ui_incidents_rows(struct ui *ui);
/* The latest raw log line of an incident (NULL when not seen since the start). */
const char *ui_incidents_raw(struct ui *ui, const struct incident *inc);
/* Detail: open on an incident (places and plans it), re-probe, rebuild, close. */
void ui_detail_open(struct ui *ui, const struct incident *inc);
void ui_detail_open_use(struct ui *ui, const char *label, const char *host, unsigned port);
void ui_detail_probe(struct ui *ui);
void ui_detail_refresh(struct ui *ui);
void ui_detail_close(struct ui *ui);
/* The fix wizard on the item shown in Detail. */
void ui_fix_open(struct ui *ui);
/* Frees what the fix screen holds (its text, step messages, result); ui_run calls it at exit. */
void ui_fix_close(struct ui *ui);
bool ui_fix_running(const struct ui *ui);
/* A new plan of the item arrived: the wizard's pick list is rebuilt. */
void ui_fix_replanned(struct ui *ui);
/* Rolls back (or completes) transaction id in the background, shown on the wizard's
 * checklist. */
void ui_fix_rollback(struct ui *ui, const char *id);
void ui_fix_complete(struct ui *ui, const char *id);
/* Upstreams: plan and probe every TLS use in the background. */
void ui_upstreams_open(struct ui *ui);
void ui_upstreams_close(struct ui *ui);
/* Documents. */
void ui_doc_clear(struct ui_doc *d);
void ui_doc_add(struct ui_doc *d, int color, bool raw, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ui_doc_draw(struct ui *ui, const struct ui_doc *d, size_t *scroll, int top, int rows);
int ui_doc_scroll(const struct ui_doc *d, size_t *scroll, enum ui_action a, int rows);
/* The runbook of an incident's cause (title and steps, as `tlstriage explain`) into d. */
void ui_doc_runbook(struct ui *ui, struct ui_doc *d, const struct incident *inc);
/* The history screen's model: reload the journal. */
void ui_history_load(struct ui *ui);
/* R: writes the redacted Markdown report under the state dir, the path in the status line. */
void ui_report_write(struct ui *ui);

#endif
