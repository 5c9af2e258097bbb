/*
 * triage.c — the model the front ends drive: collects the failing upstream uses from the
 * config and the error logs (placed by resolve.c), plans them on request (remedy.c), picks
 * the one a fix applies and builds its txn_change list, finds stale loads with staleness.c
 * (a use failing on files nginx loaded before they changed gets the reload fix; the uses
 * the next reload breaks), plans the probes of a config, gives the advice for unfinished
 * transactions (txn.c) and wires the follower (tail.c) to the parser (logscan.c). Prints
 * nothing: warnings are returned as data. Called by
 * cli-diagnose.c, cli-fix.c, cli-probe.c, cli-rollback.c, cli-scan-follow.c (and the TUI).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "logread.h"
#include "nginxbin.h"
#include "spawn.h"
#include "triage.h"
#include "xmalloc.h"

/* ---- warnings ---- */

static void
warn_add(struct triage_warnings *w, enum triage_warning_kind kind, const char *file, unsigned line,
         const char *subject, const char *message)
{
    struct triage_warning *x;

    w->v = xreallocarray(w->v, w->n + 1, sizeof(*w->v));
    x = &w->v[w->n++];
    x->kind = kind;
    x->file = file != NULL ? xstrdup(file) : NULL;
    x->line = line;
    x->subject = subject != NULL ? xstrdup(subject) : NULL;
    x->message = message != NULL ? xstrdup(message) : NULL;
}

void
triage_warnings_free(struct triage_warnings *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i].file);
        free(w->v[i].subject);
        free(w->v[i].message);
    }
    free(w->v);
    w->v = NULL;
    w->n = 0;
}

static void
warn_config(struct triage_warnings *w, const struct ngxconf *conf)
{
    for (size_t i = 0; i < conf->nerrors; i++)
        warn_add(w, TW_CONFIG, conf->errors[i].file, conf->errors[i].line, NULL,
                 conf->errors[i].message);
}

/* ---- logs ---- */

/* A log the tool reads must be a readable regular file: a directory reads as nothing, a
 * FIFO blocks. Returns 0, or -1 with *cause "PATH: why". */
