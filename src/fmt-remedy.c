/*
 * fmt-remedy.c — renders remedy cases: the diagnose JSON document (effective settings,
 * probe, cause, fixes) and the text of one case that diagnose and fix print. Plans nothing
 * (remedy.c does) and decides no exit code. Used by cli-diagnose.c and cli-fix.c. Config,
 * log and certificate bytes go through the sanitizer (text) or the JSON writer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "triage.h"
#include "cli.h"
#include "fmt-probe.h"
#include "fmt-remedy.h"
#include "json.h"
#include "logscan.h"
#include "remedy.h"
#include "xmalloc.h"

static const char *
origin_name(enum pss_origin o)
{
    return o == PSS_SET ? "set" : o == PSS_INHERITED ? "inherited" : "default";
}

void
fmt_remedy_effective_json(struct jw *w, const struct proxy_ssl_settings *s)
{
    jw_obj_open(w);
    for (int k = 0; k < PSS__COUNT; k++) {
        const struct pss_value *v = &s->v[k];
        if (v->origin == PSS_DEFAULT && !PSS_LISTED_WHEN_DEFAULT(k))
            continue;
        jw_key(w, sslconf_directive(s->family, (enum pss)k));
        jw_obj_open(w);
        jw_kstr(w, "value", v->value);
        jw_kstr(w, "origin", origin_name(v->origin));
        jw_kstr(w, "file", v->file);
        if (v->origin == PSS_DEFAULT)
            jw_knull(w, "line");
        else
            jw_kint(w, "line", v->line);
        jw_kstr(w, "block", v->block);
        jw_obj_close(w);
    }
    jw_obj_close(w);
}

void
fmt_remedy_fix_json(struct jw *w, const struct remedy_fix *f)
{
    jw_obj_open(w);
    jw_kstr(w, "id", f->id);
    jw_key(w, "strategy");
    jw_arr_open(w);
    for (int s = 0; s < RS__COUNT; s++) {
        if (f->strategies & RS_MASK(s))
            jw_str(w, remedy_strategy_name(s));
    }
    jw_arr_close(w);
    jw_kstr(w, "summary", f->summary);
    jw_kbool(w, "verified", f->verified);
    jw_kstr(w, "not_verified_because", f->verdict_note);
    jw_key(w, "directives");
    jw_arr_open(w);
    for (size_t i = 0; i < f->nsets; i++) {
        jw_obj_open(w);
        jw_kstr(w, "directive", sslconf_directive(f->family, f->sets[i].key));
        jw_kstr(w, "value", f->sets[i].value);
        jw_kstr(w, "note", f->sets[i].note);
        jw_kstr(w, "block", f->sets[i].block_label);
        jw_obj_close(w);
    }
    jw_arr_close(w);
    jw_kstr(w, "diff", f->diff);
    jw_kstr(w, "diff_root", f->diff_root);
    jw_kbool(w, "radius_whole", f->radius_whole);
    jw_key(w, "affected");
    jw_arr_open(w);
    for (size_t i = 0; i < f->naffected; i++) {
        const struct remedy_affected *a = &f->affected[i];
        jw_obj_open(w);
        jw_kstr(w, "context", a->context);
        jw_kstr(w, "file", a->file);
        jw_kint(w, "line", a->line);
        jw_kstr(w, "upstream", a->upstream);
        jw_kstr(w, "changes", a->changed);
        jw_kbool(w, "target", a->target);
        jw_kbool(w, "probed", a->probed);
        jw_kstr(w, "before", a->probed ? probe_verdict_name(a->before) : NULL);
        jw_kstr(w, "before_message", a->before_message);
        jw_kstr(w, "after", a->probed ? probe_verdict_name(a->after) : NULL);
        jw_kstr(w, "after_message", a->after_message);
        jw_obj_close(w);
    }
    jw_arr_close(w);
    jw_key(w, "files_written");
    jw_arr_open(w);
    for (size_t i = 0; i < f->nfiles; i++)
        jw_str(w, f->files[i].path);
    jw_arr_close(w);
    jw_obj_close(w);
}

static const char *
origin_words(enum pss_origin o)
{
    return o == PSS_SET ? "set here" : o == PSS_INHERITED ? "inherited" : "nginx's default";
}

/* The cause of an incident the config cannot place: what the log says and why. */
static char *
unplaced_cause(const struct triage_unplaced *u)
{
    return xasprintf("not placed in the config: %s; nginx logged it for %s %s%s%s", u->reason,
                     u->inc->stream ? "stream server" : "server",
                     u->inc->server == NULL      ? "(none named)"
                     : u->inc->server[0] == '\0' ? "\"\" (no server_name)"
                                                 : u->inc->server,
                     u->inc->nsamples > 0 ? ", request " : "",
                     u->inc->nsamples > 0 ? u->inc->samples[0] : "");
}

