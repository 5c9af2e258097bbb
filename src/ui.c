/*
 * ui.c — the interface's terminal and loop: sets curses up and restores the terminal on every
 * exit path (fatal ones through the xmalloc hook), owns SIGWINCH/SIGINT/SIGTERM/SIGHUP while
 * it runs, reads keys from the one evloop, maps them through the key table and redraws from
 * dirty flags at most four times a second (a key redraws at once). Screens draw and answer
 * actions (ui-*.c); the model knows nothing of this file. Called by cli-watch.c.
 */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <glob.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "job.h"
#include "nginxbin.h"
#include "tail.h"
#include "txn.h"
#include "ui-draw.h"
#include "ui-keys.h"
#include "ui.h"
#include "xmalloc.h"

#define UI_FRAME_MS 250 /* at most 4 redraws a second from model changes */
#define UI_MIN_W 80
#define UI_MIN_H 24

static bool ui_curses_on;

/* The fatal path: restore the terminal before anything is printed. */
static void
ui_restore_terminal(void)
{
    if (ui_curses_on) {
        endwin();
        ui_curses_on = false;
    }
}

void
ui_debug(struct ui *ui, const char *fmt, ...)
{
    va_list ap;

    if (ui->debug == NULL)
        return;
    va_start(ap, fmt);
    vfprintf(ui->debug, fmt, ap);
    va_end(ap);
    fputc('\n', ui->debug);
    fflush(ui->debug);
}

void
ui_message(struct ui *ui, const char *fmt, ...)
{
    va_list ap;

    free(ui->message);
    va_start(ap, fmt);
    ui->message = xvasprintf(fmt, ap);
    va_end(ap);
    ui->dirty |= UI_REDRAW;
}

void
ui_show(struct ui *ui, const struct ui_screen *s)
{
    if (s != ui->screen) {
        ui->prev = ui->screen;
        ui->screen = s;
    }
    ui->dirty |= UI_REDRAW;
}

int
ui_list_move(struct ui_list *l, enum ui_action a, int rows)
{
    size_t old = l->sel, page = rows > 1 ? (size_t)rows - 1 : 1;

    if (l->n == 0)
        return 0;
    switch (a) {
    case UA_UP:
        l->sel = l->sel > 0 ? l->sel - 1 : 0;
        break;
    case UA_DOWN:
        l->sel = l->sel + 1 < l->n ? l->sel + 1 : l->n - 1;
        break;
    case UA_PGUP:
        l->sel = l->sel > page ? l->sel - page : 0;
        break;
    case UA_PGDN:
        l->sel = l->sel + page < l->n ? l->sel + page : l->n - 1;
        break;
    case UA_HOME:
        l->sel = 0;
        break;
    case UA_END:
        l->sel = l->n - 1;
        break;
    default:
        return 0;
    }
    return l->sel != old ? UI_REDRAW : 0;
}

static void
ui_redraw(struct ui *ui)
{
    erase();
    if (ui->w < UI_MIN_W || ui->h < UI_MIN_H) {
        /* one line, never garbage */
        mvaddnstr(0, 0, "terminal too small: tlstriage needs 80x24", ui->w);
    } else {
        ui_draw_title(ui);
        ui->screen->draw(ui, 1, ui->h - 3);
        ui_draw_footer(ui);
    }
    wnoutrefresh(stdscr);
    doupdate();
    ui->dirty = 0;
}

static void
ui_resize(struct ui *ui)
{
    struct winsize ws;

    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    ui->w = COLS;
    ui->h = LINES;
    clearok(curscr, TRUE);
    ui->dirty |= UI_REDRAW;
}

static void
on_signal(struct evloop *loop, int signo, void *arg)
{
    struct ui *ui = arg;

    if (signo == SIGWINCH) {
        ui_resize(ui);
        return;
    }
    ui_debug(ui, "signal %d: quitting", signo);
    ui->quit = true;
    evloop_stop(loop);
}

static void
ui_suspend(struct ui *ui)
{
    def_prog_mode();
    endwin();
    ui_curses_on = false;
    kill(0, SIGSTOP);
    /* resumed (fg) */
    reset_prog_mode();
    ui_curses_on = true;
    ui_resize(ui);
}

