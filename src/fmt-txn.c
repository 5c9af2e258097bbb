/*
 * fmt-txn.c — renders transactions: the outcome of txn_apply / txn_rollback / txn_complete
 * as text, and the journal listing (history) as text or JSON. Runs nothing (txn.c does) and
 * decides no exit code. Used by cli-fix.c, cli-rollback.c, cli-history.c and
 * tests/txn-apply.c. Journal and nginx bytes go through the sanitizer or the JSON writer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "fmt-txn.h"
#include "json.h"
#include "sanitize.h"
#include "txn.h"

void
fmt_txn_result_text(FILE *fp, const char *verb, int rc, const struct txn_result *res,
                    const char *cause)
{
    if (rc == TXN_OK) {
        fprintf(fp, "%s: transaction %s %s", verb, res->id != NULL ? res->id : "?",
                txn_state_name(res->state));
        if (res->reloaded)
            fputs(res->confirmed ? "; nginx reloaded (new workers confirmed)"
                                 : "; nginx reloaded (not confirmed)",
                  fp);
        fputc('\n', fp);
        if (res->note != NULL) {
            fputs("  note: ", fp);
            cli_put_sanitized(fp, res->note);
            fputc('\n', fp);
        }
        if (res->watch_failures > 0) {
            fprintf(fp, "  watch: %d new upstream TLS failure(s), first:\n", res->watch_failures);
            cli_put_lines(fp, "    ", res->watch_first);
        }
        return;
    }
    fprintf(fp, "tlstriage: %s: ", verb);
    cli_put_sanitized(fp, cause != NULL ? cause : "failed");
    fputc('\n', fp);
    if (res->id != NULL)
        fprintf(fp, "  transaction %s is %s\n", res->id, txn_state_name(res->state));
    if ((rc == TXN_ERR_TEST || rc == TXN_ERR_RELOAD) && res->nginx_output != NULL) {
        fputs("  nginx said:\n", fp);
        cli_put_lines(fp, "    ", res->nginx_output);
    }
    if (res->state == TXN_ROLLED_BACK)
        fputs("  the old files are back in place\n", fp);
    else if (res->state == TXN_FAILED)
        fprintf(fp, "  the restore failed: run tlstriage rollback --yes %s\n",
                res->id != NULL ? res->id : "ID");
}

void
fmt_txn_history_json(FILE *fp, const struct txn_info *v, size_t n, bool with_diff)
{
    struct buf b = BUF_INIT;
    struct jw w;

    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "transactions");
    jw_arr_open(&w);
    for (size_t i = 0; i < n; i++) {
        jw_obj_open(&w);
        jw_kstr(&w, "id", v[i].id);
        jw_kstr(&w, "time", v[i].time);
        jw_kstr(&w, "user", v[i].user);
        jw_kstr(&w, "kind", v[i].kind);
        jw_kstr(&w, "state", txn_state_name(v[i].state));
        jw_kbool(&w, "confirmed", v[i].confirmed);
        jw_kstr(&w, "summary", v[i].summary);
        jw_key(&w, "files");
        jw_arr_open(&w);
        for (size_t k = 0; k < v[i].nfiles; k++)
            jw_str(&w, v[i].files[k]);
        jw_arr_close(&w);
        jw_kstr(&w, "reverts", v[i].reverts);
        jw_kstr(&w, "rolled_back_by", v[i].rolled_back_by);
        jw_kstr(&w, "last_step", v[i].last_step);
        jw_kstr(&w, "error", v[i].error);
        if (with_diff)
            jw_kstr(&w, "diff", v[i].diff);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_obj_close(&w);
    buf_addc(&b, '\n');
    if (b.len > 0)
        fwrite(b.p, 1, b.len, fp);
    buf_free(&b);
}

static void
put(FILE *fp, const char *s)
{
    char *c = sanitize_str(s);

    fputs(c, fp);
    free(c);
}

void
fmt_txn_history_text(FILE *fp, const struct txn_info *v, size_t n, bool with_diff)
{
    if (n == 0) {
        fputs("no transactions\n", fp);
        return;
    }
    fprintf(fp, "%-19s  %-20s  %-12s  %-8s  %s\n", "ID", "TIME", "STATE", "USER",
            "SUMMARY / FILES");
    for (size_t i = 0; i < n; i++) {
        char *user = sanitize_str(v[i].user);
        fprintf(fp, "%-19s  %-20s  %-12s  %-8s  ", v[i].id, v[i].time != NULL ? v[i].time : "?",
                txn_state_name(v[i].state), user);
        free(user);
        put(fp, v[i].summary != NULL ? v[i].summary : v[i].kind);
        if (v[i].rolled_back_by != NULL)
            fprintf(fp, " (rolled back by %s)", v[i].rolled_back_by);
        fputc('\n', fp);
        for (size_t k = 0; k < v[i].nfiles; k++) {
            fprintf(fp, "%67s", "");
            put(fp, v[i].files[k]);
            fputc('\n', fp);
        }
        if (v[i].error != NULL) {
            fprintf(fp, "%67s", "error: ");
            put(fp, v[i].error);
            fputc('\n', fp);
        }
        if (with_diff && v[i].diff != NULL) {
            for (const char *p = v[i].diff; *p != '\0';) {
                const char *e = strchr(p, '\n');
                size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
                char *c = sanitize_mem(p, len);
                fprintf(fp, "    %s\n", c);
                free(c);
                p += len + (e != NULL);
            }
        }
    }
}
