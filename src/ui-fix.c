/*
 * ui-fix.c — the fix wizard (f on Detail): pick a candidate (verified ones first) → the plan
 * (the unified diff, every file written, and the blast radius: every use whose effective
 * settings the edit changes) → y applies it as a transaction in a job (txn-wire.c) with a live
 * checklist (lock, backup, write, nginx -t, reload, confirm, verify, watch) → the result with
 * the before/after verdict and what the watch saw; r rolls it back from there. Not root or a
 * file not writable: the plan is shown with the `sudo tlstriage fix ...` line, nothing written.
 * The candidates are remedy.c's (through triage); this file only shows and drives.
 */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evloop.h"
#include "job.h"
#include "remedy.h"
#include "txn-wire.h"
#include "ui-draw.h"
#include "ui-keys.h"
#include "ui.h"
#include "xmalloc.h"

#define UI_FIX_WATCH_SECONDS 10

static const enum txn_step checklist[] = {
    TXN_STEP_LOCK,   TXN_STEP_BACKUP,  TXN_STEP_WRITE,  TXN_STEP_TEST,
    TXN_STEP_RELOAD, TXN_STEP_CONFIRM, TXN_STEP_VERIFY, TXN_STEP_WATCH,
};

static const char *const step_words[UI_FIX_STEPS] = {
    [TXN_STEP_PLAN] = "plan",
    [TXN_STEP_LOCK] = "lock",
    [TXN_STEP_BACKUP] = "backup",
    [TXN_STEP_RECHECK] = "re-check the files",
    [TXN_STEP_WRITE] = "write",
    [TXN_STEP_TEST] = "nginx -t",
    [TXN_STEP_RELOAD] = "reload",
    [TXN_STEP_CONFIRM] = "confirm the reload",
    [TXN_STEP_VERIFY] = "verify (probe after the reload)",
    [TXN_STEP_WATCH] = "watch the log",
    [TXN_STEP_RESTORE] = "restore the old bytes",
};

static const struct triage_item *
fix_item(struct ui *ui)
{
    return &ui->tri.items[ui->fix.item];
}

/* The candidates in the order the wizard lists them: verified first, as remedy ranks them. */
static size_t
fix_order(const struct remedy_case *rc, size_t *order)
{
    size_t n = 0;

    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < rc->nfixes; i++) {
            if (rc->fixes[i].verified == (pass == 0))
                order[n++] = i;
        }
    }
    return n;
}

/* Whether this user can write path (or create it in its directory). */
static bool
can_write(const char *path)
{
    struct stat st;

    if (stat(path, &st) == 0)
        return access(path, W_OK) == 0;
    char *copy = xstrdup(path), *dir = dirname(copy);
    /* the certificate directory may not exist yet: walk up to what exists */
    while (stat(dir, &st) != 0 && strcmp(dir, "/") != 0 && strcmp(dir, ".") != 0)
        dir = dirname(dir);
    bool ok = access(dir, W_OK) == 0;
    free(copy);
    return ok;
}

