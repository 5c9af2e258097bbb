/*
 * txn.c — the transaction's state machine: plan, lock, backup, re-check, write, nginx -t,
 * reload and confirm, verify hook, watch, restore on any failure; rollback of any
 * transaction (backups, or its diff reversed through undo.c) and completion of interrupted
 * runs. Files go through atomicfile.c, the record through journal.c, nginx through
 * ngxctl.c; prints nothing. Called by cli-rollback/history, remedy, txn-apply.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "buf.h"
#include "diff.h"
#include "journal.h"
#include "ngxconf.h"
#include "ngxctl.h"
#include "procenv.h"
#include "spawn.h"
#include "txn.h"
#include "undo.h"
#include "xmalloc.h"

static const char *const step_names[] = {
    [TXN_STEP_PLAN] = "plan",       [TXN_STEP_LOCK] = "lock",       [TXN_STEP_BACKUP] = "backup",
    [TXN_STEP_RECHECK] = "recheck", [TXN_STEP_WRITE] = "write",     [TXN_STEP_TEST] = "test",
    [TXN_STEP_RELOAD] = "reload",   [TXN_STEP_CONFIRM] = "confirm", [TXN_STEP_VERIFY] = "verify",
    [TXN_STEP_WATCH] = "watch",     [TXN_STEP_RESTORE] = "restore",
};

const char *
txn_state_name(enum txn_state s)
{
    return journal_state_name(s);
}

const char *
txn_step_name(enum txn_step s)
{
    return (unsigned)s < sizeof(step_names) / sizeof(step_names[0]) ? step_names[s] : "?";
}

void
txn_sha256_hex(const void *data, size_t len, char hex[65])
{
    atomicfile_sha256_hex(data, len, hex);
}

char **
txn_split_command(const char *s)
{
    return ngxctl_split_command(s);
}

void
txn_argv_free(char **argv)
{
    ngxctl_argv_free(argv);
}

/* ---- the running transaction ---- */

struct run {
    const struct txn_opts *o;
    struct journal *j;
    struct txn_result *res;
    struct ngxctl ng;
    int lock_fd;
};

static void
progress(struct run *r, enum txn_step step, int done, const char *msg)
{
    if (r->o->progress != NULL)
        r->o->progress(r->o->progress_arg, step, done, msg);
}

/* Journals a step (before: done = 0, after: done = 1, failed: done = -1) and reports it. */
static int
step(struct run *r, enum txn_step s, int done, const char *msg, char **cause)
{
    journal_add_step(r->j, txn_step_name(s), done, msg);
    progress(r, s, done, msg);
    return journal_save(r->j, cause);
}

static int
set_state(struct run *r, enum txn_state s, char **cause)
{
    r->j->state = s;
    r->res->state = s;
    return journal_save(r->j, cause);
}

/* Journals how nginx is tested and reloaded (after ngxctl_setup). */
static void
nginx_journal(struct run *r)
{
    const struct txn_nginx *ng = &r->o->nginx;

    free(r->j->nginx_binary);
    free(r->j->nginx_conf);
    free(r->j->nginx_prefix);
    r->j->nginx_binary = xstrdup(ng->binary != NULL ? ng->binary : "nginx");
    r->j->nginx_conf = ng->conf != NULL ? xstrdup(ng->conf) : NULL;
    r->j->nginx_prefix = ng->prefix != NULL ? xstrdup(ng->prefix) : NULL;
    free(r->j->reload_cmd);
    r->j->reload_cmd = xstrdup(r->ng.reload_cmd);
}

/* Finds out how to test and reload nginx, and journals it. */
static int
nginx_setup(struct run *r, char **cause)
{
    if (ngxctl_setup(&r->ng, &r->o->nginx, cause) == -1)
        return -1;
    nginx_journal(r);
    return 0;
}

/* nginx's own complaint in the output of nginx -t: its [emerg]/[alert] lines (file:line),
 * else the whole output. */
static char *
nginx_complaint(const char *out)
{
    struct buf b = BUF_INIT;

    for (const char *p = out; p != NULL && *p != '\0';) {
        const char *e = strchr(p, '\n');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        char *line = xstrndup(p, len);
        if (strstr(line, "[emerg]") != NULL || strstr(line, "[alert]") != NULL)
            buf_addf(&b, "%s%s", b.len > 0 ? "; " : "", line);
        free(line);
        p = e != NULL ? e + 1 : NULL;
    }
    if (b.len == 0)
        buf_adds(&b, out != NULL && out[0] != '\0' ? out : "no output");
    while (b.len > 0 && b.p[b.len - 1] == '\n')
        b.p[--b.len] = '\0';
    return buf_detach(&b);
}

/* ---- directories of new files ---- */

/* Appends the missing directories above target to *v, outermost first, once each. */
static void
dirs_missing(const char *target, char ***v, size_t *n)
{
    char *p = xstrdup(target), *slash;
    size_t first = *n;
    struct stat st;

    while ((slash = strrchr(p, '/')) != NULL && slash != p) {
        *slash = '\0';
        if (lstat(p, &st) == 0 || errno != ENOENT)
            break;
        bool have = false;
        for (size_t i = 0; i < *n && !have; i++)
            have = strcmp((*v)[i], p) == 0;
        if (have)
            break;
        *v = xreallocarray(*v, *n + 1, sizeof(**v));
        (*v)[(*n)++] = xstrdup(p);
    }
    for (size_t a = first, b = *n; b > a + 1; a++, b--) {
        char *t = (*v)[a];
        (*v)[a] = (*v)[b - 1];
        (*v)[b - 1] = t;
    }
    free(p);
}

/* Creates the missing directories above target (0755: they hold certificates nginx
 * reads). Returns 0, or -1 with *cause. */
static int
dirs_make(const char *target, char **cause)
{
    char **v = NULL;
    size_t n = 0;
    int rc = 0;

    dirs_missing(target, &v, &n);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && mkdir(v[i], 0755) == -1 && errno != EEXIST) {
            *cause = xasprintf("%s: cannot create: %s", v[i], strerror(errno));
            rc = -1;
        }
        free(v[i]);
    }
    free(v);
    return rc;
}

/* Removes those of the directories (outermost first) that are empty, innermost first. */
static void
dirs_remove_empty(char *const *v, size_t n)
{
    for (size_t i = n; i-- > 0;)
        (void)rmdir(v[i]);
}

static int
nginx_reload(struct run *r, char **cause)
{
    return ngxctl_reload(&r->ng, &r->res->reloaded, &r->res->nginx_output, &r->res->note, cause);
}

/* ---- writing and restoring ---- */

