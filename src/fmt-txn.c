/*
 * fmt-txn.c — renders transactions: the outcome of txn_apply / txn_rollback / txn_complete
 * as text. Runs nothing (txn.c does) and decides no exit code. Used by cli-fix.c,
 * cli-rollback.c and tests/txn-apply.c. Journal and nginx bytes go through the sanitizer.
 */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "fmt-txn.h"
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
