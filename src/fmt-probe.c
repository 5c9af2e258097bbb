/*
 * fmt-probe.c — renders probe results: one result (and a certificate) as the probe schema's
 * JSON, the text report with the chain and the what-ifs, the --all table and the Prometheus
 * textfile. Probes nothing (probe.c does) and decides no exit code. Used by cli-probe.c and,
 * for the JSON, fmt-remedy.c. Certificate and config bytes go through sanitize_* in text
 * and through the JSON writer in JSON.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "certinfo.h"
#include "fmt-probe.h"
#include "json.h"
#include "probe.h"
#include "sanitize.h"
#include "xmalloc.h"

char *
fmt_probe_san_text(const struct cert_info *ci)
{
    struct buf b = BUF_INIT;

    for (size_t i = 0; i < ci->nsan; i++)
        buf_addf(&b, "%s%s:%s", i ? ", " : "", ci->san[i].type == SAN_DNS ? "DNS" : "IP",
                 ci->san[i].value);
    if (ci->nsan_total > ci->nsan)
        buf_addf(&b, ", ... (%zu more)", ci->nsan_total - ci->nsan);
    return buf_detach(&b);
}

void
fmt_probe_cert_json(struct jw *w, const struct cert_info *ci)
{
    jw_obj_open(w);
    jw_kstr(w, "subject", ci->subject);
    jw_kstr(w, "issuer", ci->issuer);
    jw_kstr(w, "serial", ci->serial);
    jw_key(w, "san");
    jw_arr_open(w);
    for (size_t i = 0; i < ci->nsan; i++) {
        struct buf b = BUF_INIT;
        buf_addf(&b, "%s:", ci->san[i].type == SAN_DNS ? "DNS" : "IP");
        buf_adds(&b, ci->san[i].value);
        jw_strn(w, b.p, b.len);
        buf_free(&b);
    }
    jw_arr_close(w);
    jw_kstr(w, "not_before", ci->not_before_s);
    jw_kstr(w, "not_after", ci->not_after_s);
    jw_kint(w, "days_left", ci->days_left);
    jw_kstr(w, "key", ci->key);
    jw_kstr(w, "sig_alg", ci->sig_alg);
    jw_kstr(w, "sha256", ci->sha256);
    jw_kbool(w, "is_ca", ci->is_ca);
    jw_kbool(w, "self_signed", ci->self_signed);
    jw_kbool(w, "trusted", ci->trusted);
    if (ci->revocation != CERT_REV_UNCHECKED) { /* only when a CRL is configured */
        static const char *const status[] = {NULL, "not_revoked", "revoked", "no_crl"};
        jw_key(w, "revocation");
        jw_obj_open(w);
        jw_kstr(w, "status", status[ci->revocation]);
        if (ci->revocation == CERT_REV_REVOKED) {
            jw_kstr(w, "revoked_at", ci->revoked_at);
            if (ci->revoked_reason != NULL)
                jw_kstr(w, "reason", ci->revoked_reason);
            else
                jw_knull(w, "reason");
        }
        if (ci->crl_issuer != NULL) {
            jw_kstr(w, "crl_issuer", ci->crl_issuer);
            jw_kstr(w, "crl_next_update", ci->crl_next_update);
        }
        jw_obj_close(w);
    }
    jw_obj_close(w);
}

char *
fmt_probe_revocation_text(const struct cert_info *ci)
{
    switch (ci->revocation) {
    case CERT_REV_REVOKED:
        return xasprintf("revoked at %s (%s)", ci->revoked_at,
                         ci->revoked_reason != NULL ? ci->revoked_reason : "no reason given");
    case CERT_REV_GOOD:
        return xasprintf("not revoked (CRL from %s, next update %s)", ci->crl_issuer,
                         ci->crl_next_update);
    case CERT_REV_NO_CRL:
        return xstrdup("no CRL from its issuer");
    default:
        return NULL;
    }
}

static void
kverdict(struct jw *w, const char *key, enum probe_verdict v)
{
    const char *s = probe_verdict_name(v);

    if (s == NULL)
        jw_knull(w, key);
    else
        jw_kstr(w, key, s);
}