void
fmt_remedy_unplaced_text(FILE *fp, const struct triage_unplaced *u)
{
    const struct incident *inc = u->inc;

    fputs("upstream ", fp);
    cli_put_sanitized(fp, inc->upstream);
    fputs(" — ", fp);
    cli_put_sanitized(fp, logscan_kind_name(inc->kind));
    fprintf(fp, " (%llu event%s, last ", inc->count, inc->count == 1 ? "" : "s");
    cli_put_sanitized(fp, inc->last_time);
    fputs(")\n  where:  not placed in the config: ", fp);
    cli_put_sanitized(fp, u->reason);
    fputs("\n  log:    ", fp);
    if (inc->stream)
        fputs("stream server ", fp);
    else
        fputs("server ", fp);
    cli_put_sanitized(fp, inc->server == NULL      ? "(none named)"
                          : inc->server[0] == '\0' ? "\"\" (no server_name)"
                                                   : inc->server);
    if (inc->nsamples > 0) {
        fputs(", request ", fp);
        cli_put_sanitized(fp, inc->samples[0]);
    }
    if (inc->file != NULL) {
        fputs(" (", fp);
        cli_put_sanitized(fp, inc->file);
        fprintf(fp, ":%lu)", inc->line);
    }
    fputs("\n  fixes:  none: the block nginx used must be found first (check --conf names the "
          "config nginx runs, and the server and upstream in the log line)\n",
          fp);
}

