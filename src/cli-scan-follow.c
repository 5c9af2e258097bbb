/*
 * cli-scan-follow.c — placeholder for `scan --follow`. The follow work replaces this file
 * wholesale with the tail/poll loop; until then --follow says it is not in this build.
 */
#include "config.h"

#include "cli.h"
#include "scan.h"

int
scan_follow(struct app *app, const struct scan_opts *opts)
{
    (void)app;
    (void)opts;
    return cli_usage_error("scan", "--follow is not in this build yet");
}
