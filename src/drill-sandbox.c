/*
 * drill-sandbox.c — a drill's sandbox on loopback, no root needed: the directory D (state
 * file, certificates, D/tlstriage.yaml), an upstream nginx serving the scenario's
 * certificates and a front nginx with its broken config, both `nginx -p` on 127.0.0.1
 * ports; the success check (real requests, and verification on per the config model),
 * the reference solution, and the tear-down (every process it started, then D). Called
 * by cli-drill.c; prints nothing.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "app.h"
#include "atomicfile.h"
#include "buf.h"
#include "drill.h"
#include "ngxconf.h"
#include "procenv.h"
#include "resolve.h"
#include "spawn.h"
#include "sslconf.h"
#include "xmalloc.h"
#include "yamlio.h"
#include "yamlschema.h"

#define STATE_FILE "drill.state"

void
drill_sandbox_free(struct drill_sandbox *sb)
{
    free(sb->dir);
    free(sb->nginx);
    free(sb->scenario);
    free(sb->name);
    free(sb->ports);
    free(sb->token);
    memset(sb, 0, sizeof(*sb));
}

char *
drill_sandbox_front_conf(const struct drill_sandbox *sb)
{
    return xasprintf("%s/front/nginx.conf", sb->dir);
}

char *
drill_sandbox_expand(const struct drill_sandbox *sb, const struct drill_scenario *sc, const char *t)
{
    struct buf b = BUF_INIT;

    while (*t != '\0') {
        const char *e;
        if (t[0] != '$' || t[1] != '{' || (e = strchr(t, '}')) == NULL) {
            buf_addc(&b, *t++);
            continue;
        }
        char *var = xstrndup(t + 2, (size_t)(e - t - 2));
        bool done = true;
        if (strcmp(var, "dir") == 0)
            buf_adds(&b, sb->dir);
        else if (strcmp(var, "certs") == 0)
            buf_addf(&b, "%s/certs", sb->dir);
        else if (strcmp(var, "front_port") == 0)
            buf_addf(&b, "%u", sb->front_port);
        else if (strncmp(var, "port.", 5) == 0) {
            done = false;
            for (size_t i = 0; i < sc->nupstreams && i < sb->nports; i++) {
                if (strcmp(sc->upstreams[i].name, var + 5) == 0) {
                    buf_addf(&b, "%u", sb->ports[i]);
                    done = true;
                }
            }
        } else
            done = false;
        if (!done)
            buf_add(&b, t, (size_t)(e - t + 1)); /* left as written: nginx will say */
        free(var);
        t = e + 1;
    }
    return buf_detach(&b);
}

/* ---- files ---- */

static int
write_file(const char *path, const char *text, mode_t mode, char **cause)
{
    return atomicfile_write(path, text, strlen(text), mode, cause);
}

static void
boilerplate(struct buf *b, const struct drill_sandbox *sb, const char *role)
{
    buf_addf(b,
             "worker_processes 1;\n"
             "daemon on;\n"
             "pid %s/%s/nginx.pid;\n"
             "error_log %s/%s/logs/error.log notice;\n"
             "events { worker_connections 256; }\n"
             "http {\n"
             "    access_log %s/%s/logs/access.log;\n"
             "    client_body_temp_path %s/tmp/%s/body;\n"
             "    proxy_temp_path %s/tmp/%s/proxy;\n"
             "    fastcgi_temp_path %s/tmp/%s/fastcgi;\n"
             "    uwsgi_temp_path %s/tmp/%s/uwsgi;\n"
             "    scgi_temp_path %s/tmp/%s/scgi;\n",
             sb->dir, role, sb->dir, role, sb->dir, role, sb->dir, role, sb->dir, role, sb->dir,
             role, sb->dir, role, sb->dir, role);
}

static const struct drill_upstream *
effective_upstream(const struct drill_scenario *sc, size_t i, bool solved)
{
    for (size_t k = 0; solved && k < sc->nsolution_upstreams; k++) {
        if (strcmp(sc->solution_upstreams[k].name, sc->upstreams[i].name) == 0)
            return &sc->solution_upstreams[k];
    }
    return &sc->upstreams[i];
}

static int
append_file(struct buf *b, const char *path, char **cause)
{
    struct buf one = BUF_INIT;
    bool exists;
    int rc = atomicfile_read(path, &one, &exists, cause);

    if (rc == 0)
        buf_add(b, one.p, one.len);
    buf_free(&one);
    return rc;
}