int
txn_file_holds(const struct jfile *f, struct buf *scratch, bool *exists, char **cause)
{
    bool ex;
    char hex[65] = "";
    int h = 0;

    if (atomicfile_read(f->target, scratch, &ex, cause) == -1)
        return -1;
    if (ex)
        atomicfile_sha256_hex(scratch->p, scratch->len, hex);
    if (f->existed ? ex && strcmp(hex, f->before) == 0 : !ex)
        h |= TXN_HOLDS_OLD;
    if (f->remove ? !ex : ex && strcmp(hex, f->after) == 0)
        h |= TXN_HOLDS_NEW;
    if (exists != NULL)
        *exists = ex;
    return h;
}

/* Restores every file that no longer holds its old bytes (backup, or removal of a file
 * the transaction created). Returns 0, or -1 with *cause. */
static int
restore_files(struct run *r, char **cause)
{
    struct journal *j = r->j;
    struct buf cur = BUF_INIT, old = BUF_INIT;
    int rc = 0;

    for (size_t i = 0; i < j->nfiles; i++) {
        struct jfile *f = &j->files[i];
        bool exists;
        char hex[65], *err = NULL;
        int holds;

        atomicfile_sweep_temps(f->target);
        if ((holds = txn_file_holds(f, &cur, &exists, &err)) == -1)
            goto fail;
        if (holds & TXN_HOLDS_OLD)
            continue;
        if (!f->existed) { /* created by the transaction: it exists, so remove it */
            if (unlink(f->target) == -1 || atomicfile_dir_fsync(f->target, &err) == -1) {
                if (err == NULL)
                    err = xasprintf("%s: cannot remove: %s", f->target, strerror(errno));
                goto fail;
            }
            continue;
        }
        char *bp = journal_backup_path(j, i, "orig");
        int r2 = atomicfile_read(bp, &old, NULL, &err);
        free(bp);
        if (r2 == -1)
            goto fail;
        atomicfile_sha256_hex(old.p, old.len, hex);
        if (strcmp(hex, f->before) != 0) {
            err = xasprintf("%s: the backup of %s does not match its recorded SHA-256", j->id,
                            f->target);
            goto fail;
        }
        if (!exists && dirs_make(f->target, &err) == -1)
            goto fail;
        if (atomicfile_write(f->target, old.p, old.len, f->mode, &err) == -1)
            goto fail;
        if (!exists && (chown(f->target, (uid_t)f->uid, (gid_t)f->gid) == -1 ||
                        chmod(f->target, f->mode) == -1)) {
            err = xasprintf("%s: restored, but cannot set owner/mode: %s", f->target,
                            strerror(errno));
            goto fail;
        }
        continue;
    fail:
        if (rc == 0)
            *cause = err;
        else
            free(err);
        rc = -1;
    }
    if (rc == 0)
        dirs_remove_empty(j->dirs_created, j->ndirs_created);
    buf_free(&cur);
    buf_free(&old);
    return rc;
}

/* Restores the backups after a failure; with reload, reloads nginx with them again. */
static void
roll_back(struct run *r, bool reload, const char *why)
{
    char *err = NULL;

    (void)!step(r, TXN_STEP_RESTORE, 0, why, &err);
    free(err);
    err = NULL;
    r->j->state = TXN_ROLLING_BACK;
    (void)!journal_save(r->j, &err);
    free(err);
    err = NULL;
    if (restore_files(r, &err) == -1) {
        char *e2 = NULL;
        (void)!step(r, TXN_STEP_RESTORE, -1, err, &e2);
        r->j->state = r->res->state = TXN_FAILED;
        free(e2);
        free(err);
        err = NULL;
        (void)!journal_save(r->j, &err);
        free(err);
        return;
    }
    if (reload) {
        char *out = r->res->nginx_output;
        r->res->nginx_output = NULL;
        if (nginx_reload(r, &err) == -1) {
            char *e2 = NULL;
            (void)!step(r, TXN_STEP_RESTORE, -1, err, &e2);
            free(e2);
            free(err);
            err = NULL;
        }
        free(r->res->nginx_output);
        r->res->nginx_output = out; /* keep what explains the failure */
    }
    (void)!step(r, TXN_STEP_RESTORE, 1, NULL, &err);
    free(err);
    err = NULL;
    r->j->state = r->res->state = TXN_ROLLED_BACK;
    (void)!journal_save(r->j, &err);
    free(err);
}

/* Writes the new bytes of every file still holding its old ones. */
static int
write_files(struct run *r, char **cause)
{
    struct journal *j = r->j;
    struct buf cur = BUF_INIT, nb = BUF_INIT;
    int rc = -1;

    for (size_t i = 0; i < j->nfiles; i++) {
        struct jfile *f = &j->files[i];
        bool exists;
        int holds;

        if ((holds = txn_file_holds(f, &cur, &exists, cause)) == -1)
            goto out;
        if (holds & TXN_HOLDS_NEW)
            continue;
        if (f->remove) { /* the change removes it, and it exists */
            if (unlink(f->target) == -1 || atomicfile_dir_fsync(f->target, cause) == -1) {
                if (*cause == NULL)
                    *cause = xasprintf("%s: cannot remove: %s", f->target, strerror(errno));
                goto out;
            }
            continue;
        }
        char *np = journal_backup_path(j, i, "new");
        int r2 = atomicfile_read(np, &nb, NULL, cause);
        free(np);
        if (r2 == -1)
            goto out;
        if (!exists && dirs_make(f->target, cause) == -1)
            goto out;
        if (atomicfile_write(f->target, nb.p, nb.len, f->mode, cause) == -1)
            goto out;
    }
    dirs_remove_empty(j->dirs_removed, j->ndirs_removed);
    rc = 0;
out:
    buf_free(&cur);
    buf_free(&nb);
    return rc;
}

/* SIGHUP, SIGINT and SIGTERM are held from the first write to the end of the
 * confirmation, and raised again once the files are consistent (procenv.c owns the
 * handlers and says why). */
struct held_signals {
    struct procenv_held *h;
};

static void
signals_hold(struct held_signals *h)
{
    h->h = procenv_signals_hold();
}

static void
signals_release(struct held_signals *h)
{
    procenv_signals_release(h->h);
    h->h = NULL;
}

/*
 * From "all files written" to the end: nginx -t, reload, confirm, verify, watch. Any
 * failure restores the backups. Returns TXN_OK or a TXN_ERR_* code.
 */