static int
log_check(const char *path, char **cause)
{
    struct stat sb;

    if (stat(path, &sb) != 0) {
        *cause = xasprintf("%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        *cause = xasprintf("%s: is a directory", path);
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        *cause = xasprintf("%s: not a regular file (%s)", path,
                           S_ISFIFO(sb.st_mode)   ? "a FIFO"
                           : S_ISSOCK(sb.st_mode) ? "a socket"
                                                  : "a device");
        return -1;
    }
    if (access(path, R_OK) != 0) {
        *cause = xasprintf("%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The events of one log into st through the one reader (logread.c: regular files only, the
 * long-line rule). Returns 0, or -1 with errno set. */
static int
scan_log(struct incident_store *st, const char *path)
{
    char *why = NULL;
    int rc = logread_store(st, &path, 1, NULL, NULL, NULL, &why);

    if (rc != 0 && errno == 0)
        errno = EIO;
    free(why);
    return rc;
}

size_t
triage_default_logs(const char *prefix, const struct ngxconf *conf, char ***out)
{
    size_t n = 0;

    *out = NULL;
    for (const struct ngx_node *e = ngxconf_find(conf->root, "error_log"); e != NULL;
         e = ngxconf_find_next(e)) {
        if (e->nargs < 1 || strcmp(e->args[0], "stderr") == 0 ||
            strncmp(e->args[0], "syslog:", 7) == 0 || strncmp(e->args[0], "memory:", 7) == 0)
            continue;
        char *p;
        if (e->args[0][0] == '/')
            p = xstrdup(e->args[0]);
        else if (prefix != NULL)
            p = xasprintf("%s%s%s", prefix, prefix[strlen(prefix) - 1] == '/' ? "" : "/",
                          e->args[0]);
        else
            p = ngxconf_full_path(conf, e->args[0]);
        *out = xreallocarray(*out, n + 1, sizeof(**out));
        (*out)[n++] = p;
    }
    return n;
}

/* ---- uses and how --upstream spells them ---- */

static char *
target_text(const struct resolve_target *t)
{
    return xasprintf("%s:%u", t->host, t->port);
}

static bool
target_is(const struct resolve_target *t, const char *hostport)
{
    char *s = target_text(t);
    bool eq = strcmp(s, hostport) == 0;

    free(s);
    return eq;
}

static size_t
target_index(const struct tls_use *use, const char *upstream)
{
    for (size_t i = 0; upstream != NULL && i < use->ntargets; i++) {
        if (target_is(&use->targets[i], upstream))
            return i;
    }
    return 0;
}

/* The server part of a spelling: the first server_name, else the first listen, else
 * nginx's default listen. */
static void
spell_server(struct buf *b, const struct ngx_node *server)
{
    const struct ngx_node *d;

    if (server == NULL) {
        buf_adds(b, "?");
        return;
    }
    d = ngxconf_find(server, "server_name");
    if (d != NULL && d->nargs > 0 && d->args[0][0] != '\0') {
        buf_adds(b, d->args[0]);
        return;
    }
    d = ngxconf_find(server, "listen");
    buf_adds(b, d != NULL && d->nargs > 0 ? d->args[0] : "*:80");
}

char *
triage_use_spelling(const struct tls_use *use, size_t ti)
{
    struct buf b = BUF_INIT;
    const struct ngx_node *loc = NULL;

    if (ti < use->ntargets)
        buf_addf(&b, "%s:%u", use->targets[ti].host, use->targets[ti].port);
    buf_addc(&b, '@');
    if (use->stream) {
        const struct ngx_node *d = ngxconf_find(use->block, "listen");
        buf_adds(&b, d != NULL && d->nargs > 0 ? d->args[0] : "?");
        return buf_detach(&b);
    }
    spell_server(&b, use->server);
    for (const struct ngx_node *n = use->block; n != NULL && loc == NULL; n = n->parent) {
        if (strcmp(n->name, "location") == 0)
            loc = n;
    }
    if (loc == NULL)
        buf_adds(&b, "/");
    for (size_t i = 0; loc != NULL && i < loc->nargs; i++)
        buf_adds(&b, loc->args[i]);
    return buf_detach(&b);
}

/* ---- collection ---- */

/* "GET /s/x?y HTTP/1.1" → "/s/x?y" (allocated), or NULL. */
static char *
request_uri(const char *req)
{
    const char *sp = req != NULL ? strchr(req, ' ') : NULL;
    if (sp == NULL)
        return NULL;
    sp++;
    return xstrndup(sp, strcspn(sp, " "));
}

static bool
already(const struct triage *t, const struct tls_use *use, size_t ti)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct triage_item *it = &t->items[i];
        const struct tls_use *u = it->have_rr ? &it->rr.use : it->use; /* rr moves on realloc */
        if (u->block == use->block && it->ti == ti)
            return true;
    }
    return false;
}

static struct triage_item *
add_item(struct triage *t)
{
    t->items = xreallocarray(t->items, t->n + 1, sizeof(*t->items));
    memset(&t->items[t->n], 0, sizeof(t->items[0]));
    return &t->items[t->n++];
}

/* The running nginx's defaults (nginx -V) in the settings of u that the config leaves
 * at the default: what the settings printers show and the probes use. */
static void
use_defaults(const struct triage *t, struct tls_use *u)
{
    if (t->ro.default_protocols != NULL && u->ssl.v[PSS_PROTOCOLS].origin == PSS_DEFAULT)
        u->ssl.v[PSS_PROTOCOLS].value = t->ro.default_protocols;
}

static void
ensure_uses(struct triage *t)
{
    if (t->uses == NULL && t->nuses == 0) {
        t->nuses = resolve_uses(t->conf, &t->uses);
        for (size_t i = 0; i < t->nuses; i++)
            use_defaults(t, &t->uses[i]);
    }
}

/* Why use (a variable proxy_pass, or one without targets) cannot be planned for upstream:
 * the uses that name that upstream literally, else the variable's candidates. */
static char *
unresolved_reason(struct triage *t, const struct tls_use *use, const char *upstream)
{
    struct buf b = BUF_INIT;
    size_t nc = 0;

    ensure_uses(t);
    buf_addf(&b, "%s %s: cannot resolve statically; candidates: ",
             use->proxy_pass != NULL ? use->proxy_pass->name : "proxy_pass",
             use->proxy_pass != NULL ? use->proxy_pass->value : "?");
    for (size_t u = 0; upstream != NULL && u < t->nuses; u++) {
        if (t->uses[u].kind == RESOLVE_VARIABLE)
            continue;
        for (size_t k = 0; k < t->uses[u].ntargets; k++) {
            if (!target_is(&t->uses[u].targets[k], upstream))
                continue;
            char *s = triage_use_spelling(&t->uses[u], k);
            buf_addf(&b, "%s%s", nc++ > 0 ? ", " : "", s);
            free(s);
        }
    }
    for (size_t k = 0; nc == 0 && k < use->ntargets; k++) {
        char *s = target_text(&use->targets[k]);
        buf_addf(&b, "%s%s", k > 0 ? ", " : "", s);
        free(s);
    }
    if (nc == 0 && use->ntargets == 0)
        buf_adds(&b, "none in the config");
    return buf_detach(&b);
}

static void
add_ref(struct triage *t, const struct tls_use *use, size_t ti)
{
    char *s = triage_use_spelling(use, ti);

    for (size_t i = 0; i < t->nrefs; i++) {
        if (strcmp(t->refs[i].spelling, s) == 0) {
            free(s);
            return;
        }
    }
    t->refs = xreallocarray(t->refs, t->nrefs + 1, sizeof(*t->refs));
    t->refs[t->nrefs].spelling = s;
    t->refs[t->nrefs].context = xstrdup(use->context);
    t->nrefs++;
}

static void
cert_dir_of(struct triage *t, const char *given)
{
    if (given == NULL) {
        char *slash = strrchr(t->conf_abs, '/');
        t->cert_dir = slash != NULL
                          ? xasprintf("%.*s/certs", (int)(slash - t->conf_abs), t->conf_abs)
                          : xstrdup("certs");
    } else if (given[0] != '/') {
        char cwd[PATH_MAX];
        t->cert_dir = xasprintf("%s/%s", getcwd(cwd, sizeof(cwd)) != NULL ? cwd : ".", given);
    } else
        t->cert_dir = xstrdup(given);
}

/* Places one incident in its block and adds its item (once per use and target). With
 * want ("H:P@server/location"), only the use spelled so. Returns 1 when an item was added, 0
 * when it was there already (*index set) or is not the one wanted (*index untouched), -1
 * when no TLS upstream block matches (*why, may be NULL). */
static int
place_incident(struct triage *t, const struct incident *inc, const char *want, size_t *index,
               char **why)
{
    struct resolve_query q;
    struct resolve_result rr;
    char *uri = NULL;

    memset(&q, 0, sizeof(q));
    q.stream = inc->stream;
    q.upstream = inc->upstream;
    if (inc->stream)
        q.listen = inc->server;
    else {
        q.server = inc->server;
        q.host = inc->host;
        uri = inc->nsamples > 0 ? request_uri(inc->samples[0]) : NULL;
        q.uri = uri;
    }
    int frc = resolve_find(t->conf, &q, &rr, why);
    free(uri);
    if (frc != 0 || !rr.has_use) {
        if (frc == 0) {
            /* a block took the request but proxies to no TLS upstream that fits the line */
            char *ctx = rr.block != NULL ? resolve_context(rr.block) : NULL;
            *why = rr.note != NULL ? xstrdup(rr.note)
                   : ctx != NULL   ? xasprintf("%s does not proxy to a TLS upstream", ctx)
                                   : NULL;
            free(ctx);
            resolve_result_free(&rr);
        }
        return -1;
    }
    use_defaults(t, &rr.use);
    for (size_t i = 0; i < rr.ncandidates; i++)
        use_defaults(t, &rr.candidates[i]);
    bool resolved = rr.use.kind != RESOLVE_VARIABLE && rr.use.ntargets > 0;
    size_t ti = resolved ? target_index(&rr.use, inc->upstream) : 0;
    char *spelling = triage_use_spelling(&rr.use, ti);
    if (!resolved) { /* the H:P part is the logged upstream */
        char *s = xasprintf("%s%s", inc->upstream, strchr(spelling, '@'));
        free(spelling);
        spelling = s;
    }
    if (want != NULL && strcmp(spelling, want) != 0) {
        free(spelling);
        resolve_result_free(&rr);
        return 0;
    }
    for (size_t i = 0; i < t->n; i++) {
        const struct triage_item *x = &t->items[i];
        const struct tls_use *u = x->have_rr ? &x->rr.use : x->use;
        if (u->block == rr.use.block && x->ti == ti && strcmp(x->spelling, spelling) == 0) {
            *index = i;
            free(spelling);
            resolve_result_free(&rr);
            return 0;
        }
    }
    struct triage_item *it = add_item(t);
    it->rr = rr;
    it->have_rr = true;
    it->ti = ti;
    it->resolved = resolved;
    it->upstream = resolved ? target_text(&rr.use.targets[ti]) : xstrdup(inc->upstream);
    it->spelling = spelling;
    it->inc = inc;
    it->kind = xstrdup(logscan_kind_name(inc->kind));
    if (!resolved)
        it->plan_error = unresolved_reason(t, &it->rr.use, inc->upstream);
    /* items point into rr of the array: fix the pointers after the realloc */
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i].have_rr)
            t->items[i].use = &t->items[i].rr.use;
    }
    *index = t->n - 1;
    return 1;
}

