/*
 * txn.c — the configuration transaction: plan, lock, backup, journal, re-check, atomic
 * write (mode, owner, ACL and SELinux label kept; symlinks followed and kept), nginx -t,
 * reload, confirmation from the error log and new worker PIDs, verify hook, watch, and
 * restore on any failure; also rollback, completion of interrupted runs and the journal
 * listing. Prints nothing (progress callback only). Called by cli-rollback.c,
 * cli-history.c, the fix verb and tests/txn-apply.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "buf.h"
#include "diff.h"
#include "journal.h"
#include "spawn.h"
#include "txn.h"
#include "xmalloc.h"

#define NGINX_TIMEOUT_MS 30000

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

/* ---- command lines ---- */

char **
txn_split_command(const char *s)
{
    char **argv = NULL;
    size_t n = 0;
    struct buf w = BUF_INIT;

    for (const char *p = s;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (*p == '\0')
            break;
        buf_reset(&w);
        buf_add(&w, "", 0);
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n') {
            if (*p == '\'' || *p == '"') {
                char q = *p++;
                const char *end = strchr(p, q);
                if (end == NULL)
                    goto fail;
                buf_add(&w, p, (size_t)(end - p));
                p = end + 1;
            } else {
                buf_addc(&w, *p++);
            }
        }
        argv = xreallocarray(argv, n + 2, sizeof(*argv));
        argv[n++] = xstrdup(buf_str(&w));
        argv[n] = NULL;
    }
    buf_free(&w);
    return argv;
fail:
    buf_free(&w);
    if (argv != NULL)
        txn_argv_free(argv);
    return NULL;
}

void
txn_argv_free(char **argv)
{
    if (argv == NULL)
        return;
    for (size_t i = 0; argv[i] != NULL; i++)
        free(argv[i]);
    free(argv);
}

static void
argv_push(char ***argv, size_t *n, const char *s)
{
    *argv = xreallocarray(*argv, *n + 2, sizeof(**argv));
    (*argv)[(*n)++] = xstrdup(s);
    (*argv)[*n] = NULL;
}

/* ---- the running transaction ---- */

struct run {
    const struct txn_opts *o;
    struct journal *j;
    struct txn_result *res;
    char **test_argv, **reload_argv;
    char *pid_file, *error_log;
    int confirm_ms;
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

/* ---- nginx: discovery, test, reload, confirmation ---- */

/* The value of a top-level directive (pid, error_log) in the main file of `nginx -T`. */
static char *
nginx_t_directive(const char *text, const char *name)
{
    int depth = 0, files = 0;
    const char *p = text;
    char *words[2] = {NULL, NULL};
    int nw = 0;
    char *found = NULL;

    while (*p != '\0' && found == NULL) {
        if ((p == text || p[-1] == '\n') && strncmp(p, "# configuration file ", 21) == 0) {
            if (++files > 1)
                break;
            p = strchr(p, '\n');
            if (p == NULL)
                break;
            continue;
        }
        if (*p == '#') {
            while (*p != '\0' && *p != '\n')
                p++;
            continue;
        }
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            p++;
            continue;
        }
        if (*p == '{' || *p == '}' || *p == ';') {
            if (*p == ';' && depth == 0 && nw == 2 && strcmp(words[0], name) == 0)
                found = xstrdup(words[1]);
            depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
            for (int i = 0; i < nw && i < 2; i++) {
                free(words[i]);
                words[i] = NULL;
            }
            nw = 0;
            p++;
            continue;
        }
        struct buf w = BUF_INIT;
        buf_add(&w, "", 0);
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p != '\0' && *p != q) {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                buf_addc(&w, *p++);
            }
            if (*p != '\0')
                p++;
        } else {
            while (*p != '\0' && strchr(" \t\r\n;{}", *p) == NULL)
                buf_addc(&w, *p++);
        }
        if (nw < 2)
            words[nw] = buf_detach(&w);
        else
            buf_free(&w);
        nw++;
        /* error_log FILE LEVEL: keep the file */
        if (nw == 3 && strcmp(words[0], name) == 0 && depth == 0) {
            found = xstrdup(words[1]);
        }
    }
    for (int i = 0; i < 2; i++)
        free(words[i]);
    return found;
}

static char *
nginx_v_option(const char *text, const char *opt)
{
    const char *p = strstr(text, opt);
    size_t n;

    if (p == NULL)
        return NULL;
    p += strlen(opt);
    n = strcspn(p, " \t\n");
    return xstrndup(p, n);
}