static int
finish(struct run *r, char **cause)
{
    char *err = NULL;
    int rc;

    if (step(r, TXN_STEP_TEST, 0, NULL, cause) == -1)
        goto io;
    if (ngxctl_test(&r->ng, &r->res->nginx_output, &err) == -1) {
        (void)!step(r, TXN_STEP_TEST, -1, err, cause);
        free(*cause);
        *cause = err;
        roll_back(r, false, "nginx -t failed");
        return TXN_ERR_TEST;
    }
    if (step(r, TXN_STEP_TEST, 1, NULL, cause) == -1 || set_state(r, TXN_TESTED, cause) == -1)
        goto io;
    if (set_state(r, TXN_RELOADING, cause) == -1 || step(r, TXN_STEP_RELOAD, 0, NULL, cause) == -1)
        goto io;
    rc = nginx_reload(r, &err);
    if (rc == -1) {
        (void)!step(r, TXN_STEP_RELOAD, -1, err, cause);
        free(*cause);
        *cause = err;
        roll_back(r, true, "the reload was not confirmed");
        return TXN_ERR_RELOAD;
    }
    r->res->confirmed = r->j->confirmed = rc == 0;
    if (step(r, TXN_STEP_CONFIRM, 1, rc == 0 ? "new worker processes" : r->res->note, cause) == -1)
        goto io;
    if (set_state(r, TXN_DONE, cause) == -1)
        goto io;
    return TXN_OK;
io:
    roll_back(r, r->res->reloaded, "the journal could not be written");
    return TXN_ERR;
}

/* After a successful finish: the caller's verify hook, then the log watch. */
static int
verify_and_watch(struct run *r, char **cause)
{
    char *err = NULL;

    if (r->o->verify != NULL) {
        (void)!step(r, TXN_STEP_VERIFY, 0, NULL, &err);
        free(err);
        err = NULL;
        if (r->o->verify(r->o->verify_arg, &err) != 0) {
            if (err == NULL)
                err = xstrdup("the verification failed");
            char *e2 = NULL;
            (void)!step(r, TXN_STEP_VERIFY, -1, err, &e2);
            free(e2);
            *cause = err;
            roll_back(r, true, "the verification failed");
            return TXN_ERR_VERIFY;
        }
        (void)!step(r, TXN_STEP_VERIFY, 1, NULL, &err);
        free(err);
        err = NULL;
    }
    if (r->o->watch_seconds > 0 && r->o->watch_match != NULL && r->ng.error_log != NULL) {
        off_t off = ngxctl_log_size(&r->ng);
        (void)!step(r, TXN_STEP_WATCH, 0, NULL, &err);
        free(err);
        err = NULL;
        ngxctl_watch(&r->ng, off, r->o->watch_seconds, r->o->watch_match, &r->res->watch_failures,
                     &r->res->watch_first);
        char *msg = xasprintf("%d new upstream TLS failure(s)", r->res->watch_failures);
        (void)!step(r, TXN_STEP_WATCH, 1, msg, &err);
        free(msg);
        free(err);
    }
    return TXN_OK;
}

static void
run_free(struct run *r)
{
    ngxctl_free(&r->ng);
    journal_unlock(r->lock_fd);
}

/* ---- public ---- */

int
txn_plan(const struct txn_change *ch, size_t n, struct buf *diff, char (*sha256)[65], char **cause)
{
    struct buf cur = BUF_INIT;
    int rc = -1;

    for (size_t i = 0; i < n; i++) {
        char *target = NULL;
        bool exists;
        if (atomicfile_target(ch[i].path, &target, cause) == -1)
            goto out;
        int r2 = atomicfile_read(target, &cur, &exists, cause);
        free(target);
        if (r2 == -1)
            goto out;
        if (sha256 != NULL) {
            if (exists)
                atomicfile_sha256_hex(cur.p, cur.len, sha256[i]);
            else
                sha256[i][0] = '\0';
        }
        if (diff != NULL)
            diff_unified(diff, ch[i].path, exists ? cur.p : NULL, cur.len, ch[i].data, ch[i].len);
    }
    rc = 0;
out:
    buf_free(&cur);
    return rc;
}

/*
 * The shared body of apply and rollback: the changes (with a remove flag per file); a
 * rollback names the transaction it reverts and the directories to remove once empty.
 * An apply first runs nginx -t on the config as it is: when nginx already refuses it,
 * nothing is journaled, backed up or written (TXN_ERR_BROKEN).
 */