static void
upstream_server(struct buf *b, const struct drill_sandbox *sb, const struct drill_upstream *u,
                unsigned port, const char *server_name, const char *cert, bool first)
{
    buf_addf(b, "    server {\n        listen 127.0.0.1:%u%s%s;\n", port, u->plain ? "" : " ssl",
             first ? " default_server" : "");
    if (server_name != NULL)
        buf_addf(b, "        server_name %s;\n", server_name);
    if (!u->plain) {
        buf_addf(b, "        ssl_certificate %s/upstream/%s-%s.crt;\n", sb->dir, u->name, cert);
        buf_addf(b, "        ssl_certificate_key %s/certs/%s.key;\n", sb->dir, cert);
        if (u->client_ca != NULL)
            buf_addf(b,
                     "        ssl_verify_client optional;\n"
                     "        ssl_verify_depth 3;\n"
                     "        ssl_client_certificate %s/certs/%s.pem;\n",
                     sb->dir, u->client_ca);
    }
    buf_adds(b, "        location / {\n");
    if (u->client_ca != NULL) /* no valid client certificate: close, as strict peers do */
        buf_adds(b, "            if ($ssl_client_verify != SUCCESS) { return 444; }\n");
    buf_addf(b, "            return 200 \"upstream %s ok %s\\n\";\n        }\n    }\n", u->name,
             sb->token);
}

/* The upstream nginx's config and its certificate files (leaf + chain per server). */
static int
write_upstream(const struct drill_sandbox *sb, const struct drill_scenario *sc, bool solved,
               char **cause)
{
    struct buf b = BUF_INIT;
    char *p;
    int rc = -1;

    boilerplate(&b, sb, "upstream");
    for (size_t i = 0; i < sc->nupstreams; i++) {
        const struct drill_upstream *u = effective_upstream(sc, i, solved);
        for (size_t s = 0; s <= u->nsni && !u->plain; s++) {
            const char *cert = s == 0 ? u->certificate : u->sni[s - 1].certificate;
            struct buf c = BUF_INIT;
            p = xasprintf("%s/certs/%s.pem", sb->dir, cert);
            rc = append_file(&c, p, cause);
            free(p);
            for (size_t k = 0; rc == 0 && s == 0 && u->chain[k] != NULL; k++) {
                p = xasprintf("%s/certs/%s.pem", sb->dir, u->chain[k]);
                rc = append_file(&c, p, cause);
                free(p);
            }
            p = xasprintf("%s/upstream/%s-%s.crt", sb->dir, u->name, cert);
            if (rc == 0)
                rc = atomicfile_write(p, c.p, c.len, 0644, cause);
            free(p);
            buf_free(&c);
            if (rc != 0)
                goto out;
            rc = -1;
        }
        upstream_server(&b, sb, u, sb->ports[i], NULL, u->certificate, true);
        for (size_t s = 0; s < u->nsni; s++)
            upstream_server(&b, sb, u, sb->ports[i], u->sni[s].name, u->sni[s].certificate, false);
    }
    buf_adds(&b, "}\n");
    p = xasprintf("%s/upstream/nginx.conf", sb->dir);
    rc = write_file(p, buf_str(&b), 0644, cause);
    free(p);
out:
    buf_free(&b);
    return rc;
}

static int
write_front(const struct drill_sandbox *sb, const struct drill_scenario *sc, const char *tmpl,
            char **cause)
{
    struct buf b = BUF_INIT;
    char *body = drill_sandbox_expand(sb, sc, tmpl), *p = drill_sandbox_front_conf(sb);
    int rc;

    buf_addf(&b,
             "# tlstriage drill %s: the front nginx, the one to fix.\n"
             "# Reload: %s -p %s/front/ -c %s -s reload\n",
             sc->name, sb->nginx, sb->dir, p);
    boilerplate(&b, sb, "front");
    buf_adds(&b, body);
    if (b.len > 0 && b.p[b.len - 1] != '\n')
        buf_addc(&b, '\n');
    buf_adds(&b, "}\n");
    rc = write_file(p, buf_str(&b), 0644, cause);
    free(body);
    free(p);
    buf_free(&b);
    return rc;
}

