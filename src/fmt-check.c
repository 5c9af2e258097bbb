/*
 * fmt-check.c — renders a check report (check.c) as text, JSON or SARIF 2.1.0, the config's
 * parse errors included. Appends to a struct buf and never prints itself; decides no exit
 * code. Used by cli-check.c. Config bytes go through sanitize_add (text) or the JSON writer.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "fmt-check.h"
#include "json.h"
#include "sanitize.h"
#include "triage.h"
#include "xmalloc.h"

static const char *
sev_name(enum check_severity s)
{
    return s == CHECK_ERROR ? "error" : "warning";
}

void
fmt_check_text(const struct ngxconf *conf, const struct check_report *r, struct buf *out)
{
    for (size_t i = 0; i < conf->nerrors; i++) {
        const struct ngx_error *e = &conf->errors[i];
        buf_adds(out, "parse error: ");
        if (e->file != NULL) {
            sanitize_add(out, e->file, strlen(e->file));
            buf_addf(out, ":%u: ", e->line);
        }
        sanitize_add(out, e->message, strlen(e->message));
        buf_addc(out, '\n');
    }
    for (size_t i = 0; i < r->nfindings; i++) {
        const struct check_finding *f = &r->findings[i];
        sanitize_add(out, f->file, strlen(f->file));
        buf_addf(out, ":%u: %s %s [", f->line, sev_name(f->severity), f->rule);
        sanitize_add(out, f->context, strlen(f->context));
        buf_adds(out, "] ");
        sanitize_add(out, f->message, strlen(f->message));
        buf_adds(out, "\n    fix: ");
        sanitize_add(out, f->fix, strlen(f->fix));
        buf_addc(out, '\n');
    }
    if (r->ip_rule != NULL) {
        buf_adds(out, "note: ");
        sanitize_add(out, r->ip_rule, strlen(r->ip_rule));
        buf_addc(out, '\n');
    }
    buf_addf(out, "%zu TLS upstream use%s checked: %zu error%s, %zu warning%s\n", r->nuses,
             r->nuses == 1 ? "" : "s", r->nerrors, r->nerrors == 1 ? "" : "s",
             r->nfindings - r->nerrors, r->nfindings - r->nerrors == 1 ? "" : "s");
}

void
fmt_check_reload_text(const struct triage_reload_risks *rw, struct buf *out)
{
    for (size_t i = 0; rw != NULL && i < rw->n; i++) {
        const struct triage_reload_risk *x = &rw->v[i];
        sanitize_add(out, x->file, strlen(x->file));
        buf_addf(out, ":%u: warning: ", x->line);
        sanitize_add(out, x->text, strlen(x->text));
        buf_adds(out, "\n    fix: put back a file nginx can use before anything reloads nginx\n");
    }
}

void
fmt_check_json(const struct ngxconf *conf, const struct check_report *r, struct buf *out)
{
    fmt_check_json_reload(conf, r, NULL, out);
}

void
fmt_check_json_reload(const struct ngxconf *conf, const struct check_report *r,
                      const struct triage_reload_risks *rw, struct buf *out)
{
    struct jw w;

    jw_init(&w, out);
    jw_obj_open(&w);
    jw_key(&w, "findings");
    jw_arr_open(&w);
    for (size_t i = 0; i < r->nfindings; i++) {
        const struct check_finding *f = &r->findings[i];
        jw_obj_open(&w);
        jw_kstr(&w, "rule", f->rule);
        jw_kstr(&w, "severity", sev_name(f->severity));
        jw_kstr(&w, "file", f->file);
        jw_kint(&w, "line", f->line);
        jw_kstr(&w, "context", f->context);
        jw_kstr(&w, "message", f->message);
        jw_kstr(&w, "fix", f->fix);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_key(&w, "errors");
    jw_arr_open(&w);
    for (size_t i = 0; i < conf->nerrors; i++) {
        const struct ngx_error *e = &conf->errors[i];
        jw_obj_open(&w);
        jw_kstr(&w, "file", e->file);
        jw_kint(&w, "line", e->line);
        jw_kstr(&w, "message", e->message);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_kint(&w, "uses", (long long)r->nuses);
    jw_kstr(&w, "ip_rule", r->ip_rule);
    if (rw != NULL && rw->load_known) { /* nginx runs this config: keep other outputs as were */
        jw_key(&w, "reload_warnings");
        jw_arr_open(&w);
        for (size_t i = 0; i < rw->n; i++) {
            const struct triage_reload_risk *x = &rw->v[i];
            jw_obj_open(&w);
            jw_kstr(&w, "file", x->file);
            jw_kint(&w, "line", x->line);
            jw_kstr(&w, "context", x->context);
            jw_kstr(&w, "upstream", x->upstream);
            jw_kstr(&w, "changed", x->changed);
            jw_kstr(&w, "message", x->message);
            jw_kstr(&w, "text", x->text);
            jw_obj_close(&w);
        }
        jw_arr_close(&w);
    }
    jw_obj_close(&w);
    buf_addc(out, '\n');
}