static int
apply_changes(const struct txn_opts *o, const struct txn_change *ch, const bool *remove, size_t n,
              const char *kind, const char *reverts, char *const *rmdirs, size_t nrmdirs,
              int lock_fd, struct txn_result *res, char **cause)
{
    struct journal j;
    struct run r = {.o = o, .j = &j, .res = res, .lock_fd = lock_fd};
    struct buf cur = BUF_INIT, diff = BUF_INIT;
    struct held_signals hs = {.h = NULL};
    int rc = TXN_ERR;
    char(*planned)[65] = xcalloc(n + 1, sizeof(*planned));

    memset(res, 0, sizeof(*res));
    memset(&j, 0, sizeof(j));
    *cause = NULL;

    /* 1. plan and lock */
    if (txn_plan(ch, n, &diff, planned, cause) == -1)
        goto out;
    res->diff = xstrdup(buf_str(&diff));
    if (o->planned_sha256 != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(o->planned_sha256[i], planned[i]) != 0) {
                *cause = xasprintf("%s changed since the plan was shown: nothing was written; "
                                   "plan again",
                                   ch[i].path);
                rc = TXN_ERR_CHANGED;
                goto out;
            }
        }
    }
    if (atomicfile_mkdir_p(o->state_dir, cause) == -1)
        goto out;
    if (r.lock_fd == -1 && (rc = journal_lock(o->state_dir, &r.lock_fd, cause)) != 0) {
        rc = rc == TXN_ERR_LOCKED ? rc : TXN_ERR;
        goto out;
    }
    rc = TXN_ERR;
    progress(&r, TXN_STEP_LOCK, 1, NULL);
    if (ngxctl_setup(&r.ng, &o->nginx, cause) == -1)
        goto out;
    if (strcmp(kind, "apply") == 0) {
        char *err = NULL;
        if (ngxctl_test(&r.ng, &res->nginx_output, &err) == -1) {
            char *said = nginx_complaint(res->nginx_output);
            *cause = xasprintf("nginx -t already fails before this change, so nothing was "
                               "written: %s",
                               said);
            free(said);
            free(err);
            res->state = TXN_ABORTED;
            rc = TXN_ERR_BROKEN;
            goto out;
        }
        free(res->nginx_output);
        res->nginx_output = NULL;
    }
    if (journal_new(&j, o->state_dir, kind, o->summary, cause) == -1)
        goto out;
    res->id = xstrdup(j.id);
    res->state = TXN_PLANNED;
    j.reverts = reverts != NULL ? xstrdup(reverts) : NULL;
    j.dirs_removed = xcalloc(nrmdirs + 1, sizeof(*j.dirs_removed));
    for (size_t i = 0; i < nrmdirs; i++)
        j.dirs_removed[j.ndirs_removed++] = xstrdup(rmdirs[i]);
    j.diff = buf_detach(&diff);
    j.files = xcalloc(n + 1, sizeof(*j.files));
    for (size_t i = 0; i < n; i++) {
        struct jfile *f = &j.files[j.nfiles++];
        struct stat st;
        f->path = xstrdup(ch[i].path);
        if (atomicfile_target(ch[i].path, &f->target, cause) == -1)
            goto out;
        f->existed = planned[i][0] != '\0';
        f->remove = remove != NULL && remove[i];
        f->summary = ch[i].summary != NULL ? xstrdup(ch[i].summary) : NULL;
        memcpy(f->before, planned[i], 65);
        if (!f->remove)
            atomicfile_sha256_hex(ch[i].data, ch[i].len, f->after);
        if (!f->existed && !f->remove)
            dirs_missing(f->target, &j.dirs_created, &j.ndirs_created);
        if (f->existed && stat(f->target, &st) == 0) {
            f->mode = st.st_mode & 07777;
            f->uid = st.st_uid;
            f->gid = st.st_gid;
        } else {
            f->mode = ch[i].mode != 0 ? ch[i].mode : 0644;
            f->uid = geteuid();
            f->gid = getegid();
        }
    }
    nginx_journal(&r);
    if (step(&r, TXN_STEP_PLAN, 1, o->summary, cause) == -1)
        goto abort;

    /* 2. backups: the old bytes and the new ones (for completing an interrupted run) */
    if (step(&r, TXN_STEP_BACKUP, 0, NULL, cause) == -1)
        goto abort;
    for (size_t i = 0; i < n; i++) {
        struct jfile *f = &j.files[i];
        char hex[65];
        if (f->existed) {
            char *bp = journal_backup_path(&j, i, "orig");
            int r2 = atomicfile_read(f->target, &cur, NULL, cause);
            if (r2 == 0) {
                atomicfile_sha256_hex(cur.p, cur.len, hex);
                if (strcmp(hex, f->before) != 0) {
                    *cause = xasprintf("%s changed while it was being backed up: nothing was "
                                       "written",
                                       f->path);
                    rc = TXN_ERR_CHANGED;
                    r2 = -1;
                }
            }
            if (r2 == 0)
                r2 = atomicfile_write(bp, cur.p, cur.len, 0600, cause);
            free(bp);
            if (r2 == -1)
                goto abort;
        }
        if (!f->remove) {
            char *np = journal_backup_path(&j, i, "new");
            int r2 = atomicfile_write(np, ch[i].data, ch[i].len, 0600, cause);
            free(np);
            if (r2 == -1)
                goto abort;
        }
    }
    if (step(&r, TXN_STEP_BACKUP, 1, NULL, cause) == -1 ||
        set_state(&r, TXN_BACKED_UP, cause) == -1)
        goto abort;

    /* 3. re-check, then write */
    for (size_t i = 0; i < n; i++) {
        int holds = txn_file_holds(&j.files[i], &cur, NULL, cause);
        if (holds == -1)
            goto abort;
        if (!(holds & TXN_HOLDS_OLD)) {
            *cause = xasprintf("%s was changed by someone else since the plan: nothing was "
                               "written",
                               j.files[i].path);
            rc = TXN_ERR_CHANGED;
            goto abort;
        }
    }
    if (step(&r, TXN_STEP_RECHECK, 1, NULL, cause) == -1)
        goto abort;
    signals_hold(&hs);
    if (set_state(&r, TXN_WRITING, cause) == -1 || step(&r, TXN_STEP_WRITE, 0, NULL, cause) == -1)
        goto abort;
    {
        char *err = NULL;
        if (write_files(&r, &err) == -1) {
            char *e2 = NULL;
            (void)!step(&r, TXN_STEP_WRITE, -1, err, &e2);
            free(e2);
            *cause = err;
            roll_back(&r, false, "a write failed");
            rc = TXN_ERR;
            goto out;
        }
    }
    if (step(&r, TXN_STEP_WRITE, 1, NULL, cause) == -1 || set_state(&r, TXN_WRITTEN, cause) == -1) {
        roll_back(&r, false, "the journal could not be written");
        goto out;
    }

    /* 4-5. nginx -t, reload, confirm */
    if ((rc = finish(&r, cause)) != TXN_OK)
        goto out;
    signals_release(&hs);

    /* 6. verify hook and watch */
    rc = verify_and_watch(&r, cause);
    goto out;

abort:
    /* Nothing was written: say so in the journal. */
    {
        char *err = NULL;
        j.state = res->state = TXN_ABORTED;
        free(j.error);
        j.error = *cause != NULL ? xstrdup(*cause) : NULL;
        if (j.id != NULL)
            (void)!journal_save(&j, &err);
        free(err);
    }
out:
    if (j.id != NULL)
        res->state = j.state;
    run_free(&r);
    journal_free(&j);
    buf_free(&cur);
    buf_free(&diff);
    free(planned);
    signals_release(&hs); /* last: a deferred signal may end the process */
    return rc;
}

int
txn_apply(const struct txn_opts *o, const struct txn_change *ch, size_t n, struct txn_result *res,
          char **cause)
{
    return apply_changes(o, ch, NULL, n, "apply", NULL, NULL, 0, -1, res, cause);
}

int
txn_list(const char *state_dir, struct txn_info **out, size_t *n, char **cause)
{
    return journal_list(state_dir, false, out, n, cause);
}

int
txn_pending(const char *state_dir, struct txn_info **out, size_t *n, char **cause)
{
    return journal_list(state_dir, true, out, n, cause);
}

void
txn_info_free(struct txn_info *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].id);
        free(v[i].time);
        free(v[i].user);
        free(v[i].kind);
        free(v[i].summary);
        free(v[i].reverts);
        free(v[i].rolled_back_by);
        free(v[i].error);
        free(v[i].last_step);
        free(v[i].diff);
        for (size_t k = 0; k < v[i].nfiles; k++)
            free(v[i].files[k]);
        free(v[i].files);
    }
    free(v);
}

void
txn_result_free(struct txn_result *res)
{
    free(res->id);
    free(res->diff);
    free(res->nginx_output);
    free(res->note);
    free(res->watch_first);
    memset(res, 0, sizeof(*res));
}