static char *
prefixed(const char *path, const char *prefix)
{
    if (path == NULL || path[0] == '/' || prefix == NULL)
        return path != NULL ? xstrdup(path) : NULL;
    size_t pl = strlen(prefix);
    return xasprintf("%s%s%s", prefix, pl > 0 && prefix[pl - 1] == '/' ? "" : "/", path);
}

static int
read_pid(const char *pid_file)
{
    struct buf b = BUF_INIT;
    char *err = NULL;
    bool exists = false;
    long pid = 0;

    if (pid_file != NULL && atomicfile_read(pid_file, &b, &exists, &err) == 0 && exists)
        pid = strtol(buf_str(&b), NULL, 10);
    free(err);
    buf_free(&b);
    if (pid <= 0 || pid > INT_MAX || kill((pid_t)pid, 0) == -1)
        return 0;
    return (int)pid;
}

/* The children of pid (nginx's workers), from /proc/N/stat. */
static size_t
children_of(int pid, int *out, size_t max)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    size_t n = 0;

    while (d != NULL && (de = readdir(d)) != NULL && n < max) {
        char path[300], line[512];
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        FILE *fp = fopen(path, "re");
        if (fp == NULL)
            continue;
        if (fgets(line, sizeof(line), fp) != NULL) {
            char *rp = strrchr(line, ')');
            char st;
            int ppid;
            if (rp != NULL && sscanf(rp + 1, " %c %d", &st, &ppid) == 2 && ppid == pid && st != 'Z')
                out[n++] = atoi(de->d_name);
        }
        fclose(fp);
    }
    if (d != NULL)
        closedir(d);
    return n;
}

static bool
under_systemd(int master)
{
    char path[64];
    struct buf b = BUF_INIT;
    char *err = NULL;
    bool exists = false, yes = false;

    if (master <= 0 || access("/run/systemd/system", F_OK) == -1)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/cgroup", master);
    if (atomicfile_read(path, &b, &exists, &err) == 0 && exists)
        yes = strstr(buf_str(&b), "/nginx.service") != NULL;
    free(err);
    buf_free(&b);
    return yes;
}

static void
nginx_base_argv(char ***argv, size_t *n, const char *bin, const char *conf, const char *prefix)
{
    argv_push(argv, n, bin);
    if (conf != NULL) {
        argv_push(argv, n, "-c");
        argv_push(argv, n, conf);
    }
    if (prefix != NULL) {
        argv_push(argv, n, "-p");
        argv_push(argv, n, prefix);
    }
}

