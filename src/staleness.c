/*
 * staleness.c — owns "which file changed after nginx last loaded it": the load time from
 * the workers' start times in /proc (starttime ticks after btime), else from the master's
 * notices in the error log, and the change times of the files a use depends on. Knows
 * nothing of probes or incidents and prints nothing. Called by triage.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ngxctl.h"
#include "spawn.h"
#include "staleness.h"
#include "xmalloc.h"

#define LOG_TAIL_BYTES (512 * 1024)

/* ---- the load time ---- */

static double
boot_time(void)
{
    FILE *fp = fopen("/proc/stat", "re");
    char line[256];
    double bt = -1;

    while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
        unsigned long long v;
        if (sscanf(line, "btime %llu", &v) == 1) {
            bt = (double)v;
            break;
        }
    }
    if (fp != NULL)
        fclose(fp);
    return bt;
}

/* The start time of pid (seconds since the epoch), or -1. */
static double
proc_start(int pid, double btime)
{
    char path[64], line[1024];
    FILE *fp;
    double t = -1;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if ((fp = fopen(path, "re")) == NULL)
        return -1;
    if (fgets(line, sizeof(line), fp) != NULL) {
        char *p = strrchr(line, ')');
        unsigned long long ticks = 0;
        /* fields after the comm: 3 state ... 22 starttime */
        for (int field = 2; p != NULL && field < 22; field++)
            p = strchr(p + 1, ' ');
        long hz = sysconf(_SC_CLK_TCK);
        if (p != NULL && sscanf(p, " %llu", &ticks) == 1 && hz > 0)
            t = btime + (double)ticks / (double)hz;
    }
    fclose(fp);
    return t;
}

/*
 * Whether master runs conf: its title ("nginx: master process /usr/sbin/nginx -c F ...",
 * nginx's argv) names -c F with F the same file (relative to its -p, else its working
 * directory), or names no -c and conf is nginx's default. A pid file shared with another
 * nginx (a config from elsewhere, a test fixture) then gives no load time, so nothing is
 * compared with the wrong nginx and nothing it names is probed.
 */
static bool
master_runs(int master, const char *conf)
{
    char path[64], title[4096], cwd[PATH_MAX], rc[PATH_MAX], rf[PATH_MAX];
    const char *c = NULL, *p = NULL;
    FILE *fp;
    size_t n;
    ssize_t len;

    if (conf == NULL || realpath(conf, rc) == NULL)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", master);
    if ((fp = fopen(path, "re")) == NULL)
        return false;
    n = fread(title, 1, sizeof(title) - 1, fp);
    fclose(fp);
    title[n] = '\0';
    /* the title is one string with blanks (nginx rewrites argv), or NUL-separated argv */
    for (size_t i = 0; i < n; i++)
        if (title[i] == '\0')
            title[i] = ' ';
    for (char *w = strtok(title, " "); w != NULL; w = strtok(NULL, " ")) {
        if (strcmp(w, "-c") == 0)
            c = strtok(NULL, " ");
        else if (strcmp(w, "-p") == 0)
            p = strtok(NULL, " ");
        if (c != NULL)
            break;
    }
    if (c == NULL)
        return realpath("/etc/nginx/nginx.conf", rf) != NULL && strcmp(rf, rc) == 0;
    snprintf(path, sizeof(path), "/proc/%d/cwd", master);
    if (c[0] != '/') {
        if (p != NULL)
            snprintf(cwd, sizeof(cwd), "%s", p);
        else if ((len = readlink(path, cwd, sizeof(cwd) - 1)) > 0)
            cwd[len] = '\0';
        else
            return false;
        char *full = xasprintf("%s/%s", cwd, c);
        bool same = realpath(full, rf) != NULL && strcmp(rf, rc) == 0;
        free(full);
        return same;
    }
    return realpath(c, rf) != NULL && strcmp(rf, rc) == 0;
}

/* 1: found; 0: nginx (running conf) is not running; -1: /proc cannot tell. */
static int
load_from_proc(const struct ngxctl *c, const char *conf, struct stale_load *out)
{
    int master = ngxctl_master_pid(c), kids[256];
    double bt = boot_time(), newest = -1;
    size_t n;

    if (master <= 0)
        return 0;
    if (bt < 0)
        return -1;
    if (!master_runs(master, conf))
        return 0;
    n = ngxctl_children(master, kids, 256);
    for (size_t i = 0; i < n; i++) {
        double t = proc_start(kids[i], bt);
        if (t > newest)
            newest = t;
    }
    out->master = master;
    if (newest < 0) { /* no worker seen: the master's own start */
        if ((newest = proc_start(master, bt)) < 0)
            return -1;
        out->how = xasprintf("the nginx master %d started (/proc/%d/stat)", master, master);
    } else {
        out->how = xasprintf("the workers of nginx master %d started (/proc/PID/stat)", master);
    }
    out->known = true;
    out->when = newest;
    return 1;
}