/* The newest apply not yet rolled back and not aborted that changed a file. */
static char *
last_id(const char *state_dir, char **cause)
{
    struct txn_info *v;
    size_t n;
    char *id = NULL;

    if (txn_list(state_dir, &v, &n, cause) == -1)
        return NULL;
    for (size_t i = 0; i < n && id == NULL; i++) {
        if (v[i].kind != NULL && strcmp(v[i].kind, "apply") == 0 && v[i].rolled_back_by == NULL &&
            v[i].state != TXN_ABORTED && v[i].state != TXN_ROLLED_BACK &&
            !(v[i].nfiles == 0 && v[i].state == TXN_DONE)) /* a reload only: nothing to undo */
            id = xstrdup(v[i].id);
    }
    txn_info_free(v, n);
    if (id == NULL)
        *cause = xasprintf("%s: no transaction to roll back", state_dir);
    return id;
}

static void
opts_from_journal(struct txn_opts *o2, const struct txn_opts *o, const struct journal *j)
{
    *o2 = *o;
    if (o2->nginx.binary == NULL)
        o2->nginx.binary = j->nginx_binary;
    if (o2->nginx.conf == NULL)
        o2->nginx.conf = j->nginx_conf;
    if (o2->nginx.prefix == NULL)
        o2->nginx.prefix = j->nginx_prefix;
}

/* Whether every file of j holds the bytes it had before j (or is absent, if it was). */
static bool
files_hold_old(const struct journal *j)
{
    struct buf cur = BUF_INIT;
    bool old = true;

    for (size_t i = 0; i < j->nfiles && old; i++) {
        char *err = NULL;
        int holds = txn_file_holds(&j->files[i], &cur, NULL, &err);
        free(err);
        old = holds != -1 && (holds & TXN_HOLDS_OLD);
    }
    buf_free(&cur);
    return old;
}

static bool
valid_id(const char *id)
{
    return id[0] != '\0' && strspn(id, "0123456789-") == strlen(id);
}

/*
 * Records that rollback rid undid apply aid, and closes any other rollback of aid that
 * was interrupted: rid restored the same backups, so those have nothing left to do.
 */
static void
mark_reverted(const char *dir, const char *aid, const char *rid)
{
    struct journal j;
    struct txn_info *v;
    size_t n;
    char *err = NULL;

    if (journal_load(dir, aid, &j, &err) == 0) {
        free(j.rolled_back_by);
        j.rolled_back_by = xstrdup(rid);
        j.state = TXN_ROLLED_BACK;
        (void)!journal_save(&j, &err);
        journal_free(&j);
    }
    free(err);
    err = NULL;
    if (txn_pending(dir, &v, &n, &err) == -1) {
        free(err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind == NULL || strcmp(v[i].kind, "rollback") != 0 || v[i].reverts == NULL ||
            strcmp(v[i].reverts, aid) != 0 || strcmp(v[i].id, rid) == 0)
            continue;
        if (journal_load(dir, v[i].id, &j, &err) == 0) {
            j.state = TXN_DONE;
            free(j.error);
            j.error =
                xasprintf("interrupted; superseded by %s, which restored the same files", rid);
            (void)!journal_save(&j, &err);
            journal_free(&j);
        }
        free(err);
        err = NULL;
    }
    txn_info_free(v, n);
}

/* ---- rollback: what taking one transaction back out writes ---- */

enum undo_kind { UNDO_NONE, UNDO_WRITE, UNDO_REMOVE };

/*
 * What taking transaction j's change out of file i takes, given the bytes on disk now:
 * nothing (the file holds its bytes from before j), its backup (the file holds what j
 * wrote), removal (j created it), or j's own diff reverse-applied onto the bytes a later
 * change left (into *out). Returns 0; 1 when it cannot be taken out (*why says why); -1
 * with *cause on I/O errors or a damaged backup.
 */
static int
undo_plan_file(const struct journal *j, size_t i, struct buf *out, enum undo_kind *what, char **why,
               char **cause)
{
    const struct jfile *f = &j->files[i];
    struct buf cur = BUF_INIT, old = BUF_INIT, nw = BUF_INIT;
    bool exists, have_old = false;
    char *e = NULL;
    int rc = -1, holds;

    *what = UNDO_NONE;
    if ((holds = txn_file_holds(f, &cur, &exists, cause)) == -1)
        goto out;
    if (f->existed) {
        char *bp = journal_backup_path(j, i, "orig"), h2[65];
        int r2 = atomicfile_read(bp, &old, &have_old, cause);
        free(bp);
        if (r2 == -1)
            goto out;
        if (have_old && (atomicfile_sha256_hex(old.p, old.len, h2), strcmp(h2, f->before) != 0)) {
            *cause = xasprintf("%s: the backup of %s does not match its recorded SHA-256", j->id,
                               f->path);
            goto out;
        }
    }
    bool at_before = holds & TXN_HOLDS_OLD, at_after = holds & TXN_HOLDS_NEW;
    rc = 0;
    if (at_before) {
        buf_add(out, cur.p, cur.len); /* the old bytes, for a rollback that only reloads */
        goto out;
    }
    if (at_after && !f->existed) {
        *what = UNDO_REMOVE;
        goto out;
    }
    if (f->existed && !have_old) {
        *cause = xasprintf("%s: the backup of %s is missing", j->id, f->path);
        rc = -1;
        goto out;
    }
    if (at_after) {
        *what = UNDO_WRITE;
        buf_add(out, old.p, old.len);
        goto out;
    }
    rc = 1;
    if (f->existed && !f->remove && exists) {
        char *np = journal_backup_path(j, i, "new");
        int r2 = atomicfile_read(np, &nw, NULL, cause);
        free(np);
        if (r2 == -1) {
            rc = -1;
            goto out;
        }
        if (undo_apply(old.p, old.len, nw.p, nw.len, cur.p, cur.len, out, &e) == 0) {
            *what = UNDO_WRITE;
            rc = 0;
            goto out;
        }
        *why = xasprintf("%s was changed since and %s's change does not come out of it "
                         "cleanly (%s)",
                         f->path, j->id, e);
        goto out;
    }
    *why = exists ? xasprintf("%s holds other bytes than %s left there", f->path, j->id)
                  : xasprintf("%s is gone", f->path);
out:
    free(e);
    buf_free(&cur);
    buf_free(&old);
    buf_free(&nw);
    return rc;
}

/* The configuration nginx reads: from --conf when given, else from nginx -T. NULL when
 * it cannot be read. */