/* Fills the argv for nginx -t and the reload, the pid file and the error log. */
static int
nginx_setup(struct run *r, char **cause)
{
    const struct txn_nginx *ng = &r->o->nginx;
    const char *bin = ng->binary != NULL ? ng->binary : "nginx";
    const char *conf = ng->conf, *prefix = ng->prefix;
    struct buf out = BUF_INIT;
    struct spawn_result sr;
    char *err = NULL, *vprefix = NULL;
    size_t n = 0;
    char **argv = NULL;

    nginx_base_argv(&r->test_argv, &n, bin, conf, prefix);
    argv_push(&r->test_argv, &n, "-t");
    free(r->j->nginx_binary);
    free(r->j->nginx_conf);
    free(r->j->nginx_prefix);
    r->j->nginx_binary = xstrdup(bin);
    r->j->nginx_conf = conf != NULL ? xstrdup(conf) : NULL;
    r->j->nginx_prefix = prefix != NULL ? xstrdup(prefix) : NULL;

    /* What nginx -V and nginx -T say about the pid file and the error log. */
    n = 0;
    argv_push(&argv, &n, bin);
    argv_push(&argv, &n, "-V");
    if (spawn_run(argv, &out, NGINX_TIMEOUT_MS, &sr, &err) == 0) {
        vprefix = nginx_v_option(buf_str(&out), "--prefix=");
        if (ng->pid_file == NULL)
            r->pid_file = nginx_v_option(buf_str(&out), "--pid-path=");
        if (ng->error_log == NULL)
            r->error_log = nginx_v_option(buf_str(&out), "--error-log-path=");
    }
    free(err);
    err = NULL;
    txn_argv_free(argv);
    argv = NULL;
    n = 0;
    buf_reset(&out);
    nginx_base_argv(&argv, &n, bin, conf, prefix);
    argv_push(&argv, &n, "-T");
    if (spawn_run(argv, &out, NGINX_TIMEOUT_MS, &sr, &err) == 0 && sr.exited && sr.status == 0) {
        const char *p = buf_str(&out);
        /* -T prints nginx's own "test is successful" lines first; the dump follows. */
        const char *dump = strstr(p, "# configuration file ");
        if (dump != NULL) {
            char *pid = nginx_t_directive(dump, "pid");
            char *log = nginx_t_directive(dump, "error_log");
            if (pid != NULL && ng->pid_file == NULL) {
                free(r->pid_file);
                r->pid_file = pid;
                pid = NULL;
            }
            if (log != NULL && ng->error_log == NULL) {
                free(r->error_log);
                r->error_log = log;
                log = NULL;
            }
            free(pid);
            free(log);
        }
    }
    free(err);
    txn_argv_free(argv);
    buf_free(&out);
    if (ng->pid_file != NULL)
        r->pid_file = xstrdup(ng->pid_file);
    if (ng->error_log != NULL)
        r->error_log = xstrdup(ng->error_log);
    const char *pfx = prefix != NULL ? prefix : vprefix;
    char *t = prefixed(r->pid_file, pfx);
    free(r->pid_file);
    r->pid_file = t;
    t = prefixed(r->error_log, pfx);
    free(r->error_log);
    r->error_log = t;
    if (r->error_log != NULL && strcmp(r->error_log, "stderr") == 0) {
        free(r->error_log);
        r->error_log = NULL;
    }
    free(vprefix);

    if (ng->reload_cmd != NULL) {
        if ((r->reload_argv = txn_split_command(ng->reload_cmd)) == NULL) {
            *cause = xasprintf("--reload-cmd '%s': empty or an unclosed quote", ng->reload_cmd);
            return -1;
        }
    } else if (under_systemd(read_pid(r->pid_file))) {
        r->reload_argv = txn_split_command("systemctl reload nginx");
    } else {
        n = 0;
        nginx_base_argv(&r->reload_argv, &n, bin, conf, prefix);
        argv_push(&r->reload_argv, &n, "-s");
        argv_push(&r->reload_argv, &n, "reload");
    }
    struct buf cmd = BUF_INIT;
    for (size_t i = 0; r->reload_argv[i] != NULL; i++)
        buf_addf(&cmd, "%s%s", i ? " " : "", r->reload_argv[i]);
    free(r->j->reload_cmd);
    r->j->reload_cmd = buf_detach(&cmd);
    r->confirm_ms = ng->confirm_ms > 0 ? ng->confirm_ms : 10000;
    return 0;
}

static int
nginx_test(struct run *r, char **cause)
{
    struct buf out = BUF_INIT;
    struct spawn_result sr;
    int rc = -1;

    if (spawn_run(r->test_argv, &out, NGINX_TIMEOUT_MS, &sr, cause) == -1)
        goto out;
    free(r->res->nginx_output);
    r->res->nginx_output = xstrdup(buf_str(&out));
    if (!sr.exited || sr.status != 0) {
        *cause = xasprintf("%s -t failed (%s %d)", r->test_argv[0],
                           sr.exited ? "exit status" : "signal", sr.status);
        goto out;
    }
    rc = 0;
out:
    buf_free(&out);
    return rc;
}

static off_t
file_size(const char *path)
{
    struct stat st;

    return path != NULL && stat(path, &st) == 0 ? st.st_size : -1;
}

/* The error log's bytes after off (re-read from the start if it was truncated). */
static void
log_since(const char *path, off_t off, struct buf *out)
{
    int fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    char chunk[8192];
    struct stat st;

    buf_reset(out);
    buf_add(out, "", 0);
    if (fd == -1)
        return;
    if (fstat(fd, &st) == 0 && st.st_size < off)
        off = 0;
    if (off > 0 && lseek(fd, off, SEEK_SET) == -1) {
        close(fd);
        return;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0)
            break;
        buf_add(out, chunk, (size_t)n);
    }
    close(fd);
}