/* "2026/12/04 21:02:45" at p → epoch seconds (local time), or -1. */
static double
log_time(const char *p)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(p, "%4d/%2d/%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    return t == (time_t)-1 ? -1 : (double)t;
}

bool
staleness_load_log(const char *path, struct stale_load *out)
{
    static const char *const notices[] = {": reconfiguring", ": start worker processes",
                                          ": signal process started"};
    struct buf b = BUF_INIT;
    int fd;
    struct stat st;
    bool found = false;

    if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
        return false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t off = st.st_size > LOG_TAIL_BYTES ? st.st_size - LOG_TAIL_BYTES : 0;
        char chunk[8192];
        ssize_t r;
        if (lseek(fd, off, SEEK_SET) != -1)
            while ((r = read(fd, chunk, sizeof(chunk))) > 0)
                buf_add(&b, chunk, (size_t)r);
    }
    close(fd);
    const char *text = buf_str(&b), *p = text;
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        for (size_t k = 0; k < 3; k++) {
            size_t nl = strlen(notices[k]);
            if (len >= nl && memcmp(p + len - nl, notices[k], nl) == 0 &&
                memmem(p, len, " [notice] ", 10) != NULL) {
                double t = log_time(p);
                if (t >= 0) {
                    found = true;
                    out->when = t;
                    free(out->how);
                    out->how =
                        xasprintf("the error log's \"%s\" notice (%s)", notices[k] + 2, path);
                }
                break;
            }
        }
        p += len + (eol != NULL);
    }
    buf_free(&b);
    out->known = found;
    return found;
}

/* "--opt=VALUE" of nginx -V's text (allocated), or NULL. */
static char *
v_option(const char *text, const char *opt)
{
    const char *p = strstr(text, opt);

    return p != NULL ? xstrndup(p + strlen(opt), strcspn(p + strlen(opt), " \t\n")) : NULL;
}

/* The first argument of a main-context directive of conf, or NULL. */
static const char *
main_directive(const struct ngxconf *conf, const char *name)
{
    const struct ngx_node *d = conf != NULL ? ngxconf_find(conf->root, name) : NULL;

    return d != NULL && d->nargs > 0 ? d->args[0] : NULL;
}

static char *
under_prefix(const char *path, const char *prefix)
{
    if (path == NULL)
        return NULL;
    if (path[0] == '/' || prefix == NULL)
        return xstrdup(path);
    size_t pl = strlen(prefix);
    return xasprintf("%s%s%s", prefix, pl > 0 && prefix[pl - 1] == '/' ? "" : "/", path);
}

void
staleness_load(const char *nginx, const struct ngxconf *parsed, const char *conf,
               const char *prefix, struct stale_load *out)
{
    char *argv[3] = {(char *)(nginx != NULL ? nginx : "nginx"), (char *)"-V", NULL};
    struct buf v = BUF_INIT;
    struct spawn_result sr;
    struct ngxctl c;
    char *cause = NULL, *vprefix = NULL, *vpid = NULL, *vlog = NULL;
    const char *pid, *log;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    /* The pid file and error log as the config names them, else nginx's compiled-in
     * defaults (nginx -V). Never nginx -T: loading the config may ask a terminal for a
     * key's passphrase. */
    if (spawn_run(argv, &v, 10000, &sr, &cause) == 0) {
        vprefix = v_option(buf_str(&v), "--prefix=");
        vpid = v_option(buf_str(&v), "--pid-path=");
        vlog = v_option(buf_str(&v), "--error-log-path=");
    }
    pid = main_directive(parsed, "pid");
    log = main_directive(parsed, "error_log");
    c.pid_file = under_prefix(pid != NULL ? pid : vpid, prefix != NULL ? prefix : vprefix);
    c.error_log = under_prefix(log != NULL ? log : vlog, prefix != NULL ? prefix : vprefix);
    /* The log's notices only when a master runs but /proc cannot say when it loaded: with
     * no master, nginx runs nothing and the log's last load is history. */
    if (load_from_proc(&c, conf, out) == -1)
        (void)staleness_load_log(c.error_log, out);
    free(cause);
    free(vprefix);
    free(vpid);
    free(vlog);
    buf_free(&v);
    ngxctl_free(&c);
}