/* The config part of a triage: load, warnings, cert dir, nginx's name rule. */
static int
open_conf(const struct triage_opts *o, struct triage *t, char **cause)
{
    char rp[PATH_MAX], *why = NULL;
    struct nginx_version v;

    if (ngxconf_load(o->conf, o->prefix, &t->conf, cause) != 0)
        return -1;
    warn_config(&t->warnings, t->conf);
    t->conf_abs = xstrdup(realpath(o->conf, rp) != NULL ? rp : o->conf);
    t->nginx = o->nginx != NULL ? xstrdup(o->nginx) : NULL;
    t->prefix = o->prefix != NULL ? xstrdup(o->prefix) : NULL;
    t->ro = o->ro;
    cert_dir_of(t, o->ro.cert_dir);
    t->ro.cert_dir = t->cert_dir;
    if (o->nginx != NULL && nginxbin_version(o->nginx, &v, &why) == 0) {
        t->ro.check_ip_san = nginxbin_checks_ip_san(&v);
        t->ro.default_protocols = nginxbin_default_protocols(&v);
    }
    free(why);
    return 0;
}

int
triage_open(const struct triage_opts *o, struct triage *t, char **cause)
{
    memset(t, 0, sizeof(*t));
    incident_store_init(&t->store, 0);
    return open_conf(o, t, cause);
}

int
triage_place_use(struct triage *t, const char *label, const char *host, unsigned port,
                 size_t *index, char **cause)
{
    ensure_uses(t);
    for (size_t u = 0; u < t->nuses; u++) {
        const struct tls_use *use = &t->uses[u];
        char *l = xasprintf("%s (%s:%u)", use->context, use->proxy_pass->file->path,
                            use->proxy_pass->line);
        bool same = strcmp(l, label) == 0;
        free(l);
        if (!same || use->kind == RESOLVE_VARIABLE)
            continue;
        for (size_t k = 0; k < use->ntargets; k++) {
            if (strcmp(use->targets[k].host, host) != 0 || use->targets[k].port != port)
                continue;
            for (size_t i = 0; i < t->n; i++) {
                if (t->items[i].use == use && t->items[i].ti == k) {
                    *index = i;
                    return 0;
                }
            }
            struct triage_item *it = add_item(t);
            it->use = use;
            it->ti = k;
            it->resolved = true;
            it->upstream = target_text(&use->targets[k]);
            it->spelling = triage_use_spelling(use, k);
            for (size_t i = 0; i < t->n; i++) {
                if (t->items[i].have_rr)
                    t->items[i].use = &t->items[i].rr.use;
            }
            *index = t->n - 1;
            return 0;
        }
    }
    *cause = xasprintf("%s:%u: no such use in the config (%s)", host, port, label);
    return -1;
}

int
triage_place(struct triage *t, const struct incident *inc, size_t *index, char **cause)
{
    char *why = NULL;

    if (inc->kind == EV_CONFIG_ERROR || inc->upstream == NULL || inc->upstream[0] == '\0') {
        *cause = xstrdup("the log line names no upstream (a config nginx refused?)");
        return -1;
    }
    if (place_incident(t, inc, NULL, index, &why) < 0) {
        *cause = xasprintf("%s (%s): no TLS upstream block found%s%s", inc->upstream,
                           logscan_kind_name(inc->kind), why != NULL ? ": " : "",
                           why != NULL ? why : "");
        free(why);
        return -1;
    }
    return 0;
}

int
triage_collect(const struct triage_opts *o, struct triage *t, char **cause)
{
    char **logs = NULL, *hostport = NULL, *why = NULL;
    const char *at = NULL;
    size_t nlogs = 0;
    struct incident **sorted = NULL;
    int rc = -1;

    memset(t, 0, sizeof(*t));
    incident_store_init(&t->store, 0);
    if (o->upstream != NULL) {
        at = strchr(o->upstream, '@');
        hostport =
            at != NULL ? xstrndup(o->upstream, (size_t)(at - o->upstream)) : xstrdup(o->upstream);
        if (hostport[0] == '\0' || (at != NULL && at[1] == '\0')) {
            *cause = xasprintf("--upstream '%s' is not HOST:PORT or HOST:PORT@SERVER/LOCATION",
                               o->upstream);
            goto out;
        }
        t->upstream_has_use = at != NULL;
    }
    /* A bad --log stops everything before any other work. */
    for (size_t i = 0; i < o->nlogs; i++) {
        if (log_check(o->logs[i], cause) != 0)
            goto out;
    }
    if (open_conf(o, t, cause) != 0)
        goto out;

    /* the incidents */
    if (o->nlogs > 0) {
        for (size_t i = 0; i < o->nlogs; i++) {
            if (scan_log(&t->store, o->logs[i]) != 0)
                warn_add(&t->warnings, TW_LOG, o->logs[i], 0, NULL, strerror(errno));
        }
    } else {
        nlogs = triage_default_logs(o->prefix, t->conf, &logs);
        for (size_t i = 0; i < nlogs; i++) {
            struct stat sb;
            if (stat(logs[i], &sb) == 0 && !S_ISREG(sb.st_mode))
                warn_add(&t->warnings, TW_LOG, logs[i], 0, NULL, "not a regular file");
            else if (scan_log(&t->store, logs[i]) != 0)
                warn_add(&t->warnings, TW_LOG, logs[i], 0, NULL, strerror(errno));
            free(logs[i]);
        }
        free(logs);
    }
    sorted = incident_store_sorted(&t->store);
    for (size_t i = 0; i < t->store.n; i++) {
        const struct incident *inc = sorted[i];
        size_t idx;

        if (inc->kind == EV_CONFIG_ERROR || inc->upstream == NULL || inc->upstream[0] == '\0')
            continue;
        if (hostport != NULL && strcmp(inc->upstream, hostport) != 0)
            continue;
        if (place_incident(t, inc, at != NULL ? o->upstream : NULL, &idx, &why) < 0) {
            t->unplaced = xreallocarray(t->unplaced, t->nunplaced + 1, sizeof(*t->unplaced));
            t->unplaced[t->nunplaced].inc = inc;
            t->unplaced[t->nunplaced++].reason =
                why != NULL ? why : xstrdup("no TLS upstream block matches its server and request");
            why = NULL;
        }
    }
    /* every use of the upstream in the config (a variable proxy_pass names none) */
    if (hostport != NULL) {
        ensure_uses(t);
        for (size_t u = 0; u < t->nuses; u++) {
            for (size_t k = 0; t->uses[u].kind != RESOLVE_VARIABLE && k < t->uses[u].ntargets;
                 k++) {
                if (target_is(&t->uses[u].targets[k], hostport))
                    add_ref(t, &t->uses[u], k);
            }
        }
    }
    /* --upstream without an incident: every use targeting it */
    if (hostport != NULL && t->n == 0) {
        for (size_t u = 0; u < t->nuses; u++) {
            if (t->uses[u].kind == RESOLVE_VARIABLE)
                continue;
            for (size_t k = 0; k < t->uses[u].ntargets; k++) {
                if (!target_is(&t->uses[u].targets[k], hostport) || already(t, &t->uses[u], k))
                    continue;
                char *spelling = triage_use_spelling(&t->uses[u], k);
                if (at != NULL && strcmp(spelling, o->upstream) != 0) {
                    free(spelling);
                    continue;
                }
                struct triage_item *it = add_item(t);
                it->use = &t->uses[u];
                it->ti = k;
                it->resolved = true;
                it->upstream = target_text(&t->uses[u].targets[k]);
                it->spelling = spelling;
            }
        }
    }
    /* items point into rr of the array: fix the pointers after the last realloc */
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i].have_rr)
            t->items[i].use = &t->items[i].rr.use;
    }
    rc = 0;