void
fmt_probe_json(struct jw *w, const struct probe_result *r)
{
    jw_obj_open(w);
    jw_kstr(w, "upstream", r->upstream);
    jw_kstr(w, "location", r->location);
    jw_kstr(w, "name", r->name);
    jw_kstr(w, "sni", r->sni);
    kverdict(w, "verdict", r->verdict);
    if (r->verify_code < 0)
        jw_knull(w, "verify_code");
    else
        jw_kint(w, "verify_code", r->verify_code);
    jw_kstr(w, "nginx_message", r->nginx_message);
    jw_kstr(w, "phase", r->phase);
    char *hint = probe_hint(r);
    jw_kstr(w, "hint", hint);
    free(hint);
    jw_kstr(w, "family", sslconf_family_name(r->family));
    jw_kstr(w, "alpn", r->alpn);
    jw_kstr(w, "unchecked", r->unchecked);
    jw_kstr(w, "protocol", r->protocol);
    jw_kstr(w, "cipher", r->cipher);
    jw_kstr(w, "name_rule", r->name_rule);
    jw_kint(w, "chain_length", (long long)r->chain_total);
    jw_key(w, "chain");
    jw_arr_open(w);
    for (size_t i = 0; i < r->nchain; i++)
        fmt_probe_cert_json(w, &r->chain[i]);
    jw_arr_close(w);
    jw_key(w, "verified_chain");
    if (r->nverified == 0)
        jw_null(w);
    else {
        jw_arr_open(w);
        for (size_t i = 0; i < r->nverified; i++)
            fmt_probe_cert_json(w, &r->verified[i]);
        jw_arr_close(w);
    }
    jw_key(w, "what_if");
    if (!r->what_if.computed)
        jw_null(w);
    else {
        const struct probe_whatif *wi = &r->what_if;
        jw_obj_open(w);
        kverdict(w, "unlimited_depth", wi->unlimited_depth);
        kverdict(w, "with_sni", wi->with_sni);
        kverdict(w, "trust_presented_leaf", wi->trust_leaf);
        kverdict(w, "trust_presented_root", wi->trust_root);
        kverdict(w, "add_intermediate", wi->add_intermediate);
        jw_kstr(w, "intermediate_note", wi->intermediate_note);
        kverdict(w, "system_store", wi->system_store);
        jw_key(w, "names");
        jw_arr_open(w);
        for (size_t i = 0; i < wi->nnames; i++)
            jw_str(w, wi->names[i]);
        jw_arr_close(w);
        jw_obj_close(w);
    }
    if (r->anchor_not_after == 0)
        jw_knull(w, "anchor_days_left");
    else
        jw_kint(w, "anchor_days_left", r->anchor_days_left);
    jw_kint(w, "elapsed_ms", r->elapsed_ms);
    jw_obj_close(w);
}

void
fmt_probe_json_list(FILE *fp, const struct probe_result *res, size_t n)
{
    struct buf b = BUF_INIT;
    struct jw w;
    jw_init(&w, &b);
    if (n > 1)
        jw_arr_open(&w);
    for (size_t i = 0; i < n; i++)
        fmt_probe_json(&w, &res[i]);
    if (n > 1)
        jw_arr_close(&w);
    buf_addc(&b, '\n');
    fputs(buf_str(&b), fp);
    buf_free(&b);
}

/* ---- text ---- */

static void
put_sanitized(FILE *fp, const char *label, const char *s)
{
    char *t = sanitize_str(s);
    fprintf(fp, "%s%s\n", label, t);
    free(t);
}

/* What a what-if verdict means, in words; name is a proxy_ssl_name that would pass, when
 * the same leaf is kept (so a remaining name mismatch has a fix too). */
static void
put_would(FILE *fp, enum probe_verdict v, const char *name, enum pss_family fam)
{
    char *n;

    switch (v) {
    case PROBE_OK:
        fputs("nginx would then succeed\n", fp);
        break;
    case PROBE_NAME_MISMATCH:
        if (name == NULL) {
            fputs("the chain would verify, but the name would still not match\n", fp);
            break;
        }
        n = sanitize_str(name);
        fprintf(fp,
                "the chain would verify; with %s %s as well, nginx would "
                "succeed\n",
                sslconf_directive(fam, PSS_NAME), n);
        free(n);
        break;
    case PROBE_VERIFY_ERROR:
        fputs("still a verify error\n", fp);
        break;
    default:
        fprintf(fp, "%s\n", probe_verdict_name(v) != NULL ? probe_verdict_name(v) : "not tried");
    }
}

static void
print_cert(FILE *fp, size_t i, const struct cert_info *ci)
{
    char *san = fmt_probe_san_text(ci);

    fprintf(fp, "  [%zu]", i);
    put_sanitized(fp, " subject: ", ci->subject);
    put_sanitized(fp, "      issuer:  ", ci->issuer);
    put_sanitized(fp, "      SAN:     ", san[0] != '\0' ? san : "(none)");
    fprintf(fp, "      valid:   %s .. %s (%ld days %s)\n", ci->not_before_s, ci->not_after_s,
            ci->days_left < 0 ? -ci->days_left : ci->days_left,
            ci->days_left < 0 ? "ago: EXPIRED" : "left");
    put_sanitized(fp, "      serial:  ", ci->serial);
    fprintf(fp, "      key:     %s, signed with %s\n", ci->key, ci->sig_alg);
    fprintf(fp, "      sha256:  %s\n", ci->sha256);
    fprintf(fp, "      CA: %s, self-signed: %s, in the trusted file: %s\n",
            ci->is_ca ? "yes" : "no", ci->self_signed ? "yes" : "no", ci->trusted ? "yes" : "no");
    char *rev = fmt_probe_revocation_text(ci);
    if (rev != NULL)
        put_sanitized(fp, "      revocation: ", rev);
    free(rev);
    free(san);
}