/* The `/` prompt: printable characters edit the filter, Enter keeps it, Esc clears it. */
static int
ui_filter_key(struct ui *ui, int key)
{
    size_t n = ui->filter != NULL ? strlen(ui->filter) : 0;

    if (key == 27) {
        free(ui->filter);
        ui->filter = NULL;
        ui->filtering = false;
    } else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        ui->filtering = false;
        if (n == 0) {
            free(ui->filter);
            ui->filter = NULL;
        }
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (n > 0)
            ui->filter[n - 1] = '\0';
    } else if (key >= 0x20 && key < 0x7f && n < 128) {
        ui->filter = xrealloc(ui->filter, n + 2);
        ui->filter[n] = (char)key;
        ui->filter[n + 1] = '\0';
    } else
        return 0;
    ui_incidents_rows(ui);
    return UI_REDRAW;
}

void
ui_prompt_open(struct ui *ui, const char *label, void (*done)(struct ui *, const char *))
{
    ui->prompt.open = true;
    ui->prompt.label = label;
    ui->prompt.text[0] = '\0';
    ui->prompt.done = done;
    ui->dirty |= UI_REDRAW;
}

size_t
ui_complete_path(char *text, size_t size)
{
    glob_t g;
    char *pat = xasprintf("%s*", text);
    size_t n = 0;

    if (glob(pat, GLOB_MARK | GLOB_NOSORT, NULL, &g) == 0) {
        n = g.gl_pathc;
        size_t common = strlen(g.gl_pathv[0]);
        for (size_t i = 1; i < n; i++) {
            size_t k = 0;
            while (k < common && g.gl_pathv[i][k] == g.gl_pathv[0][k])
                k++;
            common = k;
        }
        if (common >= strlen(text) && common < size)
            snprintf(text, size, "%.*s", (int)common, g.gl_pathv[0]);
        globfree(&g);
    }
    free(pat);
    return n;
}

/* The path prompt's keys: printable characters edit, Tab completes, Enter gives, Esc cancels. */
static int
ui_prompt_key(struct ui *ui, int key)
{
    size_t n = strlen(ui->prompt.text);

    if (key == 27) {
        ui->prompt.open = false;
        ui_message(ui, "cancelled");
    } else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        ui->prompt.open = false;
        if (n > 0)
            ui->prompt.done(ui, ui->prompt.text);
    } else if (key == '\t') {
        size_t m = ui_complete_path(ui->prompt.text, sizeof(ui->prompt.text));
        if (m != 1)
            ui_message(ui, m == 0 ? "no file matches" : "%zu files match", m);
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (n > 0)
            ui->prompt.text[n - 1] = '\0';
    } else if (key >= 0x20 && key < 0x7f && n + 1 < sizeof(ui->prompt.text)) {
        ui->prompt.text[n] = (char)key;
        ui->prompt.text[n + 1] = '\0';
    } else
        return 0;
    return UI_REDRAW;
}

/* Actions every screen shares; the screen's own handler sees the rest first. */
static int
ui_global_action(struct ui *ui, enum ui_action a)
{
    switch (a) {
    case UA_BACK:
        if (ui->screen == &ui_screen_incidents) {
            if (ui_fix_running(ui) && !ui->quit_asked) {
                ui->quit_asked = true;
                ui_message(ui, "a transaction is running: q again quits (it goes on in the "
                               "background and is journaled; the next start shows it)");
                return UI_REDRAW;
            }
            return UI_QUIT;
        }
        ui_show(ui, ui->prev != NULL && ui->prev != ui->screen ? ui->prev : &ui_screen_incidents);
        ui->prev = NULL;
        return UI_REDRAW;
    case UA_NEXT:
        /* Incidents -> Upstreams -> History -> Incidents */
        if (ui->screen == &ui_screen_incidents)
            ui_upstreams_open(ui);
        else if (ui->screen == &ui_screen_upstreams) {
            ui_history_load(ui);
            ui_show(ui, &ui_screen_history);
        } else
            ui_show(ui, &ui_screen_incidents);
        return UI_REDRAW;
    case UA_HISTORY:
        ui_history_load(ui);
        ui_show(ui, &ui_screen_history);
        return UI_REDRAW;
    case UA_HELP:
        ui_show(ui, &ui_screen_help);
        return UI_REDRAW;
    case UA_REDRAW:
        clearok(curscr, TRUE);
        return UI_REDRAW;
    case UA_SUSPEND:
        ui_suspend(ui);
        return UI_REDRAW;
    case UA_UPSTREAMS:
        ui_upstreams_open(ui);
        return UI_REDRAW;
    case UA_REPORT:
        ui_report_write(ui);
        return UI_REDRAW;
    default:
        return 0;
    }
}

