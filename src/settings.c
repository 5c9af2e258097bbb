/*
 * settings.c — the settings file: parse and check it whole (yamlschema: known keys, types,
 * ranges, FILE:LINE:COLUMN), then merge it into struct app below the command line and above
 * the defaults, remembering where each value came from for --show-settings. Prints
 * nothing; called by main.c.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "atomicfile.h"
#include "buf.h"
#include "path.h"
#include "settings.h"
#include "xmalloc.h"
#include "yamlio.h"
#include "yamlschema.h"

static const struct {
    const char *name;
    enum yschema_type type;
    bool path; /* made absolute against the settings file's directory */
    long min, max;
} keys[SK__COUNT] = {
    [SK_NGINX] = {"nginx", YS_STR, true, 0, 0},
    [SK_CONF] = {"conf", YS_STR, true, 0, 0},
    [SK_PREFIX] = {"prefix", YS_STR, true, 0, 0},
    [SK_LOGS] = {"logs", YS_STR_OR_SEQ, true, 0, 0},
    [SK_STATE_DIR] = {"state_dir", YS_STR, true, 0, 0},
    [SK_CERT_DIR] = {"cert_dir", YS_STR, true, 0, 0},
    [SK_RELOAD_CMD] = {"reload_command", YS_STR, false, 0, 0},
    [SK_PROBE_TIMEOUT] = {"probe_timeout", YS_INT, false, 1, 3600},
    [SK_WATCH] = {"watch", YS_INT, false, 0, 3600},
    [SK_EXPIRY_DAYS] = {"expiry_days", YS_INT, false, 0, 3650},
    [SK_DRILLS_DIR] = {"drills_dir", YS_STR, true, 0, 0},
    [SK_RUNBOOKS_DIR] = {"runbooks_dir", YS_STR, true, 0, 0},
};

const char *
settings_key_name(enum settings_key k)
{
    return keys[k].name;
}

void
settings_free(struct settings *s)
{
    free(s->file);
    for (int k = 0; k < SK__COUNT; k++) {
        free(s->str[k]);
        free(s->where[k]);
        free(s->origin[k]);
    }
    yschema_strv_free(s->logs);
    memset(s, 0, sizeof(*s));
}

static char *
absolute(const char *dir, const char *p)
{
    if (p[0] == '/' || dir == NULL)
        return xstrdup(p);
    return xasprintf("%s/%s", dir, p);
}

int
settings_parse(struct settings *s, const char *name, const char *text, size_t len, char **cause)
{
    struct yamlio_doc doc;
    struct yschema schema[SK__COUNT + 1];
    char *dir = NULL;
    int rc = -1;

    memset(s, 0, sizeof(*s));
    memset(schema, 0, sizeof(schema));
    for (int k = 0; k < SK__COUNT; k++) {
        schema[k].key = keys[k].name;
        schema[k].type = keys[k].type;
    }
    if (yamlio_load(&doc, name, text, len, cause) != 0)
        goto out;
    if (doc.root == NULL) { /* an empty file sets nothing */
        rc = 0;
        goto out;
    }
    if (yschema_check(&doc, doc.root, schema, "settings file", cause) != 0)
        goto out;
    for (int k = 0; k < SK__COUNT; k++) {
        if (keys[k].type == YS_INT && yschema_int(&doc, doc.root, keys[k].name, keys[k].min,
                                                  keys[k].max, &s->num[k], cause) != 0)
            goto out;
    }
    dir = name[0] == '/' ? path_dirname(name) : NULL;
    if (dir == NULL && strchr(name, '/') != NULL) {
        char cwd[4096], *d = path_dirname(name);
        if (getcwd(cwd, sizeof(cwd)) != NULL)
            dir = xasprintf("%s/%s", cwd, d);
        free(d);
    } else if (dir == NULL) {
        char cwd[4096];
        if (getcwd(cwd, sizeof(cwd)) != NULL)
            dir = xstrdup(cwd);
    }
    for (int k = 0; k < SK__COUNT; k++) {
        const yaml_node_t *n = yamlio_get(&doc, doc.root, keys[k].name);
        if (n == NULL)
            continue;
        s->where[k] = yamlio_where(&doc, n);
        if (k == SK_LOGS) {
            char **v = yschema_strv(&doc, n, &s->nlogs);
            s->logs = xcalloc(s->nlogs + 1, sizeof(*s->logs));
            for (size_t i = 0; i < s->nlogs; i++)
                s->logs[i] = absolute(dir, v[i]);
            yschema_strv_free(v);
        } else if (keys[k].type == YS_STR) {
            char *t = yschema_text(n);
            if (t[0] == '\0') {
                *cause = xasprintf("%s: '%s' is empty", s->where[k], keys[k].name);
                free(t);
                goto out;
            }
            s->str[k] = keys[k].path ? absolute(dir, t) : xstrdup(t);
            free(t);
        }
    }
    s->file = xstrdup(name);
    rc = 0;
out:
    free(dir);
    yamlio_doc_free(&doc);
    if (rc != 0) {
        char *keep = *cause;
        settings_free(s);
        *cause = keep;
    }
    return rc;
}

int
settings_load(struct settings *s, const char *path, char **cause)
{
    struct buf b = BUF_INIT;
    bool exists;
    int rc;

    memset(s, 0, sizeof(*s));
    if (atomicfile_read(path, &b, &exists, cause) != 0) {
        buf_free(&b);
        return -1;
    }
    if (!exists) {
        *cause = xasprintf("%s: no such settings file", path);
        buf_free(&b);
        return -1;
    }
    rc = settings_parse(s, path, b.len > 0 ? buf_str(&b) : "", b.len, cause);
    buf_free(&b);
    return rc;
}