static struct ngxconf *
undo_load_conf(const struct txn_opts *o)
{
    struct ngxconf *c = NULL;
    char *err = NULL;

    if (o->nginx.conf != NULL) {
        if (ngxconf_load(o->nginx.conf, o->nginx.prefix, &c, &err) == -1)
            c = NULL;
    } else {
        char *argv[5];
        size_t k = 0;
        struct buf out = BUF_INIT;
        struct spawn_result sr;
        argv[k++] = (char *)(o->nginx.binary != NULL ? o->nginx.binary : "nginx");
        if (o->nginx.prefix != NULL) {
            argv[k++] = (char *)"-p";
            argv[k++] = (char *)o->nginx.prefix;
        }
        argv[k++] = (char *)"-T";
        argv[k] = NULL;
        bool ran = spawn_run(argv, &out, 30000, &sr, &err) == 0 && sr.exited && sr.status == 0;
        if (ran && ngxconf_load_nginx_T("-T", buf_str(&out), out.len, o->nginx.prefix, &c, &err))
            c = NULL;
        buf_free(&out);
    }
    free(err);
    return c;
}

/* Whether the line (len bytes, not NUL-terminated) names path outside a comment. */
static bool
undo_line_names(const char *p, size_t len, const char *path)
{
    size_t skip = strspn(p, " \t");
    bool found = false;

    if (skip < len && p[skip] != '#') {
        char *line = xstrndup(p, len);
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0'; /* a comment at the end (or a '#' in a quoted word: kept safe) */
        found = strstr(line, path) != NULL;
        free(line);
    }
    return found;
}

/*
 * Why path stays: a config line still names it once the n changes are written ("still
 * named at FILE:LINE"), or the config cannot be read to tell. NULL: the file may go.
 */
static char *
undo_referenced(const struct txn_opts *o, const char *path, const struct txn_change *ch,
                const bool *rm, size_t n)
{
    struct ngxconf *c = undo_load_conf(o);
    const char *rel = NULL;
    char *where = NULL;

    if (c == NULL)
        return xstrdup("the nginx config could not be read to make sure no line names it");
    if (c->conf_prefix != NULL && strncmp(path, c->conf_prefix, strlen(c->conf_prefix)) == 0)
        rel = path + strlen(c->conf_prefix);
    for (size_t i = 0; i < c->nfiles && where == NULL; i++) {
        const struct ngx_file *fi = c->files[i];
        const char *text = fi->text;
        size_t len = fi->len;
        bool gone = false;
        char *t = realpath(fi->path, NULL);
        for (size_t k = 0; k < n && t != NULL; k++) {
            char *ct = realpath(ch[k].path, NULL);
            if (ct != NULL && strcmp(ct, t) == 0) {
                gone = rm[k];
                text = ch[k].data;
                len = ch[k].len;
            }
            free(ct);
        }
        free(t);
        unsigned line = 1;
        for (size_t at = 0; !gone && at < len && where == NULL; line++) {
            const char *e = memchr(text + at, '\n', len - at);
            size_t l = e != NULL ? (size_t)(e - (text + at)) : len - at;
            if (undo_line_names(text + at, l, path) ||
                (rel != NULL && rel[0] != '\0' && undo_line_names(text + at, l, rel)))
                where = xasprintf("still named at %s:%u", fi->path, line);
            at += l + 1;
        }
    }
    ngxconf_free(c);
    return where;
}

/* The backups of file i of j: its old bytes and the new ones. Returns 0, or -1. */
static int
undo_backups(const struct journal *j, size_t i, struct buf *old, struct buf *nw)
{
    char *op = journal_backup_path(j, i, "orig"), *np = journal_backup_path(j, i, "new");
    char *err = NULL;
    int rc = atomicfile_read(op, old, NULL, &err) == 0 && atomicfile_read(np, nw, NULL, &err) == 0
                 ? 0
                 : -1;

    free(err);
    free(op);
    free(np);
    return rc;
}

/* Whether j's change comes out of every file it edited (not created or removed) once the
 * files hold sim[]. */
static bool
undo_fits(const struct journal *j, const struct buf *sim)
{
    struct buf old = BUF_INIT, nw = BUF_INIT, out = BUF_INIT;
    bool fits = true;

    for (size_t m = 0; m < j->nfiles && fits; m++) {
        char *e = NULL;
        if (!j->files[m].existed || j->files[m].remove)
            continue;
        if (undo_backups(j, m, &old, &nw) == -1)
            fits = false;
        else
            fits = undo_apply(old.p, old.len, nw.p, nw.len, sim[m].p, sim[m].len, &out, &e) == 0;
        free(e);
    }
    buf_free(&old);
    buf_free(&nw);
    buf_free(&out);
    return fits;
}

/*
 * The transactions after j still in effect that changed one of its files, newest first:
 * "ID (summary), ..." — only as many as must be rolled back before j comes out cleanly
 * (found by taking them out of the current bytes in memory, newest first), or all of
 * them when that cannot be told. NULL when there are none.
 */
static char *
undo_later(const char *dir, const struct journal *j)
{
    struct txn_info *v;
    size_t n;
    struct buf all = BUF_INIT, some = BUF_INIT, old = BUF_INIT, nw = BUF_INIT, out = BUF_INIT;
    struct buf *sim = xcalloc(j->nfiles + 1, sizeof(*sim));
    bool exact = true, found = false;
    char *err = NULL;

    for (size_t m = 0; m < j->nfiles; m++) {
        bool exists;
        bool edited = j->files[m].existed && !j->files[m].remove;
        if (atomicfile_read(j->files[m].target, &sim[m], &exists, &err) == -1 ||
            (edited && !exists))
            exact = false;
        free(err);
        err = NULL;
    }
    if (txn_list(dir, &v, &n, &err) == -1) {
        free(err);
        v = NULL;
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct journal l;
        bool shares = false;
        if (strcmp(v[i].id, j->id) <= 0 || v[i].rolled_back_by != NULL ||
            v[i].state == TXN_ABORTED || v[i].state == TXN_ROLLED_BACK)
            continue;
        for (size_t k = 0; k < v[i].nfiles && !shares; k++)
            for (size_t m = 0; m < j->nfiles && !shares; m++)
                shares = strcmp(v[i].files[k], j->files[m].path) == 0;
        if (!shares)
            continue;
        buf_addf(&all, "%s%s", all.len > 0 ? ", " : "", v[i].id);
        if (v[i].summary != NULL)
            buf_addf(&all, " (%s)", v[i].summary);
        if (!exact || found)
            continue;
        buf_addf(&some, "%s%s", some.len > 0 ? ", " : "", v[i].id);
        if (v[i].summary != NULL)
            buf_addf(&some, " (%s)", v[i].summary);
        /* take l out of the simulated bytes, then see whether j comes out */
        if (journal_load(dir, v[i].id, &l, &err) == -1) {
            free(err);
            err = NULL;
            exact = false;
            continue;
        }
        for (size_t k = 0; k < l.nfiles && exact; k++) {
            for (size_t m = 0; m < j->nfiles && exact; m++) {
                if (strcmp(l.files[k].target, j->files[m].target) != 0)
                    continue;
                exact =
                    l.files[k].existed && !l.files[k].remove &&
                    undo_backups(&l, k, &old, &nw) == 0 &&
                    undo_apply(old.p, old.len, nw.p, nw.len, sim[m].p, sim[m].len, &out, &err) == 0;
                free(err);
                err = NULL;
                if (exact) {
                    buf_reset(&sim[m]);
                    buf_add(&sim[m], out.p, out.len);
                }
            }
        }
        journal_free(&l);
        found = exact && undo_fits(j, sim);
    }
    txn_info_free(v, n);
    for (size_t m = 0; m < j->nfiles; m++)
        buf_free(&sim[m]);
    free(sim);
    buf_free(&old);
    buf_free(&nw);
    buf_free(&out);
    if (found) {
        buf_free(&all);
        return buf_detach(&some);
    }
    buf_free(&some);
    return all.len > 0 ? buf_detach(&all) : NULL;
}