void
fmt_remedy_text(FILE *fp, const struct triage_item *it, bool with_diff)
{
    const struct tls_use *use = it->use;

    fputs("upstream ", fp);
    cli_put_sanitized(fp, it->upstream);
    fputs(" — ", fp);
    cli_put_sanitized(fp, it->kind);
    if (it->inc != NULL) {
        fprintf(fp, " (%llu event%s, last ", it->inc->count, it->inc->count == 1 ? "" : "s");
        cli_put_sanitized(fp, it->inc->last_time);
        fputc(')', fp);
    }
    fputc('\n', fp);
    fputs("  where:  ", fp);
    cli_put_sanitized(fp, use->context);
    fputs(" (", fp);
    cli_put_sanitized(fp, use->block->file->path);
    fprintf(fp, ":%u)\n", use->block->line);
    if (!it->planned) {
        fputs("  cannot plan: ", fp);
        cli_put_sanitized(fp, it->plan_error);
        fputc('\n', fp);
        return;
    }
    const struct remedy_case *c = &it->rc;
    fputs("  effective settings:\n", fp);
    for (int k = 0; k < PSS__COUNT; k++) {
        const struct pss_value *v = &c->effective.v[k];
        if (v->origin == PSS_DEFAULT && k != PSS_VERIFY && k != PSS_NAME && k != PSS_VERIFY_DEPTH &&
            k != PSS_SERVER_NAME)
            continue;
        fprintf(fp, "    %-30s ", sslconf_directive(c->effective.family, (enum pss)k));
        cli_put_sanitized(fp,
                          v->value != NULL ? v->value : (k == PSS_NAME ? use->proxy_host : "-"));
        fprintf(fp, "  (%s", origin_words(v->origin));
        if (v->origin != PSS_DEFAULT) {
            fputs(", ", fp);
            cli_put_sanitized(fp, v->file);
            fprintf(fp, ":%u", v->line);
            if (v->origin == PSS_INHERITED && v->block != NULL) {
                fputs(" in ", fp);
                cli_put_sanitized(fp, v->block);
            }
        }
        fputs(")\n", fp);
    }
    fprintf(fp, "  probe now: %s", probe_verdict_name(c->probe.verdict));
    if (c->probe.nginx_message != NULL) {
        fputs(": ", fp);
        cli_put_sanitized(fp, c->probe.nginx_message);
    }
    fputc('\n', fp);
    if (c->verification_disabled)
        fputs("  VULNERABLE: proxy_ssl_verify is off: nginx does not check who answers\n", fp);
    fputs("  cause:  ", fp);
    cli_put_sanitized(fp, c->cause);
    fputc('\n', fp);
    if (it->reuse_note != NULL) {
        fputs("  note:   ", fp);
        cli_put_sanitized(fp, it->reuse_note);
        fputc('\n', fp);
    }
    if (c->nfixes == 0) {
        fputs("  fixes:  none on the nginx side", fp);
        fputs(c->probe.verdict == PROBE_OK && !c->verification_disabled ? " needed\n" : "\n", fp);
        return;
    }
    fputs("  fixes:\n", fp);
    for (size_t i = 0; i < c->nfixes; i++) {
        const struct remedy_fix *f = &c->fixes[i];
        fprintf(fp, "    [%zu] %s — %s\n", i + 1, f->id,
                f->verified ? "verified: with this change nginx's handshake succeeds"
                            : "NOT verified (fix --apply refuses it)");
        if (f->verdict_note != NULL)
            cli_put_lines(fp, "        ", f->verdict_note);
        cli_put_lines(fp, "        ", f->summary);
        if (f->naffected > 0)
            fprintf(fp, "        affects: %zu use%s (each probed as it is -> under this fix):\n",
                    f->naffected, f->naffected == 1 ? "" : "s");
        for (size_t k = 0; k < f->naffected; k++) {
            const struct remedy_affected *a = &f->affected[k];
            fputs("          ", fp);
            cli_put_sanitized(fp, a->context);
            fputs(" (", fp);
            cli_put_sanitized(fp, a->file);
            fprintf(fp, ":%u) -> ", a->line);
            cli_put_sanitized(fp, a->upstream);
            fprintf(fp, "%s: %s -> %s (", a->target ? " [the target]" : "",
                    a->probed ? probe_verdict_name(a->before) : "not probed ($variable)",
                    a->probed ? probe_verdict_name(a->after) : "-");
            cli_put_sanitized(fp, a->changed);
            fputs(")\n", fp);
        }
        if (f->strategies & RS_MASK(RS_RELOAD))
            fputs("        writes no file\n", fp);
        for (size_t k = 0; k < f->nfiles; k++) {
            fputs("        writes ", fp);
            cli_put_sanitized(fp, f->files[k].path);
            fputs(f->files[k].config ? "\n" : " (new certificate file, 0644)\n", fp);
        }
        if (with_diff)
            cli_put_diff(fp, "        ", f->diff);
    }
}