static void
ui_keys_read(struct ui *ui)
{
    int key;

    while ((key = getch()) != ERR) {
        int r = 0;
        if (key == KEY_RESIZE) {
            /* resizeterm() (from SIGWINCH) queued it: the size is already taken */
            ui->w = COLS;
            ui->h = LINES;
            ui->dirty |= UI_REDRAW;
            continue;
        }
        if (ui->opts.keystrokes != NULL)
            (*ui->opts.keystrokes)++;
        if (ui->message != NULL) {
            free(ui->message);
            ui->message = NULL;
            ui->dirty |= UI_REDRAW;
        }
        if (ui->filtering) {
            ui->dirty |= ui_filter_key(ui, key);
            continue;
        }
        if (ui->prompt.open) {
            ui->dirty |= ui_prompt_key(ui, key);
            continue;
        }
        enum ui_action a = ui_keys_action(key, ui->screen->id);
        ui_debug(ui, "key %d -> action %d on %s", key, (int)a, ui->screen->name);
        if (a == UA_NONE)
            continue;
        r = ui->screen->action(ui, a);
        if ((r & UI_HANDLED) == 0)
            r |= ui_global_action(ui, a);
        if (r & UI_QUIT) {
            ui->quit = true;
            return;
        }
        ui->dirty |= r & UI_REDRAW;
    }
}

static void
on_stdin(struct evloop *loop, int fd, short revents, void *arg)
{
    struct ui *ui = arg;

    (void)loop;
    (void)fd;
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
        ui->quit = true; /* the terminal went away */
        return;
    }
    ui_keys_read(ui);
    if (ui->dirty)
        ui_redraw(ui); /* a key press reaches the screen at once */
}