static void
fix_build_pick(struct ui *ui)
{
    struct ui_fix *fx = &ui->fix;
    const struct remedy_case *rc = &fix_item(ui)->rc;
    size_t order[64];
    size_t n = fix_order(rc, order);

    ui_doc_clear(&fx->doc);
    ui_doc_add(&fx->doc, UI_C_NORMAL, true, "fix %s: %s", rc->upstream, rc->context);
    ui_doc_add(&fx->doc, UI_C_NORMAL, false,
               "pick a candidate (Up/Down, Enter); each was probed "
               "under its settings before it is offered:");
    for (size_t k = 0; k < n && k < 64; k++) {
        const struct remedy_fix *f = &rc->fixes[order[k]];
        ui_doc_add(&fx->doc, f->verified ? UI_C_GOOD : UI_C_BAD, false, "%s %-12s %s",
                   k == fx->sel ? ">" : " ", f->id,
                   f->verified ? (ui->utf8 ? "✓ verified by probe" : "[ok] verified by probe")
                               : (ui->utf8 ? "✗ not verified" : "[X] not verified"));
        if (!f->verified && f->verdict_note != NULL)
            ui_doc_add(&fx->doc, UI_C_BAD, true, "      why: %s", f->verdict_note);
        if (k == fx->sel && f->summary != NULL)
            ui_doc_add(&fx->doc, UI_C_NORMAL, true, "%s", f->summary);
    }
    if (n == 0)
        ui_doc_add(&fx->doc, UI_C_BAD, false,
                   "no candidate: the cause is beyond the nginx side "
                   "(see the cause on the Detail screen)");
    if (ui->detail.job != NULL)
        ui_doc_add(&fx->doc, UI_C_NORMAL, true, "planning again: %s",
                   ui->detail.progress != NULL ? ui->detail.progress : "starting");
    ui_doc_add(&fx->doc, UI_C_DIM, true, "c: a CA or intermediate file%s%s%s",
               ui->ca_file != NULL ? " (now " : " (for the ca and chain fixes)",
               ui->ca_file != NULL ? ui->ca_file : "", ui->ca_file != NULL ? ")" : "");
    ui_doc_add(&fx->doc, UI_C_DIM, true, "m: a client certificate and key%s%s%s",
               ui->client_cert != NULL ? " (now " : " (for the mtls fix)",
               ui->client_cert != NULL ? ui->client_cert : "", ui->client_cert != NULL ? ")" : "");
    if (fix_item(ui)->inc != NULL) {
        ui_doc_add(&fx->doc, UI_C_DIM, false, "%s", "");
        ui_doc_runbook(ui, &fx->doc, fix_item(ui)->inc);
    }
    ui_doc_add(&fx->doc, UI_C_DIM, false, "%s", "");
    ui_doc_add(&fx->doc, UI_C_DIM, false,
               "proxy_ssl_verify off is never offered: it hands every "
               "request to whoever answers on that address.");
}

