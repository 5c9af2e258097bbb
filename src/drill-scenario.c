/*
 * drill-scenario.c — drill scenarios: the YAML files of share/tlstriage/drills (and
 * /etc/tlstriage/drills, --drills DIR) loaded and checked whole (yamlschema, FILE:LINE:
 * COLUMN), the directories searched, the list. Builds nothing; cli-drill.c and the
 * sandbox read the struct.
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "atomicfile.h"
#include "buf.h"
#include "drill.h"
#include "path.h"
#include "xmalloc.h"
#include "yamlio.h"
#include "yamlschema.h"

static const struct yschema top_schema[] = {
    {"name", YS_STR, true},
    {"title", YS_STR, true},
    {"difficulty", YS_INT, true},
    {"briefing", YS_STR, true},
    {"certificates", YS_SEQ, true},
    {"upstreams", YS_SEQ, true},
    {"front", YS_STR, true},
    {"traffic", YS_MAP, true},
    {"expect", YS_MAP, true},
    {"hints", YS_STR_OR_SEQ, true},
    {"solution", YS_MAP, true},
    {"success", YS_STR, false},
    {NULL, 0, false},
};
static const struct yschema cert_schema[] = {
    {"name", YS_STR, true},         {"subject", YS_STR, true},
    {"sans", YS_STR_OR_SEQ, false}, {"issuer", YS_STR, false},
    {"ca", YS_BOOL, false},         {"client", YS_BOOL, false},
    {"start_days", YS_INT, false},  {"days", YS_INT, false},
    {"key", YS_STR, false},         {NULL, 0, false},
};
static const struct yschema upstream_schema[] = {
    {"name", YS_STR, true}, {"certificate", YS_STR, false}, {"chain", YS_STR_OR_SEQ, false},
    {"sni", YS_SEQ, false}, {"client_ca", YS_STR, false},   {"plain", YS_BOOL, false},
    {NULL, 0, false},
};
static const struct yschema sni_schema[] = {
    {"name", YS_STR, true},
    {"certificate", YS_STR, true},
    {NULL, 0, false},
};
static const struct yschema traffic_schema[] = {
    {"rate", YS_INT, false},
    {"requests", YS_SEQ, true},
    {NULL, 0, false},
};
static const struct yschema request_schema[] = {
    {"uri", YS_STR, true},
    {"host", YS_STR, false},
    {NULL, 0, false},
};
static const struct yschema expect_schema[] = {
    {"status", YS_INT, true},
    {"log", YS_STR, false},
    {NULL, 0, false},
};
static const struct yschema solution_schema[] = {
    {"front", YS_STR, false},
    {"upstreams", YS_SEQ, false},
    {"tool_fix", YS_BOOL, false},
    {"tool_fix_args", YS_STR_OR_SEQ, false},
    {NULL, 0, false},
};

static void
upstream_free(struct drill_upstream *u)
{
    free(u->name);
    free(u->certificate);
    yschema_strv_free(u->chain);
    for (size_t i = 0; i < u->nsni; i++) {
        free(u->sni[i].name);
        free(u->sni[i].certificate);
    }
    free(u->sni);
    free(u->client_ca);
}

void
drill_scenario_free(struct drill_scenario *sc)
{
    free(sc->file);
    free(sc->name);
    free(sc->title);
    free(sc->briefing);
    for (size_t i = 0; i < sc->ncerts; i++) {
        free(sc->certs[i].name);
        free(sc->certs[i].subject);
        yschema_strv_free(sc->certs[i].sans);
        free(sc->certs[i].issuer);
    }
    free(sc->certs);
    for (size_t i = 0; i < sc->nupstreams; i++)
        upstream_free(&sc->upstreams[i]);
    free(sc->upstreams);
    free(sc->front);
    for (size_t i = 0; i < sc->ntraffic; i++) {
        free(sc->traffic[i].uri);
        free(sc->traffic[i].host);
    }
    free(sc->traffic);
    free(sc->expect_log);
    yschema_strv_free(sc->hints);
    free(sc->solution_front);
    for (size_t i = 0; i < sc->nsolution_upstreams; i++)
        upstream_free(&sc->solution_upstreams[i]);
    free(sc->solution_upstreams);
    yschema_strv_free(sc->tool_fix_args);
    memset(sc, 0, sizeof(*sc));
}

/* "FILE:LINE:COLUMN: message" about node. */
static int
fail(const struct yamlio_doc *doc, const yaml_node_t *node, char **cause, const char *msg,
     const char *arg)
{
    char *w = yamlio_where(doc, node);
    *cause = xasprintf("%s: %s%s%s%s", w, msg, arg != NULL ? " '" : "", arg != NULL ? arg : "",
                       arg != NULL ? "'" : "");
    free(w);
    return -1;
}