static void
on_frame(struct evloop *loop, int id, void *arg)
{
    struct ui *ui = arg;

    (void)loop;
    (void)id;
    if (ui->reading_backlog && (ui->tail == NULL || !tail_pending(ui->tail))) {
        ui->reading_backlog = false; /* the whole start window is read */
        ui->dirty |= UI_REDRAW;
    }
    if (ui->dirty == 0 && time(NULL) != ui->clock_shown && ui->w >= UI_MIN_W && ui->h >= UI_MIN_H) {
        /* only the clock changed: redraw the title line alone (not over the notice of a
         * terminal too small, which has no title) */
        ui_draw_title(ui);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    if (ui->dirty)
        ui_redraw(ui);
}

static bool
ui_locale_utf8(void)
{
    const char *term = getenv("TERM");

    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        return false;
    return term == NULL || (strcmp(term, "linux") != 0 && strncmp(term, "vt100", 5) != 0);
}

int
ui_run(struct app *app, const struct ui_opts *o, char **cause)
{
    struct ui ui;
    struct nginx_version v;
    int rc = EXIT_ALL_WELL;
    char *vcause = NULL;

    memset(&ui, 0, sizeof(ui));
    ui.app = app;
    ui.opts = *o;
    ui.screen = &ui_screen_incidents;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        *cause = xstrdup("watch needs a terminal on standard input and output "
                         "(for scripts: tlstriage scan --follow, diagnose, fix)");
        return EXIT_USAGE;
    }
    if (o->debug_file != NULL && (ui.debug = fopen(o->debug_file, "a")) == NULL) {
        *cause = xasprintf("%s: %s", o->debug_file, strerror(errno));
        return EXIT_USAGE;
    }
    setlocale(LC_ALL, "");
    ui.utf8 = !o->ascii && ui_locale_utf8();
    if (nginxbin_version(app->nginx, &v, &vcause) == 0)
        ui.nginx_version = xstrdup(v.version);
    free(vcause);

    ui.loop = evloop_new();
    ui.jobs = job_runner_new(ui.loop);
    {
        struct triage_opts to;
        memset(&to, 0, sizeof(to));
        to.conf = app->conf;
        to.prefix = app->prefix;
        to.nginx = app->nginx;
        if (triage_open(&to, &ui.tri, &vcause) == 0) {
            ui.tri_open = true;
            ui.tri.log_store = &ui.store; /* what the screens follow (staleness) */
        } else {
            triage_free(&ui.tri); /* as triage.h asks, after an error too */
            ui.tri_error = vcause;
        }
        vcause = NULL;
    }
    /* The signals that end the screen are the loop's before curses changes the terminal:
     * none can then end the process with the terminal left in curses' modes. */
    evloop_signal_add(ui.loop, SIGINT, on_signal, &ui);
    evloop_signal_add(ui.loop, SIGTERM, on_signal, &ui);
    evloop_signal_add(ui.loop, SIGHUP, on_signal, &ui);
    /* The fatal path restores the terminal first. */
    xmalloc_set_fatal_hook(ui_restore_terminal);
    if (getenv("ESCDELAY") == NULL)
        set_escdelay(25);
    if (initscr() == NULL) {
        *cause = xstrdup("cannot initialise the terminal (check TERM)");
        rc = EXIT_USAGE;
        goto out;
    }
    ui_curses_on = true;
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    ui_draw_init(&ui);
    ui.w = COLS;
    ui.h = LINES;
    evloop_signal_add(ui.loop, SIGWINCH, on_signal, &ui);
    evloop_fd_add(ui.loop, STDIN_FILENO, POLLIN, on_stdin, &ui);

    /* An unfinished transaction (a dropped session, a kill) is offered first. */
    if (triage_pending(app_state_dir(app), &ui.pending, &vcause) == 0 && ui.pending.n > 0)
        ui.pending_shown = true;
    free(vcause);
    vcause = NULL;
    /* The first frame shows what is known at once; the backlog fills in after. */
    ui.reading_backlog = true;
    ui_redraw(&ui);
    if (ui_incidents_start(&ui, cause) != 0) {
        rc = EXIT_USAGE;
        goto out;
    }
    ui.reading_backlog = ui.tail != NULL && tail_pending(ui.tail);
    ui_incidents_rows(&ui);
    ui.dirty |= UI_REDRAW;
    evloop_timer_add(ui.loop, UI_FRAME_MS, UI_FRAME_MS, on_frame, &ui);
    while (!ui.quit) {
        if (evloop_run_once(ui.loop, -1) < 0) {
            *cause = xasprintf("poll: %s", strerror(errno));
            rc = EXIT_USAGE;
            break;
        }
        if (evloop_stopped(ui.loop))
            break;
    }
out:
    ui_detail_close(&ui);
    ui_upstreams_close(&ui);
    if (ui_fix_running(&ui)) {
        /* A transaction goes on in its own process group and journals every step: not
         * killed here (a dropped SSH session must not leave a half-applied change). */
        ui_debug(&ui, "quitting while a transaction runs: it finishes in the background");
        job_runner_release(ui.jobs);
    } else
        job_runner_free(ui.jobs);
    ui_fix_close(&ui);
    if (ui.tri_open)
        triage_free(&ui.tri);
    free(ui.tri_error);
    triage_pending_free(&ui.pending);
    ui_incidents_stop(&ui);
    ui_restore_terminal();
    xmalloc_set_fatal_hook(NULL);
    evloop_free(ui.loop);
    if (ui.txns != NULL)
        txn_info_free(ui.txns, ui.ntxns);
    free(ui.history_error);
    free(ui.message);
    free(ui.filter);
    free(ui.ca_file);
    free(ui.client_cert);
    free(ui.client_key);
    free(ui.nginx_version);
    if (ui.debug != NULL)
        fclose(ui.debug);
    return rc;
}