static int
cmp_len(const void *a, const void *b)
{
    size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
    return la < lb ? -1 : la > lb;
}

/* The directories a transaction created (by the journal) above one of the files removed:
 * removed too once empty. Outermost first. */
static void
undo_dirs(const char *dir, const struct txn_change *ch, const bool *rm, size_t n, char ***v,
          size_t *nv)
{
    struct txn_info *l;
    size_t nl;
    char *err = NULL;

    if (txn_list(dir, &l, &nl, &err) == -1) {
        free(err);
        return;
    }
    for (size_t i = 0; i < nl; i++) {
        struct journal j;
        if (journal_load(dir, l[i].id, &j, &err) == -1) {
            free(err);
            err = NULL;
            continue;
        }
        for (size_t d = 0; d < j.ndirs_created; d++) {
            const char *p = j.dirs_created[d];
            size_t len = strlen(p);
            bool above = false, have = false;
            for (size_t k = 0; k < n && !above; k++)
                above = rm[k] && strncmp(ch[k].path, p, len) == 0 && ch[k].path[len] == '/';
            for (size_t k = 0; k < *nv && !have; k++)
                have = strcmp((*v)[k], p) == 0;
            if (above && !have) {
                *v = xreallocarray(*v, *nv + 1, sizeof(**v));
                (*v)[(*nv)++] = xstrdup(p);
            }
        }
        journal_free(&j);
    }
    txn_info_free(l, nl);
    if (*nv > 1)
        qsort(*v, *nv, sizeof(**v), cmp_len);
}

/* Why id cannot be rolled back because it already was (following rollbacks of rollbacks). */
static char *
undo_already(const char *dir, const char *id, const char *by)
{
    struct journal r;
    char *err = NULL, *msg;

    if (journal_load(dir, by, &r, &err) == 0 && r.rolled_back_by != NULL)
        msg = xasprintf("%s was rolled back by %s, and %s was rolled back in turn by %s (so %s's "
                        "change is in effect again): roll back %s to take it out again",
                        id, by, by, r.rolled_back_by, id, r.rolled_back_by);
    else
        msg = xasprintf("%s was already rolled back by %s", id, by);
    if (err == NULL)
        journal_free(&r);
    free(err);
    return msg;
}