static void
print_fixes(FILE *fp, const struct probe_result *r, const struct probe_opts *o)
{
    const struct probe_whatif *w = &r->what_if;

    if (!w->computed || r->verdict == PROBE_OK)
        return;
    enum pss_family fam = o->family;
    const char *d_trusted = sslconf_directive(fam, PSS_TRUSTED_CERTIFICATE);

    fprintf(fp, "what would change the verdict:\n");
    const char *name = w->nnames > 0 && strchr(w->names[0], '*') == NULL ? w->names[0] : NULL;
    if (w->unlimited_depth != PROBE_NOT_TRIED && r->verdict == PROBE_VERIFY_ERROR) {
        fprintf(fp, "  - a larger %s (now %d): ", sslconf_directive(fam, PSS_VERIFY_DEPTH),
                o->depth);
        put_would(fp, w->unlimited_depth, name, fam);
    }
    if (w->with_sni != PROBE_NOT_TRIED) {
        fprintf(fp, "  - %s on (the upstream may pick its certificate by SNI): ",
                sslconf_directive(fam, PSS_SERVER_NAME));
        put_would(fp, w->with_sni, NULL, fam);
    }
    if (w->trust_leaf != PROBE_NOT_TRIED) {
        fprintf(fp, "  - pin the presented self-signed certificate in %s: ", d_trusted);
        put_would(fp, w->trust_leaf, name, fam);
    }
    if (w->trust_root != PROBE_NOT_TRIED) {
        fprintf(fp, "  - add the presented root to %s: ", d_trusted);
        put_would(fp, w->trust_root, name, fam);
    }
    if (w->intermediate_note != NULL)
        put_sanitized(fp, "  - intermediate: ", w->intermediate_note);
    if (w->add_intermediate != PROBE_NOT_TRIED) {
        fprintf(fp, "  - add that intermediate to %s: ", d_trusted);
        put_would(fp, w->add_intermediate, name, fam);
    }
    if (w->system_store != PROBE_NOT_TRIED) {
        fprintf(fp, "  - the system CA store as %s: ", d_trusted);
        put_would(fp, w->system_store, name, fam);
    }
    if (r->verdict == PROBE_NAME_MISMATCH || w->nnames > 0) {
        if (w->nnames == 0)
            fprintf(fp, "  - no name in the certificate would pass as %s\n",
                    sslconf_directive(fam, PSS_NAME));
        for (size_t i = 0; i < w->nnames; i++) {
            char *n = sanitize_str(w->names[i]);
            fprintf(fp, "  - %s %s; would pass the name check\n", sslconf_directive(fam, PSS_NAME),
                    n);
            free(n);
        }
    }
    fprintf(fp,
            "  (%s off is never a fix: it hands every request to whoever "
            "answers on that address)\n",
            sslconf_directive(fam, PSS_VERIFY));
}

void
fmt_probe_text(FILE *fp, const struct probe_result *r, const struct probe_opts *o)
{
    char *up = sanitize_str(r->upstream), *name = sanitize_str(r->name);

    if (r->verdict == PROBE_OK)
        fprintf(fp, "%s: OK\n", up);
    else
        fprintf(fp, "%s: FAIL %s\n", up, probe_verdict_name(r->verdict));
    if (r->nginx_message != NULL) {
        put_sanitized(fp, "  nginx logs: ", r->nginx_message);
        if (r->phase != NULL)
            fprintf(fp, "    ... while %s\n", r->phase);
    } else
        fprintf(fp, "  nginx would complete the handshake and pass the request on\n");
    char *hint = probe_hint(r);
    if (hint != NULL)
        fprintf(fp, "  likely: %s\n", hint);
    free(hint);
    if (r->alpn != NULL) {
        char *a = sanitize_str(r->alpn);
        fprintf(fp, "  ALPN: %s\n", a);
        free(a);
    }
    if (r->unchecked != NULL)
        fprintf(fp, "  not checked: %s\n", r->unchecked);
    fprintf(fp, "  name \"%s\", SNI %s, depth %d, %s%s%s, %ld ms\n", name,
            r->sni != NULL ? "sent" : "not sent", o->depth,
            r->protocol != NULL ? r->protocol : "no handshake", r->cipher != NULL ? " " : "",
            r->cipher != NULL ? r->cipher : "", r->elapsed_ms);
    fprintf(fp, "  name rule: %s\n", r->name_rule);
    if (r->anchor_not_after != 0)
        fprintf(fp, "  trusted file: its earliest certificate expiry is %ld days %s\n",
                r->anchor_days_left < 0 ? -r->anchor_days_left : r->anchor_days_left,
                r->anchor_days_left < 0 ? "ago (EXPIRED)" : "away");
    if (o->verify && o->trusted == NULL)
        fprintf(fp,
                "  note: no trusted file given: nothing is trusted (nginx -t refuses "
                "%s on without %s)\n",
                sslconf_directive(o->family, PSS_VERIFY),
                sslconf_directive(o->family, PSS_TRUSTED_CERTIFICATE));
    if (r->chain_total > 0) {
        fprintf(fp, "chain as sent (%zu certificate%s%s):\n", r->chain_total,
                r->chain_total == 1 ? "" : "s",
                r->chain_total > r->nchain ? ", only the first shown" : "");
        for (size_t i = 0; i < r->nchain; i++)
            print_cert(fp, i, &r->chain[i]);
    }
    if (r->nverified > 0) {
        fprintf(fp, "verified chain:\n");
        for (size_t i = 0; i < r->nverified; i++) {
            fprintf(fp, "  [%zu]", i);
            put_sanitized(fp, " ", r->verified[i].subject);
        }
    }
    print_fixes(fp, r, o);
    free(up);
    free(name);
}