void
stale_load_free(struct stale_load *l)
{
    free(l->how);
    memset(l, 0, sizeof(*l));
}

/* ---- the files ---- */

static double
ts(const struct timespec *t)
{
    return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

/* The newest change time of path (its mtime and ctime, and a symlink's own), or -1. */
static double
changed_at(const char *path)
{
    struct stat st, lst;
    double t;

    if (stat(path, &st) == -1)
        return -1;
    t = ts(&st.st_mtim);
    if (ts(&st.st_ctim) > t)
        t = ts(&st.st_ctim);
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && ts(&lst.st_ctim) > t)
        t = ts(&lst.st_ctim);
    return t;
}

static void
consider(struct stale_file **v, size_t *n, const char *path, const char *what,
         const struct stale_load *l)
{
    double t;

    if (path == NULL || path[0] == '\0' || strchr(path, '$') != NULL ||
        strncmp(path, "data:", 5) == 0 || strncmp(path, "engine:", 7) == 0)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].path, path) == 0)
            return;
    if ((t = changed_at(path)) < 0 || t < l->when + 1.0)
        return;
    *v = xreallocarray(*v, *n + 1, sizeof(**v));
    (*v)[*n].path = xstrdup(path);
    (*v)[*n].what = what;
    (*v)[*n].changed = t;
    (*n)++;
}

void
staleness_files_of(const struct ngxconf *conf, const struct proxy_ssl_settings *s,
                   const char *const *cf, size_t ncf, const struct stale_load *l,
                   struct stale_file **out, size_t *n)
{
    static const enum pss keys[] = {PSS_TRUSTED_CERTIFICATE, PSS_CERTIFICATE, PSS_CERTIFICATE_KEY,
                                    PSS_CRL, PSS_PASSWORD_FILE};

    *out = NULL;
    *n = 0;
    if (!l->known)
        return;
    for (size_t k = 0; s != NULL && k < sizeof(keys) / sizeof(keys[0]); k++) {
        const struct pss_value *v = &s->v[keys[k]];
        if (v->origin == PSS_DEFAULT || v->value == NULL)
            continue;
        char *full = ngxconf_full_path(conf, v->value);
        consider(out, n, full, pss_defs[keys[k]].directive, l);
        free(full);
    }
    for (size_t i = 0; i < (cf != NULL ? ncf : conf->nfiles); i++) {
        const char *p = cf != NULL ? cf[i] : conf->files[i]->path;
        if (p == NULL)
            continue;
        char *full = ngxconf_full_path(conf, p);
        consider(out, n, full, "config", l);
        free(full);
    }
}

void
staleness_files(const struct ngxconf *conf, const struct proxy_ssl_settings *s,
                const struct stale_load *l, struct stale_file **out, size_t *n)
{
    staleness_files_of(conf, s, NULL, 0, l, out, n);
}

void
stale_files_free(struct stale_file *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
}

/* ---- words ---- */

void
staleness_time_text(double t, char out[32])
{
    time_t s = (time_t)t, now = time(NULL);
    struct tm tm, tn;

    if (localtime_r(&s, &tm) == NULL || localtime_r(&now, &tn) == NULL) {
        snprintf(out, 32, "%lld", (long long)s);
        return;
    }
    if (tm.tm_year == tn.tm_year && tm.tm_yday == tn.tm_yday)
        strftime(out, 32, "%H:%M:%S", &tm);
    else
        strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

char *
staleness_sentence(const struct stale_load *l, const struct stale_file *v, size_t n)
{
    struct buf b = BUF_INIT;
    char t[32];

    staleness_time_text(l->when, t);
    buf_addf(&b, "nginx is running on files it loaded at %s (%s); ", t, l->how);
    for (size_t i = 0; i < n; i++) {
        staleness_time_text(v[i].changed, t);
        buf_addf(&b, "%s%s (%s) changed at %s", i > 0 ? ", " : "", v[i].path, v[i].what, t);
    }
    buf_addf(&b, " — a reload loads %s", n == 1 ? "it" : "them");
    return buf_detach(&b);
}
