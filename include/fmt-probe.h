/*
 * fmt-probe.h — the renderers of probe results (fmt-probe.c): JSON objects of the probe
 * schema, the text report, the --all table and the Prometheus textfile. Text is sanitized
 * for a terminal; JSON is valid for any bytes.
 */
#ifndef TT_FMT_PROBE_H
#define TT_FMT_PROBE_H

#include <stddef.h>
#include <stdio.h>

#include "certinfo.h"
#include "probe.h"

struct jw;

/* "DNS:a.example, IP:10.0.0.1" (allocated, raw bytes: sanitize before printing). */
char *fmt_probe_san_text(const struct cert_info *ci);

/* "revoked at TIME (reason)", "not revoked (CRL from ISSUER, next update TIME)", "no CRL
 * from its issuer", or NULL when no CRL is configured (allocated, raw: sanitize it). */
char *fmt_probe_revocation_text(const struct cert_info *ci);

/* Writes ci as one JSON object with the probe schema's chain-entry keys. */
void fmt_probe_cert_json(struct jw *w, const struct cert_info *ci);

/* Writes one result as the JSON object of the probe schema. */
void fmt_probe_json(struct jw *w, const struct probe_result *r);

/* The probe verb's JSON document to fp: one object, or an array of them when n > 1; '\n'. */
void fmt_probe_json_list(FILE *fp, const struct probe_result *res, size_t n);

/* One result as text: verdict, nginx's message, settings, chain, what would change it. */
void fmt_probe_text(FILE *fp, const struct probe_result *r, const struct probe_opts *o);

/* The --all table: one row per result (labels[i] says where its settings come from). */
void fmt_probe_table(FILE *fp, const struct probe_result *res, const struct probe_opts *opts,
                     const char *const *labels, size_t n);

/* The Prometheus textfile: verify_ok and leaf expiry gauges labelled with upstream and
 * location (locations may be NULL). */
void fmt_probe_prometheus(FILE *fp, const struct probe_result *res, size_t n,
                          const char *const *locations);

#endif