out:
    free(sorted);
    free(hostport);
    return rc;
}

bool
triage_ambiguous(const struct triage *t)
{
    return !t->upstream_has_use && t->nrefs > 1;
}

/* nginx's last load, found once per triage. */
static const struct stale_load *
load_of(struct triage *t)
{
    if (!t->load_done) {
        staleness_load(t->nginx, t->conf, t->conf_abs, t->prefix, &t->load);
        t->load_done = true;
    }
    return &t->load;
}

static bool
session_reuse_on(const struct tls_use *use)
{
    const char *v = use->ssl.v[PSS_SESSION_REUSE].value;
    return v == NULL || strcmp(v, "off") != 0;
}

static void risks_of(struct triage *t, const struct stale_load *l, const struct triage_item *skip,
                     struct triage_reload_risks *out);

/* The reload's blast radius: every other use that the files on disk break while nginx
 * serves it now. Each is an affected use (ok -> its verdict); any makes the reload
 * unverified, as an edit that breaks a passing use is. */
static void
reload_radius(struct triage *t, struct triage_item *it, const struct stale_load *l)
{
    struct remedy_fix *f = &it->rc.fixes[it->rc.nfixes - 1];
    struct triage_reload_risks rw;
    struct buf why = BUF_INIT;

    memset(&rw, 0, sizeof(rw));
    risks_of(t, l, it, &rw);
    if (rw.n == 0)
        return;
    f->affected = xcalloc(rw.n, sizeof(*f->affected));
    for (size_t i = 0; i < rw.n; i++) {
        struct remedy_affected *a = &f->affected[f->naffected++];
        a->context = xstrdup(rw.v[i].context);
        a->file = xstrdup(rw.v[i].file);
        a->line = rw.v[i].line;
        a->upstream = xstrdup(rw.v[i].upstream);
        a->changed = xstrdup(rw.v[i].changed);
        a->probed = true;
        a->before = PROBE_OK; /* nginx serves it: no failure logged since its load */
        a->after = rw.v[i].verdict;
        a->after_message = xstrdup(rw.v[i].message);
        buf_addf(&why, "%s%s", i > 0 ? "; " : "", rw.v[i].text);
    }
    f->radius_whole = false;
    f->verified = false;
    f->verdict_note = xasprintf("not verified: %s", buf_str(&why));
    buf_free(&why);
    triage_reload_risks_free(&rw);
}

/*
 * A use that failed in the log and passes the probe under the files on disk: nginx may run
 * on files it loaded before they changed (then the fix is a reload), or resume sessions
 * whose verdict is older than this fresh handshake. Says which, in it->stale_text and
 * it->reuse_note; adds the reload fix when files changed after the load.
 */
static void
stale_check(struct triage *t, struct triage_item *it)
{
    const struct stale_load *l;
    char when[32], last[32];

    if (it->inc == NULL || !it->planned || it->rc.probe.verdict != PROBE_OK ||
        it->rc.verification_disabled)
        return;
    l = load_of(t);
    if (l->known && it->inc->last_seen != (time_t)-1 && (double)it->inc->last_seen >= l->when - 1)
        staleness_files(t->conf, &it->use->ssl, l, &it->stale, &it->nstale);
    if (it->nstale > 0) {
        it->stale_text = staleness_sentence(l, it->stale, it->nstale);
        free(it->rc.cause);
        it->rc.cause = xasprintf("%s; the probe under the files as they are now passes, so "
                                 "the failures come from what nginx loaded before",
                                 it->stale_text);
        remedy_add_reload(&it->rc, it->stale_text, t->cert_dir);
        reload_radius(t, it, l);
    } else if (l->known && it->inc->last_seen != (time_t)-1 &&
               (double)it->inc->last_seen < l->when - 1) {
        staleness_time_text(l->when, when);
        staleness_time_text((double)it->inc->last_seen, last);
        char *c = xasprintf("%s; the last failure (%s) is older than nginx's last load (%s, "
                            "%s): nothing failed since",
                            it->rc.cause, last, when, l->how);
        free(it->rc.cause);
        it->rc.cause = c;
    }
    if (session_reuse_on(it->use)) {
        if (l->known)
            staleness_time_text(l->when, when);
        it->reuse_note = xasprintf(
            "proxy_ssl_session_reuse is on%s: nginx's workers resume TLS sessions with %s, and "
            "a resumed handshake keeps the verdict of the session's full handshake, made "
            "under the files loaded %s%s; this probe always makes a fresh handshake, so the "
            "two can differ until the workers are replaced (a reload)",
            it->use->ssl.v[PSS_SESSION_REUSE].origin == PSS_DEFAULT ? " (nginx's default)" : "",
            it->upstream, l->known ? "at " : "at the last load", l->known ? when : "");
    }
}

