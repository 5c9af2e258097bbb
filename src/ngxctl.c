/*
 * ngxctl.c — driving nginx for a transaction: nginx -t, the reload command (argv, never
 * a shell; systemd detected), the pid file and error log read from nginx -T / -V, the
 * confirmation of a reload (error-log offset, new worker PIDs) and the post-change watch.
 * Knows nothing of the journal or of which files changed. Called by txn.c.
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
#include "ngxctl.h"
#include "spawn.h"
#include "xmalloc.h"

#define NGINX_TIMEOUT_MS 30000

char **
ngxctl_split_command(const char *s)
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
        ngxctl_argv_free(argv);
    return NULL;
}

void
ngxctl_argv_free(char **argv)
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

/* Whether every old worker has left the listening sockets: gone, no longer the master's
 * child, or renamed "worker process is shutting down" (nginx sets that title as it closes
 * its listeners on a graceful reload). Until then it may still accept a connection and
 * serve it with the old configuration. */
static bool
old_workers_left(int master, const int *old, size_t nold)
{
    for (size_t i = 0; i < nold; i++) {
        char path[64], title[256];
        int now[256];
        size_t nnow = children_of(master, now, 256);
        bool child = false;
        FILE *fp;

        for (size_t k = 0; k < nnow; k++)
            child |= now[k] == old[i];
        if (!child)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/cmdline", old[i]);
        if ((fp = fopen(path, "re")) == NULL)
            continue;
        size_t n = fread(title, 1, sizeof(title) - 1, fp);
        fclose(fp);
        title[n] = '\0';
        if (memmem(title, n, "shutting down", 13) == NULL)
            return false;
    }
    return true;
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

int
ngxctl_setup(struct ngxctl *c, const struct txn_nginx *ng, char **cause)
{
    const char *bin = ng->binary != NULL ? ng->binary : "nginx";
    const char *conf = ng->conf, *prefix = ng->prefix;
    struct buf out = BUF_INIT;
    struct spawn_result sr;
    char *err = NULL, *vprefix = NULL;
    size_t n = 0;
    char **argv = NULL;

    nginx_base_argv(&c->test_argv, &n, bin, conf, prefix);
    argv_push(&c->test_argv, &n, "-t");

    /* What nginx -V and nginx -T say about the pid file and the error log. */
    n = 0;
    argv_push(&argv, &n, bin);
    argv_push(&argv, &n, "-V");
    if (spawn_run(argv, &out, NGINX_TIMEOUT_MS, &sr, &err) == 0) {
        vprefix = nginx_v_option(buf_str(&out), "--prefix=");
        if (ng->pid_file == NULL)
            c->pid_file = nginx_v_option(buf_str(&out), "--pid-path=");
        if (ng->error_log == NULL)
            c->error_log = nginx_v_option(buf_str(&out), "--error-log-path=");
    }
    free(err);
    err = NULL;
    ngxctl_argv_free(argv);
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
                free(c->pid_file);
                c->pid_file = pid;
                pid = NULL;
            }
            if (log != NULL && ng->error_log == NULL) {
                free(c->error_log);
                c->error_log = log;
                log = NULL;
            }
            free(pid);
            free(log);
        }
    }
    free(err);
    ngxctl_argv_free(argv);
    buf_free(&out);
    if (ng->pid_file != NULL)
        c->pid_file = xstrdup(ng->pid_file);
    if (ng->error_log != NULL)
        c->error_log = xstrdup(ng->error_log);
    const char *pfx = prefix != NULL ? prefix : vprefix;
    char *t = prefixed(c->pid_file, pfx);
    free(c->pid_file);
    c->pid_file = t;
    t = prefixed(c->error_log, pfx);
    free(c->error_log);
    c->error_log = t;
    if (c->error_log != NULL && strcmp(c->error_log, "stderr") == 0) {
        free(c->error_log);
        c->error_log = NULL;
    }
    free(vprefix);

    if (ng->reload_cmd != NULL) {
        if ((c->reload_argv = ngxctl_split_command(ng->reload_cmd)) == NULL) {
            *cause = xasprintf("--reload-cmd '%s': empty or an unclosed quote", ng->reload_cmd);
            return -1;
        }
    } else if (under_systemd(read_pid(c->pid_file))) {
        c->reload_argv = ngxctl_split_command("systemctl reload nginx");
    } else {
        n = 0;
        nginx_base_argv(&c->reload_argv, &n, bin, conf, prefix);
        argv_push(&c->reload_argv, &n, "-s");
        argv_push(&c->reload_argv, &n, "reload");
    }
    struct buf cmd = BUF_INIT;
    for (size_t i = 0; c->reload_argv[i] != NULL; i++)
        buf_addf(&cmd, "%s%s", i ? " " : "", c->reload_argv[i]);
    free(c->reload_cmd);
    c->reload_cmd = buf_detach(&cmd);
    c->reload_given = ng->reload_cmd != NULL;
    c->confirm_ms = ng->confirm_ms > 0 ? ng->confirm_ms : 10000;
    return 0;
}

