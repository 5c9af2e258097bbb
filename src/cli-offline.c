/*
 * cli-offline.c — the front end of the offline fast path: `fix --block FILE|- [--peer-chain
 * FILE] [--log-line TEXT] [--format text|json]` prints each use's offline judgement, its
 * fixes, the corrected block and its diff, and the content of any file a fix would create
 * (never written); `check --block` reads its fragment here. Model: offline.c. Called by
 * cli-fix.c and cli-check.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "buf.h"
#include "cli-offline.h"
#include "fmt-remedy.h"
#include "json.h"
#include "offline.h"
#include "sanitize.h"
#include "xmalloc.h"

#define OFFLINE_CERT_DIR "/etc/nginx/certs"

static int
fail(const char *verb, char *cause)
{
    char *s = sanitize_str(cause);

    fprintf(stderr, "tlstriage: %s: %s\n", verb, s);
    free(s);
    free(cause);
    return EXIT_USAGE;
}

int
cli_offline_load(const char *verb, const char *block, struct offline_block *b)
{
    char *text = NULL, *cause = NULL;
    size_t len = 0;
    int rc;

    if (offline_read_file(block, &text, &len, &cause) != 0)
        return fail(verb, cause);
    rc = offline_block_load(block, text, len, b, &cause);
    free(text);
    return rc != 0 ? fail(verb, cause) : 0;
}

/* Whether the item fails (or is unsafe) with no verified fix. */
static bool
unresolved(const struct offline_item *it)
{
    if (!it->planned)
        return true;
    if (it->judged && it->rc.probe.verdict == PROBE_OK && !it->rc.verification_disabled)
        return false;
    for (size_t k = 0; k < it->rc.nfixes; k++) {
        if (it->rc.fixes[k].verified)
            return false;
    }
    return true;
}

static void
put_text(const struct offline_block *b, const struct offline_result *res, size_t nchain,
         const char *chain_name)
{
    printf("fix --block ");
    cli_put_sanitized(stdout, b->name);
    if (b->wrapper[0] != '\0') {
        printf(": read as %s block(s) inside ", b->kind);
        fputs(b->wrapper, stdout);
    } else
        fputs(": read as a whole config file", stdout);
    puts("; offline: no nginx run, no connection, nothing written");
    if (chain_name != NULL) {
        printf("chain: %zu certificate(s) from ", nchain);
        cli_put_sanitized(stdout, chain_name);
        putchar('\n');
    } else
        puts("chain: none given (--peer-chain FILE): nothing can be verified");
    if (res->n == 0 && strcmp(b->kind, "upstream") == 0)
        puts("no TLS upstream use in it: proxy_ssl_* go in the location or server that "
             "proxies to an upstream block; paste that block with it");
    else if (res->n == 0)
        puts("no TLS upstream use in it (no proxy_pass to https:// or with proxy_ssl on)");
    for (size_t i = 0; i < res->n; i++) {
        const struct offline_item *it = &res->items[i];
        printf("\nuse %zu: ", i + 1);
        cli_put_sanitized(stdout, it->use->context);
        fputs(" (", stdout);
        cli_put_sanitized(stdout, it->rc.file);
        printf(":%u) -> ", it->rc.line);
        cli_put_sanitized(stdout, it->upstream);
        putchar('\n');
        if (it->judged) {
            fputs("  judged offline: ", stdout);
            cli_put_sanitized(stdout, it->rc.cause);
            putchar('\n');
        } else if (it->judgement != NULL) {
            fputs("  ", stdout);
            cli_put_sanitized(stdout, it->judgement);
            putchar('\n');
        }
        for (size_t k = 0; k < it->nnotes; k++) {
            fputs("  note: ", stdout);
            cli_put_sanitized(stdout, it->notes[k]);
            putchar('\n');
        }
        if (it->plan_error != NULL) {
            fputs("  not planned: ", stdout);
            cli_put_sanitized(stdout, it->plan_error);
            putchar('\n');
            continue;
        }
        if (it->rc.nfixes == 0)
            puts(it->judged && it->rc.probe.verdict == PROBE_OK ? "  nothing to fix" : "  no fix");
        for (size_t k = 0; k < it->rc.nfixes; k++) {
            const struct remedy_fix *f = &it->rc.fixes[k];
            fputs("  fix ", stdout);
            cli_put_sanitized(stdout, f->id);
            if (f->verified)
                puts(": verified offline against the given chain");
            else {
                fputs(": not verified: ", stdout);
                const char *why = f->verdict_note != NULL ? f->verdict_note : "?";
                if (strncmp(why, "not verified: ", 14) == 0)
                    why += 14;
                cli_put_sanitized(stdout, why);
                putchar('\n');
            }
            cli_put_lines(stdout, "    ", f->summary);
            if (it->fixes[k].diff != NULL) {
                puts("    diff:");
                cli_put_diff(stdout, "    ", it->fixes[k].diff);
                puts("    corrected block:");
                cli_put_diff(stdout, "    ", it->fixes[k].block);
            }
            for (size_t j = 0; j < f->nfiles; j++) {
                if (f->files[j].config)
                    continue;
                fputs("    would create ", stdout);
                cli_put_sanitized(stdout, f->files[j].path);
                puts(" (not written; its content:)");
                cli_put_lines(stdout, "    ", f->files[j].data);
            }
        }
    }
}