void
triage_item_stale(struct triage *t, size_t i)
{
    struct triage_item *it = &t->items[i];

    stale_files_free(it->stale, it->nstale);
    it->stale = NULL;
    it->nstale = 0;
    free(it->stale_text);
    free(it->reuse_note);
    it->stale_text = it->reuse_note = NULL;
    stale_load_free(&t->load); /* a fix may have reloaded nginx since */
    t->load_done = false;
    stale_check(t, it);
}

void
triage_plan_item(struct triage *t, size_t i)
{
    struct triage_item *it = &t->items[i];
    char *cause = NULL;

    if (it->planned || it->plan_error != NULL)
        return;
    if (remedy_plan(t->conf, it->use, it->ti, &t->ro, &it->rc, &cause) != 0) {
        it->plan_error = cause;
        return;
    }
    it->planned = true;
    stale_check(t, it);
    if (it->kind == NULL)
        it->kind = xstrdup(it->rc.verification_disabled && it->rc.probe.verdict == PROBE_OK
                               ? "verification_disabled"
                               : probe_verdict_name(it->rc.probe.verdict));
}

void
triage_plan(struct triage *t)
{
    for (size_t i = 0; i < t->n; i++)
        triage_plan_item(t, i);
}

void
triage_free(struct triage *t)
{
    for (size_t i = 0; i < t->n; i++) {
        struct triage_item *it = &t->items[i];
        if (it->planned)
            remedy_case_free(&it->rc);
        if (it->have_rr)
            resolve_result_free(&it->rr);
        free(it->kind);
        free(it->plan_error);
        free(it->upstream);
        free(it->spelling);
        stale_files_free(it->stale, it->nstale);
        free(it->stale_text);
        free(it->reuse_note);
    }
    free(t->items);
    free(t->nginx);
    free(t->prefix);
    stale_load_free(&t->load);
    for (size_t i = 0; i < t->nrefs; i++) {
        free(t->refs[i].spelling);
        free(t->refs[i].context);
    }
    free(t->refs);
    for (size_t i = 0; i < t->nunplaced; i++)
        free(t->unplaced[i].reason);
    free(t->unplaced);
    if (t->uses != NULL)
        resolve_uses_free(t->uses, t->nuses);
    incident_store_free(&t->store);
    if (t->conf != NULL)
        ngxconf_free(t->conf);
    free(t->cert_dir);
    free(t->conf_abs);
    triage_warnings_free(&t->warnings);
    memset(t, 0, sizeof(*t));
}

/* ---- before any edit: does nginx accept the config as it is? ---- */

#define PREFLIGHT_TIMEOUT_MS 30000

int
triage_preflight(const struct ngxconf *conf, const char *nginx, const char *conf_path,
                 bool conf_given, const char *prefix, char **cause)
{
    struct buf out = BUF_INIT;
    struct spawn_result sr;
    char *argv[8], *err = NULL;
    size_t n = 0;
    int rc = -1;
    bool owned = false;

    if (conf != NULL && conf->nerrors > 0) {
        const struct ngx_error *e = &conf->errors[0];
        *cause = xasprintf("the config does not parse: %s:%u: %s",
                           e->file != NULL ? e->file : conf_path, e->line, e->message);
        goto out;
    }
    argv[n++] = (char *)(nginx != NULL ? nginx : "nginx");
    if (conf_given) {
        argv[n++] = (char *)"-c";
        argv[n++] = (char *)conf_path;
    }
    if (prefix != NULL) {
        argv[n++] = (char *)"-p";
        argv[n++] = (char *)prefix;
    }
    argv[n++] = (char *)"-t";
    argv[n] = NULL;
    if (spawn_run(argv, &out, PREFLIGHT_TIMEOUT_MS, &sr, &err) != 0) {
        *cause = xasprintf("cannot test the config before the edit: %s", err);
        goto out;
    }
    if (sr.exited && sr.status == 0) {
        rc = 0;
        goto out;
    }
    /* nginx's own words: the first [emerg] (or [alert], [crit]) line, "nginx: " dropped */
    const char *text = buf_str(&out), *line = NULL;
    static const char *const levels[] = {"[emerg]", "[alert]", "[crit]"};
    for (size_t k = 0; k < 3 && line == NULL; k++) {
        const char *p = strstr(text, levels[k]);
        if (p != NULL) {
            line = p;
            while (line > text && line[-1] != '\n')
                line--;
        }
    }
    if (line == NULL)
        line = text;
    else { /* from the level on: no "nginx: " or time stamp, no "PID#TID: " */
        const char *lv = strchr(line, '[');
        const char *sp = lv != NULL ? strchr(lv, ' ') : NULL;
        size_t digits = sp != NULL ? strspn(sp + 1, "0123456789#") : 0;
        if (lv != NULL)
            line = lv;
        if (digits > 0 && sp[1 + digits] == ':' && sp[2 + digits] == ' ')
            line = xasprintf("%.*s%s", (int)(sp + 1 - lv), lv, sp + 3 + digits), owned = true;
    }
    size_t len = strcspn(line, "\n");
    if (len == 0)
        *cause = xasprintf("nginx -t refuses the config before any change (%s %d)",
                           sr.exited ? "exit status" : "signal", sr.status);
    else
        *cause = xasprintf("nginx -t refuses the config before any change: %.*s", (int)len, line);
    if (owned)
        free((char *)line);
out:
    free(err);
    buf_free(&out);
    return rc;
}

/* ---- what fix applies ---- */

bool
triage_item_failing(const struct triage_item *x)
{
    return !(x->planned && x->rc.probe.verdict == PROBE_OK && !x->rc.verification_disabled) ||
           x->nstale > 0; /* nginx still fails on what it loaded: a reload fixes it */
}

enum triage_choice
triage_choose(const struct triage *t, unsigned want, size_t *nfailing,
              const struct triage_item **item, const struct remedy_fix **fix)
{
    const struct triage_item *it = NULL;

    *nfailing = 0;
    *item = NULL;
    *fix = NULL;
    for (size_t i = 0; i < t->n; i++) {
        if (!triage_item_failing(&t->items[i]))
            continue; /* passes now (fixed meanwhile) */
        (*nfailing)++;
        if (it == NULL)
            it = &t->items[i];
    }
    if (*nfailing == 0)
        return TC_NOTHING;
    if (*nfailing > 1)
        return TC_SEVERAL;
    *item = it;
    if (!it->planned)
        return TC_NOT_PLANNED;
    for (size_t i = 0; i < it->rc.nfixes && *fix == NULL; i++) {
        if ((it->rc.fixes[i].strategies & want) == want)
            *fix = &it->rc.fixes[i];
    }
    if (*fix == NULL)
        return TC_NO_FIX;
    return (*fix)->verified ? TC_READY : TC_UNVERIFIED;
}

