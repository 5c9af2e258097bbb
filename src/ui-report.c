/*
 * ui-report.c — the interface's R: builds the postmortem (report.c, redacted, Markdown via
 * fmt-report.c) over the same logs, config and --since as the screen, and writes it to
 * STATE/reports/report-YYYYMMDD-HHMMSS.md (0600); the status line gives the path. Draws
 * nothing itself. Called by ui.c for UA_REPORT.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "atomicfile.h"
#include "buf.h"
#include "fmt-report.h"
#include "report.h"
#include "ui.h"
#include "xmalloc.h"

void
ui_report_write(struct ui *ui)
{
    struct report_opts o;
    struct report rep;
    struct buf out = BUF_INIT;
    char *dir = NULL, *path = NULL, *cause = NULL, stamp[32];
    struct tm tm;

    memset(&o, 0, sizeof(o));
    o.now = time(NULL);
    o.logs = ui->app->logs;
    o.nlogs = ui->app->nlogs;
    o.conf = ui->app->conf;
    o.prefix = ui->app->prefix;
    o.state_dir = app_state_dir(ui->app);
    o.since_given = ui->opts.since_given;
    o.since = ui->opts.since;
    o.redact = true;
    if (report_build(&o, &rep, &cause) == -1) {
        ui_message(ui, "report not written: %s", cause);
        goto out;
    }
    fmt_report_md(&out, &rep);
    report_free(&rep);
    gmtime_r(&o.now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    dir = xasprintf("%s/reports", o.state_dir);
    path = xasprintf("%s/report-%s.md", dir, stamp);
    if (atomicfile_mkdir_p(dir, &cause) == -1 ||
        atomicfile_write(path, out.p, out.len, 0600, &cause) == -1) {
        ui_message(ui, "report not written: %s", cause);
        goto out;
    }
    ui_message(ui, "report written (redacted): %s", path);
out:
    free(cause);
    free(dir);
    free(path);
    buf_free(&out);
}
