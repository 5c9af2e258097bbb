/*
 * fmt-check.h — the renderers of a check report (fmt-check.c). Text is sanitized for a
 * terminal; JSON and SARIF are valid JSON. Parse errors of conf (if any) are included too.
 */
#ifndef TT_FMT_CHECK_H
#define TT_FMT_CHECK_H

#include "check.h"
#include "ngxconf.h"

struct buf;

void fmt_check_text(const struct ngxconf *conf, const struct check_report *r, struct buf *out);
void fmt_check_json(const struct ngxconf *conf, const struct check_report *r, struct buf *out);
/* The warnings of uses the next reload breaks (triage_reload_risks), after the findings:
 * as text lines, or in the JSON document as "reload_warnings" (rw NULL: no such key). */
struct triage_reload_risks;
void fmt_check_reload_text(const struct triage_reload_risks *rw, struct buf *out);
void fmt_check_json_reload(const struct ngxconf *conf, const struct check_report *r,
                           const struct triage_reload_risks *rw, struct buf *out);
void fmt_check_sarif(const struct ngxconf *conf, const struct check_report *r, struct buf *out);

#endif