void
triage_changes(const struct triage_item *it, const struct remedy_fix *f,
               struct txn_change **changes, const char ***sha256, char **summary)
{
    struct txn_change *ch = xcalloc(f->nfiles > 0 ? f->nfiles : 1, sizeof(*ch));
    const char **sha = xcalloc(f->nfiles > 0 ? f->nfiles : 1, sizeof(*sha));

    for (size_t k = 0; k < f->nfiles; k++) {
        ch[k].path = f->files[k].path;
        ch[k].data = f->files[k].data;
        ch[k].len = f->files[k].len;
        ch[k].mode = f->files[k].mode;
        ch[k].summary = f->files[k].config ? f->id : "certificate";
        sha[k] = f->sha256[k];
    }
    *changes = ch;
    *sha256 = sha;
    struct buf sb = BUF_INIT;
    buf_addf(&sb, "fix %s: %s in %s", it->rc.upstream, f->id, it->use->context);
    for (size_t k = 0; k < f->naffected; k++) /* the radius goes in the journal too */
        buf_addf(&sb, "%s%s -> %s", k == 0 ? "; affects: " : ", ", f->affected[k].context,
                 f->affected[k].upstream);
    *summary = buf_detach(&sb);
}

/* ---- the next reload ---- */

void
triage_reload_risks_free(struct triage_reload_risks *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct triage_reload_risk *x = &r->v[i];
        free(x->context);
        free(x->file);
        free(x->upstream);
        free(x->message);
        free(x->changed);
        free(x->text);
    }
    free(r->v);
    memset(r, 0, sizeof(*r));
}

/* Whether the log holds a failure for upstream since the load (then nginx fails now too). */
static bool
failed_since(const struct incident_store *st, const char *upstream, double since)
{
    for (size_t i = 0; i < st->n; i++) {
        const struct incident *inc = st->items[i];
        if (inc->upstream != NULL && strcmp(inc->upstream, upstream) == 0 &&
            inc->last_seen != (time_t)-1 && (double)inc->last_seen >= since - 1)
            return true;
    }
    return false;
}

/* "F (directive) changed at T, ..." */
static char *
changed_list(const struct stale_file *sf, size_t nsf)
{
    struct buf b = BUF_INIT;
    char when[32];

    for (size_t k = 0; k < nsf; k++) {
        staleness_time_text(sf[k].changed, when);
        buf_addf(&b, "%s%s (%s) changed at %s", k > 0 ? ", " : "", sf[k].path, sf[k].what, when);
    }
    return buf_detach(&b);
}

static const char *
verdict_words(const struct probe_result *pr)
{
    return pr->nginx_message != NULL ? pr->nginx_message : probe_verdict_name(pr->verdict);
}

static char *
risk_text(const char *context, const char *upstream, const char *changed,
          const struct probe_result *pr)
{
    return xasprintf("the next reload breaks %s -> %s (%s): %s", context, upstream, changed,
                     verdict_words(pr));
}

static void
risk_add(struct triage_reload_risks *out, const struct tls_use *use, const char *upstream,
         const struct probe_result *pr, const struct stale_file *sf, size_t nsf)
{
    struct triage_reload_risk *x;

    out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
    x = &out->v[out->n++];
    memset(x, 0, sizeof(*x));
    x->context = xstrdup(use->context);
    x->file = xstrdup(use->block->file->path);
    x->line = use->block->line;
    x->upstream = xstrdup(upstream);
    x->message = xstrdup(verdict_words(pr));
    x->verdict = pr->verdict;
    x->changed = changed_list(sf, nsf);
    x->text = risk_text(use->context, upstream, x->changed, pr);
}

char *
triage_reload_break(const struct ngxconf *conf, const struct stale_load *l,
                    const struct incident_store *st, const struct probe_opts *po,
                    const struct probe_result *r, const char *label)
{
    struct proxy_ssl_settings s;
    struct stale_file *sf = NULL;
    size_t nsf = 0;
    char *up, *text = NULL;
    const char *paths[] = {po->trusted, po->cert, po->key, po->crl, po->password_file};
    static const enum pss keys[] = {PSS_TRUSTED_CERTIFICATE, PSS_CERTIFICATE, PSS_CERTIFICATE_KEY,
                                    PSS_CRL, PSS_PASSWORD_FILE};

    if (r == NULL || r->verdict == PROBE_OK || r->verdict == PROBE_NOT_TRIED || !l->known)
        return NULL;
    memset(&s, 0, sizeof(s));
    for (size_t k = 0; k < 5; k++) { /* the probe's paths are nginx's, made absolute */
        s.v[keys[k]].value = paths[k];
        s.v[keys[k]].origin = paths[k] != NULL ? PSS_SET : PSS_DEFAULT;
    }
    up = xasprintf("%s:%d", po->host, po->port);
    staleness_files_of(conf, &s, paths, 0, l, &sf, &nsf); /* no use here: its files only */
    if (nsf > 0 && !failed_since(st, up, l->when)) {
        char *changed = changed_list(sf, nsf);
        text = risk_text(label != NULL ? label : up, up, changed, r);
        free(changed);
    }
    stale_files_free(sf, nsf);
    free(up);
    return text;
}

/* The uses of t (but skip) with a file changed after l whose probe under the files on disk
 * fails while the log shows no failure for them since l. */