static void
put_json(const struct offline_block *b, const struct offline_result *res, size_t nchain,
         const char *chain_name, const char *log_line)
{
    struct buf out = BUF_INIT;
    struct jw w;

    jw_init(&w, &out);
    jw_obj_open(&w);
    jw_kstr(&w, "input", b->name);
    jw_kstr(&w, "read_as", b->kind);
    jw_kstr(&w, "wrapper", b->wrapper[0] != '\0' ? b->wrapper : NULL);
    jw_kbool(&w, "crlf", b->crlf);
    jw_kstr(&w, "peer_chain", chain_name);
    jw_kint(&w, "chain_certificates", (long long)nchain);
    jw_kstr(&w, "log_line", log_line);
    jw_kstr(&w, "log_upstream", res->log_upstream);
    jw_key(&w, "uses");
    jw_arr_open(&w);
    for (size_t i = 0; i < res->n; i++) {
        const struct offline_item *it = &res->items[i];
        jw_obj_open(&w);
        jw_kstr(&w, "context", it->use->context);
        jw_kstr(&w, "file", it->rc.file);
        jw_kint(&w, "line", it->rc.line);
        jw_kstr(&w, "upstream", it->upstream);
        jw_kbool(&w, "judged", it->judged);
        jw_kstr(&w, "verdict", it->judged ? probe_verdict_name(it->rc.probe.verdict) : NULL);
        jw_kstr(&w, "nginx_message", it->judged ? it->rc.probe.nginx_message : NULL);
        jw_kbool(&w, "verification_disabled", it->rc.verification_disabled);
        jw_kstr(&w, "cause", it->judged ? it->rc.cause : it->judgement);
        jw_kstr(&w, "plan_error", it->plan_error);
        jw_key(&w, "notes");
        jw_arr_open(&w);
        for (size_t k = 0; k < it->nnotes; k++)
            jw_str(&w, it->notes[k]);
        jw_arr_close(&w);
        jw_key(&w, "fixes");
        jw_arr_open(&w);
        for (size_t k = 0; k < it->rc.nfixes; k++) {
            const struct remedy_fix *f = &it->rc.fixes[k];
            jw_obj_open(&w);
            jw_key(&w, "fix");
            fmt_remedy_fix_json(&w, f);
            jw_kstr(&w, "input_diff", it->fixes[k].diff);
            jw_kstr(&w, "corrected_block", it->fixes[k].block);
            jw_key(&w, "new_files");
            jw_arr_open(&w);
            for (size_t j = 0; j < f->nfiles; j++) {
                if (f->files[j].config)
                    continue;
                jw_obj_open(&w);
                jw_kstr(&w, "path", f->files[j].path);
                jw_kstr(&w, "content", f->files[j].data);
                jw_kbool(&w, "written", false);
                jw_obj_close(&w);
            }
            jw_arr_close(&w);
            jw_obj_close(&w);
        }
        jw_arr_close(&w);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_obj_close(&w);
    buf_addc(&out, '\n');
    if (out.len > 0)
        fwrite(out.p, 1, out.len, stdout);
    buf_free(&out);
}

int
cli_fix_offline(struct app *app, const char *verb, const struct cli_offline_args *a,
                struct remedy_opts *ro)
{
    struct offline_block b;
    struct offline_opts o;
    struct offline_result res;
    char *cause = NULL, *text = NULL, *cert_dir = NULL;
    size_t len = 0, nchain = 0;
    int rc;

    (void)app;
    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    if (a->peer_chain != NULL) {
        if (strcmp(a->peer_chain, "-") == 0 && strcmp(a->block, "-") == 0)
            return cli_usage_error(verb, "--block - and --peer-chain - cannot both read stdin");
        if (offline_read_file(a->peer_chain, &text, &len, &cause) != 0 ||
            offline_read_chain(a->peer_chain, text, len, &o.chain, &cause) != 0) {
            free(text);
            return fail(verb, cause);
        }
        free(text);
        nchain = (size_t)sk_X509_num(o.chain);
    }
    if ((rc = cli_offline_load(verb, a->block, &b)) != 0) {
        sk_X509_pop_free(o.chain, X509_free);
        return rc;
    }
    o.log_line = a->log_line;
    o.ro = *ro;
    if (ro->cert_dir == NULL)
        o.ro.cert_dir = OFFLINE_CERT_DIR;
    else if (ro->cert_dir[0] != '/') {
        char cwd[PATH_MAX];
        cert_dir = xasprintf("%s/%s", getcwd(cwd, sizeof(cwd)) != NULL ? cwd : ".", ro->cert_dir);
        o.ro.cert_dir = cert_dir;
    }
    if (offline_plan(&b, &o, &res, &cause) != 0) {
        rc = fail(verb, cause);
        goto out;
    }
    if (a->fmt == FMT_JSON)
        put_json(&b, &res, nchain, a->peer_chain, a->log_line);
    else
        put_text(&b, &res, nchain, a->peer_chain);
    rc = EXIT_ALL_WELL;
    for (size_t i = 0; i < res.n; i++) {
        if (unresolved(&res.items[i]))
            rc = EXIT_FINDINGS;
    }
out:
    offline_result_free(&res);
    offline_block_free(&b);
    sk_X509_pop_free(o.chain, X509_free);
    free(cert_dir);
    return rc;
}