int
drill_sandbox_save(const struct drill_sandbox *sb, char **cause)
{
    struct buf b = BUF_INIT;
    struct yamlio_emitter em;
    char *p;
    int rc = -1;

    if (yamlio_emit_begin(&em, &b) != 0) {
        *cause = xstrdup("cannot start a YAML document");
        goto out;
    }
    yamlio_open(&em, true);
    yamlio_kv(&em, "name", sb->name);
    yamlio_kv(&em, "scenario", sb->scenario);
    yamlio_kv(&em, "nginx", sb->nginx);
    yamlio_kulong(&em, "front_port", sb->front_port, false);
    yamlio_str(&em, "ports", YAML_PLAIN_SCALAR_STYLE);
    yamlio_open(&em, false);
    for (size_t i = 0; i < sb->nports; i++) {
        char n[16];
        snprintf(n, sizeof(n), "%u", sb->ports[i]);
        yamlio_str(&em, n, YAML_PLAIN_SCALAR_STYLE);
    }
    yamlio_close(&em, false);
    yamlio_kv(&em, "token", sb->token);
    yamlio_kulong(&em, "started", (unsigned long)sb->started, false);
    yamlio_kulong(&em, "hints_used", (unsigned long)sb->hints_used, false);
    yamlio_kulong(&em, "passed", (unsigned long)sb->passed, false);
    yamlio_kulong(&em, "verify_on_at_start", sb->verify_on_at_start ? 1 : 0, false);
    yamlio_kulong(&em, "unsafe", (unsigned long)sb->unsafe, false);
    yamlio_close(&em, true);
    if (yamlio_emit_end(&em) != 0) {
        *cause = xstrdup("cannot write the drill state");
        goto out;
    }
    p = xasprintf("%s/" STATE_FILE, sb->dir);
    rc = atomicfile_write(p, b.p, b.len, 0644, cause);
    free(p);
out:
    buf_free(&b);
    return rc;
}

int
drill_sandbox_open(const char *dir, struct drill_sandbox *sb, char **cause)
{
    static const struct yschema schema[] = {
        {"name", YS_STR, true},    {"scenario", YS_STR, true},
        {"nginx", YS_STR, true},   {"front_port", YS_INT, true},
        {"ports", YS_SEQ, true},   {"token", YS_STR, true},
        {"started", YS_INT, true}, {"hints_used", YS_INT, true},
        {"passed", YS_INT, true},  {"verify_on_at_start", YS_INT, false},
        {"unsafe", YS_INT, false}, {NULL, 0, false},
    };
    struct yamlio_doc doc;
    struct buf b = BUF_INIT;
    char rp[4096], *p;
    bool exists;
    long v = 0;
    int rc = -1;

    memset(sb, 0, sizeof(*sb));
    memset(&doc, 0, sizeof(doc));
    if (realpath(dir, rp) == NULL) {
        *cause = xasprintf("%s: %s", dir, strerror(errno));
        return -1;
    }
    p = xasprintf("%s/" STATE_FILE, rp);
    if (atomicfile_read(p, &b, &exists, cause) != 0)
        goto out;
    if (!exists) {
        *cause = xasprintf("%s: not a drill sandbox (no %s)", rp, STATE_FILE);
        goto out;
    }
    if (yamlio_load(&doc, p, buf_str(&b), b.len, cause) != 0 ||
        yschema_check(&doc, doc.root, schema, "drill state", cause) != 0)
        goto out;
    sb->dir = xstrdup(rp);
    sb->name = yamlio_dup(&doc, doc.root, "name");
    sb->scenario = yamlio_dup(&doc, doc.root, "scenario");
    sb->nginx = yamlio_dup(&doc, doc.root, "nginx");
    sb->token = yamlio_dup(&doc, doc.root, "token");
    if (yschema_int(&doc, doc.root, "front_port", 1, 65535, &v, cause) != 0)
        goto out;
    sb->front_port = (unsigned)v;
    const yaml_node_t *ports = yamlio_get(&doc, doc.root, "ports");
    sb->nports = yamlio_seq_len(ports);
    sb->ports = xcalloc(sb->nports + 1, sizeof(*sb->ports));
    for (size_t i = 0; i < sb->nports; i++) {
        char *t = yschema_text(yamlio_seq_at(&doc, ports, i));
        sb->ports[i] = t != NULL ? (unsigned)strtoul(t, NULL, 10) : 0;
        free(t);
    }
    sb->started = (time_t)yamlio_ulong(&doc, doc.root, "started", 10);
    sb->hints_used = (long)yamlio_ulong(&doc, doc.root, "hints_used", 10);
    sb->passed = (time_t)yamlio_ulong(&doc, doc.root, "passed", 10);
    sb->verify_on_at_start = yamlio_ulong(&doc, doc.root, "verify_on_at_start", 10) != 0;
    sb->unsafe = (long)yamlio_ulong(&doc, doc.root, "unsafe", 10);
    rc = 0;
out:
    if (rc != 0)
        drill_sandbox_free(sb);
    yamlio_doc_free(&doc);
    buf_free(&b);
    free(p);
    return rc;
}