int
ngxctl_test(const struct ngxctl *c, char **output, char **cause)
{
    struct buf out = BUF_INIT;
    struct spawn_result sr;
    int rc = -1;

    if (spawn_run(c->test_argv, &out, NGINX_TIMEOUT_MS, &sr, cause) == -1)
        goto out;
    free(*output);
    *output = xstrdup(buf_str(&out));
    if (!sr.exited || sr.status != 0) {
        *cause = xasprintf("%s -t failed (%s %d)", c->test_argv[0],
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
int
ngxctl_reload(const struct ngxctl *c, bool *reloaded, char **output, char **note, char **cause)
{
    int master = read_pid(c->pid_file);
    int old[256], now[256];
    size_t nold = 0, nnow;
    off_t off = file_size(c->error_log);
    struct buf out = BUF_INIT, log = BUF_INIT;
    struct spawn_result sr;
    int rc = -1, waited = 0;
    bool log_seen = false;

    if (master == 0 && !c->reload_given) {
        free(*note);
        *note = xasprintf("nginx is not running (no live pid in %s): the change takes "
                          "effect when it starts",
                          c->pid_file != NULL ? c->pid_file : "the pid file");
        return 1;
    }
    if (master != 0)
        nold = children_of(master, old, 256);
    if (spawn_run(c->reload_argv, &out, NGINX_TIMEOUT_MS, &sr, cause) == -1)
        goto out;
    *reloaded = true;
    free(*output);
    *output = xstrdup(buf_str(&out));
    for (;;) {
        log_since(c->error_log, off, &log);
        char *bad = log_refusals(buf_str(&log));
        if (bad != NULL) {
            *cause = xasprintf("the reload was refused: %s", bad);
            free(*output);
            *output = bad;
            goto out;
        }
        log_seen = strstr(buf_str(&log), "reconfiguring") != NULL ||
                   strstr(buf_str(&log), "start worker process") != NULL;
        int m = read_pid(c->pid_file);
        if (m != 0) {
            nnow = children_of(m, now, 256);
            for (size_t i = 0; i < nnow; i++) {
                bool seen = false;
                for (size_t k = 0; k < nold && m == master; k++)
                    seen |= old[k] == now[i];
                if (!seen) {
                    /* New workers start after the config was read; a late [emerg] is not
                     * possible for this reload, but look once more to be sure. */
                    log_since(c->error_log, off, &log);
                    if ((bad = log_refusals(buf_str(&log))) != NULL) {
                        *cause = xasprintf("the reload was refused: %s", bad);
                        free(*output);
                        *output = bad;
                        goto out;
                    }
                    /* Wait (briefly) until the old workers stop accepting, so the
                     * next request is the new configuration's. */
                    for (int w = 0; m == master && w < 3000 && !old_workers_left(m, old, nold);
                         w += 20)
                        sleep_ms(20);
                    if (m == master && !old_workers_left(m, old, nold)) {
                        free(*note);
                        *note = xstrdup("old worker processes are still accepting connections "
                                        "3 s after the reload");
                    }
                    rc = 0;
                    goto out;
                }
            }
        } else if (c->error_log != NULL && log_seen) {
            rc = 0;
            goto out;
        }
        if (waited >= c->confirm_ms)
            break;
        sleep_ms(50);
        waited += 50;
    }
    if (master == 0 && c->error_log == NULL) {
        free(*note);
        *note = xstrdup("the reload could not be confirmed (no pid file, no error log)");
        rc = 1;
        goto out;
    }
    *cause = xasprintf("the reload did not take within %d ms: no new worker processes%s (%s "
                       "exited %d)",
                       c->confirm_ms, log_seen ? "" : " and nothing in the error log",
                       c->reload_argv[0], sr.status);
out:
    buf_free(&out);
    buf_free(&log);
    return rc;
}

off_t
ngxctl_log_size(const struct ngxctl *c)
{
    return file_size(c->error_log);
}

void
ngxctl_watch(const struct ngxctl *c, off_t off, int seconds, const char *match, int *failures,
             char **first)
{
    struct buf log = BUF_INIT;

    for (int ms = 0; ms < seconds * 1000; ms += 250)
        sleep_ms(250);
    log_since(c->error_log, off, &log);
    for (const char *p = buf_str(&log); *p != '\0';) {
        const char *e = strchr(p, '\n');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        char *line = xstrndup(p, len);
        if (strstr(line, match) != NULL &&
            (strstr(line, "SSL") != NULL || strstr(line, "upstream timed out") != NULL)) {
            if ((*failures)++ == 0)
                *first = xstrdup(line);
        }
        free(line);
        p += len + (e != NULL);
    }
    buf_free(&log);
}

int
ngxctl_master_pid(const struct ngxctl *c)
{
    return read_pid(c->pid_file);
}

size_t
ngxctl_children(int pid, int *out, size_t max)
{
    return children_of(pid, out, max);
}

void
ngxctl_free(struct ngxctl *c)
{
    ngxctl_argv_free(c->test_argv);
    ngxctl_argv_free(c->reload_argv);
    free(c->pid_file);
    free(c->error_log);
    free(c->reload_cmd);
    memset(c, 0, sizeof(*c));
}