/* "stale": {"loaded_at", "loaded_how", "files": [{"path", "directive", "changed_at"}]} */
static void
stale_json(struct jw *w, const struct triage *r, const struct triage_item *it)
{
    char t[32];

    jw_key(w, "stale");
    jw_obj_open(w);
    staleness_time_text(r->load.when, t);
    jw_kstr(w, "loaded_at", t);
    jw_kint(w, "loaded_epoch", (long long)r->load.when);
    jw_kstr(w, "loaded_how", r->load.how);
    jw_kstr(w, "text", it->stale_text);
    jw_key(w, "files");
    jw_arr_open(w);
    for (size_t k = 0; k < it->nstale; k++) {
        jw_obj_open(w);
        jw_kstr(w, "path", it->stale[k].path);
        jw_kstr(w, "directive", it->stale[k].what);
        staleness_time_text(it->stale[k].changed, t);
        jw_kstr(w, "changed_at", t);
        jw_kint(w, "changed_epoch", (long long)it->stale[k].changed);
        jw_obj_close(w);
    }
    jw_arr_close(w);
    jw_obj_close(w);
}

void
fmt_remedy_json(FILE *fp, const struct triage *r)
{
    struct buf b = {0};
    struct jw w;

    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "incidents");
    jw_arr_open(&w);
    for (size_t i = 0; i < r->n; i++) {
        const struct triage_item *it = &r->items[i];
        jw_obj_open(&w);
        jw_kstr(&w, "upstream", it->upstream);
        jw_kstr(&w, "kind", it->kind);
        if (it->inc != NULL)
            jw_kint(&w, "count", (long long)it->inc->count);
        else
            jw_knull(&w, "count");
        jw_kbool(&w, "placed", true);
        jw_knull(&w, "not_placed_because");
        jw_key(&w, "location");
        jw_obj_open(&w);
        jw_kstr(&w, "file", it->use->block->file->path);
        jw_kint(&w, "line", it->use->block->line);
        jw_kstr(&w, "context", it->use->context);
        jw_obj_close(&w);
        jw_key(&w, "effective");
        fmt_remedy_effective_json(&w, &it->use->ssl);
        if (!it->planned) {
            jw_knull(&w, "probe");
            jw_kstr(&w, "cause", it->plan_error);
            jw_kbool(&w, "verification_disabled", false);
            jw_key(&w, "fixes");
            jw_arr_open(&w);
            jw_arr_close(&w);
        } else {
            jw_key(&w, "probe");
            fmt_probe_json(&w, &it->rc.probe);
            jw_kstr(&w, "cause", it->rc.cause);
            jw_kbool(&w, "verification_disabled", it->rc.verification_disabled);
            if (it->nstale > 0) /* only then: scripts keyed on the other fields keep working */
                stale_json(&w, r, it);
            if (it->reuse_note != NULL)
                jw_kstr(&w, "session_reuse_note", it->reuse_note);
            jw_key(&w, "fixes");
            jw_arr_open(&w);
            for (size_t k = 0; k < it->rc.nfixes; k++)
                fmt_remedy_fix_json(&w, &it->rc.fixes[k]);
            jw_arr_close(&w);
        }
        jw_obj_close(&w);
    }
    for (size_t i = 0; i < r->nunplaced; i++) {
        const struct triage_unplaced *u = &r->unplaced[i];
        char *cause = unplaced_cause(u);
        jw_obj_open(&w);
        jw_kstr(&w, "upstream", u->inc->upstream);
        jw_kstr(&w, "kind", logscan_kind_name(u->inc->kind));
        jw_kint(&w, "count", (long long)u->inc->count);
        jw_kbool(&w, "placed", false);
        jw_kstr(&w, "not_placed_because", u->reason);
        jw_knull(&w, "location");
        jw_knull(&w, "effective");
        jw_knull(&w, "probe");
        jw_kstr(&w, "cause", cause);
        jw_kbool(&w, "verification_disabled", false);
        jw_key(&w, "fixes");
        jw_arr_open(&w);
        jw_arr_close(&w);
        jw_obj_close(&w);
        free(cause);
    }
    jw_arr_close(&w);
    jw_obj_close(&w);
    buf_addc(&b, '\n');
    if (b.len > 0)
        fwrite(b.p, 1, b.len, fp);
    buf_free(&b);
}