static void
fix_build_plan(struct ui *ui)
{
    struct ui_fix *fx = &ui->fix;
    const struct triage_item *it = fix_item(ui);
    const struct remedy_fix *f = &it->rc.fixes[fx->pick];

    ui_doc_clear(&fx->doc);
    free(fx->not_writable);
    fx->not_writable = NULL;
    fx->writable = true;
    ui_doc_add(&fx->doc, f->verified ? UI_C_GOOD : UI_C_BAD, false, "plan: %s — %s", f->id,
               f->verified ? "verified by probe" : "NOT verified: it cannot be applied");
    for (size_t i = 0; i < f->nfiles && fx->writable; i++) {
        if (!can_write(f->files[i].path)) {
            fx->writable = false;
            fx->not_writable = xstrdup(f->files[i].path);
        }
    }
    if (!fx->writable) {
        ui_doc_add(&fx->doc, UI_C_BAD, true,
                   "you cannot write %s: nothing will be written from "
                   "here. To apply this plan:",
                   fx->not_writable);
        ui_doc_add(&fx->doc, UI_C_NORMAL, true,
                   "  sudo tlstriage --conf %s fix --upstream %s "
                   "--strategy %s --apply",
                   ui->tri.conf_abs, fix_item(ui)->spelling, f->id);
    } else if (f->verified && f->nfiles == 0)
        ui_doc_add(&fx->doc, UI_C_NORMAL, false,
                   "y: apply (no file written: nginx -t, reload, confirm, verify, watch)   "
                   "n/q: back");
    else if (f->verified)
        ui_doc_add(&fx->doc, UI_C_NORMAL, false,
                   "y: apply (backup, write, nginx -t, reload, "
                   "confirm, verify, watch)   n/q: back");
    if (f->summary != NULL)
        ui_doc_add(&fx->doc, UI_C_NORMAL, true, "%s", f->summary);
    ui_doc_add(&fx->doc, UI_C_NORMAL, false, "files written:%s",
               f->nfiles == 0 ? " none (a reload loads the files as they are on disk)" : "");
    for (size_t i = 0; i < f->nfiles; i++) {
        bool w = can_write(f->files[i].path);
        ui_doc_add(&fx->doc, w ? UI_C_NORMAL : UI_C_BAD, true, "  %s (%s%s)", f->files[i].path,
                   f->files[i].config ? "config" : "new certificate file",
                   w ? "" : ", NOT writable by you");
    }
    ui_doc_add(&fx->doc, UI_C_NORMAL, false,
               "blast radius: every use whose effective settings "
               "this edit changes, probed before and after:");
    fx->servers = 0;
    for (size_t i = 0; i < f->naffected; i++) {
        const struct remedy_affected *a = &f->affected[i];
        bool breaks = a->probed && a->before == PROBE_OK && a->after != PROBE_OK;
        const char *srv = a->context != NULL ? strstr(a->context, " in server ") : NULL;
        bool seen = false;
        for (size_t k = 0; k < i && srv != NULL; k++) {
            const char *o = f->affected[k].context != NULL
                                ? strstr(f->affected[k].context, " in server ")
                                : NULL;
            seen = seen || (o != NULL && strcmp(o, srv) == 0);
        }
        if (srv != NULL && !seen)
            fx->servers++;
        ui_doc_add(&fx->doc, breaks ? UI_C_BAD : UI_C_NORMAL, true, "  %s %s  %s (%s:%u)",
                   a->target ? "target " : "reached", a->upstream != NULL ? a->upstream : "?",
                   a->context != NULL ? a->context : "?", a->file != NULL ? a->file : "?", a->line);
        ui_doc_add(&fx->doc, breaks ? UI_C_BAD : UI_C_NORMAL, true, "      %s: %s -> %s%s",
                   a->changed != NULL ? a->changed : "settings",
                   a->probed ? probe_verdict_name(a->before) : "not probed",
                   a->probed ? probe_verdict_name(a->after) : "(cannot resolve statically)",
                   breaks ? "  <- this edit would break it" : "");
    }
    if (!f->radius_whole)
        ui_doc_add(&fx->doc, UI_C_BAD, false,
                   "a use that passes today would fail under this edit: "
                   "it is not verified and is never applied");
    if (fx->servers > 1)
        ui_doc_add(&fx->doc, UI_C_BAD, false,
                   "this edit reaches %zu servers (a shared block or "
                   "snippet): y asks once more before applying",
                   fx->servers);
    ui_doc_add(&fx->doc, UI_C_NORMAL, false, "%s", "");
    ui_doc_add(&fx->doc, UI_C_NORMAL, false, "the diff:");
    if (f->diff != NULL) {
        const char *p = f->diff;
        while (*p != '\0') {
            const char *nl = strchr(p, '\n');
            size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
            char *line = xstrndup(p, len);
            ui_doc_add(&fx->doc,
                       line[0] == '+'   ? UI_C_GOOD
                       : line[0] == '-' ? UI_C_BAD
                                        : UI_C_NORMAL,
                       true, "%s", line);
            free(line);
            p += len + (nl != NULL);
        }
    }
}