/* ---- prometheus textfile ---- */

/* A label value: sanitized (no control bytes), then escaped as the text format wants. */
static void
prom_label(struct buf *b, const char *s)
{
    char *t = sanitize_str(s != NULL ? s : "");

    for (const char *p = t; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"')
            buf_addf(b, "\\%c", *p);
        else
            buf_addc(b, *p);
    }
    free(t);
}

void
fmt_probe_prometheus(FILE *fp, const struct probe_result *res, size_t n,
                     const char *const *locations)
{
    struct buf b = BUF_INIT;
    time_t now = time(NULL);

    buf_adds(&b, "# HELP tlstriage_upstream_verify_ok 1 when nginx would complete the TLS "
                 "handshake with the upstream and pass the request on\n"
                 "# TYPE tlstriage_upstream_verify_ok gauge\n");
    for (size_t i = 0; i < n; i++) {
        buf_adds(&b, "tlstriage_upstream_verify_ok{upstream=\"");
        prom_label(&b, res[i].upstream);
        buf_adds(&b, "\",location=\"");
        prom_label(&b, locations != NULL ? locations[i] : "");
        buf_addf(&b, "\"} %d\n", res[i].verdict == PROBE_OK);
    }
    buf_adds(&b, "# HELP tlstriage_upstream_cert_expiry_seconds seconds until the upstream's "
                 "leaf certificate expires\n"
                 "# TYPE tlstriage_upstream_cert_expiry_seconds gauge\n");
    for (size_t i = 0; i < n; i++) {
        if (res[i].nchain == 0)
            continue;
        buf_adds(&b, "tlstriage_upstream_cert_expiry_seconds{upstream=\"");
        prom_label(&b, res[i].upstream);
        buf_adds(&b, "\",location=\"");
        prom_label(&b, locations != NULL ? locations[i] : "");
        buf_addf(&b, "\"} %.0f\n", difftime(res[i].chain[0].not_after, now));
    }
    fputs(buf_str(&b), fp);
    buf_free(&b);
}

void
fmt_probe_table(FILE *fp, const struct probe_result *res, const struct probe_opts *opts,
                const char *const *labels, size_t n)
{
    fprintf(fp, "%-24s %-15s %9s %11s  %s\n", "UPSTREAM", "VERDICT", "LEAF_DAYS", "ANCHOR_DAYS",
            "WHERE / NGINX MESSAGE");
    for (size_t i = 0; i < n; i++) {
        char *up = sanitize_str(res[i].upstream), *where = sanitize_str(labels[i]);
        char leaf[24] = "-", anchor[24] = "-";
        if (res[i].nchain > 0)
            snprintf(leaf, sizeof(leaf), "%ld", res[i].chain[0].days_left);
        if (res[i].anchor_not_after != 0)
            snprintf(anchor, sizeof(anchor), "%ld", res[i].anchor_days_left);
        fprintf(fp, "%-24s %-15s %9s %11s  %s%s\n", up, probe_verdict_name(res[i].verdict), leaf,
                anchor, where, opts[i].verify ? "" : " [verification off (unsafe): not verified]");
        if (res[i].nginx_message != NULL) {
            char *m = sanitize_str(res[i].nginx_message);
            fprintf(fp, "%63s%s\n", "", m);
            free(m);
        }
        free(up);
        free(where);
    }
}