static int
write_settings(const struct drill_sandbox *sb, char **cause)
{
    struct buf b = BUF_INIT;
    struct yamlio_emitter em;
    char *conf = drill_sandbox_front_conf(sb), *v, *p;
    int rc = -1;

    buf_addf(&b,
             "# tlstriage drill %s: settings that point every verb at this sandbox:\n"
             "#   tlstriage --config %s/tlstriage.yaml diagnose|fix|probe|check|history\n",
             sb->name, sb->dir);
    if (yamlio_emit_begin(&em, &b) != 0)
        goto out;
    yamlio_open(&em, true);
    yamlio_kv(&em, "nginx", sb->nginx);
    yamlio_kv(&em, "conf", conf);
    v = xasprintf("%s/front/", sb->dir);
    yamlio_kv(&em, "prefix", v);
    free(v);
    yamlio_str(&em, "logs", YAML_PLAIN_SCALAR_STYLE);
    yamlio_open(&em, false);
    v = xasprintf("%s/front/logs/error.log", sb->dir);
    yamlio_str(&em, v, YAML_ANY_SCALAR_STYLE);
    free(v);
    yamlio_close(&em, false);
    v = xasprintf("%s/state", sb->dir);
    yamlio_kv(&em, "state_dir", v);
    free(v);
    v = xasprintf("%s/front/certs", sb->dir);
    yamlio_kv(&em, "cert_dir", v);
    free(v);
    v = xasprintf("%s -p %s/front/ -c %s -s reload", sb->nginx, sb->dir, conf);
    yamlio_kv(&em, "reload_command", v);
    free(v);
    yamlio_kulong(&em, "probe_timeout", 3, false);
    yamlio_kulong(&em, "watch", 2, false);
    yamlio_close(&em, true);
    if (yamlio_emit_end(&em) != 0)
        goto out;
    p = xasprintf("%s/tlstriage.yaml", sb->dir);
    rc = atomicfile_write(p, b.p, b.len, 0644, cause);
    free(p);
out:
    if (rc != 0 && *cause == NULL)
        *cause = xstrdup("cannot write tlstriage.yaml");
    free(conf);
    buf_free(&b);
    return rc;
}

/* ---- processes ---- */

/* The parent of pid (from /proc/PID/stat), or -1. */
static pid_t
parent_of(pid_t pid)
{
    char path[64], buf[512];
    long ppid = -1;
    FILE *fp;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fp = fopen(path, "re")) == NULL)
        return -1;
    if (fgets(buf, sizeof(buf), fp) != NULL) {
        char *p = strrchr(buf, ')');
        if (p == NULL || sscanf(p + 2, "%*c %ld", &ppid) != 1)
            ppid = -1;
    }
    fclose(fp);
    return (pid_t)ppid;
}

/* Whether pid runs and its command line names dir, or it is our own child (ours, not a
 * recycled pid). */
static bool
ours(pid_t pid, const char *dir)
{
    char path[64], buf[8192];
    ssize_t n;
    int fd;

    if (pid <= 0 || kill(pid, 0) != 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\0')
            buf[i] = ' ';
    }
    buf[n] = '\0';
    /* a child of ours that has not exec'd yet still shows our own command line */
    return strstr(buf, dir) != NULL || parent_of(pid) == getpid();
}

static bool
alive(pid_t pid)
{
    char path[64], buf[512];
    FILE *fp;
    bool zombie = false;

    if (kill(pid, 0) != 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fp = fopen(path, "re")) != NULL) {
        if (fgets(buf, sizeof(buf), fp) != NULL) {
            char *e = strrchr(buf, ')');
            zombie = e != NULL && e[1] == ' ' && e[2] == 'Z';
        }
        fclose(fp);
    }
    return !zombie;
}