static bool
cert_known(const struct drill_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->ncerts; i++) {
        if (strcmp(sc->certs[i].name, name) == 0)
            return true;
    }
    return false;
}

static bool
plain_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    }
    return true;
}

static int
parse_upstreams(const struct yamlio_doc *doc, const yaml_node_t *seq, struct drill_scenario *sc,
                struct drill_upstream **out, size_t *nout, char **cause)
{
    size_t n = yamlio_seq_len(seq);

    *out = xcalloc(n + 1, sizeof(**out));
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *m = yamlio_seq_at(doc, seq, i);
        struct drill_upstream *u = &(*out)[i];
        const yaml_node_t *sni;

        *nout = i + 1;
        if (yschema_check(doc, m, upstream_schema, "drill upstream", cause) != 0)
            return -1;
        u->name = yamlio_dup(doc, m, "name");
        if (!plain_name(u->name))
            return fail(doc, yamlio_get(doc, m, "name"), cause,
                        "an upstream name is letters, digits, - and _, not", u->name);
        u->certificate = yamlio_dup(doc, m, "certificate");
        u->chain = yschema_strv(doc, yamlio_get(doc, m, "chain"), NULL);
        u->client_ca = yamlio_dup(doc, m, "client_ca");
        u->plain = yamlio_bool(doc, m, "plain");
        if (!u->plain && u->certificate == NULL)
            return fail(doc, m, cause, "a TLS upstream needs a certificate", NULL);
        if (u->certificate != NULL && !cert_known(sc, u->certificate))
            return fail(doc, yamlio_get(doc, m, "certificate"), cause, "no certificate named",
                        u->certificate);
        if (u->client_ca != NULL && !cert_known(sc, u->client_ca))
            return fail(doc, yamlio_get(doc, m, "client_ca"), cause, "no certificate named",
                        u->client_ca);
        for (size_t k = 0; u->chain[k] != NULL; k++) {
            if (!cert_known(sc, u->chain[k]))
                return fail(doc, yamlio_get(doc, m, "chain"), cause, "no certificate named",
                            u->chain[k]);
        }
        sni = yamlio_get(doc, m, "sni");
        u->nsni = yamlio_seq_len(sni);
        u->sni = xcalloc(u->nsni + 1, sizeof(*u->sni));
        for (size_t k = 0; k < u->nsni; k++) {
            const yaml_node_t *s = yamlio_seq_at(doc, sni, k);
            if (yschema_check(doc, s, sni_schema, "sni entry", cause) != 0)
                return -1;
            u->sni[k].name = yamlio_dup(doc, s, "name");
            u->sni[k].certificate = yamlio_dup(doc, s, "certificate");
            if (!cert_known(sc, u->sni[k].certificate))
                return fail(doc, yamlio_get(doc, s, "certificate"), cause, "no certificate named",
                            u->sni[k].certificate);
        }
    }
    return 0;
}