/* The lines of text holding [emerg] or [alert], or NULL. */
static char *
log_refusals(const char *text)
{
    struct buf b = BUF_INIT;

    for (const char *p = text; *p != '\0';) {
        const char *e = strchr(p, '\n');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        char *line = xstrndup(p, len);
        if (strstr(line, "[emerg]") != NULL || strstr(line, "[alert]") != NULL)
            buf_addf(&b, "%s\n", line);
        free(line);
        p += len + (e != NULL);
    }
    return b.len > 0 ? buf_detach(&b) : NULL;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/*
 * Sends the reload and confirms it took: no [emerg]/[alert] in the log after the offset
 * recorded before, and a worker of the master that was not there before (or, without a
 * pid file, "reconfiguring"/"start worker processes" in the log). Returns 0 confirmed,
 * 1 nothing to reload (nginx not running) or not confirmable, -1 refused (*cause).
 */
static int
nginx_reload(struct run *r, char **cause)
{
    int master = read_pid(r->pid_file);
    int old[256], now[256];
    size_t nold = 0, nnow;
    off_t off = file_size(r->error_log);
    struct buf out = BUF_INIT, log = BUF_INIT;
    struct spawn_result sr;
    int rc = -1, waited = 0;
    bool log_seen = false;

    if (master == 0 && r->o->nginx.reload_cmd == NULL) {
        free(r->res->note);
        r->res->note = xasprintf("nginx is not running (no live pid in %s): the change takes "
                                 "effect when it starts",
                                 r->pid_file != NULL ? r->pid_file : "the pid file");
        return 1;
    }
    if (master != 0)
        nold = children_of(master, old, 256);
    if (spawn_run(r->reload_argv, &out, NGINX_TIMEOUT_MS, &sr, cause) == -1)
        goto out;
    r->res->reloaded = true;
    free(r->res->nginx_output);
    r->res->nginx_output = xstrdup(buf_str(&out));
    for (;;) {
        log_since(r->error_log, off, &log);
        char *bad = log_refusals(buf_str(&log));
        if (bad != NULL) {
            *cause = xasprintf("the reload was refused: %s", bad);
            free(r->res->nginx_output);
            r->res->nginx_output = bad;
            goto out;
        }
        log_seen = strstr(buf_str(&log), "reconfiguring") != NULL ||
                   strstr(buf_str(&log), "start worker process") != NULL;
        int m = read_pid(r->pid_file);
        if (m != 0) {
            nnow = children_of(m, now, 256);
            for (size_t i = 0; i < nnow; i++) {
                bool seen = false;
                for (size_t k = 0; k < nold && m == master; k++)
                    seen |= old[k] == now[i];
                if (!seen) {
                    /* New workers start after the config was read; a late [emerg] is not
                     * possible for this reload, but look once more to be sure. */
                    log_since(r->error_log, off, &log);
                    if ((bad = log_refusals(buf_str(&log))) != NULL) {
                        *cause = xasprintf("the reload was refused: %s", bad);
                        free(r->res->nginx_output);
                        r->res->nginx_output = bad;
                        goto out;
                    }
                    rc = 0;
                    goto out;
                }
            }
        } else if (r->error_log != NULL && log_seen) {
            rc = 0;
            goto out;
        }
        if (waited >= r->confirm_ms)
            break;
        sleep_ms(50);
        waited += 50;
    }
    if (master == 0 && r->error_log == NULL) {
        free(r->res->note);
        r->res->note = xstrdup("the reload could not be confirmed (no pid file, no error log)");
        rc = 1;
        goto out;
    }
    *cause = xasprintf("the reload did not take within %d ms: no new worker processes%s (%s "
                       "exited %d)",
                       r->confirm_ms, log_seen ? "" : " and nothing in the error log",
                       r->reload_argv[0], sr.status);
out:
    buf_free(&out);
    buf_free(&log);
    return rc;
}

/* ---- writing and restoring ---- */

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

        atomicfile_sweep_temps(f->target);
        if (atomicfile_read(f->target, &cur, &exists, &err) == -1)
            goto fail;
        if (!f->existed) {
            if (exists &&
                (unlink(f->target) == -1 || atomicfile_dir_fsync(f->target, &err) == -1)) {
                if (err == NULL)
                    err = xasprintf("%s: cannot remove: %s", f->target, strerror(errno));
                goto fail;
            }
            continue;
        }
        atomicfile_sha256_hex(cur.p, cur.len, hex);
        if (exists && strcmp(hex, f->before) == 0)
            continue;
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
        char hex[65];

        if (atomicfile_read(f->target, &cur, &exists, cause) == -1)
            goto out;
        if (f->remove) {
            if (exists &&
                (unlink(f->target) == -1 || atomicfile_dir_fsync(f->target, cause) == -1)) {
                if (*cause == NULL)
                    *cause = xasprintf("%s: cannot remove: %s", f->target, strerror(errno));
                goto out;
            }
            continue;
        }
        atomicfile_sha256_hex(cur.p, cur.len, hex);
        if (exists && strcmp(hex, f->after) == 0)
            continue;
        char *np = journal_backup_path(j, i, "new");
        int r2 = atomicfile_read(np, &nb, NULL, cause);
        free(np);
        if (r2 == -1)
            goto out;
        if (atomicfile_write(f->target, nb.p, nb.len, f->mode, cause) == -1)
            goto out;
    }
    rc = 0;