static pid_t
read_pid(const char *path)
{
    FILE *fp = fopen(path, "re");
    long pid = 0;

    if (fp == NULL)
        return 0;
    if (fscanf(fp, "%ld", &pid) != 1)
        pid = 0;
    fclose(fp);
    return (pid_t)pid;
}

/* The children of pid (nginx workers). */
static size_t
children(pid_t pid, pid_t *out, size_t max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    size_t n = 0;

    while (d != NULL && (e = readdir(d)) != NULL && n < max) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        pid_t k = (pid_t)strtol(e->d_name, NULL, 10);
        if (parent_of(k) == pid)
            out[n++] = k;
    }
    if (d != NULL)
        closedir(d);
    return n;
}

/* Stops the process in pid file rel (and its children) if it is ours; waits for them. */
static void
stop_pidfile(const char *dir, const char *rel)
{
    char *p = xasprintf("%s/%s", dir, rel);
    pid_t pid = read_pid(p), kids[64];
    size_t nk = 0;

    free(p);
    if (!ours(pid, dir))
        return;
    nk = children(pid, kids, 64);
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        bool any = alive(pid);
        for (size_t k = 0; k < nk; k++)
            any = any || alive(kids[k]);
        if (!any)
            return;
        waitpid(pid, NULL, WNOHANG);
        usleep(50000);
    }
    kill(pid, SIGKILL);
    for (size_t k = 0; k < nk; k++)
        kill(kids[k], SIGKILL);
    waitpid(pid, NULL, WNOHANG);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