int
drill_scenario_parse(struct drill_scenario *sc, const char *name, const char *text, size_t len,
                     char **cause)
{
    struct yamlio_doc doc;
    const yaml_node_t *r, *n;
    int rc = -1;

    memset(sc, 0, sizeof(*sc));
    if (yamlio_load(&doc, name, text, len, cause) != 0)
        goto out;
    r = doc.root;
    if (yschema_check(&doc, r, top_schema, "drill scenario", cause) != 0)
        goto out;
    sc->file = xstrdup(name);
    sc->name = yamlio_dup(&doc, r, "name");
    if (!plain_name(sc->name)) {
        fail(&doc, yamlio_get(&doc, r, "name"), cause,
             "a scenario name is letters, digits, - and _, not", sc->name);
        goto out;
    }
    sc->title = yamlio_dup(&doc, r, "title");
    sc->briefing = yamlio_dup(&doc, r, "briefing");
    sc->front = yamlio_dup(&doc, r, "front");
    if (yschema_int(&doc, r, "difficulty", 1, 5, &sc->difficulty, cause) != 0)
        goto out;

    n = yamlio_get(&doc, r, "certificates");
    size_t ncerts = yamlio_seq_len(n);
    sc->certs = xcalloc(ncerts + 1, sizeof(*sc->certs));
    for (size_t i = 0; i < ncerts; i++) {
        const yaml_node_t *m = yamlio_seq_at(&doc, n, i);
        struct drill_cert *c = &sc->certs[i];
        char *key;
        size_t had = i;

        sc->ncerts = i; /* cert_known sees the earlier ones only */
        if (yschema_check(&doc, m, cert_schema, "drill certificate", cause) != 0) {
            sc->ncerts = had;
            goto out;
        }
        c->name = yamlio_dup(&doc, m, "name");
        c->subject = yamlio_dup(&doc, m, "subject");
        c->sans = yschema_strv(&doc, yamlio_get(&doc, m, "sans"), NULL);
        c->issuer = yamlio_dup(&doc, m, "issuer");
        c->ca = yamlio_bool(&doc, m, "ca");
        c->client = yamlio_bool(&doc, m, "client");
        c->days = 365;
        key = yamlio_dup(&doc, m, "key");
        c->rsa = key != NULL && strcmp(key, "rsa") == 0;
        sc->ncerts = had + 1;
        if (key != NULL && strcmp(key, "rsa") != 0 && strcmp(key, "ec") != 0) {
            fail(&doc, yamlio_get(&doc, m, "key"), cause, "key must be rsa or ec, not", key);
            free(key);
            goto out;
        }
        free(key);
        if (!plain_name(c->name)) {
            fail(&doc, yamlio_get(&doc, m, "name"), cause,
                 "a certificate name is letters, digits, - and _, not", c->name);
            goto out;
        }
        sc->ncerts = had;
        bool dup = cert_known(sc, c->name);
        bool issuer_ok =
            c->issuer == NULL || strcmp(c->issuer, "self") == 0 || cert_known(sc, c->issuer);
        sc->ncerts = had + 1;
        if (dup) {
            fail(&doc, yamlio_get(&doc, m, "name"), cause, "a second certificate named", c->name);
            goto out;
        }
        if (!issuer_ok) {
            fail(&doc, yamlio_get(&doc, m, "issuer"), cause,
                 "the issuer must be 'self' or a certificate listed before this one, not",
                 c->issuer);
            goto out;
        }
        if (c->issuer != NULL && strcmp(c->issuer, "self") == 0) {
            free(c->issuer);
            c->issuer = NULL;
        }
        for (size_t k = 0; c->sans[k] != NULL; k++) {
            if (strncmp(c->sans[k], "DNS:", 4) != 0 && strncmp(c->sans[k], "IP:", 3) != 0) {
                fail(&doc, yamlio_get(&doc, m, "sans"), cause, "a SAN starts with DNS: or IP:, not",
                     c->sans[k]);
                goto out;
            }
        }
        if (yschema_int(&doc, m, "start_days", -3650, 3650, &c->start_days, cause) != 0 ||
            yschema_int(&doc, m, "days", 1, 7300, &c->days, cause) != 0)
            goto out;
    }

    if (parse_upstreams(&doc, yamlio_get(&doc, r, "upstreams"), sc, &sc->upstreams, &sc->nupstreams,
                        cause) != 0)
        goto out;

    n = yamlio_get(&doc, r, "traffic");
    if (yschema_check(&doc, n, traffic_schema, "traffic", cause) != 0)
        goto out;
    sc->rate = 3;
    if (yschema_int(&doc, n, "rate", 1, 20, &sc->rate, cause) != 0)
        goto out;
    {
        const yaml_node_t *reqs = yamlio_get(&doc, n, "requests");
        sc->ntraffic = yamlio_seq_len(reqs);
        sc->traffic = xcalloc(sc->ntraffic + 1, sizeof(*sc->traffic));
        for (size_t i = 0; i < sc->ntraffic; i++) {
            const yaml_node_t *m = yamlio_seq_at(&doc, reqs, i);
            if (yschema_check(&doc, m, request_schema, "request", cause) != 0)
                goto out;
            sc->traffic[i].uri = yamlio_dup(&doc, m, "uri");
            sc->traffic[i].host = yamlio_dup(&doc, m, "host");
            if (sc->traffic[i].uri[0] != '/' || strpbrk(sc->traffic[i].uri, " \r\n") != NULL) {
                fail(&doc, yamlio_get(&doc, m, "uri"), cause,
                     "a request uri starts with /, no blanks:", sc->traffic[i].uri);
                goto out;
            }
            if (sc->traffic[i].host != NULL && strpbrk(sc->traffic[i].host, " \r\n") != NULL) {
                fail(&doc, yamlio_get(&doc, m, "host"), cause,
                     "a host has no blanks:", sc->traffic[i].host);
                goto out;
            }
        }
        if (sc->ntraffic == 0) {
            fail(&doc, reqs, cause, "traffic needs at least one request", NULL);
            goto out;
        }
    }

    n = yamlio_get(&doc, r, "expect");
    if (yschema_check(&doc, n, expect_schema, "expect", cause) != 0 ||
        yschema_int(&doc, n, "status", 100, 599, &sc->expect_status, cause) != 0)
        goto out;
    sc->expect_log = yamlio_dup(&doc, n, "log");
    sc->hints = yschema_strv(&doc, yamlio_get(&doc, r, "hints"), &sc->nhints);

    n = yamlio_get(&doc, r, "solution");
    if (yschema_check(&doc, n, solution_schema, "solution", cause) != 0)
        goto out;
    sc->solution_front = yamlio_dup(&doc, n, "front");
    sc->tool_fix = yamlio_bool(&doc, n, "tool_fix");
    sc->tool_fix_args = yschema_strv(&doc, yamlio_get(&doc, n, "tool_fix_args"), NULL);
    if (parse_upstreams(&doc, yamlio_get(&doc, n, "upstreams"), sc, &sc->solution_upstreams,
                        &sc->nsolution_upstreams, cause) != 0)
        goto out;
    for (size_t i = 0; i < sc->nsolution_upstreams; i++) {
        bool found = false;
        for (size_t k = 0; k < sc->nupstreams; k++)
            found = found || strcmp(sc->upstreams[k].name, sc->solution_upstreams[i].name) == 0;
        if (!found) {
            fail(&doc, yamlio_seq_at(&doc, yamlio_get(&doc, n, "upstreams"), i), cause,
                 "the solution replaces an upstream the scenario does not have:",
                 sc->solution_upstreams[i].name);
            goto out;
        }
    }
    if (sc->solution_front == NULL && sc->nsolution_upstreams == 0) {
        fail(&doc, n, cause, "the solution changes neither the front nor an upstream", NULL);
        goto out;
    }
    rc = 0;
out:
    yamlio_doc_free(&doc);
    if (rc != 0) {
        char *keep = *cause;
        drill_scenario_free(sc);
        *cause = keep;
    }
    return rc;
}

