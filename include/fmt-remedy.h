/*
 * fmt-remedy.h — the renderers of remedy cases (fmt-remedy.c): the diagnose JSON and its
 * parts, and one case as text. Text is sanitized for a terminal; JSON is valid for any bytes.
 */
#ifndef TT_FMT_REMEDY_H
#define TT_FMT_REMEDY_H

#include <stdbool.h>
#include <stdio.h>

#include "triage.h"
#include "remedy.h"

struct jw;

/* The "effective" object of the diagnose JSON: directive → {value, origin, file, line}. */
void fmt_remedy_effective_json(struct jw *w, const struct proxy_ssl_settings *s);
/* One fix as the diagnose JSON object. */
void fmt_remedy_fix_json(struct jw *w, const struct remedy_fix *f);

/* The diagnose JSON document ({"incidents": [...]}: the placed ones, then those the config
 * cannot place, "placed": false) and '\n' to fp. */
void fmt_remedy_json(FILE *fp, const struct triage *r);

/* An incident the config cannot place, as text (sanitized): what the log says and why. */
void fmt_remedy_unplaced_text(FILE *fp, const struct triage_unplaced *u);

/* One case as text (sanitized): where, effective values, probe, cause, fixes. */
void fmt_remedy_text(FILE *fp, const struct triage_item *it, bool with_diff);

#endif