static int
remove_tree(const char *dir, char **cause)
{
    if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT) {
        *cause = xasprintf("%s: cannot remove: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int
drill_sandbox_down(const struct drill_sandbox *sb, char **cause)
{
    char *p = xasprintf("%s/" STATE_FILE, sb->dir);
    int rc;

    /* the state file goes first: the traffic generator stops when it is gone */
    if (access(p, F_OK) != 0) {
        *cause = xasprintf("%s: not a drill sandbox (no %s)", sb->dir, STATE_FILE);
        free(p);
        return -1;
    }
    stop_pidfile(sb->dir, "run/traffic.pid");
    stop_pidfile(sb->dir, "front/nginx.pid");
    stop_pidfile(sb->dir, "upstream/nginx.pid");
    rc = remove_tree(sb->dir, cause);
    free(p);
    return rc;
}

static int
tail_of(const char *path, char **out)
{
    struct buf b = BUF_INIT;
    bool exists;
    char *c = NULL;

    if (atomicfile_read(path, &b, &exists, &c) != 0 || b.len == 0) {
        free(c);
        buf_free(&b);
        *out = xstrdup("(no output)");
        return 0;
    }
    const char *s = buf_str(&b), *last = s;
    for (const char *q = s; *q != '\0'; q++) {
        if (*q == '\n' && q[1] != '\0')
            last = q + 1;
    }
    *out = xstrndup(last, strcspn(last, "\n"));
    buf_free(&b);
    return 0;
}

/* Runs nginx -p D/role/ -c D/role/nginx.conf [-s sig] and waits for it. */
static int
run_nginx(const struct drill_sandbox *sb, const char *role, const char *sig, char **cause)
{
    char *prefix = xasprintf("%s/%s/", sb->dir, role);
    char *conf = xasprintf("%s/%s/nginx.conf", sb->dir, role);
    char *elog = xasprintf("%s/%s/logs/error.log", sb->dir, role);
    char *out = xasprintf("%s/%s/logs/nginx.out", sb->dir, role);
    char *argv[] = {sb->nginx,   (char *)"-p", prefix, (char *)"-c",
                    conf,        (char *)"-e", elog,   sig != NULL ? (char *)"-s" : NULL,
                    (char *)sig, NULL};
    pid_t pid;
    int status = 0, rc = -1;

    if ((pid = fork()) < 0) {
        *cause = xasprintf("fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY), fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || fd < 0)
            _exit(127);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        setsid();
        procenv_child_defaults();
        execv(sb->nginx, argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *t;
        tail_of(out, &t);
        *cause = xasprintf("%s nginx %s failed: %s", role, sig != NULL ? sig : "start", t);
        free(t);
        goto out;
    }
    rc = 0;
out:
    free(prefix);
    free(conf);
    free(elog);
    free(out);
    return rc;
}

static int
start_nginx(const struct drill_sandbox *sb, const char *role, char **cause)
{
    char *pidf = xasprintf("%s/%s/nginx.pid", sb->dir, role);
    int rc = run_nginx(sb, role, NULL, cause);

    for (int i = 0; rc == 0 && i < 100; i++) {
        pid_t pid = read_pid(pidf);
        if (pid > 0 && alive(pid))
            break;
        if (i == 99) {
            *cause = xasprintf("%s nginx did not write %s", role, pidf);
            rc = -1;
        }
        usleep(50000);
    }
    free(pidf);
    return rc;
}

/* ---- ports ---- */

static int
bind_port(unsigned port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int
pick_ports(struct drill_sandbox *sb, size_t n, unsigned base, char **cause)
{
    int *fds = xcalloc(n + 1, sizeof(*fds));
    unsigned *ports = xcalloc(n + 1, sizeof(*ports));
    int rc = -1;

    for (size_t i = 0; i <= n; i++) {
        struct sockaddr_in a;
        socklen_t len = sizeof(a);
        fds[i] = bind_port(base != 0 ? base + (unsigned)i : 0);
        if (fds[i] < 0) {
            *cause = xasprintf("127.0.0.1:%u: %s", base != 0 ? base + (unsigned)i : 0,
                               base != 0 ? "in use (pick another --port-base)" : strerror(errno));
            goto out;
        }
        getsockname(fds[i], (struct sockaddr *)&a, &len);
        ports[i] = ntohs(a.sin_port);
    }
    sb->front_port = ports[0];
    sb->nports = n;
    sb->ports = xcalloc(n + 1, sizeof(*sb->ports));
    memcpy(sb->ports, ports + 1, n * sizeof(*ports));
    rc = 0;
out:
    for (size_t i = 0; i <= n; i++) {
        if (fds[i] > 0)
            close(fds[i]);
    }
    free(fds);
    free(ports);
    return rc;
}

/* ---- up ---- */

/* Whether every TLS upstream use of the front config verifies (the scenario's start): a
 * check that later finds one off counts as an unsafe action. */
static bool
verify_all_on(const struct drill_sandbox *sb)
{
    struct ngxconf *conf = NULL;
    struct tls_use *uses = NULL;
    char *path = drill_sandbox_front_conf(sb), *prefix = xasprintf("%s/front/", sb->dir);
    char *cause = NULL;
    size_t n = 0;
    bool on = true;

    if (ngxconf_load(path, prefix, &conf, &cause) == 0) {
        n = resolve_uses(conf, &uses);
        for (size_t i = 0; i < n; i++) {
            const char *val = uses[i].ssl.v[PSS_VERIFY].value;
            on = on && val != NULL && strcmp(val, "on") == 0;
        }
        if (uses != NULL)
            resolve_uses_free(uses, n);
    }
    ngxconf_free(conf);
    free(cause);
    free(path);
    free(prefix);
    return on;
}

int
drill_sandbox_up(const struct app *app, const struct drill_scenario *sc, unsigned port_base,
                 volatile int *stop, struct drill_sandbox *sb, char **cause)
{
    static const char *const subdirs[] = {
        "certs",    "run",           "state", "front",     "front/logs",   "front/certs",
        "upstream", "upstream/logs", "tmp",   "tmp/front", "tmp/upstream", NULL,
    };
    const char *tmp = getenv("TMPDIR");
    unsigned char rnd[8];
    char *tmpl, *p, rp[4096];
    bool made = false;
    int rc = -1;

    memset(sb, 0, sizeof(*sb));
    sb->nginx = xstrdup(app->nginx);
    sb->scenario = xstrdup(realpath(sc->file, rp) != NULL ? rp : sc->file);
    sb->name = xstrdup(sc->name);
    sb->started = time(NULL);
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        memset(rnd, 7, sizeof(rnd));
    sb->token = xasprintf("%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
                          rnd[4], rnd[5], rnd[6], rnd[7]);
    tmpl = xasprintf("%s/tlstriage-drill-%s-XXXXXX", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp",
                     sc->name);
    if (mkdtemp(tmpl) == NULL) {
        *cause = xasprintf("%s: %s", tmpl, strerror(errno));
        free(tmpl);
        goto out;
    }
    made = true;
    sb->dir = tmpl;
    chmod(sb->dir, 0755); /* nginx workers run as nobody when started by root */
    for (size_t i = 0; subdirs[i] != NULL; i++) {
        p = xasprintf("%s/%s", sb->dir, subdirs[i]);
        if (mkdir(p, 0755) != 0) {
            *cause = xasprintf("%s: %s", p, strerror(errno));
            free(p);
            goto out;
        }
        free(p);
    }
    if (pick_ports(sb, sc->nupstreams, port_base, cause) != 0)
        goto out;
    if (drill_sandbox_save(sb, cause) != 0 || write_settings(sb, cause) != 0)
        goto out;
    p = xasprintf("%s/certs", sb->dir);
    rc = drill_pki_make(sc, p, cause);
    free(p);
    if (rc != 0 || (stop != NULL && *stop))
        goto fail;
    if (write_upstream(sb, sc, false, cause) != 0 || write_front(sb, sc, sc->front, cause) != 0)
        goto fail;
    if (stop != NULL && *stop)
        goto fail;
    if (start_nginx(sb, "upstream", cause) != 0 || (stop != NULL && *stop))
        goto fail;
    if (start_nginx(sb, "front", cause) != 0 || (stop != NULL && *stop))
        goto fail;
    sb->verify_on_at_start = verify_all_on(sb);
    if (drill_sandbox_save(sb, cause) != 0)
        goto fail;
    if (drill_traffic_spawn(sb, cause) != 0 || (stop != NULL && *stop))
        goto fail;
    rc = 0;
    goto out;
fail:
    rc = -1;
    if (*cause == NULL)
        *cause = xstrdup("interrupted: the sandbox was removed");
out:
    if (rc != 0 && made) {
        char *c2 = NULL;
        drill_sandbox_down(sb, &c2);
        free(c2);
        drill_sandbox_free(sb);
    } else if (rc != 0) {
        drill_sandbox_free(sb);
    }
    return rc;
}

/* ---- check ---- */

int
drill_http_get(unsigned port, const char *host, const char *uri, int timeout_ms, char **body)
{
    struct sockaddr_in a;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    struct buf b = BUF_INIT;
    char *req, chunk[4096];
    int fd, status = 0;
    ssize_t n;

    *body = NULL;
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return 0;
    }
    req = xasprintf("GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: tlstriage-drill\r\n"
                    "Connection: close\r\n\r\n",
                    uri, host != NULL ? host : "localhost");
    if (write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
        while ((n = read(fd, chunk, sizeof(chunk))) > 0 && b.len < 65536)
            buf_add(&b, chunk, (size_t)n);
    }
    free(req);
    close(fd);
    if (b.len > 12 && strncmp(buf_str(&b), "HTTP/1.", 7) == 0) {
        status = atoi(buf_str(&b) + 9);
        const char *e = strstr(buf_str(&b), "\r\n\r\n");
        *body = xstrdup(e != NULL ? e + 4 : "");
    }
    buf_free(&b);
    return status;
}

void
drill_verdict_free(struct drill_verdict *v)
{
    yschema_strv_free(v->problems);
    memset(v, 0, sizeof(*v));
}

/* When the front nginx last (re)loaded its config: the time of the last "start worker
 * processes" in its error log (level notice), or 0. */
static time_t
last_load(const struct drill_sandbox *sb)
{
    char *p = xasprintf("%s/front/logs/error.log", sb->dir), *c = NULL;
    struct buf b = BUF_INIT;
    bool exists;
    time_t t = 0;

    if (atomicfile_read(p, &b, &exists, &c) == 0 && b.len > 0) {
        const char *s = buf_str(&b), *hit = NULL, *q = s;
        while ((q = strstr(q, "start worker processes")) != NULL)
            hit = q++;
        if (hit != NULL) {
            while (hit > s && hit[-1] != '\n')
                hit--;
            struct tm tm;
            memset(&tm, 0, sizeof(tm));
            if (strptime(hit, "%Y/%m/%d %H:%M:%S", &tm) != NULL) {
                tm.tm_isdst = -1;
                t = mktime(&tm);
            }
        }
    }
    free(c);
    free(p);
    buf_free(&b);
    return t;
}

static void
problem(struct drill_verdict *v, char *msg)
{
    v->problems = xreallocarray(v->problems, v->nproblems + 2, sizeof(*v->problems));
    v->problems[v->nproblems++] = msg;
    v->problems[v->nproblems] = NULL;
}

int
drill_sandbox_check(const struct drill_sandbox *sb, const struct drill_scenario *sc,
                    struct drill_verdict *v, char **cause)
{
    struct ngxconf *conf = NULL;
    struct tls_use *uses = NULL;
    char *path = drill_sandbox_front_conf(sb), *prefix = xasprintf("%s/front/", sb->dir);
    size_t n = 0;
    int rc = -1;

    memset(v, 0, sizeof(*v));
    v->problems = xcalloc(1, sizeof(*v->problems));
    if (ngxconf_load(path, prefix, &conf, cause) != 0)
        goto out;
    /* the file must be what nginx runs: an edit without a reload proves nothing */
    time_t loaded = last_load(sb);
    for (size_t i = 0; i < conf->nfiles && loaded != 0; i++) {
        struct stat st;
        if (stat(conf->files[i]->path, &st) == 0 && st.st_mtime > loaded) {
            problem(v, xasprintf("%s changed after the front nginx last loaded its config: "
                                 "reload it (nginx -s reload) before checking",
                                 conf->files[i]->path));
            break;
        }
    }
    n = resolve_uses(conf, &uses);
    for (size_t i = 0; i < n; i++) {
        const struct pss_value *pv = &uses[i].ssl.v[PSS_VERIFY];
        if (pv->value == NULL || strcmp(pv->value, "on") != 0) {
            v->verify_off = true;
            if (pv->origin == PSS_DEFAULT)
                problem(v, xasprintf("proxy_ssl_verify is off (nginx's default) in %s: the "
                                     "upstream's certificate is not checked",
                                     uses[i].context));
            else
                problem(v, xasprintf("proxy_ssl_verify is %s in %s (%s:%u): the upstream's "
                                     "certificate is not checked",
                                     pv->value != NULL ? pv->value : "off", uses[i].context,
                                     pv->file != NULL ? pv->file : "?", pv->line));
        }
    }
    bool tls_upstream = false;
    for (size_t i = 0; i < sc->nupstreams; i++)
        tls_upstream = tls_upstream || !sc->upstreams[i].plain;
    if (n == 0 && tls_upstream)
        problem(v, xstrdup("the front config proxies to no TLS upstream: the scenario's "
                           "upstreams speak TLS"));
    for (size_t i = 0; i < sc->ntraffic; i++) {
        char *body = NULL, *want = NULL;
        int st =
            drill_http_get(sb->front_port, sc->traffic[i].host, sc->traffic[i].uri, 5000, &body);
        want = xasprintf(" ok %s", sb->token);
        if (st != 200)
            problem(v, st == 0 ? xasprintf("GET %s: no answer from the front on 127.0.0.1:%u",
                                           sc->traffic[i].uri, sb->front_port)
                               : xasprintf("GET %s answered %d, not 200", sc->traffic[i].uri, st));
        else if (body == NULL || strstr(body, want) == NULL)
            problem(v, xasprintf("GET %s answered 200, but not from the scenario's upstream",
                                 sc->traffic[i].uri));
        free(want);
        free(body);
    }
    rc = 0;
out:
    resolve_uses_free(uses, n);
    ngxconf_free(conf);
    free(path);
    free(prefix);
    return rc;
}

/* ---- solve ---- */

int
drill_sandbox_solve(const struct drill_sandbox *sb, const struct drill_scenario *sc, char **cause)
{
    if (sc->nsolution_upstreams > 0) {
        if (write_upstream(sb, sc, true, cause) != 0 ||
            run_nginx(sb, "upstream", "reload", cause) != 0)
            return -1;
    }
    if (sc->solution_front != NULL) {
        if (write_front(sb, sc, sc->solution_front, cause) != 0 ||
            run_nginx(sb, "front", "reload", cause) != 0)
            return -1;
    }
    /* the reload is asynchronous: wait until the requests pass (or 10 s) */
    for (int i = 0; i < 40; i++) {
        struct drill_verdict v;
        char *c = NULL;
        if (drill_sandbox_check(sb, sc, &v, &c) == 0 && v.nproblems == 0) {
            drill_verdict_free(&v);
            break;
        }
        drill_verdict_free(&v);
        free(c);
        usleep(250000);
    }
    return 0;
}