static void
fix_build_run(struct ui *ui)
{
    struct ui_fix *fx = &ui->fix;
    const char *ok = ui->utf8 ? "✓" : "ok", *bad = ui->utf8 ? "✗" : "X ", *run = "..";

    ui_doc_clear(&fx->doc);
    ui_doc_add(&fx->doc, UI_C_NORMAL, false, "%s",
               fx->stage == FIX_RUN ? "applying (the journal records each step)"
                                    : "transaction finished");
    for (size_t k = 0; k < sizeof(checklist) / sizeof(checklist[0]); k++) {
        enum txn_step s = checklist[k];
        int st = fx->step_state[s];
        ui_doc_add(&fx->doc,
                   st < 0    ? UI_C_BAD
                   : st == 2 ? UI_C_GOOD
                             : UI_C_NORMAL,
                   false, "  [%s] %-34s %s",
                   st == 2   ? ok
                   : st < 0  ? bad
                   : st == 1 ? run
                             : "  ",
                   step_words[s],
                   st == 2 || st < 0 ? ""
                   : st == 1         ? "running"
                                     : "");
        if (fx->step_ms[s] > 0)
            fx->doc.v[fx->doc.n - 1].text =
                (free(fx->doc.v[fx->doc.n - 1].text), xasprintf("  [%s] %-34s %ld ms",
                                                                st == 2  ? ok
                                                                : st < 0 ? bad
                                                                         : run,
                                                                step_words[s], fx->step_ms[s]));
        if (st < 0 && fx->step_msg[s] != NULL)
            ui_doc_add(&fx->doc, UI_C_BAD, true, "%s", fx->step_msg[s]);
    }
    if (fx->step_state[TXN_STEP_RESTORE] != 0)
        ui_doc_add(&fx->doc, UI_C_BAD, false, "  [%s] %s",
                   fx->step_state[TXN_STEP_RESTORE] == 2 ? ok : run, step_words[TXN_STEP_RESTORE]);
    if (fx->stage != FIX_RESULT)
        return;
    ui_doc_add(&fx->doc, UI_C_NORMAL, false, "%s", "");
    if (fx->rc == TXN_OK && fx->completing) {
        ui_doc_add(&fx->doc, UI_C_GOOD, true, "completed: %s, nginx reloaded%s", fx->res->id,
                   fx->res->confirmed ? " and confirmed" : "");
        ui_doc_add(&fx->doc, UI_C_NORMAL, false, "q: back");
    } else if (fx->rc == TXN_OK && fx->rolling_back) {
        ui_doc_add(&fx->doc, UI_C_GOOD, true,
                   "rolled back: %s restored the old bytes, nginx "
                   "reloaded%s",
                   fx->res->id, fx->res->confirmed ? " and confirmed" : "");
        if (fx->res->note != NULL)
            ui_doc_add(&fx->doc, UI_C_NORMAL, true, "note: %s", fx->res->note);
        ui_doc_add(&fx->doc, UI_C_NORMAL, false, "q: back");
    } else if (fx->rc == TXN_OK) {
        ui_doc_add(&fx->doc, UI_C_GOOD, true, "done: %s, nginx reloaded%s", fx->res->id,
                   fx->res->confirmed ? " and confirmed (new workers)" : "");
        ui_doc_add(&fx->doc, UI_C_NORMAL, true, "before: %s",
                   fx->before != NULL ? fx->before : "?");
        ui_doc_add(&fx->doc, UI_C_GOOD, false, "after:  ok (re-probed after the reload)");
        if (fx->res->watch_failures > 0)
            ui_doc_add(&fx->doc, UI_C_BAD, true, "watch: %d new upstream TLS failure(s), first: %s",
                       fx->res->watch_failures,
                       fx->res->watch_first != NULL ? fx->res->watch_first : "");
        else
            ui_doc_add(&fx->doc, UI_C_GOOD, false,
                       "watch: no new failure for this upstream "
                       "since the reload");
        if (fx->res->note != NULL)
            ui_doc_add(&fx->doc, UI_C_NORMAL, true, "note: %s", fx->res->note);
        ui_doc_add(&fx->doc, UI_C_NORMAL, false, "r: roll back   q: back");
    } else {
        ui_doc_add(&fx->doc, UI_C_BAD, true, "failed: %s", fx->cause != NULL ? fx->cause : "?");
        if (fx->res != NULL && fx->res->nginx_output != NULL)
            ui_doc_add(&fx->doc, UI_C_BAD, true, "%s", fx->res->nginx_output);
        ui_doc_add(&fx->doc, UI_C_NORMAL, true, "state: %s%s%s",
                   fx->res != NULL ? txn_state_name(fx->res->state) : "?",
                   fx->res != NULL && fx->res->id != NULL ? " (" : "",
                   fx->res != NULL && fx->res->id != NULL ? fx->res->id : "");
    }
}