static void
sarif_location(struct jw *w, const char *file, unsigned line)
{
    char *uri = file[0] == '/' ? xasprintf("file://%s", file) : xstrdup(file);

    jw_key(w, "locations");
    jw_arr_open(w);
    jw_obj_open(w);
    jw_key(w, "physicalLocation");
    jw_obj_open(w);
    jw_key(w, "artifactLocation");
    jw_obj_open(w);
    jw_kstr(w, "uri", uri);
    jw_obj_close(w);
    if (line > 0) {
        jw_key(w, "region");
        jw_obj_open(w);
        jw_kint(w, "startLine", line);
        jw_obj_close(w);
    }
    jw_obj_close(w);
    jw_obj_close(w);
    jw_arr_close(w);
    free(uri);
}

void
fmt_check_sarif(const struct ngxconf *conf, const struct check_report *r, struct buf *out)
{
    struct jw w;

    jw_init(&w, out);
    jw_obj_open(&w);
    jw_kstr(&w, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    jw_kstr(&w, "version", "2.1.0");
    jw_key(&w, "runs");
    jw_arr_open(&w);
    jw_obj_open(&w);
    jw_key(&w, "tool");
    jw_obj_open(&w);
    jw_key(&w, "driver");
    jw_obj_open(&w);
    jw_kstr(&w, "name", "tlstriage");
    jw_kstr(&w, "version", PACKAGE_VERSION);
    jw_key(&w, "rules");
    jw_arr_open(&w);
    for (size_t i = 0; i < check_nrules; i++) {
        jw_obj_open(&w);
        jw_kstr(&w, "id", check_rules[i].id);
        jw_key(&w, "shortDescription");
        jw_obj_open(&w);
        jw_kstr(&w, "text", check_rules[i].summary);
        jw_obj_close(&w);
        jw_key(&w, "defaultConfiguration");
        jw_obj_open(&w);
        jw_kstr(&w, "level", strcmp(check_rules[i].severity, "warning") == 0 ? "warning" : "error");
        jw_obj_close(&w);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_obj_close(&w);
    jw_obj_close(&w);
    jw_key(&w, "results");
    jw_arr_open(&w);
    for (size_t i = 0; i < r->nfindings; i++) {
        const struct check_finding *f = &r->findings[i];
        char *text = xasprintf("%s [%s] Fix: %s", f->message, f->context, f->fix);
        jw_obj_open(&w);
        jw_kstr(&w, "ruleId", f->rule);
        jw_kint(&w, "ruleIndex", strtol(f->rule + 2, NULL, 10) - 1);
        jw_kstr(&w, "level", sev_name(f->severity));
        jw_key(&w, "message");
        jw_obj_open(&w);
        jw_kstr(&w, "text", text);
        jw_obj_close(&w);
        sarif_location(&w, f->file, f->line);
        jw_obj_close(&w);
        free(text);
    }
    jw_arr_close(&w);
    if (conf->nerrors > 0) {
        jw_key(&w, "invocations");
        jw_arr_open(&w);
        jw_obj_open(&w);
        jw_kbool(&w, "executionSuccessful", false);
        jw_key(&w, "toolExecutionNotifications");
        jw_arr_open(&w);
        for (size_t i = 0; i < conf->nerrors; i++) {
            const struct ngx_error *e = &conf->errors[i];
            jw_obj_open(&w);
            jw_kstr(&w, "level", "error");
            jw_key(&w, "message");
            jw_obj_open(&w);
            jw_kstr(&w, "text", e->message);
            jw_obj_close(&w);
            if (e->file != NULL)
                sarif_location(&w, e->file, e->line);
            jw_obj_close(&w);
        }
        jw_arr_close(&w);
        jw_obj_close(&w);
        jw_arr_close(&w);
    }
    jw_obj_close(&w);
    jw_arr_close(&w);
    jw_obj_close(&w);
    buf_addc(out, '\n');
}