int
drill_scenario_load(struct drill_scenario *sc, const char *path, char **cause)
{
    struct buf b = BUF_INIT;
    bool exists;
    int rc = -1;

    memset(sc, 0, sizeof(*sc));
    if (atomicfile_read(path, &b, &exists, cause) != 0)
        goto out;
    if (!exists) {
        *cause = xasprintf("%s: no such file", path);
        goto out;
    }
    rc = drill_scenario_parse(sc, path, b.len > 0 ? buf_str(&b) : "", b.len, cause);
out:
    buf_free(&b);
    return rc;
}

static void
push(char ***v, size_t *n, char *s)
{
    struct stat st;

    if (stat(s, &st) != 0 || !S_ISDIR(st.st_mode)) {
        free(s);
        return;
    }
    *v = xreallocarray(*v, *n + 2, sizeof(**v));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

char **
drill_dirs(const struct app *app, const char *extra)
{
    char **v = xcalloc(1, sizeof(*v)), self[PATH_MAX];
    size_t n = 0;
    ssize_t len;

    if (extra != NULL)
        push(&v, &n, xstrdup(extra));
    if (app->drills_dir != NULL)
        push(&v, &n, xstrdup(app->drills_dir));
    push(&v, &n, xstrdup(TT_SYSCONFDIR "/drills"));
    push(&v, &n, xstrdup(TT_DATADIR "/drills"));
    /* uninstalled: beside the binary (the build tree), then the source tree */
    if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
        self[len] = '\0';
        char *d = path_dirname(self);
        push(&v, &n, xasprintf("%s/share/tlstriage/drills", d));
        free(d);
    }
    if (getenv("TT_SRCDIR") != NULL)
        push(&v, &n, xasprintf("%s/share/tlstriage/drills", getenv("TT_SRCDIR")));
    return v;
}