static void
fix_rebuild(struct ui *ui)
{
    switch (ui->fix.stage) {
    case FIX_PICK:
        fix_build_pick(ui);
        break;
    case FIX_PLAN:
        fix_build_plan(ui);
        break;
    default:
        fix_build_run(ui);
    }
    ui->dirty |= UI_REDRAW;
}

void
ui_fix_close(struct ui *ui)
{
    struct ui_fix *fx = &ui->fix;

    ui_doc_clear(&fx->doc);
    for (int s = 0; s < UI_FIX_STEPS; s++)
        free(fx->step_msg[s]);
    if (fx->res != NULL) {
        txn_result_free(fx->res);
        free(fx->res);
    }
    free(fx->cause);
    free(fx->before);
    free(fx->not_writable);
    memset(fx, 0, sizeof(*fx));
}

void
ui_fix_open(struct ui *ui)
{
    struct ui_fix *fx = &ui->fix;

    if (!ui->detail.placed) {
        ui_message(ui, "no fix: the incident is not placed in the config");
        return;
    }
    if (ui->detail.job != NULL) {
        ui_message(ui, "still probing: f again when the candidates are listed");
        return;
    }
    if (!ui->tri.items[ui->detail.item].planned) {
        ui_message(ui, "no fix: the incident could not be planned (see Detail)");
        return;
    }
    if (fx->job != NULL) {
        ui_show(ui, &ui_screen_fix);
        return;
    }
    ui_fix_close(ui);
    fx->item = ui->detail.item;
    fx->stage = FIX_PICK;
    fix_rebuild(ui);
    ui_show(ui, &ui_screen_fix);
}

static void
on_step(enum txn_step step, int done, const char *msg, void *arg)
{
    struct ui *ui = arg;
    struct ui_fix *fx = &ui->fix;

    if ((int)step < 0 || step >= UI_FIX_STEPS)
        return;
    if (done == 0) {
        fx->step_state[step] = 1;
        fx->step_start[step] = evloop_now_ms();
    } else {
        fx->step_state[step] = done > 0 ? 2 : -1;
        fx->step_ms[step] = fx->step_start[step] != 0
                                ? (long)(evloop_now_ms() - fx->step_start[step])
                                : 0; /* ended without a start record: no time to show */
        /* a step that ends closes the earlier ones still shown running (the reload ends
         * with its confirmation) */
        for (size_t k = 0; done > 0 && k < sizeof(checklist) / sizeof(checklist[0]); k++) {
            if (checklist[k] == step)
                break;
            if (fx->step_state[checklist[k]] == 1)
                fx->step_state[checklist[k]] = 2;
        }
    }
    if (msg != NULL) {
        free(fx->step_msg[step]);
        fx->step_msg[step] = xstrdup(msg);
    }
    ui_debug(ui, "txn step %d %d %s", (int)step, done, msg != NULL ? msg : "");
    fix_rebuild(ui);
}

static void
on_txn_done(int rc, struct txn_result *res, char *cause, void *arg)
{
    struct ui *ui = arg;
    struct ui_fix *fx = &ui->fix;

    fx->job = NULL;
    fx->rc = rc;
    fx->res = res;
    fx->cause = cause;
    fx->stage = FIX_RESULT;
    ui_debug(ui, "txn done rc %d %s", rc, cause != NULL ? cause : "");
    ui_history_load(ui);
    fix_rebuild(ui);
}

