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
void fmt_check_sarif(const struct ngxconf *conf, const struct check_report *r, struct buf *out);

#endif