void
drill_dirs_free(char **dirs)
{
    yschema_strv_free(dirs);
}

static int
by_difficulty(const void *a, const void *b)
{
    const struct drill_scenario *x = a, *y = b;

    if (x->difficulty != y->difficulty)
        return x->difficulty < y->difficulty ? -1 : 1;
    return strcmp(x->name, y->name);
}

static bool
is_yaml(const char *f)
{
    size_t l = strlen(f);
    return f[0] != '.' && l > 5 && strcmp(f + l - 5, ".yaml") == 0;
}

size_t
drill_scenario_list(char **dirs, struct drill_scenario **out, char **errors)
{
    struct buf err = BUF_INIT;
    size_t n = 0;

    *out = NULL;
    for (size_t d = 0; dirs[d] != NULL; d++) {
        struct dirent **ents;
        int ne = scandir(dirs[d], &ents, NULL, alphasort);
        for (int i = 0; i < ne; i++) {
            if (is_yaml(ents[i]->d_name)) {
                char *p = xasprintf("%s/%s", dirs[d], ents[i]->d_name), *cause = NULL;
                struct drill_scenario sc;
                bool dup = false;
                if (drill_scenario_load(&sc, p, &cause) != 0) {
                    buf_addf(&err, "%s\n", cause);
                    free(cause);
                } else {
                    for (size_t k = 0; k < n; k++)
                        dup = dup || strcmp((*out)[k].name, sc.name) == 0;
                    if (dup) {
                        drill_scenario_free(&sc);
                    } else {
                        *out = xreallocarray(*out, n + 1, sizeof(**out));
                        (*out)[n++] = sc;
                    }
                }
                free(p);
            }
            free(ents[i]);
        }
        if (ne >= 0)
            free(ents);
    }
    if (n > 0)
        qsort(*out, n, sizeof(**out), by_difficulty);
    *errors = err.len > 0 ? buf_detach(&err) : NULL;
    buf_free(&err);
    return n;
}

int
drill_scenario_find(char **dirs, const char *name, struct drill_scenario *sc, char **cause)
{
    memset(sc, 0, sizeof(*sc));
    if (!plain_name(name)) {
        *cause = xasprintf("'%s' is not a scenario name (see drill --list)", name);
        return -1;
    }
    for (size_t d = 0; dirs[d] != NULL; d++) {
        char *p = xasprintf("%s/%s.yaml", dirs[d], name);
        if (access(p, F_OK) == 0) {
            int rc = drill_scenario_load(sc, p, cause);
            free(p);
            return rc;
        }
        free(p);
    }
    *cause = xasprintf("no drill scenario named '%s' (see drill --list)", name);
    return -1;
}