static int
verify_hook(void *arg, char **cause)
{
    struct ui *ui = arg;
    const struct triage_item *it = fix_item(ui);

    if (remedy_recheck(ui->tri.conf_abs, ui->app->prefix, &it->rc, &ui->tri.ro, cause) != 0)
        return -1;
    return remedy_recheck_radius(ui->tri.conf_abs, ui->app->prefix, &it->rc.fixes[ui->fix.pick],
                                 &ui->tri.ro, cause);
}

static int
mkdir_p(const char *dir)
{
    char *p = xstrdup(dir);
    int rc = 0;

    for (char *s = p + 1; *s != '\0'; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) == -1 && errno != EEXIST)
            rc = -1;
        *s = '/';
    }
    if (mkdir(p, 0755) == -1 && errno != EEXIST)
        rc = -1;
    free(p);
    return rc;
}

static void
fix_apply(struct ui *ui)
{
    struct ui_fix *fx = &ui->fix;
    const struct triage_item *it = fix_item(ui);
    const struct remedy_fix *f = &it->rc.fixes[fx->pick];
    struct txn_opts o;
    struct txn_change *ch;
    const char **sha;
    char *summary, *cause = NULL;
    struct txn_job_cbs cbs = {on_step, on_txn_done, ui};

    if (mkdir_p(ui->tri.cert_dir) != 0) {
        ui_message(ui, "cannot create %s: %s", ui->tri.cert_dir, strerror(errno));
        return;
    }
    triage_changes(it, f, &ch, &sha, &summary);
    memset(&o, 0, sizeof(o));
    o.state_dir = app_state_dir(ui->app);
    o.nginx.binary = ui->app->nginx;
    o.nginx.conf = ui->app->conf_given ? ui->app->conf : NULL;
    o.nginx.prefix = ui->app->prefix;
    o.summary = summary;
    o.planned_sha256 = sha;
    o.verify = verify_hook;
    o.verify_arg = ui;
    o.watch_seconds = UI_FIX_WATCH_SECONDS;
    o.watch_match = it->rc.upstream;
    fx->before = xasprintf("%s%s%s", probe_verdict_name(it->rc.probe.verdict),
                           it->rc.probe.nginx_message != NULL ? ": " : "",
                           it->rc.probe.nginx_message != NULL ? it->rc.probe.nginx_message : "");
    fx->job = txn_wire_job_start(ui->jobs, TXN_WIRE_APPLY, &o, ch, f->nfiles, NULL, &cbs, &cause);
    if (fx->job == NULL) {
        ui_message(ui, "cannot start the transaction: %s", cause != NULL ? cause : "?");
        free(cause);
    } else
        fx->stage = FIX_RUN;
    free(ch);
    free(sha);
    free(summary);
    fix_rebuild(ui);
}

/* Rolls back transaction id (the fix just applied, or one picked in History) in a job, with
 * the same checklist. */
static void fix_txn_job(struct ui *ui, enum txn_wire_op op, const char *txn_id);

void
ui_fix_rollback(struct ui *ui, const char *txn_id)
{
    fix_txn_job(ui, TXN_WIRE_ROLLBACK, txn_id);
}

void
ui_fix_complete(struct ui *ui, const char *txn_id)
{
    fix_txn_job(ui, TXN_WIRE_COMPLETE, txn_id);
}