static void
risks_of(struct triage *t, const struct stale_load *l, const struct triage_item *skip,
         struct triage_reload_risks *out)
{
    ensure_uses(t);
    for (size_t u = 0; u < t->nuses; u++) {
        const struct tls_use *use = &t->uses[u];
        struct stale_file *sf = NULL;
        size_t nsf = 0;

        if (use->kind == RESOLVE_VARIABLE)
            continue;
        /* The config files that hold this use: its block, its proxy_pass and where each
         * of its proxy_ssl_* is set (an unrelated edit elsewhere breaks nothing here). */
        const char *cf[2 + PSS__COUNT];
        size_t ncf = 0;
        cf[ncf++] = use->block->file->path;
        cf[ncf++] = use->proxy_pass->file->path;
        for (int k = 0; k < PSS__COUNT; k++)
            if (use->ssl.v[k].origin != PSS_DEFAULT && use->ssl.v[k].file != NULL)
                cf[ncf++] = use->ssl.v[k].file;
        staleness_files_of(t->conf, &use->ssl, cf, ncf, l, &sf, &nsf);
        for (size_t k = 0; nsf > 0 && k < use->ntargets; k++) {
            struct proxy_ssl_settings ssl = use->ssl;
            char *owned[SSLCONF_NPATHS], *why = NULL, *up = target_text(&use->targets[k]);
            struct probe_opts po;
            struct probe_result pr;

            memset(&pr, 0, sizeof(pr));
            sslconf_full_paths(t->conf, &ssl, owned);
            if ((skip == NULL || use->block != skip->use->block || k != skip->ti) &&
                !failed_since(t->log_store != NULL ? t->log_store : &t->store, up, l->when) &&
                probe_opts_from_settings(&po, &ssl, use->targets[k].host, (int)use->targets[k].port,
                                         &why) == 0) {
                po.name = resolve_ssl_name(use);
                po.check_ip_san = t->ro.check_ip_san;
                if (t->ro.timeout_ms > 0)
                    po.timeout_ms = t->ro.timeout_ms;
                if (probe_run(&po, &pr, &why) == 0 && pr.verdict != PROBE_OK)
                    risk_add(out, use, up, &pr, sf, nsf);
                probe_result_free(&pr);
            }
            free(why);
            free(up);
            for (int j = 0; j < SSLCONF_NPATHS; j++)
                free(owned[j]);
        }
        stale_files_free(sf, nsf);
    }
}

int
triage_reload_risks(const struct triage_opts *o, struct triage_reload_risks *out, char **cause)
{
    struct triage t;
    struct triage_opts o2 = *o;
    const struct stale_load *l;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    o2.upstream = NULL;
    if (triage_collect(&o2, &t, cause) != 0)
        goto out;
    l = load_of(&t);
    out->load_known = l->known;
    rc = 0;
    if (!l->known)
        goto out;
    risks_of(&t, l, NULL, out);
out:
    triage_free(&t);
    return rc;
}

/* ---- the probe plan of a config ---- */

static const char *
plan_keep(struct triage_probe_plan *p, char *s)
{
    p->owned = xreallocarray(p->owned, p->nowned + 1, sizeof(*p->owned));
    p->owned[p->nowned++] = s;
    return s;
}

void
triage_probe_plan_free(struct triage_probe_plan *p)
{
    for (size_t i = 0; i < p->nowned; i++)
        free(p->owned[i]);
    free(p->owned);
    if (p->uses != NULL)
        resolve_uses_free(p->uses, p->nuses);
    if (p->have_rr)
        resolve_result_free(&p->rr);
    if (p->conf != NULL)
        ngxconf_free(p->conf);
    free(p->opts);
    free(p->labels);
    triage_warnings_free(&p->warnings);
    memset(p, 0, sizeof(*p));
}

/* nginx's time value ("500ms", "1s", "2m", "1h", "10"): milliseconds, or -1. */
static long
nginx_msec(const char *v)
{
    static const struct {
        const char *suffix;
        long ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
    long total = 0;

    if (*v == '\0')
        return -1;
    while (*v != '\0') {
        char *end;
        long n = strtol(v, &end, 10);
        size_t i;
        if (end == v || n < 0)
            return -1;
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t len = strlen(units[i].suffix);
            if (strncmp(end, units[i].suffix, len) == 0 &&
                (len > 0 || *end == '\0' || *end == ' ')) {
                total += n * units[i].ms;
                v = end + len;
                break;
            }
        }
        if (i == sizeof(units) / sizeof(units[0]))
            return -1;
        while (*v == ' ')
            v++;
    }
    return total;
}

/* proxy_connect_timeout (grpc_, uwsgi_ for those families) effective in block (set there or
 * in an enclosing block), or -1. */
static long
conf_connect_timeout(const struct ngx_node *block, enum pss_family fam)
{
    char name[32];

    snprintf(name, sizeof(name), "%s_connect_timeout", sslconf_family_name(fam));
    for (const struct ngx_node *b = block; b != NULL; b = b->parent) {
        const struct ngx_node *d = ngxconf_find(b, name);
        if (d != NULL)
            return nginx_msec(d->value);
    }
    return -1;
}

/* Adds one probe per target of use; labels[i] says where the settings come from. */
static void
plan_add_use(struct triage_probe_plan *p, const struct tls_use *use, const struct probe_opts *base,
             const struct triage_probe_query *q)
{
    if (use->kind == RESOLVE_VARIABLE)
        return; /* proxy_pass with a variable: nothing to probe statically */
    for (size_t t = 0; t < use->ntargets; t++) {
        struct proxy_ssl_settings ssl = use->ssl;
        struct probe_opts o;
        char *cause = NULL;

        char *owned[SSLCONF_NPATHS];
        sslconf_full_paths(p->conf, &ssl, owned);
        for (int k = 0; k < SSLCONF_NPATHS; k++) {
            if (owned[k] != NULL)
                plan_keep(p, owned[k]);
        }
        if (probe_opts_from_settings(&o, &ssl, use->targets[t].host, (int)use->targets[t].port,
                                     &cause) != 0) {
            warn_add(&p->warnings, TW_PROBE_SKIPPED, use->proxy_pass->file->path,
                     use->proxy_pass->line, use->context, cause);
            free(cause);
            continue;
        }
        o.name = resolve_ssl_name(use); /* proxy_ssl_name, else $proxy_host as nginx */
        {
            char *cc = resolve_conf_commands(use->block);
            o.conf_commands = cc != NULL ? plan_keep(p, cc) : NULL;
        }
        if (ssl.v[PSS_PROTOCOLS].origin == PSS_DEFAULT && q->default_protocols != NULL)
            o.protocols = q->default_protocols; /* the running version's default */
        o.timeout_ms = base->timeout_ms;
        if (!q->timeout_given) { /* nginx's proxy_connect_timeout, when the config sets one */
            long ms = conf_connect_timeout(use->block, use->ssl.family);
            if (ms > 0)
                o.timeout_ms = ms > 3600000 ? 3600000 : (int)ms;
        }
        o.what_if = base->what_if;
        p->opts = xreallocarray(p->opts, p->n + 1, sizeof(*p->opts));
        p->labels = xreallocarray(p->labels, p->n + 1, sizeof(*p->labels));
        p->opts[p->n] = o;
        p->labels[p->n] =
            plan_keep(p, xasprintf("%s (%s:%u)", use->context, use->proxy_pass->file->path,
                                   use->proxy_pass->line));
        p->opts[p->n].location = p->labels[p->n];
        p->n++;
    }
}