int
txn_rollback(const struct txn_opts *o, const char *id, struct txn_result *res, char **cause)
{
    struct journal j;
    struct txn_change *ch = NULL;
    bool *rm = NULL;
    struct buf *data = NULL;
    struct buf notes = BUF_INIT;
    char *want = NULL, *summary = NULL, *why = NULL, **rmdirs = NULL;
    size_t nrmdirs = 0, n = 0;
    struct txn_opts o2;
    bool nonew = false;
    int rc = TXN_ERR, lock_fd = -1;

    memset(res, 0, sizeof(*res));
    memset(&j, 0, sizeof(j));
    *cause = NULL;
    if (id == NULL && (want = last_id(o->state_dir, cause)) == NULL)
        return TXN_ERR;
    if (id != NULL && !valid_id(id)) {
        *cause = xasprintf("'%s' is not a transaction id (see tlstriage history)", id);
        return TXN_ERR;
    }
    if (want == NULL)
        want = xstrdup(id);
    if (atomicfile_mkdir_p(o->state_dir, cause) == -1)
        goto out;
    if ((rc = journal_lock(o->state_dir, &lock_fd, cause)) != 0) {
        rc = rc == TXN_ERR_LOCKED ? rc : TXN_ERR;
        goto out;
    }
    rc = TXN_ERR;
    if (journal_load(o->state_dir, want, &j, cause) == -1)
        goto out;
    for (size_t i = 0; i < j.nfiles; i++)
        atomicfile_sweep_temps(j.files[i].target);
    if (j.rolled_back_by != NULL) {
        *cause = undo_already(o->state_dir, want, j.rolled_back_by);
        goto out;
    }
    if (j.nfiles == 0 && j.state == TXN_DONE) {
        /* A reload with no file change (fix reload): no bytes to put back, and reloading
         * again would load the same files. Nothing is journaled. */
        res->id = xstrdup(want);
        res->state = j.state;
        res->note = xasprintf("nothing to restore: %s changed no file (a reload only); nginx "
                              "runs on the files as they are on disk",
                              want);
        rc = TXN_OK;
        goto out;
    }
    if (j.state <= TXN_TESTED && files_hold_old(&j)) {
        /* Interrupted before any reload, and every file still holds its old bytes:
         * nothing to write and nginx never saw the change. Close the journal. */
        j.state = TXN_ROLLED_BACK;
        free(j.error);
        j.error = xstrdup("interrupted before the reload with the old bytes in place; "
                          "closed by rollback");
        rc = journal_save(&j, cause) == 0 ? TXN_OK : TXN_ERR;
        res->id = xstrdup(want);
        res->state = TXN_ROLLED_BACK;
        res->note = xstrdup("nothing to restore: the files hold their old bytes and nginx "
                            "was not reloaded");
        goto out;
    }
    opts_from_journal(&o2, o, &j);

    /* What each file takes; any file that cannot be undone refuses the whole rollback
     * before anything is journaled or written. */
    ch = xcalloc(j.nfiles + 1, sizeof(*ch));
    rm = xcalloc(j.nfiles + 1, sizeof(*rm));
    data = xcalloc(j.nfiles + 1, sizeof(*data));
    for (size_t i = 0; i < j.nfiles; i++) {
        struct jfile *f = &j.files[i];
        enum undo_kind what;
        char *w = NULL;
        int r2 = undo_plan_file(&j, i, &data[i], &what, &w, cause);
        if (r2 == -1)
            goto out;
        if (r2 == 1) {
            if (why == NULL)
                why = w;
            else
                free(w);
            continue;
        }
        if (what == UNDO_NONE && j.state > TXN_TESTED)
            nonew = true;
        if (what == UNDO_NONE)
            continue;
        ch[n].path = f->path;
        ch[n].mode = f->mode;
        ch[n].summary = f->summary;
        ch[n].data = data[i].p;
        ch[n].len = data[i].len;
        rm[n] = what == UNDO_REMOVE;
        n++;
    }
    if (why != NULL) {
        char *later = undo_later(o->state_dir, &j);
        *cause = later != NULL
                     ? xasprintf("%s cannot be rolled back on its own: %s; roll back first: %s",
                                 want, why, later)
                     : xasprintf("%s cannot be rolled back: %s (edited outside tlstriage?); "
                                 "nothing was written",
                                 want, why);
        free(later);
        rc = TXN_ERR_CHANGED;
        goto out;
    }
    /* A file the transaction created goes only when no config line still names it. */
    for (size_t k = 0; k < n; k++) {
        if (!rm[k])
            continue;
        char *where = undo_referenced(&o2, ch[k].path, ch, rm, n);
        if (where == NULL)
            continue;
        buf_addf(&notes, "%skept %s: %s", notes.len > 0 ? "; " : "", ch[k].path, where);
        free(where);
        memmove(&ch[k], &ch[k + 1], (n - k - 1) * sizeof(*ch));
        memmove(&rm[k], &rm[k + 1], (n - k - 1) * sizeof(*rm));
        n--;
        k--;
    }
    undo_dirs(o->state_dir, ch, rm, n, &rmdirs, &nrmdirs);
    summary = xasprintf("rollback of %s%s%s", want, j.summary != NULL ? ": " : "",
                        j.summary != NULL ? j.summary : "");
    if (o2.summary == NULL)
        o2.summary = summary;
    o2.planned_sha256 = NULL;
    o2.watch_seconds = 0;
    if (n == 0 && j.state <= TXN_TESTED) {
        /* Nothing was ever written: just close the journal. */
        j.state = TXN_ROLLED_BACK;
        free(j.error);
        j.error = xstrdup("interrupted before any file was written; closed by rollback");
        rc = journal_save(&j, cause) == 0 ? TXN_OK : TXN_ERR;
        res->id = xstrdup(want);
        res->state = TXN_ROLLED_BACK;
        goto out;
    }
    if (n == 0 && nonew) {
        /* Every file holds its bytes from before (an interrupted rollback wrote them, or a
         * hand edit), but nginx may still run the change: a rollback that writes nothing
         * new still tests, reloads and closes the journal. */
        for (size_t i = 0; i < j.nfiles; i++) {
            ch[n].path = j.files[i].path;
            ch[n].mode = j.files[i].mode;
            ch[n].summary = j.files[i].summary;
            ch[n].data = data[i].p;
            ch[n].len = data[i].len;
            rm[n++] = !j.files[i].existed;
        }
    }
    rc = apply_changes(&o2, ch, rm, n, "rollback", want, rmdirs, nrmdirs, lock_fd, res, cause);
    lock_fd = -1; /* released by apply_changes */
    if (res->id != NULL && (rc == TXN_OK || res->state == TXN_DONE))
        mark_reverted(o->state_dir, want, res->id);
    if (notes.len > 0) {
        char *nn = xasprintf("%s%s%s", res->note != NULL ? res->note : "",
                             res->note != NULL ? "; " : "", buf_str(&notes));
        free(res->note);
        res->note = nn;
    }
out:
    if (data != NULL)
        for (size_t i = 0; i < j.nfiles; i++)
            buf_free(&data[i]);
    free(data);
    free(ch);
    free(rm);
    free(want);
    free(why);
    free(summary);
    for (size_t i = 0; i < nrmdirs; i++)
        free(rmdirs[i]);
    free(rmdirs);
    buf_free(&notes);
    journal_free(&j);
    journal_unlock(lock_fd);
    return rc;
}

int
txn_complete(const struct txn_opts *o, const char *id, struct txn_result *res, char **cause)
{
    struct journal j;
    struct txn_opts o2;
    struct run r = {.j = &j, .res = res, .lock_fd = -1};
    struct buf cur = BUF_INIT;
    struct held_signals hs = {.h = NULL};
    int rc = TXN_ERR;

    memset(res, 0, sizeof(*res));
    memset(&j, 0, sizeof(j));
    *cause = NULL;
    if (!valid_id(id)) {
        *cause = xasprintf("'%s' is not a transaction id (see tlstriage history)", id);
        return TXN_ERR;
    }
    if (journal_load(o->state_dir, id, &j, cause) == -1)
        return TXN_ERR;
    res->id = xstrdup(id);
    res->state = j.state;
    res->diff = j.diff != NULL ? xstrdup(j.diff) : NULL;
    opts_from_journal(&o2, o, &j);
    r.o = &o2;
    if (!journal_state_pending(j.state) || j.state == TXN_PLANNED || j.state == TXN_ROLLING_BACK ||
        j.state == TXN_FAILED) {
        *cause = xasprintf("%s is %s: it cannot be completed%s", id, txn_state_name(j.state),
                           journal_state_pending(j.state) ? " (roll it back instead)" : "");
        goto out;
    }
    if ((rc = journal_lock(o->state_dir, &r.lock_fd, cause)) != 0)
        goto out;
    rc = TXN_ERR;
    for (size_t i = 0; i < j.nfiles; i++) {
        struct jfile *f = &j.files[i];
        int holds;
        atomicfile_sweep_temps(f->target);
        if ((holds = txn_file_holds(f, &cur, NULL, cause)) == -1)
            goto out;
        if (holds == 0) {
            *cause = xasprintf("%s holds neither the old nor the new bytes of %s: it was "
                               "edited since; nothing done",
                               f->path, id);
            goto out;
        }
    }
    if (nginx_setup(&r, cause) == -1)
        goto out;
    signals_hold(&hs);
    if (set_state(&r, TXN_WRITING, cause) == -1 || step(&r, TXN_STEP_WRITE, 0, "complete", cause))
        goto unhold;
    if (write_files(&r, cause) == -1) {
        roll_back(&r, false, "a write failed");
        goto unhold;
    }
    if (step(&r, TXN_STEP_WRITE, 1, NULL, cause) == -1 || set_state(&r, TXN_WRITTEN, cause) == -1)
        goto unhold;
    rc = finish(&r, cause);
    if (rc == TXN_OK && j.kind != NULL && strcmp(j.kind, "rollback") == 0 && j.reverts != NULL)
        mark_reverted(o->state_dir, j.reverts, j.id);
unhold:
    signals_release(&hs);
out:
    res->state = j.state;
    run_free(&r);
    journal_free(&j);
    buf_free(&cur);
    return rc;
}