static void
fix_txn_job(struct ui *ui, enum txn_wire_op op, const char *txn_id)
{
    struct ui_fix *fx = &ui->fix;
    struct txn_opts o;
    char *cause = NULL, *id = xstrdup(txn_id);
    struct txn_job_cbs cbs = {on_step, on_txn_done, ui};

    if (fx->job != NULL) {
        free(id);
        ui_message(ui, "a transaction is running already");
        return;
    }
    ui_doc_clear(&fx->doc);
    for (int s = 0; s < UI_FIX_STEPS; s++) {
        free(fx->step_msg[s]);
        fx->step_msg[s] = NULL;
    }
    free(fx->before);
    fx->before = NULL;
    fx->scroll = 0;
    fx->rolling_back = op == TXN_WIRE_ROLLBACK;
    fx->completing = op == TXN_WIRE_COMPLETE;
    fx->rc = TXN_OK;
    memset(&o, 0, sizeof(o));
    o.state_dir = app_state_dir(ui->app);
    o.nginx.binary = ui->app->nginx;
    o.nginx.conf = ui->app->conf_given ? ui->app->conf : NULL;
    o.nginx.prefix = ui->app->prefix;
    for (int s = 0; s < UI_FIX_STEPS; s++) {
        fx->step_state[s] = 0;
        fx->step_ms[s] = 0;
    }
    if (fx->res != NULL) {
        txn_result_free(fx->res);
        free(fx->res);
        fx->res = NULL;
    }
    free(fx->cause);
    fx->cause = NULL;
    fx->job = txn_wire_job_start(ui->jobs, op, &o, NULL, 0, id, &cbs, &cause);
    if (fx->job == NULL) {
        ui_message(ui, "cannot start the rollback: %s", cause != NULL ? cause : "?");
        free(cause);
    } else
        fx->stage = FIX_RUN;
    free(id);
    fix_rebuild(ui);
    ui_show(ui, &ui_screen_fix);
}

static void got_ca(struct ui *ui, const char *path);
static void got_cert(struct ui *ui, const char *path);

static void
fix_draw(struct ui *ui, int top, int rows)
{
    ui_doc_draw(ui, &ui->fix.doc, &ui->fix.scroll, top, rows);
}

static int
fix_action(struct ui *ui, enum ui_action a)
{
    struct ui_fix *fx = &ui->fix;
    const struct remedy_case *rc =
        fx->stage <= FIX_PLAN && fx->item < ui->tri.n ? &fix_item(ui)->rc : NULL;
    size_t order[64], n;

    if (fx->stage == FIX_RUN) {
        if (a == UA_BACK) {
            ui_message(ui, "a transaction is running: it ends by itself (nginx -t, reload, "
                           "confirm, watch)");
            return UI_HANDLED | UI_REDRAW;
        }
        return UI_HANDLED | ui_doc_scroll(&fx->doc, &fx->scroll, a, ui->h - 4);
    }
    switch (a) {
    case UA_UP:
    case UA_DOWN:
        if (fx->stage == FIX_PICK && rc != NULL) {
            n = fix_order(rc, order);
            if (a == UA_UP && fx->sel > 0)
                fx->sel--;
            else if (a == UA_DOWN && fx->sel + 1 < n)
                fx->sel++;
            fix_rebuild(ui);
            return UI_HANDLED | UI_REDRAW;
        }
        /* fall through */
    case UA_PGUP:
    case UA_PGDN:
    case UA_HOME:
    case UA_END:
        return UI_HANDLED | ui_doc_scroll(&fx->doc, &fx->scroll, a, ui->h - 4);
    case UA_OPEN:
        if (fx->stage != FIX_PICK || rc == NULL)
            return UI_HANDLED;
        n = fix_order(rc, order);
        if (n == 0)
            return UI_HANDLED;
        fx->pick = order[fx->sel];
        fx->stage = FIX_PLAN;
        fx->scroll = 0;
        fix_rebuild(ui);
        return UI_HANDLED | UI_REDRAW;
    case UA_YES:
        if (fx->stage != FIX_PLAN || rc == NULL)
            return UI_HANDLED;
        if (!rc->fixes[fx->pick].verified) {
            ui_message(ui, "this candidate did not pass the probe: it is never applied");
            return UI_HANDLED | UI_REDRAW;
        }
        if (!fx->writable) {
            ui_message(ui, "cannot write %s: run the sudo line shown", fx->not_writable);
            return UI_HANDLED | UI_REDRAW;
        }
        if (fx->servers > 1 && !fx->radius_confirmed) {
            fx->radius_confirmed = true;
            ui_message(ui,
                       "this edit changes %zu servers (listed in the plan): y again to "
                       "apply to all of them, n to cancel",
                       fx->servers);
            return UI_HANDLED | UI_REDRAW;
        }
        fix_apply(ui);
        return UI_HANDLED | UI_REDRAW;
    case UA_CA_FILE:
        if (fx->stage == FIX_PICK)
            ui_prompt_open(ui, "CA or intermediate file (PEM)", got_ca);
        return UI_HANDLED | UI_REDRAW;
    case UA_CLIENT_CERT:
        if (fx->stage == FIX_PICK)
            ui_prompt_open(ui, "client certificate file (PEM)", got_cert);
        return UI_HANDLED | UI_REDRAW;
    case UA_ROLLBACK:
        if (fx->stage == FIX_RESULT && fx->rc == TXN_OK && !fx->rolling_back && fx->res != NULL &&
            fx->res->id != NULL) {
            char *id = xstrdup(fx->res->id);
            ui_fix_rollback(ui, id);
            free(id);
        }
        return UI_HANDLED | UI_REDRAW;
    case UA_NO:
    case UA_BACK:
        fx->radius_confirmed = false;
        if (fx->stage == FIX_PLAN) {
            fx->stage = FIX_PICK;
            fix_rebuild(ui);
        } else if (fx->rolling_back || fx->completing || !ui->detail.placed) {
            ui_history_load(ui);
            ui_show(ui, &ui_screen_history);
            ui->prev = &ui_screen_incidents;
        } else {
            ui_show(ui, &ui_screen_detail);
            ui->prev = &ui_screen_incidents;
            if (fx->stage == FIX_RESULT)
                ui_detail_probe(ui); /* the verdict after the fix */
        }
        return UI_HANDLED | UI_REDRAW;
    default:
        return 0;
    }
}