int
triage_probe_plan(const char *conf, const char *prefix, const struct triage_probe_query *q,
                  const struct probe_opts *base, struct triage_probe_plan *p, char **cause)
{
    struct resolve_query rq;
    struct resolve_url url;

    memset(p, 0, sizeof(*p));
    if (ngxconf_load(conf, prefix, &p->conf, cause) != 0)
        return -1;
    warn_config(&p->warnings, p->conf);
    if (q->all) {
        p->nuses = resolve_uses(p->conf, &p->uses);
        for (size_t i = 0; i < p->nuses; i++)
            plan_add_use(p, &p->uses[i], base, q);
        return 0;
    }
    memset(&rq, 0, sizeof(rq));
    memset(&url, 0, sizeof(url));
    if (q->location_of != NULL || (q->stream && q->server != NULL)) {
        /* a URL as a request names it (Host header and port), or a stream listen address */
        char *s =
            q->location_of != NULL ? xstrdup(q->location_of) : xasprintf("tcp://%s", q->server);
        int urc = resolve_url_parse(s, &url, cause);
        free(s);
        if (urc != 0)
            return -1;
        rq = url.q;
    } else {
        rq.server = q->server;
        rq.uri = q->uri != NULL ? q->uri : "/";
    }
    int frc = resolve_find(p->conf, &rq, &p->rr, cause);
    resolve_url_free(&url);
    if (frc != 0)
        return -1;
    p->have_rr = true;
    if (!p->rr.has_use) {
        char *ctx = resolve_context(p->rr.block);
        *cause = xasprintf("%s does not proxy to a TLS upstream", ctx);
        free(ctx);
        return -1;
    }
    if (p->rr.use.kind == RESOLVE_VARIABLE) {
        *cause = xasprintf("%s uses a variable: give HOST:PORT", p->rr.use.proxy_pass->name);
        return -1;
    }
    plan_add_use(p, &p->rr.use, base, q);
    *cause = NULL;
    return p->n > 0 ? 0 : -1;
}

/* ---- unfinished transactions ---- */

int
triage_pending(const char *state_dir, struct triage_pending *out, char **cause)
{
    memset(out, 0, sizeof(*out));
    if (txn_pending(state_dir, &out->v, &out->n, cause) == -1)
        return -1;
    out->advice = xcalloc(out->n > 0 ? out->n : 1, sizeof(*out->advice));
    for (size_t i = 0; i < out->n; i++) {
        const struct txn_info *x = &out->v[i];
        if (x->kind != NULL && strcmp(x->kind, "rollback") == 0 && x->reverts != NULL)
            out->advice[i] = TA_FINISH_ROLLBACK;
        else if (x->state == TXN_PLANNED || x->state == TXN_ROLLING_BACK || x->state == TXN_FAILED)
            out->advice[i] = TA_RESTORE;
        else
            out->advice[i] = TA_UNDO_OR_FINISH;
    }
    return 0;
}

void
triage_pending_free(struct triage_pending *p)
{
    txn_info_free(p->v, p->n);
    free(p->advice);
    memset(p, 0, sizeof(*p));
}

/* ---- following logs ---- */

struct triage_follow {
    struct tail *tail;
    struct incident_store store;
    triage_event_cb ev_cb;
    void *arg;
    unsigned long long lines_read;
    /* The marker search rejects most lines of an ordinary log for a fraction of a parse; in an
     * outage nearly every line is an event and it only adds to each. Every WINDOW lines the
     * share of events decides whether the next WINDOW go through it (same answers either way:
     * logscan_parse_line refuses what the search would). */
    unsigned window_lines, window_events;
    bool prefilter;
    struct logread_opts since; /* the --since rule, the same as the batch reader's */
};

#define WINDOW 256

/* A batch of lines (tail_new_batched): one call per read rather than per line, with the
 * window state in registers across the loop. */
static void
follow_lines(const struct tail_line *l, size_t n, void *arg)
{
    struct triage_follow *f = arg;
    unsigned window_lines = f->window_lines, window_events = f->window_events;
    bool prefilter = f->prefilter;

    f->lines_read += n;
    for (const struct tail_line *last = l + n; l < last; l++) {
        struct ls_event ev;

        if (++window_lines == WINDOW) {
            prefilter = window_events < WINDOW / 2;
            window_lines = window_events = 0;
        }
        if ((prefilter && !logscan_may_match(l->p, l->len)) ||
            !logscan_parse_line(l->p, l->len, l->lineno, &ev))
            continue;
        window_events++;
        if (!logread_keep(&ev, &f->since)) /* the start was up to the slack early */
            continue;
        if (f->ev_cb == NULL)
            incident_store_add(&f->store, &ev, l->path);
        else
            f->ev_cb(&ev, l->path, f->arg);
    }
    f->window_lines = window_lines;
    f->window_events = window_events;
    f->prefilter = prefilter;
}

struct triage_follow *
triage_follow_new(struct evloop *loop, const struct tail_opts *to, triage_event_cb ev_cb, void *arg)
{
    struct triage_follow *f = xcalloc(1, sizeof(*f));

    f->ev_cb = ev_cb;
    f->arg = arg;
    f->prefilter = true;
    f->since.since_given = to != NULL && to->start == TAIL_START_SINCE;
    f->since.since = to != NULL ? to->since : 0;
    incident_store_init(&f->store, 0);
    f->tail = tail_new_batched(loop, to, follow_lines, f);
    return f;
}

int
triage_follow_add(struct triage_follow *f, const char *path, char **cause)
{
    if (strcmp(path, "-") == 0)
        return tail_add_stream(f->tail, STDIN_FILENO, "-", cause);
    return tail_add(f->tail, path, cause);
}

void
triage_follow_check(struct triage_follow *f)
{
    tail_check(f->tail);
}

void
triage_follow_drain(struct triage_follow *f)
{
    tail_drain(f->tail);
}

bool
triage_follow_ended(const struct triage_follow *f)
{
    return tail_ended(f->tail);
}

struct incident_store *
triage_follow_store(struct triage_follow *f)
{
    return &f->store;
}

unsigned long long
triage_follow_lines(const struct triage_follow *f)
{
    return f->lines_read;
}

void
triage_follow_free(struct triage_follow *f)
{
    if (f == NULL)
        return;
    tail_free(f->tail);
    incident_store_free(&f->store);
    free(f);
}