out:
    buf_free(&cur);
    buf_free(&nb);
    return rc;
}

/*
 * SIGHUP (a dropped SSH session), SIGINT and SIGTERM are deferred from the first write
 * to the end of the confirmation: a handler notes the signal, and it is raised again
 * once the step in progress has left the files consistent. Handlers rather than a
 * blocked mask, so the programs run meanwhile (nginx -t, the reload) start with the
 * default dispositions. The one piece of process-wide state a signal handler needs.
 */
static const int deferred_signals[] = {SIGHUP, SIGINT, SIGTERM};
#define NDEFERRED (sizeof(deferred_signals) / sizeof(deferred_signals[0]))
static volatile sig_atomic_t deferred_signal;

struct held_signals {
    struct sigaction old[NDEFERRED];
    bool held;
};

static void
defer_signal(int sig)
{
    deferred_signal = sig;
}

static void
signals_hold(struct held_signals *h)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = defer_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NDEFERRED; i++)
        sigaction(deferred_signals[i], &sa, &h->old[i]);
    h->held = true;
}

static void
signals_release(struct held_signals *h)
{
    int sig = deferred_signal;

    if (!h->held)
        return;
    for (size_t i = 0; i < NDEFERRED; i++)
        sigaction(deferred_signals[i], &h->old[i], NULL);
    h->held = false;
    deferred_signal = 0;
    if (sig != 0)
        raise(sig);
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
    if (nginx_test(r, &err) == -1) {
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
    if (r->o->watch_seconds > 0 && r->o->watch_match != NULL && r->error_log != NULL) {
        off_t off = file_size(r->error_log);
        struct buf log = BUF_INIT;
        (void)!step(r, TXN_STEP_WATCH, 0, NULL, &err);
        free(err);
        err = NULL;
        for (int ms = 0; ms < r->o->watch_seconds * 1000; ms += 250)
            sleep_ms(250);
        log_since(r->error_log, off, &log);
        for (const char *p = buf_str(&log); *p != '\0';) {
            const char *e = strchr(p, '\n');
            size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
            char *line = xstrndup(p, len);
            if (strstr(line, r->o->watch_match) != NULL &&
                (strstr(line, "SSL") != NULL || strstr(line, "upstream timed out") != NULL)) {
                if (r->res->watch_failures++ == 0)
                    r->res->watch_first = xstrdup(line);
            }
            free(line);
            p += len + (e != NULL);
        }
        buf_free(&log);
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
    txn_argv_free(r->test_argv);
    txn_argv_free(r->reload_argv);
    free(r->pid_file);
    free(r->error_log);
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

/* The shared body of apply and rollback: the changes (with a remove flag per file). */
static int
apply_changes(const struct txn_opts *o, const struct txn_change *ch, const bool *remove, size_t n,
              const char *kind, const char *reverts, int lock_fd, struct txn_result *res,
              char **cause)
{
    struct journal j;
    struct run r = {.o = o, .j = &j, .res = res, .lock_fd = lock_fd};
    struct buf cur = BUF_INIT, diff = BUF_INIT;
    struct held_signals hs = {.held = false};
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
    if (journal_new(&j, o->state_dir, kind, o->summary, cause) == -1)
        goto out;
    res->id = xstrdup(j.id);
    res->state = TXN_PLANNED;
    j.reverts = reverts != NULL ? xstrdup(reverts) : NULL;
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
    if (nginx_setup(&r, cause) == -1)
        goto abort;
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
        struct jfile *f = &j.files[i];
        bool exists;
        char hex[65] = "";
        if (atomicfile_read(f->target, &cur, &exists, cause) == -1)
            goto abort;
        if (exists)
            atomicfile_sha256_hex(cur.p, cur.len, hex);
        if (strcmp(hex, f->before) != 0) {
            *cause = xasprintf("%s was changed by someone else since the plan: nothing was "
                               "written",
                               f->path);
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
    return apply_changes(o, ch, NULL, n, "apply", NULL, -1, res, cause);
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

/* The newest apply not yet rolled back and not aborted. */
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
            v[i].state != TXN_ABORTED && v[i].state != TXN_ROLLED_BACK)
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
        const struct jfile *f = &j->files[i];
        bool exists;
        char hex[65] = "", *err = NULL;
        if (atomicfile_read(f->target, &cur, &exists, &err) == -1) {
            free(err);
            old = false;
            break;
        }
        if (exists)
            atomicfile_sha256_hex(cur.p, cur.len, hex);
        old = f->existed ? exists && strcmp(hex, f->before) == 0 : !exists;
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

int
txn_rollback(const struct txn_opts *o, const char *id, struct txn_result *res, char **cause)
{
    struct journal j;
    struct txn_change *ch = NULL;
    bool *rm = NULL;
    struct buf *data = NULL;
    char *want = NULL, *summary = NULL;
    struct txn_opts o2;
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
    if (j.kind != NULL && strcmp(j.kind, "apply") != 0) {
        *cause = xasprintf("%s is a %s, not a change: roll back the change it undid, or "
                           "apply again",
                           want, j.kind);
        goto out;
    }
    if (j.rolled_back_by != NULL) {
        *cause = xasprintf("%s was already rolled back by %s", want, j.rolled_back_by);
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
    ch = xcalloc(j.nfiles + 1, sizeof(*ch));
    rm = xcalloc(j.nfiles + 1, sizeof(*rm));
    data = xcalloc(j.nfiles + 1, sizeof(*data));
    for (size_t i = 0; i < j.nfiles; i++) {
        struct jfile *f = &j.files[i];
        char hex[65];
        atomicfile_sweep_temps(f->target);
        ch[i].path = f->path;
        ch[i].mode = f->mode;
        ch[i].summary = f->summary;
        if (!f->existed) {
            rm[i] = true;
            continue;
        }
        char *bp = journal_backup_path(&j, i, "orig");
        bool exists;
        int r2 = atomicfile_read(bp, &data[i], &exists, cause);
        free(bp);
        if (r2 == -1)
            goto out;
        if (!exists) {
            /* Killed before this backup was complete: the file was never written. */
            if (j.state != TXN_PLANNED) {
                *cause = xasprintf("%s: the backup of %s is missing", want, f->path);
                goto out;
            }
            rm[i] = false;
            ch[i].path = NULL;
            continue;
        }
        atomicfile_sha256_hex(data[i].p, data[i].len, hex);
        if (strcmp(hex, f->before) != 0) {
            *cause = xasprintf("%s: the backup of %s does not match its recorded SHA-256", want,
                               f->path);
            goto out;
        }
        ch[i].data = data[i].p;
        ch[i].len = data[i].len;
    }
    /* Files with no backup yet (killed during planning) need nothing. */
    size_t n = 0;
    for (size_t i = 0; i < j.nfiles; i++) {
        if (ch[i].path != NULL) {
            ch[n] = ch[i];
            rm[n] = rm[i];
            n++;
        }
    }
    summary = xasprintf("rollback of %s%s%s", want, j.summary != NULL ? ": " : "",
                        j.summary != NULL ? j.summary : "");
    opts_from_journal(&o2, o, &j);
    if (o2.summary == NULL)
        o2.summary = summary;
    o2.planned_sha256 = NULL;
    o2.verify = NULL;
    o2.watch_seconds = 0;
    if (n == 0) {
        /* Nothing was ever written: just close the journal. */
        j.state = TXN_ROLLED_BACK;
        free(j.error);
        j.error = xstrdup("interrupted before any file was written; closed by rollback");
        rc = journal_save(&j, cause) == 0 ? TXN_OK : TXN_ERR;
        res->id = xstrdup(want);
        res->state = TXN_ROLLED_BACK;
        goto out;
    }
    rc = apply_changes(&o2, ch, rm, n, "rollback", want, lock_fd, res, cause);
    lock_fd = -1; /* released by apply_changes */
    if (res->id != NULL && (rc == TXN_OK || res->state == TXN_DONE))
        mark_reverted(o->state_dir, want, res->id);
out:
    if (data != NULL)
        for (size_t i = 0; i < j.nfiles; i++)
            buf_free(&data[i]);
    free(data);
    free(ch);
    free(rm);
    free(want);
    free(summary);
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
    struct held_signals hs = {.held = false};
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
        bool exists;
        char hex[65] = "";
        atomicfile_sweep_temps(f->target);
        if (atomicfile_read(f->target, &cur, &exists, cause) == -1)
            goto out;
        if (exists)
            atomicfile_sha256_hex(cur.p, cur.len, hex);
        if (strcmp(hex, f->before) != 0 && strcmp(hex, f->remove ? "" : f->after) != 0) {
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