/* The wizard's files: kept in the triage's remedy options, then the item is planned again. */
static void
replan(struct ui *ui)
{
    ui->tri.ro.ca_file = ui->ca_file;
    ui->tri.ro.client_cert = ui->client_cert;
    ui->tri.ro.client_key = ui->client_key;
    ui->fix.sel = 0;
    ui_detail_probe(ui);
    fix_rebuild(ui);
}

static void
got_ca(struct ui *ui, const char *path)
{
    free(ui->ca_file);
    ui->ca_file = xstrdup(path);
    replan(ui);
}

static void
got_key(struct ui *ui, const char *path)
{
    free(ui->client_key);
    ui->client_key = xstrdup(path);
    replan(ui);
}

static void
got_cert(struct ui *ui, const char *path)
{
    free(ui->client_cert);
    ui->client_cert = xstrdup(path);
    ui_prompt_open(ui, "client key file (PEM)", got_key);
}

/* The pick list again once a new plan arrived (ui-detail.c calls it). */
void
ui_fix_replanned(struct ui *ui)
{
    if (ui->screen == &ui_screen_fix && ui->fix.stage == FIX_PICK)
        fix_rebuild(ui);
}

/* Whether a transaction runs now (quitting then asks first). */
bool
ui_fix_running(const struct ui *ui)
{
    return ui->fix.job != NULL;
}

const struct ui_screen ui_screen_fix = {
    UI_SCREEN_FIX,
    "Fix",
    UI_KM_FIX,
    fix_draw,
    fix_action,
    "The fix wizard: pick a candidate (verified ones first), read the plan (the unified diff, "
    "every file written, and the blast radius: every server and location whose effective "
    "settings the edit changes), y applies it as a transaction with a live checklist (lock, "
    "backup, write, nginx -t, reload, confirm, verify, watch; any failure restores the old "
    "bytes), then the result; r rolls it back. Without the right to write the files, the plan "
    "is shown with the sudo line that applies it.",
};
