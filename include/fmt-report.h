/*
 * fmt-report.h — the renderers of the postmortem report (fmt-report.c): Markdown for a
 * ticket, and JSON (schema tlstriage-report/1, docs/report-schema.json). Both append to a
 * buf, so the CLI prints it and the TUI writes it to a file.
 */
#ifndef TT_FMT_REPORT_H
#define TT_FMT_REPORT_H

struct buf;
struct report;

void fmt_report_md(struct buf *b, const struct report *rep);
void fmt_report_json(struct buf *b, const struct report *rep);

#endif