static void
origin(struct settings *s, enum settings_key k, bool cli)
{
    free(s->origin[k]);
    if (cli)
        s->origin[k] = xstrdup("command line");
    else if (s->where[k] != NULL)
        s->origin[k] = xstrdup(s->where[k]);
    else
        s->origin[k] = xstrdup("default");
}

int
settings_setup(struct app *app, struct settings *s, char **cause)
{
    const char *file = app->config_file;
    bool cli;

    memset(s, 0, sizeof(*s));
    if (file == NULL && access(SETTINGS_DEFAULT_FILE, F_OK) == 0)
        file = SETTINGS_DEFAULT_FILE;
    if (file != NULL && settings_load(s, file, cause) != 0)
        return -1;

    cli = app->nginx != NULL;
    if (!cli)
        app->nginx = s->str[SK_NGINX] != NULL ? s->str[SK_NGINX] : DEFAULT_NGINX;
    origin(s, SK_NGINX, cli);
    cli = app->conf_given;
    if (!cli && s->str[SK_CONF] != NULL) {
        app->conf = s->str[SK_CONF];
        app->conf_given = true; /* given, as far as the verbs are concerned */
    } else if (!cli) {
        app->conf = "/etc/nginx/nginx.conf";
    }
    origin(s, SK_CONF, cli);
    cli = app->prefix != NULL;
    if (!cli)
        app->prefix = s->str[SK_PREFIX];
    origin(s, SK_PREFIX, cli);
    cli = app->nlogs > 0;
    if (!cli && s->nlogs > 0) {
        free(app->logs);
        app->logs = xcalloc(s->nlogs + 1, sizeof(*app->logs));
        for (size_t i = 0; i < s->nlogs; i++)
            app->logs[i] = s->logs[i];
        app->nlogs = s->nlogs;
    }
    origin(s, SK_LOGS, cli);
    cli = app->state_dir != NULL;
    if (!cli)
        app->state_dir = s->str[SK_STATE_DIR];
    origin(s, SK_STATE_DIR, cli);

    app->cert_dir = s->str[SK_CERT_DIR];
    app->reload_cmd = s->str[SK_RELOAD_CMD];
    app->probe_timeout_ms =
        s->where[SK_PROBE_TIMEOUT] != NULL ? (int)s->num[SK_PROBE_TIMEOUT] * 1000 : 0;
    app->watch_set = s->where[SK_WATCH] != NULL;
    app->watch_seconds = (int)s->num[SK_WATCH];
    app->expiry_set = s->where[SK_EXPIRY_DAYS] != NULL;
    app->expiry_days = (int)s->num[SK_EXPIRY_DAYS];
    app->drills_dir = s->str[SK_DRILLS_DIR];
    app->runbooks_dir = s->str[SK_RUNBOOKS_DIR];
    for (int k = SK_CERT_DIR; k < SK__COUNT; k++)
        origin(s, (enum settings_key)k, false);
    return 0;
}

char *
settings_show(const struct app *app, const struct settings *s)
{
    struct buf b = BUF_INIT;
    struct app copy = *app;
    char *v[SK__COUNT];

    memset(v, 0, sizeof(v));
    v[SK_NGINX] = xstrdup(app->nginx);
    v[SK_CONF] = xstrdup(app->conf);
    v[SK_PREFIX] = xstrdup(app->prefix != NULL ? app->prefix : "(none)");
    if (app->nlogs == 0) {
        v[SK_LOGS] = xstrdup("(the config's error_log)");
    } else {
        struct buf l = BUF_INIT;
        for (size_t i = 0; i < app->nlogs; i++)
            buf_addf(&l, "%s%s", i ? ", " : "", app->logs[i]);
        v[SK_LOGS] = buf_detach(&l);
    }
    v[SK_STATE_DIR] = xstrdup(app_state_dir(&copy));
    v[SK_CERT_DIR] = xstrdup(app->cert_dir != NULL ? app->cert_dir : "(beside the config)");
    v[SK_RELOAD_CMD] =
        xstrdup(app->reload_cmd != NULL ? app->reload_cmd : "(automatic: systemctl or nginx -s)");
    v[SK_PROBE_TIMEOUT] = app->probe_timeout_ms > 0 ? xasprintf("%d", app->probe_timeout_ms / 1000)
                                                    : xstrdup("(proxy_connect_timeout, else 5)");
    v[SK_WATCH] = xasprintf("%d", app->watch_set ? app->watch_seconds : 30);
    v[SK_EXPIRY_DAYS] = xasprintf("%d", app->expiry_set ? app->expiry_days : 30);
    v[SK_DRILLS_DIR] = xstrdup(app->drills_dir != NULL ? app->drills_dir : "(none)");
    v[SK_RUNBOOKS_DIR] = xstrdup(app->runbooks_dir != NULL ? app->runbooks_dir : "(none)");

    buf_addf(&b, "settings file: %s\n", s->file != NULL ? s->file : "(none)");
    for (int k = 0; k < SK__COUNT; k++) {
        buf_addf(&b, "%-15s %s  (%s)\n", keys[k].name, v[k],
                 s->origin[k] != NULL ? s->origin[k] : "default");
        free(v[k]);
    }
    return buf_detach(&b);
}
